"""Test-session settings for the whole repository (unit tests, notebooks, browser tests).

Enables the notebook validation (:mod:`course_utils.tools.nbcheck`: every committed notebook of
``course.toml`` re-executed by nbval and compared within Monte Carlo error) and prints the wall
time of every test file at the end, so a long run shows which notebook or test module took the
time (summed over xdist workers: ``make test`` runs ``pytest -n auto --dist loadfile``, which
keeps the cells of a notebook together on one worker, in order, as they share a kernel).
"""

from __future__ import annotations

from collections import defaultdict

import matplotlib
import pytest

pytest_plugins = ["course_utils.tools.nbcheck"]

_FILE_SECONDS: dict[str, float] = defaultdict(float)


def pytest_configure(config):
    """Draw unit-test figures off screen (notebook kernels are separate processes)."""
    matplotlib.use("Agg")


def pytest_runtest_logreport(report):
    """Add up the time of every test phase per file (reports reach the xdist controller)."""
    _FILE_SECONDS[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    """Print wall time per test file, slowest first."""
    if not _FILE_SECONDS:
        return
    terminalreporter.section("wall time per file")
    for path, seconds in sorted(_FILE_SECONDS.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}")


def pytest_collection_modifyitems(config, items):
    """Mark the notebook validation items ``notebooks`` so ``-m notebooks`` selects them."""
    for item in items:
        if item.nodeid.split("::")[0].endswith(".ipynb"):
            item.add_marker(pytest.mark.notebooks)
