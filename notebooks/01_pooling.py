# %% [markdown]
# # 01 · Pooling: complete, none, or partial
#
# Most data sets have groups: students in schools, patients in hospitals, several measurements
# of the same person. How much should the estimate for one group borrow from the others?
# This lesson answers that question with three models of the same data and shows why the
# hierarchical answer, *partial pooling*, is usually the best of the three.
#
# **Learning goals.** After this notebook you can
#
# 1. recognise hierarchical (multilevel, nested) data and say at which level each quantity
#    lives;
# 2. write the posterior of a hierarchical model as likelihood × prior × hyperprior and say
#    what each factor does;
# 3. fit complete-pooling, no-pooling and partial-pooling models in PyMC and compare them;
# 4. explain *shrinkage*: why small groups far from the average move the most;
# 5. explain why a group with a single observation cannot have its own mean *and* its own
#    spread estimated from its data alone.

# %% [markdown]
# ## Hierarchies are everywhere
#
# Data are *hierarchical* when the observations come in groups, and the groups are
# themselves a sample from a larger population:
#
# - students (observations) in schools (groups) — schools from a country;
# - patients in hospitals — hospitals from a health system;
# - repeated measurements (observations) of the same person, machine or field plot (groups).
#
# ```text
#                         population            μ, τ   (how groups vary)
#                /       /     |      \      \
#         school 1  school 2  ...  school J-1  school J    θ_j   (one mean per group)
#          / | \       |            /  \        |
#       y_11 y_12 y_13 y_21    y_J-1,1 y_J-1,2  y_J1      y_ij  (one score per student)
# ```
#
# Models for such data go by many names: **hierarchical**, **multilevel**, **nested**,
# **mixed-effects** or **random-effects** models. They are the same idea: the group
# parameters $\theta_j$ are not unrelated constants but draws from a common population
# distribution whose parameters are learned from all the groups together.
#
# There are three ways to treat the groups, and this lesson fits all three:
#
# | model | assumption | group estimate |
# |---|---|---|
# | complete pooling | all groups are the same | one mean for everybody |
# | no pooling | groups have nothing in common | each group on its own |
# | partial pooling | groups differ, but are alike | a compromise, learned from the data |

# %% [markdown]
# ## Priors with uncertain parameters: hyperpriors
#
# In a non-hierarchical model, Bayes' rule reads
# $p(\theta \mid y) \propto p(y \mid \theta)\, p(\theta)$, and the prior $p(\theta)$ is fixed
# by us. In a hierarchical model we do not know the prior of the group parameters well
# enough to fix it: we know that the groups are alike, not *how* alike. So the prior gets
# parameters $a$ of its own, which are unknown and get a prior too, with fixed parameters $b$:
#
# $$
# p(\theta, a \mid y) \;\propto\;
# \underbrace{p(y \mid \theta)}_{\text{likelihood}}\;
# \underbrace{p(\theta \mid a)}_{\text{prior (population)}}\;
# \underbrace{p(a \mid b)}_{\text{hyperprior}} .
# $$
#
# - **Likelihood** $p(y \mid \theta)$: how the observations arise given the group
#   parameters $\theta = (\theta_1, \dots, \theta_J)$. It does not involve $a$: once the
#   group means are known, the population says nothing more about the data.
# - **Prior** $p(\theta \mid a)$: the population distribution the group parameters are drawn
#   from. Its parameters $a$ (here a mean $\mu$ and a spread $\tau$) are *uncertain*; this is
#   the factor that ties the groups together, because all $\theta_j$ share the same $a$.
# - **Hyperprior** $p(a \mid b)$: our prior belief about the population parameters, with
#   fixed numbers $b$ that we choose (here 50, 20 and 10).
#
# The posterior of the group parameters alone is the joint posterior with $a$ integrated
# out, $p(\theta \mid y) = \int p(\theta, a \mid y)\, \mathrm{d}a$, which MCMC does for free:
# we simply look at the draws of $\theta$ and ignore those of $a$.

# %%
import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
from scipy import stats

from course_utils.diagnostics import check_sampling
from course_utils.plots import (
    model_graph,
    plot_forest_comparison,
    plot_shrinkage,
    use_course_style,
)
from course_utils.simulate import simulate_grouped_measurements

# %%
RANDOM_SEED = 2024
rng = np.random.default_rng(RANDOM_SEED)
use_course_style()

# %% [markdown] tags=["slide"]
# ## The question
#
# Eight schools, a handful of tested students each; two schools sent a single student.
#
# - What is the average score of each school?
# - One student from school G1 scored about 70. Is G1 the best school, or was that student
#   lucky?

# %% [markdown]
# ## Data: a few test scores per school
#
# The data are simulated, so that we know the right answers. Each school $j$ has a true
# mean score $\theta_j \sim \mathrm{Normal}(50, 5)$ (second argument: standard deviation,
# as in PyMC), and each student's score is $y_{ij} \sim \mathrm{Normal}(\theta_j, 8)$. The
# schools sent between 1 and 20 students. The column `theta_true` holds the true school
# means: a real analysis never sees it; we keep it to grade the three models at the end.

