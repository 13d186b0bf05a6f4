"""The benchmark is measured, never asserted on: these tests check that it works."""

import pandas as pd
import pytest

from course_utils import bench, cli

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


def _run(name, cache, fits, backends=()):
    return bench.NotebookRun(name, cache, 10.0, 1.0, 2.0, 8.0, fits, list(backends))


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


def test_notebook_table_splits_the_time():
    table = bench.notebook_table([_run("01_x", "cold", [FIT]), _run("01_x", "warm", [FIT])])
    assert list(table.columns) == [
        "notebook",
        "cache",
        "wall_s",
        "kernel_start_s",
        "imports_s",
        "sampling_s",
        "other_s",
    ]
    assert table.loc[0, "sampling_s"] == 2.0
    assert table.loc[0, "other_s"] == 8.0 - 2.0 - 2.0


def test_fit_table_uses_warm_runs_and_computes_ess_per_second():
    table = bench.fit_table([_run("01_x", "cold", [FIT]), _run("01_x", "warm", [FIT])])
    assert len(table) == 1
    assert table.loc[0, "ess_per_s"] == 400.0


def test_reparameterisation_ratio_on_the_slowest_hyperparameter():
    slow = {**FIT, "fit": "c", "sampling_s": 10.0, "hyper_ess": {"mu_a": 50.0, "sig_a": 20.0}}
    fast = {**FIT, "fit": "nc", "sampling_s": 2.0, "hyper_ess": {"mu_a": 900.0, "sig_a": 800.0}}
    table = bench.reparameterisation_table([_run("05", "warm", [slow, fast])], "c", "nc")
    assert table["slowest_hyperparameter"].tolist() == ["sig_a", "sig_a"]
    assert table["ess_per_s"].tolist() == [2.0, 400.0]
    assert table["ratio_to_centered"].tolist() == [1.0, 200.0]


def test_reparameterisation_names_missing_fits():
    with pytest.raises(ValueError, match=r"fits \['nope'\] not found"):
        bench.reparameterisation_table([_run("05", "warm", [FIT])], "a_idata", "nope")


def test_backend_ratios_are_relative_to_pymc():
    rows = [
        {"model": "m", "backend": "pymc", "wall_s": 4.0, "divergences": 0, "min_ess_bulk": 400.0},
        {"model": "m", "backend": "nutpie", "wall_s": 1.0, "divergences": 0, "min_ess_bulk": 400.0},
    ]
    table = bench.backend_table([_run("02", "warm", [], rows)])
    assert table["ratio_to_pymc"].tolist() == [1.0, 4.0]


def test_markdown_table():
    text = bench.to_markdown(pd.DataFrame({"a": [1.5], "b": ["x"]}))
    assert text.splitlines() == ["| a | b |", "|---|---|", "| 1.5 | x |"]


@pytest.mark.slow
def test_benchmark_runs_a_notebook_cold_and_warm(tmp_path):
    source = tmp_path / "01_tiny.py"
    source.write_text(TINY)
    lines = []
    tables = bench.run_benchmark(
        [source],
        tmp_path / "out",
        reparameterisation=("centered_idata", "noncentered_idata"),
        report=lines.append,
    )
    assert tables["notebooks"]["cache"].tolist() == ["cold", "warm"]
    fits = tables["fits"]
    assert sorted(fits["fit"]) == ["centered_idata", "noncentered_idata"]
    assert (fits["min_ess_bulk"] > 0).all() and (fits["sampling_s"] > 0).all()
    assert tables["reparameterisation"]["slowest_hyperparameter"].tolist() == ["mu_a", "mu_a"]
    for name in ("notebooks", "fits", "reparameterisation"):
        assert (tmp_path / "out" / f"{name}.csv").is_file()
    assert "## fits" in (tmp_path / "out" / "benchmark.md").read_text()
    assert lines[0] == "[1/1] 01_tiny (cold cache) ..."
    assert not source.with_suffix(".ipynb").exists(), "the benchmark writes no notebook"


def test_cli_quick_mode_skips_cold_runs_and_comparisons(monkeypatch, tmp_path, capsys):
    calls = {}

    def fake(sources, out_dir, **kwargs):
        calls.update(kwargs, sources=[s.stem for s in sources])
        return {"notebooks": pd.DataFrame({"notebook": ["05_radon"], "wall_s": [1.0]})}

    monkeypatch.setattr(bench, "run_benchmark", fake)
    assert cli.main(["bench", "--quick", "05", "--out", str(tmp_path)]) == 0
    assert calls["cold"] is False and calls["backends"] == ()
    assert calls["reparameterisation"] is None
    assert "| 05_radon | 1.0 |" in capsys.readouterr().out
    assert cli.main(["bench", "05", "--backends", "nutpie", "--out", str(tmp_path)]) == 0
    assert calls["cold"] is True and calls["backends"] == ["nutpie"]
    assert calls["reparameterisation"] == bench.RADON_FITS
