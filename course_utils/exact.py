r"""Exact (quadrature) reference posteriors for hierarchical beta-binomial models.

MCMC answers are estimates; to check them -- and to show students what "accurate" means --
this module computes the same posterior summaries deterministically, to about 1e-4 or
better, by integrating over the two hyperparameters on a grid.

Why two dimensions are enough
-----------------------------
In the model :math:`\theta_i \sim \mathrm{Beta}(a, b)`,
:math:`y_i \sim \mathrm{Binomial}(n_i, \theta_i)` each group proportion integrates out in
closed form (beta-binomial marginal likelihood):

.. math::

    p(y_i \mid a, b) = \int_0^1 \binom{n_i}{y_i} \theta^{y_i} (1 - \theta)^{n_i - y_i}
    \frac{\theta^{a-1} (1-\theta)^{b-1}}{B(a, b)} \, d\theta
    = \binom{n_i}{y_i} \frac{B(y_i + a, n_i - y_i + b)}{B(a, b)},

so the posterior of the hyperparameters is known up to a constant and only a 2-D integral
remains. Given :math:`(a, b)` and the data, :math:`\theta_i` is exactly
:math:`\mathrm{Beta}(a + y_i, b + n_i - y_i)`, whose moments are averaged over the
hyperparameter posterior with the laws of total expectation and total variance.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, expit, gammaln, log_expit

__all__ = ["PARAMETERIZATIONS", "hierarchical_beta_binomial", "log_marginal_likelihood"]

Parameterization = Literal["alpha_beta", "mu_nu"]

#: The accepted values of ``parameterization``.
PARAMETERIZATIONS: tuple[str, ...] = ("alpha_beta", "mu_nu")

# Grid points whose log density is more than this far below the maximum are negligible:
# exp(-40) ~ 4e-18, far below the 1e-4 accuracy target even after multiplying by the
# moments being averaged.
_LOG_TAIL = 40.0
# Starting box, in the transformed coordinates, before the adaptive search narrows it.
_LOG_SCALE_BELOW = 60.0  # kappa down to scale * e^-60: covers the e^w Jacobian tail
_LOG_SCALE_ABOVE = float(np.log(30.0))  # kappa up to 30 * scale: HalfNormal log density -450
_LOGIT_HALF_WIDTH = 45.0  # logit(mu) in [-45, 45]: the Beta(1, 1) tail e^-|t| is covered
_MAX_ADAPT_STEPS = 12
_ADAPT_GRID_SIZE = 161  # points per axis while searching for the box (independent of grid_size)
_MIN_GRID_SIZE = 33
# Refine the final grid until results on it and on every other node of it (spacing 2h)
# agree to this (absolute, or relative for values above 1). The trapezoid error falls
# faster than any power of h here, so the error at spacing h is far below this estimate.
_REFINE_TOL = 1e-6
_MAX_GRID_SIZE = 1601  # 2.6 million nodes; memory stays in the tens of MB per array


@dataclass(frozen=True)
class _Data:
    """Validated data, with identical groups merged (they contribute identical factors)."""

    successes: NDArray[np.float64]
    trials: NDArray[np.float64]
    unique_successes: NDArray[np.float64]
    unique_trials: NDArray[np.float64]
    multiplicity: NDArray[np.float64]


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def log_marginal_likelihood(
    successes: ArrayLike, trials: ArrayLike, alpha: ArrayLike, beta: ArrayLike
) -> NDArray[np.float64]:
    r"""Log beta-binomial probability of each group's count given fixed hyperparameters.

    .. math::

        \log p(y_i \mid a, b) = \log \binom{n_i}{y_i} + \log B(y_i + a, n_i - y_i + b)
        - \log B(a, b)

    Parameters
    ----------
    successes, trials : array_like of int
        Successes :math:`y_i` and trials :math:`n_i` per group (validated as in
        :func:`hierarchical_beta_binomial`).
    alpha, beta : array_like of float
        Positive Beta parameters :math:`a, b`; broadcast against each other, then against
        the groups along a new last axis.

    Returns
    -------
    numpy.ndarray
        Array of shape ``broadcast(alpha, beta).shape + (n_groups,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from course_utils.exact import log_marginal_likelihood
    >>> round(float(np.exp(log_marginal_likelihood([1], [1], 2.0, 3.0))[0]), 12)  # a/(a+b)
    0.4
    """
    data = _validate_data(successes, trials)
    a = np.asarray(alpha, dtype=float)[..., None]
    b = np.asarray(beta, dtype=float)[..., None]
    if np.any(~np.isfinite(a)) or np.any(a <= 0) or np.any(~np.isfinite(b)) or np.any(b <= 0):
        raise ValueError(
            "alpha and beta must be positive and finite (they are Beta parameters); "
            "pass values > 0."
        )
    k, n = data.successes, data.trials
    log_choose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return log_choose + betaln(k + a, (n - k) + b) - betaln(a, b)


def hierarchical_beta_binomial(
    successes: ArrayLike,
    trials: ArrayLike,
    *,
    parameterization: Parameterization,
    scale: float = 10.0,
    grid_size: int = 201,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Posterior means and sds of a hierarchical beta-binomial model, by quadrature.

    No MCMC: the group proportions are integrated out analytically and the two
    hyperparameters numerically, on an adaptive 2-D grid, so the result is deterministic
    and accurate to well below 1e-4 (absolute) with the default grid.

    Parameters
    ----------
    successes : array_like of int
        Successes :math:`y_i` in each group (length ``J >= 1``). Integer-valued,
        ``0 <= successes <= trials``.
    trials : array_like of int
        Trials :math:`n_i` in each group. Integer-valued and ``>= 0``: a group with
        ``trials = 0`` is allowed, contributes a likelihood factor of 1, and its
        :math:`\theta_i` posterior is the population distribution of a new group. (With
        every ``trials`` zero the result is the prior, which is how the tests check it.)
    parameterization : {"alpha_beta", "mu_nu"}
        Which prior on the hyperparameters (keyword-only, no default, because the two
        models are different):

        ``"alpha_beta"`` (the SpaceX model)
            :math:`a \sim \mathrm{HalfNormal}(s)`, :math:`b \sim \mathrm{HalfNormal}(s)`,
            :math:`\theta_i \sim \mathrm{Beta}(a, b)`, with the deterministic
            :math:`\mu = a / (a + b)`.
        ``"mu_nu"`` (the water-quality model)
            :math:`\mu \sim \mathrm{Beta}(1, 1)`, :math:`\nu \sim \mathrm{HalfNormal}(s)`,
            :math:`\theta_i \sim \mathrm{Beta}(\mu\nu, (1 - \mu)\nu)`.

        In both, :math:`y_i \sim \mathrm{Binomial}(n_i, \theta_i)`. Bernoulli data
        summarised by counts give the same posterior: the two likelihoods differ by the
        constant :math:`\binom{n_i}{y_i}`.
    scale : float, default 10.0
        The HalfNormal scale :math:`s` (PyMC's ``sigma``), positive and finite.
    grid_size : int, default 201
        Points per axis of the final grid (at least 33; an even value is rounded up to
        odd). The grid is refined automatically (up to 1601 points per axis) until the
        results on it and on its every-other-node subgrid agree to 1e-6 (relative for
        values above 1), so this is a starting size; the tests also compare the default
        with a much finer grid.
    labels : sequence of str, optional
        Group names, one per group: rows are then named ``theta[<label>]`` as in
        :func:`arviz.summary` of a model with a ``coords`` dimension (e.g.
        ``theta[Falcon 9]``) instead of ``theta[0]``.

    Returns
    -------
    pandas.DataFrame
        Columns ``mean`` and ``sd``, indexed like :func:`arviz.summary`:
        ``theta[0]``, ..., ``theta[J-1]``, then ``alpha``, ``beta``, ``mu``, ``theta_new``
        for ``"alpha_beta"`` (``theta_new`` is the proportion of an unseen group,
        :math:`\theta_{new} \sim \mathrm{Beta}(a, b)`), or ``mu``, ``nu`` for ``"mu_nu"``.
        ``attrs`` holds the final ``grid_size`` and the ``error_estimate`` (largest
        difference between the final grid and its every-other-node subgrid).

    Raises
    ------
    ValueError
        If the data, ``scale``, ``parameterization`` or ``grid_size`` are invalid; the
        message says what is wrong and how to fix it.

    Warns
    -----
    RuntimeWarning
        If the largest grid still does not reach the 1e-6 self-consistency target
        (extremely narrow posteriors, e.g. a million trials in one group and a huge scale).

    Notes
    -----
    **Hyperparameter posterior.** With :math:`\phi` the two hyperparameters,

    .. math::

        p(\phi \mid y) \propto p(\phi) \prod_i \frac{B(y_i + a, n_i - y_i + b)}{B(a, b)},

    evaluated with ``scipy.special.betaln`` in log space.

    **Change of variables.** Scale parameters (:math:`a, b, \nu`) live on
    :math:`(0, \infty)` and their posteriors are skewed, with long tails towards 0 on the
    natural scale; on :math:`u = \log x` they are smooth and nearly symmetric. The density
    of :math:`u` carries the Jacobian :math:`|dx/du| = x`, i.e. ``+ u`` in log density.
    :math:`\mu \in (0, 1)` is mapped to :math:`t = \operatorname{logit}\mu` with
    Jacobian :math:`\mu(1 - \mu)` (computed as ``log_expit(t) + log_expit(-t)``, accurate
    at both edges).

    Both models are integrated on the same grid, over :math:`t = \operatorname{logit}\mu`
    and :math:`w = \log\kappa`, where :math:`\kappa = a + b` (:math:`= \nu`) and
    :math:`a = \mu\kappa`, :math:`b = (1 - \mu)\kappa`. For ``"mu_nu"`` these are the
    model's own parameters, with the Jacobian :math:`\mu (1 - \mu) \nu`. For
    ``"alpha_beta"`` the map from :math:`(\log a, \log b)` is the shear
    :math:`t = \log a - \log b`, :math:`w = \log(e^{\log a} + e^{\log b})`, whose Jacobian
    determinant is exactly 1, so the density of :math:`(t, w)` is
    :math:`p(a)\,p(b)\,a\,b` times the likelihood. The shear matters: with homogeneous
    groups the posterior is a long thin ridge along :math:`a / (a + b) = \text{const}`,
    diagonal on the :math:`(\log a, \log b)` plane but aligned with the :math:`w` axis here.

    **Adaptive box.** Starting from a wide box (:math:`\kappa \in [s e^{-60}, 30 s]`,
    :math:`t \in [-45, 45]`), the grid is evaluated, the box is shrunk to the cells whose
    log density is within 40 of the maximum (plus one cell), and the search is repeated
    until the box stops shrinking; a box edge that is still non-negligible is pushed
    outwards instead. Mass outside the final box is below :math:`e^{-40}` relative.

    **Quadrature rule.** Log densities are shifted by their maximum before exponentiating.
    The final ``grid_size`` x ``grid_size`` grid uses trapezoid weights: for a smooth
    integrand that is negligible at both ends of the interval the trapezoid rule converges
    faster than any power of the spacing (faster than Simpson's rule). The same sums over
    every other node give the spacing-:math:`2h` answer for free; their difference bounds
    the error at spacing :math:`h` and drives the automatic refinement.

    **Moments.** Given :math:`(a, b)` and the data,
    :math:`\theta_i \sim \mathrm{Beta}(a + y_i, b + n_i - y_i)` with mean
    :math:`m_i = (a + y_i)/(a + b + n_i)` and variance
    :math:`m_i (1 - m_i) / (a + b + n_i + 1)`. Then
    :math:`E[\theta_i \mid y] = E[m_i \mid y]` and
    :math:`\mathrm{Var}[\theta_i \mid y] = E[\mathrm{Var}(\theta_i \mid a, b, y)]
    + \mathrm{Var}[m_i \mid y]`; ``theta_new`` is the same with :math:`n = y = 0`.

    Examples
    --------
    The SpaceX launches (successes out of launches per vehicle):

    >>> from course_utils.exact import hierarchical_beta_binomial
    >>> post = hierarchical_beta_binomial(
    ...     [2, 301, 9, 5], [5, 304, 9, 9], parameterization="alpha_beta"
    ... )
    >>> list(post.index)
    ['theta[0]', 'theta[1]', 'theta[2]', 'theta[3]', 'alpha', 'beta', 'mu', 'theta_new']
    >>> list(post.columns)
    ['mean', 'sd']

    With no data the posterior is the prior, e.g. the prior mean of :math:`\mu` is 1/2:

    >>> prior = hierarchical_beta_binomial([0], [0], parameterization="mu_nu")
    >>> round(float(prior.loc["mu", "mean"]), 6)
    0.5
    """
    data = _validate_data(successes, trials)
    param = _validate_parameterization(parameterization)
    scale = _validate_scale(scale)
    grid_size = _validate_grid_size(grid_size)

    def log_density(t: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.float64]:
        return _log_posterior(t, w, data, param, scale)

    box = _adapt_box(log_density, _initial_box(scale), _ADAPT_GRID_SIZE)
    size = grid_size + 1 - grid_size % 2  # odd, so that every other node is a coarser grid
    while True:
        summary, error = _integrate(log_density, box, size, param, data)
        if error <= _REFINE_TOL or 2 * size - 1 > _MAX_GRID_SIZE:
            break
        size = 2 * size - 1
    if error > _REFINE_TOL:
        warnings.warn(
            f"hierarchical_beta_binomial: estimated quadrature error {error:.1e} exceeds "
            f"{_REFINE_TOL:.0e} at the largest grid ({size} x {size}); the posterior is very "
            f"narrow in some direction. Treat the last digits with caution.",
            RuntimeWarning,
            stacklevel=2,
        )
    summary.attrs.update(grid_size=size, error_estimate=error)
    if labels is not None:
        summary = summary.rename(index=_theta_labels(labels, len(data.successes)))
    return summary


def _theta_labels(labels: Sequence[str], n_groups: int) -> dict[str, str]:
    """Map ``theta[i]`` to ``theta[<label>]``, checking there is one label per group."""
    names = [str(label) for label in labels]
    if len(names) != n_groups or len(set(names)) != n_groups:
        raise ValueError(
            f"labels must give {n_groups} distinct group names (one per group); got {names}."
        )
    return {f"theta[{i}]": f"theta[{name}]" for i, name in enumerate(names)}


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _as_counts(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``values`` as a 1-D float array of integer-valued counts, or raise."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{name} must be numbers (integer counts); got {values!r}. "
            f"Pass a list or 1-D array of integers."
        ) from err
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence with one count per group; got shape {arr.shape}. "
            f"Pass a flat list such as [2, 301, 9, 5]."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {arr.tolist()}. Remove NaN/inf values.")
    if not np.all(arr == np.round(arr)):
        raise ValueError(
            f"{name} must be integer-valued counts; got {arr.tolist()}. "
            f"Pass whole numbers (counts of successes/trials, not proportions)."
        )
    return arr


def _validate_data(successes: ArrayLike, trials: ArrayLike) -> _Data:
    """Check the counts and merge identical groups; raise ``ValueError`` on bad input."""
    k = _as_counts(successes, "successes")
    n = _as_counts(trials, "trials")
    if k.shape != n.shape:
        raise ValueError(
            f"successes and trials must have the same length (one entry per group); got "
            f"{k.size} successes and {n.size} trials. Pass one count of each per group."
        )
    if k.size == 0:
        raise ValueError(
            "at least one group is required; got empty successes and trials. "
            "Pass one count of successes and trials per group."
        )
    if np.any(n < 0):
        raise ValueError(
            f"trials must be >= 0; got {n.tolist()}. Pass the number of trials per group "
            f"(0 is allowed for a group without data)."
        )
    if np.any(k < 0):
        raise ValueError(f"successes must be >= 0; got {k.tolist()}. Pass counts, not offsets.")
    if np.any(k > n):
        bad = np.flatnonzero(k > n).tolist()
        raise ValueError(
            f"successes must be <= trials in every group; groups {bad} have more successes "
            f"than trials ({k.tolist()} vs {n.tolist()}). Check that the two arguments are "
            f"not swapped."
        )
    pairs, counts = np.unique(np.stack([k, n], axis=1), axis=0, return_counts=True)
    return _Data(
        successes=k,
        trials=n,
        unique_successes=pairs[:, 0],
        unique_trials=pairs[:, 1],
        multiplicity=counts.astype(float),
    )


def _validate_parameterization(parameterization: object) -> Parameterization:
    """Return ``parameterization`` if it is one of :data:`PARAMETERIZATIONS`, else raise."""
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            f"parameterization must be one of {PARAMETERIZATIONS}; got {parameterization!r}. "
            f'Use "alpha_beta" for HalfNormal priors on alpha and beta (SpaceX model) or '
            f'"mu_nu" for mu ~ Beta(1, 1), nu ~ HalfNormal (water-quality model).'
        )
    return parameterization  # type: ignore[return-value]


