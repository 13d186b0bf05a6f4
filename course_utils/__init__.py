"""Helpers for the Bayesian hierarchical models course.

The lessons import only these modules, which need only the scientific stack (PyMC, ArviZ,
PreliZ, matplotlib, pandas, SciPy, pooch):

- :mod:`course_utils.data` -- load and validate the course datasets (fetched and verified
  with pooch; the small tables ship with the package);
- :mod:`course_utils.simulate` -- seeded generators for the synthetic datasets;
- :mod:`course_utils.plots` -- the course plotting style and comparison plots;
- :mod:`course_utils.diagnostics` -- sampling checks that raise when a fit is not trustworthy;
- :mod:`course_utils.exact` -- exact (quadrature) reference posteriors;
- :mod:`course_utils.exercises` -- checks a student runs on an exercise answer, within Monte
  Carlo error;
- :mod:`course_utils.checks` -- the lessons' exercise checks, one module per lesson;
- :mod:`course_utils.references` -- long runs of exercise models, recorded with the course,
  that the checks compare with;
- :mod:`course_utils.environment` -- the CPUs the samplers may use, the versions in use.

The course tooling (the ``course`` command: run, seeds, slides, student editions, site,
benchmark) is the subpackage :mod:`course_utils.tools`, with its own dependencies (the
``tools`` extra).
"""

__version__ = "0.2.0"

__all__ = [
    "checks",
    "data",
    "diagnostics",
    "environment",
    "exact",
    "exercises",
    "plots",
    "references",
    "simulate",
]