# %%
N_PER_GROUP = (1, 1, 2, 3, 5, 8, 12, 20)
df = simulate_grouped_measurements(rng, n_per_group=N_PER_GROUP, mu=50.0, tau=5.0, sigma=8.0)
df.head()

# %% [markdown]
# Per school: the number of students, their mean and standard deviation, and the true mean.

# %%
group_table = df.groupby("group", observed=True).agg(
    n=("y", "size"),
    mean=("y", "mean"),
    sd=("y", "std"),
    theta_true=("theta_true", "first"),
)
group_table.round(1)

# %% [markdown]
# Two things to notice. The standard deviation of G1 and G2 is missing (`NaN`): one number
# has no spread, so these schools alone cannot tell us how variable scores are. And the
# highest mean belongs to a school with a single student:

# %%
top_school = group_table["mean"].idxmax()
assert top_school == "G1" and group_table.loc[top_school, "n"] == 1
distance = (group_table["mean"] - df["y"].mean()).abs()  # school mean vs mean of all scores
assert distance.idxmax() == top_school and distance[group_table["n"] >= 8].max() < 5
print(
    f"highest mean: {top_school}, {group_table.loc[top_school, 'mean']:.1f} "
    f"from {group_table.loc[top_school, 'n']} student; "
    f"mean of all {len(df)} scores: {df['y'].mean():.1f}"
)

# %% tags=["slide", "slide-hide-input"]
fig, ax = plt.subplots()
ax.scatter(df["group_idx"], df["y"], color="C1", alpha=0.7, label="student score")
ax.scatter(
    np.arange(len(group_table)),
    group_table["mean"],
    marker="_",
    s=900,
    color="C0",
    linewidths=3,
    label="school mean",
)
ax.axhline(df["y"].mean(), color="C4", linestyle="--", linewidth=1.5, label="mean of all")
ax.set_xticks(np.arange(len(group_table)), [f"{g}\nn={n}" for g, n in group_table["n"].items()])
ax.set_xlabel("school (number of students)")
ax.set_ylabel("test score")
ax.set_title("Test scores by school")
legend = ax.legend(loc="lower left")

# %% [markdown]
# The most extreme school mean belongs to a single-student school, while the three largest
# schools sit within a few points of the overall mean (dashed line): the mean of a few noisy
# scores scatters far more than the mean of many.
#
# For the models we need the data as arrays, plus the school names as the `group`
# dimension so that summaries show `theta[G1]` rather than `theta[0]`.

# %%
group_idx = df["group_idx"].to_numpy()
y = df["y"].to_numpy()
coords = {"group": df["group"].cat.categories.tolist()}
n_group = len(coords["group"])

# %% [markdown]
# ## Model 1: complete pooling
#
# Ignore the schools: every score comes from one distribution with mean $\mu$.
#
# $$
# \begin{aligned}
# y_{ij} &\sim \mathrm{Normal}(\mu, \sigma) \\
# \mu &\sim \mathrm{Normal}(50, 20) \\
# \sigma &\sim \mathrm{HalfNormal}(10)
# \end{aligned}
# $$
#
# Scores are on a 0–100 scale, so $\mathrm{Normal}(50, 20)$ keeps 95% of the prior mass of
# $\mu$ between 10 and 90; $\mathrm{HalfNormal}(10)$ lets the spread of scores be anything
# from a few points to about 25. The implied estimate of every school is $\mu$; we record it
# per school as `theta` (a deterministic copy, which changes nothing in the model) so that
# the three models can be compared school by school.

# %%
with pm.Model(coords=coords) as pooled_model:
    mu = pm.Normal("mu", mu=50, sigma=20)
    sigma = pm.HalfNormal("sigma", sigma=10)
    theta = pm.Deterministic("theta", mu * np.ones(n_group), dims="group")
    pm.Normal("y", mu=mu, sigma=sigma, observed=y)

# %% tags=["nbval-ignore-output"]
model_graph(pooled_model)

# %% [markdown]
# `pm.sample` runs NUTS: `tune` warm-up iterations per chain, in which the sampler adapts its
# step size and the scale of each parameter (and which are then discarded), followed by
# `draws` kept draws. Four `chains` start from different points, so that we can check they
# agree. `cores=4` runs the chains in parallel processes; on a machine with fewer cores they
# share the cores you have. The draws do not depend on it: every chain gets its own seed from
# `random_seed`, so the results are the same with one core or eight.

# %%
with pooled_model:
    pooled_idata = pm.sample(
        draws=1000, tune=1000, chains=4, cores=4, random_seed=rng, progressbar=False
    )

# %%
print(check_sampling(pooled_idata, var_names=["mu", "sigma"]))
az.summary(pooled_idata, var_names=["mu", "sigma"], kind="stats").round(2)

