"""Student editions of the notebooks: exercises without their solutions.

Solutions live in the lesson notebooks, in cells tagged ``solution``.
:func:`make_student_edition` replaces each run of consecutive solution cells with one empty
answer cell of the same kind (a Markdown placeholder for a written answer, a code cell with
a comment for code); every other cell, with its outputs, is kept as it is. An exercise whose
answer can be checked is followed by a cell tagged ``answer-check``
(:func:`answer_check_call`); its answer cell sets each answer that check reads to ``...``,
so that the check, run before the student has answered, says "no answer yet".
:func:`write_student_editions` does this for the executed notebooks and writes the
``.ipynb`` files students open to a git-ignored build folder.
"""

from __future__ import annotations

import ast
import builtins
import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course_utils.tools.manifest import Notebook, progress_line
from course_utils.tools.notebook import ANSWER_CHECK_TAG, SOLUTION_TAG, has_tag, read_notebook

__all__ = [
    "ANSWER_NOTE",
    "CODE_PLACEHOLDER",
    "MARKDOWN_PLACEHOLDER",
    "AnswerCheck",
    "answer_cell",
    "answer_check_call",
    "answer_checks",
    "is_answer_check",
    "code_after_solutions",
    "is_solution",
    "make_student_edition",
    "solution_sources",
    "write_student_edition",
    "write_student_editions",
]

MARKDOWN_PLACEHOLDER = "*Your answer here.*"
CODE_PLACEHOLDER = "# Your answer here\n"
#: The comment on each answer an ``answer-check`` cell reads, in the student's answer cell.
ANSWER_NOTE = "your answer: the next cell checks it"


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


@dataclass(frozen=True)
class AnswerCheck:
    """An ``answer-check`` cell of a lesson, parsed.

    Attributes
    ----------
    index : int
        The cell's index in the notebook's cells.
    function : str
        The function it calls, as written (``"checks.shrinkage_factors"``).
    arguments : tuple of str
        The names it passes, in order (constants are left out).
    answers : tuple of str
        Those of ``arguments`` that the exercise's solution assigns: the student's answers.
    """

    index: int
    function: str
    arguments: tuple[str, ...]
    answers: tuple[str, ...]


_CHECK_RULE = (
    "an answer-check cell is one call of a check function, with names (or constants) as its "
    "arguments, e.g. `checks.shrinkage_factors(shrink, hierarchical_idata, group_table)`; "
    "compute anything else inside the check function"
)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value)):
        return f"{base}.{node.attr}"
    return None


def answer_check_call(source: str) -> tuple[str, tuple[str, ...]]:
    """Parse the code of an ``answer-check`` cell: the function it calls and the names passed.

    The cell must be a single call whose arguments are names or constants. It then binds
    nothing and reads only those names, so that a student edition can make it run by giving
    each answer a value (``...``), and nothing after it depends on it.

    Parameters
    ----------
    source : str
        The cell's code.

    Returns
    -------
    function : str
        The called function, as written.
    arguments : tuple of str
        The names passed, positional then keyword, in order.

    Raises
    ------
    ValueError
        If the cell is anything else; the message says what the cell should be.

    Examples
    --------
    >>> answer_check_call("checks.risk(mse, n_sims, sizes=N_PER_GROUP)")
    ('checks.risk', ('mse', 'n_sims', 'N_PER_GROUP'))
    >>> answer_check_call("checks.risk(mse.mean())")
    Traceback (most recent call last):
    ...
    ValueError: an answer-check cell is one call of a check function, ...
    """
    try:
        body = ast.parse(source).body
    except SyntaxError as error:
        raise ValueError(f"{_CHECK_RULE}; this one is not Python ({error.msg}).") from None
    call = body[0].value if len(body) == 1 and isinstance(body[0], ast.Expr) else None
    if not isinstance(call, ast.Call) or (function := _dotted(call.func)) is None:
        raise ValueError(f"{_CHECK_RULE}; got {source.strip()!r}.")
    values = [*call.args, *(keyword.value for keyword in call.keywords)]
    if any(keyword.arg is None for keyword in call.keywords) or not all(
        isinstance(value, ast.Name | ast.Constant) for value in values
    ):
        raise ValueError(f"{_CHECK_RULE}; got {source.strip()!r}.")
    return function, tuple(value.id for value in values if isinstance(value, ast.Name))


