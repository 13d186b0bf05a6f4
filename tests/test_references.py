"""No lesson points at a lesson that does not exist.

Lessons and the deck refer to each other in prose ("lesson 05 introduced...", "lessons 01 and
05", the deck's "08 · Radon"). Every such number must be a notebook of `course.toml`, or a
student follows a pointer to nothing.
"""

from __future__ import annotations

import re

import pytest

from course_utils.tools import manifest

COURSE = manifest.load_course()
# "lesson 05", "Lessons 02 and 05", "lessons 03, 04 and 07"
_LESSON_WORDS = re.compile(r"\b[Ll]essons?\s+(\d{2}(?:\s*(?:,|and|or|to|-|–)\s*\d{2})*)\b")
# A deck or README bullet naming a lesson: "**08 · Radon, grown up**"
_LESSON_TITLE = re.compile(r"\b(\d{2}) · ")


def lesson_references(text: str) -> set[str]:
    """Return every two-digit lesson number that ``text`` refers to.

    Examples
    --------
    >>> sorted(lesson_references("As lessons 01 and 05 showed; see **08 · Radon**."))
    ['01', '05', '08']
    """
    found = {n for m in _LESSON_WORDS.finditer(text) for n in re.findall(r"\d{2}", m.group(1))}
    return found | set(_LESSON_TITLE.findall(text))


def _numbers() -> set[str]:
    return {notebook.name[:2] for notebook in COURSE.notebooks}


def test_lesson_references_finds_every_form_of_pointer():
    text = "Lesson 05 and lessons 03, 04 and 07; the deck's **09 · Ladders**; not 2007 or 1.05."
    assert lesson_references(text) == {"03", "04", "05", "07", "09"}


def test_a_pointer_to_a_missing_lesson_is_found():
    missing = lesson_references("(Lesson 42 develops this further.)") - _numbers()
    assert missing == {"42"}


@pytest.mark.parametrize("notebook", COURSE.notebooks, ids=lambda nb: nb.name)
def test_every_lesson_a_notebook_points_at_exists(notebook):
    missing = lesson_references(notebook.source.read_text(encoding="utf-8")) - _numbers()
    assert not missing, (
        f"{notebook.source.name} points at lessons {sorted(missing)}, not in course.toml"
    )


@pytest.mark.parametrize("name", ["README.md", "CONTRIBUTING.md", "docs/teaching.md"])
def test_every_lesson_the_docs_point_at_exists(name):
    path = COURSE.root / name
    missing = lesson_references(path.read_text(encoding="utf-8")) - _numbers()
    assert not missing, f"{name} points at lessons {sorted(missing)}, not in course.toml"
