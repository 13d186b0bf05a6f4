import re

import arviz as az
import numpy as np
import pandas as pd
import pytest

from course_utils.diagnostics import (
    SamplingError,
    check_sampling,
    compare_runs,
    compare_to_reference,
    count_divergences,
)

CHAINS, DRAWS = 4, 1000


def _idata(seed=0, *, shift=0.0, rho=0.0, divergent=0, mean=0.0):
    """Fake posterior: AR(1) chains (rho sets the autocorrelation), chain 0 shifted."""
    rng = np.random.default_rng(seed)
    x = np.empty((CHAINS, DRAWS))
    x[:, 0] = rng.normal(size=CHAINS)
    for t in range(1, DRAWS):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=CHAINS)
    x = x + mean
    x[0] += shift
    diverging = np.zeros((CHAINS, DRAWS), dtype=bool)
    diverging.flat[:divergent] = True
    return az.from_dict(
        posterior={"mu": x, "theta": rng.normal(size=(CHAINS, DRAWS, 2)) + mean},
        sample_stats={"diverging": diverging},
        coords={"group": ["a", "b"]},
        dims={"theta": ["group"]},
    )


def test_healthy_fit_passes_and_reports_values():
    idata = _idata()
    # Expected values computed directly with ArviZ, element by element.
    r_hat = az.rhat(idata)
    ess = az.ess(idata, method="bulk")
    max_r_hat = max(float(r_hat[v].max()) for v in ("mu", "theta"))
    min_ess = min(float(ess[v].min()) for v in ("mu", "theta"))
    report = check_sampling(idata)
    assert report.ok and report.problems == ()
    assert report.divergences == 0
    assert report.max_r_hat == pytest.approx(max_r_hat)
    assert report.min_ess_bulk == pytest.approx(min_ess)
    worst = (
        "mu"
        if float(ess["mu"]) == min_ess
        else "theta[a]"
        if float(ess["theta"][0]) == min_ess
        else "theta[b]"
    )
    assert report.worst["ess_bulk"] == worst
    table = report.to_frame()
    assert list(table.index) == ["divergences", "max r_hat", "min ESS bulk", "min ESS tail"]
    assert table.loc["divergences", "value"] == "0"
    assert float(table.loc["max r_hat", "value"]) == pytest.approx(max_r_hat, abs=5e-4)
    assert float(table.loc["min ESS bulk", "value"]) == pytest.approx(min_ess, abs=0.5)
    assert table["required"].tolist() == ["<= 0", "<= 1.01", ">= 400", "-"]


def test_printed_report_reads_the_same_whatever_variable_is_worst():
    # Which element is worst changes with the sampler seed; the printed report must not.
    texts = {str(check_sampling(_idata(seed))) for seed in range(4)}
    pattern = r"divergences=0, max r_hat=1\.\d{3}, min ESS bulk=\d+, min ESS tail=\d+ -> OK"
    assert all(re.fullmatch(pattern, text) for text in texts), texts
    assert not any("theta" in text or "mu" in text for text in texts)
    assert {str(check_sampling(_idata(seed)).to_frame().columns.tolist()) for seed in range(4)} == {
        "['value', 'required']"
    }


def test_a_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="must be an arviz.InferenceData"):
        check_sampling({"posterior": None})


def test_divergences_fail():
    with pytest.raises(SamplingError, match="3 divergent transitions.*target_accept"):
        check_sampling(_idata(divergent=3))


def test_divergence_threshold_is_adjustable():
    assert check_sampling(_idata(divergent=3), max_divergences=3).ok


def test_disagreeing_chains_fail_on_r_hat():
    with pytest.raises(SamplingError, match=r"r_hat .* > 1.01 for mu"):
        check_sampling(_idata(shift=1.0))


def test_autocorrelated_chains_fail_on_ess():
    with pytest.raises(SamplingError, match="bulk ESS .* < 400 for mu"):
        check_sampling(_idata(rho=0.97))


