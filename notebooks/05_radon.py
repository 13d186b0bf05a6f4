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
# - read a shrinkage plot and predict for a county with a single measured home;
# - check a model that has no exact answer by comparing two independent runs.

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

from course_utils.data import load_radon
from course_utils.diagnostics import check_sampling, compare_runs
from course_utils.plots import model_graph, plot_shrinkage, use_course_style

# %%
RANDOM_SEED = 5052
rng = np.random.default_rng(RANDOM_SEED)
use_course_style()

# %% [markdown]
# ## The data
#
# Each row is one home: its county, the floor of the measurement (`floor`: 0 = basement,
# 1 = first floor) and the logarithm of the radon concentration in picocuries per litre
# (`log_radon`). `log_uranium` is a county-level soil measurement that we keep for the exercise.

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
# Half the counties have at most 5 measured homes (the median above) while the largest has 116:
# county estimates will be of very unequal quality. First-floor measurements are rarer and lower
# on average than basement ones, as expected for a gas coming from the ground.
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
        draws=500, tune=500, chains=4, cores=4, random_seed=rng, progressbar=False
    )

# %%
print(check_sampling(pooled_idata))
az.summary(pooled_idata)

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
# trajectories. `early_max_treedepth=5` caps them at $2^5 - 1 = 31$ leapfrog steps (instead of
# 255) during the first 200 tuning iterations. The posterior is unchanged; tuning just gets
# through that phase more cheaply. The later models use the same setting.

# %%
with unpooled_model:
    unpooled_idata = pm.sample(
        draws=700,
        tune=500,
        chains=4,
        cores=4,
        early_max_treedepth=5,
        random_seed=rng,
        progressbar=False,
    )

# %%
print(check_sampling(unpooled_idata))
assert (radon.loc[radon["county"] == focus_county, "floor"] == 0).all(), "basement homes only"
az.summary(unpooled_idata, var_names=["alpha", "beta"], coords={"county": [focus_county]})

# %% [markdown]
# The sampler had no trouble, but look at the slope of the focus county. Its only home was
# measured in the basement, so the data say nothing about its first floor: the posterior of
# its $\beta_j$ is its $\mathrm{Normal}(0, 10)$ prior, a standard deviation near 10 on the log
# scale. Without pooling, a county learns nothing from the other 84.

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
# The observed homes occupy a narrow band inside what the priors consider plausible. A log
# radon of 10 is about 22,000 pCi/L, thousands of times the 4 pCi/L at which the EPA advises
# action, and the priors put a sizeable share of homes beyond it (printed above). The priors
# are vague, not informative: with 919 homes the data will dominate the means. We keep them so
# that the models match the classic analysis; weakly informative priors, such as
# $\mathrm{Normal}(0, 2)$ for the means and $\mathrm{HalfNormal}(1)$ for the spreads, would
# describe what we know about radon far better.

# %% [markdown]
# ### A model that is *meant* to misbehave
#
# We now fit the centered model with default settings and a short run. **This fit is supposed
# to fail**: the point is to see what failure looks like.

# %%
with centered_model:
    centered_idata = pm.sample(
        draws=200, tune=200, chains=4, cores=4, random_seed=rng, progressbar=False
    )

# %%
HYPER = ["mu_alpha", "sig_alpha", "mu_beta", "sig_beta", "eps"]
centered_report = check_sampling(centered_idata, var_names=HYPER, raise_on_failure=False)
assert not centered_report.ok, "the centered fit was expected to fail its checks"
assert centered_report.divergences > 0
assert centered_report.max_r_hat > 1.01
assert centered_report.min_ess_bulk < 100
assert centered_report.worst["ess_bulk"] == "sig_beta"
centered_report.to_frame()

