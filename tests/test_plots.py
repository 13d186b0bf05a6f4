import arviz as az
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pymc as pm
import pytest
from IPython.display import Markdown

from course_utils import plots


def _idata(seed, mean):
    rng = np.random.default_rng(seed)
    return az.from_dict(
        posterior={"mu": rng.normal(mean, 1, size=(2, 200, 3))},
        coords={"aa": ["ALA", "GLY", "PRO"]},
        dims={"mu": ["aa"]},
    )


def test_course_style_is_grayscale_first_and_large():
    with mpl.rc_context():
        plots.use_course_style()
        colors = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
        rgb = mpl.colors.to_rgba_array(colors[:4])[:, :3]
        assert np.allclose(rgb.max(axis=1), rgb.min(axis=1)), "first colours are gray"
        assert mpl.rcParams["axes.labelsize"] >= 14
        assert mpl.rcParams["xtick.labelsize"] >= 12


def test_forest_comparison_draws_every_model_and_the_reference():
    ax = plots.plot_forest_comparison(
        {"unpooled": _idata(0, 0.0), "hierarchical": _idata(1, 0.5)},
        ["mu"],
        ref_val=0.25,
        ref_label="mean of mu_mu",
        title="mu by amino acid",
    )
    assert ax.get_title() == "mu by amino acid"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"unpooled", "hierarchical", "mean of mu_mu"} <= set(labels)
    vlines = [ln for ln in ax.get_lines() if np.allclose(ln.get_xdata(), 0.25)]
    assert vlines, "reference line at 0.25"
    tick_text = " ".join(t.get_text() for t in ax.get_yticklabels())
    assert "PRO" in tick_text


def _row_height(ax, label):
    return [t.get_position()[1] for t in ax.get_yticklabels() if t.get_text().startswith(label)]


def test_forest_comparison_colours_differ_and_the_legend_follows_the_rows():
    names = ["complete pooling", "no pooling", "partial pooling"]
    ax = plots.plot_forest_comparison(
        {name: _idata(i, float(i)) for i, name in enumerate(names)}, ["mu"], ref_val=0.0
    )
    legend = ax.get_legend()
    entries = [t.get_text() for t in legend.get_texts()]
    tops = {name: max(_row_height(ax, name)) for name in names}
    assert entries[:3] == sorted(names, key=lambda n: -tops[n]), "legend in row order"
    colours = [h.get_color() for h in legend.legend_handles[:3]]
    assert len(set(colours)) == 3 and plots.REFERENCE_COLOR not in colours
    grey = [c for c in colours if len({c[1:3], c[3:5], c[5:7]}) == 1]
    assert len(grey) <= 1, "at most one model in a grey"
    # The legend is outside the axes: its left edge is right of the plotting area.
    ax.figure.canvas.draw()
    box = legend.get_window_extent()
    assert box.x0 >= ax.get_window_extent().x1


def test_ppc_shows_observed_data_apart_from_the_replications():
    rng = np.random.default_rng(0)
    idata = az.from_dict(
        posterior={"mu": rng.normal(size=(2, 50))},
        posterior_predictive={"y": rng.normal(size=(2, 50, 30))},
        observed_data={"y": rng.normal(size=30)},
    )
    ax = plots.plot_ppc(idata, num_pp_samples=20, random_seed=1)
    lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    observed, mean = lines["Observed"], lines["Posterior predictive mean"]
    assert observed.get_color() != mean.get_color()
    assert observed.get_linewidth() > mean.get_linewidth()
    assert mean.get_linestyle() == "--"
    with pytest.raises(ValueError, match="no posterior_predictive group"):
        plots.plot_ppc(az.from_dict(posterior={"mu": rng.normal(size=(2, 5))}))


def test_forest_comparison_rejects_missing_variables():
    with pytest.raises(ValueError, match=r"model 'a' has no posterior variable\(s\) \['sigma'\]"):
        plots.plot_forest_comparison({"a": _idata(0, 0), "b": _idata(1, 0)}, ["sigma"])
    with pytest.raises(ValueError, match="idatas is empty"):
        plots.plot_forest_comparison({}, ["mu"])


def test_shrinkage_plot_draws_arrows_from_unpooled_to_hierarchical():
    fig, ax = plt.subplots()
    out = plots.plot_shrinkage(
        [1.0, 5.0, 3.0],
        [2.0, 4.0, 3.0],
        [1, 2, 20],
        population=3.0,
        labels=["a", "b", "c"],
        annotate=["a"],
        ax=ax,
    )
    assert out is ax and ax.get_xscale() == "log"
    segments = ax.collections[0].get_segments()
    assert len(segments) == 3
    starts = sorted(seg[0][1] for seg in segments)
    ends = sorted(seg[1][1] for seg in segments)
    assert starts == [1.0, 3.0, 5.0] and ends == [2.0, 3.0, 4.0]
    assert [t.get_text() for t in ax.texts] == ["a"]
    [line] = [ln for ln in ax.get_lines() if np.allclose(ln.get_ydata(), 3.0)]
    assert line.get_label() == "population mean (posterior mean)"
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    ax.figure.canvas.draw()
    shown = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "10" in shown and not any("^" in t or "times" in t for t in shown), shown


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unpooled": [1.0, 2.0], "hierarchical": [1.0], "group_size": [1, 2]}, "one entry"),
        ({"unpooled": [1.0], "hierarchical": [1.0], "group_size": [0]}, "positive"),
        (
            {"unpooled": [1.0], "hierarchical": [1.0], "group_size": [1], "labels": ["a", "b"]},
            "labels must name all 1",
        ),
        (
            {
                "unpooled": [1.0],
                "hierarchical": [1.0],
                "group_size": [1],
                "labels": ["a"],
                "annotate": ["z"],
            },
            r"cannot annotate \['z'\]",
        ),
    ],
)
def test_shrinkage_plot_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plots.plot_shrinkage(population=0.0, **kwargs)


def _tiny_model():
    with pm.Model(coords={"g": ["a", "b"]}) as model:
        mu = pm.Normal("mu", 0, 1)
        pm.Normal("theta", mu, 1, dims="g")
    return model


def test_model_graph_uses_graphviz_when_dot_is_installed(monkeypatch):
    monkeypatch.setattr(plots.shutil, "which", lambda name: "/usr/bin/dot")
    graph = plots.model_graph(_tiny_model())
    assert "theta" in graph.source and "mu" in graph.source


def test_model_graph_falls_back_to_mermaid_without_dot(monkeypatch):
    monkeypatch.setattr(plots.shutil, "which", lambda name: None)
    shown = plots.model_graph(_tiny_model())
    assert isinstance(shown, Markdown)
    assert "```mermaid" in shown.data and "theta" in shown.data
    assert "Graphviz" in shown.data
