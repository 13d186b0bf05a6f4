# %% [markdown] tags=["slide"]
# # 02 · Chemical shifts: pooled, unpooled and hierarchical models
#
# A quantum-chemistry calculation predicts the NMR chemical shift of each amino acid in a
# protein. **How far off is it, and is it off by the same amount for every kind of amino
# acid?** Three answers: one error for everything, one error per amino acid, or a hierarchy
# that lets the amino acids learn from each other.

# %% [markdown]
# ## Learning goals
#
# By the end of this notebook you can
#
# - write the **pooled**, **unpooled** and **hierarchical** versions of a Normal model for
#   grouped measurements in PyMC, with `coords`/`dims` naming the groups;
# - explain **shrinkage**: why the hierarchical estimates move toward the population mean,
#   and which groups move the most;
# - check a hierarchical model before and after fitting (prior and posterior predictive
#   checks, convergence diagnostics);
# - check that a fit is reproducible when no exact answer exists, by comparing two independent
#   runs in units of their Monte Carlo error.

# %%
import warnings

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
from matplotlib.ticker import NullFormatter

from course_utils.data import load_chemical_shifts
from course_utils.diagnostics import check_sampling, compare_runs
from course_utils.plots import (
    model_graph,
    plot_forest_comparison,
    plot_shrinkage,
    use_course_style,
)

# %%
RANDOM_SEED = 2024
rng = np.random.default_rng(RANDOM_SEED)
use_course_style()
# Early in tuning, NUTS can try a wild step whose kinetic energy overflows; that proposal is
# rejected and tuning carries on, so the warning says nothing about the final sample.
warnings.filterwarnings("ignore", message="overflow encountered in dot", category=RuntimeWarning)

# %% [markdown]
# ## The data
#
# Each row is one amino acid in one of 14 proteins: `theo` is the chemical shift (in parts per
# million, ppm) computed from theory, `exp` the one measured in the lab. We model the error of
# the calculation,
#
# $$\text{diff} = \text{theo} - \text{exp},$$
#
# so a positive value means the theory overestimates the shift. The amino acid (`aa`) is a
# categorical column; its categories become the `aa` coordinate of every model.

# %%
cs = load_chemical_shifts()
cs.head()

# %%
print(f"{len(cs)} rows, {cs['aa'].cat.categories.size} amino acids, {cs['ID'].nunique()} proteins")
counts = cs.groupby("aa", observed=True)["diff"].agg(n="size", mean="mean", sd="std")
counts.round(2).T

# %% [markdown]
# Every amino acid has at least 30 measurements, but the groups are unequal: from
# 30 (`HIS`) to 159 (`LEU`). The mean error also differs between amino acids, from about
# −1.2 ppm (`PRO`) to +0.9 ppm (`TYR`), and so does the spread (standard deviations between
# 1.1 and 2.3 ppm).

# %%
assert counts["n"].idxmin() == "HIS" and counts["n"].min() == 30
assert counts["n"].idxmax() == "LEU" and counts["n"].max() == 159
assert counts["mean"].idxmin() == "PRO" and counts["mean"].idxmax() == "TYR"
assert round(counts["mean"].min(), 1) == -1.2 and round(counts["mean"].max(), 1) == 0.9
assert round(counts["sd"].min(), 1) == 1.1 and round(counts["sd"].max(), 1) == 2.3

# %% tags=["slide", "slide-hide-input"]
fig, ax = plt.subplots(figsize=(11, 5))
groups = [g["diff"].to_numpy() for _, g in cs.groupby("aa", observed=True)]
box = ax.boxplot(groups, tick_labels=counts.index, showfliers=False)
ax.axhline(0, color="C4", linestyle="--", linewidth=1.5)
ax.set_xlabel("amino acid")
ax.set_ylabel("theo − exp (ppm)")
ax.set_title("Error of the theoretical chemical shifts, by amino acid")
ax.tick_params(axis="x", labelrotation=90)
plt.show()

# %% [markdown]
# The boxes (middle half of each group, line at the median) overlap a lot: amino acids differ
# less from each other than measurements differ within an amino acid. `PRO` stands out, with
# errors below zero for most of its rows (printed below). The dashed line marks a perfect
# calculation.

