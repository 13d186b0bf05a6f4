"""Offline reveal.js slides and PDF handouts.

Two kinds of decks are rendered:

- the decks of ``slides/`` (``NN_name.py`` with its executed ``NN_name.ipynb``), written as
  slides with Jupyter's slideshow metadata and speaker notes;
- one short deck per case-study notebook, generated at render time from the cells that the
  executed ``notebooks/NN_name.ipynb`` tags ``slide`` (:func:`deck_from_notebook`).

:func:`render_decks` writes ``<name>.slides.html`` and a ``<name>.pdf`` handout per deck to
a build folder. The HTML works offline: nbconvert's reveal template loads reveal.js, MathJax,
jQuery, require.js and mermaid from CDNs, whereas the course template
(``course_utils/templates/course_reveal``) loads only reveal.js 5 (from the
``sphinx-revealjs`` wheel) and MathJax 2.7 (from the ``jupyter-server-mathjax`` wheel),
which :func:`copy_assets` copies into the build folder. The PDF is printed by the system's
Chromium, driven by Playwright, from reveal.js's ``?print-pdf`` view; any request to a
host other than a local file fails the build.
"""

from __future__ import annotations

import copy
import html
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import nbformat
from nbformat import NotebookNode

from course_utils._internal import repo_path
from course_utils.notebooks import NOTEBOOK_DIR

if TYPE_CHECKING:
    from nbconvert import SlidesExporter
    from playwright.sync_api import Browser, Page

SLIDES_DIR = repo_path("slides")
BUILD_DIR = repo_path("build", "slides")
TEMPLATE_DIR = Path(str(files("course_utils") / "templates"))
TEMPLATE_NAME = "course_reveal"

SLIDE_TAG = "slide"
SLIDE_HIDE_INPUT_TAG = "slide-hide-input"
HIDE_INPUT_TAG = "hide-input"

ASSETS_DIRNAME = "_assets"
REVEAL_DIRNAME = "reveal.js"
MATHJAX_DIRNAME = "mathjax"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full"
REVEAL_THEME = "white"
SLIDE_WIDTH = 960
SLIDE_HEIGHT = 700

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
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

_HEADING = re.compile(r"^\s{0,3}#\s+(?P<title>.+?)\s*#*\s*$", re.MULTILINE)
# What a browser would fetch by itself: src of embedded elements, href of <link>, CSS url()
# and @import, ES module imports. Plain links (<a href>) are only followed when clicked.
_EMBEDDING_TAGS = "script|img|iframe|audio|video|source|embed|input"
_REMOTE_PATTERNS = (
    re.compile(rf"""<(?:{_EMBEDDING_TAGS})\b[^>]*?\bsrc\s*=\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"""<link\b[^>]*?\bhref\s*=\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"""(?:url\(\s*["']?|@import\s+["'])\s*(?:https?:)?//""", re.I),
    re.compile(r"""\bimport\b[^;"'\n]*["'](?:https?:)?//""", re.I),
)


@dataclass(frozen=True)
class Deck:
    """One slide deck to render.

    Attributes
    ----------
    name : str
        Stem of the outputs, e.g. ``"00_hierarchical_models"`` gives
        ``00_hierarchical_models.slides.html`` and ``00_hierarchical_models.pdf``.
    notebook : pathlib.Path
        The executed ``.ipynb`` the deck is made from.
    kind : {"deck", "notebook"}
        ``"deck"``: a deck of ``slides/``, rendered as written; ``"notebook"``: a case-study
        notebook whose ``slide``-tagged cells become a short deck.
    """

    name: str
    notebook: Path
    kind: Literal["deck", "notebook"]


@dataclass(frozen=True)
class RenderedDeck:
    """Outputs of one rendered deck.

    Attributes
    ----------
    name : str
        Deck name (stem of the outputs).
    html : pathlib.Path
        The reveal.js slides.
    pdf : pathlib.Path or None
        The PDF handout (``None`` when PDFs were not requested).
    n_slides : int
        Number of slides in the deck (and pages in the handout).
    seconds : float
        Wall time of the rendering.
    """

    name: str
    html: Path
    pdf: Path | None
    n_slides: int
    seconds: float


