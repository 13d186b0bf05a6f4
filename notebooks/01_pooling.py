# %% [markdown]
# # 01 · Pooling: complete, none, or partial
#
# Most data sets have groups: students in classes, patients in hospitals, several
# measurements of the same person. How much should the estimate for one group borrow from
# the others? This lesson answers that question with three models of the same data and
# shows why the hierarchical answer, *partial pooling*, is usually the best of the three.
#
# **Learning goals.** After this notebook you can
#
# 1. recognise hierarchical (multilevel, nested) data and say at which level each quantity
#    lives;
# 2. write the posterior of a hierarchical model as likelihood × prior × hyperprior, say
#    what each factor does, and name the assumption that justifies it (*exchangeability*);
# 3. fit complete-pooling, no-pooling and partial-pooling models in PyMC, read their
#    diagnostics (divergences, $\hat R$, ESS) and compare them;
# 4. explain *shrinkage*: why small groups far from the average move the most;
# 5. explain why a group with a single observation cannot have its own mean *and* its own
#    spread estimated from its data alone;
# 6. recognise a *funnel* by its divergent transitions and remove it with the
#    *non-centered* parameterisation.
#
# Later lessons point back here for these terms: HDI, $\hat R$ and ESS (Model 1),
# exchangeability (before Model 3), divergences, funnels and non-centering (Model 3).
#
# **You should already know** Bayes' rule, how to write and sample a first PyMC model, and
# how to read a trace plot.

# %% [markdown]
# ## Hierarchies are everywhere
#
# Data are *hierarchical* when the observations come in groups, and the groups are
# themselves a sample from a larger population:
#
# - students (observations) in classes (groups) — classes from a school district;
# - patients in hospitals — hospitals from a health system;
# - repeated measurements (observations) of the same person, machine or field plot (groups).
#
# ```text
#                         population            μ, τ   (how groups vary)
#                /       /     |      \      \
#          class 1   class 2  ...  class J-1  class J      θ_j   (one mean per group)
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
import warnings

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
from scipy import stats

from course_utils.checks import pooling as checks
from course_utils.diagnostics import check_sampling, compare_to_reference
from course_utils.environment import sampler_cores, versions
from course_utils.plots import (
    model_graph,
    plain_log_axis,
    plot_forest_comparison,
    plot_ppc,
    plot_shrinkage,
    use_course_style,
)
from course_utils.simulate import simulate_grouped_measurements

# %%
DATA_SEED = 2024  # simulates the data; the prose describes these data
RANDOM_SEED = 8927  # seeds every sampler and predictive draw
data_rng = np.random.default_rng(DATA_SEED)
rng = np.random.default_rng(RANDOM_SEED)
CORES = sampler_cores()  # worker processes for the chains: one per usable CPU, at most 4
use_course_style()
# Early in tuning, NUTS can try a wild step whose kinetic energy overflows; that proposal is
# rejected and tuning carries on, so the warning says nothing about the final sample.
warnings.filterwarnings("ignore", message="overflow encountered in dot", category=RuntimeWarning)

# %% [markdown] tags=["slide"]
# ## The question
#
# Eight classes, a handful of tested students each; two classes sent a single student.
#
# - What is the average score of each class?
# - One student from class G1 scored about 70. Is G1 the best class, or was that student
#   lucky?

# %% [markdown]
# ## Data: a few test scores per class
#
# The data are simulated, so that we know the right answers. Each class $j$ has a true
# mean score $\theta_j \sim \mathrm{Normal}(50, 5)$ (second argument: standard deviation,
# as in PyMC), and each student's score is $y_{ij} \sim \mathrm{Normal}(\theta_j, 8)$. The
# classes sent between 1 and 20 students. The column `theta_true` holds the true class
# means: a real analysis never sees it; we keep it to grade the three models at the end.
# The data come from their own generator, `data_rng`, so they stay the same whatever seed
# the samplers use. (These eight classes are not Rubin's *eight schools*, a real data set
# that lesson 07 analyses.)

# %%
N_PER_GROUP = (1, 1, 2, 3, 5, 8, 12, 20)
df = simulate_grouped_measurements(data_rng, n_per_group=N_PER_GROUP, mu=50.0, tau=5.0, sigma=8.0)
df.head()

# %% [markdown]
# Per class: the number of students, their mean and standard deviation, and the true mean.

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
# has no spread, so these classes alone cannot tell us how variable scores are. And the
# highest mean belongs to a class with a single student:

# %%
top_class = group_table["mean"].idxmax()
assert top_class == "G1" and group_table.loc[top_class, "n"] == 1
distance = (group_table["mean"] - df["y"].mean()).abs()  # class mean vs mean of all scores
assert distance.idxmax() == top_class and distance[group_table["n"] >= 8].max() < 5
print(
    f"highest mean: {top_class}, {group_table.loc[top_class, 'mean']:.1f} "
    f"from {group_table.loc[top_class, 'n']} student; "
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
    label="class mean",
)
ax.axhline(df["y"].mean(), color="C4", linestyle="--", linewidth=1.5, label="mean of all")
ax.set_xticks(np.arange(len(group_table)), [f"{g}\nn={n}" for g, n in group_table["n"].items()])
ax.set_xlabel("class (number of students)")
ax.set_ylabel("test score")
ax.set_title("Test scores by class")
legend = ax.legend(loc="lower left")

# %% [markdown]
# Grey dots are the students' scores, black bars the class means, the dashed blue line the
# mean of all scores. The most extreme class mean belongs to a single-student class, while
# the three largest classes sit within a few points of the overall mean: the mean of a few
# noisy scores scatters far more than the mean of many.
#
# For the models we need the data as arrays, plus the class names as the `group`
# dimension so that summaries show `theta[G1]` rather than `theta[0]`.

# %%
group_idx = df["group_idx"].to_numpy()
y = df["y"].to_numpy()
coords = {"group": df["group"].cat.categories.tolist()}
n_group = len(coords["group"])

# %% [markdown]
# ## Model 1: complete pooling
#
# Ignore the classes: every score comes from one distribution with mean $\mu$.
#
# $$
# \begin{aligned}
# y_{ij} &\sim \mathrm{Normal}(\mu, \sigma) \\
# \mu &\sim \mathrm{Normal}(50, 20) \\
# \sigma &\sim \mathrm{HalfNormal}(10)
# \end{aligned}
# $$
#
# Scores are on a 0–100 scale. $\mathrm{Normal}(50, 20)$ keeps 95% of the prior mass of
# $\mu$ between about 11 and 89, and $\mathrm{HalfNormal}(10)$ puts half of its mass on a
# spread of scores below about 7 points and 95% below about 20:

# %%
print("mu ~ Normal(50, 20), central 95%:", np.round(stats.norm(50, 20).interval(0.95), 1))
print(
    "sigma ~ HalfNormal(10), median and 95% quantile:",
    np.round(stats.halfnorm(scale=10).ppf([0.5, 0.95]), 1),
)

