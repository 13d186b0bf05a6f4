r"""Checks for the exercises of lesson 01, "Pooling: none, complete, partial".

Each function takes the student's answer first, then the lesson objects that give the
reference, and returns a :class:`~course_utils.exercises.Feedback`. The references are exact:

- Exercise 1: the shrinkage factors from the lesson fit's posterior means (arithmetic);
- Exercise 2: the quantiles of :math:`\theta_{\text{new}}`, a mixture of normals over the
  lesson fit's draws of :math:`(\mu, \tau)`, found by root finding; the student's Monte Carlo
  quantiles are within a standard error computed from the same mixture;
- Exercise 3: the mean squared errors :math:`\sigma^2/n_j` and
  :math:`(n_j/\sigma^2 + 1/\tau^2)^{-1}`, within the standard error of a mean of squared
  normal errors;
- Exercise 4: the posterior means of :math:`\theta_j` with :math:`\tau` fixed, with
  :math:`\mu` and the :math:`\theta_j` integrated out analytically and :math:`\sigma` by
  quadrature (:func:`fixed_tau_theta_means`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats

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
    "FIXED_TAU_VALUES",
    "fixed_tau_posteriors",
    "fixed_tau_theta_means",
    "mixture_hdi",
    "mixture_quantiles",
    "new_class_interval",
    "pooling_risk",
    "shrinkage_factors",
]

#: The values of tau that Exercise 4 asks for.
FIXED_TAU_VALUES = (2.0, 8.0, 32.0)
#: The true values of Exercise 3's simulation.
_MU, _TAU, _SIGMA = 50.0, 5.0, 8.0


def _posterior_mean(idata: Any, name: str) -> float:
    return float(idata.posterior[name].mean())


def shrinkage_factors(shrink: Any, hierarchical_idata: Any, group_table: Any) -> Feedback:
    r"""Exercise 1: the shrinkage factor :math:`B_j` of each class, at the posterior means.

    Parameters
    ----------
    shrink : array_like
        The student's :math:`B_j`, one per class in the order of ``group_table``.
    hierarchical_idata : arviz.InferenceData
        The lesson's fit of the hierarchical model (``sigma`` and ``tau``).
    group_table : pandas.DataFrame
        The lesson's table of classes, with the class sizes in column ``n``.

    Returns
    -------
    Feedback
        Correct (posterior means rounded to 2 decimals are allowed), or the mistake named:
        standard deviations where the formula has variances, or :math:`1 - B_j` (the weight
        of the class's own mean).

    Examples
    --------
    >>> import arviz as az, pandas as pd
    >>> fit = az.from_dict(posterior={"sigma": [[8.0, 8.0]], "tau": [[4.0, 4.0]]})
    >>> table = pd.DataFrame({"n": [1, 4]})
    >>> print(shrinkage_factors([0.8, 0.5], fit, table))
    Correct: the shrinkage factors agree with the formula at the posterior means.
    >>> print(shrinkage_factors([0.2, 0.5], fit, table))  # doctest: +ELLIPSIS
    the shrinkage factors: not the expected answer, but these are 1 - B_j, the weight of...
    """
    if blank := missing_answer(shrink=shrink):
        return blank
    sigma = _posterior_mean(hierarchical_idata, "sigma")
    tau = _posterior_mean(hierarchical_idata, "tau")
    n = np.asarray(group_table["n"], dtype=float)
    reference = (sigma**2 / n) / (sigma**2 / n + tau**2)
    # sigma and tau read from a summary table rounded to 2 decimals are still right
    # (a first-order bound, with 5% to spare for the second-order term)
    rounding = 1.05 * 2 * reference * (1 - reference) * (0.005 / sigma + 0.005 / tau) + 1e-9
    feedback = check_number(
        shrink,
        reference,
        name="the shrinkage factors",
        tolerance=rounding,
        mistakes={
            "you used sigma and tau where the formula has their squares, the variances.": (
                (sigma / n) / (sigma / n + tau)
            ),
            "these are 1 - B_j, the weight of each class's own mean; B_j is the weight of mu.": (
                1 - reference
            ),
        },
    )
    return all_correct(
        [feedback], "Correct: the shrinkage factors agree with the formula at the posterior means."
    )


def mixture_quantiles(
    probs: ArrayLike, loc: ArrayLike, scale: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Quantiles of an equal-weight mixture of normals, and the mixture's density there.

    The mixture :math:`\frac1S \sum_s \mathrm{Normal}(\mathrm{loc}_s, \mathrm{scale}_s)` is
    the distribution of :math:`\theta_{\text{new}} \sim \mathrm{Normal}(\mu, \tau)` given
    ``S`` posterior draws of :math:`(\mu, \tau)`; its quantiles are found by root finding
    (to ``1e-10`` of the mixture's spread).

    Parameters
    ----------
    probs : array_like of float
        Probabilities in (0, 1).
    loc, scale : array_like of float
        The components' means and standard deviations (``scale > 0``), same length.

    Returns
    -------
    quantiles, density : numpy.ndarray
        One of each per probability.

    Examples
    --------
    >>> q, f = mixture_quantiles([0.5, 0.975], [0.0], [1.0])
    >>> q.round(4).tolist(), round(float(f[0]), 4)
    ([0.0, 1.96], 0.3989)
    """
    loc = np.asarray(loc, dtype=float).ravel()
    scale = np.asarray(scale, dtype=float).ravel()
    low = float(np.min(loc - 40 * scale))
    high = float(np.max(loc + 40 * scale))
    quantiles = np.array(
        [
            optimize.brentq(
                lambda q, p=p: float(special.ndtr((q - loc) / scale).mean()) - p,
                low,
                high,
                xtol=1e-10 * float(np.std(loc) + np.mean(scale)),
            )
            for p in np.atleast_1d(np.asarray(probs, dtype=float))
        ]
    )
    density = np.array([float((stats.norm.pdf(q, loc, scale)).mean()) for q in quantiles])
    return quantiles, density


def mixture_hdi(mass: float, loc: ArrayLike, scale: ArrayLike) -> NDArray[np.float64]:
    r"""Find the highest-density interval of an equal-weight mixture of normals (unimodal).

    The shortest interval holding ``mass``: :math:`[q(p), q(p + \mathrm{mass})]` with the
    lower tail :math:`p` that minimises its width (:func:`mixture_quantiles`).

    Parameters
    ----------
    mass : float
        Probability in the interval, in (0, 1).
    loc, scale : array_like of float
        The components' means and standard deviations.

    Returns
    -------
    numpy.ndarray
        ``[low, high]``.

    Examples
    --------
    >>> mixture_hdi(0.95, [0.0], [1.0]).round(3).tolist()
    [-1.96, 1.96]
    """

    def width(p: float) -> float:
        low, high = mixture_quantiles([p, p + mass], loc, scale)[0]
        return float(high - low)

    tail = optimize.minimize_scalar(
        width, bounds=(1e-6, 1 - mass - 1e-6), method="bounded", options={"xatol": 1e-7}
    ).x
    return mixture_quantiles([tail, tail + mass], loc, scale)[0]


def new_class_interval(new_interval: Any, hierarchical_idata: Any) -> Feedback:
    r"""Exercise 2: the 94% interval (3% and 97% quantiles) of a new class's mean.

    The reference is the exact quantile pair of
    :math:`\theta_{\text{new}} \sim \mathrm{Normal}(\mu, \tau)` over the fit's draws
    (:func:`mixture_quantiles`). The student draws one :math:`\theta_{\text{new}}` per
    posterior draw, so their empirical quantile :math:`\hat q_p` has standard error
    :math:`\sqrt{\overline{\Phi_s (1 - \Phi_s)} / S} / f(q_p)`, with
    :math:`\Phi_s = \Phi((q_p - \mu_s)/\tau_s)` and :math:`f` the mixture density: given the
    draws, only the new normal noise is random. (More draws per posterior draw only make
    the answer more precise.)

    Parameters
    ----------
    new_interval : array_like
        The student's ``[low, high]``.
    hierarchical_idata : arviz.InferenceData
        The lesson's fit of the hierarchical model (``mu`` and ``tau``).

    Returns
    -------
    Feedback
        Correct, or the mistake named: an interval of :math:`\mu` alone, or the HDI instead of
        the quantiles.

    Examples
    --------
    >>> import arviz as az, numpy as np
    >>> rng = np.random.default_rng(1)
    >>> mu, tau = rng.normal(50, 2, (4, 1000)), np.abs(rng.normal(5, 1, (4, 1000)))
    >>> fit = az.from_dict(posterior={"mu": mu, "tau": tau})
    >>> answer = np.quantile(rng.normal(mu, tau), [0.03, 0.97])
    >>> new_class_interval(answer, fit).status
    'correct'
    >>> new_class_interval(np.quantile(mu, [0.03, 0.97]), fit).message.split(",")[1]
    ' but it is an interval of mu'
    """
    if blank := missing_answer(new_interval=new_interval):
        return blank
    mu = np.asarray(hierarchical_idata.posterior["mu"], dtype=float).ravel()
    tau = np.asarray(hierarchical_idata.posterior["tau"], dtype=float).ravel()
    probs = np.array([0.03, 0.97])
    reference, density = mixture_quantiles(probs, mu, tau)
    cdf = special.ndtr((reference[:, None] - mu) / tau)
    se = np.sqrt((cdf * (1 - cdf)).mean(axis=1) / mu.size) / density
    feedback = check_number(
        new_interval,
        reference,
        name="the interval of a new class",
        mcse=se,
        mistakes={
            "it is an interval of mu, the average class: a new class also varies around mu by "
            "tau.": np.quantile(mu, probs),
            "it is the 94% HDI (az.hdi); the exercise asks for the 3% and 97% quantiles "
            "(np.quantile).": lambda: mixture_hdi(0.94, mu, tau),
        },
    )
    return all_correct([feedback], "Correct: the 94% interval of a new class's mean.")


def _mse_partial(shrink: NDArray[np.float64], var_mean: NDArray[np.float64]) -> NDArray[np.float64]:
    # error = B (mu - theta) + (1 - B)(ybar - theta): independent parts, variances tau^2, var_mean
    return shrink**2 * _TAU**2 + (1 - shrink) ** 2 * var_mean


def pooling_risk(
    mse_none: Any, mse_partial: Any, n_sims: Any, group_sizes: Sequence[int]
) -> Feedback:
    r"""Exercise 3: the simulated mean squared errors of no pooling and partial pooling.

    Each is a mean of ``n_sims`` squared normal errors with variance :math:`v_j`, so its
    expectation is :math:`v_j` and its standard error :math:`v_j \sqrt{2 / n_\text{sims}}`:
    :math:`v_j = \sigma^2 / n_j` for the class means and
    :math:`(n_j / \sigma^2 + 1 / \tau^2)^{-1}` for partial pooling with the true
    :math:`\mu = 50, \tau = 5, \sigma = 8`.

    Parameters
    ----------
    mse_none, mse_partial : array_like
        The student's average squared errors, one per class.
    n_sims : int
        The number of simulated data sets.
    group_sizes : sequence of int
        The class sizes :math:`n_j` (the lesson's ``N_PER_GROUP``).

    Returns
    -------
    Feedback
        Correct, or the mistake named: class means simulated with sd :math:`8 / n_j`, or
        shrinkage computed from standard deviations instead of variances. The second raises
        the partial-pooling errors by only 1.5-6%, within the allowance at 4,000 data sets
        (about 9%): the check then passes it, or names it when it fails (Exercise 1's check
        always names it).

    Examples
    --------
    >>> sizes = np.array([1, 4])
    >>> print(pooling_risk(64 / sizes, 1 / (sizes / 64 + 1 / 25), 4000, sizes))
    Correct: both simulated errors agree with their exact values.
    >>> print(pooling_risk(64 / sizes**2, [10.0, 7.0], 4000, sizes))  # doctest: +ELLIPSIS
    the no-pooling errors: not the expected answer, but your class means have sd 8 / n_j...
    """
    if blank := missing_answer(mse_none=mse_none, mse_partial=mse_partial, n_sims=n_sims):
        return blank
    if (count := as_count(n_sims)) is None:
        return Feedback(
            "incorrect", f"n_sims should be the number of simulated data sets, got {n_sims!r}."
        )
    n = np.asarray(group_sizes, dtype=float)
    var_none = _SIGMA**2 / n
    var_partial = 1 / (n / _SIGMA**2 + 1 / _TAU**2)
    shrink = var_none / (var_none + _TAU**2)
    relative_se = np.sqrt(2 / count)
    shrink_sd = (_SIGMA / n) / (_SIGMA / n + _TAU)
    sd_of_mean = "your class means have sd 8 / n_j; the mean of n_j scores has sd 8 / sqrt(n_j)."
    from_sds = "you computed the shrinkage from sigma and tau; the formula has their squares."
    half = FALSE_ALARM / 2
    return all_correct(
        [
            check_number(
                mse_none,
                var_none,
                name="the no-pooling errors",
                mcse=relative_se * var_none,
                mistakes={sd_of_mean: var_none / n},
                false_alarm=half,
            ),
            check_number(
                mse_partial,
                var_partial,
                name="the partial-pooling errors",
                mcse=relative_se * var_partial,
                mistakes={
                    sd_of_mean: _mse_partial(shrink, var_none / n),
                    from_sds: _mse_partial(shrink_sd, var_none),
                },
                false_alarm=half,
            ),
        ],
        "Correct: both simulated errors agree with their exact values.",
    )


def fixed_tau_theta_means(
    y: ArrayLike,
    group_idx: ArrayLike,
    tau: float,
    *,
    mu_loc: float = 50.0,
    mu_scale: float = 20.0,
    sigma_scale: float = 10.0,
    grid_size: int = 4001,
) -> NDArray[np.float64]:
    r"""Exact posterior means of :math:`\theta_j` in lesson 01's model with :math:`\tau` fixed.

    .. math::

        y_{ij} \sim \mathrm{Normal}(\theta_j, \sigma), \quad
        \theta_j \sim \mathrm{Normal}(\mu, \tau), \quad
        \mu \sim \mathrm{Normal}(\mu_0, s_\mu), \quad
        \sigma \sim \mathrm{HalfNormal}(s_\sigma).

    Given :math:`\sigma` the model is linear and Gaussian: the class means are
    :math:`\bar y_j \sim \mathrm{Normal}(\mu, \tau^2 + \sigma^2/n_j)` given :math:`\mu`, the
    within-class sum of squares depends on :math:`\sigma` alone, and
    :math:`E[\theta_j \mid y, \sigma]` is a precision-weighted average of :math:`\bar y_j`
    and :math:`E[\mu \mid y, \sigma]`. The mean over :math:`\sigma` is a trapezoid rule on a
    grid of :math:`\log \sigma` spanning the posterior (refining it changes the result by
    less than 1e-8 on the lesson's data).

    Parameters
    ----------
    y : array_like of float
        The scores.
    group_idx : array_like of int
        The class of each score, ``0 .. J-1``, every class with at least one score.
    tau : float
        The fixed population sd, positive.
    mu_loc, mu_scale, sigma_scale : float, default 50, 20 and 10
        The priors of lesson 01's model.
    grid_size : int, default 4001
        Points of the :math:`\log\sigma` grid.

    Returns
    -------
    numpy.ndarray
        :math:`E[\theta_j \mid y]`, one per class.

    Examples
    --------
    >>> y = np.array([40.0, 44.0, 60.0])
    >>> means = fixed_tau_theta_means(y, np.array([0, 0, 1]), tau=5.0)
    >>> bool(42 < means[0] < means[1] < 60)
    True
    """
    y = np.asarray(y, dtype=float)
    group_idx = np.asarray(group_idx)
    n = np.bincount(group_idx).astype(float)
    if np.any(n == 0) or tau <= 0:
        raise ValueError("every class needs a score, and tau must be positive.")
    ybar = np.bincount(group_idx, weights=y) / n
    ss_within = float(((y - ybar[group_idx]) ** 2).sum())
    log_sigma = np.linspace(np.log(sigma_scale) - 12, np.log(sigma_scale) + 3, grid_size)
    sigma2 = np.exp(2 * log_sigma)[:, None]
    v = tau**2 + sigma2 / n  # var(ybar_j | mu, sigma)
    precision = 1 / mu_scale**2 + (1 / v).sum(axis=1)
    mu_mean = (mu_loc / mu_scale**2 + (ybar / v).sum(axis=1)) / precision
    # log p(ybar | sigma): ybar ~ MVN(mu_loc, diag(v) + s_mu^2 11'), by Sherman-Morrison
    r = ybar - mu_loc
    c = mu_scale**2
    sum_inv = (1 / v).sum(axis=1)
    quad = (r**2 / v).sum(axis=1) - c * ((r / v).sum(axis=1)) ** 2 / (1 + c * sum_inv)
    log_det = np.log(v).sum(axis=1) + np.log1p(c * sum_inv)
    n_total, n_groups = y.size, n.size
    log_like = (
        -0.5 * (n_total - n_groups) * np.log(sigma2[:, 0])
        - ss_within / (2 * sigma2[:, 0])
        - 0.5 * (quad + log_det)
    )
    log_prior = -sigma2[:, 0] / (2 * sigma_scale**2) + log_sigma  # HalfNormal, Jacobian of log
    log_post = log_like + log_prior
    weights = np.exp(log_post - log_post.max())
    weights[[0, -1]] /= 2  # trapezoid rule on an even grid
    weights /= weights.sum()
    theta_mean = (mu_mean[:, None] / tau**2 + n * ybar / sigma2) / (1 / tau**2 + n / sigma2)
    return np.asarray(weights @ theta_mean, dtype=float)


def fixed_tau_posteriors(fixed_tau_fits: Any, y: ArrayLike, group_idx: ArrayLike) -> Feedback:
    r"""Exercise 4: the fits with :math:`\tau` fixed at 2, 8 and 32.

    Each fit must have converged (0 divergences, :math:`\hat R \le 1.01`, bulk ESS >= 400 for
    ``theta``); its posterior means of :math:`\theta_j` are then compared with the exact ones
    (:func:`fixed_tau_theta_means`) within their Monte Carlo standard error.

    Parameters
    ----------
    fixed_tau_fits : mapping of float to arviz.InferenceData
        The student's fits, by the value of tau.
    y, group_idx : array_like
        The lesson's scores and their classes.

    Returns
    -------
    Feedback
        Correct, "not converged", or the mistake named: every fit made with tau = 5 (the
        value was never changed with ``pm.set_data``).
    """
    if blank := missing_answer(fixed_tau_fits=fixed_tau_fits):
        return blank
    if not isinstance(fixed_tau_fits, Mapping):
        return Feedback(
            "incorrect",
            "fixed_tau_fits should be a dict from the value of tau to its fit, "
            f"e.g. {{2.0: idata_2, ...}}; got {type(fixed_tau_fits).__name__}.",
        )
    try:
        fits = {float(key): fit for key, fit in fixed_tau_fits.items()}
    except (TypeError, ValueError):
        keys = ", ".join(repr(key) for key in fixed_tau_fits)
        return Feedback(
            "incorrect",
            f"the keys of fixed_tau_fits should be the values of tau (2.0, 8.0, 32.0), got {keys}.",
        )
    absent = [f"{tau:g}" for tau in FIXED_TAU_VALUES if tau not in fits]
    if absent:
        return Feedback(
            "incorrect",
            f"fixed_tau_fits has no fit for tau = {', '.join(absent)}: "
            f"it needs one for each of {', '.join(f'{t:g}' for t in FIXED_TAU_VALUES)}.",
        )
    unchanged = fixed_tau_theta_means(y, group_idx, tau=5.0)
    share = FALSE_ALARM / len(FIXED_TAU_VALUES)
    feedbacks = []
    for tau in FIXED_TAU_VALUES:
        feedback = check_posterior_mean(
            fits[tau],
            "theta",
            fixed_tau_theta_means(y, group_idx, tau=tau),
            mistakes={
                "it is the fit with tau = 5: call pm.set_data({'tau': value}) inside the model "
                "context before each pm.sample.": unchanged
            },
            false_alarm=share,
        )
        feedbacks.append(Feedback(feedback.status, f"With tau = {tau:g}: {feedback.message}"))
    return all_correct(
        feedbacks, "Correct: the posterior means of theta agree for tau = 2, 8 and 32."
    )
