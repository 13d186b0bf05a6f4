# %% [markdown]
# # 05 · Radon in Minnesota homes: varying intercepts and slopes
#
# Radon is a radioactive gas that seeps from the ground into houses. It is colourless and
# odourless, and it is the second leading cause of lung cancer after smoking. The US
# Environmental Protection Agency (EPA) measured it in homes across the United States; this
# lesson uses the 919 Minnesota homes of that survey, spread over 85 counties, as analysed by
# Gelman & Hill (*Data Analysis Using Regression and Multilevel/Hierarchical Models*, 2007).
#
# Two things drive the radon level of a home: where it is (the county's soil and geology) and
# where in the house it was measured (basements sit closer to the ground). Many counties have
# only a handful of measured homes, so estimating each county on its own is hopeless, while
# ignoring counties throws away real differences. A hierarchical model sits in between.
#
# **Learning goals.** After this lesson you can
#
# - fit complete pooling, no pooling and partial pooling to the same data and say how they
#   differ;
# - let both the intercept and the slope of a regression vary by group;
# - recognise a *funnel* from its symptoms (divergences, high $\hat R$, low effective sample
#   size) and remove it with a non-centered parameterisation;
# - compare two samplers fairly: the same model, the same settings, effective samples per unit
#   of work;
# - read a shrinkage plot and predict for a county with a single measured home;
# - check a model that has no exact answer by comparing two independent runs.
#
# HDI, $\hat R$, the effective sample size (ESS) and non-centering were introduced in lesson 01;
# here we use them.

# %% [markdown] tags=["slide"]
# ## The question
#
# How much radon should a Minnesota family expect in its home, **given its county and the
# floor** where it measures, even in a county where only one home was ever measured?

# %%
import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm

from course_utils.checks import radon as checks
from course_utils.data import load_radon
from course_utils.diagnostics import check_sampling, compare_runs
from course_utils.environment import sampler_cores, versions
from course_utils.plots import model_graph, plot_ppc, plot_shrinkage, use_course_style

# %%
RANDOM_SEED = 5052  # seeds every sampler and predictive draw
rng = np.random.default_rng(RANDOM_SEED)
CORES = sampler_cores()  # worker processes for the chains
use_course_style()

# %% [markdown]
# ## The data
#
# Each row is one home: its county, the floor of the measurement (`floor`: 0 = basement,
# 1 = first floor) and the logarithm of the radon concentration in picocuries per litre
# (`log_radon`). `log_uranium` is a county-level soil measurement that we keep for an exercise.

# %%
radon = load_radon()
radon.head()

# %% [markdown]
# The model code needs integer county indices and numeric arrays. The county categories are in
# file order; naming them in `coords` lets every summary say `alpha[AITKIN]` instead of
# `alpha[0]`.

# %%
county_idx = radon["county"].cat.codes.to_numpy()
coords = {"county": radon["county"].cat.categories}
floor = radon["floor"].to_numpy()
log_radon = radon["log_radon"].to_numpy()

# %%
homes_per_county = radon.groupby("county", observed=True).size().reindex(coords["county"])
print(f"{len(radon)} homes in {homes_per_county.size} counties")
print(f"counties with a single home: {(homes_per_county == 1).sum()}")
homes_per_county.describe().round(1)

# %%
radon.groupby("floor")["log_radon"].agg(homes="size", mean="mean", sd="std").round(2)

# %% tags=["slide", "slide-hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(12, 4.5))
axs[0].hist(homes_per_county, bins=np.geomspace(1, 128, 15), color="C1", edgecolor="white")
axs[0].set(xscale="log", xlabel="homes measured in the county (log scale)", ylabel="counties")
axs[0].set_title("Most counties have few homes")
for value, name in enumerate(["basement", "first floor"]):
    axs[1].hist(log_radon[floor == value], bins=25, density=True, alpha=0.6, label=name)
axs[1].set(xlabel="log radon (log pCi/L)", ylabel="density")
axs[1].set_title("Basements have more radon")
legend = axs[1].legend()

# %% [markdown]
# The left panel counts counties by their number of measured homes, the right one compares the
# readings of basements and first floors. Half the counties have at most 5 measured homes (the
# median above) while the largest has 116: county estimates will be of very unequal quality.
# First-floor measurements are rarer and lower on average than basement ones, as expected for a
# gas coming from the ground.
#
# We follow one county through the lesson: among the counties with the fewest homes, the one
# whose measurements sit farthest from the statewide mean, where the three models disagree most.

# %%
county_mean = radon.groupby("county", observed=True)["log_radon"].mean()
fewest = homes_per_county.index[homes_per_county == homes_per_county.min()]
focus_county = (county_mean[fewest] - log_radon.mean()).abs().idxmax()
print(f"counties with {homes_per_county.min()} home(s): {list(fewest)}")
print(f"focus county: {focus_county}")
radon[radon["county"] == focus_county]

# %% [markdown]
# ## Complete pooling: one regression for the whole state
#
# The simplest model ignores counties. For home $i$ with log radon $y_i$ and floor $x_i$:
#
# $$
# \begin{aligned}
# y_i &\sim \mathrm{Normal}(\alpha + \beta x_i,\ \varepsilon), \\
# \alpha,\ \beta &\sim \mathrm{Normal}(0, 10), \qquad \varepsilon \sim \mathrm{HalfCauchy}(5).
# \end{aligned}
# $$
#
# $\alpha$ is the mean log radon of a basement, $\beta$ the change from basement to first floor
# and $\varepsilon$ the spread of homes around that line. The priors are deliberately vague, as
# in the classic analysis of these data.

# %%
with pm.Model() as pooled_model:
    alpha = pm.Normal("alpha", mu=0, sigma=10)
    beta = pm.Normal("beta", mu=0, sigma=10)
    eps = pm.HalfCauchy("eps", beta=5)
    pm.Normal("obs", mu=alpha + beta * floor, sigma=eps, observed=log_radon)

# %%
with pooled_model:
    pooled_idata = pm.sample(
        draws=500, tune=500, chains=4, cores=CORES, random_seed=rng, progressbar=False
    )

# %%
print(check_sampling(pooled_idata))
az.summary(pooled_idata, kind="stats")

# %% [markdown]
# ## No pooling: a separate regression for every county
#
# At the other extreme every county $j$ gets its own intercept and slope, with the same vague
# priors and nothing shared between counties except the noise level:
#
# $$
# y_i \sim \mathrm{Normal}(\alpha_{j[i]} + \beta_{j[i]} x_i,\ \varepsilon), \qquad
# \alpha_j,\ \beta_j \sim \mathrm{Normal}(0, 10), \qquad \varepsilon \sim \mathrm{HalfCauchy}(5).
# $$
#
# $j[i]$ is the county of home $i$: in the code, `alpha[county_idx]`.

