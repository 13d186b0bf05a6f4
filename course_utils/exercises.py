r"""Checks a student runs on an exercise answer, tolerant of sampler randomness.

A correct MCMC answer differs from run to run, so an exercise check cannot compare digits.
It compares the student's estimate with a reference within their combined standard error:
the Monte Carlo standard error (MCSE) of the student's estimate and the uncertainty of the
reference (zero for an exact answer from :mod:`course_utils.exact`). An answer passes when

.. math::

    |\hat x - x_{\mathrm{ref}}| \le k \sqrt{\mathrm{MCSE}^2 + \mathrm{se}_{\mathrm{ref}}^2},

with :math:`k` the two-sided normal quantile of :data:`FALSE_ALARM` (divided among the
elements of a vector answer), so that a correct answer fails in fewer than one check in
a thousand **if the MCSE is right**. An MCSE is itself estimated from the chains'
autocorrelation and can be optimistic: the tests measure the rate on simulated chains.

Convergence comes first: an estimate from chains that failed their diagnostics has no
trustworthy MCSE, and is reported as "not converged", not as wrong. Known typical mistakes
(a centered model, a prior on the variance instead of the sd) can be named: when the answer
is far from the reference but close to what the mistake gives, the feedback says so.

Every function returns :class:`Feedback`, never raises on a student's answer: an empty
answer cell (``None``) gets "no answer yet", a wrong type gets a sentence naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = [
    "FALSE_ALARM",
    "Feedback",
    "all_correct",
    "as_count",
    "check_number",
    "check_posterior_mean",
    "check_predictive_draws",
    "critical_value",
    "missing_answer",
]

#: Design probability that a correct answer (with a correct MCSE) fails its check.
FALSE_ALARM = 1e-3

#: A known wrong answer, or a function of no arguments that computes it (only when needed).
Mistake = ArrayLike | Callable[[], ArrayLike]

Status = Literal["correct", "incorrect", "not converged", "no answer"]


@dataclass(frozen=True, repr=False)
class Feedback:
    """The result of an exercise check, in plain words.

    Attributes
    ----------
    status : {"correct", "incorrect", "not converged", "no answer"}
        What the check found.
    message : str
        One or two sentences for the student.
    """

    status: Status
    message: str

    @property
    def correct(self) -> bool:
        """Whether the answer passed."""
        return self.status == "correct"

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{_MARKS[self.status]} {self.message}"

    def _repr_markdown_(self) -> str:
        return repr(self)


_MARKS = {"correct": "✅", "incorrect": "❌", "not converged": "⚠️", "no answer": "✏️"}


def critical_value(n_elements: int = 1, false_alarm: float = FALSE_ALARM) -> float:
    """How many standard errors a correct answer may be off, for a given false-alarm rate.

    The rate is shared among the elements of a vector answer (Bonferroni), so that the
    whole answer fails with probability at most ``false_alarm``.

    Parameters
    ----------
    n_elements : int, default 1
        Number of numbers checked together.
    false_alarm : float, default :data:`FALSE_ALARM`
        Probability that a correct answer fails.

    Returns
    -------
    float

    Examples
    --------
    >>> round(critical_value(), 2)
    3.29
    >>> round(critical_value(8), 2)
    3.84
    """
    if n_elements < 1:
        raise ValueError(f"n_elements must be at least 1, got {n_elements}.")
    if not 0 < false_alarm < 1:
        raise ValueError(f"false_alarm must lie in (0, 1), got {false_alarm}.")
    return float(stats.norm.isf(false_alarm / (2 * n_elements)))


def _missing(answer: Any) -> bool:
    return answer is None or answer is Ellipsis


def missing_answer(**answers: Any) -> Feedback | None:
    """Say "no answer yet" if any of the named answers is still blank.

    A student edition's answer cell sets each answer to ``...`` (Ellipsis); ``None`` counts
    as blank too. A check calls this first, before it looks at anything else.

    Parameters
    ----------
    **answers
        The answers, by the names the student gives them.

    Returns
    -------
    Feedback or None
        "no answer" naming the blank answers, or None when every answer is given.

    Examples
    --------
    >>> print(missing_answer(shrink=..., n_sims=4000))
    No answer yet for `shrink`: compute it, then run this check again.
    >>> missing_answer(shrink=[0.5]) is None
    True
    """
    blank = [name for name, value in answers.items() if _missing(value)]
    if not blank:
        return None
    quoted = [f"`{name}`" for name in blank]
    names = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    it = "it" if len(quoted) == 1 else "them"
    return Feedback(
        "no answer", f"No answer yet for {names}: compute {it}, then run this check again."
    )


def as_count(answer: Any) -> int | None:
    """Read a count the student gave (``4000``, ``4e3`` or ``np.int64(4000)``), at least 2.

    Parameters
    ----------
    answer : object
        The student's value.

    Returns
    -------
    int or None
        The count, or None if ``answer`` is not a whole number of at least 2.

    Examples
    --------
    >>> as_count(4e3), as_count("4000"), as_count(2.5), as_count(None)
    (4000, None, None, None)
    """
    if isinstance(answer, str | bytes):
        return None
    try:
        number = float(answer)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and number >= 2 else None


def all_correct(feedbacks: Sequence[Feedback], message: str) -> Feedback:
    """Combine the checks of the parts of an answer: the first that did not pass, or correct.

    Parameters
    ----------
    feedbacks : sequence of Feedback
        One per part, in the order the student should fix them.
    message : str
        The message when every part passed.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> parts = [check_number(1.0, 1.0), check_number(3.0, 2.0, name="b")]
    >>> all_correct(parts, "Correct: a and b.").status
    'incorrect'
    >>> print(all_correct(parts[:1], "Correct: a."))
    Correct: a.
    """
    for feedback in feedbacks:
        if not feedback.correct:
            return feedback
    return Feedback("correct", message)


def _as_numbers(answer: Any, name: str) -> np.ndarray | Feedback:
    if isinstance(answer, str | bytes):
        return Feedback(
            "incorrect", f"{name} should be a number, not the text {answer!r}: compute it."
        )
    try:
        values = np.atleast_1d(np.asarray(answer, dtype=float))
    except (TypeError, ValueError, OverflowError):
        return Feedback(
            "incorrect",
            f"{name} should be a number (or an array of numbers), got {answer!r:.80}.",
        )
    if not np.all(np.isfinite(values)):
        return Feedback("incorrect", f"{name} contains a NaN or an infinity: {answer!r:.80}.")
    return values


def _compare(
    name: str,
    values: np.ndarray,
    reference: np.ndarray,
    se: np.ndarray,
    tolerance: np.ndarray,
    mistakes: Mapping[str, Mistake],
    k: float,
) -> Feedback:
    allowed = k * se + tolerance
    off = np.abs(values - reference) > allowed * (1 + 1e-12)
    if not off.any():
        return Feedback("correct", f"Correct: {name} agrees with the expected value.")
    for hint, mistake in mistakes.items():
        if callable(mistake):  # computed only for an answer that is off
            mistake = mistake()
        if np.all(np.abs(values - np.broadcast_to(mistake, values.shape)) <= allowed):
            return Feedback("incorrect", f"{name}: not the expected answer, but {hint}")
    flat = int(np.argmax((np.abs(values - reference) / np.maximum(allowed, 1e-300)).ravel()))
    worst = np.unravel_index(flat, values.shape)
    position = worst[0] if len(worst) == 1 else tuple(int(i) for i in worst)
    where = f" (element {position})" if values.size > 1 else ""
    distance = (
        f"{abs(values[worst] - reference[worst]) / se[worst]:.1f} standard errors"
        if se[worst] > 0
        else f"{abs(values[worst] - reference[worst]):.3g}"
    )
    return Feedback(
        "incorrect",
        f"{name}{where} is {values[worst]:.4g}, {distance} from the expected "
        f"{reference[worst]:.4g}: check the model and the quantity you computed.",
    )


def check_number(
    answer: Any,
    reference: ArrayLike,
    *,
    name: str = "your answer",
    mcse: ArrayLike = 0.0,
    reference_se: ArrayLike = 0.0,
    tolerance: ArrayLike = 0.0,
    mistakes: Mapping[str, Mistake] | None = None,
    false_alarm: float = FALSE_ALARM,
) -> Feedback:
    """Check a number (or an array of numbers) against a reference within its standard error.

    Parameters
    ----------
    answer : float or array_like or None
        The student's value; ``None`` (an empty answer) gives "no answer".
    reference : float or array_like
        The expected value, same shape as ``answer``.
    name : str, default "your answer"
        How the feedback calls the answer (e.g. ``"the posterior mean of tau"``).
    mcse : float or array_like, default 0.0
        The Monte Carlo standard error of the answer (0 for a deterministic computation).
    reference_se : float or array_like, default 0.0
        The standard error of the reference (0 for an exact one).
    tolerance : float or array_like, default 0.0
        An absolute allowance on top (rounding of a printed reference, a numerical method's
        error).
    mistakes : mapping of str to float, array_like or callable, optional
        Known wrong answers (or functions of no arguments returning one, called only when
        the answer is off): a hint (the end of a sentence starting "but ...") to the value
        the mistake gives.
    false_alarm : float, default :data:`FALSE_ALARM`
        Probability that a correct answer fails.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_number(0.52, 0.5, mcse=0.01).status
    'correct'
    >>> feedback = check_number(0.9, 0.5, mcse=0.01, name="P(theta < 0)")
    >>> feedback.status, feedback.message.split(":")[0]
    ('incorrect', 'P(theta < 0) is 0.9, 40.0 standard errors from the expected 0.5')
    >>> print(check_number(0.25, 0.5, mcse=0.01, mistakes={"it is what the prior gives": 0.25}))
    your answer: not the expected answer, but it is what the prior gives
    >>> print(check_number(None, 0.5))
    No answer yet: compute your answer, then run this check again.
    """
    if _missing(answer):
        return Feedback(
            "no answer", "No answer yet: compute your answer, then run this check again."
        )
    values = _as_numbers(answer, name)
    if isinstance(values, Feedback):
        return values
    ref = np.atleast_1d(np.asarray(reference, dtype=float))
    if ref.shape != values.shape and values.squeeze().shape == ref.squeeze().shape:
        values = values.reshape(ref.shape)  # a one-column table for a vector, say
    if ref.shape != values.shape:
        return Feedback(
            "incorrect",
            f"{name} has shape {values.shape}, the expected answer {ref.shape}: "
            "check which quantity you computed.",
        )
    se = np.broadcast_to(np.hypot(mcse, reference_se), values.shape).astype(float)
    k = critical_value(values.size, false_alarm)
    allowance = np.broadcast_to(np.asarray(tolerance, dtype=float), values.shape)
    return _compare(name, values, ref, se, allowance, mistakes or {}, k)


def check_posterior_mean(
    idata: Any,
    var_name: str,
    reference: ArrayLike,
    *,
    reference_se: ArrayLike = 0.0,
    tolerance: ArrayLike = 0.0,
    mistakes: Mapping[str, Mistake] | None = None,
    max_r_hat: float = 1.01,
    min_ess_bulk: float = 400,
    false_alarm: float = FALSE_ALARM,
) -> Feedback:
    """Check a fit's posterior mean of one variable against a reference, convergence first.

    Parameters
    ----------
    idata : arviz.InferenceData or None
        The student's fit; ``None`` gives "no answer".
    var_name : str
        The variable to check (all its elements, in order, e.g. ``theta`` over schools).
    reference : float or array_like
        The expected posterior mean(s).
    reference_se : float or array_like, default 0.0
        Uncertainty of the reference (0 for an exact one).
    tolerance : float or array_like, default 0.0
        An absolute allowance on top, as in :func:`check_number` (e.g. for a reference from
        a model whose priors differ slightly).
    mistakes : mapping of str to float or array_like, optional
        Known wrong answers, as in :func:`check_number`.
    max_r_hat, min_ess_bulk : float, default 1.01 and 400
        Convergence thresholds, as in :func:`course_utils.diagnostics.check_sampling`.
        Divergences are reported too.
    false_alarm : float, default :data:`FALSE_ALARM`
        Probability that a correct, converged answer fails.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> import arviz as az, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(
    ...     posterior={"mu": rng.normal(1.0, 0.5, size=(4, 1000))},
    ...     sample_stats={"diverging": np.zeros((4, 1000), dtype=bool)},
    ... )
    >>> check_posterior_mean(idata, "mu", 1.0).status
    'correct'
    >>> print(check_posterior_mean(idata, "sigma", 1.0))
    Your fit has no variable 'sigma' (it has: mu): give it that name in the model.
    """
    import arviz as az

    from course_utils.diagnostics import check_sampling

    if _missing(idata):
        return Feedback("no answer", "No answer yet: fit your model, then run this check again.")
    posterior = getattr(idata, "posterior", None) if isinstance(idata, az.InferenceData) else None
    if posterior is None:
        return Feedback(
            "incorrect",
            f"Expected the InferenceData returned by pm.sample, got {type(idata).__name__}.",
        )
    if var_name not in posterior:
        have = ", ".join(str(v) for v in posterior.data_vars)
        return Feedback(
            "incorrect",
            f"Your fit has no variable {var_name!r} (it has: {have}): give it that name in the "
            "model.",
        )
    try:
        report = check_sampling(
            idata,
            var_names=[var_name],
            max_r_hat=max_r_hat,
            min_ess_bulk=min_ess_bulk,
            raise_on_failure=False,
        )
    except ValueError as error:  # not a NUTS fit: no divergence information
        return Feedback("incorrect", str(error))
    if not report.ok:
        return Feedback(
            "not converged",
            f"Your chains have not converged ({'; '.join(report.problems)}): sample longer, "
            "raise target_accept or reparameterise before checking the answer.",
        )
    draws = posterior[var_name]
    mean = draws.mean(("chain", "draw")).to_numpy().ravel()
    mcse = az.mcse(idata, var_names=[var_name])[var_name].to_numpy().ravel()
    return check_number(
        mean,
        reference,
        name=f"the posterior mean of {var_name}",
        mcse=mcse,
        reference_se=reference_se,
        tolerance=tolerance,
        mistakes=mistakes,
        false_alarm=false_alarm,
    )


def _predictive_moments(means: np.ndarray, variances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of an equal-weight normal mixture, and the squared errors' variances."""
    centre = means.mean()
    offset = (means - centre) ** 2
    moments = np.array([centre, (variances + offset).mean()])
    spread = np.array([variances.mean(), (2 * variances**2 + 4 * variances * offset).mean()])
    return moments, spread


