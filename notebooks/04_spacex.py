# %% [markdown]
# # 04 · SpaceX launches: no pooling, full pooling and a hierarchical model
#
# SpaceX has flown four families of rockets. Falcon 9 has flown hundreds of times; the other
# three only a handful. How reliable is each family, and what should we expect from the *next*,
# not yet flown, rocket? This is the smallest possible hierarchical problem — four groups, one
# count each — and that is exactly why it is instructive: with so little data per group the
# choice between *no*, *full* and *partial* pooling changes the answer a lot.
#
# **Learning goals.** After this notebook you can
#
# 1. write the no-pooling, full-pooling and hierarchical beta-binomial models in PyMC, with a
#    `vehicle` coordinate so every summary names its rocket;
# 2. explain why full pooling gives absurd answers for a vehicle that differs from the rest,
#    and ask whether the vehicles are exchangeable at all;
# 3. diagnose divergent transitions, explain why raising `target_accept` makes them rarer but
#    cannot rule them out here, and remove them by integrating the group parameters out,
#    which leaves the model unchanged;
# 4. check a model against its own predictions, group by group, when there are only four
#    observations;
# 5. predict the success rate of a new, unseen group from the population distribution;
# 6. verify MCMC against an exact answer, in units of Monte Carlo standard error.

# %% [markdown] tags=["slide"]
# ## The question
#
# Four rocket families, very unequal track records. How reliable is each one — and what
# should we expect from a brand-new SpaceX rocket on its first flights?

# %%
import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from scipy.special import expit, logit, polygamma

from course_utils.checks import spacex as checks
from course_utils.data import load_spacex
from course_utils.diagnostics import check_sampling, compare_to_reference
from course_utils.environment import sampler_cores, versions
from course_utils.exact import hierarchical_beta_binomial
from course_utils.plots import model_graph, plot_forest_comparison, use_course_style

# %%
RANDOM_SEED = 42  # seeds every sampler and predictive draw
rng = np.random.default_rng(RANDOM_SEED)
CORES = sampler_cores()  # worker processes for the chains
use_course_style()

# %% [markdown]
# ## Data
#
# One row per vehicle family: how many times it launched and how many launches succeeded.
# These counts are a fixed snapshot for teaching (see `course_utils/datasets/spacex_launches.md`),
# not an up-to-date record.

# %% tags=["slide"]
spacex = load_spacex()
spacex["success rate"] = (spacex["successes"] / spacex["launches"]).round(3)
spacex

# %% [markdown]
# Falcon 9 dominates: 304 of the 327 launches. The three other families have between five and
# nine launches each, so their observed success rates are very noisy — a single extra failure
# of Falcon Heavy would move its rate by about 10 percentage points.
#
# The models below need the counts as arrays and the vehicle names as a coordinate.

# %%
vehicles = spacex["vehicle"].tolist()
launches = spacex["launches"].to_numpy()
successes = spacex["successes"].to_numpy()
coords = {"vehicle": vehicles}

# %% tags=["check"]
assert launches.sum() == 327 and launches[vehicles.index("Falcon 9")] == 304

# %% [markdown]
# The trace plots of all three models get the same axis labels and a title, so we add them with
# one small function instead of repeating ourselves. Each row of a trace plot is one parameter:
# the left panel shows its posterior density estimated separately from each chain, the right
# panel the sampled values in the order they were drawn.


# %%
def label_trace(axes, title):
    """Label the output of `az.plot_trace`: densities on the left, draws on the right."""
    for ax_density, ax_draws in axes:
        ax_density.set_ylabel("density", fontsize="small")
        ax_draws.set_ylabel("value", fontsize="small")
    axes[-1, 0].set_xlabel("parameter value")
    axes[-1, 1].set_xlabel("draw")
    axes[0, 0].figure.suptitle(title)
    return axes


# %% [markdown]
# ## Model 1: no pooling
#
# Each vehicle gets its own success probability, and the vehicles know nothing about each other:
#
# $$
# \theta_j \sim \mathrm{Beta}(1/2, 1/2), \qquad
# y_j \sim \mathrm{Binomial}(N_j, \theta_j), \qquad j = 1, \dots, 4,
# $$
#
# where $N_j$ is the number of launches and $y_j$ the number of successes of vehicle $j$.
# $\mathrm{Beta}(1/2, 1/2)$ is the Jeffreys prior for a proportion: it is U-shaped and carries
# roughly the information of a single launch, so with real data it is quickly overwhelmed.

# %%
with pm.Model(coords=coords) as no_pooling_model:
    theta = pm.Beta("theta", alpha=0.5, beta=0.5, dims="vehicle")
    y = pm.Binomial("y", n=launches, p=theta, observed=successes, dims="vehicle")

# %% [markdown]
# Even this simple model needs some care when sampling. Falcon Heavy's perfect record gives the
# conjugate posterior $\theta \sim \mathrm{Beta}(9.5, 0.5)$, whose density grows without bound
# at $\theta = 1$. NUTS samples $u = \operatorname{logit}\theta$, and on that scale the posterior
# is lopsided: a long, slowly decaying tail towards $u = +\infty$ (rates ever closer to 1) and
# a steep side towards small rates. The sampler tunes one step size and one scale for $u$ from
# the spread of its draws, which the long tail makes large; on the steep side the log density
# curves several times faster than that scale suggests, and too large a step makes the
# integrator fail there. We therefore ask for a higher acceptance rate, `target_accept=0.95`,
# which makes the steps smaller (the hierarchical model below shows divergences and their
# remedies in detail).

# %%
with no_pooling_model:
    no_pooling_idata = pm.sample(
        draws=1000,
        tune=1000,
        chains=4,
        cores=CORES,
        target_accept=0.95,
        random_seed=rng,
        progressbar=False,
    )
check_sampling(no_pooling_idata, var_names=["theta"]).to_frame()

# %% [markdown]
# No divergences, $\hat R \le 1.01$ and more than 400 effective draws for every $\theta_j$
# (these diagnostics are defined in 01): the sample can be trusted. The trace plot shows the
# same thing visually — the four chains of each vehicle overlap (left) and wander quickly
# through the same range (right).

# %%
axes = az.plot_trace(no_pooling_idata, var_names=["theta"], compact=False)
axes = label_trace(axes, "No pooling: trace of each vehicle's success rate")

# %% [markdown]
# The forest plot shows each vehicle's posterior: the dot is the median, the thick line the
# interquartile range and the thin line the 94% HDI.

# %%
axes = az.plot_forest(
    no_pooling_idata, var_names=["theta"], combined=True, hdi_prob=0.94, figsize=(8, 4)
)
ax = axes[0]
_ = ax.set(title="No pooling: success rate per vehicle", xlabel=r"success rate $\theta$ (94% HDI)")

