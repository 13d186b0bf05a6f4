"""Execute the course notebooks from their Jupytext sources.

The ``.py`` (py:percent) file is the source of a notebook. :func:`run_notebook` reads it, runs
it top to bottom in a fresh kernel and writes the executed ``.ipynb``: by default to
``build/executed/`` (what ``course run`` and ``make course`` do, so a student's run changes no
tracked file), or over the committed pair (``course run --in-place``, for authors).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs
from nbformat import NotebookNode

from course_utils.tools.manifest import Notebook, kernel_client, kernel_env, progress_line
from course_utils.tools.notebook import CHECK_TAG, has_tag

__all__ = ["execute", "read_source", "run_all", "run_notebook"]

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _keep_cell_ids(nb: NotebookNode, previous: Path) -> NotebookNode:
    """Give unchanged cells the ids they have in the notebook at ``previous`` (smaller diffs).

    A py:percent source carries no cell ids, so each read makes new ones; Jupytext's combine
    step takes them from an existing ``.ipynb`` for the cells it can match. A missing or
    invalid ``previous`` changes nothing.
    """
    if not previous.is_file():
        return nb
    try:
        old = nbformat.read(previous, as_version=4)
        nbformat.validate(old)
    except (ValueError, KeyError, AttributeError, nbformat.ValidationError):
        return nb
    return combine_inputs_with_outputs(nb, old, fmt="py:percent")


def read_source(source: Path) -> NotebookNode:
    """Read a py:percent source as an unexecuted notebook, with the committed pair's cell ids.

    Cells tagged ``check`` (they only assert what the lesson claims) get JupyterLab's
    ``source_hidden`` metadata, so that they show collapsed in the executed notebook.

    Parameters
    ----------
    source : pathlib.Path
        The ``NN_topic.py`` file.

    Returns
    -------
    nbformat.NotebookNode
        The notebook, with the ``python3`` kernelspec.
    """
    source = Path(source)
    nb = _keep_cell_ids(jupytext.read(source), source.with_suffix(".ipynb"))
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in nb.cells:
        if has_tag(cell, CHECK_TAG):  # JupyterLab shows the cell collapsed
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    return nb


def execute(
    nb: NotebookNode,
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    allow_errors: bool = False,
    timeout: int = 900,
) -> NotebookNode:
    """Run every cell of ``nb`` in a fresh kernel, storing the outputs in ``nb``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (modified in place).
    cwd : pathlib.Path
        Working folder of the kernel.
    env : mapping, optional
        Extra environment variables for the kernel (see
        :func:`course_utils.tools.manifest.kernel_env`).
    allow_errors : bool, default False
        Go on after a cell raises, recording the error as its output (the seed sweep does this
        to name every failing cell); otherwise the first error stops the run.
    timeout : int, default 900
        Seconds allowed per cell.

    Returns
    -------
    nbformat.NotebookNode
        ``nb``.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raises and ``allow_errors`` is false.
    """
    client = kernel_client(nb, cwd, timeout=timeout)
    client.allow_errors = allow_errors
    client.execute(env=kernel_env(env))
    nb.metadata.pop("widgets", None)
    return nb


def run_notebook(
    source: Path,
    target: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: int = 900,
) -> NotebookNode:
    """Execute a notebook source top to bottom in a fresh kernel and write it to ``target``.

    Parameters
    ----------
    source : pathlib.Path
        The py:percent source; the kernel runs in its folder.
    target : pathlib.Path
        Where the executed ``.ipynb`` is written (its folder is created).
    env : mapping, optional
        Extra environment variables for the kernel.
    timeout : int, default 900
        Seconds allowed per cell.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raises; ``target`` is then left as it was.
    """
    source = Path(source)
    nb = execute(read_source(source), source.parent, env=env, timeout=timeout)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(nb, target, fmt="ipynb")
    return nb


def run_all(
    notebooks: Sequence[Notebook],
    executed_dir: Path | None,
    *,
    report: Callable[[str], None] = print,
) -> dict[str, float]:
    """Execute several notebooks in order, reporting progress and wall time.

    Parameters
    ----------
    notebooks : sequence of Notebook
        From the course manifest, executed in this order.
    executed_dir : pathlib.Path or None
        Folder for the executed copies; ``None`` writes over the committed pairs.
    report : callable, default print
        Receives one line before and after each notebook.

    Returns
    -------
    dict of str to float
        Wall time in seconds per notebook name.
    """
    timings = {}
    for i, nb in enumerate(notebooks, start=1):
        target = nb.executed(executed_dir)
        report(progress_line(i, len(notebooks), nb.name, "executing ..."))
        start = time.perf_counter()
        run_notebook(nb.source, target)
        timings[nb.name] = time.perf_counter() - start
        report(progress_line(i, len(notebooks), nb.name, f"{timings[nb.name]:.1f} s -> {target}"))
    return timings
