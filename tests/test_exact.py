"""Tests for course_utils.exact: the quadrature reference posteriors.

Accuracy is checked, not assumed:

- closed forms (prior moments with no data; single-trial data, where the likelihood only
  depends on a / (a + b); for the normal model the conjugate conditional posterior given
  tau, complete pooling and prior limits) and independent quadratures in other coordinates
  (scipy.integrate over polar coordinates, over nu alone, or over tau itself);
- exact symmetries (swapping successes and failures, negating or rescaling the data,
  permuting groups, empty groups);
- refinement (default quadrature vs a much finer one);
- long PyMC runs, within Monte Carlo error (marked slow), and the posteriordb reference
  draws of the eight-schools model, within their Monte Carlo error.

Every tolerance is either the accuracy the module promises or derived from the Monte Carlo
standard error; no expected number is copied from the function's output.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

from course_utils import exact
from course_utils.exact import (
    hierarchical_beta_binomial,
    hierarchical_normal,
    hierarchical_normal_tau_density,
    hierarchical_normal_tau_quantiles,
    log_marginal_likelihood,
)

# The accuracy hierarchical_beta_binomial promises for every reported mean and sd
# (absolute, or relative above 1).
ACCURACY = 1e-5

SPACEX = {"successes": (2, 301, 9, 5), "trials": (5, 304, 9, 9)}
WATER = {"successes": (18, 3, 3), "trials": (30, 30, 30)}

SQRT_PI = math.sqrt(math.pi)
LOG_1_PLUS_SQRT2 = math.log1p(math.sqrt(2.0))  # = asinh(1)


def half_normal_mean(scale: float) -> float:
    return scale * math.sqrt(2.0 / math.pi)


def half_normal_sd(scale: float) -> float:
    return scale * math.sqrt(1.0 - 2.0 / math.pi)


def assert_close(actual: float, expected: float, what: str, tol: float = ACCURACY) -> None:
    assert abs(actual - expected) < tol, f"{what}: got {actual!r}, expected {expected!r}"


def polar_prior_expectation(f, scale: float) -> float:
    """E[f(a, b)] for a, b iid HalfNormal(scale), by scipy's adaptive quadrature.

    Independent of the module's grid: (a, b) = r (cos phi, sin phi) with r ~ Rayleigh(scale)
    and phi ~ Uniform(0, pi/2), because (a, b) is the positive quadrant of an isotropic
    bivariate normal.
    """

    def integrand(r: float, phi: float) -> float:
        rayleigh = r / scale**2 * math.exp(-0.5 * (r / scale) ** 2)
        return f(r * math.cos(phi), r * math.sin(phi)) * rayleigh * 2.0 / math.pi

    value, _ = integrate.dblquad(
        integrand, 0.0, math.pi / 2, 0.0, 40.0 * scale, epsabs=1e-11, epsrel=1e-11
    )
    return value


def half_normal_expectation(f, scale: float) -> float:
    """E[f(nu)] for nu ~ HalfNormal(scale), by scipy's adaptive quadrature."""
    value, _ = integrate.quad(
        lambda x: f(x) * stats.halfnorm.pdf(x, scale=scale),
        0.0,
        40.0 * scale,
        epsabs=1e-12,
        epsrel=1e-12,
        limit=200,
    )
    return value


# --------------------------------------------------------------------------------------
# Output format
# --------------------------------------------------------------------------------------


def test_alpha_beta_rows_and_columns():
    post = hierarchical_beta_binomial(**SPACEX, parameterization="alpha_beta")
    assert list(post.index) == [
        "theta[0]",
        "theta[1]",
        "theta[2]",
        "theta[3]",
        "alpha",
        "beta",
        "mu",
        "theta_new",
    ]
    assert list(post.columns) == ["mean", "sd"]
    assert np.all(np.isfinite(post.to_numpy()))
    assert np.all(post["sd"] > 0)


def test_mu_nu_rows_and_columns():
    post = hierarchical_beta_binomial(**WATER, parameterization="mu_nu")
    assert list(post.index) == ["theta[0]", "theta[1]", "theta[2]", "mu", "nu"]
    assert list(post.columns) == ["mean", "sd"]
    assert np.all(np.isfinite(post.to_numpy()))


# --------------------------------------------------------------------------------------
# Closed forms and independent quadratures: alpha_beta
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_alpha_beta_without_data_is_the_prior(scale):
    # No trials: the posterior is the prior. alpha, beta ~ HalfNormal(scale);
    # mu = a / (a + b) = cos(phi) / (cos(phi) + sin(phi)) with phi ~ U(0, pi/2), so
    # E[mu] = 1/2 and E[mu^2] = (2/pi) * integral = 1/pi, whatever the scale.
    post = hierarchical_beta_binomial([0, 0], [0, 0], parameterization="alpha_beta", scale=scale)
    for name in ("alpha", "beta"):
        assert_close(post.loc[name, "mean"], half_normal_mean(scale), f"{name} mean")
        assert_close(post.loc[name, "sd"], half_normal_sd(scale), f"{name} sd")
    assert_close(post.loc["mu", "mean"], 0.5, "mu mean")
    assert_close(post.loc["mu", "sd"], math.sqrt(1.0 / math.pi - 0.25), "mu sd")
    # An empty group's theta is distributed as a new group's theta: mean 1/2 by symmetry,
    # Var = E[a (a + 1) / (k (k + 1))] - 1/4 with k = a + b, by an independent quadrature.
    second = polar_prior_expectation(lambda a, b: a * (a + 1) / ((a + b) * (a + b + 1)), scale)
    for name in ("theta[0]", "theta[1]", "theta_new"):
        assert_close(post.loc[name, "mean"], 0.5, f"{name} mean")
        assert_close(post.loc[name, "sd"], math.sqrt(second - 0.25), f"{name} sd")


def test_alpha_beta_prior_theta_sd_matches_polar_quadrature():
    # Var(theta_new) = E[a (a + 1) / (k (k + 1))] - 1/4 with k = a + b, under the prior.
    scale = 10.0
    post = hierarchical_beta_binomial([0], [0], parameterization="alpha_beta", scale=scale)
    second = polar_prior_expectation(lambda a, b: a * (a + 1) / ((a + b) * (a + b + 1)), scale)
    assert_close(post.loc["theta_new", "sd"], math.sqrt(second - 0.25), "theta_new sd")


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_alpha_beta_one_success_in_one_trial(scale):
    # With y = 1 of n = 1 the likelihood is a / (a + b) and P(y = 1) = 1/2, so
    # E[g(a, b) | y] = 2 E[g(a, b) a / (a + b)] under the prior. In polar coordinates
    # (see polar_prior_expectation) with E[r] = s sqrt(pi/2), E[r^2] = 2 s^2 and
    #   int cos^2/(cos + sin) = log(1 + sqrt 2)/sqrt 2,   int cos^3/(cos + sin) = (pi - 1)/4,
    #   int cos sin^2/(cos + sin) = 1/4,   E[mu^2] = 1/pi,   E[mu^3] = (6 - pi)/(4 pi):
    s = scale
    mean_alpha = 2 * s * LOG_1_PLUS_SQRT2 / SQRT_PI
    mean_beta = 2 * s * (math.sqrt(2 / math.pi) - LOG_1_PLUS_SQRT2 / SQRT_PI)
    second_alpha = 2 * s**2 * (math.pi - 1) / math.pi
    second_beta = 2 * s**2 / math.pi
    mean_mu = 2 / math.pi
    second_mu = (6 - math.pi) / (2 * math.pi)

    post = hierarchical_beta_binomial([1], [1], parameterization="alpha_beta", scale=scale)
    assert_close(post.loc["alpha", "mean"], mean_alpha, "alpha mean")
    assert_close(post.loc["alpha", "sd"], math.sqrt(second_alpha - mean_alpha**2), "alpha sd")
    assert_close(post.loc["beta", "mean"], mean_beta, "beta mean")
    assert_close(post.loc["beta", "sd"], math.sqrt(second_beta - mean_beta**2), "beta sd")
    assert_close(post.loc["mu", "mean"], mean_mu, "mu mean")
    assert_close(post.loc["mu", "sd"], math.sqrt(second_mu - mean_mu**2), "mu sd")
    # E[theta_new | y] = E[mu | y]: the predictive mean is the population mean.
    assert_close(post.loc["theta_new", "mean"], mean_mu, "theta_new mean")


