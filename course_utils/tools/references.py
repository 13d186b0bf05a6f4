"""``course references``: record the long-run references of the exercise checks.

A check module declares in ``REFERENCES`` the exercise models it compares a student's fit with
(:class:`course_utils.references.Reference`). For a lesson, :func:`record` runs the lesson's
code cells up to the last of those models' cells in a fresh kernel (the data and the model as
the lesson builds them), samples each model for many draws with a fixed seed, refuses a run
that fails its convergence checks, and writes the posterior means, sds and MCSEs to
``course_utils/checks/references/<notebook>.json`` with the :func:`fingerprint` of the code
it ran: the lesson's code cells and the lesson helpers that shape the data.

:func:`stale_references` compares a recorded file with the current code; the test suite calls
it for every lesson that declares references (and fails on a file no lesson declares), so
that a changed lesson fails until its references are recorded again.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import importlib
import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jupytext
from nbclient.exceptions import CellExecutionError
from nbformat import NotebookNode, v4

import course_utils
from course_utils.references import Reference, references_dir
from course_utils.tools.execute import execute
from course_utils.tools.manifest import Notebook
from course_utils.tools.notebook import ANSWER_CHECK_TAG, code_hash, has_tag

__all__ = [
    "CHAINS",
    "DRAWS",
    "MIN_ESS_BULK",
    "RECORD_DIR",
    "SEED",
    "TUNE",
    "check_module",
    "DATA_FILES",
    "declared_references",
    "fingerprint",
    "lesson_references",
    "long_run_problems",
    "model_cell",
    "record",
    "references_prefix",
    "sample_references",
    "stale_references",
]

#: Draws per chain, tuning steps, chains and seed of a long run (recorded in the file).
DRAWS = 10_000
TUNE = 2_000
CHAINS = 4
SEED = 20_261_207
#: The smallest bulk ESS a long run may record: ten times a student's minimum, so that the
#: reference's MCSE is small next to the student's.
MIN_ESS_BULK = 4_000
#: Where ``course references`` writes, relative to the course root (the package's data folder).
RECORD_DIR = Path("course_utils/checks/references")

#: The lesson-helper files that shape a model's data (loaders and validators, simulators, the
#: shipped tables and the registry that pins the external files' sha256), relative to the
#: package: part of a reference's fingerprint, beside the lesson's code.
DATA_FILES = ("data.py", "simulate.py", "datasets/*.csv")

_IMPORT = re.compile(r"^from course_utils\.checks import (\w+) as checks\b", re.MULTILINE)


def check_module(nb: NotebookNode) -> str | None:
    r"""Return the check module a lesson imports (``from course_utils.checks import X as checks``).

    Examples
    --------
    >>> nb = v4.new_notebook(cells=[v4.new_code_cell(
    ...     "import numpy as np\nfrom course_utils.checks import radon as checks")])
    >>> check_module(nb)
    'radon'
    >>> check_module(v4.new_notebook()) is None
    True
    """
    for cell in nb.cells:
        if cell.cell_type == "code" and (match := _IMPORT.search(cell.source)):
            return match.group(1)
    return None


def declared_references(module: str) -> tuple[Reference, ...]:
    """Return the ``REFERENCES`` of ``course_utils.checks.<module>`` (empty when it has none).

    Examples
    --------
    >>> declared_references("eight_schools")
    ()
    """
    found = getattr(importlib.import_module(f"course_utils.checks.{module}"), "REFERENCES", ())
    return tuple(found)


def lesson_references(notebook: Notebook) -> tuple[Reference, ...]:
    """Return the references a lesson's check module declares (empty: none, or no module)."""
    module = check_module(jupytext.read(notebook.source))
    return declared_references(module) if module else ()


