"""Execute the course notebooks from their Jupytext sources.

The ``.py`` (py:percent) file is the source of a notebook; :func:`execute_notebook` reads it,
runs it top to bottom in a fresh kernel and writes the paired ``.ipynb`` with its outputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs
from nbclient import NotebookClient

from course_utils._internal import repo_path

NOTEBOOK_DIR = repo_path("notebooks")
KERNEL_NAME = "python3"


def list_sources(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """Return the py:percent notebook sources of a folder, in course order.

    Parameters
    ----------
    folder : pathlib.Path, default ``notebooks/``
        Folder holding ``NN_topic.py`` sources.

    Returns
    -------
    list of pathlib.Path
        Sources sorted by name (the number gives the order).

    Examples
    --------
    >>> [p.name for p in list_sources()][:1]  # doctest: +SKIP
    ['01_pooling.py']
    """
    return sorted(p for p in Path(folder).glob("[0-9][0-9]_*.py"))


def select_sources(names: Iterable[str], folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """Resolve notebook names (``01``, ``01_pooling``, a path) to their sources.

    Parameters
    ----------
    names : iterable of str
        Notebook numbers, stems or paths; empty means every notebook.
    folder : pathlib.Path, default ``notebooks/``
        Where to look.

    Returns
    -------
    list of pathlib.Path
        Matching sources, in course order.

    Raises
    ------
    ValueError
        If a name matches no notebook.
    """
    sources = list_sources(folder)
    names = list(names)
    if not names:
        return sources
    chosen = []
    for name in names:
        stem = Path(name).stem
        matches = [p for p in sources if p.stem == stem or p.stem.split("_", 1)[0] == stem]
        if not matches:
            raise ValueError(
                f"no notebook matches {name!r}; available: {[p.stem for p in sources]}."
            )
        chosen.extend(m for m in matches if m not in chosen)
    return sorted(chosen)


def _keep_cell_ids(nb: nbformat.NotebookNode, target: Path) -> nbformat.NotebookNode:
    """Give unchanged cells the ids they have in the notebook at ``target`` (smaller diffs).

    A py:percent source carries no cell ids, so each read makes new ones; Jupytext's
    combine step takes them from the existing ``.ipynb`` for cells it can match. A target
    that is missing or not a notebook changes nothing: the executed notebook replaces it.
    """
    if not target.is_file():
        return nb
    try:
        previous = nbformat.read(target, as_version=4)
        nbformat.validate(previous)
    except (ValueError, KeyError, AttributeError, nbformat.ValidationError):
        return nb
    return combine_inputs_with_outputs(nb, previous, fmt="py:percent")


def execute_notebook(source: Path, *, timeout: int = 900) -> nbformat.NotebookNode:
    """Run a notebook source top to bottom in a fresh kernel and save the ``.ipynb``.

    Parameters
    ----------
    source : pathlib.Path
        The py:percent source; the executed notebook is written beside it with the same
        stem and the ``.ipynb`` suffix (the Jupytext pair).
    timeout : int, default 900
        Seconds allowed per cell.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raises; the ``.ipynb`` is then left unchanged.
    """
    source = Path(source)
    nb = _keep_cell_ids(jupytext.read(source), source.with_suffix(".ipynb"))
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": KERNEL_NAME,
    }
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(source.parent)}},
        record_timing=False,
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    jupytext.write(nb, source.with_suffix(".ipynb"), fmt="ipynb")
    return nb


def execute_all(
    sources: list[Path],
    *,
    report: Callable[[str], None] = print,
) -> dict[str, float]:
    """Execute several notebooks in order, reporting progress and wall time.

    Parameters
    ----------
    sources : list of pathlib.Path
        Notebook sources, executed in this order.
    report : callable, default print
        Receives one line before and after each notebook.

    Returns
    -------
    dict of str to float
        Wall time in seconds per notebook stem.
    """
    timings = {}
    for i, source in enumerate(sources, start=1):
        report(f"[{i}/{len(sources)}] {source.stem}: executing ...")
        start = time.perf_counter()
        execute_notebook(source)
        timings[source.stem] = time.perf_counter() - start
        report(f"[{i}/{len(sources)}] {source.stem}: done in {timings[source.stem]:.1f} s")
    return timings