def test_alpha_beta_one_success_theta_matches_polar_quadrature():
    # theta | y=1 of 1: E[theta | y] = 2 E[theta^2], E[theta^2 | y] = 2 E[theta^3] under the
    # prior predictive, with E[theta^j | a, b] = prod_{i<j} (a + i) / (a + b + i).
    scale = 10.0

    def raw_moment(j: int) -> float:
        return polar_prior_expectation(
            lambda a, b: math.prod((a + i) / (a + b + i) for i in range(j)), scale
        )

    mean = 2 * raw_moment(2)
    sd = math.sqrt(2 * raw_moment(3) - mean**2)
    post = hierarchical_beta_binomial([1], [1], parameterization="alpha_beta", scale=scale)
    assert_close(post.loc["theta[0]", "mean"], mean, "theta[0] mean")
    assert_close(post.loc["theta[0]", "sd"], sd, "theta[0] sd")


def test_alpha_beta_empty_group_is_a_new_group():
    # A group without trials changes nothing else, and its theta is theta_new.
    base = hierarchical_beta_binomial(**SPACEX, parameterization="alpha_beta")
    with_empty = hierarchical_beta_binomial(
        [*SPACEX["successes"], 0], [*SPACEX["trials"], 0], parameterization="alpha_beta"
    )
    shared = base.index
    np.testing.assert_allclose(with_empty.loc[shared], base, rtol=0, atol=ACCURACY)
    np.testing.assert_allclose(
        with_empty.loc["theta[4]"], base.loc["theta_new"], rtol=0, atol=ACCURACY
    )


# --------------------------------------------------------------------------------------
# Closed forms and independent quadratures: mu_nu
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_mu_nu_without_data_is_the_prior(scale):
    post = hierarchical_beta_binomial([0, 0, 0], [0, 0, 0], parameterization="mu_nu", scale=scale)
    assert_close(post.loc["mu", "mean"], 0.5, "mu mean")  # Beta(1, 1)
    assert_close(post.loc["mu", "sd"], math.sqrt(1 / 12), "mu sd")
    assert_close(post.loc["nu", "mean"], half_normal_mean(scale), "nu mean")
    assert_close(post.loc["nu", "sd"], half_normal_sd(scale), "nu sd")
    # theta ~ Beta(mu nu, (1 - mu) nu) marginally: mean 1/2 and, by total variance,
    # Var = E[mu (1 - mu)] E[1 / (nu + 1)] + Var(mu) = E[1 / (nu + 1)] / 6 + 1/12.
    inv = half_normal_expectation(lambda nu: 1 / (nu + 1), scale)
    for i in range(3):
        assert_close(post.loc[f"theta[{i}]", "mean"], 0.5, f"theta[{i}] mean")
        assert_close(post.loc[f"theta[{i}]", "sd"], math.sqrt(inv / 6 + 1 / 12), f"theta[{i}] sd")


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_mu_nu_single_trials_give_a_beta_posterior_for_mu(scale):
    # With n_i = 1 every likelihood factor is mu or 1 - mu, whatever nu: the posterior is
    # mu ~ Beta(1 + K, 1 + J - K), independent of nu ~ HalfNormal(scale) (the prior).
    y = np.array([1, 0, 1, 1, 1])
    successes, failures = int(y.sum()), int((1 - y).sum())
    mu_post = stats.beta(1 + successes, 1 + failures)
    post = hierarchical_beta_binomial(y, np.ones_like(y), parameterization="mu_nu", scale=scale)
    assert_close(post.loc["mu", "mean"], mu_post.mean(), "mu mean")
    assert_close(post.loc["mu", "sd"], mu_post.std(), "mu sd")
    assert_close(post.loc["nu", "mean"], half_normal_mean(scale), "nu mean")
    assert_close(post.loc["nu", "sd"], half_normal_sd(scale), "nu sd")

    # theta_i | mu, nu, y ~ Beta(mu nu + y_i, (1 - mu) nu + 1 - y_i); average over the
    # independent posteriors of mu (closed-form Beta moments) and nu (1-D quadrature).
    m1, m2 = mu_post.moment(1), mu_post.moment(2)
    for i, yi in enumerate(y):
        mean = half_normal_expectation(lambda nu, yi=yi: (m1 * nu + yi) / (nu + 1), scale)
        second = half_normal_expectation(
            lambda nu, yi=yi: (
                (m2 * nu**2 + m1 * nu * (2 * yi + 1) + yi * (yi + 1)) / ((nu + 1) * (nu + 2))
            ),
            scale,
        )
        assert_close(post.loc[f"theta[{i}]", "mean"], mean, f"theta[{i}] mean")
        assert_close(post.loc[f"theta[{i}]", "sd"], math.sqrt(second - mean**2), f"theta[{i}] sd")


# --------------------------------------------------------------------------------------
# Exact symmetries
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [SPACEX, WATER], ids=["spacex", "water"])
@pytest.mark.parametrize("parameterization", ["alpha_beta", "mu_nu"])
def test_swapping_successes_and_failures_mirrors_the_posterior(data, parameterization):
    # Both priors are symmetric under mu -> 1 - mu (alpha <-> beta), so relabelling
    # successes as failures maps theta -> 1 - theta and mu -> 1 - mu; sds are unchanged.
    k, n = np.array(data["successes"]), np.array(data["trials"])
    post = hierarchical_beta_binomial(k, n, parameterization=parameterization)
    flip = hierarchical_beta_binomial(n - k, n, parameterization=parameterization)
    mirrored = [name for name in post.index if name.startswith("theta") or name == "mu"]
    np.testing.assert_allclose(
        flip.loc[mirrored, "mean"], 1 - post.loc[mirrored, "mean"], atol=ACCURACY
    )
    np.testing.assert_allclose(flip.loc[mirrored, "sd"], post.loc[mirrored, "sd"], atol=ACCURACY)
    if parameterization == "alpha_beta":
        np.testing.assert_allclose(flip.loc["alpha"], post.loc["beta"], atol=ACCURACY)
        np.testing.assert_allclose(flip.loc["beta"], post.loc["alpha"], atol=ACCURACY)
    else:
        np.testing.assert_allclose(flip.loc["nu"], post.loc["nu"], atol=ACCURACY)