def _assigned(source: str) -> set[str]:
    """Return the names a cell's code binds (assigns, defines or imports) at any level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).partition(".")[0])
    return names


def is_answer_check(cell: NotebookNode) -> bool:
    """Tell whether a cell is tagged ``answer-check``.

    Parameters
    ----------
    cell : nbformat.NotebookNode
        A notebook cell.

    Returns
    -------
    bool

    Examples
    --------
    >>> check = {"tags": ["answer-check"]}
    >>> is_answer_check(nbformat.v4.new_code_cell("checks.q1(x)", metadata=check))
    True
    """
    return has_tag(cell, ANSWER_CHECK_TAG)


def answer_checks(nb: NotebookNode) -> list[AnswerCheck]:
    """Find and validate the ``answer-check`` cells of a lesson.

    Each must be a code cell, not a solution, parse as :func:`answer_check_call` says, and
    come after a code solution (since the previous check) that assigns at least one of the
    names it passes: those names are the student's answers.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The lesson notebook.

    Returns
    -------
    list of AnswerCheck
        In notebook order.

    Raises
    ------
    ValueError
        Naming the cell and what to change.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("x = 2 * data", metadata={"tags": ["solution"]}),
    ...     nbformat.v4.new_code_cell("checks.q1(x, data)", metadata={"tags": ["answer-check"]}),
    ... ])
    >>> answer_checks(nb)[0].answers
    ('x',)
    """
    found: list[AnswerCheck] = []
    assigned: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and is_solution(cell) and not is_answer_check(cell):
            assigned |= _assigned(cell.source)
        if not is_answer_check(cell):
            continue
        where = f"cell {index} ({ANSWER_CHECK_TAG!r})"
        if cell.cell_type != "code" or is_solution(cell):
            raise ValueError(
                f"{where} must be a code cell without the {SOLUTION_TAG!r} tag: students keep "
                "it in their edition."
            )
        try:
            function, arguments = answer_check_call(cell.source)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        answers = tuple(name for name in arguments if name in assigned)
        if not answers:
            raise ValueError(
                f"{where} passes no name that a code solution before it (since the previous "
                "check) assigns: put it after the solution of its exercise, and pass the "
                "answer by the name the solution gives it."
            )
        found.append(AnswerCheck(index, function, arguments, answers))
        assigned = set()
    return found


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
    cells are kept unchanged, outputs included. Before an ``answer-check`` cell, the code
    answer cell sets each answer the check reads to ``...`` (:data:`ANSWER_NOTE`), so that
    the check runs and says "no answer yet".

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
    >>> check = {"tags": ["answer-check"]}
    >>> nb.cells.append(nbformat.v4.new_code_cell("checks.q1(x)", metadata=check))
    >>> print(make_student_edition(nb).cells[1].source)
    # Your answer here
    x = ...  # your answer: the next cell checks it
    <BLANKLINE>
    """
    checks = {check.index: check for check in answer_checks(nb)}
    student = copy.deepcopy(nb)
    cells: list[NotebookNode] = []
    previous_solution_type = None
    code_answer: NotebookNode | None = None  # the last code answer cell before a check
    for index, cell in enumerate(nb.cells):
        if not is_solution(cell):
            if index in checks and code_answer is not None:
                code_answer.source += "".join(
                    f"{name} = ...  # {ANSWER_NOTE}\n" for name in checks[index].answers
                )
                code_answer = None
            cells.append(copy.deepcopy(cell))
            previous_solution_type = None
        elif cell.cell_type != previous_solution_type:
            cells.append(answer_cell(cell))
            previous_solution_type = cell.cell_type
            if cell.cell_type == "code":
                code_answer = cells[-1]
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

    ``answer-check`` cells are not returned: each is one call that binds nothing
    (:func:`answer_checks` validates it), the edition sets its answers to ``...``, and every
    check function answers "no answer yet" to that before it reads anything else (the tests
    call each check of each lesson so).

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
        if i > first and c.cell_type == "code" and not is_solution(c) and not is_answer_check(c)
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
