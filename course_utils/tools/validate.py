"""The author's loop: re-execute one lesson and say what changed against its committed run.

``course validate 08`` executes the lesson's source in a fresh kernel (into
``build/executed/``, no tracked file changes), then compares every code cell with the
committed notebook exactly as the test suite does
(:func:`course_utils.tools.outputs.compare_notebooks`, with the recorded tolerances), and
prints each difference: the cell, the number, what it was, what is allowed and how many
combined Monte Carlo standard deviations it moved. It takes about the notebook's own run
time, not a seed sweep.

What needs a new sweep: the tolerance file records a fingerprint of the notebook's **code**
cells (:func:`course_utils.tools.notebook.code_hash`). A change to Markdown only keeps the
tolerances valid (re-sync the ``.ipynb`` with ``course run --in-place``); a change to code
makes them stale, and ``course validate`` says so and shows what the change did.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jupytext

from course_utils.tools import outputs
from course_utils.tools.execute import execute, read_source
from course_utils.tools.manifest import Course, Notebook
from course_utils.tools.notebook import code_hash, read_notebook, tolerance_path

__all__ = ["validate_notebook"]


def validate_notebook(
    course: Course,
    notebook: Notebook,
    executed_dir: Path,
    *,
    report: Callable[[str], None] = print,
) -> int:
    """Execute a lesson's source and compare it with its committed outputs.

    Parameters
    ----------
    course : Course
        The course (for the tolerance file).
    notebook : Notebook
        The lesson.
    executed_dir : pathlib.Path
        Where the fresh run is written (``<name>.ipynb``).
    report : callable, default print
        Receives the findings, one line each.

    Returns
    -------
    int
        0 when the fresh run matches the committed outputs within tolerance, else 1.
    """
    committed = read_notebook(notebook.committed)
    source = read_source(notebook.source)
    report(f"{notebook.name}: executing {notebook.source.name} ...")
    fresh = execute(source, notebook.source.parent, allow_errors=True)
    target = Path(executed_dir) / f"{notebook.name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(fresh, target, fmt="ipynb")

    path = tolerance_path(course, notebook)
    tolerances = outputs.Tolerances.from_json(path.read_text()) if path.is_file() else None
    if code_hash(source) != code_hash(committed):
        report(
            f"{notebook.name}: its code changed since the committed run; the differences below "
            f"are what the change did. When they are what you want: `course run --in-place "
            f"{notebook.name}`, then `course seeds {notebook.name} --record`."
        )
    if tolerances is None or tolerances.code_hash != code_hash(committed):
        report(
            f"{notebook.name}: no tolerances for the committed code ({path.name}): every "
            "number is compared exactly."
        )
        tolerances = None
    problems = outputs.compare_notebooks(committed, fresh, tolerances, outputs.read_sanitizers())
    for problem in problems:
        report(f"  {problem}")
    cells = sorted({problem.split(":")[0] for problem in problems})
    if problems:
        report(
            f"{notebook.name}: {len(problems)} difference(s) in {len(cells)} cell(s) "
            f"({', '.join(cells)}); the fresh run is in {target}"
        )
        return 1
    report(f"{notebook.name}: matches its committed outputs within tolerance ({target})")
    return 0
