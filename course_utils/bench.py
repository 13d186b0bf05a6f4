"""Benchmark the course: notebook run times and the sampling efficiency of every model.

Nothing here is a test: :func:`run_benchmark` measures this machine and writes the tables
(CSV and Markdown) that the README's "Performance" section quotes. The models are not
re-implemented: each notebook is executed in a fresh kernel and the fitted
``InferenceData`` objects it leaves in its namespace are inspected in that same kernel.

Measured per notebook, with a cold and then a warm PyTensor compile cache (a private
``base_compiledir`` so the user's cache is untouched; the quick mode uses the user's cache,
warm once the course has been run): wall time including kernel start,
the time of the import cell, the time spent in ``pm.sample`` and the rest. Measured per fit
(every ``InferenceData`` with a NUTS sample): sampling time, divergences, max r_hat, min bulk
ESS and ESS per second. Optionally, the final model of every notebook is re-sampled with
the alternative NUTS backends PyMC offers (nutpie, numpyro, blackjax) when they are installed.
"""

from __future__ import annotations

import importlib.util
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

# The final model of every notebook and the target_accept the notebook samples it with: the
# models the backend comparison re-samples.
FINAL_MODELS: dict[str, tuple[str, float]] = {
    "01_pooling": ("hierarchical_model", 0.95),
    "02_chemical_shifts": ("cs_h", 0.8),
    "03_water_quality": ("model_h", 0.8),
    "04_spacex": ("hierarchical_model", 0.95),
    "05_radon": ("noncentered_model", 0.95),
    "06_two_group_regression": ("hierarchical_model", 0.95),
}
# NUTS implementations `pm.sample(nuts_sampler=...)` accepts besides its own ("pymc").
BACKENDS = ("nutpie", "numpyro", "blackjax")

# Re-sample one model of the namespace with each backend, same settings for all. The wall time
# includes compiling the model for that backend (numba for nutpie, JAX for numpyro/blackjax).
_BACKENDS = """
import json as _json, time as _time, arviz as _az, pymc as _pm
_rows = []
for _backend in {backends!r}:
    _t = _time.perf_counter()
    with {model}:
        _idata = _pm.sample(draws=1000, tune=1000, chains=4, cores=4, target_accept={target_accept},
                            nuts_sampler=_backend, random_seed=1, progressbar=False,
                            compute_convergence_checks=False)
    _wall = _time.perf_counter() - _t
    _s = _az.summary(_idata, kind="diagnostics", round_to="none")
    _rows.append({{"model": {model!r}, "backend": _backend, "wall_s": _wall,
                   "divergences": int(_idata.sample_stats["diverging"].sum()),
                   "max_r_hat": float(_s["r_hat"].max()),
                   "min_ess_bulk": float(_s["ess_bulk"].min())}})
print(_json.dumps(_rows))
"""


def missing_backends(backends: Sequence[str]) -> list[str]:
    """Name the requested NUTS backends that cannot be used here.

    Parameters
    ----------
    backends : sequence of str
        Backend names, e.g. ``["nutpie", "numpyro"]``.

    Returns
    -------
    list of str
        One message per unknown or uninstalled backend (empty when all are usable).
    """
    problems = []
    for name in backends:
        if name not in BACKENDS:
            problems.append(f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})")
        elif importlib.util.find_spec(name) is None:
            problems.append(
                f"{name} is not installed (`pip install {name}`; `make bench-backends` sets "
                "up nutpie and numpyro in .venv-backends and runs the comparison)"
            )
    return problems


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
        Wall time from kernel start to the end of the notebook's last cell.
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


