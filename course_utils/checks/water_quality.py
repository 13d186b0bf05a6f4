r"""Checks for the exercises of lesson 03, "Water quality: a hierarchical beta-binomial".

Each function takes the student's answer first, then the lesson objects that give the
reference, and returns a :class:`~course_utils.exercises.Feedback`. The references are exact:

- Exercises 1 and 2: :func:`course_utils.exact.hierarchical_beta_binomial` (quadrature,
  relative accuracy 1e-5), compared to 0.0005 (a table rounded to 3 decimals);
- Exercise 3: the exact posterior means under :math:`\nu \sim \mathrm{HalfNormal}(100)`,
  against the student's MCMC means within their Monte Carlo standard errors, convergence
  first;
- Exercise 4: the posterior predictive probability :math:`P(\tilde y_j \ge y_j)`, averaged
  exactly over the fit's draws of :math:`\theta_j` (binomial tails); the student's estimate
  from one simulated count per draw has the standard error
  :math:`\sqrt{\overline{p_s (1 - p_s)} / S}` given the draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from course_utils.exact import hierarchical_beta_binomial
from course_utils.exercises import (
    FALSE_ALARM,
    Feedback,
    all_correct,
    check_number,
    check_posterior_mean,
    missing_answer,
)

__all__ = ["more_regions", "north_with_more_samples", "predictive_tail", "strong_pooling_fit"]

_MIXED = (18, 3, 3)
_ROUNDING = 0.0005


def _rounded(reference: np.ndarray) -> np.ndarray:
    return _ROUNDING + 1e-5 * np.abs(reference)


def more_regions(thirty_sd: Any) -> Feedback:
    r"""Exercise 1: the posterior sds of :math:`\mu` and :math:`\nu` with 30 regions.

    Parameters
    ----------
    thirty_sd : array_like
        The posterior sd of :math:`\mu`, then of :math:`\nu`, for ten copies of the mixed
        pattern (18, 3, 3), 30 samples each.

    Returns
    -------
    Feedback
        Correct, or the mistake named: the three-region values.

    Examples
    --------
    >>> exact = hierarchical_beta_binomial([18, 3, 3] * 10, [30] * 30, parameterization="mu_nu")
    >>> more_regions(exact.loc[["mu", "nu"], "sd"]).status
    'correct'
    """
    if blank := missing_answer(thirty_sd=thirty_sd):
        return blank
    rows = ["mu", "nu"]
    thirty = hierarchical_beta_binomial(list(_MIXED) * 10, [30] * 30, parameterization="mu_nu")
    three = hierarchical_beta_binomial(list(_MIXED), [30] * 3, parameterization="mu_nu")
    reference = thirty.loc[rows, "sd"].to_numpy()
    feedback = check_number(
        thirty_sd,
        reference,
        name="the posterior sds of mu and nu",
        tolerance=_rounded(reference),
        mistakes={
            "these are the three-region values: repeat the counts and sizes ten times.": (
                three.loc[rows, "sd"].to_numpy()
            )
        },
    )
    return all_correct([feedback], "Correct: the exact posterior sds with 30 regions.")


def north_with_more_samples(north_300: Any) -> Feedback:
    r"""Exercise 2: the posterior mean of North's :math:`\theta` with 300 samples per region.

    Parameters
    ----------
    north_300 : float
        The student's exact posterior mean for counts (180, 30, 30) out of 300 each.

    Returns
    -------
    Feedback
        Correct, or the mistake named: the value with 30 samples per region.

    Examples
    --------
    >>> exact = hierarchical_beta_binomial([180, 30, 30], [300] * 3, parameterization="mu_nu")
    >>> north_with_more_samples(exact.loc["theta[0]", "mean"]).status
    'correct'
    """
    if blank := missing_answer(north_300=north_300):
        return blank

    def north(safe: list[int], n: int) -> float:
        exact = hierarchical_beta_binomial(safe, [n] * 3, parameterization="mu_nu")
        return float(exact.loc["theta[0]", "mean"])

    reference = north([180, 30, 30], 300)
    feedback = check_number(
        north_300,
        reference,
        name="North's posterior mean",
        tolerance=_rounded(np.array(reference)),
        mistakes={
            "it is the value with 30 samples per region: use (180, 30, 30) out of 300.": north(
                list(_MIXED), 30
            )
        },
    )
    return all_correct([feedback], "Correct: North's exact posterior mean with 300 samples.")


def strong_pooling_fit(
    strong_pooling_idata: Any,
    counts: Any,
    N_SAMPLES: ArrayLike,  # noqa: N803 - the lesson's name
) -> Feedback:
    r"""Exercise 3: the fit of the ``18-18-18`` data with :math:`\nu \sim \mathrm{HalfNormal}(100)`.

    The posterior means of ``mu`` and ``theta`` are compared with the exact ones, each within
    its Monte Carlo standard error, once the fit has converged.

    Parameters
    ----------
    strong_pooling_idata : arviz.InferenceData
        The student's fit.
    counts : pandas.DataFrame
        The lesson's table of safe counts, one column per data set.
    N_SAMPLES : array_like of int
        Samples per region.

    Returns
    -------
    Feedback
        Correct, "not converged", or the mistake named: the HalfNormal(10) prior unchanged.
    """
    if blank := missing_answer(strong_pooling_idata=strong_pooling_idata):
        return blank
    safe = np.asarray(counts["18-18-18"])

    def means(scale: float) -> Any:
        return hierarchical_beta_binomial(safe, N_SAMPLES, parameterization="mu_nu", scale=scale)[
            "mean"
        ]

    strong, weak = means(100.0), means(10.0)
    rows = {"mu": ["mu"], "theta": [f"theta[{j}]" for j in range(safe.size)]}
    unchanged = "it is what nu ~ HalfNormal(10) gives: give nu the prior HalfNormal(100)."
    return all_correct(
        [
            check_posterior_mean(
                strong_pooling_idata,
                name,
                strong[labels].to_numpy(),
                mistakes={unchanged: weak[labels].to_numpy()},
                false_alarm=FALSE_ALARM / len(rows),
            )
            for name, labels in rows.items()
        ],
        "Correct: the posterior means of mu and theta agree with the exact ones.",
    )


def predictive_tail(
    p_at_least: Any,
    hierarchical_idatas: Any,
    counts: Any,
    N_SAMPLES: ArrayLike,  # noqa: N803 - the lesson's name
) -> Feedback:
    r"""Exercise 4: :math:`P(\tilde y_j \ge y_j)` for each region of the ``18-3-3`` fit.

    Parameters
    ----------
    p_at_least : array_like
        The student's probabilities, one per region.
    hierarchical_idatas : mapping of str to arviz.InferenceData
        The lesson's fits, by data set.
    counts : pandas.DataFrame
        The lesson's table of safe counts, one column per data set.
    N_SAMPLES : array_like of int
        Samples per region.

    Returns
    -------
    Feedback
        Correct, or the mistake named: :math:`P(\tilde y_j > y_j)`.

    Examples
    --------
    >>> import arviz as az, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.beta([12, 3, 3], [18, 27, 27], size=(4, 500, 3))
    >>> fits = {"18-3-3": az.from_dict(posterior={"theta": theta})}
    >>> table = pd.DataFrame({"18-3-3": [18, 3, 3]})
    >>> answer = (rng.binomial(30, theta) >= [18, 3, 3]).mean(axis=(0, 1))
    >>> predictive_tail(answer, fits, table, (30, 30, 30)).status
    'correct'
    """
    if blank := missing_answer(p_at_least=p_at_least):
        return blank
    theta = np.asarray(hierarchical_idatas["18-3-3"].posterior["theta"], dtype=float)
    theta = theta.reshape(-1, theta.shape[-1])  # (draw, region)
    observed = np.asarray(counts["18-3-3"])
    n = np.asarray(N_SAMPLES)
    at_least = stats.binom.sf(observed - 1, n, theta)  # P(count >= observed | theta_s)
    above = stats.binom.sf(observed, n, theta)  # P(count > observed | theta_s)
    reference = at_least.mean(axis=0)
    se = np.sqrt((at_least * (1 - at_least)).mean(axis=0) / theta.shape[0])
    feedback = check_number(
        p_at_least,
        reference,
        name="P(simulated >= observed)",
        mcse=se,
        mistakes={
            "it is P(simulated > observed): the exercise asks for at least the observed "
            "count (>=).": above.mean(axis=0)
        },
    )
    return all_correct([feedback], "Correct: the posterior predictive probabilities.")
