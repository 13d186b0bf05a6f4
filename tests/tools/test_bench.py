"""The benchmark is measured, never asserted on: these tests check that it works."""

import os
import sys

import pandas as pd
import pytest

from course_utils.tools import bench, cli, manifest, usage

from .conftest import rows

TINY = """# %%
import numpy as np
import pymc as pm

# %%
with pm.Model() as centered_model:
    mu_a = pm.Normal("mu_a", 0, 1)
    pm.Normal("y", mu_a, 1, observed=np.array([0.1, -0.3, 0.2]))
    centered_idata = pm.sample(draws=200, tune=200, chains=2, random_seed=1, progressbar=False)

# %%
noncentered_idata = centered_idata.copy()
idata = noncentered_idata  # an alias must not be counted twice
"""


def _run(name, cache, fits, backends=(), cpus=2, peak=500.0, wall=10.0, cpu=15.0, memory="pss"):
    return bench.NotebookRun(
        name, cache, cpus, wall, cpu, peak, 1.0, 2.0, 8.0, fits, list(backends), memory=memory
    )


FIT = {
    "fit": "a_idata",
    "sampling_s": 2.0,
    "draws": 4000,
    "divergences": 0,
    "max_r_hat": 1.001,
    "min_ess_bulk": 800.0,
    "worst": "mu",
    "hyper_ess": {"mu_a": 900.0, "sig_a": 800.0},
}


def _two_notebooks():
    """Cold, warm and warm 1-CPU runs of two notebooks, each run with numbers of its own.

    A table that takes a number from the wrong run shows a wrong number: the largest peak is
    the cold run's for 01_x but the warm run's for 02_y, the slowest warm fit of 01_x is its
    second fit, and the cold and 1-CPU runs have slower fits that the fit table must leave out.
    """
    second = {**FIT, "fit": "b_idata", "sampling_s": 3.5}
    return [
        _run("01_x", "cold", [{**FIT, "sampling_s": 9.0}], wall=30.0, cpu=90.0, peak=700.0),
        _run("01_x", "warm", [FIT, second], wall=12.0, cpu=20.0, peak=650.0),
        _run("01_x", "warm", [{**FIT, "sampling_s": 8.0}], cpus=1, wall=25.0, cpu=22.0, peak=640.0),
        _run("02_y", "cold", [{**FIT, "sampling_s": 9.5}], wall=40.0, cpu=60.0, peak=800.0),
        _run("02_y", "warm", [{**FIT, "sampling_s": 5.0}], wall=15.0, cpu=18.0, peak=950.0),
        _run("02_y", "warm", [{**FIT, "sampling_s": 7.5}], cpus=1, wall=20.0, cpu=19.0, peak=900.0),
    ]


def test_notebook_table_splits_the_time():
    table = bench.notebook_table([_run("01_x", "cold", [FIT]), _run("01_x", "warm", [FIT])])
    assert list(table.columns) == [
        "notebook",
        "cache",
        "cpus",
        "wall_s",
        "kernel_start_s",
        "imports_s",
        "sampling_s",
        "other_s",
        "cpu_s",
        "peak_pss_mib",
    ]
    assert table.loc[0, "sampling_s"] == 2.0
    assert table.loc[0, "other_s"] == 8.0 - 2.0 - 2.0


def test_fit_table_uses_warm_runs_on_every_cpu_and_computes_ess_per_second():
    runs = [
        _run("01_x", "cold", [FIT]),
        _run("01_x", "warm", [FIT]),
        _run("01_x", "warm", [FIT], cpus=1),
    ]
    table = bench.fit_table(runs)
    assert len(table) == 1
    assert table.loc[0, "ess_per_s"] == 400.0


def test_summary_has_one_row_per_notebook_with_the_largest_peak():
    runs = _two_notebooks()
    table = bench.summary_table(bench.notebook_table(runs), bench.fit_table(runs))
    assert table.to_dict("records") == [
        {
            "notebook": "01_x",
            "first run (s)": 30.0,
            "re-run (s)": 12.0,
            "re-run, 1 CPU (s)": 25.0,
            "CPU, first run (s)": 90.0,
            "peak memory (PSS, MiB)": 700.0,
            "slowest fit (s)": 3.5,
        },
        {
            "notebook": "02_y",
            "first run (s)": 40.0,
            "re-run (s)": 15.0,
            "re-run, 1 CPU (s)": 20.0,
            "CPU, first run (s)": 60.0,
            "peak memory (PSS, MiB)": 950.0,
            "slowest fit (s)": 5.0,
        },
    ]