def test_tail_ess_checked_only_when_asked():
    idata = _idata(rho=0.8)
    assert check_sampling(idata, min_ess_bulk=100).ok
    with pytest.raises(SamplingError, match="tail ESS"):
        check_sampling(idata, min_ess_bulk=100, min_ess_tail=4000)


def test_var_names_restrict_the_check():
    idata = _idata(rho=0.97)
    assert check_sampling(idata, var_names=["theta"]).ok


def test_report_without_raising_for_a_fit_meant_to_fail():
    report = check_sampling(_idata(shift=1.0, divergent=5), raise_on_failure=False)
    assert not report.ok
    # a shifted chain also inflates the between-chain variance, hence a low bulk ESS
    symptoms = ["divergent transitions", "r_hat", "bulk ESS"]
    assert all(s in p for s, p in zip(symptoms, report.problems, strict=True))
    assert "FAILED" in str(report)


def test_unknown_variable_is_named():
    with pytest.raises(ValueError, match=r"variables \['sigma'\] are not in the posterior"):
        check_sampling(_idata(), var_names=["sigma"])


def test_idata_without_sample_stats_is_rejected():
    idata = az.from_dict(posterior={"mu": np.zeros((2, 10))})
    with pytest.raises(ValueError, match="no sample_stats.diverging"):
        count_divergences(idata)


def test_single_chain_cannot_give_r_hat():
    idata = az.from_dict(
        posterior={"mu": np.random.default_rng(0).normal(size=(1, 500))},
        sample_stats={"diverging": np.zeros((1, 500), dtype=bool)},
    )
    with pytest.raises(ValueError, match="at least 2 chains"):
        check_sampling(idata)


def _with(idata, name, draws, dims=None, coords=None):
    """Add a variable to a fake posterior."""
    idata.posterior[name] = (["chain", "draw", *(dims or [])], draws)
    if coords:
        idata.posterior = idata.posterior.assign_coords(coords)
    return idata


def test_a_constant_element_is_left_out_not_reported():
    # The diagonal of a correlation matrix is 1 in every draw: r_hat is NaN by construction.
    corr = np.random.default_rng(1).uniform(-0.5, 0.5, size=(CHAINS, DRAWS, 2, 2))
    corr[..., 0, 0] = corr[..., 1, 1] = 1.0
    idata = _with(_idata(), "corr", corr, dims=["i", "j"])
    report = check_sampling(idata)
    assert report.ok and not report.table.isna().any().any()
    assert "corr[0, 1]" in report.table.index and "corr[0, 0]" not in report.table.index


def test_an_undefined_r_hat_of_a_varying_element_fails_instead_of_being_skipped():
    # A NaN draw (a Deterministic dividing by zero) makes r_hat NaN; pandas' max would skip it.
    bad = np.random.default_rng(2).normal(size=(CHAINS, DRAWS))
    bad[1, 7] = np.nan
    idata = _with(_idata(), "ratio", bad)
    with pytest.raises(SamplingError, match=r"undefined \(NaN\) for ratio, whose draws are not"):
        check_sampling(idata)


# --- comparisons with references and between runs ----------------------------------------------


