r"""Checks for the exercises of lesson 07, "The eight schools".

Each function takes the student's answer first, then the lesson objects that give the
reference, and returns a :class:`~course_utils.exercises.Feedback`. The references:

- Exercise 1: the exact posterior means under :math:`\tau \sim \mathrm{Uniform}(0, 100)`
  (:func:`course_utils.exact.hierarchical_normal`), against the student's MCMC means within
  their Monte Carlo standard errors, convergence first;
- Exercise 2: the exact quantiles of :math:`\tau`
  (:func:`course_utils.exact.hierarchical_normal_tau_quantiles`);
- Exercise 3: the coverage of the intervals given the true :math:`\tau`, exactly 94% when the
  data are simulated from the model (:func:`oracle_coverage_se` gives its standard error),
  and the coverage with :math:`\hat\tau` plugged in, from a reference simulation of
  :data:`REFERENCE_SIMS` data sets (:func:`plugin_coverage_reference`).
Exercise 4 asks for an argument, not a number: it has no check.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from course_utils.exact import hierarchical_normal, hierarchical_normal_tau_quantiles
from course_utils.exercises import (
    FALSE_ALARM,
    Feedback,
    all_correct,
    as_count,
    check_number,
    check_posterior_mean,
    missing_answer,
)

__all__ = [
    "REFERENCE_SIMS",
    "coverage",
    "oracle_coverage_se",
    "plugin_coverage_reference",
    "tau_quantile_tables",
    "uniform_prior_fit",
]

_PROBS = (0.03, 0.5, 0.97)
_SCHOOL_COPIES = (1, 2, 4, 8)
#: Data sets of the reference simulation for the plug-in coverage of Exercise 3.
REFERENCE_SIMS = 40_000


def uniform_prior_fit(uniform_idata: Any, effect: ArrayLike, se: ArrayLike) -> Feedback:
    r"""Exercise 1: the fit with :math:`\tau \sim \mathrm{Uniform}(0, 100)`.

    The posterior means of ``mu``, ``tau`` and ``theta`` are compared with the exact ones,
    each within its Monte Carlo standard error, once the fit has converged.

    Parameters
    ----------
    uniform_idata : arviz.InferenceData
        The student's fit.
    effect, se : array_like
        The lesson's estimated effects and their standard errors.

    Returns
    -------
    Feedback
        Correct, "not converged", or the mistake named: the means of the half-Cauchy(5)
        model (the prior on tau unchanged).
    """
    if blank := missing_answer(uniform_idata=uniform_idata):
        return blank
    uniform = hierarchical_normal(effect, se, tau_prior="uniform", tau_scale=100.0)["mean"]
    cauchy = hierarchical_normal(effect, se)["mean"]
    n_school = np.asarray(effect).size
    rows = {
        "mu": ["mu"],
        "tau": ["tau"],
        "theta": [f"theta[{j}]" for j in range(n_school)],
    }
    unchanged = "it is what the HalfCauchy(5) prior gives: give tau pm.Uniform(0, 100)."
    return all_correct(
        [
            check_posterior_mean(
                uniform_idata,
                name,
                uniform[labels].to_numpy(),
                mistakes={unchanged: cauchy[labels].to_numpy()},
                false_alarm=FALSE_ALARM / len(rows),
            )
            for name, labels in rows.items()
        ],
        "Correct: the posterior means of mu, tau and theta agree with the exact ones.",
    )


def tau_quantile_tables(
    more_schools: Any, three_schools: Any, effect: ArrayLike, se: ArrayLike
) -> Feedback:
    r"""Exercise 2: the quantiles of :math:`\tau` with more schools, and with three.

    Parameters
    ----------
    more_schools : array_like, shape (4, 3)
        The 3%, 50% and 97% quantiles (columns) for 8, 16, 32 and 64 schools (rows), under
        the HalfCauchy(5) prior.
    three_schools : array_like, shape (2, 3)
        The same quantiles for the first three schools, under the HalfCauchy(5) (first row)
        and the Uniform(0, 100) prior (second row).
    effect, se : array_like
        The lesson's estimated effects and their standard errors.

    Returns
    -------
    Feedback
        Correct (to 0.005, a table rounded to 2 decimals), or the mistake named.
    """
    if blank := missing_answer(more_schools=more_schools, three_schools=three_schools):
        return blank
    effect, se = np.asarray(effect, dtype=float), np.asarray(se, dtype=float)

    def quantiles(y: np.ndarray, sigma: np.ndarray, **prior: Any) -> np.ndarray:
        return hierarchical_normal_tau_quantiles(y, sigma, probs=_PROBS, **prior).to_numpy()

    more = np.array([quantiles(np.tile(effect, k), np.tile(se, k)) for k in _SCHOOL_COPIES])
    three = np.array(
        [
            quantiles(effect[:3], se[:3]),
            quantiles(effect[:3], se[:3], tau_prior="uniform", tau_scale=100.0),
        ]
    )
    narrow = quantiles(effect[:3], se[:3], tau_prior="uniform", tau_scale=5.0)
    feedbacks = [
        check_number(
            np.ravel(np.asarray(more_schools, dtype=object)),
            more.ravel(),
            name="the quantiles for 8 to 64 schools",
            tolerance=0.005 + 1e-5 * np.abs(more.ravel()),
        ),
        check_number(
            np.ravel(np.asarray(three_schools, dtype=object)),
            three.ravel(),
            name="the quantiles for three schools",
            tolerance=0.005 + 1e-5 * np.abs(three.ravel()),
            mistakes={
                "its uniform row is Uniform(0, 5): the exercise's prior is Uniform(0, 100), "
                "tau_scale=100.": np.concatenate([three[0], narrow]),
            },
        ),
    ]
    return all_correct(feedbacks, "Correct: both tables of tau's quantiles are exact.")


def oracle_coverage_se(n_sims: int, level: float = 0.94) -> float:
    r"""Bound the standard error of a simulated coverage of ``n_sims`` data sets from above.

    Each data set's coverage is the share of its eight intervals that contain the truth, a
    mean of indicators with mean ``level``: its variance is at most
    :math:`\mathrm{level}(1 - \mathrm{level})` (eight perfectly correlated indicators), so
    the mean over data sets has a standard error of at most
    :math:`\sqrt{\mathrm{level}(1 - \mathrm{level}) / n_\text{sims}}`.

    Parameters
    ----------
    n_sims : int
        Number of simulated data sets.
    level : float, default 0.94
        The intervals' nominal coverage.

    Returns
    -------
    float

    Examples
    --------
    >>> round(oracle_coverage_se(2000), 4)
    0.0053
    """
    return float(np.sqrt(level * (1 - level) / n_sims))


def _conditional_intervals(
    tau: np.ndarray, y: np.ndarray, sigma: np.ndarray, mu_sd: float
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and sd of each theta_j given tau (one tau per data set)."""
    v = sigma**2 + tau[:, None] ** 2
    mu_var = 1 / (1 / mu_sd**2 + (1 / v).sum(axis=1))
    mu_hat = mu_var * (y / v).sum(axis=1)
    b = sigma**2 / v
    mean = b * mu_hat[:, None] + (1 - b) * y
    sd = np.sqrt(b * tau[:, None] ** 2 + b**2 * mu_var[:, None])
    return mean, sd


