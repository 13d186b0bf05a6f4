r"""Checks for the exercises of lesson 09, "Correlated varying intercepts and slopes".

Each function takes the student's answer first, then the lesson objects that give the
reference, and returns a :class:`~course_utils.exercises.Feedback`.

- Exercise 1: the prior of the ``LKJCholeskyCov`` model, drawn by the check (4,000 draws,
  fixed seed), against the exact prior moments of the lesson's explicit model:
  :math:`\sigma_\alpha, \sigma_\beta \sim \mathrm{HalfNormal}(1)`,
  :math:`\rho = 2B - 1` with :math:`B \sim \mathrm{Beta}(2, 2)` (LKJ with
  :math:`\eta = 2`), and a county's slope :math:`\beta_j = \mu_\beta + \sigma_\beta w_j`
  with :math:`w_j \sim \mathrm{Normal}(0, 1)`, so that :math:`E\beta_j = 0`,
  :math:`\operatorname{Var}\beta_j = 4 + E\sigma_\beta^2 = 5` and
  :math:`E\beta_j^4 = 3 E(4 + \sigma_\beta^2)^2 = 81`. The means and variances of the draws
  are compared within their sampling standard errors (the variances on the log scale).
- Exercise 2: the number of homes with Pareto :math:`k > 0.7` under the unpooled model, by
  county size, counted again from the lesson's LOO result.
- Exercise 3: the Pareto :math:`k` of leaving out each county, recomputed from the
  ``+ uranium`` fit's log likelihood summed over each county's homes.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from course_utils.exercises import Feedback, all_correct, check_number, missing_answer

__all__ = ["county_pareto_k", "high_k_by_county_size", "lkj_prior", "prior_moments"]

PRIOR_DRAWS = 4000
_PRIOR_SEED = 20260909
_QUANTITIES = ("sigma_alpha", "sigma_beta", "rho", "beta")
_SIZE_BINS = (0, 2, 10, np.inf)
_K_THRESHOLD = 0.7
_K_TOLERANCE = 0.01  # k depends on the posterior attached (its relative ESS)


def _moments(distribution: Any) -> tuple[float, float, float]:
    """Mean, variance and central fourth moment of a frozen scipy distribution."""
    mean, variance, excess = (float(x) for x in distribution.stats(moments="mvk"))
    return mean, variance, (excess + 3) * variance**2


def prior_moments(
    scale_sd: float = 1.0, eta: float = 2.0, mu_beta_sd: float = 2.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    r"""Exact prior mean, variance and central 4th moment of the lesson's four quantities.

    The quantities are :math:`\sigma_\alpha`, :math:`\sigma_\beta`, :math:`\rho` and one
    county's :math:`\beta_j`, under :math:`\sigma \sim \mathrm{HalfNormal}(s)`, an LKJ prior
    with parameter :math:`\eta` on the 2 x 2 correlation (:math:`(\rho + 1)/2 \sim
    \mathrm{Beta}(\eta, \eta)`) and :math:`\mu_\beta \sim \mathrm{Normal}(0, m)`.

    Parameters
    ----------
    scale_sd : float, default 1.0
        The HalfNormal scale :math:`s` of the two sds.
    eta : float, default 2.0
        The LKJ parameter.
    mu_beta_sd : float, default 2.0
        The prior sd :math:`m` of :math:`\mu_\beta`.

    Returns
    -------
    tuple of numpy.ndarray
        Means, variances and central fourth moments, in the order above.

    Examples
    --------
    >>> means, variances, _ = prior_moments()
    >>> means.round(4).tolist(), variances.round(4).tolist()
    ([0.7979, 0.7979, 0.0, 0.0], [0.3634, 0.3634, 0.2, 5.0])
    """
    sd = _moments(stats.halfnorm(scale=scale_sd))
    rho = _moments(stats.beta(eta, eta, loc=-1, scale=2))
    second = scale_sd**2  # E sigma^2 of HalfNormal(s)
    fourth = 3 * scale_sd**4  # E sigma^4
    m2 = mu_beta_sd**2
    slope_variance = m2 + second
    slope_fourth = 3 * (m2**2 + 2 * m2 * second + fourth)  # E(m2 + sigma^2)^2, times 3
    return (
        np.array([sd[0], sd[0], rho[0], 0.0]),
        np.array([sd[1], sd[1], rho[1], slope_variance]),
        np.array([sd[2], sd[2], rho[2], slope_fourth]),
    )


def _with_standardised_slope(
    moments: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    slope_variance: float = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    r"""Append :math:`(\beta_j - \mu_\beta) / \sigma_\beta`, Normal(0, 1) in the lesson."""
    means, variances, fourth = moments
    return (
        np.append(means, 0.0),
        np.append(variances, slope_variance),
        np.append(fourth, 3 * slope_variance**2),
    )


def _compare_prior(draws: NDArray[np.float64]) -> Feedback:
    r"""Compare prior draws with the exact prior moments.

    ``draws`` has one column per quantity: :math:`\sigma_\alpha`, :math:`\sigma_\beta`,
    :math:`\rho`, a county's :math:`\beta_j`, and :math:`w_j = (\beta_j - \mu_\beta) /
    \sigma_\beta`, which is exactly Normal(0, 1) when the county effects are
    :math:`L z_j` (``z @ chol.T``) and has variance :math:`E(1 - \rho^2) = 0.8` with
    ``z @ chol``. Means are compared directly; variances on the log scale, where the sample
    variance is far less skewed (delta method: se
    :math:`\sqrt{(\mu_4 - \sigma^4) / n} / \sigma^2`).
    """
    n = draws.shape[0]
    means, variances, fourth = _with_standardised_slope(prior_moments())

    def summary(
        moments: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    ) -> NDArray[np.float64]:
        return np.concatenate([moments[0], np.log(moments[1])])

    statistics = np.concatenate([draws.mean(axis=0), np.log(draws.var(axis=0, ddof=1))])
    se = np.concatenate([np.sqrt(variances / n), np.sqrt((fourth - variances**2) / n) / variances])
    shrink = 1 - prior_moments()[1][2]  # E(1 - rho^2) = 1 - Var(rho), as E rho = 0
    untransposed = _with_standardised_slope(prior_moments(), shrink)
    untransposed[1][3] = 4.0 + shrink  # Var beta_j = 4 + E sigma_beta^2 E(1 - rho^2)
    feedback = check_number(
        statistics,
        summary((means, variances, fourth)),
        name="the prior means and variances of sigma_alpha, sigma_beta, rho, beta and "
        "(beta - mu_beta) / sigma_beta",
        mcse=se,
        mistakes={
            "it is the prior of eta=1 (a uniform correlation): the lesson's prior is eta=2.": (
                summary(_with_standardised_slope(prior_moments(eta=1.0)))
            ),
            "the sds have the prior HalfNormal(2): use sd_dist=pm.HalfNormal.dist(sigma=1.0, "
            "shape=2).": summary(_with_standardised_slope(prior_moments(scale_sd=2.0))),
            "the county effects are z @ chol: they are L z_j, that is z @ chol.T.": summary(
                untransposed
            ),
        },
    )
    return all_correct(
        [feedback],
        "Correct: the prior of sigma_alpha, sigma_beta, rho and a county's beta is the "
        "explicit model's.",
    )


def lkj_prior(lkj_model: Any) -> Feedback:
    r"""Exercise 1: the ``LKJCholeskyCov`` model has the explicit model's prior.

    Parameters
    ----------
    lkj_model : pymc.Model
        The student's model, with ``mu_beta`` and the Deterministics ``sigma_alpha``,
        ``sigma_beta``, ``rho`` and ``beta`` (one per county).

    Returns
    -------
    Feedback
        Correct, or the mistake named: :math:`\eta = 1`, sds with a HalfNormal(2) prior, or
        the county effects as ``z @ chol``.
    """
    import pymc as pm

    if blank := missing_answer(lkj_model=lkj_model):
        return blank
    if not isinstance(lkj_model, pm.Model):
        return Feedback(
            "incorrect", f"lkj_model should be a pm.Model, got {type(lkj_model).__name__}."
        )
    names = [*_QUANTITIES, "mu_beta"]
    missing = [name for name in names if name not in lkj_model.named_vars]
    if missing:
        return Feedback(
            "incorrect",
            f"lkj_model has no variable {', '.join(map(repr, missing))}: store it with "
            "pm.Deterministic under that name.",
        )
    # PyMC logs "Sampling: [...]" for every prior draw: the check's output is its feedback only.
    pymc_logger = logging.getLogger("pymc")
    level = pymc_logger.level
    pymc_logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(), lkj_model:
            warnings.simplefilter("ignore")
            prior = pm.sample_prior_predictive(
                draws=PRIOR_DRAWS, var_names=names, random_seed=_PRIOR_SEED
            ).prior
    except Exception as error:  # noqa: BLE001 - any error of the student's model is reported
        return Feedback(
            "incorrect", f"Drawing the prior of lkj_model failed: {type(error).__name__}: {error}"
        )
    finally:
        pymc_logger.setLevel(level)
    draws = {name: prior[name].to_numpy().reshape(PRIOR_DRAWS, -1) for name in names}
    scalar = ("sigma_alpha", "sigma_beta", "rho", "mu_beta")
    wrong = [name for name in scalar if draws[name].shape[1] != 1]
    if wrong:
        return Feedback(
            "incorrect",
            f"{', '.join(wrong)} should be one number per draw (rho = corr[0, 1]), not "
            f"{draws[wrong[0]].shape[1]}.",
        )
    sigma_beta, slope = draws["sigma_beta"][:, 0], draws["beta"][:, 0]
    standardised = (slope - draws["mu_beta"][:, 0]) / sigma_beta
    columns = [draws[name][:, 0] for name in ("sigma_alpha", "sigma_beta", "rho")]
    return _compare_prior(np.column_stack([*columns, slope, standardised]))


def _size_classes(homes: ArrayLike) -> NDArray[np.int64]:
    """0 for 1-2 homes, 1 for 3-10, 2 for more than 10."""
    return np.asarray(np.digitize(np.asarray(homes, dtype=float), _SIZE_BINS[1:-1], right=True))


def high_k_by_county_size(
    high_k_homes: Any, rung_loos: Any, county_table: Any, county_idx: ArrayLike
) -> Feedback:
    r"""Exercise 2: homes with :math:`k > 0.7` under the unpooled model, by county size.

    Parameters
    ----------
    high_k_homes : array_like
        The student's three counts: homes with :math:`k > 0.7` in counties of 1-2 homes, of
        3-10 homes and of more than 10.
    rung_loos : mapping of str to arviz.ELPDData
        The lesson's LOO results (``"unpooled"``).
    county_table : pandas.DataFrame
        The lesson's county table (``homes``).
    county_idx : array_like of int
        Each home's county.

    Returns
    -------
    Feedback
        Correct, or the mistake named: :math:`k > 0.5`, or counties counted instead of homes.
    """
    if blank := missing_answer(high_k_homes=high_k_homes):
        return blank
    k = np.asarray(rung_loos["unpooled"].pareto_k, dtype=float)
    index = np.asarray(county_idx)
    size = _size_classes(np.asarray(county_table["homes"])[index])

    def count(threshold: float) -> NDArray[np.float64]:
        return np.bincount(size[k > threshold], minlength=3).astype(float)

    def counties() -> NDArray[np.float64]:
        flagged = np.unique(index[k > _K_THRESHOLD])
        county_size = _size_classes(np.asarray(county_table["homes"]))
        return np.bincount(county_size[flagged], minlength=3).astype(float)

    reference = count(_K_THRESHOLD)
    order = sorted(
        {tuple(reference[list(p)]) for p in itertools.permutations(range(3))} - {tuple(reference)}
    )
    feedback = check_number(
        high_k_homes,
        reference,
        name="the homes with k > 0.7 by county size",
        mistakes={
            "these are the homes with k > 0.5: the threshold is 0.7.": lambda: count(0.5),
            "these count counties: count the homes.": counties,
            **{
                f"the counts are in another order ({i}): give them in the order 1-2 homes, "
                "3-10, more than 10.": np.array(permuted)
                for i, permuted in enumerate(order, start=1)
            },
        },
    )
    return all_correct(
        [feedback],
        "Correct: the homes with k > 0.7, by county size.",
    )


def county_pareto_k(
    county_k: Any,
    uranium_model: Any,
    rung_fits: Any,
    county_idx: ArrayLike,
) -> Feedback:
    r"""Exercise 3: the Pareto :math:`k` of leaving out each county, under the + uranium model.

    Parameters
    ----------
    county_k : array_like
        The student's 85 values, one per county, in the order of the lesson's counties.
    uranium_model : pymc.Model
        The lesson's + uranium model.
    rung_fits : mapping of str to arviz.InferenceData
        The lesson's fits (``"+ uranium"``).
    county_idx : array_like of int
        Each home's county.

    Returns
    -------
    Feedback
        Correct, or the mistake named: the homes' log likelihoods averaged instead of summed.
    """
    import arviz as az
    import pymc as pm
    import xarray as xr

    if blank := missing_answer(county_k=county_k):
        return blank
    fit = rung_fits["+ uranium"]
    with uranium_model:
        home = pm.compute_log_likelihood(fit, extend_inferencedata=False, progressbar=False)
    log_lik = np.asarray(home["y"], dtype=float)  # (chain, draw, home)
    index = np.asarray(county_idx)
    n_counties = int(index.max()) + 1
    members = np.eye(n_counties)[index]  # (home, county)

    def pareto_k(per_county: NDArray[np.float64]) -> NDArray[np.float64]:
        data = az.InferenceData(
            posterior=fit.posterior,
            log_likelihood=xr.Dataset({"y": (("chain", "draw", "county"), per_county)}),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(az.loo(data, pointwise=True).pareto_k, dtype=float)

    summed = log_lik @ members
    feedback = check_number(
        county_k,
        pareto_k(summed),
        name="the Pareto k of each county",
        tolerance=_K_TOLERANCE,
        mistakes={
            "the homes' log likelihoods are averaged: leaving out a county leaves out the sum "
            "of its homes' log likelihoods.": lambda: pareto_k(summed / members.sum(axis=0))
        },
    )
    return all_correct(
        [feedback],
        "Correct: the Pareto k of leaving out each county.",
    )