# %%
pro_below_zero = (cs.loc[cs["aa"] == "PRO", "diff"] < 0).mean()
print(f"PRO rows with theo < exp: {pro_below_zero:.0%}")
assert pro_below_zero > 0.75

# %% [markdown]
# We index the observations by amino acid with the integer codes of the categorical column:

# %%
aa_idx = cs["aa"].cat.codes.to_numpy()
diff = cs["diff"].to_numpy()
coords = {"aa": cs["aa"].cat.categories}

# %% [markdown]
# ## Three models
#
# ### Pooled: one error distribution for everything
#
# Complete pooling ignores the amino acid: all 1776 differences share one mean and one
# standard deviation,
#
# $$\mu \sim \mathrm{Normal}(0, 10), \quad \sigma \sim \mathrm{HalfNormal}(10), \quad
# y_i \sim \mathrm{Normal}(\mu, \sigma).$$
#
# The priors are weakly informative: errors of tens of ppm are possible a priori, errors of
# thousands are not.

# %%
with pm.Model() as cs_p:
    mu = pm.Normal("mu", mu=0, sigma=10)
    sigma = pm.HalfNormal("sigma", sigma=10)
    y = pm.Normal("y", mu=mu, sigma=sigma, observed=diff)

# %%
with cs_p:
    idata_cs_p = pm.sample(
        draws=500, tune=1000, chains=4, cores=4, random_seed=rng, progressbar=False
    )
check_sampling(idata_cs_p, var_names=["mu", "sigma"]).to_frame()

# %%
az.summary(idata_cs_p, var_names=["mu", "sigma"], kind="stats")

# %% [markdown]
# On average the theory is almost unbiased (the 94% HDI of $\mu$ contains 0), with a typical
# error $\sigma$ of about 1.7 ppm. But this one number hides the differences between amino acids
# that the box plot shows.

# %%
pooled_hdi = az.hdi(idata_cs_p, var_names=["mu"], hdi_prob=0.94)["mu"].to_numpy()
assert pooled_hdi[0] < 0 < pooled_hdi[1]
assert round(float(idata_cs_p.posterior["sigma"].mean()), 1) == 1.7

# %% [markdown]
# ### Unpooled: each amino acid on its own
#
# No pooling gives every amino acid $j$ its own mean $\mu_j$ and standard deviation
# $\sigma_j$, with the same weakly informative priors, independent across amino acids:
#
# $$\mu_j \sim \mathrm{Normal}(0, 10), \quad \sigma_j \sim \mathrm{HalfNormal}(10), \quad
# y_i \sim \mathrm{Normal}(\mu_{\mathrm{aa}[i]}, \sigma_{\mathrm{aa}[i]}).$$
#
# `dims="aa"` creates one parameter per amino acid; `mu[aa_idx]` picks, for each row, the
# parameter of its amino acid.

# %%
with pm.Model(coords=coords) as cs_nh:
    mu = pm.Normal("mu", mu=0, sigma=10, dims="aa")
    sigma = pm.HalfNormal("sigma", sigma=10, dims="aa")
    y = pm.Normal("y", mu=mu[aa_idx], sigma=sigma[aa_idx], observed=diff)

# %% [markdown]
# ### Hierarchical: amino acids drawn from a common population
#
# Partial pooling treats the amino-acid means as draws from a population whose centre
# $\mu_\mu$ and spread $\mu_{sd}$ are learned from the data (the *hyperpriors* are on the first
# line):
#
# $$
# \begin{aligned}
# \mu_\mu &\sim \mathrm{Normal}(0, 10), & \mu_{sd} &\sim \mathrm{HalfNormal}(10),\\
# \mu_j &\sim \mathrm{Normal}(\mu_\mu, \mu_{sd}), & \sigma_j &\sim \mathrm{HalfNormal}(10),\\
# y_i &\sim \mathrm{Normal}(\mu_{\mathrm{aa}[i]}, \sigma_{\mathrm{aa}[i]}). &&
# \end{aligned}
# $$
#
# If $\mu_{sd}$ is small, the amino acids are alike and each $\mu_j$ borrows strength from the
# others; if it is large, the model behaves like the unpooled one. The data decide.
#
# Only the means are pooled. Each $\sigma_j$ keeps an independent prior, as in the unpooled
# model: that is a **modelling choice**, not a rule. With at least 30 rows per amino acid,
# each standard deviation is well determined by its own data, so we keep the model simple; the
# first exercise adds a hyperprior on $\sigma$ too and compares the fits.