# %%
with pm.Model(coords=coords) as unpooled_model:
    alpha = pm.Normal("alpha", mu=0, sigma=10, dims="county")
    beta = pm.Normal("beta", mu=0, sigma=10, dims="county")
    eps = pm.HalfCauchy("eps", beta=5)
    mu = alpha[county_idx] + beta[county_idx] * floor
    pm.Normal("obs", mu=mu, sigma=eps, observed=log_radon)

# %% [markdown]
# A note on sampling cost. NUTS learns the scale of every parameter while it tunes; before its
# first estimate it treats them all as having scale 1. Here the slopes of counties without a
# first-floor home keep their prior standard deviation of 10, while the intercepts of large
# counties are pinned down precisely, so the first tuning iterations build very long
# trajectories. During the first 200 tuning iterations PyMC caps each trajectory at
# `early_max_treedepth` tree doublings: by default 8, or $2^8 - 1 = 255$ leapfrog steps.
# `early_max_treedepth=5` lowers that cap to $2^5 - 1 = 31$ steps. After those 200 iterations
# the usual cap applies, `max_treedepth=10` ($2^{10} - 1 = 1023$ steps), which we leave at its
# default. The posterior is unchanged; tuning just gets through that phase more cheaply. The
# later models use the same setting.

# %%
with unpooled_model:
    unpooled_idata = pm.sample(
        draws=2000,
        tune=1000,
        chains=4,
        cores=CORES,
        early_max_treedepth=5,
        random_seed=rng,
        progressbar=False,
    )

# %%
print(check_sampling(unpooled_idata))
az.summary(
    unpooled_idata, var_names=["alpha", "beta"], coords={"county": [focus_county]}, kind="stats"
)

# %% tags=["check"]
# The focus county has no first-floor home, so beta[focus] appears in no likelihood term: its
# posterior is exactly its Normal(0, 10) prior. Check the sample against that closed form.
assert (radon.loc[radon["county"] == focus_county, "floor"] == 0).all(), "basement homes only"
focus_beta = az.summary(
    unpooled_idata, var_names=["beta"], coords={"county": [focus_county]}, round_to="none"
).iloc[0]
assert abs(focus_beta["mean"]) < 4 * focus_beta["mcse_mean"]
assert abs(focus_beta["sd"] - 10) < 4 * focus_beta["mcse_sd"]

# %% [markdown]
# The sampler had no trouble, but look at the slope of the focus county. Its only home was
# measured in the basement, so the data say nothing about its first floor: the posterior of
# its $\beta_j$ is its $\mathrm{Normal}(0, 10)$ prior (checked in the cell above against the
# prior's mean 0 and standard deviation 10), an uncertainty of ±20 on the log scale. Without
# pooling, a county learns nothing from the other 84.

# %% [markdown] tags=["slide"]
# ## Partial pooling: intercepts *and* slopes vary by county
#
# $$
# \begin{aligned}
# y_i &\sim \mathrm{Normal}(\alpha_{j[i]} + \beta_{j[i]} x_i,\ \varepsilon) \\
# \alpha_j &\sim \mathrm{Normal}(\mu_\alpha, \sigma_\alpha), \qquad
# \beta_j \sim \mathrm{Normal}(\mu_\beta, \sigma_\beta) \\
# \mu_\alpha,\ \mu_\beta &\sim \mathrm{Normal}(0, 10), \qquad
# \sigma_\alpha,\ \sigma_\beta,\ \varepsilon \sim \mathrm{HalfCauchy}(5)
# \end{aligned}
# $$
#
# The counties' intercepts and slopes come from common distributions whose centre and spread
# are learnt from all counties together.

# %% [markdown]
# The intercepts and the slopes have *independent* priors: two separate normal distributions,
# with nothing linking a county's $\alpha_j$ to its $\beta_j$. So the model cannot learn from
# all counties together that, say, counties with a high basement level also tend to have a
# larger drop to the first floor, and use that for a county with few homes. Relaxing this
# means giving each county's pair $(\alpha_j, \beta_j)$ a joint (bivariate) normal prior with
# a correlation to be estimated: lesson 09 fits that model and asks whether it predicts
# better.
#
# Written exactly as the equations read, this is the *centered* parameterisation: each
# $\alpha_j$ is drawn around $\mu_\alpha$ with spread $\sigma_\alpha$.

# %%
with pm.Model(coords=coords) as centered_model:
    mu_alpha = pm.Normal("mu_alpha", mu=0, sigma=10)
    sig_alpha = pm.HalfCauchy("sig_alpha", beta=5)
    mu_beta = pm.Normal("mu_beta", mu=0, sigma=10)
    sig_beta = pm.HalfCauchy("sig_beta", beta=5)
    alpha = pm.Normal("alpha", mu=mu_alpha, sigma=sig_alpha, dims="county")
    beta = pm.Normal("beta", mu=mu_beta, sigma=sig_beta, dims="county")
    eps = pm.HalfCauchy("eps", beta=5)
    mu = alpha[county_idx] + beta[county_idx] * floor
    pm.Normal("obs", mu=mu, sigma=eps, observed=log_radon)

# %% tags=["nbval-ignore-output"]
model_graph(centered_model)

# %% [markdown]
# ### Prior predictive check
#
# Before fitting, simulate homes from the priors alone. Do the vague priors produce radon
# levels that could exist?

# %%
with centered_model:
    prior_idata = pm.sample_prior_predictive(draws=500, random_seed=rng)
prior_obs = prior_idata.prior_predictive["obs"].to_numpy().ravel()
low, high = np.quantile(prior_obs, [0.05, 0.95])
print(f"90% of simulated log radon values lie in [{low:.0f}, {high:.0f}]")
print(f"observed log radon lies in [{log_radon.min():.1f}, {log_radon.max():.1f}]")
print(f"share of simulated homes above log radon 10: {np.mean(prior_obs > 10):.0%}")

# %%
fig, ax = plt.subplots()
edges = np.linspace(*np.quantile(prior_obs, [0.01, 0.99]), 60)
ax.hist(prior_obs, bins=edges, density=True, color="C1", label="prior predictive")
ax.axvspan(log_radon.min(), log_radon.max(), color="C4", alpha=0.3, label="observed range")
ax.set(xlabel="log radon (log pCi/L)", ylabel="density")
ax.set_title("Prior predictive: the vague priors allow absurd homes")
legend = ax.legend()

# %% [markdown]
# The histogram shows the log radon of homes simulated from the priors, the shaded band the
# range of the observed homes. The observed homes occupy a narrow band inside what the priors
# consider plausible. A log radon of 10 is about 22,000 pCi/L, thousands of times the 4 pCi/L
# at which the EPA advises action, and the priors put a sizeable share of homes beyond it
# (printed above). We keep these vague priors so that the models match the classic analysis;
# Exercise 1 replaces them with weakly informative ones.

