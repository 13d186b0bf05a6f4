# %% [markdown]
# # 07 · Eight schools: meta-analysis and the prior on tau
#
# In the 1970s the Educational Testing Service studied coaching for the verbal part of the
# SAT, a US college admission test. Eight high schools each ran their own randomized
# experiment: some students were coached, others not, and each school reported an estimated
# coaching effect with its standard error (Rubin 1981). Combining such separate estimates is
# a **meta-analysis**, and these eight numbers are the most famous example of a hierarchical
# model: they are in BDA3 (section 5.5), in Stan's and PyMC's documentation, and in most
# courses you will take after this one.
#
# The data are tiny — eight estimates and eight standard errors — and that is the point.
# With so little information about how different the schools are, the choice of the prior
# on the between-school spread $\tau$ and the way the model is written for the sampler both
# matter, and this lesson shows how much.
#
# **Learning goals.** After this lesson you can
#
# 1. combine estimates with known standard errors: no pooling, complete pooling (the
#    precision-weighted mean) and partial pooling;
# 2. recognise the divergences of a centered hierarchical model on only eight numbers, and
#    remove them by non-centering;
# 3. check MCMC against an exact answer, for means and for quantiles;
# 4. explain why eight groups say little about $\tau$, and test how much the prior on
#    $\tau$ matters (Gelman 2006);
# 5. say what empirical Bayes (plugging in an estimate of $\tau$) loses;
# 6. predict the effect of coaching in a new school.

# %% [markdown] tags=["slide"]
# ## The question
#
# Eight schools each ran an experiment on SAT coaching and reported an estimated effect
# with its standard error.
#
# - Does coaching work, and how well, in each of these schools?
# - School A reports +28 points. Is coaching that good there, or was A lucky?
# - What should a ninth school expect?

# %%
import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from scipy import integrate, stats

from course_utils.checks import eight_schools as checks
from course_utils.data import load_eight_schools
from course_utils.diagnostics import check_sampling, compare_to_reference
from course_utils.environment import sampler_cores, versions
from course_utils.exact import (
    hierarchical_normal,
    hierarchical_normal_tau_density,
    hierarchical_normal_tau_quantiles,
)
from course_utils.plots import (
    MODEL_COLORS,
    model_graph,
    plot_ppc,
    plot_shrinkage,
    use_course_style,
)

# %%
RANDOM_SEED = 1981  # seeds every sampler and predictive draw
rng = np.random.default_rng(RANDOM_SEED)
CORES = sampler_cores()  # worker processes for the chains
use_course_style()

# %% [markdown]
# ## The data
#
# One row per school: the estimated coaching effect `effect` (in SAT points; the verbal
# test is scored from 200 to 800) and its standard error `se` (BDA3 table 5.2). Each
# estimate comes from a separate randomized experiment, and the experiments were large
# (more than thirty students in each school, BDA3 section 5.5), so the standard errors are
# treated as known: they are part of the data, not parameters.

# %%
schools = load_eight_schools()
effect = schools["effect"].to_numpy(dtype=float)
se = schools["se"].to_numpy(dtype=float)
coords = {"school": schools["school"].tolist()}
n_school = len(schools)
schools

# %% tags=["slide", "slide-hide-input"]
fig, ax = plt.subplots()
ax.errorbar(effect, np.arange(n_school), xerr=2 * se, fmt="o", color=MODEL_COLORS[0], capsize=3)
ax.axvline(0, color="0.5", linewidth=1)
ax.set_yticks(np.arange(n_school), coords["school"])
ax.invert_yaxis()
ax.set_xlabel("estimated coaching effect ± 2 standard errors (SAT points)")
ax.set_ylabel("school")
title = ax.set_title("Eight experiments, eight noisy estimates")

# %% tags=["check"]
assert (4 * se).min() > 35  # every interval is more than 35 points wide
assert (effect - 2 * se).max() < (effect + 2 * se).min()  # all eight intervals overlap

# %% [markdown]
# The estimates range from $-3$ to $+28$ points, but every interval of ± 2 standard errors
# is more than 35 points wide and all eight intervals overlap. Is the spread of the eight
# estimates a sign that coaching works better in some schools, or is it just noise?
#
# ### Are the schools exchangeable?
#
# Lesson 01 introduced *exchangeability*: our information about the groups does not
# distinguish one from another, so that any relabelling of the schools leaves our prior
# beliefs about their effects $\theta_1, \dots, \theta_8$ unchanged. Here we know nothing
# about the schools except a letter and a standard error, and the standard error describes
# how precisely an effect was *measured*, not how large it is (that is an assumption: a
# school that coached fewer students has a larger standard error, and if small programmes
# were run differently the two would be related). So we treat the effects as exchangeable,
# which is what justifies modelling them as draws from one population distribution,
# $\theta_j \sim \mathrm{Normal}(\mu, \tau)$. Had we known, say, that some schools ran a much
# longer programme, the effects would be exchangeable only within programme types, and the
# model should say so (Exercise 4).

# %% [markdown]
# ## Two extreme answers
#
# **No pooling.** Each school on its own: the estimate of $\theta_j$ is $y_j$, with
# standard error $\sigma_j$. School A's coaching effect is $28 \pm 15$.
#
# **Complete pooling.** All schools share one effect $\theta$. Each $y_j$ is then an
# independent estimate of the same number, and the best combination weights each by its
# precision $1/\sigma_j^2$:
#
# $$
# \bar y = \frac{\sum_j y_j / \sigma_j^2}{\sum_j 1 / \sigma_j^2}, \qquad
# \mathrm{se}(\bar y) = \Big(\sum_j 1 / \sigma_j^2\Big)^{-1/2} .
# $$
#
# A classical test of that assumption compares the spread of the estimates with their
# standard errors: if all $\theta_j$ are equal,
# $\chi^2 = \sum_j (y_j - \bar y)^2 / \sigma_j^2$ follows a $\chi^2$ distribution with
# $J - 1 = 7$ degrees of freedom.

# %%
precision = 1 / se**2
pooled_mean = np.sum(precision * effect) / np.sum(precision)
pooled_se = np.sum(precision) ** -0.5
chi2 = np.sum((effect - pooled_mean) ** 2 * precision)
p_homogeneity = stats.chi2.sf(chi2, df=n_school - 1)
print(f"precision-weighted mean: {pooled_mean:.1f} points, standard error {pooled_se:.1f}")
print(f"chi-squared = {chi2:.1f} on {n_school - 1} degrees of freedom, p = {p_homogeneity:.2f}")
print(f"complete pooling: P(theta_A > 28) = {stats.norm.sf(28, pooled_mean, pooled_se):.0e}")

# %% [markdown]
# The pooled estimate is 7.7 points with a standard error of 4.1. The spread of the eight
# estimates is *smaller* than pure noise would typically produce ($\chi^2 = 4.7$, below
# its expected value of 7; p = 0.70): the data are perfectly compatible with one common
# effect. Yet neither answer is believable (BDA3 section 5.5 makes the same argument).
# Complete pooling says that coaching in school A worked no better than in the others: the
# probability that its effect exceeds 28 points would be less than one in a million
# (printed above), although A's own experiment estimates exactly that. No pooling says that
# A's effect is as likely above 28 as below, ignoring that the seven other experiments found
# much smaller effects. The truth is probably in between, and a hierarchical model finds
# where.
#
# One more number for later. The model below puts the prior $\mathrm{Normal}(0, 5)$ on the
# average effect. With that prior, complete pooling is a normal–normal update of the
# pooled estimate, and the prior is *informative* here: its standard deviation (5) is close
# to the pooled standard error (4.1), so the posterior mean, 4.6, lies a little more than
# halfway from the prior mean 0 to the pooled estimate 7.7.

# %%
posterior_precision = 1 / 5.0**2 + np.sum(precision)
pooled_with_prior = np.sum(precision * effect) / posterior_precision
print(
    f"complete pooling with the Normal(0, 5) prior: {pooled_with_prior:.2f} ± "
    f"{posterior_precision**-0.5:.2f}"
)

