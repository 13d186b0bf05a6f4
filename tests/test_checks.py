"""The lessons' exercise checks: blank answers, planted mistakes, false alarms, references.

Every ``answer-check`` cell of every lesson is called here as a student edition calls it
before an answer is in (each answer ``...``): it must say "no answer yet" without touching
the lesson objects it is given. Lesson 01's checks are then tried on correct answers made
the way its solutions make them (false alarms counted against the design rate), on the
typical mistakes they name, and their exact references are recomputed another way.
"""

from __future__ import annotations

import ast

import arviz as az
import jupytext
import nbformat
import numpy as np
import pytest
from scipy import integrate, stats

from course_utils import exercises
from course_utils.checks import pooling
from course_utils.simulate import simulate_grouped_measurements
from course_utils.tools import manifest, student

LESSONS = manifest.load_course().notebooks


class _Untouchable:
    """A lesson object that fails loudly when a check reads it."""

    def __getattr__(self, name):
        raise AssertionError(f"the check read .{name} of a lesson object before its answer")

    def __getitem__(self, key):
        raise AssertionError(f"the check indexed a lesson object [{key!r}] before its answer")

    def __array__(self, *args, **kwargs):
        raise AssertionError("the check converted a lesson object before its answer")


def _lesson_namespace(nb) -> dict:
    """Run only the lesson's import statements, as its first cells do."""
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        exec(compile(ast.Module(body=imports, type_ignores=[]), "<imports>", "exec"), namespace)
    return namespace


def _resolve(namespace: dict, dotted: str):
    head, *rest = dotted.split(".")
    value = namespace[head]
    for part in rest:
        value = getattr(value, part)
    return value


CHECKS = [
    pytest.param(lesson, check, id=f"{lesson.name[:2]}-{check.function}")
    for lesson in LESSONS
    for check in student.answer_checks(jupytext.read(lesson.source))
]


def test_lesson_01_has_an_answer_check_for_each_of_its_four_exercises():
    lesson = next(lesson for lesson in LESSONS if lesson.name.startswith("01"))
    assert len(student.answer_checks(jupytext.read(lesson.source))) == 4


@pytest.mark.parametrize(("lesson", "check"), CHECKS)
def test_a_blank_answer_in_a_student_edition_gets_no_answer_yet(lesson, check):
    function = _resolve(_lesson_namespace(jupytext.read(lesson.source)), check.function)
    arguments = [... if name in check.answers else _Untouchable() for name in check.arguments]
    feedback = function(*arguments)
    assert isinstance(feedback, exercises.Feedback)
    assert feedback.status == "no answer"
    assert all(f"`{name}`" in feedback.message for name in check.answers)


@pytest.mark.parametrize(("lesson", "check"), CHECKS)
def test_each_committed_lesson_shows_its_solution_passing_its_check(lesson, check):
    # The notebook validation then re-executes it (and `course seeds` under 20 seeds): a check
    # that fails on the lesson's own solution cannot be committed.
    cell = nbformat.read(lesson.committed, as_version=4).cells[check.index]
    assert cell.source == jupytext.read(lesson.source).cells[check.index].source
    (output,) = cell.outputs
    assert output["data"]["text/plain"].startswith("✅ Correct"), output["data"]["text/plain"]


# Lesson 01 --------------------------------------------------------------------------------


def _hierarchical_fit(seed=0, draws=1000) -> az.InferenceData:
    rng = np.random.default_rng(seed)
    shape = (4, draws)
    return az.from_dict(
        posterior={
            "mu": rng.normal(50, 2.5, shape),
            "tau": np.abs(rng.normal(5, 2, shape)),
            "sigma": rng.normal(8, 0.8, shape),
        }
    )


def test_the_shrinkage_factors_pass_when_computed_as_the_solution_does():
    fit = _hierarchical_fit()
    table = {"n": np.array(pooling_sizes())}
    sigma, tau = float(fit.posterior["sigma"].mean()), float(fit.posterior["tau"].mean())
    n = table["n"]
    answer = (sigma**2 / n) / (sigma**2 / n + tau**2)
    assert pooling.shrinkage_factors(answer, fit, table).correct
    sigma, tau = round(sigma, 2), round(tau, 2)  # read from a summary table
    rounded = (sigma**2 / n) / (sigma**2 / n + tau**2)
    assert not np.allclose(rounded, answer, rtol=0, atol=1e-6)
    assert pooling.shrinkage_factors(rounded, fit, table).correct
    assert pooling.shrinkage_factors(answer * 1.01, fit, table).status == "incorrect"


def pooling_sizes() -> tuple[int, ...]:
    return (1, 1, 2, 3, 5, 8, 12, 20)