def _mml_tau(y: np.ndarray, sigma: np.ndarray, grid: np.ndarray, mu_sd: float) -> np.ndarray:
    """Return the grid value of tau that maximises p(y | tau) for each data set (row of y)."""
    best = np.full(y.shape[0], -np.inf)
    arg = np.zeros(y.shape[0])
    for tau in grid:  # a loop over the grid keeps the memory at one row of data sets
        v = sigma**2 + tau**2
        mu_var = 1 / (1 / mu_sd**2 + np.sum(1 / v))
        mu_hat = mu_var * (y @ (1 / v))
        loglik = -0.5 * (
            (y**2) @ (1 / v) - mu_hat**2 / mu_var + np.sum(np.log(v)) + np.log(mu_sd**2 / mu_var)
        )
        better = loglik > best
        best[better], arg[better] = loglik[better], tau
    return arg


@cache
def plugin_coverage_reference(
    se: tuple[float, ...], n_sims: int = REFERENCE_SIMS, seed: int = 20070
) -> tuple[float, float]:
    r"""Simulate the coverage of 94% intervals with :math:`\hat\tau` plugged in, at large scale.

    Exercise 3's simulation with ``n_sims`` data sets (:math:`\tau = 10`,
    :math:`\mu \sim \mathrm{Normal}(0, 5)`, the maximum marginal likelihood :math:`\hat\tau`
    on the grid 0, 0.1, ..., 100), vectorised, with a fixed seed.

    Parameters
    ----------
    se : tuple of float
        The schools' standard errors.
    n_sims : int, default :data:`REFERENCE_SIMS`
        Number of simulated data sets.
    seed : int
        Seed of the simulation.

    Returns
    -------
    coverage, standard_error : float
        The mean coverage and its Monte Carlo standard error.
    """
    rng = np.random.default_rng(seed)
    sigma = np.asarray(se, dtype=float)
    mu = rng.normal(0.0, 5.0, size=n_sims)
    theta = rng.normal(mu[:, None], 10.0, size=(n_sims, sigma.size))
    y = rng.normal(theta, sigma)
    tau_hat = _mml_tau(y, sigma, np.linspace(0, 100, 1001), mu_sd=5.0)
    mean, sd = _conditional_intervals(tau_hat, y, sigma, mu_sd=5.0)
    covered = (np.abs(theta - mean) < stats.norm.ppf(0.97) * sd).mean(axis=1)
    return float(covered.mean()), float(covered.std(ddof=1) / np.sqrt(n_sims))