# %% [markdown] tags=["slide"]
# ## The model: partial pooling with known standard errors
#
# $$
# \begin{aligned}
# y_j &\sim \mathrm{Normal}(\theta_j, \sigma_j) && \sigma_j \text{ known}, \; j = 1, \dots, 8 \\
# \theta_j &\sim \mathrm{Normal}(\mu, \tau) && \text{population of school effects} \\
# \mu &\sim \mathrm{Normal}(0, 5), \quad \tau \sim \mathrm{HalfCauchy}(5) && \text{hyperpriors}
# \end{aligned}
# $$
#
# $\tau \to 0$ is complete pooling, $\tau \to \infty$ no pooling: the data (and the prior)
# choose $\tau$.

# %% [markdown]
# These are the priors of Stan's eight-schools case study, kept here so that the posterior
# can be compared with other references. $\mathrm{Normal}(0, 5)$ says that an average
# coaching effect beyond about ±10 points would surprise us. $\mathrm{HalfCauchy}(5)$ has
# its median at 5 points but a heavy tail: it gives $\tau > 50$ a prior probability of
# 6%, so it does not rule out very different schools. Written as it reads, the model is
# *centered*: each $\theta_j$ is drawn around $\mu$ with spread $\tau$.

# %%
with pm.Model(coords=coords) as centered_model:
    mu = pm.Normal("mu", mu=0, sigma=5)
    tau = pm.HalfCauchy("tau", beta=5)
    theta = pm.Normal("theta", mu=mu, sigma=tau, dims="school")
    pm.Normal("y", mu=theta, sigma=se, observed=effect, dims="school")

# %% tags=["check"]
assert round(2 * stats.norm.sf(10, scale=5), 3) == 0.046  # P(|mu| > 10)
assert (
    np.isclose(stats.halfcauchy.median(scale=5), 5)
    and round(stats.halfcauchy.sf(50, scale=5), 2) == 0.06
)

# %% tags=["nbval-ignore-output"]
model_graph(centered_model)

# %% [markdown]
# ### Prior predictive check
#
# What do the priors alone say about coaching effects? We simulate school effects and
# estimates from the priors and look at their sizes. For an exact reference, the prior
# probability that a school's true effect exceeds 50 points in size (half the standard
# deviation of SAT scores, an enormous effect for a coaching programme) is a
# one-dimensional integral over $\tau$: given $\tau$, $\theta_j \sim
# \mathrm{Normal}(0, \sqrt{5^2 + \tau^2})$.

# %%
with centered_model:
    prior_idata = pm.sample_prior_predictive(draws=2000, random_seed=rng)


def prior_share_beyond(c):
    """Prior probability that a school's true effect exceeds c points in size (exact)."""

    def integrand(t):
        return 2 * stats.norm.sf(c / np.sqrt(5.0**2 + t**2)) * stats.halfcauchy.pdf(t, scale=5)

    return integrate.quad(integrand, 0, np.inf)[0]


# %%
prior_theta = prior_idata.prior["theta"].stack(sample=("chain", "draw")).to_numpy()
beyond = (np.abs(prior_theta) > 50).mean(axis=0)  # share of the 8 schools, per prior draw
share, share_mcse = beyond.mean(), beyond.std(ddof=1) / np.sqrt(beyond.size)
exact_share = prior_share_beyond(50)
assert abs(share - exact_share) < 4 * share_mcse
prior_y = prior_idata.prior_predictive["y"].to_numpy().ravel()
low, high = np.quantile(prior_y, [0.03, 0.97])
print(f"P(|theta_j| > 50): simulated {share:.3f}, exact {exact_share:.3f}")
print(f"94% of simulated estimates y_j between {low:.0f} and {high:.0f} points")

# %%
fig, ax = plt.subplots()
edges = np.linspace(-100, 100, 81)
ax.hist(np.clip(prior_y, -100, 100), bins=edges, density=True, color="C2", label="prior predictive")
ax.plot(
    effect, np.zeros(n_school), "|", color=MODEL_COLORS[2], markersize=25, mew=2, label="observed"
)
ax.set(xlabel="estimated effect $y_j$ (SAT points; clipped at ±100)", ylabel="density")
ax.set_title("Prior predictive check: estimated effects")
legend = ax.legend(loc="upper left")

# %% [markdown]
# The simulated estimates (histogram; the two outer bins collect everything beyond ±100)
# are centred on 0 with most of them within a few tens of points, and the eight observed
# estimates (ticks) sit comfortably inside. The heavy tail of the half-Cauchy shows in the
# outer bins: about 5% of simulated schools have a true effect beyond 50 points (printed
# above, with the exact value beside it). That is generous for a coaching programme, but
# it only makes the prior weakly informative about $\tau$; it does not put implausible
# values at the centre.

# %% [markdown]
# ### A model that is *meant* to misbehave
#
# We now fit the centered model with 800 tuning and 700 kept draws per chain and
# `target_accept=0.99`, which makes NUTS take small, careful steps (the default is 0.8).
# The non-centered model below gets the same settings, so that the two are compared on
# equal terms. **This fit is supposed to fail its checks.** We switch off PyMC's own
# convergence warnings and run the course's check instead, without raising.

# %%
with centered_model:
    centered_idata = pm.sample(
        draws=700,
        tune=800,
        chains=4,
        cores=CORES,
        target_accept=0.99,
        compute_convergence_checks=False,
        random_seed=rng,
        progressbar=False,
    )

# %%
centered_report = check_sampling(
    centered_idata, var_names=["mu", "tau", "theta"], raise_on_failure=False
)
assert centered_report.divergences > 0 or centered_report.min_ess_bulk < 400
centered_report.to_frame()

# %% [markdown]
# The centered fit has divergent transitions (or too few effective draws; which alarm rings,
# and how loudly, changes from run to run). Lesson 01 explained the cause: the *funnel*.
# When $\tau$ is small, all eight $\theta_j$ must sit close to $\mu$; when it is large,
# they can spread out. Eight noisy estimates cannot rule out a small $\tau$, so the
# posterior reaches deep into the narrow neck of the funnel, where the step size that suits
# the wide mouth is far too large. Size does not protect a model: this one has ten
# parameters and eight data points. The divergences sit where the funnel is narrow:

# %%
tau_draws = centered_idata.posterior["tau"].to_numpy().ravel()
theta_a = centered_idata.posterior["theta"].sel(school="A").to_numpy().ravel()
diverging = centered_idata.sample_stats["diverging"].to_numpy().ravel()

fig, ax = plt.subplots()
ax.scatter(theta_a[~diverging], np.log(tau_draws[~diverging]), s=4, alpha=0.3, color="0.4")
ax.scatter(
    theta_a[diverging], np.log(tau_draws[diverging]), s=20, color=MODEL_COLORS[2], label="divergent"
)
ax.set(xlabel=r"$\theta_A$ (SAT points)", ylabel=r"$\log \tau$")
ax.set_title("Centered model: the funnel, and where it diverges")
legend = ax.legend(loc="lower left")

# %% tags=["check"]
assert not diverging.any() or np.median(tau_draws[diverging]) < np.median(tau_draws)

# %% [markdown]
# Each dot is a draw. Red dots are the draws of iterations whose trajectory diverged (PyMC
# flags the iteration; the draw it keeps comes from the part of the trajectory built before
# the divergence). They gather at small $\tau$, in the neck.
# The danger is not the warning itself but what it signals: the chains could not move
# freely into the neck, so the region of small $\tau$ may be under-represented, and no
# summary of this fit can be trusted. The cure is the one from lessons 01 and 05.

# %% [markdown]
# ## The non-centered model
#
# Sample standardised school effects $z_j$ and build $\theta_j$ from them:
#
# $$
# z_j \sim \mathrm{Normal}(0, 1), \qquad \theta_j = \mu + \tau z_j .
# $$
#
# It is the same model, in other coordinates: $\theta_j$ has exactly the prior
# $\mathrm{Normal}(\mu, \tau)$. But a priori the $z_j$ do not depend on $\tau$, and because
# the data are weak, the posterior of $z_j$ barely does either: the funnel is gone. Some
# curvature remains near $\tau = 0$, and at `target_accept=0.95` an occasional run still
# reports a divergence; at 0.99, the setting of the centered fit, the check below passes.

# %%
with pm.Model(coords=coords) as noncentered_model:
    mu = pm.Normal("mu", mu=0, sigma=5)
    tau = pm.HalfCauchy("tau", beta=5)
    z = pm.Normal("z", mu=0, sigma=1, dims="school")
    theta = pm.Deterministic("theta", mu + tau * z, dims="school")
    pm.Normal("y", mu=theta, sigma=se, observed=effect, dims="school")