# %% tags=["slide"]
with pm.Model(coords=coords) as cs_h:
    # hyperpriors: the population of amino-acid means
    mu_mu = pm.Normal("mu_mu", mu=0, sigma=10)
    mu_sd = pm.HalfNormal("mu_sd", sigma=10)
    # one mean and one standard deviation per amino acid
    mu = pm.Normal("mu", mu=mu_mu, sigma=mu_sd, dims="aa")
    sigma = pm.HalfNormal("sigma", sigma=10, dims="aa")
    y = pm.Normal("y", mu=mu[aa_idx], sigma=sigma[aa_idx], observed=diff)

# %% [markdown]
# The model graphs show the difference: in the unpooled model the 19 means hang from fixed
# numbers; in the hierarchical one they hang from `mu_mu` and `mu_sd`, which are themselves
# unknown. Plates (boxes) show how many copies of each variable there are.

# %% tags=["nbval-ignore-output"]
model_graph(cs_nh)

# %% tags=["nbval-ignore-output"]
model_graph(cs_h)

# %% [markdown]
# ## Prior predictive check
#
# Before looking at the posterior, we simulate data from the hierarchical model's priors
# alone and compare it with the observed differences.

# %%
with cs_h:
    prior_cs_h = pm.sample_prior_predictive(draws=500, random_seed=rng)

# %%
quantiles = [0.01, 0.5, 0.99]
prior_check = pd.DataFrame(
    {
        "observed": np.quantile(diff, quantiles),
        "prior predictive": np.quantile(prior_cs_h.prior_predictive["y"], quantiles),
    },
    index=[f"{q:.0%} quantile" for q in quantiles],
)
prior_check.round(1)

# %%
ax = az.plot_ppc(
    prior_cs_h,
    group="prior",
    observed=True,
    num_pp_samples=100,
    colors=["0.6", "C4", "C0"],
    random_seed=RANDOM_SEED,
)
ax.set_xlabel("theo − exp (ppm)")
ax.set_ylabel("density")
ax.set_title("Prior predictive check of the hierarchical model")
plt.show()

# %% [markdown]
# The prior predictive distributions (grey) are much wider than the data (blue): the priors
# allow errors of a few tens of ppm, whereas the observed errors stay within about ±10 ppm.
# That is what we want from weakly informative priors: the scale is right (no errors of
# thousands of ppm), and the data, not the prior, will decide where the parameters end up.

# %%
assert abs(prior_check.loc["99% quantile", "prior predictive"]) > abs(diff).max()
assert prior_check["prior predictive"].abs().max() < 100

# %% [markdown]
# ## Sampling and diagnostics
#
# Both models are fitted with NUTS at its default settings (`target_accept=0.8`, centered
# parameterisation), four chains, 1000 tuning and 500 kept draws per chain.

# %%
with cs_nh:
    idata_cs_nh = pm.sample(
        draws=500, tune=1000, chains=4, cores=4, random_seed=rng, progressbar=False
    )
check_sampling(idata_cs_nh, var_names=["mu", "sigma"]).to_frame()

# %%
with cs_h:
    idata_cs_h = pm.sample(
        draws=500, tune=1000, chains=4, cores=4, random_seed=rng, progressbar=False
    )
check_sampling(idata_cs_h, var_names=["mu_mu", "mu_sd", "mu", "sigma"]).to_frame()

# %% [markdown]
# No divergences, $\hat R \le 1.01$ and a bulk ESS far above 400 for every parameter, so the
# centered hierarchical model needs neither a higher `target_accept` nor a non-centered
# parameterisation. The notorious "funnel" of hierarchical models appears when groups carry
# little information, so that $\mu_j$ can follow $\mu_{sd}$ down toward zero; here every amino
# acid has 30 or more rows, and the likelihood holds each $\mu_j$ in place.
#
# The population parameters:

# %%
summary_hyper = az.summary(idata_cs_h, var_names=["mu_mu", "mu_sd"], kind="stats")
summary_hyper

