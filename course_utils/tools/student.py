"""Student editions of the notebooks: exercises without their solutions.

Solutions live in the lesson notebooks, in cells tagged ``solution``.
:func:`make_student_edition` replaces each run of consecutive solution cells with one empty
answer cell of the same kind (a Markdown placeholder for a written answer, a code cell with
a comment for code); every other cell, with its outputs, is kept as it is.
:func:`write_student_editions` does this for the executed notebooks and writes the
``.ipynb`` files students open to a git-ignored build folder.
"""

from __future__ import annotations

import ast
import builtins
import copy
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course_utils.tools.manifest import Notebook, progress_line
from course_utils.tools.notebook import SOLUTION_TAG, has_tag, read_notebook

__all__ = [
    "CODE_PLACEHOLDER",
    "MARKDOWN_PLACEHOLDER",
    "answer_cell",
    "code_after_solutions",
    "is_solution",
    "make_student_edition",
    "solution_sources",
    "write_student_edition",
    "write_student_editions",
]

MARKDOWN_PLACEHOLDER = "*Your answer here.*"
CODE_PLACEHOLDER = "# Your answer here\n"


def is_solution(cell: NotebookNode) -> bool:
    """Tell whether a cell is tagged ``solution``.

    Parameters
    ----------
    cell : nbformat.NotebookNode
        A notebook cell.

    Returns
    -------
    bool
        True for a solution cell.

    Examples
    --------
    >>> is_solution(nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["solution"]}))
    True
    >>> is_solution(nbformat.v4.new_markdown_cell("Exercise 1"))
    False
    """
    return has_tag(cell, SOLUTION_TAG)


def answer_cell(cell: NotebookNode) -> NotebookNode:
    r"""Return the empty answer cell that replaces a solution cell.

    Parameters
    ----------
    cell : nbformat.NotebookNode
        The solution cell (Markdown or code).

    Returns
    -------
    nbformat.NotebookNode
        A Markdown cell ``*Your answer here.*`` or a code cell ``# Your answer here``
        without outputs, with an id derived from the solution's (so builds are
        reproducible).

    Raises
    ------
    ValueError
        If the cell is neither Markdown nor code.

    Examples
    --------
    >>> answer_cell(nbformat.v4.new_code_cell("x = 1")).source
    '# Your answer here\n'
    """
    if cell.cell_type == "markdown":
        new = nbformat.v4.new_markdown_cell(MARKDOWN_PLACEHOLDER)
    elif cell.cell_type == "code":
        new = nbformat.v4.new_code_cell(CODE_PLACEHOLDER)
    else:
        raise ValueError(
            f"a {cell.cell_type!r} cell is tagged {SOLUTION_TAG!r}: only Markdown and code "
            "cells can be solutions; remove the tag."
        )
    if "id" in cell:
        new["id"] = f"answer-{cell['id']}"[:64]
    return new


def make_student_edition(nb: NotebookNode) -> NotebookNode:
    r"""Replace the solution cells of a notebook with empty answer cells.

    Consecutive solution cells of the same kind become a single answer cell; all other
    cells are kept unchanged, outputs included.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The lesson notebook (not modified).

    Returns
    -------
    nbformat.NotebookNode
        The student edition.

    Examples
    --------
    >>> sol = {"tags": ["solution"]}
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_markdown_cell("**Exercise.** Compute x."),
    ...     nbformat.v4.new_code_cell("x = 1", metadata=sol),
    ...     nbformat.v4.new_code_cell("print(x)", metadata=sol),
    ... ])
    >>> [c.source for c in make_student_edition(nb).cells]
    ['**Exercise.** Compute x.', '# Your answer here\n']
    """
    student = copy.deepcopy(nb)
    cells: list[NotebookNode] = []
    previous_solution_type = None
    for cell in nb.cells:
        if not is_solution(cell):
            cells.append(copy.deepcopy(cell))
            previous_solution_type = None
        elif cell.cell_type != previous_solution_type:
            cells.append(answer_cell(cell))
            previous_solution_type = cell.cell_type
    student.cells = cells
    return student