@pytest.mark.parametrize("parameterization", ["alpha_beta", "mu_nu"])
def test_permuting_groups_permutes_thetas(parameterization):
    k, n = np.array(SPACEX["successes"]), np.array(SPACEX["trials"])
    order = np.array([2, 0, 3, 1])
    post = hierarchical_beta_binomial(k, n, parameterization=parameterization)
    perm = hierarchical_beta_binomial(k[order], n[order], parameterization=parameterization)
    for new, old in enumerate(order):
        np.testing.assert_allclose(
            perm.loc[f"theta[{new}]"], post.loc[f"theta[{old}]"], atol=ACCURACY
        )
    hyper = [name for name in post.index if not name.startswith("theta[")]
    np.testing.assert_allclose(perm.loc[hyper], post.loc[hyper], atol=ACCURACY)


# --------------------------------------------------------------------------------------
# Numerical accuracy
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "parameterization"),
    [(SPACEX, "alpha_beta"), (WATER, "mu_nu"), (SPACEX, "mu_nu"), (WATER, "alpha_beta")],
    ids=["spacex-alpha_beta", "water-mu_nu", "spacex-mu_nu", "water-alpha_beta"],
)
def test_grid_refinement_changes_results_by_less_than_the_accuracy(data, parameterization):
    default = hierarchical_beta_binomial(**data, parameterization=parameterization)
    fine = hierarchical_beta_binomial(**data, parameterization=parameterization, grid_size=801)
    difference = (default - fine).abs().to_numpy().max()
    assert difference < ACCURACY, f"default vs 801-point grid differ by {difference:.2e}"
    assert default.attrs["error_estimate"] < ACCURACY


def test_refinement_warns_when_the_grid_cap_is_too_small(monkeypatch):
    # The prior of the mu_nu model needs more than 201 points per axis for the 1e-5
    # self-consistency target; with the cap lowered to 201 the function must say so.
    monkeypatch.setattr(exact, "_MAX_GRID_SIZE", 201)
    with pytest.warns(RuntimeWarning, match="estimated quadrature error"):
        hierarchical_beta_binomial([0], [0], parameterization="mu_nu")


def test_default_grid_refines_itself_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        post = hierarchical_beta_binomial([0], [0], parameterization="mu_nu")
    assert post.attrs["grid_size"] > 201
    assert post.attrs["error_estimate"] <= 1e-6


def test_log_marginal_likelihood_is_the_beta_binomial_pmf():
    k, n = np.array([0, 2, 301, 9, 5]), np.array([0, 5, 304, 9, 9])
    for a, b in [(0.3, 7.0), (4.9, 0.96), (50.0, 50.0)]:
        np.testing.assert_allclose(
            log_marginal_likelihood(k, n, a, b), stats.betabinom.logpmf(k, n, a, b), rtol=1e-10
        )
    # The pmf sums to 1 over k = 0..n.
    total = np.exp(log_marginal_likelihood(np.arange(10), np.full(10, 9), 0.7, 2.5)).sum()
    assert abs(total - 1.0) < 1e-12
    assert log_marginal_likelihood([1, 2], [3, 4], np.ones((6, 1)), np.ones(5)).shape == (6, 5, 2)


# --------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "trials", "match"),
    [
        ([1, 2], [3], "same length"),
        ([], [], "at least one group"),
        ([1.5], [3], "integer-valued"),
        ([1], [2.5], "integer-valued"),
        ([np.nan], [3], "finite"),
        ([1], [np.inf], "finite"),
        ([-1], [3], "successes must be >= 0"),
        ([0], [-1], "trials must be >= 0"),
        ([4, 1], [3, 1], r"successes must be <= trials.*groups \[0\]"),
        ([[1, 2]], [[3, 4]], "1-D"),
        (3, 5, "1-D"),
        (["a"], [3], "must be numbers"),
    ],
)
def test_bad_data_raise_value_error(successes, trials, match):
    with pytest.raises(ValueError, match=match):
        hierarchical_beta_binomial(successes, trials, parameterization="alpha_beta")
    with pytest.raises(ValueError, match=match):
        log_marginal_likelihood(successes, trials, 1.0, 1.0)


@pytest.mark.parametrize("scale", [0.0, -1.0, np.inf, np.nan, "ten", None, True])
def test_bad_scale_raises_value_error(scale):
    with pytest.raises(ValueError, match="scale must be a positive finite number"):
        hierarchical_beta_binomial([1], [2], parameterization="mu_nu", scale=scale)


@pytest.mark.parametrize("parameterization", ["alpha-beta", "mu", "", None])
def test_bad_parameterization_raises_value_error(parameterization):
    with pytest.raises(ValueError, match=r"parameterization must be one of.*alpha_beta"):
        hierarchical_beta_binomial([1], [2], parameterization=parameterization)


def test_parameterization_is_required():
    with pytest.raises(TypeError, match="parameterization"):
        hierarchical_beta_binomial([1], [2])  # type: ignore[call-arg]


@pytest.mark.parametrize("grid_size", [10, 32, 100.0, True])
def test_bad_grid_size_raises_value_error(grid_size):
    with pytest.raises(ValueError, match="grid_size must be an integer >= 33"):
        hierarchical_beta_binomial([1], [2], parameterization="mu_nu", grid_size=grid_size)


@pytest.mark.parametrize(("a", "b"), [(0.0, 1.0), (1.0, -2.0), (np.nan, 1.0), (1.0, np.inf)])
def test_log_marginal_likelihood_rejects_bad_hyperparameters(a, b):
    with pytest.raises(ValueError, match="alpha and beta must be positive and finite"):
        log_marginal_likelihood([1], [2], a, b)


# --------------------------------------------------------------------------------------
# Comparison with long PyMC runs (slow)
# --------------------------------------------------------------------------------------

# Sampler settings shared by both comparisons: sequential chains (gentle on a shared
# 2-core machine) with a fixed seed, so the test is deterministic.
SAMPLE_KWARGS = {
    "draws": 1500,
    "tune": 1000,
    "chains": 2,
    "cores": 1,
    "random_seed": 20240601,
    "progressbar": False,
    "compute_convergence_checks": False,
}


def assert_within_monte_carlo_error(summary: pd.DataFrame, exact_post: pd.DataFrame) -> None:
    """Every exact mean lies within 4 Monte Carlo standard errors of the PyMC mean.

    Why 4: the quadrature error (< 1e-5) is negligible next to the MCSEs (>= 1e-4), so
    (pymc mean - exact mean) / mcse_mean is approximately standard normal. P(|Z| > 4) is
    6e-5 per row; over the 13 rows of the two tests the family-wise false-alarm rate is
    below 1e-3 (Bonferroni), leaving slack for mcse_mean itself being an estimate. A
    failure therefore points at a real discrepancy (wrong model, prior or formula), not
    at bad luck. With a fixed seed the outcome is reproducible anyway.
    """
    table = summary[["mean", "mcse_mean", "sd", "r_hat"]].join(exact_post.add_suffix("_exact"))
    assert list(table.index) == list(exact_post.index)
    assert (table["r_hat"] < 1.01).all(), f"PyMC run did not converge:\n{table}"
    table["z"] = (table["mean"] - table["mean_exact"]) / table["mcse_mean"]
    assert (table["z"].abs() < 4).all(), f"PyMC and exact means disagree:\n{table}"


