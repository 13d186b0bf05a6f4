"""Comparing outputs as text with numbers: exact text, numbers within Monte Carlo error."""

from __future__ import annotations

import math

import nbformat
import numpy as np
import pytest

from course_utils.tools import outputs
from course_utils.tools.outputs import Spread, Tolerances

OUT = "0:stream:stdout"


def _spread(text: str, *sd: float) -> Spread:
    return Spread(outputs._skeleton_digest(outputs.tokenize(text)[0]), tuple(sd))


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("mean 1.25, sd 0.10.", ["1.25", "0.10"]),  # a full stop may end a sentence
        ("theta[G1] theta[0, 1] mu[PRO] hdi_3%", []),  # indexed names and labels
        ("pymc 5.28.5 on Python 3.11", ["3.11"]),  # versions stay text, a decimal does not
        ("<Figure size 1100x800 with 2 Axes>", ["2"]),
        (
            "[41.2 58.9] (-16, 21) 1e-05 -.5 94%",
            ["41.2", "58.9", "-16", "21", "1e-05", "-.5", "94"],
        ),
        ("1_000 tune and 4_000 draws", ["1_000", "4_000"]),
    ],
)
def test_tokenize_finds_the_numbers_and_leaves_labels(text, numbers):
    skeleton, tokens = outputs.tokenize(text)
    assert [t.text for t in tokens] == numbers
    assert skeleton.count(outputs._PLACEHOLDER) == len(numbers)


def test_a_numbers_unit_is_its_last_printed_digit():
    units = [t.unit for t in outputs.tokenize("1.25 1036 1e-05 2.5e3 94%")[1]]
    assert units == pytest.approx([0.01, 1.0, 1e-05, 100.0, 1.0])


def test_table_spacing_does_not_matter_but_words_do():
    assert outputs.tokenize("a    1.0\nbb   2.0")[0] == outputs.tokenize("a 1.5\nbb 2.5")[0]
    assert outputs.tokenize("OK 1.0")[0] != outputs.tokenize("FAILED 1.0")[0]


@pytest.mark.parametrize(
    ("one_run", "another_run"),
    [
        ("[10.4 21.6]", "[ 9.6 21.9]"),  # NumPy pads a shorter first element
        ("mu: [49.4 54.1]", "mu: [49.3 54. ]"),  # and a number whose last digits are zeros
        ("weights: [1.007 3.505 6.012]", "weights: [1.007 3.505 6.   ]"),
    ],
)
def test_numpys_padding_inside_brackets_is_layout(one_run, another_run):
    assert outputs.tokenize(one_run)[0] == outputs.tokenize(another_run)[0]
    assert outputs.tokenize(another_run)[0] != outputs.tokenize(another_run.replace("[", "("))[0]


def test_cell_texts_joins_streams_drops_images_and_sanitizes():
    outs = [
        {"output_type": "stream", "name": "stderr", "text": "Sampling ... took 3 seconds.\n"},
        {"output_type": "stream", "name": "stderr", "text": "more\n"},
        {"output_type": "display_data", "data": {"image/png": "AAAA", "text/plain": "<Figure>"}},
    ]
    texts = outputs.cell_texts(outs, outputs.read_sanitizers())
    assert texts == {
        "0:stream:stderr": "Sampling ... took N seconds.\nmore\n",
        "1:display_data:text/plain": "<Figure>",
    }


def test_measure_spread_measures_numbers_that_vary_only():
    runs = [{OUT: f"mean {m} n 3"} for m in ("1.0", "1.2", "1.1")]
    spreads, problems = outputs.measure_spread(runs)
    assert problems == []
    assert spreads[OUT].sd == pytest.approx((0.1, 0.0))
    constant, _ = outputs.measure_spread([{OUT: "n 3"}, {OUT: "n 3"}])
    assert constant == {}


