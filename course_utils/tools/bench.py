"""Benchmark the course: notebook run times and the sampling efficiency of every model.

Nothing here is a test: :func:`run_benchmark` measures this machine and writes tables (CSV
and Markdown). The models are not re-implemented: each notebook is executed in a fresh kernel
and the fitted ``InferenceData`` objects it leaves in its namespace are inspected in that same
kernel by :func:`describe_fits`, which one extra cell imports from this module. The execution
and its measurement (wall and CPU time, peak memory of the kernel's process tree) are
:func:`course_utils.tools.usage.run_measured`'s, which stops measuring before the extra cells.

Measured per notebook, with a cold and then a warm PyTensor compile cache (a private
``base_compiledir`` so the user's cache is untouched; the quick mode uses the user's cache,
warm once the course has been run): wall time including kernel start, the time of the
import cell, the time spent in ``pm.sample`` and the rest. Measured per fit (every
``InferenceData`` with a NUTS sample): sampling time, divergences, max r_hat, min bulk ESS
and ESS per second. Optionally, the final model of every lesson (named in ``course.toml``)
is re-sampled with the alternative NUTS backends PyMC offers (nutpie, numpyro).
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from course_utils.diagnostics import check_sampling
from course_utils.environment import available_cpus
from course_utils.tools import usage
from course_utils.tools.docs import markdown_table, update_region
from course_utils.tools.execute import read_source
from course_utils.tools.manifest import (
    KERNEL_NAME,
    Notebook,
    check_names_bound,
    is_python_name,
    kernel_env,
    progress_line,
)

__all__ = [
    "BACKENDS",
    "NotebookRun",
    "backend_table",
    "backends_cell",
    "benchmark_markdown",
    "describe_fits",
    "fit_record",
    "fit_table",
    "machine",
    "memory_metric_of",
    "merge_recorded",
    "peak_memory_label",
    "missing_backends",
    "notebook_table",
    "read_tables",
    "reparameterization_table",
    "run_benchmark",
    "record",
    "run_notebook",
    "sample_backends",
    "sample_named_model",
    "sizing_table",
    "summary_table",
    "RECORD_DIR",
    "render_recorded",
    "write_tables",
]

#: NUTS implementations ``pm.sample(nuts_sampler=...)`` accepts besides its own ("pymc") that
#: ``make bench-backends`` installs.
BACKENDS = ("nutpie", "numpyro")
#: Names of hyperparameters (population parameters) by the course's conventions.
HYPER_PREFIXES = ("mu_", "sig_", "sigma_", "tau")

# The cells run in the notebook's kernel after its last cell: they only call this module, and
# values from the manifest reach them as one JSON string literal, never as code.
_IMPORTS = "import json as _json\nfrom course_utils.tools import bench as _bench\n"
_INSPECT_CELL = _IMPORTS + "print(_json.dumps(_bench.describe_fits(globals())))"


def fit_record(name: str, idata: Any) -> dict[str, Any]:
    """Describe one NUTS fit: sampling time, draws, divergences, r_hat and ESS.

    Parameters
    ----------
    name : str
        The variable the fit is bound to.
    idata : arviz.InferenceData
        The result of ``pm.sample``.

    Returns
    -------
    dict
        ``fit, sampling_s, draws, divergences, max_r_hat, min_ess_bulk, worst`` and
        ``hyper_ess`` (bulk ESS of every hyperparameter, by the course's names).
    """
    report = check_sampling(idata, raise_on_failure=False)
    ess = report.ess_bulk
    return {
        "fit": name,
        "sampling_s": float(idata.posterior.attrs["sampling_time"]),
        "draws": int(idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]),
        "divergences": report.divergences,
        "max_r_hat": report.max_r_hat,
        "min_ess_bulk": report.min_ess_bulk,
        "worst": report.worst["ess_bulk"],
        "hyper_ess": {v: float(e) for v, e in ess.items() if v.startswith(HYPER_PREFIXES)},
    }


def describe_fits(namespace: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Describe every NUTS fit a notebook left in its namespace (once per object).

    Parameters
    ----------
    namespace : mapping
        The notebook's globals.

    Returns
    -------
    list of dict
        :func:`fit_record` of every ``InferenceData`` with a posterior, ``sample_stats``
        with divergences and a sampling time, skipping private names and aliases.
    """
    import arviz as az

    records, seen = [], set()
    for name, obj in list(namespace.items()):
        if (
            isinstance(obj, az.InferenceData)
            and not name.startswith("_")
            and id(obj) not in seen
            and "posterior" in obj.groups()
            and "sampling_time" in obj.posterior.attrs
            and "sample_stats" in obj.groups()
            and "diverging" in obj.sample_stats
        ):
            seen.add(id(obj))
            records.append(fit_record(name, obj))
    return records


def sample_backends(
    model: Any, name: str, backends: Sequence[str], target_accept: float, *, seed: int = 1
) -> list[dict[str, Any]]:
    """Sample one model with each NUTS backend at the same settings; time each.

    The wall time includes compiling the model for the backend (C for PyMC, numba for
    nutpie, JAX for numpyro).

    Parameters
    ----------
    model : pymc.Model
        The model.
    name : str
        Its name, recorded.
    backends : sequence of str
        ``"pymc"`` and/or names from :data:`BACKENDS`.
    target_accept : float
        As the lesson samples it.
    seed : int, default 1
        Sampler seed.

    Returns
    -------
    list of dict
        ``model, backend, wall_s, divergences, max_r_hat, min_ess_bulk`` per backend.
    """
    import pymc as pm

    rows = []
    for backend in backends:
        start = time.perf_counter()
        with model:
            idata = pm.sample(
                draws=1000,
                tune=1000,
                chains=4,
                cores=4,
                target_accept=target_accept,
                nuts_sampler=backend,
                random_seed=seed,
                progressbar=False,
                compute_convergence_checks=False,
            )
        wall = time.perf_counter() - start
        report = check_sampling(idata, raise_on_failure=False)
        rows.append(
            {
                "model": name,
                "backend": backend,
                "wall_s": wall,
                "divergences": report.divergences,
                "max_r_hat": report.max_r_hat,
                "min_ess_bulk": report.min_ess_bulk,
            }
        )
    return rows


def sample_named_model(
    namespace: Mapping[str, Any], name: str, backends: Sequence[str], target_accept: float
) -> list[dict[str, Any]]:
    """Run :func:`sample_backends` on the model a notebook bound to ``name``.

    Parameters
    ----------
    namespace : mapping
        The notebook's globals.
    name : str
        The variable of the model (``final_model`` of ``course.toml``).
    backends : sequence of str
        As for :func:`sample_backends`.
    target_accept : float
        As the lesson samples it.

    Returns
    -------
    list of dict
        The rows of :func:`sample_backends`.

    Raises
    ------
    LookupError
        If the notebook bound no ``name``.

    Examples
    --------
    >>> sample_named_model({"model": None}, "modle", ["pymc"], 0.9)
    Traceback (most recent call last):
    ...
    LookupError: the notebook bound no 'modle' (final_model in course.toml); its names: model
    """
    if name not in namespace:
        public = ", ".join(sorted(n for n in namespace if not n.startswith("_")))
        raise LookupError(
            f"the notebook bound no {name!r} (final_model in course.toml); its names: {public}"
        )
    return sample_backends(namespace[name], name, backends, target_accept)


def backends_cell(name: str, backends: Sequence[str], target_accept: float) -> str:
    """Return the kernel code that re-samples the model named ``name`` with each backend.

    The values reach the kernel as one JSON string literal and the model is looked up in the
    notebook's globals (:func:`sample_named_model`): no value is ever spliced in as code.

    Parameters
    ----------
    name : str
        The model's variable in the notebook (``final_model`` of ``course.toml``).
    backends : sequence of str
        NUTS backends, e.g. ``["pymc", "nutpie"]``.
    target_accept : float
        As the lesson samples it.

    Returns
    -------
    str
        The code of one cell; it prints the rows as JSON.

    Raises
    ------
    ValueError
        If ``name`` is not a Python name.

    Examples
    --------
    >>> print(backends_cell("model", ["pymc"], 0.9))  # doctest: +ELLIPSIS
    import json as _json
    from course_utils.tools import bench as _bench
    print(...sample_named_model(globals(), *_json.loads('["model", ["pymc"], 0.9]'))))
    >>> backends_cell("my model", ["pymc"], 0.9)
    Traceback (most recent call last):
    ...
    ValueError: final_model = 'my model' is not a Python name; fix it in course.toml.
    """
    if not is_python_name(name):
        raise ValueError(f"final_model = {name!r} is not a Python name; fix it in course.toml.")
    values = json.dumps([name, list(backends), float(target_accept)])
    return _IMPORTS + (
        f"print(_json.dumps(_bench.sample_named_model(globals(), *_json.loads({values!r}))))"
    )


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
        Notebook name.
    cache : str
        ``"cold"`` or ``"warm"`` compile cache.
    cpus : int
        CPUs the kernel and its sampler processes could use.
    wall_s : float
        Wall time from kernel start to the end of the notebook's last cell.
    cpu_s : float
        CPU seconds (user + system) of the kernel and every process it started.
    peak_mib : float
        Peak summed memory of the kernel and its processes (the memory one student costs).
    kernel_start_s, imports_s, cells_s : float
        Kernel start-up, first code cell (imports), all cells.
    fits : list of dict
        One :func:`fit_record` per NUTS fit found in the namespace.
    backends : list of dict
        Backend comparison records (empty unless requested).
    memory : str
        The metric of ``peak_mib``: ``"pss"`` (Linux) or ``"rss"`` where there is no PSS
        (:func:`usage.memory_metric`).
    """

    notebook: str
    cache: str
    cpus: int
    wall_s: float
    cpu_s: float
    peak_mib: float
    kernel_start_s: float
    imports_s: float
    cells_s: float
    fits: list[dict]
    backends: list[dict]
    memory: str


def _cell_seconds(cell: NotebookNode) -> float:
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return 0.0
    return (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds()


def _last_json(outputs: Sequence[Mapping[str, Any]]) -> list[dict]:
    text = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    return json.loads(text.strip().splitlines()[-1])


def _measurement_cells(notebook: Notebook, backends: Sequence[str]) -> list[str]:
    """Return the code run after the notebook: describe its fits, then re-sample (backends)."""
    if not backends:
        return [_INSPECT_CELL]
    if notebook.final_model is None or notebook.target_accept is None:
        raise ValueError(
            f"{notebook.name} has no final_model/target_accept in course.toml: name the model "
            "to re-sample with the backends."
        )
    return [_INSPECT_CELL, backends_cell(notebook.final_model, backends, notebook.target_accept)]


def run_notebook(
    notebook: Notebook,
    *,
    compiledir: Path | None,
    cache: str,
    backends: Sequence[str] = (),
    cpus: int | None = None,
) -> NotebookRun:
    """Execute one notebook source in a fresh kernel and measure it.

    Parameters
    ----------
    notebook : Notebook
        From the course manifest (nothing is written back).
    compiledir : pathlib.Path or None
        PyTensor ``base_compiledir`` for this kernel (empty folder: cold cache; None: the
        user's own cache).
    cache : str
        Label of the cache state, stored in the result.
    backends : sequence of str, default ()
        NUTS backends to re-sample the notebook's final model with after it ran (include
        ``"pymc"``, the reference).
    cpus : int, optional
        Pin the kernel (and the sampler processes it starts) to this many CPUs, as a server
        that gives each student ``cpus`` CPUs (default: every CPU this process may use).

    Returns
    -------
    NotebookRun
        Timings, CPU time, peak memory and fit diagnostics.

    Raises
    ------
    ValueError
        If backends are requested for a notebook without a final model in the manifest, or
        the notebook does not bind a name the manifest gives (checked before a kernel starts,
        :func:`~course_utils.tools.manifest.check_names_bound`).
    """
    check_names_bound(notebook)
    measurement = _measurement_cells(notebook, backends)
    nb = read_source(notebook.source)
    n_own = len(nb.cells)
    nb.cells.extend(new_code_cell(code) for code in measurement)
    extra = {"PYTENSOR_FLAGS": f"base_compiledir={compiledir}"} if compiledir else None
    run = usage.run_measured(
        nb,
        cpus=cpus,
        cwd=notebook.source.parent,
        env=kernel_env(extra),
        kernel_name=KERNEL_NAME,
        timeout=1800,
        measured_cells=n_own,
        record_timing=True,
    )
    code_cells = [c for c in nb.cells[:n_own] if c.cell_type == "code"]
    return NotebookRun(
        notebook=notebook.name,
        cache=cache,
        cpus=available_cpus() if cpus is None else cpus,
        wall_s=run.wall_s,
        cpu_s=run.cpu_s,
        peak_mib=run.peak_mib,
        kernel_start_s=run.kernel_start_s,
        imports_s=_cell_seconds(code_cells[0]),
        cells_s=sum(_cell_seconds(c) for c in code_cells),
        fits=_last_json(nb.cells[n_own].outputs),
        backends=_last_json(nb.cells[-1].outputs) if backends else [],
        memory=run.memory,
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
        Columns ``notebook, cache, cpus, wall_s, kernel_start_s, imports_s, sampling_s,
        other_s, cpu_s, peak_pss_mib`` (``peak_rss_mib`` for runs measured as RSS).
    """
    rows = []
    for run in runs:
        sampling = sum(f["sampling_s"] for f in run.fits)
        rows.append(
            {
                "notebook": run.notebook,
                "cache": run.cache,
                "cpus": run.cpus,
                "wall_s": run.wall_s,
                "kernel_start_s": run.kernel_start_s,
                "imports_s": run.imports_s,
                "sampling_s": sampling,
                "other_s": max(run.cells_s - run.imports_s - sampling, 0.0),
                "cpu_s": run.cpu_s,
                usage.peak_key(run.memory): run.peak_mib,
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
    all_cpus = max((run.cpus for run in runs), default=0)
    rows = [
        {"notebook": run.notebook, **{k: v for k, v in fit.items() if k != "hyper_ess"}}
        for run in runs
        if run.cache == "warm" and run.cpus == all_cpus
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


def reparameterization_table(
    runs: Sequence[NotebookRun], notebook: str, centered: str, non_centered: str
) -> pd.DataFrame:
    """Compare two fits of one notebook on their slowest-mixing hyperparameter, in ESS/s.

    Parameters
    ----------
    runs : sequence of NotebookRun
        Results of :func:`run_notebook` (warm runs of ``notebook`` are used).
    notebook : str
        The notebook whose fits are compared (fit names repeat across notebooks).
    centered, non_centered : str
        Names of the two fits (variables of the notebook's namespace).

    Returns
    -------
    pandas.DataFrame
        One row per fit: the notebook, the fit, its slowest hyperparameter, that
        hyperparameter's bulk ESS, sampling time, ESS/s, and the ratio to the centered fit.
    """
    all_cpus = max((run.cpus for run in runs), default=0)
    fits = {
        f["fit"]: f
        for run in runs
        if run.notebook == notebook and run.cache == "warm" and run.cpus == all_cpus
        for f in run.fits
    }
    missing = [name for name in (centered, non_centered) if name not in fits]
    if missing:
        raise ValueError(f"fits {missing} not found in {notebook}; fits measured: {sorted(fits)}.")
    rows = []
    for name in (centered, non_centered):
        hyper = fits[name]["hyper_ess"]
        if not hyper:
            raise ValueError(f"fit {name!r} has no hyperparameters ({', '.join(HYPER_PREFIXES)}).")
        slowest = min(hyper, key=hyper.get)
        rows.append(
            {
                "notebook": notebook,
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


def _plan(cold: bool) -> list[tuple[str, int | None]]:
    """Return the runs of each notebook, ``(cache, cpus)``: 1 CPU only where pinning works."""
    if not cold:
        return [("warm", None)]
    one_cpu = [("warm", 1)] if usage.can_pin_cpus() else []
    return [("cold", None), ("warm", None), *one_cpu]


def run_benchmark(
    notebooks: Sequence[Notebook],
    out_dir: Path,
    *,
    cold: bool = True,
    backends: Sequence[str] = (),
    report: Callable[[str], None] = print,
) -> dict[str, pd.DataFrame]:
    """Run the benchmark and write ``<table>.csv`` and ``benchmark.md`` to ``out_dir``.

    Parameters
    ----------
    notebooks : sequence of Notebook
        Notebooks to measure (from the course manifest).
    out_dir : pathlib.Path
        Output folder (created).
    cold : bool, default True
        Measure each notebook with an empty private compile cache, then warm in that cache
        (on every CPU, then on one CPU where a kernel can be pinned: Linux), and compare the
        centered and non-centered fits the manifest names. Otherwise run each notebook once
        with the user's own compile cache (warm once the course has been run).
    backends : sequence of str, default ()
        Alternative NUTS backends to compare with PyMC's own (e.g. ``("nutpie", "numpyro")``),
        on the warm run of every lesson with a final model.
    report : callable, default print
        Progress messages.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables, by name.

    Raises
    ------
    ValueError
        If a notebook does not bind a name ``course.toml`` gives it (checked for every
        notebook before the first kernel starts).
    """
    for notebook in notebooks:  # a typo in course.toml fails now, not after hours of runs
        check_names_bound(notebook)
    runs = []
    plan = _plan(cold)
    if cold and not usage.can_pin_cpus():
        report("no 1-CPU runs: pinning a kernel to one CPU needs os.sched_setaffinity (Linux)")
    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        for i, notebook in enumerate(notebooks, start=1):
            compiledir = Path(tmp) / notebook.name if cold else None
            for cache, cpus in plan:
                what = f"{cache} cache, {cpus or 'all'} CPU(s)"
                report(progress_line(i, len(notebooks), notebook.name, f"{what} ..."))
                compare = backends and (cache, cpus) == ("warm", None) and notebook.final_model
                run = run_notebook(
                    notebook,
                    compiledir=compiledir,
                    cache=cache,
                    backends=("pymc", *backends) if compare else (),
                    cpus=cpus,
                )
                runs.append(run)
                done = f"{what}: {run.wall_s:.1f} s, {run.peak_mib:.0f} MiB {run.memory.upper()}"
                report(progress_line(i, len(notebooks), notebook.name, done))
    tables = {"notebooks": notebook_table(runs), "fits": fit_table(runs)}
    if cold:
        tables["summary"] = summary_table(tables["notebooks"], tables["fits"])
    pairs = [
        (nb.name, nb.centered_fit, nb.noncentered_fit)
        for nb in notebooks
        if nb.centered_fit is not None and nb.noncentered_fit is not None
    ]
    if cold and pairs:
        tables["reparameterization"] = pd.concat(
            [reparameterization_table(runs, *pair) for pair in pairs], ignore_index=True
        )
    tables["runs"] = pd.DataFrame(
        {"notebook": nb.name, "date": time.strftime("%Y-%m-%d"), "machine": machine()}
        for nb in notebooks
    )
    if backends:
        tables["backends"] = backend_table(runs)
    write_tables(tables, out_dir)
    (out_dir / "benchmark.md").write_text(benchmark_markdown(tables))
    return tables


def machine(cpuinfo: str | None = None) -> str:
    """Describe this machine: OS, architecture, CPU model, AVX-512 or not, and usable CPUs.

    Parameters
    ----------
    cpuinfo : str, optional
        Text of ``/proc/cpuinfo`` (read when omitted; absent outside Linux).

    Returns
    -------
    str
        For example ``"Linux x86_64, AMD EPYC (AVX2, no AVX-512), 2 CPUs"``.
    """
    import platform

    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    fields = dict(line.split(":", 1) for line in cpuinfo.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    model = fields.get("model name", platform.processor() or "unknown CPU")
    flags = set(fields.get("flags", "").split())
    if "avx512f" in flags:
        simd = " (AVX-512)"
    elif "avx2" in flags:
        simd = " (AVX2, no AVX-512)"
    else:
        simd = ""
    return f"{platform.system()} {platform.machine()}, {model}{simd}, {available_cpus()} CPUs"


def memory_metric_of(notebooks: pd.DataFrame) -> str:
    """Return the memory metric a :func:`notebook_table` was measured in: ``"pss"`` or ``"rss"``.

    Parameters
    ----------
    notebooks : pandas.DataFrame
        A notebook table, with a ``peak_pss_mib`` or a ``peak_rss_mib`` column.

    Returns
    -------
    str
        The metric of its peak-memory column.

    Raises
    ------
    ValueError
        If the table has no peak-memory values, or both PSS and RSS values.

    Examples
    --------
    >>> memory_metric_of(pd.DataFrame({"notebook": ["01"], "peak_rss_mib": [500.0]}))
    'rss'
    """
    found = [
        metric
        for metric in usage.MEMORY_METRICS
        if usage.peak_key(metric) in notebooks and notebooks[usage.peak_key(metric)].notna().any()
    ]
    if len(found) != 1:
        raise ValueError(
            f"the notebook table must hold peak memory of one metric, PSS or RSS; it has {found}: "
            "measure every notebook on one platform (PSS on Linux, RSS elsewhere)."
        )
    return found[0]


def peak_memory_label(metric: str) -> str:
    """Return the name of :func:`summary_table`'s peak-memory column: it names the metric.

    Examples
    --------
    >>> peak_memory_label("rss")
    'peak memory (RSS, MiB)'
    """
    usage.peak_key(metric)  # validates the metric
    return f"peak memory ({metric.upper()}, MiB)"


def benchmark_markdown(tables: Mapping[str, pd.DataFrame]) -> str:
    """Return the benchmark's Markdown report: every table (``runs``: when and where)."""
    sections = [
        "# Benchmark\n\nGenerated by `course bench --record` from the measured tables in "
        "`docs/benchmark/` (CSV); do not edit. Times in seconds, memory in MiB. The `runs` "
        "table gives the date and the machine of each notebook's measurement."
    ]
    for name, table in tables.items():
        sections.append(f"## {name}\n\n{markdown_table(table)}")
    return "\n\n".join(sections) + "\n"


def write_tables(tables: Mapping[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Write each table as ``<folder>/<name>.csv``: the measured data, as data.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Tables by name.
    folder : pathlib.Path
        Where to write them (created).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        path = folder / f"{name}.csv"
        table.to_csv(path, index=False)
        written.append(path)
    return written


def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Read the tables :func:`write_tables` wrote, by name.

    Parameters
    ----------
    folder : pathlib.Path
        A folder of ``<name>.csv`` files.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables, in the order of :data:`RECORDED_TABLES` (others after them, by name).

    Raises
    ------
    FileNotFoundError
        If the folder has no CSV table.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_tables({"fits": pd.DataFrame({"fit": ["a"], "s": [1.5]})}, Path(tmp))
    ...     read_tables(Path(tmp))["fits"].to_dict("records")
    [{'fit': 'a', 's': 1.5}]
    """
    paths = {path.stem: path for path in sorted(folder.glob("*.csv"))}
    if not paths:
        raise FileNotFoundError(
            f"{folder} holds no benchmark tables (CSV): record the whole course once with "
            "`course bench --record` (no notebook names)."
        )
    order = [n for n in RECORDED_TABLES if n in paths] + [
        n for n in paths if n not in RECORDED_TABLES
    ]
    return {name: pd.read_csv(paths[name], keep_default_na=False, na_values=[""]) for name in order}


def render_recorded(folder: Path) -> dict[str, pd.DataFrame]:
    """Return the recorded benchmark's tables with their summary, computed from them.

    Parameters
    ----------
    folder : pathlib.Path
        The recorded tables (:data:`RECORD_DIR` under the course root).

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables :func:`benchmark_markdown` renders into ``docs/benchmark.md``.
    """
    tables = read_tables(folder)
    tables["summary"] = summary_table(tables["notebooks"], tables["fits"])
    return tables


#: Tables of a recorded benchmark that hold rows per notebook (merged by notebook): the
#: measured data, kept as CSV in :data:`RECORD_DIR`; the summary is computed from them.
RECORDED_TABLES = ("notebooks", "fits", "reparameterization", "runs")
#: Where ``course bench --record`` keeps the measured tables, under the course root.
RECORD_DIR = Path("docs") / "benchmark"


def merge_recorded(
    recorded: Mapping[str, pd.DataFrame],
    new: Mapping[str, pd.DataFrame],
    order: Sequence[str],
) -> dict[str, pd.DataFrame]:
    """Replace the recorded rows of the re-measured notebooks by their new measurement.

    Parameters
    ----------
    recorded : mapping of str to pandas.DataFrame
        The recorded benchmark (:func:`read_tables` of :data:`RECORD_DIR`).
    new : mapping of str to pandas.DataFrame
        A full benchmark (cold and warm runs) of some of the notebooks.
    order : sequence of str
        Every notebook of the course, in course order (rows are sorted by it; recorded rows
        of notebooks no longer in the course are dropped).

    Returns
    -------
    dict of str to pandas.DataFrame
        The merged per-notebook tables and a summary computed from them.

    Raises
    ------
    ValueError
        If ``new`` is not a full benchmark, the recorded one lacks a table, or the two measured
        memory differently (PSS and RSS).
    """
    if "summary" not in new:
        raise ValueError("only a full benchmark (cold and warm runs) is recorded: drop --quick.")
    missing = [name for name in ("notebooks", "fits", "runs") if name not in recorded]
    if missing:
        raise ValueError(
            f"the recorded benchmark has no {missing} table: record the whole course once "
            "with `course bench --record` (no notebook names)."
        )
    old_metric, new_metric = (
        memory_metric_of(recorded["notebooks"]),
        memory_metric_of(new["notebooks"]),
    )
    if old_metric != new_metric:
        raise ValueError(
            f"the recorded benchmark measured memory as {old_metric.upper()}, this run as "
            f"{new_metric.upper()}: record the whole course on one platform (`course bench "
            "--record`, no notebook names)."
        )
    measured = set(new["runs"]["notebook"])
    rank = {name: i for i, name in enumerate(order)}
    merged = {}
    for name in RECORDED_TABLES:
        old = recorded.get(name, pd.DataFrame(columns=["notebook"]))
        kept = old[~old["notebook"].isin(measured) & old["notebook"].isin(rank)]
        parts = [part for part in (kept, new.get(name)) if part is not None and len(part)]
        if not parts:
            continue
        table = pd.concat(parts, ignore_index=True)
        keys = table["notebook"].map(rank)
        merged[name] = table.iloc[keys.argsort(kind="stable")].reset_index(drop=True)
    merged["summary"] = summary_table(merged["notebooks"], merged["fits"])
    return merged


def summary_table(notebooks: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
    """One row per notebook: first run, re-run, re-run on one CPU, CPU time, memory.

    Parameters
    ----------
    notebooks : pandas.DataFrame
        :func:`notebook_table` of a benchmark with cold and warm runs (all CPUs, one CPU).
    fits : pandas.DataFrame
        :func:`fit_table` of the same runs.

    Returns
    -------
    pandas.DataFrame
        Columns ``notebook``, ``first run (s)``, ``re-run (s)``, ``re-run, 1 CPU (s)``,
        ``CPU, first run (s)``, ``peak memory (PSS, MiB)`` (the largest of all runs; ``RSS``
        where it was measured as RSS, see :func:`peak_memory_label`) and ``slowest fit (s)``.
    """
    rows = []
    metric = memory_metric_of(notebooks)
    all_cpus = int(notebooks["cpus"].max())
    for name, group in notebooks.groupby("notebook", sort=False):
        by = {(r.cache, r.cpus): r for r in group.itertuples()}
        cold, warm, one = by[("cold", all_cpus)], by[("warm", all_cpus)], by.get(("warm", 1), None)
        slowest = fits.loc[fits["notebook"] == name, "sampling_s"].max() if len(fits) else None
        rows.append(
            {
                "notebook": name,
                "first run (s)": cold.wall_s,
                "re-run (s)": warm.wall_s,
                "re-run, 1 CPU (s)": one.wall_s if one is not None else None,
                "CPU, first run (s)": cold.cpu_s,
                peak_memory_label(metric): group[usage.peak_key(metric)].max(),
                "slowest fit (s)": slowest,
            }
        )
    return pd.DataFrame(rows).round(1)


#: Servers of the sizing table: CPUs and memory (GiB).
SERVERS = ((4, 16), (8, 32), (16, 64), (32, 128))


def sizing_table(
    peak_mib: float,
    server_mib: float,
    cpu_s: float,
    *,
    minutes: float = 10,
    headroom: float = 1.3,
    hub_mib: float = 128,
    servers: Sequence[tuple[int, int]] = SERVERS,
) -> pd.DataFrame:
    """How many students a server holds: the smaller of what its memory and its CPUs allow.

    Memory per student is ``(server_mib + peak_mib) * headroom``, and a server of ``M`` GiB
    holds ``floor((1024 M - hub_mib) / that)`` students. With ``N`` CPUs and the whole class
    running the most demanding lesson at once, it finishes within ``minutes`` for at most
    ``floor(N * 60 * minutes / cpu_s)`` students.

    Parameters
    ----------
    peak_mib : float
        Peak memory of the most demanding lesson (its first run), MiB.
    server_mib : float
        Memory of an idle Jupyter server, MiB.
    cpu_s : float
        CPU seconds of the most demanding lesson, first run.
    minutes : float, default 10
        Time within which the whole class must get through that lesson.
    headroom : float, default 1.3
        Margin for a student's own experiments.
    hub_mib : float, default 128
        Memory of the hub itself.
    servers : sequence of (int, int), default :data:`SERVERS`
        CPUs and GiB of the servers to list.

    Returns
    -------
    pandas.DataFrame
        Columns ``server``, ``students (memory)``, ``students (CPU)``, ``students``.

    Examples
    --------
    >>> sizing_table(900, 50, 120, servers=[(4, 16)]).to_dict("records")
    [{'server': '4 CPUs / 16 GiB', 'students (memory)': 13, 'students (CPU)': 20, 'students': 13}]
    """
    per_student = (server_mib + peak_mib) * headroom
    rows = []
    for cpus, gib in servers:
        by_memory = int((1024 * gib - hub_mib) // per_student)
        by_cpu = int(cpus * 60 * minutes // cpu_s)
        rows.append(
            {
                "server": f"{cpus} CPUs / {gib} GiB",
                "students (memory)": by_memory,
                "students (CPU)": by_cpu,
                "students": min(by_memory, by_cpu),
            }
        )
    return pd.DataFrame(rows)


def _runs_phrase(runs: pd.DataFrame | None) -> str:
    """``"<date> (<machine>)"``, or one such phrase per date and machine with its notebooks."""
    if runs is None or not len(runs):
        return f"{time.strftime('%Y-%m-%d')} ({machine()})"
    groups = list(runs.groupby(["date", "machine"], sort=True))
    if len(groups) == 1:
        (date, where), _ = groups[0]
        return f"{date} ({where})"
    return "; ".join(
        f"{date} ({where}: {', '.join(group['notebook'])})" for (date, where), group in groups
    )


def _memory_note(metric: str) -> str:
    """Return a sentence for the stamp of a record whose memory is not PSS (empty for PSS)."""
    if metric == "pss":
        return ""
    return (
        f" Memory is {metric.upper()}: this platform reports no PSS, and RSS counts memory "
        "shared between processes once per process, so it overstates what a student costs."
    )


def record(tables: dict[str, pd.DataFrame], root: Path, *, server_mib: float) -> list[Path]:
    """Write a full benchmark to the documentation.

    Its per-notebook tables go to :data:`RECORD_DIR` as CSV (the data), their rendering with
    the summary to docs/benchmark.md, and the summary and sizing tables to the generated
    regions of the README and the teaching guide.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        From :func:`run_benchmark` with cold runs (it has a ``summary``).
    root : pathlib.Path
        The course root.
    server_mib : float
        Measured memory of an idle Jupyter server, in the metric of the tables
        (``usage.idle_server_mib(memory_metric_of(tables["notebooks"]))``).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    if "summary" not in tables:
        raise ValueError("only a full benchmark (cold and warm runs) is recorded: drop --quick.")
    summary = tables["summary"]
    metric = memory_metric_of(tables["notebooks"])
    peak = peak_memory_label(metric)
    one_cpu = tables["notebooks"][tables["notebooks"]["cpus"] == 1]
    demanding = summary.loc[summary[peak].idxmax()]
    cpu_first = float(summary["CPU, first run (s)"].max())
    sizing = sizing_table(float(demanding[peak]), server_mib, cpu_first)
    written = write_tables(
        {name: tables[name] for name in RECORDED_TABLES if name in tables}, root / RECORD_DIR
    )
    docs = root / "docs" / "benchmark.md"
    docs.write_text(benchmark_markdown(tables))
    stamp = f"Measured by `course bench --record` on {_runs_phrase(tables.get('runs'))}."
    stamp += _memory_note(metric)
    written.append(docs)
    readme = root / "README.md"
    if readme.is_file():
        written.append(update_region(readme, "bench", f"{stamp}\n\n{markdown_table(summary)}"))
    guide = root / "docs" / "teaching.md"
    if guide.is_file():
        per_student = pd.DataFrame(
            {
                "quantity": [
                    f"peak memory of the most demanding lesson ({metric.upper()}, MiB)",
                    f"memory of an idle Jupyter server with JupyterLab ({metric.upper()}, MiB)",
                    "CPU seconds of the most demanding lesson, first run",
                    "wall time of the slowest lesson on 1 CPU, re-run (s)",
                ],
                "value": [
                    round(float(demanding[peak])),
                    round(server_mib),
                    round(cpu_first),
                    round(float(one_cpu["wall_s"].max())) if len(one_cpu) else "-",
                ],
            }
        )
        text = f"{stamp}\n\n{markdown_table(per_student)}\n\n{markdown_table(sizing)}"
        written.append(update_region(guide, "sizing", text))
    return written
