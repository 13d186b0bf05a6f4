"""Re-run notebooks under other sampler seeds, to show that every lesson holds for any seed.

Another machine gives other Markov chains for the same data, which is no different from
another sampler seed. :func:`sweep` executes a notebook once per seed, with the setup cell's
``RANDOM_SEED = ...`` (the seed of every sampler call) replaced and everything else unchanged
(data are simulated from ``DATA_SEED``, which stays). A seed *passes* when every cell runs and
the text of every output, numbers aside, is the committed one.

The sweep also measures the Monte Carlo spread of every printed number
(:func:`course_utils.tools.outputs.measure_spread`); ``course seeds --record`` stores it as the
notebook's tolerances, which the test suite uses to validate the committed outputs.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import jupytext
import pandas as pd
from nbformat import NotebookNode

from course_utils.tools import outputs
from course_utils.tools.docs import markdown_table, update_region
from course_utils.tools.execute import execute, read_source
from course_utils.tools.manifest import Course, Notebook, progress_line
from course_utils.tools.notebook import (
    IGNORE_OUTPUT_TAG,
    code_hash,
    has_tag,
    read_notebook,
    tolerance_path,
)

__all__ = [
    "HELD_OUT",
    "SEED_VARIABLE",
    "SeedRun",
    "Sweep",
    "default_seeds",
    "failing_cells",
    "held_out_seeds",
    "measure",
    "recorded_table",
    "run_sweeps",
    "validate_recorded",
    "sampler_seed",
    "seeds_page",
    "seeds_table",
    "sweep",
    "validate_held_out",
    "with_sampler_seed",
    "write_recorded_tables",
]

#: Held-out seeds that ``course seeds --record`` validates a new recording on: a correct
#: notebook fails one with probability below 1e-6 per printed number (see
#: :data:`course_utils.tools.outputs.FALSE_ALARM`), so 3 of 3 is what a sound recording gives.
HELD_OUT = 3
#: The setup-cell variable that seeds every sampler call of a notebook.
SEED_VARIABLE = "RANDOM_SEED"
SEEDS_REGION = "<!-- begin generated: seeds -->"
_SEED_LINE = re.compile(rf"^{SEED_VARIABLE} = (\d+)[ \t]*(#.*)?$", re.MULTILINE)


def default_seeds(n: int, avoid: Sequence[int] = ()) -> list[int]:
    """Return ``n`` sampler seeds for a sweep: 1, 2, 3, ... skipping those in ``avoid``.

    Examples
    --------
    >>> default_seeds(3, avoid=[2])
    [1, 3, 4]
    """
    if n < 1:
        raise ValueError(f"a sweep needs at least one seed, got n={n}.")
    seeds: list[int] = []
    candidate = 1
    while len(seeds) < n:
        if candidate not in avoid:
            seeds.append(candidate)
        candidate += 1
    return seeds


def sampler_seed(nb: NotebookNode) -> int:
    """Return the value of the notebook's ``RANDOM_SEED = <int>`` line.

    Raises
    ------
    ValueError
        Unless exactly one code cell line assigns an integer literal to ``RANDOM_SEED``.
    """
    found = [
        m for cell in nb.cells if cell.cell_type == "code" for m in _SEED_LINE.finditer(cell.source)
    ]
    if len(found) != 1:
        raise ValueError(
            f"expected exactly one line `{SEED_VARIABLE} = <integer>` in the setup cell, found "
            f"{len(found)}: seed every sampler call from {SEED_VARIABLE} (and simulate data "
            "from a separate DATA_SEED), as CONTRIBUTING.md describes."
        )
    return int(found[0].group(1))


def with_sampler_seed(nb: NotebookNode, seed: int) -> NotebookNode:
    r"""Return a copy of ``nb`` whose ``RANDOM_SEED`` line assigns ``seed``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (not modified).
    seed : int
        The new sampler seed (>= 0).

    Returns
    -------
    nbformat.NotebookNode
        The copy.

    Raises
    ------
    ValueError
        If the notebook does not have exactly one ``RANDOM_SEED = <integer>`` line.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "DATA_SEED = 7\nRANDOM_SEED = 2024  # samplers")])
    >>> with_sampler_seed(nb, 5).cells[0].source
    'DATA_SEED = 7\nRANDOM_SEED = 5  # samplers'
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}.")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}.")
    sampler_seed(nb)  # exactly one line, or raise
    new = copy.deepcopy(nb)
    for cell in new.cells:
        if cell.cell_type == "code":
            cell.source = _SEED_LINE.sub(
                lambda m: f"{SEED_VARIABLE} = {seed}" + (f"  {m.group(2)}" if m.group(2) else ""),
                cell.source,
            )
    return new