def test_sizing_takes_the_smaller_of_memory_and_cpu():
    # A student costs (900 + 50) * 1.3 = 1235 MiB. The small server has memory for
    # (16 * 1024 - 128) // 1235 = 13 students but CPU for 4 * 15 * 60 // 400 = 9; the large one
    # CPU for 32 * 15 * 60 // 400 = 72 but memory for (64 * 1024 - 128) // 1235 = 52.
    table = bench.sizing_table(900.0, 50.0, 400.0, minutes=15, servers=[(4, 16), (32, 64)])
    assert table.to_dict("records") == [
        {
            "server": "4 CPUs / 16 GiB",
            "students (memory)": 13,
            "students (CPU)": 9,
            "students": 9,
        },
        {
            "server": "32 CPUs / 64 GiB",
            "students (memory)": 52,
            "students (CPU)": 72,
            "students": 52,
        },
    ]


def test_record_writes_the_docs_and_the_generated_regions(tmp_path):
    runs = _two_notebooks()
    tables = {"notebooks": bench.notebook_table(runs), "fits": bench.fit_table(runs)}
    tables["summary"] = bench.summary_table(tables["notebooks"], tables["fits"])
    (tmp_path / "docs").mkdir()
    region = "<!-- begin generated: {0} -->\nold\n<!-- end generated: {0} -->\n"
    (tmp_path / "README.md").write_text(region.format("bench"))
    (tmp_path / "docs" / "teaching.md").write_text(region.format("sizing"))
    written = bench.record(tables, tmp_path, server_mib=50.0)
    names = ["notebooks.csv", "fits.csv", "benchmark.md", "README.md", "teaching.md"]
    assert [p.name for p in written] == names
    readme = rows((tmp_path / "README.md").read_text())
    assert "| 01_x | 30.0 | 12.0 | 25.0 | 90.0 | 700.0 | 3.5 |" in readme
    assert "| 02_y | 40.0 | 15.0 | 20.0 | 60.0 | 950.0 | 5.0 |" in readme
    guide_text = (tmp_path / "docs" / "teaching.md").read_text()
    assert "old" not in guide_text
    guide = rows(guide_text)
    # The most demanding lesson is 02_y by memory (950 MiB, its warm run) but 01_x by CPU time
    # (90 s, first run) and by 1-CPU wall time (25 s): each line takes the largest over the
    # course, not the values of one notebook.
    assert "| peak memory of the most demanding lesson (PSS, MiB) | 950 |" in guide
    assert "| memory of an idle Jupyter server with JupyterLab (PSS, MiB) | 50 |" in guide
    assert "| CPU seconds of the most demanding lesson, first run | 90 |" in guide
    assert "| wall time of the slowest lesson on 1 CPU, re-run (s) | 25 |" in guide
    # (950 + 50) * 1.3 = 1300 MiB a student: (16 * 1024 - 128) // 1300 = 12 by memory,
    # 4 * 600 // 90 = 26 by CPU.
    assert "| 4 CPUs / 16 GiB | 12 | 26 | 12 |" in guide
    with pytest.raises(ValueError, match="drop --quick"):
        bench.record({"notebooks": tables["notebooks"]}, tmp_path, server_mib=50.0)


def test_reparameterization_ratio_on_the_slowest_hyperparameter():
    slow = {**FIT, "fit": "c", "sampling_s": 10.0, "hyper_ess": {"mu_a": 50.0, "sig_a": 20.0}}
    fast = {**FIT, "fit": "nc", "sampling_s": 2.0, "hyper_ess": {"mu_a": 900.0, "sig_a": 800.0}}
    other = {**FIT, "fit": "c", "sampling_s": 1.0, "hyper_ess": {"mu_a": 5000.0}}
    runs = [_run("05", "warm", [slow, fast]), _run("07", "warm", [other])]
    table = bench.reparameterization_table(runs, "05", "c", "nc")
    assert table["notebook"].tolist() == ["05", "05"], "fit names repeat across notebooks"
    assert table["slowest_hyperparameter"].tolist() == ["sig_a", "sig_a"]
    assert table["ess_per_s"].tolist() == [2.0, 400.0]
    assert table["ratio_to_centered"].tolist() == [1.0, 200.0]


