"""Stage the course's executed notebooks for the website: pure functions on notebooks.

Each notebook is copied and transformed, never edited in place:

- cells tagged ``check`` (cells that only assert) get ``remove-cell``: not shown;
- ``solution`` code cells get MyST-NB's ``hide-cell`` toggle (folded, labelled as a
  solution); ``solution`` Markdown cells are wrapped in a folded sphinx-design dropdown;
- in a lecture deck, speaker notes become a dropdown, and code the slides skip shows its
  output with the input folded;
- the title heading gets a cell of its own, titled as in the navigation, with the page's
  download links right under it.

:func:`home_page` writes the home page from ``theme/index.md.j2``.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal

import nbformat
from nbformat import NotebookNode

from course_utils.tools.notebook import (
    CHECK_TAG,
    HIDE_CELL_TAG,
    HIDE_INPUT_TAG,
    REMOVE_CELL_TAG,
    SOLUTION_TAG,
    notebook_title,
    tags,
)

__all__ = [
    "Download",
    "Page",
    "colon_fence",
    "downloads_html",
    "dropdown",
    "first_paragraph",
    "home_page",
    "stage_cell",
    "stage_notebook",
]

THEME_DIR = Path(str(files("course_utils.tools.site") / "theme"))
HOME_TEMPLATE = "index.md.j2"

Kind = Literal["lesson", "deck"]

_COLON_RUN = re.compile(r"^\s*(:{3,})", re.MULTILINE)


@dataclass(frozen=True)
class Download:
    """One download offered on a page.

    Attributes
    ----------
    label : str
        Link text.
    href : str
        Location inside the site, relative to its root (pages sit at the root).
    source : pathlib.Path
        The file copied to ``href``.
    kind : str
        CSS class of the link: ``"notebook"``, ``"student"``, ``"slides-html"`` or
        ``"slides-pdf"``.
    """

    label: str
    href: str
    source: Path
    kind: str


@dataclass(frozen=True)
class Page:
    """One page of the site made from a notebook.

    Attributes
    ----------
    name : str
        Document name and stem of the notebook, e.g. ``"01_pooling"``.
    title : str
        Title in the navigation, e.g. ``"01 · Pooling: complete, none, or partial"``.
    kind : {"lesson", "deck"}
        A lesson notebook or a lecture deck.
    summary : str
        First paragraph after the notebook's title (shown on the home page).
    notebook : pathlib.Path
        The executed notebook the page is made from.
    downloads : tuple of Download
        Files linked from the page.
    """

    name: str
    title: str
    kind: Kind
    summary: str
    notebook: Path
    downloads: tuple[Download, ...]


def first_paragraph(nb: NotebookNode) -> str:
    r"""Return the first paragraph of prose after a notebook's title heading.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook.

    Returns
    -------
    str
        The paragraph with its lines joined, or ``""`` when the title is alone.

    Examples
    --------
    >>> md = nbformat.v4.new_markdown_cell
    >>> first_paragraph(nbformat.v4.new_notebook(cells=[md("# T\n\nOne\ntwo.\n\nThree.")]))
    'One two.'
    """
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        blocks = [b.strip() for b in re.split(r"\n\s*\n", cell.source) if b.strip()]
        prose = [b for b in blocks if not b.startswith(("#", "|", "-", "*", "`", "<", "$"))]
        if any(b.startswith("# ") for b in blocks):
            return " ".join(prose[0].split()) if prose else ""
    return ""


def colon_fence(text: str) -> str:
    r"""Return a MyST colon fence longer than any colon fence inside ``text``.

    Parameters
    ----------
    text : str
        Markdown that the fence will enclose.

    Returns
    -------
    str
        At least ``":::"``.

    Examples
    --------
    >>> colon_fence("plain text")
    ':::'
    >>> colon_fence(":::{note}\nInner\n:::")
    '::::'
    """
    longest = max((len(m) for m in _COLON_RUN.findall(text)), default=2)
    return ":" * max(3, longest + 1)


def dropdown(source: str, title: str, css_class: str) -> str:
    """Wrap Markdown in a folded sphinx-design dropdown.

    Parameters
    ----------
    source : str
        The Markdown to fold.
    title : str
        Text of the dropdown's summary line.
    css_class : str
        Class added to the ``<details>`` element.

    Returns
    -------
    str
        MyST Markdown.

    Examples
    --------
    >>> print(dropdown("It is $1$.", "Solution", "solution"))
    :::{dropdown} Solution
    :class-container: solution
    <BLANKLINE>
    It is $1$.
    :::
    """
    fence = colon_fence(source)
    return (
        f"{fence}{{dropdown}} {title}\n:class-container: {css_class}\n\n{source.strip()}\n{fence}"
    )


def stage_cell(cell: NotebookNode, kind: Kind = "lesson") -> NotebookNode:
    """Return the copy of a cell that the site renders.

    - ``check`` (a cell that only asserts): tagged ``remove-cell``, so it is not shown;
    - ``solution``, code: tagged ``hide-cell`` (input and outputs folded, labelled as a
      solution);
    - ``solution``, Markdown: wrapped in a dropdown titled *Solution*;
    - in a deck, speaker notes (slide type ``notes``) become a dropdown *Speaker notes* and
      code skipped by the slides (``skip``) shows its output with the input folded.

    Parameters
    ----------
    cell : nbformat.NotebookNode
        A cell of an executed notebook (not modified).
    kind : {"lesson", "deck"}, default "lesson"
        What the notebook is.

    Returns
    -------
    nbformat.NotebookNode
        The staged cell.

    Raises
    ------
    ValueError
        If a raw cell is tagged ``solution`` (only code and Markdown can be solutions).

    Examples
    --------
    >>> check = nbformat.v4.new_code_cell("assert x == 1", metadata={"tags": ["check"]})
    >>> stage_cell(check).metadata.tags
    ['check', 'remove-cell']
    >>> sol = nbformat.v4.new_markdown_cell("Because.", metadata={"tags": ["solution"]})
    >>> stage_cell(sol).source.splitlines()[0]
    ':::{dropdown} Solution'
    """
    new = copy.deepcopy(cell)
    cell_tags = tags(cell)
    metadata = new.setdefault("metadata", {})
    slide_type = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
    if CHECK_TAG in cell_tags:
        cell_tags.append(REMOVE_CELL_TAG)
    elif SOLUTION_TAG in cell_tags:
        if cell.cell_type == "code":
            cell_tags.append(HIDE_CELL_TAG)
            metadata["mystnb"] = {
                "code_prompt_show": "Solution (code)",
                "code_prompt_hide": "Hide the solution (code)",
            }
        elif cell.cell_type == "markdown":
            new.source = dropdown(cell.source, "Solution", SOLUTION_TAG)
        else:
            raise ValueError(
                f"a {cell.cell_type!r} cell is tagged {SOLUTION_TAG!r}: only Markdown and code "
                "cells can be solutions; remove the tag."
            )
    elif kind == "deck" and slide_type == "notes" and cell.cell_type == "markdown":
        new.source = dropdown(cell.source, "Speaker notes", "speaker-notes")
    elif kind == "deck" and slide_type == "skip" and cell.cell_type == "code":
        if HIDE_INPUT_TAG not in cell_tags:
            cell_tags.append(HIDE_INPUT_TAG)
    if cell_tags or "tags" in metadata:
        metadata["tags"] = cell_tags
    return new


def downloads_html(downloads: Sequence[Download]) -> str:
    """Return the HTML block of download links shown under a page's title.

    Parameters
    ----------
    downloads : sequence of Download
        Links, in the order shown.

    Returns
    -------
    str
        An HTML block (one ``<nav>`` without blank lines, so MyST passes it through).

    Examples
    --------
    >>> d = Download("Notebook", "downloads/notebooks/01_a.ipynb", Path("01_a.ipynb"), "notebook")
    >>> print(downloads_html([d]))  # doctest: +NORMALIZE_WHITESPACE
    <nav class="lesson-downloads" aria-label="Downloads">
    <p>Downloads</p>
    <ul>
    <li><a class="reference download notebook"
           href="downloads/notebooks/01_a.ipynb">Notebook</a></li>
    </ul>
    </nav>
    """
    items = [
        f'<li><a class="reference download {html.escape(d.kind)}" '
        f'href="{html.escape(d.href)}">{html.escape(d.label)}</a></li>'
        for d in downloads
    ]
    return "\n".join(
        [
            '<nav class="lesson-downloads" aria-label="Downloads">',
            "<p>Downloads</p>",
            "<ul>",
        ]
        + items
        + ["</ul>", "</nav>"]
    )


def _split_title(source: str) -> tuple[str, str]:
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s{0,3}#\s+\S", line):
            return "\n".join(lines[: i + 1]), "\n".join(lines[i + 1 :]).strip()
    raise ValueError("no '# Title' line")


def stage_notebook(
    nb: NotebookNode,
    *,
    kind: Kind = "lesson",
    downloads: Sequence[Download] = (),
    title: str | None = None,
) -> NotebookNode:
    r"""Return the copy of an executed notebook that the site renders.

    Every cell goes through :func:`stage_cell`. The title heading gets a Markdown cell of
    its own (with the text ``title``, when given, so that every page is titled as in the
    navigation) and the download links (:func:`downloads_html`) go right under it. Widget
    state is dropped (the site shows static outputs).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (not modified).
    kind : {"lesson", "deck"}, default "lesson"
        What the notebook is.
    downloads : sequence of Download, optional
        Links to show under the title.
    title : str, optional
        Replaces the text of the title heading.

    Returns
    -------
    nbformat.NotebookNode
        The staged notebook.

    Raises
    ------
    ValueError
        If the notebook has no ``# Title`` heading, or a raw cell is tagged ``solution``.

    Examples
    --------
    >>> md = nbformat.v4.new_markdown_cell
    >>> nb = nbformat.v4.new_notebook(cells=[md("# Pooling\n\nIntro.")])
    >>> d = Download("Notebook", "downloads/notebooks/01_p.ipynb", Path("x"), "notebook")
    >>> staged = stage_notebook(nb, downloads=[d], title="01 · Pooling")
    >>> [c.source.splitlines()[0] for c in staged.cells]
    ['# 01 · Pooling', '<nav class="lesson-downloads" aria-label="Downloads">', 'Intro.']
    """
    notebook_title(nb)  # raises a clear ValueError when there is no title
    staged = copy.deepcopy(nb)
    staged.metadata.pop("widgets", None)
    cells: list[NotebookNode] = []
    placed = False
    for cell in nb.cells:
        new = stage_cell(cell, kind)
        is_title = cell.cell_type == "markdown" and re.search(r"(?m)^\s{0,3}#\s", cell.source)
        if placed or not is_title:
            cells.append(new)
            continue
        head, rest = _split_title(new.source)
        new.source = f"# {title}" if title is not None else head
        cells.append(new)
        if downloads:
            links = nbformat.v4.new_markdown_cell(downloads_html(downloads))
            links["id"] = "site-downloads"
            cells.append(links)
        if rest:
            tail = nbformat.v4.new_markdown_cell(rest)
            tail["id"] = f"{cell.get('id', 'title')}-rest"[:64]
            cells.append(tail)
        placed = True
    staged.cells = cells
    return staged


def home_page(pages: Sequence[Page], *, title: str, hub: str = "") -> str:
    """Write the Markdown of the home page: what the course is, then its lessons in order.

    The text is the template ``site_theme/index.md.j2``; the hidden table-of-contents trees
    at its end make the sidebar (lecture decks first, then lessons) and the previous/next
    links.

    Parameters
    ----------
    pages : sequence of Page
        The pages, in course order.
    title : str
        Title of the site and of the home page.
    hub : str, default ""
        Markdown of the section on JupyterHub and Binder.

    Returns
    -------
    str
        MyST Markdown.

    Examples
    --------
    >>> p = Page("01_pooling", "01 · Pooling", "lesson", "Groups.", Path("x.ipynb"), ())
    >>> text = home_page([p], title="A course")
    >>> "1. **[01 · Pooling](01_pooling.ipynb)**" in text, "01 · Pooling <01_pooling>" in text
    (True, True)
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(THEME_DIR),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    groups = [
        (caption, [p for p in pages if p.kind == kind])
        for caption, kind in (("Lecture", "deck"), ("Lessons", "lesson"))
    ]
    return env.get_template(HOME_TEMPLATE).render(
        title=title, hub=hub, pages=list(pages), toctrees=[(c, g) for c, g in groups if g]
    )