def failing_cells(nb: NotebookNode, committed: NotebookNode) -> list[str]:
    """Describe every cell of an executed notebook that failed or whose text changed.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A notebook executed with ``allow_errors`` (errors are outputs).
    committed : nbformat.NotebookNode
        The committed notebook (same code).

    Returns
    -------
    list of str
        ``"cell <code index> (<first line>): <what>"`` per failing cell.
    """
    sanitizers = outputs.read_sanitizers()
    problems = []
    for index, (cell, ref_cell) in outputs.compared_cells([nb, committed], include_ignored=True):
        source = cell["source"].strip()
        first = source.splitlines()[0][:60] if source else ""
        errors = [o for o in cell["outputs"] if o.get("output_type") == "error"]
        if errors:
            problems.append(f"cell {index} ({first}): {errors[0]['ename']}: {errors[0]['evalue']}")
            continue
        if has_tag(cell, IGNORE_OUTPUT_TAG):
            continue
        new, old = (outputs.cell_texts(c["outputs"], sanitizers) for c in (cell, ref_cell))
        changed = [
            key
            for key in sorted(set(new) | set(old))
            if key not in new
            or key not in old
            or outputs.tokenize(new[key])[0] != outputs.tokenize(old[key])[0]
        ]
        if changed:
            problems.append(
                f"cell {index} ({first}): output text differs from the committed one in {changed}"
            )
    return problems


@dataclass(frozen=True)
class SeedRun:
    """One execution of a notebook under one sampler seed.

    Attributes
    ----------
    seed : int
        The sampler seed.
    problems : tuple of str
        Failing cells (see :func:`failing_cells`); empty when the seed passed.
    seconds : float
        Wall time of the run.
    path : pathlib.Path
        Where the executed notebook was saved.
    """

    seed: int
    problems: tuple[str, ...]
    seconds: float
    path: Path

    @property
    def passed(self) -> bool:
        """Whether every cell ran and kept its committed text."""
        return not self.problems


@dataclass
class Sweep:
    """The seed sweep of one notebook.

    Attributes
    ----------
    notebook : str
        Notebook name.
    runs : list of SeedRun
        One per seed, in order.
    tolerances : outputs.Tolerances or None
        The measured spreads (from the committed run and every passing seed), when at least
        one seed passed.
    problems : list of str
        Outputs whose text depends on the seed (found while measuring).
    """

    notebook: str
    runs: list[SeedRun] = field(default_factory=list)
    tolerances: outputs.Tolerances | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """Number of seeds under which every cell passed."""
        return sum(run.passed for run in self.runs)

    def summary_row(self) -> dict[str, str]:
        """One table row: notebook, passed seeds, and the failing cells with their seeds."""
        failures: dict[str, list[int]] = {}
        for run in self.runs:
            for problem in run.problems:
                failures.setdefault(problem.split(":")[0], []).append(run.seed)
        detail = "; ".join(f"{cell} (seeds {seeds})" for cell, seeds in failures.items())
        return {
            "notebook": self.notebook,
            "seeds passed": f"{self.passed}/{len(self.runs)}",
            "failing cells": detail or "-",
        }