def test_reparameterization_names_missing_fits():
    with pytest.raises(ValueError, match=r"fits \['nope'\] not found in 05"):
        bench.reparameterization_table([_run("05", "warm", [FIT])], "05", "a_idata", "nope")


def _full(name, peak, date="2026-01-02", memory="pss"):
    runs = [
        _run(name, "cold", [{**FIT, "fit": f"{name}_idata"}], peak=peak, memory=memory),
        _run(name, "warm", [{**FIT, "fit": f"{name}_idata"}], peak=peak, memory=memory),
        _run(name, "warm", [FIT], cpus=1, peak=peak, memory=memory),
    ]
    tables = {"notebooks": bench.notebook_table(runs), "fits": bench.fit_table(runs)}
    tables["summary"] = bench.summary_table(tables["notebooks"], tables["fits"])
    tables["runs"] = pd.DataFrame([{"notebook": name, "date": date, "machine": "m, 2 CPUs"}])
    return tables


def test_recorded_tables_read_back_as_written(tmp_path):
    tables = {**_full("01_x", 500.0), "reparameterization": pd.DataFrame({"a": [1.5]})}
    tables["notebooks"].loc[0, "wall_s"] = float("nan")  # a missing value stays missing
    bench.write_tables(tables, tmp_path)
    again = bench.read_tables(tmp_path)
    assert list(again) == ["notebooks", "fits", "reparameterization", "runs", "summary"]
    for name, table in tables.items():
        pd.testing.assert_frame_equal(again[name], table, check_dtype=False)
    with pytest.raises(FileNotFoundError, match="record the whole course once"):
        bench.read_tables(tmp_path / "empty")


def test_the_committed_benchmark_page_renders_the_committed_tables():
    # docs/benchmark.md is generated from docs/benchmark/*.csv: neither is edited alone.
    root = manifest.load_course().root
    page = (root / "docs" / "benchmark.md").read_text()
    assert page == bench.benchmark_markdown(bench.render_recorded(root / bench.RECORD_DIR))


def test_a_partial_record_replaces_only_the_measured_notebooks():
    old = {
        name: pd.concat([a[name], b[name]], ignore_index=True)
        for a, b in [(_full("01_x", 500.0), _full("02_y", 1300.0))]
        for name in ("notebooks", "fits", "runs")
    }
    new = _full("02_y", 700.0, date="2026-02-03")
    merged = bench.merge_recorded(old, new, ["01_x", "02_y", "03_z"])
    summary = merged["summary"].set_index("notebook")["peak memory (PSS, MiB)"]
    assert summary.to_dict() == {"01_x": 500.0, "02_y": 700.0}
    assert merged["runs"]["date"].tolist() == ["2026-01-02", "2026-02-03"]
    assert merged["fits"]["fit"].tolist() == ["01_x_idata", "02_y_idata"]
    # Course order wins over the order of measurement, and dropped notebooks disappear.
    assert bench.merge_recorded(old, new, ["02_y"])["runs"]["notebook"].tolist() == ["02_y"]
    with pytest.raises(ValueError, match="record the whole course once"):
        bench.merge_recorded({"notebooks": old["notebooks"]}, new, ["01_x", "02_y"])
    with pytest.raises(ValueError, match="drop --quick"):
        bench.merge_recorded(old, {"notebooks": new["notebooks"]}, ["01_x", "02_y"])


def test_the_stamp_names_each_date_and_machine():
    runs = pd.DataFrame(
        {"notebook": ["01", "02"], "date": ["2026-01-02", "2026-02-03"], "machine": ["m"] * 2}
    )
    assert bench._runs_phrase(runs) == "2026-01-02 (m: 01); 2026-02-03 (m: 02)"
    assert bench._runs_phrase(runs.iloc[:1]) == "2026-01-02 (m)"