@pytest.mark.slow
def test_alpha_beta_matches_long_pymc_run():
    import arviz as az
    import pymc as pm

    k, n = np.array(SPACEX["successes"]), np.array(SPACEX["trials"])
    with pm.Model():
        alpha = pm.HalfNormal("alpha", 10)
        beta = pm.HalfNormal("beta", 10)
        pm.Deterministic("mu", alpha / (alpha + beta))
        theta = pm.Beta("theta", alpha, beta, shape=len(k))
        pm.Binomial("y", n=n, p=theta, observed=k)
        idata = pm.sample(target_accept=0.95, **SAMPLE_KWARGS)
    divergences = int(idata.sample_stats["diverging"].sum())
    assert divergences == 0, f"{divergences} divergences: raise target_accept"

    # theta_new ~ Beta(alpha, beta), one draw per posterior draw (posterior predictive).
    post = idata.posterior
    rng = np.random.default_rng(SAMPLE_KWARGS["random_seed"])
    post["theta_new"] = (("chain", "draw"), rng.beta(post["alpha"].values, post["beta"].values))
    names = ["theta", "alpha", "beta", "mu", "theta_new"]
    summary = az.summary(idata, var_names=names, round_to="none")

    exact_post = hierarchical_beta_binomial(k, n, parameterization="alpha_beta", scale=10.0)
    assert_within_monte_carlo_error(summary, exact_post)


@pytest.mark.slow
def test_mu_nu_matches_long_pymc_run():
    import arviz as az
    import pymc as pm

    # Bernoulli outcomes summarised as counts: the Binomial likelihood differs from the
    # Bernoulli one by a constant factor, so the posterior is the same.
    k, n = np.array(WATER["successes"]), np.array(WATER["trials"])
    with pm.Model():
        mu = pm.Beta("mu", 1, 1)
        nu = pm.HalfNormal("nu", 10)
        theta = pm.Beta("theta", mu=mu, nu=nu, shape=len(k))
        pm.Binomial("y", n=n, p=theta, observed=k)
        idata = pm.sample(target_accept=0.95, **SAMPLE_KWARGS)
    divergences = int(idata.sample_stats["diverging"].sum())
    assert divergences == 0, f"{divergences} divergences: raise target_accept"

    summary = az.summary(idata, var_names=["theta", "mu", "nu"], round_to="none")
    exact_post = hierarchical_beta_binomial(k, n, parameterization="mu_nu", scale=10.0)
    assert_within_monte_carlo_error(summary, exact_post)


def test_labels_name_the_theta_rows_like_az_summary_with_coords():
    plain = hierarchical_beta_binomial([2, 5], [5, 9], parameterization="alpha_beta")
    named = hierarchical_beta_binomial(
        [2, 5], [5, 9], parameterization="alpha_beta", labels=["Falcon 1", "Starship"]
    )
    assert list(named.index[:2]) == ["theta[Falcon 1]", "theta[Starship]"]
    np.testing.assert_array_equal(named.to_numpy(), plain.to_numpy())


@pytest.mark.parametrize("labels", [["a"], ["a", "a"], ["a", "b", "c"]])
def test_labels_must_name_each_group_once(labels):
    with pytest.raises(ValueError, match="labels must give 2 distinct group names"):
        hierarchical_beta_binomial([2, 5], [5, 9], parameterization="mu_nu", labels=labels)


# ======================================================================================
# Hierarchical normal model with known standard errors (eight schools)
# ======================================================================================

# BDA3 table 5.2.
EIGHT_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
EIGHT_SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
EIGHT_NAMES = [f"theta[{j}]" for j in range(8)] + ["mu", "tau", "theta_new"]
# The promise of hierarchical_normal: every mean and sd within this many posterior sds.
NORMAL_ACCURACY = 1e-6
TAU_PRIORS = [("half_cauchy", 5.0), ("half_normal", 5.0), ("uniform", 30.0)]
TAU_PRIOR_IDS = ["half_cauchy", "half_normal", "uniform"]


def tau_prior_distribution(tau_prior: str, tau_scale: float):
    """The prior of tau as a frozen scipy distribution (independent of the module)."""
    if tau_prior == "uniform":
        return stats.uniform(0.0, tau_scale)
    return {"half_cauchy": stats.halfcauchy, "half_normal": stats.halfnorm}[tau_prior](
        scale=tau_scale
    )


def gaussian_conditional(y, sigma, mu_loc: float, mu_scale: float, tau: float):
    """Posterior of (theta_1..theta_J, mu) given tau by conditioning the joint Gaussian.

    Independent of the module's scalar formulas: build the covariance of (theta, mu, y)
    from mu ~ N(mu_loc, mu_scale), theta = mu + tau * eps, y = theta + sigma * eta, and
    condition on y with a linear solve. Returns the conditional means, the conditional
    variances and log p(y | tau) (the multivariate normal density of y).
    """
    n = len(y)
    var_theta = mu_scale**2 * np.ones((n, n)) + tau**2 * np.eye(n)
    cov_x = np.full((n + 1, n + 1), mu_scale**2)
    cov_x[:n, :n] = var_theta
    cov_xy = cov_x[:, :n]  # Cov((theta, mu), y) = Cov((theta, mu), theta)
    cov_y = var_theta + np.diag(np.asarray(sigma, dtype=float) ** 2)
    gain = np.linalg.solve(cov_y, cov_xy.T).T
    mean = mu_loc + gain @ (np.asarray(y, dtype=float) - mu_loc)
    cov = cov_x - gain @ cov_xy.T
    log_lik = stats.multivariate_normal.logpdf(y, np.full(n, mu_loc), cov_y)
    return mean, np.diag(cov), log_lik


def reference_posterior(
    y, sigma, tau_prior, tau_scale, mu_loc=0.0, mu_scale=5.0, *, tau_variance=True
) -> dict:
    """Posterior (mean, sd) of theta_j, mu, tau, theta_new by scipy's adaptive quadrature.

    scipy.integrate.quad_vec over tau itself (no change of variables, no truncation),
    with the prior from scipy.stats and the conditional moments from gaussian_conditional.
    With ``tau_variance=False`` the second moments of tau and theta_new are skipped (they
    are infinite for one group under a half-Cauchy prior) and only tau's mean is returned.
    """
    prior = tau_prior_distribution(tau_prior, tau_scale)
    upper = tau_scale if tau_prior == "uniform" else np.inf
    shift = gaussian_conditional(y, sigma, mu_loc, mu_scale, 1.0)[2]

    def integrand(tau: float) -> np.ndarray:
        mean, var, log_lik = gaussian_conditional(y, sigma, mu_loc, mu_scale, tau)
        weight = prior.pdf(tau) * math.exp(log_lik - shift)
        # theta_new ~ N(mu, tau): E[theta_new^2 | tau, y] = tau^2 + E[mu^2 | tau, y].
        new_second = tau**2 + var[-1] + mean[-1] ** 2 if tau_variance else 0.0
        tau_second = tau**2 if tau_variance else 0.0
        return weight * np.concatenate([[1.0, tau, tau_second, new_second], mean, var + mean**2])

    values, _ = integrate.quad_vec(integrand, 0.0, upper, epsabs=0.0, epsrel=1e-12, limit=2000)
    values = values / values[0]
    n = len(y)
    mean, second = values[4 : 5 + n], values[5 + n :]
    names = [f"theta[{j}]" for j in range(n)] + ["mu"]
    result = {name: (mean[i], math.sqrt(second[i] - mean[i] ** 2)) for i, name in enumerate(names)}
    if not tau_variance:
        return result | {"tau_mean": values[1]}
    result["tau"] = (values[1], math.sqrt(values[2] - values[1] ** 2))
    result["theta_new"] = (mean[-1], math.sqrt(values[3] - mean[-1] ** 2))
    return result


