"""The course manifest: one list of notebooks that every tool reads."""

from __future__ import annotations

import ast

import jupytext
import pytest

from course_utils.tools import manifest

from .conftest import MANIFEST, make_course


def test_notebooks_are_listed_in_manifest_order(course):
    assert [nb.name for nb in course.notebooks] == ["00_talk", "01_first", "02_second"]
    assert [nb.name for nb in course.lessons] == ["01_first", "02_second"]
    assert [nb.name for nb in course.decks] == ["00_talk"]
    second = course.get("02_second")
    assert (second.final_model, second.target_accept) == ("model", 0.9)
    assert second.committed == course.root / "notebooks" / "02_second.ipynb"
    assert second.executed(course.executed_dir) == course.root / "build/executed/02_second.ipynb"


@pytest.mark.parametrize("name", ["02", "02_second", "02_second.py", "notebooks/02_second.py"])
def test_select_by_number_stem_or_path(course, name):
    assert [nb.name for nb in course.select([name])] == ["02_second"]


def test_select_nothing_means_everything_of_the_kind(course):
    assert len(course.select([])) == 3
    assert [nb.name for nb in course.select([], kind="lesson")] == ["01_first", "02_second"]


def test_select_unknown_names_the_choices(course):
    with pytest.raises(ValueError, match=r"no notebook matches '07'.*'00_talk', '01_first'"):
        course.select(["07"])
    with pytest.raises(ValueError, match=r"no notebook matches '00'"):
        course.select(["00"], kind="lesson")


def test_a_notebook_missing_from_the_manifest_is_named(tmp_path):
    make_course(tmp_path)
    (tmp_path / "notebooks" / "03_forgotten.py").write_text("# %%\n")
    with pytest.raises(ValueError, match=r"\['notebooks/03_forgotten.py'\] are not in"):
        manifest.load_course(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('kind = "lesson"', 'kind = "chapter"'), "kind must be one of"),
        (('title = "First"', 'titel = "First"'), r"missing keys \['title'\] or unknown keys"),
        (("target_accept = 0.9", "target_accept = 1.5"), r"target_accept must be in \(0, 1\)"),
        (('source = "notebooks/01_first.py"', 'source = "notebooks/09_absent.py"'), "does not"),
        (('source = "slides/00_talk.py"', 'source = "notebooks/00_talk.py"'), "in slides/"),
    ],
)
def test_a_malformed_entry_is_named_with_the_fix(tmp_path, change, message):
    make_course(tmp_path)
    (tmp_path / manifest.MANIFEST_NAME).write_text(MANIFEST.replace(*change, 1))
    with pytest.raises(ValueError, match=message):
        manifest.load_course(tmp_path)


def test_two_notebooks_with_one_number_are_refused(tmp_path):
    make_course(tmp_path)
    (tmp_path / "notebooks" / "01_twin.py").write_text("# %%\n")
    text = (
        MANIFEST + '\n[[notebook]]\nsource = "notebooks/01_twin.py"\nkind = "lesson"\ntitle = "T"\n'
    )
    (tmp_path / manifest.MANIFEST_NAME).write_text(text)
    with pytest.raises(ValueError, match=r"share the number \['01'\]"):
        manifest.load_course(tmp_path)


def test_the_root_is_found_from_a_subfolder(course):
    assert manifest.find_root(course.root / "notebooks") == course.root


def test_no_manifest_names_where_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the course commands inside a course"):
        manifest.find_root(tmp_path)


# --- the course's own manifest --------------------------------------------------------------


def _model_names(source: str) -> set[str]:
    """Names bound by ``with pm.Model(...) as <name>:`` in a py:percent source."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                is_model = isinstance(call, ast.Call) and ast.unparse(call.func) == "pm.Model"
                if is_model and isinstance(item.optional_vars, ast.Name):
                    names.add(item.optional_vars.id)
    return names


def _notebook_names(source: str) -> set[str]:
    """Names a py:percent source binds in the notebook's namespace (not inside a function)."""
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
    comprehensions = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    names, nodes = set(), list(ast.parse(source).body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, scopes + comprehensions):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        nodes.extend(ast.iter_child_nodes(node))
    return names


def _first_heading(source: str) -> str:
    """The first Markdown heading of a py:percent source, as in the notebook."""
    return next(
        line
        for cell in jupytext.reads(source, fmt="py:percent").cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("#")
    )