# %% [markdown]
# The sampler passed all checks (no divergences, $\hat R \le 1.01$, at least 400 effective
# draws). Complete pooling estimates one mean for all schools, close to the mean of all
# scores, with a small uncertainty because it uses every score. That certainty is
# misplaced if the schools really differ: $\sigma$ then absorbs the differences between
# schools as if they were noise.

# %% [markdown]
# ## Model 2: no pooling
#
# Give each school its own mean, with independent priors, so that no school learns anything
# from another:
#
# $$
# \begin{aligned}
# y_{ij} &\sim \mathrm{Normal}(\theta_j, \sigma) \\
# \theta_j &\sim \mathrm{Normal}(50, 20), \qquad j = 1, \dots, 8 \\
# \sigma &\sim \mathrm{HalfNormal}(10)
# \end{aligned}
# $$
#
# The spread $\sigma$ of scores within a school is shared by all schools. A separate
# $\sigma_j$ per school would be the "purest" no-pooling model, but it cannot be estimated
# for G1 and G2, which have one score each; we show why below.

# %%
with pm.Model(coords=coords) as unpooled_model:
    theta = pm.Normal("theta", mu=50, sigma=20, dims="group")
    sigma = pm.HalfNormal("sigma", sigma=10)
    pm.Normal("y", mu=theta[group_idx], sigma=sigma, observed=y)

# %% tags=["nbval-ignore-output"]
model_graph(unpooled_model)

# %%
with unpooled_model:
    unpooled_idata = pm.sample(
        draws=1000, tune=1000, chains=4, cores=4, random_seed=rng, progressbar=False
    )

# %%
print(check_sampling(unpooled_idata, var_names=["theta", "sigma"]))
unpooled_summary = az.summary(unpooled_idata, var_names=["theta", "sigma"], kind="stats")
unpooled_summary.round(2)

# %% [markdown]
# Each $\theta_j$ sits near its school's own mean, and its uncertainty shrinks with the
# number of students, roughly as $\sigma / \sqrt{n_j}$. The spread $\sigma$ of scores is
# now smaller than under complete pooling: part of what complete pooling called noise was
# in fact the difference between schools.

# %%
sigma_means = {
    "complete pooling": pooled_idata.posterior["sigma"].mean().item(),
    "no pooling": unpooled_idata.posterior["sigma"].mean().item(),
}
assert sigma_means["no pooling"] < sigma_means["complete pooling"]
print({model: round(value, 2) for model, value in sigma_means.items()})

# %% [markdown]
# ### One observation, one parameter: the estimate is the observation (or the prior)
#
# For a school with a single score, what does the no-pooling model actually know? With
# $\sigma$ held fixed, the posterior of $\theta_j$ is normal, and its mean is a
# precision-weighted average of the school's mean $\bar y_j$ and the prior mean:
#
# $$
# \mathbb{E}[\theta_j \mid y] = w_j\, \bar y_j + (1 - w_j)\cdot 50,
# \qquad
# w_j = \frac{n_j / \sigma^2}{n_j / \sigma^2 + 1 / s_0^2},
# \qquad
# \mathrm{sd}[\theta_j \mid y] = \left(\frac{n_j}{\sigma^2} + \frac{1}{s_0^2}\right)^{-1/2},
# $$
#
# where $s_0 = 20$ is the prior standard deviation. We compute it for the smallest and the
# largest school, with $\sigma$ at its posterior mean, for several values of $s_0$.


# %%
def normal_update(ybar, n, sigma, prior_mean, prior_sd):
    """Posterior mean and sd of a normal mean with known sigma and a normal prior."""
    precision = n / sigma**2 + 1 / prior_sd**2
    mean = (n * ybar / sigma**2 + prior_mean / prior_sd**2) / precision
    return mean, np.sqrt(1 / precision)


# %%
sigma_hat = unpooled_summary.loc["sigma", "mean"]
rows = []
for school in ["G1", "G8"]:
    n, ybar = group_table.loc[school, ["n", "mean"]]
    for prior_sd in [5, 10, 20, 100]:
        mean, sd = normal_update(ybar, n, sigma_hat, prior_mean=50, prior_sd=prior_sd)
        rows.append(
            {
                "school": school,
                "n": n,
                "mean of scores": ybar,
                "prior sd": prior_sd,
                "posterior mean": mean,
                "posterior sd": sd,
            }
        )
prior_sensitivity = pd.DataFrame(rows).set_index(["school", "prior sd"])
prior_sensitivity.round(1)

# %% [markdown]
# Read the table for G1. With a vague prior ($s_0 = 100$) the estimate is the single score
# itself, with an uncertainty equal to the noise of one score, $\sigma$. With a tighter
# prior the estimate moves towards 50 — by as much as we decide when we choose $s_0$, since
# one score cannot tell whether it is typical. For G8, 20 scores overwhelm any of these
# priors. The MCMC fit agrees with the formula for the prior we used ($s_0 = 20$):

