"""The manifest's ``target_accept`` is the one the lesson's code samples its final model with.

``course bench --backends`` re-samples each lesson's ``final_model`` at ``course.toml``'s
``target_accept``, so a manifest that disagrees with the lesson compares the backends at a
setting the lesson never uses. The check reads the lesson's source (no execution): it finds
every ``pm.sample`` that samples the final model, either in a ``with <final_model>:`` block or
through a helper of the lesson (``def fit(model): with model: return pm.sample(...)`` called
as ``fit(<final_model>)``), and takes the ``target_accept`` of the *last* of them, the fit the
lesson ends with (PyMC's default when the call does not set it).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect

import pytest

from course_utils.tools import manifest

COURSE = manifest.load_course()


def _pymc_default_target_accept() -> float:
    from pymc.step_methods.hmc.base_hmc import BaseHMC

    return float(inspect.signature(BaseHMC.__init__).parameters["target_accept"].default)


PYMC_DEFAULT = _pymc_default_target_accept()


def _is_name(node: ast.AST | None, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _sample_calls(node: ast.AST) -> list[ast.Call]:
    """Every ``pm.sample(...)`` call inside ``node``."""
    return [
        sub
        for sub in ast.walk(node)
        if isinstance(sub, ast.Call) and ast.unparse(sub.func) == "pm.sample"
    ]


def _samples_model(node: ast.With, name: str) -> bool:
    """Whether ``node`` is ``with <name>:`` (not ``with pm.Model() as <name>:``)."""
    return any(_is_name(item.context_expr, name) for item in node.items)


def _helpers(tree: ast.Module) -> dict[str, tuple[int, str, list[ast.Call]]]:
    """Functions that sample one of their parameters: name -> (position, parameter, calls)."""
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        params = [arg.arg for arg in node.args.args]
        for position, param in enumerate(params):
            calls = [
                call
                for sub in ast.walk(node)
                if isinstance(sub, ast.With) and _samples_model(sub, param)
                for call in _sample_calls(sub)
            ]
            if calls:
                found[node.name] = (position, param, calls)
    return found


def _argument(call: ast.Call, position: int, param: str) -> ast.AST | None:
    if len(call.args) > position:
        return call.args[position]
    return next((kw.value for kw in call.keywords if kw.arg == param), None)


def sample_calls(source: str, model: str) -> list[ast.Call]:
    """Every ``pm.sample`` call that samples ``model`` in ``source``, in source order.

    Examples
    --------
    >>> src = "with m:\\n    a = pm.sample()\\nwith m:\\n    b = pm.sample(target_accept=0.9)\\n"
    >>> [ast.unparse(c) for c in sample_calls(src, "m")]
    ['pm.sample()', 'pm.sample(target_accept=0.9)']
    """
    tree = ast.parse(source)
    helpers = _helpers(tree)
    sites: list[tuple[int, int, ast.Call]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and _samples_model(node, model):
            sites += [(call.lineno, call.col_offset, call) for call in _sample_calls(node)]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in helpers
        ):
            position, param, calls = helpers[node.func.id]
            if _is_name(_argument(node, position, param), model):
                sites += [(node.lineno, node.col_offset, call) for call in calls]
    return [call for *_, call in sorted(sites, key=lambda site: site[:2])]


def target_accept(call: ast.Call) -> float:
    """The ``target_accept`` a ``pm.sample`` call asks for (PyMC's default when it does not).

    Raises
    ------
    ValueError
        If the call's ``target_accept`` cannot be read from the source (``**kwargs``, a
        variable, or ``nuts={...}`` that is not a literal).
    """
    keywords = {kw.arg: kw.value for kw in call.keywords}
    if None in keywords:
        raise ValueError(f"cannot read target_accept from {ast.unparse(call)}: **kwargs")
    try:
        if "target_accept" in keywords:
            return float(ast.literal_eval(keywords["target_accept"]))
        if "nuts" in keywords:
            return float(ast.literal_eval(keywords["nuts"]).get("target_accept", PYMC_DEFAULT))
    except ValueError as error:
        raise ValueError(f"cannot read target_accept from {ast.unparse(call)}") from error
    return PYMC_DEFAULT


def final_target_accept(source: str, model: str) -> float:
    """The ``target_accept`` of the last ``pm.sample`` of ``model`` in ``source``."""
    calls = sample_calls(source, model)
    if not calls:
        raise ValueError(f"no pm.sample of {model} found")
    return target_accept(calls[-1])


def disagreements(notebooks, read=lambda nb: nb.source.read_text(encoding="utf-8")):
    """``(name, manifest value, code value)`` for every lesson whose two values differ."""
    found = []
    for nb in notebooks:
        if nb.kind != "lesson":
            continue
        code = final_target_accept(read(nb), nb.final_model)
        if nb.target_accept != pytest.approx(code):
            found.append((nb.name, nb.target_accept, code))
    return found


# --- the course's lessons -------------------------------------------------------------------


@pytest.mark.parametrize("notebook", COURSE.lessons, ids=lambda nb: nb.name)
def test_manifest_target_accept_is_the_lessons(notebook):
    text = notebook.source.read_text(encoding="utf-8")
    calls = sample_calls(text, notebook.final_model)
    assert calls, f"{notebook.name}: no pm.sample of {notebook.final_model}"
    code = target_accept(calls[-1])
    assert notebook.target_accept == pytest.approx(code), (
        f"{notebook.name}: course.toml says target_accept = {notebook.target_accept}, the "
        f"lesson's last pm.sample of {notebook.final_model} uses {code}: "
        f"{ast.unparse(calls[-1])}"
    )


def test_no_lesson_disagrees():
    assert disagreements(COURSE.notebooks) == []


# --- negative controls: the checker sees a mismatch -----------------------------------------


def test_the_manifest_before_the_fix_is_caught():
    # Issue 29, item 14: course.toml said 0.95, 0.9 and 0.95 for lessons whose final models
    # are sampled at 0.99.
    old = {"01_pooling": 0.95, "04_spacex": 0.9, "06_two_group_regression": 0.95}
    notebooks = [
        dataclasses.replace(nb, target_accept=old.get(nb.name, nb.target_accept))
        for nb in COURSE.notebooks
    ]
    assert disagreements(notebooks) == [(name, value, 0.99) for name, value in old.items()]


def test_a_changed_lesson_is_caught():
    # The lesson's final fit moves to another target_accept; the manifest stays.
    lesson = next(nb for nb in COURSE.lessons if nb.name.startswith("07"))
    lines = lesson.source.read_text(encoding="utf-8").splitlines()
    last = sample_calls("\n".join(lines), lesson.final_model)[-1]
    start, end = last.lineno - 1, last.end_lineno
    assert any("target_accept=0.99" in row for row in lines[start:end])
    changed = "\n".join(
        lines[:start]
        + [row.replace("target_accept=0.99", "target_accept=0.9") for row in lines[start:end]]
        + lines[end:]
    )

    def read(nb):
        return changed if nb is lesson else nb.source.read_text(encoding="utf-8")

    assert disagreements(COURSE.notebooks, read=read) == [(lesson.name, 0.99, 0.9)]


# --- the checker on small sources -----------------------------------------------------------


def test_the_last_fit_of_the_model_counts():
    src = """