def _validate_scale(scale: object) -> float:
    """Return ``scale`` as a float if it is a positive finite number, else raise."""
    try:
        value = float(scale)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"scale must be a positive finite number (the HalfNormal sigma); got {scale!r}. "
            f"Pass e.g. scale=10.0."
        ) from err
    if isinstance(scale, bool) or not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"scale must be a positive finite number (the HalfNormal sigma); got {scale!r}. "
            f"Pass e.g. scale=10.0."
        )
    return value


def _validate_grid_size(grid_size: object) -> int:
    """Return ``grid_size`` if it is an integer >= the minimum, else raise."""
    if (
        isinstance(grid_size, bool)
        or not isinstance(grid_size, int | np.integer)
        or grid_size < _MIN_GRID_SIZE
    ):
        raise ValueError(
            f"grid_size must be an integer >= {_MIN_GRID_SIZE} (points per axis); got "
            f"{grid_size!r}. The default 201 is accurate to well below 1e-4."
        )
    return int(grid_size)


# --------------------------------------------------------------------------------------
# Density on the transformed coordinates
# --------------------------------------------------------------------------------------


def _hyperparameters(
    t: NDArray[np.float64], w: NDArray[np.float64], param: Parameterization
) -> tuple[NDArray[np.float64], NDArray[np.float64], dict[str, NDArray[np.float64]]]:
    """Map grid coordinates to Beta parameters ``(a, b)`` and the reported hyperparameters.

    The coordinates are ``t = logit(mu)`` and ``w = log(kappa)`` with ``kappa = a + b``.
    ``1 - mu`` is computed as ``expit(-t)``, not ``1 - expit(t)``, to keep ``b`` accurate
    when ``mu`` is close to 1.
    """
    mu, one_minus_mu, kappa = expit(t), expit(-t), np.exp(w)
    a, b = mu * kappa, one_minus_mu * kappa
    if param == "alpha_beta":
        return a, b, {"alpha": a, "beta": b, "mu": mu}
    return a, b, {"mu": mu, "nu": kappa}