def test_text_that_depends_on_the_seed_is_reported():
    _, problems = outputs.measure_spread([{OUT: "most shrunk: G1"}, {OUT: "most shrunk: G2"}])
    assert problems == [f"{OUT}: the text differs between seeds, not only its numbers"]
    _, problems = outputs.measure_spread([{OUT: "x"}, {OUT: "x", "1:stream:stderr": "warning"}])
    assert problems and "instead of" in problems[0]


def test_a_number_within_its_monte_carlo_tolerance_passes():
    spread = _spread("mean 1.00", 0.01)
    allowed = outputs.Z_SCORE * math.sqrt(2) * 0.01 + 0.01
    just_inside = f"mean {1 + allowed - 0.005:.2f}"
    assert outputs.compare_cell({OUT: "mean 1.00"}, {OUT: just_inside}, {OUT: spread}) == []


def test_a_number_beyond_its_tolerance_fails_and_is_named():
    spread = _spread("mean 1.00", 0.01)
    [problem] = outputs.compare_cell({OUT: "mean 1.00"}, {OUT: "mean 1.20"}, {OUT: spread})
    assert "1.20 instead of 1.00" in problem and "'mean 1.00'" in problem


def test_numbers_that_do_not_depend_on_the_seed_must_be_equal():
    assert outputs.compare_cell({OUT: "n = 3, mean 2.50"}, {OUT: "n = 3, mean 2.50"}) == []
    [problem] = outputs.compare_cell({OUT: "n = 3, mean 2.50"}, {OUT: "n = 3, mean 2.51"})
    assert "allowed ±0" in problem


def test_a_seed_dependent_cell_gives_every_number_at_least_its_printed_resolution():
    # 05's prior predictive interval printed [-4, 4] under all 20 recorded seeds (spread 0)
    # and [-4, 5] under another: a rounded integer flips near a boundary whatever its spread.
    spreads = {OUT: _spread("r_hat 1.00 mean 5.0 within [-4, 4]", 0.0, 0.2, 0.0, 0.0)}
    ref = {OUT: "r_hat 1.00 mean 5.0 within [-4, 4]"}
    assert outputs.compare_cell(ref, {OUT: "r_hat 1.01 mean 5.3 within [-4, 5]"}, spreads) == []
    [problem] = outputs.compare_cell(ref, {OUT: "r_hat 1.00 mean 5.0 within [-4, 6]"}, spreads)
    assert "6 instead of 4 (allowed ±1)" in problem


def test_a_value_near_a_rounding_boundary_passes_on_either_side():
    # A quantity of 4.49 +- 0.003 printed with no decimals, beside a mean that varies: every
    # recorded run printed 4 (spread 0); another machine's run may print 5. Both are correct.
    rng = np.random.default_rng(3)
    values = rng.normal([[0.31, 4.49]], [[0.02, 0.003]], size=(21, 2))
    runs = [{OUT: f"mean {mean:.2f} upper {upper:.0f}"} for mean, upper in values]
    spreads, problems = outputs.measure_spread(runs)
    assert not problems and spreads[OUT].sd[1] == 0.0  # the rounded value never moved
    assert outputs.compare_cell(runs[0], {OUT: "mean 0.32 upper 5"}, spreads) == []
    [problem] = outputs.compare_cell(runs[0], {OUT: "mean 0.32 upper 6"}, spreads)
    assert "6 instead of 4 (allowed ±1)" in problem


def test_numbers_of_a_cell_that_never_changed_stay_exact():
    # Data and exact results do not depend on the seed: a one-unit change is caught.
    [problem] = outputs.compare_cell({OUT: "n = 919 homes"}, {OUT: "n = 918 homes"})
    assert "918 instead of 919 (allowed ±0)" in problem


def test_changed_text_fails_whatever_the_numbers():
    spreads = {OUT: _spread("-> OK 1.0", 0.1)}
    [problem] = outputs.compare_cell({OUT: "-> OK 1.0"}, {OUT: "-> FAILED 1.0"}, spreads)
    assert "the text differs" in problem