@pytest.mark.parametrize(
    ("flags", "simd"), [("avx2 avx512f", "(AVX-512)"), ("avx2", "(AVX2, no AVX-512)")]
)
def test_the_machine_says_whether_it_has_avx512(flags, simd):
    described = bench.machine(f"model name\t: Some CPU\nflags\t\t: sse2 {flags}\n")
    assert f"Some CPU {simd}" in described


def _backend_row(model, backend, wall_s, ess):
    return {
        "model": model,
        "backend": backend,
        "wall_s": wall_s,
        "divergences": 0,
        "max_r_hat": 1.002,
        "min_ess_bulk": ess,
    }


def test_backend_ratios_are_relative_to_pymc_on_the_same_model():
    first = [_backend_row("m", "pymc", 4.0, 400.0), _backend_row("m", "nutpie", 1.0, 400.0)]
    second = [_backend_row("m", "nutpie", 2.0, 100.0), _backend_row("m", "pymc", 1.0, 100.0)]
    table = bench.backend_table([_run("02", "warm", [], first), _run("03", "warm", [], second)])
    assert table["ess_per_s"].tolist() == [100.0, 400.0, 50.0, 100.0]
    assert table["ratio_to_pymc"].tolist() == [1.0, 4.0, 0.5, 1.0]


def test_missing_backends_are_named_with_the_fix(monkeypatch):
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None)
    problems = bench.missing_backends(["nutpie", "stan"])
    assert problems[0].startswith("nutpie is not installed")
    assert "`pip install nutpie`" in problems[0] and "make bench-backends" in problems[0]
    assert problems[1] == "unknown backend 'stan' (choose from nutpie, numpyro)"
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: object())
    assert bench.missing_backends(["nutpie", "numpyro"]) == []


