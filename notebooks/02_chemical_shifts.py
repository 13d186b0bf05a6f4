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
# - say when the simple (centered) form of a hierarchical model samples well, and why;
# - check a hierarchical model before and after fitting (prior and posterior predictive
#   checks, convergence diagnostics);
# - check that a fit is reproducible when no exact answer exists, by comparing two independent
#   runs in units of their Monte Carlo error;
# - say what predicting a new group assumes (exchangeability) and when that assumption fails.

# %%
import warnings

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
from scipy import stats
from scipy.special import logsumexp

from course_utils.checks import chemical_shifts as checks
from course_utils.data import load_chemical_shifts
from course_utils.diagnostics import check_sampling, compare_runs
from course_utils.environment import sampler_cores, versions
from course_utils.plots import (
    PPC_COLORS,
    model_graph,
    plot_forest_comparison,
    plot_ppc,
    plot_shrinkage,
    use_course_style,
)

# %%
RANDOM_SEED = 2024  # seeds every sampler and predictive draw
rng = np.random.default_rng(RANDOM_SEED)
CORES = sampler_cores()  # worker processes for the chains
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

# %% tags=["check"]
assert counts["n"].idxmin() == "HIS" and counts["n"].min() == 30
assert counts["n"].idxmax() == "LEU" and counts["n"].max() == 159
assert counts["mean"].idxmin() == "PRO" and counts["mean"].idxmax() == "TYR"
assert round(counts["mean"].min(), 1) == -1.2 and round(counts["mean"].max(), 1) == 0.9
assert round(counts["sd"].min(), 1) == 1.1 and round(counts["sd"].max(), 1) == 2.3

# %% tags=["slide", "slide-hide-input"]
fig, ax = plt.subplots(figsize=(11, 5))
groups = [g["diff"].to_numpy() for _, g in cs.groupby("aa", observed=True)]
box = ax.boxplot(groups, tick_labels=counts.index, flierprops={"markersize": 3, "alpha": 0.6})
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
#
# The whiskers reach to the last row within 1.5 box lengths of the box; the rows beyond them
# are drawn one by one. There are many of them, some 8 ppm and more from zero. A Normal
# distribution puts only 0.7% of its mass beyond the whiskers; the data have more than three
# times as many rows there (printed below). The errors have **heavy tails**: remember this
# when we check the fitted model.

# %%
pro_below_zero = (cs.loc[cs["aa"] == "PRO", "diff"] < 0).mean()
print(f"PRO rows with theo < exp: {pro_below_zero:.0%}")
n_fliers = sum(len(line.get_ydata()) for line in box["fliers"])
# Beyond the whiskers of a Normal distribution: |z| > q3 + 1.5 IQR = 4 q3, q3 its 75% quantile.
normal_rate = 2 * stats.norm.sf(4 * stats.norm.ppf(0.75))
print(
    f"rows beyond the whiskers: {n_fliers} of {len(cs)} ({n_fliers / len(cs):.1%}); "
    f"a Normal distribution: {normal_rate:.1%} ({normal_rate * len(cs):.0f} rows)"
)

# %% tags=["check"]
assert pro_below_zero > 0.75
# Far more fliers than Normal data would give: the binomial count of Normal fliers has
# standard deviation sqrt(n p (1 - p)); the prose says "more than three times" its mean.
expected = normal_rate * len(cs)
assert n_fliers > 3 * expected and n_fliers > expected + 4 * np.sqrt(expected * (1 - normal_rate))
assert cs["diff"].min() < -8 and cs["diff"].max() > 8

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
with pm.Model() as pooled_model:
    mu = pm.Normal("mu", mu=0, sigma=10)
    sigma = pm.HalfNormal("sigma", sigma=10)
    y = pm.Normal("y", mu=mu, sigma=sigma, observed=diff)

# %%
with pooled_model:
    pooled_idata = pm.sample(
        draws=1000, tune=1000, chains=4, cores=CORES, random_seed=rng, progressbar=False
    )
check_sampling(pooled_idata, var_names=["mu", "sigma"]).to_frame()

# %%
az.summary(pooled_idata, var_names=["mu", "sigma"], kind="stats")

# %% [markdown]
# On average the theory is almost unbiased (the 94% HDI of $\mu$ contains 0), with a typical
# error $\sigma$ of about 1.7 ppm. But this one number hides the differences between amino acids
# that the box plot shows.

# %% tags=["check"]
pooled_hdi = az.hdi(pooled_idata, var_names=["mu"], hdi_prob=0.94)["mu"].to_numpy()
assert pooled_hdi[0] < 0 < pooled_hdi[1]
pooled_sigma = az.summary(pooled_idata, var_names=["sigma"], round_to="none").loc["sigma"]
# "about 1.7": within [1.65, 1.75], with room for four Monte Carlo standard errors.
assert (
    1.65 + 4 * pooled_sigma["mcse_mean"]
    < pooled_sigma["mean"]
    < 1.75 - 4 * pooled_sigma["mcse_mean"]
)

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
with pm.Model(coords=coords) as unpooled_model:
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
# Drawing all 19 means from one population says that the amino acids are **exchangeable**
# (notebook 01): before seeing the data, nothing we know tells us which of them the theory
# gets more wrong. Exercise 2 asks where that assumption bites.
#
# Only the means are pooled. Each $\sigma_j$ keeps an independent prior, as in the unpooled
# model: that is a **modelling choice**, not a rule. With at least 30 rows per amino acid,
# each standard deviation is well determined by its own data, so we keep the model simple; the
# first exercise adds a hyperprior on $\sigma$ too and compares the fits.

