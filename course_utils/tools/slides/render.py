"""Render slide decks with nbconvert: offline reveal.js HTML, with their assets and an index.

nbconvert's reveal template loads reveal.js, MathJax, jQuery, require.js and mermaid from CDNs.
The course template (``templates/course_reveal``) loads only reveal.js 5 (from the
``sphinx-revealjs`` wheel) and MathJax 2.7 (from the ``jupyter-server-mathjax`` wheel), which
:func:`copy_assets` copies into the build folder; :func:`render_html` refuses any HTML that
would load something from another host. PDF handouts are printed by
:mod:`course_utils.tools.slides.browser`.
"""

from __future__ import annotations

import html
import shutil
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from nbformat import NotebookNode

from course_utils.tools.browser import find_remote_references, launch_browser
from course_utils.tools.manifest import Notebook, progress_line
from course_utils.tools.notebook import HIDE_INPUT_TAG, notebook_title, read_notebook
from course_utils.tools.slides.build import (
    count_slides,
    deck_from_notebook,
    lecture_deck,
    strip_stderr,
)

if TYPE_CHECKING:
    from nbconvert import SlidesExporter
    from playwright.sync_api import Browser

__all__ = [
    "ASSETS_DIRNAME",
    "SLIDE_HEIGHT",
    "SLIDE_WIDTH",
    "RenderedDeck",
    "asset_sources",
    "copy_assets",
    "deck_notebook",
    "render_deck",
    "render_decks",
    "render_html",
    "slides_exporter",
    "write_index",
]

TEMPLATE_DIR = Path(str(files("course_utils.tools.slides") / "templates"))
TEMPLATE_NAME = "course_reveal"
ASSETS_DIRNAME = "_assets"
REVEAL_DIRNAME = "reveal.js"
MATHJAX_DIRNAME = "mathjax"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full"
REVEAL_THEME = "white"
SLIDE_WIDTH = 960
SLIDE_HEIGHT = 700


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


# --- Rendering ------------------------------------------------------------------------------------


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


def deck_notebook(notebook: Notebook, executed_dir: Path | None = None) -> NotebookNode:
    """Return the deck to render for a notebook of the course.

    A lecture deck is rendered as written (cells tagged ``check`` skipped); a lesson's short
    deck is made from its ``slide``-tagged cells.

    Parameters
    ----------
    notebook : Notebook
        From the course manifest.
    executed_dir : pathlib.Path, optional
        Read the executed notebook from this folder (``course run`` writes
        ``build/executed/``) instead of the committed ``.ipynb``.

    Returns
    -------
    nbformat.NotebookNode
        Notebook with slideshow metadata.
    """
    nb = read_notebook(notebook.executed(executed_dir), command=f"course run {notebook.name}")
    if notebook.kind == "lesson":
        return deck_from_notebook(nb, source_name=notebook.name)
    return lecture_deck(nb)


def render_deck(
    notebook: Notebook,
    out_dir: Path,
    *,
    executed_dir: Path | None = None,
    browser: Browser | None = None,
) -> RenderedDeck:
    """Render one deck to ``out_dir/<name>.slides.html`` and, given a browser, its PDF.

    Parameters
    ----------
    notebook : Notebook
        From the course manifest.
    out_dir : pathlib.Path
        Output folder; it must hold the assets (:func:`copy_assets`).
    executed_dir : pathlib.Path, optional
        Where to read executed notebooks from (default: the committed ones).
    browser : playwright.sync_api.Browser, optional
        Prints ``out_dir/<name>.pdf`` when given.

    Returns
    -------
    RenderedDeck
        Paths, slide count and timing.
    """
    from course_utils.tools.slides.browser import render_pdf

    start = time.perf_counter()
    nb = deck_notebook(notebook, executed_dir)
    html_path = render_html(nb, Path(out_dir) / f"{notebook.name}.slides.html", name=notebook.name)
    pdf_path = None
    if browser is not None:
        pdf_path = render_pdf(html_path, Path(out_dir) / f"{notebook.name}.pdf", browser=browser)
    return RenderedDeck(
        notebook.name, html_path, pdf_path, count_slides(nb), time.perf_counter() - start
    )


def write_index(rendered: Sequence[RenderedDeck], out_dir: Path) -> Path:
    """Write ``index.html`` linking every rendered deck and its handout.

    Parameters
    ----------
    rendered : sequence of RenderedDeck
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
    notebooks: Sequence[Notebook],
    out_dir: Path,
    *,
    executed_dir: Path | None = None,
    pdf: bool = True,
    report: Callable[[str], None] = print,
) -> list[RenderedDeck]:
    """Render several decks (HTML, and PDF handouts) with their assets and an index.

    Parameters
    ----------
    notebooks : sequence of Notebook
        Decks and lessons to render, in order.
    out_dir : pathlib.Path
        Output folder (created; the course's ``build/`` is git-ignored).
    executed_dir : pathlib.Path, optional
        Where to read executed notebooks from (default: the committed ones).
    pdf : bool, default True
        Also print a PDF handout per deck (needs Chromium, see
        :func:`course_utils.tools.browser.find_chromium`).
    report : callable, default print
        Receives one progress line before and after each deck.

    Returns
    -------
    list of RenderedDeck
        One entry per deck.

    Raises
    ------
    ValueError, FileNotFoundError
        Before rendering anything, if a notebook is missing, not executed or (for a lesson)
        has no ``slide`` tags; the message lists every such notebook.
    """
    problems = []
    for notebook in notebooks:  # check every deck first: fail before the slow part, listing all
        try:
            deck_notebook(notebook, executed_dir)
        except (ValueError, FileNotFoundError) as err:
            problems.append(str(err))
    if problems:
        raise ValueError("cannot render the slides:\n- " + "\n- ".join(problems))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(out_dir)
    rendered = []
    with launch_browser() if pdf else nullcontext() as browser:
        for i, notebook in enumerate(notebooks, start=1):
            report(progress_line(i, len(notebooks), notebook.name, "rendering ..."))
            result = render_deck(notebook, out_dir, executed_dir=executed_dir, browser=browser)
            written = " + ".join(str(p) for p in (result.html, result.pdf) if p is not None)
            report(
                progress_line(
                    i,
                    len(notebooks),
                    notebook.name,
                    f"{result.n_slides} slides in {result.seconds:.1f} s -> {written}",
                )
            )
            rendered.append(result)
    write_index(rendered, out_dir)
    return rendered