def log_marginal_given_tau(y, sigma, mu_loc: float, mu_scale: float, tau: float) -> float:
    """log p(y | tau): y ~ N(mu_loc, diag(sigma^2 + tau^2) + mu_scale^2 11'), by numpy."""
    cov = np.diag(np.asarray(sigma, dtype=float) ** 2 + tau**2) + mu_scale**2
    resid = np.asarray(y, dtype=float) - mu_loc
    _, log_det = np.linalg.slogdet(cov)
    return -0.5 * (
        log_det + resid @ np.linalg.solve(cov, resid) + len(resid) * math.log(2 * math.pi)
    )


def reference_tau_cdf(y, sigma, tau_prior, tau_scale, mu_loc=0.0, mu_scale=5.0):
    """The posterior CDF of tau by scipy.integrate.quad of prior x likelihood."""
    prior = tau_prior_distribution(tau_prior, tau_scale)
    upper = tau_scale if tau_prior == "uniform" else np.inf
    shift = log_marginal_given_tau(y, sigma, mu_loc, mu_scale, 1.0)

    def g(tau: float) -> float:
        return prior.pdf(tau) * math.exp(
            log_marginal_given_tau(y, sigma, mu_loc, mu_scale, tau) - shift
        )

    total = integrate.quad(g, 0.0, upper, epsabs=0.0, epsrel=1e-11, limit=500)[0]
    return lambda t: integrate.quad(g, 0.0, t, epsabs=0.0, epsrel=1e-11, limit=500)[0] / total


def assert_within_sd(post: pd.DataFrame, expected: dict, tol: float = NORMAL_ACCURACY) -> None:
    """Every expected (mean, sd) matches within tol x the row's posterior sd."""
    for name, (mean, sd) in expected.items():
        scale = post.loc[name, "sd"]
        assert abs(post.loc[name, "mean"] - mean) <= tol * scale, (
            f"{name} mean: got {post.loc[name, 'mean']!r}, expected {mean!r}"
        )
        assert abs(post.loc[name, "sd"] - sd) <= tol * scale, (
            f"{name} sd: got {post.loc[name, 'sd']!r}, expected {sd!r}"
        )


# --------------------------------------------------------------------------------------
# Output format
# --------------------------------------------------------------------------------------


def test_normal_rows_and_columns_are_named_like_az_summary():
    post = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA)
    assert list(post.index) == EIGHT_NAMES
    assert list(post.columns) == ["mean", "sd"]
    assert np.all(np.isfinite(post.to_numpy())) and np.all(post["sd"] > 0)
    assert post.attrs["error_estimate"] <= NORMAL_ACCURACY
    assert post.attrs["n_nodes"] >= 3


def test_normal_labels_name_the_theta_rows():
    named = hierarchical_normal(EIGHT_Y[:2], EIGHT_SIGMA[:2], labels=["Alpha", "Beta"])
    plain = hierarchical_normal(EIGHT_Y[:2], EIGHT_SIGMA[:2])
    assert list(named.index) == ["theta[Alpha]", "theta[Beta]", "mu", "tau", "theta_new"]
    np.testing.assert_array_equal(named.to_numpy(), plain.to_numpy())


def test_tau_quantiles_are_a_series_indexed_by_prob():
    q = hierarchical_normal_tau_quantiles(EIGHT_Y, EIGHT_SIGMA, probs=[0.5, 0.03, 0.97])
    assert q.name == "tau" and q.index.name == "prob"
    assert list(q.index) == [0.5, 0.03, 0.97]
    assert q[0.03] < q[0.5] < q[0.97]
    assert q.attrs["error_estimate"] <= NORMAL_ACCURACY


# --------------------------------------------------------------------------------------
# Closed forms
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [0.0, 0.3, 3.0, 40.0, 1e4])
def test_conditional_posterior_given_tau_is_the_conjugate_normal_one(tau):
    # The module's scalar formulas (shrinkage factors) against conditioning the joint
    # Gaussian of (theta, mu, y) by linear algebra.
    model = exact._validate_normal(EIGHT_Y, EIGHT_SIGMA, 2.0, 7.0, "half_cauchy", 5.0)
    cond = exact._conditional(model, np.array([tau, 1.0]))
    mean, var, log_lik = gaussian_conditional(EIGHT_Y, EIGHT_SIGMA, 2.0, 7.0, tau)
    # rtol: the reference's own rounding error, which grows like eps * tau^2 / sigma^2 in
    # the subtraction cov_x - gain @ cov_xy.T (about 1e-10 at tau = 1e4).
    rtol = 1e-8
    np.testing.assert_allclose(cond.theta_mean[0], mean[:8], rtol=rtol)
    np.testing.assert_allclose(cond.theta_var[0], var[:8], rtol=rtol)
    np.testing.assert_allclose(cond.mu_mean[0], mean[8], rtol=rtol)
    np.testing.assert_allclose(cond.mu_var[0], var[8], rtol=rtol)
    # log L(tau) is log p(y | tau) up to a constant: compare differences with tau = 1.
    reference_diff = log_lik - gaussian_conditional(EIGHT_Y, EIGHT_SIGMA, 2.0, 7.0, 1.0)[2]
    diff = cond.log_likelihood[0] - cond.log_likelihood[1]
    assert abs(diff - reference_diff) < 1e-10


def test_tau_confined_near_zero_gives_complete_pooling():
    # tau ~ Uniform(0, 1e-8): the likelihood is flat on that interval to ~1e-16, so tau
    # keeps its prior, and every theta_j equals mu, whose posterior is the conjugate normal
    # one for y_j ~ N(mu, sigma_j): precision 1/5^2 + sum 1/sigma_j^2.
    a = 1e-8
    post = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA, tau_prior="uniform", tau_scale=a)
    precision = 1 / 5.0**2 + np.sum(1 / EIGHT_SIGMA**2)
    pooled = (float(np.sum(EIGHT_Y / EIGHT_SIGMA**2) / precision), math.sqrt(1 / precision))
    expected = {name: pooled for name in [*EIGHT_NAMES[:8], "mu", "theta_new"]}
    expected["tau"] = (a / 2, a / math.sqrt(12))
    assert_within_sd(post, expected)


@pytest.mark.parametrize(
    ("tau_prior", "tau_mean", "tau_sd", "tau_second"),
    [
        ("half_normal", 2.0 * math.sqrt(2 / math.pi), 2.0 * math.sqrt(1 - 2 / math.pi), 4.0),
        ("uniform", 1.0, 2.0 / math.sqrt(12), 4.0 / 3),
    ],
)
def test_uninformative_data_give_back_the_prior(tau_prior, tau_mean, tau_sd, tau_second):
    # sigma = 1e12: the likelihood changes by a relative (tau / sigma)^2 ~ 1e-23 over the
    # prior's range, so the posterior is the prior: tau ~ HalfNormal(2) or Uniform(0, 2),
    # mu ~ N(1, 3), and theta_j (like theta_new) ~ N(1, sqrt(3^2 + E[tau^2])).
    post = hierarchical_normal(
        [4.0, -2.0, 9.0],
        [1e12] * 3,
        mu_loc=1.0,
        mu_scale=3.0,
        tau_prior=tau_prior,
        tau_scale=2.0,
    )
    theta = (1.0, math.sqrt(9.0 + tau_second))
    expected = {"mu": (1.0, 3.0), "tau": (tau_mean, tau_sd), "theta_new": theta}
    expected.update({f"theta[{j}]": theta for j in range(3)})
    assert_within_sd(post, expected)