# %% [markdown]
# The implied estimate of every class is $\mu$; we record it per class as `theta` (a
# deterministic copy, which changes nothing in the model) so that the three models can be
# compared class by class.

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
# agree. `cores=CORES` runs the chains in parallel processes, one per CPU this machine lets
# us use. The draws do not depend on it: every chain gets its own seed from `random_seed`.

# %%
with pooled_model:
    pooled_idata = pm.sample(
        draws=1000, tune=1000, chains=4, cores=CORES, random_seed=rng, progressbar=False
    )

# %%
print(check_sampling(pooled_idata, var_names=["mu", "sigma"]))
az.summary(pooled_idata, var_names=["mu", "sigma"], kind="stats").round(2)

# %% [markdown]
# **Reading the diagnostics.** `check_sampling` raises an error unless three checks pass;
# the line above reports them.
#
# - **Divergences** count the iterations in which the sampler's simulated trajectory broke
#   down. A good value is 0; Model 3 shows what they mean.
# - **$\hat R$** ("R-hat") compares the spread *between* the four chains with the spread
#   *within* each of them (ArviZ computes the rank-normalised split $\hat R$). Chains that
#   explore the same distribution give 1.00; we require at most 1.01. Above that, the chains
#   disagree and their draws must not be used.
# - **ESS** (effective sample size): successive draws of a Markov chain are correlated, so
#   4,000 of them carry less information than 4,000 independent draws. The ESS is the number
#   of independent draws that would be as precise; *bulk* ESS for the centre of the
#   distribution (the mean), *tail* ESS for its 5% and 95% quantiles. The Monte Carlo error
#   of a posterior mean is about $\mathrm{sd} / \sqrt{\mathrm{ESS}}$. We require a bulk ESS
#   of at least 400 (100 per chain); more is better.
#
# In the table, `hdi_3%` and `hdi_97%` bound the 94% **HDI** (highest density interval): the
# narrowest interval that contains 94% of the posterior draws, so every value inside it is
# more plausible than every value outside (for a posterior with one peak). There is no
# "good" HDI: it is as wide as the data and the model leave the answer; 94%, ArviZ's default,
# is a reminder that 95% is a convention, not a law.
#
# All three checks pass. Complete pooling estimates one mean for all classes, close to the
# mean of all scores printed earlier, with a small uncertainty because it uses every score.
# That certainty is misplaced if the classes really differ: $\sigma$ then absorbs the
# differences between classes as if they were noise.

# %% [markdown]
# ## Model 2: no pooling
#
# Give each class its own mean, with independent priors, so that no class learns anything
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
# The spread $\sigma$ of scores within a class is shared by all classes. A separate
# $\sigma_j$ per class would be the "purest" no-pooling model, but it cannot be estimated
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
        draws=1000, tune=1000, chains=4, cores=CORES, random_seed=rng, progressbar=False
    )

# %%
print(check_sampling(unpooled_idata, var_names=["theta", "sigma"]))
unpooled_summary = az.summary(unpooled_idata, var_names=["theta", "sigma"], kind="stats")
unpooled_summary.round(2)

# %% [markdown]
# Each $\theta_j$ sits near its class's own mean, and its uncertainty shrinks with the
# number of students, roughly as $\sigma / \sqrt{n_j}$. The spread $\sigma$ of scores is
# now smaller than under complete pooling: part of what complete pooling called noise was
# in fact the difference between classes.

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
# For a class with a single score, what does the no-pooling model actually know? With
# $\sigma$ held fixed, the posterior of $\theta_j$ is normal, and its mean is a
# precision-weighted average of the class's mean $\bar y_j$ and the prior mean:
#
# $$
# \mathbb{E}[\theta_j \mid y, \sigma] = w_j\, \bar y_j + (1 - w_j)\cdot 50,
# \qquad
# w_j = \frac{n_j / \sigma^2}{n_j / \sigma^2 + 1 / s_0^2},
# \qquad
# \mathrm{sd}[\theta_j \mid y, \sigma] = \left(\frac{n_j}{\sigma^2} + \frac{1}{s_0^2}\right)^{-1/2},
# $$
#
# where $s_0 = 20$ is the prior standard deviation. We compute it for the smallest and the
# largest class, with $\sigma$ at its posterior mean, for several values of $s_0$.


# %%
def normal_update(ybar, n, sigma, prior_mean, prior_sd):
    """Posterior mean and sd of a normal mean with known sigma and a normal prior."""
    precision = n / sigma**2 + 1 / prior_sd**2
    mean = (n * ybar / sigma**2 + prior_mean / prior_sd**2) / precision
    return mean, np.sqrt(1 / precision)


# %%
sigma_hat = unpooled_summary.loc["sigma", "mean"]
rows = []
for group in ["G1", "G8"]:
    n, ybar = group_table.loc[group, ["n", "mean"]]
    for prior_sd in [5, 10, 20, 100]:
        mean, sd = normal_update(ybar, n, sigma_hat, prior_mean=50, prior_sd=prior_sd)
        rows.append(
            {
                "class": group,
                "n": n,
                "mean of scores": ybar,
                "prior sd": prior_sd,
                "posterior mean": mean,
                "posterior sd": sd,
            }
        )
prior_sensitivity = pd.DataFrame(rows).set_index(["class", "prior sd"])
prior_sensitivity.round(1)

# %% [markdown]
# Read the table for G1. With a vague prior ($s_0 = 100$) the estimate is the single score
# itself, with an uncertainty equal to the noise of one score, $\sigma$. With a tighter
# prior the estimate moves towards 50 — by as much as we decide when we choose $s_0$, since
# one score cannot tell whether it is typical. For G8, 20 scores overwhelm any of these
# priors.
#
# The MCMC fit agrees with the formula for the prior we used ($s_0 = 20$). To compare them
# exactly, we average the formula over the posterior draws of $\sigma$ instead of fixing
# $\sigma$: then both estimate the same posterior mean, and they may differ only by Monte
# Carlo error. `compare_to_reference` reports the difference in units of that error ($z$)
# and raises if any $|z|$ exceeds 4.

# %%
sigma_draws = unpooled_idata.posterior["sigma"].to_numpy().ravel()
formula = pd.DataFrame(
    {
        "mean": [
            normal_update(*group_table.loc[g, ["mean", "n"]], sigma_draws, 50, 20)[0].mean()
            for g in ["G1", "G8"]
        ]
    },
    index=["theta[G1]", "theta[G8]"],
)
compare_to_reference(unpooled_idata, formula)[["mcmc_mean", "reference_mean", "z"]].round(2)

