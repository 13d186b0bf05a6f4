r"""Checks for the exercises of lesson 02, "Chemical shifts: a hierarchy of amino acids".

Each function takes the student's answer first, then the lesson objects that give the
reference, and returns a :class:`~course_utils.exercises.Feedback`.

- Exercise 1: the fit of the model with a hyperprior on the standard deviations. The lesson
  fits no such model, so the reference is the solution's model run long (40,000 draws,
  :data:`REFERENCES`, recorded by ``course references 02``): the posterior means of
  :math:`\sigma_{sd}`, :math:`\sigma_j`, :math:`\mu_\mu` and :math:`\mu_{sd}` must agree within
  the two fits' Monte Carlo standard errors (:func:`course_utils.references.check_recorded`).
  The LOO comparison and the reading of the stacking weights are arguments, not checked.
- Exercise 2: the draws of :math:`\mu_{\mathrm{CYS}}`, one (or the same number) per posterior
  draw. Given a draw, :math:`\mu_{\mathrm{CYS}} \sim \mathrm{Normal}(\mu_{\mu,s},
  \mu_{sd,s})`, so the draws' mean and variance have exact expectations and standard errors
  given the posterior draws (:func:`course_utils.exercises.check_predictive_draws`).
- Exercise 3: the fit with Student-t errors, against the solution's model run long, as in
  Exercise 1: :math:`\nu`, :math:`\mu_\mu`, :math:`\mu_{sd}`, :math:`\mu_j` and
  :math:`\sigma_j`. A :math:`\nu` whose posterior mean is its prior mean (20) is named: the
  likelihood does not use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_utils.exercises import (
    Feedback,
    all_correct,
    check_predictive_draws,
    missing_answer,
)
from course_utils.references import Reference, check_recorded, recorded_reference

__all__ = ["REFERENCES", "new_amino_acid", "sigma_hyperprior", "student_t_errors"]

_NOTEBOOK = "02_chemical_shifts"

# The exercise models run long by ``course references 02``, and the variables compared, in
# the order the checks compare them (the first that fails is reported).
_SIGMA_HYPERPRIOR = Reference(
    "sigma_hyperprior", "sigma_hierarchical_model", ("sigma_sd", "sigma", "mu_mu", "mu_sd")
)
_STUDENT_T = Reference("student_t", "student_model", ("nu", "mu_mu", "mu_sd", "mu", "sigma"))
#: What ``course references 02`` records for this module's checks.
REFERENCES = (_SIGMA_HYPERPRIOR, _STUDENT_T)
_NU_PRIOR_MEAN = 2 / 0.1  # Gamma(alpha=2, beta=0.1)


def sigma_hyperprior(sigma_hierarchical_idata: Any) -> Feedback:
    r"""Exercise 1: the fit with :math:`\sigma_j \sim \mathrm{HalfNormal}(\sigma_{sd})`.

    Parameters
    ----------
    sigma_hierarchical_idata : arviz.InferenceData
        The student's fit of ``sigma_hierarchical_model``.

    Returns
    -------
    Feedback
        Correct, "not converged", or which posterior mean is how far from the long run's.
    """
    if blank := missing_answer(sigma_hierarchical_idata=sigma_hierarchical_idata):
        return blank
    return check_recorded(
        sigma_hierarchical_idata,
        recorded_reference(_NOTEBOOK, _SIGMA_HYPERPRIOR.name),
        "Correct: the posterior of the model with a hyperprior on the standard deviations.",
        var_names=_SIGMA_HYPERPRIOR.var_names,
    )


def student_t_errors(student_idata: Any) -> Feedback:
    r"""Exercise 3: the fit with Student-t errors and one shared :math:`\nu`.

    Parameters
    ----------
    student_idata : arviz.InferenceData
        The student's fit of ``student_model``.

    Returns
    -------
    Feedback
        Correct, "not converged", :math:`\nu` left out of the likelihood, or which posterior
        mean is how far from the long run's.
    """
    if blank := missing_answer(student_idata=student_idata):
        return blank
    return check_recorded(
        student_idata,
        recorded_reference(_NOTEBOOK, _STUDENT_T.name),
        "Correct: the posterior of the model with Student-t errors.",
        var_names=_STUDENT_T.var_names,
        mistakes={
            "nu": {
                "its posterior is its prior, Gamma(2, 0.1) with mean 20: the likelihood does not "
                "use nu. Write y = pm.StudentT(..., nu=nu, ...).": _NU_PRIOR_MEAN
            }
        },
    )


def new_amino_acid(mu_cys: Any, hierarchical_idata: Any) -> Feedback:
    r"""Exercise 2: draws of the mean error :math:`\mu_{\mathrm{CYS}}` of an unobserved amino acid.

    Parameters
    ----------
    mu_cys : array_like
        The student's draws, the same number from every posterior draw.
    hierarchical_idata : arviz.InferenceData
        The lesson's hierarchical fit (``mu_mu`` and ``mu_sd``).

    Returns
    -------
    Feedback
        Correct, or the mistake named: the draws of :math:`\mu_\mu` alone (no spread between
        amino acids), or :math:`\mu_{sd}^2` used as the sd.

    Examples
    --------
    >>> import arviz as az
    >>> rng = np.random.default_rng(0)
    >>> hyper = {"mu_mu": rng.normal(0.1, 0.2, (4, 500)),
    ...          "mu_sd": rng.gamma(20.0, 0.04, (4, 500))}
    >>> fit = az.from_dict(posterior=hyper)
    >>> new_amino_acid(rng.normal(hyper["mu_mu"], hyper["mu_sd"]), fit).status
    'correct'
    """
    if blank := missing_answer(mu_cys=mu_cys):
        return blank
    posterior = hierarchical_idata.posterior
    mu_mu = np.asarray(posterior["mu_mu"], dtype=float).ravel()
    spread = np.asarray(posterior["mu_sd"], dtype=float).ravel() ** 2
    feedback = check_predictive_draws(
        mu_cys,
        mu_mu,
        spread,
        name="mu_cys",
        mistakes={
            "these are draws of mu_mu alone: a new amino acid differs from the population mean "
            "by Normal(0, mu_sd).": (mu_mu, 0.0),
            "the spread is mu_sd squared: Normal takes the sd, sigma=mu_sd.": (mu_mu, spread**2),
        },
    )
    return all_correct(
        [feedback],
        "Correct: draws of a new amino acid's mean error.",
    )
