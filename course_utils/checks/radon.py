r"""Checks for the exercises of lesson 05, "Radon: varying intercepts and slopes".

Each function takes the student's answer first, then the lesson objects that give the
reference, and returns a :class:`~course_utils.exercises.Feedback`.

- Exercise 1: the fit with weakly informative priors against the lesson's fit with the vague
  ones. The course has no exact posterior for either, so the reference is the lesson's own
  fit: the hyperparameters' posterior means must agree within the two fits' combined Monte
  Carlo standard errors plus a fifth of a posterior sd, the most the change of priors moves
  them (the lesson asserts it under every sampler seed). Convergence comes first. The share
  of prior predictive homes above 10 is asked as a reading of the prior check; it is not
  checked.
- Exercise 2: the predictive draws for a basement in a new county. Given a posterior draw,
  such a draw is :math:`\mathrm{Normal}(\mu_{\alpha,s}, \sqrt{\sigma_{\alpha,s}^2 +
  \varepsilon_s^2})`, so their mean and variance have exact expectations and standard errors
  given the draws (:func:`course_utils.exercises.check_predictive_draws`).
- Exercise 3: the fit with uranium as a county predictor. The lesson fits no such model, so
  the reference is the solution's model run long (40,000 draws, :data:`REFERENCES`, recorded
  by ``course references 05``): the posterior means of :math:`\gamma_0`, :math:`\gamma_1`,
  :math:`\sigma_\alpha`, :math:`\mu_\beta`, :math:`\sigma_\beta` and :math:`\varepsilon` must
  agree within the two fits' Monte Carlo standard errors
  (:func:`course_utils.references.check_recorded`). A :math:`\gamma_1` whose posterior mean
  is its prior mean (0) is named: the intercepts do not use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_utils.exercises import (
    FALSE_ALARM,
    Feedback,
    all_correct,
    check_posterior_mean,
    check_predictive_draws,
    missing_answer,
)
from course_utils.references import Reference, check_recorded, recorded_reference

__all__ = ["REFERENCES", "new_county_basement", "uranium_predictor", "weak_prior_fit"]

# The exercise model run long by ``course references 05``, and the variables compared, in the
# order the check compares them (the first that fails is reported).
_URANIUM = Reference(
    "uranium",
    "uranium_model",
    ("gamma_1", "gamma_0", "sig_alpha", "mu_beta", "sig_beta", "eps"),
    target_accept=0.95,
)
#: What ``course references 05`` records for this module's checks.
REFERENCES = (_URANIUM,)

_HYPER = ("mu_alpha", "sig_alpha", "mu_beta", "sig_beta", "eps")
_PRIOR_EFFECT = 0.2  # posterior sds: the most the weakly informative priors move a mean


def weak_prior_fit(weak_prior_idata: Any, noncentered_idata: Any) -> Feedback:
    r"""Exercise 1: the hyperparameters under weakly informative priors.

    Parameters
    ----------
    weak_prior_idata : arviz.InferenceData
        The student's fit of the non-centered model with the weakly informative priors.
    noncentered_idata : arviz.InferenceData
        The lesson's fit with the vague priors.

    Returns
    -------
    Feedback
        Correct, "not converged", or how far a hyperparameter is from the lesson's fit.
    """
    import arviz as az

    if blank := missing_answer(weak_prior_idata=weak_prior_idata):
        return blank
    hyper = list(_HYPER)
    posterior = noncentered_idata.posterior[hyper]
    means = posterior.mean(("chain", "draw"))
    sds = posterior.std(("chain", "draw"))
    mcse = az.mcse(noncentered_idata, var_names=hyper)
    return all_correct(
        [
            check_posterior_mean(
                weak_prior_idata,
                name,
                float(means[name]),
                reference_se=float(mcse[name]),
                tolerance=_PRIOR_EFFECT * float(sds[name]),
                false_alarm=FALSE_ALARM / len(hyper),
            )
            for name in hyper
        ],
        "Correct: the hyperparameters agree with the vague-prior fit, to within a fifth of a "
        "posterior sd.",
    )


def new_county_basement(new_county: Any, noncentered_idata: Any) -> Feedback:
    r"""Exercise 2: log radon draws for a basement in a county outside the data.

    Parameters
    ----------
    new_county : array_like
        The student's predictive draws, the same number from every posterior draw.
    noncentered_idata : arviz.InferenceData
        The lesson's fit.

    Returns
    -------
    Feedback
        Correct, or the mistake named: no new county intercept (only the home's noise), no
        home's noise (only the county's spread), or a first-floor home.

    Examples
    --------
    >>> import arviz as az
    >>> rng = np.random.default_rng(0)
    >>> hyper = {"mu_alpha": rng.normal(1.5, 0.05, (4, 500)),
    ...          "sig_alpha": rng.gamma(30.0, 0.01, (4, 500)),
    ...          "mu_beta": rng.normal(-0.65, 0.08, (4, 500)),
    ...          "sig_beta": rng.gamma(10.0, 0.03, (4, 500)),
    ...          "eps": rng.normal(0.73, 0.02, (4, 500))}
    >>> fit = az.from_dict(posterior=hyper)
    >>> alpha = rng.normal(hyper["mu_alpha"], hyper["sig_alpha"])
    >>> draws = rng.normal(alpha, hyper["eps"])
    >>> new_county_basement(draws, fit).status
    'correct'
    """
    if blank := missing_answer(new_county=new_county):
        return blank
    post = {
        name: np.asarray(noncentered_idata.posterior[name], dtype=float).ravel() for name in _HYPER
    }
    county, home = post["sig_alpha"] ** 2, post["eps"] ** 2
    feedback = check_predictive_draws(
        new_county,
        post["mu_alpha"],
        county + home,
        name="your predictions",
        mistakes={
            "the new county's own intercept is missing: draw alpha_new ~ Normal(mu_alpha, "
            "sig_alpha) first, then the home around it.": (post["mu_alpha"], home),
            "the home's own noise is missing: draw the home around the county's intercept, "
            "Normal(alpha_new, eps).": (post["mu_alpha"], county),
            "this is a first-floor home: the basement is floor 0.": (
                post["mu_alpha"] + post["mu_beta"],
                county + post["sig_beta"] ** 2 + home,
            ),
        },
    )
    return all_correct(
        [feedback],
        "Correct: the predictive draws for a new county's basement.",
    )


def uranium_predictor(uranium_idata: Any) -> Feedback:
    r"""Exercise 3: the fit with log uranium as a predictor of the county intercepts.

    Parameters
    ----------
    uranium_idata : arviz.InferenceData
        The student's fit of ``uranium_model``.

    Returns
    -------
    Feedback
        Correct, "not converged", :math:`\gamma_1` left out of the likelihood, or which
        posterior mean is how far from the long run's.
    """
    if blank := missing_answer(uranium_idata=uranium_idata):
        return blank
    return check_recorded(
        uranium_idata,
        recorded_reference("05_radon", _URANIUM.name),
        "Correct: the posterior of the model with uranium as a county predictor.",
        var_names=_URANIUM.var_names,
        mistakes={
            "gamma_1": {
                "its posterior is its prior, Normal(0, 10): the intercepts' mean does not use "
                "gamma_1. Write alpha = gamma_0 + gamma_1 * log_uranium + sig_alpha * z_alpha.": 0.0
            }
        },
    )
