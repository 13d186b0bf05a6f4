"""Executing notebooks from their sources: into build/, or in place for authors."""

from __future__ import annotations

import json

import jupytext
import pytest
from nbclient.exceptions import CellExecutionError

from course_utils.tools import cli, execute

from .conftest import TINY


def test_execute_writes_the_target_with_outputs(course):
    first = course.get("01_first")
    target = first.executed(course.executed_dir)
    nb = execute.run_notebook(first.source, target)
    saved = jupytext.read(target)
    assert [c.cell_type for c in saved.cells] == ["markdown", "code", "code", "code"]
    assert saved.cells[1].outputs[0]["text"] == "42\n"
    assert saved.cells[3].outputs[0]["data"]["text/plain"] == "43"
    assert saved.cells[3].metadata["tags"] == ["solution"]
    assert "execution" not in saved.cells[1].metadata, "no timestamps in executed notebooks"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert not first.committed.exists(), "the committed pair is not touched"


def test_check_cells_are_collapsed_in_the_executed_notebook(course):
    nb = execute.read_source(course.get("01_first").source)
    check, other = nb.cells[2], nb.cells[1]
    assert check.metadata["jupyter"] == {"source_hidden": True}
    assert "jupyter" not in other.metadata


def test_reexecution_keeps_the_ids_of_unchanged_cells(course):
    source = course.get("01_first").source
    target = source.with_suffix(".ipynb")
    first = execute.run_notebook(source, target)
    source.write_text(TINY.replace("x = 6 * 7", "x = 7 * 6"))
    second = execute.run_notebook(source, target)
    ids = [c.id for c in first.cells]
    assert len(set(ids)) == len(ids)
    assert [c.id for c in second.cells] == ids  # the edited cell keeps its place and id
    saved = jupytext.read(target)
    assert saved.cells[1].source.startswith("RANDOM_SEED = 7\nx = 7 * 6")
    assert [c.id for c in saved.cells] == ids


def test_failing_notebook_leaves_the_target_untouched(course):
    source = course.get("01_first").source
    target = course.root / "out.ipynb"
    target.write_text(json.dumps({"sentinel": True}))
    source.write_text(TINY + "\n# %%\nraise RuntimeError('boom')\n")
    with pytest.raises(CellExecutionError, match="boom"):
        execute.run_notebook(source, target)
    assert json.loads(target.read_text()) == {"sentinel": True}


def test_allow_errors_runs_every_cell_and_records_the_error(course):
    source = course.get("01_first").source
    source.write_text(TINY.replace("assert x == 42", "assert x == 41"))
    nb = execute.execute(execute.read_source(source), source.parent, allow_errors=True)
    assert nb.cells[2].outputs[0]["ename"] == "AssertionError"
    assert nb.cells[3].outputs[0]["data"]["text/plain"] == "43", "later cells still ran"


def test_run_all_reports_progress(course):
    lines = []
    timings = execute.run_all(course.lessons, course.executed_dir, report=lines.append)
    assert list(timings) == ["01_first", "02_second"]
    assert lines[0] == "[1/2] 01_first: executing ..."
    assert lines[1].startswith("[1/2] 01_first: ") and lines[1].endswith("01_first.ipynb")
    assert len(lines) == 4


def test_course_run_writes_to_build_and_in_place_only_when_asked(course, monkeypatch, capsys):
    monkeypatch.chdir(course.root)
    assert cli.main(["run", "01"]) == 0
    assert (course.executed_dir / "01_first.ipynb").is_file()
    assert not course.get("01_first").committed.exists()
    assert "into " in capsys.readouterr().out
    assert cli.main(["run", "--in-place", "01"]) == 0
    assert course.get("01_first").committed.is_file()
    assert "in place" in capsys.readouterr().out


def test_run_rejects_an_unknown_notebook(course, monkeypatch, capsys):
    monkeypatch.chdir(course.root)
    assert cli.main(["run", "99_nope"]) == 2
    assert "no notebook matches '99_nope'" in capsys.readouterr().err
