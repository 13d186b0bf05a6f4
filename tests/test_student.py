"""Student editions: solution cells replaced, everything else intact, and still runnable."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from course_utils import cli, student
from course_utils.notebooks import KERNEL_NAME, NOTEBOOK_DIR, list_sources

SOLUTION = {"tags": ["solution"]}
# Notebooks whose executed .ipynb exists (all of them once the course is built).
EXECUTED = [p for p in list_sources() if p.with_suffix(".ipynb").exists()]


def _stdout(text: str):
    return new_output("stream", name="stdout", text=text)


@pytest.fixture()
def lesson() -> nbformat.NotebookNode:
    """A small executed lesson with one Markdown and one two-cell code solution."""
    return new_notebook(
        cells=[
            new_markdown_cell("# Lesson\n\nLearning goals."),
            new_code_cell("x = 2\nprint(x)", execution_count=1, outputs=[_stdout("2\n")]),
            new_markdown_cell("**Exercise 1.** Why is x even?"),
            new_markdown_cell("Because x = 2 = 2 * 1.", metadata=copy.deepcopy(SOLUTION)),
            new_markdown_cell("**Exercise 2.** Square x."),
            new_code_cell(
                "secret_square = x**2", execution_count=2, metadata=copy.deepcopy(SOLUTION)
            ),
            new_code_cell(
                "print(secret_square)",
                execution_count=3,
                metadata=copy.deepcopy(SOLUTION),
                outputs=[_stdout("4\n")],
            ),
            new_markdown_cell("## Key ideas\n\n- x is even."),
        ]
    )


def test_solutions_become_answer_cells_of_the_same_kind(lesson):
    edition = student.make_student_edition(lesson)

    assert [c.cell_type for c in edition.cells] == [
        "markdown",
        "code",
        "markdown",
        "markdown",
        "markdown",
        "code",
        "markdown",
    ]
    assert edition.cells[3].source == student.MARKDOWN_PLACEHOLDER
    assert edition.cells[5].source == student.CODE_PLACEHOLDER
    assert edition.cells[5].outputs == []
    assert edition.cells[5].execution_count is None


def test_other_cells_and_their_outputs_are_kept(lesson):
    edition = student.make_student_edition(lesson)

    kept = [c for c in lesson.cells if not student.is_solution(c)]
    answers = [c for c in edition.cells if c.source.startswith(("*Your", "# Your"))]
    assert [c for c in edition.cells if c not in answers] == kept
    assert edition.cells[1].outputs == [_stdout("2\n")]


def test_no_solution_source_tag_or_output_is_left(lesson):
    edition = student.make_student_edition(lesson)
    text = nbformat.writes(edition)

    for source in student.solution_sources(lesson):
        assert source not in text
    assert "secret_square" not in text
    assert "4\n" not in [o.get("text") for c in edition.cells for o in c.get("outputs", [])]
    assert not any(student.is_solution(c) for c in edition.cells)


def test_edition_is_valid_with_unique_reproducible_ids(lesson):
    first = student.make_student_edition(lesson)
    second = student.make_student_edition(lesson)

    nbformat.validate(first)
    ids = [c.id for c in first.cells]
    assert len(set(ids)) == len(ids)
    assert ids == [c.id for c in second.cells]


def test_input_notebook_is_not_modified(lesson):
    before = copy.deepcopy(lesson)
    student.make_student_edition(lesson)
    assert lesson == before


def test_notebook_without_solutions_is_unchanged(lesson):
    plain = new_notebook(cells=[c for c in lesson.cells if not student.is_solution(c)])
    assert student.make_student_edition(plain).cells == plain.cells


def test_raw_solution_cell_is_rejected():
    nb = new_notebook(cells=[new_raw_cell("x", metadata=copy.deepcopy(SOLUTION))])
    with pytest.raises(ValueError, match="only Markdown and code"):
        student.make_student_edition(nb)


def test_write_student_edition_reads_the_executed_pair(tmp_path, lesson):
    source = tmp_path / "01_lesson.py"
    source.write_text("# placeholder source\n")
    nbformat.write(lesson, source.with_suffix(".ipynb"))

    target = student.write_student_edition(source, tmp_path / "out")

    assert target == tmp_path / "out" / "01_lesson.ipynb"
    written = nbformat.read(target, as_version=4)
    nbformat.validate(written)
    assert written.cells[1].outputs == [_stdout("2\n")]
    assert "secret_square" not in target.read_text()


def test_missing_executed_notebook_names_the_fix(tmp_path):
    source = tmp_path / "02_missing.py"
    source.write_text("# %%\n")
    with pytest.raises(ValueError, match="course run 02_missing"):
        student.write_student_edition(source, tmp_path / "out")


def test_write_student_editions_reports_each_notebook(tmp_path, lesson):
    sources = []
    for name in ("01_a", "02_b"):
        nbformat.write(lesson, tmp_path / f"{name}.ipynb")
        sources.append(tmp_path / f"{name}.py")
    lines: list[str] = []

    written = student.write_student_editions(sources, tmp_path / "out", report=lines.append)

    assert [p.name for p in written] == ["01_a.ipynb", "02_b.ipynb"]
    assert lines[0].startswith("[1/2] 01_a: 3 solution cell(s) replaced")


def test_cli_writes_the_chosen_notebooks(tmp_path, capsys):
    if not EXECUTED:
        pytest.skip("no executed notebook in notebooks/ yet")
    names = [p.stem for p in EXECUTED]
    assert cli.main(["student", *names, "--out", str(tmp_path)]) == 0
    assert sorted(p.stem for p in tmp_path.glob("*.ipynb")) == names
    assert f"wrote {len(names)} student edition(s)" in capsys.readouterr().out


def test_cli_rejects_an_unknown_notebook(tmp_path, capsys):
    assert cli.main(["student", "99_nope", "--out", str(tmp_path)]) == 2
    assert "no notebook matches '99_nope'" in capsys.readouterr().err


# --- The real notebooks -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def editions(tmp_path_factory) -> dict[str, Path]:
    """Student editions of every executed course notebook."""
    out = tmp_path_factory.mktemp("student")
    return {p.stem: student.write_student_edition(p, out) for p in EXECUTED}


@pytest.mark.parametrize("source", EXECUTED, ids=lambda p: p.stem)
def test_course_edition_is_valid_and_has_no_solution(source, editions):
    lesson = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    edition = nbformat.read(editions[source.stem], as_version=4)

    nbformat.validate(edition)
    assert not any(student.is_solution(c) for c in edition.cells)
    edition_sources = [c.source for c in edition.cells]
    for solution in student.solution_sources(lesson):
        assert solution not in edition_sources
    placeholders = {student.MARKDOWN_PLACEHOLDER, student.CODE_PLACEHOLDER}
    kept = [c for c in edition.cells if c.source not in placeholders]
    assert len(kept) == sum(not student.is_solution(c) for c in lesson.cells)


def _execute(nb: nbformat.NotebookNode) -> None:
    client = NotebookClient(
        nb,
        timeout=900,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()  # raises CellExecutionError naming the failing cell


def test_code_after_a_solution_is_found(lesson):
    assert student.code_after_solutions(lesson) == []  # the exercises close the lesson
    later = copy.deepcopy(lesson)
    later.cells.append(new_code_cell("print(secret_square + 1)"))
    later.cells.append(new_markdown_cell("The end."))
    assert student.code_after_solutions(later) == [len(lesson.cells)]


def test_placeholder_code_does_nothing():
    assert ast.parse(student.CODE_PLACEHOLDER).body == []  # a comment: runs, defines nothing


def test_edition_whose_later_code_needs_a_solution_fails_to_run(lesson):
    # The check below executes such an edition; show that it does catch the problem.
    lesson.cells.append(new_code_cell("print(secret_square + 1)"))
    edition = student.make_student_edition(lesson)
    with pytest.raises(CellExecutionError, match="secret_square"):
        _execute(edition)
    _execute(lesson)  # the lesson itself runs


@pytest.mark.parametrize("source", EXECUTED, ids=lambda p: p.stem)
def test_course_edition_runs_in_a_fresh_kernel(source, editions):
    """The student edition runs from a fresh kernel, top to bottom.

    When the exercises close the lesson (no lesson code after the first code solution), the
    edition's code is the lesson's code up to the exercises, then comment-only answer cells:
    nbval executes exactly that code in a fresh kernel in this suite, so the edition is not run
    a second time. Otherwise the edition itself is executed.
    """
    lesson = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    edition = nbformat.read(editions[source.stem], as_version=4)
    if student.code_after_solutions(lesson):
        _execute(edition)
        return
    lesson_code = [c for c in lesson.cells if c.cell_type == "code"]
    first = next(i for i, c in enumerate(lesson_code) if student.is_solution(c))
    edition_code = [c.source for c in edition.cells if c.cell_type == "code"]
    assert edition_code[:first] == [c.source for c in lesson_code[:first]]
    assert edition_code[first:], "the exercises have answer cells"
    assert set(edition_code[first:]) == {student.CODE_PLACEHOLDER}