@pytest.mark.parametrize(
    ("mistake", "named"),
    [
        (lambda s, t, n: (s / n) / (s / n + t), "their squares"),
        (lambda s, t, n: 1 - (s**2 / n) / (s**2 / n + t**2), "1 - B_j"),
    ],
)
def test_a_typical_shrinkage_mistake_is_named(mistake, named):
    fit = _hierarchical_fit()
    n = np.array(pooling_sizes())
    sigma, tau = float(fit.posterior["sigma"].mean()), float(fit.posterior["tau"].mean())
    feedback = pooling.shrinkage_factors(mistake(sigma, tau, n), fit, {"n": n})
    assert feedback.status == "incorrect" and named in feedback.message


def test_the_mixture_quantiles_agree_with_a_large_sample():
    rng = np.random.default_rng(3)
    loc, scale = rng.normal(0, 1, 50), rng.uniform(0.5, 2, 50)
    q, f = pooling.mixture_quantiles([0.03, 0.5, 0.97], loc, scale)
    cdf = [stats.norm.cdf(value, loc, scale).mean() for value in q]
    np.testing.assert_allclose(cdf, [0.03, 0.5, 0.97], atol=1e-9)
    sample = rng.normal(np.repeat(loc, 40_000), np.repeat(scale, 40_000))
    np.testing.assert_allclose(np.quantile(sample, [0.03, 0.5, 0.97]), q, atol=0.02)
    h = 1e-4
    numeric = [
        (stats.norm.cdf(v + h, loc, scale) - stats.norm.cdf(v - h, loc, scale)).mean() / (2 * h)
        for v in q
    ]
    np.testing.assert_allclose(f, numeric, rtol=1e-6)


def test_correct_new_class_intervals_fail_at_about_the_design_rate():
    # 1,000 students with the same fit, each drawing their own theta_new as the solution does.
    # A standard error 20% too small would give about 10 false alarms in 1,000.
    fit = _hierarchical_fit(seed=1)
    mu, tau = fit.posterior["mu"].to_numpy(), fit.posterior["tau"].to_numpy()
    rng = np.random.default_rng(2)
    statuses = [
        pooling.new_class_interval(np.quantile(rng.normal(mu, tau), [0.03, 0.97]), fit).status
        for _ in range(1000)
    ]
    assert statuses.count("incorrect") <= 5, statuses.count("incorrect")


def test_the_interval_of_mu_is_named_and_a_shifted_interval_fails():
    fit = _hierarchical_fit(seed=1)
    mu = fit.posterior["mu"].to_numpy()
    feedback = pooling.new_class_interval(np.quantile(mu, [0.03, 0.97]), fit)
    assert feedback.status == "incorrect" and "interval of mu" in feedback.message
    rng = np.random.default_rng(4)
    answer = np.quantile(rng.normal(mu, fit.posterior["tau"].to_numpy()), [0.03, 0.97]) + 1.5
    assert pooling.new_class_interval(answer, fit).status == "incorrect"


def _risk_simulation(rng, n_sims=4000, sd_of_mean=lambda n: 8.0 / np.sqrt(n), squares=True):
    """Exercise 3 as its solution computes it, with the typical mistakes as options."""
    sizes = np.array(pooling_sizes())
    theta = rng.normal(50.0, 5.0, size=(n_sims, sizes.size))
    ybar = rng.normal(theta, sd_of_mean(sizes))
    if squares:
        shrink = (8.0**2 / sizes) / (8.0**2 / sizes + 5.0**2)
    else:
        shrink = (8.0 / sizes) / (8.0 / sizes + 5.0)
    partial = shrink * 50.0 + (1 - shrink) * ybar
    return ((ybar - theta) ** 2).mean(axis=0), ((partial - theta) ** 2).mean(axis=0)


def test_correct_pooling_risks_fail_at_about_the_design_rate():
    # 400 simulations of 4,000 data sets each: at the design rate of 1e-3 about 0.4 false
    # alarms are expected; a standard error off by a factor sqrt(2) would give dozens.
    rng = np.random.default_rng(5)
    statuses = [
        pooling.pooling_risk(*_risk_simulation(rng), 4000, pooling_sizes()).status
        for _ in range(400)
    ]
    assert statuses.count("incorrect") <= 3, statuses.count("incorrect")


def test_a_typical_simulation_mistake_is_named():
    mse_none, mse_partial = _risk_simulation(np.random.default_rng(6), sd_of_mean=lambda n: 8.0 / n)
    feedback = pooling.pooling_risk(mse_none, mse_partial, 4000, pooling_sizes())
    assert feedback.status == "incorrect" and "sd 8 / n_j" in feedback.message


def test_shrinkage_from_standard_deviations_is_within_what_the_risk_check_can_see():
    # The documented limit: this mistake changes the errors by less than their Monte Carlo
    # error, so the risk check passes it (Exercise 1's check names it instead).
    mse_none, mse_partial = _risk_simulation(np.random.default_rng(6), squares=False)
    assert pooling.pooling_risk(mse_none, mse_partial, 4000, pooling_sizes()).correct


