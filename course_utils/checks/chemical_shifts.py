r"""Checks for the exercises of lesson 02, "Chemical shifts: a hierarchy of amino acids".

Each function takes the student's answer first, then the lesson objects that give the
reference, and returns a :class:`~course_utils.exercises.Feedback`.

- Exercise 2: the draws of :math:`\mu_{\mathrm{CYS}}`, one (or the same number) per posterior
  draw. Given a draw, :math:`\mu_{\mathrm{CYS}} \sim \mathrm{Normal}(\mu_{\mu,s},
  \mu_{sd,s})`, so the draws' mean and variance have exact expectations and standard errors
  given the posterior draws (:func:`course_utils.exercises.check_predictive_draws`).
- Exercises 1 (a hyperprior on the standard deviations, compared by LOO) and 3 (Student-t
  errors) fit new models for which the course has no exact or recorded reference yet, so they
  have no check.
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

__all__ = ["new_amino_acid"]


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