def sweep(
    notebook: Notebook,
    seeds: Sequence[int],
    out_dir: Path,
    *,
    report: Callable[[str], None] = print,
    resume: bool = False,
) -> Sweep:
    """Execute one notebook under each sampler seed and measure its outputs' spread.

    Parameters
    ----------
    notebook : Notebook
        From the course manifest; its committed ``.ipynb`` must be up to date with its source.
    seeds : sequence of int
        Sampler seeds (see :func:`default_seeds`).
    out_dir : pathlib.Path
        Executed runs are saved as ``out_dir/<name>/seed-<seed>.ipynb``.
    report : callable, default print
        Receives one progress line per run.
    resume : bool, default False
        Reuse the saved run of a seed when it was executed from the current code (the
        comparison is made again, with the current rules).

    Returns
    -------
    Sweep
        Runs, pass count and tolerances.

    Raises
    ------
    ValueError
        If the committed notebook's code differs from its source (re-execute it first), or
        the source has no single ``RANDOM_SEED`` line.
    """
    committed, base = _current(notebook)
    canonical = sampler_seed(base)
    if canonical in seeds:
        raise ValueError(f"seed {canonical} is the notebook's own seed: sweep other seeds.")
    result = Sweep(notebook.name)
    passing = [committed]
    for i, seed in enumerate(seeds, start=1):
        start = time.perf_counter()
        nb, reused, path = _run_seed(notebook, base, committed, seed, out_dir, resume=resume)
        run = SeedRun(seed, tuple(failing_cells(nb, committed)), time.perf_counter() - start, path)
        result.runs.append(run)
        status = "passed" if run.passed else f"FAILED: {run.problems[0]}"
        if reused:
            status += ", saved run reused"
        report(
            progress_line(
                i, len(seeds), notebook.name, f"seed {seed}: {status} ({run.seconds:.0f} s)"
            )
        )
        if run.passed:
            passing.append(nb)
    if len(passing) >= 2:
        result.tolerances, result.problems = measure(notebook.name, passing, seeds, result.passed)
    return result


def _current(notebook: Notebook) -> tuple[NotebookNode, NotebookNode]:
    """Return the committed notebook and its source, refusing a stale committed notebook."""
    committed = read_notebook(notebook.committed)
    base = read_source(notebook.source)
    if code_hash(base) != code_hash(committed):
        raise ValueError(
            f"{notebook.committed} was executed from other code than {notebook.source}: run "
            f"`course run --in-place {notebook.name}` before the sweep."
        )
    return committed, base


def _run_seed(
    notebook: Notebook,
    base: NotebookNode,
    committed: NotebookNode,
    seed: int,
    out_dir: Path,
    *,
    resume: bool,
) -> tuple[NotebookNode, bool, Path]:
    """Execute ``base`` under ``seed`` (or reuse its saved run): (run, reused, saved path)."""
    folder = Path(out_dir) / notebook.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"seed-{seed}.ipynb"
    saved = _saved_run(path, committed, sampler_seed(base)) if resume else None
    if saved is not None:
        return saved, True, path
    nb = execute(with_sampler_seed(base, seed), notebook.source.parent, allow_errors=True)
    jupytext.write(nb, path, fmt="ipynb")
    return nb, False, path


def validate_held_out(
    notebook: Notebook,
    tolerances: outputs.Tolerances,
    seeds: Sequence[int],
    out_dir: Path,
    *,
    report: Callable[[str], None] = print,
    resume: bool = False,
) -> outputs.Tolerances:
    """Validate runs under seeds the tolerances were not measured from, as the suite would.

    Each held-out run is compared with the committed notebook by
    :func:`course_utils.tools.outputs.compare_notebooks`, with the recorded spreads: the
    check a student's machine makes. A recording whose held-out runs fail has tolerances too
    narrow for a new machine's chains, and is not accepted.

    Parameters
    ----------
    notebook : Notebook
        From the course manifest.
    tolerances : outputs.Tolerances
        Measured for the notebook's current code.
    seeds : sequence of int
        Held-out sampler seeds (none of them among ``tolerances.seeds``).
    out_dir : pathlib.Path
        Where runs are saved (as by :func:`sweep`).
    report : callable, default print
        Receives one line per run.
    resume : bool, default False
        Reuse a saved run of the current code.

    Returns
    -------
    outputs.Tolerances
        ``tolerances`` with ``held_out`` and ``held_out_passed`` set.

    Raises
    ------
    ValueError
        If a held-out seed was used to measure the tolerances, or they were measured for
        other code.
    """
    committed, base = _current(notebook)
    if tolerances.code_hash != code_hash(committed):
        raise ValueError(
            f"the tolerances of {notebook.name} were measured for other code: record them first."
        )
    reused_seeds = sorted(set(seeds) & {*tolerances.seeds, sampler_seed(base)})
    if reused_seeds:
        raise ValueError(f"seeds {reused_seeds} are not held out: they measured the tolerances.")
    sanitizers = outputs.read_sanitizers()
    passed = 0
    for i, seed in enumerate(seeds, start=1):
        start = time.perf_counter()
        nb, reused, _ = _run_seed(notebook, base, committed, seed, out_dir, resume=resume)
        problems = outputs.compare_notebooks(committed, nb, tolerances, sanitizers)
        passed += not problems
        status = "passed the validation" if not problems else f"FAILED: {problems[0]}"
        if len(problems) > 1:
            status += f" (and {len(problems) - 1} more)"
        if reused:
            status += ", saved run reused"
        seconds = time.perf_counter() - start
        report(
            progress_line(
                i, len(seeds), notebook.name, f"held-out seed {seed}: {status} ({seconds:.0f} s)"
            )
        )
    return replace(tolerances, held_out=tuple(seeds), held_out_passed=passed)


