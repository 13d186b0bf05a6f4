"""The seed sweep: every cell of a notebook must hold under other sampler seeds.

The course's own sweeps are a benchmark-style command (`course seeds`, about an hour for the
course); here it runs on a tiny notebook, to show that it works, that it names a failing
cell, and that it records tolerances only when every seed passed.
"""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest

from course_utils.tools import cli, execute, manifest, seeds
from course_utils.tools.notebook import code_hash, tolerance_path

from .conftest import rows

COIN = """# %% [markdown]
# # A coin

# %%
import numpy as np

# %%
DATA_SEED = 99  # the data: never changed by the sweep
RANDOM_SEED = 7
rng = np.random.default_rng(RANDOM_SEED)
data = np.random.default_rng(DATA_SEED).normal(size=3).round(2)
print(data)

# %%
draw = rng.random()
print(f"draw {{draw:.3f}}")
print(f"mean of many {{rng.random(10_000).mean():.3f}}")
print(f"rounded {{4.49 + 0.003 * rng.standard_normal():.0f}}")  # 4 under every seed swept

# %%
assert draw < {limit}
"""

MANIFEST = """[[notebook]]
source = "notebooks/01_coin.py"
kind = "lesson"
title = "A coin"
"""


def _draw(seed: int) -> float:
    return float(np.random.default_rng(seed).random())


def _coin_course(root, limit: float) -> manifest.Course:
    (root / "notebooks").mkdir()
    (root / "notebooks" / "01_coin.py").write_text(COIN.format(limit=limit))
    (root / manifest.MANIFEST_NAME).write_text(MANIFEST)
    course = manifest.load_course(root)
    execute.run_notebook(course.lessons[0].source, course.lessons[0].committed)
    return course


def test_with_sampler_seed_replaces_only_the_sampler_seed():
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("DATA_SEED = 1\nRANDOM_SEED = 2  # samplers\nx = 2")]
    )
    assert seeds.with_sampler_seed(nb, 9).cells[0].source == (
        "DATA_SEED = 1\nRANDOM_SEED = 9  # samplers\nx = 2"
    )
    assert nb.cells[0].source.startswith("DATA_SEED = 1\nRANDOM_SEED = 2"), "not modified"


@pytest.mark.parametrize("source", ["x = 1", "RANDOM_SEED = 1\nRANDOM_SEED = 2", "RANDOM_SEED = n"])
def test_a_notebook_without_exactly_one_seed_line_is_refused(source):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    with pytest.raises(ValueError, match="exactly one line `RANDOM_SEED = <integer>`"):
        seeds.with_sampler_seed(nb, 3)


def test_a_seed_must_be_a_non_negative_integer():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("RANDOM_SEED = 1")])
    with pytest.raises(TypeError, match="seed must be an int"):
        seeds.with_sampler_seed(nb, 1.5)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        seeds.with_sampler_seed(nb, -1)


def test_default_seeds_skip_the_notebooks_own():
    assert seeds.default_seeds(4, avoid=[2]) == [1, 3, 4, 5]
    with pytest.raises(ValueError, match="at least one seed"):
        seeds.default_seeds(0)


def test_the_sweep_names_the_cell_that_fails_and_records_nothing(tmp_path, monkeypatch, capsys):
    sweep_seeds = seeds.default_seeds(4, avoid=[7])
    limit = 0.9
    failing = [s for s in sweep_seeds if _draw(s) >= limit]
    assert failing and _draw(7) < limit, "the example needs a seed that fails"
    course = _coin_course(tmp_path, limit)
    monkeypatch.chdir(tmp_path)

    assert cli.main(["seeds", "--n", "4", "--record"]) == 1

    out = capsys.readouterr().out
    passed = len(sweep_seeds) - len(failing)
    row = f"| 01_coin | {passed}/4 | cell 3 (assert draw < {limit}) (seeds {failing}) |"
    assert row in rows(out)
    assert "AssertionError" in out
    assert not tolerance_path(course, course.lessons[0]).exists(), "a failing sweep is not recorded"
    assert (tmp_path / "build" / "seeds" / "01_coin" / f"seed-{failing[0]}.ipynb").is_file()