# %%
check = pd.DataFrame(
    {
        "MCMC": unpooled_summary.loc[["theta[G1]", "theta[G8]"], "mean"].to_numpy(),
        "formula": prior_sensitivity.xs(20, level="prior sd")["posterior mean"].to_numpy(),
    },
    index=["theta[G1]", "theta[G8]"],
)
assert np.allclose(check["MCMC"], check["formula"], atol=0.5)
check.round(2)

# %% [markdown]
# So for single-score schools "no pooling" is not an estimate learned from data: it is the
# observation, blurred by $\sigma$ and dragged by a prior mean and width that we picked.
# The hierarchical model will replace that arbitrary choice with a prior *learned from the
# other schools*.
#
# ### A per-school spread $\sigma_j$ from one score is unidentified
#
# Now suppose each school had its own spread $\sigma_j$. For G1 the data are one number
# $y_{11}$ and the likelihood is $\mathrm{Normal}(y_{11} \mid \theta_1, \sigma_1)$. Setting
# $\theta_1 = y_{11}$ and letting $\sigma_1 \to 0$ makes it grow without bound: the best
# fit is "this school has no noise at all". With 20 scores, as in G8, the likelihood has a
# clear peak instead. We draw the *profile* log-likelihood of $\sigma_j$ (its maximum over
# $\theta_j$) for both schools.


# %%
def profile_loglik(scores, sigma_grid):
    """Log-likelihood of sigma at the best theta (the sample mean), on a grid of sigma."""
    scores = np.asarray(scores)
    ss = np.sum((scores - scores.mean()) ** 2)
    return -scores.size * np.log(sigma_grid) - ss / (2 * sigma_grid**2)


sigma_grid = np.linspace(0.2, 30, 300)
scores_by_school = {g: df.loc[df["group"] == g, "y"] for g in ["G1", "G8"]}

# %%
fig, axs = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True)
for ax, (school, scores) in zip(axs, scores_by_school.items(), strict=True):
    ax.plot(sigma_grid, profile_loglik(scores, sigma_grid), color="C0")
    ax.set_title(f"{school}: {len(scores)} score(s)")
    ax.set_xlabel(r"$\sigma_j$ (within-school sd)")
axs[0].set_ylabel("profile log-likelihood\n(up to a constant)")
fig.suptitle(r"What the data say about a per-school $\sigma_j$")
g8_curve = profile_loglik(scores_by_school["G8"], sigma_grid)
axs[1].set_ylim(g8_curve.max() - 40, g8_curve.max() + 5)
line = axs[1].axvline(np.std(scores_by_school["G8"]), color="C4", linestyle="--", linewidth=1.5)

# %% [markdown]
# Left, one score: the curve climbs forever as $\sigma_1 \to 0$, so maximum likelihood
# answers "zero noise", which is absurd. Right, twenty scores: a clear peak at the sample
# standard deviation (dashed line).
#
# A Bayesian prior on $\sigma_1$ prevents the absurd answer, but it does not create
# information. Averaging $\theta_1$ over its $\mathrm{Normal}(50, 20)$ prior gives the
# likelihood of $\sigma_1$ alone, $p(y_{11} \mid \sigma_1) =
# \mathrm{Normal}\big(y_{11} \mid 50, \sqrt{\sigma_1^2 + 20^2}\big)$, and that is almost
# flat in $\sigma_1$:

# %%
y_g1 = scores_by_school["G1"].iloc[0]
marginal_lik = stats.norm.pdf(y_g1, loc=50, scale=np.sqrt(sigma_grid**2 + 20**2))
ratio = marginal_lik.max() / marginal_lik.min()
print(f"p(y_11 | sigma_1) varies by a factor of {ratio:.2f} over sigma_1 in [0.2, 30]")

# %% [markdown]
# Over the whole plausible range of $\sigma_1$ the single score changes the prior's relative
# weights by at most this small factor: the posterior of $\sigma_1$ is essentially its
# prior. The parameter is *unidentified* by the data. This is why the no-pooling model above
# shares one $\sigma$ across schools — which is already a little pooling, on the spread.

# %% [markdown] tags=["slide"]
# ## Model 3: partial pooling (hierarchical)
#
# $$
# \begin{aligned}
# y_{ij} &\sim \mathrm{Normal}(\theta_j, \sigma)
#   && \text{likelihood} \\
# \theta_j &\sim \mathrm{Normal}(\mu, \tau), \quad j = 1, \dots, 8
#   && \text{population prior} \\
# \mu &\sim \mathrm{Normal}(50, 20), \quad \tau \sim \mathrm{HalfNormal}(10)
#   && \text{hyperpriors} \\
# \sigma &\sim \mathrm{HalfNormal}(10)
# \end{aligned}
# $$
#
# $\tau \to 0$: complete pooling. $\tau \to \infty$: no pooling. The data choose $\tau$.