with pm.Model() as model:
    pm.Normal("x")
with model:
    first = pm.sample(target_accept=0.8)
with other_model:
    other = pm.sample(target_accept=0.7)
with model:
    final = pm.sample(draws=10, target_accept=0.95)
"""
    assert final_target_accept(src, "model") == 0.95
    assert final_target_accept(src, "other_model") == 0.7


def test_a_call_without_target_accept_gets_pymcs_default():
    src = "with model:\n    idata = pm.sample(draws=10)\n"
    assert PYMC_DEFAULT == 0.8
    assert final_target_accept(src, "model") == PYMC_DEFAULT
    nuts = "with model:\n    idata = pm.sample(nuts={'target_accept': 0.85})\n"
    assert final_target_accept(nuts, "model") == 0.85


def test_a_helper_that_samples_its_argument_is_followed():
    src = """
def fit(model, draws=1000):
    with model:
        return pm.sample(draws=draws, target_accept=0.9)

with pm.Model() as final_model:
    pm.Normal("x")
idata = fit(final_model)
unrelated = fit(another_model)
"""
    assert final_target_accept(src, "final_model") == 0.9
    assert final_target_accept(src.replace("0.9)", "0.97)"), "final_model") == 0.97


def test_an_unreadable_or_missing_fit_is_an_error():
    with pytest.raises(ValueError, match=r"\*\*kwargs"):
        final_target_accept("with m:\n    pm.sample(**settings)\n", "m")
    with pytest.raises(ValueError, match="cannot read"):
        final_target_accept("with m:\n    pm.sample(target_accept=ta)\n", "m")
    with pytest.raises(ValueError, match="no pm.sample of m"):
        final_target_accept("with pm.Model() as m:\n    pm.Normal('x')\n", "m")