# %% tags=["nbval-ignore-output"]
model_graph(noncentered_model)

# %%
with noncentered_model:
    noncentered_idata = pm.sample(
        draws=700,
        tune=800,
        chains=4,
        cores=CORES,
        target_accept=0.99,
        random_seed=rng,
        progressbar=False,
    )

# %%
noncentered_report = check_sampling(noncentered_idata, var_names=["mu", "tau", "theta", "z"])
assert noncentered_report.min_ess_bulk > 1000
print(noncentered_report)

# %% [markdown]
# Same data, same priors, same settings: no divergences, $\hat R \le 1.01$ and more than
# 1000 effective draws for every parameter (lesson 01 defines both).
#
# ### Checking MCMC against the exact posterior
#
# Given $\tau$, everything in this model is normal and conjugate: $\mu$ and every
# $\theta_j$ can be integrated out in closed form (BDA3 section 5.4), and only a
# one-dimensional integral over $\tau$ remains. `course_utils.exact.hierarchical_normal`
# computes it by quadrature, accurate to $10^{-6}$ posterior standard deviations, without
# any random numbers. `compare_to_reference` divides each difference between the MCMC and
# the exact posterior mean by its Monte Carlo standard error and raises if any $|z| > 4$.

# %%
exact = hierarchical_normal(effect, se, mu_loc=0.0, mu_scale=5.0, labels=coords["school"])
comparison = compare_to_reference(noncentered_idata, exact)
comparison.round(3)

# %% [markdown]
# Posterior means are not the whole story: $\tau$ has a skewed posterior. Its quantiles,
# computed exactly by `hierarchical_normal_tau_quantiles`, are compared with the quantiles
# of the draws, each with its own Monte Carlo standard error (`az.mcse(...,
# method="quantile")`).

# %%
PROBS = (0.03, 0.5, 0.97)
tau_exact_q = hierarchical_normal_tau_quantiles(effect, se, probs=PROBS)
tau_post = noncentered_idata.posterior["tau"]
tau_quantiles = pd.DataFrame(
    {
        "exact": tau_exact_q.to_numpy(),
        "MCMC": [float(tau_post.quantile(p)) for p in PROBS],
        "mcse": [
            float(az.mcse(noncentered_idata, var_names=["tau"], method="quantile", prob=p)["tau"])
            for p in PROBS
        ],
    },
    index=pd.Index(PROBS, name="quantile of tau"),
)
tau_quantiles["z"] = (tau_quantiles["MCMC"] - tau_quantiles["exact"]) / tau_quantiles["mcse"]
assert (tau_quantiles["z"].abs() < 4).all()
tau_quantiles.round(3)

# %%
print(f"largest |z| of the ten means: {comparison['z'].abs().max():.1f}")

# %% [markdown]
# The check passes: every $|z|$ of the means and of the quantiles is below 4, the threshold
# at which `compare_to_reference` (and the assert above) raise. Two things keep us from
# reading more into the individual $z$ values. They are not ten independent checks: each
# $\theta_j = \mu + \tau \eta_j$ moves with $\mu$, so when $\mu$'s draws run high, the eight
# $\theta_j$ differences tend to share its sign. And they are not standard normal here:
# re-running this notebook under 20 other sampler seeds (`course seeds 07`; the spreads are
# recorded in `tests/tolerances/07_eight_schools.json`), the posterior mean of $\mu$ varied
# about 1.6 times more than its MCSE says, so a $|z|$ near 3 for $\mu$ is no surprise. An MCSE
# is itself an estimate, from the autocorrelation of the chains; when chains now and then
# linger at small $\tau$, it comes out optimistic. What the check guarantees is a bound: no
# mean or quantile is off by more than 4 estimated MCSEs, about 2.5 true ones for $\mu$. A
# real bias looks different: it does not shrink with more draws (lesson 03).
#
# And the centered fit? Its draws come from chains that failed their checks, so not even their
# Monte Carlo errors can be trusted. A telling summary is the posterior probability of a
# small $\tau$, the neck of the funnel:

# %%
tau_grid_fine = np.linspace(0.0, 1.0, 2001)
p_tau_below_1 = integrate.trapezoid(
    hierarchical_normal_tau_density(tau_grid_fine, effect, se), tau_grid_fine
)
noncentered_below = (noncentered_idata.posterior[["tau"]] < 1).astype(float)
below_1 = pd.Series(
    {
        "exact": p_tau_below_1,
        "non-centered": float(noncentered_below["tau"].mean()),
        "centered": float((centered_idata.posterior["tau"] < 1).mean()),
    },
    name="P(tau < 1)",
)
below_1_mcse = float(az.mcse(noncentered_below)["tau"])
assert abs(below_1["non-centered"] - below_1["exact"]) < 4 * below_1_mcse
below_1.round(3)

# %% [markdown]
# The non-centered share agrees with the exact value within its Monte Carlo error (checked
# in the cell). The centered share comes from a failed run: in one run it may land near the
# exact value, in another far from it, and without the exact answer we could not tell which.
# That is what the diagnostics are for. Betancourt's case study (see the references) runs
# the centered chains much longer and shows that the missing mass at small $\tau$ does not
# come back: the bias persists, and only the divergences warn of it.

# %% [markdown]
# ## What eight schools say about $\tau$
#
# The exact posterior density of $\tau$ (`hierarchical_normal_tau_density`) over the
# histogram of the non-centered draws, with the prior for comparison:

# %%
tau_grid = np.linspace(0, 30, 301)
fig, ax = plt.subplots()
ax.hist(
    tau_post.to_numpy().ravel(),
    bins=np.linspace(0, 30, 61),
    density=True,
    color="C2",
    label="MCMC draws (non-centered)",
)
ax.plot(
    tau_grid,
    hierarchical_normal_tau_density(tau_grid, effect, se),
    color=MODEL_COLORS[1],
    linewidth=2,
    label="exact posterior",
)
ax.plot(
    tau_grid,
    stats.halfcauchy.pdf(tau_grid, scale=5),
    color=MODEL_COLORS[0],
    linestyle="--",
    label="prior HalfCauchy(5)",
)
ax.set(xlabel=r"$\tau$, between-school sd (SAT points)", ylabel="density")
ax.set_title(r"Posterior of $\tau$: exact and MCMC")
legend = ax.legend(loc="upper right")

# %%
print(
    f"exact posterior of tau: median {tau_exact_q[0.5]:.2f}, "
    f"94% interval ({tau_exact_q[0.03]:.2f}, {tau_exact_q[0.97]:.2f})"
)

# %% [markdown]
# The histogram follows the exact curve. The posterior is highest at $\tau = 0$ and falls
# slowly: its median is 2.75 points, but its 94% interval runs from 0.15 to 11.4. The data
# do not rule out that all schools have the same effect, nor that they differ by 10 points
# or more. Compared with the prior (dashed), the data have removed the large values of
# $\tau$ and little else.
#
# Why so little? All that the data say about $\tau$ is carried by how much the eight
# estimates scatter beyond their standard errors. Integrating out $\theta$ and $\mu$, the
# estimates are jointly normal, $y \sim \mathrm{Normal}(0, \Sigma)$ with
# $\Sigma = \mathrm{diag}(\sigma_j^2 + \tau^2) + 5^2$ (every entry gets the prior variance
# of $\mu$). This *marginal likelihood* $p(y \mid \tau)$ is easy to compute:


# %%
def marginal_loglik(tau, y, sigma, mu_sd=5.0):
    """log p(y | tau), with theta and mu integrated out (mu ~ Normal(0, mu_sd))."""
    cov = np.diag(sigma**2 + tau**2) + mu_sd**2
    return stats.multivariate_normal(mean=np.zeros(len(y)), cov=cov).logpdf(y)


loglik = np.array([marginal_loglik(t, effect, se) for t in tau_grid])
for t in (5, 10, 20):
    ratio = np.exp(marginal_loglik(0.0, effect, se) - marginal_loglik(t, effect, se))
    print(f"p(y | tau = 0) / p(y | tau = {t:2d}) = {ratio:.1f}")

