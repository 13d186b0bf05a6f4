# %% [markdown]
# # 03 · Water quality: shrinkage in a hierarchical Beta–Bernoulli model
#
# Water samples from three regions are tested in a lab: each sample is either safe ($y = 1$) or
# not ($y = 0$). We want the share of safe samples in each region, and we want to know what the
# data from one region say about the others.
#
# **Learning goals.** After this notebook you can
#
# 1. write a hierarchical Beta–Bernoulli model in PyMC using the mean–concentration
#    parameterisation $\mathrm{Beta}(\mu, \nu)$ and convert it to $\mathrm{Beta}(\alpha, \beta)$;
# 2. explain *shrinkage*: why each region's estimate is a weighted average of its own data and
#    the common mean, and what sets the weights;
# 3. read the posterior of the population distribution correctly, and see that it belongs to
#    the data set that was fitted;
# 4. explain why three groups say little about the hyperparameter $\nu$, so that its prior
#    decides how strongly the regions are pooled, and show it by comparing priors and
#    posteriors;
# 5. check an MCMC answer against an exact one, in units of its Monte Carlo standard error.

# %% [markdown] tags=["slide"]
# ## The question
#
# Three regions, 30 water samples each, every sample safe or unsafe.
#
# - How safe is the water in each region?
# - Should the estimate for one region depend on what we measured in the *other* regions?
#
# A hierarchical model answers "partly": it learns how similar the regions are, and pulls
# each estimate towards the common mean by that much.

# %%
import math
import warnings

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import preliz as pz
import pymc as pm

from course_utils.checks import water_quality as checks
from course_utils.diagnostics import check_sampling, compare_to_reference
from course_utils.environment import sampler_cores, versions
from course_utils.exact import hierarchical_beta_binomial
from course_utils.plots import model_graph, use_course_style
from course_utils.simulate import simulate_water_quality

# %%
DATA_SEED = 20240403  # simulates the data; the prose describes these data
RANDOM_SEED = 8927  # seeds every sampler and predictive draw
data_rng = np.random.default_rng(DATA_SEED)
rng = np.random.default_rng(RANDOM_SEED)
CORES = sampler_cores()  # worker processes for the chains
use_course_style()
# PreliZ evaluates the Beta density with a compiled PyTensor function; compiling it warns
# that one elementwise operation (x * log y) runs in Numba's slower object mode. The values
# are exact, only the speed is affected.
warnings.filterwarnings("ignore", message="Numba will use object mode", category=UserWarning)

# %% [markdown]
# ## Data: three experiments with fixed counts
#
# The data are simulated, so that we control exactly what the model sees. Each data set has
# three regions with 30 samples each; what changes is how many samples are safe:
#
# | data set | North | Centre | South | what it tests |
# |---|---|---|---|---|
# | `18-18-18` | 18 | 18 | 18 | regions that agree, fairly safe water |
# | `3-3-3` | 3 | 3 | 3 | regions that agree, mostly unsafe water |
# | `18-3-3` | 18 | 3 | 3 | regions that disagree |
#
# `simulate_water_quality` returns one row per sample (long format): `group_idx` says which
# region the sample comes from (0, 1, 2) and `y` whether it is safe. The counts are fixed by
# design; the random generator only decides which rows are the safe ones.

# %%
REGIONS = ["North", "Centre", "South"]
N_SAMPLES = (30, 30, 30)
CONDITIONS = {"18-18-18": (18, 18, 18), "3-3-3": (3, 3, 3), "18-3-3": (18, 3, 3)}
waters = {
    name: simulate_water_quality(data_rng, n=N_SAMPLES, good=good)
    for name, good in CONDITIONS.items()
}
water = waters["18-18-18"]
water.head()

# %% [markdown]
# Counting the safe samples per region recovers the design of each experiment:

# %% tags=["slide"]
counts = pd.DataFrame(
    {name: df.groupby("group_idx")["y"].sum().to_numpy() for name, df in waters.items()},
    index=pd.Index(REGIONS, name="region"),
).rename_axis(columns="safe samples out of 30, data set")
observed = counts / np.array(N_SAMPLES)[:, None]  # observed share of safe samples
counts

# %% [markdown]
# We work through the full workflow on the first data set (`18-18-18`) and then fit the
# other two to see how the estimates change.

# %% [markdown] tags=["slide"]
# ## The model
#
# Region $j$ has a share of safe samples $\theta_j$; sample $i$ comes from region $j[i]$.
# The $\theta_j$ are drawn from one *population distribution* whose parameters are learned too.
#
# $$
# \begin{aligned}
# \mu &\sim \mathrm{Beta}(1, 1) \\
# \nu &\sim \mathrm{HalfNormal}(10) \\
# \theta_j &\sim \mathrm{Beta}(\mu\nu,\ (1 - \mu)\nu), \qquad j = 1, 2, 3 \\
# y_i &\sim \mathrm{Bernoulli}(\theta_{j[i]}), \qquad i = 1, \dots, 90
# \end{aligned}
# $$
#
# Drawing every $\theta_j$ from the same population says that, before seeing the data, we have
# no reason to expect one region to be safer than another: the regions are *exchangeable*
# (see 01).

# %% [markdown]
# ### Mean and concentration instead of $\alpha$ and $\beta$
#
# The usual $\mathrm{Beta}(\alpha, \beta)$ is rewritten with its mean $\mu$ and its
# *concentration* $\nu$:
#
# $$
# \mu = \frac{\alpha}{\alpha + \beta}, \qquad \nu = \alpha + \beta
# \qquad\Longleftrightarrow\qquad
# \alpha = \mu\nu, \qquad \beta = (1 - \mu)\nu,
# \qquad \mathrm{Var}[\theta_j \mid \mu, \nu] = \frac{\mu(1 - \mu)}{\nu + 1}.
# $$
#
# - $\mu \in (0, 1)$ is the typical share of safe samples across regions.
# - $\nu > 0$ says how alike the regions are: large $\nu$, similar regions.
#
# Read $\nu$ as a number of *pseudo-samples*: for given $\mu$ and $\nu$, the posterior mean
# of region $j$, with $s_j$ safe samples out of $n_j$, is
#
# $$
# \mathbb{E}[\theta_j \mid \mu, \nu, y]
# = \frac{\mu\nu + s_j}{\nu + n_j}
# = w_j\,\frac{s_j}{n_j} + (1 - w_j)\,\mu,
# \qquad w_j = \frac{n_j}{n_j + \nu}.
# $$
#
# Each estimate is an **average** of the region's own proportion and the common mean, and
# $\nu$ against $n_j$ sets the weights. That is shrinkage in one line.