def _log_half_normal(log_x: NDArray[np.float64], scale: float) -> NDArray[np.float64]:
    """HalfNormal(scale) log density of ``x = exp(log_x)``, up to a constant."""
    return -0.5 * np.exp(2.0 * (log_x - np.log(scale)))


def _log_prior(
    t: NDArray[np.float64], w: NDArray[np.float64], param: Parameterization, scale: float
) -> NDArray[np.float64]:
    """Log prior density of the grid coordinates ``(t, w)``, Jacobians included."""
    log_mu, log_one_minus_mu = log_expit(t), log_expit(-t)
    if param == "alpha_beta":
        # a, b iid HalfNormal; (log a, log b) -> (t, w) has unit Jacobian, so the density
        # of (t, w) is that of (log a, log b): p(a) a p(b) b.
        log_a, log_b = log_mu + w, log_one_minus_mu + w
        return _log_half_normal(log_a, scale) + log_a + _log_half_normal(log_b, scale) + log_b
    # mu ~ Beta(1, 1) is flat, Jacobian mu (1 - mu); nu ~ HalfNormal, Jacobian nu.
    return log_mu + log_one_minus_mu + _log_half_normal(w, scale) + w


def _log_likelihood(
    a: NDArray[np.float64], b: NDArray[np.float64], data: _Data
) -> NDArray[np.float64]:
    """Sum over groups of ``log B(y + a, n - y + b) - log B(a, b)`` (constants dropped).

    Loops over distinct groups so memory stays at one grid, whatever the number of groups.
    """
    total = np.zeros(np.broadcast_shapes(a.shape, b.shape))
    log_b_ab = betaln(a, b)
    for k, n, m in zip(data.unique_successes, data.unique_trials, data.multiplicity, strict=True):
        # b + (n - k), not b + n - k: with b ~ 1e-25 and k = n the latter rounds to 0.
        if n > 0:  # a group without trials contributes a factor 1
            total += m * (betaln(a + k, b + (n - k)) - log_b_ab)
    return total


