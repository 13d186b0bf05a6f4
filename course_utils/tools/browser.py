"""The browser layer shared by the slides and the site: find Chromium, drive it offline.

Playwright drives the system's Chromium (never a browser Playwright downloads). Pages are
opened in a context that lets only local files through: every other request is aborted and
recorded, so a page that would load anything from another host is caught. The same rules
are applied to generated HTML before it is written (:func:`find_remote_references`).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

__all__ = [
    "CHROMIUM_ENV",
    "LOCAL_SCHEMES",
    "find_chromium",
    "find_remote_references",
    "launch_browser",
    "offline_context",
]

CHROMIUM_ENV = "COURSE_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: URL schemes a page may load; ``http://127.0.0.1`` and ``localhost`` are added by
#: :func:`offline_context` when asked (the site is also served locally).
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
LOOPBACK_PREFIXES = ("http://127.0.0.1", "http://localhost")

# What a browser would fetch by itself: src of embedded elements, href of <link>, CSS url()
# and @import, ES module imports. Plain links (<a href>) are only followed when clicked.
_EMBEDDING_TAGS = "script|img|iframe|audio|video|source|embed|input"
_REMOTE_PATTERNS = (
    re.compile(rf"""<(?:{_EMBEDDING_TAGS})\b[^>]*?\bsrc\s*=\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"""<link\b[^>]*?\bhref\s*=\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"""(?:url\(\s*["']?|@import\s+["'])\s*(?:https?:)?//""", re.I),
    re.compile(r"""\bimport\b[^;"'\n]*["'](?:https?:)?//""", re.I),
)


def find_chromium() -> str:
    """Find the Chromium (or Chrome) executable used to print PDFs and to test the slides.

    ``COURSE_CHROMIUM`` (a path or command name) wins; otherwise the first of
    ``chromium``, ``chromium-browser`` and ``google-chrome`` on the ``PATH``.

    Returns
    -------
    str
        Absolute path of the executable.

    Raises
    ------
    RuntimeError
        If no browser is found, naming how to install one.

    Examples
    --------
    >>> os.path.isabs(find_chromium())
    True
    """
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise RuntimeError(
                f"{CHROMIUM_ENV}={configured!r} is not an executable: point it at a Chromium "
                "or Chrome binary, or unset it to search the PATH."
            )
        return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(
        f"no Chromium found (looked for {', '.join(CHROMIUM_NAMES)} on the PATH): install it "
        "(Debian/Ubuntu: `sudo apt-get install chromium`; macOS: install Google Chrome) or set "
        f"{CHROMIUM_ENV} to the browser's executable. Use `course slides --no-pdf` to render "
        "the HTML slides without a browser."
    )


@contextmanager
def launch_browser(executable: str | None = None) -> Iterator[Browser]:
    """Start the system's headless Chromium through Playwright.

    Playwright's own browser download is never used: the browser is the one found by
    :func:`find_chromium`.

    Parameters
    ----------
    executable : str, optional
        Browser executable (default: :func:`find_chromium`).

    Yields
    ------
    playwright.sync_api.Browser
        The running browser; it is closed on exit.

    Examples
    --------
    >>> with launch_browser() as browser:
    ...     page = browser.new_page()
    ...     page.set_content("<p>offline</p>")
    ...     page.inner_text("p")
    'offline'
    """
    from playwright.sync_api import sync_playwright

    executable = executable or find_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def find_remote_references(text: str) -> list[str]:
    """Find what a browser would load from remote hosts in an HTML or CSS text.

    Covers ``src`` of embedded elements, ``<link href>``, CSS ``url()`` and ``@import`` and
    JavaScript module imports; ordinary links (``<a href>``) are not requests and pass.

    Parameters
    ----------
    text : str
        HTML or CSS.

    Returns
    -------
    list of str
        About 80 characters of context around each remote reference (empty when none).

    Examples
    --------
    >>> find_remote_references('<script src="https://cdn.example.org/x.js"></script>')
    ['<script src="https://cdn.example.org/x.js"></script>']
    >>> find_remote_references('<link rel="stylesheet" href="_assets/x.css">')
    []
    >>> find_remote_references('<a href="https://doi.org/10.1000/1">paper</a>')
    []
    """
    hits = []
    for pattern in _REMOTE_PATTERNS:
        for match in pattern.finditer(text):
            hits.append(text[max(match.start() - 20, 0) : match.end() + 40].strip())
    return hits


def offline_context(
    browser: Browser,
    *,
    viewport: tuple[int, int] = (1280, 800),
    allow_loopback: bool = False,
) -> tuple[BrowserContext, dict[str, list[str]]]:
    """Open a browser context in which only local files load; record everything else.

    Parameters
    ----------
    browser : playwright.sync_api.Browser
        From :func:`launch_browser`.
    viewport : tuple of int, default (1280, 800)
        Window size in pixels.
    allow_loopback : bool, default False
        Also let ``http://127.0.0.1`` and ``http://localhost`` through (a local server).

    Returns
    -------
    context : playwright.sync_api.BrowserContext
        Close it when done; every page opened in it is logged.
    log : dict of str to list of str
        Filled while pages load: ``"requests"`` (every URL requested), ``"blocked"`` (remote
        URLs refused), ``"failed"`` (requests that failed, e.g. a missing file) and
        ``"errors"`` (uncaught JavaScript errors and console errors).
    """
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    log: dict[str, list[str]] = {"requests": [], "blocked": [], "failed": [], "errors": []}
    allowed = LOCAL_SCHEMES + (LOOPBACK_PREFIXES if allow_loopback else ())

    def route(route_) -> None:
        if route_.request.url.startswith(allowed):
            route_.continue_()
        else:
            log["blocked"].append(route_.request.url)
            route_.abort()

    # MathJax probes web-font support with a font at about:blank, which Chromium refuses;
    # only failures to load real files count.
    def failed(request) -> None:
        if not request.url.startswith("about:"):
            log["failed"].append(request.url)

    def page_opened(page) -> None:
        page.on("request", lambda request: log["requests"].append(request.url))
        page.on("requestfailed", failed)
        page.on("pageerror", lambda error: log["errors"].append(str(error)))

    context.route("**/*", route)
    context.on("page", page_opened)
    return context, log