# %% [markdown]
# Why not put priors on $\alpha$ and $\beta$ directly? A prior on $(\mu, \nu)$ and a prior on
# $(\alpha, \beta)$ are two different models (04 puts HalfNormal priors on $\alpha$ and
# $\beta$), but $\mu$ and $\nu$ have meanings we can reason about when choosing a prior, and
# in the posterior they are far less correlated than $\alpha$ and $\beta$ (which grow together
# when the data say "similar regions"). Here $\mu \sim \mathrm{Beta}(1, 1)$ is uniform: any
# typical safe share is equally plausible a priori.
#
# The prior $\nu \sim \mathrm{HalfNormal}(10)$ is **not neutral** about pooling. It allows
# regions with little in common (small $\nu$), but it keeps $\nu$ below a few tens: the
# prior probability that $\nu > 30$, i.e. that the population weighs more than a region's own
# 30 samples ($w_j < 1/2$), is only about 0.3% (printed below). This prior all but rules out
# *strong* pooling, in which each region's estimate is mostly the common mean. That is a
# choice, and we will see that with three regions it is the prior, not the data, that decides
# how strongly the regions are pooled. PyMC and PreliZ both accept `Beta(mu=..., nu=...)` and
# do the conversion to $\alpha, \beta$ themselves.

# %%
nu_prior = pz.HalfNormal(sigma=10)
p_strong_pooling = 1 - nu_prior.cdf(30)
nu_95 = nu_prior.ppf(0.95)
print(f"prior P(nu > 30): {p_strong_pooling:.4f}")
print(f"prior 95% quantile of nu: {nu_95:.1f}, where w = 30 / (30 + nu) = {30 / (30 + nu_95):.2f}")

# %% tags=["check"]
# HalfNormal(10): P(nu > 30) = 2 * (1 - Phi(3)) = erfc(3 / sqrt(2)), about 0.27%.
assert math.isclose(p_strong_pooling, math.erfc(3 / math.sqrt(2)), rel_tol=1e-6)

# %% [markdown]
# To fit several data sets with the same model, we wrap the model in a function. This is the
# whole model:


# %%
def build_hierarchical_model(water: pd.DataFrame) -> pm.Model:
    """Hierarchical Beta-Bernoulli model of safe water samples, one theta per region."""
    coords = {"region": REGIONS, "sample": water.index.to_numpy()}
    group_idx = water["group_idx"].to_numpy()
    with pm.Model(coords=coords) as hierarchical_model:
        mu = pm.Beta("mu", alpha=1, beta=1)
        nu = pm.HalfNormal("nu", sigma=10)
        theta = pm.Beta("theta", mu=mu, nu=nu, dims="region")
        pm.Bernoulli("y", p=theta[group_idx], observed=water["y"].to_numpy(), dims="sample")
    return hierarchical_model


hierarchical_model = build_hierarchical_model(water)

# %% [markdown]
# The graph shows the two levels: the hyperparameters $\mu$ and $\nu$ feed the three
# $\theta_j$ (the `region` plate), which feed the 90 observations (the `sample` plate).

# %% tags=["nbval-ignore-output"]
model_graph(hierarchical_model)

# %% [markdown]
# ## Prior predictive check
#
# Before fitting, we simulate data from the priors alone. For every prior draw we count the
# safe samples in each region, which is the scale on which we understand the data.

# %%
with hierarchical_model:
    prior_idata = pm.sample_prior_predictive(draws=4000, random_seed=rng)


# %%
def safe_counts(y: np.ndarray, group_idx: np.ndarray) -> np.ndarray:
    """Safe samples per region in each simulated data set: shape (draws, regions)."""
    y = np.asarray(y).reshape(-1, group_idx.size)  # (chain * draw, sample)
    return np.stack([y[:, group_idx == j].sum(axis=1) for j in range(len(REGIONS))], axis=1)


# %%
group_idx = water["group_idx"].to_numpy()
prior_counts = safe_counts(prior_idata.prior_predictive["y"], group_idx)

# %% [markdown]
# The left panel shows how many safe samples the prior expects in one region, the right panel
# how far apart the safest and the least safe region are, with the gaps of two of our data
# sets marked.

# %%
fig, axs = plt.subplots(1, 2, figsize=(12, 4.5))
bins = np.arange(-0.5, 31.5)
axs[0].hist(prior_counts.ravel(), bins=bins, color="C2", density=True)
axs[0].set(
    xlabel="safe samples in a region (out of 30)",
    ylabel="probability",
    title="Prior predictive: one region",
)
spread = prior_counts.max(axis=1) - prior_counts.min(axis=1)
axs[1].hist(spread, bins=bins, color="C2", density=True)
axs[1].set(
    xlabel="most minus least safe region (samples)",
    ylabel="probability",
    title="Prior predictive: spread of regions",
)
for k, name in enumerate(["18-18-18", "18-3-3"]):
    gap = counts[name].max() - counts[name].min()
    axs[1].axvline(gap, color=f"C{4 + k}", linestyle="--", label=f"data {name}")
axs[1].legend()
plt.show()

# %%
extreme = np.mean((prior_counts <= 2) | (prior_counts >= 28))
uniform = 6 / 31  # the same share if every count 0..30 were equally likely
print(f"share of simulated regions with <= 2 or >= 28 safe samples: {extreme:.2f}")
print(f"  (equally likely counts would give {uniform:.2f})")
print(f"share of simulated data sets whose regions differ by >= 15: {np.mean(spread >= 15):.2f}")

# %% tags=["check"]
assert extreme > 1.5 * uniform

