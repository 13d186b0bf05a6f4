"""Course plotting style, comparison plots and model graphs.

The heavy lifting is done by ArviZ (forest plots) and PyMC (model graphs); this module only
fixes the course look and the few compositions the lessons repeat.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from importlib.resources import files

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pymc as pm
from IPython.display import Markdown
from matplotlib.axes import Axes

STYLE_FILE = files("course_utils") / "styles" / "course.mplstyle"

__all__ = [
    "STYLE_FILE",
    "model_graph",
    "plot_forest_comparison",
    "plot_shrinkage",
    "use_course_style",
]


def use_course_style() -> None:
    """Apply the course matplotlib style (ArviZ grayscale + ``course.mplstyle``).

    Examples
    --------
    >>> use_course_style()
    >>> import matplotlib as mpl
    >>> mpl.rcParams["axes.titleweight"]
    'bold'
    """
    plt.style.use(["arviz-grayscale", str(STYLE_FILE)])


def plot_forest_comparison(
    idatas: Mapping[str, az.InferenceData],
    var_names: Sequence[str],
    *,
    ref_val: float | None = None,
    ref_label: str = "reference",
    hdi_prob: float = 0.94,
    title: str | None = None,
    xlabel: str | None = None,
    ax: Axes | None = None,
    **forest_kwargs,
) -> Axes:
    """Forest plot of the same variables in several models, with a reference line.

    Wraps :func:`arviz.plot_forest` (thin line: ``hdi_prob`` HDI, thick line: interquartile
    range, dot: median) with one colour per model.

    Parameters
    ----------
    idatas : mapping of str to arviz.InferenceData
        Model name to fit, in the order to draw them.
    var_names : sequence of str
        Variables to show (they must exist in every fit).
    ref_val : float, optional
        Draw a vertical dashed line here (e.g. the posterior mean of a population mean).
    ref_label : str, default "reference"
        Legend label of the reference line.
    hdi_prob : float, default 0.94
        Probability mass of the thin intervals.
    title, xlabel : str, optional
        Axes title and x label.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is created otherwise.
    **forest_kwargs
        Passed on to :func:`arviz.plot_forest`.

    Returns
    -------
    matplotlib.axes.Axes
        The axes with the plot.
    """
    if not idatas:
        raise ValueError("idatas is empty: pass a mapping like {'unpooled': idata_a, ...}.")
    for name, idata in idatas.items():
        missing = [v for v in var_names if v not in idata.posterior]
        if missing:
            raise ValueError(f"model {name!r} has no posterior variable(s) {missing}.")
    forest_kwargs.setdefault("combined", True)
    axes = az.plot_forest(
        list(idatas.values()),
        model_names=list(idatas),
        var_names=list(var_names),
        hdi_prob=hdi_prob,
        ax=ax,
        **forest_kwargs,
    )
    ax = np.ravel(axes)[0]
    if ref_val is not None:
        line = ax.axvline(ref_val, color="C4", linestyle="--", linewidth=1.5, label=ref_label)
        # ArviZ's legend holds one proxy artist per model: keep them and add the line.
        legend = ax.get_legend()
        handles = list(legend.legend_handles) if legend else []
        labels = [t.get_text() for t in legend.get_texts()] if legend else []
        ax.legend([*handles, line], [*labels, ref_label], loc="best")
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    return ax


def plot_shrinkage(
    unpooled: Sequence[float],
    hierarchical: Sequence[float],
    group_size: Sequence[int],
    pooled: float,
    *,
    labels: Sequence[str] | None = None,
    annotate: Sequence[str] = (),
    ylabel: str = "group estimate",
    title: str = "Shrinkage: unpooled vs hierarchical estimates",
    ax: Axes | None = None,
) -> Axes:
    """Plot how partial pooling moves group estimates toward the pooled estimate.

    Each group is an arrow from its unpooled estimate (open circle) to its hierarchical
    estimate (filled circle), placed at its group size on a log axis. Small groups far from
    the pooled estimate move the most.

    Parameters
    ----------
    unpooled, hierarchical : sequence of float
        Per-group point estimates (e.g. posterior means) of the two models.
    group_size : sequence of int
        Number of observations per group (> 0).
    pooled : float
        Complete-pooling estimate, drawn as a horizontal line.
    labels : sequence of str, optional
        Group names, used with ``annotate``.
    annotate : sequence of str, default ()
        Group names to label on the plot.
    ylabel, title : str
        Axis label and title.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is created otherwise.

    Returns
    -------
    matplotlib.axes.Axes
        The axes with the plot.

    Examples
    --------
    >>> ax = plot_shrinkage([1.0, 3.0], [1.5, 2.5], [2, 10], pooled=2.0)
    >>> ax.get_xscale()
    'log'
    """
    unpooled_arr = np.asarray(unpooled, dtype=float)
    hier_arr = np.asarray(hierarchical, dtype=float)
    size_arr = np.asarray(group_size, dtype=float)
    if not (unpooled_arr.shape == hier_arr.shape == size_arr.shape) or unpooled_arr.ndim != 1:
        raise ValueError(
            "unpooled, hierarchical and group_size must be 1-D with one entry per group; got "
            f"shapes {unpooled_arr.shape}, {hier_arr.shape}, {size_arr.shape}."
        )
    if np.any(size_arr <= 0):
        raise ValueError("group_size must be positive (it is drawn on a log axis).")
    if labels is not None and len(labels) != unpooled_arr.size:
        raise ValueError(f"labels must name all {unpooled_arr.size} groups, got {len(labels)}.")
    unknown = set(annotate) - set(labels or ())
    if unknown:
        raise ValueError(f"cannot annotate {sorted(unknown)}: pass them in labels.")
    if ax is None:
        _, ax = plt.subplots()
    # Jitter group sizes a little so that groups of equal size do not hide each other.
    x = size_arr * np.exp(np.linspace(-0.04, 0.04, size_arr.size)[np.argsort(np.argsort(hier_arr))])
    ax.vlines(x, unpooled_arr, hier_arr, color="0.6", linewidth=1)
    ax.scatter(x, unpooled_arr, facecolors="white", edgecolors="C0", label="unpooled", zorder=3)
    ax.scatter(x, hier_arr, color="C0", label="hierarchical", zorder=3)
    ax.axhline(pooled, color="C4", linestyle="--", linewidth=1.5, label="pooled")
    for name in annotate:
        j = list(labels or ()).index(name)
        ax.annotate(
            name, (x[j], hier_arr[j]), textcoords="offset points", xytext=(6, 4), fontsize="small"
        )
    ax.set_xscale("log")
    ax.set_xlabel("observations in group (log scale)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best")
    return ax


def model_graph(model: pm.Model):
    """Draw a model graph, or show it as Mermaid text where Graphviz is missing.

    ``pm.model_to_graphviz`` needs Graphviz's ``dot`` program. Without it the graph is
    returned as a Mermaid diagram in Markdown (JupyterLab renders it), with a note on how
    to install Graphviz, instead of raising.

    Parameters
    ----------
    model : pymc.Model
        The model to draw.

    Returns
    -------
    graphviz.Digraph or IPython.display.Markdown
        Displayed by Jupyter as an SVG graph or as Markdown.
    """
    if shutil.which("dot"):
        return pm.model_to_graphviz(model)
    return Markdown(
        "*Graphviz's `dot` is not installed, so the graph is shown as Mermaid text "
        "(see the README to install Graphviz).*\n\n```mermaid\n"
        + pm.model_to_mermaid(model)
        + "\n```"
    )
