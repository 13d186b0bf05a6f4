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
LESSON_HELPERS = ["data", "simulate", "plots", "diagnostics", "exact", "environment"]
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


def test_every_module_declares_its_public_names():
    import importlib
    import pkgutil

    import course_utils

    names = [m.name for m in pkgutil.walk_packages(course_utils.__path__, "course_utils.")]
    assert len(names) > 10
    missing = [n for n in names if not hasattr(importlib.import_module(n), "__all__")]
    assert missing == []
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