# %% [markdown]
# The widths of the intervals follow the amount of data: Falcon 9's interval is a sliver, while
# Falcon 1 and Starship, with their few launches and several failures, span a large part of
# $[0, 1]$. Falcon Heavy's 9 successes out of 9 do *not* make it a sure thing: the interval
# reaches well below Falcon 9's.

# %% [markdown]
# ## Model 2: full pooling
#
# The opposite assumption: all launches, whatever the vehicle, share one success probability,
#
# $$
# \theta \sim \mathrm{Beta}(1/2, 1/2), \qquad y_j \sim \mathrm{Binomial}(N_j, \theta).
# $$

# %%
with pm.Model(coords=coords) as full_pooling_model:
    theta = pm.Beta("theta", alpha=0.5, beta=0.5)
    y = pm.Binomial("y", n=launches, p=theta, observed=successes, dims="vehicle")

# %%
with full_pooling_model:
    full_pooling_idata = pm.sample(
        draws=1000, tune=1000, chains=4, cores=CORES, random_seed=rng, progressbar=False
    )
check_sampling(full_pooling_idata, var_names=["theta"]).to_frame()

# %%
axes = az.plot_trace(full_pooling_idata, var_names=["theta"])
axes = label_trace(axes, "Full pooling: trace of the shared success rate")

# %%
axes = az.plot_forest(
    full_pooling_idata, var_names=["theta"], combined=True, hdi_prob=0.94, figsize=(8, 2.5)
)
ax = axes[0]
_ = ax.set(title="Full pooling: one success rate", xlabel=r"success rate $\theta$ (94% HDI)")

# %% [markdown]
# The shared rate is essentially Falcon 9's: 304 of the 327 launches are Falcon 9 launches, so
# the pooled estimate is a launch-weighted average dominated by it.
#
# ### Would you bet on Falcon 1?
#
# Under full pooling, the probability that the *next* Falcon 1 launch succeeds is the
# posterior mean of the shared $\theta$. Turn it into the odds a bookmaker would offer and
# compare with the no-pooling model:

# %%
falcon1_success = pd.Series(
    {
        "no pooling": no_pooling_idata.posterior["theta"].sel(vehicle="Falcon 1").mean().item(),
        "full pooling": full_pooling_idata.posterior["theta"].mean().item(),
    },
    name="P(next Falcon 1 launch succeeds)",
)
falcon1_bet = falcon1_success.to_frame()
falcon1_bet["fair odds (success : failure)"] = (falcon1_success / (1 - falcon1_success)).round(1)
falcon1_bet.round(3)

# %% [markdown]
# Full pooling would have you lay long odds on a rocket that failed three of its five
# launches. The model has no way to say that Falcon 1 is *different*: its five launches are
# drowned by Falcon 9's 304, and the pooled rate is far above what Falcon 1 achieved. No pooling
# takes Falcon 1's record at face value instead — and so it learns nothing about Falcon 1 from
# the other rockets, even though they were built by the same company. We want something in
# between.

# %% [markdown] tags=["slide"]
# ## Model 3: hierarchical (partial pooling)
#
# The vehicles' success rates are different but drawn from one *population* of SpaceX rockets:
#
# $$
# \begin{aligned}
# \alpha, \beta &\sim \mathrm{HalfNormal}(10), &
# \mu &= \frac{\alpha}{\alpha + \beta}, \\
# \theta_j &\sim \mathrm{Beta}(\alpha, \beta), &
# y_j &\sim \mathrm{Binomial}(N_j, \theta_j).
# \end{aligned}
# $$
#
# $\mu$ is the mean success rate of the population; $\alpha + \beta$ says how tightly the
# vehicles cluster around it. Both are learned from the data.

# %% [markdown]
# ### Are the four vehicles exchangeable?
#
# Drawing every $\theta_j$ from the same population assumes the vehicles are *exchangeable*
# (01): before seeing any launch record, we would have no reason to expect one family to be
# more reliable than another, so their labels carry no information. Here that is doubtful,
# and a student should notice it. Falcon 1 was SpaceX's first rocket and Starship is a
# prototype flown in a test campaign in which failures are part of the plan; Falcon 9 is a
# mature operational rocket, and Falcon Heavy is built from Falcon 9 cores and engines.
# Reliability also grows with experience: the early flights of a family fail more often than
# the later ones, so even a single family's launches are not exchangeable over time. Knowing
# this, we would expect prototypes to fail more often before seeing the data.
#
# What the model would need is a covariate: with the development stage (prototype or
# operational) in the population mean, the vehicles would only need to be exchangeable
# *given* that stage. With four vehicles there is too little data to estimate such an
# effect, so we keep the simple model, and remember what it assumes: the population mixes
# prototypes and mature rockets, and a "new vehicle" below is a draw from that mixture.
#
# ### The model as written
#
# The first PyMC version follows the formula line by line, with the four $\theta_j$ as
# parameters of the model:

# %%
with pm.Model(coords=coords) as explicit_model:
    alpha = pm.HalfNormal("alpha", sigma=10)
    beta = pm.HalfNormal("beta", sigma=10)
    mu = pm.Deterministic("mu", alpha / (alpha + beta))
    theta = pm.Beta("theta", alpha=alpha, beta=beta, dims="vehicle")
    y = pm.Binomial("y", n=launches, p=theta, observed=successes, dims="vehicle")

# %% tags=["nbval-ignore-output"]
model_graph(explicit_model)

# %% [markdown]
# The graph reads top to bottom: the two hyperparameters feed the deterministic population
# mean $\mu$ and the four $\theta_j$ (the box labelled `vehicle (4)`), and each $\theta_j$
# generates one observed count.
#
# ### Prior predictive check
#
# Before looking at the data, what does this model believe about success rates? We draw from
# the prior and look at the population mean $\mu$ and at the success rate $y_j / N_j$ the model
# would simulate for Falcon 9. (With 304 launches, Falcon 9's simulated rate is essentially its
# $\theta_j$; the small families' rates can only take a few values, such as 0, 1/5, 2/5, ...,
# which makes their histograms spiky without saying anything new.)

# %%
with explicit_model:
    prior_idata = pm.sample_prior_predictive(draws=4000, random_seed=rng)
n_falcon9 = launches[vehicles.index("Falcon 9")]
prior_mu = prior_idata.prior["mu"].values.ravel()
prior_f9_rate = (
    prior_idata.prior_predictive["y"].sel(vehicle="Falcon 9") / n_falcon9
).values.ravel()
prior_check = pd.Series(
    {
        "mu: 3% quantile": np.quantile(prior_mu, 0.03),
        "mu: 97% quantile": np.quantile(prior_mu, 0.97),
        "P(Falcon 9 rate <= 0.01)": np.mean(prior_f9_rate <= 0.01),
        "P(Falcon 9 rate >= 0.99)": np.mean(prior_f9_rate >= 0.99),
    },
    name="prior",
)
prior_check.round(3)