# %% tags=["slide"]
with pm.Model(coords=coords) as hierarchical_model:
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
model_graph(unpooled_model)

# %% tags=["nbval-ignore-output"]
model_graph(hierarchical_model)

# %% [markdown]
# ## Prior predictive check
#
# Before looking at the posterior, we simulate data from the hierarchical model's priors
# alone and compare it with the observed differences.

# %%
with hierarchical_model:
    hierarchical_prior = pm.sample_prior_predictive(draws=500, random_seed=rng)

# %%
quantiles = [0.01, 0.5, 0.99]
prior_check = pd.DataFrame(
    {
        "observed": np.quantile(diff, quantiles),
        "prior predictive": np.quantile(hierarchical_prior.prior_predictive["y"], quantiles),
    },
    index=[f"{q:.0%} quantile" for q in quantiles],
)
prior_check.round(1)

# %%
ax = az.plot_ppc(
    hierarchical_prior,
    group="prior",
    observed=True,
    num_pp_samples=100,
    colors=list(PPC_COLORS),
    random_seed=RANDOM_SEED,
)
ax.set_xlabel("theo − exp (ppm)")
ax.set_ylabel("density")
ax.set_title("Prior predictive check of the hierarchical model")
plt.show()

# %% [markdown]
# The prior predictive distributions (grey) are much wider than the data (red): the priors
# allow errors of a few tens of ppm, whereas the observed errors stay within about ±11 ppm.
# That is what we want from weakly informative priors: the scale is right (no errors of
# thousands of ppm), and the data, not the prior, will decide where the parameters end up.

# %% tags=["check"]
assert abs(prior_check.loc["99% quantile", "prior predictive"]) > abs(diff).max()
assert prior_check["prior predictive"].abs().max() < 100
assert abs(diff).max() < 11

# %% [markdown]
# ## Sampling and diagnostics
#
# Both models are fitted with NUTS at its default settings (`target_accept=0.8`), four chains,
# 1000 tuning and 1500 kept draws per chain. The hierarchical model is written in its
# **centered** form, $\mu_j \sim \mathrm{Normal}(\mu_\mu, \mu_{sd})$, exactly as on paper.

# %%
with unpooled_model:
    unpooled_idata = pm.sample(
        draws=1500, tune=1000, chains=4, cores=CORES, random_seed=rng, progressbar=False
    )
check_sampling(unpooled_idata, var_names=["mu", "sigma"]).to_frame()

# %%
with hierarchical_model:
    hierarchical_idata = pm.sample(
        draws=1500, tune=1000, chains=4, cores=CORES, random_seed=rng, progressbar=False
    )
hierarchical_report = check_sampling(
    hierarchical_idata, var_names=["mu_mu", "mu_sd", "mu", "sigma"]
)
hierarchical_report.to_frame()

# %% [markdown]
# No divergences, $\hat R \le 1.01$ and a bulk ESS far above 400 for every parameter (these
# diagnostics are defined in notebook 01). In 01 the centered form failed: with a few students
# per class, the group means could follow the population spread down toward zero, the
# posterior became a *funnel*, NUTS reported divergent transitions, and the non-centered form
# fixed them. Here the centered form is fine, and the reason is the amount of data per group.
# With 30 to 159 rows, each amino acid's own data pin down its mean to within a few tenths of
# a ppm, more tightly than the population spread $\mu_{sd}$ could move it (the posterior sd
# of every $\mu_j$ is well below the posterior mean of $\mu_{sd}$, printed below), so there is
# no funnel to fall into. Strong data favour the centered form, weak data the non-centered one
# (Papaspiliopoulos et al. 2007; Betancourt and Girolami 2015); notebook 05 meets the weak
# case again, in counties with only a few homes.

# %%
mu_sd_mean = float(hierarchical_idata.posterior["mu_sd"].mean())
mu_post_sd = hierarchical_idata.posterior["mu"].std(("chain", "draw"))
print(
    f"posterior sd of the mu_j: {float(mu_post_sd.min()):.2f} to {float(mu_post_sd.max()):.2f} "
    f"ppm; posterior mean of mu_sd: {mu_sd_mean:.2f} ppm"
)

# %% tags=["check"]
assert hierarchical_report.divergences == 0
# A posterior sd estimated from >= 1000 effective draws has a relative MC error below 3%.
assert float(mu_post_sd.max()) * 1.1 < mu_sd_mean

# %% [markdown]
# The population parameters:

# %%
summary_hyper = az.summary(hierarchical_idata, var_names=["mu_mu", "mu_sd"], kind="stats")
summary_hyper