def _mistaken_moments(
    pair: tuple[ArrayLike, ArrayLike], shape: tuple[int, ...]
) -> Callable[[], ArrayLike]:
    def moments() -> ArrayLike:
        means, variances = (np.broadcast_to(np.asarray(x, dtype=float), shape) for x in pair)
        return _predictive_moments(means, variances)[0]

    return moments


def check_predictive_draws(
    draws: Any,
    means: ArrayLike,
    variances: ArrayLike,
    *,
    name: str = "your draws",
    mistakes: Mapping[str, tuple[ArrayLike, ArrayLike]] | None = None,
    false_alarm: float = FALSE_ALARM,
) -> Feedback:
    r"""Check predictive draws, made the same number of times per posterior draw, by two moments.

    Given posterior draws :math:`s = 1, \dots, S`, a predictive draw made from draw
    :math:`s` is :math:`\mathrm{Normal}(m_s, v_s)`, independently. When each posterior draw is
    used equally often (:math:`N = kS` draws in all), the sample mean and the sample variance
    of the :math:`N` draws have, given the posterior draws, the expectations
    :math:`\bar m` and :math:`\overline{v_s + (m_s - \bar m)^2}` (up to a relative
    :math:`O(1/N)`), and the standard errors :math:`\sqrt{\bar v / N}` and
    :math:`\sqrt{\overline{2 v_s^2 + 4 v_s (m_s - \bar m)^2} / N}`. The check compares both
    with these exact references, so it catches a wrong centre as well as a missing (or extra)
    source of spread.

    Parameters
    ----------
    draws : array_like
        The student's predictive draws (any shape, read flat).
    means, variances : array_like, shape (S,)
        :math:`m_s` and :math:`v_s` for each posterior draw.
    name : str, default "your draws"
        How the feedback calls the draws.
    mistakes : mapping of str to (means, variances), optional
        Known wrong predictive distributions, as the per-draw means and variances they use:
        a hint (the end of a sentence "but ...") to the pair.
    false_alarm : float, default :data:`FALSE_ALARM`
        Probability that correct draws fail (shared by the two moments).

    Returns
    -------
    Feedback

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> m, v = rng.normal(0.0, 0.1, 4000), np.full(4000, 0.25)
    >>> good = rng.normal(m, np.sqrt(v))
    >>> check_predictive_draws(good, m, v).status
    'correct'
    >>> no_spread = {"it has no spread of its own.": (m, np.zeros(4000))}
    >>> print(check_predictive_draws(m, m, v, mistakes=no_spread))
    the mean and variance of your draws: not the expected answer, but it has no spread of its own.
    """
    if _missing(draws):
        return Feedback("no answer", f"No answer yet for {name}: draw them, then run this check.")
    values = _as_numbers(draws, name)
    if isinstance(values, Feedback):
        return values
    m = np.asarray(means, dtype=float).ravel()
    v = np.asarray(variances, dtype=float).ravel()
    if values.size < m.size or values.size % m.size:
        return Feedback(
            "incorrect",
            f"{name}: {values.size} draws for {m.size} posterior draws. Draw the same number "
            "(one, or k) from every posterior draw.",
        )
    reference, spread = _predictive_moments(m, v)
    se = np.sqrt(spread / values.size)
    statistics = np.array([values.mean(), values.var()])
    return check_number(
        statistics,
        reference,
        name=f"the mean and variance of {name}",
        mcse=se,
        mistakes={
            hint: _mistaken_moments(pair, m.shape) for hint, pair in (mistakes or {}).items()
        },
        false_alarm=false_alarm,
    )