# %% [markdown]
# ### A model that is *meant* to misbehave
#
# We fit the centered model with PyMC's default `target_accept=0.8`, first in a short run: 500
# tuning and 250 kept draws per chain. **This fit is supposed to fail**: the point is to see
# what failure looks like. `compute_convergence_checks=False` turns off PyMC's own warnings,
# whose wording would differ from run to run; `check_sampling` reports the same problems in a
# table.

# %%
with centered_model:
    centered_short_idata = pm.sample(
        draws=250,
        tune=500,
        chains=4,
        cores=CORES,
        early_max_treedepth=5,
        compute_convergence_checks=False,
        random_seed=rng,
        progressbar=False,
    )

# %%
HYPER = ["mu_alpha", "sig_alpha", "mu_beta", "sig_beta", "eps"]
short_report = check_sampling(centered_short_idata, var_names=HYPER, raise_on_failure=False)
assert short_report.max_r_hat > 1.01 and short_report.min_ess_bulk < 400
short_report.to_frame()

# %% [markdown]
# The alarms ring (lesson 01 defines them). $\hat R$ is above 1.01: the four chains disagree
# about the posterior. The bulk effective sample size is below 400: the draws are so correlated
# that they carry the information of far fewer independent ones. And there may be divergent
# transitions (counted in the table; their number changes enormously from run to run): places
# where the sampler's numerical trajectory blew up, so that part of the posterior was not
# explored. None of these numbers can be trusted.
#
# Would a longer run cure it? We sample four times as many draws, 1000 per chain, the same
# settings the non-centered form gets for its first comparison below.

# %%
with centered_model:
    centered_idata = pm.sample(
        draws=1000,
        tune=500,
        chains=4,
        cores=CORES,
        early_max_treedepth=5,
        compute_convergence_checks=False,
        random_seed=rng,
        progressbar=False,
    )

# %%
centered_report = check_sampling(centered_idata, var_names=HYPER, raise_on_failure=False)
assert centered_report.max_r_hat > 1.01 and centered_report.min_ess_bulk < 400
assert short_report.divergences + centered_report.divergences > 0
centered_report.to_frame()

# %% [markdown]
# Four times the draws did not cure it: $\hat R$ is still above 1.01 and the bulk ESS still
# below 400, and between the two runs the sampler diverged (the two tables). More draws of a
# sampler that cannot enter part of the posterior only collect more of the same biased draws:
# the region where trajectories diverge stays under-explored however long the chains run.

# %% [markdown]
# The cause is the geometry of the posterior. When $\sigma_\beta$ is small, every $\beta_j$ must
# sit in a narrow band around $\mu_\beta$; when it is large, they can spread out. In the plane
# $(\beta_j, \sigma_\beta)$ the posterior is a **funnel**. No single step size suits both its
# wide mouth and its narrow neck, so the sampler either takes tiny steps everywhere or diverges
# in the neck. The funnel is worst for the slopes: most counties have at most one first-floor
# home (counted below), so the data leave their slopes almost entirely to the hierarchy.

# %%
first_floor_homes = radon.groupby("county", observed=True)["floor"].sum()
few_first_floor = (first_floor_homes <= 1).sum()
assert few_first_floor > len(first_floor_homes) / 2
print(f"counties with at most one first-floor home: {few_first_floor} of {len(first_floor_homes)}")

# %% [markdown]
# ### The fix: a non-centered parameterisation
#
# Sample standardised offsets and build the county effects from them (lesson 01):
#
# $$
# z_{\alpha,j},\ z_{\beta,j} \sim \mathrm{Normal}(0, 1), \qquad
# \alpha_j = \mu_\alpha + \sigma_\alpha z_{\alpha,j}, \qquad
# \beta_j = \mu_\beta + \sigma_\beta z_{\beta,j}.
# $$
#
# It is the same model: $\alpha_j$ and $\beta_j$ have exactly the same distribution as before.
# But the sampler now moves in $(z, \sigma)$, where the prior is a plain product of
# independent pieces and the funnel is gone. `alpha` and `beta` are kept as deterministic
# variables with the same names, so every summary and plot below reads as before.

# %%
with pm.Model(coords=coords) as noncentered_model:
    mu_alpha = pm.Normal("mu_alpha", mu=0, sigma=10)
    sig_alpha = pm.HalfCauchy("sig_alpha", beta=5)
    mu_beta = pm.Normal("mu_beta", mu=0, sigma=10)
    sig_beta = pm.HalfCauchy("sig_beta", beta=5)
    z_alpha = pm.Normal("z_alpha", mu=0, sigma=1, dims="county")
    z_beta = pm.Normal("z_beta", mu=0, sigma=1, dims="county")
    alpha = pm.Deterministic("alpha", mu_alpha + sig_alpha * z_alpha, dims="county")
    beta = pm.Deterministic("beta", mu_beta + sig_beta * z_beta, dims="county")
    eps = pm.HalfCauchy("eps", beta=5)
    mu = alpha[county_idx] + beta[county_idx] * floor
    pm.Normal("obs", mu=mu, sigma=eps, observed=log_radon)

# %% [markdown]
# A fair comparison changes one thing at a time. We sample the non-centered model with exactly
# the settings of the centered fit, so that the parameterisation is the only difference.

# %%
with noncentered_model:
    noncentered_default_idata = pm.sample(
        draws=1000,
        tune=500,
        chains=4,
        cores=CORES,
        early_max_treedepth=5,
        compute_convergence_checks=False,
        random_seed=rng,
        progressbar=False,
    )


# %% [markdown]
# The table puts the two fits side by side. Wall-clock time depends on the machine, so the cost
# of a fit is counted in leapfrog steps (each one evaluates the gradient of the log posterior
# once); the last row is the number of effective draws of $\sigma_\beta$, the slowest
# hyperparameter, bought per 1000 leapfrog steps.


# %%
def sampler_cost(idata):
    """Divergences, r_hat and bulk ESS of sig_beta, and leapfrog steps of the kept draws."""
    diagnostics = az.summary(idata, var_names=["sig_beta"], kind="diagnostics", round_to="none")
    ess = float(diagnostics.loc["sig_beta", "ess_bulk"])
    steps = int(idata.sample_stats["n_steps"].sum())
    return {
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "r_hat of sig_beta": round(float(diagnostics.loc["sig_beta", "r_hat"]), 3),
        "bulk ESS of sig_beta": round(ess),
        "leapfrog steps (thousands)": round(steps / 1000),
        "ESS of sig_beta per 1000 steps": round(1000 * ess / steps, 2),
    }


same_settings = pd.DataFrame(
    {
        "centered": sampler_cost(centered_idata),
        "non-centered": sampler_cost(noncentered_default_idata),
    }
)
same_settings