# %% [markdown]
# The prior is vague on the scale of the data: a region can have any number of safe samples,
# with extra weight on the extremes (printed above), which come from small $\nu$: a U-shaped
# population distribution makes regions almost all safe or almost all unsafe. The right panel
# is the part specific to a hierarchical model: the prior allows regions that agree (a spread
# of 0, like `18-18-18`) as well as very different ones (like `18-3-3`). But agreeing counts
# do not need a large $\nu$: three regions drawn from a wide population often land close to
# each other by chance. So this picture does not show how much the prior lets the regions be
# *pooled*; that is set by $\nu$, where the prior has a firm opinion ($\nu > 30$ has prior
# probability 0.3%), and we will see that three regions do not change it much.
#
# ## Sampling and diagnostics

# %%
with hierarchical_model:
    hierarchical_idata = pm.sample(
        draws=1000, tune=500, chains=4, cores=CORES, random_seed=rng, progressbar=False
    )

# %%
report = check_sampling(hierarchical_idata, var_names=["mu", "nu", "theta"])
report.to_frame()

# %% tags=["check"]
assert report.min_ess_bulk > 1000

# %% [markdown]
# No divergences, $\hat R \le 1.01$ and thousands of effective draws: the checks pass (the
# cell raises otherwise). The trace plot shows the same thing visually: the four chains
# overlap in the left column and look like stationary noise in the right column.

# %%
axes = az.plot_trace(
    hierarchical_idata, var_names=["mu", "nu", "theta"], compact=True, figsize=(12, 7)
)
axes[0, 0].figure.suptitle("Trace plot, data 18-18-18", fontweight="bold")
for ax in axes[:, 0]:
    ax.set(xlabel="parameter value", ylabel="density")
for ax in axes[:, 1]:
    ax.set(xlabel="draw", ylabel="value")
plt.show()

# %% [markdown]
# The posterior of every parameter, with its 94% highest density interval (HDI, see 01):

# %%
axes = az.plot_posterior(
    hierarchical_idata, var_names=["mu", "nu", "theta"], grid=(2, 3), figsize=(13, 7), textsize=12
)
axes[0, 0].figure.suptitle("Posterior distributions (94% HDI), data 18-18-18", fontweight="bold")
axes[0, 0].figure.supxlabel("parameter value")
plt.show()

# %%
az.summary(hierarchical_idata, var_names=["mu", "nu", "theta"])

# %% [markdown]
# All three regions have the same data, so their $\theta_j$ have the same posterior
# (the summary shows three nearly equal means: the small differences are Monte Carlo noise,
# as we verify against an exact calculation below). Compare the width of each interval
# with the range of its parameter: the $\theta_j$ are reasonably well determined, while
# $\nu$ remains very uncertain, a point we come back to.
#
# We claimed that $\mu$ and $\nu$ are less correlated in the posterior than $\alpha$ and
# $\beta$. The posterior draws of $(\mu, \nu)$ give draws of $(\alpha, \beta)$ directly:

# %%
post = hierarchical_idata.posterior
alpha, beta = post["mu"] * post["nu"], (1 - post["mu"]) * post["nu"]
corr_mu_nu = np.corrcoef(post["mu"].values.ravel(), post["nu"].values.ravel())[0, 1]
corr_alpha_beta = np.corrcoef(alpha.values.ravel(), beta.values.ravel())[0, 1]
print(f"posterior correlation: mu, nu {corr_mu_nu:.2f}; alpha, beta {corr_alpha_beta:.2f}")

# %% tags=["check"]
assert abs(corr_mu_nu) < 0.3 < corr_alpha_beta

# %% [markdown]
# The draws of $\alpha$ and $\beta$ rise and fall together (a long diagonal ridge in the
# posterior), while $\mu$ and $\nu$ vary almost independently: the mean of the population is
# learned separately from how alike the regions are.
#
# ## Posterior predictive check
#
# We simulate new data sets from the fitted model and compare them with the observed one.

# %%
with hierarchical_model:
    # var_names also sidesteps a PyMC 5.28 bug: without it the call registers the observed
    # variable twice and the model can no longer be sampled.
    hierarchical_idata.extend(
        pm.sample_posterior_predictive(
            hierarchical_idata, var_names=["y"], random_seed=rng, progressbar=False
        )
    )

# %% [markdown]
# The usual first plot, `az.plot_ppc`, compares the distribution of the raw observations
# with simulated ones. For 0/1 data that distribution is a single number, the overall share
# of safe samples among all 90, and any model with a free mean reproduces it: the plot
# cannot see the regions, so it cannot test the hierarchy. A more informative check uses the
# quantity the model is about, the **number of safe samples per region**: for every
# posterior predictive draw we count the safe samples in each region and compare the counts
# with the observed ones.

# %%
post_counts = safe_counts(hierarchical_idata.posterior_predictive["y"], group_idx)
fig, axs = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
for j, ax in enumerate(axs):
    ax.hist(post_counts[:, j], bins=bins, color="C2", density=True, label="predicted")
    ax.axvline(counts.iloc[j]["18-18-18"], color="C4", linestyle="--", label="observed")
    ax.set(title=REGIONS[j], xlabel="safe samples (out of 30)")
axs[0].set_ylabel("probability")
axs[0].legend(loc="upper left")
fig.suptitle("Posterior predictive safe counts per region, data 18-18-18", fontweight="bold")
plt.show()

# %%
ppc_p = (post_counts >= counts["18-18-18"].to_numpy()).mean(axis=0)
print(
    "P(predicted count >= observed) per region:",
    {r: round(float(p), 2) for r, p in zip(REGIONS, ppc_p, strict=True)},
)

# %% tags=["check"]
assert np.all((ppc_p > 0.1) & (ppc_p < 0.9))

# %% [markdown]
# Each observed count sits in the middle of its predictive distribution (the printed
# tail probabilities are far from 0 and 1), so the model reproduces what each region shows.
# The predictive spread is wider than binomial noise alone, because it also carries the
# uncertainty about $\theta_j$.
#
# ## The shrinkage experiment
#
# Now we fit the same model to the other two data sets. With only 3 of 30 safe samples in a
# region, that region's share is small and the data say little about $\nu$, so the posterior
# is harder to explore: smaller steps (`target_accept=0.95`) keep NUTS free of divergences
# under other seeds too.

