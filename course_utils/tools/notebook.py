r"""The notebook vocabulary: what the course's tools say about a notebook file.

Every tool reads the same things from a notebook: its cell tags, its title, whether it was
executed, a fingerprint of its code, and where its tolerance file lives. They are defined
here, once, so that the tools share this module instead of importing each other (the site
does not import the slides, and ``course seeds`` does not import the pytest plugin: it works
with the ``tools`` extra alone).

Tags an author writes on a cell (in the py:percent source, ``# %% tags=["check"]``):

- :data:`CHECK_TAG` -- a cell that only asserts what the lesson claims: shown collapsed in
  the executed notebook, left out of the website and skipped by the slides;
- :data:`SOLUTION_TAG` -- the solution of an exercise: replaced by an empty answer cell in
  the student editions, folded on the website;
- :data:`SLIDE_TAG` -- a cell of the lesson's short deck; with :data:`SLIDE_HIDE_INPUT_TAG`
  the slide shows only the cell's output;
- :data:`HIDE_INPUT_TAG` -- a code cell shown by its output alone (a lecture deck's figure);
- :data:`IGNORE_OUTPUT_TAG` -- a cell whose output is not compared with a fresh run (nbval's
  tag; model graphs, whose SVG embeds the Graphviz version).

Tags the tools add for the renderers (MyST-NB's names): :data:`HIDE_CELL_TAG` and
:data:`REMOVE_CELL_TAG` on the website; :data:`HIDE_INPUT_TAG` on the cells of a slide deck
tagged :data:`SLIDE_HIDE_INPUT_TAG`, and on the website on code the slides skip.

Examples
--------
>>> cell = nbformat.v4.new_code_cell("assert x == 42", metadata={"tags": [CHECK_TAG]})
>>> has_tag(cell, CHECK_TAG), has_tag(cell, SOLUTION_TAG)
(True, False)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from nbformat import NotebookNode

if TYPE_CHECKING:
    from course_utils.tools.manifest import Course, Notebook

__all__ = [
    "CHECK_TAG",
    "HIDE_CELL_TAG",
    "HIDE_INPUT_TAG",
    "IGNORE_OUTPUT_TAG",
    "MIN_SEEDS",
    "REMOVE_CELL_TAG",
    "SLIDE_HIDE_INPUT_TAG",
    "SLIDE_TAG",
    "SOLUTION_TAG",
    "TOLERANCE_DIR",
    "code_hash",
    "has_tag",
    "notebook_title",
    "read_notebook",
    "tags",
    "tolerance_path",
]

#: A cell that only checks what the lesson claims (assertions, no output).
CHECK_TAG = "check"
#: The solution of an exercise (a code or Markdown cell).
SOLUTION_TAG = "solution"
#: A cell of the lesson's short deck.
SLIDE_TAG = "slide"
#: On a :data:`SLIDE_TAG` code cell: the slide shows the output only.
SLIDE_HIDE_INPUT_TAG = "slide-hide-input"
#: Cells with this tag are not compared (model graphs: their SVG embeds the Graphviz version).
IGNORE_OUTPUT_TAG = "nbval-ignore-output"
#: The renderer (nbconvert, MyST-NB) shows the cell's output without its input.
HIDE_INPUT_TAG = "hide-input"
#: Added by the site: MyST-NB folds the cell, input and outputs.
HIDE_CELL_TAG = "hide-cell"
#: Added by the site: MyST-NB leaves the cell out of the page.
REMOVE_CELL_TAG = "remove-cell"

#: Fewest seeds a tolerance file may be measured from (the pytest ini option
#: ``course_min_seeds`` lowers it for a test course).
MIN_SEEDS = 10
#: Where the tolerance files live, relative to the course root.
TOLERANCE_DIR = Path("tests") / "tolerances"

_HEADING = re.compile(r"^\s{0,3}#\s+(?P<title>.+?)\s*#*\s*$", re.MULTILINE)


def tags(cell: Mapping[str, Any]) -> list[str]:
    """Return the tags of a notebook cell (empty when it has none).

    Parameters
    ----------
    cell : mapping
        A cell (an ``nbformat`` node or the dict of a notebook read as JSON).

    Returns
    -------
    list of str
        A new list: changing it leaves the cell as it is.

    Examples
    --------
    >>> tags(nbformat.v4.new_code_cell("x", metadata={"tags": ["solution"]}))
    ['solution']
    >>> tags(nbformat.v4.new_markdown_cell("text"))
    []
    """
    return list(cell.get("metadata", {}).get("tags", []))


def has_tag(cell: Mapping[str, Any], tag: str) -> bool:
    """Tell whether a cell carries ``tag``.

    Parameters
    ----------
    cell : mapping
        A cell.
    tag : str
        One of this module's ``*_TAG`` names.

    Returns
    -------
    bool
        True when the cell's metadata lists the tag.

    Examples
    --------
    >>> has_tag(nbformat.v4.new_code_cell("x", metadata={"tags": ["check"]}), CHECK_TAG)
    True
    >>> has_tag({"cell_type": "code", "source": "x"}, IGNORE_OUTPUT_TAG)
    False
    """
    return tag in tags(cell)


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


def read_notebook(path: Path, *, command: str | None = None) -> NotebookNode:
    """Read an executed notebook, failing clearly when it is missing or was never executed.

    Parameters
    ----------
    path : pathlib.Path
        The ``.ipynb`` file.
    command : str, optional
        The command that produces it, named in the error (default ``course run <stem>``).

    Returns
    -------
    nbformat.NotebookNode
        The notebook (format 4).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it has code cells and none of them was executed.

    Examples
    --------
    >>> read_notebook(Path("build/executed/01_missing.ipynb"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: ...01_missing.ipynb does not exist: produce it with `course run 01_missing`.
    """
    path = Path(path)
    command = command or f"course run {path.stem}"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: produce it with `{command}`.")
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if code and all(cell.get("execution_count") is None for cell in code):
        raise ValueError(f"{path} has no executed cell: run `{command}`.")
    return nb


def code_hash(nb: NotebookNode) -> str:
    r"""Return a fingerprint of a notebook's code: the sha256 of its code cells, in order.

    Markdown does not count, so rewording the prose keeps the fingerprint; a tolerance file
    records the fingerprint of the code it was measured for.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (a py:percent source read by Jupytext, or an executed ``.ipynb``).

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> a = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    >>> b = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Hi"),
    ...                                     nbformat.v4.new_code_cell("x = 1\n")])
    >>> code_hash(a) == code_hash(b)
    True
    """
    digest = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.strip().encode())
            digest.update(b"\x00")
    return digest.hexdigest()


def tolerance_path(course: Course, notebook: Notebook) -> Path:
    """Return the tolerance file of a notebook: ``tests/tolerances/<name>.json``.

    ``course seeds --record`` writes it; the pytest plugin
    (:mod:`course_utils.tools.nbcheck`) and ``course validate`` read it.

    Parameters
    ----------
    course : course_utils.tools.manifest.Course
        The course (the file is under its root, in :data:`TOLERANCE_DIR`).
    notebook : course_utils.tools.manifest.Notebook
        The notebook.

    Returns
    -------
    pathlib.Path
        The path, whether or not the file exists.

    Examples
    --------
    >>> from course_utils.tools.manifest import Course, Notebook
    >>> lesson = Notebook("01_pooling", "lesson", Path("notebooks/01_pooling.py"), "Pooling")
    >>> tolerance_path(Course(Path("course"), "A course", (lesson,)), lesson).as_posix()
    'course/tests/tolerances/01_pooling.json'
    """
    return course.root / TOLERANCE_DIR / f"{notebook.name}.json"