# %% tags=["check"]
ess_of_sig_beta = same_settings.loc["bulk ESS of sig_beta"]
assert ess_of_sig_beta["non-centered"] > 3 * ess_of_sig_beta["centered"]
efficiency = same_settings.loc["ESS of sig_beta per 1000 steps"]
assert efficiency["non-centered"] > 3 * efficiency["centered"]

# %% [markdown]
# With the same settings, the non-centered form gets several times as many effective draws of
# $\sigma_\beta$, and several times as many per leapfrog step. But some divergences can remain
# (the table; how many depends on the run): the counties with many homes, whose intercepts are
# pinned down by the data, still curve the posterior somewhat. A model with any divergence
# fails our checks, so for the fit we keep we ask NUTS for a higher acceptance rate,
# `target_accept=0.95` instead of the default 0.8, which makes it take smaller, safer steps.
# And we keep more draws, 1500 per chain after 700 tuning steps: with hundreds of parameters,
# the largest $\hat R$ of a 1000-draw run comes close to 1.01 under some seeds.

# %%
with noncentered_model:
    noncentered_idata = pm.sample(
        draws=1500,
        tune=700,
        chains=4,
        cores=CORES,
        target_accept=0.95,
        early_max_treedepth=5,
        random_seed=rng,
        progressbar=False,
    )

# %%
noncentered_report = check_sampling(noncentered_idata)
print(noncentered_report)

# %% [markdown]
# No divergences, $\hat R \le 1.01$ and a bulk ESS of at least 400 for every variable of the
# model: the hyperparameters, the offsets $z$ and every county's intercept and slope
# (`check_sampling` raises otherwise).
#
# The picture explains the difference between the two parameterisations. Each panel shows the
# posterior draws of the focus county's slope against $\sigma_\beta$ (log scale), with divergent
# transitions in red, for the two fits with identical settings.

# %% tags=["slide", "slide-hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(12, 5), sharex=True, sharey=True)
funnel_fits = {"centered": centered_idata, "non-centered": noncentered_default_idata}
for ax, (name, idata) in zip(axs, funnel_fits.items(), strict=True):
    ax = az.plot_pair(
        idata,
        var_names=["beta", "sig_beta"],
        coords={"county": [focus_county]},
        divergences=True,
        divergences_kwargs={"color": "C5", "markersize": 6, "label": "divergent"},
        scatter_kwargs={"alpha": 0.3},
        ax=ax,
    )
    ax.set(yscale="log", xlabel=f"slope β[{focus_county}]", ylabel="σ_β (log scale)")
    ax.set_title(f"{name}, target_accept 0.8: {int(idata.sample_stats['diverging'].sum())} div.")
legend = axs[0].legend(loc="lower left")


# %% [markdown]
# How far down the neck does each sampler go? The fit at `target_accept=0.95`, which passed
# every check, tells us how much posterior mass lies at small $\sigma_\beta$; the table compares
# the share of draws below 0.03 in each fit, with its Monte Carlo error.


# %%
def share_below(idata, threshold=0.03):
    """Share of the draws of sig_beta below ``threshold``, and its Monte Carlo error."""
    below = (idata.posterior["sig_beta"] < threshold).astype(float).to_dataset(name="below")
    return float(below["below"].mean()), float(az.mcse(below)["below"])


neck = pd.DataFrame(
    {
        "centered, target_accept 0.8": share_below(centered_idata),
        "non-centered, target_accept 0.8": share_below(noncentered_default_idata),
        "non-centered, target_accept 0.95": share_below(noncentered_idata),
    },
    index=["share of draws with sig_beta < 0.03", "Monte Carlo error"],
).T
neck.round(3)

# %% tags=["check"]
_, (default_share, default_mcse), (reference, reference_mcse) = neck.to_numpy()
assert reference > 4 * reference_mcse, "the posterior has mass below 0.03"
assert abs(default_share - reference) < 4 * np.hypot(default_mcse, reference_mcse)

# %% [markdown]
# A few percent of the posterior lies below $\sigma_\beta = 0.03$, and the non-centered sampler
# finds it with either setting (within Monte Carlo error). The centered sampler's share is not
# an estimate of anything. Where the funnel narrows its trajectories diverge, so its chains
# either turn back before the neck (a share near zero) or get stuck in it for a while (a share
# far too large). Which of the two happens depends on the sampler seed, and even on the
# processor: run the notebook with another `RANDOM_SEED` and the centered row can change
# completely, while the two non-centered rows agree within their Monte Carlo errors. We read
# nothing off the centered fits: a run that fails its checks gives no trustworthy estimate,
# not even of its own error. From here on we use the non-centered fit with
# `target_accept=0.95`.

# %% [markdown]
# ## What the hierarchical model says

# %%
az.summary(noncentered_idata, var_names=HYPER, kind="stats")

# %%
axs = az.plot_posterior(noncentered_idata, var_names=HYPER, grid=(2, 3), figsize=(13, 7))
axs[-1, -1].set_axis_off()
fig = axs[0, 0].get_figure()
title = fig.suptitle("Hierarchical model: posterior of the population-level parameters")

# %% [markdown]
# Each panel is the posterior of one population-level parameter, with its mean and 94% HDI.

# %%
hyper_hdi = az.hdi(noncentered_idata, var_names=HYPER)
assert float(hyper_hdi["mu_beta"].max()) < 0, "mu_beta is clearly negative"
assert float(hyper_hdi["sig_alpha"].min()) > 0.1, "sig_alpha is clearly away from zero"
posterior_mean = noncentered_idata.posterior[HYPER].mean()
assert posterior_mean["eps"] > posterior_mean["sig_alpha"]
mu_beta_mean = float(posterior_mean["mu_beta"])
mu_beta_mcse = float(az.mcse(noncentered_idata, var_names=["mu_beta"])["mu_beta"])
ratio = np.exp(mu_beta_mean)
assert 0.4 < np.exp(mu_beta_mean - 4 * mu_beta_mcse) < np.exp(mu_beta_mean + 4 * mu_beta_mcse) < 0.6
sig_beta_q03 = float(noncentered_idata.posterior["sig_beta"].quantile(0.03))
q03_mcse = float(
    az.mcse(noncentered_idata, var_names=["sig_beta"], method="quantile", prob=0.03)["sig_beta"]
)
assert sig_beta_q03 + 4 * q03_mcse < 0.1, "sig_beta reaches down to zero"
print(f"mean slope mu_beta = {mu_beta_mean:.2f}")
print(f"first floor / basement radon ratio ≈ exp(mu_beta) = {ratio:.2f}")
print(f"3% quantile of sig_beta: {sig_beta_q03:.3f}")