# %% [markdown]
# The data favour $\tau = 0$ over $\tau = 10$ by a factor of only 2.6, but over $\tau = 20$
# by 20. On the scale of Kass and Raftery (1995), where a ratio of 3 to 20 is positive
# evidence and 20 to 150 strong evidence, 2.6 is barely worth mentioning and 20 is at the
# border of strong: this is how the data remove the large values of $\tau$. Between 0 and 10
# points they barely choose. With standard errors between 9 and 18 points, a between-school
# spread of 5 or 10 points adds little to the scatter that noise alone produces, and eight
# numbers cannot measure a spread precisely (Exercise 2 gives the model more schools). So
# the prior on $\tau$ is not a formality here: it fills in what the data leave open.

# %% [markdown]
# ### Shrinkage
#
# The hierarchical estimate of each school is pulled from its own estimate towards the
# population mean $\mu$. Here the larger standard error plays the role of the smaller group:
# the less precise a school's estimate, the larger the *fraction* of its distance to $\mu$
# that it moves (the shrinkage factor $B_j$ below). How many points it moves also depends on
# how far from $\mu$ it starts: A (+28, standard error 15) moves about 22 points, H (+12,
# standard error 18) about 7 (the figure, and the table after it).

# %%
hierarchical_means = noncentered_idata.posterior["theta"].mean(("chain", "draw")).to_numpy()
mu_mean = float(noncentered_idata.posterior["mu"].mean())
ax = plot_shrinkage(
    effect,
    hierarchical_means,
    se,
    population=mu_mean,
    labels=coords["school"],
    annotate=["A", "C", "E", "H"],
    ylabel="coaching effect (SAT points)",
    title="Every school moves most of the way to the mean",
)
xlabel = ax.set_xlabel("standard error of the school's estimate (log scale)")

# %% [markdown]
# Open circles are the schools' own estimates, filled circles the posterior means, the
# dashed line the posterior mean of $\mu$. School A's +28 becomes about 6, school C's $-3$
# becomes about 4: with $\tau$ probably small compared with the standard errors, the model
# believes the schools are much alike, and every estimate moves most of the way to $\mu$.
# How far exactly is set by the *shrinkage factor* $B_j = \sigma_j^2 / (\sigma_j^2 +
# \tau^2)$: given $\tau$ (and $\mu$), the posterior mean of $\theta_j$ is
# $B_j \mu + (1 - B_j) y_j$. Its posterior mean $\mathrm{E}[B_j \mid y]$ is one integral over
# the exact density of $\tau$:

# %%
# A grid that covers the whole posterior of tau: fine near 0, geometric in the long tail.
tau_nodes = np.concatenate([np.linspace(0, 1, 2001)[:-1], np.geomspace(1, 2000, 20001)])
tau_density = hierarchical_normal_tau_density(tau_nodes, effect, se)
assert abs(integrate.trapezoid(tau_density, tau_nodes) - 1) < 1e-4  # the grid holds the mass
shrinkage = se**2 / (se[None, :] ** 2 + tau_nodes[:, None] ** 2)
mean_shrinkage = integrate.trapezoid(tau_density[:, None] * shrinkage, tau_nodes, axis=0)
pd.DataFrame(
    {
        "effect": effect,
        "se": se,
        "E[B_j | y]": mean_shrinkage,
        "posterior mean": exact["mean"][:8].to_numpy(),
    },
    index=pd.Index(coords["school"], name="school"),
).round(2)

# %% [markdown]
# The factor grows with the standard error, from 0.84 for school E (the most precise) to
# 0.94 for school H (the least precise): averaged over the posterior of $\tau$, each
# estimate keeps only 6–16% of its distance from $\mu$. (The table uses the exact
# posterior means; MCMC agrees within Monte Carlo error, as checked above.)

# %% tags=["check"]
assert np.all(np.diff(mean_shrinkage[np.argsort(se, kind="stable")]) >= 0)  # grows with se
by_school = pd.Series(mean_shrinkage, index=coords["school"]).round(2)
assert by_school.idxmin() == "E" and by_school.min() == 0.84
assert by_school.idxmax() == "H" and by_school.max() == 0.94

# %% [markdown]
# ## How much does the prior on $\tau$ matter?
#
# With data this weak about $\tau$, the answer depends on its prior. Gelman (2006) used
# exactly these data to study priors for group-level standard deviations. He showed that
# the then-popular $\mathrm{InverseGamma}(\epsilon, \epsilon)$ prior on $\tau^2$, meant to
# be uninformative, is not: when the data allow $\tau$ near 0, as here, the posterior
# depends on the arbitrary $\epsilon$. He recommended a uniform prior on $\tau$ itself, and
# a half-t or half-Cauchy when there are few groups or a weakly informative prior is
# wanted. We compare three priors: the $\mathrm{HalfCauchy}(5)$ of the main fit, a
# $\mathrm{HalfNormal}(5)$ (a light tail: $P(\tau > 10) = 4.6\%$) and a
# $\mathrm{Uniform}(0, 100)$. The exact helper makes this cheap: three quadratures,
# no sampling.

# %%
TAU_PRIORS = {
    "HalfCauchy(5)": ("half_cauchy", 5.0),
    "HalfNormal(5)": ("half_normal", 5.0),
    "Uniform(0, 100)": ("uniform", 100.0),
}
rows = {}
for name, (tau_prior, tau_scale) in TAU_PRIORS.items():
    kwargs = {"tau_prior": tau_prior, "tau_scale": tau_scale}
    post = hierarchical_normal(effect, se, labels=coords["school"], **kwargs)
    q = hierarchical_normal_tau_quantiles(effect, se, probs=PROBS, **kwargs)
    rows[name] = {
        "tau 3%": q[0.03],
        "tau median": q[0.5],
        "tau 97%": q[0.97],
        "mu mean": post.loc["mu", "mean"],
        "theta[A] mean": post.loc["theta[A]", "mean"],
        "theta[A] sd": post.loc["theta[A]", "sd"],
        "sd of the 8 means": post["mean"][:8].std(ddof=1),
    }
prior_sensitivity = pd.DataFrame(rows).T
prior_sensitivity.round(2)

# %% [markdown]
# The prior on $\mu$ is a choice too. $\mathrm{Normal}(0, 5)$ says that an average coaching
# effect beyond about $\pm 10$ points is implausible; BDA3 uses a flat prior on $\mu$ instead.
# With eight noisy estimates whose precision-weighted mean is 7.7 (standard error 4.1), a
# prior standard deviation of 5 is not weak. We add a row with a flat prior on $\mu$
# ($\mathrm{Normal}(0, 10^4)$, indistinguishable from flat here) and, for every row, the
# exact probability that a new school's true effect is negative (one more integral over
# $\tau$; given $\tau$, $\theta_{\text{new}}$ is normal with mean $\hat\mu(\tau)$ and
# variance $\tau^2 + V_\mu(\tau)$).


# %%
def p_new_below_zero(mu_sd, **tau_kwargs):
    """Exact P(theta_new < 0 | y) under a Normal(0, mu_sd) prior on mu and a prior on tau."""
    density = hierarchical_normal_tau_density(tau_nodes, effect, se, mu_scale=mu_sd, **tau_kwargs)
    v = se**2 + tau_nodes[:, None] ** 2
    mu_var = 1 / (1 / mu_sd**2 + np.sum(1 / v, axis=1))
    mu_hat = mu_var * np.sum(effect / v, axis=1)
    p_given_tau = stats.norm.cdf(-mu_hat / np.sqrt(tau_nodes**2 + mu_var))
    return integrate.trapezoid(density * p_given_tau, tau_nodes) / integrate.trapezoid(
        density, tau_nodes
    )


FLAT_MU = 1e4
flat = hierarchical_normal(effect, se, mu_scale=FLAT_MU, labels=coords["school"])
flat_q = hierarchical_normal_tau_quantiles(effect, se, probs=PROBS, mu_scale=FLAT_MU)
prior_sensitivity.loc["HalfCauchy(5), flat mu"] = {
    "tau 3%": flat_q[0.03],
    "tau median": flat_q[0.5],
    "tau 97%": flat_q[0.97],
    "mu mean": flat.loc["mu", "mean"],
    "theta[A] mean": flat.loc["theta[A]", "mean"],
    "theta[A] sd": flat.loc["theta[A]", "sd"],
    "sd of the 8 means": flat["mean"][:8].std(ddof=1),
}
prior_sensitivity["mu sd"] = [
    *(
        hierarchical_normal(effect, se, tau_prior=a, tau_scale=b).loc["mu", "sd"]
        for a, b in TAU_PRIORS.values()
    ),
    flat.loc["mu", "sd"],
]
prior_sensitivity["P(theta_new < 0)"] = [
    *(p_new_below_zero(5.0, tau_prior=a, tau_scale=b) for a, b in TAU_PRIORS.values()),
    p_new_below_zero(FLAT_MU),
]
prior_sensitivity.round(2)