# %% tags=["check"]
# "About 3%": 4000 prior draws estimate a probability near 0.03 to within about 0.003.
assert 0.01 < prior_check["P(Falcon 9 rate >= 0.99)"] < 0.06

# %% [markdown]
# The left panel shows the prior of the population mean, the right panel the Falcon 9 success
# rates the prior predicts, with the observed rate dashed.

# %%
fig, axs = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
axs[0].hist(prior_mu, bins=25, range=(0, 1), density=True, color="C1")
axs[0].set(title=r"Prior of $\mu$", xlabel=r"population mean success rate $\mu$", ylabel="density")
axs[1].hist(prior_f9_rate, bins=25, range=(0, 1), density=True, color="C1")
axs[1].axvline(successes[vehicles.index("Falcon 9")] / n_falcon9, color="C4", linestyle="--")
axs[1].set(title="Prior predictive: Falcon 9", xlabel=r"simulated $y / N$ (dashed: observed)")
_ = fig.suptitle("What the hierarchical model expects before seeing any launch")

# %% [markdown]
# The prior is deliberately vague. The population mean $\mu$ is spread over the whole unit
# interval (see its 94% prior interval in the table), and the simulated Falcon 9 success rate
# covers $[0, 1]$ too, with extra mass at both ends: when $\alpha$ or $\beta$ is small,
# $\mathrm{Beta}(\alpha, \beta)$ is U-shaped. The observed rate of 0.99 is unlikely under the
# prior but far from impossible: the prior predictive probability of a rate at least that high
# is about 3% (printed above). The prior leaves room for a very reliable rocket without
# expecting one, and it does not favour any particular reliability, which is what we want when
# four groups must speak for themselves.
#
# ### Sampling: default settings first
#
# We first sample with PyMC's defaults (`target_accept=0.8`) and inspect the diagnostics
# without raising, because this fit is expected to have problems. (PyMC's own warnings are
# switched off with `compute_convergence_checks=False`; `check_sampling` reports the same
# statistics.)

# %%
with explicit_model:
    explicit_idata = pm.sample(
        draws=1000,
        tune=1000,
        chains=4,
        cores=CORES,
        random_seed=rng,
        progressbar=False,
        compute_convergence_checks=False,
    )
explicit_report = check_sampling(
    explicit_idata, var_names=["alpha", "beta", "mu", "theta"], raise_on_failure=False
)
explicit_report.to_frame()

# %% [markdown]
# With these settings, this model usually produces *divergent transitions* (the count of this
# run is in the table; it varies a lot from run to run, and a lucky run has none). A divergence
# means the numerical integrator of NUTS broke down in a region where the posterior curves too
# sharply for its step size — and that region is then under-explored, so the estimates may be
# biased even when $\hat R$ and ESS look fine. A run without divergences does not prove the
# problem absent; the geometry below shows why it is there.
#
# NUTS does not move on $\beta$ and $\theta_j$ directly but on unconstrained versions of them,
# $\log\beta$ and $\operatorname{logit}\theta_j$. Let us look at the posterior on that scale,
# for Falcon Heavy, the vehicle with a perfect record.

# %%
divergent = explicit_idata.sample_stats["diverging"].values.ravel()
log_beta = np.log(explicit_idata.posterior["beta"].values.ravel())
logit_fh = logit(explicit_idata.posterior["theta"].sel(vehicle="Falcon Heavy").values.ravel())
fig, ax = plt.subplots()
ax.scatter(log_beta[~divergent], logit_fh[~divergent], s=6, alpha=0.3, color="C2", label="draw")
ax.scatter(log_beta[divergent], logit_fh[divergent], s=25, color="C5", label="marked diverging")
ax.set(
    title="Default settings: the posterior as NUTS sees it",
    xlabel=r"$\log \beta$",
    ylabel=r"$\operatorname{logit} \theta$ (Falcon Heavy)",
)
legend = ax.legend(loc="upper right")

# %% [markdown]
# The cloud is a funnel lying on its side. Given $(\alpha, \beta)$ and its 9 successes in 9
# launches, Falcon Heavy's rate is $\mathrm{Beta}(\alpha + 9, \beta)$, and the spread of its
# logit is $\sqrt{\psi_1(\alpha + 9) + \psi_1(\beta)}$ ($\psi_1$ is the trigamma function).
# For small $\beta$ it is wide: the cloud reaches far up on the left of the plot, towards rates
# within a hair of 1. For larger $\beta$ it is a narrow band on the right. The next cell prints
# the spread at three values of $\beta$ (with $\alpha = 5$, near its posterior mean):

# %%
beta_grid = np.array([0.3, 1.0, 3.0])
logit_sd = np.sqrt(polygamma(1, 5.0 + 9) + polygamma(1, beta_grid))
print(
    "sd of logit(theta[Falcon Heavy]) given alpha = 5 and beta =",
    dict(zip(beta_grid.tolist(), logit_sd.round(2).tolist(), strict=True)),
)

# %% tags=["check"]
assert 4 < logit_sd[0] / logit_sd[-1] < 6

# %% [markdown]
# The funnel is about five times wider at its left end than at its right. NUTS uses one step
# size (and one scale per parameter) for the whole posterior, and no single choice suits both
# ends: a step that explores the wide end efficiently is too large for the curvature of the
# narrow end, and one small enough for the narrow end crawls through the wide one. Where the
# step is too large for the local curvature, the simulated trajectory blows up.
#
# PyMC does not record *where* a trajectory blew up. When a divergence stops the trajectory,
# NUTS still moves to a point chosen from the part of the trajectory it had built before the
# failure, and that draw — the one that follows the divergent transition — is marked
# `diverging` (the red points). So the marked draws show the neighbourhood of trouble only
# roughly, and where they sit changes from run to run: some runs mark draws at the wide end,
# others at the narrow end. They tell us *that* the sampler is in trouble; the shape of the
# cloud tells us *why*.

# %% [markdown]
# ### First remedy: smaller steps
#
# `target_accept` is the average acceptance probability NUTS aims for while it tunes its step
# size; raising it from 0.8 to 0.95 makes the adapted step smaller, so the integrator can
# follow the changing curvature of the funnel better. The price is more leapfrog steps per
# draw.

