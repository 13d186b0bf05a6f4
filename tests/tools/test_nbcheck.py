"""The validation of committed outputs: true on every machine, and still able to fail.

Negative and positive controls, first on a tiny course run through the pytest plugin (as CI
runs it), then on the course's own lessons: an edited committed number and a stale model are
caught, and another machine's valid outputs (other chains: another numeric profile and
another seed) are accepted.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys

import jupytext
import nbformat
import numpy as np
import pytest

from course_utils.tools import cli, execute, manifest, outputs, profiles, seeds
from course_utils.tools.notebook import tolerance_path

from .test_seeds import _coin_course

COURSE = manifest.load_course()


def _pytest(root, *args: str) -> subprocess.CompletedProcess:
    """Run the validation of a tiny course the way the course's conftest enables it."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "course_utils.tools.nbcheck",
        "-p",
        "no:cacheprovider",
        "--nbval-current-env",
        "-o",
        "course_min_seeds=10",
        "notebooks",
        *args,
    ]
    return subprocess.run(command, cwd=root, capture_output=True, text=True)


@pytest.fixture(scope="module")
def recorded_once(tmp_path_factory):
    """A tiny course whose lesson is executed and whose tolerances are recorded (10 seeds)."""
    root = tmp_path_factory.mktemp("course")
    _coin_course(root, limit=1.0)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert cli.main(["seeds", "--n", "10", "--record"]) == 0
    finally:
        os.chdir(cwd)
    shutil.rmtree(root / "build")
    return root


@pytest.fixture()
def recorded(recorded_once, tmp_path):
    """A fresh copy of the recorded tiny course, for one test to edit."""
    root = tmp_path / "course"
    shutil.copytree(recorded_once, root)
    return manifest.load_course(root)


def _edit_output(path, old: str, new: str) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("name") == "stdout" and old in out["text"]:
                out["text"] = out["text"].replace(old, new)
    nbformat.write(nb, path)


def test_the_plugin_passes_a_correct_notebook(recorded):
    result = _pytest(recorded.root)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "5 passed" in result.stdout  # the tolerance check and the four code cells


def test_the_plugin_catches_an_edited_number(recorded):
    rng = np.random.default_rng(7)
    rng.random()
    mean = f"{rng.random(10_000).mean():.3f}"  # what the lesson prints, computed here
    wrong = f"{float(mean) + 0.1:.3f}"  # 34 of its standard deviations (0.0029) away
    _edit_output(recorded.lessons[0].committed, f"mean of many {mean}", f"mean of many {wrong}")
    result = _pytest(recorded.root)
    assert result.returncode == 1
    assert f"{mean} instead of {wrong}" in result.stdout


def test_the_plugin_catches_a_changed_data_value(recorded):
    # The data do not depend on the sampler seed: they must match exactly.
    nb = nbformat.read(recorded.lessons[0].committed, as_version=4)
    printed = nb.cells[2].outputs[0]["text"]
    first = re.search(r"-?\d+\.\d+", printed).group(0)
    _edit_output(recorded.lessons[0].committed, printed, printed.replace(first, first + "1", 1))
    result = _pytest(recorded.root)
    assert result.returncode == 1 and "allowed ±0)" in result.stdout


@pytest.mark.parametrize(("printed", "passes"), [("5", True), ("6", False)])
def test_a_rounded_value_that_flips_on_another_machine_passes(recorded, printed, passes):
    # The lesson prints a quantity of about 4.49 with no decimals: 4 under every recorded
    # seed, so its measured spread is 0. Another machine's chains may print 5 (one unit, the
    # printed resolution, is allowed); 6 is a real difference.
    _edit_output(recorded.lessons[0].committed, "rounded 4", f"rounded {printed}")
    result = _pytest(recorded.root)
    assert (result.returncode == 0) is passes, result.stdout[-2000:]
    if not passes:
        assert "4 instead of 6 (allowed ±1)" in result.stdout


def test_the_plugin_refuses_tolerances_whose_held_out_seeds_failed(recorded):
    path = tolerance_path(recorded, recorded.lessons[0])
    raw = json.loads(path.read_text())
    assert raw["held_out"] == {"seeds": [12, 13, 14], "passed": 3}
    raw["held_out"]["passed"] = 2
    path.write_text(json.dumps(raw))
    result = _pytest(recorded.root)
    assert result.returncode == 1
    assert "only 2 of 3 held-out seeds [12, 13, 14] passed" in result.stdout
    assert "course seeds 01_coin --validate 3" in result.stdout


def test_the_plugin_refuses_tolerances_measured_for_other_code(recorded):
    source = recorded.lessons[0].source
    source.write_text(source.read_text().replace("size=3", "size=2"))
    execute.run_notebook(source, recorded.lessons[0].committed)
    result = _pytest(recorded.root)
    assert result.returncode == 1
    assert "was measured for other code" in result.stdout
    assert "course seeds 01_coin --record" in result.stdout


def test_the_plugin_refuses_a_missing_tolerance_file(recorded):
    tolerance_path(recorded, recorded.lessons[0]).unlink()
    result = _pytest(recorded.root)
    assert result.returncode == 1 and "does not exist" in result.stdout