def test_a_spread_measured_for_other_text_is_refused():
    spreads = {OUT: _spread("mean 1.0 sd 2.0", 0.1, 0.1)}
    [problem] = outputs.compare_cell(
        {OUT: "median 1.0 sd 2.0"}, {OUT: "median 1.0 sd 2.0"}, spreads
    )
    assert "course seeds --record" in problem


def test_a_missing_or_extra_output_fails():
    [problem] = outputs.compare_cell({OUT: "x"}, {OUT: "x", "1:stream:stderr": "warning"})
    assert "instead of the committed" in problem


def test_tolerances_survive_a_round_trip_through_json():
    tolerances = Tolerances("01_x", "abc", (1, 2), {3: {OUT: _spread("m 1.0", 0.25)}}, passed=2)
    again = Tolerances.from_json(tolerances.to_json())
    assert again == tolerances


@pytest.mark.parametrize("n_seeds", [3, 10])
def test_z_score_rejects_a_correct_number_at_the_stated_rate(n_seeds):
    # A sweep measures sd from the committed run and n_seeds others; a fresh run then differs
    # from the committed value. At a 5% false-alarm rate (1e-6 is too rare to simulate) the
    # share of rejected correct numbers must be at most 5% (within 4 binomial standard
    # errors), and not far below it: the bound is conservative, not vacuous.
    rng = np.random.default_rng(0)
    trials = 200_000
    sweep = rng.normal(size=(trials, n_seeds + 1))  # column 0: the committed run
    fresh = rng.normal(size=trials)
    sd = sweep.std(axis=1, ddof=1)
    z = outputs.z_score(n_seeds, false_alarm=0.05)
    rate = np.mean(np.abs(fresh - sweep[:, 0]) > z * math.sqrt(2) * sd)
    assert 0.02 < rate < 0.05 + 4 * math.sqrt(0.05 * 0.95 / trials)


def test_z_score_widens_with_fewer_seeds_and_needs_one():
    assert outputs.z_score(20) < outputs.z_score(10) < outputs.z_score(3)
    with pytest.raises(ValueError, match="at least one seed"):
        outputs.z_score(0)


@pytest.mark.parametrize(
    ("op", "line"), [("dot", "return 0.5 * np.dot(x, v_out)"), ("multiply", "return np.multiply(")]
)
def test_a_warm_up_overflow_warning_is_sanitized_and_nothing_else(op, line):
    warning = (
        f"/env/lib/python3.11/site-packages/pymc/step_methods/hmc/quadpotential.py:316: "
        f"RuntimeWarning: overflow encountered in {op}\n  {line}\n"
    )
    text = f"NUTS: [mu]\n{warning}Sampling 4 chains\n"
    sanitizers = outputs.read_sanitizers()
    assert outputs.sanitize(text, sanitizers) == "NUTS: [mu]\nSampling 4 chains\n"
    other = "/env/lib/site-packages/mymodule.py:3: RuntimeWarning: overflow encountered in exp\n"
    assert outputs.sanitize(other, sanitizers) == other


def _column(values: list[float]) -> np.ndarray:
    return np.array(values, dtype=float)[:, None]


def test_a_weight_that_one_seed_in_21_gives_away_is_unstable():
    # 02's stacking weight: 0.00 under the recorded seeds, 0.23 under another.
    weights = [0.0] * 20 + [0.23]
    assert outputs.unstable_numbers(_column(weights), np.array([0.01])) == [0]


def test_a_quantity_with_two_modes_is_unstable():
    rng = np.random.default_rng(4)
    split = np.r_[np.full(12, 0.05), np.full(9, 0.6)] + rng.normal(0, 0.01, 21)
    assert outputs.unstable_numbers(split[:, None].round(2), np.array([0.01])) == [0]


