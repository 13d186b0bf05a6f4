# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "title"}}
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
from course_utils.environment import sampler_cores
from course_utils.plots import model_graph, plot_forest_comparison, plot_shrinkage, use_course_style

# %% slideshow={"slide_type": "skip"}
RANDOM_SEED = 4591  # seeds every sampler call
rng = np.random.default_rng(RANDOM_SEED)
CORES = sampler_cores()  # worker processes for the chains
use_course_style()

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "what-is"}}
# ## What is a hierarchical model?
#
# - Also called **multilevel**, **nested** or **mixed-effects** models.
# - For data that **share structure but vary**: observations come in groups, the groups are
#   alike but not identical.
# - Each group gets its own parameters, and those parameters are **drawn from a common
#   distribution** whose parameters are learned too.
# - Groups **borrow strength** from each other: a small group is informed by the large ones.

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "grouped-data"}}
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

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "three-ways"}}
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
# Pooling and no pooling of the means are the two extremes of the hierarchical model:
# $\sigma_\mu \to 0$ forces every $\mu_j$ to the common $\mu_\mu$, $\sigma_\mu \to \infty$ lets
# every $\mu_j$ go its own way (unpooled). The first limit is not the pooled model: it pools
# only the means, and each group keeps its own $\sigma_j$, where the pooled model has one
# $\sigma$. The hierarchical model learns $\sigma_\mu$ from the data, so the data decide how
# much pooling there is. $\mathcal{N}(\text{mean}, \text{sd})$ and
# $\mathcal{HN}(\text{scale})$ as in PyMC.

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "case-study"}}
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

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "data"}}
# ## The data

# %% tags=["hide-input"]
cs[["ID", "aa", "theo", "exp", "diff"]].head(6)

# %% tags=["hide-input"]
print(f"{len(cs)} residues, {len(aa)} amino acids, {counts.min()} to {counts.max()} per amino acid")

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "unpooled-model"}}
# ## The unpooled model
#
# Every amino acid $j$ has its own mean error $\mu_j$ and spread $\sigma_j$:
# $$\text{diff}_i \sim \mathcal{N}(\mu_{j[i]}, \sigma_{j[i]}), \qquad
# \mu_j \sim \mathcal{N}(0, 10), \qquad \sigma_j \sim \mathcal{HN}(10)$$

# %%
with pm.Model(coords=coords) as unpooled_model:
    mu = pm.Normal("mu", mu=0, sigma=10, dims="aa")
    sigma = pm.HalfNormal("sigma", sigma=10, dims="aa")
    y = pm.Normal("y", mu=mu[aa_idx], sigma=sigma[aa_idx], observed=cs["diff"])

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "hierarchical-model"}}
# ## The hierarchical model
#
# The means $\mu_j$ now come from a common distribution with two hyperpriors:
# $$\mu_\mu \sim \mathcal{N}(0, 10), \qquad \sigma_\mu \sim \mathcal{HN}(10)$$
# $$\mu_j \sim \mathcal{N}(\mu_\mu, \sigma_\mu), \qquad \sigma_j \sim \mathcal{HN}(10), \qquad
# \text{diff}_i \sim \mathcal{N}(\mu_{j[i]}, \sigma_{j[i]})$$

# %%
with pm.Model(coords=coords) as hierarchical_model:
    mu_mu = pm.Normal("mu_mu", mu=0, sigma=10)
    mu_sd = pm.HalfNormal("mu_sd", sigma=10)
    mu = pm.Normal("mu", mu=mu_mu, sigma=mu_sd, dims="aa")
    sigma = pm.HalfNormal("sigma", sigma=10, dims="aa")
    y = pm.Normal("y", mu=mu[aa_idx], sigma=sigma[aa_idx], observed=cs["diff"])

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "graph"}}
# ## The hierarchy as a graph

# %% tags=["hide-input", "nbval-ignore-output"]
model_graph(hierarchical_model)

# %% [markdown] slideshow={"slide_type": "notes"}
# Read the graph from the top: the two hyperpriors feed the 19 amino-acid means, which feed
# the likelihood of the 1776 observed differences. The plate labels give the sizes.

# %% slideshow={"slide_type": "skip"}
with unpooled_model:
    unpooled_idata = pm.sample(
        draws=1500,
        tune=1000,
        chains=4,
        cores=CORES,
        random_seed=rng,
        progressbar=False,
        idata_kwargs={"log_likelihood": True},
    )
print(check_sampling(unpooled_idata, var_names=["mu", "sigma"]))

# %% slideshow={"slide_type": "skip"}
with hierarchical_model:
    hierarchical_idata = pm.sample(
        draws=1500,
        tune=1000,
        chains=4,
        cores=CORES,
        random_seed=rng,
        progressbar=False,
        idata_kwargs={"log_likelihood": True},
    )
print(check_sampling(hierarchical_idata, var_names=["mu_mu", "mu_sd", "mu", "sigma"]))