def _names(source: str) -> set[str] | None:
    """Return every identifier a cell's code mentions, or None if it cannot be analysed.

    Mentioned: loaded, stored, imported, defined, an argument or an attribute; a builtin
    (``print``) only where the cell rebinds it. Not analysable:
    not plain Python (IPython magics), or reaching names indirectly (``global``, ``import *``,
    ``exec``, ``eval``, ``globals``, ``locals``, ``vars``, ``getattr``, ``setattr``).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Global | ast.Nonlocal):
            return None
        if isinstance(node, ast.Name):
            if node.id in _INDIRECT:
                return None
            if not (isinstance(node.ctx, ast.Load) and node.id in _BUILTINS):
                names.add(node.id)  # a builtin only counts where the cell rebinds it
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            if node.name == "*":
                return None
            names.add((node.asname or node.name).partition(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


#: Builtins that reach a namespace by name at run time: a cell using them is not analysed.
_INDIRECT = frozenset({"exec", "eval", "globals", "locals", "vars", "getattr", "setattr"})
_BUILTINS = frozenset(dir(builtins))


def code_after_solutions(nb: NotebookNode) -> list[int]:
    r"""Find the lesson code cells that run after a code solution and might need it.

    A student edition replaces each code solution by a comment-only answer cell and keeps
    every other cell. Its code therefore runs like the lesson's, except where lesson code that
    comes after a solution uses what the solution did. Such a cell is found statically: it
    mentions a name that a solution cell also mentions (a solution cannot define, rebind or
    change through a name it does not mention), or it, or a solution cell, cannot be analysed
    (not plain Python, or names reached indirectly, see ``_names``). The cells returned are
    those; a cell like ``print(versions())``, whose names no solution mentions, is not.
    What the analysis cannot see is a solution changing shared state that a later cell
    reaches under another name (a module's global random state, a file on disk); the
    course's lessons keep such cells before the exercises.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The lesson notebook.

    Returns
    -------
    list of int
        Indices (in ``nb.cells``) of non-solution code cells after the first code solution
        that may depend on a solution: only running the edition shows that they still work.

    Examples
    --------
    >>> sol = {"tags": ["solution"]}
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("from platform import python_version\nx = 1"),
    ...     nbformat.v4.new_code_cell("y = 2 * x", metadata=sol),
    ...     nbformat.v4.new_code_cell("print(y)"),
    ...     nbformat.v4.new_code_cell("print(python_version())"),
    ... ])
    >>> code_after_solutions(nb)
    [2]
    """
    first = next(
        (i for i, c in enumerate(nb.cells) if c.cell_type == "code" and is_solution(c)), None
    )
    if first is None:
        return []
    solution_names: set[str] = set()
    analysable = True
    for cell in nb.cells:
        if cell.cell_type == "code" and is_solution(cell):
            names = _names(cell.source)
            if names is None:
                analysable = False
            else:
                solution_names |= names
    later = [
        i
        for i, c in enumerate(nb.cells)
        if i > first and c.cell_type == "code" and not is_solution(c)
    ]
    if not analysable:
        return later
    return [
        i for i in later if (names := _names(nb.cells[i].source)) is None or names & solution_names
    ]


def solution_sources(nb: NotebookNode) -> list[str]:
    """Return the (non-blank) sources of the solution cells of a notebook.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The lesson notebook.

    Returns
    -------
    list of str
        One source per solution cell, in order.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["solution"]})])
    >>> solution_sources(nb)
    ['x = 1']
    """
    return [cell.source for cell in nb.cells if is_solution(cell) and cell.source.strip()]


def write_student_edition(nb: NotebookNode, target: Path) -> Path:
    """Write the student edition of an executed notebook to ``target``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed lesson (outputs are kept).
    target : pathlib.Path
        The ``.ipynb`` to write (its folder is created).

    Returns
    -------
    pathlib.Path
        ``target``.

    Raises
    ------
    nbformat.ValidationError
        If the edition is not a valid notebook (a bug: please report it).
    """
    student = make_student_edition(nb)
    nbformat.validate(student)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student, target)
    return target


def write_student_editions(
    notebooks: Sequence[Notebook],
    out_dir: Path,
    *,
    executed_dir: Path | None = None,
    report: Callable[[str], None] = print,
) -> list[Path]:
    """Write the student edition of several lessons, ``out_dir/<name>.ipynb``.

    Parameters
    ----------
    notebooks : sequence of Notebook
        Lessons from the course manifest.
    out_dir : pathlib.Path
        Output folder (created; the course writes ``build/student/``).
    executed_dir : pathlib.Path, optional
        Where to read the executed notebooks from (default: the committed ones).
    report : callable, default print
        Receives one line per notebook.

    Returns
    -------
    list of pathlib.Path
        The written notebooks.

    Raises
    ------
    FileNotFoundError, ValueError
        If an executed notebook is missing or was never executed; the message names the
        command that produces it.
    """
    written = []
    for i, notebook in enumerate(notebooks, start=1):
        nb = read_notebook(notebook.executed(executed_dir), command=f"course run {notebook.name}")
        target = write_student_edition(nb, Path(out_dir) / f"{notebook.name}.ipynb")
        n_solutions = sum(map(is_solution, nb.cells))
        report(
            progress_line(
                i,
                len(notebooks),
                notebook.name,
                f"{n_solutions} solution cell(s) replaced -> {target}",
            )
        )
        written.append(target)
    return written
