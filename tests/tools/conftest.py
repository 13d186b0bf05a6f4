"""A tiny course checkout for the tooling tests: a manifest, two lessons and a deck."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_utils.tools import manifest

TINY = """# %% [markdown]
# # A tiny lesson

# %%
RANDOM_SEED = 7
x = 6 * 7
print(x)

# %% tags=["check"]
assert x == 42

# %% tags=["solution"]
x + 1
"""

MANIFEST = """[course]
title = "A tiny course"

[[notebook]]
source = "slides/00_talk.py"
kind = "deck"
title = "A tiny talk"

[[notebook]]
source = "notebooks/01_first.py"
kind = "lesson"
title = "First"

[[notebook]]
source = "notebooks/02_second.py"
kind = "lesson"
title = "Second"
final_model = "model"
target_accept = 0.9
"""


def make_course(root: Path, manifest_text: str = MANIFEST) -> manifest.Course:
    """Write a tiny course into ``root`` and load it."""
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    (root / "slides").mkdir(exist_ok=True)
    for name in ("notebooks/01_first.py", "notebooks/02_second.py", "slides/00_talk.py"):
        (root / name).write_text(TINY)
    (root / "notebooks" / "helpers.py").write_text("# not a notebook\n")
    (root / manifest.MANIFEST_NAME).write_text(manifest_text)
    return manifest.load_course(root)


@pytest.fixture()
def course(tmp_path) -> manifest.Course:
    """A tiny course in a temporary folder."""
    return make_course(tmp_path)


def rows(text: str) -> list[str]:
    """The rows of every Markdown pipe table in ``text``, padding removed: ``| a | b |``.

    Generated tables pad their cells to align the columns; tests compare the cells.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return [
        "| " + " | ".join(row) + " |"
        for row in cells
        if not all(cell and set(cell) <= set(":-") for cell in row)
    ]
