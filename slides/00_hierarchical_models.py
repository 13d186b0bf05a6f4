# %% [markdown] slideshow={"slide_type": "slide"}
# # Hierarchical models
#
# ### Partial pooling, shrinkage, and knowing when to stop
#
# Case study: how far off are theoretical chemical shifts, amino acid by amino acid?

# %% [markdown] slideshow={"slide_type": "notes"}
# Every figure and table in this deck comes from the two chemical-shift models that were fitted
# when the deck was executed: nothing is pasted in. Press `s` for this speaker view, `f` for
# full screen, `Esc` for the overview.

# %% slideshow={"slide_type": "skip"}

import warnings

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pymc as pm

from course_utils.data import load_chemical_shifts
from course_utils.diagnostics import check_sampling
from course_utils.plots import model_graph, plot_forest_comparison, plot_shrinkage, use_course_style

# %% slideshow={"slide_type": "skip"}
RANDOM_SEED = 4591
rng = np.random.default_rng(RANDOM_SEED)
use_course_style()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What is a hierarchical model?
#
# - Also called **multilevel**, **nested** or **mixed-effects** models.
# - For data that **share structure but vary**: observations come in groups, the groups are
#   alike but not identical.
# - Each group gets its own parameters, and those parameters are **drawn from a common
#   distribution** whose parameters are learned too.
# - Groups **borrow strength** from each other: a small group is informed by the large ones.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Grouped data is everywhere
#
# | Groups | Observations |
# |---|---|
# | cities | monthly sales of a product |
# | schools | test scores of students |
# | subjects | repeated measurements on the same person or machine |
# | patient subgroups | response to a treatment in medical research |
# | consumer segments | preferences in market research |
#
# The question is always the same: how much should one group's estimate listen to the others?

# %% [markdown] slideshow={"slide_type": "notes"}
# Ask the audience for their own example before showing the table. The common thread: a few
# groups have lots of data, many have little, and we want a sensible estimate for every group,
# including a group we have not seen yet.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Three ways to model groups
#
# **Pooled**: one parameter for everybody; group differences are ignored.
# $$y_{ij} \sim \mathcal{N}(\mu, \sigma)$$
#
# **Unpooled**: one independent parameter per group; groups learn nothing from each other.
# $$y_{ij} \sim \mathcal{N}(\mu_j, \sigma_j), \qquad \mu_j \sim \mathcal{N}(0, 10)$$
#
# **Hierarchical**: group parameters share a prior whose own parameters have priors
# (**hyperpriors**).
# $$y_{ij} \sim \mathcal{N}(\mu_j, \sigma_j), \qquad \mu_j \sim \mathcal{N}(\mu_\mu, \sigma_\mu),
# \qquad \mu_\mu \sim \mathcal{N}(0, 10), \quad \sigma_\mu \sim \mathcal{HN}(10)$$

# %% [markdown] slideshow={"slide_type": "notes"}
# Pooling and no pooling are the two extremes of the hierarchical model: $\sigma_\mu \to 0$
# forces every $\mu_j$ to the common $\mu_\mu$ (pooled), $\sigma_\mu \to \infty$ lets every
# $\mu_j$ go its own way (unpooled). The hierarchical model learns $\sigma_\mu$ from the data,
# so the data decide how much pooling there is.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Case study: chemical shifts
#
# Chemical shifts are measured by NMR and predicted by quantum-chemistry calculations.
# For each residue of several proteins we have the difference
# $\text{diff} = \delta_\text{theo} - \delta_\text{exp}$ (ppm), labelled by amino acid.
#
# Does the calculation err the same way for every amino acid?

# %% slideshow={"slide_type": "skip"}
cs = load_chemical_shifts()
aa_idx, aa = cs["aa"].cat.codes.to_numpy(), cs["aa"].cat.categories
coords = {"aa": aa}
counts = cs["aa"].value_counts()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data

# %% tags=["hide-input"]
cs[["ID", "aa", "theo", "exp", "diff"]].head(6)