# %% [markdown]
# The population of amino-acid biases is centred near zero ($\mu_\mu$, HDI containing 0) and the
# biases differ between amino acids by a typical $\mu_{sd}$ of about 0.5 ppm, clearly more than
# zero: the amino acids are alike, but not identical. That spread is smaller than the error
# within every amino acid ($\sigma_j$, printed below), which is why the boxes overlapped so much.

# %%
sigma_means = hierarchical_idata.posterior["sigma"].mean(("chain", "draw")).to_series()
print(f"posterior means of sigma_j: {sigma_means.min():.2f} to {sigma_means.max():.2f} ppm")

# %% tags=["check"]
hyper_mcse = az.summary(hierarchical_idata, var_names=["mu_mu", "mu_sd"], round_to="none")
assert summary_hyper.loc["mu_mu", "hdi_3%"] < 0 < summary_hyper.loc["mu_mu", "hdi_97%"]
# "about 0.5": within [0.4, 0.6], with room for four Monte Carlo standard errors.
mu_sd_se = hyper_mcse.loc["mu_sd", "mcse_mean"]
assert 0.4 + 4 * mu_sd_se < hyper_mcse.loc["mu_sd", "mean"] < 0.6 - 4 * mu_sd_se
# "clearly more than zero": the 3% quantile, less four of its Monte Carlo errors, exceeds 0.2.
mu_sd_q03 = float(hierarchical_idata.posterior["mu_sd"].quantile(0.03))
mu_sd_q03_se = float(
    az.mcse(hierarchical_idata, var_names=["mu_sd"], method="quantile", prob=0.03)["mu_sd"]
)
assert mu_sd_q03 - 4 * mu_sd_q03_se > 0.2
assert hyper_mcse.loc["mu_sd", "mean"] < sigma_means.min()

# %% [markdown]
# ## Shrinkage
#
# The forest plot puts the amino-acid means of the two models side by side: the dot is the
# posterior median, the thick line the interquartile range, the thin line the 94% HDI. The
# dashed line is the posterior mean of $\mu_\mu$, the population mean.

# %% tags=["slide", "slide-hide-input"]
mu_mu_mean = float(hierarchical_idata.posterior["mu_mu"].mean())
ax = plot_forest_comparison(
    {"unpooled": unpooled_idata, "hierarchical": hierarchical_idata},
    ["mu"],
    ref_val=mu_mu_mean,
    ref_label=r"posterior mean of $\mu_\mu$",
    title="Amino-acid means: unpooled vs hierarchical",
    xlabel=r"$\mu_j$, mean of theo − exp (ppm)",
    figsize=(9, 11),
)

# %% [markdown]
# The hierarchical estimates sit closer to the dashed line than their unpooled counterparts:
# this is **shrinkage**. The hierarchical model treats an extreme group mean as partly noise,
# and pulls it toward what the other amino acids suggest. The pull is not the same for all
# groups; the table measures it (`distance`: how far the unpooled estimate is from
# $\mu_\mu$; `shift`: how far the hierarchical estimate moved from it). It lists the five
# groups that moved most, smallest group first: which five they are does not depend on the
# sampler seed, but the two largest shifts (TRP and PHE) are so close that their order by
# shift can.

# %%
post_nh = unpooled_idata.posterior["mu"].mean(("chain", "draw")).to_series()
post_h = hierarchical_idata.posterior["mu"].mean(("chain", "draw")).to_series()
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
shrinkage.head(5).sort_values("n").round(3)

# %% tags=["check"]
# Monte Carlo standard error of each shift (two independent posterior means) and of each
# distance (the unpooled mean and the mean of mu_mu).
mcse_nh = az.mcse(unpooled_idata, var_names=["mu"])["mu"].to_series()
mcse_h = az.mcse(hierarchical_idata, var_names=["mu"])["mu"].to_series()
mcse_mu_mu = float(az.mcse(hierarchical_idata, var_names=["mu_mu"])["mu_mu"])
shift_se = np.hypot(mcse_nh, mcse_h).reindex(shrinkage.index)
distance_se = np.hypot(mcse_nh, mcse_mu_mu).reindex(shrinkage.index)
# Which groups rank 1-2, 3, 4, 5 and 6 by shift holds under any seed: each of those shifts
# exceeds the next by more than four combined Monte Carlo errors. (The first two are closer:
# the table is ordered by n, not by shift.)
gaps = -shrinkage["shift"].diff().iloc[1:6].to_numpy()
gap_se = np.hypot(shift_se.iloc[:5].to_numpy(), shift_se.iloc[1:6].to_numpy())
assert (gaps[1:] > 4 * gap_se[1:]).all()
assert set(shrinkage.index[:2]) == {"TRP", "PHE"}
# No estimate moves away from mu_mu beyond Monte Carlo error...
h_distance = (shrinkage["hierarchical"] - mu_mu_mean).abs()
assert ((h_distance - shrinkage["distance"]) < 4 * shift_se).all()
# ... and none that is clearly away from it (beyond its MC error) crosses to the other side.
away = shrinkage["distance"] > 4 * distance_se
same_side = (shrinkage["hierarchical"] - mu_mu_mean) * (shrinkage["unpooled"] - mu_mu_mean) > 0
assert same_side[away].all()

