"""Exercise checks: correct answers pass despite sampler noise, wrong ones are named."""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pytest

from course_utils import exercises
from course_utils.exercises import check_number, check_posterior_mean


def _fit(means, *, sd=1.0, draws=1000, phi=0.0, seed=0, diverging=0) -> az.InferenceData:
    """Chains of an AR(1) process around ``means`` (one per chain), like MCMC draws."""
    rng = np.random.default_rng(seed)
    means = np.asarray(means, dtype=float)
    noise = rng.normal(0, sd * math.sqrt(1 - phi**2), size=(means.size, draws))
    x = np.empty_like(noise)
    x[:, 0] = rng.normal(0, sd, means.size)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    flags = np.zeros(x.shape, dtype=bool)
    flags.flat[:diverging] = True
    return az.from_dict(posterior={"mu": x + means[:, None]}, sample_stats={"diverging": flags})


def test_a_correct_estimate_within_its_standard_error_passes():
    feedback = check_number(4.43, 4.397, mcse=0.02, name="E[mu]")
    assert feedback.correct and "Correct" in str(feedback)


def test_a_wrong_estimate_fails_and_says_how_far():
    feedback = check_number(7.8, 4.397, mcse=0.05, name="E[mu]")
    assert feedback.status == "incorrect"
    assert "E[mu] is 7.8, 68.1 standard errors from the expected 4.397" in feedback.message


def test_a_known_mistake_is_named():
    # E[mu] under a flat prior on mu instead of Normal(0, 5): a typical slip.
    flat = "it is what a flat prior on mu gives: did you use Normal(0, 5)?"
    feedback = check_number(7.81, 4.397, mcse=0.05, mistakes={flat: 7.803})
    assert feedback.status == "incorrect" and feedback.message.endswith(flat)


@pytest.mark.parametrize("blank", [None, ...])
def test_a_blank_answer_gets_no_answer_yet_not_a_traceback(blank):
    assert check_number(blank, 1.0).status == "no answer"
    feedback = check_posterior_mean(blank, "mu", 1.0)
    assert feedback.status == "no answer" and "fit your model" in feedback.message


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        ("4.4", "not the text"),
        (["a", "b"], "should be a number"),
        ([1.0, float("nan")], "NaN"),
        ([1.0, 2.0], "shape (2,)"),
    ],
)
def test_an_answer_of_the_wrong_kind_is_explained(answer, text):
    feedback = check_number(answer, 1.0)
    assert feedback.status == "incorrect" and text in feedback.message


def test_chains_that_disagree_are_reported_as_not_converged_not_as_wrong():
    idata = _fit([0.0, 0.0, 0.0, 3.0])  # one chain elsewhere: r_hat far above 1.01
    feedback = check_posterior_mean(idata, "mu", 0.0)
    assert feedback.status == "not converged"
    assert "r_hat" in feedback.message and "sample longer" in feedback.message


def test_divergences_are_reported_as_not_converged():
    feedback = check_posterior_mean(_fit([1.0] * 4, diverging=3), "mu", 1.0)
    assert feedback.status == "not converged" and "diverg" in feedback.message


def test_a_fit_without_the_variable_or_not_a_fit_is_explained():
    idata = _fit([1.0] * 4)
    assert "no variable 'tau' (it has: mu)" in check_posterior_mean(idata, "tau", 1.0).message
    assert "InferenceData" in check_posterior_mean({"mu": 1}, "mu", 1.0).message


def test_a_converged_fit_far_from_the_reference_fails():
    feedback = check_posterior_mean(_fit([1.5] * 4, sd=0.5), "mu", 1.0)
    assert (
        feedback.status == "incorrect" and "standard errors from the expected" in feedback.message
    )


def test_the_critical_value_shares_the_false_alarm_among_elements():
    assert exercises.critical_value(1) == pytest.approx(3.2905, abs=1e-3)
    assert exercises.critical_value(8) > exercises.critical_value(1)
    with pytest.raises(ValueError, match="at least 1"):
        exercises.critical_value(0)


def test_correct_answers_with_an_exact_mcse_fail_at_the_design_rate():
    rng = np.random.default_rng(1)
    trials = 40_000
    answers = rng.normal(2.0, 0.1, trials)
    failures = sum(not check_number(a, 2.0, mcse=0.1).correct for a in answers)
    design = exercises.FALSE_ALARM
    assert failures / trials < design + 4 * math.sqrt(design / trials)


def test_correct_mcmc_answers_rarely_fail_with_an_estimated_mcse():
    # 300 fits of autocorrelated chains (AR(1), phi 0.7, ESS about 700 of 4000 draws), all
    # centred on the reference. With the MCSE estimated by ArviZ, the design rate of 1e-3
    # gives 0.3 expected wrong verdicts; an MCSE optimistic by a factor 1.6 (as seen for mu
    # in lesson 07) would give about 12. Fits whose r_hat exceeds 1.01 by chance (a few
    # percent at this ESS) are sent back as "not converged", which is advice, not a verdict.
    statuses = [
        check_posterior_mean(_fit([5.0] * 4, phi=0.7, seed=s), "mu", 5.0).status for s in range(300)
    ]
    assert statuses.count("incorrect") <= 3
    assert statuses.count("correct") >= 240


@pytest.mark.parametrize(
    ("per_draw", "means_sd"), [(1, 0.05), (10, 0.05), (1, 1.0)], ids=["1", "10", "wide means"]
)
def test_correct_predictive_draws_fail_at_about_the_design_rate(per_draw, means_sd):
    # 2,000 students, each drawing per_draw values from every one of 1,000 posterior draws;
    # about 2 false alarms are expected at the design rate. With wide means the spread of the
    # means dominates the variance and its standard error (the (m - mean)^2 terms).
    rng = np.random.default_rng(per_draw)
    m = rng.normal(1.3, means_sd, 1000)
    v = rng.gamma(20.0, 0.5 / 20, 1000) ** 2 + 0.8**2
    sd = np.sqrt(np.tile(v, per_draw))
    misses = sum(
        not exercises.check_predictive_draws(rng.normal(np.tile(m, per_draw), sd), m, v).correct
        for _ in range(2000)
    )
    assert misses <= 6, misses


def test_predictive_draws_without_a_source_of_spread_or_with_the_wrong_count_are_named():
    rng = np.random.default_rng(0)
    m, between, within = rng.normal(1.3, 0.05, 1000), 0.3**2, 0.8**2
    full = rng.normal(m, np.sqrt(between + within))
    hints = {"the home's own noise is missing.": (m, between)}
    assert exercises.check_predictive_draws(full, m, between + within, mistakes=hints).correct
    named = exercises.check_predictive_draws(
        rng.normal(m, np.sqrt(between)), m, between + within, mistakes=hints
    )
    assert named.status == "incorrect" and "own noise" in named.message
    shifted = exercises.check_predictive_draws(full + 0.2, m, between + within)
    assert shifted.status == "incorrect"
    assert "same number" in exercises.check_predictive_draws(full[:999], m, 1.0).message
    assert exercises.check_predictive_draws(..., m, 1.0).status == "no answer"