# %%
hierarchical_idatas = {"18-18-18": hierarchical_idata}
for name in ["3-3-3", "18-3-3"]:
    with build_hierarchical_model(waters[name]):
        hierarchical_idatas[name] = pm.sample(
            draws=1000,
            tune=1000,
            chains=4,
            cores=CORES,
            target_accept=0.95,
            random_seed=rng,
            progressbar=False,
        )
    check_sampling(hierarchical_idatas[name], var_names=["mu", "nu", "theta"])

# %% [markdown]
# Both fits pass the same checks (the cell would raise otherwise). One table compares the
# three posteriors:

# %%
shrinkage_table = pd.concat(
    {
        name: az.summary(fit, kind="stats")[["mean", "sd"]]
        for name, fit in hierarchical_idatas.items()
    },
    axis=1,
    names=["data set", "statistic"],
)
shrinkage_table

# %% [markdown]
# What should the mixed data set `18-3-3` give? A tempting guess is a **mixture**: North is
# estimated as in the `18-18-18` experiment, Centre and South as in `3-3-3`, and the
# population distribution has two bumps, one per kind of region. The table says otherwise.
# The next cell puts each region's estimate beside its observed share and beside its
# estimate from the experiment where all regions had the same count.

# %%
means = shrinkage_table.xs("mean", axis=1, level="statistic")
mixed = means["18-3-3"]
theta_rows = [f"theta[{r}]" for r in REGIONS]
same_data_fit = [means.loc["theta[North]", "18-18-18"]] + list(
    means.loc[["theta[Centre]", "theta[South]"], "3-3-3"]
)
w = N_SAMPLES[0] / (N_SAMPLES[0] + mixed["nu"])  # weight of a region's own data
regions_mixed = pd.DataFrame(
    {
        "observed share": observed["18-3-3"].to_numpy(),
        "fit, all regions alike": same_data_fit,
        "fit, mixed data": mixed[theta_rows].to_numpy(),
        "w * share + (1 - w) * mu": w * observed["18-3-3"].to_numpy() + (1 - w) * mixed["mu"],
    },
    index=pd.Index(REGIONS, name="region"),
)
print(f"w = {w:.2f}; mu = {mixed['mu']:.2f}; nu = {mixed['nu']:.1f}")
print(f"mean of the observed shares: {observed['18-3-3'].mean():.2f}")
regions_mixed.round(3)

# %% tags=["check"]
# One population with a mean in between, and wider than in either uniform experiment:
assert means.loc["mu", "3-3-3"] < mixed["mu"] < means.loc["mu", "18-18-18"]
assert abs(mixed["mu"] - observed["18-3-3"].mean()) < 0.05
assert mixed["nu"] < means.loc["nu", ["18-18-18", "3-3-3"]].min()
# North pulled down, Centre and South pulled up, compared with the uniform experiments:
alike, fit_mixed = regions_mixed["fit, all regions alike"], regions_mixed["fit, mixed data"]
assert fit_mixed["North"] < alike["North"]
assert (fit_mixed[["Centre", "South"]] > alike[["Centre", "South"]]).all()
# The one-line shrinkage formula at the posterior means reproduces the estimates to 0.01
# (the exact gap is below 0.005; the Monte Carlo error of the gap is about 0.001):
assert np.allclose(fit_mixed, regions_mixed["w * share + (1 - w) * mu"], atol=0.01)

# %%
shift = (fit_mixed - regions_mixed["observed share"]).abs()
farthest = (regions_mixed["observed share"] - mixed["mu"]).abs().idxmax()
print(f"region farthest from mu: {farthest}; moved by {shift.max():.3f} from its observed share")

# %% tags=["check"]
assert shift.idxmax() == farthest

# %% [markdown]
# The mixed case is not a mixture but an **average pulled to the common mean**:
#
# - There is one population distribution, with one mean $\mu$. Its posterior mean lies
#   between those of the two uniform experiments, close to the average of the three observed
#   shares (both printed above).
# - $\nu$ is smaller than in either uniform experiment: regions that disagree are evidence for
#   a wider population, and a wider population pulls less.
# - Every region moves towards $\mu$: North *down* compared with the all-18 experiment,
#   Centre and South *up* compared with the all-3 experiment. The last column of the table
#   is the one-line formula $w\,s_j/n_j + (1 - w)\,\mu$ evaluated at the posterior means of
#   $\mu$ and $\nu$ (with the printed weight $w$), and it matches the MCMC estimates to within
#   0.01. The region farthest from the common mean moves most (printed above).
#
# (The hidden cells tagged `check` assert each of these statements.)
#
# ## The posterior of the population distribution
#
# The population distribution $\mathrm{Beta}(\mu, \nu)$ is itself uncertain: every posterior
# draw of $(\mu, \nu)$ is one plausible curve. We draw 100 of them for each data set with
# PreliZ, which evaluates all of them in one call when given arrays of parameters, plus the
# curve at the posterior means of $\mu$ and $\nu$.

# %%
x = np.linspace(0.001, 0.999, 400)


def plot_population(fit: az.InferenceData, shares: pd.Series, ax: plt.Axes) -> plt.Axes:
    """Draw Beta(mu, nu) for 100 posterior draws and at the posterior means."""
    draws = az.extract(fit, var_names=["mu", "nu"], num_samples=100, rng=rng)
    mu = np.append(draws["mu"].to_numpy(), fit.posterior["mu"].mean().item())
    nu = np.append(draws["nu"].to_numpy(), fit.posterior["nu"].mean().item())
    pdf = pz.Beta(mu=mu, nu=nu).pdf(x[:, None])  # shape (x, curve)
    ax.plot(x, pdf[:, :-1], color="C2", alpha=0.2, linewidth=1)
    ax.plot(x, pdf[:, -1], color="C0", linewidth=3, label="at posterior mean of $\\mu, \\nu$")
    ax.plot(shares, np.zeros(len(shares)), "v", color="C4", markersize=12, label="observed")
    ax.set(title=f"data {shares.name}", xlabel="$\\theta$ (share of safe samples)", ylim=(0, 7))
    return ax


# %% tags=["slide", "slide-hide-input"]
fig, axs = plt.subplots(1, 3, figsize=(14, 4.5), sharey=True)
for ax, (name, fit) in zip(axs, hierarchical_idatas.items(), strict=True):
    ax = plot_population(fit, observed[name], ax)
