"""Course tooling: the ``course`` command and what it runs.

These modules are for authors, instructors and CI, not for the lessons (which import only the
lesson helpers of :mod:`course_utils`). They need the ``tools`` extra of the package
(``pip install "course-utils[tools]"``; the lock file installs everything).

- :mod:`course_utils.tools.manifest` -- the course manifest (``course.toml``): list and
  select notebooks, start their kernels;
- :mod:`course_utils.tools.notebook` -- the notebook vocabulary every tool shares: cell tags,
  titles, reading an executed notebook, the fingerprint of its code, its tolerance file;
- :mod:`course_utils.tools.execute` -- execute notebooks from their Jupytext sources;
- :mod:`course_utils.tools.outputs` -- compare a notebook's outputs with a fresh run, within
  Monte Carlo error;
- :mod:`course_utils.tools.seeds` -- re-run notebooks under other sampler seeds;
- :mod:`course_utils.tools.references` -- record the long runs the exercise checks compare
  with (``course references``);
- :mod:`course_utils.tools.nbcheck` -- the pytest plugin that validates committed outputs;
- :mod:`course_utils.tools.student` -- student editions without solutions;
- :mod:`course_utils.tools.slides` -- offline reveal.js decks and PDF handouts;
- :mod:`course_utils.tools.bench` -- the benchmark;
- :mod:`course_utils.tools.cli` -- the ``course`` command line.
"""

__all__ = [
    "bench",
    "browser",
    "cli",
    "docs",
    "execute",
    "manifest",
    "nbcheck",
    "notebook",
    "outputs",
    "profiles",
    "references",
    "seeds",
    "site",
    "slides",
    "student",
    "usage",
    "validate",
]