# %% tags=["hide-input"]
print(f"{len(cs)} residues, {len(aa)} amino acids, {counts.min()} to {counts.max()} per amino acid")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The unpooled model
#
# Every amino acid $j$ has its own mean error $\mu_j$ and spread $\sigma_j$:
# $$\text{diff}_i \sim \mathcal{N}(\mu_{j[i]}, \sigma_{j[i]}), \qquad
# \mu_j \sim \mathcal{N}(0, 10), \qquad \sigma_j \sim \mathcal{HN}(10)$$

# %%
with pm.Model(coords=coords) as cs_nh_model:
    mu = pm.Normal("mu", mu=0, sigma=10, dims="aa")
    sigma = pm.HalfNormal("sigma", sigma=10, dims="aa")
    y = pm.Normal("y", mu=mu[aa_idx], sigma=sigma[aa_idx], observed=cs["diff"])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The hierarchical model
#
# The means $\mu_j$ now come from a common distribution with two hyperpriors:
# $$\mu_\mu \sim \mathcal{N}(0, 10), \qquad \sigma_\mu \sim \mathcal{HN}(10)$$
# $$\mu_j \sim \mathcal{N}(\mu_\mu, \sigma_\mu), \qquad \sigma_j \sim \mathcal{HN}(10), \qquad
# \text{diff}_i \sim \mathcal{N}(\mu_{j[i]}, \sigma_{j[i]})$$

# %%
with pm.Model(coords=coords) as cs_h_model:
    mu_mu = pm.Normal("mu_mu", mu=0, sigma=10)
    mu_sd = pm.HalfNormal("mu_sd", sigma=10)
    mu = pm.Normal("mu", mu=mu_mu, sigma=mu_sd, dims="aa")
    sigma = pm.HalfNormal("sigma", sigma=10, dims="aa")
    y = pm.Normal("y", mu=mu[aa_idx], sigma=sigma[aa_idx], observed=cs["diff"])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The hierarchy as a graph

# %% tags=["hide-input", "nbval-ignore-output"]
model_graph(cs_h_model)

# %% [markdown] slideshow={"slide_type": "notes"}
# Read the graph from the top: the two hyperpriors feed the 19 amino-acid means, which feed
# the likelihood of the 1776 observed differences. The plate labels give the sizes.

# %% slideshow={"slide_type": "skip"}
with cs_nh_model:
    cs_nh_idata = pm.sample(
        tune=500,
        random_seed=rng,
        progressbar=False,
        chains=4,
        cores=4,
        idata_kwargs={"log_likelihood": True},
    )
report = check_sampling(cs_nh_idata, var_names=["mu", "sigma"])
print(report)

# %% slideshow={"slide_type": "skip"}
with cs_h_model:
    cs_h_idata = pm.sample(
        tune=500,
        random_seed=rng,
        progressbar=False,
        chains=4,
        cores=4,
        idata_kwargs={"log_likelihood": True},
    )
report = check_sampling(cs_h_idata, var_names=["mu_mu", "mu_sd", "mu", "sigma"])
print(report)

# %% slideshow={"slide_type": "skip"}
global_mean = float(cs_h_idata.posterior["mu_mu"].mean())
nh_mean = cs_nh_idata.posterior["mu"].mean(("chain", "draw")).to_series()
h_mean = cs_h_idata.posterior["mu"].mean(("chain", "draw")).to_series()
shift = (nh_mean - h_mean).abs()
most_shrunk = shift.idxmax()
# The slides below claim these: every estimate moves toward the global mean, and the largest
# move is that of a small group.
assert ((h_mean - global_mean).abs() < (nh_mean - global_mean).abs()).all()
assert counts[most_shrunk] < counts.median()
print(f"global mean {global_mean:.2f} ppm; most shrunk: {most_shrunk} ({shift.max():.2f} ppm)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Unpooled vs hierarchical estimates

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(8, 5.8))
ax = plot_forest_comparison(
    {"unpooled": cs_nh_idata, "hierarchical": cs_h_idata},
    ["mu"],
    ref_val=global_mean,
    ref_label=r"global mean $\mu_\mu$",
    title="Mean error per amino acid (94% HDI)",
    xlabel="theoretical - experimental shift (ppm)",
    ax=ax,
)

# %% [markdown]
# Every hierarchical estimate sits closer to the global mean: that is **shrinkage**.