def test_cli_refuses_a_missing_backend_before_running(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(bench, "run_benchmark", lambda *a, **k: pytest.fail("must not run"))
    assert cli.main(["bench", "05", "--backends", "numpyro", "--out", str(tmp_path)]) == 2
    assert "numpyro is not installed" in capsys.readouterr().err


TINY_MANIFEST = """[[notebook]]
source = "notebooks/01_tiny.py"
kind = "lesson"
title = "Tiny"
final_model = "centered_model"
target_accept = 0.9
centered_fit = "centered_idata"
noncentered_fit = "noncentered_idata"
"""


@pytest.fixture()
def tiny(tmp_path) -> manifest.Notebook:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_tiny.py").write_text(TINY)
    (tmp_path / manifest.MANIFEST_NAME).write_text(TINY_MANIFEST)
    return manifest.load_course(tmp_path).lessons[0]


@pytest.mark.slow
@pytest.mark.skipif(
    sys.platform != "linux",
    reason="the 1-CPU run pins the kernel (os.sched_setaffinity) and memory is PSS: Linux only",
)
def test_benchmark_runs_a_notebook_cold_and_warm(tiny, tmp_path):
    lines = []
    tables = bench.run_benchmark([tiny], tmp_path / "out", report=lines.append)
    assert tables["notebooks"]["cache"].tolist() == ["cold", "warm", "warm"]
    assert tables["notebooks"]["cpus"].tolist()[-1] == 1
    assert (tables["notebooks"]["cpu_s"] > 0).all()
    assert (tables["notebooks"]["peak_pss_mib"] > 100).all(), "a PyMC kernel uses > 100 MiB"
    fits = tables["fits"]
    assert sorted(fits["fit"]) == ["centered_idata", "noncentered_idata"]
    assert (fits["min_ess_bulk"] > 0).all() and (fits["sampling_s"] > 0).all()
    assert tables["reparameterization"]["slowest_hyperparameter"].tolist() == ["mu_a", "mu_a"]
    for name in ("notebooks", "fits", "reparameterization"):
        assert (tmp_path / "out" / f"{name}.csv").is_file()
    assert "## fits" in (tmp_path / "out" / "benchmark.md").read_text()
    assert lines[0] == "[1/1] 01_tiny: cold cache, all CPU(s) ..."
    assert not tiny.committed.exists(), "the benchmark writes no notebook"


@pytest.mark.slow
def test_backend_comparison_resamples_the_named_model(tiny, tmp_path):
    run = bench.run_notebook(tiny, compiledir=tmp_path / "cache", cache="warm", backends=("pymc",))
    [row] = run.backends
    assert row["model"] == "centered_model" and row["backend"] == "pymc"
    assert row["wall_s"] > 0 and row["min_ess_bulk"] > 0 and row["divergences"] >= 0
    assert [f["fit"] for f in run.fits] == ["centered_idata", "noncentered_idata"]


def test_backends_need_a_final_model(course):
    with pytest.raises(ValueError, match="no final_model"):
        bench.run_notebook(course.get("01_first"), compiledir=None, cache="warm", backends=["pymc"])


def _never(*args, **kwargs):
    pytest.fail("no kernel code may be built or run")


def test_an_unbound_name_is_reported_before_any_kernel_code(tiny, monkeypatch):
    text = TINY_MANIFEST.replace('"centered_model"', '"centred_model"')
    (tiny.source.parents[1] / manifest.MANIFEST_NAME).write_text(text)
    typo = manifest.load_course(tiny.source.parents[1]).lessons[0]
    for name in ("read_source", "backends_cell", "new_code_cell"):
        monkeypatch.setattr(bench, name, _never)
    monkeypatch.setattr(bench.usage, "run_measured", _never)
    message = r"01_tiny: final_model = 'centred_model' is not bound .*'centered_model'"
    with pytest.raises(ValueError, match=message):
        bench.run_notebook(typo, compiledir=None, cache="warm", backends=("pymc",))
    monkeypatch.setattr(bench, "run_notebook", _never)
    with pytest.raises(ValueError, match=message):  # before the first notebook runs
        bench.run_benchmark([tiny, typo], tiny.source.parent / "out", report=lambda _: None)


def test_the_backends_cell_passes_the_manifest_values_as_data(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(bench, "sample_backends", lambda *a: calls.append(a) or [{"ok": 1}])
    code = bench.backends_cell("centered_model", ["pymc", "nutpie"], 0.95)
    model = object()
    exec(compile(code, "<cell>", "exec"), {"centered_model": model})
    assert calls == [(model, "centered_model", ["pymc", "nutpie"], 0.95)]
    assert capsys.readouterr().out.strip() == '[{"ok": 1}]'
    with pytest.raises(LookupError, match="the notebook bound no 'centered_model'"):
        exec(compile(code, "<cell>", "exec"), {"other_model": model})
    with pytest.raises(ValueError, match="is not a Python name"):
        bench.backends_cell("m); import os #", ["pymc"], 0.9)


def test_fit_record_reads_the_fit_through_the_course_diagnostics():
    import arviz as az
    import numpy as np

    rng = np.random.default_rng(0)
    idata = az.from_dict(
        posterior={"mu_a": rng.normal(size=(4, 500)), "theta": rng.normal(size=(4, 500, 2))},
        sample_stats={"diverging": np.zeros((4, 500), dtype=bool)},
    )
    idata.posterior.attrs["sampling_time"] = 2.0
    record = bench.fit_record("x_idata", idata)
    expected_ess = float(az.ess(idata, var_names=["mu_a"])["mu_a"])
    assert record["hyper_ess"] == {"mu_a": pytest.approx(expected_ess)}
    assert record["draws"] == 2000 and record["divergences"] == 0
    assert record["min_ess_bulk"] == pytest.approx(
        min(float(az.ess(idata)[v].min()) for v in ("mu_a", "theta"))
    )


def test_cli_quick_mode_skips_cold_runs(monkeypatch, tmp_path, capsys):
    calls = {}

    def fake(notebooks, out_dir, **kwargs):
        calls.update(kwargs, notebooks=[nb.name for nb in notebooks])
        return {"notebooks": pd.DataFrame({"notebook": ["05_radon"], "wall_s": [1.0]})}

    monkeypatch.setattr(bench, "run_benchmark", fake)
    assert cli.main(["bench", "--quick", "05", "--out", str(tmp_path)]) == 0
    assert calls["cold"] is False and calls["backends"] == ()
    assert calls["notebooks"] == ["05_radon"]
    monkeypatch.setattr(bench, "missing_backends", lambda names: [])
    assert cli.main(["bench", "--quick", "05", "--backends", "nutpie", "--out", str(tmp_path)]) == 0
    assert calls["cold"] is False and calls["backends"] == ["nutpie"]
    assert "| 05_radon | 1.0 |" in rows(capsys.readouterr().out)
    assert cli.main(["bench", "05", "--backends", "nutpie", "--out", str(tmp_path)]) == 0
    assert calls["cold"] is True and calls["backends"] == ["nutpie"]
    assert cli.main(["bench", "--quick", "--record", "--out", str(tmp_path)]) == 2
    assert "--record writes the course's benchmark" in capsys.readouterr().err


# Platforms without PSS (macOS, Windows) measure RSS: simulated by the runs' ``memory`` field,
# which run_notebook takes from usage.memory_metric() (tested in test_usage.py).


def test_rss_runs_are_labelled_rss_in_every_table_and_in_the_docs(tmp_path):
    runs = [_run("01_x", c, [FIT], cpus=n, memory="rss") for c, n in [("cold", 2), ("warm", 2)]]
    notebooks = bench.notebook_table(runs)
    assert "peak_rss_mib" in notebooks and "peak_pss_mib" not in notebooks
    summary = bench.summary_table(notebooks, bench.fit_table(runs))
    assert "peak memory (RSS, MiB)" in summary and not summary.columns.str.contains("PSS").any()
    tables = {"notebooks": notebooks, "fits": bench.fit_table(runs), "summary": summary}
    (tmp_path / "docs").mkdir()
    region = "<!-- begin generated: {0} -->\nold\n<!-- end generated: {0} -->\n"
    (tmp_path / "README.md").write_text(region.format("bench"))
    (tmp_path / "docs" / "teaching.md").write_text(region.format("sizing"))
    bench.record(tables, tmp_path, server_mib=50.0)
    guide = (tmp_path / "docs" / "teaching.md").read_text()
    assert "| peak memory of the most demanding lesson (RSS, MiB) | 500 |" in rows(guide)
    assert "| memory of an idle Jupyter server with JupyterLab (RSS, MiB) | 50 |" in rows(guide)
    assert "(PSS, MiB)" not in guide
    for text in (guide, (tmp_path / "README.md").read_text()):
        assert "Memory is RSS: this platform reports no PSS" in text
    assert "| wall time of the slowest lesson on 1 CPU, re-run (s) | - |" in rows(guide)


def test_pss_and_rss_are_never_mixed():
    old = _full("01_x", 500.0)
    with pytest.raises(ValueError, match="measured memory as PSS, this run as RSS"):
        bench.merge_recorded(old, _full("02_y", 700.0, memory="rss"), ["01_x", "02_y"])
    mixed = [_run("01_x", "cold", [FIT]), _run("01_x", "warm", [FIT], memory="rss")]
    with pytest.raises(ValueError, match=r"one metric, PSS or RSS; it has \['pss', 'rss'\]"):
        bench.summary_table(bench.notebook_table(mixed), bench.fit_table(mixed))


def test_without_pinning_the_benchmark_skips_the_one_cpu_run(monkeypatch, tiny, tmp_path):
    # macOS has neither os.sched_setaffinity nor os.sched_getaffinity: simulated here.
    monkeypatch.delattr(os, "sched_setaffinity", raising=False)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    calls = []
    fits = [{**FIT, "fit": "centered_idata"}, {**FIT, "fit": "noncentered_idata"}]

    def fake(notebook, *, compiledir, cache, backends, cpus):
        calls.append((cache, cpus))
        usage.pinned_cpu_ids(cpus)  # what the real run_notebook asks first
        return _run(notebook.name, cache, fits, memory="rss")

    monkeypatch.setattr(bench, "run_notebook", fake)
    lines = []
    tables = bench.run_benchmark([tiny], tmp_path / "out", report=lines.append)
    assert calls == [("cold", None), ("warm", None)]
    assert lines[0].startswith("no 1-CPU runs: pinning a kernel to one CPU needs")
    assert lines[-1].endswith("MiB RSS")
    assert tables["summary"]["re-run, 1 CPU (s)"].isna().all()
    assert "peak memory (RSS, MiB)" in tables["summary"]