# %% [markdown]
# - $\mu_\beta$ is clearly negative: a typical first floor has about half the radon of the
#   basement of the same county (the ratio $e^{\mu_\beta}$ printed above).
# - $\sigma_\alpha$ is clearly away from zero: counties really differ in their basement radon.
# - $\sigma_\beta$ is small and its posterior reaches down to zero (3% of it lies below a
#   few hundredths, printed above): the data are compatible with the same floor effect
#   everywhere. With so few first-floor homes per county, the model cannot tell slopes apart
#   and pools them strongly.
# - $\varepsilon$, the spread of homes within a county, is larger than $\sigma_\alpha$: homes
#   differ more within a county than counties differ from each other.

# %% [markdown]
# ### Shrinkage
#
# Each county's basement intercept $\alpha_j$ has two estimates: its own (unpooled) and the
# hierarchical compromise. The hierarchical estimates move towards $\mu_\alpha$, the mean of
# the county intercepts, not towards the complete-pooling intercept. The plot places every
# county at its number of homes and annotates three: the focus county, the largest county, and
# the county whose own homes give the steepest floor slope in the state (found below from the
# data alone).


# %%
def own_slope(homes):
    """Least-squares slope of log radon on floor within one county (NaN with one floor)."""
    if homes["floor"].nunique() < 2:
        return np.nan
    return np.polyfit(homes["floor"], homes["log_radon"], 1)[0]


own_slopes = radon.groupby("county", observed=True)[["floor", "log_radon"]].apply(own_slope)
steep_county = own_slopes.abs().idxmax()
largest = homes_per_county.idxmax()
print(f"steepest own slope: {steep_county}, {own_slopes[steep_county]:.2f}")
print(f"largest county: {largest}, {homes_per_county[largest]} homes")

# %%
unpooled_alpha = unpooled_idata.posterior["alpha"].mean(("chain", "draw")).to_series()
hierarchical_alpha = noncentered_idata.posterior["alpha"].mean(("chain", "draw")).to_series()
pooled_alpha = float(pooled_idata.posterior["alpha"].mean())
mu_alpha_mean = float(posterior_mean["mu_alpha"])
shift = (unpooled_alpha - hierarchical_alpha).abs()
moved = pd.DataFrame(
    {"homes": homes_per_county, "moved": shift}, index=[focus_county, steep_county, largest]
)
moved.round(2)

# %% tags=["slide", "slide-hide-input"]
ax = plot_shrinkage(
    unpooled_alpha,
    hierarchical_alpha,
    homes_per_county,
    population=mu_alpha_mean,
    labels=list(coords["county"]),
    annotate=sorted({focus_county, steep_county, largest}),
    population_label="population mean μ_α (posterior mean)",
    ylabel="basement intercept α_j (log radon)",
    title="Partial pooling moves small counties towards μ_α",
)
pooled_line = ax.axhline(
    pooled_alpha, color="0.35", linestyle=":", linewidth=1.5, label="complete-pooling intercept"
)
legend = ax.legend(loc="lower right")
xlabel = ax.set_xlabel("homes measured in the county (log scale)")

# %% [markdown]
# Each segment joins a county's own estimate (open circle) to its hierarchical estimate (filled
# circle). Small counties, on the left, move a lot, towards the dashed line of $\mu_\alpha$:
# their few homes are weak evidence, and the hierarchy borrows strength from the other
# counties. Large counties, on the right, barely move: their data outweigh the population
# distribution (the distances in the table). The weight is set county by county by the number
# of homes and by $\sigma_\alpha / \varepsilon$.
#
# The target $\mu_\alpha$ lies above the complete-pooling intercept (dotted line; both printed
# below). The pooled model weights every home equally, so it leans towards the large counties,
# and these have lower radon than the typical county: weighting the county intercepts by their
# number of homes gives a lower average than weighting counties equally.

# %%
mu_alpha_mcse = float(az.mcse(noncentered_idata, var_names=["mu_alpha"])["mu_alpha"])
pooled_mcse = float(az.mcse(pooled_idata, var_names=["alpha"])["alpha"])
by_home = np.average(hierarchical_alpha, weights=homes_per_county)
by_county = hierarchical_alpha.mean()
assert mu_alpha_mean - pooled_alpha > 4 * np.hypot(mu_alpha_mcse, pooled_mcse)
assert by_county - by_home > 4 * mu_alpha_mcse
print(f"mu_alpha = {mu_alpha_mean:.2f}, pooled intercept = {pooled_alpha:.2f}")
print(f"mean of alpha_j weighted by homes: {by_home:.2f}, by county: {by_county:.2f}")

# %% [markdown]
# The steep county, with 9 homes, moves more than any county of its size or larger (checked
# below). Intercepts and slopes are estimated together: on its own, this county explains the
# gap between its basements and its first floors with an extreme slope (printed below). Once
# the slope is pulled towards the state's, the basement intercept has to move as well.


# %%
def posterior_mean_by_county(idata, var_name):
    """Posterior mean of a per-county variable, as a Series indexed by county."""
    return idata.posterior[var_name].mean(("chain", "draw")).to_series()


slopes = pd.Series(
    {
        "unpooled": posterior_mean_by_county(unpooled_idata, "beta")[steep_county],
        "hierarchical": posterior_mean_by_county(noncentered_idata, "beta")[steep_county],
        "population mean mu_beta": mu_beta_mean,
    },
    name=f"slope of {steep_county} ({homes_per_county[steep_county]} homes)",
)
slopes.round(2)

# %% tags=["check"]
assert homes_per_county[steep_county] == 9
assert abs(slopes["unpooled"] - mu_beta_mean) > 3 * abs(slopes["hierarchical"] - mu_beta_mean)
alpha_mcse = np.hypot(
    az.mcse(unpooled_idata, var_names=["alpha"])["alpha"].to_series(),
    az.mcse(noncentered_idata, var_names=["alpha"])["alpha"].to_series(),
)
peers = homes_per_county.index[homes_per_county >= homes_per_county[steep_county]]
peers = peers.drop(steep_county)
margin = shift[steep_county] - shift[peers]
assert (margin > 4 * np.hypot(alpha_mcse[steep_county], alpha_mcse[peers])).all()

# %% [markdown]
# ### Predicting a new home in the focus county
#
# For a new home in a county, a draw from the posterior predictive distribution is
# $\alpha_j + \beta_j x + \varepsilon \cdot \mathrm{Normal}(0, 1)$, computed for every posterior
# draw (ten times each, which makes the tail quantiles less noisy). We do this for a basement
# and a first-floor home under each of the three models.