def coverage(coverage_true: Any, coverage_mml: Any, n_sims: Any, se: ArrayLike) -> Feedback:
    r"""Exercise 3: the coverage of the intervals given the true and the estimated :math:`\tau`.

    Parameters
    ----------
    coverage_true, coverage_mml : float
        The student's mean coverage with :math:`\tau` at its true value and at
        :math:`\hat\tau`.
    n_sims : int
        The number of simulated data sets.
    se : array_like
        The schools' standard errors.

    Returns
    -------
    Feedback
        Correct, or which coverage is off. Given the true :math:`\tau`, the coverage is
        exactly 94% (the intervals are the exact posterior intervals, and the data come from
        the model); with :math:`\hat\tau`, the reference comes from
        :func:`plugin_coverage_reference`.
    """
    if blank := missing_answer(
        coverage_true=coverage_true, coverage_mml=coverage_mml, n_sims=n_sims
    ):
        return blank
    if (count := as_count(n_sims)) is None:
        return Feedback(
            "incorrect", f"n_sims should be the number of simulated data sets, got {n_sims!r}."
        )
    reference, reference_se = plugin_coverage_reference(tuple(np.asarray(se, dtype=float)))
    # the student's plug-in coverage: per data set a mean of 8 indicators, variance at most
    # reference * (1 - reference)
    student_se = np.sqrt(reference * (1 - reference) / count)
    half = FALSE_ALARM / 2
    return all_correct(
        [
            check_number(
                coverage_true,
                0.94,
                name="the coverage given the true tau",
                mcse=oracle_coverage_se(count),
                false_alarm=half,
            ),
            check_number(
                coverage_mml,
                reference,
                name="the coverage with tau_hat plugged in",
                mcse=student_se,
                reference_se=reference_se,
                mistakes={
                    "it is the coverage given the true tau: plug in each data set's own "
                    "tau_hat.": 0.94
                },
                false_alarm=half,
            ),
        ],
        "Correct: the exact 94% given the true tau, and less with tau_hat plugged in.",
    )
