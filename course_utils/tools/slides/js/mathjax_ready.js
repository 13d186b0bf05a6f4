// True once MathJax has finished its start-up typesetting (or when the page has no MathJax).
() => !window.MathJax || window.MathJax.isReady === true