# %% tags=["slide", "slide-hide-input"]
tau_posteriors = {
    name: hierarchical_normal_tau_density(
        tau_grid, effect, se, tau_prior=tau_prior, tau_scale=tau_scale
    )
    for name, (tau_prior, tau_scale) in TAU_PRIORS.items()
}
fig, ax = plt.subplots()
for (name, density), color, style in zip(
    tau_posteriors.items(), MODEL_COLORS, ["-", "--", "-."], strict=False
):
    ax.plot(tau_grid, density, color=color, linestyle=style, linewidth=2, label=f"prior {name}")
ax.set(xlabel=r"$\tau$, between-school sd (SAT points)", ylabel="posterior density")
ax.set_title(r"Three priors on $\tau$, three posteriors (exact)")
legend = ax.legend(loc="upper right")

# %% tags=["check"]
assert all(np.argmax(density) == 0 for density in tau_posteriors.values())  # modes at 0
tau_rows = prior_sensitivity.loc[list(TAU_PRIORS)]
assert tau_rows["tau 97%"].idxmax() == "Uniform(0, 100)"
assert tau_rows["tau 97%"].idxmin() == "HalfNormal(5)"
assert tau_rows["theta[A] mean"].idxmax() == "Uniform(0, 100)"
assert tau_rows["sd of the 8 means"].idxmax() == "Uniform(0, 100)"
# The flat prior on mu moves mu and theta_new more than any of the priors on tau.
mu_shift = prior_sensitivity.loc["HalfCauchy(5), flat mu", "mu mean"] - tau_rows["mu mean"]
assert mu_shift.min() > 3 * np.ptp(tau_rows["mu mean"])
assert prior_sensitivity["P(theta_new < 0)"].idxmin() == "HalfCauchy(5), flat mu"
# The tau quantiles barely notice the prior on mu.
flat_row = prior_sensitivity.loc["HalfCauchy(5), flat mu"]
assert abs(flat_row["tau median"] - prior_sensitivity.loc["HalfCauchy(5)", "tau median"]) < 0.1

# %% [markdown]
# All three posteriors are highest at $\tau = 0$, but their tails differ, and so does the
# median of $\tau$: 2.75 and 2.78 under the two half priors, 5.15 under the uniform
# (table). The half-normal cuts the tail hardest (97% quantile 9.0 against 11.4 for the
# half-Cauchy). The uniform prior, flat out to 100, leaves the most room for large $\tau$
# (97% quantile 19.2), and so pools least: school A's posterior mean is 8.3 instead of 6.2,
# with a larger standard deviation (7.9 against 5.6), and the eight posterior means spread
# out twice as much (sd 2.11 against 1.00). Under the three priors on $\tau$ the average
# effect $\mu$ hardly changes (4.1 to 4.4).
#
# The prior on $\mu$ matters more. With a flat prior, the posterior mean of $\mu$ is 7.8
# instead of 4.4 (far more than any of the priors on $\tau$ moves it), its sd 4.5 instead of
# 3.3, and the chance that a new school's true effect is negative falls from 0.17 to 0.09
# (last row), about as far as the uniform prior on $\tau$ raises it. The
# $\mathrm{Normal}(0, 5)$ prior pulls $\mu$ toward 0 because the data
# alone know $\mu$ only to about $\pm 4$; the quantiles of $\tau$ barely notice.
#
# None of these priors is "the right one". They are different statements about how
# different coaching programmes can be and how large an average effect is plausible, and
# with eight schools the data cannot decide between them; the honest report states the
# priors and shows how much they matter. What all of them agree on: the schools' true
# effects are much closer together than their estimates, school A's effect is much smaller
# than 28, and the average effect is probably positive but uncertain, somewhere between
# about 4 and 8 points depending on the prior on $\mu$.
#
# Gelman (2006)'s warning about $\mathrm{InverseGamma}(\epsilon, \epsilon)$ on $\tau^2$ can be
# shown the same way, by quadrature: the marginal likelihood $p(y \mid \tau)$ computed above
# times the prior that $\tau^2 \sim \mathrm{InverseGamma}(\epsilon, \epsilon)$ implies for $\tau$,
# $p(\tau) = 2\tau\, p_{\mathrm{IG}}(\tau^2)$, on a logarithmic grid that resolves small $\tau$.

# %%
log_tau = np.linspace(np.log(1e-6), np.log(1e3), 4001)
loglik_log_grid = np.array([marginal_loglik(t, effect, se) for t in np.exp(log_tau)])
ig_rows = {}
for eps in (1.0, 0.01, 0.001):
    log_prior = np.log(2) + log_tau + stats.invgamma.logpdf(np.exp(2 * log_tau), eps, scale=eps)
    log_post = loglik_log_grid + log_prior + log_tau  # density in log tau: times d tau/d log tau
    weights = np.exp(log_post - log_post.max())
    cdf = np.cumsum(weights) / weights.sum()
    ig_rows[f"InverseGamma({eps:g}, {eps:g})"] = {
        f"tau {p:.0%}": float(np.exp(np.interp(p, cdf, log_tau))) for p in PROBS
    } | {"P(tau < 1)": float(np.interp(0.0, log_tau, cdf))}
inverse_gamma = pd.DataFrame(ig_rows).T
inverse_gamma.round(3)

# %% tags=["check"]
# Shrinking epsilon piles posterior mass onto small tau: the arbitrary choice decides.
assert inverse_gamma["tau 50%"].is_monotonic_decreasing
assert inverse_gamma["P(tau < 1)"].is_monotonic_increasing
assert inverse_gamma["tau 50%"].iloc[0] > 2 * inverse_gamma["tau 50%"].iloc[-1]

# %% [markdown]
# As $\epsilon$ shrinks toward the supposedly uninformative limit, the posterior median of
# $\tau$ falls and more and more mass sits below $\tau = 1$ (table): the prior's spike near
# zero, which the data cannot overrule because they do not rule out $\tau = 0$, decides the
# answer. In the limit $\epsilon \to 0$ the posterior is improper. This is why the course
# uses priors on $\tau$ itself.

# %% [markdown]
# ## Empirical Bayes: plugging in an estimate of $\tau$
#
# Partial pooling does not need a prior on $\tau$. *Empirical Bayes* estimates $\tau$ from
# the data, usually by maximising the marginal likelihood $p(y \mid \tau)$ computed above,
# and then treats it as known; mixed-model software (lme4 in R, statsmodels' `MixedLM`)
# does the same with (restricted) maximum likelihood. Given $\tau$, the posterior of every
# $\theta_j$ is normal in closed form (BDA3 eqs. 5.17–5.20):


# %%
def conditional_posterior(tau, y, sigma, mu_sd=5.0):
    """Posterior mean and sd of mu and of each theta_j given tau (mu ~ Normal(0, mu_sd))."""
    v = sigma**2 + tau**2  # Var(y_j | mu, tau)
    mu_var = 1 / (1 / mu_sd**2 + np.sum(1 / v))
    mu_hat = mu_var * np.sum(y / v)
    b = sigma**2 / v  # shrinkage factors B_j
    theta_mean = b * mu_hat + (1 - b) * y
    theta_sd = np.sqrt(b * tau**2 + b**2 * mu_var)
    return mu_hat, np.sqrt(mu_var), theta_mean, theta_sd


# %% [markdown]
# Where does the marginal likelihood peak? With the prior on $\mu$ (as in the function
# above) or with $\mu$ given a flat prior (restricted maximum likelihood), it *decreases*
# from $\tau = 0$ over the whole grid:


# %%
def restricted_loglik(tau):
    """log p(y | tau) up to a constant, with a flat prior on mu (restricted likelihood)."""
    v = se**2 + tau**2
    mu_hat = np.sum(effect / v) / np.sum(1 / v)
    return -0.5 * (np.sum(np.log(v)) + np.log(np.sum(1 / v)) + np.sum((effect - mu_hat) ** 2 / v))


restricted = np.array([restricted_loglik(t) for t in tau_grid])
assert np.all(np.diff(loglik) < 0) and np.all(np.diff(restricted) < 0)
tau_mml = tau_grid[np.argmax(loglik)]
print(f"maximum marginal likelihood estimate of tau: {tau_mml:.1f}")

