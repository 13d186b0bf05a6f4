import json

import jupytext
import pytest
from nbclient.exceptions import CellExecutionError

from course_utils import notebooks

TINY = """# %% [markdown]
# # A tiny lesson

# %%
x = 6 * 7
print(x)

# %% tags=["solution"]
x + 1
"""


@pytest.fixture()
def folder(tmp_path):
    (tmp_path / "02_second.py").write_text(TINY)
    (tmp_path / "01_first.py").write_text(TINY)
    (tmp_path / "helpers.py").write_text("# not a notebook\n")
    return tmp_path


def test_sources_are_listed_in_course_order(folder):
    assert [p.name for p in notebooks.list_sources(folder)] == ["01_first.py", "02_second.py"]


@pytest.mark.parametrize("name", ["02", "02_second", "02_second.py", "notebooks/02_second.py"])
def test_select_by_number_stem_or_path(folder, name):
    assert [p.name for p in notebooks.select_sources([name], folder)] == ["02_second.py"]


def test_select_nothing_means_everything(folder):
    assert len(notebooks.select_sources([], folder)) == 2


def test_select_unknown_names_the_choices(folder):
    with pytest.raises(ValueError, match=r"no notebook matches '07'.*'01_first', '02_second'"):
        notebooks.select_sources(["07"], folder)


def test_course_notebooks_are_found():
    names = [p.stem for p in notebooks.list_sources()]
    assert names and names[0] == "01_pooling"


def test_execute_writes_the_paired_ipynb_with_outputs(folder):
    nb = notebooks.execute_notebook(folder / "01_first.py")
    written = folder / "01_first.ipynb"
    assert written.is_file()
    saved = jupytext.read(written)
    assert [c.cell_type for c in saved.cells] == ["markdown", "code", "code"]
    assert saved.cells[1].outputs[0]["text"] == "42\n"
    assert saved.cells[2].outputs[0]["data"]["text/plain"] == "43"
    assert saved.cells[2].metadata["tags"] == ["solution"]
    assert "execution" not in saved.cells[1].metadata, "no timestamps in committed notebooks"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_reexecution_keeps_the_ids_of_unchanged_cells(folder):
    source = folder / "01_first.py"
    first = notebooks.execute_notebook(source)
    source.write_text(TINY.replace("x = 6 * 7", "x = 7 * 6"))
    second = notebooks.execute_notebook(source)
    ids = [c.id for c in first.cells]
    assert len(set(ids)) == len(ids)
    assert [c.id for c in second.cells] == ids  # the edited cell keeps its place and id
    saved = jupytext.read(folder / "01_first.ipynb")
    assert saved.cells[1].source.startswith("x = 7 * 6")
    assert saved.cells[1].outputs[0]["text"] == "42\n"
    assert [c.id for c in saved.cells] == ids


def test_failing_notebook_leaves_the_ipynb_untouched(folder):
    source = folder / "01_first.py"
    target = folder / "01_first.ipynb"
    target.write_text(json.dumps({"sentinel": True}))
    source.write_text(TINY + "\n# %%\nraise RuntimeError('boom')\n")
    with pytest.raises(CellExecutionError, match="boom"):
        notebooks.execute_notebook(source)
    assert json.loads(target.read_text()) == {"sentinel": True}


def test_execute_all_reports_progress(folder):
    lines = []
    timings = notebooks.execute_all(notebooks.list_sources(folder), report=lines.append)
    assert list(timings) == ["01_first", "02_second"]
    assert lines[0] == "[1/2] 01_first: executing ..."
    assert lines[1].startswith("[1/2] 01_first: done in ") and lines[1].endswith(" s")
    assert len(lines) == 4