# %% [markdown]
# All three alarms ring. There are divergent transitions: places where the sampler's numerical
# trajectory blew up, so part of the posterior was never explored. $\hat R$ is above 1.01: the
# four chains disagree about the posterior. The bulk effective sample size is far below 400,
# under 100: the draws are so correlated that they carry the information of only a handful of
# independent ones. The worst variable is $\sigma_\beta$, the spread of the slopes between
# counties. None of these numbers can be trusted, and drawing more samples would not cure it.
#
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
# Sample standardised offsets and build the county effects from them:
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
# Non-centering helps most where the data say little (the slopes), and the counties with many
# homes, whose intercepts are pinned down by the data, still curve the posterior somewhat. We
# therefore ask NUTS for a higher acceptance rate, `target_accept=0.95` instead of the default
# 0.8, which makes it take smaller, safer steps.

# %%
with noncentered_model:
    noncentered_idata = pm.sample(
        draws=1000,
        tune=500,
        chains=4,
        cores=4,
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
# (`check_sampling` raises otherwise). The table compares the hyperparameters of the two fits.
# The non-centered run is longer, so compare the effective sample size *per draw*:


# %%
def mixing_table(idata):
    """Bulk ESS, ESS per draw and r_hat of the hyperparameters of one fit."""
    table = az.summary(idata, var_names=HYPER, kind="diagnostics")[["ess_bulk", "r_hat"]]
    draws = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    table.insert(1, "ess_per_draw", (table["ess_bulk"] / draws).round(3))
    return table


mixing = pd.concat(
    {"centered": mixing_table(centered_idata), "non-centered": mixing_table(noncentered_idata)},
    axis=1,
)
gain = mixing["non-centered", "ess_per_draw"] / mixing["centered", "ess_per_draw"]
assert gain["sig_beta"] > 5 and 0.5 < gain["mu_alpha"] < 2
mixing

# %% [markdown]
# Per draw, the non-centered sampler gets more than five times as many effective samples of
# $\sigma_\beta$, the variable that defeated the centered one, and its chains agree
# ($\hat R \le 1.01$). Not every hyperparameter gains: per draw, $\mu_\alpha$ mixes about as
# well in both fits. The intercepts are well informed by the data, which is where the centered
# form works well; the slopes are not, and they decide whether a fit can be trusted.

# %% [markdown]
# The picture explains the difference. Each panel shows the posterior draws of the focus
# county's slope against $\sigma_\beta$ (log scale), with divergent transitions in red.

# %% tags=["slide", "slide-hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(12, 5), sharex=True, sharey=True)
funnel_fits = {"centered": centered_idata, "non-centered": noncentered_idata}
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
    ax.set_title(f"{name}: {int(idata.sample_stats['diverging'].sum())} divergences")
legend = axs[0].legend(loc="lower left")

# %%
smallest = {name: float(idata.posterior["sig_beta"].min()) for name, idata in funnel_fits.items()}
mean_sig_beta = {
    name: float(idata.posterior["sig_beta"].mean()) for name, idata in funnel_fits.items()
}
assert smallest["non-centered"] < smallest["centered"] / 100
assert mean_sig_beta["centered"] > mean_sig_beta["non-centered"]
pd.DataFrame({"smallest sig_beta": smallest, "mean sig_beta": mean_sig_beta})

# %% [markdown]
# The centered sampler stays in the mouth of the funnel and diverges where it narrows: small
# values of $\sigma_\beta$ are never reached, which biases its posterior mean upwards (table).
# The non-centered sampler explores the neck down to values of $\sigma_\beta$ more than a
# hundred times smaller, without a single divergence. From here on we use the non-centered fit.

# %% [markdown]
# ## What the hierarchical model says

# %%
az.summary(noncentered_idata, var_names=HYPER)

# %%
axs = az.plot_posterior(noncentered_idata, var_names=HYPER, grid=(2, 3), figsize=(13, 7))
axs[-1, -1].set_axis_off()
fig = axs[0, 0].get_figure()
title = fig.suptitle("Hierarchical model: posterior of the population-level parameters")

# %%
hyper_hdi = az.hdi(noncentered_idata, var_names=HYPER)
assert float(hyper_hdi["mu_beta"].max()) < 0, "mu_beta is clearly negative"
assert float(hyper_hdi["sig_alpha"].min()) > 0.1, "sig_alpha is clearly away from zero"
assert float(hyper_hdi["sig_beta"].min()) < 0.01, "sig_beta reaches down to zero"
posterior_mean = noncentered_idata.posterior[HYPER].mean()
assert posterior_mean["eps"] > posterior_mean["sig_alpha"]
mu_beta_mean = float(posterior_mean["mu_beta"])
print(f"mean slope mu_beta = {mu_beta_mean:.2f}")
print(f"first floor / basement radon ratio ≈ exp(mu_beta) = {np.exp(mu_beta_mean):.2f}")

# %% [markdown]
# - $\mu_\beta$ is clearly negative: a typical first floor has about half the radon of the
#   basement of the same county (the ratio $e^{\mu_\beta}$ printed above).
# - $\sigma_\alpha$ is clearly away from zero: counties really differ in their basement radon.
# - $\sigma_\beta$ is small and its posterior reaches down to zero: the data are compatible with
#   the same floor effect everywhere. With so few first-floor homes per county, the model cannot
#   tell slopes apart and pools them strongly.
# - $\varepsilon$, the spread of homes within a county, is larger than $\sigma_\alpha$: homes
#   differ more within a county than counties differ from each other.

# %% [markdown]
# ### Shrinkage
#
# Each county's basement intercept $\alpha_j$ has three estimates: its own (unpooled), the
# statewide one (pooled) and the hierarchical compromise. The plot places every county at its
# number of homes.

# %%
unpooled_alpha = unpooled_idata.posterior["alpha"].mean(("chain", "draw")).to_series()
hierarchical_alpha = noncentered_idata.posterior["alpha"].mean(("chain", "draw")).to_series()
pooled_alpha = float(pooled_idata.posterior["alpha"].mean())
shift = (unpooled_alpha - hierarchical_alpha).abs()
most_shrunk = shift.idxmax()
print(
    f"most shrunk: {most_shrunk}, {homes_per_county[most_shrunk]} home(s), moved {shift.max():.2f}"
)
largest = homes_per_county.idxmax()
print(f"largest county: {largest}, {homes_per_county[largest]} homes, moved {shift[largest]:.2f}")

# %% tags=["slide", "slide-hide-input"]
ax = plot_shrinkage(
    unpooled_alpha,
    hierarchical_alpha,
    homes_per_county,
    pooled_alpha,
    labels=list(coords["county"]),
    annotate=sorted({focus_county, most_shrunk, largest}),
    ylabel="basement intercept α_j (log radon)",
    title="Partial pooling shrinks small counties the most",
)
xlabel = ax.set_xlabel("homes measured in the county (log scale)")

# %% [markdown]
# Each segment joins a county's own estimate (open circle) to its hierarchical estimate (filled
# circle). Small counties, on the left, move a lot: their few homes are weak evidence, and the
# hierarchy borrows strength from the other counties. Large counties, on the right, barely move:
# their data outweigh the population distribution (the distances printed above). This is the
# compromise the hierarchical model strikes automatically, county by county, with a weight set
# by the number of homes and by $\sigma_\alpha / \varepsilon$. The estimates move towards
# $\mu_\alpha$, the mean of the county intercepts, which lies above the pooled intercept
# (dashed line; printed below). The pooled model weights every home equally, so it leans towards
# the large counties, and these have lower radon than the typical county: weighting the county
# intercepts by their number of homes gives a lower average than weighting counties equally.
#
# The county that moves most is not one of the smallest. Intercepts and slopes are estimated
# together: on its own, this county explains the gap between its basements and its first floors
# with an extreme slope (printed below). Once the slope is pulled towards the state's, the
# basement intercept has to move as well.

# %%
mu_alpha_mean = float(posterior_mean["mu_alpha"])
by_home = np.average(hierarchical_alpha, weights=homes_per_county)
by_county = hierarchical_alpha.mean()
assert mu_alpha_mean > pooled_alpha and by_home < by_county
print(f"mu_alpha = {mu_alpha_mean:.2f}, pooled intercept = {pooled_alpha:.2f}")
print(f"mean of alpha_j weighted by homes: {by_home:.2f}, by county: {by_county:.2f}")


# %%
def posterior_mean_by_county(idata, var_name):
    """Posterior mean of a per-county variable, as a Series indexed by county."""
    return idata.posterior[var_name].mean(("chain", "draw")).to_series()


slopes = pd.Series(
    {
        "unpooled": posterior_mean_by_county(unpooled_idata, "beta")[most_shrunk],
        "hierarchical": posterior_mean_by_county(noncentered_idata, "beta")[most_shrunk],
        "population mean mu_beta": mu_beta_mean,
    },
    name=f"slope of {most_shrunk} ({homes_per_county[most_shrunk]} homes)",
)
assert homes_per_county[most_shrunk] > homes_per_county.min()
assert abs(slopes["unpooled"] - mu_beta_mean) > 3 * abs(slopes["hierarchical"] - mu_beta_mean)
slopes.round(2)

# %% [markdown]
# ### Predicting a new home in the focus county
#
# For a new home in a county, a draw from the posterior predictive distribution is
# $\alpha_j + \beta_j x + \varepsilon \cdot \mathrm{Normal}(0, 1)$, computed once per posterior
# draw. We do this for a basement and a first-floor home under each of the three models.


# %%
def predict_log_radon(idata, county, floor_value, rng):
    """Draw log radon for a new home on ``floor_value`` in ``county`` (one draw per sample)."""
    posterior = az.extract(idata)
    alpha, beta = posterior["alpha"], posterior["beta"]
    if "county" in alpha.dims:
        alpha, beta = alpha.sel(county=county), beta.sel(county=county)
    mean = (alpha + beta * floor_value).to_numpy()
    return rng.normal(mean, posterior["eps"].to_numpy())


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
ratio = width["unpooled", "first floor"] / width["hierarchical", "first floor"]
assert ratio > 10
print(f"unpooled / hierarchical width of the first-floor interval: {ratio:.0f}")

# %%
fig, ax = plt.subplots(figsize=(9, 4.5))
labels = [f"{model}, {floor_name}" for model, floor_name in prediction_table.index]
y = np.arange(len(labels))
ax.hlines(y, prediction_table["3%"], prediction_table["97%"], color="C0", linewidth=3)
ax.plot(prediction_table["mean"], y, "o", color="C0")
ax.axvline(np.log(4), color="C5", linestyle="--", label="EPA action level, 4 pCi/L")
ax.set(yticks=y, yticklabels=labels, xlabel="predicted log radon of a new home (log pCi/L)")
ax.set_title(f"New home in {focus_county}: 94% predictive intervals")
legend = ax.legend(loc="lower left")

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
ax = az.plot_ppc(noncentered_idata, num_pp_samples=100, random_seed=RANDOM_SEED)
ax.set(xlabel="log radon (log pCi/L)", ylabel="density")
title = ax.set_title("Posterior predictive check of the hierarchical model")
lowest = log_radon.min()
print(f"homes at the lowest reading, log radon {lowest:.1f}: {(log_radon == lowest).sum()}")

# %% [markdown]
# The replicated datasets (thin lines) follow the observed distribution (thick line) in location,
# spread and shape, so the model reproduces the data as a whole. The small wiggles of the observed
# curve come from readings rounded to a few common values. Only the far left edge stands out:
# a few homes (printed above) share the lowest value in the data, $\log 0.1$, which looks like a
# floor put on readings of zero. A model for individual homes with very low radon would need to
# treat them separately; for county averages they do not matter.

# %% [markdown]
# ## Reproducibility without an exact answer
#
# There is no closed-form posterior for this model to compare with. What we can check is that
# the answer does not depend on the random seed: a second, independent run must agree with the
# first within Monte Carlo error. It needs a generator with a different seed: PyMC derives the
# chain seeds from a copy of the generator it is given, so passing `rng` again would repeat the
# first run draw for draw. `compare_runs` computes
# $z = (\bar\theta_a - \bar\theta_b) / \sqrt{\mathrm{mcse}_a^2 + \mathrm{mcse}_b^2}$ for each
# hyperparameter and raises if any $|z| > 4$.

# %%
rerun_rng = np.random.default_rng(RANDOM_SEED + 1)
# Fewer draws than the first run: the comparison needs a trustworthy Monte Carlo error on each
# side (the checks below), not a second precise answer.
with noncentered_model:
    rerun_idata = pm.sample(
        draws=600,
        tune=500,
        chains=4,
        cores=4,
        target_accept=0.95,
        early_max_treedepth=5,
        random_seed=rerun_rng,
        progressbar=False,
    )
print(check_sampling(rerun_idata, var_names=HYPER))

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
# ## Exercise: uranium in the soil
#
# Radon is produced by the decay of uranium, and `log_uranium` measures uranium in each
# county's soil (one value per county). Add it as a county-level predictor of the intercepts:
#
# $$
# \alpha_j \sim \mathrm{Normal}(\gamma_0 + \gamma_1 u_j,\ \sigma_\alpha), \qquad
# \gamma_0,\ \gamma_1 \sim \mathrm{Normal}(0, 10),
# $$
#
# keeping the varying slopes and the non-centered form. What does $\gamma_1$ say? How does
# $\sigma_\alpha$ change, and why?

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
# A short run keeps the exercise cheap: enough for the parameters we report (checked below).
with uranium_model:
    uranium_idata = pm.sample(
        draws=600,
        tune=500,
        chains=4,
        cores=4,
        target_accept=0.9,
        early_max_treedepth=5,
        random_seed=rng,
        progressbar=False,
    )
print(check_sampling(uranium_idata, var_names=["gamma_0", "gamma_1", "sig_alpha"]))

# %% tags=["solution"]
assert float(uranium_idata.posterior["gamma_1"].quantile(0.03)) > 0
uranium_sig_alpha = float(uranium_idata.posterior["sig_alpha"].mean())
noncentered_sig_alpha = float(noncentered_idata.posterior["sig_alpha"].mean())
assert uranium_sig_alpha < noncentered_sig_alpha
print(f"sig_alpha without uranium: {noncentered_sig_alpha:.2f}, with: {uranium_sig_alpha:.2f}")
az.summary(uranium_idata, var_names=["gamma_0", "gamma_1", "sig_alpha"])

# %% [markdown] tags=["solution"]
# $\gamma_1$ is clearly positive: counties with more uranium in the soil have more radon in
# their basements, as physics predicts. Because $\gamma_1$ is a slope on the log-log scale, a
# county with $e$ times more uranium has about $e^{\gamma_1}$ times more basement radon.
# $\sigma_\alpha$ drops (printed above): uranium explains a large part of the differences
# between counties, so less is left for the county-level noise. The hierarchy then pools
# counties towards a line in uranium instead of one statewide mean, so a small county now
# borrows from counties with similar soil rather than from the state as a whole.
# (`check_sampling` verifies the three parameters discussed here; other variables of this short
# run may fall short of the ESS target. For a careful analysis, draw more samples until every
# variable passes.)

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - **Partial pooling** sits between one regression for all and one per group; small groups
#   are pulled towards the population, large ones keep their own estimate.
# - Intercepts and slopes can both vary; groups with little data borrow both.
# - A **funnel** shows up as divergences, high $\hat R$ and low ESS: treat them as errors.
# - The **non-centered** form is the same model, sampled in easier coordinates.
# - Without an exact answer, two independent runs must agree within Monte Carlo error.
