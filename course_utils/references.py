r"""Long-run references for exercises whose model the lesson does not fit itself.

Some exercises ask for a new model (Student-t errors, a county predictor). The course has no
exact posterior for it, and the lesson's own fits are of other models, so the reference is the
exercise's solution run much longer than a student would: many draws, a fixed seed, its
convergence checked. ``course references NN`` runs it and stores, per variable, the posterior
mean, sd and Monte Carlo standard error in ``course_utils/checks/references/<notebook>.json``,
with the fingerprint of the notebook code it ran (the code cells up to the last model it
samples). The test suite compares that fingerprint with the lesson's current code, so a
reference never outlives the code it belongs to.

A check module declares what it needs in ``REFERENCES`` (a tuple of :class:`Reference`); its
checks read the recorded numbers with :func:`recorded_reference` and compare a student's fit
with :func:`check_recorded`, within both fits' Monte Carlo standard errors. Reading needs
only the scientific stack: the files are package data, so the checks work on Binder and a hub.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from course_utils.exercises import (
    FALSE_ALARM,
    Feedback,
    Mistake,
    all_correct,
    check_posterior_mean,
)

__all__ = [
    "REFERENCES_PACKAGE",
    "RecordedReference",
    "Reference",
    "check_recorded",
    "recorded_reference",
    "references_dir",
]

#: The package whose ``references/`` folder holds the recorded files.
REFERENCES_PACKAGE = "course_utils.checks"


@dataclass(frozen=True)
class Reference:
    """What a check needs recorded: a model of the lesson and the variables it compares.

    Attributes
    ----------
    name : str
        The key of the reference in the lesson's file, e.g. ``"student_t"``.
    model : str
        The name the lesson binds the ``pm.Model`` to (``with pm.Model() as <model>:``).
    var_names : tuple of str
        The variables whose posterior mean, sd and MCSE are recorded.
    target_accept : float, default 0.9
        The NUTS ``target_accept`` of the long run.

    Examples
    --------
    >>> Reference("student_t", "student_t_model", ("nu", "mu_mu")).target_accept
    0.9
    """

    name: str
    model: str
    var_names: tuple[str, ...]
    target_accept: float = 0.9


@dataclass(frozen=True)
class RecordedReference:
    """The recorded summary of one long run.

    Attributes
    ----------
    name : str
        The reference's key.
    variables : mapping of str to mapping of str to list of float
        Per variable, its elements' ``mean``, ``sd`` and ``mcse_mean`` (flattened, in order).
    """

    name: str
    variables: Mapping[str, Mapping[str, Sequence[float]]]

    def mean(self, var_name: str) -> NDArray[np.float64]:
        """Return the posterior mean of ``var_name``'s elements."""
        return np.asarray(self.variables[var_name]["mean"], dtype=float)

    def sd(self, var_name: str) -> NDArray[np.float64]:
        """Return the posterior sd of ``var_name``'s elements."""
        return np.asarray(self.variables[var_name]["sd"], dtype=float)

    def mcse(self, var_name: str) -> NDArray[np.float64]:
        """Return the Monte Carlo standard error of the recorded means."""
        return np.asarray(self.variables[var_name]["mcse_mean"], dtype=float)


def references_dir() -> Path:
    """Return the folder of the recorded reference files (package data).

    Examples
    --------
    >>> references_dir().name
    'references'
    """
    return Path(str(resources.files(REFERENCES_PACKAGE))) / "references"


def recorded_reference(
    notebook: str, name: str, *, folder: Path | None = None
) -> RecordedReference:
    """Read the recorded reference ``name`` of a lesson.

    Parameters
    ----------
    notebook : str
        The lesson's name, e.g. ``"02_chemical_shifts"``.
    name : str
        The reference's key (a :class:`Reference` of the lesson's check module).
    folder : pathlib.Path, optional
        Where the files are; :func:`references_dir` by default.

    Returns
    -------
    RecordedReference

    Raises
    ------
    LookupError
        If the lesson has no recorded file or the file lacks ``name``; the message says which
        command records it.

    Examples
    --------
    >>> import json, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> record = {"mu": {"mean": [1.0], "sd": [0.5], "mcse_mean": [0.01]}}
    >>> _ = (folder / "02_a.json").write_text(
    ...     json.dumps({"references": {"fit": {"variables": record}}}))
    >>> recorded_reference("02_a", "fit", folder=folder).mean("mu")
    array([1.])
    """
    path = (folder or references_dir()) / f"{notebook}.json"
    fix = f"run `course references {notebook[:2]}` in the course folder to record it"
    if not path.is_file():
        raise LookupError(f"No recorded references for {notebook} ({path} is missing): {fix}.")
    recorded = json.loads(path.read_text(encoding="utf-8")).get("references", {})
    if name not in recorded:
        raise LookupError(f"{path} has no reference {name!r}: {fix}.")
    return RecordedReference(name, recorded[name]["variables"])


def check_recorded(
    idata: Any,
    reference: RecordedReference,
    message: str,
    *,
    var_names: Sequence[str] | None = None,
    mistakes: Mapping[str, Mapping[str, Mistake]] | None = None,
    false_alarm: float = FALSE_ALARM,
) -> Feedback:
    """Check a fit's posterior means against a recorded long run, convergence first.

    Each variable passes when its means lie within ``k`` combined standard errors (the
    student's MCSE and the recorded one) of the recorded means; the false-alarm budget is
    shared among the variables.

    Parameters
    ----------
    idata : arviz.InferenceData or None
        The student's fit.
    reference : RecordedReference
        From :func:`recorded_reference`.
    message : str
        The feedback when every variable passes.
    var_names : sequence of str, optional
        The variables to compare, in the order the student should fix them (the first that
        fails is reported, so a variable with a named mistake comes first): a check passes
        its :class:`Reference`'s ``var_names``. All recorded ones, in the file's
        alphabetical order, by default.
    mistakes : mapping of str to mapping, optional
        Per variable, known wrong posterior means, as in
        :func:`~course_utils.exercises.check_posterior_mean`.
    false_alarm : float, default :data:`~course_utils.exercises.FALSE_ALARM`
        Probability that a correct, converged fit fails, over all variables together.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> import arviz as az
    >>> rng = np.random.default_rng(1)
    >>> fit = az.from_dict(posterior={"mu": rng.normal(1.0, 0.5, (4, 1000))},
    ...                    sample_stats={"diverging": np.zeros((4, 1000), dtype=bool)})
    >>> ref = RecordedReference("fit", {"mu": {"mean": [1.0], "sd": [0.5], "mcse_mean": [0.003]}})
    >>> print(check_recorded(fit, ref, "Correct: mu."))
    Correct: mu.
    >>> far = RecordedReference("fit", {"mu": {"mean": [2.0], "sd": [0.5], "mcse_mean": [0.003]}})
    >>> check_recorded(fit, far, "Correct: mu.").status
    'incorrect'
    """
    names = list(var_names or reference.variables)
    return all_correct(
        [
            check_posterior_mean(
                idata,
                name,
                reference.mean(name),
                reference_se=reference.mcse(name),
                mistakes=(mistakes or {}).get(name),
                false_alarm=false_alarm / len(names),
            )
            for name in names
        ],
        message,
    )