# --- Finding decks ---------------------------------------------------------------------------


def list_decks(slides_dir: Path = SLIDES_DIR, notebooks_dir: Path = NOTEBOOK_DIR) -> list[Deck]:
    """Return every deck of the course: the decks of ``slides/``, then one per notebook.

    A deck or notebook is found from its ``NN_name.py`` source; its executed ``.ipynb``
    (the Jupytext pair) is what gets rendered.

    Parameters
    ----------
    slides_dir : pathlib.Path, default ``slides/``
        Folder of the slide decks.
    notebooks_dir : pathlib.Path, default ``notebooks/``
        Folder of the case-study notebooks.

    Returns
    -------
    list of Deck
        Decks in course order (``slides/`` first, then notebooks by number).

    Raises
    ------
    ValueError
        If two decks would write the same output name.

    Examples
    --------
    >>> [deck.name for deck in list_decks()][:1]  # doctest: +SKIP
    ['00_hierarchical_models']
    """
    decks = [
        Deck(p.stem, p.with_suffix(".ipynb"), "deck")
        for p in sorted(Path(slides_dir).glob("[0-9][0-9]_*.py"))
    ] + [
        Deck(p.stem, p.with_suffix(".ipynb"), "notebook")
        for p in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.py"))
    ]
    names = [deck.name for deck in decks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(
            f"{duplicates} name both a deck in {slides_dir} and a notebook in {notebooks_dir}; "
            "rename the deck so that every output name is unique."
        )
    return decks


def select_decks(names: Iterable[str], decks: list[Deck] | None = None) -> list[Deck]:
    """Choose decks by number (``00``), name (``00_hierarchical_models``) or path.

    Parameters
    ----------
    names : iterable of str
        What to select; empty means every deck.
    decks : list of Deck, optional
        Candidates (default: :func:`list_decks`).

    Returns
    -------
    list of Deck
        The matching decks, in course order.

    Raises
    ------
    ValueError
        If a name matches no deck.

    Examples
    --------
    >>> decks = [Deck("00_intro", Path("slides/00_intro.ipynb"), "deck")]
    >>> [d.name for d in select_decks(["00"], decks)]
    ['00_intro']
    """
    decks = list_decks() if decks is None else decks
    names = list(names)
    if not names:
        return decks
    chosen: list[Deck] = []
    for name in names:
        stem = Path(name).stem
        matches = [d for d in decks if stem in (d.name, d.name.split("_", 1)[0])]
        if not matches:
            raise ValueError(f"no deck matches {name!r}; available: {[d.name for d in decks]}.")
        chosen.extend(m for m in matches if m not in chosen)
    return [d for d in decks if d in chosen]


def read_executed(path: Path, *, execute_command: str | None = None) -> NotebookNode:
    """Read an executed notebook, failing clearly when it has not been executed.

    Parameters
    ----------
    path : pathlib.Path
        The ``.ipynb`` file.
    execute_command : str, optional
        Command that executes it, named in the error (default: ``course run <stem>``).

    Returns
    -------
    nbformat.NotebookNode
        The notebook (format 4).

    Raises
    ------
    ValueError
        If the file is missing or none of its code cells has been executed.

    Examples
    --------
    >>> nb = read_executed(Path("slides/00_hierarchical_models.ipynb"))  # doctest: +SKIP
    """
    path = Path(path)
    command = execute_command or f"course run {path.stem}"
    if not path.exists():
        raise ValueError(f"{path} does not exist: execute its source with `{command}`.")
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if code and all(cell.get("execution_count") is None for cell in code):
        raise ValueError(
            f"{path} has no executed cell: run `{command}` so that the slides show outputs."
        )
    return nb


# --- Building the deck notebooks (pure) -------------------------------------------------------


def notebook_title(nb: NotebookNode) -> str:
    r"""Return the first level-1 Markdown heading of a notebook.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook.

    Returns
    -------
    str
        The heading text, without ``#``.

    Raises
    ------
    ValueError
        If no Markdown cell has a ``# Title`` line.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Pooling\nText")])
    >>> notebook_title(nb)
    'Pooling'
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = _HEADING.search(cell.source)
            if match:
                return match["title"]
    raise ValueError("the notebook has no '# Title' heading: start its first cell with one.")


def _tags(cell: NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _slide_cell(cell: NotebookNode, index: int, source_name: str) -> NotebookNode:
    tags = _tags(cell)
    if cell.cell_type == "code" and not cell.get("outputs") and SLIDE_HIDE_INPUT_TAG in tags:
        raise ValueError(
            f"{source_name}: cell {index} is tagged {SLIDE_HIDE_INPUT_TAG!r} but has no output, "
            "so its slide would be empty: execute the notebook (`course run`) or drop the tag."
        )
    new = copy.deepcopy(cell)
    if SLIDE_HIDE_INPUT_TAG in tags and HIDE_INPUT_TAG not in tags:
        tags.append(HIDE_INPUT_TAG)
    new.metadata["tags"] = tags
    new.metadata["slideshow"] = {"slide_type": "slide"}
    return new


def deck_from_notebook(nb: NotebookNode, *, source_name: str) -> NotebookNode:
    """Make a short slide deck from the cells a notebook tags ``slide``.

    The deck opens with a title slide (the notebook's first heading); every tagged cell
    then becomes one slide, with its committed outputs. A code cell also tagged
    ``slide-hide-input`` shows only its output (it gets the ``hide-input`` tag that the
    renderer removes inputs for).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (it is not modified).
    source_name : str
        Name of the notebook (e.g. ``"03_water_quality"``), shown on the title slide and
        used in error messages.

    Returns
    -------
    nbformat.NotebookNode
        A new notebook with slideshow metadata, ready for :func:`render_html`.

    Raises
    ------
    ValueError
        If no cell is tagged ``slide``, the notebook has no title heading, or a
        ``slide-hide-input`` cell has no output (the notebook was not executed).

    Examples
    --------
    >>> md = nbformat.v4.new_markdown_cell
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     md("# Pooling"), md("## Question", metadata={"tags": ["slide"]}), md("Not shown")])
    >>> deck = deck_from_notebook(nb, source_name="01_pooling")
    >>> [c.metadata["slideshow"]["slide_type"] for c in deck.cells]
    ['slide', 'slide']
    """
    tagged = [(i, cell) for i, cell in enumerate(nb.cells) if SLIDE_TAG in _tags(cell)]
    if not tagged:
        raise ValueError(
            f"{source_name}: no cell is tagged {SLIDE_TAG!r}; tag 3-6 cells (question, data, "
            "model, key figure, lesson) as described in CONTRIBUTING.md."
        )
    title = notebook_title(nb)
    title_cell = nbformat.v4.new_markdown_cell(
        f"# {title}\n\nShort deck of the notebook `{source_name}.ipynb`: the full lesson, "
        "with code and exercises, is in the notebook.",
        metadata={"slideshow": {"slide_type": "slide"}},
    )
    title_cell["id"] = "deck-title"
    deck = nbformat.v4.new_notebook(
        cells=[title_cell] + [_slide_cell(c, i, source_name) for i, c in tagged],
        metadata=copy.deepcopy(nb.metadata),
    )
    deck.metadata["title"] = title
    return deck


def count_slides(nb: NotebookNode) -> int:
    """Count the slides reveal.js will show for a notebook with slideshow metadata.

    Follows nbconvert's rules: the first cell that is neither ``skip`` nor ``notes``
    opens a slide, and every later ``slide`` or ``subslide`` cell opens another one
    (reveal.js counts vertical subslides as slides, and so does the PDF, one page each).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The deck notebook.

    Returns
    -------
    int
        Number of slides (0 when every cell is skipped or notes).

    Examples
    --------
    >>> md = nbformat.v4.new_markdown_cell
    >>> show = {"slideshow": {"slide_type": "slide"}}
    >>> nb = nbformat.v4.new_notebook(cells=[md("a"), md("b"), md("c", metadata=show)])
    >>> count_slides(nb)
    2
    """
    types = [
        cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") for cell in nb.cells
    ]
    visible = [t for t in types if t not in {"skip", "notes"}]
    if not visible:
        return 0
    first = types.index(visible[0])
    return 1 + sum(t in {"slide", "subslide"} for t in types[first + 1 :])


def strip_stderr(nb: NotebookNode) -> NotebookNode:
    """Return a copy of a notebook without stderr stream outputs.

    Sampler logs and progress messages belong in the notebook, not on a slide.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (not modified).

    Returns
    -------
    nbformat.NotebookNode
        A copy whose code cells keep every output except ``stderr`` streams.

    Examples
    --------
    >>> cell = nbformat.v4.new_code_cell("x", outputs=[
    ...     nbformat.v4.new_output("stream", name="stderr", text="Sampling...")])
    >>> strip_stderr(nbformat.v4.new_notebook(cells=[cell])).cells[0].outputs
    []
    """
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                out
                for out in cell.outputs
                if not (out.output_type == "stream" and out.get("name") == "stderr")
            ]
    return nb


# --- Assets -----------------------------------------------------------------------------------


def asset_sources() -> dict[str, Path]:
    """Locate the reveal.js and MathJax files shipped by the installed Python packages.

    Returns
    -------
    dict of str to pathlib.Path
        ``{"reveal.js": ..., "mathjax": ...}``: reveal.js 5 from the ``sphinx-revealjs``
        wheel and MathJax 2.7 from the ``jupyter-server-mathjax`` wheel.

    Raises
    ------
    RuntimeError
        If a package or its files are missing.

    Examples
    --------
    >>> sorted(asset_sources())
    ['mathjax', 'reveal.js']
    """
    wanted = {
        REVEAL_DIRNAME: ("sphinx_revealjs", ("_static", "revealjs"), "dist/reveal.js"),
        MATHJAX_DIRNAME: ("jupyter_server_mathjax", ("static",), "MathJax.js"),
    }
    found = {}
    for name, (package, parts, probe) in wanted.items():
        spec = find_spec(package)
        folder = Path(spec.origin).parent.joinpath(*parts) if spec and spec.origin else None
        if folder is None or not (folder / probe).is_file():
            raise RuntimeError(
                f"{name} assets not found (Python package {package!r}): install the course "
                "with its dependencies, e.g. `pip install -e .` in the course folder."
            )
        found[name] = folder
    return found


def _ignore_unused_reveal(folder: str, names: list[str]) -> set[str]:
    # Only dist/ (reveal.js, its CSS and themes with their fonts) and the notes plugin
    # are used; the other plugins and the SCSS sources are left behind.
    path = Path(folder)
    if path.name == "plugin":
        return {n for n in names if n != "notes"}
    if (path / "dist").is_dir():
        return {n for n in names if n not in {"dist", "plugin", "LICENSE"}}
    return set()


def copy_assets(out_dir: Path, sources: dict[str, Path] | None = None) -> Path:
    """Copy reveal.js and MathJax into ``out_dir/_assets`` so the slides work offline.

    Parameters
    ----------
    out_dir : pathlib.Path
        The build folder the slides are written to.
    sources : dict of str to pathlib.Path, optional
        Where to copy from (default: :func:`asset_sources`).

    Returns
    -------
    pathlib.Path
        The assets folder (``out_dir/_assets``) holding ``reveal.js/`` and ``mathjax/``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (copy_assets(Path(tmp)) / "reveal.js" / "dist" / "reveal.js").is_file()
    True
    """
    sources = asset_sources() if sources is None else sources
    assets = Path(out_dir) / ASSETS_DIRNAME
    for name, folder in sources.items():
        target = assets / name
        if target.exists():
            shutil.rmtree(target)
        ignore = _ignore_unused_reveal if name == REVEAL_DIRNAME else None
        shutil.copytree(folder, target, ignore=ignore)
    return assets


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


# --- Rendering --------------------------------------------------------------------------------


def slides_exporter(assets_prefix: str = ASSETS_DIRNAME) -> SlidesExporter:
    """Build nbconvert's slides exporter configured for offline, course-styled decks.

    Parameters
    ----------
    assets_prefix : str, default ``"_assets"``
        URL of the assets folder relative to the HTML file (see :func:`copy_assets`).

    Returns
    -------
    nbconvert.SlidesExporter
        Exporter using the ``course_reveal`` template, local reveal.js and MathJax, no
        prompts, and removing the inputs of cells tagged ``hide-input``.

    Examples
    --------
    >>> slides_exporter().reveal_url_prefix
    '_assets/reveal.js'
    """
    from nbconvert import SlidesExporter  # imported here: nbconvert is slow to import
    from traitlets.config import Config

    config = Config()
    config.SlidesExporter.template_name = TEMPLATE_NAME
    config.SlidesExporter.extra_template_basedirs = [str(TEMPLATE_DIR)]
    config.SlidesExporter.reveal_url_prefix = f"{assets_prefix}/{REVEAL_DIRNAME}"
    config.SlidesExporter.reveal_theme = REVEAL_THEME
    config.SlidesExporter.reveal_width = str(SLIDE_WIDTH)
    config.SlidesExporter.reveal_height = str(SLIDE_HEIGHT)
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.mathjax_url = (
        f"{assets_prefix}/{MATHJAX_DIRNAME}/MathJax.js?config={MATHJAX_CONFIG}"
    )
    # Not used by the course template; set anyway so nothing can point at a CDN.
    for option in ("require_js_url", "jquery_url", "font_awesome_url"):
        setattr(config.SlidesExporter, option, "")
    config.SlidesExporter.exclude_input_prompt = True
    config.SlidesExporter.exclude_output_prompt = True
    config.SlidesExporter.embed_images = True
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = {HIDE_INPUT_TAG}
    return SlidesExporter(config=config)


def render_html(nb: NotebookNode, html_path: Path, *, name: str | None = None) -> Path:
    """Render a deck notebook to reveal.js HTML that loads its assets from ``_assets/``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Notebook with slideshow metadata (a ``slides/`` deck or :func:`deck_from_notebook`).
    html_path : pathlib.Path
        Output file; :func:`copy_assets` must fill ``_assets/`` next to it.
    name : str, optional
        Deck name used in the page title when the notebook has no ``title`` metadata.

    Returns
    -------
    pathlib.Path
        ``html_path``.

    Raises
    ------
    RuntimeError
        If the HTML would load anything from a remote host.
    """
    html_path = Path(html_path)
    nb = strip_stderr(nb)
    # Widget state makes the template load the widget manager from a CDN; slides show the
    # static outputs only.
    nb.metadata.pop("widgets", None)
    if "title" not in nb.metadata:
        nb.metadata["title"] = notebook_title(nb)
    body, _ = slides_exporter().from_notebook_node(
        nb, resources={"metadata": {"name": name or html_path.stem}}
    )
    remote = find_remote_references(body)
    if remote:
        raise RuntimeError(
            f"{html_path.name} would load remote resources {remote[:3]}: the slides must work "
            "offline; remove the link or ship the file in the course template."
        )
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path


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
    >>> find_chromium()  # doctest: +SKIP
    '/usr/bin/chromium'
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
    >>> with launch_browser() as browser:  # doctest: +SKIP
    ...     page = browser.new_page()
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


# Resolves once MathJax has finished its start-up typesetting and everything queued since
# (e.g. re-rendering the current slide); false when MathJax is not on the page.
MATHJAX_READY_JS = "() => !window.MathJax || window.MathJax.isReady === true"
MATHJAX_DONE_JS = """() => new Promise((resolve) => {
    if (!window.MathJax || !window.MathJax.Hub) { resolve(false); return; }
    MathJax.Hub.Queue(() => resolve(true));
})"""

# TeX source (shortened) of every formula not typeset: still processing, hidden, or shown
# as its preview. Empty once MathJax has finished with the page.
UNTYPESET_MATH_JS = """() => Array.from(document.querySelectorAll(
    '.MathJax_Processing, .MathJax_Processed:empty, .MathJax_Preview:not(:empty)'), (el) => {
        let next = el.nextElementSibling;
        while (next && next.tagName !== 'SCRIPT') { next = next.nextElementSibling; }
        return (next || el).textContent.trim().slice(0, 60);
    })"""


def open_offline(
    browser: Browser, url: str, *, viewport: tuple[int, int] = (1280, 800), timeout: float = 60
) -> tuple[Page, dict[str, list[str]]]:
    """Open a page that may only load local files; remote requests are blocked and recorded.

    Parameters
    ----------
    browser : playwright.sync_api.Browser
        From :func:`launch_browser`.
    url : str
        A ``file://`` URL.
    viewport : tuple of int, default (1280, 800)
        Window size in pixels.
    timeout : float, default 60
        Seconds allowed for reveal.js and MathJax to get ready.

    Returns
    -------
    page : playwright.sync_api.Page
        The loaded page (after its ``load`` event and MathJax typesetting).
    log : dict of str to list of str
        ``"requests"`` (every URL requested), ``"blocked"`` (remote URLs refused),
        ``"failed"`` (requests that failed, e.g. a missing asset) and ``"errors"``
        (uncaught JavaScript errors).

    Raises
    ------
    RuntimeError
        If reveal.js or MathJax does not start within ``timeout`` (e.g. assets missing).
    """
    from playwright.sync_api import Error as PlaywrightError

    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    log: dict[str, list[str]] = {"requests": [], "blocked": [], "failed": [], "errors": []}

    def route(route_) -> None:
        if route_.request.url.startswith(LOCAL_SCHEMES):
            route_.continue_()
        else:
            log["blocked"].append(route_.request.url)
            route_.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("request", lambda request: log["requests"].append(request.url))

    # MathJax probes web-font support with a font at about:blank, which Chromium refuses;
    # only failures to load real files count.
    def failed(request) -> None:
        if not request.url.startswith("about:"):
            log["failed"].append(request.url)

    page.on("requestfailed", failed)
    page.on("pageerror", lambda error: log["errors"].append(str(error)))
    try:
        page.goto(url, wait_until="load")
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=timeout * 1e3)
        page.wait_for_function(MATHJAX_READY_JS, timeout=timeout * 1e3)
        page.evaluate(MATHJAX_DONE_JS)
        page.evaluate("() => document.fonts.ready.then(() => true)")
    except PlaywrightError as err:
        context.close()
        raise RuntimeError(
            f"{url}: reveal.js or MathJax did not start ({err.message.splitlines()[0]}); failed "
            f"requests {log['failed'][:3]}, errors {log['errors'][:3]}. Render with "
            "`course slides`, which copies the assets next to the HTML."
        ) from err
    return page, log


def _check_log(log: dict[str, list[str]], what: str) -> None:
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


def _check_math(page: Page, name: str) -> None:
    """Raise if any formula on the page is not typeset (call once MathJax's queue is empty)."""
    untypeset = page.evaluate(UNTYPESET_MATH_JS)
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
        Slides written by :func:`render_html` (with ``_assets/`` beside them).
    pdf_path : pathlib.Path
        Output file.
    browser : playwright.sync_api.Browser
        From :func:`launch_browser`.
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
    page, log = open_offline(browser, url, timeout=timeout)
    try:
        page.wait_for_selector(".reveal .slides .pdf-page", state="attached", timeout=timeout * 1e3)
        page.wait_for_load_state("networkidle", timeout=timeout * 1e3)
        _check_log(log, Path(html_path).name)  # fail fast: a broken deck may never settle
        # The deck typesets its math once the print layout is in place (the pages are attached
        # in the same step): wait until MathJax is through its queue and the math fonts loaded.
        page.wait_for_load_state("networkidle", timeout=timeout * 1e3)
        page.evaluate(MATHJAX_DONE_JS)
        page.evaluate("() => document.fonts.ready.then(() => true)")
        _check_math(page, Path(html_path).name)
        _check_log(log, Path(html_path).name)
        page.pdf(path=str(pdf_path), print_background=True, prefer_css_page_size=True)
    finally:
        page.context.close()
    return Path(pdf_path)


def deck_notebook(deck: Deck) -> NotebookNode:
    """Return the notebook to render for a deck (read, and generated for case studies).

    Parameters
    ----------
    deck : Deck
        From :func:`list_decks`.

    Returns
    -------
    nbformat.NotebookNode
        Notebook with slideshow metadata.
    """
    if deck.kind == "notebook":
        nb = read_executed(deck.notebook)
        return deck_from_notebook(nb, source_name=deck.name)
    return read_executed(deck.notebook, execute_command=f"course slides --execute {deck.name}")


def render_deck(
    deck: Deck, out_dir: Path = BUILD_DIR, *, browser: Browser | None = None
) -> RenderedDeck:
    """Render one deck to ``out_dir/<name>.slides.html`` and, given a browser, its PDF.

    Parameters
    ----------
    deck : Deck
        From :func:`list_decks`.
    out_dir : pathlib.Path, default ``build/slides/``
        Output folder; it must hold the assets (:func:`copy_assets`).
    browser : playwright.sync_api.Browser, optional
        Prints ``out_dir/<name>.pdf`` when given.

    Returns
    -------
    RenderedDeck
        Paths, slide count and timing.
    """
    start = time.perf_counter()
    nb = deck_notebook(deck)
    html_path = render_html(nb, Path(out_dir) / f"{deck.name}.slides.html", name=deck.name)
    pdf_path = None
    if browser is not None:
        pdf_path = render_pdf(html_path, Path(out_dir) / f"{deck.name}.pdf", browser=browser)
    return RenderedDeck(
        deck.name, html_path, pdf_path, count_slides(nb), time.perf_counter() - start
    )


def write_index(rendered: list[RenderedDeck], out_dir: Path) -> Path:
    """Write ``index.html`` linking every rendered deck and its handout.

    Parameters
    ----------
    rendered : list of RenderedDeck
        Decks to list, in order.
    out_dir : pathlib.Path
        The build folder.

    Returns
    -------
    pathlib.Path
        The index file.
    """
    items = []
    for deck in rendered:
        pdf = f' (<a href="{deck.pdf.name}">PDF</a>)' if deck.pdf else ""
        items.append(
            f'<li><a href="{deck.html.name}">{html.escape(deck.name)}</a>{pdf}: '
            f"{deck.n_slides} slides</li>"
        )
    index = Path(out_dir) / "index.html"
    index.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Course slides</title></head>\n<body><h1>Course slides</h1>\n<ul>\n"
        + "\n".join(items)
        + "\n</ul>\n<p>Press <kbd>s</kbd> in a deck for the speaker view.</p></body></html>\n",
        encoding="utf-8",
    )
    return index


