// Resolves once MathJax is through everything queued so far (e.g. re-rendering the current
// slide); false when MathJax is not on the page.
() => new Promise((resolve) => {
    if (!window.MathJax || !window.MathJax.Hub) { resolve(false); return; }
    MathJax.Hub.Queue(() => resolve(true));
})