# %% [markdown]
# So for single-score classes "no pooling" is not an estimate learned from data: it is the
# observation, blurred by $\sigma$ and dragged by a prior mean and width that we picked.
# The hierarchical model will replace that arbitrary choice with a prior *learned from the
# other classes*.
#
# ### A per-class spread $\sigma_j$ from one score is unidentified
#
# Now suppose each class had its own spread $\sigma_j$. For G1 the data are one number
# $y_{11}$ and the likelihood is $\mathrm{Normal}(y_{11} \mid \theta_1, \sigma_1)$. Setting
# $\theta_1 = y_{11}$ and letting $\sigma_1 \to 0$ makes it grow without bound: the best
# fit is "this class has no noise at all". With 20 scores, as in G8, the likelihood has a
# clear peak instead. We draw the *profile* log-likelihood of $\sigma_j$ (its maximum over
# $\theta_j$) for both classes.


# %%
def profile_loglik(scores, sigma_grid):
    """Log-likelihood of sigma at the best theta (the sample mean), on a grid of sigma."""
    scores = np.asarray(scores)
    ss = np.sum((scores - scores.mean()) ** 2)
    return -scores.size * np.log(sigma_grid) - ss / (2 * sigma_grid**2)


sigma_grid = np.linspace(0.2, 30, 300)
scores_by_class = {g: df.loc[df["group"] == g, "y"] for g in ["G1", "G8"]}

# %%
fig, axs = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True)
for ax, (group, scores) in zip(axs, scores_by_class.items(), strict=True):
    ax.plot(sigma_grid, profile_loglik(scores, sigma_grid), color="C0")
    ax.set_title(f"{group}: {len(scores)} score(s)")
    ax.set_xlabel(r"$\sigma_j$ (within-class sd)")
axs[0].set_ylabel("profile log-likelihood\n(up to a constant)")
fig.suptitle(r"What the data say about a per-class $\sigma_j$")
g8_curve = profile_loglik(scores_by_class["G8"], sigma_grid)
axs[1].set_ylim(g8_curve.max() - 40, g8_curve.max() + 5)
line = axs[1].axvline(np.std(scores_by_class["G8"]), color="C4", linestyle="--", linewidth=1.5)

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
y_g1 = scores_by_class["G1"].iloc[0]
marginal_lik = stats.norm.pdf(y_g1, loc=50, scale=np.sqrt(sigma_grid**2 + 20**2))
ratio = marginal_lik.max() / marginal_lik.min()
print(f"p(y_11 | sigma_1) varies by a factor of {ratio:.2f} over sigma_1 in [0.2, 30]")

# %% [markdown]
# Over the whole plausible range of $\sigma_1$ the single score changes the prior's relative
# weights by at most this small factor: the posterior of $\sigma_1$ is essentially its
# prior. The parameter is *unidentified* by the data. This is why the no-pooling model above
# shares one $\sigma$ across classes — which is already a little pooling, on the spread.

# %% [markdown]
# ## What justifies a common population: exchangeability
#
# The hierarchical model treats the eight class means $\theta_1, \dots, \theta_8$ as draws
# from one population. Why is that reasonable? Before seeing the scores we know nothing that
# tells one class from another: if someone shuffled the labels G1, …, G8, our beliefs about
# the eight means would not change. Quantities whose joint distribution does not change
# under any permutation of their labels are called **exchangeable**.
#
# *De Finetti's theorem* turns this into a model: if $\theta_1, \theta_2, \dots$ can be
# extended to an exchangeable sequence of any length (as many more classes as we like, all
# alike as far as we know), then their joint distribution is a mixture of independent draws
# from a common distribution, $\theta_j \mid a \sim p(\theta \mid a)$ independently, with
# $a \sim p(a)$: exactly the prior × hyperprior of the factorisation above. For a fixed,
# finite number of groups the representation holds approximately (BDA3, §5.2).
#
# Exchangeable means neither *identical* (complete pooling) nor *independent* (no pooling)
# but *alike as far as we know*. It is an assumption about our knowledge, and it fails when
# we know something that sets groups apart. Here the model assumes, for example, that the
# number of students a class sent says nothing about its mean: true in our simulation, which
# draws the means without looking at class size, but not guaranteed in real data (say, if
# only the keenest students of some classes took the test). When groups differ in a known
# way, add that information as a group-level predictor, so that the groups are exchangeable
# *given* it, or do not pool them. Later lessons come back to this.

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
# numbers of the hyperpriors. The between-class spread $\tau$ is the new ingredient: it
# measures how different classes are, and it is estimated from how much the class means
# vary beyond what the noise $\sigma$ explains. Each $\theta_j$ then gets a prior
# $\mathrm{Normal}(\mu, \tau)$ that was learned from the other classes, instead of the
# arbitrary $\mathrm{Normal}(50, 20)$ of the no-pooling model.
#
# We first write the model in PyMC exactly as the formulas read. This is called the
# *centered* form, because each $\theta_j$ is drawn around its population mean $\mu$.

# %%
with pm.Model(coords=coords) as centered_model:
    mu = pm.Normal("mu", mu=50, sigma=20)
    tau = pm.HalfNormal("tau", sigma=10)
    theta = pm.Normal("theta", mu=mu, sigma=tau, dims="group")
    sigma = pm.HalfNormal("sigma", sigma=10)
    pm.Normal("y", mu=theta[group_idx], sigma=sigma, observed=y)

# %% tags=["nbval-ignore-output"]
model_graph(centered_model)

# %% [markdown]
# ### Prior predictive check
#
# Before fitting, we simulate scores from the priors alone, to check that the model
# considers realistic scores plausible and unrealistic ones rare.

# %%
with centered_model:
    hierarchical_prior_idata = pm.sample_prior_predictive(draws=500, random_seed=rng)

# %%
prior_scores = hierarchical_prior_idata.prior_predictive["y"].to_numpy().ravel()
share_in_range = np.mean((prior_scores >= 0) & (prior_scores <= 100))
low, high = np.quantile(prior_scores, [0.03, 0.97])
print(f"share of simulated scores in [0, 100]: {share_in_range:.1%}")
print(f"94% of simulated scores between {low:.0f} and {high:.0f}")

# %%
prior_class_sd = hierarchical_prior_idata.prior["theta"].std("group").to_numpy().ravel()
sd_low, sd_high = np.quantile(prior_class_sd, [0.03, 0.97])
print(f"94% of prior draws: sd of the 8 class means between {sd_low:.1f} and {sd_high:.1f}")

# %% tags=["check"]
# What the next paragraph says: the simulated scores stay on the scale and the observed
# ones sit inside their range; the prior allows nearly identical classes as well as
# classes that differ by tens of points. 500 prior draws estimate these shares and
# quantiles well enough that these wide margins hold for any seed.
assert share_in_range > 0.9 and low < y.min() and y.max() < high
assert sd_low < 1 and sd_high > 10

