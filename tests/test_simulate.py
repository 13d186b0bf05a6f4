import numpy as np
import pandas as pd
import pytest

from course_utils import simulate


@pytest.fixture()
def rng():
    return np.random.default_rng(20241121)


# --- water quality ----------------------------------------------------------------------------


def test_water_quality_defaults(rng):
    df = simulate.simulate_water_quality(rng)
    assert list(df.columns) == ["group_idx", "y"]
    assert df.groupby("group_idx")["y"].agg(["sum", "count"]).to_dict("list") == {
        "sum": [18, 18, 18],
        "count": [30, 30, 30],
    }
    assert set(df["y"]) == {0, 1}
    assert df["group_idx"].is_monotonic_increasing


def test_water_quality_uneven_design(rng):
    df = simulate.simulate_water_quality(rng, n=(10, 5, 1), good=(0, 5, 1))
    assert df.groupby("group_idx")["y"].sum().tolist() == [0, 5, 1]
    assert df.groupby("group_idx").size().tolist() == [10, 5, 1]


def test_water_quality_is_reproducible_and_seed_dependent():
    make = lambda seed: simulate.simulate_water_quality(np.random.default_rng(seed))  # noqa: E731
    pd.testing.assert_frame_equal(make(1), make(1))
    assert not make(1).equals(make(2))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": (30, 30), "good": (1, 2, 3)}, "one entry per region"),
        ({"n": (30, 30), "good": (31, 2)}, "good cannot exceed n"),
        ({"n": (30, 0), "good": (3, 0)}, "at least one sample"),
        ({"n": (30, 30), "good": (-1, 2)}, "good must be >= 0"),
        ({"n": (30.5, 30), "good": (1, 2)}, "whole numbers"),
        ({"n": (), "good": ()}, "non-empty"),
    ],
)
def test_water_quality_rejects_bad_designs(rng, kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate.simulate_water_quality(rng, **kwargs)


@pytest.mark.parametrize(
    "func",
    [
        simulate.simulate_water_quality,
        simulate.simulate_two_group_regression,
        simulate.simulate_grouped_measurements,
    ],
)
def test_every_generator_requires_a_numpy_generator(func):
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        func(42)


# --- two-group regression ---------------------------------------------------------------------


def test_two_group_regression_shapes_and_truth(rng):
    sim = simulate.simulate_two_group_regression(rng)
    assert sim.X.shape == (2000, 3) and sim.y.shape == (2000,)
    assert sim.group_idx.tolist() == [0] * 1000 + [1] * 1000
    np.testing.assert_array_equal(sim.w, [[1, -1], [3.5, -3.5], [6, -6]])
    assert sim.noise_sd == 0.5


def test_two_group_regression_follows_the_model(rng):
    sim = simulate.simulate_two_group_regression(rng, n=20_000)
    for g in (0, 1):
        rows = sim.group_idx == g
        coef, *_ = np.linalg.lstsq(sim.X[rows], sim.y[rows], rcond=None)
        # OLS standard error is noise_sd / sqrt(n) = 0.0035; 5 standard errors of slack.
        np.testing.assert_allclose(coef, sim.w[:, g], atol=5 * 0.5 / np.sqrt(20_000))
        resid = sim.y[rows] - sim.X[rows] @ coef
        # sd of the sample sd is about sd / sqrt(2n) = 0.0025
        assert abs(resid.std() - 0.5) < 5 * 0.5 / np.sqrt(2 * 20_000)
    # features are standard normal
    assert abs(sim.X.mean()) < 5 / np.sqrt(sim.X.size)
    assert abs(sim.X.std() - 1) < 5 / np.sqrt(2 * sim.X.size)


def test_two_group_regression_custom_weights(rng):
    sim = simulate.simulate_two_group_regression(rng, n=3, w_a=(1, 2), w_b=(0, 5), noise_sd=1)
    assert sim.X.shape == (6, 2)
    np.testing.assert_array_equal(sim.w, [[1, 0], [2, 5]])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "positive integer"),
        ({"w_a": (1, 2), "w_b": (1, 2, 3)}, "same length"),
        ({"w_a": ()}, "non-empty"),
        ({"w_a": (1, np.nan)}, "finite"),
        ({"noise_sd": 0}, "noise_sd must be a positive number"),
        ({"noise_sd": -1}, "noise_sd must be a positive number"),
    ],
)
def test_two_group_regression_rejects_bad_arguments(rng, kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate.simulate_two_group_regression(rng, **kwargs)


@pytest.mark.parametrize("n", [2.5, "3", True])
def test_two_group_regression_rejects_a_non_integer_size_as_a_type_error(rng, n):
    with pytest.raises(TypeError, match="n \\(rows per group\\) must be an integer"):
        simulate.simulate_two_group_regression(rng, n=n)


def test_water_quality_rejects_non_numeric_counts_as_a_type_error(rng):
    with pytest.raises(TypeError, match="n must contain whole numbers"):
        simulate.simulate_water_quality(rng, n=("a", "b"), good=(1, 1))


# --- grouped measurements (pooling lesson) ----------------------------------------------------


def test_grouped_measurements_layout(rng):
    df = simulate.simulate_grouped_measurements(rng, n_per_group=(1, 2, 4))
    assert list(df.columns) == ["group", "group_idx", "y", "theta_true"]
    assert list(df["group"].cat.categories) == ["G1", "G2", "G3"]
    assert df.groupby("group", observed=True).size().tolist() == [1, 2, 4]
    assert df.groupby("group", observed=True)["theta_true"].nunique().eq(1).all()


def test_grouped_measurements_follow_the_hierarchy():
    rng = np.random.default_rng(5)
    df = simulate.simulate_grouped_measurements(
        rng, n_per_group=[2000] * 400, mu=10.0, tau=2.0, sigma=3.0
    )
    theta = df.groupby("group_idx")["theta_true"].first()
    # 400 group means: mean within 5 standard errors (2 / sqrt(400) = 0.1)
    assert abs(theta.mean() - 10) < 5 * 2 / np.sqrt(400)
    assert abs(theta.std() - 2) < 5 * 2 / np.sqrt(2 * 400)
    resid = df["y"] - df["theta_true"]
    assert abs(resid.std() - 3) < 5 * 3 / np.sqrt(2 * len(df))


def test_grouped_measurements_zero_tau_gives_equal_means(rng):
    df = simulate.simulate_grouped_measurements(rng, n_per_group=(2, 2), mu=4.0, tau=0.0)
    assert (df["theta_true"] == 4.0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_per_group": (1, 0)}, "at least one measurement"),
        ({"tau": -1.0}, "tau must be a non-negative"),
        ({"sigma": 0.0}, "sigma must be a positive"),
        ({"mu": np.inf}, "mu must be a finite"),
    ],
)
def test_grouped_measurements_reject_bad_arguments(rng, kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate.simulate_grouped_measurements(rng, **kwargs)
