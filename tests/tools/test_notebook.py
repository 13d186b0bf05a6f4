"""The notebook vocabulary: one module says what a tag, a title and a tolerance file are.

The tools share it instead of importing each other for it: ``course seeds`` and ``course
validate`` work with the ``tools`` extra alone (no pytest, no nbval: they are the ``test``
extra's), no tool but the pytest plugin imports the plugin, and importing the site loads no
module of the slides.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils.tools import notebook
from course_utils.tools.manifest import load_course

from .conftest import rows

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "course_utils" / "tools"
#: What the ``test`` extra adds to the ``tools`` extra for the pytest plugin.
TEST_EXTRA = ("pytest", "_pytest", "nbval")
PLUGIN = "course_utils.tools.nbcheck"

# Run in a fresh interpreter: make the test extra's packages unimportable (as in an
# environment installed with the tools extra alone), then run Python code given in argv[1]
# and print which of those packages, and whether the plugin, ended up imported.
WITHOUT_TEST_EXTRA = f"""
import importlib.abc, sys

class _TestExtraMissing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {TEST_EXTRA!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _TestExtraMissing())
try:
    exec(sys.argv[1])
finally:
    loaded = [m for m in sys.modules if m.partition(".")[0] in {TEST_EXTRA!r} or m == {PLUGIN!r}]
    print("loaded:", sorted(loaded))
"""

COURSE_COMMAND = "from course_utils.tools.cli import main; sys.exit(main(sys.argv[2:]))"


def _without_test_extra(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TEST_EXTRA, code, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": pythonpath},
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- what needs which extra ---------------------------------------------------------------


def test_the_check_makes_the_test_extra_unimportable(tmp_path):
    # Negative control: the plugin needs pytest, and the check refuses it.
    result = _without_test_extra(f"import {PLUGIN}", cwd=tmp_path)
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'pytest'" in result.stderr


def test_course_seeds_works_with_the_tools_extra_alone(course):
    # --validate reads each notebook's tolerance file; the tiny course has none, so the
    # command stops at the first one, naming the file and the fix (exit status 2).
    result = _without_test_extra(COURSE_COMMAND, "seeds", "--validate", "3", cwd=course.root)
    assert result.returncode == 2, result.stderr
    expected = course.root / "tests" / "tolerances" / "00_talk.json"
    assert f"course seeds: error: {expected} does not exist" in result.stderr
    assert "run `course seeds 00_talk --record`" in result.stderr
    assert result.stdout.splitlines()[-1] == "loaded: []"


def test_course_validate_works_with_the_tools_extra_alone(course):
    # The tiny lesson was never executed: validate stops at its committed notebook.
    result = _without_test_extra(COURSE_COMMAND, "validate", "01", cwd=course.root)
    assert result.returncode == 2, result.stderr
    assert "01_first.ipynb does not exist: produce it with `course run 01_first`" in result.stderr
    assert result.stdout.splitlines()[-1] == "loaded: []"


def test_the_seeds_table_reads_tolerance_files_with_the_tools_extra_alone(course):
    # What `course seeds --record` writes into docs/seeds.md, from every tolerance file.
    code = (
        "from course_utils.tools import manifest, seeds\n"
        "print(seeds.recorded_table(manifest.load_course()).splitlines()[-1])"
    )
    result = _without_test_extra(code, cwd=course.root)
    assert result.returncode == 0, result.stderr
    table, loaded = result.stdout.splitlines()
    assert rows(table) == ["| 02_second | not recorded | - | - | - | - |"]
    assert loaded == "loaded: []"


def test_every_tool_but_the_plugin_imports_with_the_tools_extra_alone(tmp_path):
    code = (
        "import importlib, pkgutil, course_utils.tools as tools\n"
        f"names = [m.name for m in pkgutil.walk_packages(tools.__path__, 'course_utils.tools.')]\n"
        f"for name in sorted(set(names) - {{{PLUGIN!r}}}):\n"
        "    importlib.import_module(name)\n"
        "print(len(names))"
    )
    result = _without_test_extra(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    count, loaded = result.stdout.splitlines()
    assert int(count) >= 20 and loaded == "loaded: []"


def _imported(path: Path, root: Path = ROOT) -> set[str]:
    """Every module an import statement of ``path`` names, inside functions too."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(filter(None, [base, node.module]))
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_no_tool_but_the_plugin_imports_the_plugin_or_pytest():
    # Statically, so that an import inside a function (run by one subcommand only) counts.
    found = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in _imported(path)
            if name.partition(".")[0] in TEST_EXTRA or name.startswith(PLUGIN)
        )
        for path in sorted(TOOLS.rglob("*.py"))
        if path.name != "nbcheck.py"
    }
    assert len(found) >= 20
    assert {path: names for path, names in found.items() if names} == {}