# %%
with explicit_model:
    explicit_careful_idata = pm.sample(
        draws=1000,
        tune=1000,
        chains=4,
        cores=CORES,
        target_accept=0.95,
        random_seed=rng,
        progressbar=False,
        compute_convergence_checks=False,
    )

# %%
sampler_cost = pd.DataFrame(
    {
        name: {
            "divergences": int(idata.sample_stats["diverging"].sum()),
            "mean step size": idata.sample_stats["step_size"].mean().item(),
            "mean leapfrog steps per draw": idata.sample_stats["n_steps"].mean().item(),
        }
        for name, idata in {
            "target_accept=0.8": explicit_idata,
            "target_accept=0.95": explicit_careful_idata,
        }.items()
    }
)
sampler_cost.round(2)

# %% tags=["check"]
assert (
    sampler_cost.loc["mean step size", "target_accept=0.95"]
    < sampler_cost.loc["mean step size", "target_accept=0.8"]
)
assert (
    sampler_cost.loc["mean leapfrog steps per draw", "target_accept=0.95"]
    > sampler_cost.loc["mean leapfrog steps per draw", "target_accept=0.8"]
)

# %% [markdown]
# The table shows the trade: a smaller step size and more leapfrog steps per draw. Divergences
# become rarer, but for this model no `target_accept` guarantees that none occur in every run,
# and some runs at 0.95 still have a few (this run's count is in the table). One reason is
# arithmetic: when $\beta$ is very small, Falcon Heavy's rate can lie within $10^{-16}$ of 1,
# where $1 - \theta$ rounds to 0 in double precision:

# %%
print(f"1 - expit(36) = {1 - expit(36.0):.1e};  1 - expit(37) = {1 - expit(37.0):.1e}")

# %% [markdown]
# Beyond $\operatorname{logit}\theta \approx 37$ the gradient of the log density is undefined,
# and a trajectory that gets there diverges whatever its step size. We need a fix that removes
# the funnel itself.
#
# ### The fix: integrate the $\theta_j$ out
#
# A reparameterisation — writing the *same* model in other variables, with the Jacobian of
# the change of variables — leaves the posterior unchanged; that is what non-centering does
# for normal hierarchies (01, 05). A Beta population has no simple non-centred form, but this
# model allows something better: given $\alpha$ and $\beta$, each $\theta_j$ can be integrated
# out in closed form, and the count then follows a *beta-binomial* distribution,
#
# $$
# p(y_j \mid \alpha, \beta)
# = \int_0^1 \mathrm{Binomial}(y_j \mid N_j, \theta)\, \mathrm{Beta}(\theta \mid \alpha, \beta)
# \, d\theta
# = \binom{N_j}{y_j} \frac{B(y_j + \alpha,\ N_j - y_j + \beta)}{B(\alpha, \beta)}.
# $$
#
# This is still the same model: the posterior of $(\alpha, \beta)$ is exactly the one above,
# and given $(\alpha, \beta)$ each $\theta_j$ is exactly
# $\mathrm{Beta}(\alpha + y_j,\ \beta + N_j - y_j)$ (a conjugate update), so we can draw the
# $\theta_j$ afterwards, one per posterior draw. NUTS is left with two parameters and no
# funnel. What *would* change the model is a different prior: putting the priors on $\mu$ and
# $\alpha + \beta$ instead of $\alpha$ and $\beta$, as 03 does, is a different model with a
# different posterior (Exercise 4).

# %%
with pm.Model(coords=coords) as hierarchical_model:
    alpha = pm.HalfNormal("alpha", sigma=10)
    beta = pm.HalfNormal("beta", sigma=10)
    mu = pm.Deterministic("mu", alpha / (alpha + beta))
    y = pm.BetaBinomial("y", alpha=alpha, beta=beta, n=launches, observed=successes, dims="vehicle")

# %%
with hierarchical_model:
    hierarchical_idata = pm.sample(
        draws=1500,
        tune=1000,
        chains=4,
        cores=CORES,
        target_accept=0.99,  # at 0.9, 1 of 20 sampler seeds gave a divergence
        random_seed=rng,
        progressbar=False,
    )
check_sampling(hierarchical_idata, var_names=["alpha", "beta", "mu"]).to_frame()

# %% [markdown]
# No divergences, $\hat R \le 1.01$, and plenty of effective draws. Now the $\theta_j$: for
# every posterior draw of $(\alpha, \beta)$ we draw each vehicle's rate from its exact
# conditional posterior and store the draws with the others, under the name `theta`.


# %%
def draw_theta(posterior: xr.Dataset, rng: np.random.Generator) -> xr.DataArray:
    """One draw of every theta_j ~ Beta(alpha + y_j, beta + N_j - y_j) per posterior draw."""
    draws = rng.beta(
        posterior["alpha"].values[..., None] + successes,
        posterior["beta"].values[..., None] + (launches - successes),
    )
    return xr.DataArray(
        draws,
        dims=("chain", "draw", "vehicle"),
        coords={"chain": posterior.chain, "draw": posterior.draw, "vehicle": vehicles},
    )


hierarchical_idata.posterior["theta"] = draw_theta(hierarchical_idata.posterior, rng)
check_sampling(hierarchical_idata, var_names=["alpha", "beta", "mu", "theta"]).to_frame()

# %% [markdown]
# The checks still pass with the $\theta_j$ included.

# %%
axes = az.plot_trace(hierarchical_idata, var_names=["alpha", "beta", "mu", "theta"], compact=False)
axes = label_trace(axes, "Hierarchical model: trace of hyperparameters and success rates")

# %% [markdown]
# All chains agree for every parameter. The posteriors of $\alpha$ and $\beta$ are wide and
# skewed — four groups cannot pin down the shape of a population — but $\mu$, which is what the
# data really inform, is much better determined.

# %%
axes = az.plot_forest(
    hierarchical_idata, var_names=["mu", "theta"], combined=True, hdi_prob=0.94, figsize=(8, 4.5)
)
ax = axes[0]
_ = ax.set(
    title=r"Hierarchical: $\mu$ and success rates",
    xlabel="success rate (94% HDI)",
)

# %% [markdown]
# ### Posterior predictive check
#
# Could the fitted model have produced the launch record we saw? We simulate replicated
# success counts $y_j^{\mathrm{rep}}$ from the posterior of both the full-pooling and the
# hierarchical model. For the hierarchical model we simulate with `explicit_model`, which
# draws $y_j^{\mathrm{rep}} \sim \mathrm{Binomial}(N_j, \theta_j)$ from the posterior draws of
# $\theta_j$: the two PyMC models are the same model, so one can use the other's draws.
# (`hierarchical_model` itself would simulate the record of a *new* vehicle for each row,
# from a fresh $\theta$, which is not the check we want.)