# %% [markdown]
# Two things decide how far a group moves: how far its own estimate is from the centre
# (`distance`) and how little its own data say (the standard error `se` of its mean, large
# when there are few rows or they scatter a lot). The groups that move most are printed
# below; each is both far from $\mu_\mu$ (farther than the median group) and small (fewer
# rows than the median group).

# %%
most_shrunk = shrinkage.head(3).sort_values("n").index.tolist()  # smallest group first
print(f"moved most: {most_shrunk}")
print(shrinkage.loc[most_shrunk, ["n", "distance", "shift"]].round(2).to_string())

# %% tags=["check"]
assert (shrinkage.loc[most_shrunk, "distance"] > shrinkage["distance"].median()).all()
assert (shrinkage.loc[most_shrunk, "n"] < shrinkage["n"].median()).all()

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

# %% tags=["check"]
assert shrinkage["distance"].idxmax() == "PRO" and counts["sd"].idxmin() == "PRO"
assert shrinkage.index.get_loc("PRO") == 4  # the rank is fixed by the gap check above
assert pro["se"] < shrinkage.loc[most_shrunk, "se"].min()

# %% [markdown]
# The same story in one picture: for each amino acid, a vertical line joins the unpooled
# estimate (open circle) to the hierarchical one (filled), plotted against the size of the
# group. The dashed line is the posterior mean of $\mu_\mu$, the population mean the estimates
# move toward. (It is not the pooled estimate: complete pooling weights every row alike, so
# large groups count more in it, whereas $\mu_\mu$ is the centre of the amino acids.)

# %%
ax = plot_shrinkage(
    shrinkage["unpooled"],
    shrinkage["hierarchical"],
    shrinkage["n"],
    population=mu_mu_mean,
    labels=shrinkage.index.tolist(),
    annotate=[*most_shrunk, "PRO"],
    population_label=r"posterior mean of $\mu_\mu$",
    ylabel=r"posterior mean of $\mu_j$ (ppm)",
    title="Shrinkage of the amino-acid means",
)
ticks = ax.set_xticks([30, 40, 60, 100, 150], labels=["30", "40", "60", "100", "150"])

# %% [markdown]
# The long lines are on the left (small groups) and far from the dashed line; the large
# groups on the right barely move. The hierarchical model lands between the two extremes of
# the pooled model (one value for everyone) and the unpooled model (each group alone).

# %% [markdown]
# ## Posterior predictive check
#
# Does the fitted hierarchical model generate data that look like the observations? We draw
# replicated datasets from the posterior and overlay their densities on the observed one.

# %%
# Naming the simulated variable explicitly also sidesteps a PyMC 5.28 bug: without
# var_names, the call registers `y` twice in the model and later fits of it fail.
with hierarchical_model:
    pm.sample_posterior_predictive(
        hierarchical_idata,
        var_names=["y"],
        random_seed=rng,
        progressbar=False,
        extend_inferencedata=True,
    )

# %%
ax = plot_ppc(hierarchical_idata, num_pp_samples=100, random_seed=RANDOM_SEED)
ax.set_xlabel("theo − exp (ppm)")
ax.set_ylabel("density")
ax.set_title("Posterior predictive check of the hierarchical model")
plt.show()

# %% [markdown]
# In the bulk the fit is fair: the observed density (red) has about the right centre and width,
# but it is more sharply peaked than the replicated densities (grey). A sharp peak and long
# tails go together: the observed curve reaches beyond ±8 ppm on both sides, where the
# replicas have almost no mass, as the box plot's many outlying rows suggested. A density
# plot hides tails, so we check them with a test statistic, the largest absolute error in a
# dataset, and ask how often a replicated dataset is as extreme as the real one (a posterior
# predictive p-value).

# %%
y_rep = hierarchical_idata.posterior_predictive["y"].stack(sample=("chain", "draw"))
max_rep = abs(y_rep).max(dim="y_dim_0").to_numpy()
max_obs = np.abs(diff).max()
p_value = (max_rep >= max_obs).mean()
print(
    f"largest |theo - exp|: observed {max_obs:.2f} ppm, median of replicas {np.median(max_rep):.2f}"
)
print(f"P(replicated max >= observed max) = {p_value:.3f}")

# %% tags=["check"]
# Binomial Monte Carlo error of the p-value, counting only as many independent replicas as
# the smallest bulk ESS of the fit (a conservative count).
n_eff = hierarchical_report.min_ess_bulk
assert p_value + 4 * np.sqrt(max(p_value, 1 / n_eff) * (1 - p_value) / n_eff) < 0.05

# %% [markdown]
# Only a tiny fraction of replicated datasets contains an error as large as the largest
# observed one: the errors have **heavier tails** than a Normal distribution per amino acid
# allows. A few calculations go much more wrong than the typical $\sigma_j$ suggests. For the
# questions of this lesson (the mean error per amino acid) the Normal model is a reasonable
# first answer; the usual remedy for the tails is a likelihood with heavier tails, such as a
# Student-t (exercise 3). Keep this in mind when you read the LOO comparison in exercise 1.

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
with hierarchical_model:
    rerun_idata = pm.sample(
        draws=1500,
        tune=1000,
        chains=4,
        cores=CORES,
        random_seed=RANDOM_SEED + 1,
        progressbar=False,
    )
