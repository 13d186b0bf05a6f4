r"""Checks for the exercises of lesson 08, "County-level predictors".

Each function takes the student's answer first, then the lesson objects that give the
reference, and returns a :class:`~course_utils.exercises.Feedback`.

- Exercise 1: the centered model's form (``alpha`` a random variable, no ``z``), read from the
  PyMC model, and the two effective sample sizes, recomputed from the fits;
- Exercise 2: the posterior means of :math:`\beta_W` and :math:`\beta_B` against those of
  :math:`\beta` and :math:`\beta + \gamma_2` in the lesson's contextual fit. Both fits are
  random, so the standard error combines their Monte Carlo standard errors; the two models'
  priors differ slightly, which the lesson bounds by a tenth of a posterior sd, allowed on
  top. Convergence comes first;
- Exercise 3: the mean and the 3% and 97% quantiles of :math:`2^{\gamma_1}` over the lesson's
  draws, recomputed from them, to 0.005 (two decimals).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_utils.exercises import (
    FALSE_ALARM,
    Feedback,
    all_correct,
    check_number,
    check_posterior_mean,
    missing_answer,
)

__all__ = ["centered_form", "uranium_doubling", "within_between"]

_PRIOR_ALLOWANCE = 0.1  # posterior sds: the two forms' priors differ slightly (lesson 08)
_TWO_DECIMALS = 0.005


def _ess(idata: Any) -> float:
    import arviz as az

    return float(az.ess(idata, var_names=["sigma_alpha"])["sigma_alpha"])


def centered_form(
    centered_model: Any, centered_idata: Any, ess: Any, uranium_idata: Any
) -> Feedback:
    r"""Exercise 1: the centered uranium model, and the ESS of :math:`\sigma_\alpha` in both forms.

    Parameters
    ----------
    centered_model : pymc.Model
        The student's model, with
        :math:`\alpha_j \sim \mathrm{Normal}(\gamma_0 + \gamma_1 u_j, \sigma_\alpha)`.
    centered_idata : arviz.InferenceData
        Its fit.
    ess : array_like
        The bulk ESS of ``sigma_alpha``: the centered fit's, then the non-centered one's.
    uranium_idata : arviz.InferenceData
        The lesson's non-centered fit.

    Returns
    -------
    Feedback
        Correct, or the mistake named: a model that is still non-centered, or the two ESS in
        the other order.
    """
    import arviz as az

    if blank := missing_answer(
        centered_model=centered_model, centered_idata=centered_idata, ess=ess
    ):
        return blank
    free = getattr(centered_model, "free_RVs", None)
    if free is None:
        return Feedback(
            "incorrect",
            "centered_model should be the PyMC model (pm.Model), got "
            f"{type(centered_model).__name__}.",
        )
    names = {variable.name for variable in free}
    if "z" in names or "alpha" not in names:
        return Feedback(
            "incorrect",
            "centered_model is not in the centered form: alpha should be a random variable, "
            "alpha = pm.Normal('alpha', mu=gamma_0 + gamma_1 * log_uranium, "
            "sigma=sigma_alpha, dims='county'), with no z.",
        )
    posterior = getattr(centered_idata, "posterior", None)
    if not isinstance(centered_idata, az.InferenceData) or posterior is None:
        return Feedback(
            "incorrect",
            "centered_idata should be the InferenceData that pm.sample returns for "
            f"centered_model, got {type(centered_idata).__name__}.",
        )
    if "sigma_alpha" not in posterior:
        return Feedback("incorrect", "centered_idata has no sigma_alpha: fit centered_model.")
    reference = np.array([_ess(centered_idata), _ess(uranium_idata)])
    feedback = check_number(
        ess,
        reference,
        name="the two ESS of sigma_alpha",
        tolerance=5 + 1e-6 * reference,  # rounded to tens, as the lesson prints them
        mistakes={"the two are swapped: the centered fit first.": reference[::-1]},
    )
    return all_correct(
        [feedback], "Correct: the centered form, and the bulk ESS of sigma_alpha of both fits."
    )


def within_between(within_between_idata: Any, contextual_idata: Any) -> Feedback:
    r"""Exercise 2: the within and between effects, written directly.

    Parameters
    ----------
    within_between_idata : arviz.InferenceData
        The student's fit, with variables ``beta_w`` and ``beta_b``.
    contextual_idata : arviz.InferenceData
        The lesson's contextual fit (``beta`` and ``gamma_2``).

    Returns
    -------
    Feedback
        Correct, "not converged", or the mistake named: a floor not centred at its county
        mean (``beta_b`` is then the contextual effect :math:`\gamma_2`).
    """
    import arviz as az

    if blank := missing_answer(within_between_idata=within_between_idata):
        return blank
    posterior = contextual_idata.posterior
    effects = az.InferenceData(
        posterior=posterior[["beta"]].assign(
            between=posterior["beta"] + posterior["gamma_2"], gamma_2=posterior["gamma_2"]
        )
    )
    means = effects.posterior.mean(("chain", "draw"))
    sds = effects.posterior.std(("chain", "draw"))
    mcse = az.mcse(effects)
    uncentred = "your floor is not centred at its county mean: use floor - floor_mean[county_idx]."
    parts = {"beta_w": "beta", "beta_b": "between"}
    return all_correct(
        [
            check_posterior_mean(
                within_between_idata,
                name,
                float(means[source]),
                reference_se=float(mcse[source]),
                tolerance=_PRIOR_ALLOWANCE * float(sds[source]),
                mistakes={uncentred: float(means["gamma_2"])} if name == "beta_b" else None,
                false_alarm=FALSE_ALARM / len(parts),
            )
            for name, source in parts.items()
        ],
        "Correct: beta_w agrees with the contextual model's beta, and beta_b with beta + gamma_2.",
    )


def uranium_doubling(doubling: Any, uranium_idata: Any) -> Feedback:
    r"""Exercise 3: the factor :math:`2^{\gamma_1}` by which twice the uranium multiplies radon.

    Parameters
    ----------
    doubling : array_like
        The posterior mean of :math:`2^{\gamma_1}`, then its 3% and 97% quantiles.
    uranium_idata : arviz.InferenceData
        The lesson's uranium fit.

    Returns
    -------
    Feedback
        Correct, or the mistake named: :math:`e^{\gamma_1}` (a unit more of log uranium), or
        :math:`\gamma_1 \ln 2` (the change of log radon, not the factor).

    Examples
    --------
    >>> import arviz as az
    >>> gamma_1 = np.random.default_rng(0).normal(0.7, 0.08, (4, 1000))
    >>> fit = az.from_dict(posterior={"gamma_1": gamma_1})
    >>> factor = 2**gamma_1
    >>> answer = [factor.mean(), *np.quantile(factor, [0.03, 0.97])]
    >>> uranium_doubling(np.round(answer, 2), fit).status
    'correct'
    """
    if blank := missing_answer(doubling=doubling):
        return blank
    gamma_1 = np.asarray(uranium_idata.posterior["gamma_1"], dtype=float).ravel()

    def summary(values: np.ndarray) -> np.ndarray:
        return np.array([values.mean(), *np.quantile(values, [0.03, 0.97])])

    feedback = check_number(
        doubling,
        summary(2**gamma_1),
        name="the mean and 94% interval of the factor",
        tolerance=_TWO_DECIMALS,
        mistakes={
            "it is e^gamma_1, the factor for one unit more of log uranium: doubling adds "
            "ln 2 to u_j.": lambda: summary(np.exp(gamma_1)),
            "it is the change of log radon, gamma_1 * ln 2: the factor is 2^gamma_1.": (
                lambda: summary(gamma_1 * np.log(2))
            ),
        },
    )
    return all_correct([feedback], "Correct: the factor 2^gamma_1 and its 94% interval.")