# %%
# var_names also sidesteps a PyMC 5.28 bug: without it the call registers the observed
# variable twice and the model can no longer be sampled.
with full_pooling_model:
    full_pooling_idata.extend(
        pm.sample_posterior_predictive(
            full_pooling_idata, var_names=["y"], random_seed=rng, progressbar=False
        )
    )
with explicit_model:
    hierarchical_idata.extend(
        pm.sample_posterior_predictive(
            hierarchical_idata, var_names=["y"], random_seed=rng, progressbar=False
        )
    )

# %% [markdown]
# `az.plot_ppc` overlays the density of the observed data with densities of replicated data
# sets. Here each "data set" is only four counts on wildly different scales (2 of 5 next to 301
# of 304), so a density over those four numbers says nothing useful. Instead we compare, vehicle
# by vehicle, the distribution of $y_j^{\mathrm{rep}}$ with the observed $y_j$.

# %%
fig, axs = plt.subplots(1, 4, figsize=(14, 3.8))
for ax, vehicle, n, observed in zip(axs, vehicles, launches, successes, strict=True):
    for name, idata, color in [
        ("full pooling", full_pooling_idata, "C2"),
        ("hierarchical", hierarchical_idata, "C0"),
    ]:
        replicated = idata.posterior_predictive["y"].sel(vehicle=vehicle).values.ravel()
        low = min(observed, np.quantile(replicated, 0.001))
        bins = np.arange(low, n + 2) - 0.5
        ax.hist(replicated, bins=bins, density=True, histtype="step", color=color, label=name)
    ax.axvline(observed, color="C4", linestyle="--", label="observed")
    ax.set(title=f"{vehicle} (N = {n})", xlabel="replicated successes")
axs[0].set_ylabel("probability")
axs[-1].legend(loc="upper left", fontsize="small")
_ = fig.suptitle("Posterior predictive check: replicated vs observed successes per vehicle")

# %%
ppc_tail = pd.DataFrame(
    {
        name: (idata.posterior_predictive["y"] <= successes).mean(("chain", "draw")).to_series()
        for name, idata in {
            "full pooling": full_pooling_idata,
            "hierarchical": hierarchical_idata,
        }.items()
    }
)
ppc_tail.columns.name = "P(y_rep <= y)"
ppc_tail.round(4)

# %% tags=["check"]
assert ppc_tail.loc["Falcon 1", "full pooling"] < 0.01 < ppc_tail.loc["Falcon 1", "hierarchical"]

# %% [markdown]
# The table gives, per vehicle, the posterior predictive probability of doing *no better* than
# the observed record. Under full pooling, a record as poor as Falcon 1's (and Starship's) is
# practically impossible: the model cannot have generated these data. The hierarchical model
# reproduces every vehicle — the observed counts sit comfortably inside the replicated
# distributions. (For Falcon Heavy the probability is 1 by construction: nothing is better than
# 9 out of 9, so this check can only flag vehicles that fail *too often*.)
#
# ## Comparing the three models
#
# The full-pooling model has a single $\theta$. To draw it beside the others we repeat it for
# every vehicle — which is exactly what that model claims: the same rate for all.

# %%
full_pooling_by_vehicle = az.InferenceData(
    posterior=full_pooling_idata.posterior[["theta"]].expand_dims(vehicle=vehicles, axis=-1)
)

# %% [markdown]
# One forest plot with the three models, vehicle by vehicle; the dashed line is the posterior
# mean of the population mean $\mu$.

# %% tags=["slide", "slide-hide-input"]
mu_mean = hierarchical_idata.posterior["mu"].mean().item()
ax = plot_forest_comparison(
    {
        "no pooling": no_pooling_idata,
        "full pooling": full_pooling_by_vehicle,
        "hierarchical": hierarchical_idata,
    },
    var_names=["theta"],
    ref_val=mu_mean,
    ref_label=r"population mean $\mu$ (posterior mean)",
    title="Success rate per vehicle under the three models",
    xlabel=r"success rate $\theta$ (94% HDI)",
    figsize=(9, 6),
)

# %%
theta_means = pd.DataFrame(
    {
        "observed": spacex.set_index("vehicle")["success rate"],
        "no pooling": no_pooling_idata.posterior["theta"].mean(("chain", "draw")).to_series(),
        "full pooling": full_pooling_idata.posterior["theta"].mean().item(),
        "hierarchical": hierarchical_idata.posterior["theta"].mean(("chain", "draw")).to_series(),
    }
)
shift = (theta_means["hierarchical"] - theta_means["no pooling"]).abs()
most_shrunk = shift.idxmax()
print(f"most shrunk: {most_shrunk} (moved by {shift.max():.3f})")
theta_means.round(3)

# %% tags=["check"]
assert most_shrunk == "Falcon 1"  # the smallest family, farthest from mu

# %% [markdown]
# The forest plot is the lesson of this notebook in one picture.
#
# - **Full pooling** gives one narrow interval for everybody — confidently wrong for Falcon 1
#   and Starship.
# - **No pooling** treats each vehicle alone: honest but noisy for the small families.
# - **The hierarchical model** moves each small family's estimate towards the population mean
#   $\mu$ (dashed line), by an amount that depends on how much data it has. The vehicle moved the
#   most (printed above) is Falcon 1, the smallest family and the farthest from $\mu$;
#   Falcon 9, with 304 launches, barely moves — its data outweigh the population.
#
# Whether pulling Falcon 1 and Starship *up* towards the mature rockets is right depends on the
# exchangeability question above: if prototypes are known to fail more often, the pull is too
# strong for them.

# %% [markdown]
# ## Predicting a new vehicle
#
# The hierarchical model can answer a question the other two cannot: what success rate should
# we expect from a new SpaceX vehicle that has never flown? Its rate is a fresh draw from the
# population, $\theta_{\mathrm{new}} \sim \mathrm{Beta}(\alpha, \beta)$, averaged over the
# posterior of $(\alpha, \beta)$. We add that variable to the model as written and draw it with
# `sample_posterior_predictive`: for each posterior draw of $(\alpha, \beta)$ it draws one
# $\theta_{\mathrm{new}}$.

# %%
with explicit_model:
    th_new = pm.Beta("th_new", alpha=explicit_model["alpha"], beta=explicit_model["beta"])
    new_vehicle_idata = pm.sample_posterior_predictive(
        hierarchical_idata, var_names=["th_new"], random_seed=rng, progressbar=False
    )
th_new_draws = new_vehicle_idata.posterior_predictive["th_new"]
th_new_summary = az.summary(new_vehicle_idata, group="posterior_predictive", kind="stats")
th_new_summary

# %% [markdown]
# The histogram shows the predictive distribution of the new vehicle's success rate, with its
# mean dashed.

