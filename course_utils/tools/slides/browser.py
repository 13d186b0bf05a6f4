"""The browser layer of the slides: open a rendered deck offline, check it, print its PDF.

Playwright drives the system's Chromium (:mod:`course_utils.tools.browser`). A deck is opened
in a context where only local files load, and :func:`open_deck` waits for reveal.js and
MathJax; :func:`render_pdf` prints reveal.js's ``?print-pdf`` view, one page per slide, and
fails if the page requested another host, missed a file, raised a JavaScript error or left a
formula untypeset. The JavaScript it evaluates lives in ``js/*.js``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from course_utils.tools.browser import offline_context

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["check_log", "check_math", "javascript", "open_deck", "render_pdf"]


@cache
def javascript(name: str) -> str:
    """Return the function expression of ``js/<name>.js`` (its comment lines dropped).

    Examples
    --------
    >>> javascript("mathjax_ready")
    '() => !window.MathJax || window.MathJax.isReady === true'
    """
    text = (files("course_utils.tools.slides") / "js" / f"{name}.js").read_text()
    return "\n".join(line for line in text.splitlines() if not line.startswith("//")).strip()


def open_deck(
    browser: Browser, url: str, *, viewport: tuple[int, int] = (1280, 800), timeout: float = 60
) -> tuple[Page, dict[str, list[str]]]:
    """Open a rendered deck that may only load local files; other requests are blocked.

    Parameters
    ----------
    browser : playwright.sync_api.Browser
        From :func:`course_utils.tools.browser.launch_browser`.
    url : str
        A ``file://`` URL of a ``.slides.html``.
    viewport : tuple of int, default (1280, 800)
        Window size in pixels.
    timeout : float, default 60
        Seconds allowed for reveal.js and MathJax to get ready.

    Returns
    -------
    page : playwright.sync_api.Page
        The loaded page (after its ``load`` event and MathJax typesetting).
    log : dict of str to list of str
        See :func:`course_utils.tools.browser.offline_context`.

    Raises
    ------
    RuntimeError
        If reveal.js or MathJax does not start within ``timeout`` (e.g. assets missing).
    """
    from playwright.sync_api import Error as PlaywrightError

    context, log = offline_context(browser, viewport=viewport)
    page = context.new_page()
    try:
        page.goto(url, wait_until="load")
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=timeout * 1e3)
        page.wait_for_function(javascript("mathjax_ready"), timeout=timeout * 1e3)
        page.evaluate(javascript("mathjax_done"))
        page.evaluate("() => document.fonts.ready.then(() => true)")
    except PlaywrightError as err:
        context.close()
        raise RuntimeError(
            f"{url}: reveal.js or MathJax did not start ({err.message.splitlines()[0]}); failed "
            f"requests {log['failed'][:3]}, errors {log['errors'][:3]}. Render with "
            "`course slides`, which copies the assets next to the HTML."
        ) from err
    return page, log


def check_log(log: dict[str, list[str]], what: str) -> None:
    """Raise ``RuntimeError`` if the page requested a remote host, missed a file or failed.

    Examples
    --------
    >>> check_log({"blocked": [], "failed": [], "errors": []}, "deck.slides.html")
    """
    problems = []
    if log["blocked"]:
        problems.append(f"requests to remote hosts {log['blocked'][:3]}")
    if log["failed"]:
        problems.append(f"failed requests {log['failed'][:3]} (missing assets?)")
    if log["errors"]:
        problems.append(f"JavaScript errors {log['errors'][:3]}")
    if problems:
        raise RuntimeError(
            f"{what}: " + "; ".join(problems) + ". Re-render with `course slides`; if it "
            "persists, the template or the assets are broken."
        )


def check_math(page: Page, name: str) -> None:
    """Raise if any formula on the page is not typeset (call once MathJax's queue is empty)."""
    untypeset = page.evaluate(javascript("untypeset_math"))
    if untypeset:
        raise RuntimeError(
            f"{name}: {len(untypeset)} formula(s) not typeset, e.g. {untypeset[:3]}. Re-render "
            "with `course slides`; if it persists, check the TeX of these formulas."
        )


def render_pdf(html_path: Path, pdf_path: Path, *, browser: Browser, timeout: float = 60) -> Path:
    """Print a rendered deck to PDF, one page per slide, from reveal.js's print view.

    Parameters
    ----------
    html_path : pathlib.Path
        Slides written by :func:`course_utils.tools.slides.render.render_html` (with
        ``_assets/`` beside them).
    pdf_path : pathlib.Path
        Output file.
    browser : playwright.sync_api.Browser
        From :func:`course_utils.tools.browser.launch_browser`.
    timeout : float, default 60
        Seconds allowed for the page to lay out and typeset.

    Returns
    -------
    pathlib.Path
        ``pdf_path``.

    Raises
    ------
    RuntimeError
        If the page requested a remote host, missed a local file or raised an error, or left
        a formula untypeset.
    """
    url = Path(html_path).resolve().as_uri() + "?print-pdf"
    page, log = open_deck(browser, url, timeout=timeout)
    try:
        page.wait_for_selector(".reveal .slides .pdf-page", state="attached", timeout=timeout * 1e3)
        page.wait_for_load_state("networkidle", timeout=timeout * 1e3)
        check_log(log, Path(html_path).name)  # fail fast: a broken deck may never settle
        # The deck typesets its math once the print layout is in place (the pages are attached
        # in the same step): wait until MathJax is through its queue and the math fonts loaded.
        page.wait_for_load_state("networkidle", timeout=timeout * 1e3)
        page.evaluate(javascript("mathjax_done"))
        page.evaluate("() => document.fonts.ready.then(() => true)")
        check_math(page, Path(html_path).name)
        check_log(log, Path(html_path).name)
        page.pdf(path=str(pdf_path), print_background=True, prefer_css_page_size=True)
    finally:
        page.context.close()
    return Path(pdf_path)