check_sampling(rerun_idata, var_names=["mu_mu", "mu_sd", "mu", "sigma"]).to_frame()

# %%
runs = compare_runs(hierarchical_idata, rerun_idata, var_names=["mu_mu", "mu_sd", "mu", "sigma"])
print(f"largest |z| over {len(runs)} quantities: {runs['z'].abs().max():.2f}")
runs.loc[["mu_mu", "mu_sd", "mu[PRO]", "sigma[PRO]"]].round(4)

# %% tags=["check"]
assert not np.allclose(hierarchical_idata.posterior["mu"], rerun_idata.posterior["mu"])
assert len(runs) == 40

# %% [markdown]
# The draws of the two runs differ, but their posterior means agree within Monte Carlo error
# for all 40 quantities (the largest $|z|$ is printed above). With 40 roughly standard normal
# $z$ values, a few around 2 are expected; a value above 4 would point to a sampling problem.

# %% [markdown]
# ## Exercises
#
# Exercises whose answer can be computed end with a cell that checks it: run it once your
# answer is stored under the names the exercise gives. It tells you whether the answer is
# correct; if not, how far it is from the expected one (in standard errors), or which common
# mistake it looks like. For an MCMC answer it first asks whether your chains converged. It is
# designed to fail a correct answer in fewer than one check in a thousand.
#
# **1. A hyperprior on $\sigma$.** In `hierarchical_model` each $\sigma_j$ has its own fixed
# prior. Write a model `sigma_hierarchical_model` in which the standard deviations are pooled
# too: $\sigma_{sd} \sim \mathrm{HalfNormal}(10)$, $\sigma_j \sim \mathrm{HalfNormal}(\sigma_{sd})$
# (name them `sigma_sd` and `sigma`). Fit it, name the fit `sigma_hierarchical_idata` and keep
# the log likelihood (`pm.sample(..., idata_kwargs={"log_likelihood": True})`). Check the
# sampling, and compare the pooled, unpooled, hierarchical and new models with LOO
# (`az.compare`). The three models fitted above did not store the log likelihood;
# `pm.compute_log_likelihood(idata, model=...)` adds it.
# Which models predict new measurements best, and are the differences larger than their
# standard errors? What does the `weight` column of `az.compare` mean?
#
# **2. A new amino acid.** The data contain 19 of the 20 standard amino acids: cysteine (`CYS`)
# is missing. What does each of the three models say about the mean error of the theory for
# cysteine? Use the hierarchical posterior to draw $\mu_{\mathrm{CYS}}$, one value per posterior
# draw (store the draws in `mu_cys`), and compare its 94% HDI with those of the observed amino
# acids. What does this prediction assume about cysteine, and
# is that plausible?
#
# **3. Heavier tails.** Change `hierarchical_model` so that the errors follow a Student-t
# distribution, $y_i \sim \mathrm{StudentT}(\nu, \mu_{\mathrm{aa}[i]}, \sigma_{\mathrm{aa}[i]})$,
# with one shared degrees-of-freedom parameter $\nu \sim \mathrm{Gamma}(2, 0.1)$ named `nu`.
# Call the model `student_model` and its fit `student_idata`, check the sampling, and repeat
# the posterior predictive check of the largest absolute error. Does the new model reproduce
# the tails?

# %% tags=["solution"]
with pm.Model(coords=coords) as sigma_hierarchical_model:
    mu_mu = pm.Normal("mu_mu", mu=0, sigma=10)
    mu_sd = pm.HalfNormal("mu_sd", sigma=10)
    sigma_sd = pm.HalfNormal("sigma_sd", sigma=10)
    mu = pm.Normal("mu", mu=mu_mu, sigma=mu_sd, dims="aa")
    sigma = pm.HalfNormal("sigma", sigma=sigma_sd, dims="aa")
    y = pm.Normal("y", mu=mu[aa_idx], sigma=sigma[aa_idx], observed=diff)
    sigma_hierarchical_idata = pm.sample(
        draws=1500,
        tune=1000,
        chains=4,
        cores=CORES,
        random_seed=rng,
        progressbar=False,
        idata_kwargs={"log_likelihood": True},
    )
check_sampling(
    sigma_hierarchical_idata, var_names=["mu_mu", "mu_sd", "sigma_sd", "mu", "sigma"]
).to_frame()

# %% tags=["answer-check"]
checks.sigma_hyperprior(sigma_hierarchical_idata)

# %% tags=["solution"]
fits = {
    "pooled": (pooled_model, pooled_idata),
    "unpooled": (unpooled_model, unpooled_idata),
    "hierarchical": (hierarchical_model, hierarchical_idata),
    "hierarchical + sigma hyperprior": (sigma_hierarchical_model, sigma_hierarchical_idata),
}
loos = {}
for name, (model, idata) in fits.items():
    if "log_likelihood" not in idata.groups():
        pm.compute_log_likelihood(idata, model=model, progressbar=False)
    with warnings.catch_warnings():
        # ArviZ warns when an observation has Pareto k > 0.7; we look at the k values ourselves.
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        loos[name] = az.loo(idata, pointwise=True)
    # The log likelihood holds one number per row and draw (1776 x 6000, 85 MB a model).
    # Everything below needs only the LOO results, so we drop it again: memory stays low.
    del idata.log_likelihood