# %%
fig, ax = plt.subplots()
ax.hist(th_new_draws.values.ravel(), bins=40, range=(0, 1), density=True, color="C1")
ax.axvline(th_new_draws.mean().item(), color="C4", linestyle="--", label="mean")
ax.set(
    title="Success rate of a new, unseen SpaceX vehicle",
    xlabel=r"$\theta_{\mathrm{new}}$",
    ylabel="density",
)
legend = ax.legend(loc="upper left")

# %% [markdown]
# A new vehicle is expected to succeed most of the time (mean in the table above), but the
# distribution is wide and has a long tail towards low rates: the population contains
# Falcon 1 and Starship as well as Falcon 9, and four vehicles cannot tell us much about how
# spread out that population is. That is an honest answer to "how reliable is a rocket drawn
# from the same mixture of prototypes and mature vehicles". For a brand-new rocket on its
# *first* flights, the prototypes' records are the more relevant ones, and this prediction is
# probably optimistic: exchangeability again.
#
# ### The population mean $\mu$ and its mode
#
# The posterior of $\mu$ is skewed (it is bounded by 1), so its mean, median and mode differ.
# The mode is the single most probable value (the *maximum a posteriori* estimate of the
# marginal posterior of $\mu$). ArviZ estimates it from a kernel density estimate of the draws.

# %%
axes = az.plot_posterior(hierarchical_idata, var_names=["mu"], point_estimate="mode", hdi_prob=0.94)
ax = np.ravel(axes)[0]
_ = ax.set(title=r"Posterior of the population mean $\mu$", xlabel=r"$\mu$", ylabel="density")

# %%
mu_draws = hierarchical_idata.posterior["mu"].values.ravel()
grid, density = az.kde(mu_draws)  # the same KDE plot_posterior uses for the mode
mu_point = pd.Series(
    {
        "mode (MAP)": grid[np.argmax(density)],
        "median": np.median(mu_draws),
        "mean": mu_draws.mean(),
    },
    name="mu",
)
mu_point.round(3)

# %% tags=["check"]
assert mu_point["mode (MAP)"] > mu_point["median"] > mu_point["mean"]

# %% [markdown]
# The mode is above the median, which is above the mean: the long tail is on the low side. The
# plot's label and the table agree because both use ArviZ's KDE. Note that this is the mode of
# $\mu$'s own (marginal) posterior; the joint MAP of all parameters, as `pm.find_MAP` would
# return it, is a different point and is not a good summary of a hierarchical model.
#
# One more consistency check: the predictive mean of $\theta_{\mathrm{new}}$ must equal the
# posterior mean of $\mu$, because $E[\theta_{\mathrm{new}}] = E[E[\theta_{\mathrm{new}} \mid
# \alpha, \beta]] = E[\mu]$. Their spreads differ: $\theta_{\mathrm{new}}$ also carries the
# vehicle-to-vehicle variation. The difference of the two means is tested in units of its own
# Monte Carlo standard error.

# %%
new_vs_mu = pd.DataFrame(
    {
        "mean": [mu_draws.mean(), th_new_draws.mean().item()],
        "sd": [mu_draws.std(), th_new_draws.std().item()],
    },
    index=["mu", "th_new"],
)
gap = th_new_draws - hierarchical_idata.posterior["mu"]  # draw by draw
gap_z = gap.mean().item() / az.mcse(gap.values).item()
print(f"th_new - mu: mean {gap.mean().item():.4f}, z = {gap_z:.2f}")
new_vs_mu.round(3)

# %% tags=["check"]
assert abs(gap_z) < 4
assert new_vs_mu.loc["th_new", "sd"] > new_vs_mu.loc["mu", "sd"]

# %% [markdown]
# ## Is MCMC right?
#
# Every number above is a Monte Carlo estimate. Diagnostics such as $\hat R$ and ESS say that
# the chains agree with each other, not that they found the right posterior. Where an exact
# answer exists, we can check that directly.
#
# The no-pooling model is the warm-up: the Beta prior is conjugate to the binomial likelihood,
# so $\theta_j \mid y_j \sim \mathrm{Beta}(1/2 + y_j, 1/2 + N_j - y_j)$, with mean
# $(y_j + 1/2) / (N_j + 1)$. `compare_to_reference` divides each difference between the MCMC
# mean and the exact mean by the Monte Carlo standard error (MCSE) of the MCMC mean, and raises
# if any $|z|$ exceeds 4.

# %%
conjugate_table = pd.DataFrame(
    {"mean": (successes + 0.5) / (launches + 1)}, index=[f"theta[{v}]" for v in vehicles]
)
compare_to_reference(no_pooling_idata, conjugate_table).round(4)

# %% [markdown]
# The hierarchical model has no conjugate posterior, but it comes close: `course_utils.exact`
# integrates the $\theta_j$ out exactly as `hierarchical_model` does, and the remaining
# two-dimensional integral over $(\alpha, \beta)$ numerically, to within $10^{-5}$ (its
# documented accuracy, far below the Monte Carlo error here). We compare the exact posterior
# means and standard deviations with `az.summary`.

# %%
exact_table = hierarchical_beta_binomial(
    successes, launches, parameterization="alpha_beta", scale=10.0, labels=vehicles
)
mcmc_table = az.summary(
    hierarchical_idata, var_names=["theta", "alpha", "beta", "mu"], kind="stats"
)
pd.concat({"exact": exact_table, "MCMC": mcmc_table[["mean", "sd"]]}, axis=1).round(3)

# %%
comparison = compare_to_reference(hierarchical_idata, exact_table)
comparison.round(4)

# %% [markdown]
# With a correct sampler each $z$ behaves like a draw from a standard normal: most are within
# $\pm 2$, an occasional one a little beyond, and `compare_to_reference` raises beyond $\pm 4$.
# The $z$ values are not independent, though. $\alpha$ and $\beta$ are positively correlated
# in the posterior (the ridge of "similar vehicles" on which both grow together; correlation
# printed below), so their Monte Carlo errors are correlated too: a run that overestimates
# one tends to overestimate the other, and two large $z$ of the same sign are less surprising
# than they would be for independent quantities; $\mu$ and the $\theta_j$ depend on both.
# Looking at one run, it is hard to tell a large $z$ from a small bias. The test that does tell them
# apart is the one 03 recommends: draw more. With four times as many draws the MCSE halves;
# a real bias would stay, so its $|z|$ would double, while Monte Carlo noise keeps $z$ of
# order one.

# %%
with hierarchical_model:
    long_idata = pm.sample(
        draws=6000,
        tune=500,
        chains=4,
        cores=CORES,
        target_accept=0.99,
        random_seed=rng,
        progressbar=False,
    )