# %% [markdown]
# The population of amino-acid biases is centred near zero ($\mu_\mu$, HDI containing 0) and the
# biases differ between amino acids by a typical $\mu_{sd}$ of about 0.5 ppm, clearly more than
# zero: the amino acids are alike, but not identical. That spread is smaller than the error
# within every amino acid ($\sigma_j$, printed below), which is why the boxes overlapped so much.

# %%
assert summary_hyper.loc["mu_mu", "hdi_3%"] < 0 < summary_hyper.loc["mu_mu", "hdi_97%"]
assert 0.4 < summary_hyper.loc["mu_sd", "mean"] < 0.6
assert summary_hyper.loc["mu_sd", "hdi_3%"] > 0.2
sigma_means = idata_cs_h.posterior["sigma"].mean(("chain", "draw")).to_series()
print(f"posterior means of sigma_j: {sigma_means.min():.2f} to {sigma_means.max():.2f} ppm")
assert summary_hyper.loc["mu_sd", "mean"] < sigma_means.min()

# %% [markdown]
# ## Shrinkage
#
# The forest plot puts the amino-acid means of the two models side by side: the dot is the
# posterior median, the thick line the interquartile range, the thin line the 94% HDI. The
# dashed line is the posterior mean of $\mu_\mu$, the partially pooled centre.

# %% tags=["slide", "slide-hide-input"]
mu_mu_mean = float(idata_cs_h.posterior["mu_mu"].mean())
ax = plot_forest_comparison(
    {"unpooled": idata_cs_nh, "hierarchical": idata_cs_h},
    ["mu"],
    ref_val=mu_mu_mean,
    ref_label=r"posterior mean of $\mu_\mu$",
    title="Amino-acid means: unpooled vs hierarchical",
    xlabel=r"$\mu_j$, mean of theo − exp (ppm)",
    figsize=(9, 11),
)

# %% [markdown]
# Every hierarchical estimate sits closer to the dashed line than its unpooled counterpart:
# this is **shrinkage**. The hierarchical model treats an extreme group mean as partly noise,
# and pulls it toward what the other amino acids suggest. The pull is not the same for all
# groups; the table measures it.

# %%
post_nh = idata_cs_nh.posterior["mu"].mean(("chain", "draw")).to_series()
post_h = idata_cs_h.posterior["mu"].mean(("chain", "draw")).to_series()
shrinkage = pd.DataFrame(
    {
        "n": counts["n"],
        "se": counts["sd"] / np.sqrt(counts["n"]),  # standard error of the group mean
        "unpooled": post_nh,
        "hierarchical": post_h,
    }
)
shrinkage["distance"] = (shrinkage["unpooled"] - mu_mu_mean).abs()
shrinkage["shift"] = (shrinkage["unpooled"] - shrinkage["hierarchical"]).abs()
shrinkage = shrinkage.sort_values("shift", ascending=False)
shrinkage.round(3).head(6)

# %% [markdown]
# Two things decide how far a group moves: how far its own estimate is from the centre
# (`distance`) and how little its own data say (the standard error `se` of its mean, large
# when there are few rows or they scatter a lot). The groups that move most are printed
# below; each is both far from $\mu_\mu$ (farther than the median group) and small (fewer
# rows than the median group).

# %%
most_shrunk = shrinkage.index[:3].tolist()
print(f"moved most: {most_shrunk}")
print(shrinkage.loc[most_shrunk, ["n", "distance", "shift"]].round(2).to_string())
assert (shrinkage.loc[most_shrunk, "distance"] > shrinkage["distance"].median()).all()
assert (shrinkage.loc[most_shrunk, "n"] < shrinkage["n"].median()).all()
# every estimate moves toward mu_mu, never past it
toward = (shrinkage["hierarchical"] - mu_mu_mean) * (shrinkage["unpooled"] - mu_mu_mean) >= 0
assert toward.all() and (shrinkage["shift"] <= shrinkage["distance"]).all()

# %% [markdown]
# `PRO` is the instructive exception: it is the amino acid farthest from $\mu_\mu$, yet it moves
# less than the groups above. Its 61 errors are very consistent (the smallest standard
# deviation of all), so its mean is known precisely and the data outweigh the population.
# "Little data" really means *little information*: few rows, or noisy ones.