# %% slideshow={"slide_type": "skip"}
population_mean = float(hierarchical_idata.posterior["mu_mu"].mean())
nh_mean = unpooled_idata.posterior["mu"].mean(("chain", "draw")).to_series()
h_mean = hierarchical_idata.posterior["mu"].mean(("chain", "draw")).to_series()
shift = (nh_mean - h_mean).abs().sort_values(ascending=False)
most_shrunk = shift.index[0]
print(
    f"population mean mu_mu {population_mean:.2f} ppm; "
    f"moved most: {most_shrunk} ({shift.iloc[0]:.2f} ppm)"
)

# %% tags=["check"] slideshow={"slide_type": "skip"}
# The slides claim: no estimate moves away from the population mean, every estimate that is
# not within Monte Carlo error of it stays on its side, and the largest move is that of a
# small group. Each comparison allows four (combined) Monte Carlo standard errors.
mcse_nh = az.mcse(unpooled_idata, var_names=["mu"])["mu"].to_series()
mcse_h = az.mcse(hierarchical_idata, var_names=["mu"])["mu"].to_series()
mcse_mu_mu = float(az.mcse(hierarchical_idata, var_names=["mu_mu"])["mu_mu"])
shift_se = np.hypot(mcse_nh, mcse_h)
nh_distance, h_distance = (nh_mean - population_mean).abs(), (h_mean - population_mean).abs()
assert (h_distance - nh_distance < 4 * shift_se).all()
away = nh_distance > 4 * np.hypot(mcse_nh, mcse_mu_mu)
assert ((h_mean - population_mean) * (nh_mean - population_mean) > 0)[away].all()
runner_up = shift.index[1]
assert shift.iloc[0] - shift.iloc[1] > 4 * np.hypot(shift_se[most_shrunk], shift_se[runner_up])
assert counts[most_shrunk] < counts.median()

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "forest"}}
# ## Unpooled vs hierarchical estimates

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(8, 5.6))
ax = plot_forest_comparison(
    {"unpooled": unpooled_idata, "hierarchical": hierarchical_idata},
    ["mu"],
    ref_val=population_mean,
    ref_label=r"population mean $\mu_\mu$",
    title="Mean error per amino acid (94% HDI)",
    xlabel="theoretical - experimental shift (ppm)",
    ax=ax,
)
# One label per amino acid, between its two rows (the legend names the models).
rows = [
    (tick, label.get_text().split("[")[-1].rstrip("]"))
    for tick, label in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)
]
names = list(dict.fromkeys(name for _, name in rows))
middles = [np.mean([tick for tick, name in rows if name == aa_name]) for aa_name in names]
ticks = ax.set_yticks(middles, labels=names)

# %% [markdown]
# Hierarchical estimates move toward the population mean $\mu_\mu$: that is **shrinkage**.

# %% [markdown] slideshow={"slide_type": "notes"}
# Point at a small group far from the dashed line: its hierarchical interval is pulled toward
# the line. Large groups near the line barely move, and none moves away from it (checked in
# the deck's code, within Monte Carlo error).

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "shrinkage-figure"}}
# ## Shrinkage: who moves, and why

# %% tags=["hide-input"]
ax = plot_shrinkage(
    nh_mean,
    h_mean,
    counts.reindex(aa),
    population=population_mean,
    labels=list(aa),
    annotate=[most_shrunk],
    population_label=r"posterior mean of $\mu_\mu$",
    ylabel="posterior mean of $\\mu_j$ (ppm)",
    title=f"Estimates move toward the population mean ({most_shrunk} moves most)",
)
ticks = ax.set_xticks([30, 40, 60, 100, 150], labels=["30", "40", "60", "100", "150"])

# %% [markdown]
# Groups with **few observations** and **extreme estimates** move the most; the size of the move
# is set by $\sigma_\mu$, which is learned from all groups together.

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "why-shrinkage"}}
# ## Why shrinkage stabilises inference
#
# - An extreme estimate from a small group is partly noise; shrinkage pulls it back by an
#   amount that depends on how noisy it is.
# - It trades a little bias for a large reduction in variance: better estimates **on average
#   over groups**, and better predictions for new data.
# - A new group (an amino acid not in the data, a new school) gets a sensible prior:
#   $\mathcal{N}(\mu_\mu, \sigma_\mu)$, not a guess.