def test_uninformative_data_give_back_the_half_cauchy_quantiles():
    # HalfCauchy(s) has no mean; its quantiles are s tan(pi p / 2) (the median is s).
    # With sigma = 1e12 the prior mass the likelihood damps (tau >~ 1e12) is 2 s / (pi
    # 1e12) ~ 3e-12, which moves these quantiles by less than 1e-9 relative.
    probs = np.array([0.03, 0.25, 0.5, 0.75, 0.97])
    q = hierarchical_normal_tau_quantiles([3.0, -1.0, 2.0], [1e12] * 3, probs=probs, tau_scale=7.0)
    np.testing.assert_allclose(q.to_numpy(), 7.0 * np.tan(np.pi * probs / 2), rtol=NORMAL_ACCURACY)
    post = hierarchical_normal([3.0, -1.0, 2.0], [1e12] * 3, mu_loc=-2.0, mu_scale=4.0)
    assert_within_sd(post, {"mu": (-2.0, 4.0)})


def test_half_cauchy_with_one_group_has_infinite_second_moments():
    # p(tau | y) ~ tau^-3 for one group: E[tau] is finite, E[tau^2] is not.
    post = hierarchical_normal([3.0], [2.0])
    assert np.isinf(post.loc["tau", "sd"]) and np.isinf(post.loc["theta_new", "sd"])
    reference = reference_posterior(
        np.array([3.0]), np.array([2.0]), "half_cauchy", 5.0, tau_variance=False
    )
    tau_mean = reference.pop("tau_mean")
    assert_within_sd(post, reference)  # theta[0] and mu
    assert abs(post.loc["tau", "mean"] - tau_mean) <= NORMAL_ACCURACY * tau_mean
    # Negative control: with two groups (tail tau^-4) the second moment is finite.
    assert np.isfinite(hierarchical_normal([3.0, 1.0], [2.0, 2.0]).loc["tau", "sd"])


# --------------------------------------------------------------------------------------
# Independent quadratures
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tau_prior", "tau_scale"), TAU_PRIORS, ids=TAU_PRIOR_IDS)
def test_eight_schools_match_an_independent_adaptive_quadrature(tau_prior, tau_scale):
    post = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA, tau_prior=tau_prior, tau_scale=tau_scale)
    reference = reference_posterior(EIGHT_Y, EIGHT_SIGMA, tau_prior, tau_scale)
    assert_within_sd(post, reference)


@pytest.mark.parametrize(("tau_prior", "tau_scale"), TAU_PRIORS, ids=TAU_PRIOR_IDS)
def test_tau_quantiles_match_an_independent_cdf(tau_prior, tau_scale):
    probs = [0.03, 0.5, 0.97]
    q = hierarchical_normal_tau_quantiles(
        EIGHT_Y, EIGHT_SIGMA, probs=probs, tau_prior=tau_prior, tau_scale=tau_scale
    )
    cdf = reference_tau_cdf(EIGHT_Y, EIGHT_SIGMA, tau_prior, tau_scale)
    for p in probs:
        expected = optimize.brentq(lambda t, p=p: cdf(t) - p, 1e-3, 30.0, xtol=1e-9)
        assert abs(q[p] - expected) <= NORMAL_ACCURACY * expected, f"{p}: {q[p]} vs {expected}"


@pytest.mark.parametrize(("tau_prior", "tau_scale"), TAU_PRIORS, ids=TAU_PRIOR_IDS)
def test_tau_density_is_the_normalised_prior_times_likelihood(tau_prior, tau_scale):
    kwargs = {"tau_prior": tau_prior, "tau_scale": tau_scale}
    grid = np.array([0.0, 0.5, 2.0, 7.0, 25.0])
    density = hierarchical_normal_tau_density(grid, EIGHT_Y, EIGHT_SIGMA, **kwargs)
    prior = tau_prior_distribution(tau_prior, tau_scale)
    log_lik = np.array([gaussian_conditional(EIGHT_Y, EIGHT_SIGMA, 0.0, 5.0, t)[2] for t in grid])
    unnormalised = prior.pdf(grid) * np.exp(log_lik - log_lik[0])
    total = integrate.quad(
        lambda t: hierarchical_normal_tau_density([t], EIGHT_Y, EIGHT_SIGMA, **kwargs)[0],
        0.0,
        tau_scale if tau_prior == "uniform" else np.inf,
        epsabs=0.0,
        epsrel=1e-10,
        limit=200,
    )[0]
    assert abs(total - 1.0) < NORMAL_ACCURACY  # normalised
    np.testing.assert_allclose(density / density[0], unnormalised / unnormalised[0], rtol=1e-10)


def test_tau_density_is_zero_outside_the_support_and_keeps_the_shape():
    tau = np.array([[-1.0, 0.0], [10.0, 10.5]])
    density = hierarchical_normal_tau_density(
        tau, EIGHT_Y, EIGHT_SIGMA, tau_prior="uniform", tau_scale=10.0
    )
    assert density.shape == (2, 2)
    assert density[0, 0] == 0.0 and density[1, 1] == 0.0  # below 0, above the bound
    assert density[0, 1] > 0.0 and density[1, 0] > 0.0  # both ends of the support count


# --------------------------------------------------------------------------------------
# Exact symmetries
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tau_prior", "tau_scale"), TAU_PRIORS, ids=TAU_PRIOR_IDS)
def test_negating_the_data_negates_the_effects(tau_prior, tau_scale):
    # With mu_loc = 0 the model is symmetric under y -> -y, theta -> -theta, mu -> -mu.
    kwargs = {"tau_prior": tau_prior, "tau_scale": tau_scale}
    post = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA, **kwargs)
    flip = hierarchical_normal(-EIGHT_Y, EIGHT_SIGMA, **kwargs)
    effects = [name for name in EIGHT_NAMES if name != "tau"]
    tol = NORMAL_ACCURACY * post["sd"]
    assert ((flip["mean"][effects] + post["mean"][effects]).abs() <= tol[effects]).all()
    assert abs(flip.loc["tau", "mean"] - post.loc["tau", "mean"]) <= tol["tau"]
    assert ((flip["sd"] - post["sd"]).abs() <= tol).all()
    # Negative control: with mu_loc != 0 the symmetry is broken.
    shifted = hierarchical_normal(-EIGHT_Y, EIGHT_SIGMA, mu_loc=3.0, **kwargs)
    assert abs(shifted.loc["mu", "mean"] + post.loc["mu", "mean"]) > 0.1


def test_permuting_schools_permutes_rows():
    order = np.array([3, 7, 0, 5, 1, 6, 2, 4])
    post = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA)
    perm = hierarchical_normal(EIGHT_Y[order], EIGHT_SIGMA[order])
    old_rows = [f"theta[{j}]" for j in order] + ["mu", "tau", "theta_new"]
    expected = post.loc[old_rows].to_numpy()
    tol = NORMAL_ACCURACY * expected[:, 1:]  # each row's posterior sd
    assert np.all(np.abs(perm.to_numpy() - expected) <= tol)
    # Negative control: the rows do move (the schools differ).
    assert np.any(np.abs(perm.to_numpy() - post.to_numpy()) > tol)


