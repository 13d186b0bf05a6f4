r"""Checks for the exercises of lesson 06, "Two groups, one regression".

Each function takes the student's answer first, then the lesson objects that give the
reference, and returns a :class:`~course_utils.exercises.Feedback`.

- Exercise 1: the least-squares weights against the weights the data were simulated with,
  within their sampling standard errors :math:`\sigma \sqrt{[(X^\top X)^{-1}]_{kk}}` (exact
  for a fixed design and normal noise); the residual sd against the noise sd :math:`\sigma`,
  within :math:`\sigma / \sqrt{2 (n - p)}` (the normal approximation of a chi distribution),
  plus :math:`\sigma p / n` for the choice of divisor, :math:`n` or :math:`n - p`.
- Exercise 2: the observed slope exactly (least squares on group A's rows); the replicated
  slopes by their mean and variance given the posterior draws
  (:func:`course_utils.exercises.check_predictive_draws`): a replicated slope is
  :math:`w_{2,s}` plus independent normal noise of variance :math:`\sigma_s^2 c`, with
  :math:`c = [(X_A^\top X_A)^{-1}]_{22}`.
- Exercise 3 asks which form mixes better and why: an argument about diagnostics, not a
  number, so it has no check.
- Exercise 4: the ratio of the posterior sd of :math:`z` to the ridge width, computed from the
  lesson's draws as the exercise defines it; compared to a relative 5%, which covers
  :math:`s` typed as the rounded 0.016 but not another definition of the ratio (a mean for the
  median, a sd pooled over the groups), which changes it by more on the lesson's fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_utils.exercises import (
    FALSE_ALARM,
    Feedback,
    all_correct,
    check_number,
    check_predictive_draws,
    missing_answer,
)
from course_utils.simulate import TwoGroupRegression

__all__ = ["agreeing_groups", "group_slope", "ridge_ratio"]

_RELATIVE = 1e-3
_RATIO_RELATIVE = 0.05
_SLOPE_COLUMN = 2  # x2, the strongest feature


def _least_squares(X: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:  # noqa: N803
    coef, *_ = np.linalg.lstsq(np.asarray(X, dtype=float), np.asarray(y, dtype=float), rcond=None)
    return np.asarray(coef)


def agreeing_groups(w_same: Any, residual_sd: Any, data_same: Any) -> Feedback:
    r"""Exercise 1: the pooled least-squares weights and residual sd when the groups agree.

    Parameters
    ----------
    w_same : array_like
        The student's least-squares weights, one per feature.
    residual_sd : float
        The sd of the residuals :math:`y - X w`.
    data_same : course_utils.simulate.TwoGroupRegression
        The data the student simulated (with ``w_b`` equal to ``w_a``).

    Returns
    -------
    Feedback
        Correct, or the mistake named: data whose groups have different weights.

    Examples
    --------
    >>> from course_utils.simulate import simulate_two_group_regression
    >>> data = simulate_two_group_regression(np.random.default_rng(1), w_b=(1, 3.5, 6))
    >>> w, *_ = np.linalg.lstsq(data.X, data.y, rcond=None)
    >>> agreeing_groups(w, np.std(data.y - data.X @ w), data).status
    'correct'
    """
    if blank := missing_answer(data_same=data_same, w_same=w_same, residual_sd=residual_sd):
        return blank
    if not isinstance(data_same, TwoGroupRegression):
        return Feedback(
            "incorrect",
            "data_same should be what simulate_two_group_regression returns, got "
            f"{type(data_same).__name__}.",
        )
    weights = np.asarray(data_same.w, dtype=float)
    if not np.allclose(weights[:, 0], weights[:, 1]):
        return Feedback(
            "incorrect",
            f"In data_same the groups have different weights ({weights[:, 0].tolist()} and "
            f"{weights[:, 1].tolist()}): simulate with w_b equal to w_a, (1, 3.5, 6).",
        )
    X = np.asarray(data_same.X, dtype=float)  # noqa: N806
    n, p = X.shape
    sigma = float(data_same.noise_sd)
    se = sigma * np.sqrt(np.diag(np.linalg.inv(X.T @ X)))
    return all_correct(
        [
            check_number(
                w_same,
                weights[:, 0],
                name="the pooled weights",
                mcse=se,
                false_alarm=FALSE_ALARM / 2,
            ),
            check_number(
                residual_sd,
                sigma,
                name="the residual sd",
                mcse=sigma / np.sqrt(2 * (n - p)),
                tolerance=sigma * p / n,
                false_alarm=FALSE_ALARM / 2,
            ),
        ],
        f"Correct: the pooled weights recover the common weights, and the residual sd the "
        f"noise sd {sigma:g}.",
    )


def group_slope(
    slope_x2_observed: Any,
    slope_x2_replicated: Any,
    pooled_idata: Any,
    X: ArrayLike,  # noqa: N803 - the lesson's name
    y: ArrayLike,
    group_idx: ArrayLike,
) -> Feedback:
    r"""Exercise 2: group A's least-squares slope on ``x2``, observed and replicated.

    Parameters
    ----------
    slope_x2_observed : float
        The slope on ``x2`` of the least-squares regression of ``y`` on all features, in
        group A's rows.
    slope_x2_replicated : array_like
        The same slope in each replicated data set of the pooled model.
    pooled_idata : arviz.InferenceData
        The lesson's pooled fit, whose draws made the replicated data.
    X, y, group_idx : array_like
        The lesson's data.

    Returns
    -------
    Feedback
        Correct, or the mistake named: all rows instead of group A, the slope on ``x1``, or a
        regression on ``x2`` alone.

    Examples
    --------
    >>> import arviz as az
    >>> from course_utils.simulate import simulate_two_group_regression
    >>> data = simulate_two_group_regression(np.random.default_rng(2), n=200)
    >>> rng = np.random.default_rng(3)
    >>> w = rng.normal(0, 0.1, (4, 100, 3)); sigma = np.full((4, 100), 4.0)
    >>> fit = az.from_dict(posterior={"w": w, "sigma": sigma})
    >>> a = data.group_idx == 0
    >>> observed = np.linalg.lstsq(data.X[a], data.y[a], rcond=None)[0][2]
    >>> y_rep = (w.reshape(-1, 3) @ data.X[a].T) + rng.normal(0, 4.0, (400, a.sum()))
    >>> replicated = np.linalg.lstsq(data.X[a], y_rep.T, rcond=None)[0][2]
    >>> group_slope(observed, replicated, fit, data.X, data.y, data.group_idx).status
    'correct'
    """
    if blank := missing_answer(
        slope_x2_observed=slope_x2_observed, slope_x2_replicated=slope_x2_replicated
    ):
        return blank
    design, response = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    rows_a = np.asarray(group_idx) == 0
    in_a = _least_squares(design[rows_a], response[rows_a])
    observed = float(in_a[_SLOPE_COLUMN])
    x2_alone = np.polyfit(design[rows_a, _SLOPE_COLUMN], response[rows_a], 1)[0]
    observed_feedback = check_number(
        slope_x2_observed,
        observed,
        name="the observed slope",
        tolerance=_RELATIVE * abs(observed),
        mistakes={
            "it is the slope over all rows: use group A's rows only.": lambda: _least_squares(
                design, response
            )[_SLOPE_COLUMN],
            "it is the slope on x1: x2 is the third column, X[:, 2].": in_a[1],
            "it is the slope of y on x2 alone: regress on all three features, as the model "
            "does.": x2_alone,
        },
    )
    if not observed_feedback.correct:
        return observed_feedback
    posterior = pooled_idata.posterior
    w = np.asarray(posterior["w"], dtype=float).reshape(-1, design.shape[1])
    variance = np.asarray(posterior["sigma"], dtype=float).ravel() ** 2
    in_group = np.linalg.inv(design[rows_a].T @ design[rows_a])[_SLOPE_COLUMN, _SLOPE_COLUMN]
    everywhere = np.linalg.inv(design.T @ design)[_SLOPE_COLUMN, _SLOPE_COLUMN]
    feedback = check_predictive_draws(
        slope_x2_replicated,
        w[:, _SLOPE_COLUMN],
        variance * in_group,
        name="slope_x2_replicated",
        mistakes={
            "these are slopes over all rows: use group A's rows only.": (
                w[:, _SLOPE_COLUMN],
                variance * everywhere,
            ),
            "these are the posterior draws of w[x2], with no replicated noise: fit the slope "
            "to each replicated data set.": (w[:, _SLOPE_COLUMN], 0.0),
            "these are slopes on x1: x2 is the third column, X[:, 2].": (
                w[:, 1],
                variance * np.linalg.inv(design[rows_a].T @ design[rows_a])[1, 1],
            ),
        },
    )
    return all_correct(
        [feedback],
        "Correct: the observed slope, and replicated slopes as the pooled model makes them.",
    )


def ridge_ratio(ratio_to_ridge: Any, hierarchical_idata: Any, s: float) -> Feedback:
    r"""Exercise 4: the posterior sd of :math:`z` over the ridge width :math:`s / \tau`, by feature.

    Parameters
    ----------
    ratio_to_ridge : array_like
        The student's ratios, one per feature: the posterior sd of
        :math:`z_{k,g} = (w_{k,g} - w_{k,\mathrm{pop}}) / \tau_k` (averaged over the groups)
        over the posterior median of :math:`s / \tau_k`.
    hierarchical_idata : arviz.InferenceData
        The lesson's hierarchical fit.
    s : float
        The posterior sd of a group weight.

    Returns
    -------
    Feedback
        Correct, or the mistake named: :math:`z` not divided by :math:`\tau`, or the ridge
        width :math:`s \tau`.
    """
    if blank := missing_answer(ratio_to_ridge=ratio_to_ridge):
        return blank
    posterior = hierarchical_idata.posterior
    tau = posterior["w_sd"]
    centred = posterior["w"] - posterior["w_pop"]
    spread = (centred / tau).std(("chain", "draw")).mean("group")
    width = (s / tau).median(("chain", "draw"))
    reference = np.asarray(spread / width, dtype=float)

    def undivided() -> NDArray[np.float64]:
        return np.asarray(centred.std(("chain", "draw")).mean("group") / width, dtype=float)

    def times_tau() -> NDArray[np.float64]:
        return np.asarray(spread / (s * tau).median(("chain", "draw")), dtype=float)

    feedback = check_number(
        ratio_to_ridge,
        reference,
        name="the ratio",
        tolerance=_RATIO_RELATIVE * np.abs(reference),
        mistakes={
            "your z is w - w_pop: divide it by tau (w_sd).": undivided,
            "your ridge width is s * tau: the data fix z to within s / tau.": times_tau,
        },
    )
    return all_correct([feedback], "Correct: the ratio of z's posterior sd to the ridge width.")
