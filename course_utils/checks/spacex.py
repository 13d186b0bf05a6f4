r"""Checks for the exercises of lesson 04, "SpaceX launches: pooling and the beta-binomial".

Each function takes the student's answer first, then the lesson objects that give the
reference, and returns a :class:`~course_utils.exercises.Feedback`. The references are exact:

- Exercises 1 and 2: :func:`course_utils.exact.hierarchical_beta_binomial` (quadrature,
  relative accuracy 1e-5), compared to 0.0005 (a table rounded to 3 decimals);
- Exercise 3: :math:`P(\theta_{\mathrm{FH}} > \theta_{\mathrm{F9}})`. Under no pooling the
  two rates have independent conjugate posteriors, :math:`\mathrm{Beta}(y_j + 1/2,
  N_j - y_j + 1/2)`, and the probability is one integral; the student's estimate has the
  Monte Carlo standard error of the indicator's mean in the lesson's fit. In the hierarchical
  fit each :math:`\theta_j` is drawn from its conditional posterior given the draw of
  :math:`(\alpha, \beta)`; the reference is the conditional probability averaged exactly over
  those draws, and the estimate's standard error given the draws is
  :math:`\sqrt{\overline{p_s (1 - p_s)} / S}`;
- Exercise 4: the exact posterior means of :math:`\mu` and :math:`\kappa` under
  :math:`\mu \sim \mathrm{Beta}(1, 1)`, :math:`\kappa \sim \mathrm{HalfNormal}(10)`, against
  the student's MCMC means within their Monte Carlo standard errors, convergence first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from course_utils.exact import hierarchical_beta_binomial
from course_utils.exercises import (
    FALSE_ALARM,
    Feedback,
    all_correct,
    check_number,
    check_posterior_mean,
    missing_answer,
)

__all__ = [
    "falcon_heavy_better",
    "conditional_probability_greater",
    "mean_concentration_fit",
    "prior_scale",
    "probability_greater",
    "tenth_flight",
]

_ROUNDING = 0.0005
_SCALES = (1.0, 10.0, 100.0)
_SENSITIVITY_ROWS = ["mu", "theta[Falcon 1]", "theta_new"]
_AFTER_ROWS = ["theta[Starship]", "mu", "theta_new"]
_JEFFREYS = 0.5  # the no-pooling prior Beta(1/2, 1/2)
_NODES = 161  # trapezoid nodes on the logit scale, +-12 sd (tests: error about 1e-9)


def _rounded(reference: NDArray[np.float64]) -> NDArray[np.float64]:
    return _ROUNDING + 1e-5 * np.abs(reference)


def probability_greater(
    a1: ArrayLike, b1: ArrayLike, a2: ArrayLike, b2: ArrayLike
) -> NDArray[np.float64]:
    r""":math:`P(X_1 > X_2)` for independent :math:`X_i \sim \mathrm{Beta}(a_i, b_i)`.

    The integral :math:`\int f_2(x)\, P(X_1 > x)\, dx` is taken on the logit scale,
    :math:`t = \operatorname{logit} x`, where the density of :math:`X_2` is smooth, unimodal
    and decays exponentially on both sides; its mean and sd there are exact
    (:math:`\psi(a_2) - \psi(b_2)` and :math:`\sqrt{\psi_1(a_2) + \psi_1(b_2)}`). The trapezoid
    rule over 12 sds on either side converges geometrically for such an integrand. It is
    accurate when :math:`X_2` is not too concentrated near 0 or 1 on the logit scale
    (:math:`a_2, b_2 \gtrsim 1`); the tests compare it with adaptive quadrature.

    Parameters
    ----------
    a1, b1, a2, b2 : array_like
        Positive Beta parameters; broadcast together.

    Returns
    -------
    numpy.ndarray
        The probabilities, of the broadcast shape.

    Examples
    --------
    >>> float(probability_greater(2.0, 2.0, 2.0, 2.0).round(6))
    0.5
    >>> float(probability_greater(1.0, 1.0, 1.0, 1.0).round(6))
    0.5
    """
    a1, b1, a2, b2 = (np.asarray(v, dtype=float)[..., None] for v in (a1, b1, a2, b2))
    centre = special.digamma(a2) - special.digamma(b2)
    spread = np.sqrt(special.polygamma(1, a2) + special.polygamma(1, b2))
    t = centre + spread * np.linspace(-12.0, 12.0, _NODES)
    log_density = a2 * special.log_expit(t) + b2 * special.log_expit(-t) - special.betaln(a2, b2)
    above = special.betainc(b1, a1, special.expit(-t))  # P(X1 > x) at x = expit(t)
    return np.asarray(np.trapezoid(np.exp(log_density) * above, t, axis=-1))


def conditional_probability_greater(
    alpha: ArrayLike, beta: ArrayLike, first: tuple[float, float], second: tuple[float, float]
) -> tuple[float, float]:
    r"""Average :math:`P(\theta_1 > \theta_2 \mid \alpha_s, \beta_s, y)` over draws, with its se.

    Given a draw :math:`(\alpha_s, \beta_s)`, the rates of two groups with :math:`y` successes
    in :math:`N` trials are independent, :math:`\theta \sim \mathrm{Beta}(\alpha_s + y,
    \beta_s + N - y)`. An estimate that draws one pair of rates per draw and counts
    :math:`\theta_1 > \theta_2` is a sum of independent Bernoulli(:math:`p_s`) given the
    draws, so it has mean :math:`\bar p` and standard error
    :math:`\sqrt{\overline{p_s (1 - p_s)} / S}` given them.

    Parameters
    ----------
    alpha, beta : array_like
        The posterior draws (any shape, read flat).
    first, second : tuple of float
        ``(successes, trials)`` of the two groups.

    Returns
    -------
    tuple of float
        The probability given the draws, and the standard error of a one-draw-each estimate.

    Examples
    --------
    >>> p, se = conditional_probability_greater([1.0, 2.0], [1.0, 2.0], (3, 6), (3, 6))
    >>> round(p, 6), round(se, 4)
    (0.5, 0.3536)
    """
    a = np.asarray(alpha, dtype=float).ravel()
    b = np.asarray(beta, dtype=float).ravel()
    (y1, n1), (y2, n2) = first, second
    p = probability_greater(a + y1, b + n1 - y1, a + y2, b + n2 - y2)
    return float(p.mean()), float(np.sqrt((p * (1 - p)).mean() / p.size))


def _exact(
    successes: ArrayLike, launches: ArrayLike, vehicles: Sequence[str], scale: float = 10.0
) -> Any:
    return hierarchical_beta_binomial(
        successes, launches, parameterization="alpha_beta", scale=scale, labels=list(vehicles)
    )


def tenth_flight(
    after_tenth: Any, successes: ArrayLike, launches: ArrayLike, vehicles: Sequence[str]
) -> Feedback:
    r"""Exercise 1: the posterior means after Starship's tenth flight, a success.

    Parameters
    ----------
    after_tenth : array_like
        The student's exact posterior means of Starship's rate, :math:`\mu` and
        :math:`\theta_{\mathrm{new}}`, in that order, with Starship at 6 of 10.
    successes, launches : array_like of int
        The lesson's counts, one per vehicle (Starship at 5 of 9).
    vehicles : sequence of str
        The vehicles' names, in the order of the counts.

    Returns
    -------
    Feedback
        Correct, or the mistake named: a success without a launch (6 of 9), a launch without
        a success (5 of 10), or the counts unchanged.

    Examples
    --------
    >>> names = ["Falcon 1", "Falcon 9", "Falcon Heavy", "Starship"]
    >>> y, n = np.array([2, 301, 9, 5]), np.array([5, 304, 9, 9])
    >>> exact = hierarchical_beta_binomial(y + [0, 0, 0, 1], n + [0, 0, 0, 1],
    ...                                    parameterization="alpha_beta", labels=names)
    >>> tenth_flight(exact.loc[["theta[Starship]", "mu", "theta_new"], "mean"], y, n,
    ...              names).status
    'correct'
    """
    if blank := missing_answer(after_tenth=after_tenth):
        return blank
    y, n = np.asarray(successes), np.asarray(launches)
    starship = np.array([name == "Starship" for name in vehicles], dtype=int)

    def means(extra_successes: int, extra_launches: int) -> NDArray[np.float64]:
        table = _exact(y + extra_successes * starship, n + extra_launches * starship, vehicles)
        return np.asarray(table.loc[_AFTER_ROWS, "mean"], dtype=float)

    reference = means(1, 1)
    feedback = check_number(
        after_tenth,
        reference,
        name="the posterior means of Starship's rate, mu and theta_new",
        tolerance=_rounded(reference),
        mistakes={
            "these are the values for 6 of 9: a tenth flight adds a launch too.": lambda: means(
                1, 0
            ),
            "these are the values for 5 of 10: the tenth flight is a success.": lambda: means(0, 1),
            "these are the values before the tenth flight: add it to Starship's counts.": (
                lambda: means(0, 0)
            ),
        },
    )
    return all_correct([feedback], "Correct: the exact posterior means after the tenth flight.")


def prior_scale(
    by_scale: Any, successes: ArrayLike, launches: ArrayLike, vehicles: Sequence[str]
) -> Feedback:
    r"""Exercise 2: the posterior means of :math:`\mu`, Falcon 1 and a new vehicle by prior scale.

    Parameters
    ----------
    by_scale : array_like, shape (3, 3)
        The student's exact posterior means: one row each for :math:`\mu`,
        :math:`\theta_{\mathrm{Falcon\ 1}}` and :math:`\theta_{\mathrm{new}}`, one column per
        prior scale 1, 10 and 100 (a DataFrame laid out so is read by its values).
    successes, launches : array_like of int
        The lesson's counts, one per vehicle.
    vehicles : sequence of str
        The vehicles' names, in the order of the counts.

    Returns
    -------
    Feedback
        Correct, or the mistake named: the table transposed.

    Examples
    --------
    >>> names = ["Falcon 1", "Falcon 9", "Falcon Heavy", "Starship"]
    >>> y, n = [2, 301, 9, 5], [5, 304, 9, 9]
    >>> table = np.column_stack([
    ...     hierarchical_beta_binomial(y, n, parameterization="alpha_beta", scale=s,
    ...                                labels=names).loc[["mu", "theta[Falcon 1]", "theta_new"],
    ...                                                  "mean"]
    ...     for s in (1.0, 10.0, 100.0)])
    >>> prior_scale(table.round(3), y, n, names).status
    'correct'
    """
    if blank := missing_answer(by_scale=by_scale):
        return blank
    reference = np.column_stack(
        [
            np.asarray(
                _exact(successes, launches, vehicles, scale).loc[_SENSITIVITY_ROWS, "mean"],
                dtype=float,
            )
            for scale in _SCALES
        ]
    )
    feedback = check_number(
        by_scale,
        reference,
        name="the table of posterior means",
        tolerance=_rounded(reference),
        mistakes={
            "it is transposed: one row per quantity (mu, Falcon 1, theta_new), one column per "
            "scale (1, 10, 100).": reference.T
        },
    )
    return all_correct([feedback], "Correct: the exact posterior means for the three scales.")


def _indicator_mcse(idata: Any, first: str, second: str) -> float:
    import arviz as az

    theta = idata.posterior["theta"]
    above = (theta.sel(vehicle=first) > theta.sel(vehicle=second)).astype(float)
    return float(az.mcse(above.to_dataset(name="above"))["above"])


def falcon_heavy_better(
    fh_better: Any,
    no_pooling_idata: Any,
    hierarchical_idata: Any,
    successes: ArrayLike,
    launches: ArrayLike,
    vehicles: Sequence[str],
) -> Feedback:
    r"""Exercise 3: :math:`P(\theta_{\mathrm{Falcon\ Heavy}} > \theta_{\mathrm{Falcon\ 9}})`.

    Parameters
    ----------
    fh_better : array_like
        The student's two estimates from the lesson's draws: under no pooling, then under the
        hierarchical model.
    no_pooling_idata, hierarchical_idata : arviz.InferenceData
        The lesson's fits (the hierarchical one with ``theta`` drawn given alpha and beta).
    successes, launches : array_like of int
        The lesson's counts, one per vehicle.
    vehicles : sequence of str
        The vehicles' names, in the order of the counts.

    Returns
    -------
    Feedback
        Correct, or the mistake named: the probability that Falcon Heavy is *lower*, or the
        two models in the other order.
    """
    if blank := missing_answer(fh_better=fh_better):
        return blank
    y, n = np.asarray(successes, dtype=float), np.asarray(launches, dtype=float)
    heavy, nine = list(vehicles).index("Falcon Heavy"), list(vehicles).index("Falcon 9")
    no_pooling = float(
        probability_greater(
            y[heavy] + _JEFFREYS,
            n[heavy] - y[heavy] + _JEFFREYS,
            y[nine] + _JEFFREYS,
            n[nine] - y[nine] + _JEFFREYS,
        )
    )
    posterior = hierarchical_idata.posterior
    hierarchical, hierarchical_se = conditional_probability_greater(
        posterior["alpha"], posterior["beta"], (y[heavy], n[heavy]), (y[nine], n[nine])
    )
    reference = np.array([no_pooling, hierarchical])
    se = np.array([_indicator_mcse(no_pooling_idata, "Falcon Heavy", "Falcon 9"), hierarchical_se])
    feedback = check_number(
        fh_better,
        reference,
        name="P(theta[Falcon Heavy] > theta[Falcon 9])",
        mcse=se,
        mistakes={
            "it is the probability that Falcon Heavy's rate is lower: compare with >.": (
                1 - reference
            ),
            "the two models are swapped: no pooling first, then the hierarchical model.": (
                reference[::-1]
            ),
        },
    )
    return all_correct(
        [feedback], "Correct: the probabilities under no pooling and the hierarchical model."
    )


def mean_concentration_fit(
    mean_concentration_idata: Any, successes: ArrayLike, launches: ArrayLike
) -> Feedback:
    r"""Exercise 4: the fit with priors on the mean :math:`\mu` and concentration :math:`\kappa`.

    The posterior means of ``mu`` and ``kappa`` are compared with the exact ones, each within
    its Monte Carlo standard error, once the fit has converged.

    Parameters
    ----------
    mean_concentration_idata : arviz.InferenceData
        The student's fit.
    successes, launches : array_like of int
        The lesson's counts, one per vehicle.

    Returns
    -------
    Feedback
        Correct, "not converged", or the mistake named: ``alpha`` and ``beta`` swapped
        (:math:`\mu` is then the failure rate).
    """
    if blank := missing_answer(mean_concentration_idata=mean_concentration_idata):
        return blank
    exact = hierarchical_beta_binomial(successes, launches, parameterization="mu_nu", scale=10.0)
    means = {"mu": float(exact.loc["mu", "mean"]), "kappa": float(exact.loc["nu", "mean"])}
    swapped = {"mu": 1 - means["mu"], "kappa": means["kappa"]}
    hint = "mu is the failure rate: alpha = mu * kappa and beta = (1 - mu) * kappa."
    return all_correct(
        [
            check_posterior_mean(
                mean_concentration_idata,
                name,
                means[name],
                mistakes={hint: swapped[name]} if name == "mu" else None,
                false_alarm=FALSE_ALARM / len(means),
            )
            for name in means
        ],
        "Correct: the posterior means of mu and kappa agree with the exact ones.",
    )
