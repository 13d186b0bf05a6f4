"""``course references``: what a long run executes, its fingerprint, and a run of a tiny lesson."""

from __future__ import annotations

import json

import jupytext
import pytest
from nbformat import v4

from course_utils.references import Reference, recorded_reference
from course_utils.tools import cli
from course_utils.tools import references as tool
from course_utils.tools.notebook import code_hash

MODEL = Reference("normal", "model", ("mu",))

LESSON = """# %% [markdown]
# # A lesson with an exercise model

# %%
import pymc as pm

RANDOM_SEED = 7
y = [0.8, 1.4, 1.1, 0.6]

# %% [markdown]
# **Exercise.** Fit a Normal mean.

# %% tags=["solution"]
with pm.Model() as model:
    mu = pm.Normal("mu", 0, 10)
    pm.Normal("y", mu, 1, observed=y)

# %% tags=["answer-check"]
checks.normal(idata)

# %%
print("after the model")
"""


def _cells(*sources: str, check: str | None = None):
    cells = [v4.new_code_cell(source) for source in sources]
    if check is not None:
        cells.insert(1, v4.new_code_cell(check, metadata={"tags": ["answer-check"]}))
    return v4.new_notebook(cells=cells)


def test_the_prefix_is_the_code_up_to_the_last_model_without_answer_checks():
    nb = jupytext.reads(LESSON, fmt="py:percent")
    prefix = tool.references_prefix(nb, [MODEL])
    assert [cell.source.splitlines()[0] for cell in prefix.cells] == [
        "import pymc as pm",
        "with pm.Model() as model:",
    ]


def test_the_fingerprint_follows_the_code_the_long_run_depends_on():
    base = _cells("y = [1, 2]", "with pm.Model() as model:\n    pass", "print(1)")
    fingerprint = code_hash(tool.references_prefix(base, [MODEL]))

    def fingerprint_of(nb):
        return code_hash(tool.references_prefix(nb, [MODEL]))

    later = _cells("y = [1, 2]", "with pm.Model() as model:\n    pass", "print(2)")
    checked = _cells("y = [1, 2]", "with pm.Model() as model:\n    pass", check="checks.f(x)")
    assert fingerprint_of(later) == fingerprint_of(checked) == fingerprint
    other_data = _cells("y = [1, 3]", "with pm.Model() as model:\n    pass")
    assert fingerprint_of(other_data) != fingerprint


def test_a_reference_to_a_model_the_lesson_does_not_build_names_the_fix():
    with pytest.raises(ValueError, match=r"with pm.Model\(\) as other:"):
        tool.model_cell(_cells("with pm.Model() as model:\n    pass"), "other")


def test_a_lesson_finds_its_check_module_and_its_declared_references():
    assert tool.declared_references("radon")[0].model == "uranium_model"
    assert tool.declared_references("pooling") == ()


def test_a_long_run_below_the_ess_floor_or_with_problems_is_refused():
    runs = {
        "a": {"diagnostics": {"problems": ["1 divergence"], "min_ess_bulk": 9000.0}},
        "b": {"diagnostics": {"problems": [], "min_ess_bulk": 900.0}},
        "c": {"diagnostics": {"problems": [], "min_ess_bulk": 12000.0}},
    }
    assert tool.long_run_problems(runs) == {
        "a": ["1 divergence"],
        "b": ["min bulk ESS 900 < 4000"],
    }


def test_the_fingerprint_follows_the_data_helpers(tmp_path):
    nb = _cells("with pm.Model() as model:\n    pass")
    loader = tmp_path / "data.py"
    loader.write_text("ORDER = ['a', 'b']\n")
    before = tool.fingerprint(nb, [loader])
    loader.write_text("ORDER = ['b', 'a']\n")
    assert tool.fingerprint(nb, [loader]) != before
    # By default: the package's loaders, simulators and shipped tables with their registry.
    assert tool.fingerprint(nb) != tool.fingerprint(nb, [])


def test_stale_files_are_named(tmp_path):
    nb = jupytext.reads(LESSON, fmt="py:percent")
    path = tmp_path / "01_first.json"
    assert tool.stale_references(nb, [MODEL], path) == [f"{path} is missing"]
    path.write_text(json.dumps({"fingerprint": "0", "references": {}}))
    problems = tool.stale_references(nb, [MODEL], path)
    assert any("other code" in p for p in problems) and any("no reference" in p for p in problems)
    assert tool.stale_references(nb, [], path) == [
        f"{path} is left over: the lesson declares no REFERENCES"
    ]
    path.write_text("{not json")
    (problem,) = tool.stale_references(nb, [MODEL], path)
    assert "not valid JSON" in problem
    fewer = Reference("normal", "model", ())
    path.write_text(
        json.dumps(
            {
                "fingerprint": tool.fingerprint(tool.references_prefix(nb, [fewer])),
                "references": {
                    "normal": {
                        "model": "model",
                        "variables": {"mu": {}},
                        "sampler": {"target_accept": 0.9},
                    }
                },
            }
        )
    )
    assert tool.stale_references(nb, [MODEL], path) == []
    (problem,) = tool.stale_references(nb, [fewer], path)
    assert "another model, variables or target_accept" in problem


def test_a_tiny_lesson_is_recorded_and_its_record_checks_a_fit(course):
    lesson = course.get("01_first")
    lesson.source.write_text(LESSON)
    out = course.root / "references"
    path = tool.record(
        lesson, [MODEL], out_dir=out, draws=2500, chains=2, tune=500, min_ess_bulk=1000
    )
    document = json.loads(path.read_text())
    assert document["command"] == "course references 01"
    assert tool.stale_references(jupytext.read(lesson.source), [MODEL], path) == []
    run = document["references"]["normal"]
    assert run["sampler"] == {
        "chains": 2,
        "draws": 2500,
        "random_seed": tool.SEED,
        "target_accept": 0.9,
        "tune": 500,
    }
    # The exact posterior: Normal(sum(y) / (n + 1/100), 1 / sqrt(n + 1/100)).
    exact_mean = 3.9 / 4.01
    recorded = recorded_reference("01_first", "normal", folder=out)
    assert abs(recorded.mean("mu")[0] - exact_mean) < 5 * recorded.mcse("mu")[0]
    assert abs(recorded.sd("mu")[0] - 4.01**-0.5) < 0.02
    lesson.source.write_text(LESSON.replace("0.8, 1.4", "0.9, 1.4"))
    problems = tool.stale_references(jupytext.read(lesson.source), [MODEL], path)
    assert problems == [f"{path} was recorded for other code of the lesson or its data helpers"]


def test_a_failing_cell_names_the_lesson_and_records_nothing(course):
    lesson = course.get("01_first")
    lesson.source.write_text(LESSON.replace("y = [0.8", "y = 1 / 0\ny = [0.8"))
    out = course.root / "references"
    with pytest.raises(
        RuntimeError, match="01_first: a cell failed.*ZeroDivisionError: division by zero"
    ):
        tool.record(lesson, [MODEL], out_dir=out, draws=100, chains=2, tune=100)
    assert not out.exists()


def test_draws_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        cli.main(["references", "02", "--draws", "0"])
    assert "must be a positive integer" in capsys.readouterr().err


def test_naming_a_lesson_without_references_is_an_error(capsys):
    assert cli.main(["references", "01"]) == 2
    err = capsys.readouterr().err
    assert "01_pooling: no check module of these lessons declares REFERENCES" in err


def test_check_reports_every_recorded_lesson_up_to_date(capsys):
    assert cli.main(["references", "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["02_chemical_shifts: up to date", "05_radon: up to date"]