# %% [markdown]
# In the notation of the factorisation above, $\theta = (\theta_1, \dots, \theta_8)$, the
# uncertain prior parameters are $a = (\mu, \tau)$, and $b = (50, 20, 10)$ are the fixed
# numbers of the hyperpriors. The between-school spread $\tau$ is the new ingredient: it
# measures how different schools are, and it is estimated from how much the school means
# vary beyond what the noise $\sigma$ explains. Each $\theta_j$ then gets a prior
# $\mathrm{Normal}(\mu, \tau)$ that was learned from the other schools, instead of the
# arbitrary $\mathrm{Normal}(50, 20)$ of the no-pooling model.
#
# **Non-centered parameterisation.** Written as above ("centered"), the posterior has an
# awkward shape: when $\tau$ is small all $\theta_j$ must crowd around $\mu$, when $\tau$ is
# large they can spread out, so the region the sampler must explore is a *funnel*, narrow
# at small $\tau$ and wide at large $\tau$. NUTS uses one step size for the whole funnel;
# steps that suit the wide part are too large for the neck, and the sampler reports them as
# *divergent transitions*, a sign that part of the posterior was not explored. The cure is
# to sample standardised deviations $z_j$ and build $\theta_j$ from them:
#
# $$
# z_j \sim \mathrm{Normal}(0, 1), \qquad \theta_j = \mu + \tau z_j .
# $$
#
# This is the *same model* ($\theta_j$ still has the prior $\mathrm{Normal}(\mu, \tau)$), but
# a priori the $z_j$ do not depend on $\tau$, which removes the funnel from what the sampler
# sees. Groups with many observations pull the other way (their $\theta_j$ is pinned by the
# data, so $z_j$ and $\tau$ become coupled), and our schools range from 1 to 20 students.
# We therefore also ask NUTS for smaller steps (`target_accept=0.95` instead of 0.8). Exercise
# 4 fits the centered version so that you can see its divergences.

# %%
with pm.Model(coords=coords) as hierarchical_model:
    mu = pm.Normal("mu", mu=50, sigma=20)
    tau = pm.HalfNormal("tau", sigma=10)
    z = pm.Normal("z", mu=0, sigma=1, dims="group")
    theta = pm.Deterministic("theta", mu + tau * z, dims="group")
    sigma = pm.HalfNormal("sigma", sigma=10)
    pm.Normal("y", mu=theta[group_idx], sigma=sigma, observed=y)

# %% tags=["nbval-ignore-output"]
model_graph(hierarchical_model)

# %% [markdown]
# ### Prior predictive check
#
# Before fitting, we simulate scores from the priors alone, to check that the model
# considers realistic scores plausible and unrealistic ones rare.

# %%
with hierarchical_model:
    hierarchical_prior_idata = pm.sample_prior_predictive(draws=500, random_seed=rng)

# %%
prior_scores = hierarchical_prior_idata.prior_predictive["y"].to_numpy().ravel()
share_in_range = np.mean((prior_scores >= 0) & (prior_scores <= 100))
low, high = np.quantile(prior_scores, [0.03, 0.97])
print(f"share of simulated scores in [0, 100]: {share_in_range:.1%}")
print(f"94% of simulated scores between {low:.0f} and {high:.0f}")

# %%
prior_school_sd = hierarchical_prior_idata.prior["theta"].std("group").to_numpy().ravel()
sd_low, sd_high = np.quantile(prior_school_sd, [0.03, 0.97])
print(f"94% of prior draws: sd of the 8 school means between {sd_low:.1f} and {sd_high:.1f}")

# %%
fig, ax = plt.subplots()
ax.hist(prior_scores, bins=60, density=True, color="C2", label="simulated from the priors")
ax.hist(y, bins=12, density=True, histtype="step", color="C0", linewidth=2, label="observed")
for bound in (0, 100):
    ax.axvline(bound, color="C4", linestyle="--", linewidth=1.5)
ax.set(title="Prior predictive check: test scores", xlabel="test score", ylabel="density")
legend = ax.legend(loc="upper left")

# %% [markdown]
# The grey histogram pools all scores simulated from the priors; the black outline is the
# observed scores, and the dashed lines mark the 0–100 scale. Almost all simulated scores
# stay on the scale (the share printed above), and the observed ones sit well inside the
# simulated range. The priors also allow anything from nearly identical schools to schools
# whose means differ by tens of points (the spread of school means printed above): wide
# enough to let the data speak, not so wide that they expect impossible scores.

# %%
with hierarchical_model:
    hierarchical_idata = pm.sample(
        draws=1000,
        tune=1000,
        chains=4,
        cores=4,
        target_accept=0.95,
        random_seed=rng,
        progressbar=False,
    )

# %%
print(check_sampling(hierarchical_idata, var_names=["mu", "tau", "sigma", "theta"]))
hierarchical_summary = az.summary(
    hierarchical_idata, var_names=["mu", "tau", "sigma", "theta"], kind="stats"
)
hierarchical_summary.round(2)

# %% [markdown]
# The checks pass. The posterior of $\tau$ is wide (see its HDI): eight schools carry only
# limited information about how different schools are, and the hierarchical model
# propagates that uncertainty into every $\theta_j$.

