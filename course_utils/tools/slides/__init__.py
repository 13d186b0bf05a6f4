"""Offline reveal.js slides and PDF handouts, in three layers.

- :mod:`~course_utils.tools.slides.build` -- make deck notebooks (pure functions on notebooks);
- :mod:`~course_utils.tools.slides.render` -- render them to offline HTML with nbconvert;
- :mod:`~course_utils.tools.slides.browser` -- open, check and print them in Chromium.
"""

__all__ = ["browser", "build", "render"]