def test_n_sims_must_be_a_count():
    mse_none, mse_partial = _risk_simulation(np.random.default_rng(7))
    feedback = pooling.pooling_risk(mse_none, mse_partial, 4000.0, pooling_sizes())
    assert feedback.status == "incorrect" and "number of simulated data sets" in feedback.message


def _lesson_data():
    rng = np.random.default_rng(1)
    df = simulate_grouped_measurements(
        rng, n_per_group=pooling_sizes(), mu=50.0, tau=5.0, sigma=8.0
    )
    return df["y"].to_numpy(), df["group_idx"].to_numpy()


@pytest.mark.parametrize("tau", [2.0, 8.0, 32.0])
def test_the_exact_fixed_tau_means_agree_with_a_two_dimensional_quadrature(tau):
    # Another route: theta integrated out for given (mu, sigma), then mu and sigma together
    # by the trapezoid rule on a wide, fine grid (the 1-D reference integrates mu out
    # analytically).
    y, group_idx = _lesson_data()
    n = np.bincount(group_idx).astype(float)
    ybar = np.bincount(group_idx, weights=y) / n
    ss = float(((y - ybar[group_idx]) ** 2).sum())
    mu = np.linspace(-100.0, 200.0, 3001)[:, None]
    sigma = np.linspace(0.5, 40.0, 2001)[None, :]
    log_joint = (
        -0.5 * (y.size - n.size) * np.log(sigma**2)
        - ss / (2 * sigma**2)
        + stats.norm.logpdf(mu, 50, 20)
        + stats.halfnorm.logpdf(sigma, scale=10)
    )
    for j in range(n.size):
        log_joint = log_joint + stats.norm.logpdf(ybar[j], mu, np.sqrt(tau**2 + sigma**2 / n[j]))
    weight = np.exp(log_joint - log_joint.max())
    total = integrate.trapezoid(integrate.trapezoid(weight, sigma[0], axis=1), mu[:, 0])
    expected = []
    for j in (0, 7):
        theta = (mu / tau**2 + n[j] * ybar[j] / sigma**2) / (1 / tau**2 + n[j] / sigma**2)
        moment = integrate.trapezoid(
            integrate.trapezoid(weight * theta, sigma[0], axis=1), mu[:, 0]
        )
        expected.append(moment / total)
    exact = pooling.fixed_tau_theta_means(y, group_idx, tau)
    np.testing.assert_allclose(exact[[0, 7]], expected, rtol=1e-7)


def _theta_fit(means, *, seed=0, sd=1.0, diverging=0) -> az.InferenceData:
    rng = np.random.default_rng(seed)
    draws = rng.normal(means, sd, size=(4, 1000, len(means)))
    flags = np.zeros((4, 1000), dtype=bool)
    flags.flat[:diverging] = True
    return az.from_dict(posterior={"theta": draws}, sample_stats={"diverging": flags})


def test_converged_fixed_tau_fits_pass_and_a_fit_left_at_tau_5_is_named():
    y, group_idx = _lesson_data()
    fits = {
        tau: _theta_fit(pooling.fixed_tau_theta_means(y, group_idx, tau), seed=i)
        for i, tau in enumerate(pooling.FIXED_TAU_VALUES)
    }
    assert pooling.fixed_tau_posteriors(fits, y, group_idx).correct
    left = {**fits, 8.0: _theta_fit(pooling.fixed_tau_theta_means(y, group_idx, 5.0))}
    feedback = pooling.fixed_tau_posteriors(left, y, group_idx)
    assert feedback.status == "incorrect"
    assert feedback.message.startswith("With tau = 8:") and "pm.set_data" in feedback.message


def test_fixed_tau_fits_with_divergences_or_missing_values_are_sent_back():
    y, group_idx = _lesson_data()
    fits = {
        tau: _theta_fit(pooling.fixed_tau_theta_means(y, group_idx, tau))
        for tau in pooling.FIXED_TAU_VALUES
    }
    diverged = {
        **fits,
        2.0: _theta_fit(pooling.fixed_tau_theta_means(y, group_idx, 2.0), diverging=3),
    }
    assert pooling.fixed_tau_posteriors(diverged, y, group_idx).status == "not converged"
    partial = {2.0: fits[2.0]}
    feedback = pooling.fixed_tau_posteriors(partial, y, group_idx)
    assert feedback.status == "incorrect" and "tau = 8, 32" in feedback.message
    feedback = pooling.fixed_tau_posteriors([fits[2.0]], y, group_idx)
    assert feedback.status == "incorrect" and "dict" in feedback.message