axs[0].set_ylabel("population density")
axs[0].legend(loc="upper right")
fig.suptitle(
    "Posterior of the population distribution Beta($\\mu$, $\\nu$), one per data set",
    fontweight="bold",
)
plt.show()

# %%
alpha_mixed, beta_mixed = mixed["mu"] * mixed["nu"], (1 - mixed["mu"]) * mixed["nu"]
mode = (alpha_mixed - 1) / (alpha_mixed + beta_mixed - 2)
print(f"18-3-3 at the posterior means: alpha = {alpha_mixed:.2f}, beta = {beta_mixed:.2f}")
print(f"its mode: {mode:.2f}")

# %% tags=["check"]
assert alpha_mixed > 1 and beta_mixed > 1  # a single hump, not two
assert observed["18-3-3"].min() < mode < observed["18-3-3"].max()

# %% [markdown]
# Read the three panels as three different answers to three different questions:
# **each picture is the posterior given the data set that was fitted.** It is not a property of
# the model alone, and a figure drawn after fitting several data sets in a loop shows only the
# last one. A common confusion is to look at the `18-3-3` panel and see in it a summary of all
# the experiments, or to expect two bumps in it, one at 0.6 for North and one at 0.1 for the
# others. A $\mathrm{Beta}(\mu, \nu)$ population can never have two bumps inside $(0, 1)$:
# it is a single hump, a U or a J. At the posterior means both $\alpha$ and $\beta$ exceed 1
# (printed above), so the thick curve is a single hump with its mode between the observed
# shares. The data from North and from Centre and South pull on *one* population, which
# becomes wider and moves to the middle.
#
# The thin curves show how uncertain the population is after seeing only three regions. Some
# draws are U-shaped (small $\nu$), others narrow (large $\nu$).
#
# ### Why shrinkage is desirable
#
# Shrinkage looks like bias, and it is: the estimate for North is below North's observed
# share. What does it buy? For *normal* data there is a theorem (James and Stein, 1961): if
# $x_1, \dots, x_p$ are independent, $x_j \sim \mathrm{Normal}(\theta_j, \sigma)$ with
# $\sigma$ known and the same for all, then shrinking the $x_j$ towards any fixed point by
# the James–Stein rule gives a smaller expected total squared error than the raw $x_j$, for
# *every* value of $\theta_1, \dots, \theta_p$, as long as $p \ge 3$. Shrinking towards the
# estimated common mean $\bar x$ instead (Lindley's form, which Efron and Morris studied)
# needs $p \ge 4$.
# Our estimates are proportions, not normal means with one known variance (the variance of a
# proportion depends on $\theta_j$), so the theorem does not cover them, and three regions
# would be too few for its second form anyway.
#
# What does hold for proportions is a Bayesian statement: **if** the regions' shares are draws
# from the population the model describes, the posterior mean has the smallest expected
# squared error, averaged over that population, of all estimates, for any number of regions.
# With $\mu$ and $\nu$ known it is the one-line formula above, and a short calculation
# ($\mathbb{E}[(s_j/n_j - \theta_j)^2] = \mathbb{E}[\theta_j(1 - \theta_j)]/n_j$, and the
# shrunken estimate mixes this error with $\mathrm{Var}[\theta_j] = \mu(1 - \mu)/(\nu + 1)$)
# gives its expected squared error as exactly $w_j = n_j / (n_j + \nu)$ times that of the
# raw proportion:
#
# $$
# \mathbb{E}\big[(s_j/n_j - \theta_j)^2\big] = \frac{\mu(1 - \mu)\,\nu}{(\nu + 1)\,n_j},
# \qquad
# \mathbb{E}\big[(w_j s_j/n_j + (1 - w_j)\mu - \theta_j)^2\big]
# = \frac{\mu(1 - \mu)\,\nu}{(\nu + 1)(n_j + \nu)}.
# $$
#
# The next cell checks this by simulation for a population like the one fitted to `18-3-3`
# ($\mu = 0.3$, $\nu = 6$, 30 samples per region). No guarantee covers a particular set of
# true shares, and in practice $\mu$ and $\nu$ are estimated, from only three regions here,
# which makes the gain smaller than this and, as the next sections show, dependent on the
# prior for $\nu$.