def _log_posterior(
    t: NDArray[np.float64],
    w: NDArray[np.float64],
    data: _Data,
    param: Parameterization,
    scale: float,
) -> NDArray[np.float64]:
    """Unnormalised log posterior density of the grid coordinates ``(t, w)``."""
    a, b, _ = _hyperparameters(t, w, param)
    return _log_prior(t, w, param, scale) + _log_likelihood(a, b, data)


# --------------------------------------------------------------------------------------
# Grid
# --------------------------------------------------------------------------------------

_Box = tuple[tuple[float, float], tuple[float, float]]


def _initial_box(scale: float) -> _Box:
    """Wide starting box in ``(t, w)``; see the module constants for why it is enough."""
    log_scale = float(np.log(scale))
    return (
        (-_LOGIT_HALF_WIDTH, _LOGIT_HALF_WIDTH),
        (log_scale - _LOG_SCALE_BELOW, log_scale + _LOG_SCALE_ABOVE),
    )


def _trapezoid_log_weights(size: int, low: float, high: float) -> NDArray[np.float64]:
    """Log trapezoid weights of ``size`` equally spaced points on ``[low, high]``."""
    h = (high - low) / (size - 1)
    w = np.full(size, h)
    w[[0, -1]] = h / 2
    return np.log(w)


