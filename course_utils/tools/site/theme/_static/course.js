// Course website: small adjustments that keep every page working from disk (file://).
//
// Sphinx's search page fetches each result page to show a text summary under its link;
// browsers refuse fetch() of file:// URLs, so from disk the results are listed without
// summaries (and without a failed request per result). Served over http, nothing changes.
if (window.location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}