# %% [markdown] slideshow={"slide_type": "notes"}
# Point at a small group far from the dashed line: its hierarchical interval is pulled toward
# the line. Large groups near the line barely move.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Shrinkage: who moves, and why

# %% tags=["hide-input"]
ax = plot_shrinkage(
    nh_mean,
    h_mean,
    counts.reindex(aa),
    pooled=cs["diff"].mean(),
    labels=list(aa),
    annotate=[most_shrunk],
    ylabel="posterior mean of $\\mu_j$ (ppm)",
    title=f"Estimates move toward the pooled mean ({most_shrunk} moves most)",
)

# %% [markdown]
# Groups with **few observations** and **extreme estimates** move the most; the size of the move
# is set by $\sigma_\mu$, which is learned from all groups together.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why shrinkage stabilises inference
#
# - An extreme estimate from a small group is partly noise; shrinkage pulls it back by an
#   amount that depends on how noisy it is.
# - It trades a little bias for a large reduction in variance: better estimates **on average
#   over groups**, and better predictions for new data.
# - A new group (an amino acid not in the data, a new school) gets a sensible prior:
#   $\mathcal{N}(\mu_\mu, \sigma_\mu)$, not a guess.

# %% [markdown] slideshow={"slide_type": "notes"}
# This is the James-Stein phenomenon in Bayesian form: for three or more normal means,
# shrinking toward a common value beats estimating each mean separately in total squared
# error. The price: hierarchical posteriors can be harder to sample (funnels), so the
# diagnostics matter even more.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Know when to stop
#
# - Every level (amino acid within category within protein...) adds parameters **and
#   interpretive cost**: more to explain, more to check, harder sampling.
# - Occam's razor: add a level when the data support it and the question needs it.
# - Compare models by estimated out-of-sample predictive accuracy (PSIS-LOO):

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
with warnings.catch_warnings():
    # ArviZ warns when some Pareto k > 0.7 (a few influential observations); the next cell
    # counts them, so the slide states the problem instead of a warning.
    warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
    comparison = az.compare({"unpooled": cs_nh_idata, "hierarchical": cs_h_idata})
    loos = {
        name: az.loo(idata, pointwise=True)
        for name, idata in {"unpooled": cs_nh_idata, "hierarchical": cs_h_idata}.items()
    }
comparison[["rank", "elpd_loo", "p_loo", "elpd_diff", "dse", "weight"]].round(1)

# %% slideshow={"slide_type": "skip"}
best, diff, dse = comparison.index[0], comparison["elpd_diff"].iloc[1], comparison["dse"].iloc[1]
high_k = {name: int((loo.pareto_k > 0.7).sum()) for name, loo in loos.items()}
# The slide says the two models predict equally well (difference within 2 SE) and the notes
# that only a few residues have unreliable LOO terms.
assert diff < 2 * dse
assert max(high_k.values()) <= 5
print(f"best: {best}; elpd difference {diff:.1f} (standard error {dse:.1f})")
print(f"observations with Pareto k > 0.7: {high_k}")

# %% [markdown]
# Here the two models predict equally well (`elpd_diff` well within two `dse`): with 30 or more
# residues per amino acid there is little to borrow. The extra level still earns its place by
# describing the population of amino acids; a further level would have to earn its own.

# %% [markdown] slideshow={"slide_type": "notes"}
# Read `elpd_diff` against `dse`: a difference smaller than about two standard errors means the
# data cannot tell the two models apart in predictive accuracy, and the simpler or more
# interpretable one is a fine choice. `p_loo` is the effective number of parameters. A few
# residues have a Pareto $k > 0.7$ (their count is printed in the deck's notebook): their LOO
# terms are approximate, which cannot overturn a difference this small.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Key ideas
#
# - Hierarchical models give every group its own parameters drawn from a shared,
#   learned distribution: **partial pooling** between pooled and unpooled.
# - **Shrinkage** moves noisy, small-group estimates toward the global mean, by an amount the
#   data choose through $\sigma_\mu$.
# - Check the sampler (divergences, $\hat{R}$, ESS) and the predictive accuracy (LOO) before
#   trusting, or adding, another level.