check_sampling(long_idata, var_names=["alpha", "beta", "mu"])
hyper_exact = exact_table.loc[["alpha", "beta", "mu"]]
runs = {"1500 draws per chain": hierarchical_idata, "6000 draws per chain": long_idata}
z_by_length = pd.concat(
    {name: compare_to_reference(run, hyper_exact)[["mcse", "z"]] for name, run in runs.items()},
    axis=1,
)
post = hierarchical_idata.posterior
corr_alpha_beta = np.corrcoef(post["alpha"].values.ravel(), post["beta"].values.ravel())[0, 1]
print(f"posterior correlation of alpha and beta: {corr_alpha_beta:.2f}")
z_by_length.round(4)

# %% tags=["check"]
assert [run.posterior.sizes["draw"] for run in runs.values()] == [1500, 6000]
assert corr_alpha_beta > 0.5
mcse_ratio = (
    z_by_length[("6000 draws per chain", "mcse")] / z_by_length[("1500 draws per chain", "mcse")]
)
assert mcse_ratio.between(0.35, 0.7).all()  # about 1/2 for four times the draws

# %% [markdown]
# The MCSE of the long run is about half that of the short one, and its $z$ values are still
# of order one (`compare_to_reference` would have raised otherwise): no sign of a bias. Agreement
# here means more than "the chains converged somewhere": the sampler found the *right*
# posterior, and the $\theta_j$ drawn from their conditional distributions have the right
# means too.
#
# The exact table also has `theta_new`, the predictive distribution of a new vehicle; its MCMC
# columns above are empty because `th_new` is not in the posterior — we drew it afterwards with
# `sample_posterior_predictive`. Its mean should match those draws within their Monte Carlo
# error:

# %%
th_new_mean = th_new_draws.mean().item()
th_new_mcse = az.mcse(new_vehicle_idata.posterior_predictive)["th_new"].item()
exact_new_mean = exact_table.loc["theta_new", "mean"]
th_new_check = pd.Series(
    {
        "predictive mean": th_new_mean,
        "exact mean": exact_new_mean,
        "mcse": th_new_mcse,
        "z": (th_new_mean - exact_new_mean) / th_new_mcse,
    },
    name="th_new",
)
th_new_check.round(4)

# %% tags=["check"]
assert abs(th_new_check["z"]) < 4

# %% [markdown]
# ## Exercises
#
# Each exercise with a computed answer ends with a cell that checks it: run it once your
# answer is stored under the names the exercise gives. It tells you whether the answer is
# correct; if not, how far it is from the expected one, or which common mistake it looks like.
# For an MCMC answer it first asks whether your chains converged, then compares within the
# answer's Monte Carlo standard error: it is designed to fail a correct answer in fewer than
# one check in a thousand.
#
# **Exercise 1.** Suppose Starship's tenth flight is a success (6 successes in 10 launches).
# How do Starship's estimated success rate, the population mean $\mu$ and the prediction for a
# new vehicle change? Do the other vehicles' estimates move? (Hint: refitting with MCMC works,
# but `hierarchical_beta_binomial` answers instantly, and exactly.) Store the three exact
# posterior means after the tenth flight, Starship's rate, $\mu$ and $\theta_{\mathrm{new}}$
# in that order, in `after_tenth`.

# %% tags=["solution"]
starship_idx = vehicles.index("Starship")
successes_10, launches_10 = successes.copy(), launches.copy()
successes_10[starship_idx] += 1
launches_10[starship_idx] += 1
after = hierarchical_beta_binomial(
    successes_10, launches_10, parameterization="alpha_beta", labels=vehicles
)
tenth_flight = pd.DataFrame({"5 of 9": exact_table["mean"], "6 of 10": after["mean"]})
tenth_flight["change"] = tenth_flight["6 of 10"] - tenth_flight["5 of 9"]
assert tenth_flight.loc[[f"theta[{v}]" for v in vehicles], "change"].idxmax() == "theta[Starship]"
assert tenth_flight.loc[["theta[Falcon 9]", "theta[Falcon Heavy]"], "change"].abs().max() < 5e-4
after_tenth = tenth_flight.loc[["theta[Starship]", "mu", "theta_new"], "6 of 10"]
tenth_flight.round(3)

# %% tags=["answer-check"]
checks.tenth_flight(after_tenth, successes, launches, vehicles)

# %% [markdown] tags=["solution"]
# Starship's posterior mean rises the most, and a little of the good news spreads to the
# population: $\mu$ and the prediction for a new vehicle go up too, which in turn lifts
# Falcon 1, the vehicle with the least data of its own. Falcon 9 and Falcon Heavy change by less
# than the displayed precision: their own records dominate. One success is a lot of information
# about a 9-flight vehicle, and a little about everybody else.

# %% [markdown]
# **Exercise 2.** How sensitive are the results to the prior scale of $\alpha$ and $\beta$?
# Recompute the exact posterior with `scale=1` and `scale=100` instead of 10, and compare
# $\mu$, $\theta_{\mathrm{Falcon\ 1}}$ and $\theta_{\mathrm{new}}$: store their posterior means in
# a table `by_scale`, one row per quantity in that order and one column per scale, 1, 10, 100.

# %% tags=["solution"]
sensitivity = pd.DataFrame(
    {
        f"scale={scale:g}": hierarchical_beta_binomial(
            successes, launches, parameterization="alpha_beta", scale=scale, labels=vehicles
        )["mean"]
        for scale in [1.0, 10.0, 100.0]
    }
)
assert sensitivity.loc["theta[Falcon 1]"].is_monotonic_increasing
by_scale = sensitivity.loc[["mu", "theta[Falcon 1]", "theta_new"]]
by_scale.round(3)

# %% tags=["answer-check"]
checks.prior_scale(by_scale, successes, launches, vehicles)

# %% [markdown] tags=["solution"]
# With only four vehicles the prior on $(\alpha, \beta)$ matters. A small scale keeps
# $\alpha + \beta$ small — a widely spread population — so Falcon 1 stays closer to its own
# record; a large scale allows a tighter population and pulls Falcon 1 further towards $\mu$.
# Even $\mu$ moves noticeably across the three scales. With few groups, report such a
# sensitivity analysis alongside the results.

# %% [markdown]
# **Exercise 3.** Falcon Heavy has a perfect record (9/9), Falcon 9 does not (301/304). Using
# the posterior draws, compute the probability that Falcon Heavy's success rate is *higher*
# than Falcon 9's, under no pooling and under the hierarchical model (store the two
# probabilities, no pooling first, in `fh_better`). Why is it not close to 1?

