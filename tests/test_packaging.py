"""The package's two layers, and a plain (non-editable) install outside the checkout.

The lessons import only the lesson helpers, which must not need the course tooling; and a
``pip install .`` must carry everything the helpers read (the data registry, the small
tables, the plotting style), because nothing may depend on the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON_HELPERS = [
    "data",
    "simulate",
    "plots",
    "diagnostics",
    "exact",
    "exercises",
    "checks",
    "references",
    "environment",
]
# The lesson helpers' `from course_utils import *` must not import the tooling subpackage.
NOT_EXPORTED = {"course_utils": {"tools"}}
TOOLING = ("playwright", "nbconvert", "nbclient", "nbformat", "jupytext", "jupyter", "nbval")

IMPORTED_TOOLING = f"""
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(sorted({{m.split(".")[0] for m in sys.modules if m.split(".")[0].startswith({TOOLING!r})}}))
"""


def _imported_tooling(*modules: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", IMPORTED_TOOLING, *modules],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_lesson_helpers_import_none_of_the_tooling():
    assert _imported_tooling(*(f"course_utils.{m}" for m in LESSON_HELPERS)) == "[]"


def test_the_import_check_sees_tooling_when_it_is_imported():
    # Negative control: the slide renderer does import nbformat, and the check notices.
    assert "nbformat" in _imported_tooling("course_utils.tools.slides.render")


def _undeclared(module) -> list[str]:
    """What is wrong with a module's ``__all__``: missing, empty, unknown or forgotten names.

    A module's public names are the functions and classes it defines without a leading
    underscore (pytest finds a plugin's ``pytest_*`` hooks by name, not through ``__all__``),
    and for a package also its submodules (but for those of :data:`NOT_EXPORTED`).
    """
    import inspect
    import pkgutil

    declared = getattr(module, "__all__", None)
    if not declared:
        return [f"__all__ is {declared!r}"]
    submodules = {m.name for m in pkgutil.iter_modules(getattr(module, "__path__", []))}
    defined = {
        name
        for name, value in vars(module).items()
        if (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
        and not name.startswith(("_", "pytest_"))
    }
    public = defined | {name for name in submodules if not name.startswith("_")}
    public -= NOT_EXPORTED.get(module.__name__, set())
    unknown = [name for name in declared if not hasattr(module, name) and name not in submodules]
    problems = [f"{name} is declared but does not exist" for name in unknown]
    problems += [f"{name} is public but not declared" for name in sorted(public - set(declared))]
    if len(set(declared)) != len(declared):
        problems.append("a name is declared twice")
    return problems


def test_an_undeclared_or_empty_all_is_found():
    import types

    module = types.ModuleType("course_utils.planted")
    exec("__all__ = []\ndef helper():\n    pass\n", module.__dict__)
    assert _undeclared(module) == ["__all__ is []"]
    module.__all__ = ["helper", "gone"]
    exec("def forgotten():\n    pass\n", module.__dict__)
    assert _undeclared(module) == [
        "gone is declared but does not exist",
        "forgotten is public but not declared",
    ]


def test_every_module_declares_its_public_names():
    import importlib
    import pkgutil

    import course_utils

    names = [m.name for m in pkgutil.walk_packages(course_utils.__path__, "course_utils.")]
    assert len(names) > 10
    problems = {
        name: found
        for name in ["course_utils", *names]
        if (found := _undeclared(importlib.import_module(name)))
    }
    assert problems == {}
    documented = course_utils.__doc__
    assert all(f":mod:`course_utils.{m}`" in documented for m in LESSON_HELPERS)
    assert ":mod:`course_utils.tools`" in documented


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package installed non-editable (a wheel build) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
    )
    return target


def _run_outside(installed: Path, code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )


def test_a_plain_install_outside_the_checkout_loads_every_dataset(installed, tmp_path):
    code = """
import course_utils, matplotlib
matplotlib.use("Agg")
from course_utils import data, plots
print(course_utils.__file__)
print(len(data.load_spacex()), len(data.load_radon()), len(data.load_chemical_shifts()))
print(sorted(data.read_registry()))
plots.use_course_style()
print(matplotlib.rcParams["axes.titleweight"], plots.STYLE_FILE.is_file())
"""
    result = _run_outside(installed, code, tmp_path)
    assert result.returncode == 0, result.stderr
    location, sizes, registry, style = result.stdout.splitlines()
    assert Path(location).is_relative_to(installed), "the installed copy, not the checkout"
    assert sizes == "4 919 1776"
    assert registry == "['chemical_shifts_theo_exp.csv', 'radon.csv']"
    assert style == "bold True"


def test_a_plain_install_carries_the_recorded_references(installed, tmp_path):
    # A student's kernel on Binder or a hub reads them as package data.
    code = """
from course_utils.references import recorded_reference, references_dir
print(references_dir())
print(recorded_reference("05_radon", "uranium").mean("gamma_1").shape)
"""
    result = _run_outside(installed, code, tmp_path)
    assert result.returncode == 0, result.stderr
    location, shape = result.stdout.splitlines()
    assert Path(location).is_relative_to(installed), "the installed copy, not the checkout"
    assert shape == "(1,)"
    shipped = {path.name for path in Path(location).glob("*.json")}
    assert shipped == {path.name for path in (ROOT / "course_utils/checks/references").glob("*")}


def test_docstring_examples_run_against_the_installed_package(installed, tmp_path):
    # As pooch does: the examples are run from the installed package, outside the checkout.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--doctest-modules",
            "--pyargs",
            "course_utils",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(installed), "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    passed = int(result.stdout.strip().splitlines()[-1].split()[0])
    assert passed >= 40, result.stdout[-500:]