def test_the_course_manifest_names_real_models_and_titles():
    # course.toml's target_accept is compared with the code by tests/test_manifest_agrees.py.
    course = manifest.load_course()
    assert course.lessons and course.decks
    assert any(nb.centered_fit and nb.noncentered_fit for nb in course.lessons)
    for nb in course.notebooks:
        text = nb.source.read_text(encoding="utf-8")
        # The title, after "NN · " in a lesson, is the whole of the notebook's first heading.
        number = f"{nb.number} · " if nb.kind == "lesson" else ""
        heading = _first_heading(text)
        assert heading == f"# {number}{nb.title}", f"{nb.name}: title {nb.title!r} vs {heading!r}"
        names = _notebook_names(text)
        if nb.kind == "lesson":
            assert nb.final_model in _model_names(text) & names, (
                f"{nb.name} defines no pm.Model named {nb.final_model} in the notebook"
            )
        for fit in (nb.centered_fit, nb.noncentered_fit):
            assert fit is None or fit in names, f"{nb.name} assigns no {fit} in the notebook"


# --- names that tools look up in a notebook's kernel -----------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "fix"),
    [
        ("final_model", '"uranium model"', "give the name of the pm.Model as bound"),
        ("final_model", '"class"', "give the name of the pm.Model as bound"),
        ("final_model", '"model); import os #"', "give the name of the pm.Model as bound"),
        ("final_model", "42", "give the name of the pm.Model as bound"),
        ("centered_fit", '"centered-idata"', "give the name the notebook binds the fit's"),
        ("noncentered_fit", '"2idata"', "give the name the notebook binds the fit's"),
    ],
)
def test_a_manifest_name_that_is_not_a_python_name_is_refused(tmp_path, key, value, fix):
    make_course(tmp_path)
    text = MANIFEST.replace('final_model = "model"', f"{key} = {value}", 1)
    (tmp_path / manifest.MANIFEST_NAME).write_text(text)
    shown = repr(value.strip('"')) if value.startswith('"') else value
    expected = f"course.toml, notebook 02_second: {key} = {shown} is not a Python name; {fix}"
    with pytest.raises(ValueError) as error:
        manifest.load_course(tmp_path)
    assert expected in str(error.value)


def test_bound_names_are_the_notebooks_top_level_names():
    source = (
        "import numpy as np\nimport os.path\nfrom math import pi as PI\n"
        "with pm.Model() as model:\n    a, (b, c) = 1, (2, 3)\n"
        "for i in range(2):\n    fit = i\n"
        "def helper(x):\n    hidden = x\n    return hidden\n"
        "class Box:\n    inside = 1\n"
        "squares = [k * k for k in range(3)]\nf = lambda y: y\n"
    )
    assert manifest.bound_names(source) == {
        "np", "os", "PI", "model", "a", "b", "c", "i", "fit", "helper", "Box", "squares", "f"
    }  # fmt: skip


def test_a_name_the_notebook_does_not_bind_is_reported_with_the_closest(tmp_path):
    course = make_course(tmp_path)
    (tmp_path / "notebooks" / "02_second.py").write_text(
        "# %%\nimport pymc as pm\n\n# %%\nwith pm.Model() as model_a:\n    pass\n"
        "\n# %%\ndef build():\n    model = 1\n    return model\n"
    )
    with pytest.raises(ValueError) as error:
        manifest.check_names_bound(course.get("02_second"))
    assert str(error.value) == (
        "course.toml, notebook 02_second: final_model = 'model' is not bound in the notebook "
        "(close: 'model_a'); give a name that 02_second.py binds at its top level (not inside "
        "a function)."
    )
    (tmp_path / "notebooks" / "02_second.py").write_text("# %%\nmodel = (\n")
    with pytest.raises(ValueError, match=r"notebook 02_second: cannot check its names, .*line"):
        manifest.check_names_bound(course.get("02_second"))
    manifest.check_names_bound(course.get("01_first"))  # names nothing: nothing to check


def test_the_course_manifest_loads_and_its_names_are_bound():
    course = manifest.load_course()
    named = [nb for nb in course.notebooks if nb.names]
    assert named, "course.toml names final models and fits"
    for nb in named:
        assert all(manifest.is_python_name(v) for v in nb.names.values()), nb.names
        manifest.check_names_bound(nb)