# %% tags=["solution"]
fh_better = pd.Series(
    {
        name: (
            idata.posterior["theta"].sel(vehicle="Falcon Heavy")
            > idata.posterior["theta"].sel(vehicle="Falcon 9")
        )
        .mean()
        .item()
        for name, idata in {
            "no pooling": no_pooling_idata,
            "hierarchical": hierarchical_idata,
        }.items()
    },
    name="P(theta[Falcon Heavy] > theta[Falcon 9])",
)
assert fh_better["hierarchical"] < fh_better["no pooling"] < 0.5
fh_better.round(3)

# %% tags=["answer-check"]
checks.falcon_heavy_better(
    fh_better, no_pooling_idata, hierarchical_idata, successes, launches, vehicles
)

# %% [markdown] tags=["solution"]
# Nine successes in nine launches are consistent with a true rate of 0.9 as well as 0.999;
# Falcon 9's 301 of 304 pin its rate near 0.99. So Falcon Heavy beats Falcon 9 in fewer than
# half of the posterior draws — a perfect short record is weak evidence. The hierarchical model
# lowers the probability further, because it pulls Falcon Heavy towards a population mean
# below both.

# %% [markdown]
# **Exercise 4 — a different prior is a different model.** Write a hierarchical model with the
# priors of 03 instead: $\mu \sim \mathrm{Beta}(1, 1)$ for the population mean and
# $\kappa \sim \mathrm{HalfNormal}(10)$ for the concentration $\alpha + \beta$, with
# $\alpha = \mu\kappa$ and $\beta = (1 - \mu)\kappa$. Use the beta-binomial likelihood, as in
# `hierarchical_model`. Sample it, check the sampling, and compare its posterior with the
# exact one (`parameterization="mu_nu"`). Name the variables `mu` and `kappa`, and the fit
# `mean_concentration_idata`. How do $\mu$ and Falcon 1's rate differ from the model with
# priors on $\alpha$ and $\beta$, and why?

# %% tags=["solution"]
with pm.Model(coords=coords) as mean_concentration_model:
    mu = pm.Beta("mu", alpha=1, beta=1)
    kappa = pm.HalfNormal("kappa", sigma=10)
    pm.BetaBinomial(
        "y",
        alpha=mu * kappa,
        beta=(1 - mu) * kappa,
        n=launches,
        observed=successes,
        dims="vehicle",
    )
    mean_concentration_idata = pm.sample(
        draws=2000,
        tune=1000,
        chains=4,
        cores=CORES,
        target_accept=0.9,
        random_seed=rng,
        progressbar=False,
    )
print(check_sampling(mean_concentration_idata, var_names=["mu", "kappa"]))
exact_mean_concentration = hierarchical_beta_binomial(
    successes, launches, parameterization="mu_nu", scale=10.0, labels=vehicles
).rename(index={"nu": "kappa"})
compare_to_reference(mean_concentration_idata, exact_mean_concentration).round(4)

# %% tags=["answer-check"]
checks.mean_concentration_fit(mean_concentration_idata, successes, launches)

# %% tags=["solution"]
prior_mean_concentration = pd.Series(
    {
        "priors on alpha, beta": 2 * 10 * np.sqrt(2 / np.pi),  # E[alpha] + E[beta]
        "priors on mu, kappa": 10 * np.sqrt(2 / np.pi),  # E[kappa]
    },
    name="prior mean of alpha + beta",
)
print(prior_mean_concentration.round(1).to_string())
two_priors = pd.DataFrame(
    {
        "priors on alpha, beta": exact_table["mean"],
        "priors on mu, kappa": exact_mean_concentration["mean"],
    }
).loc[["mu", "theta[Falcon 1]", "theta[Starship]"]]
assert two_priors.loc["theta[Falcon 1]"].diff().iloc[-1] < -0.03
assert two_priors.loc["mu"].diff().iloc[-1] < -0.02
two_priors.round(3)

# %% [markdown] tags=["solution"]
# MCMC agrees with the exact answer for the new model too (the checks pass and no $|z|$
# exceeds 4), but the answer itself is different: $\mu$ is lower and Falcon 1 is pulled up much
# less (both printed). The two priors describe different beliefs about the population. Under
# independent HalfNormal(10) priors on $\alpha$ and $\beta$ the prior mean of the
# concentration $\alpha + \beta$ is about 16; under HalfNormal(10) on $\kappa$ it is about 8
# (printed). The second model expects a wider population, which pools less, so Falcon 1
# keeps more of its own poor record. The data of four vehicles cannot overrule either choice.
# (The exact calculation for this model has no row for a new vehicle, so there is nothing to
# compare for `theta_new`.)

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - **Full pooling** ignores real differences between groups: it is confidently wrong about
#   Falcon 1, and a posterior predictive check exposes it.
# - **No pooling** is honest but noisy for small groups and cannot say anything about a new one.
# - **Partial pooling** shrinks small groups towards the population mean by an amount set by
#   the data, and predicts new groups from the population distribution, **if** the groups are
#   exchangeable: prototypes and mature rockets may not be.
# - **Divergences** signal a region the sampler cannot explore. A higher `target_accept`
#   (smaller steps) makes them rarer; integrating the $\theta_j$ out removes the funnel and
#   leaves the model unchanged. A different *prior* would change the model.
# - **Check MCMC against exact answers** where they exist: differences measured in Monte Carlo
#   standard errors tell you whether the sampler got the right posterior, and a longer run
#   tells a bias (|z| grows) from noise (|z| stays of order one).

# %% [markdown]
# ## References
#
# - Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B.
#   (2013). *Bayesian Data Analysis*, 3rd ed. CRC Press. Chapter 5: the hierarchical
#   beta-binomial model, its marginal likelihood and the conditional posterior of each group;
#   exchangeability (section 5.2).
# - Gelman, A. and Hill, J. (2007). *Data Analysis Using Regression and Multilevel/Hierarchical
#   Models*. Cambridge University Press. Complete, no and partial pooling (chapter 12).
# - Martin, O. A. (2024). *Bayesian Analysis with Python*, 3rd ed. Packt. Hierarchical models
#   in PyMC and ArviZ, and the diagnostics used here.
# - McElreath, R. (2020). *Statistical Rethinking*, 2nd ed. CRC Press. Chapter 13: multilevel
#   models and predictions for new clusters.
# - Betancourt, M. (2017). A conceptual introduction to Hamiltonian Monte Carlo.
#   arXiv:1701.02434. Why divergences appear where the curvature is high, and what
#   `target_accept` changes.
# - Hoffman, M. D. and Gelman, A. (2014). The No-U-Turn Sampler. *Journal of Machine Learning
#   Research* 15, 1593–1623. The sampler PyMC uses.
#
# ## Versions

# %%
print(versions())