# %% [markdown]
# The estimate is $\hat\tau = 0$: the spread of the estimates is smaller than their noise
# (the $\chi^2$ of 4.7 on 7 degrees of freedom), so the best-fitting $\tau$ is none at all.
# The posterior *mode* of $\tau$ is 0 as well, under each of the three priors above (all
# their densities are highest at 0). Plugging in $\hat\tau = 0$ is complete pooling: every
# school gets the same estimate, as if we knew that the programmes work identically. A less
# extreme plug-in, the posterior median of $\tau$ (2.75), still treats a very uncertain
# number as known. The table compares both with the full Bayesian answer, which averages
# over the posterior of $\tau$ instead of fixing it.

# %%
eb_rows = {}
plug_ins = [
    ("EB, tau = 0", tau_mml, 5.0),  # mu ~ Normal(0, 5), the lesson's prior
    ("EB, tau = 0, flat mu", tau_mml, np.inf),  # what REML software reports
    ("plug-in median", tau_exact_q[0.5], 5.0),
]
for label, tau_value, mu_sd in plug_ins:
    _, _, theta_mean, theta_sd = conditional_posterior(tau_value, effect, se, mu_sd=mu_sd)
    eb_rows[(label, "mean")], eb_rows[(label, "sd")] = theta_mean, theta_sd
eb_rows[("full Bayes", "mean")] = exact["mean"][:8].to_numpy()
eb_rows[("full Bayes", "sd")] = exact["sd"][:8].to_numpy()
plug_in = pd.DataFrame(eb_rows, index=pd.Index(coords["school"], name="school"))
assert (plug_in[("EB, tau = 0", "sd")] < plug_in[("plug-in median", "sd")]).all()
assert (plug_in[("plug-in median", "sd")] < plug_in[("full Bayes", "sd")]).all()
# With a flat prior on mu and tau = 0, every school gets the precision-weighted mean.
weighted_mean = np.sum(effect / se**2) / np.sum(1 / se**2)
assert np.allclose(plug_in[("EB, tau = 0, flat mu", "mean")], weighted_mean)
assert np.allclose(plug_in[("EB, tau = 0, flat mu", "sd")], np.sum(1 / se**2) ** -0.5)
plug_in.round(2)

# %% [markdown]
# The first two columns are both "empirical Bayes with $\hat\tau = 0$" and differ only in the
# prior on $\mu$. With the lesson's $\mathrm{Normal}(0, 5)$ every school gets 4.62 ± 3.16; with
# a flat prior on $\mu$, which is what restricted maximum likelihood software (lme4, metafor)
# assumes, every school gets the precision-weighted mean, 7.7 ± 4.1. A student who fits
# these data with such software gets $\hat\tau = 0$ and that second column.
#
# The plug-in standard deviations are too small for every school: 3.2 with $\hat\tau = 0$
# (4.1 with a flat prior on $\mu$) and about 4 with the median, against 4.7 to 5.6 for full
# Bayes. For school A the
# empirical Bayes interval is little more than half as wide as the Bayesian one. The
# reason is the law of total variance:
#
# $$
# \mathrm{Var}(\theta_j \mid y) =
# \mathrm{E}\big[\mathrm{Var}(\theta_j \mid \tau, y)\big] +
# \mathrm{Var}\big(\mathrm{E}[\theta_j \mid \tau, y]\big).
# $$
#
# A plug-in keeps (roughly) the first term and drops the second: how much the estimate of
# $\theta_j$ would move if $\tau$ were different. When the data determine $\tau$ well, the
# second term is small and empirical Bayes and full Bayes agree. That takes many groups
# *and* a $\tau$ that is not small compared with the groups' standard errors: Exercise 2
# shows that with these standard errors even 64 schools leave $\tau$ uncertain by a large
# factor. Here, with eight groups, it is far from determined. What the full Bayesian
# treatment adds to partial pooling is exactly this uncertainty about the hyperparameters.
# Averaging the conditional answers over the exact density of $\tau$ reproduces the full
# Bayesian one; the collapsed cell below checks it, a test of the formulas of
# `conditional_posterior`.

# %% tags=["check"]
check_moments = [conditional_posterior(t, effect, se) for t in tau_nodes]
cond_mean = np.array([c[2] for c in check_moments])
cond_sd = np.array([c[3] for c in check_moments])
mix_mean = integrate.trapezoid(tau_density[:, None] * cond_mean, tau_nodes, axis=0)
mix_second = integrate.trapezoid(
    tau_density[:, None] * (cond_sd**2 + cond_mean**2), tau_nodes, axis=0
)
mix_sd = np.sqrt(mix_second - mix_mean**2)
# The grid holds the probability mass to 1e-4 (asserted above), so averages of bounded
# conditional moments are accurate to about 1e-4 times their range; the helper to 1e-6 sds.
assert np.allclose(mix_mean, exact["mean"][:8], atol=1e-3)
assert np.allclose(mix_sd, exact["sd"][:8], atol=1e-3)

# %% [markdown]
# ## A new school
#
# A ninth school plans to run the same coaching programme. Its true effect is a new draw
# from the population, $\theta_{\text{new}} \sim \mathrm{Normal}(\mu, \tau)$, one for each
# posterior draw of $(\mu, \tau)$. If it runs an experiment of the usual size, with a
# standard error of 10 points, its *estimated* effect will be
# $y_{\text{new}} \sim \mathrm{Normal}(\theta_{\text{new}}, 10)$. The exact helper gives the
# mean and sd of $\theta_{\text{new}}$; that of $y_{\text{new}}$ follows from the law of
# total variance, $\mathrm{sd}(y_{\text{new}}) = \sqrt{\mathrm{sd}(\theta_{\text{new}})^2 +
# 10^2}$.

# %%
SE_NEW = 10.0
post = noncentered_idata.posterior
theta_new = post["mu"] + post["tau"] * rng.standard_normal(post["tau"].shape)
y_new = theta_new + SE_NEW * rng.standard_normal(post["tau"].shape)
new_school = az.convert_to_inference_data(xr.Dataset({"theta_new": theta_new, "y_new": y_new}))
new_exact = pd.DataFrame(
    {
        "mean": [exact.loc["theta_new", "mean"]] * 2,
        "sd": [exact.loc["theta_new", "sd"], np.hypot(exact.loc["theta_new", "sd"], SE_NEW)],
    },
    index=["theta_new", "y_new"],
)
new_comparison = compare_to_reference(new_school, new_exact)  # posterior means
new_summary = az.summary(new_school, round_to="none")
sd_z = (new_summary["sd"] - new_exact["sd"]) / new_summary["mcse_sd"]  # and sds
assert (sd_z.abs() < 4).all()
new_comparison.assign(mcmc_sd=new_summary["sd"], reference_sd=new_exact["sd"]).round(3)

# %% [markdown]
# Means and standard deviations agree with the exact values within Monte Carlo error (the
# table shows the $z$ of the means; the cell also checks the sds). The spread is what
# matters for the new school. Its probability of a negative effect has an exact value too,
# one more integral over $\tau$ (given $\tau$, $\theta_{\text{new}}$ is normal with mean
# $\hat\mu(\tau)$ and variance $\tau^2 + V_\mu(\tau)$, from `conditional_posterior`):

# %%
mu_given_tau = [conditional_posterior(t, effect, se)[:2] for t in tau_nodes]
mu_cond, mu_cond_sd = np.array(mu_given_tau).T  # E[mu | tau, y] and sd(mu | tau, y)
below_zero = (new_school.posterior < 0).astype(float)  # indicator draws
p_mcse = az.mcse(below_zero)
new_table = pd.DataFrame(
    {
        name: {
            "P(< 0), exact": integrate.trapezoid(
                tau_density
                * stats.norm.cdf(-mu_cond / np.sqrt(tau_nodes**2 + mu_cond_sd**2 + extra_var)),
                tau_nodes,
            ),
            "P(< 0), MCMC": float(below_zero[name].mean()),
            "mcse": float(p_mcse[name]),
        }
        for name, extra_var in [("theta_new", 0.0), ("y_new", SE_NEW**2)]
    }
).T
diff = new_table["P(< 0), MCMC"] - new_table["P(< 0), exact"]
assert (diff.abs() < 4 * new_table["mcse"]).all()
new_table.round(3)