# %% [markdown]
# ## Comparing the three models
#
# ### Forest plot
#
# The three estimates of every school side by side (dot: posterior median, thick line: 50%
# interval, thin line: 94% HDI). Crosses mark the true school means, which only a
# simulation lets us see; the dashed line is the complete-pooling mean.


# %%
def add_true_values(ax, truth):
    """Mark true group values on a forest plot whose rows read theta[G1], [G2], ..."""
    rows = {
        label.get_text().split("[")[-1].rstrip("]"): y_pos
        for y_pos, label in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)
    }
    points = ax.scatter(
        truth.to_numpy(), [rows[g] for g in truth.index], marker="X", s=90, color="C5", zorder=4
    )
    legend = ax.get_legend()
    labels = [text.get_text() for text in legend.get_texts()]
    ax.legend(
        [*legend.legend_handles, points],
        [*labels, "true mean"],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )


# %%
pooled_mean = pooled_idata.posterior["mu"].mean().item()
ax = plot_forest_comparison(
    {
        "complete pooling": pooled_idata,
        "no pooling": unpooled_idata,
        "partial pooling": hierarchical_idata,
    },
    var_names=["theta"],
    ref_val=pooled_mean,
    ref_label="complete-pooling mean",
    title="School means under the three models",
    xlabel="school mean score",
    figsize=(11, 8),
)
add_true_values(ax, group_table["theta_true"])

# %%
labels = coords["group"]
posterior_sd = pd.DataFrame(
    {
        "no pooling": unpooled_idata.posterior["theta"].std(("chain", "draw")).to_numpy(),
        "partial pooling": hierarchical_idata.posterior["theta"].std(("chain", "draw")).to_numpy(),
    },
    index=pd.Index(labels, name="group"),
)
small_schools = group_table.index[group_table["n"] <= 3]
assert (
    posterior_sd.loc[small_schools, "partial pooling"]
    < posterior_sd.loc[small_schools, "no pooling"]
).all()
posterior_sd.assign(n=group_table["n"]).round(2)

# %% [markdown]
# Complete pooling gives every school the same narrow interval: confident, and wrong for
# the schools that are truly above or below average. No pooling gives G1 and G2 intervals
# about as wide as the noise of a single score, centred near that score. Partial pooling
# sits in between: for the small schools ($n_j \le 3$) its intervals are narrower than
# without pooling (the posterior standard deviations above), and their centres have moved
# towards the common mean.
#
# ### Shrinkage
#
# The hierarchical estimate of each school is pulled from its own mean towards the
# population mean $\mu$. The plot shows by how much, against the number of students.

# %%
unpooled_means = unpooled_idata.posterior["theta"].mean(("chain", "draw")).to_numpy()
hierarchical_means = hierarchical_idata.posterior["theta"].mean(("chain", "draw")).to_numpy()
shift = pd.Series(np.abs(hierarchical_means - unpooled_means), index=labels)
most_shrunk, least_shrunk = shift.idxmax(), shift.idxmin()
assert group_table.loc[most_shrunk, "n"] == 1
assert least_shrunk == group_table["n"].idxmax()
print(f"most shrunk: {most_shrunk} (n=1), moved {shift[most_shrunk]:.1f} points")
print(
    f"least shrunk: {least_shrunk} (n={group_table.loc[least_shrunk, 'n']}), "
    f"moved {shift[least_shrunk]:.1f} points"
)

# %% tags=["slide", "slide-hide-input"]
ax = plot_shrinkage(
    unpooled_means,
    hierarchical_means,
    group_table["n"].to_numpy(),
    pooled=pooled_mean,
    labels=labels,
    annotate=[most_shrunk, least_shrunk],
    ylabel="estimated school mean",
    title="Partial pooling shrinks small schools the most",
)

# %% [markdown]
# Open circles are the no-pooling estimates, filled circles the hierarchical ones, the
# dashed line the complete-pooling mean. The single-score school with the extreme mean
# moves the most (printed above); the largest school barely moves, because its 20 scores
# outweigh the population prior. That is shrinkage: the less a school's own data say, and
# the further they are from the rest, the more the estimate borrows from the other schools.
#
# ### Which estimates are closer to the truth?
#
# Because the data are simulated we can grade the estimates (posterior means) against the
# true school means, with the mean squared error over the eight schools.

# %%
estimates = pd.DataFrame(
    {
        "complete pooling": pooled_idata.posterior["theta"].mean(("chain", "draw")).to_numpy(),
        "no pooling": unpooled_means,
        "partial pooling": hierarchical_means,
    },
    index=pd.Index(labels, name="group"),
)
squared_error = estimates.sub(group_table["theta_true"], axis=0) ** 2
mse = squared_error.mean()
pd.concat([squared_error, mse.to_frame("mean").T]).round(1)

# %%
assert mse.idxmin() == "partial pooling"
worst = squared_error.loc[most_shrunk]
assert worst["partial pooling"] < worst["no pooling"]
assert worst.idxmin() == "complete pooling"
print(f"mean squared error, partial / no pooling: {mse['partial pooling'] / mse['no pooling']:.0%}")
print(f"best estimate for {most_shrunk}: {worst.idxmin()}")