# %%
fig, ax = plt.subplots()
ax.hist(prior_scores, bins=60, density=True, color="C2", label="simulated from the priors")
ax.hist(y, bins=12, density=True, histtype="step", color="C0", linewidth=2, label="observed")
for bound in (0, 100):
    ax.axvline(bound, color="C4", linestyle="--", linewidth=1.5)
ax.set(title="Prior predictive check: test scores", xlabel="test score", ylabel="density")
legend = ax.legend(loc="upper left")

# %% [markdown]
# The light grey histogram pools all scores simulated from the priors; the black outline is
# the observed scores, and the dashed lines mark the 0–100 scale. Almost all simulated
# scores stay on the scale (the share printed above), and the observed ones sit well inside
# the simulated range. The priors also allow anything from nearly identical classes to
# classes whose means differ by tens of points (the spread of class means printed above):
# wide enough to let the data speak, not so wide that they expect impossible scores.
#
# ### Sampling the centered form: divergences
#
# We sample it as the other two models, with PyMC's default settings. We switch off
# PyMC's own convergence warnings (`compute_convergence_checks=False`) because we run the
# checks ourselves, just below, and do not raise on failure: this time we want to look.

# %%
with centered_model:
    centered_idata = pm.sample(
        draws=1000,
        tune=1000,
        chains=4,
        cores=CORES,
        random_seed=rng,
        progressbar=False,
        compute_convergence_checks=False,
    )

# %%
centered_report = check_sampling(
    centered_idata, var_names=["mu", "tau", "sigma", "theta"], raise_on_failure=False
)
print(centered_report)

# %% tags=["check"]
assert centered_report.divergences > 0

# %% [markdown]
# The fit has failed: it reports **divergent transitions**. NUTS moves through the
# parameter space by simulating a particle that slides over the surface of the negative
# log posterior, in small steps of one size. Where the surface curves much more sharply
# than that step size allows, the simulation blows up (its energy error becomes huge) and
# PyMC flags the iteration as divergent. The sampler cannot explore such a region
# properly, so the draws miss part of the posterior and every summary may be biased. The
# only good number of divergences is 0, however good $\hat R$ and ESS look.
#
# Where do they happen? The plot shows every draw of $\tau$ (on a log scale) against
# $\theta_1 - \mu$, how far class G1 sits from the population mean, and marks in red the
# draws of the iterations that diverged.

# %% tags=["slide", "slide-hide-input"]
centered_posterior = centered_idata.posterior
tau_draws = centered_posterior["tau"].to_numpy().ravel()
theta1 = centered_posterior["theta"].sel(group="G1")
deviation = (theta1 - centered_posterior["mu"]).to_numpy().ravel()
diverging = centered_idata.sample_stats["diverging"].to_numpy().ravel()
fig, ax = plt.subplots()
ax.scatter(deviation, tau_draws, s=4, color="C2", label="draw")
ax.scatter(
    deviation[diverging], tau_draws[diverging], s=30, color="C5", label="divergent iteration"
)
ax.set_yscale("log")
plain_log_axis(ax, "y")
ax.set(xlabel=r"$\theta_1 - \mu$ (class G1 against the population)", ylabel=r"$\tau$ (log scale)")
ax.set_title("Centered form: the funnel")
legend = ax.legend(loc="upper left")

# %%
print(
    f"median tau: divergent iterations {np.median(tau_draws[diverging]):.1f}, "
    f"all draws {np.median(tau_draws):.1f}"
)

# %% tags=["check"]
assert np.median(tau_draws[diverging]) < np.median(tau_draws)

# %% [markdown]
# The draws form a **funnel**: when $\tau$ is large, $\theta_1$ can sit far from $\mu$;
# when $\tau$ is small, every $\theta_j$ must crowd around $\mu$, so the region narrows
# into a neck. A step size that suits the wide mouth is far too large for the neck, and the
# divergences lean towards it: their median $\tau$, printed above, is below that of all
# draws. Draws from the neck are missing or too few, so the posterior of small $\tau$, and
# of everything that depends on it, is not to be trusted.
#
# ### The fix: the non-centered parameterisation
#
# Sample standardised deviations $z_j$ instead of the $\theta_j$, and build the $\theta_j$
# from them:
#
# $$
# z_j \sim \mathrm{Normal}(0, 1), \qquad \theta_j = \mu + \tau z_j .
# $$
#
# This is the *same model*: a change of variables, under which $\theta_j$ still has the
# prior $\mathrm{Normal}(\mu, \tau)$ and the posterior of $(\mu, \tau, \theta, \sigma)$ is
# the same. Only the space the sampler moves in changes: a priori the $z_j$ do not depend on
# $\tau$, so the funnel of the prior is gone. Non-centering is not free, though: a class with
# many students has its $\theta_j$ pinned by the data, so $z_j = (\theta_j - \mu)/\tau$ is
# tied to $\tau$, a curvature of its own (Betancourt & Girolami 2015). Our classes range
# from 1 to 20 students, so we also ask NUTS for smaller steps: `target_accept=0.99`
# instead of the default 0.8 (the step size is tuned so that proposals are accepted with
# this average probability). Smaller steps make each draw more expensive; we take 1,200
# draws per chain so that the bulk ESS stays above the 400 that `check_sampling` asks for,
# with a margin (at least 1.5 times, checked below). Because we change two things at once,
# this is not a comparison at equal settings: what removes the funnel of the prior is the
# reparameterisation, and the smaller steps are a margin for the curvature that remains.
# Lesson 05 meets the funnel again on real data, with 85 groups.

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

# %%
with hierarchical_model:
    hierarchical_idata = pm.sample(
        draws=1200,
        tune=1000,
        chains=4,
        cores=CORES,
        target_accept=0.99,
        random_seed=rng,
        progressbar=False,
    )

# %%
hierarchical_report = check_sampling(hierarchical_idata, var_names=["mu", "tau", "sigma", "theta"])
print(hierarchical_report)
hierarchical_summary = az.summary(
    hierarchical_idata, var_names=["mu", "tau", "sigma", "theta"], kind="stats"
)
hierarchical_summary.round(2)

# %% tags=["check"]
assert hierarchical_report.min_ess_bulk > 1.5 * 400
tau_hdi = hierarchical_summary.loc["tau", ["hdi_3%", "hdi_97%"]]
assert tau_hdi.diff().iloc[-1] > hierarchical_summary.loc["tau", "mean"]

# %% [markdown]
# The checks pass: no divergences, $\hat R \le 1.01$ and a bulk ESS above 400 for every
# parameter. The posterior of $\tau$ is wide (its 94% HDI is wider than its posterior
# mean is large): eight classes carry only limited information about how different classes
# are, and the hierarchical model propagates that uncertainty into every $\theta_j$.

# %% [markdown]
# ## Comparing the three models
#
# ### Forest plot
#
# The three estimates of every class side by side, one colour per model (dot: posterior
# median, thick line: 50% interval, thin line: 94% HDI). Green crosses mark the true class
# means, which only a simulation lets us see; the dashed line is the posterior mean of the
# population mean $\mu$.