# %% [markdown] slideshow={"slide_type": "notes"}
# Stein's result, stated exactly: for $p \ge 3$ independent normal means with a known common
# variance, $x_j \sim \mathcal{N}(\theta_j, \sigma)$, the James-Stein estimator that shrinks
# toward a fixed point has a smaller expected total squared error than the separate estimates
# $x_j$, whatever the $\theta_j$; shrinking toward the estimated common mean $\bar x$ needs
# $p \ge 4$. Efron and Morris showed that it is an empirical Bayes estimate: if
# $\theta_j \sim \mathcal{N}(\mu, \tau)$, the Bayes estimate moves $x_j$ toward $\mu$ by the
# factor $\sigma^2 / (\sigma^2 + \tau^2)$, and James-Stein plugs in an estimate of that factor.
# The hierarchical model is the fully Bayesian version: it averages over $\mu_\mu$ and
# $\sigma_\mu$ instead of plugging in estimates. Our data (unequal, estimated $\sigma_j$) do not
# meet the theorem's conditions: the intuition carries over, the guarantee does not. The
# price of hierarchies: their posteriors can be harder to sample (funnels), so the diagnostics
# matter even more.

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "when-to-stop"}}
# ## Know when to stop
#
# - Every level (amino acid within category within protein...) adds parameters **and
#   interpretive cost**: more to explain, more to check, harder sampling.
# - Occam's razor: add a level when the data support it and the question needs it.
# - Compare models by estimated out-of-sample predictive accuracy (PSIS-LOO):

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
fits = {"unpooled": unpooled_idata, "hierarchical": hierarchical_idata}
with warnings.catch_warnings():
    # ArviZ warns when some Pareto k > 0.7 (a few influential observations); the next cell
    # counts them, so the slide states the problem instead of a warning.
    warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
    loos = {name: az.loo(idata, pointwise=True) for name, idata in fits.items()}
comparison = az.compare(loos)
# Rows in a fixed order: the two models are too close to rank the same way under every seed.
comparison.loc[list(fits), ["elpd_loo", "p_loo", "elpd_diff", "dse"]].round(1)

# %% slideshow={"slide_type": "skip"}
elpd_gap = abs(comparison.loc["hierarchical", "elpd_loo"] - comparison.loc["unpooled", "elpd_loo"])
gap_se = comparison["dse"].max()
high_k = {name: int((loo.pareto_k > 0.7).sum()) for name, loo in loos.items()}
print(f"elpd difference {elpd_gap:.1f} (standard error {gap_se:.1f})")
print(f"observations with Pareto k > 0.7: {high_k}")

# %% tags=["check"] slideshow={"slide_type": "skip"}
# The slide says the two models predict equally well (difference within 2 SE) and the notes
# that at most a few residues have unreliable LOO terms.
assert elpd_gap < 2 * gap_se
assert max(high_k.values()) <= 5

# %% [markdown]
# Here the two models predict equally well (`elpd_diff` well within two `dse`): with 30 or more
# residues per amino acid there is little to borrow. The extra level still earns its place by
# describing the population of amino acids; a further level would have to earn its own.

# %% [markdown] slideshow={"slide_type": "notes"}
# Read `elpd_diff` against `dse`: a difference smaller than about two standard errors means the
# data cannot tell the two models apart in predictive accuracy, and the simpler or more
# interpretable one is a fine choice. `p_loo` is the effective number of parameters. At most a
# few residues have a Pareto $k > 0.7$ (their count is printed in the deck's notebook): their
# LOO terms are approximate, which cannot overturn a difference this small.

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "key-ideas"}}
# ## Key ideas
#
# - Hierarchical models give every group its own parameters drawn from a shared,
#   learned distribution: **partial pooling** between pooled and unpooled.
# - **Shrinkage** moves noisy, small-group estimates toward the population mean, by an amount
#   the data choose through $\sigma_\mu$.
# - Check the sampler (divergences, $\hat{R}$, ESS) and the predictive accuracy (LOO) before
#   trusting, or adding, another level.

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "next-lessons"}}
# ## Where to go next
#
# - **07 · Eight schools**: a meta-analysis, where each school reports an effect with a
#   *known* standard error; the funnel of the centered form on just eight numbers; how the
#   prior on the between-school spread $\tau$ changes the answer.
# - **08 · Radon: what the county tells us**: a **county-level predictor** (soil uranium)
#   that counties shrink toward, the within- and between-county effects of the floor, the
#   share of the variance between counties, and predictions for a new county.
# - **09 · Radon: varying effects that move together**: correlated county intercepts and
#   slopes (an LKJ prior, the Cholesky factor), shrinkage in two dimensions, and a ladder of
#   seven models compared with PSIS-LOO, with a stated rule for when to stop.

# %% [markdown] slideshow={"slide_type": "notes"}
# These lessons build on this deck: 07 is the classic case where few groups say little about
# the population spread, so its prior matters; 08 shows that the population distribution can
# itself be a regression, so groups shrink toward what their own characteristics predict; 09
# lets two effects of a group vary together and puts "know when to stop" to work on real data.

# %% [markdown] slideshow={"slide_type": "slide", "data": {"id": "references"}}
# ## Sources
#
# - Gelman & Hill (2007), *Data Analysis Using Regression and Multilevel/Hierarchical Models*.
# - Gelman et al. (2013), *Bayesian Data Analysis*, 3rd ed.: hierarchical models (ch. 5).
# - Martin (2024), *Bayesian Analysis with Python*, 3rd ed.: the chemical-shift data (ch. 3).
# - McElreath (2020), *Statistical Rethinking*, 2nd ed.: shrinkage (ch. 13).
# - James & Stein (1961); Efron & Morris (1973): Stein's result and empirical Bayes.
# - Vehtari, Gelman & Gabry (2017), *Statistics and Computing* 27: PSIS-LOO.