# %%
def predict_log_radon(idata, county, floor_value, rng, per_draw=10):
    """Draw log radon for a new home on ``floor_value`` in ``county``, per_draw per sample."""
    posterior = az.extract(idata)
    alpha, beta = posterior["alpha"], posterior["beta"]
    if "county" in alpha.dims:
        alpha, beta = alpha.sel(county=county), beta.sel(county=county)
    mean = (alpha + beta * floor_value).to_numpy()
    sd = posterior["eps"].to_numpy()
    return rng.normal(mean, sd, size=(per_draw, mean.size)).ravel()


# %%
fits = {"pooled": pooled_idata, "unpooled": unpooled_idata, "hierarchical": noncentered_idata}
predictions = {
    (model_name, floor_name): predict_log_radon(idata, focus_county, floor_value, rng)
    for model_name, idata in fits.items()
    for floor_value, floor_name in enumerate(["basement", "first floor"])
}
prediction_table = pd.DataFrame(
    {
        key: {
            "mean": draws.mean(),
            "3%": np.quantile(draws, 0.03),
            "97%": np.quantile(draws, 0.97),
            "P(radon > 4 pCi/L)": np.mean(draws > np.log(4)),
        }
        for key, draws in predictions.items()
    }
).T.round(2)
prediction_table

# %%
state_mean = log_radon.mean()
means = prediction_table["mean"]
assert abs(means["hierarchical", "basement"] - state_mean) < abs(
    means["unpooled", "basement"] - state_mean
)
width = prediction_table["97%"] - prediction_table["3%"]
width_ratio = width["unpooled", "first floor"] / width["hierarchical", "first floor"]
assert width_ratio > 10
print(f"unpooled / hierarchical width of the first-floor interval: {width_ratio:.0f}")

# %% [markdown]
# The unpooled first-floor interval is so wide that on a common axis it would flatten the other
# five. The left panel therefore zooms to the range of the observed homes (the unpooled
# first-floor interval runs off both edges there, marked by arrows); the right panel shows all
# six at full scale.

# %%
fig, axs = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True, gridspec_kw={"width_ratios": [2, 1]})
labels = [f"{model}, {floor_name}" for model, floor_name in prediction_table.index]
y = np.arange(len(labels))
zoom = (np.floor(log_radon.min()) - 1, np.ceil(log_radon.max()) + 1)
for ax in axs:
    ax.hlines(y, prediction_table["3%"], prediction_table["97%"], color="C0", linewidth=3)
    ax.plot(prediction_table["mean"], y, "o", color="C0")
    ax.axvline(np.log(4), color="C5", linestyle="--", label="EPA action level, 4 pCi/L")
    ax.set_xlabel("predicted log radon (log pCi/L)")
off_left = (prediction_table["3%"] < zoom[0]).to_numpy()
off_right = (prediction_table["97%"] > zoom[1]).to_numpy()
axs[0].plot(np.full(off_left.sum(), zoom[0]), y[off_left], "<", color="C0", markersize=10)
axs[0].plot(np.full(off_right.sum(), zoom[1]), y[off_right], ">", color="C0", markersize=10)
axs[0].set(xlim=zoom, yticks=y, yticklabels=labels)
axs[0].set_title("Zoomed to the observed range")
axs[1].set_title("Full scale")
legend = axs[0].legend(loc="lower left")
title = fig.suptitle(f"New home in {focus_county}: 94% predictive intervals")

# %% [markdown]
# For the basement, the unpooled model trusts the county's single home; the hierarchical model
# pulls that prediction towards the state. For the first floor the unpooled model has no data
# at all: its interval is the prior of $\beta_j$, many times wider than the hierarchical one
# (the ratio printed above) and useless for advice. The hierarchical model borrows the floor
# effect from the other counties and the basement level partly from its own home, and gives a
# usable answer, including the chance that a home exceeds the EPA action level (table). The
# pooled model is also narrow, but it ignores everything specific to the county.

# %% [markdown]
# ## Posterior predictive check
#
# Does the fitted model generate data that look like the survey? We simulate replicated
# datasets from the posterior and overlay their densities on the observed one.

# %%
with noncentered_model:
    noncentered_idata.extend(
        # Naming the observed variable also sidesteps a PyMC 5.28 bug that would leave the
        # model unusable for sampling again after this call.
        pm.sample_posterior_predictive(
            noncentered_idata, var_names=["obs"], random_seed=rng, progressbar=False
        )
    )

# %%
ax = plot_ppc(noncentered_idata, num_pp_samples=100, random_seed=RANDOM_SEED)
ax.set(xlabel="log radon (log pCi/L)", ylabel="density")
title = ax.set_title("Posterior predictive check of the hierarchical model")
lowest = log_radon.min()
print(f"homes at the lowest reading, log radon {lowest:.1f}: {(log_radon == lowest).sum()}")

# %% [markdown]
# The 100 replicated datasets (light grey) follow the observed distribution (thick red line) in
# location, spread and shape, and so does their mean (dashed blue): the model reproduces the
# data as a whole. The small wiggles of the observed curve come from readings rounded to a few
# common values. Only the far left edge stands out: a few homes (printed above) share the
# lowest value in the data, $\log 0.1$, which looks like a floor put on readings of zero. A
# model for individual homes with very low radon would need to treat them separately; for
# county averages they do not matter.

# %% [markdown]
# ## Reproducibility without an exact answer
#
# There is no closed-form posterior for this model to compare with. What we can check is that
# the answer does not depend on the random seed: a second, independent run with the same
# settings must agree with the first within Monte Carlo error. It needs a generator with a
# different seed: PyMC derives the chain seeds from a copy of the generator it is given, so
# passing `rng` again would repeat the first run draw for draw. `compare_runs` computes
# $z = (\bar\theta_a - \bar\theta_b) / \sqrt{\mathrm{mcse}_a^2 + \mathrm{mcse}_b^2}$ for each
# hyperparameter and raises if any $|z| > 4$.

# %%
rerun_rng = np.random.default_rng(RANDOM_SEED + 1)
with noncentered_model:
    rerun_idata = pm.sample(
        draws=1500,
        tune=700,
        chains=4,
        cores=CORES,
        target_accept=0.95,
        early_max_treedepth=5,
        random_seed=rerun_rng,
        progressbar=False,
    )
print(check_sampling(rerun_idata))

# %%
assert not np.array_equal(
    noncentered_idata.posterior["mu_alpha"], rerun_idata.posterior["mu_alpha"]
)
compare_runs(noncentered_idata, rerun_idata, var_names=HYPER).round(3)

# %% [markdown]
# Every difference is within a few Monte Carlo standard errors (`compare_runs` would have
# raised otherwise): the runs agree. The comparison is only as good as its denominator: the
# Monte Carlo error is trustworthy only when the chains have converged and the effective sample
# size is large, which is why `check_sampling` comes first.