# %% [markdown]
# On this data set partial pooling has the smallest mean squared error of the three models.
# It is not the best for every school: for the single-score school with the extreme score,
# complete pooling happens to be closer, because that school's true mean is near the
# average; partial pooling still reduces the error that no pooling makes by taking the one
# score at face value. And this is *one* data set. Partial pooling is better *on average*
# over data sets, not on every one; on an unlucky draw the no-pooling or the
# complete-pooling estimates can come out ahead. Exercise 3 measures how often that happens.
#
# ### Posterior predictive check
#
# Finally, does the hierarchical model reproduce the data it was fitted to? We simulate
# replicated data sets from the posterior and compare them with the observed scores.

# %%
with hierarchical_model:
    # var_names also sidesteps a PyMC 5.28 bug: without it the call registers the observed
    # variable twice and the model can no longer be sampled.
    pm.sample_posterior_predictive(
        hierarchical_idata,
        var_names=["y"],
        extend_inferencedata=True,
        random_seed=rng,
        progressbar=False,
    )

# %%
ax = az.plot_ppc(hierarchical_idata, num_pp_samples=100, random_seed=RANDOM_SEED)
ax.set_xlabel("test score")
ax.set_ylabel("density")
title = ax.set_title("Posterior predictive check, partial pooling")

# %% [markdown]
# The observed distribution of scores (black) lies well inside the band of replicated data
# sets, and the mean of the replications (dashed) follows it. A numeric version of the same
# check: the share of replicated data sets whose spread of school means exceeds the observed
# one (a posterior predictive p-value; values near 0 or 1 would signal a misfit).

# %%
y_rep = hierarchical_idata.posterior_predictive["y"].stack(sample=("chain", "draw")).to_numpy()
rep_means = np.stack([y_rep[group_idx == j].mean(axis=0) for j in range(n_group)])
observed_spread = group_table["mean"].std()
p_value = np.mean(rep_means.std(axis=0, ddof=1) > observed_spread)
assert 0.05 < p_value < 0.95
print(f"observed sd of school means: {observed_spread:.1f}; p-value: {p_value:.2f}")

# %% [markdown]
# ## Exercises
#
# **Exercise 1 — the shrinkage factor.** For known $\sigma$, $\mu$ and $\tau$ the
# hierarchical estimate of school $j$ is $B_j \mu + (1 - B_j)\bar y_j$ with
# $B_j = \dfrac{\sigma^2 / n_j}{\sigma^2 / n_j + \tau^2}$. Compute $B_j$ for every school,
# with $\sigma$, $\tau$ and $\mu$ at their posterior means. How does $B_j$ change with the
# number of students? Compare the plug-in estimate with the hierarchical posterior means.

# %% tags=["solution"]
post = hierarchical_summary["mean"]
n_j = group_table["n"].to_numpy()
shrink = (post["sigma"] ** 2 / n_j) / (post["sigma"] ** 2 / n_j + post["tau"] ** 2)
plug_in = shrink * post["mu"] + (1 - shrink) * group_table["mean"]
pd.DataFrame(
    {"n": n_j, "B_j": shrink, "plug-in": plug_in, "MCMC": hierarchical_means},
    index=labels,
).round(2)

# %% [markdown] tags=["solution"]
# $B_j$ falls with $n_j$: the single-score schools are pulled about halfway to $\mu$, the
# largest school only a few percent. The plug-in values are close to the MCMC means but
# not equal: the MCMC answer averages over the uncertainty in $\mu$, $\tau$ and $\sigma$
# (and $B_j$ is a non-linear function of them) instead of fixing them at one value.

# %% [markdown]
# **Exercise 2 — a ninth school.** A new school joins, with no students tested yet. Use the
# posterior draws of $\mu$ and $\tau$ to draw its mean
# $\theta_{\text{new}} \sim \mathrm{Normal}(\mu, \tau)$ and give a 94% interval. Compare it
# with the 94% interval of $\mu$ in the complete-pooling model. Which one would you report,
# and why?

# %% tags=["solution"]
posterior = hierarchical_idata.posterior
theta_new = rng.normal(posterior["mu"], posterior["tau"])
print("new school, partial pooling:", np.quantile(theta_new, [0.03, 0.97]).round(1))
print(
    "mu, complete pooling:       ", np.quantile(pooled_idata.posterior["mu"], [0.03, 0.97]).round(1)
)

# %% [markdown] tags=["solution"]
# The complete-pooling interval describes the average of all students, not a school: it
# ignores that schools differ. The hierarchical interval for a new school adds the
# between-school spread $\tau$ (and its uncertainty), so it is much wider. For a school we
# have not seen, that wider interval is the honest answer.