def test_the_plugin_accepts_another_seeds_outputs_as_committed(recorded):
    # Outputs produced elsewhere (here: under sampler seed 11) pass where seed 7 is re-run.
    lesson = recorded.lessons[0]
    other = execute.execute(
        seeds.with_sampler_seed(execute.read_source(lesson.source), 11), lesson.source.parent
    )
    jupytext.write(other, lesson.committed, fmt="ipynb")
    source = lesson.source.read_text()
    lesson.source.write_text(source.replace("RANDOM_SEED = 7", "RANDOM_SEED = 11"))
    result = _pytest(recorded.root)
    assert result.returncode == 1, "the seed line is code: the tolerances are for other code"
    lesson.source.write_text(source)
    nb = nbformat.read(lesson.committed, as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace("RANDOM_SEED = 11", "RANDOM_SEED = 7")
    nbformat.write(nb, lesson.committed)
    result = _pytest(recorded.root)
    assert result.returncode == 0, result.stdout[-2000:]


# --- The course's lessons --------------------------------------------------------------------


def _tolerances(notebook: manifest.Notebook) -> outputs.Tolerances:
    path = tolerance_path(COURSE, notebook)
    assert path.is_file(), f"run `course seeds {notebook.name} --record`"
    return outputs.Tolerances.from_json(path.read_text())


def _summary_rows(text: str):
    """(line, mean token, sd token) of each row of a printed table with mean and sd columns."""
    lines = text.splitlines()
    header = lines[0].split() if lines else []
    means = [name for name in ("mean", "mcmc_mean") if name in header]
    sds = [name for name in ("sd", "mcmc_sd") if name in header]
    if not means or not sds:
        return
    i_mean, i_sd = header.index(means[0]), header.index(sds[0])
    for line in lines[1:]:
        if not line.strip():
            return  # pandas wraps wide tables into blocks: the next block has other columns
        _, numbers = outputs.tokenize(line.split(maxsplit=1)[-1] if " " in line else "")
        if len(numbers) >= max(i_mean, i_sd) + 1:
            yield line, numbers[i_mean], numbers[i_sd]


@pytest.mark.parametrize("notebook", COURSE.lessons, ids=lambda nb: nb.name)
def test_a_posterior_mean_edited_by_one_sd_is_caught(notebook):
    tolerances = _tolerances(notebook)
    committed = nbformat.read(notebook.committed, as_version=4)
    code = [c for c in committed.cells if c.cell_type == "code"]
    sanitizers = outputs.read_sanitizers()
    edited = 0
    for index, spreads in tolerances.cells.items():
        texts = outputs.cell_texts(code[index].outputs, sanitizers)
        for key, text in texts.items():
            if not key.endswith("text/plain"):
                continue
            for line, mean, sd in _summary_rows(text):
                if sd.value < 5 * mean.unit:
                    continue  # an sd of a few printed units is below the rounding
                decimals = max(0, -round(math.log10(mean.unit)))
                shifted = f"{mean.value + sd.value:.{decimals}f}"
                wrong = dict(texts)
                wrong[key] = text.replace(line, line.replace(mean.text, shifted, 1), 1)
                problems = outputs.compare_cell(wrong, texts, spreads, z_score=tolerances.z_score)
                assert problems, f"{notebook.name} cell {index}: {line!r} edited went unnoticed"
                edited += 1
    assert edited >= 2, f"{notebook.name}: found only {edited} posterior means to edit"


def _control_run(notebook: manifest.Notebook, tmp_path, *, seed: int, replace=None):
    """Execute a lesson under another seed and numeric profile (if this CPU has one).

    ``replace`` is an ``(old, new)`` pair of code to change first (a stale model); the run
    then goes on past errors, as nbval does, since the lesson's own checks may fail too.
    """
    nb = execute.read_source(notebook.source)
    if replace is not None:
        assert any(replace[0] in c.source for c in nb.cells), f"{replace[0]!r} not in the lesson"
        for cell in nb.cells:
            cell.source = cell.source.replace(*replace)
    name = profiles.other_profile()
    env = profiles.profile_env(name, tmp_path / "compile") if name else None
    return execute.execute(
        seeds.with_sampler_seed(nb, seed),
        notebook.source.parent,
        env=env,
        allow_errors=replace is not None,
    )


def _compare(notebook: manifest.Notebook, fresh) -> list[str]:
    committed = nbformat.read(notebook.committed, as_version=4)
    return outputs.compare_notebooks(
        committed, fresh, _tolerances(notebook), outputs.read_sanitizers()
    )


CONTROL = COURSE.get("03_water_quality")


@pytest.mark.slow
def test_another_machines_run_of_a_lesson_passes(tmp_path):
    # Another CPU (numeric profile) and another seed than any of the sweep's: other chains.
    before = os.environ.get("NPY_DISABLE_CPU_FEATURES")
    fresh = _control_run(CONTROL, tmp_path, seed=1000)
    assert _compare(CONTROL, fresh) == []
    assert os.environ.get("NPY_DISABLE_CPU_FEATURES") == before, "the profile is the kernel's only"


@pytest.mark.slow
def test_a_stale_model_is_caught(tmp_path):
    # The committed outputs come from the lesson's model; a different prior on the
    # concentration gives other posteriors, which the validation must notice.
    stale = ('nu = pm.HalfNormal("nu", sigma=10)', 'nu = pm.HalfNormal("nu", sigma=2)')
    fresh = _control_run(CONTROL, tmp_path, seed=1000, replace=stale)
    problems = _compare(CONTROL, fresh)
    assert len(problems) >= 3, problems
