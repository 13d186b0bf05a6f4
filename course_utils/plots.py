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
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

STYLE_FILE = files("course_utils") / "styles" / "course.mplstyle"

__all__ = [
    "MODEL_COLORS",
    "PPC_COLORS",
    "STYLE_FILE",
    "model_graph",
    "plain_log_axis",
    "plot_forest_comparison",
    "plot_ppc",
    "plot_shrinkage",
    "use_course_style",
]

#: Colours of the models of a comparison plot, in order: black, blue, red, grey. They differ
#: in hue on a screen and in lightness in print.
MODEL_COLORS = ("#000000", "#2a2eec", "#c0392b", "#7f7f7f")
#: Posterior predictive check: replicated data (light grey), observed data (red, thick) and
#: the mean of the replications (blue, dashed).
PPC_COLORS = ("#bdbdbd", "#c0392b", "#2a2eec")
#: Reference lines (a population mean): orange, dashed, unlike any model colour.
REFERENCE_COLOR = "#e69f00"


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
    range, dot: median) with one colour per model (:data:`MODEL_COLORS`). The legend sits
    beside the plot, never over its top rows, and lists the models in the order their rows
    appear, top to bottom.

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
    if len(idatas) > len(MODEL_COLORS):
        raise ValueError(
            f"at most {len(MODEL_COLORS)} models fit one forest plot, got {len(idatas)}."
        )
    forest_kwargs.setdefault("combined", True)
    colors = list(MODEL_COLORS[: len(idatas)])
    axes = az.plot_forest(
        list(idatas.values()),
        model_names=list(idatas),
        var_names=list(var_names),
        hdi_prob=hdi_prob,
        colors=colors,
        ax=ax,
        legend=False,
        **forest_kwargs,
    )
    ax = np.ravel(axes)[0]
    handles = [Line2D([], [], color=c, marker="o", linewidth=2.5) for c in colors]
    labels = list(idatas)
    # Legend entries in the vertical order of the rows: the model drawn highest comes first.
    heights = [_mean_height(ax, color) for color in colors]
    order = sorted(range(len(colors)), key=lambda i: -heights[i])
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    if ref_val is not None:
        handles.append(ax.axvline(ref_val, color=REFERENCE_COLOR, linestyle="--", linewidth=1.5))
        labels.append(ref_label)
    # Beside the plot, never over its top rows.
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    return ax


def _mean_height(ax: Axes, color: str) -> float:
    """Mean height of the lines drawn in ``color`` (where a model's intervals are)."""
    target = np.asarray(plt.matplotlib.colors.to_rgba(color))
    ys = [
        float(np.mean(ydata))
        for line in ax.get_lines()
        if np.allclose(plt.matplotlib.colors.to_rgba(line.get_color()), target)
        and (ydata := np.asarray(line.get_ydata(), dtype=float)).size
    ]
    return float(np.mean(ys)) if ys else 0.0


def plain_log_axis(ax: Axes, axis: str = "x") -> Axes:
    """Label a log axis with plain numbers (1, 2, 5, 10, 20, ...) instead of powers of ten.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes whose ``axis`` is on a log scale.
    axis : {"x", "y"}, default "x"
        Which axis.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> _ = ax.semilogx([1, 30], [0, 1])
    >>> _ = plain_log_axis(ax)
    >>> fig.canvas.draw()
    >>> low, high = ax.get_xlim()
    >>> [t.get_text() for t in ax.get_xticklabels() if low <= t.get_position()[0] <= high]
    ['1', '2', '5', '10', '20']
    """
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    target.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    target.set_minor_formatter(NullFormatter())
    return ax


def plot_ppc(idata: az.InferenceData, *, ax: Axes | None = None, **ppc_kwargs) -> Axes:
    """Posterior predictive check in the course colours: observed data stand out.

    Wraps :func:`arviz.plot_ppc`: the replicated data sets are light grey, the observed data
    a thick red line, and the mean of the replications a dashed blue line, so that the three
    differ on a projector and in a black-and-white print.

    Parameters
    ----------
    idata : arviz.InferenceData
        With ``posterior_predictive`` and ``observed_data`` groups.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    **ppc_kwargs
        Passed on to :func:`arviz.plot_ppc` (e.g. ``num_pp_samples``, ``random_seed``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes with the plot.
    """
    for group in ("posterior_predictive", "observed_data"):
        if group not in idata.groups():
            raise ValueError(
                f"idata has no {group} group: run pm.sample_posterior_predictive(idata, "
                "extend_inferencedata=True) first."
            )
    ppc_kwargs.setdefault("colors", list(PPC_COLORS))
    axes = az.plot_ppc(idata, ax=ax, **ppc_kwargs)
    ax = np.ravel(axes)[0]
    for line in ax.get_lines():
        if line.get_label() == "Observed":
            line.set_linewidth(3.0)
            line.set_zorder(4)
    ax.legend(loc="best")
    return ax


def plot_shrinkage(
    unpooled: Sequence[float],
    hierarchical: Sequence[float],
    group_size: Sequence[int],
    population: float,
    *,
    labels: Sequence[str] | None = None,
    annotate: Sequence[str] = (),
    population_label: str = "population mean (posterior mean)",
    ylabel: str = "group estimate",
    title: str = "Shrinkage: unpooled vs hierarchical estimates",
    ax: Axes | None = None,
) -> Axes:
    """Plot how partial pooling moves group estimates toward the population mean.

    Each group is an arrow from its unpooled estimate (open circle) to its hierarchical
    estimate (filled circle), placed at its group size on a log axis labelled with plain
    numbers. Estimates move toward the posterior mean of the population parameter (e.g.
    ``mu``), not toward the complete-pooling estimate: the two differ when groups have
    unequal sizes. Small groups far from the population mean move the most.

    Parameters
    ----------
    unpooled, hierarchical : sequence of float
        Per-group point estimates (e.g. posterior means) of the two models.
    group_size : sequence of int
        Number of observations per group (> 0).
    population : float
        Posterior mean of the population mean (e.g. of ``mu``), drawn as a horizontal line.
    labels : sequence of str, optional
        Group names, used with ``annotate``.
    annotate : sequence of str, default ()
        Group names to label on the plot.
    population_label : str, default "population mean (posterior mean)"
        Legend label of the horizontal line.
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
    >>> ax = plot_shrinkage([1.0, 3.0], [1.5, 2.5], [2, 10], population=2.0)
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
    ax.axhline(
        population, color=REFERENCE_COLOR, linestyle="--", linewidth=1.5, label=population_label
    )
    for name in annotate:
        j = list(labels or ()).index(name)
        ax.annotate(
            name, (x[j], hier_arr[j]), textcoords="offset points", xytext=(6, 4), fontsize="small"
        )
    ax.set_xscale("log")
    plain_log_axis(ax)
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