# %% [markdown]
# **Exercise 3 — is partial pooling always better?** Simulate 4,000 new data sets from the
# same process as ours: draw true means $\theta_j \sim \mathrm{Normal}(50, 5)$ for the eight
# schools, then their observed means $\bar y_j \sim \mathrm{Normal}(\theta_j, 8 / \sqrt{n_j})$
# directly (the mean of $n_j$ normal scores is normal with that standard deviation). For
# each data set compute the mean squared error of (a) the school means $\bar y_j$ (no
# pooling with a flat prior) and (b) the partial-pooling estimate of Exercise 1 with the
# *true* $\mu = 50$, $\tau = 5$, $\sigma = 8$. How often does (b) win? By how much on
# average? (Fixing the hyperparameters at their true values avoids 4,000 MCMC runs; a
# fitted model must estimate them from the data, so expect its advantage to be somewhat
# smaller.)

# %% tags=["solution"]
n_sims, sizes = 4000, np.array(N_PER_GROUP)
theta_sim = rng.normal(50.0, 5.0, size=(n_sims, sizes.size))
ybar_sim = rng.normal(theta_sim, 8.0 / np.sqrt(sizes))
shrink_true = (8.0**2 / sizes) / (8.0**2 / sizes + 5.0**2)
partial_sim = shrink_true * 50.0 + (1 - shrink_true) * ybar_sim
mse_none = np.mean((ybar_sim - theta_sim) ** 2, axis=1)
mse_partial = np.mean((partial_sim - theta_sim) ** 2, axis=1)
print(f"partial pooling wins in {np.mean(mse_partial < mse_none):.0%} of data sets")
print(f"average MSE: no pooling {mse_none.mean():.1f}, partial pooling {mse_partial.mean():.1f}")

# %% [markdown] tags=["solution"]
# Partial pooling wins in most, but not all, data sets, and its average error is far
# smaller. It loses when the school means happen to be spread out more than $\tau$
# suggests, so that pulling them towards $\mu$ hurts. The result is a classic one
# (Stein's paradox): with three or more groups, shrinking towards a common value lowers the
# total expected squared error, even though no single school is guaranteed to benefit.

# %% [markdown]
# **Exercise 4 — the centered parameterisation.** Fit the hierarchical model in its
# centered form, `theta = pm.Normal("theta", mu=mu, sigma=tau, dims="group")`, with the
# default `target_accept` and `draws=500`. Run `check_sampling(..., raise_on_failure=False)`
# and count the divergences. Where in the $(\tau, \theta_j)$ plane do they happen?

# %% tags=["solution"]
with pm.Model(coords=coords) as centered_model:
    mu = pm.Normal("mu", mu=50, sigma=20)
    tau = pm.HalfNormal("tau", sigma=10)
    theta = pm.Normal("theta", mu=mu, sigma=tau, dims="group")
    sigma = pm.HalfNormal("sigma", sigma=10)
    pm.Normal("y", mu=theta[group_idx], sigma=sigma, observed=y)
    centered_idata = pm.sample(
        draws=500, tune=1000, chains=4, cores=4, random_seed=rng, progressbar=False
    )
centered_report = check_sampling(centered_idata, raise_on_failure=False)
print(centered_report)

# %% tags=["solution"]
axs = az.plot_pair(
    centered_idata, var_names=["tau", "theta"], coords={"group": ["G1"]}, divergences=True
)
title = axs.set_title("Centered model: divergent transitions (large dots)")

# %% tags=["solution"]
tau_draws = centered_idata.posterior["tau"].to_numpy().ravel()
diverging = centered_idata.sample_stats["diverging"].to_numpy().ravel()
assert centered_report.divergences > 0
assert np.median(tau_draws[diverging]) < np.median(tau_draws)
print(
    f"median tau: divergent draws {np.median(tau_draws[diverging]):.1f}, "
    f"all draws {np.median(tau_draws):.1f}"
)

# %% [markdown] tags=["solution"]
# The centered fit reports divergent transitions, concentrated at small $\tau$ (their
# median $\tau$ is below that of all draws): the neck of the funnel, where every
# $\theta_j$ is squeezed towards $\mu$. The sampler could not follow the posterior into
# that region, so the draws under-represent it and summaries that depend on small $\tau$
# cannot be trusted. The non-centered fit above explored the same posterior without a
# single divergence.

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - **Hierarchical** (multilevel, nested, mixed-effects) data: observations in groups, groups
#   drawn from a population.
# - **Complete pooling** ignores the groups: precise, but wrong for atypical groups.
# - **No pooling** trusts each group alone: one observation gives back that observation,
#   blurred by the noise and pulled by an arbitrary prior; a per-group variance from one
#   point is unidentified.
# - **Partial pooling** learns the groups' prior $\mathrm{Normal}(\mu, \tau)$ from all
#   groups: likelihood × prior × hyperprior.
# - **Shrinkage** moves small, extreme groups most towards the common mean; it lowers the
#   error on average, not on every data set.
# - $\tau \to 0$ is complete pooling, $\tau \to \infty$ no pooling; the data choose $\tau$.
#   Sample **non-centered** when the funnel causes divergences, and always check diagnostics.
