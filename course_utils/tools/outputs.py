r"""Compare a notebook's committed outputs with a fresh run, within Monte Carlo error.

A Markov chain is bit-reproducible only on the same numeric code path: another CPU (AVX-512 or
not, Apple silicon, Windows) gives other chains, so every printed MCMC digit may change. The
outputs of a notebook are therefore compared as *text with numbers in it*:

- the text around the numbers (the *skeleton*: words, labels, table layout with runs of spaces
  collapsed) must be identical;
- every number must agree within its tolerance. Numbers that never changed when the notebook
  was re-run under other sampler seeds (data, counts, exact results) must be equal. A number
  that did change gets the tolerance ``Z * sqrt(2) * sd + unit``, where ``sd`` is its standard
  deviation over the seed sweep (its Monte Carlo error, measured by ``course seeds``), the
  factor ``sqrt(2)`` accounts for both runs being random, ``Z`` is :data:`Z_SCORE`, and
  ``unit`` is one unit in the last printed digit (rounding). In a cell whose output depends on
  the seed, every number gets at least one unit, integers included: a rounded value can flip
  its last digit near a rounding boundary however small its spread, and a spread measured as
  0 (every seed printed the same digit) is no proof that it cannot.
- a number that is not *stable* across seeds (:func:`unstable_numbers`: an outlier far beyond
  the spread of the other seeds, or two separate clusters of values) has no meaningful
  standard deviation. It is recorded as unstable and not compared as a number (its text
  still is), and ``course seeds`` reports it: a lesson should not present it as a result.

The per-number standard deviations are *tolerances*, stored per notebook in
``tests/tolerances/<name>.json`` by ``course seeds --record`` together with a fingerprint of
the notebook's code: a tolerance file measured for other code is refused.

Everything here is pure: functions take output lists (as stored in ``.ipynb`` files) and
return values or problem descriptions; nothing runs a kernel.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from course_utils.tools.notebook import IGNORE_OUTPUT_TAG, has_tag

__all__ = [
    "FALSE_ALARM",
    "RULES",
    "Spread",
    "Z_SCORE",
    "Token",
    "Tolerances",
    "cell_texts",
    "compare_cell",
    "compared_cells",
    "compare_notebooks",
    "compare_texts",
    "measure_spread",
    "read_sanitizers",
    "sanitize",
    "tokenize",
    "unstable_numbers",
    "z_score",
]

#: Upper bound on the probability that one correct number falls outside its tolerance (a
#: course prints a few thousand numbers, so a correct course fails its validation in well
#: under 1% of runs).
FALSE_ALARM = 1e-6
#: Default number of combined Monte Carlo standard deviations a number may move: about
#: ``z_score(20)``. The validation uses :func:`z_score` of each notebook's sweep.
Z_SCORE = 7.0
#: The recording rules of :class:`Tolerances` written now (2: numbers checked for stability
#: across seeds, :func:`unstable_numbers`).
RULES = 2
#: Output data that is never compared: images are binary (as with nbval) and widget ids random.
SKIPPED_MIMETYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "application/vnd.jupyter.widget-view+json"}
)
SANITIZE_FILE = files("course_utils.tools") / "nbval_sanitize.cfg"


def z_score(n_seeds: int, false_alarm: float = FALSE_ALARM) -> float:
    """How many combined standard deviations a number may move, given how its sd was measured.

    A sweep's sd comes from ``n_seeds + 1`` runs (the committed one and one per seed). For a
    run independent of them, the difference between two runs over ``sqrt(2)`` times that sd
    follows a t distribution with ``n_seeds`` degrees of freedom; the tolerance is its
    two-sided ``false_alarm`` quantile, so fewer seeds give a rougher sd and a wider
    tolerance. The committed run is one of the runs the sd comes from, which only lowers the
    false-alarm rate (to about 0.7 times ``false_alarm`` at the 5% level, simulated in the
    tests): ``false_alarm`` is an upper bound.

    Parameters
    ----------
    n_seeds : int
        Seeds the spread was measured from (at least 1).
    false_alarm : float, default :data:`FALSE_ALARM`
        Probability that one correct number is rejected.

    Returns
    -------
    float

    Examples
    --------
    >>> round(z_score(20), 2)
    6.93
    >>> round(z_score(10), 1)
    10.5
    """
    if n_seeds < 1:
        raise ValueError("a spread needs at least one seed besides the committed run")
    from scipy import stats

    return float(stats.t.isf(false_alarm / 2, n_seeds))


# Indexed names such as theta[G1], mu[PRO] or z[0, 1] are labels, not numbers.
_INDEXED_NAME = re.compile(r"\w+\[[^\]\n]*\]")
_NUMBER = re.compile(
    r"(?<!\w)(?<!\d\.)"  # not the tail of an identifier (hdi_3%) or of a version (5.28.5)
    r"(?P<sign>-)?"
    r"(?P<int>\d(?:_?\d)*)(?:\.(?P<frac>\d+)|\.(?=[\s\],)]))?"  # NumPy prints 34.0 as "34."
    r"(?:[eE](?P<exp>[-+]?\d+))?"
    r"(?!\w|\.\d)"  # nor the head of one (3x2 stays a label); a full stop may follow
    r"|(?<![\w.])(?P<sign2>-)?\.(?P<frac2>\d+)(?!\w|\.\d)"
)
_SPACES = re.compile(r"\s+")
_BRACKET_PADDING = re.compile(r"\[ | \]")
_PLACEHOLDER = "\u2983#\u2984"  # cannot occur in notebook output


@dataclass(frozen=True)
class Token:
    """A number found in an output text.

    Attributes
    ----------
    text : str
        As printed, e.g. ``"-0.25"``.
    value : float
        Its value.
    unit : float
        One unit in its last printed digit (``0.01`` for ``-0.25``, ``1`` for ``1036``).
    """

    text: str
    value: float
    unit: float


def _token(match: re.Match[str]) -> Token:
    text = match.group(0)
    if match.group("frac2") is not None:
        frac, exp = match.group("frac2"), 0
    else:
        frac, exp = match.group("frac") or "", int(match.group("exp") or 0)
    return Token(text=text, value=float(text), unit=10.0 ** (exp - len(frac)))


def tokenize(text: str) -> tuple[str, list[Token]]:
    """Split an output text into its skeleton and its numbers.

    The skeleton is the text with every number replaced by a placeholder and every run of
    whitespace collapsed to one space (table column widths change with the numbers). Space
    just inside a bracket goes too: NumPy pads ``[ 9.6 21.9]`` to align with ``[10.4 ...``,
    and ``[49.3 54. ]`` to the width of ``[49.4 54.1]``.

    Parameters
    ----------
    text : str
        An output text (a stream, ``text/plain`` or ``text/html``).

    Returns
    -------
    skeleton : str
        The text without its numbers.
    numbers : list of Token
        The numbers, in order.

    Examples
    --------
    >>> skeleton, numbers = tokenize("theta[G1]    -0.25  1_036  hdi_3% 94%")
    >>> skeleton
    'theta[G1] ⦃#⦄ ⦃#⦄ hdi_3% ⦃#⦄%'
    >>> [(n.value, n.unit) for n in numbers]
    [(-0.25, 0.01), (1036.0, 1.0), (94.0, 1.0)]
    >>> tokenize("[ 9.6 21.9]")[0] == tokenize("[10.4 21.6]")[0]
    True
    >>> tokenize("[49.3 54. ]")[0] == tokenize("[49.4 54.1]")[0]
    True
    """
    protected: list[str] = []

    def protect(match: re.Match[str]) -> str:
        protected.append(match.group(0))
        return chr(0xE000 + len(protected) - 1)  # a private-use character, never a digit

    shielded = _INDEXED_NAME.sub(protect, text)
    numbers = [_token(m) for m in _NUMBER.finditer(shielded)]
    skeleton = _NUMBER.sub(_PLACEHOLDER, shielded)
    skeleton = re.sub("[\ue000-\uf8ff]", lambda m: protected[ord(m.group(0)) - 0xE000], skeleton)
    skeleton = _BRACKET_PADDING.sub(lambda m: m.group(0).strip(), _SPACES.sub(" ", skeleton))
    return skeleton.strip(), numbers


def read_sanitizers(path: Path | None = None) -> list[tuple[re.Pattern[str], str]]:
    r"""Read the regex replacements applied to every output before it is compared.

    The file uses nbval's format (``regex:`` and ``replace:`` lines, one pair per section), so
    the same rules serve the test suite and the seed sweep.

    Parameters
    ----------
    path : pathlib.Path, optional
        The file (default: the course's ``nbval_sanitize.cfg``, shipped with the package).

    Returns
    -------
    list of (re.Pattern, str)
        Compiled patterns and their replacements, in file order.

    Examples
    --------
    >>> [pattern.pattern for pattern, _ in read_sanitizers()][:1]
    ['took \\d+(\\.\\d+)? seconds?']
    """
    text = Path(str(SANITIZE_FILE)).read_text() if path is None else Path(path).read_text()
    pairs, regex = [], None
    for line in text.splitlines():
        if line.startswith("regex:"):
            regex = line[len("regex:") :].strip()
        elif line.startswith("replace:") and regex is not None:
            pairs.append((re.compile(regex), line[len("replace:") :].strip()))
            regex = None
    return pairs


def sanitize(text: str, sanitizers: Sequence[tuple[re.Pattern[str], str]]) -> str:
    """Apply the sanitizers to a text, in order.

    Examples
    --------
    >>> sanitize("Sampling ... took 3 seconds.", read_sanitizers())
    'Sampling ... took N seconds.'
    """
    for pattern, replacement in sanitizers:
        text = pattern.sub(replacement, text)
    return text


def _as_text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def cell_texts(
    outputs: Iterable[Mapping[str, Any]],
    sanitizers: Sequence[tuple[re.Pattern[str], str]] = (),
) -> dict[str, str]:
    r"""Return the comparable texts of a cell's outputs, keyed by position and kind.

    Consecutive outputs of the same stream are joined (a kernel may split a stream into
    several messages), carriage-return progress lines are reduced to their last state,
    images are dropped, and the sanitizers are applied.

    Parameters
    ----------
    outputs : iterable of mapping
        The ``outputs`` of a code cell, as stored in an ``.ipynb``.
    sanitizers : sequence of (re.Pattern, str), default ()
        From :func:`read_sanitizers`.

    Returns
    -------
    dict of str to str
        ``"<index>:stream:<name>"`` or ``"<index>:<output_type>:<mimetype>"`` to text, where
        ``index`` counts the (joined) outputs.

    Examples
    --------
    >>> outs = [{"output_type": "stream", "name": "stdout", "text": "a\n"},
    ...         {"output_type": "stream", "name": "stdout", "text": "b\n"},
    ...         {"output_type": "execute_result", "data": {"text/plain": "1", "image/png": "x"}}]
    >>> cell_texts(outs)
    {'0:stream:stdout': 'a\nb\n', '1:execute_result:text/plain': '1'}
    """
    merged: list[dict[str, Any]] = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream" and merged and merged[-1].get("name") == out.get("name"):
            merged[-1]["text"] += _as_text(out.get("text", ""))
        elif kind == "stream":
            merged.append(
                {"output_type": kind, "name": out.get("name"), "text": _as_text(out["text"])}
            )
        else:
            merged.append(dict(out))
    texts = {}
    for index, out in enumerate(merged):
        kind = out.get("output_type")
        if kind == "stream":
            text = re.sub(r"^.*\r(?=[^\n])", "", out["text"], flags=re.MULTILINE)
            texts[f"{index}:stream:{out['name']}"] = sanitize(text, sanitizers)
        elif kind == "error":
            texts[f"{index}:error"] = f"{out.get('ename')}: {out.get('evalue')}"
        else:
            for mimetype, value in sorted(out.get("data", {}).items()):
                if mimetype not in SKIPPED_MIMETYPES:
                    texts[f"{index}:{kind}:{mimetype}"] = sanitize(_as_text(value), sanitizers)
    return texts


def _skeleton_digest(skeleton: str) -> str:
    return hashlib.sha256(skeleton.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Spread:
    """The measured Monte Carlo spread of the numbers of one output text.

    Attributes
    ----------
    skeleton : str
        Digest of the skeleton the spreads belong to.
    sd : tuple of float
        Standard deviation of each number over the seed sweep.
    unstable : tuple of int, default ()
        Positions of the numbers that are not stable across seeds
        (:func:`unstable_numbers`): they are not compared as numbers.
    """

    skeleton: str
    sd: tuple[float, ...]
    unstable: tuple[int, ...] = ()


@dataclass(frozen=True)
class Tolerances:
    """The measured spread of every seed-dependent output of one notebook.

    Attributes
    ----------
    notebook : str
        Notebook name.
    code_hash : str
        Fingerprint of the code the spreads were measured for
        (:func:`course_utils.tools.notebook.code_hash`).
    seeds : tuple of int
        The sampler seeds of the sweep.
    cells : dict of int to dict of str to Spread
        Code-cell index (counting code cells only, as nbval does) to output key to spread.
        Cells whose output never changed between seeds are absent: they must match exactly.
    passed : int
        How many seeds ran every cell without an error and with the committed text.
    held_out : tuple of int, default ()
        Seeds not used to measure the spreads, whose runs were then validated against them
        (``course seeds --record --held-out K``).
    held_out_passed : int, default 0
        How many of the held-out runs passed that validation.
    rules : int, default 1
        The recording rules the file was measured under: 1 before numbers were checked for
        stability across seeds, :data:`RULES` since.
    """

    notebook: str
    code_hash: str
    seeds: tuple[int, ...]
    cells: Mapping[int, Mapping[str, Spread]]
    passed: int
    held_out: tuple[int, ...] = ()
    held_out_passed: int = 0
    rules: int = 1

    @property
    def z_score(self) -> float:
        """The tolerance width in combined sds for this sweep's seed count (:func:`z_score`)."""
        return z_score(len(self.seeds))

    def to_json(self) -> str:
        """Serialise to the JSON stored in ``tests/tolerances/<name>.json``."""
        payload = {
            "notebook": self.notebook,
            "code_hash": self.code_hash,
            "seeds": list(self.seeds),
            "passed": self.passed,
            "z_score": round(self.z_score, 3),
            "rules": self.rules,
            "cells": {
                str(index): {key: _spread_json(spread) for key, spread in outputs.items()}
                for index, outputs in sorted(self.cells.items())
            },
        }
        if self.held_out:
            payload["held_out"] = {"seeds": list(self.held_out), "passed": self.held_out_passed}
        return json.dumps(payload, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Tolerances:
        """Read what :meth:`to_json` wrote."""
        raw = json.loads(text)
        cells = {
            int(index): {
                key: Spread(
                    skeleton=value["skeleton"],
                    sd=tuple(value["sd"]),
                    unstable=tuple(value.get("unstable", ())),
                )
                for key, value in outputs.items()
            }
            for index, outputs in raw["cells"].items()
        }
        held_out = raw.get("held_out", {})
        return cls(
            raw["notebook"],
            raw["code_hash"],
            tuple(raw["seeds"]),
            cells,
            raw["passed"],
            held_out=tuple(held_out.get("seeds", ())),
            held_out_passed=int(held_out.get("passed", 0)),
            rules=int(raw.get("rules", 1)),
        )

    def spread_count(self) -> int:
        """How many printed numbers are validated within ``Z * sqrt(2) * sd`` (sd > 0, stable)."""
        return sum(
            sum(1 for i, sd in enumerate(spread.sd) if sd > 0 and i not in spread.unstable)
            for spreads in self.cells.values()
            for spread in spreads.values()
        )

    def unstable(self) -> list[tuple[int, str, int]]:
        """Every number recorded as unstable: (code-cell index, output key, position)."""
        return [
            (index, key, position)
            for index, spreads in sorted(self.cells.items())
            for key, spread in spreads.items()
            for position in spread.unstable
        ]


def _spread_json(spread: Spread) -> dict[str, Any]:
    value: dict[str, Any] = {"skeleton": spread.skeleton, "sd": list(spread.sd)}
    if spread.unstable:
        value["unstable"] = list(spread.unstable)
    return value


#: A number is unstable when one seed's value lies this many robust sds (1.4826 times the
#: median absolute deviation) from the median of the sweep ...
OUTLIER_RATIO = 15.0
#: ... or when its values fall into two clusters (at least 3 runs each) separated by this many
#: pooled within-cluster sds ...
GAP_RATIO = 4.5
#: ... and, either way, the distance is at least this many units of the last printed digit
#: (so that a rounded value flickering between two neighbouring digits is not flagged).
MIN_UNITS = 3


def _two_clusters(values: np.ndarray, min_gap: float, unit: float) -> bool:
    """Whether the sorted values split into two clusters (>= 3 values each) far apart.

    Far apart: a gap of at least ``min_gap`` and more than :data:`GAP_RATIO` pooled
    within-cluster standard deviations, the sd counted as at least one printed ``unit``
    (rounded values can sit on one digit and have a within-cluster sd of 0).
    """
    x = np.sort(values)
    n = x.size
    for k in range(3, n - 2):
        gap = x[k] - x[k - 1]
        if gap <= 0 or gap < min_gap:
            continue
        left, right = x[:k], x[k:]
        within = ((left - left.mean()) ** 2).sum() + ((right - right.mean()) ** 2).sum()
        if gap > GAP_RATIO * max(math.sqrt(within / (n - 2)), unit):
            return True
    return False


def unstable_numbers(values: np.ndarray, units: np.ndarray) -> list[int]:
    """Find the numbers whose values over a seed sweep are not one Monte Carlo spread.

    A tolerance ``Z * sqrt(2) * sd`` assumes that a number scatters around one value, roughly
    normally. Some printed quantities do not: a stacking weight that one seed in twenty gives
    to another model, a quantity with two modes. Their standard deviation says nothing about
    the next run, so they cannot be validated as numbers (and are not results a lesson should
    present). A number is flagged when, by at least :data:`MIN_UNITS` printed units,

    - one run lies more than :data:`OUTLIER_RATIO` robust standard deviations (1.4826 times
      the median absolute deviation) from the median of the runs (an outlier; a robust scale,
      because the outlier inflates the ordinary sd), or
    - the sorted values split into two clusters of at least 3 runs each whose gap exceeds
      :data:`GAP_RATIO` pooled within-cluster standard deviations (two modes).

    Both scales count as at least one printed unit: a value printed at coarse resolution
    (an r_hat to 3 decimals) often prints the same digit in most runs, and its spread is not
    0 for that.

    For 21 runs of a normal quantity each rule fires with probability below 1e-4 (simulated
    in the tests); a heavy-tailed quantity (Student t with 5 degrees of freedom) stays below
    1e-3.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(runs, numbers)``: each column is one printed number over the runs.
    units : numpy.ndarray
        Shape ``(numbers,)``: one unit in the last printed digit of each number.

    Returns
    -------
    list of int
        Column positions of the unstable numbers.

    Examples
    --------
    >>> import numpy as np
    >>> weights = [0.0] * 20 + [0.23]  # one seed in 21 gives the weight to this model
    >>> means = [4.40 + 0.01 * (i % 5) for i in range(21)]
    >>> unstable_numbers(np.array([weights, means]).T, np.array([0.01, 0.01]))
    [0]
    """
    values = np.asarray(values, dtype=float)
    flagged = []
    for j in range(values.shape[1]):
        x = values[:, j]
        unit = float(units[j])
        floor = MIN_UNITS * unit * (1 - 1e-9)
        median = float(np.median(x))
        deviation = float(np.abs(x - median).max())
        # At least one printed unit: a rounded value that most seeds print alike has a
        # median absolute deviation of 0 however much it really varies.
        scale = max(1.4826 * float(np.median(np.abs(x - median))), unit)
        outlier = deviation >= floor and deviation > OUTLIER_RATIO * scale
        if outlier or _two_clusters(x, floor, unit):
            flagged.append(j)
    return flagged


def _round_sd(value: float) -> float:
    """Keep 3 significant digits (the spread is itself estimated to about 16%)."""
    return 0.0 if value == 0 else float(f"{value:.3g}")


def measure_spread(runs: Sequence[Mapping[str, str]]) -> tuple[dict[str, Spread], list[str]]:
    """Measure how the numbers of one cell's outputs vary between runs with other seeds.

    Parameters
    ----------
    runs : sequence of dict of str to str
        :func:`cell_texts` of the same cell in each run (at least 2).

    Returns
    -------
    spreads : dict of str to Spread
        For each output whose numbers vary, their standard deviations (``ddof=1``); empty
        when the cell's output is the same in every run.
    problems : list of str
        Outputs whose text around the numbers, or whose set of outputs, differs between
        runs: such output cannot be validated and must be made seed-independent.

    Examples
    --------
    >>> spreads, problems = measure_spread([{"0:stream:stdout": "mean 1.0 n 3"},
    ...                                     {"0:stream:stdout": "mean 1.2 n 3"}])
    >>> spreads["0:stream:stdout"].sd, problems
    ((0.141, 0.0), [])
    """
    if len(runs) < 2:
        raise ValueError(f"need at least 2 runs to measure a spread, got {len(runs)}.")
    keys = list(runs[0])
    problems = [
        f"outputs {list(run)} instead of {keys} in run {i + 1}"
        for i, run in enumerate(runs)
        if list(run) != keys
    ]
    if problems:
        return {}, problems
    spreads = {}
    for key in keys:
        tokenized = [tokenize(run[key]) for run in runs]
        skeletons = {skeleton for skeleton, _ in tokenized}
        counts = {len(numbers) for _, numbers in tokenized}
        if len(skeletons) > 1 or len(counts) > 1:
            problems.append(f"{key}: the text differs between seeds, not only its numbers")
            continue
        values = np.array([[n.value for n in numbers] for _, numbers in tokenized])
        if values.size and np.ptp(values, axis=0).max() > 0:
            sd = values.std(axis=0, ddof=1)
            units = np.array([[n.unit for n in numbers] for _, numbers in tokenized]).max(axis=0)
            spreads[key] = Spread(
                skeleton=_skeleton_digest(tokenized[0][0]),
                sd=tuple(map(_round_sd, sd)),
                unstable=tuple(unstable_numbers(values, units)),
            )
    return spreads, problems


def _show(text: str, limit: int = 90) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _context(text: str, token: Token) -> str:
    """Return the line of ``text`` holding a number, for an error message."""
    for line in text.splitlines():
        if token.text in line:
            return _show(line)
    return _show(text)


def compare_texts(
    key: str,
    reference: str,
    fresh: str,
    spread: Spread | None,
    *,
    seed_dependent: bool,
    z_score: float = Z_SCORE,
) -> list[str]:
    """Compare one output text of a fresh run with the committed one.

    Parameters
    ----------
    key : str
        The output key (for messages).
    reference, fresh : str
        The committed and the fresh text (sanitized).
    spread : Spread or None
        The measured spread of this output's numbers, if they depend on the seed.
    seed_dependent : bool
        Whether the cell's output depends on the seed (then numbers without a spread still
        get one unit in their last digit, the printed resolution).
    z_score : float, default :data:`Z_SCORE`
        Allowed number of combined standard deviations.

    Returns
    -------
    list of str
        One message per difference (empty when they agree).

    Examples
    --------
    >>> spread = Spread(_skeleton_digest(tokenize("mean 1.00")[0]), (0.01,))
    >>> compare_texts("0:stream:stdout", "mean 1.00", "mean 1.05", spread, seed_dependent=True)
    []
    >>> compare_texts("0:stream:stdout", "mean 1.00", "mean 1.50", spread, seed_dependent=True)
    ["0:stream:stdout: 1.50 instead of 1.00 (allowed ±0.109, 35.4 combined sd) in 'mean 1.00'"]
    """
    ref_skeleton, ref_numbers = tokenize(reference)
    new_skeleton, new_numbers = tokenize(fresh)
    if ref_skeleton != new_skeleton or len(ref_numbers) != len(new_numbers):
        return [f"{key}: the text differs: {_show(fresh)!r} instead of {_show(reference)!r}"]
    if spread is not None and (
        spread.skeleton != _skeleton_digest(ref_skeleton) or len(spread.sd) != len(ref_numbers)
    ):
        return [
            f"{key}: the committed text is not the one whose spread was measured: re-run "
            "`course seeds --record` for this notebook"
        ]
    problems = []
    unstable = set(spread.unstable) if spread is not None else set()
    for i, (ref, new) in enumerate(zip(ref_numbers, new_numbers, strict=True)):
        if i in unstable:
            continue  # not stable across seeds: only its text is compared
        sd = spread.sd[i] if spread is not None else 0.0
        unit = max(ref.unit, new.unit)  # the printed resolution: the floor of any tolerance
        if sd > 0:
            allowed = z_score * math.sqrt(2.0) * sd + unit
        elif seed_dependent:
            allowed = unit
        else:
            allowed = 0.0
        if abs(new.value - ref.value) > allowed * (1 + 1e-9):
            spread_note = (
                f", {abs(new.value - ref.value) / (math.sqrt(2.0) * sd):.1f} combined sd"
                if sd > 0
                else ""
            )
            problems.append(
                f"{key}: {new.text} instead of {ref.text} (allowed ±{allowed:.3g}{spread_note}) "
                f"in {_context(reference, ref)!r}"
            )
    return problems


def compare_cell(
    reference: Mapping[str, str],
    fresh: Mapping[str, str],
    spreads: Mapping[str, Spread] | None = None,
    *,
    z_score: float = Z_SCORE,
) -> list[str]:
    """Compare the outputs of one cell of a fresh run with the committed ones.

    Parameters
    ----------
    reference, fresh : dict of str to str
        :func:`cell_texts` of the committed and of the fresh cell.
    spreads : dict of str to Spread, optional
        The measured spreads of this cell (``None`` or empty: its output must not depend on
        the seed, so every number must be equal).
    z_score : float, default :data:`Z_SCORE`
        Allowed number of combined standard deviations.

    Returns
    -------
    list of str
        One message per difference (empty when the cell agrees).

    Examples
    --------
    >>> compare_cell({"0:stream:stdout": "n = 3"}, {"0:stream:stdout": "n = 4"})
    ["0:stream:stdout: 4 instead of 3 (allowed ±0) in 'n = 3'"]
    """
    spreads = spreads or {}
    if list(reference) != list(fresh):
        return [f"outputs {list(fresh)} instead of the committed {list(reference)}"]
    problems = []
    for key, text in reference.items():
        problems += compare_texts(
            key, text, fresh[key], spreads.get(key), seed_dependent=bool(spreads), z_score=z_score
        )
    return problems


def compared_cells(
    notebooks: Sequence[Mapping[str, Any]], *, include_ignored: bool = False
) -> Iterator[tuple[int, tuple[Mapping[str, Any], ...]]]:
    """Pair up the code cells of runs of the same notebook: the one loop every comparison uses.

    Cells are numbered by their position among the code cells (the numbering of tolerance
    files and messages), so Markdown edits do not move them.

    Parameters
    ----------
    notebooks : sequence of mapping
        Runs of the same code (``nbformat`` notebooks), e.g. the committed one and a fresh one.
    include_ignored : bool, default False
        Also yield cells tagged :data:`IGNORE_OUTPUT_TAG` (whose outputs are not compared, but
        whose errors still count).

    Yields
    ------
    index : int
        The code-cell index.
    cells : tuple of mapping
        That cell in each notebook, in the order given.

    Raises
    ------
    ValueError
        If the notebooks have different numbers of code cells: they are not runs of the same
        code.

    Examples
    --------
    >>> import nbformat
    >>> ignored = nbformat.v4.new_code_cell("t", metadata={"tags": [IGNORE_OUTPUT_TAG]})
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("a"), nbformat.v4.new_markdown_cell("m"), ignored])
    >>> [index for index, _ in compared_cells([nb, nb])]
    [0]
    >>> [index for index, _ in compared_cells([nb, nb], include_ignored=True)]
    [0, 1]
    """
    code = [[c for c in nb["cells"] if c["cell_type"] == "code"] for nb in notebooks]
    counts = sorted({len(cells) for cells in code})
    if len(counts) > 1:
        raise ValueError(
            f"the runs have {' and '.join(map(str, counts))} code cells: they are not runs of "
            "the same code (re-execute the notebook from its current source)."
        )
    for index, versions in enumerate(zip(*code, strict=True)):
        if include_ignored or not has_tag(versions[0], IGNORE_OUTPUT_TAG):
            yield index, versions


def compare_notebooks(
    committed: Mapping[str, Any],
    fresh: Mapping[str, Any],
    tolerances: Tolerances | None,
    sanitizers: Sequence[tuple[re.Pattern[str], str]] = (),
) -> list[str]:
    """Compare every code cell of a fresh run with the committed notebook, as the suite does.

    Cells tagged :data:`~course_utils.tools.notebook.IGNORE_OUTPUT_TAG` are skipped; a cell
    whose fresh run raised is reported by its error.

    Parameters
    ----------
    committed, fresh : mapping
        The committed notebook and a fresh run of the same code (``nbformat`` notebooks).
    tolerances : Tolerances or None
        The committed notebook's recorded spreads (``None``: every number must be equal).
    sanitizers : sequence of (re.Pattern, str), default ()
        From :func:`read_sanitizers`.

    Returns
    -------
    list of str
        ``"cell <code index>: <difference>"`` per difference (empty when they agree).

    Examples
    --------
    >>> import nbformat
    >>> def run(text):
    ...     cell = nbformat.v4.new_code_cell("print(x)", outputs=[
    ...         nbformat.v4.new_output("stream", name="stdout", text=text)])
    ...     return nbformat.v4.new_notebook(cells=[cell])
    >>> compare_notebooks(run("x = 1.0"), run("x = 1.5"), None)
    ["cell 0: 0:stream:stdout: 1.5 instead of 1.0 (allowed ±0) in 'x = 1.0'"]
    """
    counts = [sum(c["cell_type"] == "code" for c in nb["cells"]) for nb in (committed, fresh)]
    if counts[0] != counts[1]:
        return [f"{counts[1]} code cells instead of the committed {counts[0]}"]
    cells = tolerances.cells if tolerances is not None else {}
    z = tolerances.z_score if tolerances is not None else Z_SCORE
    problems = []
    for index, (ref, new) in compared_cells([committed, fresh]):
        differences = compare_cell(
            cell_texts(ref.get("outputs", []), sanitizers),
            cell_texts(new.get("outputs", []), sanitizers),
            cells.get(index),
            z_score=z,
        )
        problems += [f"cell {index}: {difference}" for difference in differences]
    return problems
