"""Long-run references of the exercise checks: they belong to the lessons' current code.

A check whose model the lesson does not fit compares a student's fit with the solution's
model run long (``course references NN``). Here every recorded file is compared with its
lesson's code (a changed lesson fails until its references are recorded again), every long
run must have converged with an ESS far above a student's, and the comparison itself is
tried on fits made from the recorded posterior.
"""

from __future__ import annotations

import json

import arviz as az
import jupytext
import numpy as np
import pytest

from course_utils import references
from course_utils.tools import manifest
from course_utils.tools import references as tool

COURSE = manifest.load_course()
DECLARED = {lesson.name: tool.lesson_references(lesson) for lesson in COURSE.lessons}
WITH_REFERENCES = [COURSE.get(name) for name, declared in DECLARED.items() if declared]
RECORDED_DIR = COURSE.root / tool.RECORD_DIR


def test_lessons_02_and_05_declare_their_exercise_models():
    assert [lesson.name for lesson in WITH_REFERENCES] == ["02_chemical_shifts", "05_radon"]


@pytest.mark.parametrize("lesson", WITH_REFERENCES, ids=lambda lesson: lesson.name)
def test_every_recorded_reference_belongs_to_its_lessons_current_code(lesson):
    problems = tool.stale_references(
        jupytext.read(lesson.source), DECLARED[lesson.name], RECORDED_DIR / f"{lesson.name}.json"
    )
    assert not problems, f"{problems}: run `course references {lesson.number}`"


def test_no_file_is_recorded_for_a_lesson_without_references():
    recorded = {path.stem for path in RECORDED_DIR.glob("*.json")}
    assert recorded == {lesson.name for lesson in WITH_REFERENCES}


@pytest.mark.parametrize("lesson", WITH_REFERENCES, ids=lambda lesson: lesson.name)
def test_every_long_run_converged_with_an_ess_ten_times_a_students(lesson):
    document = json.loads((RECORDED_DIR / f"{lesson.name}.json").read_text())
    runs = document["references"]
    assert tool.long_run_problems(runs) == {}
    for run in runs.values():
        assert run["diagnostics"]["divergences"] == 0
        assert run["diagnostics"]["max_r_hat"] <= 1.01
        assert run["sampler"]["draws"] * run["sampler"]["chains"] >= 40_000
        for values in run["variables"].values():
            # The recorded MCSE is what 4,000 or more effective draws give.
            mcse, sd = np.array(values["mcse_mean"]), np.array(values["sd"])
            assert (mcse <= sd / np.sqrt(tool.MIN_ESS_BULK) * 1.05).all()


# The comparison --------------------------------------------------------------------------------


def _fit(means: dict, sds: dict, seed: int = 0, draws: int = 1000, **shift) -> az.InferenceData:
    """Independent normal draws with the given posterior means and sds (4 chains)."""
    rng = np.random.default_rng(seed)
    posterior = {}
    for name, mean in means.items():
        mean = np.asarray(mean, dtype=float) + shift.get(name, 0.0)
        posterior[name] = rng.normal(mean, sds[name], (4, draws, *np.shape(mean)))
    return az.from_dict(
        posterior=posterior, sample_stats={"diverging": np.zeros((4, draws), dtype=bool)}
    )


REFERENCE = references.RecordedReference(
    "fit",
    {
        "mu": {"mean": [1.0], "sd": [0.5], "mcse_mean": [0.003]},
        "sigma": {"mean": [2.0, 3.0], "sd": [0.2, 0.3], "mcse_mean": [0.001, 0.002]},
    },
)
MEANS = {"mu": 1.0, "sigma": [2.0, 3.0]}
SDS = {"mu": 0.5, "sigma": [0.2, 0.3]}


def test_a_fit_of_the_reference_posterior_passes_and_a_shifted_one_is_told_how_far():
    assert references.check_recorded(_fit(MEANS, SDS), REFERENCE, "Correct: fit.").correct
    feedback = references.check_recorded(_fit(MEANS, SDS, sigma=[0.0, 0.1]), REFERENCE, "ok")
    assert feedback.status == "incorrect"
    assert "sigma (element 1)" in feedback.message and "standard errors" in feedback.message


