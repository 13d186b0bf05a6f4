"""Build slide decks from notebooks: pure functions on notebook objects.

Two kinds of decks are made:

- the lecture decks of ``slides/`` (manifest kind ``"deck"``), written as slides with Jupyter's
  slideshow metadata and speaker notes, and rendered as they are;
- one short deck per lesson, from the cells its executed notebook tags ``slide``
  (:func:`deck_from_notebook`).

Every slide can carry a stable id in its slideshow metadata (``slideshow.data.id``), which
the rendered section shows as ``data-id``: tests and links find a slide by it, whatever its
heading says. Nothing here reads files, renders HTML or starts a browser.
"""

from __future__ import annotations

import copy
import re

import nbformat
from nbformat import NotebookNode

from course_utils.tools.notebook import (
    CHECK_TAG,
    HIDE_INPUT_TAG,
    SLIDE_HIDE_INPUT_TAG,
    SLIDE_TAG,
    has_tag,
    notebook_title,
    tags,
)

__all__ = [
    "count_slides",
    "deck_from_notebook",
    "lecture_deck",
    "slide_id",
    "strip_stderr",
]

_ANY_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$", re.MULTILINE)


def slide_id(cell: NotebookNode, fallback: str) -> str:
    r"""Return the stable id of a slide cell: its ``slideshow.data.id``, else one from its heading.

    Parameters
    ----------
    cell : nbformat.NotebookNode
        The cell that opens the slide.
    fallback : str
        Used when the cell has neither an id nor a heading.

    Returns
    -------
    str
        A lower-case id of letters, digits and hyphens.

    Examples
    --------
    >>> cell = nbformat.v4.new_markdown_cell("## The question\n\nText")
    >>> slide_id(cell, "slide-3")
    'the-question'
    >>> cell.metadata["slideshow"] = {"data": {"id": "question"}}
    >>> slide_id(cell, "slide-3")
    'question'
    """
    explicit = cell.get("metadata", {}).get("slideshow", {}).get("data", {}).get("id")
    if explicit:
        return str(explicit)
    match = _ANY_HEADING.search(cell.source) if cell.cell_type == "markdown" else None
    if match is None:
        return fallback
    words = re.sub(r"[^a-z0-9]+", "-", match["title"].lower()).strip("-")
    return words or fallback


def _slide_cell(cell: NotebookNode, index: int, source_name: str) -> NotebookNode:
    cell_tags = tags(cell)
    if cell.cell_type == "code" and not cell.get("outputs") and SLIDE_HIDE_INPUT_TAG in cell_tags:
        raise ValueError(
            f"{source_name}: cell {index} is tagged {SLIDE_HIDE_INPUT_TAG!r} but has no output, "
            "so its slide would be empty: execute the notebook (`course run`) or drop the tag."
        )
    new = copy.deepcopy(cell)
    if SLIDE_HIDE_INPUT_TAG in cell_tags and HIDE_INPUT_TAG not in cell_tags:
        cell_tags.append(HIDE_INPUT_TAG)
    new.metadata["tags"] = cell_tags
    identifier = slide_id(cell, f"cell-{index}")
    new.metadata["slideshow"] = {"slide_type": "slide", "data": {"id": identifier}}
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
    tagged = [(i, cell) for i, cell in enumerate(nb.cells) if has_tag(cell, SLIDE_TAG)]
    if not tagged:
        raise ValueError(
            f"{source_name}: no cell is tagged {SLIDE_TAG!r}; tag 3-6 cells (question, data, "
            "model, key figure, lesson) as described in CONTRIBUTING.md."
        )
    title = notebook_title(nb)
    title_cell = nbformat.v4.new_markdown_cell(
        f"# {title}\n\nShort deck of the notebook `{source_name}.ipynb`: the full lesson, "
        "with code and exercises, is in the notebook.",
        metadata={"slideshow": {"slide_type": "slide", "data": {"id": "title"}}},
    )
    title_cell["id"] = "deck-title"
    deck = nbformat.v4.new_notebook(
        cells=[title_cell] + [_slide_cell(c, i, source_name) for i, c in tagged],
        metadata=copy.deepcopy(nb.metadata),
    )
    deck.metadata["title"] = title
    return deck


def lecture_deck(nb: NotebookNode) -> NotebookNode:
    """Prepare a lecture deck of ``slides/`` for rendering: cells tagged ``check`` are skipped.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed deck (not modified).

    Returns
    -------
    nbformat.NotebookNode
        A copy in which every ``check`` cell has the slide type ``skip``.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("assert True", metadata={"tags": ["check"]})])
    >>> lecture_deck(nb).cells[0].metadata["slideshow"]
    {'slide_type': 'skip'}
    """
    deck = copy.deepcopy(nb)
    for cell in deck.cells:
        if has_tag(cell, CHECK_TAG):
            cell.metadata["slideshow"] = {"slide_type": "skip"}
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