# %% [markdown]
# ## Exercises
#
# Exercises whose answer can be computed end with a cell that checks it: run it once your
# answer is stored under the names the exercise gives. It tells you whether the answer is
# correct; if not, how far it is from the expected one (in standard errors), or which common
# mistake it looks like. For an MCMC answer it first asks whether your chains converged. It is
# designed to fail a correct answer in fewer than one check in a thousand.
#
# ### Exercise 1: weakly informative priors
#
# The prior predictive check showed that the vague priors put a large share of homes above a
# log radon of 10. Write the non-centered model again with weakly informative priors:
# $\mu_\alpha, \mu_\beta \sim \mathrm{Normal}(0, 2)$ and
# $\sigma_\alpha, \sigma_\beta, \varepsilon \sim \mathrm{HalfNormal}(1)$.
#
# 1. Repeat the prior predictive check. What share of simulated homes lies above log radon 10
#    now?
# 2. Fit the model with the settings of `noncentered_idata` (name the fit `weak_prior_idata`)
#    and compare the posterior means of the hyperparameters with those of the vague priors, in
#    units of their posterior standard deviation. What did the change of priors change, and why?
#
# ### Exercise 2: a county the survey never visited
#
# A family lives in a Minnesota county with no measured home (a county outside the data, but
# like the 85 in it). Use the posterior of `noncentered_idata` to predict the log radon of its
# basement: draw a county intercept from $\mathrm{Normal}(\mu_\alpha, \sigma_\alpha)$ for every
# posterior draw, then a home around it (store the draws in `new_county`). Compare the
# prediction with the hierarchical basement prediction for the focus county. Around which value
# is it centred, and why there?
#
# ### Exercise 3: uranium in the soil
#
# Radon is produced by the decay of uranium, and `log_uranium` measures uranium in each
# county's soil (one value per county). Add it as a county-level predictor of the intercepts:
#
# $$
# \alpha_j \sim \mathrm{Normal}(\gamma_0 + \gamma_1 u_j,\ \sigma_\alpha), \qquad
# \gamma_0,\ \gamma_1 \sim \mathrm{Normal}(0, 10),
# $$
#
# keeping the varying slopes and the non-centered form. Call the model `uranium_model` and its
# fit `uranium_idata`; keep the priors and names of `noncentered_model` (the vague ones, not
# those of Exercise 1) and name the new parameters `gamma_0` and `gamma_1`. What does
# $\gamma_1$ say? How does $\sigma_\alpha$ change, and why? (Lesson 08 develops group-level
# predictors further.)

# %% tags=["solution"]
with pm.Model(coords=coords) as weak_prior_model:
    mu_alpha = pm.Normal("mu_alpha", mu=0, sigma=2)
    sig_alpha = pm.HalfNormal("sig_alpha", sigma=1)
    mu_beta = pm.Normal("mu_beta", mu=0, sigma=2)
    sig_beta = pm.HalfNormal("sig_beta", sigma=1)
    z_alpha = pm.Normal("z_alpha", mu=0, sigma=1, dims="county")
    z_beta = pm.Normal("z_beta", mu=0, sigma=1, dims="county")
    alpha = pm.Deterministic("alpha", mu_alpha + sig_alpha * z_alpha, dims="county")
    beta = pm.Deterministic("beta", mu_beta + sig_beta * z_beta, dims="county")
    eps = pm.HalfNormal("eps", sigma=1)
    mu = alpha[county_idx] + beta[county_idx] * floor
    pm.Normal("obs", mu=mu, sigma=eps, observed=log_radon)

# %% tags=["solution"]
with weak_prior_model:
    weak_prior_predictive = pm.sample_prior_predictive(draws=500, random_seed=rng)
weak_obs = weak_prior_predictive.prior_predictive["obs"].to_numpy().ravel()
weak_low, weak_high = np.quantile(weak_obs, [0.05, 0.95])
assert np.mean(weak_obs > 10) < 0.01
print(f"90% of simulated log radon values lie in [{weak_low:.0f}, {weak_high:.0f}]")
print(f"share of simulated homes above log radon 10: {np.mean(weak_obs > 10):.1%}")

# %% tags=["solution"]
with weak_prior_model:
    weak_prior_idata = pm.sample(
        draws=2000,
        tune=1000,
        chains=4,
        cores=CORES,
        target_accept=0.95,
        early_max_treedepth=5,
        random_seed=rng,
        progressbar=False,
    )
print(check_sampling(weak_prior_idata))

# %% tags=["solution"]
vague = az.summary(noncentered_idata, var_names=HYPER, round_to="none")
weak = az.summary(weak_prior_idata, var_names=HYPER, round_to="none")
prior_change = pd.DataFrame(
    {
        "vague priors": vague["mean"],
        "weak priors": weak["mean"],
        "difference / posterior sd": (weak["mean"] - vague["mean"]) / vague["sd"],
    }
)
noise = np.hypot(vague["mcse_mean"], weak["mcse_mean"]) / vague["sd"]
assert (prior_change["difference / posterior sd"].abs() < 0.2 + 4 * noise).all()
prior_change.round(2)

# %% tags=["answer-check"]
checks.weak_prior_fit(weak_prior_idata, noncentered_idata)

# %% [markdown] tags=["solution"]
# The prior predictive distribution is now on the scale of real homes: 90% of the simulated
# values lie within a few units of zero and almost none above 10 (printed). The posterior
# means of the hyperparameters barely move: every difference is a small fraction of a posterior
# standard deviation (table). With 919 homes in 85 counties the likelihood dominates these five
# parameters, so the vague priors did no harm to the estimates here. They would matter with
# fewer groups (lesson 03 shows how little three groups say about a population spread), and
# the weakly informative priors describe what we know about radon far better, which is worth
# having when a model is extended or the data are thin.


# %% tags=["solution"]
def predict_new_county(idata, floor_value, rng, per_draw=10):
    """Draw log radon for a home on ``floor_value`` in a county outside the data."""
    post = az.extract(idata)
    size = (per_draw, post.sizes["sample"])
    alpha_new = rng.normal(post["mu_alpha"].to_numpy(), post["sig_alpha"].to_numpy(), size)
    beta_new = rng.normal(post["mu_beta"].to_numpy(), post["sig_beta"].to_numpy(), size)
    mean = alpha_new + beta_new * floor_value
    return rng.normal(mean, post["eps"].to_numpy()).ravel()


new_county = predict_new_county(noncentered_idata, 0, rng)
new_summary = pd.Series(
    {
        "mean": new_county.mean(),
        "3%": np.quantile(new_county, 0.03),
        "97%": np.quantile(new_county, 0.97),
        "P(radon > 4 pCi/L)": np.mean(new_county > np.log(4)),
    },
    name="basement, new county",
)
pd.concat([new_summary, prediction_table.loc[("hierarchical", "basement")]], axis=1).round(2)