# %% [markdown]
# The new school's true effect has a posterior mean of 4.4 points, like $\mu$, but a
# standard deviation of 5.9, much wider than that of $\mu$ (3.3, the `mu sd` column of the
# prior table): it adds the spread between schools, and our uncertainty about it. There is
# about a 17% chance that coaching does not help at all in the new school (9% with a flat
# prior on $\mu$, the last column of that table). And its experiment could easily
# disappoint: with a standard error of 10, the estimate it reports will be negative with
# probability of about 35%, even though the programme most likely helps a little. Eight
# schools taught us a lot about the *average* school and much less about any single one.

# %% [markdown]
# ## Posterior predictive check
#
# Does the model reproduce data like the eight estimates? We replicate the experiments:
# for each posterior draw, new estimates $y_j^{\text{rep}} \sim \mathrm{Normal}(\theta_j,
# \sigma_j)$ for the same schools.

# %%
with noncentered_model:
    pm.sample_posterior_predictive(
        noncentered_idata,
        var_names=["y"],
        extend_inferencedata=True,
        random_seed=rng,
        progressbar=False,
    )

# %%
ax = plot_ppc(noncentered_idata, kind="cumulative", num_pp_samples=100, random_seed=RANDOM_SEED)
ax.set(xlabel="estimated effect (SAT points)", ylabel="cumulative share of schools")
title = ax.set_title("Posterior predictive check: the eight estimates")

# %% [markdown]
# Each grey line is the cumulative distribution of one replicated set of eight estimates,
# the red line that of the observed set, and the dashed blue line that of all replications
# together. With only eight points a density plot would show mostly its own smoothing, so
# the cumulative form is clearer: the observed set runs inside the grey band, like a
# typical replication. Three summary statistics make the check numeric (posterior
# predictive p-values: the share of replications whose statistic exceeds the observed one;
# values near 0 or 1 would signal a misfit):

# %%
y_rep = noncentered_idata.posterior_predictive["y"].stack(sample=("chain", "draw")).to_numpy()
statistics = {"largest": np.max, "smallest": np.min, "sd": np.std}
ppc_table = pd.DataFrame(
    {
        name: {
            "observed": fn(effect),
            "p-value": np.mean(fn(y_rep, axis=0) > fn(effect)),
        }
        for name, fn in statistics.items()
    }
).T
assert ppc_table["p-value"].between(0.05, 0.95).all()
ppc_table.round(2)

# %% [markdown]
# No p-value is near 0 or 1 (all lie between 0.05 and 0.95): the largest estimate (A's
# 28), the smallest and the spread are all within what the model produces. In particular,
# school A is not an outlier that the model cannot explain: with a standard error of 15, an
# estimate of 28 for a school whose true effect is a few points is unremarkable.

# %% [markdown]
# ## Exercises
#
# Exercises 1-3 each end with a cell that checks your answer: run it once your answer is
# stored under the names the exercise gives. It tells you whether the answer is correct; if
# not, how far it is from the expected one, or which common mistake it looks like. For an
# MCMC answer it first asks whether your chains converged, then compares within the answer's
# Monte Carlo standard error: it is designed to fail a correct answer in fewer than one check
# in a thousand. Exercise 4 asks for an argument: it has no check.
#
# **Exercise 1 — a uniform prior, by MCMC.** Write the non-centered model with
# $\tau \sim \mathrm{Uniform}(0, 100)$ (`pm.Uniform("tau", lower=0, upper=100)`), fit it
# (with more draws than above: the flat prior leaves $\tau$ a long upper tail, and its 97%
# quantile needs them), check the fit, and compare its posterior means and the quantiles
# of $\tau$ with `hierarchical_normal(..., tau_prior="uniform", tau_scale=100)` and
# `hierarchical_normal_tau_quantiles(...)`. Does the MCMC fit reproduce the row of the prior
# sensitivity table? Call the fit `uniform_idata`.
#
# **Exercise 2 — more schools.** Suppose 16, 32 or 64 schools had reported effects with the
# same pattern (repeat the eight rows 2, 4 or 8 times). Compute the exact 3%, 50% and 97%
# quantiles of $\tau$ under the $\mathrm{HalfCauchy}(5)$ prior. Then do the same for the first
# three schools only, under the half-Cauchy and the uniform prior (Gelman 2006 analysed this
# three-school case). Store the quantiles in two tables, one row per case and one column per
# probability: `more_schools` (8, 16, 32 and 64 schools) and `three_schools` (half-Cauchy,
# then uniform). What do you conclude about the number of groups needed to learn $\tau$?
#
# **Exercise 3 — how wrong are the empirical Bayes intervals?** Simulate 2000 data sets of
# eight schools with the real standard errors from the model itself, with $\tau = 10$:
# $\mu \sim \mathrm{Normal}(0, 5)$, $\theta_j \sim \mathrm{Normal}(\mu, 10)$,
# $y_j \sim \mathrm{Normal}(\theta_j, \sigma_j)$. For each data set compute 94% intervals for
# every $\theta_j$ (a) with $\tau$ fixed at its maximum marginal likelihood estimate and (b)
# with $\tau$ fixed at its true value 10, using `conditional_posterior`. How often does each
# interval contain the true $\theta_j$? Store the number of data sets in `n_sims` and the
# mean coverage of (a) and (b) in `coverage_mml` and `coverage_true`.
#
# **Exercise 4 — exchangeability.** Suppose you learn that schools A and G, the two largest
# estimates, ran a programme twice as long as the others. Are the eight effects still
# exchangeable? How would you change the model? Is there a problem with choosing the
# covariate after looking at the estimates?

# %% tags=["solution"]
with pm.Model(coords=coords) as uniform_model:
    mu = pm.Normal("mu", mu=0, sigma=5)
    tau = pm.Uniform("tau", lower=0, upper=100)
    z = pm.Normal("z", mu=0, sigma=1, dims="school")
    theta = pm.Deterministic("theta", mu + tau * z, dims="school")
    pm.Normal("y", mu=theta, sigma=se, observed=effect, dims="school")
    uniform_idata = pm.sample(
        draws=2000,  # the flat prior leaves tau a long upper tail: more draws for its 97% quantile
        tune=800,
        chains=4,
        cores=CORES,
        target_accept=0.99,
        random_seed=rng,
        progressbar=False,
    )
print(check_sampling(uniform_idata, var_names=["mu", "tau", "theta", "z"]))

# %% tags=["solution"]
uniform_kwargs = {"tau_prior": "uniform", "tau_scale": 100.0}
uniform_exact = hierarchical_normal(effect, se, labels=coords["school"], **uniform_kwargs)
uniform_q = hierarchical_normal_tau_quantiles(effect, se, probs=PROBS, **uniform_kwargs)
uniform_tau = uniform_idata.posterior["tau"]
uniform_z = [
    (float(uniform_tau.quantile(p)) - uniform_q[p])
    / float(az.mcse(uniform_idata, var_names=["tau"], method="quantile", prob=p)["tau"])
    for p in PROBS
]
assert np.all(np.abs(uniform_z) < 4)
print("z of the tau quantiles:", ", ".join(f"{value:.2f}" for value in uniform_z))
compare_to_reference(uniform_idata, uniform_exact).round(3)

# %% tags=["answer-check"]
checks.uniform_prior_fit(uniform_idata, effect, se)

# %% [markdown] tags=["solution"]
# The fit passes its checks, and its means and quantiles agree with the exact answer within
# Monte Carlo error (`compare_to_reference` would have raised otherwise): MCMC reproduces the
# uniform-prior row of the table, with its wider posterior of $\tau$ and its weaker pooling.
# Only one line of the model changed. The exact helper makes the comparison possible; for a
# model without one, the check would be two independent runs (lesson 05).

# %% tags=["solution"]
more_schools = pd.DataFrame(
    {
        f"{8 * k} schools": hierarchical_normal_tau_quantiles(
            np.tile(effect, k), np.tile(se, k), probs=PROBS
        )
        for k in (1, 2, 4, 8)
    }
).T
three_schools = pd.DataFrame(
    {
        f"3 schools, {name}": hierarchical_normal_tau_quantiles(
            effect[:3], se[:3], probs=PROBS, tau_prior=prior, tau_scale=scale
        )
        for name, (prior, scale) in TAU_PRIORS.items()
        if prior != "half_normal"
    }
).T
assert more_schools[0.97].is_monotonic_decreasing
assert (
    three_schools.loc["3 schools, Uniform(0, 100)", 0.97] > 3 * more_schools.loc["8 schools", 0.97]
)
pd.concat([three_schools, more_schools]).round(2)