def held_out_seeds(recorded: Sequence[int], own: int, k: int) -> list[int]:
    """Return the first ``k`` seeds that neither a sweep nor the notebook itself used.

    Examples
    --------
    >>> held_out_seeds([1, 2, 3], own=4, k=2)
    [5, 6]
    """
    if k < 1:
        raise ValueError(f"held-out validation needs at least one seed, got {k}.")
    return default_seeds(k, avoid=[own, *recorded])


def _saved_run(path: Path, committed: NotebookNode, canonical: int) -> NotebookNode | None:
    """Return the saved run at ``path`` if it was executed from the committed code."""
    if not path.is_file():
        return None
    nb = read_notebook(path)
    return nb if code_hash(with_sampler_seed(nb, canonical)) == code_hash(committed) else None


def measure(
    name: str, runs: Sequence[NotebookNode], seeds: Sequence[int], passed: int
) -> tuple[outputs.Tolerances, list[str]]:
    """Measure the spread of every code cell's outputs over runs of the same notebook.

    Parameters
    ----------
    name : str
        Notebook name.
    runs : sequence of nbformat.NotebookNode
        Executed runs (the committed one first), all with the same code.
    seeds : sequence of int
        The seeds of the sweep (recorded).
    passed : int
        How many of them passed (recorded).

    Returns
    -------
    tolerances : outputs.Tolerances
        Spreads of every cell whose output depends on the seed.
    problems : list of str
        Outputs whose text depends on the seed.
    """
    sanitizers = outputs.read_sanitizers()
    cells, problems = {}, []
    for index, versions in outputs.compared_cells(runs):
        spreads, issues = outputs.measure_spread(
            [outputs.cell_texts(cell["outputs"], sanitizers) for cell in versions]
        )
        problems += [f"cell {index}: {issue}" for issue in issues]
        if spreads:
            cells[index] = spreads
    tolerances = outputs.Tolerances(
        name, code_hash(runs[0]), tuple(seeds), cells, passed, rules=outputs.RULES
    )
    return tolerances, problems


def seeds_table(rows: Sequence[dict[str, str]]) -> str:
    """Render sweep summary rows as a Markdown table.

    Examples
    --------
    >>> print(seeds_table([{"notebook": "01_a", "seeds passed": "20/20", "failing cells": "-"}]))
    | notebook   | seeds passed   | failing cells   |
    |:-----------|:---------------|:----------------|
    | 01_a       | 20/20          | -               |
    """
    columns = ["notebook", "seeds passed", "failing cells"]
    return markdown_table(
        pd.DataFrame([[row[c] for c in columns] for row in rows], columns=columns)
    )