# %%
pro = shrinkage.loc["PRO"]
print(
    f"PRO: n={pro['n']:.0f}, se={pro['se']:.3f}, distance={pro['distance']:.2f}, "
    f"shift={pro['shift']:.3f}, rank by shift={shrinkage.index.get_loc('PRO') + 1}"
)
assert shrinkage["distance"].idxmax() == "PRO" and counts["sd"].idxmin() == "PRO"
assert pro["shift"] < shrinkage.loc[most_shrunk, "shift"].min()
assert pro["se"] < shrinkage.loc[most_shrunk, "se"].min()

# %% [markdown]
# The same story in one picture: each arrow goes from the unpooled estimate (open circle) to
# the hierarchical one (filled), plotted against the size of the group. The dashed line is the
# pooled estimate, where complete pooling would put every group.

# %%
pooled_mean = float(idata_cs_p.posterior["mu"].mean())
ax = plot_shrinkage(
    shrinkage["unpooled"],
    shrinkage["hierarchical"],
    shrinkage["n"],
    pooled=pooled_mean,
    labels=shrinkage.index.tolist(),
    annotate=[*most_shrunk, "PRO"],
    ylabel=r"posterior mean of $\mu_j$ (ppm)",
    title="Shrinkage of the amino-acid means",
)
ax.set_xticks([30, 40, 60, 100, 150], labels=["30", "40", "60", "100", "150"])
ax.xaxis.set_minor_formatter(NullFormatter())

# %% [markdown]
# The long arrows are on the left (small groups) and far from the dashed line; the large
# groups on the right barely move. The hierarchical model lands between the two extremes of
# the pooled model (one value for everyone) and the unpooled model (each group alone).

# %% [markdown]
# ## Posterior predictive check
#
# Does the fitted hierarchical model generate data that look like the observations? We draw
# replicated datasets from the posterior and overlay their densities on the observed one.

# %%
# Naming the simulated variable explicitly also sidesteps a PyMC 5.28 bug: without
# var_names, the call registers `y` twice in the model and later fits of cs_h fail.
with cs_h:
    pm.sample_posterior_predictive(
        idata_cs_h, var_names=["y"], random_seed=rng, progressbar=False, extend_inferencedata=True
    )

# %%
ax = az.plot_ppc(
    idata_cs_h, num_pp_samples=100, colors=["0.6", "C4", "C0"], random_seed=RANDOM_SEED
)
ax.set_xlabel("theo − exp (ppm)")
ax.set_ylabel("density")
ax.set_title("Posterior predictive check of the hierarchical model")
plt.show()

# %% [markdown]
# In the bulk the fit is good: the observed density (blue) runs through the band of replicated
# densities (grey), with about the right centre and width. The tails are another matter: the
# observed curve reaches beyond ±8 ppm on both sides, where the replicas have almost no mass. A
# density plot hides tails, so we check them with a test statistic, the largest absolute error
# in a dataset, and ask how often a replicated dataset is as extreme as the real one (a
# posterior predictive p-value).

# %%
y_rep = idata_cs_h.posterior_predictive["y"].stack(sample=("chain", "draw"))
max_rep = abs(y_rep).max(dim="y_dim_0").to_numpy()
max_obs = np.abs(diff).max()
p_value = (max_rep >= max_obs).mean()
print(
    f"largest |theo - exp|: observed {max_obs:.2f} ppm, median of replicas {np.median(max_rep):.2f}"
)
print(f"P(replicated max >= observed max) = {p_value:.3f}")
assert p_value < 0.05 and diff.min() < -8 and diff.max() > 8

# %% [markdown]
# Only a tiny fraction of replicated datasets contains an error as large as the largest
# observed one: the errors have **heavier tails** than a Normal distribution per amino acid
# allows. A few calculations go much more wrong than the typical $\sigma_j$ suggests. For the
# questions of this lesson (the mean error per amino acid) the Normal model is a reasonable
# first answer; the usual remedy for the tails is a likelihood with heavier tails, such as a
# Student-t. Keep this in mind when you read the LOO comparison in exercise 1.