def test_the_import_scan_sees_imports_inside_functions(tmp_path):
    # Positive control of the scan above, on a module of the tools' layout.
    module = tmp_path / "course_utils" / "tools" / "example.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "def f():\n    from course_utils.tools.nbcheck import MIN_SEEDS\n"
        "    from . import outputs\n    import pytest\n"
    )
    names = _imported(module, root=tmp_path)
    assert {"course_utils.tools.nbcheck", "course_utils.tools.outputs", "pytest"} <= names


def test_the_site_imports_no_slides_module(tmp_path):
    # (Only a site build calls the slide renderer, for the MathJax files both ship.)
    code = (
        "import importlib, pkgutil, course_utils.tools.site as site\n"
        "for m in pkgutil.walk_packages(site.__path__, 'course_utils.tools.site.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('course_utils.tools.slides')))"
    )
    result = _without_test_extra(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "[]"


# --- the vocabulary -------------------------------------------------------------------------


def test_every_tag_of_the_course_is_in_the_vocabulary():
    known = {value for name, value in vars(notebook).items() if name.endswith("_TAG")}
    assert len(known) == 9, "one constant per tag, each a different tag"
    used = {
        tag
        for nb in load_course().notebooks
        for cell in nbformat.read(nb.committed, as_version=4).cells
        for tag in notebook.tags(cell)
    }
    assert {
        notebook.CHECK_TAG,
        notebook.SOLUTION_TAG,
        notebook.SLIDE_TAG,
        notebook.ANSWER_CHECK_TAG,
    } <= used
    assert used <= known


def test_tags_returns_a_copy():
    cell = nbformat.v4.new_code_cell("x", metadata={"tags": [notebook.SOLUTION_TAG]})
    notebook.tags(cell).append(notebook.CHECK_TAG)
    assert not notebook.has_tag(cell, notebook.CHECK_TAG)
    assert notebook.has_tag({"metadata": {"tags": ["check"]}}, notebook.CHECK_TAG)


def test_notebook_title_needs_a_heading():
    md = nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook(cells=[md("## Only a subheading")])
    with pytest.raises(ValueError, match="# Title"):
        notebook.notebook_title(nb)
    nb.cells.append(md("Intro.\n\n# 01 · Pooling #"))
    assert notebook.notebook_title(nb) == "01 · Pooling"


def test_read_notebook_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="course run 01_missing"):
        notebook.read_notebook(tmp_path / "01_missing.ipynb")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, tmp_path / "02_unexecuted.ipynb")
    with pytest.raises(ValueError, match="no executed cell: run `course run 02_unexecuted`"):
        notebook.read_notebook(tmp_path / "02_unexecuted.ipynb")
    with pytest.raises(ValueError, match="run `course student`"):
        notebook.read_notebook(tmp_path / "02_unexecuted.ipynb", command="course student")


def test_code_hash_ignores_prose_and_sees_code():
    code = nbformat.v4.new_code_cell
    a = nbformat.v4.new_notebook(cells=[code("x = 1"), code("y = 2")])
    b = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("text"), *a.cells])
    c = nbformat.v4.new_notebook(cells=[code("x = 1"), code("y = 3")])
    assert notebook.code_hash(a) == notebook.code_hash(b) != notebook.code_hash(c)


def test_tolerance_files_are_where_the_suite_reads_them(course):
    lesson = course.get("02_second")
    path = notebook.tolerance_path(course, lesson)
    assert path == course.root / "tests" / "tolerances" / "02_second.json"
    # Every tolerance file of the course is where the function says its notebook's is.
    own = load_course()
    recorded = set((own.root / notebook.TOLERANCE_DIR).glob("*.json"))
    assert len(recorded) >= 9
    assert recorded <= {notebook.tolerance_path(own, nb) for nb in own.notebooks}