def test_a_passing_sweep_records_the_spread_of_what_varies(tmp_path, monkeypatch, capsys):
    course = _coin_course(tmp_path, limit=1.0)
    readme = tmp_path / "README.md"
    readme.write_text("<!-- begin generated: seeds -->\n<!-- end generated: seeds -->\n")
    monkeypatch.chdir(tmp_path)

    assert cli.main(["seeds", "--n", "3", "--record"]) == 0

    recorded = json.loads(tolerance_path(course, course.lessons[0]).read_text())
    assert recorded["seeds"] == [1, 2, 3] and recorded["passed"] == 3
    committed = nbformat.read(course.lessons[0].committed, as_version=4)
    assert recorded["code_hash"] == code_hash(committed)
    # Only the draw varies with the sampler seed; the data (DATA_SEED) do not.
    assert list(recorded["cells"]) == ["2"]
    sd_draw, sd_mean, sd_rounded = recorded["cells"]["2"]["0:stream:stdout"]["sd"]
    assert sd_rounded == 0
    assert sd_draw == pytest.approx(np.std([_draw(s) for s in (7, 1, 2, 3)], ddof=1), abs=1e-3)
    assert 0 < sd_mean < 0.02  # a mean of 10,000 uniform draws: sd 0.0029
    table = (tmp_path / "docs" / "seeds.md").read_text()
    assert "| 01_coin | 3/3 | seeds 1-3 | 3/3 (seeds 4-6) | 2 | 0 |" in rows(table)
    row = "| 01_coin | 3/3 | seeds 1-3 | 3/3 (seeds 4-6) | 2 | 0 |"
    assert row in rows(readme.read_text()), "the README table is generated"
    assert "| 01_coin | 3/3 | - |" in rows(capsys.readouterr().out)


def test_text_that_changes_with_the_seed_fails_the_seed(tmp_path, monkeypatch, capsys):
    course = _coin_course(tmp_path, limit=1.0)
    source = course.lessons[0].source
    source.write_text(
        source.read_text().replace(
            'print(f"draw {draw:.3f}")', 'print("heads" if draw < 0.5 else "tails")'
        )
    )
    execute.run_notebook(source, course.lessons[0].committed)  # canonical seed 7: tails
    monkeypatch.chdir(tmp_path)

    assert cli.main(["seeds", "--n", "3"]) == 1  # seeds 2 and 3 give heads

    assert "output text differs from the committed one" in capsys.readouterr().out


def test_a_stale_committed_notebook_is_refused(tmp_path):
    course = _coin_course(tmp_path, limit=1.0)
    source = course.lessons[0].source
    source.write_text(source.read_text().replace("size=3", "size=4"))
    with pytest.raises(ValueError, match="course run --in-place 01_coin"):
        seeds.sweep(course.lessons[0], [1], tmp_path / "runs")


def test_resume_reuses_saved_runs_of_the_current_code_only(tmp_path, monkeypatch, capsys):
    course = _coin_course(tmp_path, limit=1.0)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["seeds", "--n", "3"]) == 0
    capsys.readouterr()
    folder = tmp_path / "build" / "seeds" / "01_coin"
    # A saved run of other code (here: seed 3's run made from an older source) is redone.
    stale = nbformat.read(folder / "seed-3.ipynb", as_version=4)
    next(cell for cell in stale.cells if cell.cell_type == "code").source += "\n# older code"
    nbformat.write(stale, folder / "seed-3.ipynb")

    assert cli.main(["seeds", "--n", "3", "--resume", "--record"]) == 0

    out = capsys.readouterr().out
    assert out.count("saved run reused") == 2
    assert "seed 3: passed (" in out and "seed 3: passed, saved run reused" not in out
    recorded = json.loads(tolerance_path(course, course.lessons[0]).read_text())
    assert recorded["seeds"] == [1, 2, 3] and recorded["passed"] == 3