def _binds_model(source: str, model: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(
        isinstance(node, ast.With)
        and any(
            isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == model
            for item in node.items
        )
        for node in tree.body
    )


def model_cell(nb: NotebookNode, model: str) -> int:
    r"""Return the index of the code cell that builds ``model`` (``with ... as <model>:``).

    Raises
    ------
    ValueError
        If no top-level ``with`` statement of a code cell binds ``model``.

    Examples
    --------
    >>> nb = v4.new_notebook(cells=[v4.new_code_cell("x = 1"),
    ...     v4.new_code_cell("with pm.Model() as m:\n    pass")])
    >>> model_cell(nb, "m")
    1
    """
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and _binds_model(cell.source, model):
            return index
    raise ValueError(
        f"no code cell builds the model {model!r}: a Reference names the model as the lesson "
        f"binds it, `with pm.Model() as {model}:`."
    )


def references_prefix(nb: NotebookNode, references: Sequence[Reference]) -> NotebookNode:
    r"""Return the lesson's code cells up to the last cell that builds one of ``references``.

    This is the code a long run executes, and part of its :func:`fingerprint`. Cells tagged
    ``answer-check`` are left out: they bind nothing, and they may read the very references
    being recorded.

    Examples
    --------
    >>> check = v4.new_code_cell("checks.fit(idata)", metadata={"tags": ["answer-check"]})
    >>> nb = v4.new_notebook(cells=[v4.new_markdown_cell("# A"), v4.new_code_cell("x = 1"), check,
    ...     v4.new_code_cell("with pm.Model() as m:\n    pass"), v4.new_code_cell("y = 2")])
    >>> [cell.source for cell in references_prefix(nb, [Reference("r", "m", ("mu",))]).cells]
    ['x = 1', 'with pm.Model() as m:\n    pass']
    """
    if not references:
        raise ValueError("no references to record: the check module's REFERENCES is empty.")
    last = max(model_cell(nb, reference.model) for reference in references)
    cells = [
        copy.deepcopy(cell)
        for cell in nb.cells[: last + 1]
        if cell.cell_type == "code" and not has_tag(cell, ANSWER_CHECK_TAG)
    ]
    prefix = copy.deepcopy(nb)
    prefix.cells = cells
    return prefix


def fingerprint(prefix: NotebookNode, files: Sequence[Path] | None = None) -> str:
    """Return the fingerprint of what a long run depends on: its code and the data helpers.

    Parameters
    ----------
    prefix : nbformat.NotebookNode
        The code a long run executes (:func:`references_prefix`).
    files : sequence of pathlib.Path, optional
        The helper files; those of :data:`DATA_FILES` in the installed package by default.

    Returns
    -------
    str
        64 hexadecimal digits: the sha256 of the prefix's
        :func:`~course_utils.tools.notebook.code_hash` and of each file's name and bytes.

    Examples
    --------
    >>> nb = v4.new_notebook(cells=[v4.new_code_cell("x = 1")])
    >>> fingerprint(nb, []) == fingerprint(nb, [])
    True
    """
    package = Path(course_utils.__file__).parent
    if files is None:
        files = sorted(path for pattern in DATA_FILES for path in package.glob(pattern))
    digest = hashlib.sha256(code_hash(prefix).encode())
    for path in files:
        name = path.relative_to(package) if path.is_relative_to(package) else Path(path.name)
        digest.update(b"\x00" + name.as_posix().encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()


def _sampling_code(
    references: Sequence[Reference], path: Path, *, draws: int, tune: int, chains: int, seed: int
) -> str:
    models = ", ".join(
        f"{ref.name!r}: ({ref.model}, {list(ref.var_names)!r}, {ref.target_accept!r})"
        for ref in references
    )
    return (
        "from course_utils.tools.references import sample_references as _sample_references\n"
        f"_sample_references({{{models}}}, {str(path)!r}, draws={draws}, tune={tune}, "
        f"chains={chains}, seed={seed})"
    )


def sample_references(
    models: Mapping[str, tuple[Any, Sequence[str], float]],
    path: str,
    *,
    draws: int = DRAWS,
    tune: int = TUNE,
    chains: int = CHAINS,
    seed: int = SEED,
) -> None:
    """Sample each model long and write its summary to ``path`` (runs in the lesson's kernel).

    Parameters
    ----------
    models : mapping of str to (pm.Model, sequence of str, float)
        Per reference name: the model, the variables to record and ``target_accept``.
    path : str
        The JSON file written: per name, ``variables`` (``mean``, ``sd``, ``mcse_mean`` of
        each variable's elements) and ``diagnostics`` (divergences, max r_hat, min bulk ESS
        and the failed thresholds).
    draws, tune, chains, seed : int
        The sampler settings.
    """
    import arviz as az
    import pymc as pm

    from course_utils.diagnostics import check_sampling
    from course_utils.environment import sampler_cores

    results = {}
    for offset, (name, (model, var_names, target_accept)) in enumerate(models.items()):
        with model:
            idata = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                cores=sampler_cores(chains),
                target_accept=target_accept,
                random_seed=seed + offset,
                progressbar=False,
                compute_convergence_checks=False,
            )
        report = check_sampling(idata, var_names=list(var_names), raise_on_failure=False)
        summary = az.summary(idata, var_names=list(var_names), round_to="none")
        variables = {}
        for var in var_names:
            rows = summary.loc[
                [label == var or label.startswith(f"{var}[") for label in summary.index]
            ]
            variables[var] = {
                key: rows[key].astype(float).tolist() for key in ("mean", "sd", "mcse_mean")
            }
        results[name] = {
            "variables": variables,
            "diagnostics": {
                "divergences": int(report.divergences),
                "max_r_hat": float(report.max_r_hat),
                "min_ess_bulk": float(report.min_ess_bulk),
                "problems": list(report.problems),
            },
            "sampler": {
                "draws": draws,
                "tune": tune,
                "chains": chains,
                "target_accept": target_accept,
                "random_seed": seed + offset,
            },
        }
    Path(path).write_text(json.dumps(results), encoding="utf-8")


def long_run_problems(
    runs: Mapping[str, Mapping[str, Any]], min_ess_bulk: float = MIN_ESS_BULK
) -> dict[str, list[str]]:
    """Return, per long run that may not be recorded, why (the failed convergence checks).

    Parameters
    ----------
    runs : mapping
        What :func:`sample_references` wrote: per name, its ``diagnostics``.
    min_ess_bulk : float, default :data:`MIN_ESS_BULK`
        The smallest bulk ESS accepted.

    Examples
    --------
    >>> ok = {"diagnostics": {"problems": [], "min_ess_bulk": 9000.0}}
    >>> short = {"diagnostics": {"problems": [], "min_ess_bulk": 900.0}}
    >>> long_run_problems({"a": ok, "b": short})
    {'b': ['min bulk ESS 900 < 4000']}
    """
    failed = {}
    for name, run in runs.items():
        diagnostics = run["diagnostics"]
        problems = list(diagnostics["problems"])
        if diagnostics["min_ess_bulk"] < min_ess_bulk:
            problems.append(f"min bulk ESS {diagnostics['min_ess_bulk']:.0f} < {min_ess_bulk:.0f}")
        if problems:
            failed[name] = problems
    return failed


def record(
    notebook: Notebook,
    references: Sequence[Reference],
    *,
    out_dir: Path | None = None,
    draws: int = DRAWS,
    tune: int = TUNE,
    chains: int = CHAINS,
    seed: int = SEED,
    min_ess_bulk: float = MIN_ESS_BULK,
    timeout: int = 3600,
) -> Path:
    """Run a lesson's long reference fits and write ``<out_dir>/<notebook>.json``.

    Parameters
    ----------
    notebook : Notebook
        The lesson, from the manifest.
    references : sequence of Reference
        What to record (its check module's ``REFERENCES``).
    out_dir : pathlib.Path, optional
        Where to write; the package's :func:`~course_utils.references.references_dir` by
        default.
    draws, tune, chains, seed : int
        The sampler settings of every long run.
    min_ess_bulk : float, default :data:`MIN_ESS_BULK`
        The smallest bulk ESS a run may record (the test suite asserts the default for the
        course's files).
    timeout : int, default 3600
        Seconds allowed per cell.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    RuntimeError
        If a long run fails its convergence checks (:func:`long_run_problems`); nothing is
        written then.
    """
    from course_utils.environment import versions

    source = jupytext.read(notebook.source)
    prefix = references_prefix(source, references)
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "references.json"
        run = copy.deepcopy(prefix)
        code = _sampling_code(references, result, draws=draws, tune=tune, chains=chains, seed=seed)
        run.cells.append(v4.new_code_cell(code))
        try:
            execute(run, notebook.source.parent, timeout=timeout)
        except CellExecutionError as error:
            raise RuntimeError(
                f"{notebook.name}: a cell failed while running the long reference fits; "
                f"nothing was recorded ({error.ename}: {error.evalue}). Run "
                f"`course run {notebook.number}` to see the cell."
            ) from error
        runs = json.loads(result.read_text(encoding="utf-8"))
    if failed := long_run_problems(runs, min_ess_bulk):
        raise RuntimeError(
            f"{notebook.name}: the long run of {', '.join(failed)} failed its convergence checks "
            f"({failed}); nothing was recorded. Sample more draws (--draws), raise the "
            "Reference's target_accept, or fix the model."
        )
    document = {
        "notebook": notebook.name,
        "fingerprint": fingerprint(prefix),
        "command": f"course references {notebook.number}",
        "versions": versions(("pymc", "arviz", "numpy")).splitlines(),
        "references": {ref.name: {"model": ref.model, **runs[ref.name]} for ref in references},
    }
    target = (out_dir or references_dir()) / f"{notebook.name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: a kernel reading the file meanwhile sees the old or the new.
    partial = target.with_suffix(".json.partial")
    partial.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(target)
    return target


def stale_references(
    source: NotebookNode, references: Sequence[Reference], path: Path
) -> list[str]:
    r"""Say why a recorded file does not belong to the lesson's current code (empty: it does).

    Parameters
    ----------
    source : nbformat.NotebookNode
        The lesson's py:percent source, read by Jupytext.
    references : sequence of Reference
        Its check module's ``REFERENCES`` (empty: the lesson should have no file).
    path : pathlib.Path
        The recorded file.

    Returns
    -------
    list of str
        One sentence per problem: the file is missing, unreadable or left over, lacks a
        reference, was recorded for another model, other variables or another
        ``target_accept``, or for other code.

    Examples
    --------
    >>> nb = v4.new_notebook(cells=[v4.new_code_cell("with pm.Model() as m:\n    pass")])
    >>> stale_references(nb, [Reference("r", "m", ("mu",))], Path("missing.json"))
    ['missing.json is missing']
    >>> stale_references(nb, [], Path("missing.json"))
    []
    """
    if not references:
        return [f"{path} is left over: the lesson declares no REFERENCES"] if path.is_file() else []
    if not path.is_file():
        return [f"{path} is missing"]
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return [f"{path} is not valid JSON ({error})"]
    problems = []
    if document.get("fingerprint") != fingerprint(references_prefix(source, references)):
        problems.append(f"{path} was recorded for other code of the lesson or its data helpers")
    recorded = document.get("references", {})
    for ref in references:
        run = recorded.get(ref.name)
        if run is None:
            problems.append(f"{path} has no reference {ref.name!r}")
        elif (
            run.get("model") != ref.model
            or set(ref.var_names) != set(run.get("variables", {}))
            or run.get("sampler", {}).get("target_accept") != ref.target_accept
        ):
            problems.append(
                f"{path}: {ref.name!r} was recorded for another model, variables or target_accept"
            )
    return problems
