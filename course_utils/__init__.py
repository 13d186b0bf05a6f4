"""Helpers for the Bayesian hierarchical models course.

One module per concern:

- :mod:`course_utils.data` -- load and validate the course datasets;
- :mod:`course_utils.simulate` -- seeded generators for the synthetic datasets;
- :mod:`course_utils.plots` -- the course plotting style and comparison plots;
- :mod:`course_utils.diagnostics` -- sampling checks that raise when a fit is not trustworthy;
- :mod:`course_utils.exact` -- exact (quadrature) reference posteriors;
- :mod:`course_utils.slides` -- offline reveal.js slides and PDF handouts;
- :mod:`course_utils.cli` -- the ``course`` command line.
"""

__version__ = "0.1.0"
