"""The checks a student runs on their answers to the lessons' exercises, one module per lesson.

A lesson imports its module (``from course_utils.checks import pooling as checks``) and
follows each exercise with a computable answer by a cell tagged ``answer-check``: one call,
``checks.<exercise>(<answer names>, <lesson objects>)``. The student editions keep these
cells and set each answer the solution computes to ``...``, so that a blank answer is met with
"no answer yet", not a traceback.

Every check function in these modules

- takes the student's answers first, then the lesson objects it needs to compute the
  reference (an exact answer, or one computed from the lesson's own fit), or reads a long run
  of the exercise's model recorded by ``course references NN`` (the module's ``REFERENCES``,
  :mod:`course_utils.references`);
- says "no answer yet" (:func:`course_utils.exercises.missing_answer`) before it reads
  anything else, so that a blank answer never meets a lesson object it cannot handle;
- compares within the answer's Monte Carlo standard error
  (:func:`course_utils.exercises.check_number`,
  :func:`~course_utils.exercises.check_posterior_mean`), so that a correct answer fails
  less than once in :data:`~course_utils.exercises.FALSE_ALARM` :sup:`-1` checks;
- names the typical mistakes it knows, and never raises on a student's answer;
- changes nothing it is given.

Modules, one per lesson:

- 01: :mod:`course_utils.checks.pooling`
- 02: :mod:`course_utils.checks.chemical_shifts`
- 03: :mod:`course_utils.checks.water_quality`
- 04: :mod:`course_utils.checks.spacex`
- 05: :mod:`course_utils.checks.radon`
- 06: :mod:`course_utils.checks.two_group_regression`
- 07: :mod:`course_utils.checks.eight_schools`
- 08: :mod:`course_utils.checks.county_predictors`
- 09: :mod:`course_utils.checks.correlated_effects`

An exercise whose answer is an argument has no check; the lesson's module says which.
"""

from __future__ import annotations

__all__ = [
    "chemical_shifts",
    "correlated_effects",
    "county_predictors",
    "eight_schools",
    "pooling",
    "radon",
    "spacex",
    "two_group_regression",
    "water_quality",
]
