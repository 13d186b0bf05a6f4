"""The course manifest and everything that finds, reads and runs its notebooks.

``course.toml`` at the root of the course lists every notebook in course order: the lecture
decks of ``slides/`` and the lessons of ``notebooks/``. Every tool (``course run``, ``seeds``,
``slides``, ``student``, ``site``, ``bench``) and the tests use this module to list and select
notebooks, check the names the manifest gives, start a kernel client and print progress, so
that each of these is written once. What the tools read from a notebook file (cell tags, its
title, a fingerprint of its code, its tolerance file) is :mod:`course_utils.tools.notebook`.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nbclient import NotebookClient
from nbformat import NotebookNode

__all__ = [
    "BUILD_DIRNAME",
    "EXECUTED_DIRNAME",
    "KERNEL_NAME",
    "MANIFEST_NAME",
    "NAME_KEYS",
    "Course",
    "Notebook",
    "bound_names",
    "check_names_bound",
    "find_root",
    "is_python_name",
    "kernel_client",
    "kernel_env",
    "load_course",
    "progress_line",
]

MANIFEST_NAME = "course.toml"
KERNEL_NAME = "python3"
BUILD_DIRNAME = "build"
EXECUTED_DIRNAME = "executed"
KINDS = ("deck", "lesson")
_FOLDERS = {"deck": "slides", "lesson": "notebooks"}
_OPTIONAL_KEYS = {"final_model", "target_accept", "centered_fit", "noncentered_fit"}
_REQUIRED_KEYS = {"source", "kind", "title"}
_FIT_FIX = "give the name the notebook binds the fit's InferenceData to (`<name> = pm.sample(...)`)"
#: Keys whose values name a variable of the notebook (tools look them up in its kernel), with
#: how to fix a bad value.
NAME_KEYS = {
    "final_model": "give the name of the pm.Model as bound in the notebook "
    "(`with pm.Model() as <name>:`)",
    "centered_fit": _FIT_FIX,
    "noncentered_fit": _FIT_FIX,
}


@dataclass(frozen=True)
class Notebook:
    """One notebook of the course, as the manifest describes it.

    Attributes
    ----------
    name : str
        Stem of the source, e.g. ``"01_pooling"``; also the name of every output made from it.
    kind : {"deck", "lesson"}
        A lecture deck of ``slides/`` or a lesson of ``notebooks/``.
    source : pathlib.Path
        The py:percent source (absolute).
    title : str
        The title, as in the notebook's first heading.
    final_model : str, optional
        The model whose fit the lesson ends with.
    target_accept : float, optional
        The ``target_accept`` the lesson samples its final model with.
    centered_fit, noncentered_fit : str, optional
        Names of a centered and a non-centered fit of the same model.
    """

    name: str
    kind: Literal["deck", "lesson"]
    source: Path
    title: str
    final_model: str | None = None
    target_accept: float | None = None
    centered_fit: str | None = None
    noncentered_fit: str | None = None

    @property
    def names(self) -> dict[str, str]:
        """The notebook variables the manifest names, by key (:data:`NAME_KEYS` given only).

        Examples
        --------
        >>> Notebook("01_a", "lesson", Path("notebooks/01_a.py"), "A", final_model="m").names
        {'final_model': 'm'}
        """
        values = {key: getattr(self, key) for key in NAME_KEYS}
        return {key: value for key, value in values.items() if value is not None}

    @property
    def number(self) -> str:
        """The number that orders the notebook, e.g. ``"01"``."""
        return self.name.split("_", 1)[0]

    @property
    def committed(self) -> Path:
        """The committed executed notebook (the ``.ipynb`` of the Jupytext pair)."""
        return self.source.with_suffix(".ipynb")

    def executed(self, executed_dir: Path | None = None) -> Path:
        """Return where the executed notebook is read from.

        Parameters
        ----------
        executed_dir : pathlib.Path, optional
            A folder of executed copies (``course run`` writes ``build/executed/``); the
            committed ``.ipynb`` when omitted.

        Returns
        -------
        pathlib.Path
            ``executed_dir/<name>.ipynb`` or :attr:`committed`.
        """
        return self.committed if executed_dir is None else Path(executed_dir) / f"{self.name}.ipynb"


@dataclass(frozen=True)
class Course:
    """The notebooks of a course checkout, in course order.

    Attributes
    ----------
    root : pathlib.Path
        The folder holding ``course.toml``.
    title : str
        The course title.
    notebooks : tuple of Notebook
        Every notebook, in the manifest's order.
    """

    root: Path
    title: str
    notebooks: tuple[Notebook, ...] = field(default_factory=tuple)

    @property
    def lessons(self) -> list[Notebook]:
        """The lessons, in course order."""
        return [nb for nb in self.notebooks if nb.kind == "lesson"]

    @property
    def decks(self) -> list[Notebook]:
        """The lecture decks, in course order."""
        return [nb for nb in self.notebooks if nb.kind == "deck"]

    @property
    def build_dir(self) -> Path:
        """The git-ignored folder every generated file goes to."""
        return self.root / BUILD_DIRNAME

    @property
    def executed_dir(self) -> Path:
        """Where ``course run`` writes executed copies of the notebooks."""
        return self.build_dir / EXECUTED_DIRNAME

    def get(self, name: str) -> Notebook:
        """Return the notebook named ``name`` (a stem such as ``"05_radon"``).

        Raises
        ------
        KeyError
            If no notebook has that name.
        """
        for nb in self.notebooks:
            if nb.name == name:
                return nb
        raise KeyError(f"no notebook named {name!r} in {self.root / MANIFEST_NAME}")

    def select(
        self, names: Iterable[str], *, kind: Literal["deck", "lesson"] | None = None
    ) -> list[Notebook]:
        """Choose notebooks by number (``01``), stem (``01_pooling``) or path.

        Parameters
        ----------
        names : iterable of str
            What to select; empty means every notebook (of ``kind``).
        kind : {"deck", "lesson"}, optional
            Only consider notebooks of this kind.

        Returns
        -------
        list of Notebook
            The matching notebooks, in course order.

        Raises
        ------
        ValueError
            If a name matches no notebook; the message lists the choices.

        Examples
        --------
        >>> course = Course(Path("."), "A course", (
        ...     Notebook("00_intro", "deck", Path("slides/00_intro.py"), "Intro"),
        ...     Notebook("01_pooling", "lesson", Path("notebooks/01_pooling.py"), "Pooling")))
        >>> [nb.name for nb in course.select(["01"])]
        ['01_pooling']
        >>> [nb.name for nb in course.select([], kind="deck")]
        ['00_intro']
        """
        candidates = [nb for nb in self.notebooks if kind is None or nb.kind == kind]
        names = list(names)
        if not names:
            return candidates
        chosen: set[str] = set()
        for name in names:
            stem = Path(name).stem
            matches = [nb for nb in candidates if stem in (nb.name, nb.number)]
            if not matches:
                raise ValueError(
                    f"no notebook matches {name!r}; available: {[nb.name for nb in candidates]}."
                )
            chosen.update(nb.name for nb in matches)
        return [nb for nb in candidates if nb.name in chosen]


def find_root(start: Path | None = None) -> Path:
    """Find the course checkout: the nearest folder at or above ``start`` with ``course.toml``.

    Parameters
    ----------
    start : pathlib.Path, optional
        Where to start looking (default: the current folder, then the folder this package
        was installed from in editable mode).

    Returns
    -------
    pathlib.Path
        The course root.

    Raises
    ------
    FileNotFoundError
        If no ``course.toml`` is found; the message says where to run the command.
    """
    starts = [Path(start)] if start is not None else [Path.cwd(), Path(__file__).parents[2]]
    for first in starts:
        for folder in [first.resolve(), *first.resolve().parents]:
            if (folder / MANIFEST_NAME).is_file():
                return folder
    raise FileNotFoundError(
        f"no {MANIFEST_NAME} found in {starts[0]} or above: run the course commands inside a "
        "course checkout (the folder with course.toml, notebooks/ and slides/)."
    )


def is_python_name(value: object) -> bool:
    """Tell whether ``value`` is a string that Python code can use as a variable name.

    Examples
    --------
    >>> is_python_name("uranium_model"), is_python_name("uranium model")
    (True, False)
    >>> is_python_name("class"), is_python_name("model.fit"), is_python_name(3)
    (False, False, False)
    """
    return isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value)


def _check_name_values(raw: Mapping[str, Any], where: str) -> None:
    """Raise ValueError for the first :data:`NAME_KEYS` value that is not a Python name."""
    for key, fix in NAME_KEYS.items():
        value = raw.get(key)
        if value is not None and not is_python_name(value):
            raise ValueError(f"{where}: {key} = {value!r} is not a Python name; {fix}.")


def _entry(raw: Mapping[str, Any], root: Path, index: int) -> Notebook:
    where = f"{root / MANIFEST_NAME}, notebook {index + 1}"
    missing = sorted(_REQUIRED_KEYS - raw.keys())
    unknown = sorted(raw.keys() - _REQUIRED_KEYS - _OPTIONAL_KEYS)
    if missing or unknown:
        raise ValueError(
            f"{where}: missing keys {missing} or unknown keys {unknown}; allowed keys are "
            f"{sorted(_REQUIRED_KEYS | _OPTIONAL_KEYS)}."
        )
    kind = raw["kind"]
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {KINDS}, got {kind!r}.")
    source = root / raw["source"]
    if source.suffix != ".py" or source.parent.name != _FOLDERS[kind]:
        raise ValueError(
            f"{where}: a {kind}'s source is a py:percent file in {_FOLDERS[kind]}/, got "
            f"{raw['source']!r}."
        )
    if not source.is_file():
        raise ValueError(f"{where}: {source} does not exist; fix the path or add the file.")
    if raw.get("target_accept") is not None and not 0 < float(raw["target_accept"]) < 1:
        raise ValueError(f"{where}: target_accept must be in (0, 1), got {raw['target_accept']}.")
    _check_name_values(raw, f"{root / MANIFEST_NAME}, notebook {source.stem}")
    return Notebook(
        name=source.stem,
        kind=kind,
        source=source,
        title=str(raw["title"]),
        final_model=raw.get("final_model"),
        target_accept=None if raw.get("target_accept") is None else float(raw["target_accept"]),
        centered_fit=raw.get("centered_fit"),
        noncentered_fit=raw.get("noncentered_fit"),
    )


def load_course(root: Path | None = None) -> Course:
    """Read and check ``course.toml``.

    Parameters
    ----------
    root : pathlib.Path, optional
        The course root (default: :func:`find_root`).

    Returns
    -------
    Course
        The course, notebooks in manifest order.

    Raises
    ------
    ValueError
        If an entry is malformed, two notebooks share a name or number, or a
        ``NN_topic.py`` of ``notebooks/`` or ``slides/`` is missing from the manifest.
    """
    root = find_root() if root is None else Path(root)
    with open(root / MANIFEST_NAME, "rb") as stream:
        raw = tomllib.load(stream)
    entries = raw.get("notebook", [])
    notebooks = tuple(_entry(entry, root, i) for i, entry in enumerate(entries))
    for attribute in ("name", "number"):
        values = [getattr(nb, attribute) for nb in notebooks]
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(
                f"{root / MANIFEST_NAME}: notebooks share the {attribute} {repeated}; give "
                "every notebook its own number."
            )
    listed = {nb.source for nb in notebooks}
    on_disk = {p for folder in _FOLDERS.values() for p in (root / folder).glob("[0-9][0-9]_*.py")}
    unlisted = sorted(str(p.relative_to(root)) for p in on_disk - listed)
    if unlisted:
        raise ValueError(
            f"{unlisted} are not in {root / MANIFEST_NAME}: add a [[notebook]] entry for each "
            "(or remove the file)."
        )
    course = raw.get("course", {})
    return Course(root=root, title=str(course.get("title", root.name)), notebooks=notebooks)


_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def bound_names(source: str) -> set[str]:
    r"""Return the names a py:percent source binds in the notebook's namespace, statically.

    Assignments, ``with ... as``, ``for`` targets, imports, and ``def``/``class`` names count;
    names bound only inside a function, class, lambda or comprehension do not. Nothing runs.

    Parameters
    ----------
    source : str
        The text of the ``.py`` source (Jupytext comments out magics, so it parses).

    Returns
    -------
    set of str
        The names.

    Raises
    ------
    SyntaxError
        If the source is not valid Python.

    Examples
    --------
    >>> sorted(bound_names("import pymc as pm\nwith pm.Model() as m:\n    a = [b for b in ()]"))
    ['a', 'm', 'pm']
    """
    names: set[str] = set()
    nodes: list[ast.AST] = [ast.parse(source)]
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        if not isinstance(node, _SCOPES):
            nodes.extend(ast.iter_child_nodes(node))
    return names


def _unbound(key: str, value: str, bound: set[str]) -> str:
    """Describe a manifest name the notebook does not bind, with the closest bound names."""
    close = difflib.get_close_matches(value, bound, n=3)
    hint = f" (close: {', '.join(map(repr, close))})" if close else ""
    return f"{key} = {value!r} is not bound in the notebook{hint}"


def check_names_bound(notebook: Notebook) -> None:
    r"""Check, without running anything, that the notebook binds every name the manifest gives.

    Tools send code that looks these names up to the notebook's kernel; this reports a typo in
    ``course.toml`` before a kernel starts rather than as an error inside it.

    Parameters
    ----------
    notebook : Notebook
        From the manifest; its source is read and parsed (:func:`bound_names`).

    Raises
    ------
    ValueError
        If a name of :attr:`Notebook.names` is not bound at the top level of the source, or
        the source does not parse; the message names the notebook, the key and the fix.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     source = Path(folder) / "01_a.py"
    ...     _ = source.write_text("with pm.Model() as model:\n    pass\n")
    ...     notebook = Notebook("01_a", "lesson", source, "A", final_model="modle")
    ...     check_names_bound(notebook)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: course.toml, notebook 01_a: final_model = 'modle' is not bound ... 'model'...
    """
    if not notebook.names:
        return
    where = f"{MANIFEST_NAME}, notebook {notebook.name}"
    try:
        bound = bound_names(notebook.source.read_text(encoding="utf-8"))
    except SyntaxError as error:
        raise ValueError(
            f"{where}: cannot check its names, {notebook.source} line {error.lineno}: "
            f"{error.msg}; fix the source."
        ) from error
    problems = [_unbound(k, v, bound) for k, v in notebook.names.items() if v not in bound]
    if problems:
        raise ValueError(
            f"{where}: {'; '.join(problems)}; give a name that {notebook.source.name} binds at "
            "its top level (not inside a function)."
        )


def kernel_client(
    nb: NotebookNode,
    cwd: Path,
    *,
    timeout: int = 900,
    record_timing: bool = False,
) -> NotebookClient:
    """Return an nbclient client that runs ``nb`` in a fresh ``python3`` kernel in ``cwd``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook to execute (its cells receive the outputs).
    cwd : pathlib.Path
        Working folder of the kernel (the notebook's own folder).
    timeout : int, default 900
        Seconds allowed per cell.
    record_timing : bool, default False
        Record execution timestamps in the cell metadata (never in committed notebooks).

    Returns
    -------
    nbclient.NotebookClient
        Call ``.execute()``, or use ``.setup_kernel(env=...)`` and ``.execute_cell``.
    """
    return NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(cwd)}},
        record_timing=record_timing,
    )


def kernel_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment for a kernel: this process's, plus ``extra``.

    ``PYTENSOR_FLAGS`` entries of ``extra`` are appended to the inherited ones instead of
    replacing them.

    Examples
    --------
    >>> env = kernel_env({"PYTENSOR_FLAGS": "base_compiledir=/tmp/c"})
    >>> env["PYTENSOR_FLAGS"].endswith("base_compiledir=/tmp/c")
    True
    """
    env = dict(os.environ)
    for key, value in (extra or {}).items():
        if key == "PYTENSOR_FLAGS" and env.get(key):
            env[key] = f"{env[key]},{value}"
        else:
            env[key] = value
    return env


def progress_line(index: int, total: int, name: str, text: str) -> str:
    """Format one progress line, ``[index/total] name: text``.

    Examples
    --------
    >>> progress_line(2, 7, "01_pooling", "done in 31.2 s")
    '[2/7] 01_pooling: done in 31.2 s'
    """
    return f"[{index}/{total}] {name}: {text}"