# %%
def squared_errors(
    mu: float, nu: float, n: int, size: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Squared errors of the raw and the shrunken estimate for regions drawn from Beta(mu, nu)."""
    theta = rng.beta(mu * nu, (1 - mu) * nu, size=size)
    safe = rng.binomial(n, theta)
    w = n / (n + nu)
    return pd.DataFrame(
        {
            "raw share": (safe / n - theta) ** 2,
            "shrunken": (w * safe / n + (1 - w) * mu - theta) ** 2,
        }
    )


mu_pop, nu_pop, n_pop = 0.3, 6.0, 30
errors = squared_errors(mu_pop, nu_pop, n_pop, size=200_000, rng=rng)
variance_term = mu_pop * (1 - mu_pop) * nu_pop / (nu_pop + 1)
risk = pd.DataFrame(
    {
        "simulated": errors.mean(),
        "mcse": errors.std() / np.sqrt(len(errors)),
        "formula": variance_term / np.array([n_pop, n_pop + nu_pop]),
    }
).rename_axis("expected squared error")
ratio = risk.loc["shrunken", "simulated"] / risk.loc["raw share", "simulated"]
print(f"ratio shrunken / raw: simulated {ratio:.3f}, w = {n_pop / (n_pop + nu_pop):.3f}")
risk.round(5)

# %% tags=["check"]
assert (abs(risk["simulated"] - risk["formula"]) < 4 * risk["mcse"]).all()

# %% [markdown]
# Shrinkage also protects against extreme estimates from small samples: a region with 0 safe
# samples out of 5 gets an estimate of 0 from its own data, which nobody believes; the
# hierarchical model gives a small but positive share. And the amount of pooling is learned
# from the data, not fixed by us, **but** with three regions the data say little about
# $\nu$, so its prior has the last word. The next two sections show that.
#
# ### Why three groups say little about $\nu$
#
# $\mu$ and $\nu$ are learned from the three $\theta_j$, as if we had a sample of size three
# from the population. Thirty water samples per region pin down each $\theta_j$ fairly well,
# but no number of samples per region turns three regions into more than three draws from the
# population. Compare the prior and posterior of the hyperparameters (the prior's mean and sd
# are known in closed form):

# %%
mu_prior = pz.Beta(alpha=1, beta=1)
prior_stats = pd.DataFrame(
    {
        "mean": [float(mu_prior.mean()), float(nu_prior.mean())],
        "sd": [float(mu_prior.std()), float(nu_prior.std())],
    },
    index=["mu", "nu"],
)
hyper = pd.concat(
    {"prior": prior_stats}
    | {
        name: az.summary(fit, var_names=["mu", "nu"], kind="stats")[["mean", "sd"]]
        for name, fit in hierarchical_idatas.items()
    },
    names=["distribution", "parameter"],
)
sd = hyper["sd"].astype(float).unstack("parameter")
sd_ratio = (sd.drop(index="prior") / sd.loc["prior"]).round(2)
print("posterior sd / prior sd:")
print(sd_ratio)
hyper.astype(float).round(3)

# %% tags=["check"]
assert (sd_ratio["nu"] > 0.5).all() and (sd_ratio["mu"] < 0.5).all()
# Agreeing regions: the posterior sd of nu is the prior's (exact ratios 1.03 and 1.04).
assert sd_ratio.loc[["18-18-18", "3-3-3"], "nu"].between(0.85, 1.15).all()

# %% [markdown]
# The plot overlays the prior density of $\nu$ (from the prior predictive draws) with its
# three posteriors:

# %%
ax = az.plot_dist(
    prior_idata.prior["nu"],
    color="C4",
    label="prior HalfNormal(10)",
    plot_kwargs={"linestyle": "--"},
)
styles = {"18-18-18": ("C0", "-"), "3-3-3": ("C5", "-."), "18-3-3": ("C1", ":")}
for name, (color, linestyle) in styles.items():
    ax = az.plot_dist(
        hierarchical_idatas[name].posterior["nu"],
        color=color,
        label=f"posterior, data {name}",
        plot_kwargs={"linestyle": linestyle},
        ax=ax,
    )
ax.set(
    title="Prior and posteriors of $\\nu$: still wide",
    xlabel="$\\nu$ (concentration)",
    ylabel="density",
    xlim=(0, 40),
)
plt.show()

# %% [markdown]
# The posterior sd of $\mu$ is less than half its prior sd in every experiment: the data
# locate the population. The posterior sd of $\nu$ keeps more than half of its prior sd, and
# in the two experiments where the regions agree it is about the prior sd itself (the
# printed ratios are close to 1). The data have not narrowed $\nu$ at all; they only moved
# its mass a little towards larger values, and the HalfNormal(10) prior keeps it below a few
# tens. The plot tells the same story: the posteriors of $\nu$ are reshaped
# versions of the prior, not narrow peaks. Disagreeing regions shift the mass of $\nu$ to
# smaller values, but with three regions the data cannot rule out much.
#
# So for these data **the prior decides how strongly the regions are pooled**. The *amount*
# of shrinkage is itself uncertain, which the model propagates into the $\theta_j$
# automatically, but the range of that uncertainty is set by the prior on $\nu$. To see how
# much that matters we need the posterior under other priors, and for this model there is a
# cheaper way to get it than MCMC.
#
# ## Is MCMC right?
#
# For this model, the posterior can also be computed without sampling: each $\theta_j$ can be
# integrated out analytically (the beta-binomial distribution), which leaves a
# two-dimensional integral over $(\mu, \nu)$ that an adaptive grid evaluates to within
# $10^{-5}$ (the accuracy `hierarchical_beta_binomial` promises, far below any Monte Carlo
# error here). We compare it with the MCMC fit of the mixed data set.


# %%
def exact_posterior(name: str, scale: float = 10.0) -> pd.DataFrame:
    """Exact posterior means and sds for one data set, with nu ~ HalfNormal(scale)."""
    return hierarchical_beta_binomial(
        counts[name].to_numpy(), N_SAMPLES, parameterization="mu_nu", scale=scale, labels=REGIONS
    )


exact = exact_posterior("18-3-3")
mcmc = az.summary(hierarchical_idatas["18-3-3"], kind="stats")[["mean", "sd"]]
pd.concat({"exact": exact, "MCMC": mcmc}, axis=1).round(3)

# %%
comparison = compare_to_reference(hierarchical_idatas["18-3-3"], exact)
comparison.round(4)

# %% [markdown]
# The columns `difference` and `mcse` put the two answers on the right scale: the MCMC mean
# differs from the exact mean by an amount comparable to its Monte Carlo standard error:
# $z$ = difference / MCSE is of order one, as it should be for a correct sampler
# (`compare_to_reference` raises if any $|z| > 4$). The other two data sets pass the same
# test. When reading the printed values, remember that $z$ is roughly standard normal for a
# correct sampler: with 15 quantities compared, one $|z|$ between 2 and 3 is common and one
# slightly above 3 happens in a few percent of runs. A real error looks different: $|z|$
# keeps growing when you draw more samples, because the MCSE shrinks and the bias does not.


# %%
max_z = {
    name: compare_to_reference(fit, exact_posterior(name))["z"].abs().max()
    for name, fit in hierarchical_idatas.items()
}
print("largest |z| per data set:", {name: round(float(z), 2) for name, z in max_z.items()})

# %% [markdown]
# Agreement in units of MCSE means the sampler explores this posterior correctly: the
# remaining differences, such as the small differences between the MCMC means of regions
# with identical data (whose exact posteriors are identical), are Monte Carlo noise that
# shrinks like $1/\sqrt{\text{ESS}}$. Agreement does not say the *model* is right, only that MCMC
# computed its posterior correctly.
#
# ## What the prior on $\nu$ decides
#
# The exact calculation takes a fraction of a second, so we can ask what the posterior would
# be under a prior that allows strong pooling: $\nu \sim \mathrm{HalfNormal}(100)$ (argument
# `scale`). The table shows, for each data set and each prior, the posterior mean of $\nu$ and
# the posterior mean and sd of North's share.

# %%
PRIOR_SCALES = {"HalfNormal(10)": 10.0, "HalfNormal(100)": 100.0}
for label, scale in PRIOR_SCALES.items():
    p_above = 1 - pz.HalfNormal(sigma=scale).cdf(30)
    prior_mean = scale * math.sqrt(2 / math.pi)
    print(f"{label}: prior mean of nu {prior_mean:.1f}, P(nu > 30) {p_above:.3f}")
by_prior = pd.DataFrame(
    {
        (label, name): exact_posterior(name, scale).loc[["nu", "theta[North]"]].stack()
        for label, scale in PRIOR_SCALES.items()
        for name in CONDITIONS
    }
).T
by_prior.columns = [f"{quantity} {statistic}" for quantity, statistic in by_prior.columns]
by_prior = by_prior.rename_axis(["prior of nu", "data set"])
by_prior.round(3)

# %% tags=["check"]
nu_mean = by_prior["nu mean"].unstack("prior of nu")
north_mean = by_prior["theta[North] mean"].unstack("prior of nu")
north_sd = by_prior["theta[North] sd"].unstack("prior of nu")
wide, strong = PRIOR_SCALES
agree = ["18-18-18", "3-3-3"]
# Agreeing regions: the posterior of nu follows its prior up (about 12 -> about 100) ...
assert (nu_mean.loc[agree, strong] > 5 * nu_mean.loc[agree, wide]).all()
# ... and the regions borrow more from each other: North's posterior is narrower.
assert north_sd.loc["18-18-18", strong] < 0.9 * north_sd.loc["18-18-18", wide]
# Disagreeing regions rule out the largest nu, yet North is pulled further towards mu.
assert nu_mean.loc["18-3-3", strong] < 0.2 * 100 * math.sqrt(2 / math.pi)
assert north_mean.loc["18-3-3", strong] < north_mean.loc["18-3-3", wide] - 0.01

# %% [markdown]
# HalfNormal(100) is no more neutral than HalfNormal(10): it puts about three quarters of its
# mass above $\nu = 30$ (printed above), so it *favours* strong pooling. Under it:
#
# - with regions that agree, the posterior of $\nu$ again follows the prior, up from about 12
#   to about 100, and the $\theta_j$ become narrower (smaller sd for North), because each
#   region now borrows much more from the other two;
# - with regions that disagree (`18-3-3`), the data do rule out the largest values of $\nu$
#   (the posterior mean stays far below the prior mean of 80), but North is still pulled
#   further towards $\mu$ than under HalfNormal(10).
#
# With three regions no prior on $\nu$ is neutral: each one decides how strongly the regions
# are pooled. Choose it for what it says about the regions (can a population be worth more
# than 30 samples of a region's own?), report how the answer changes under a reasonable
# alternative, as here, or collect more regions (Exercise 1).

# %% [markdown]
# ## Exercises
#
# The exact calculation is a quick laboratory for "what if" questions about the hierarchy;
# Exercise 3 asks you to change the PyMC model itself. Each exercise ends with a cell that
# checks your answer: run it once your answer is stored under the names the exercise gives.
# It tells you whether the answer is correct; if not, how far it is from the expected one, or
# which common mistake it looks like. For an MCMC answer it first asks whether your chains
# converged, then compares within the answer's Monte Carlo standard error: it is designed to
# fail a correct answer in fewer than one check in a thousand.
#
# **Exercise 1 — more regions.** Suppose the mixed pattern were observed in 30 regions: ten
# copies of (18, 3, 3), 30 samples each. Use `hierarchical_beta_binomial` to compare the
# posterior sd of $\mu$ and $\nu$ with the three-region case (store the two sds for 30
# regions, $\mu$ first, in `thirty_sd`). What do more groups buy?

# %% tags=["solution"]
three = hierarchical_beta_binomial([18, 3, 3], [30] * 3, parameterization="mu_nu")
thirty = hierarchical_beta_binomial([18, 3, 3] * 10, [30] * 30, parameterization="mu_nu")
thirty_sd = thirty.loc[["mu", "nu"], "sd"]
print("sd ratio, 3 / 30 regions:", (three["sd"] / thirty["sd"])[["mu", "nu"]].round(1).to_dict())
pd.concat(
    {"3 regions": three.loc[["mu", "nu"]], "30 regions": thirty.loc[["mu", "nu"]]}, axis=1
).round(3)

# %% tags=["answer-check"]
checks.more_regions(thirty_sd)

# %% [markdown] tags=["solution"]
# With ten times as many regions the posterior sd of both hyperparameters drops by a factor
# of about three (roughly $\sqrt{10}$): the hyperparameters are learned from the number of
# *groups*, just as an ordinary mean is learned from the number of observations.

# %% [markdown]
# **Exercise 2 — more samples per region.** Now keep three regions but test 300 samples in
# each, with the same shares: (180, 30, 30) safe. How far is North pulled from its observed
# share now (store North's posterior mean in `north_300`), and is $\nu$ better determined
# than with 30 samples?

# %% tags=["solution"]
small = hierarchical_beta_binomial([18, 3, 3], [30] * 3, parameterization="mu_nu", labels=REGIONS)
big = hierarchical_beta_binomial([180, 30, 30], [300] * 3, parameterization="mu_nu", labels=REGIONS)
north_300 = big.loc["theta[North]", "mean"]
print(f"North: observed 0.600, estimate {north_300:.3f} (n = 300)")
pd.concat({"n = 30": small, "n = 300": big}, axis=1).round(3)

# %% tags=["answer-check"]
checks.north_with_more_samples(north_300)

# %% [markdown] tags=["solution"]
# With 300 samples the weight $w_j = n_j/(n_j + \nu)$ of each region's own data is close to
# 1, so North stays close to 0.6: shrinkage fades as the data per group grow. But the
# posterior sd of $\nu$ improves only a little (and that of $\mu$ not at all): more samples per
# region sharpen the $\theta_j$, not the population. Only more regions do that.

# %% [markdown]
# **Exercise 3 — change the model.** Write a version of `build_hierarchical_model` whose
# concentration has the prior that allows strong pooling, $\nu \sim \mathrm{HalfNormal}(100)$.
# Fit it to the `18-18-18` data with MCMC, check the sampling with `check_sampling`, and check
# the result against the exact posterior with `compare_to_reference` (the helper's argument
# `scale=100`). Call the fit `strong_pooling_idata`. Does MCMC agree with the exact answer?
# Compare the posterior sd of the $\theta_j$ with the fit under HalfNormal(10).


# %% tags=["solution"]
def build_strong_pooling_model(water: pd.DataFrame) -> pm.Model:
    """The hierarchical model with nu ~ HalfNormal(100): strong pooling is allowed."""
    coords = {"region": REGIONS, "sample": water.index.to_numpy()}
    group_idx = water["group_idx"].to_numpy()
    with pm.Model(coords=coords) as strong_pooling_model:
        mu = pm.Beta("mu", alpha=1, beta=1)
        nu = pm.HalfNormal("nu", sigma=100)
        theta = pm.Beta("theta", mu=mu, nu=nu, dims="region")
        pm.Bernoulli("y", p=theta[group_idx], observed=water["y"].to_numpy(), dims="sample")
    return strong_pooling_model


with build_strong_pooling_model(waters["18-18-18"]):
    strong_pooling_idata = pm.sample(
        draws=1500, tune=1000, chains=4, cores=CORES, random_seed=rng, progressbar=False
    )
print(check_sampling(strong_pooling_idata, var_names=["mu", "nu", "theta"]))
compare_to_reference(strong_pooling_idata, exact_posterior("18-18-18", scale=100.0)).round(4)

# %% tags=["solution"]
theta_sd = pd.DataFrame(
    {
        label: fit.posterior["theta"].std(("chain", "draw")).to_series()
        for label, fit in {
            "HalfNormal(10)": hierarchical_idata,
            "HalfNormal(100)": strong_pooling_idata,
        }.items()
    }
).rename_axis(columns="posterior sd, prior of nu")
theta_sd.round(3)

# %% tags=["answer-check"]
checks.strong_pooling_fit(strong_pooling_idata, counts, N_SAMPLES)

# %% [markdown] tags=["solution"]
# Changing one line of the model changes the posterior, and MCMC computes the new posterior
# correctly: the sampling checks pass and every $|z|$ is small (the cell would raise
# otherwise). Under HalfNormal(100) the $\theta_j$ are narrower, because the model now
# believes the three regions are close copies of each other and lets each borrow strength
# from the other two, and the data of three agreeing regions do not contradict that belief.

# %% [markdown]
# **Exercise 4 — posterior predictive check of the mixed fit.** Shrinkage pulls North's
# estimate below its observed share. Does the fitted model still reproduce the observed count
# of 18 in North? Sample the posterior predictive for the `18-3-3` fit and compute, for each
# region, the probability that a simulated count is at least the observed one (store the
# three probabilities in `p_at_least`).

# %% tags=["solution"]
with build_hierarchical_model(waters["18-3-3"]):
    ppc_mixed = pm.sample_posterior_predictive(
        hierarchical_idatas["18-3-3"], var_names=["y"], random_seed=rng, progressbar=False
    )
mixed_counts = safe_counts(
    ppc_mixed.posterior_predictive["y"], waters["18-3-3"]["group_idx"].to_numpy()
)
p_at_least = (mixed_counts >= counts["18-3-3"].to_numpy()).mean(axis=0)
print(
    "P(simulated >= observed):",
    {r: round(float(p), 2) for r, p in zip(REGIONS, p_at_least, strict=True)},
)
assert 0.05 < p_at_least[0] < 0.5

# %% tags=["answer-check"]
checks.predictive_tail(p_at_least, hierarchical_idatas, counts, N_SAMPLES)

# %% [markdown] tags=["solution"]
# North's observed count lies above the middle of its predictive distribution, as expected
# after shrinkage, but far from the tail (the printed probability is well above 0.05):
# with 30 samples, a shift of a few hundredths in $\theta$ is small compared with the
# binomial noise of a count. The model fits all three regions; shrinkage would only become
# a misfit if the regions were far more different than one Beta population allows.

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - $\mathrm{Beta}(\mu, \nu)$: mean $\mu$ and concentration $\nu$, with $\alpha = \mu\nu$,
#   $\beta = (1 - \mu)\nu$; $\nu$ acts as a number of pseudo-samples.
# - Each group estimate is an average of its own proportion and the common mean, with weight
#   $n_j / (n_j + \nu)$: that is shrinkage. If the groups come from the assumed population,
#   it lowers the expected squared error by the factor $n_j / (n_j + \nu)$.
# - Disagreeing groups give one wider population and estimates pulled to the middle, not a
#   mixture of separate answers.
# - A posterior picture of the population belongs to the data set that was fitted.
# - Few groups mean weak information about the hyperparameters, whatever the sample size
#   per group: with three regions the prior on $\nu$ decides how strongly they are pooled.
#   Say what it assumes, and show the answer under an alternative.
# - An exact reference checks MCMC in units of its Monte Carlo error.

# %% [markdown]
# ## References
#
# - Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B.
#   (2013). *Bayesian Data Analysis*, 3rd ed. CRC Press. Chapter 5: hierarchical models, the
#   beta-binomial model of rat tumours and the prior on its hyperparameters.
# - Gelman, A. and Hill, J. (2007). *Data Analysis Using Regression and Multilevel/Hierarchical
#   Models*. Cambridge University Press. Partial pooling as a weighted average (chapter 12).
# - Martin, O. A. (2024). *Bayesian Analysis with Python*, 3rd ed. Packt. The chapter on
#   hierarchical models: the water-quality example and the mean–concentration form of the
#   Beta distribution.
# - McElreath, R. (2020). *Statistical Rethinking*, 2nd ed. CRC Press. Chapter 13: shrinkage
#   and pooling in multilevel models.
# - James, W. and Stein, C. (1961). Estimation with quadratic loss. *Proceedings of the Fourth
#   Berkeley Symposium on Mathematical Statistics and Probability* 1, 361–379. The theorem
#   quoted in "Why shrinkage is desirable".
# - Efron, B. and Morris, C. (1973). Stein's estimation rule and its competitors — an empirical
#   Bayes approach. *Journal of the American Statistical Association* 68, 117–130. Shrinking
#   towards the estimated mean ($p \ge 4$).
#
# ## Versions

# %%
print(versions())