@pytest.mark.parametrize(("tau_prior", "tau_scale"), TAU_PRIORS, ids=TAU_PRIOR_IDS)
def test_changing_the_units_of_the_data_changes_the_posterior_alike(tau_prior, tau_scale):
    # y -> a + b y with every scale (sigma, mu_scale, tau_scale) times b and mu_loc -> a +
    # b mu_loc: all three priors are scale families, so means map by a + b x (tau: b x)
    # and sds by b x.
    a, b = -40.0, 12.5
    post = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA, tau_prior=tau_prior, tau_scale=tau_scale)
    moved = hierarchical_normal(
        a + b * EIGHT_Y,
        b * EIGHT_SIGMA,
        mu_loc=a,
        mu_scale=b * 5.0,
        tau_prior=tau_prior,
        tau_scale=b * tau_scale,
    )
    shift = pd.Series(a, index=post.index).where(post.index != "tau", 0.0)
    expected = {
        name: (shift[name] + b * post.loc[name, "mean"], b * post.loc[name, "sd"])
        for name in post.index
    }
    assert_within_sd(moved, expected, tol=2 * NORMAL_ACCURACY)


# --------------------------------------------------------------------------------------
# Numerical accuracy
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tau_prior", "tau_scale"), TAU_PRIORS, ids=TAU_PRIOR_IDS)
def test_a_much_finer_quadrature_agrees_to_the_promised_accuracy(monkeypatch, tau_prior, tau_scale):
    kwargs = {"tau_prior": tau_prior, "tau_scale": tau_scale}
    default = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA, **kwargs)
    default_q = hierarchical_normal_tau_quantiles(EIGHT_Y, EIGHT_SIGMA, **kwargs)
    # 16 times finer start, a 1e-4 times smaller cut-off tail, a 1e-6 stricter target.
    monkeypatch.setattr(exact, "_NORMAL_STEP", exact._NORMAL_STEP / 16)
    monkeypatch.setattr(exact, "_TAIL_MASS", exact._TAIL_MASS * 1e-4)
    monkeypatch.setattr(exact, "_NORMAL_ACCURACY", exact._NORMAL_ACCURACY * 1e-6)
    monkeypatch.setattr(exact, "_NORMAL_MAX_NODES", 2**16 + 1)
    fine = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA, **kwargs)
    fine_q = hierarchical_normal_tau_quantiles(EIGHT_Y, EIGHT_SIGMA, **kwargs)
    assert fine.attrs["n_nodes"] > 8 * default.attrs["n_nodes"]
    change = ((default - fine).abs().max(axis=1) / fine["sd"]).max()
    assert change <= NORMAL_ACCURACY, f"default vs fine quadrature: {change:.1e} sds"
    np.testing.assert_allclose(default_q, fine_q, rtol=NORMAL_ACCURACY)


def test_normal_refinement_warns_when_the_node_cap_is_too_small(monkeypatch):
    # Negative control for the self-consistency check: a cap below the first grid of the
    # eight schools (spacing 0.25) leaves the estimate above the target.
    monkeypatch.setattr(exact, "_NORMAL_STEP", 4.0)
    monkeypatch.setattr(exact, "_NORMAL_MAX_NODES", 9)
    with pytest.warns(RuntimeWarning, match="hierarchical_normal: estimated quadrature error"):
        post = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA)
    assert post.attrs["error_estimate"] > NORMAL_ACCURACY


def test_many_groups_are_handled_without_warning():
    # 2000 groups make p(tau | y) narrow (sd ~ 0.02 on the log scale): refinement copes.
    rng = np.random.default_rng(5)
    y = rng.normal(0.0, 2.0, size=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        post = hierarchical_normal(y, np.ones_like(y), tau_prior="half_normal")
    # Method of moments: Var(y) = sigma^2 + tau^2, so tau is about sqrt(4 - 1).
    assert abs(post.loc["tau", "mean"] - math.sqrt(3.0)) < 4 * post.loc["tau", "sd"]
    assert post.loc["tau", "sd"] < 0.06


# --------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------

NORMAL_FUNCTIONS = {
    "moments": lambda **kw: hierarchical_normal(**kw),
    "density": lambda **kw: hierarchical_normal_tau_density([1.0], **kw),
    "quantiles": lambda **kw: hierarchical_normal_tau_quantiles(**kw),
}


def normal_call(function: str, **changes):
    kwargs = {"y": [1.0, 2.0], "sigma": [1.0, 1.0]} | changes
    return NORMAL_FUNCTIONS[function](**kwargs)


@pytest.mark.parametrize("function", list(NORMAL_FUNCTIONS))
@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"y": ["a", "b"]}, TypeError, "y must be real numbers"),
        ({"y": [True, False]}, TypeError, "y must be real numbers"),
        ({"y": None}, TypeError, "y must be real numbers"),
        ({"sigma": [1 + 1j, 1.0]}, TypeError, "sigma must be real numbers"),
        ({"y": [[1.0], [1.0, 2.0]]}, ValueError, "y must be a flat sequence"),
        ({"y": [[1.0, 2.0]]}, ValueError, "y must be a 1-D sequence"),
        ({"y": 3.0, "sigma": 1.0}, ValueError, "y must be a 1-D sequence"),
        ({"y": [], "sigma": []}, ValueError, r"at least one group"),
        ({"y": [1.0, 2.0, 3.0]}, ValueError, "y and sigma must have the same length"),
        ({"y": [np.nan, 1.0]}, ValueError, "y must be finite"),
        ({"sigma": [1.0, np.inf]}, ValueError, "sigma must be finite"),
        ({"sigma": [1.0, 0.0]}, ValueError, r"sigma must be > 0"),
        ({"sigma": [-1.0, 1.0]}, ValueError, r"sigma must be > 0"),
        ({"mu_loc": "0"}, TypeError, "mu_loc must be a real number"),
        ({"mu_loc": True}, TypeError, "mu_loc must be a real number"),
        ({"mu_loc": np.nan}, ValueError, "mu_loc must be a finite number"),
        ({"mu_scale": None}, TypeError, "mu_scale must be a real number"),
        ({"mu_scale": 0.0}, ValueError, "mu_scale must be a positive finite number"),
        ({"mu_scale": -5.0}, ValueError, "mu_scale must be a positive finite number"),
        ({"tau_scale": np.inf}, ValueError, "tau_scale must be a positive finite number"),
        ({"tau_scale": "5"}, TypeError, "tau_scale must be a real number"),
        ({"tau_prior": "cauchy"}, ValueError, r"tau_prior must be one of \('half_cauchy'"),
        ({"tau_prior": "Uniform"}, ValueError, "tau_prior must be one of"),
        ({"tau_prior": None}, TypeError, "tau_prior must be a string"),
    ],
)
def test_bad_normal_input_raises_a_clear_error(function, changes, error, match):
    with pytest.raises(error, match=match):
        normal_call(function, **changes)


def test_normal_input_that_is_fine_is_accepted():
    # Negative control for the validation: integers, numpy scalars, tuples, pandas.
    post = hierarchical_normal(
        pd.Series([1, 2]), (1, 1), mu_loc=np.int64(0), mu_scale=np.float32(5), tau_scale=5
    )
    assert list(post.index[:2]) == ["theta[0]", "theta[1]"]


@pytest.mark.parametrize(
    ("labels", "error", "match"),
    [
        (["a"], ValueError, "labels must give 2 distinct group names"),
        (["a", "a"], ValueError, "labels must give 2 distinct group names"),
        ("ab", TypeError, "labels must be a sequence of group names, not a single string"),
    ],
)
def test_normal_labels_must_name_each_group_once(labels, error, match):
    with pytest.raises(error, match=match):
        hierarchical_normal([1.0, 2.0], [1.0, 1.0], labels=labels)


@pytest.mark.parametrize(
    ("tau", "error", "match"),
    [(["x"], TypeError, "tau must be real numbers"), ([np.nan], ValueError, "tau must be finite")],
)
def test_bad_tau_grid_raises_a_clear_error(tau, error, match):
    with pytest.raises(error, match=match):
        hierarchical_normal_tau_density(tau, [1.0, 2.0], [1.0, 1.0])