def recorded_table(course: Course) -> str:
    """Return the table of ``docs/seeds.md``: every notebook's recorded sweep.

    Parameters
    ----------
    course : Course
        The course.

    Returns
    -------
    str
        Markdown: one row per notebook (``not recorded`` when it has no tolerance file),
        with the seeds the tolerances were measured from, the held-out seeds that were then
        validated against them, how many printed numbers have a measured spread, and how many
        were found unstable across seeds.
    """
    columns = [
        "notebook",
        "seeds passed",
        "sampler seeds",
        "held-out seeds passed",
        "numbers with a spread",
        "unstable",
    ]
    rows = []
    for notebook in course.notebooks:
        path = tolerance_path(course, notebook)
        if path.is_file():
            tolerances = outputs.Tolerances.from_json(path.read_text())
            passed = f"{tolerances.passed}/{len(tolerances.seeds)}"
            held = (
                f"{tolerances.held_out_passed}/{len(tolerances.held_out)} "
                f"({_seed_range(tolerances.held_out)})"
                if tolerances.held_out
                else "not checked"
            )
            row = [
                passed,
                _seed_range(tolerances.seeds),
                held,
                str(tolerances.spread_count()),
                str(len(tolerances.unstable())) if tolerances.rules >= 2 else "not checked",
            ]
        else:
            row = ["not recorded", "-", "-", "-", "-"]
        rows.append([notebook.name, *row])
    return markdown_table(pd.DataFrame(rows, columns=columns))


def _seed_range(seeds: Sequence[int]) -> str:
    """``seeds 1-20`` for a run of consecutive seeds, else the list."""
    if list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return f"seeds {list(seeds)}"


def seeds_page(course: Course) -> str:
    """Return ``docs/seeds.md``: what a sweep is, and every notebook's recorded sweep.

    Parameters
    ----------
    course : Course
        The course.

    Returns
    -------
    str
        The Markdown page, generated from the tolerance files (:func:`recorded_table`).
    """
    return (
        "# Seed sweeps\n\n"
        "Every notebook re-executed under other sampler seeds (`RANDOM_SEED`), with the same "
        "data: a seed passes when every cell runs, every check holds and every output keeps "
        "its committed text (numbers aside). The tolerances are measured from those seeds; "
        "*held-out* seeds are further seeds, not used to measure them, whose runs were then "
        "validated against them as the test suite validates a new machine's run "
        "(`course seeds --record --held-out K`, or `course seeds --validate K` for a recording "
        "made before). *Numbers with a spread* counts the printed numbers validated within "
        "`Z × √2 × sd`: each fails a correct run with probability below 1e-6, so a notebook "
        "with N of them fails a correct run with probability below N × 1e-6. *Unstable* counts "
        "the printed numbers whose values over the seeds were "
        "not one Monte Carlo spread (an outlying seed, two clusters): they are compared as "
        "text only. Generated by `course seeds` from the tolerance files in "
        "`tests/tolerances/`; do not edit.\n\n" + recorded_table(course) + "\n"
    )


def write_recorded_tables(course: Course, *, report: Callable[[str], None] = print) -> None:
    """Regenerate ``docs/seeds.md`` and the README's seeds region from the tolerance files.

    Parameters
    ----------
    course : Course
        The course.
    report : callable, default print
        Receives one line per file written.
    """
    table = recorded_table(course)
    readme = course.root / "README.md"
    if readme.is_file() and SEEDS_REGION in readme.read_text(encoding="utf-8"):
        update_region(readme, "seeds", table)
        report(f"table updated in {readme}")
    docs = course.root / "docs" / "seeds.md"
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(seeds_page(course))
    report(f"summary written to {docs}")