def test_a_recording_is_validated_on_held_out_seeds_and_says_so(tmp_path, monkeypatch, capsys):
    course = _coin_course(tmp_path, limit=1.0)
    monkeypatch.chdir(tmp_path)

    assert cli.main(["seeds", "--n", "3", "--record"]) == 0  # 3 held-out seeds by default

    out = capsys.readouterr().out
    assert "held-out seed 4: passed the validation" in out
    assert "01_coin: 3 of 3 held-out seeds passed the validation" in out
    recorded = json.loads(tolerance_path(course, course.lessons[0]).read_text())
    assert recorded["seeds"] == [1, 2, 3]  # the held-out seeds measured nothing
    assert recorded["held_out"] == {"seeds": [4, 5, 6], "passed": 3}


def _jackpot_course(root) -> manifest.Course:
    """The coin, plus a number that is 0 under seeds 1-3 and 7 and 5 under seed 4."""
    assert max(_draw(s) for s in (1, 2, 3, 7)) < 0.9 < _draw(4)
    course = _coin_course(root, limit=1.0)
    source = course.lessons[0].source
    source.write_text(
        source.read_text().replace(
            'print(f"draw {draw:.3f}")',
            'print(f"draw {draw:.3f}")\nprint(f"jackpot {5 * (draw > 0.9)}")',
        )
    )
    execute.run_notebook(source, course.lessons[0].committed)
    return course


def test_a_recording_whose_held_out_seed_fails_is_not_stored(tmp_path, monkeypatch, capsys):
    # The jackpot never moved in the measured seeds (spread 0, one unit allowed): seed 4's
    # run prints 5 instead of 0, as a machine whose chains happen to cross would.
    course = _jackpot_course(tmp_path)
    monkeypatch.chdir(tmp_path)

    assert cli.main(["seeds", "--n", "3", "--record"]) == 1

    out = capsys.readouterr().out
    assert "held-out seed 4: FAILED: cell 2: 0:stream:stdout: 5 instead of 0 (allowed ±1)" in out
    assert "01_coin: 2 of 3 held-out seeds passed the validation" in out
    assert "not recorded" in out
    assert not tolerance_path(course, course.lessons[0]).exists()


def test_validate_checks_an_earlier_recording_on_new_seeds(tmp_path, monkeypatch, capsys):
    course = _jackpot_course(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["seeds", "--n", "3", "--record", "--held-out", "0"]) == 0
    path = tolerance_path(course, course.lessons[0])
    assert "held_out" not in json.loads(path.read_text())
    capsys.readouterr()

    assert cli.main(["seeds", "--validate", "2", "--resume"]) == 1

    out = capsys.readouterr().out
    assert "held-out seed 5: passed the validation" in out
    assert "01_coin: 1 of 2 held-out seeds passed the validation" in out
    recorded = json.loads(path.read_text())
    assert recorded["held_out"] == {"seeds": [4, 5], "passed": 1} and recorded["seeds"] == [1, 2, 3]
    assert "| 01_coin | 3/3 | seeds 1-3 | 1/2 (seeds 4-5) | 2 | 0 |" in rows(
        (tmp_path / "docs" / "seeds.md").read_text()
    )


def test_held_out_seeds_must_not_have_measured_the_tolerances(tmp_path):
    course = _coin_course(tmp_path, limit=1.0)
    result = seeds.sweep(course.lessons[0], [1, 2], tmp_path / "runs")
    with pytest.raises(ValueError, match=r"seeds \[2, 7\] are not held out"):
        seeds.validate_held_out(course.lessons[0], result.tolerances, [2, 7], tmp_path / "runs")


def test_the_committed_seeds_page_and_readme_table_are_generated_from_the_tolerance_files():
    # docs/seeds.md and the README's seeds region are written by `course seeds --record`
    # from tests/tolerances/: a recording committed without them (or edited by hand) fails.
    course = manifest.load_course()
    assert (course.root / "docs" / "seeds.md").read_text() == seeds.seeds_page(course)
    readme = (course.root / "README.md").read_text()
    assert seeds.recorded_table(course) in readme