# %% [markdown]
# ## Is the fit reproducible?
#
# For this model there is no exact posterior to compare with (unlike a conjugate model, whose
# answer is a formula). What we *can* check is that two independent runs agree: each posterior
# mean has a Monte Carlo standard error (MCSE), and two runs with different seeds should differ
# by no more than their combined MCSE allows. `compare_runs` computes
# $z = (\bar\theta_a - \bar\theta_b) / \sqrt{\mathrm{MCSE}_a^2 + \mathrm{MCSE}_b^2}$ for every
# parameter and raises if any $|z| > 4$.
#
# The second run uses a different seed. Passing `rng` again would *not* give one:
# `pm.sample` spawns the chain seeds from a copy of the generator, so every call with the same
# `rng` starts its chains from the same seeds. (That is harmless for different models, but it
# would make this check compare a run with itself.)

# %%
with cs_h:
    idata_cs_h_rerun = pm.sample(
        draws=500, tune=1000, chains=4, cores=4, random_seed=RANDOM_SEED + 1, progressbar=False
    )
check_sampling(idata_cs_h_rerun, var_names=["mu_mu", "mu_sd", "mu", "sigma"]).to_frame()

# %%
runs = compare_runs(idata_cs_h, idata_cs_h_rerun, var_names=["mu_mu", "mu_sd", "mu", "sigma"])
assert not np.allclose(idata_cs_h.posterior["mu"], idata_cs_h_rerun.posterior["mu"])
assert len(runs) == 40
print(f"largest |z| over {len(runs)} quantities: {runs['z'].abs().max():.2f}")
runs.loc[["mu_mu", "mu_sd", "mu[PRO]", "sigma[PRO]"]].round(4)

# %% [markdown]
# The draws of the two runs differ, but their posterior means agree within Monte Carlo error
# for all 40 quantities (the largest $|z|$ is printed above). With 40 roughly standard normal
# $z$ values, a few around 2 are expected; a value above 4 would point to a sampling problem.

# %% [markdown]
# ## Exercises
#
# **1. A hyperprior on $\sigma$.** In `cs_h` each $\sigma_j$ has its own fixed prior. Write a
# model `cs_hs` in which the standard deviations are pooled too:
# $\sigma_{sd} \sim \mathrm{HalfNormal}(10)$, $\sigma_j \sim \mathrm{HalfNormal}(\sigma_{sd})$.
# Fit it (keep the log likelihood:
# `pm.sample(..., idata_kwargs={"log_likelihood": True})`), check the sampling, and compare the
# pooled, unpooled, hierarchical and new models with LOO (`az.compare`). The three models fitted
# above did not store the log likelihood; `pm.compute_log_likelihood(idata, model=...)` adds it.
# Which models predict new measurements best, and are the differences larger than their
# standard errors?

# %% tags=["solution"]
with pm.Model(coords=coords) as cs_hs:
    mu_mu = pm.Normal("mu_mu", mu=0, sigma=10)
    mu_sd = pm.HalfNormal("mu_sd", sigma=10)
    sigma_sd = pm.HalfNormal("sigma_sd", sigma=10)
    mu = pm.Normal("mu", mu=mu_mu, sigma=mu_sd, dims="aa")
    sigma = pm.HalfNormal("sigma", sigma=sigma_sd, dims="aa")
    y = pm.Normal("y", mu=mu[aa_idx], sigma=sigma[aa_idx], observed=diff)
    idata_cs_hs = pm.sample(
        draws=500,
        tune=1000,
        chains=4,
        cores=4,
        random_seed=rng,
        progressbar=False,
        idata_kwargs={"log_likelihood": True},
    )
check_sampling(idata_cs_hs, var_names=["mu_mu", "mu_sd", "sigma_sd", "mu", "sigma"]).to_frame()

# %% tags=["solution"]
for model, idata in [(cs_p, idata_cs_p), (cs_nh, idata_cs_nh), (cs_h, idata_cs_h)]:
    pm.compute_log_likelihood(idata, model=model, progressbar=False)
fits = {
    "pooled": idata_cs_p,
    "unpooled": idata_cs_nh,
    "hierarchical": idata_cs_h,
    "hierarchical + sigma hyperprior": idata_cs_hs,
}
with warnings.catch_warnings():
    # ArviZ warns when an observation has Pareto k > 0.7; we count those ourselves below.
    warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
    loos = {name: az.loo(idata, pointwise=True) for name, idata in fits.items()}
comparison = az.compare(loos)
comparison.round(2)