def test_correct_fits_are_rarely_called_incorrect():
    # Short chains: r_hat above 1.01 by chance ("not converged") is another matter, measured
    # in tests/test_exercises.py; here only a wrong verdict on the means counts.
    verdicts = [
        references.check_recorded(_fit(MEANS, SDS, seed, draws=250), REFERENCE, "ok").status
        for seed in range(100)
    ]
    assert verdicts.count("incorrect") <= 1  # design rate 1e-3: 0.1 expected in 100


def test_a_named_mistake_unconverged_chains_and_a_missing_variable_are_reported():
    mistaken = _fit(MEANS, SDS, mu=-1.0)  # mu at 0
    named = references.check_recorded(
        mistaken, REFERENCE, "ok", mistakes={"mu": {"mu is its prior mean.": 0.0}}
    )
    assert named.status == "incorrect" and "mu is its prior mean." in named.message
    stuck = _fit(MEANS, SDS)
    stuck.posterior["mu"][0] += 3.0  # one chain elsewhere
    assert references.check_recorded(stuck, REFERENCE, "ok").status == "not converged"
    partial = _fit({"mu": 1.0}, {"mu": 0.5})
    feedback = references.check_recorded(partial, REFERENCE, "ok")
    assert feedback.status == "incorrect" and "no variable 'sigma'" in feedback.message
    assert references.check_recorded(None, REFERENCE, "ok").status == "no answer"


def test_a_missing_file_or_reference_names_the_command_that_records_it(tmp_path):
    with pytest.raises(LookupError, match="course references 02"):
        references.recorded_reference("02_chemical_shifts", "fit", folder=tmp_path)
    (tmp_path / "05_radon.json").write_text(json.dumps({"references": {}}))
    with pytest.raises(LookupError, match="no reference 'uranium'.*course references 05"):
        references.recorded_reference("05_radon", "uranium", folder=tmp_path)


# The lessons' checks on fits made from the recorded posteriors -----------------------------------


def _recorded_fit(notebook: str, name: str, seed: int = 0, **shift) -> az.InferenceData:
    recorded = references.recorded_reference(notebook, name)
    means = {var: recorded.mean(var) for var in recorded.variables}
    sds = {var: recorded.sd(var) for var in recorded.variables}
    return _fit(means, sds, seed, **shift)


def _all_shifted_but(notebook: str, name: str, var: str, value: float) -> az.InferenceData:
    """A fit whose every variable is one posterior sd off, and ``var`` at ``value``: a model
    that leaves ``var`` out of the likelihood moves the others too."""
    recorded = references.recorded_reference(notebook, name)
    shift = {other: recorded.sd(other) for other in recorded.variables if other != var}
    shift[var] = value - recorded.mean(var)
    return _recorded_fit(notebook, name, 1, **shift)


def test_the_sigma_hyperprior_check_passes_the_recorded_posterior_and_fails_a_shifted_one():
    from course_utils.checks import chemical_shifts

    fit = _recorded_fit("02_chemical_shifts", "sigma_hyperprior")
    assert chemical_shifts.sigma_hyperprior(fit).correct
    sd = references.recorded_reference("02_chemical_shifts", "sigma_hyperprior").sd("sigma_sd")
    shifted = _recorded_fit("02_chemical_shifts", "sigma_hyperprior", 1, sigma_sd=sd)
    feedback = chemical_shifts.sigma_hyperprior(shifted)
    assert feedback.status == "incorrect" and "sigma_sd" in feedback.message


def test_the_student_t_check_passes_the_recorded_posterior_and_names_an_unused_nu():
    from course_utils.checks import chemical_shifts

    assert chemical_shifts.student_t_errors(
        _recorded_fit("02_chemical_shifts", "student_t")
    ).correct
    unused = _all_shifted_but("02_chemical_shifts", "student_t", "nu", 20.0)
    feedback = chemical_shifts.student_t_errors(unused)
    assert feedback.status == "incorrect" and "does not use nu" in feedback.message


def test_the_uranium_check_passes_the_recorded_posterior_and_names_an_unused_gamma_1():
    from course_utils.checks import radon

    assert radon.uranium_predictor(_recorded_fit("05_radon", "uranium")).correct
    unused = _all_shifted_but("05_radon", "uranium", "gamma_1", 0.0)
    feedback = radon.uranium_predictor(unused)
    assert feedback.status == "incorrect" and "does not use gamma_1" in feedback.message
