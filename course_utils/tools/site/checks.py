"""Check a built site: nothing may come from another host, and every local link resolves.

Pure functions on the files of a built site; :func:`course_utils.tools.site.build.build_site`
refuses a site that fails either check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from course_utils.tools.browser import find_remote_references

__all__ = ["find_broken_links", "find_remote_requests", "find_remote_script_requests"]

SLIDES_HREF = "slides"
_TEXT_SUFFIXES = (".html", ".css", ".js", ".mjs")

# What a script or stylesheet would fetch by itself from another host: ES module imports
# (static and dynamic), fetch(), importScripts(), workers, XMLHttpRequest.open() and .src =
# with a literal URL, CSS url() and @import (also inside JavaScript strings). A URL that is
# only mentioned (comments, licence headers, messages, links) is not a request. The scan
# finds each remote URL first, then looks at what precedes it (fast on megabytes of JS).
_REMOTE_URL_START = re.compile(r"""[\"'`(]\s*(?:https?:)?//""", re.IGNORECASE)
_REQUEST_CONTEXT = re.compile(
    r"""(?:\bimport\s*\(\s*|\bimport\s*|\bfrom\s*|\bfetch\s*\(\s*|\bimportScripts\s*\(\s*"""
    r"""|\bnew\s+(?:Shared)?Worker\s*\(\s*|\.open\s*\(\s*["'][A-Za-z]+["']\s*,\s*"""
    r"""|\.src\s*=\s*|\burl\s*\(?\s*\\?|@import\s*\\?|@import\s+url\s*\(?\s*\\?)$""",
    re.IGNORECASE,
)


def find_remote_script_requests(text: str) -> list[str]:
    r"""Find what a script or stylesheet would request from another host by itself.

    Covers ES module imports (static and dynamic), ``fetch()``, ``importScripts()``, web
    workers, ``XMLHttpRequest.open()`` and ``.src =`` with a literal ``http(s)://`` or
    protocol-relative URL, and CSS ``url()`` / ``@import`` (also inside JavaScript strings).
    A URL merely mentioned (a comment, a licence, a link) is not a request.

    Parameters
    ----------
    text : str
        JavaScript or CSS.

    Returns
    -------
    list of str
        About 80 characters of context around each remote request (empty when none).

    Examples
    --------
    >>> find_remote_script_requests('fetch("https://example.org/data.json")')
    ['fetch("https://example.org/data.json")']
    >>> find_remote_script_requests('// docs: https://example.org/api\nfetch("local.json")')
    []
    >>> find_remote_script_requests("@font-face{src:url(https://fonts.example/x.woff2)}")
    ['@font-face{src:url(https://fonts.example/x.woff2)}']
    """
    hits = []
    for match in _REMOTE_URL_START.finditer(text):
        opener = match.group()[0]
        before = text[max(match.start() - 80, 0) : match.start() + (opener == "(")]
        if _REQUEST_CONTEXT.search(before):
            hits.append(text[max(match.start() - 20, 0) : match.end() + 40].strip())
    return hits


def find_remote_requests(site: Path) -> dict[str, list[str]]:
    """Scan every HTML, CSS and JavaScript file of a site for requests to other hosts.

    HTML goes through :func:`course_utils.tools.browser.find_remote_references` (``src`` of embedded
    elements, ``<link href>``, CSS ``url()`` / ``@import``, module imports, also in inline
    scripts and styles) and through :func:`find_remote_script_requests`; CSS and JavaScript
    files through :func:`find_remote_script_requests`.

    Parameters
    ----------
    site : pathlib.Path
        The built site.

    Returns
    -------
    dict of str to list of str
        File (relative to ``site``) to the remote references found in it; empty when the
        site is self-contained.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a.html").write_text('<script src="//cdn.example/x.js"></script>')
    ...     _ = (Path(tmp) / "b.css").write_text("p { color: red }")
    ...     list(find_remote_requests(Path(tmp)))
    ['a.html']
    """
    found = {}
    for path in sorted(Path(site).rglob("*")):
        if path.suffix not in _TEXT_SUFFIXES or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        hits = find_remote_script_requests(text)
        if path.suffix == ".html":
            hits = find_remote_references(text) + hits
        if hits:
            found[path.relative_to(site).as_posix()] = sorted(set(hits))
    return found


class _LinkCollector(HTMLParser):
    """Collect the ids of a page and the local URLs it links to or embeds."""

    _URL_ATTRS = {
        "a": "href",
        "link": "href",
        "img": "src",
        "script": "src",
        "source": "src",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            value = values.get(key)
            if value:
                self.ids.add(value)
        attr = self._URL_ATTRS.get(tag)
        url = values.get(attr) if attr else None
        if url is not None:
            self.urls.append(url)


def _collect(path: Path, cache: dict[Path, _LinkCollector]) -> _LinkCollector:
    if path not in cache:
        collector = _LinkCollector()
        collector.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = collector
    return cache[path]


def find_broken_links(
    site: Path,
    pages: Iterable[Path] | None = None,
    *,
    skip_dirs: Sequence[str] = (SLIDES_HREF, "_static"),
) -> list[str]:
    """Check every local link, embedded file and anchor of a site's pages.

    For each ``<a href>``, ``<link href>`` and ``src`` of ``img``/``script``/``source`` that
    is not a URL of another scheme or host: the file must exist inside ``site``, and a
    ``#fragment`` must be an ``id`` (or ``<a name>``) of the target page. A bare ``#`` is
    the page itself.

    Parameters
    ----------
    site : pathlib.Path
        The built site.
    pages : iterable of pathlib.Path, optional
        HTML files to check (default: every ``.html`` file outside ``skip_dirs``).
    skip_dirs : sequence of str, default ``("slides", "_static")``
        Top-level folders not checked by default: reveal.js decks route with ``#/n``
        fragments that are not anchors, and the theme keeps Jinja macros (not pages) as
        ``.html`` files in ``_static``.

    Returns
    -------
    list of str
        One line per broken link: ``page: url (reason)``; empty when all resolve.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a.html").write_text('<h1 id="t">T</h1><a href="#t">ok</a>'
    ...                                         '<a href="b.html#x">b</a><a href="a.html#u">u</a>')
    ...     _ = (Path(tmp) / "b.html").write_text('<p id="x">x</p>')
    ...     find_broken_links(Path(tmp))
    ['a.html: a.html#u (no id "u" in a.html)']
    """
    site = Path(site).resolve()
    if pages is None:
        pages = [
            p for p in sorted(site.rglob("*.html")) if p.relative_to(site).parts[0] not in skip_dirs
        ]
    cache: dict[Path, _LinkCollector] = {}
    broken = []
    for page in pages:
        page = Path(page).resolve()
        where = page.relative_to(site).as_posix()
        for url in _collect(page, cache).urls:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(site):
                broken.append(f"{where}: {url} (outside the site)")
            elif not target.is_file():
                broken.append(f"{where}: {url} (no file {target.relative_to(site).as_posix()})")
            elif parts.fragment and target.suffix == ".html":
                # As browsers do: the fragment as written, then percent-decoded.
                fragment = unquote(parts.fragment)
                ids = _collect(target, cache).ids
                if parts.fragment not in ids and fragment not in ids:
                    name = target.relative_to(site).as_posix()
                    broken.append(f'{where}: {url} (no id "{fragment}" in {name})')
    return broken
