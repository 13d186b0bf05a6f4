// TeX source (shortened) of every formula not typeset: still processing, hidden, or shown as
// its preview. Empty once MathJax has finished with the page.
() => Array.from(document.querySelectorAll(
    '.MathJax_Processing, .MathJax_Processed:empty, .MathJax_Preview:not(:empty)'), (el) => {
        let next = el.nextElementSibling;
        while (next && next.tagName !== 'SCRIPT') { next = next.nextElementSibling; }
        return (next || el).textContent.trim().slice(0, 60);
    })
