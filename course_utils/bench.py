"""Benchmark the course: notebook run times and the sampling efficiency of every model.

Nothing here is a test: :func:`run_benchmark` measures this machine and writes the tables
(CSV and Markdown) that the README's "Performance" section quotes. The models are not
re-implemented: each notebook is executed in a fresh kernel and the fitted
``InferenceData`` objects it leaves in its namespace are inspected in that same kernel.

Measured per notebook, with a cold and then a warm PyTensor compile cache (a private
``base_compiledir`` so the user's cache is untouched): wall time including kernel start,
the time of the import cell, the time spent in ``pm.sample`` and the rest. Measured per fit
(every ``InferenceData`` with a NUTS sample): sampling time, divergences, max r_hat, min bulk
ESS and ESS per second. Optionally, every model is re-sampled with the alternative NUTS
backends PyMC offers (nutpie, numpyro) when they are installed.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jupytext
import pandas as pd
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from course_utils.notebooks import KERNEL_NAME

# The radon lesson fits the same hierarchy centered and non-centered: names of both fits.
RADON_NOTEBOOK = "05_radon"
RADON_FITS = ("centered_idata", "noncentered_idata")

# Code run in the notebook's kernel after its last cell: describe every NUTS fit.
_INSPECT_FITS = """
import json as _json, arviz as _az
_fits, _seen = [], set()
for _name, _obj in list(globals().items()):
    if (isinstance(_obj, _az.InferenceData) and "posterior" in _obj.groups()
            and "sample_stats" in _obj.groups() and "diverging" in _obj.sample_stats
            and "sampling_time" in _obj.posterior.attrs and not _name.startswith("_")
            and id(_obj) not in _seen):  # a fit bound to two names is counted once
        _seen.add(id(_obj))
        _s = _az.summary(_obj, kind="diagnostics", round_to="none")
        _fits.append({
            "fit": _name,
            "sampling_s": float(_obj.posterior.attrs["sampling_time"]),
            "draws": int(_obj.posterior.sizes["chain"] * _obj.posterior.sizes["draw"]),
            "divergences": int(_obj.sample_stats["diverging"].sum()),
            "max_r_hat": float(_s["r_hat"].max()),
            "min_ess_bulk": float(_s["ess_bulk"].min()),
            "worst": str(_s["ess_bulk"].idxmin()),
            "hyper_ess": {v: float(_s.loc[v, "ess_bulk"]) for v in _s.index
                          if v.startswith(("mu_", "sig_", "sigma_", "tau"))},
        })
print(_json.dumps(_fits))
"""

# Re-sample every model of the namespace with each NUTS backend (same settings for all).
_BACKENDS = """
import json as _json, time as _time, arviz as _az, pymc as _pm
_rows = []
for _name, _obj in list(globals().items()):
    if not isinstance(_obj, _pm.Model) or _name.startswith("_"):
        continue
    for _backend in {backends!r}:
        _t = _time.perf_counter()
        with _obj:
            _idata = _pm.sample(draws=1000, tune=1000, chains=4, nuts_sampler=_backend,
                                random_seed=1, progressbar=False, compute_convergence_checks=False)
        _wall = _time.perf_counter() - _t
        _ess = float(_az.ess(_idata).to_array().min())
        _rows.append({{"model": _name, "backend": _backend, "wall_s": _wall,
                       "divergences": int(_idata.sample_stats["diverging"].sum()),
                       "min_ess_bulk": _ess}})