@pytest.mark.parametrize(
    ("probs", "error", "match"),
    [
        ([0.0], ValueError, "probs must be a 1-D sequence of probabilities"),
        ([0.5, 1.0], ValueError, "probs must be a 1-D sequence of probabilities"),
        ([1e-7], ValueError, "probs must be a 1-D sequence of probabilities"),
        ([], ValueError, "probs must be a 1-D sequence of probabilities"),
        ([[0.5]], ValueError, "probs must be a 1-D sequence of probabilities"),
        (["half"], TypeError, "probs must be real numbers"),
    ],
)
def test_bad_probs_raise_a_clear_error(probs, error, match):
    with pytest.raises(error, match=match):
        hierarchical_normal_tau_quantiles([1.0, 2.0], [1.0, 1.0], probs=probs)


# --------------------------------------------------------------------------------------
# Independent references: posteriordb draws and a PyMC run
# --------------------------------------------------------------------------------------

# Summaries of the posteriordb reference draws for eight_schools-eight_schools_noncentered
# (mu ~ normal(0, 5), tau ~ cauchy(0, 5) with tau >= 0, i.e. HalfCauchy(5), non-centered):
# https://github.com/stan-dev/posteriordb, commit 28f8d3d6e975315f42aa274a8399f21e07a43b30,
# file posterior_database/reference_posteriors/draws/draws/
# eight_schools-eight_schools_noncentered.json.zip (rstan 2.21.1, 10 chains x 1,000 draws
# thinned by 10, bulk ESS 9,533-10,095). posteriordb is BSD-3-Clause, Copyright (c)
# 2011-2024, Stan Developers and their Assignees. The means and their MCSEs equal those
# in posterior_database/reference_posteriors/summary_statistics/mean_value/mean_value/
# eight_schools-eight_schools_noncentered.json; the sds (az.summary), the quantiles
# (np.quantile) and all MCSEs (az.summary, az.mcse(method="quantile")) were computed from
# the draws with arviz 0.23. Stan's theta[1]..theta[8] are theta[0]..theta[7] here.
POSTERIORDB_EIGHT_SCHOOLS = pd.DataFrame(
    [
        # mean, mcse_mean, sd, mcse_sd
        (6.15050229334425, 0.0557375282295219, 5.615863, 0.062193),
        (4.9395811407422, 0.0462293788624847, 4.645578, 0.041210),
        (3.90590609001582, 0.0542313705632124, 5.280712, 0.056224),
        (4.79601675138494, 0.0474935816762281, 4.770938, 0.043609),
        (3.6144363246799, 0.0461450610244603, 4.614721, 0.041285),
        (4.0511475789675, 0.0485195392528031, 4.796248, 0.045213),
        (6.31716975886893, 0.0498766794075794, 5.002855, 0.046365),
        (4.88399694353288, 0.0542511606560972, 5.317692, 0.063636),
        (4.41051833695493, 0.0330374705950917, 3.309296, 0.023753),
        (3.60205952364059, 0.0318615135640706, 3.198478, 0.045513),
    ],
    index=[f"theta[{j}]" for j in range(8)] + ["mu", "tau"],
    columns=["mean", "mcse_mean", "sd", "mcse_sd"],
)
# prob: (quantile of tau, its MCSE)
POSTERIORDB_TAU_QUANTILES = {
    0.03: (0.14379542054742603, 0.009086601865038499),
    0.5: (2.747021367070835, 0.031205272591225075),
    0.97: (11.391939619493233, 0.22085126494169938),
}


def test_eight_schools_agree_with_the_posteriordb_reference_draws():
    # The quadrature error (<= 1e-6 sd) is negligible, so (reference - exact) / mcse is
    # approximately standard normal for each of the 23 numbers; |z| < 4 has a family-wise
    # false-alarm probability below 23 * 6.3e-5 = 1.5e-3 (Bonferroni).
    post = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA, mu_loc=0.0, mu_scale=5.0)
    ref = POSTERIORDB_EIGHT_SCHOOLS
    z_mean = (ref["mean"] - post.loc[ref.index, "mean"]) / ref["mcse_mean"]
    z_sd = (ref["sd"] - post.loc[ref.index, "sd"]) / ref["mcse_sd"]
    assert z_mean.abs().max() < 4, f"means:\n{z_mean}"
    assert z_sd.abs().max() < 4, f"sds:\n{z_sd}"
    probs = list(POSTERIORDB_TAU_QUANTILES)
    q = hierarchical_normal_tau_quantiles(EIGHT_Y, EIGHT_SIGMA, probs=probs)
    for p, (value, mcse) in POSTERIORDB_TAU_QUANTILES.items():
        assert abs(value - q[p]) < 4 * mcse, f"tau quantile {p}: {value} vs {q[p]}"


def test_posteriordb_comparison_detects_a_different_prior():
    # Negative control: the same check fails for the prior it does not describe
    # (HalfNormal(5) instead of HalfCauchy(5) on tau).
    post = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA, tau_prior="half_normal", tau_scale=5.0)
    ref = POSTERIORDB_EIGHT_SCHOOLS
    z_sd = (ref["sd"] - post.loc[ref.index, "sd"]) / ref["mcse_sd"]
    assert z_sd.abs().max() > 4


@pytest.mark.slow
def test_eight_schools_match_a_pymc_run():
    import arviz as az
    import pymc as pm

    from course_utils.diagnostics import check_sampling, compare_to_reference

    seed = 20240602
    with pm.Model(coords={"school": np.arange(8)}):
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta_tilde = pm.Normal("theta_tilde", 0.0, 1.0, dims="school")
        pm.Deterministic("theta", mu + tau * theta_tilde, dims="school")
        pm.Normal("y", mu + tau * theta_tilde, sigma=EIGHT_SIGMA, observed=EIGHT_Y)
        idata = pm.sample(
            draws=1500,
            tune=1000,
            chains=4,
            cores=2,
            target_accept=0.95,
            random_seed=seed,
            progressbar=False,
            compute_convergence_checks=False,
        )
    check_sampling(idata, ["mu", "tau", "theta"])  # raises on divergences, r_hat, ESS
    # theta_new ~ N(mu, tau), one draw per posterior draw (posterior predictive).
    post = idata.posterior
    rng = np.random.default_rng(seed)
    post["theta_new"] = post["mu"] + post["tau"] * rng.standard_normal(post["mu"].shape)

    exact_post = hierarchical_normal(EIGHT_Y, EIGHT_SIGMA, mu_loc=0.0, mu_scale=5.0)
    table = compare_to_reference(idata, exact_post)  # raises if any |z| > 4
    assert sorted(table.index) == sorted(EIGHT_NAMES)

    # tau quantiles, within 4 MCSEs of the quantile estimate (14 checks in all: false-alarm
    # probability below 1e-3).
    probs = [0.03, 0.5, 0.97]
    exact_q = hierarchical_normal_tau_quantiles(EIGHT_Y, EIGHT_SIGMA, probs=probs)
    draws = post["tau"].to_numpy().ravel()
    for p in probs:
        mcse = az.mcse(idata, var_names=["tau"], method="quantile", prob=p)["tau"].item()
        z = (np.quantile(draws, p) - exact_q[p]) / mcse
        assert abs(z) < 4, f"tau quantile {p}: z = {z:.2f}"