comparison = az.compare(loos)
# In the order of `fits`, not by rank: the three grouped models are too close to rank reliably.
# The `weight` column is left out here: see below for what of it is a result.
comparison.loc[list(fits), ["elpd_loo", "p_loo", "elpd_diff", "dse"]].round(2)

# %% tags=["solution", "check"]
grouped = comparison.drop(index="pooled")
assert comparison.index[-1] == "pooled"
assert comparison.loc["pooled", "elpd_diff"] > 3 * comparison.loc["pooled", "dse"]
assert (grouped["elpd_diff"] <= 2 * grouped["dse"] + 1e-9).all()

# %% [markdown] tags=["solution"]
# The pooled model is clearly the worst: its `elpd_loo` is lower than the best model's by
# several standard errors of the difference (`dse`), because one mean and one spread cannot
# describe amino acids that differ. The three grouped models are practically tied: their
# differences are within about two `dse`. With 30 to 159 rows per amino acid, each group's own
# data already determine its parameters well, so pooling the means (or the standard deviations)
# changes the predictions only a little; partial pooling matters most for small groups and for
# groups the data have not seen (exercise 2).
#
# The `weight` column is easy to misread. It is **not** the probability that a model is right,
# and not a ranking. `az.compare` computes *stacking* weights (Yao et al. 2018): the weights
# $w_k$ of the mixture $\sum_k w_k\, p_k(\tilde y \mid y)$ of the models' predictive
# distributions whose leave-one-out log score is highest. Two consequences follow:
#
# - models that predict almost alike can stand in for each other in a mixture, so their shares
#   are not determined by the data. The three grouped models give nearly the same predictive
#   density to every row, so the stacking objective is almost flat along any reshuffling of
#   weight among them; which of them gets it is decided by Monte Carlo noise in the LOO
#   estimates. Re-run under other sampler seeds, one of them took most of the share, or none,
#   or another: the split is not a property of the data, so we print only what is, the
#   combined share of the grouped models;
# - a model that is worse on its own still gets a share when it predicts well where the others
#   fail. The pooled model has one $\sigma$ of about 1.7 ppm for every row, wider than that of
#   the amino acids with consistent errors, so it gives far more density to the rows that are
#   extreme *for their own amino acid* (printed below: the row it predicts best lies more
#   than six of its amino acid's standard deviations from that amino acid's mean). Mixing
#   a little of it in gives the predictions heavier tails, the tails that the posterior
#   predictive check found missing, and the mixture scores higher than any single model.

# %% tags=["solution"]
# Each row's error in standard deviations of its own amino acid (hierarchical posterior means).
mu_hat = hierarchical_idata.posterior["mu"].mean(("chain", "draw")).to_numpy()
sigma_hat = hierarchical_idata.posterior["sigma"].mean(("chain", "draw")).to_numpy()
z_own = (diff - mu_hat[aa_idx]) / sigma_hat[aa_idx]
gain = np.asarray(loos["pooled"].loo_i - loos["hierarchical"].loo_i)  # log density, per row
best_row = int(np.argmax(gain))
print(
    f"row the pooled model predicts best, relative to the hierarchical one: "
    f"{cs['aa'].iloc[best_row]}, error {diff[best_row]:.2f} ppm, "
    f"z = {z_own[best_row]:.1f} within its amino acid, log density {gain[best_row]:+.1f}"
)
much_better = gain > 2
print(
    f"rows with a log density higher by more than 2 under the pooled model: "
    f"{much_better.sum()}, all with |z| >= {np.abs(z_own[much_better]).min():.1f}"
)
weights = comparison["weight"]
pointwise = np.column_stack([loos[name].loo_i for name in weights.index])
stacked = logsumexp(pointwise, b=weights.to_numpy(), axis=1).sum()
print(
    f"stacking weight of the pooled model: {weights['pooled']:.2f}, of the three grouped models "
    f"together: {weights[grouped.index].sum():.2f}"
)
print(
    f"LOO log score of the stacked mixture {stacked:.1f}, "
    f"of the best single model {comparison['elpd_loo'].max():.1f}"
)

# %% tags=["solution", "check"]
# The row the pooled model wins by most is the most extreme error of all, within its group.
assert best_row == int(np.argmax(np.abs(z_own))) and abs(z_own[best_row]) > 6
assert np.abs(z_own[much_better]).min() > 2.5
assert weights["pooled"] > 0
assert stacked > comparison["elpd_loo"].max()

# %% [markdown] tags=["solution"]
# PSIS-LOO approximates leaving each row out by importance sampling; its Pareto $k$ diagnostic
# says where that approximation is unreliable ($k > 0.7$; Vehtari et al. 2017). For that same
# extreme row, $k$ is around 1 in the grouped fits (printed below): leaving it out changes the
# posterior of its amino acid's $\sigma_j$ too much for the shortcut. The pooled fit, where one
# row among 1776 hardly moves $\sigma$, has no such row. One unreliable term cannot change the
# verdict on the pooled model (86 elpd behind), but it is one more hint that a heavier-tailed
# likelihood would fit better (exercise 3).