def _grid(
    box: _Box, size: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Points on both axes and the 2-D log trapezoid weights of the tensor grid."""
    (t0, t1), (w0, w1) = box
    t, w = np.linspace(t0, t1, size), np.linspace(w0, w1, size)
    log_wt, log_ww = _trapezoid_log_weights(size, t0, t1), _trapezoid_log_weights(size, w0, w1)
    return t, w, log_wt[:, None] + log_ww[None, :]


def _axis_extent(
    points: NDArray[np.float64], keep: NDArray[np.bool_], low: float, high: float
) -> tuple[tuple[float, float], bool]:
    """Return the new ``(low, high)`` of one axis from its kept points, and if it changed.

    Keeps one grid cell of padding beyond the non-negligible points. If they reach an edge
    of the current interval, that edge is pushed outwards by half the interval width.
    """
    idx = np.flatnonzero(keep)
    width = high - low
    first, last = idx[0], idx[-1]
    new_low = low - width / 2 if first == 0 else points[first - 1]
    new_high = high + width / 2 if last == points.size - 1 else points[last + 1]
    grew = first == 0 or last == points.size - 1
    shrank = (new_high - new_low) < 0.8 * width
    return (float(new_low), float(new_high)), grew or shrank


def _adapt_box(
    log_density: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]],
    box: _Box,
    size: int,
) -> _Box:
    """Shrink (or grow) ``box`` until it just covers the non-negligible posterior mass."""
    for _ in range(_MAX_ADAPT_STEPS):
        (t0, t1), (w0, w1) = box
        t, w = np.linspace(t0, t1, size), np.linspace(w0, w1, size)
        lp = log_density(t[:, None], w[None, :])
        if not np.any(np.isfinite(lp)):
            raise RuntimeError("the log posterior is not finite anywhere on the grid")
        keep = lp > np.nanmax(lp) - _LOG_TAIL
        t_box, t_changed = _axis_extent(t, keep.any(axis=1), t0, t1)
        w_box, w_changed = _axis_extent(w, keep.any(axis=0), w0, w1)
        box = (t_box, w_box)
        if not (t_changed or w_changed):
            return box
    return box


def _normalised_weights(log_p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Quadrature weights summing to 1 from log(density x trapezoid weight)."""
    weights = np.exp(log_p - log_p.max())  # shift by the max: no overflow, no underflow
    return weights / weights.sum()


def _integrate(
    log_density: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]],
    box: _Box,
    size: int,
    param: Parameterization,
    data: _Data,
) -> tuple[pd.DataFrame, float]:
    """Posterior summary on a ``size`` x ``size`` grid over ``box``, and its error estimate.

    The estimate is the largest difference (relative for values above 1) from the same
    summary on every other node, i.e. at twice the spacing.
    """
    t, w, log_w = _grid(box, size)
    log_density_grid = log_density(t[:, None], w[None, :])
    _check_edges(log_density_grid)
    a, b, extras = _hyperparameters(t[:, None], w[None, :], param)
    include_theta_new = param == "alpha_beta"
    fine = _summarise(
        _normalised_weights(log_density_grid + log_w), a, b, extras, data, include_theta_new
    )
    every_other = (slice(None, None, 2), slice(None, None, 2))
    coarse = _summarise(
        _normalised_weights(log_density_grid[every_other] + _grid(box, (size + 1) // 2)[2]),
        a[every_other],
        b[every_other],
        {name: values[every_other] for name, values in extras.items()},
        data,
        include_theta_new,
    )
    error = ((fine - coarse).abs() / np.maximum(1.0, fine.abs())).to_numpy().max()
    return fine, float(error)


def _check_edges(log_p: NDArray[np.float64]) -> None:
    """Raise if the posterior is not negligible on the edge of the final grid.

    The adaptive box leaves every edge below ``max - 40``; half that margin is tolerated
    because the final grid is finer and can find a slightly higher maximum.
    """
    edges = np.concatenate([log_p[0], log_p[-1], log_p[:, 0], log_p[:, -1]])
    if np.max(edges) > np.max(log_p) - _LOG_TAIL / 2:
        raise RuntimeError(
            "the adaptive grid did not contain the posterior (non-negligible density on its "
            "edge); the data may be extreme -- please report this case."
        )


# --------------------------------------------------------------------------------------
# Moments
# --------------------------------------------------------------------------------------


def _mean_sd(
    weights: NDArray[np.float64],
    cond_mean: NDArray[np.float64],
    cond_var: NDArray[np.float64] | float = 0.0,
) -> tuple[float, float]:
    """Mean and sd by the laws of total expectation and total variance.

    ``E[X] = E[E[X | phi]]`` and ``Var[X] = E[Var(X | phi)] + Var[E[X | phi]]``, the outer
    expectations being weighted sums over the grid. Centring before squaring avoids the
    cancellation of ``E[X^2] - E[X]^2``.
    """
    mean = float(np.sum(weights * cond_mean))
    var = float(np.sum(weights * (cond_var + (cond_mean - mean) ** 2)))
    return mean, float(np.sqrt(max(var, 0.0)))


def _beta_moments(
    a: NDArray[np.float64], b: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and variance of ``Beta(a, b)``."""
    total = a + b
    mean = a / total
    return mean, mean * (b / total) / (total + 1)


def _summarise(
    weights: NDArray[np.float64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    extras: dict[str, NDArray[np.float64]],
    data: _Data,
    include_theta_new: bool,
) -> pd.DataFrame:
    """Posterior mean and sd of every reported quantity, as an ``az.summary``-like table."""
    rows: dict[str, tuple[float, float]] = {}
    for i, (k, n) in enumerate(zip(data.successes, data.trials, strict=True)):
        rows[f"theta[{i}]"] = _mean_sd(weights, *_beta_moments(a + k, b + (n - k)))
    for name, values in extras.items():
        rows[name] = _mean_sd(weights, values)
    if include_theta_new:
        rows["theta_new"] = _mean_sd(weights, *_beta_moments(a, b))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "sd"])
