"""The author's loop: `course validate` re-executes a lesson and names what changed."""

from __future__ import annotations

import nbformat

from course_utils.tools import cli, execute

from .test_seeds import _coin_course


def _recorded_coin(tmp_path, monkeypatch, capsys):
    course = _coin_course(tmp_path, limit=1.0)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["seeds", "--n", "3", "--record", "--held-out", "0"]) == 0
    capsys.readouterr()
    return course


def test_an_unchanged_lesson_matches_its_committed_outputs(tmp_path, monkeypatch, capsys):
    _recorded_coin(tmp_path, monkeypatch, capsys)

    assert cli.main(["validate", "01"]) == 0

    out = capsys.readouterr().out
    assert "01_coin: matches its committed outputs within tolerance" in out
    assert (tmp_path / "build" / "executed" / "01_coin.ipynb").is_file()


def test_a_changed_number_is_named_with_its_cell_and_distance(tmp_path, monkeypatch, capsys):
    course = _recorded_coin(tmp_path, monkeypatch, capsys)
    committed = course.lessons[0].committed
    nb = nbformat.read(committed, as_version=4)
    out = nb.cells[3].outputs[0]
    old_line = next(line for line in out["text"].splitlines() if line.startswith("mean of many"))
    out["text"] = out["text"].replace(old_line, "mean of many 0.900")  # far from about 0.5
    nbformat.write(nb, committed)

    assert cli.main(["validate", "01"]) == 1

    text = capsys.readouterr().out
    assert "cell 2: 0:stream:stdout:" in text and "instead of 0.900" in text
    assert "combined sd" in text
    assert "01_coin: 1 difference(s) in 1 cell(s) (cell 2)" in text


def test_a_code_change_is_reported_as_such(tmp_path, monkeypatch, capsys):
    course = _recorded_coin(tmp_path, monkeypatch, capsys)
    source = course.lessons[0].source
    source.write_text(source.read_text().replace("size=3", "size=4"))

    assert cli.main(["validate", "01"]) == 1

    text = capsys.readouterr().out
    assert "its code changed since the committed run" in text
    assert "course run --in-place 01_coin" in text and "course seeds 01_coin --record" in text
    assert "no tolerances for the committed code" not in text  # the committed code has them
    assert "cell 1: 0:stream:stdout: the text differs" in text  # four data values, not three


def test_validate_does_not_touch_tracked_files(tmp_path, monkeypatch, capsys):
    course = _recorded_coin(tmp_path, monkeypatch, capsys)
    before = course.lessons[0].committed.read_bytes()
    execute.read_source(course.lessons[0].source)
    assert cli.main(["validate", "01"]) == 0
    assert course.lessons[0].committed.read_bytes() == before
