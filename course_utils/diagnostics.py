"""Sampling diagnostics that fail loudly.

A warning printed by the sampler is easy to miss in a long notebook; an exception is not.
:func:`check_sampling` collects the usual convergence checks for chosen variables and raises
:class:`SamplingError` when any threshold fails, so a sampler regression breaks the build
instead of silently changing a lesson.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import pandas as pd

__all__ = [
    "SamplingError",
    "SamplingReport",
    "check_sampling",
    "compare_runs",
    "compare_to_reference",
    "count_divergences",
]


class SamplingError(RuntimeError):
    """The posterior sample does not meet the convergence thresholds."""


@dataclass(frozen=True)
class SamplingReport:
    """Summary of the convergence checks of one fit.

    Attributes
    ----------
    divergences : int
        Number of divergent transitions after tuning, over all chains.
    max_r_hat : float
        Largest rank-normalised split r_hat among the checked variables.
    min_ess_bulk : float
        Smallest bulk effective sample size among the checked variables.
    min_ess_tail : float
        Smallest tail effective sample size among the checked variables.
    worst : dict of str to str
        For each statistic, the variable element where it is worst (e.g. ``"mu[PRO]"``).
    problems : tuple of str
        Human-readable description of every failed threshold (empty when all pass).
    table : pandas.DataFrame
        ``r_hat``, ``ess_bulk`` and ``ess_tail`` of every checked variable element.
    thresholds : dict
        The thresholds checked: ``divergences`` (max), ``r_hat`` (max), ``ess_bulk`` and
        ``ess_tail`` (min; ``None`` when not checked).
    """

    divergences: int
    max_r_hat: float
    min_ess_bulk: float
    min_ess_tail: float
    worst: dict[str, str]
    problems: tuple[str, ...]
    table: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)
    thresholds: dict[str, float | None] = field(
        default_factory=lambda: {"divergences": 0, "r_hat": 1.01, "ess_bulk": 400, "ess_tail": None}
    )

    @property
    def ess_bulk(self) -> pd.Series:
        """Bulk ESS of every checked variable element."""
        return self.table["ess_bulk"]

    @property
    def ok(self) -> bool:
        """Whether every threshold passed."""
        return not self.problems

    def to_frame(self) -> pd.DataFrame:
        """Return the report as a small table for display in a notebook.

        One row per statistic with its value and the threshold it must meet. Values are
        formatted as text (counts as integers, r_hat with 3 decimals) so that the column
        does not turn every number into a float. Like ``str(report)``, the table leaves out
        which variable is worst, which changes with the sampler seed.
        """
        required = self.thresholds
        return pd.DataFrame(
            {
                "value": [
                    f"{self.divergences:d}",
                    f"{self.max_r_hat:.3f}",
                    f"{self.min_ess_bulk:.0f}",
                    f"{self.min_ess_tail:.0f}",
                ],
                "required": [
                    f"<= {required['divergences']}",
                    f"<= {required['r_hat']}",
                    f">= {required['ess_bulk']}",
                    "-" if required.get("ess_tail") is None else f">= {required['ess_tail']}",
                ],
            },
            index=["divergences", "max r_hat", "min ESS bulk", "min ESS tail"],
        )

    def __str__(self) -> str:
        """One line with the four statistics and the verdict.

        The names of the worst variables are left out (they are in :attr:`worst` and in the
        error messages): which element of a vector is worst changes with the sampler seed,
        and a printed report must read the same on every machine.
        """
        return (
            f"divergences={self.divergences}, max r_hat={self.max_r_hat:.3f}, "
            f"min ESS bulk={self.min_ess_bulk:.0f}, min ESS tail={self.min_ess_tail:.0f} "
            f"-> {'OK' if self.ok else 'FAILED'}"
        )


def count_divergences(idata: az.InferenceData) -> int:
    """Count divergent transitions (after tuning) over all chains.

    Parameters
    ----------
    idata : arviz.InferenceData
        Result of ``pm.sample``; it must have a ``sample_stats`` group.

    Returns
    -------
    int
        Number of divergent draws.
    """
    if "sample_stats" not in idata.groups() or "diverging" not in idata.sample_stats:
        raise ValueError(
            "idata has no sample_stats.diverging: pass the InferenceData returned by "
            "pm.sample (NUTS), not a prior or posterior-predictive sample."
        )
    return int(idata.sample_stats["diverging"].sum())


def _summary(idata: az.InferenceData, var_names: Sequence[str] | None) -> pd.DataFrame:
    if "posterior" not in idata.groups():
        raise ValueError("idata has no posterior group: pass the result of pm.sample.")
    if var_names is not None:
        missing = [v for v in var_names if v not in idata.posterior]
        if missing:
            raise ValueError(
                f"variables {missing} are not in the posterior; available: "
                f"{list(idata.posterior.data_vars)}."
            )
    # Unrounded: az.summary rounds to 2 decimals by default, which would let r_hat 1.014 pass.
    return az.summary(idata, var_names=var_names, kind="diagnostics", round_to="none")


def _constant_elements(
    idata: az.InferenceData, var_names: Sequence[str] | None, labels: pd.Index
) -> list[str]:
    """Return the summary labels among ``labels`` whose draws are all the same value."""
    if labels.empty:
        return []
    ranges = az.summary(
        idata, var_names=var_names, kind="stats", stat_funcs={"range": np.ptp}, extend=False
    )["range"]
    return [label for label in labels if ranges.get(label, np.nan) == 0]


def check_sampling(
    idata: az.InferenceData,
    var_names: Sequence[str] | None = None,
    *,
    max_divergences: int = 0,
    max_r_hat: float = 1.01,
    min_ess_bulk: float = 400,
    min_ess_tail: float | None = None,
    raise_on_failure: bool = True,
) -> SamplingReport:
    """Check divergences, r_hat and effective sample sizes of a fit.

    Parameters
    ----------
    idata : arviz.InferenceData
        Result of ``pm.sample``.
    var_names : sequence of str, optional
        Variables whose r_hat and ESS are checked (default: every posterior variable).
        Divergences always concern the whole model. Elements whose draws are constant by
        construction (the 1s on the diagonal of a correlation matrix) have no r_hat and are
        left out; any other element with an undefined (NaN) r_hat or ESS fails the check,
        rather than being skipped.
    max_divergences : int, default 0
        Largest acceptable number of divergent transitions.
    max_r_hat : float, default 1.01
        Largest acceptable rank-normalised split r_hat.
    min_ess_bulk : float, default 400
        Smallest acceptable bulk effective sample size.
    min_ess_tail : float, optional
        Smallest acceptable tail ESS; not checked when ``None``.
    raise_on_failure : bool, default True
        Raise :class:`SamplingError` when a threshold fails. Set it to ``False`` to inspect
        a fit that is *meant* to misbehave and assert on ``report.ok`` yourself.

    Returns
    -------
    SamplingReport
        The measured values and the list of failed thresholds.

    Raises
    ------
    SamplingError
        When ``raise_on_failure`` and a threshold fails; the message names the statistic,
        the worst variable and the usual fixes.

    Examples
    --------
    >>> idata = az.load_arviz_data("centered_eight")
    >>> check_sampling(idata, ["mu"], raise_on_failure=False).ok
    False
    """
    if not isinstance(idata, az.InferenceData):
        raise TypeError(
            f"idata must be an arviz.InferenceData (the result of pm.sample), got "
            f"{type(idata).__name__}."
        )
    summary = _summary(idata, var_names)
    divergences = count_divergences(idata)
    if summary["r_hat"].isna().all() and idata.posterior.sizes.get("chain", 1) < 2:
        raise ValueError("r_hat is undefined: sample at least 2 chains with pm.sample(chains=...).")
    undefined = summary.index[summary[["r_hat", "ess_bulk", "ess_tail"]].isna().any(axis=1)]
    constant = _constant_elements(idata, var_names, undefined)
    summary = summary.drop(index=constant)  # no r_hat by construction (a correlation's 1s)
    not_finite = [str(label) for label in undefined if label not in constant]
    r_hat, ess_bulk, ess_tail = summary["r_hat"], summary["ess_bulk"], summary["ess_tail"]
    if r_hat.isna().all() and not not_finite:
        raise ValueError("r_hat is undefined: every checked variable is constant.")
    worst = {
        "r_hat": str(r_hat.idxmax()),
        "ess_bulk": str(ess_bulk.idxmin()),
        "ess_tail": str(ess_tail.idxmin()),
    }
    problems = []
    if not_finite:
        problems.append(
            f"r_hat or ESS undefined (NaN) for {', '.join(not_finite[:5])}, whose draws are not "
            "constant: look for NaN or infinite draws (a Deterministic dividing by zero, an "
            "overflow)"
        )
    if divergences > max_divergences:
        problems.append(
            f"{divergences} divergent transitions (allowed {max_divergences}): raise "
            "target_accept or reparameterise (e.g. non-centered)"
        )
    if r_hat.max() > max_r_hat:
        problems.append(
            f"r_hat {r_hat.max():.3f} > {max_r_hat} for {worst['r_hat']}: chains disagree; "
            "sample longer or fix the model"
        )
    if ess_bulk.min() < min_ess_bulk:
        problems.append(
            f"bulk ESS {ess_bulk.min():.0f} < {min_ess_bulk} for {worst['ess_bulk']}: draw "
            "more samples or reparameterise"
        )
    if min_ess_tail is not None and ess_tail.min() < min_ess_tail:
        problems.append(
            f"tail ESS {ess_tail.min():.0f} < {min_ess_tail} for {worst['ess_tail']}: draw "
            "more samples"
        )
    report = SamplingReport(
        divergences=divergences,
        max_r_hat=float(np.max(r_hat)),
        min_ess_bulk=float(np.min(ess_bulk)),
        min_ess_tail=float(np.min(ess_tail)),
        worst=worst,
        problems=tuple(problems),
        table=summary[["r_hat", "ess_bulk", "ess_tail"]],
        thresholds={
            "divergences": max_divergences,
            "r_hat": max_r_hat,
            "ess_bulk": min_ess_bulk,
            "ess_tail": min_ess_tail,
        },
    )
    if raise_on_failure and not report.ok:
        raise SamplingError("sampling check failed: " + "; ".join(problems))
    return report


def compare_to_reference(
    idata: az.InferenceData,
    reference: pd.DataFrame,
    *,
    max_z: float | None = 4.0,
) -> pd.DataFrame:
    """Compare posterior means with reference values, in units of Monte Carlo error.

    Parameters
    ----------
    idata : arviz.InferenceData
        Result of ``pm.sample``.
    reference : pandas.DataFrame
        Indexed like ``az.summary`` (``theta[0]``, ``mu`` ...) with a ``mean`` column, e.g.
        from :func:`course_utils.exact.hierarchical_beta_binomial`. Rows missing from the
        posterior are ignored (e.g. predictive quantities).
    max_z : float or None, default 4.0
        Raise :class:`SamplingError` when any ``|z|`` exceeds it (``None``: never raise).
        With a correct sampler ``z`` is roughly standard normal, so ``|z| > 4`` for even one
        of a dozen quantities happens by chance less than once in a thousand fits.

    Returns
    -------
    pandas.DataFrame
        Columns ``mcmc_mean``, ``reference_mean``, ``difference``, ``mcse`` and
        ``z = difference / mcse``, one row per shared quantity.
    """
    summary = az.summary(idata, fmt="wide", round_to="none")
    shared = [name for name in reference.index if name in summary.index]
    if not shared:
        raise ValueError(
            f"no quantity of the reference {list(reference.index)} is in the posterior "
            f"{list(summary.index)}: check the variable names and coords."
        )
    table = pd.DataFrame(
        {
            "mcmc_mean": summary.loc[shared, "mean"],
            "reference_mean": reference.loc[shared, "mean"].astype(float),
        }
    )
    table["difference"] = table["mcmc_mean"] - table["reference_mean"]
    table["mcse"] = summary.loc[shared, "mcse_mean"]
    table["z"] = table["difference"] / table["mcse"]
    if max_z is not None and (table["z"].abs() > max_z).any():
        bad = table.index[table["z"].abs() > max_z].tolist()
        raise SamplingError(
            f"posterior means of {bad} differ from the reference by more than {max_z} Monte "
            "Carlo standard errors: the sampler (or the reference) is wrong for this model."
        )
    return table


def compare_runs(
    idata_a: az.InferenceData,
    idata_b: az.InferenceData,
    var_names: Sequence[str] | None = None,
    *,
    max_z: float | None = 4.0,
) -> pd.DataFrame:
    """Compare the posterior means of two independent fits of the same model.

    Where no exact answer exists, two runs with different seeds must agree within their
    combined Monte Carlo error ``sqrt(mcse_a**2 + mcse_b**2)``. Identical draws are refused:
    they would agree trivially and prove nothing.

    Parameters
    ----------
    idata_a, idata_b : arviz.InferenceData
        Two fits of the same model with different random seeds.
    var_names : sequence of str, optional
        Variables to compare (default: all).
    max_z : float or None, default 4.0
        Raise :class:`SamplingError` when any ``|z|`` exceeds it (``None``: never raise).

    Returns
    -------
    pandas.DataFrame
        Columns ``mean_a``, ``mean_b``, ``difference``, ``mcse`` (combined) and ``z``.
    """
    a = az.summary(idata_a, var_names=var_names, fmt="wide", round_to="none")
    b = az.summary(idata_b, var_names=var_names, fmt="wide", round_to="none")
    if not a.index.equals(b.index):
        raise ValueError("the two fits have different variables: fit the same model twice.")
    if all(
        np.array_equal(idata_a.posterior[v].values, idata_b.posterior[v].values)
        for v in (var_names or list(idata_a.posterior.data_vars))
    ):
        raise ValueError(
            "the two fits have identical draws, so they are not independent: sample the "
            "second one with another seed (pm.sample reuses a Generator's state when the same "
            "rng is passed twice; use e.g. random_seed=RANDOM_SEED + 1)."
        )
    table = pd.DataFrame({"mean_a": a["mean"], "mean_b": b["mean"]})
    table["difference"] = table["mean_a"] - table["mean_b"]
    table["mcse"] = np.hypot(a["mcse_mean"], b["mcse_mean"])
    table["z"] = table["difference"] / table["mcse"]
    if max_z is not None and (table["z"].abs() > max_z).any():
        bad = table.index[table["z"].abs() > max_z].tolist()
        raise SamplingError(
            f"two independent runs disagree on {bad} by more than {max_z} Monte Carlo "
            "standard errors: sample longer or check convergence."
        )
    return table
