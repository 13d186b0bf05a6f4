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


def test_every_notebook_has_a_final_model_for_the_backend_comparison():
    from course_utils.notebooks import list_sources

    assert sorted(bench.FINAL_MODELS) == [p.stem for p in list_sources()]
    for source in list_sources():
        name, target_accept = bench.FINAL_MODELS[source.stem]
        assert f"as {name}:" in source.read_text(), f"{source.stem} defines no model {name}"
        assert 0.5 < target_accept < 1


def test_missing_backends_are_named_with_the_fix(monkeypatch):
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None)
    problems = bench.missing_backends(["nutpie", "stan"])
    assert problems[0].startswith("nutpie is not installed")
    assert "`pip install nutpie`" in problems[0] and "make bench-backends" in problems[0]
    assert problems[1] == "unknown backend 'stan' (choose from nutpie, numpyro, blackjax)"
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: object())
    assert bench.missing_backends(["nutpie", "numpyro"]) == []


def test_cli_refuses_a_missing_backend_before_running(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(bench, "run_benchmark", lambda *a, **k: pytest.fail("must not run"))
    assert cli.main(["bench", "05", "--backends", "numpyro", "--out", str(tmp_path)]) == 2
    assert "numpyro is not installed" in capsys.readouterr().err


def test_kernel_env_points_pytensor_at_the_chosen_cache(tmp_path):
    env = bench.kernel_env(tmp_path, {"PYTENSOR_FLAGS": "blas__ldflags=", "HOME": "/h"})
    assert env == {"PYTENSOR_FLAGS": f"blas__ldflags=,base_compiledir={tmp_path}", "HOME": "/h"}
    assert bench.kernel_env(tmp_path, {})["PYTENSOR_FLAGS"] == f"base_compiledir={tmp_path}"
    assert bench.kernel_env(None, {"PYTENSOR_FLAGS": "x=1"}) == {"PYTENSOR_FLAGS": "x=1"}


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


@pytest.mark.slow
def test_backend_comparison_resamples_the_named_model(tmp_path):
    source = tmp_path / "01_tiny.py"
    source.write_text(TINY)
    run = bench.run_notebook(
        source,
        compiledir=tmp_path / "cache",
        cache="warm",
        backends=("pymc",),
        model=("centered_model", 0.9),
    )
    [row] = run.backends
    assert row["model"] == "centered_model" and row["backend"] == "pymc"
    assert row["wall_s"] > 0 and row["min_ess_bulk"] > 0 and row["divergences"] >= 0
    assert [f["fit"] for f in run.fits] == ["centered_idata", "noncentered_idata"]


def test_backends_need_a_model(tmp_path):
    with pytest.raises(ValueError, match="name the model"):
        bench.run_notebook(tmp_path / "x.py", compiledir=tmp_path, cache="warm", backends=["pymc"])


def test_cli_quick_mode_skips_cold_runs_and_the_radon_comparison(monkeypatch, tmp_path, capsys):
    calls = {}

    def fake(sources, out_dir, **kwargs):
        calls.update(kwargs, sources=[s.stem for s in sources])
        return {"notebooks": pd.DataFrame({"notebook": ["05_radon"], "wall_s": [1.0]})}

    monkeypatch.setattr(bench, "run_benchmark", fake)
    assert cli.main(["bench", "--quick", "05", "--out", str(tmp_path)]) == 0
    assert calls["cold"] is False and calls["backends"] == ()
    assert calls["reparameterisation"] is None
    monkeypatch.setattr(bench, "missing_backends", lambda names: [])
    assert cli.main(["bench", "--quick", "05", "--backends", "nutpie", "--out", str(tmp_path)]) == 0
    assert calls["cold"] is False and calls["backends"] == ["nutpie"]
    assert "| 05_radon | 1.0 |" in capsys.readouterr().out
    assert cli.main(["bench", "05", "--backends", "nutpie", "--out", str(tmp_path)]) == 0
    assert calls["cold"] is True and calls["backends"] == ["nutpie"]
    assert calls["reparameterisation"] == bench.RADON_FITS