# %% tags=["solution"]
row_k = pd.Series({name: float(loo.pareto_k[best_row]) for name, loo in loos.items()})
print("Pareto k of that row:", row_k.round(2).to_dict())
print(f"largest Pareto k of the pooled fit: {float(loos['pooled'].pareto_k.max()):.2f}")

# %% tags=["solution", "check"]
# The k estimate of one row varies from fit to fit (sd about 0.15 over sampler seeds); its
# mean over the three grouped fits is well above 0.7 (about 1.1).
assert row_k[grouped.index].mean() > 0.7
assert float(loos["pooled"].pareto_k.max()) < 0.7

# %% tags=["solution"]
hyper = az.extract(hierarchical_idata, var_names=["mu_mu", "mu_sd"])
mu_cys = rng.normal(hyper["mu_mu"].to_numpy(), hyper["mu_sd"].to_numpy())
cys_hdi = az.hdi(mu_cys, hdi_prob=0.94)
observed_hdi = az.hdi(hierarchical_idata, var_names=["mu"], hdi_prob=0.94)["mu"]
widest = float((observed_hdi.sel(hdi="higher") - observed_hdi.sel(hdi="lower")).max())
print(f"mu[CYS]: mean {mu_cys.mean():.2f} ppm, 94% HDI [{cys_hdi[0]:.2f}, {cys_hdi[1]:.2f}]")
print(f"HDI width {cys_hdi[1] - cys_hdi[0]:.2f} ppm; widest observed amino acid {widest:.2f} ppm")
p_like_pro = (mu_cys <= shrinkage.loc["PRO", "unpooled"]).mean()
print(f"P(mu[CYS] below the unpooled mean of PRO) = {p_like_pro:.3f}")

# %% tags=["solution", "check"]
assert cys_hdi[1] - cys_hdi[0] > widest
# Binomial Monte Carlo error of the tail probability (conservatively, with the smallest ESS).
n_eff = hierarchical_report.min_ess_bulk
assert p_like_pro + 4 * np.sqrt(max(p_like_pro, 1 / n_eff) * (1 - p_like_pro) / n_eff) < 0.05

# %% tags=["answer-check"]
checks.new_amino_acid(mu_cys, hierarchical_idata)

# %% [markdown] tags=["solution"]
# Only the hierarchical model gives an informative answer. The unpooled model has no
# parameter for cysteine: its prior, $\mathrm{Normal}(0, 10)$, is all it can offer. The pooled
# model ignores amino acids and predicts the overall mean, as if cysteine could not differ from
# the rest. The hierarchical model predicts that cysteine's bias is another draw from the
# population, $\mu_{\mathrm{CYS}} \sim \mathrm{Normal}(\mu_\mu, \mu_{sd})$: centred on $\mu_\mu$
# and wider than the interval of any observed amino acid, because it includes the spread
# between amino acids as well as the uncertainty about $\mu_\mu$ and $\mu_{sd}$.
#
# That prediction is only as good as the assumption behind it: that cysteine is
# **exchangeable** with the 19 amino acids we observed, just another draw from the same
# population. Here the assumption bites. Cysteine is the one amino acid whose side chain can
# bond to another cysteine (a disulfide bridge), and its chemical shifts depend on whether it
# does (Sharma and Rajarathnam 2000): a calculation could well handle it worse than the others.
# The data already contain a warning that a chemically special amino acid need not be a
# typical draw. `PRO`, whose ring ties the side chain back to the backbone, lies so far out
# that the population predictive puts only a small probability (printed above) on a value as
# low as its own, even though `PRO` itself helped to fit the population. If we believe that
# cysteine is special, the honest prediction is wider than the one above, or it uses what we
# know: a group-level predictor (such as the `cat` column) under which the amino acids are
# exchangeable *within* a category, or measurements of cysteine itself.

# %% tags=["solution"]
with pm.Model(coords=coords) as student_model:
    mu_mu = pm.Normal("mu_mu", mu=0, sigma=10)
    mu_sd = pm.HalfNormal("mu_sd", sigma=10)
    mu = pm.Normal("mu", mu=mu_mu, sigma=mu_sd, dims="aa")
    sigma = pm.HalfNormal("sigma", sigma=10, dims="aa")
    nu = pm.Gamma("nu", alpha=2, beta=0.1)  # the one changed line, and its prior
    y = pm.StudentT("y", nu=nu, mu=mu[aa_idx], sigma=sigma[aa_idx], observed=diff)
    student_idata = pm.sample(
        draws=1000,
        tune=1000,
        chains=4,
        cores=CORES,
        random_seed=rng,
        progressbar=False,
        idata_kwargs={"log_likelihood": True},
    )
    pm.sample_posterior_predictive(
        student_idata,
        var_names=["y"],
        random_seed=rng,
        progressbar=False,
        extend_inferencedata=True,
    )