def test_a_rounded_value_most_seeds_print_alike_is_not_unstable():
    # 02's max r_hat, printed to 3 decimals: most seeds print the same digit (median absolute
    # deviation 0), a few are 2-5 units away. That is an sd of about one unit, not an outlier.
    r_hat = [1.003] * 12 + [1.004] * 4 + [1.002] * 2 + [1.006, 1.007, 1.008]
    assert outputs.unstable_numbers(_column(r_hat), np.array([0.001])) == []


def test_a_rounded_value_flickering_between_two_digits_is_not_unstable():
    flicker = [0.17] * 17 + [0.18] * 4
    assert outputs.unstable_numbers(_column(flicker), np.array([0.01])) == []


@pytest.mark.parametrize("draw", ["normal", "student_t5"])
def test_unstable_numbers_rarely_flags_a_number_that_scatters_normally(draw):
    # 21 runs (a 20-seed sweep and the committed one) of 10,000 quantities, printed to 3
    # decimals: the design rate is below 1e-4 for a normal quantity; heavier tails (t with 5
    # degrees of freedom, rougher than MCMC estimates) stay below 1e-3.
    rng = np.random.default_rng(5)
    shape = (21, 10_000)
    values = rng.normal(size=shape) if draw == "normal" else rng.standard_t(5, size=shape)
    flagged = outputs.unstable_numbers(values.round(3), np.full(shape[1], 0.001))
    limit = 1e-4 if draw == "normal" else 1e-3
    assert len(flagged) / shape[1] <= limit + 4 * math.sqrt(limit / shape[1])


def test_an_unstable_number_is_recorded_and_compared_as_text_only():
    runs = [
        {OUT: f"weight {w:.2f} mean {m:.2f}"}
        for w, m in zip([0.0] * 20 + [0.23], np.linspace(4.3, 4.5, 21), strict=True)
    ]
    spreads, problems = outputs.measure_spread(runs)
    assert not problems and spreads[OUT].unstable == (0,)
    ref = runs[0]
    assert outputs.compare_cell(ref, {OUT: "weight 0.77 mean 4.40"}, spreads) == []
    [problem] = outputs.compare_cell(ref, {OUT: "weight 0.77 mean 9.40"}, spreads)
    assert "9.40 instead of 4.30" in problem
    [problem] = outputs.compare_cell(ref, {OUT: "share 0.77 mean 4.40"}, spreads)
    assert "the text differs" in problem


def test_unstable_numbers_and_held_out_seeds_survive_a_round_trip_through_json():
    spread = Spread("abc", (0.1, 0.2), unstable=(1,))
    tolerances = Tolerances(
        "02_x", "h", (1, 2), {4: {OUT: spread}}, passed=2, held_out=(3, 5), held_out_passed=1
    )
    again = Tolerances.from_json(tolerances.to_json())
    assert again == tolerances and again.unstable() == [(4, OUT, 1)]


def _run(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def test_compared_cells_number_code_cells_and_skip_ignored_ones():
    code = nbformat.v4.new_code_cell
    ignored = code("noise", metadata={"tags": [outputs.IGNORE_OUTPUT_TAG]})
    runs = [
        _run(code("a"), nbformat.v4.new_markdown_cell("prose"), ignored, code(f"b{i}"))
        for i in range(3)
    ]
    pairs = list(outputs.compared_cells(runs))
    assert [index for index, _ in pairs] == [0, 2]
    assert [cell["source"] for cell in pairs[1][1]] == ["b0", "b1", "b2"]
    assert [i for i, _ in outputs.compared_cells(runs, include_ignored=True)] == [0, 1, 2]


def test_compared_cells_refuse_runs_of_other_code():
    code = nbformat.v4.new_code_cell
    with pytest.raises(ValueError, match="the runs have 1 and 2 code cells"):
        list(outputs.compared_cells([_run(code("a")), _run(code("a"), code("b"))]))
