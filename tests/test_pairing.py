"""Every Jupytext pair (.py source + executed .ipynb) of the course holds the same cells.

`jupytext --sync` is not a test (it overwrites whichever file is older) and `jupytext --diff`
exits 0 on differences, so the pairs are read and compared with
`jupytext.compare.compare_notebooks`, which names the first cell that differs.
"""

from __future__ import annotations

import copy
import tomllib

import jupytext
import nbformat
import pytest
from jupytext.compare import NotebookDifference, compare_notebooks
from jupytext.config import load_jupytext_config

from course_utils.tools import manifest

COURSE = manifest.load_course()
PAIRED_KEYS = [
    key
    for key in tomllib.loads((COURSE.root / "jupytext.toml").read_text())[
        "cell_metadata_filter"
    ].split(",")
    if not key.startswith("-")
]

pytestmark = pytest.mark.notebooks


def _paired_view(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with only the cell metadata the .py keeps (jupytext.toml's filter)."""
    view = copy.deepcopy(nb)
    for cell in view.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in PAIRED_KEYS}
    return view


def _cells_with_metadata() -> nbformat.NotebookNode:
    """A notebook whose cells carry tags and slideshow metadata, and metadata of other kinds."""
    v4 = nbformat.v4
    return v4.new_notebook(
        cells=[
            v4.new_markdown_cell(
                "# Title", metadata={"slideshow": {"slide_type": "slide"}, "editable": False}
            ),
            v4.new_code_cell(
                "x = 1",
                metadata={
                    "tags": ["solution", "hide-input"],
                    "slideshow": {"slide_type": "fragment"},
                    "jupyter": {"source_hidden": True},
                    "scrolled": True,
                },
            ),
            v4.new_code_cell("assert x == 1", metadata={"tags": ["check"], "custom": 1}),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )


def _round_trip(nb: nbformat.NotebookNode, config=None) -> nbformat.NotebookNode:
    """The notebook written to its py:percent pair and read back, as Jupytext pairs it."""
    text = jupytext.writes(nb, fmt="py:percent", config=config)
    return jupytext.reads(text, fmt="py:percent", config=config)


def test_the_pairing_keeps_tags_and_slideshow_metadata():
    nb = _cells_with_metadata()
    for notebook in (COURSE.lessons[0], COURSE.decks[0]):
        # The configuration Jupytext (and JupyterLab's Jupytext) applies to this notebook.
        config = load_jupytext_config(str(notebook.committed))
        assert config is not None, f"no Jupytext configuration applies to {notebook.committed}"
        again = _round_trip(nb, config)
        assert [cell.source for cell in again.cells] == [cell.source for cell in nb.cells]
        assert [cell.metadata for cell in again.cells] == [
            {"slideshow": {"slide_type": "slide"}},
            {"tags": ["solution", "hide-input"], "slideshow": {"slide_type": "fragment"}},
            {"tags": ["check"]},
        ], notebook.name
    # Negative control: Jupytext's defaults keep the other metadata, so the course's
    # configuration is what drops it.
    default = _round_trip(nb)
    assert default.cells[0].metadata["editable"] is False
    assert default.cells[2].metadata["custom"] == 1


@pytest.mark.parametrize("notebook", COURSE.notebooks, ids=lambda nb: nb.name)
def test_pair_has_the_same_cells(notebook):
    assert notebook.committed.is_file(), (
        f"{notebook.committed} is missing: run `course run --in-place {notebook.name}`"
    )
    source = jupytext.read(notebook.source)
    executed = _paired_view(jupytext.read(notebook.committed))
    try:
        compare_notebooks(executed, source, fmt="py:percent")
    except NotebookDifference as err:
        pytest.fail(
            f"{notebook.committed.name} differs from {notebook.source.name}: the .ipynb is stale, "
            f"run `course run --in-place {notebook.name}`.\n{err}"
        )


def test_a_changed_source_is_caught():
    # Negative control: one edited line in a code cell is a difference.
    notebook = COURSE.lessons[0]
    source = jupytext.read(notebook.source)
    executed = _paired_view(jupytext.read(notebook.committed))
    code = next(c for c in source.cells if c.cell_type == "code")
    code.source += "\nx = 1"
    with pytest.raises(NotebookDifference, match="Cell content differ"):
        compare_notebooks(executed, source, fmt="py:percent")


def test_every_executed_notebook_belongs_to_the_manifest():
    listed = {nb.committed for nb in COURSE.notebooks}
    found = {
        p for folder in ("notebooks", "slides") for p in (COURSE.root / folder).glob("*.ipynb")
    }
    assert found - listed == set(), "an .ipynb without a source in course.toml"


@pytest.mark.parametrize("notebook", COURSE.notebooks, ids=lambda nb: nb.name)
def test_executed_notebook_is_complete(notebook):
    nb = jupytext.read(notebook.committed)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    unexecuted = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not unexecuted, f"{notebook.name}: code cells {unexecuted} were never executed"
    errors = [o for c in code for o in c.outputs if o.get("output_type") == "error"]
    assert not errors, f"{notebook.name} has committed error outputs"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "executed top to bottom in a fresh kernel"
