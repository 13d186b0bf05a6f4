"""Every Jupytext pair (.py source + executed .ipynb) holds the same cells.

`jupytext --sync` is not a test (it overwrites whichever file is older) and
`jupytext --diff` exits 0 on differences, so the pairs are read and compared here.
"""

from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = [ROOT / "notebooks", ROOT / "slides"]
SOURCES = sorted(p for folder in FOLDERS for p in folder.glob("[0-9][0-9]_*.py"))
EXECUTED = sorted(p for folder in FOLDERS for p in folder.glob("[0-9][0-9]_*.ipynb"))

pytestmark = pytest.mark.notebooks


def cell_signature(path: Path) -> list[tuple]:
    """What must agree between the two files of a pair, cell by cell."""
    nb = jupytext.read(path)
    return [
        (
            cell.cell_type,
            cell.source.strip(),
            tuple(cell.metadata.get("tags", ())),
            cell.metadata.get("slideshow", {}).get("slide_type"),
        )
        for cell in nb.cells
    ]


def test_there_are_notebooks_to_check():
    assert len([p for p in SOURCES if p.parent.name == "notebooks"]) >= 1


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_pair_has_the_same_cells(source):
    executed = source.with_suffix(".ipynb")
    assert executed.is_file(), f"{executed} is missing: run `course run {source.stem}`"
    expected, actual = cell_signature(source), cell_signature(executed)
    for i, (want, got) in enumerate(zip(expected, actual, strict=False)):
        assert want == got, (
            f"cell {i} of {executed.name} differs from {source.name}: the .ipynb is stale, "
            f"run `course run {source.stem}` (or the .py was not updated from the .ipynb)"
        )
    assert len(expected) == len(actual), (
        f"{source.name} has {len(expected)} cells, {executed.name} has {len(actual)}: "
        f"run `course run {source.stem}`"
    )


@pytest.mark.parametrize("executed", EXECUTED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_executed_notebook_has_a_source(executed):
    assert executed.with_suffix(".py").is_file(), f"{executed} has no paired .py source"


@pytest.mark.parametrize("executed", EXECUTED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_executed_notebook_is_complete(executed):
    nb = jupytext.read(executed)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    unexecuted = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not unexecuted, f"{executed.name}: code cells {unexecuted} were never executed"
    errors = [o for c in code for o in c.outputs if o.get("output_type") == "error"]
    assert not errors, f"{executed.name} has committed error outputs"
