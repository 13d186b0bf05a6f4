"""The course website: every lesson readable in a browser, offline (``course site``).

- :mod:`~course_utils.tools.site.stage` -- stage the executed notebooks (pure functions);
- :mod:`~course_utils.tools.site.build` -- build the site with Sphinx and MyST-NB;
- :mod:`~course_utils.tools.site.checks` -- refuse remote requests and broken links;
- :mod:`~course_utils.tools.site.serve` -- serve it on localhost.
"""

__all__ = ["build", "checks", "serve", "stage"]