# %% tags=["solution"]
high_k = {name: np.flatnonzero(loo.pareto_k > 0.7) for name, loo in loos.items()}
print("observations with Pareto k > 0.7:", {name: len(rows) for name, rows in high_k.items()})
high_k_rows = np.unique(np.concatenate(list(high_k.values())))
print("their errors theo - exp (ppm):", diff[high_k_rows].round(2).tolist())
grouped = comparison.drop(index="pooled")
assert comparison.index[-1] == "pooled"
assert comparison.loc["pooled", "elpd_diff"] > 3 * comparison.loc["pooled", "dse"]
assert (grouped["elpd_diff"] <= 2 * grouped["dse"] + 1e-9).all()
for name in grouped.index:
    assert 1 <= len(high_k[name]) <= 5 and comparison.loc[name, "warning"]
    assert (np.abs(diff[high_k[name]]) > np.quantile(np.abs(diff), 0.99)).all()

# %% [markdown] tags=["solution"]
# The pooled model is clearly the worst: its `elpd_loo` is lower than the best model's by
# several standard errors of the difference (`dse`), because one mean and one spread cannot
# describe amino acids that differ. The three grouped models are practically tied: their
# differences are within about two `dse`. With 30 to 159 rows per amino acid, each group's own
# data already determine its parameters well, so pooling the means (or the standard deviations)
# changes the predictions only a little; partial pooling matters most for small groups and for
# groups the data have not seen (exercise 2).
#
# The `warning` column flags the grouped fits: in each, very few observations (counted above)
# have a Pareto $k > 0.7$, meaning that leaving one of them out changes the posterior too much
# for the importance-sampling shortcut of LOO to be reliable. They are among the 1% most extreme
# errors, the tail that the posterior predictive check found. A handful of unreliable terms
# cannot change the verdict on the pooled model, but they are one more hint that a
# heavier-tailed likelihood would fit better.

# %% [markdown]
# **2. A new amino acid.** The data contain 19 of the 20 standard amino acids: cysteine (`CYS`)
# is missing. What does each of the three models say about the mean error of the theory for
# cysteine? Use the hierarchical posterior to draw $\mu_{\mathrm{CYS}}$ and compare its 94% HDI
# with those of the observed amino acids.

# %% tags=["solution"]
hyper = az.extract(idata_cs_h, var_names=["mu_mu", "mu_sd"])
mu_cys = rng.normal(hyper["mu_mu"].to_numpy(), hyper["mu_sd"].to_numpy())
cys_hdi = az.hdi(mu_cys, hdi_prob=0.94)
observed_hdi = az.hdi(idata_cs_h, var_names=["mu"], hdi_prob=0.94)["mu"]
widest = float((observed_hdi.sel(hdi="higher") - observed_hdi.sel(hdi="lower")).max())
print(f"mu[CYS]: mean {mu_cys.mean():.2f} ppm, 94% HDI [{cys_hdi[0]:.2f}, {cys_hdi[1]:.2f}]")
print(f"HDI width {cys_hdi[1] - cys_hdi[0]:.2f} ppm; widest observed amino acid {widest:.2f} ppm")
assert cys_hdi[1] - cys_hdi[0] > widest

# %% [markdown] tags=["solution"]
# Only the hierarchical model gives an informative answer. The unpooled model has no
# parameter for cysteine: its prior, $\mathrm{Normal}(0, 10)$, is all it can offer. The pooled
# model ignores amino acids and predicts the overall mean, as if cysteine could not differ from
# the rest. The hierarchical model predicts that cysteine's bias is another draw from the
# population, $\mu_{\mathrm{CYS}} \sim \mathrm{Normal}(\mu_\mu, \mu_{sd})$: centred on $\mu_\mu$
# and wider than the interval of any observed amino acid, because it includes the spread
# between amino acids as well as the uncertainty about $\mu_\mu$ and $\mu_{sd}$.

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - **Pooled** ignores the groups, **unpooled** treats each one alone, **hierarchical** learns
#   a population of groups and lets the data decide how much they share.
# - **Shrinkage** pulls group estimates toward the population mean, most for groups far from
#   it that carry little information (few or noisy observations).
# - What to pool (here the means, not the $\sigma_j$) is a modelling choice; LOO compares options.
# - Check before and after fitting; with no exact answer, independent runs must agree within
#   their Monte Carlo error.