# %%
def add_true_values(ax, truth):
    """Mark true group values on a forest plot whose rows read "<model>: theta[G1]", ...

    Each group gets one tick, its name, at the centre of its rows, and a cross there at its
    true value. The legend of ``plot_forest_comparison`` (models in row order, then the
    reference line) gets one more entry and stays beside the axes.
    """
    heights = {}
    for y_pos, label in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True):
        group = label.get_text().split("[")[-1].rstrip("]")
        heights.setdefault(group, []).append(y_pos)
    centres = {group: np.mean(ys) for group, ys in heights.items()}
    ax.set_yticks(list(centres.values()), list(centres))
    points = ax.scatter(
        truth.to_numpy(),
        [centres[g] for g in truth.index],
        marker="X",
        s=110,
        color="#009e73",
        edgecolors="white",
        zorder=4,
    )
    legend = ax.get_legend()
    ax.legend(
        [*legend.legend_handles, points],
        [*(text.get_text() for text in legend.get_texts()), "true mean"],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0,
    )


# %%
population_mean = hierarchical_idata.posterior["mu"].mean().item()
ax = plot_forest_comparison(
    {
        "complete pooling": pooled_idata,
        "no pooling": unpooled_idata,
        "partial pooling": hierarchical_idata,
    },
    var_names=["theta"],
    ref_val=population_mean,
    ref_label="population mean μ\n(posterior mean)",
    title="Class means under the three models",
    xlabel="class mean score",
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
posterior_sd.assign(n=group_table["n"]).round(2)

# %% tags=["check"]
# Monte Carlo error of each posterior sd (az.summary's mcse_sd; az.mcse(method="sd") fails
# on vector variables in ArviZ 0.23). The gaps claimed below are about 4 to 8 of them, so
# their signs hold for any seed; the G5 gap must also exceed 2 of them. "About equal" for
# the big classes: within 10% of each other (the Monte Carlo error is about 2%).
fits = {"no pooling": unpooled_idata, "partial pooling": hierarchical_idata}
sd_mcse = pd.DataFrame(
    {
        model: az.summary(idata, var_names=["theta"], kind="diagnostics", round_to="none")[
            "mcse_sd"
        ].to_numpy()
        for model, idata in fits.items()
    },
    index=pd.Index(labels, name="group"),
)
gap = posterior_sd["no pooling"] - posterior_sd["partial pooling"]
gap_mcse = np.hypot(sd_mcse["no pooling"], sd_mcse["partial pooling"])
small_classes = group_table.index[group_table["n"] <= 3]
assert (gap[small_classes] > 0).all()
assert -gap["G5"] > 2 * gap_mcse["G5"]
big_classes = group_table.index[group_table["n"] >= 8]
assert (gap[big_classes].abs() < 0.1 * posterior_sd.loc[big_classes, "no pooling"]).all()

# %% [markdown]
# Complete pooling gives every class the same narrow interval: confident, and wrong for
# the classes that are truly above or below average. No pooling gives G1 and G2 intervals
# about as wide as the noise of a single score, centred near that score. Partial pooling
# sits in between: for the small classes ($n_j \le 3$) its intervals are narrower than
# without pooling (the posterior standard deviations above), and their centres have moved
# towards the common mean.
#
# ### Why G5 is *less* certain under partial pooling
#
# For the big classes (G6 to G8) the two standard deviations are about equal: their own
# data dominate either way. But G5 (5 students, the lowest mean) has a clearly *wider*
# posterior under partial pooling than under no pooling. This is not a bug. If $\mu$, $\tau$ and
# $\sigma$ were known, the posterior of $\theta_j$ would be the normal update above with the
# prior $\mathrm{Normal}(\mu, \tau)$: narrower than with no pooling, for any $\tau$ below
# the 20 of the no-pooling prior, which is where nearly all of the posterior of $\tau$
# lies. But they are not known, and *how far* G5 is pulled up from its low mean depends on
# them: far if $\tau$ is small, hardly at all if it is large. Averaging over the uncertain
# $\tau$ (and $\sigma$, which sets how much five scores are trusted) adds the spread of
# these pulls. The law of total variance splits the posterior variance exactly into the two
# parts,
#
# $$
# \mathrm{Var}(\theta_j \mid y) =
# \underbrace{\mathbb{E}\big[\mathrm{Var}(\theta_j \mid \mu, \tau, \sigma, y)\big]}_{
#   \text{hyperparameters known}}
# + \underbrace{\mathrm{Var}\big(\mathbb{E}[\theta_j \mid \mu, \tau, \sigma, y]\big)}_{
#   \text{added by not knowing them}},
# $$
#
# and `normal_update` computes the inner mean and sd for every posterior draw of
# $(\mu, \tau, \sigma)$:

# %%
hyper = az.extract(hierarchical_idata, var_names=["mu", "tau", "sigma"])
cond_mean, cond_sd = normal_update(
    group_table["mean"].to_numpy(),
    group_table["n"].to_numpy(),
    hyper["sigma"].to_numpy()[:, None],
    prior_mean=hyper["mu"].to_numpy()[:, None],
    prior_sd=hyper["tau"].to_numpy()[:, None],
)
width = posterior_sd.assign(
    **{
        "known μ, τ, σ": np.sqrt(np.mean(cond_sd**2, axis=0)),
        "added by not knowing them": cond_mean.std(axis=0),
    }
)
width.round(2)

# %% tags=["check"]
# The two parts add up (in variance) to the posterior sd within Monte Carlo error (the
# allowance of 4 * sqrt(2) MCSEs covers the error of both estimates).
total = np.hypot(width["known μ, τ, σ"], width["added by not knowing them"])
allowance = 4 * np.sqrt(2) * sd_mcse["partial pooling"]
assert (np.abs(total - width["partial pooling"]) < allowance).all()
# With the hyperparameters known, G5 would be more certain than under no pooling.
g5_known_gap = width.loc["G5", "no pooling"] - width.loc["G5", "known μ, τ, σ"]
assert g5_known_gap > 2 * sd_mcse.loc["G5", "no pooling"]
assert (hyper["tau"] < 20).mean() > 0.99  # "nearly all of the posterior of tau"

# %% [markdown]
# With $\mu$, $\tau$ and $\sigma$ known, G5's posterior would be narrower than under no
# pooling (third column); not knowing them adds the fourth, which for G5, far from the
# population mean and with a middling number of students, is large enough to make the total
# wider. The other classes get this extra width too, but for the big classes it is small
# (they barely move, whatever $\tau$), and for the small ones it is outweighed by what they
# borrow from the others.
#
# **Partial pooling without Bayes.** Shrinkage is not a Bayesian privilege. Linear mixed
# models (`lmer` in R's lme4, `MixedLM` in Python's statsmodels) estimate $\mu$, $\tau$ and
# $\sigma$ by (restricted) maximum likelihood and then report shrunken class means, and
# *empirical Bayes* does the same with other estimates of the hyperparameters (Exercise 1
# builds such plug-in estimates). What the full Bayesian treatment adds is the uncertainty
# about the hyperparameters: a plug-in method treats its estimates as known and so reports
# roughly the third column, too narrow, and with few groups its estimate of $\tau$ can land
# exactly on 0, which pools completely (Chung et al. 2013).
#
# ### Shrinkage
#
# The hierarchical estimate of each class is pulled from its own mean towards the
# population mean $\mu$. The plot shows by how much, against the number of students.

# %%
unpooled_means = unpooled_idata.posterior["theta"].mean(("chain", "draw")).to_numpy()
hierarchical_means = hierarchical_idata.posterior["theta"].mean(("chain", "draw")).to_numpy()
shift = pd.Series(np.abs(hierarchical_means - unpooled_means), index=labels)
print(f"G1 (n=1) moved {shift['G1']:.1f} points, G8 (n=20) {shift['G8']:.1f} points")

# %% tags=["check"]
# G1 moves the most and G8 barely (the gaps to the runners-up are many Monte Carlo errors).
assert shift.idxmax() == "G1" and shift["G8"] < 0.5

# %% tags=["slide", "slide-hide-input"]
ax = plot_shrinkage(
    unpooled_means,
    hierarchical_means,
    group_table["n"].to_numpy(),
    population=population_mean,
    labels=labels,
    annotate=["G1", "G5", "G8"],
    population_label="population mean μ (posterior mean)",
    ylabel="estimated class mean",
    title="Partial pooling shrinks small classes the most",
)

# %% [markdown]
# Open circles are the no-pooling estimates, filled circles the hierarchical ones, the
# dashed line the posterior mean of the population mean $\mu$, towards which the estimates
# move. The single-score class with the extreme mean, G1, moves the most (printed above);
# the largest class, G8, barely moves, because its 20 scores outweigh the population
# prior. That is shrinkage: the less a class's own data say, and the further they are from
# the rest, the more the estimate borrows from the other classes.
#
# The target is $\mu$, not the complete-pooling mean: complete pooling weighs every
# *student* equally, so the 20 students of G8 count twenty times as much as G1's one,
# while the population mean weighs *classes*, each by the precision of its mean,
# $1/(\tau^2 + \sigma^2/n_j)$, which grows much less than $n_j$. The two differ a little
# here:

# %%
pooled_mean = pooled_idata.posterior["mu"].mean().item()
print(f"population mean mu: {population_mean:.1f}; complete-pooling mean: {pooled_mean:.1f}")

# %% tags=["check"]
mu_mcse = np.hypot(
    az.mcse(hierarchical_idata, var_names=["mu"])["mu"].item(),
    az.mcse(pooled_idata, var_names=["mu"])["mu"].item(),
)
assert population_mean - pooled_mean > 2 * mu_mcse

# %% [markdown]
# ### Which estimates are closer to the truth?
#
# Because the data are simulated we can grade the estimates (posterior means) against the
# true class means, with the mean squared error over the eight classes.

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
g1_error = squared_error.loc["G1"]
assert mse.idxmin() == "partial pooling"
assert g1_error["partial pooling"] < g1_error["no pooling"]
assert g1_error.idxmin() == "complete pooling"
print(f"mean squared error, partial / no pooling: {mse['partial pooling'] / mse['no pooling']:.0%}")
print(f"best estimate for G1: {g1_error.idxmin()}")

# %% [markdown]
# On this data set partial pooling has the smallest mean squared error of the three models.
# It is not the best for every class: for G1, the single-score class with the extreme
# score, complete pooling happens to be closer, because that class's true mean is near the
# average; partial pooling still reduces the error that no pooling makes by taking the one
# score at face value. And this is *one* data set. Partial pooling is better *on average*
# over data sets drawn from the population, not on every one; on an unlucky draw the
# no-pooling or the complete-pooling estimates can come out ahead. Exercise 3 measures how
# often that happens, and what "on average" means.
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
ax = plot_ppc(hierarchical_idata, num_pp_samples=100, random_seed=RANDOM_SEED)
ax.set_xlabel("test score")
ax.set_ylabel("density")
title = ax.set_title("Posterior predictive check, partial pooling")

# %% [markdown]
# The observed distribution of scores (thick red line) lies inside the band of 100
# replicated data sets (light grey), and the mean of the replications (dashed blue) follows
# it. A numeric version of the same check: the share of replicated data sets whose spread
# of class means exceeds the observed one (a posterior predictive p-value; values near 0 or
# 1 would signal a misfit).

# %%
y_rep = hierarchical_idata.posterior_predictive["y"].stack(sample=("chain", "draw")).to_numpy()
rep_means = np.stack([y_rep[group_idx == j].mean(axis=0) for j in range(n_group)])
observed_spread = group_table["mean"].std()
p_value = np.mean(rep_means.std(axis=0, ddof=1) > observed_spread)
assert 0.05 < p_value < 0.95
print(f"observed sd of class means: {observed_spread:.1f}; p-value: {p_value:.2f}")

# %% [markdown]
# ## Exercises
#
# Exercises 1-4 each end with a cell that checks your answer: run it once your answer is
# stored under the names the exercise gives. It tells you whether the answer is correct; if
# not, how far it is from the expected one, or which common mistake it looks like. An answer
# from MCMC differs from run to run, so the check first asks whether your chains converged,
# then compares within the answer's Monte Carlo standard error: it is designed to fail a
# correct answer in fewer than one check in a thousand.
#
# **Exercise 1 — the shrinkage factor.** For known $\sigma$, $\mu$ and $\tau$ the
# hierarchical estimate of class $j$ is $B_j \mu + (1 - B_j)\bar y_j$ with
# $B_j = \dfrac{\sigma^2 / n_j}{\sigma^2 / n_j + \tau^2}$. Compute $B_j$ for every class,
# with $\sigma$, $\tau$ and $\mu$ at their posterior means. How does $B_j$ change with the
# number of students? Compare this plug-in estimate (an empirical-Bayes-style answer) with
# the hierarchical posterior means. Store the factors in `shrink`, one per class in the
# order of `group_table`.
#
# **Exercise 2 — a ninth class.** A new class joins, with no students tested yet. Use the
# posterior draws of $\mu$ and $\tau$ to draw its mean
# $\theta_{\text{new}} \sim \mathrm{Normal}(\mu, \tau)$, one per posterior draw, and give
# its 94% interval: store its 3% and 97% quantiles in `new_interval`. Compare it with the
# same interval of $\mu$ in the complete-pooling model. Which one would you report, and why?
#
# **Exercise 3 — is partial pooling always better?** Simulate 4,000 new data sets from the
# same process as ours: draw true means $\theta_j \sim \mathrm{Normal}(50, 5)$ for the eight
# classes, then their observed means $\bar y_j \sim \mathrm{Normal}(\theta_j, 8 / \sqrt{n_j})$
# directly (the mean of $n_j$ normal scores is normal with that standard deviation). For
# each data set compute the mean squared error of (a) the class means $\bar y_j$ (no
# pooling with a flat prior) and (b) the partial-pooling estimate of Exercise 1 with the
# *true* $\mu = 50$, $\tau = 5$, $\sigma = 8$. How often does (b) win? By how much on
# average? Compare the average errors with their exact values, $\sigma^2/n_j$ for (a) and
# $(n_j/\sigma^2 + 1/\tau^2)^{-1}$ for (b). Store the number of data sets in `n_sims` and
# the average errors per class in `mse_none` and `mse_partial`. (Fixing the hyperparameters
# at their true values avoids 4,000 MCMC runs; a fitted model must estimate them from the
# data, so expect its advantage to be somewhat smaller.)
#
# **Exercise 4 — between the two extremes.** Change the centered model so that $\tau$ is
# not estimated but fixed: replace its prior by `tau = pm.Data("tau", 5.0)`. Fit the model
# for $\tau = 2$, 8 and 32 (use `pm.set_data({"tau": value})` inside the model context
# before each `pm.sample`), check each fit, and tabulate the posterior mean of $\theta_1$
# against $\tau$. Keep the fits in a dict `fixed_tau_fits`, from the value of $\tau$ to its
# InferenceData. Where do the estimates go as $\tau$ grows? Why does this model, centered as
# it is, not need the non-centered trick?

# %% tags=["solution"]
post = hierarchical_summary["mean"]
n_j = group_table["n"].to_numpy()
shrink = (post["sigma"] ** 2 / n_j) / (post["sigma"] ** 2 / n_j + post["tau"] ** 2)
plug_in = shrink * post["mu"] + (1 - shrink) * group_table["mean"]
assert np.all(np.diff(shrink) <= 0)  # the classes are sorted by size
assert 0.4 < shrink[0] < 0.6 and shrink[-1] < 0.1  # about halfway; a few percent
pd.DataFrame(
    {"n": n_j, "B_j": shrink, "plug-in": plug_in, "MCMC": hierarchical_means},
    index=labels,
).round(2)

# %% tags=["answer-check"]
checks.shrinkage_factors(shrink, hierarchical_idata, group_table)

# %% [markdown] tags=["solution"]
# $B_j$ falls with $n_j$: the single-score classes are pulled about halfway to $\mu$, the
# largest class only a few percent. The plug-in values are close to the MCMC means but
# not equal: the MCMC answer averages over the uncertainty in $\mu$, $\tau$ and $\sigma$
# (and $B_j$ is a non-linear function of them) instead of fixing them at one value.

# %% tags=["solution"]
posterior = hierarchical_idata.posterior
theta_new = rng.normal(posterior["mu"], posterior["tau"])
new_interval = np.quantile(theta_new, [0.03, 0.97])
mu_interval = np.quantile(pooled_idata.posterior["mu"], [0.03, 0.97])
assert np.diff(new_interval)[0] > 3 * np.diff(mu_interval)[0]
print("new class, partial pooling:", new_interval.round(1))
print("mu, complete pooling:       ", mu_interval.round(1))

# %% tags=["answer-check"]
checks.new_class_interval(new_interval, hierarchical_idata)

# %% [markdown] tags=["solution"]
# The complete-pooling interval describes the average of all students, not a class: it
# ignores that classes differ. The hierarchical interval for a new class adds the
# between-class spread $\tau$ (and its uncertainty), so it is several times wider. For a
# class we have not seen, that wider interval is the honest answer.

# %% tags=["solution"]
n_sims, sizes = 4000, np.array(N_PER_GROUP)
theta_sim = rng.normal(50.0, 5.0, size=(n_sims, sizes.size))
ybar_sim = rng.normal(theta_sim, 8.0 / np.sqrt(sizes))
shrink_true = (8.0**2 / sizes) / (8.0**2 / sizes + 5.0**2)
partial_sim = shrink_true * 50.0 + (1 - shrink_true) * ybar_sim
error_none = (ybar_sim - theta_sim) ** 2  # one row per data set, one column per class
error_partial = (partial_sim - theta_sim) ** 2
wins = error_partial.mean(axis=1) < error_none.mean(axis=1)
print(f"partial pooling wins in {wins.mean():.0%} of data sets")
mse_none, mse_partial = error_none.mean(axis=0), error_partial.mean(axis=0)
risk = pd.DataFrame(
    {
        "none, simulated": mse_none,
        "none, exact": 8.0**2 / sizes,
        "partial, simulated": mse_partial,
        "partial, exact": 1 / (sizes / 8.0**2 + 1 / 5.0**2),
    },
    index=pd.Index(labels, name="group"),
)
risk.round(1)

# %% tags=["solution", "check"]
# Each simulated average is a mean of 4,000 squared normal errors: its standard error is
# sqrt(2) * exact / sqrt(4000). Allow 5 of them (16 comparisons).
for method in ["none", "partial"]:
    exact = risk[f"{method}, exact"]
    assert (np.abs(risk[f"{method}, simulated"] - exact) < 5 * np.sqrt(2 / n_sims) * exact).all()
assert 0.5 < wins.mean() < 1
spread = ((theta_sim - 50.0) ** 2).mean(axis=1)  # how far the true means are from mu
assert spread[~wins].mean() > spread[wins].mean()

# %% tags=["answer-check"]
checks.pooling_risk(mse_none, mse_partial, n_sims, N_PER_GROUP)

# %% [markdown] tags=["solution"]
# Partial pooling wins in most, but not all, data sets, and its average error is much
# smaller, for every class and in total; the simulated averages agree with the exact values.
# It loses when the true class means happen to lie further from $\mu$ than $\tau$ suggests
# (the data sets it loses have a larger average $(\theta_j - 50)^2$), so that pulling them
# towards $\mu$ hurts.
#
# What this simulation measures, and what it does not. Averaging over data sets whose true
# means are drawn from the population $\mathrm{Normal}(50, 5)$, with $\mu$, $\tau$ and
# $\sigma$ known, gives the *Bayes risk*, and the posterior mean is the estimate with the
# smallest Bayes risk under squared error, for any number of groups, even one: each class
# on its own gains (each row of the table). That is not Stein's paradox. The *James–Stein*
# result is frequentist and stronger: for $p \ge 3$ independent $X_j \sim
# \mathrm{Normal}(\theta_j, s)$ with the same, known $s$, the estimator
# $\big(1 - (p - 2)s^2 / \lVert X \rVert^2\big) X$, which shrinks towards a fixed point
# chosen in advance (here 0), has a smaller total expected squared error than $X$ itself
# for *every* fixed $\theta$, with no population assumed (Stein 1956; James & Stein 1961).
# Shrinking towards the *estimated* common mean $\bar X$ instead needs $p \ge 4$ (Efron &
# Morris 1973). Neither theorem covers our classes as they are (their means have different
# standard deviations, $8/\sqrt{n_j}$), and neither is what the simulation above shows.

# %% tags=["solution"]
with pm.Model(coords=coords) as fixed_tau_model:
    tau = pm.Data("tau", 5.0)
    mu = pm.Normal("mu", mu=50, sigma=20)
    theta = pm.Normal("theta", mu=mu, sigma=tau, dims="group")
    sigma = pm.HalfNormal("sigma", sigma=10)
    pm.Normal("y", mu=theta[group_idx], sigma=sigma, observed=y)

fixed_tau_fits, fixed_tau_means = {}, {}
for tau_value in [2.0, 8.0, 32.0]:
    with fixed_tau_model:
        pm.set_data({"tau": tau_value})
        fixed_tau_idata = pm.sample(
            draws=1000, tune=1000, chains=4, cores=CORES, random_seed=rng, progressbar=False
        )
    check_sampling(fixed_tau_idata, var_names=["mu", "sigma", "theta"])
    fixed_tau_fits[tau_value] = fixed_tau_idata
    fixed_tau_means[f"tau = {tau_value:g}"] = fixed_tau_idata.posterior["theta"].mean(
        ("chain", "draw")
    )
fixed_tau_table = pd.DataFrame(
    {name: means.to_series() for name, means in fixed_tau_means.items()}
).assign(**{"no pooling": unpooled_means, "complete pooling": pooled_mean})
fixed_tau_table.round(1)

# %% tags=["solution", "check"]
g1_path = fixed_tau_table.loc["G1", ["tau = 2", "tau = 8", "tau = 32"]]
assert g1_path.is_monotonic_increasing
assert abs(g1_path["tau = 2"] - pooled_mean) < abs(g1_path["tau = 2"] - unpooled_means[0])
assert abs(g1_path["tau = 32"] - unpooled_means[0]) < abs(g1_path["tau = 32"] - pooled_mean)

# %% tags=["answer-check"]
checks.fixed_tau_posteriors(fixed_tau_fits, y, group_idx)

# %% [markdown] tags=["solution"]
# At $\tau = 2$ every class is pulled almost to the common mean, close to complete pooling;
# at $\tau = 32$ each class keeps nearly its own mean, close to no pooling; $\tau = 8$ sits
# in between. Every check passes without any reparameterisation: the funnel comes from the
# sampler having to move $\tau$ and the $\theta_j$ together, and with $\tau$ fixed there is
# no funnel. The hierarchical model estimates $\tau$ instead of asking us to choose it, and
# averages over what the data leave uncertain.

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - **Hierarchical** (multilevel, nested, mixed-effects) data: observations in groups, groups
#   drawn from a population. Pooling them is justified when the groups are
#   **exchangeable**: alike as far as we know.
# - **Complete pooling** ignores the groups: precise, but wrong for atypical groups.
# - **No pooling** trusts each group alone: one observation gives back that observation,
#   blurred by the noise and pulled by an arbitrary prior; a per-group variance from one
#   point is unidentified.
# - **Partial pooling** learns the groups' prior $\mathrm{Normal}(\mu, \tau)$ from all
#   groups: likelihood × prior × hyperprior. Mixed models and empirical Bayes pool too; full
#   Bayes adds the uncertainty about $\mu$, $\tau$ and $\sigma$, which can even widen an
#   interval (G5).
# - **Shrinkage** moves small, extreme groups most towards the population mean $\mu$; it
#   lowers the error on average, not on every data set.
# - $\tau \to 0$ is complete pooling, $\tau \to \infty$ no pooling; the data choose $\tau$.
# - Check every fit: 0 **divergences**, $\hat R \le 1.01$, bulk **ESS** $\ge 400$. The
#   centered hierarchy has a **funnel** with divergences in its neck; the **non-centered**
#   form $\theta_j = \mu + \tau z_j$ is the same model without that funnel.

# %% [markdown]
# ## References
#
# - Gelman, A., & Hill, J. (2007). *Data Analysis Using Regression and
#   Multilevel/Hierarchical Models*. Cambridge University Press. Complete, no and partial
#   pooling (ch. 12).
# - Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A., & Rubin, D. B.
#   (2013). *Bayesian Data Analysis* (3rd ed.). CRC Press. Hierarchical models and
#   exchangeability with de Finetti's theorem (ch. 5), posterior predictive checks (ch. 6).
# - Martin, O. A. (2024). *Bayesian Analysis with Python* (3rd ed.). Packt. Hierarchical
#   models in PyMC and ArviZ.
# - McElreath, R. (2020). *Statistical Rethinking* (2nd ed.). CRC Press. Partial pooling
#   and shrinkage (ch. 13), divergent transitions and non-centered priors (§13.4).
# - Vehtari, A., Gelman, A., Simpson, D., Carpenter, B., & Bürkner, P.-C. (2021).
#   Rank-normalization, folding, and localization: an improved $\hat R$ for assessing
#   convergence of MCMC. *Bayesian Analysis*, 16(2), 667–718. $\hat R$ and ESS as ArviZ
#   computes them.
# - Betancourt, M., & Girolami, M. (2015). Hamiltonian Monte Carlo for hierarchical models.
#   In *Current Trends in Bayesian Methodology with Applications*, CRC Press. Funnels,
#   divergences and the centered versus non-centered forms.
# - Stein, C. (1956). Inadmissibility of the usual estimator for the mean of a multivariate
#   normal distribution. *Proc. Third Berkeley Symposium*, 1, 197–206; James, W., & Stein,
#   C. (1961). Estimation with quadratic loss. *Proc. Fourth Berkeley Symposium*, 1,
#   361–379. The James–Stein result (Exercise 3).
# - Efron, B., & Morris, C. (1973). Stein's estimation rule and its competitors — an
#   empirical Bayes approach. *Journal of the American Statistical Association*, 68(341),
#   117–130. Shrinking towards an estimated mean; empirical Bayes.
# - Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
#   models using lme4. *Journal of Statistical Software*, 67(1). Partial pooling by
#   (restricted) maximum likelihood.
# - Chung, Y., Rabe-Hesketh, S., Dorie, V., Gelman, A., & Liu, J. (2013). A nondegenerate
#   penalized likelihood estimator for variance parameters in multilevel models.
#   *Psychometrika*, 78(4), 685–709. Maximum-likelihood estimates of $\tau$ on the
#   boundary, 0.
# - Rubin, D. B. (1981). Estimation in parallel randomized experiments. *Journal of
#   Educational Statistics*, 6(4), 377–401. The real eight schools (lesson 07).
#
# ## Versions

# %%
print(versions())
