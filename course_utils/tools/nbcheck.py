"""Pytest plugin: re-execute every committed notebook and validate its outputs on any machine.

nbval executes each committed ``.ipynb`` of the course manifest cell by cell in a fresh kernel;
this plugin replaces only nbval's comparison of outputs with
:func:`course_utils.tools.outputs.compare_cell`: the text must be the same and every number
must agree within the Monte Carlo error measured by ``course seeds`` (exactly, for numbers that
do not depend on the sampler seed). Another machine's valid run therefore passes, and a wrong
or stale number still fails.

Each notebook also gets a first test, ``tolerances``, that fails when its tolerance file
(``tests/tolerances/<name>.json``, :func:`course_utils.tools.notebook.tolerance_path`) is
missing, was measured for other code, or comes from a sweep with fewer than
:data:`course_utils.tools.notebook.MIN_SEEDS` seeds, with a failing seed or with a held-out
seed that failed the validation.

The plugin is enabled by the course's ``conftest.py`` (``pytest_plugins``); nbval's own
collection is not used (``--nbval`` is not passed).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import IPyNbCell, IPyNbFile

from course_utils.tools import outputs
from course_utils.tools.manifest import Course, Notebook, load_course
from course_utils.tools.notebook import MIN_SEEDS, code_hash, tolerance_path

__all__ = ["CourseCell", "CourseNotebook", "ToleranceCheck"]


@cache
def _course(rootpath: Path) -> Course:
    return load_course(rootpath)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini option ``course_min_seeds``."""
    parser.addini(
        "course_min_seeds",
        f"fewest seeds a tolerance file may come from (default {MIN_SEEDS})",
        default=str(MIN_SEEDS),
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect the committed ``.ipynb`` of every notebook of the course manifest."""
    if file_path.suffix != ".ipynb":
        return None
    course = _course(parent.config.rootpath)
    for notebook in course.notebooks:
        if notebook.committed.resolve() == file_path.resolve():
            return CourseNotebook.from_parent(parent, path=file_path, notebook=notebook)
    return None


class CourseNotebook(IPyNbFile):
    """An nbval notebook whose cells are compared within Monte Carlo error."""

    def __init__(self, *args, notebook: Notebook, **kwargs):
        super().__init__(*args, **kwargs)
        self.notebook = notebook
        self.course = _course(self.config.rootpath)
        self.sanitizers = outputs.read_sanitizers()
        path = tolerance_path(self.course, notebook)
        self.tolerance_file = path
        self.tolerances = outputs.Tolerances.from_json(path.read_text()) if path.is_file() else None

    def get_sanitize_files(self) -> list[str]:
        """Use the course's sanitizers (nbval's format), whatever the command line says."""
        return [str(outputs.SANITIZE_FILE)]

    def collect(self):
        """Yield the tolerance check, then one item per code cell (as nbval does)."""
        yield ToleranceCheck.from_parent(self, name="tolerances")
        for item in super().collect():
            yield CourseCell.from_parent(
                self, name=item.name, cell_num=item.cell_num, cell=item.cell, options=item.options
            )


class ToleranceCheck(pytest.Item):
    """The notebook's tolerance file exists and belongs to its current code."""

    def runtest(self) -> None:
        """Fail, naming the fix, unless the tolerances are present, current and complete."""
        parent: CourseNotebook = self.parent  # type: ignore[assignment]
        name, tolerances = parent.notebook.name, parent.tolerances
        min_seeds = int(self.config.getini("course_min_seeds"))
        fix = f"run `course seeds {name} --record` ({min_seeds} seeds)"
        if tolerances is None:
            raise AssertionError(f"{parent.tolerance_file} does not exist: {fix}.")
        current = code_hash(nbformat.read(parent.notebook.committed, as_version=4))
        if tolerances.code_hash != current:
            raise AssertionError(
                f"{parent.tolerance_file} was measured for other code than "
                f"{parent.notebook.committed.name}: {fix}."
            )
        if len(tolerances.seeds) < min_seeds or tolerances.passed < len(tolerances.seeds):
            raise AssertionError(
                f"{parent.tolerance_file}: {tolerances.passed} of {len(tolerances.seeds)} seeds "
                f"passed; the validation needs {min_seeds} of {min_seeds}: fix the notebook, "
                f"then {fix}."
            )
        if tolerances.held_out_passed < len(tolerances.held_out):
            raise AssertionError(
                f"{parent.tolerance_file}: only {tolerances.held_out_passed} of "
                f"{len(tolerances.held_out)} held-out seeds {list(tolerances.held_out)} passed "
                "the validation, so these tolerances are too narrow for another machine's "
                f"chains: find the cell that failed with `course seeds {name} --validate "
                f"{len(tolerances.held_out)}`, fix it, then {fix}."
            )

    def reportinfo(self):
        """Location shown by pytest."""
        return self.path, 0, f"{self.path.name}::tolerances"


class CourseCell(IPyNbCell):
    """An nbval cell compared by :func:`course_utils.tools.outputs.compare_cell`."""

    def compare_outputs(self, test, ref, skip_compare=None) -> bool:
        """Compare the fresh outputs ``test`` with the committed ``ref`` within tolerance."""
        parent: CourseNotebook = self.parent
        tolerances = parent.tolerances
        spreads = tolerances.cells.get(self.cell_num) if tolerances else None
        problems = outputs.compare_cell(
            outputs.cell_texts(ref, parent.sanitizers),
            outputs.cell_texts(test, parent.sanitizers),
            spreads,
            z_score=tolerances.z_score if tolerances else outputs.Z_SCORE,
        )
        self.comparison_traceback = problems
        return not problems