def test_compare_to_reference_agrees_with_the_truth():
    # Independent draws from normals of known means and sds: the posterior mean is the plain
    # mean of the draws, and its Monte Carlo standard error is sd / sqrt(number of draws).
    truth = {"mu": (3.0, 2.0), "theta[a]": (-1.0, 0.5), "theta[b]": (10.0, 1.0)}
    rng = np.random.default_rng(3)
    mu = rng.normal(3.0, 2.0, size=(CHAINS, DRAWS))
    theta = rng.normal([-1.0, 10.0], [0.5, 1.0], size=(CHAINS, DRAWS, 2))
    draws = {"mu": mu, "theta[a]": theta[..., 0], "theta[b]": theta[..., 1]}
    idata = az.from_dict(
        posterior={"mu": mu, "theta": theta},
        coords={"group": ["a", "b"]},
        dims={"theta": ["group"]},
    )
    # The reference is matched by name: its rows are in another order than the posterior's.
    order = ["theta[b]", "mu", "theta[a]"]
    reference = pd.DataFrame({"mean": [truth[name][0] for name in order]}, index=order)
    table = compare_to_reference(idata, reference)
    assert sorted(table.index) == sorted(truth)
    for name, (mean, sd) in truth.items():
        error = sd / np.sqrt(CHAINS * DRAWS)
        row = table.loc[name]
        assert row["mcmc_mean"] == pytest.approx(draws[name].mean())
        assert row["reference_mean"] == mean
        assert row["difference"] == pytest.approx(draws[name].mean() - mean)
        assert row["mcse"] == pytest.approx(error, rel=0.1)
        assert row["z"] == pytest.approx((draws[name].mean() - mean) / error, abs=0.3)
    # A reference 6 Monte Carlo errors above the true mean of mu must fail, and only for mu.
    mu_error = 2.0 / np.sqrt(CHAINS * DRAWS)
    wrong = reference.copy()
    wrong.loc["mu", "mean"] = 3.0 + 6 * mu_error
    with pytest.raises(SamplingError, match=r"of \['mu'\] differ from the reference"):
        compare_to_reference(idata, wrong)
    z = compare_to_reference(idata, wrong, max_z=None)["z"]
    assert z["mu"] == pytest.approx((mu.mean() - 3.0) / mu_error - 6, abs=0.5)
    assert z["mu"] < -4 and (z.drop("mu").abs() < 4).all()


def test_compare_to_reference_detects_a_wrong_reference():
    reference = pd.DataFrame({"mean": [0.2]}, index=["mu"])  # about 12 MCSE away
    with pytest.raises(SamplingError, match=r"\['mu'\] differ from the reference"):
        compare_to_reference(_idata(), reference)
    table = compare_to_reference(_idata(), reference, max_z=None)
    assert table.loc["mu", "z"] < -4


def test_compare_to_reference_ignores_rows_not_in_the_posterior():
    reference = pd.DataFrame({"mean": [0.0, 0.5]}, index=["mu", "theta_new"])
    assert list(compare_to_reference(_idata(), reference).index) == ["mu"]


def test_compare_to_reference_needs_shared_names():
    reference = pd.DataFrame({"mean": [0.0]}, index=["theta[0]"])
    with pytest.raises(ValueError, match="check the variable names and coords"):
        compare_to_reference(_idata(), reference)


def test_independent_runs_agree():
    table = compare_runs(_idata(1), _idata(2))
    assert (table["z"].abs() < 4).all()
    assert (table["mcse"] > 0).all()


def test_runs_of_different_posteriors_disagree():
    with pytest.raises(SamplingError, match="two independent runs disagree"):
        compare_runs(_idata(1), _idata(2, mean=0.5))


def test_runs_must_have_the_same_variables():
    other = _idata(2)
    other.posterior = other.posterior.drop_vars("theta")
    with pytest.raises(ValueError, match="different variables"):
        compare_runs(_idata(1), other)


def test_identical_runs_are_not_independent():
    with pytest.raises(ValueError, match="identical draws, so they are not independent"):
        compare_runs(_idata(1), _idata(1))


def test_r_hat_is_compared_unrounded(monkeypatch):
    import course_utils.diagnostics as diagnostics

    real = az.summary

    def summary_with_r_hat(*args, **kwargs):
        table = real(*args, **kwargs)
        table["r_hat"] = 1.0104  # az.summary would display 1.01
        return table

    monkeypatch.setattr(diagnostics.az, "summary", summary_with_r_hat)
    with pytest.raises(SamplingError, match=r"r_hat 1.010 > 1.01"):
        check_sampling(_idata())