def render_decks(
    decks: list[Deck],
    out_dir: Path = BUILD_DIR,
    *,
    pdf: bool = True,
    report: Callable[[str], None] = print,
) -> list[RenderedDeck]:
    """Render several decks (HTML, and PDF handouts) with their assets and an index.

    Parameters
    ----------
    decks : list of Deck
        Decks to render, in order.
    out_dir : pathlib.Path, default ``build/slides/``
        Output folder (created; the course's ``build/`` is git-ignored).
    pdf : bool, default True
        Also print a PDF handout per deck (needs Chromium, see :func:`find_chromium`).
    report : callable, default print
        Receives one progress line before and after each deck.

    Returns
    -------
    list of RenderedDeck
        One entry per deck.

    Raises
    ------
    ValueError
        Before rendering anything, if a deck's notebook is missing, not executed or (for a
        case study) has no ``slide`` tags; the message lists every such deck.

    Examples
    --------
    >>> render_decks(select_decks(["00"]), pdf=False)  # doctest: +SKIP
    [1/1] 00_hierarchical_models: rendering ...
    [1/1] 00_hierarchical_models: 14 slides in 2.1 s -> build/slides/00_hierar...
    """
    problems = []
    for deck in decks:  # check every deck first: fail before the slow part, listing all
        try:
            deck_notebook(deck)
        except ValueError as err:
            problems.append(str(err))
    if problems:
        raise ValueError("cannot render the slides:\n- " + "\n- ".join(problems))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(out_dir)
    rendered = []
    with launch_browser() if pdf else _no_browser() as browser:
        for i, deck in enumerate(decks, start=1):
            report(f"[{i}/{len(decks)}] {deck.name}: rendering ...")
            result = render_deck(deck, out_dir, browser=browser)
            outputs = " + ".join(str(p) for p in (result.html, result.pdf) if p is not None)
            report(
                f"[{i}/{len(decks)}] {deck.name}: {result.n_slides} slides in "
                f"{result.seconds:.1f} s -> {outputs}"
            )
            rendered.append(result)
    write_index(rendered, out_dir)
    return rendered


@contextmanager
def _no_browser() -> Iterator[None]:
    yield None
