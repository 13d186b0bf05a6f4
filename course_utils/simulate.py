"""Seeded generators for the synthetic datasets of the course.

Every function takes a :class:`numpy.random.Generator` (``rng``) so that a notebook draws
all its randomness from one seed, and checks its arguments at the boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "TwoGroupRegression",
    "simulate_grouped_measurements",
    "simulate_two_group_regression",
    "simulate_water_quality",
]


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator, got {type(rng).__name__}: create one with "
            "rng = np.random.default_rng(RANDOM_SEED)."
        )
    return rng


def _as_counts(values: Sequence[int] | int, name: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of integers, got {values!r}.")
    if not np.issubdtype(arr.dtype, np.number) or arr.dtype == bool:
        raise TypeError(f"{name} must contain whole numbers, got {values!r}.")
    if np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must contain whole numbers, got {values!r}.")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {values!r}.")
    return arr.astype(np.int64)


def simulate_water_quality(
    rng: np.random.Generator,
    n: Sequence[int] = (30, 30, 30),
    good: Sequence[int] = (18, 18, 18),
) -> pd.DataFrame:
    """Simulate water samples from several regions, ``good[i]`` of ``n[i]`` of them safe.

    The counts are fixed by design (they are the lesson's experimental conditions); the
    generator only decides *which* samples of each region are the safe ones.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n : sequence of int, default (30, 30, 30)
        Number of samples per region (each >= 1).
    good : sequence of int, default (18, 18, 18)
        Number of safe samples per region (0 <= good[i] <= n[i]).

    Returns
    -------
    pandas.DataFrame
        Long format, one row per sample: ``group_idx`` (int64, 0-based region index) and
        ``y`` (int64, 1 = safe, 0 = unsafe), grouped by region.

    Examples
    --------
    >>> df = simulate_water_quality(np.random.default_rng(0), n=(4, 3), good=(1, 3))
    >>> df.groupby("group_idx")["y"].sum().tolist()
    [1, 3]
    """
    rng = _check_rng(rng)
    n_arr, good_arr = _as_counts(n, "n"), _as_counts(good, "good")
    if n_arr.size != good_arr.size:
        raise ValueError(
            f"n and good must have one entry per region; got {n_arr.size} and {good_arr.size}."
        )
    if np.any(n_arr < 1):
        raise ValueError(f"every region needs at least one sample; n={tuple(n_arr)}.")
    if np.any(good_arr > n_arr):
        raise ValueError(
            f"good cannot exceed n in a region; got good={tuple(good_arr)}, n={tuple(n_arr)}."
        )
    regions = zip(good_arr, n_arr, strict=True)
    y = np.concatenate([rng.permutation(np.repeat([1, 0], [g, k - g])) for g, k in regions])
    group_idx = np.repeat(np.arange(n_arr.size), n_arr)
    return pd.DataFrame({"group_idx": group_idx.astype(np.int64), "y": y.astype(np.int64)})


@dataclass(frozen=True)
class TwoGroupRegression:
    """Synthetic two-group regression data.

    Attributes
    ----------
    X : numpy.ndarray, shape (2 * n, m)
        Features, i.i.d. standard normal; group A rows first.
    y : numpy.ndarray, shape (2 * n,)
        Responses ``X @ w[group] + noise``.
    group_idx : numpy.ndarray, shape (2 * n,)
        0 for group A, 1 for group B.
    w : numpy.ndarray, shape (m, 2)
        True weights, column 0 for group A and column 1 for group B.
    noise_sd : float
        Standard deviation of the Gaussian noise.
    """

    X: np.ndarray
    y: np.ndarray
    group_idx: np.ndarray
    w: np.ndarray
    noise_sd: float


def simulate_two_group_regression(
    rng: np.random.Generator,
    n: int = 1000,
    w_a: Sequence[float] = (1.0, 3.5, 6.0),
    w_b: Sequence[float] | None = None,
    noise_sd: float = 0.5,
) -> TwoGroupRegression:
    """Simulate a linear regression whose two groups have different weights.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n : int, default 1000
        Rows per group (>= 1).
    w_a : sequence of float, default (1, 3.5, 6)
        True weights of group A; its length is the number of features ``m``.
    w_b : sequence of float, optional
        True weights of group B (same length); default ``-w_a``.
    noise_sd : float, default 0.5
        Standard deviation of the Gaussian noise (> 0).

    Returns
    -------
    TwoGroupRegression
        ``X`` (2n x m), ``y`` (2n), ``group_idx`` (2n), true ``w`` (m x 2) and ``noise_sd``.

    Examples
    --------
    >>> data = simulate_two_group_regression(np.random.default_rng(0), n=5)
    >>> data.X.shape, data.w[:, 1].tolist()
    ((10, 3), [-1.0, -3.5, -6.0])
    """
    rng = _check_rng(rng)
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"n (rows per group) must be an integer, got {type(n).__name__} {n!r}.")
    if n < 1:
        raise ValueError(f"n (rows per group) must be a positive integer, got {n!r}.")
    w_a_arr = np.asarray(w_a, dtype=float)
    w_b_arr = -w_a_arr if w_b is None else np.asarray(w_b, dtype=float)
    if w_a_arr.ndim != 1 or w_a_arr.size == 0:
        raise ValueError(f"w_a must be a non-empty 1-D sequence of weights, got {w_a!r}.")
    if w_b_arr.shape != w_a_arr.shape:
        raise ValueError(
            f"w_a and w_b must have the same length (one weight per feature); got "
            f"{w_a_arr.size} and {w_b_arr.size}."
        )
    if not np.all(np.isfinite(np.concatenate([w_a_arr, w_b_arr]))):
        raise ValueError("weights must be finite numbers.")
    if not np.isfinite(noise_sd) or noise_sd <= 0:
        raise ValueError(f"noise_sd must be a positive number, got {noise_sd!r}.")
    w = np.column_stack([w_a_arr, w_b_arr])
    group_idx = np.repeat([0, 1], n)
    X = rng.normal(size=(2 * n, w.shape[0]))
    y = np.einsum("ij,ji->i", X, w[:, group_idx]) + rng.normal(scale=noise_sd, size=2 * n)
    return TwoGroupRegression(X=X, y=y, group_idx=group_idx, w=w, noise_sd=float(noise_sd))


def simulate_grouped_measurements(
    rng: np.random.Generator,
    n_per_group: Sequence[int] = (1, 2, 3, 5, 8, 12),
    mu: float = 50.0,
    tau: float = 5.0,
    sigma: float = 8.0,
) -> pd.DataFrame:
    """Simulate a few noisy measurements per group, for the pooling lesson.

    Group means are drawn as ``theta_j ~ Normal(mu, tau)`` and measurements as
    ``y_ij ~ Normal(theta_j, sigma)``: a two-level hierarchy with unequal group sizes, so
    that some groups have a single observation.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n_per_group : sequence of int, default (1, 2, 3, 5, 8, 12)
        Number of measurements in each group (each >= 1).
    mu : float, default 50
        Population mean of the group means.
    tau : float, default 5
        Between-group standard deviation (>= 0).
    sigma : float, default 8
        Within-group (measurement) standard deviation (> 0).

    Returns
    -------
    pandas.DataFrame
        One row per measurement: ``group`` (categorical, labels ``"G1"``, ``"G2"``...),
        ``group_idx`` (int64), ``y`` (float64) and ``theta_true`` (the group's true mean).

    Examples
    --------
    >>> df = simulate_grouped_measurements(np.random.default_rng(1), n_per_group=(1, 3))
    >>> df["group"].value_counts(sort=False).tolist()
    [1, 3]
    """
    rng = _check_rng(rng)
    sizes = _as_counts(n_per_group, "n_per_group")
    if np.any(sizes < 1):
        raise ValueError(f"every group needs at least one measurement; got {tuple(sizes)}.")
    for name, value, low in (("tau", tau, 0.0), ("sigma", sigma, None)):
        if not np.isfinite(value) or value < 0 or (low is None and value == 0):
            raise ValueError(
                f"{name} must be a {'non-negative' if low == 0 else 'positive'} "
                f"finite number, got {value!r}."
            )
    if not np.isfinite(mu):
        raise ValueError(f"mu must be a finite number, got {mu!r}.")
    theta = rng.normal(mu, tau, size=sizes.size)
    group_idx = np.repeat(np.arange(sizes.size), sizes)
    labels = [f"G{j + 1}" for j in range(sizes.size)]
    return pd.DataFrame(
        {
            "group": pd.Categorical.from_codes(group_idx, categories=labels),
            "group_idx": group_idx.astype(np.int64),
            "y": rng.normal(theta[group_idx], sigma),
            "theta_true": theta[group_idx],
        }
    )