def run_sweeps(
    course: Course,
    notebooks: Sequence[Notebook],
    *,
    n: int,
    record: bool,
    out_dir: Path,
    report: Callable[[str], None] = print,
    resume: bool = False,
    held_out: int = 0,
) -> int:
    """Sweep several notebooks, print the summary table and optionally record tolerances.

    Parameters
    ----------
    course : Course
        The course (for the location of tolerance files and docs).
    notebooks : sequence of Notebook
        What to sweep.
    n : int
        Seeds per notebook (:func:`default_seeds`, skipping each notebook's own seed).
    record : bool
        Write ``tests/tolerances/<name>.json`` for every notebook whose every seed passed
        (and, with ``held_out``, whose every held-out seed passed the validation), and
        regenerate ``docs/seeds.md``.
    out_dir : pathlib.Path
        Where the executed runs are saved.
    report : callable, default print
        Progress and the summary.
    resume : bool, default False
        Reuse saved runs made from the current code (see :func:`sweep`).
    held_out : int, default 0
        After measuring, run this many further seeds and validate them against the measured
        tolerances (:func:`validate_held_out`).

    Returns
    -------
    int
        0 when every seed of every notebook passed, else 1.
    """
    rows, failed = [], False
    for notebook in notebooks:
        own = sampler_seed(read_source(notebook.source))
        measured = default_seeds(n, avoid=[own])
        result = sweep(notebook, measured, out_dir, report=report, resume=resume)
        rows.append(result.summary_row())
        failed |= result.passed < len(result.runs) or bool(result.problems)
        for problem in result.problems:
            report(f"{notebook.name}: {problem}")
        complete = result.passed == len(result.runs) and not result.problems
        tolerances = result.tolerances
        if tolerances is not None:
            _report_unstable(notebook.name, tolerances, report)
        if held_out and complete and tolerances is not None:
            tolerances = validate_held_out(
                notebook,
                tolerances,
                held_out_seeds(measured, own, held_out),
                out_dir,
                report=report,
                resume=resume,
            )
            complete = tolerances.held_out_passed == len(tolerances.held_out)
            failed |= not complete
            report(
                f"{notebook.name}: {tolerances.held_out_passed} of {held_out} held-out seeds "
                "passed the validation"
            )
        if record and complete and tolerances is not None:
            path = tolerance_path(course, notebook)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(tolerances.to_json())
            report(f"{notebook.name}: tolerances recorded in {path}")
        elif record:
            report(
                f"{notebook.name}: not recorded (a seed failed); fix the notebook and sweep again"
            )
    report("\n" + seeds_table(rows))
    if record:
        write_recorded_tables(course, report=report)
    return 1 if failed else 0


def validate_recorded(
    course: Course,
    notebooks: Sequence[Notebook],
    *,
    k: int,
    out_dir: Path,
    report: Callable[[str], None] = print,
    resume: bool = False,
) -> int:
    """Validate each notebook's recorded tolerances on ``k`` seeds they were not measured from.

    The result is stored in the tolerance file (``held_out``): the test suite refuses a
    recording whose held-out seeds failed.

    Parameters
    ----------
    course : Course
        The course.
    notebooks : sequence of Notebook
        Notebooks with current tolerance files.
    k : int
        Held-out seeds per notebook (:func:`held_out_seeds`).
    out_dir : pathlib.Path
        Where the runs are saved.
    report : callable, default print
        Progress.
    resume : bool, default False
        Reuse saved runs of the current code.

    Returns
    -------
    int
        0 when every held-out seed of every notebook passed, else 1.
    """
    failed = False
    for notebook in notebooks:
        path = tolerance_path(course, notebook)
        if not path.is_file():
            raise ValueError(f"{path} does not exist: run `course seeds {notebook.name} --record`.")
        recorded = outputs.Tolerances.from_json(path.read_text())
        own = sampler_seed(read_source(notebook.source))
        checked = validate_held_out(
            notebook,
            recorded,
            held_out_seeds(recorded.seeds, own, k),
            out_dir,
            report=report,
            resume=resume,
        )
        failed |= checked.held_out_passed < k
        path.write_text(checked.to_json())
        report(
            f"{notebook.name}: {checked.held_out_passed} of {k} held-out seeds passed the "
            f"validation (stored in {path})"
        )
    write_recorded_tables(course, report=report)
    return 1 if failed else 0


def _report_unstable(
    name: str, tolerances: outputs.Tolerances, report: Callable[[str], None]
) -> None:
    """Name every number the sweep found unstable across seeds."""
    for index, key, position in tolerances.unstable():
        report(
            f"{name}: cell {index}, {key}: number {position + 1} is not stable across seeds "
            "(an outlying seed or two clusters of values): it is compared as text only; a "
            "lesson should not present it as a result"
        )
