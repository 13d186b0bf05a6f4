"""Student editions: solution cells replaced, everything else intact, and still runnable."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from course_utils.tools import cli, manifest, student

SOLUTION = {"tags": ["solution"]}
COURSE = manifest.load_course()
LESSONS = COURSE.lessons


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


def test_write_student_edition_keeps_outputs_and_drops_solutions(tmp_path, lesson):
    target = student.write_student_edition(lesson, tmp_path / "out" / "01_lesson.ipynb")

    assert target == tmp_path / "out" / "01_lesson.ipynb"
    written = nbformat.read(target, as_version=4)
    nbformat.validate(written)
    assert written.cells[1].outputs == [_stdout("2\n")]
    assert "secret_square" not in target.read_text()


def test_missing_executed_notebook_names_the_fix(course, tmp_path):
    with pytest.raises(FileNotFoundError, match="course run 01_first"):
        student.write_student_editions(course.lessons, tmp_path / "out")


def test_write_student_editions_reads_the_chosen_folder_and_reports(course, lesson, tmp_path):
    course.executed_dir.mkdir(parents=True)
    for nb in course.lessons:
        nbformat.write(lesson, nb.executed(course.executed_dir))
    lines: list[str] = []

    written = student.write_student_editions(
        course.lessons, tmp_path / "out", executed_dir=course.executed_dir, report=lines.append
    )

    assert [p.name for p in written] == ["01_first.ipynb", "02_second.ipynb"]
    assert lines[0].startswith("[1/2] 01_first: 3 solution cell(s) replaced")


def test_cli_writes_the_chosen_lessons(tmp_path, capsys):
    names = [nb.name for nb in LESSONS]
    assert cli.main(["student", *names, "--out", str(tmp_path)]) == 0
    assert sorted(p.stem for p in tmp_path.glob("*.ipynb")) == names
    assert f"wrote {len(names)} student edition(s)" in capsys.readouterr().out


def test_cli_rejects_an_unknown_notebook(tmp_path, capsys):
    assert cli.main(["student", "99_nope", "--out", str(tmp_path)]) == 2
    assert "no notebook matches '99_nope'" in capsys.readouterr().err


# --- The real notebooks -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def editions(tmp_path_factory) -> dict[str, Path]:
    """Student editions of every course lesson."""
    out = tmp_path_factory.mktemp("student")
    written = student.write_student_editions(LESSONS, out, report=lambda line: None)
    return {p.stem: p for p in written}


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda nb: nb.name)
def test_course_edition_is_valid_and_has_no_solution(notebook, editions):
    lesson = nbformat.read(notebook.committed, as_version=4)
    edition = nbformat.read(editions[notebook.name], as_version=4)

    nbformat.validate(edition)
    assert not any(student.is_solution(c) for c in edition.cells)
    edition_sources = [c.source for c in edition.cells]
    for solution in student.solution_sources(lesson):
        assert solution not in edition_sources
    placeholders = {student.MARKDOWN_PLACEHOLDER, student.CODE_PLACEHOLDER}
    kept = [c for c in edition.cells if c.source not in placeholders]
    assert len(kept) == sum(not student.is_solution(c) for c in lesson.cells)


def _execute(nb: nbformat.NotebookNode) -> None:
    # raises CellExecutionError naming the failing cell
    manifest.kernel_client(nb, COURSE.root / "notebooks").execute()


def test_code_after_a_solution_is_found(lesson):
    assert student.code_after_solutions(lesson) == []  # the exercises close the lesson
    later = copy.deepcopy(lesson)
    later.cells.append(new_code_cell("print(secret_square + 1)"))
    later.cells.append(new_markdown_cell("The end."))
    assert student.code_after_solutions(later) == [len(lesson.cells)]


@pytest.mark.parametrize(
    ("later", "flagged"),
    [
        ("print(x)", True),  # x is mentioned by a solution (conservative: it may rebind x)
        ("y = secret_square", True),
        ("%time print(1)", True),  # IPython syntax: not analysed
        ("print(len('abc'))", False),
        ("import platform\nprint(platform.python_version())", False),
    ],
)
def test_later_code_is_flagged_when_it_may_need_a_solution(lesson, later, flagged):
    lesson.cells.append(new_code_cell(later))
    assert student.code_after_solutions(lesson) == ([len(lesson.cells) - 1] if flagged else [])


def test_a_solution_that_reaches_names_indirectly_flags_all_later_code(lesson):
    lesson.cells.insert(6, new_code_cell("exec('z = 1')", metadata=copy.deepcopy(SOLUTION)))
    lesson.cells.append(new_code_cell("print(len('abc'))"))
    assert student.code_after_solutions(lesson) == [len(lesson.cells) - 1]


def test_later_code_no_solution_mentions_runs_in_the_edition(lesson):
    # What the static analysis concludes, checked by running: the edition of a lesson that
    # ends with such a cell (like the lessons' closing `print(versions())`) runs.
    lesson.cells.append(new_code_cell("import platform\nprint(platform.python_version())"))
    assert student.code_after_solutions(lesson) == []
    _execute(student.make_student_edition(lesson))


def test_an_answer_cell_runs_and_defines_nothing(lesson):
    answer = student.make_student_edition(lesson).cells[5]
    namespace: dict = {}
    exec(compile(answer.source, "answer", "exec"), namespace)  # the cell a student sees
    assert set(namespace) == {"__builtins__"}
    assert not ast.parse(answer.source).body


def test_edition_whose_later_code_needs_a_solution_fails_to_run(lesson):
    # The check below executes such an edition; show that it does catch the problem.
    lesson.cells.append(new_code_cell("print(secret_square + 1)"))
    edition = student.make_student_edition(lesson)
    with pytest.raises(CellExecutionError, match="secret_square"):
        _execute(edition)
    _execute(lesson)  # the lesson itself runs


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda nb: nb.name)
def test_course_edition_code_is_the_lesson_code_the_validation_runs(notebook, editions):
    """The student edition's code is code that this suite runs in a fresh kernel.

    The edition's code is the lesson's code with every code solution replaced by a
    comment-only answer cell (which runs and defines nothing, see
    ``test_an_answer_cell_runs_and_defines_nothing``). When no lesson code after the first
    solution may need a solution (``student.code_after_solutions``: the lessons' closing
    ``print(versions())`` mentions no name a solution mentions), the edition runs as the
    lesson does; the notebook validation (``notebooks/<name>.ipynb::Cell N``) executes the
    lesson top to bottom in a fresh kernel, so this test checks the equivalence instead of
    running it a second time. Otherwise the edition itself is executed here.
    """
    lesson = nbformat.read(notebook.committed, as_version=4)
    edition = nbformat.read(editions[notebook.name], as_version=4)
    if student.code_after_solutions(lesson):
        _execute(edition)
        return
    lesson_code = [
        c.source for c in lesson.cells if c.cell_type == "code" and not student.is_solution(c)
    ]
    edition_code = [c.source for c in edition.cells if c.cell_type == "code"]
    # The lesson's own code, in order, with answer cells (comment-only) where solutions were.
    assert [c for c in edition_code if c != student.CODE_PLACEHOLDER] == lesson_code
    assert student.CODE_PLACEHOLDER in edition_code, "the exercises have answer cells"