def kernel_env(compiledir: Path | None, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment of a measured kernel: PyTensor compiles into ``compiledir``.

    Parameters
    ----------
    compiledir : pathlib.Path or None
        PyTensor ``base_compiledir`` (an empty folder measures a cold cache); None keeps the
        user's own compile cache.
    environ : dict, optional
        Base environment (default: ``os.environ``).

    Returns
    -------
    dict of str to str
        The environment, with ``base_compiledir`` added to any ``PYTENSOR_FLAGS``.

    Examples
    --------
    >>> kernel_env(Path("/tmp/c"), {"PYTENSOR_FLAGS": "blas__ldflags="})["PYTENSOR_FLAGS"]
    'blas__ldflags=,base_compiledir=/tmp/c'
    """
    env = dict(os.environ if environ is None else environ)
    if compiledir is not None:
        flags = env.get("PYTENSOR_FLAGS", "")
        env["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"base_compiledir={compiledir}") if f)
    return env


def run_notebook(
    source: Path,
    *,
    compiledir: Path | None,
    cache: str,
    backends: Sequence[str] = (),
    model: tuple[str, float] | None = None,
) -> NotebookRun:
    """Execute one notebook source in a fresh kernel and measure it.

    Parameters
    ----------
    source : pathlib.Path
        The py:percent notebook source (nothing is written back).
    compiledir : pathlib.Path or None
        PyTensor ``base_compiledir`` for this kernel (empty folder: cold cache; None: the
        user's own cache).
    cache : str
        Label of the cache state, stored in the result.
    backends : sequence of str, default ()
        NUTS backends to re-sample ``model`` with after the notebook ran (include ``"pymc"``,
        the reference).
    model : tuple of (str, float), optional
        Name of the model to re-sample and its ``target_accept``; required with ``backends``.

    Returns
    -------
    NotebookRun
        Timings and fit diagnostics.
    """
    if backends and model is None:
        raise ValueError("name the model to re-sample with the backends (model=...).")
    nb = jupytext.read(source)
    extra = [new_code_cell(_INSPECT_FITS)]
    if backends:
        name, target_accept = model
        code = _BACKENDS.format(backends=list(backends), model=name, target_accept=target_accept)
        extra.append(new_code_cell(code))
    nb.cells.extend(extra)
    env = kernel_env(compiledir)
    client = NotebookClient(
        nb,
        timeout=1800,
        kernel_name=KERNEL_NAME,
        record_timing=True,
        resources={"metadata": {"path": str(source.parent)}},
    )
    n_own = len(nb.cells) - len(extra)
    start = time.perf_counter()
    with client.setup_kernel(env=env):
        kernel_start = time.perf_counter() - start
        for index, cell in enumerate(nb.cells):
            if index == n_own:  # the notebook ends here; the rest is measurement
                wall = time.perf_counter() - start
            client.execute_cell(cell, index)
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
        Results of :func:`run_notebook` run with ``backends`` (one of them ``"pymc"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``notebook, model, backend, wall_s, divergences, max_r_hat, min_ess_bulk,
        ess_per_s, ratio_to_pymc``; ESS/s is the smallest bulk ESS over the wall time
        (compilation included) and ``ratio_to_pymc`` divides it by PyMC's on the same model.
    """
    rows = [{"notebook": run.notebook, **row} for run in runs for row in run.backends]
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["ess_per_s"] = table["min_ess_bulk"] / table["wall_s"]
    reference = table[table["backend"] == "pymc"].set_index(["notebook", "model"])["ess_per_s"]
    keys = list(zip(table["notebook"], table["model"], strict=True))
    table["ratio_to_pymc"] = table["ess_per_s"].to_numpy() / reference.loc[keys].to_numpy()
    columns = [
        "notebook",
        "model",
        "backend",
        "wall_s",
        "divergences",
        "max_r_hat",
        "min_ess_bulk",
        "ess_per_s",
        "ratio_to_pymc",
    ]
    return table[columns].round(
        {"wall_s": 1, "max_r_hat": 3, "min_ess_bulk": 0, "ess_per_s": 1, "ratio_to_pymc": 2}
    )


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
    final_models: dict[str, tuple[str, float]] = FINAL_MODELS,
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
        Measure each notebook with an empty private compile cache, then warm in that cache.
        Otherwise run each notebook once with the user's own compile cache (warm once the
        course has been run: ``course run``).
    backends : sequence of str, default ()
        Alternative NUTS backends to compare with PyMC's own (e.g. ``("nutpie", "numpyro")``),
        on the warm run of every notebook listed in ``final_models``.
    reparameterisation : tuple of str, optional
        Names of a centered and a non-centered fit to compare.
    final_models : dict, default FINAL_MODELS
        Notebook stem -> (model name, target_accept) re-sampled with the backends.
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
            # Cold then warm in a private cache; or only the user's own cache, which is warm
            # once the course has been run.
            compiledir = Path(tmp) / source.stem if cold else None
            for cache in (["cold"] if cold else []) + ["warm"]:
                report(f"[{i}/{len(sources)}] {source.stem} ({cache} cache) ...")
                model = final_models.get(source.stem)
                compare = backends and cache == "warm" and model is not None
                run = run_notebook(
                    source,
                    compiledir=compiledir,
                    cache=cache,
                    backends=("pymc", *backends) if compare else (),
                    model=model if compare else None,
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