# %% tags=["solution"]
new_se = np.hypot(mu_alpha_mcse, new_county.std() / np.sqrt(new_county.size))
assert abs(new_county.mean() - mu_alpha_mean) < 4 * new_se
focus_basement = predictions["hierarchical", "basement"]
focus_se = np.hypot(new_se, focus_basement.std() / np.sqrt(focus_basement.size))
assert focus_basement.mean() - new_county.mean() > 4 * focus_se
print(
    f"mu_alpha = {mu_alpha_mean:.2f}; mean prediction for the new county: {new_county.mean():.2f}"
)

# %% tags=["answer-check"]
checks.new_county_basement(new_county, noncentered_idata)

# %% [markdown] tags=["solution"]
# The prediction for a county without data is centred at $\mu_\alpha$ (checked above), the
# mean of the county intercepts: the model knows only that the new county is one more draw from
# the population of counties. It is not centred at the complete-pooling intercept, which is an
# average over homes, not counties. Its spread combines the spread between counties
# ($\sigma_\alpha$) and between homes ($\varepsilon$). The focus county's single high reading
# lifts its prediction above the new county's (checked above): one home is a little
# information, and the hierarchy weighs it against the population.

# %% tags=["solution"]
county_uranium = radon.groupby("county", observed=True)["log_uranium"].agg(["min", "max"])
assert (county_uranium["min"] == county_uranium["max"]).all(), "one value per county"
log_uranium = county_uranium["min"].reindex(coords["county"]).to_numpy()

# %% tags=["solution"]
with pm.Model(coords=coords) as uranium_model:
    gamma_0 = pm.Normal("gamma_0", mu=0, sigma=10)
    gamma_1 = pm.Normal("gamma_1", mu=0, sigma=10)
    sig_alpha = pm.HalfCauchy("sig_alpha", beta=5)
    mu_beta = pm.Normal("mu_beta", mu=0, sigma=10)
    sig_beta = pm.HalfCauchy("sig_beta", beta=5)
    z_alpha = pm.Normal("z_alpha", mu=0, sigma=1, dims="county")
    z_beta = pm.Normal("z_beta", mu=0, sigma=1, dims="county")
    mu_alpha = gamma_0 + gamma_1 * log_uranium
    alpha = pm.Deterministic("alpha", mu_alpha + sig_alpha * z_alpha, dims="county")
    beta = pm.Deterministic("beta", mu_beta + sig_beta * z_beta, dims="county")
    eps = pm.HalfCauchy("eps", beta=5)
    pm.Normal("obs", mu=alpha[county_idx] + beta[county_idx] * floor, sigma=eps, observed=log_radon)

# %% tags=["solution"]
with uranium_model:
    uranium_idata = pm.sample(
        draws=1500,
        tune=700,
        chains=4,
        cores=CORES,
        target_accept=0.95,
        early_max_treedepth=5,
        random_seed=rng,
        progressbar=False,
    )
print(check_sampling(uranium_idata))

# %% tags=["answer-check"]
checks.uranium_predictor(uranium_idata)

# %% tags=["solution"]
assert float(uranium_idata.posterior["gamma_1"].quantile(0.03)) > 0
uranium_sig_alpha = float(uranium_idata.posterior["sig_alpha"].mean())
noncentered_sig_alpha = float(posterior_mean["sig_alpha"])
sig_alpha_se = np.hypot(
    float(az.mcse(uranium_idata, var_names=["sig_alpha"])["sig_alpha"]),
    float(az.mcse(noncentered_idata, var_names=["sig_alpha"])["sig_alpha"]),
)
assert noncentered_sig_alpha - uranium_sig_alpha > 4 * sig_alpha_se
print(f"sig_alpha without uranium: {noncentered_sig_alpha:.2f}, with: {uranium_sig_alpha:.2f}")
az.summary(uranium_idata, var_names=["gamma_0", "gamma_1", "sig_alpha"], kind="stats")

# %% [markdown] tags=["solution"]
# $\gamma_1$ is clearly positive: counties with more uranium in the soil have more radon in
# their basements, as physics predicts. Because $\gamma_1$ is a slope on the log-log scale, a
# county with $e$ times more uranium has about $e^{\gamma_1}$ times more basement radon.
# $\sigma_\alpha$ drops (printed above): uranium explains a large part of the differences
# between counties, so less is left for the county-level noise. The hierarchy then pools
# counties towards a line in uranium instead of one statewide mean, so a small county now
# borrows from counties with similar soil rather than from the state as a whole.

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - **Partial pooling** sits between one regression for all and one per group; small groups
#   are pulled towards the population mean $\mu_\alpha$, large ones keep their own estimate.
# - Intercepts and slopes can both vary; groups with little data borrow both.
# - A **funnel** shows up as divergences, high $\hat R$ and low ESS: treat them as errors, and
#   draw no conclusion from such a run. A longer run does not cure it.
# - The **non-centered** form is the same model, sampled in easier coordinates. Compare
#   samplers at equal settings, in effective draws per unit of work.
# - Without an exact answer, two independent runs must agree within Monte Carlo error.

# %% [markdown]
# ## References
#
# - Gelman, A. & Hill, J. (2007). *Data Analysis Using Regression and Multilevel/Hierarchical
#   Models*. Cambridge University Press. The radon data and the pooled, unpooled and
#   varying-intercept-and-slope models of this lesson.
# - Price, P. N., Nero, A. V. & Gelman, A. (1996). Bayesian prediction of mean indoor radon
#   concentrations for Minnesota counties. *Health Physics* 71(6), 922–936. The survey behind
#   the data.
# - Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. & Rubin, D. B. (2013).
#   *Bayesian Data Analysis*, 3rd ed. CRC Press. Hierarchical models and posterior predictive
#   checks.
# - Martin, O. A. (2024). *Bayesian Analysis with Python*, 3rd ed. Packt. Hierarchical models
#   in PyMC and ArviZ.
# - McElreath, R. (2020). *Statistical Rethinking*, 2nd ed. CRC Press. Varying slopes and the
#   non-centered parameterisation.
# - Betancourt, M. & Girolami, M. (2015). Hamiltonian Monte Carlo for hierarchical models. In
#   *Current Trends in Bayesian Methodology with Applications*, CRC Press. Funnels and why
#   non-centering removes them.
# - Betancourt, M. (2017). A conceptual introduction to Hamiltonian Monte Carlo.
#   arXiv:1701.02434. Divergent transitions and what they say about a fit.
# - Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. & Bürkner, P.-C. (2021).
#   Rank-normalization, folding, and localization: an improved $\hat R$ for assessing
#   convergence of MCMC. *Bayesian Analysis* 16(2), 667–718. The $\hat R$ and ESS that
#   `check_sampling` uses.

# %% [markdown]
# ## Versions

# %%
print(versions())