student_report = check_sampling(student_idata, var_names=["mu_mu", "mu_sd", "mu", "sigma", "nu"])
student_report.to_frame()

# %% tags=["answer-check"]
checks.student_t_errors(student_idata)

# %% tags=["solution"]
student_rep = student_idata.posterior_predictive["y"].stack(sample=("chain", "draw"))
student_max = abs(student_rep).max(dim="y_dim_0").to_numpy()
student_p = (student_max >= max_obs).mean()
print(az.summary(student_idata, var_names=["nu"], kind="stats").to_string())
print(f"P(replicated max >= observed max) = {student_p:.2f} (Normal model: {p_value:.3f})")
with warnings.catch_warnings():
    # As in exercise 1: we read the Pareto k values ourselves.
    warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
    student_loo = az.loo(student_idata)
# The Normal model's LOO was computed in the solution of exercise 1.
tails = az.compare({"Student-t": student_loo, "Normal": loos["hierarchical"]})
del student_idata.log_likelihood
tails.loc[["Student-t", "Normal"], ["elpd_loo", "p_loo", "elpd_diff", "dse"]].round(1)

# %% tags=["solution", "check"]
nu_summary = az.summary(student_idata, var_names=["nu"], round_to="none").loc["nu"]
# "around 8, far from the Normal limit": within [5, 12], allowing four Monte Carlo errors.
assert 5 + 4 * nu_summary["mcse_mean"] < nu_summary["mean"] < 12 - 4 * nu_summary["mcse_mean"]
n_eff = student_report.min_ess_bulk
student_p_se = np.sqrt(max(student_p, 1 / n_eff) * (1 - student_p) / n_eff)
assert 0.05 < student_p - 4 * student_p_se and student_p + 4 * student_p_se < 0.95
assert tails.index[0] == "Student-t"
assert tails.loc["Normal", "elpd_diff"] > 2 * tails.loc["Normal", "dse"]

# %% [markdown] tags=["solution"]
# The posterior of $\nu$ sits around 8 degrees of freedom, far from the Normal limit
# ($\nu \to \infty$): the data ask for heavy tails. The replicated datasets of the Student-t
# model now contain errors as large as the largest observed one in a fair share of cases, so
# the test statistic no longer flags the model, and LOO prefers it to the Normal model by more
# than two standard errors of the difference. Only one line of the model changed: choosing the
# likelihood is part of the model, and checking it is part of the workflow.

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - **Pooled** ignores the groups, **unpooled** treats each one alone, **hierarchical** learns
#   a population of groups and lets the data decide how much they share.
# - **Shrinkage** pulls group estimates toward the population mean, most for groups far from
#   it that carry little information (few or noisy observations).
# - With many observations per group the centered form samples well; with few, use the
#   non-centered one (notebook 01).
# - What to pool (here the means, not the $\sigma_j$) is a modelling choice; LOO compares options.
#   Stacking weights describe the best predictive mixture, not model probabilities.
# - A prediction for a new group assumes it is exchangeable with the observed ones.
# - Check before and after fitting; with no exact answer, independent runs must agree within
#   their Monte Carlo error.

# %% [markdown]
# ## References
#
# - Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B.
#   (2013). *Bayesian Data Analysis*, 3rd ed. CRC Press. Chapter 5 (hierarchical models,
#   exchangeability) and chapter 6 (posterior predictive checks and their test statistics).
# - Gelman, A. and Hill, J. (2007). *Data Analysis Using Regression and Multilevel/Hierarchical
#   Models*. Cambridge University Press. Complete, no and partial pooling (chapter 12).
# - Martin, O. A. (2024). *Bayesian Analysis with Python*, 3rd ed. Packt. Chapter 3
#   (hierarchical models): the chemical-shift data and the three models of this notebook.
# - McElreath, R. (2020). *Statistical Rethinking*, 2nd ed. CRC Press. Chapter 13: shrinkage
#   and partial pooling.
# - Papaspiliopoulos, O., Roberts, G. O. and Sköld, M. (2007). A general framework for the
#   parametrization of hierarchical models. *Statistical Science* 22, 59–73. When the
#   centered form is the better one.
# - Betancourt, M. and Girolami, M. (2015). Hamiltonian Monte Carlo for hierarchical models.
#   In *Current Trends in Bayesian Methodology with Applications*, CRC Press. Funnels, and
#   centered against non-centered forms for HMC.
# - Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation using
#   leave-one-out cross-validation and WAIC. *Statistics and Computing* 27, 1413–1432.
#   PSIS-LOO and its Pareto $k$ diagnostic (exercise 1).
# - Yao, Y., Vehtari, A., Simpson, D. and Gelman, A. (2018). Using stacking to average
#   Bayesian predictive distributions. *Bayesian Analysis* 13, 917–1007. The stacking weights
#   of `az.compare` (exercise 1).
# - Sharma, D. and Rajarathnam, K. (2000). ¹³C NMR chemical shifts can predict disulfide bond
#   formation. *Journal of Biomolecular NMR* 18, 165–171. Why cysteine is special (exercise 2).
#
# ## Versions

# %%
print(versions())