# %% tags=["answer-check"]
checks.tau_quantile_tables(more_schools, three_schools, effect, se)

# %% [markdown] tags=["solution"]
# With the pattern of the eight schools repeated, the posterior of $\tau$ concentrates
# towards 0 as the schools multiply: the 97% quantile falls from 11.4 (8 schools) to 4.3
# (64 schools). Even 64 groups leave $\tau$ uncertain by a factor of many between its 3% and
# 97% quantiles, because each school's information about $\tau$ is weak when $\tau$ is
# small compared with the standard errors. With three schools the data say almost nothing,
# and the prior decides: under $\mathrm{Uniform}(0, 100)$ the 97% quantile of $\tau$ is
# about 69, pushed out by the upper bound of the prior, against 22 under the half-Cauchy.
# This is Gelman's (2006) point: with few groups, a flat prior on $\tau$ lets implausibly
# large values in, and a weakly informative half-Cauchy is the better choice.


# %% tags=["solution"]
def marginal_loglik_many(y_sets, sigma, taus, mu_sd=5.0):
    """log p(y | tau) for many data sets (rows of y_sets) at once, on a grid of tau."""
    v = sigma**2 + taus[:, None] ** 2  # (tau, school)
    mu_var = 1 / (1 / mu_sd**2 + np.sum(1 / v, axis=1))  # Var(mu | tau, y)
    mu_hat = mu_var * (y_sets @ (1 / v).T)  # E[mu | tau, y], one row per data set
    quad_form = (y_sets**2) @ (1 / v).T - mu_hat**2 / mu_var
    log_det = np.sum(np.log(v), axis=1) + np.log(mu_sd**2 / mu_var)
    return -0.5 * (quad_form + log_det + len(sigma) * np.log(2 * np.pi))


# The closed form agrees with the multivariate normal density on the real data.
assert np.allclose(marginal_loglik_many(effect[None, :], se, tau_grid)[0], loglik)

# %% tags=["solution"]
n_sims, tau_true = 2000, 10.0
mu_sim = rng.normal(0.0, 5.0, size=n_sims)
theta_sim = rng.normal(mu_sim[:, None], tau_true, size=(n_sims, n_school))
y_sim = rng.normal(theta_sim, se)
mml_grid = np.linspace(0, 100, 1001)
tau_hat = mml_grid[np.argmax(marginal_loglik_many(y_sim, se, mml_grid), axis=1)]
z_97 = stats.norm.ppf(0.97)
coverage = {"tau = MML estimate": [], "tau = true value": []}
for y_one, theta_one, tau_one in zip(y_sim, theta_sim, tau_hat, strict=True):
    for key, tau_value in [("tau = MML estimate", tau_one), ("tau = true value", tau_true)]:
        _, _, mean, sd = conditional_posterior(tau_value, y_one, se)
        coverage[key].append(np.mean(np.abs(theta_one - mean) < z_97 * sd))
coverage = pd.DataFrame(coverage)  # share of the 8 intervals that cover, per data set
eb_summary = pd.DataFrame({"coverage": coverage.mean(), "mcse": coverage.std() / np.sqrt(n_sims)})
oracle, plug = eb_summary.loc["tau = true value"], eb_summary.loc["tau = MML estimate"]
coverage_true, coverage_mml = oracle["coverage"], plug["coverage"]
assert abs(oracle["coverage"] - 0.94) < 4 * oracle["mcse"]
assert plug["coverage"] < 0.94 - 10 * plug["mcse"]
assert 0.75 < plug["coverage"] < 0.87 and 0.15 < np.mean(tau_hat == 0) < 0.3  # the prose
print(f"data sets with tau_hat = 0: {np.mean(tau_hat == 0):.0%}")
eb_summary.round(3)

# %% tags=["answer-check"]
checks.coverage(coverage_true, coverage_mml, n_sims, se)

# %% [markdown] tags=["solution"]
# With the true $\tau$ plugged in, the intervals contain the true effect 94% of the time,
# as they must: averaged over data simulated from the model itself, the posterior intervals
# given the right $\tau$ have exactly their nominal coverage. With the estimate plugged in,
# coverage drops to about 80%. In about one data set in five (printed) the marginal
# likelihood peaks at exactly $\hat\tau = 0$, although the true $\tau$ is 10 points; then
# the intervals shrink to those of complete pooling, and schools whose effects really differ
# fall outside them. That is the cost of treating $\hat\tau$ as known.

# %% [markdown] tags=["solution"]
# No: once we know that A and G ran a longer programme, our information distinguishes them
# from the others, and we would no longer expect their effects to be like those of the
# other six. The effects are still exchangeable *within* each programme type (conditional
# exchangeability), so the model should carry the covariate at the school level:
#
# $$
# \theta_j \sim \mathrm{Normal}(\mu + \beta\, \mathrm{long}_j, \tau), \qquad
# \beta \sim \mathrm{Normal}(0, 5),
# $$
#
# with $\mathrm{long}_j = 1$ for A and G and 0 otherwise (lesson 08 builds such a group-level
# regression on the radon data). But choosing a covariate *because* it separates the two
# largest estimates is a garden of forking paths: with eight noisy numbers, some feature will
# always line up with the largest ones. A covariate should come from how the programmes were
# run, decided before looking at the effects.

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - **Meta-analysis** is a hierarchical model with known standard errors:
#   $y_j \sim \mathrm{Normal}(\theta_j, \sigma_j)$, $\theta_j \sim \mathrm{Normal}(\mu, \tau)$.
# - Complete pooling and no pooling are the limits $\tau \to 0$ and $\tau \to \infty$; the
#   posterior of $\tau$ decides between them. At $\tau = 0$ every $\theta_j$ equals $\mu$,
#   whose posterior is the precision-weighted mean (7.7 ± 4.1) only under a flat prior on
#   $\mu$; under this lesson's $\mathrm{Normal}(0, 5)$ prior it is 4.62 ± 3.16 (column
#   `EB, tau = 0`).
# - **Eight groups say little about $\tau$**: its posterior is wide, and the prior on $\tau$
#   visibly changes the shrinkage. State it and show its effect.
# - The **centered** form diverges even on eight numbers; the **non-centered** form samples
#   the same model cleanly, and both can be checked against the exact posterior.
# - **Empirical Bayes** plugs in $\hat\tau$ (here 0) and loses the uncertainty about it:
#   its intervals are too narrow.
# - A **new school** inherits the uncertainty about $\mu$ and the spread $\tau$.

# %% [markdown]
# ## References
#
# - Rubin, D. B. (1981). Estimation in parallel randomized experiments. *Journal of
#   Educational Statistics* 6(4), 377–401. The eight experiments and their analysis.
# - Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B.
#   (2013). *Bayesian Data Analysis*, 3rd ed. CRC Press. Section 5.4 (the normal model with
#   known variances, the conditional posteriors used in `conditional_posterior`), section 5.5
#   (the eight schools, table 5.2, the argument against both extremes).
# - Gelman, A. (2006). Prior distributions for variance parameters in hierarchical models.
#   *Bayesian Analysis* 1(3), 515–534. The priors on $\tau$, and the three-school example of
#   Exercise 2.
# - Kass, R. E. and Raftery, A. E. (1995). Bayes factors. *Journal of the American
#   Statistical Association* 90(430), 773–795. The scale for the evidence in a likelihood
#   ratio (section 3.2).
# - Betancourt, M. (2017). Diagnosing biased inference with divergences. Stan case study
#   (mc-stan.org/users/documentation/case-studies). The priors of the main fit, and the
#   centered and non-centered forms.
# - Gelman, A. and Hill, J. (2007). *Data Analysis Using Regression and
#   Multilevel/Hierarchical Models*. Cambridge University Press. Multilevel models and
#   their relation to classical random-effects estimates (chapters 11–12).
# - Martin, O. A. (2024). *Bayesian Analysis with Python*, 3rd ed. Packt. Hierarchical
#   models in PyMC (chapter 4).
# - McElreath, R. (2020). *Statistical Rethinking*, 2nd ed. CRC Press. Partial pooling and
#   non-centered parameterisations (chapters 13–14).

# %% [markdown]
# ## Versions

# %%
print(versions())