print(_json.dumps(_rows))
"""


@dataclass
class NotebookRun:
    """Timing of one notebook execution.

    Attributes
    ----------
    notebook : str
        Notebook stem.
    cache : str
        ``"cold"`` or ``"warm"`` compile cache.
    wall_s : float
        Wall time from kernel start to the end of the last cell.
    kernel_start_s, imports_s, cells_s : float
        Kernel start-up, first code cell (imports), all cells.
    fits : list of dict
        One record per NUTS fit found in the namespace.
    backends : list of dict
        Backend comparison records (empty unless requested).
    """

    notebook: str
    cache: str
    wall_s: float
    kernel_start_s: float
    imports_s: float
    cells_s: float
    fits: list[dict]
    backends: list[dict]


def _cell_seconds(cell) -> float:
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return 0.0
    return (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds()


def _last_json(outputs) -> list[dict]:
    text = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    return json.loads(text.strip().splitlines()[-1])


def run_notebook(
    source: Path,
    *,
    compiledir: Path,
    cache: str,
    backends: Sequence[str] = (),
) -> NotebookRun:
    """Execute one notebook source in a fresh kernel and measure it.

    Parameters
    ----------
    source : pathlib.Path
        The py:percent notebook source (nothing is written back).
    compiledir : pathlib.Path
        PyTensor ``base_compiledir`` for this kernel (empty folder: cold cache).
    cache : str
        Label of the cache state, stored in the result.
    backends : sequence of str, default ()
        NUTS backends to compare after the notebook ran (``"pymc"`` is the reference).

    Returns
    -------
    NotebookRun
        Timings and fit diagnostics.
    """
    nb = jupytext.read(source)
    extra = [new_code_cell(_INSPECT_FITS)]
    if backends:
        extra.append(new_code_cell(_BACKENDS.format(backends=["pymc", *backends])))
    nb.cells.extend(extra)
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    env = {
        **os.environ,
        "PYTENSOR_FLAGS": ",".join(f for f in (flags, f"base_compiledir={compiledir}") if f),
    }
    client = NotebookClient(
        nb,
        timeout=1800,
        kernel_name=KERNEL_NAME,
        record_timing=True,
        resources={"metadata": {"path": str(source.parent)}},
    )
    start = time.perf_counter()
    with client.setup_kernel(env=env):
        kernel_start = time.perf_counter() - start
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
    wall = time.perf_counter() - start
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    n_extra = len(extra)
    return NotebookRun(
        notebook=source.stem,
        cache=cache,
        wall_s=wall,
        kernel_start_s=kernel_start,
        imports_s=_cell_seconds(code_cells[0]),
        cells_s=sum(_cell_seconds(c) for c in code_cells[:-n_extra]),
        fits=_last_json(code_cells[-n_extra].outputs),
        backends=_last_json(code_cells[-1].outputs) if backends else [],
    )


def notebook_table(runs: Sequence[NotebookRun]) -> pd.DataFrame:
    """Tabulate notebook timings: one row per notebook and cache state.

    Parameters
    ----------
    runs : sequence of NotebookRun
        Results of :func:`run_notebook`.

    Returns
    -------
    pandas.DataFrame
        Columns ``notebook, cache, wall_s, kernel_start_s, imports_s, sampling_s, other_s``.
    """
    rows = []
    for run in runs:
        sampling = sum(f["sampling_s"] for f in run.fits)
        rows.append(
            {
                "notebook": run.notebook,
                "cache": run.cache,
                "wall_s": run.wall_s,
                "kernel_start_s": run.kernel_start_s,
                "imports_s": run.imports_s,
                "sampling_s": sampling,
                "other_s": max(run.cells_s - run.imports_s - sampling, 0.0),
            }
        )
    return pd.DataFrame(rows).round(1)


def fit_table(runs: Sequence[NotebookRun]) -> pd.DataFrame:
    """Tabulate every NUTS fit of the warm runs with its efficiency.

    Parameters
    ----------
    runs : sequence of NotebookRun
        Results of :func:`run_notebook`; only warm-cache runs are used.

    Returns
    -------
    pandas.DataFrame
        Columns ``notebook, fit, sampling_s, divergences, max_r_hat, min_ess_bulk,
        ess_per_s, worst``.
    """
    rows = [
        {"notebook": run.notebook, **{k: v for k, v in fit.items() if k != "hyper_ess"}}
        for run in runs
        if run.cache == "warm"
        for fit in run.fits
    ]
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["ess_per_s"] = table["min_ess_bulk"] / table["sampling_s"]
    columns = [
        "notebook",
        "fit",
        "sampling_s",
        "divergences",
        "max_r_hat",
        "min_ess_bulk",
        "ess_per_s",
        "worst",
    ]
    return table[columns].round(
        {"sampling_s": 2, "max_r_hat": 3, "min_ess_bulk": 0, "ess_per_s": 1}
    )


def reparameterisation_table(
    runs: Sequence[NotebookRun], centered: str, non_centered: str
) -> pd.DataFrame:
    """Compare two fits on their slowest-mixing hyperparameter, in ESS per second.

    Parameters
    ----------
    runs : sequence of NotebookRun
        Results of :func:`run_notebook` (warm runs are used).
    centered, non_centered : str
        Names of the two fits (variables of the notebook's namespace).

    Returns
    -------
    pandas.DataFrame
        One row per fit: the slowest hyperparameter, its bulk ESS, sampling time, ESS/s,
        and the ratio of each to the centered fit.
    """
    fits = {f["fit"]: f for run in runs if run.cache == "warm" for f in run.fits}
    missing = [name for name in (centered, non_centered) if name not in fits]
    if missing:
        raise ValueError(f"fits {missing} not found; fits measured: {sorted(fits)}.")
    rows = []
    for name in (centered, non_centered):
        hyper = fits[name]["hyper_ess"]
        if not hyper:
            raise ValueError(f"fit {name!r} has no hyperparameters (mu_*, sig_*, sigma_*, tau).")
        slowest = min(hyper, key=hyper.get)
        rows.append(
            {
                "fit": name,
                "slowest_hyperparameter": slowest,
                "ess_bulk": hyper[slowest],
                "sampling_s": fits[name]["sampling_s"],
                "ess_per_s": hyper[slowest] / fits[name]["sampling_s"],
            }
        )
    table = pd.DataFrame(rows)
    table["ratio_to_centered"] = table["ess_per_s"] / table["ess_per_s"].iloc[0]
    return table.round({"ess_bulk": 0, "sampling_s": 2, "ess_per_s": 2, "ratio_to_centered": 1})


def backend_table(runs: Sequence[NotebookRun]) -> pd.DataFrame:
    """Tabulate the backend comparison: ESS/s of each backend and its ratio to PyMC's NUTS.

    Parameters
    ----------
    runs : sequence of NotebookRun
        Results of :func:`run_notebook` run with ``backends``.

    Returns
    -------
    pandas.DataFrame
        Columns ``notebook, model, backend, wall_s, divergences, min_ess_bulk, ess_per_s,
        ratio_to_pymc``.
    """
    rows = [{"notebook": run.notebook, **row} for run in runs for row in run.backends]
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["ess_per_s"] = table["min_ess_bulk"] / table["wall_s"]
    reference = table[table["backend"] == "pymc"].set_index(["notebook", "model"])["ess_per_s"]
    keys = list(zip(table["notebook"], table["model"], strict=True))
    table["ratio_to_pymc"] = table["ess_per_s"].to_numpy() / reference.loc[keys].to_numpy()
    return table.round({"wall_s": 2, "min_ess_bulk": 0, "ess_per_s": 1, "ratio_to_pymc": 2})


def to_markdown(table: pd.DataFrame) -> str:
    """Render a table as GitHub Markdown (no extra dependency).

    Parameters
    ----------
    table : pandas.DataFrame
        The table.

    Returns
    -------
    str
        Markdown text.

    Examples
    --------
    >>> print(to_markdown(pd.DataFrame({"a": [1], "b": ["x"]})))
    | a | b |
    |---|---|
    | 1 | x |
    """
    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def run_benchmark(
    sources: Sequence[Path],
    out_dir: Path,
    *,
    cold: bool = True,
    backends: Sequence[str] = (),
    reparameterisation: tuple[str, str] | None = None,
    report=print,
) -> dict[str, pd.DataFrame]:
    """Run the benchmark and write ``<table>.csv`` and ``benchmark.md`` to ``out_dir``.

    Parameters
    ----------
    sources : sequence of pathlib.Path
        Notebook sources to measure.
    out_dir : pathlib.Path
        Output folder (created).
    cold : bool, default True
        Also measure each notebook with an empty compile cache first.
    backends : sequence of str, default ()
        Alternative NUTS backends to compare (e.g. ``("nutpie", "numpyro")``).
    reparameterisation : tuple of str, optional
        Names of a centered and a non-centered fit to compare.
    report : callable, default print
        Progress messages.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables, by name.
    """
    runs = []
    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        for i, source in enumerate(sources, start=1):
            compiledir = Path(tmp) / source.stem
            for cache in (["cold"] if cold else []) + ["warm"]:
                report(f"[{i}/{len(sources)}] {source.stem} ({cache} cache) ...")
                with_backends = backends if cache == "warm" else ()
                run = run_notebook(
                    source, compiledir=compiledir, cache=cache, backends=with_backends
                )
                runs.append(run)
                report(f"[{i}/{len(sources)}] {source.stem} ({cache} cache): {run.wall_s:.1f} s")
    tables = {"notebooks": notebook_table(runs), "fits": fit_table(runs)}
    if reparameterisation:
        tables["reparameterisation"] = reparameterisation_table(runs, *reparameterisation)
    if backends:
        tables["backends"] = backend_table(runs)
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = [f"# Benchmark ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)"]
    for name, table in tables.items():
        table.to_csv(out_dir / f"{name}.csv", index=False)
        sections.append(f"## {name}\n\n{to_markdown(table)}")
    (out_dir / "benchmark.md").write_text("\n\n".join(sections) + "\n")
    return tables
