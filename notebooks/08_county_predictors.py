# %% [markdown]
# # 08 · Radon: what the county tells us
#
# Lesson 05 let every Minnesota county have its own radon level and pooled the counties toward
# one statewide mean. But we know things about the counties themselves. Radon comes from the
# decay of uranium, and the survey recorded the uranium in each county's soil. This lesson
# puts that knowledge into the hierarchy, the step that Gelman & Hill (2007, chapter 12), the
# PyMC radon primer and *Statistical Rethinking* (chapter 13) all take next: a **group-level
# predictor**.
#
# **Learning goals.** After this lesson you can
#
# 1. write a hierarchy whose group means follow a regression on a group-level predictor, and
#    say what that does to shrinkage (toward a line, not toward one mean);
# 2. measure how much of the between-group spread a predictor explains, with its uncertainty;
# 3. add the group mean of a home-level predictor (a *contextual effect*) and tell the
#    within-county effect from the between-county effect;
# 4. split the variance into a between-county and a within-county part (the intraclass
#    correlation) and say what it means for a home;
# 5. predict for a new home in a known county and in a county the survey never visited, and
#    name the uncertainties each prediction carries.
#
# Lesson 05 introduced the data, the funnel and the non-centered form; here we use them.

# %% [markdown] tags=["slide"]
# ## The question
#
# Counties differ in radon. **Does the uranium in a county's soil explain why?** And if it
# does, what should we predict for a home in a county with two measured homes, or with none?

# %%
import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm

from course_utils.checks import county_predictors as checks
from course_utils.data import load_radon
from course_utils.diagnostics import check_sampling
from course_utils.environment import sampler_cores, versions
from course_utils.plots import model_graph, plot_ppc, use_course_style

# %%
RANDOM_SEED = 8080  # seeds every sampler and predictive draw
rng = np.random.default_rng(RANDOM_SEED)
CORES = sampler_cores()  # worker processes for the chains
use_course_style()

# %% [markdown]
# ## The data, home by home and county by county
#
# The same survey and loader as lesson 05. A home has a county, the floor of its measurement
# (`floor`: 0 = basement, 1 = first floor) and its log radon. A county has its soil uranium,
# `log_uranium` ($u_j$, the natural log of parts per million), one value per county. From the
# homes we compute one more county-level quantity: `floor_mean` ($\bar x_j$), the share of the
# county's measured homes that were measured on the first floor.

# %%
radon = load_radon()
county_idx = radon["county"].cat.codes.to_numpy()
coords = {"county": radon["county"].cat.categories}
floor = radon["floor"].to_numpy()
log_radon = radon["log_radon"].to_numpy()

# %%
county_table = radon.groupby("county", observed=True).agg(
    homes=("floor", "size"),
    uranium_values=("log_uranium", "nunique"),
    log_uranium=("log_uranium", "first"),
    floor_mean=("floor", "mean"),
)
county_table = county_table.reindex(coords["county"])
assert (county_table["uranium_values"] == 1).all(), "one uranium value per county"
log_uranium = county_table["log_uranium"].to_numpy()
floor_mean = county_table["floor_mean"].to_numpy()
homes = county_table["homes"].to_numpy()
print(f"{len(radon)} homes in {len(county_table)} counties")
county_table[["homes", "log_uranium", "floor_mean"]].describe().round(2)

# %% [markdown]
# ## 1. Recap: the varying-intercept model
#
# Lesson 05's starting point, with the weakly informative priors of its first exercise. For
# home $i$ in county $j[i]$ with floor $x_i$:
#
# $$
# \begin{aligned}
# y_i &\sim \mathrm{Normal}(\alpha_{j[i]} + \beta x_i,\ \sigma_y), \\
# \alpha_j &= \mu_\alpha + \sigma_\alpha z_j, \qquad z_j \sim \mathrm{Normal}(0, 1), \\
# \mu_\alpha,\ \beta &\sim \mathrm{Normal}(0, 2), \qquad
# \sigma_\alpha,\ \sigma_y \sim \mathrm{HalfNormal}(1).
# \end{aligned}
# $$
#
# $\alpha_j$ is the county's basement level, $\beta$ the floor effect, $\sigma_\alpha$ the
# spread of the counties around the statewide mean $\mu_\alpha$, and $\sigma_y$ the spread of
# homes within a county. The model is written non-centered (lesson 05).

# %%
with pm.Model(coords=coords) as intercept_model:
    mu_alpha = pm.Normal("mu_alpha", mu=0, sigma=2)
    sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=1)
    z = pm.Normal("z", mu=0, sigma=1, dims="county")
    alpha = pm.Deterministic("alpha", mu_alpha + sigma_alpha * z, dims="county")
    beta = pm.Normal("beta", mu=0, sigma=2)
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal("y", mu=alpha[county_idx] + beta * floor, sigma=sigma_y, observed=log_radon)


# %% [markdown]
# Every model of this lesson is sampled with the same settings, so one small function holds
# them: 4 chains of 1000 draws after 1000 tuning steps, with `target_accept=0.95` (at 0.9,
# one of the first four sampler seeds tried gave a fit with a few divergences).


# %%
def fit(model):
    """Sample ``model`` with the lesson's settings."""
    with model:
        return pm.sample(
            draws=1000,
            tune=1000,
            chains=4,
            cores=CORES,
            target_accept=0.95,
            random_seed=rng,
            progressbar=False,
        )


# %%
intercept_idata = fit(intercept_model)
print(check_sampling(intercept_idata, var_names=["mu_alpha", "sigma_alpha", "beta", "sigma_y"]))

# %%
HYPER = ["mu_alpha", "beta", "sigma_alpha", "sigma_y"]
az.summary(intercept_idata, var_names=HYPER, kind="all").round(3)

# %% [markdown]
# The counties spread around the statewide basement level with $\sigma_\alpha$ of about a
# third on the log scale, and homes within a county scatter with $\sigma_y$ of about 0.73
# (table above; `mcse_mean` is the Monte Carlo error of each mean). The question of this
# lesson: how much of that $\sigma_\alpha$ is uranium?

# %% [markdown]
# ## 2. A county-level predictor: uranium
#
# Instead of one statewide mean, each county's intercept now has its own expected value, a
# linear function of its soil uranium $u_j$:
#
# $$
# \alpha_j \sim \mathrm{Normal}(\gamma_0 + \gamma_1 u_j,\ \sigma_\alpha), \qquad
# \gamma_0,\ \gamma_1 \sim \mathrm{Normal}(0, 2),
# $$
#
# written non-centered as $\alpha_j = \gamma_0 + \gamma_1 u_j + \sigma_\alpha z_j$. This is a
# regression at the county level, inside the hierarchy. $\sigma_\alpha$ changes its meaning:
# it is now the spread of the counties **around the line**, what uranium leaves unexplained.

# %%
with pm.Model(coords=coords) as uranium_model:
    gamma_0 = pm.Normal("gamma_0", mu=0, sigma=2)
    gamma_1 = pm.Normal("gamma_1", mu=0, sigma=2)
    sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=1)
    z = pm.Normal("z", mu=0, sigma=1, dims="county")
    alpha = pm.Deterministic(
        "alpha", gamma_0 + gamma_1 * log_uranium + sigma_alpha * z, dims="county"
    )
    beta = pm.Normal("beta", mu=0, sigma=2)
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal("y", mu=alpha[county_idx] + beta * floor, sigma=sigma_y, observed=log_radon)

# %% tags=["nbval-ignore-output"]
model_graph(uranium_model)

# %% [markdown]
# ### Prior predictive check
#
# Before fitting: do these priors produce homes that could exist? The observed log radon lies
# between about $-2.3$ and $3.9$; a log radon of 10 would be 22,000 pCi/L, about 5,000 times
# the EPA's action level.

# %%
with uranium_model:
    uranium_prior = pm.sample_prior_predictive(draws=1000, random_seed=rng)
prior_y = uranium_prior.prior_predictive["y"].to_numpy().ravel()
prior_low, prior_high = np.quantile(prior_y, [0.05, 0.95])
print(f"observed log radon: [{log_radon.min():.1f}, {log_radon.max():.1f}]")
print(f"90% of simulated log radon values lie in [{prior_low:.1f}, {prior_high:.1f}]")
print(f"share of simulated homes above log radon 10: {np.mean(prior_y > 10):.2%}")

# %% tags=["check"]
assert prior_low < log_radon.min() and prior_high > log_radon.max()
assert np.mean(prior_y > 10) < 0.01

# %% [markdown]
# The priors cover the observed range generously and leave out almost every absurd home
# (printed above): weakly informative, as intended.

# %%
uranium_idata = fit(uranium_model)
print(check_sampling(uranium_idata, var_names=["gamma_0", "gamma_1", "sigma_alpha", "z"]))

# %%
FIXED = ["gamma_0", "gamma_1", "beta", "sigma_alpha", "sigma_y"]
az.summary(uranium_idata, var_names=FIXED, kind="all").round(3)

# %% [markdown]
# ### How much of the between-county spread does uranium explain?
#
# Compare $\sigma_\alpha$ before and after (table below, with the Monte Carlo error of each
# mean). The share of the between-county *variance* that uranium explains is
# $1 - \sigma_{\alpha,\text{uranium}}^2 / \sigma_{\alpha,\text{recap}}^2$. The two posteriors
# come from separate fits, so we pair their draws at random: that gives the posterior of the
# ratio as if the two $\sigma_\alpha$ were independent, which ignores that they come from the
# same data; read its interval as a rough one.

# %%
sigma_table = pd.concat(
    {
        "recap (no predictor)": az.summary(intercept_idata, var_names=["sigma_alpha"]),
        "with uranium": az.summary(uranium_idata, var_names=["sigma_alpha"]),
    }
).droplevel(1)
sigma_table[["mean", "sd", "mcse_mean", "hdi_3%", "hdi_97%"]]

# %%
sigma_before = az.extract(intercept_idata)["sigma_alpha"].to_numpy()
sigma_after = az.extract(uranium_idata)["sigma_alpha"].to_numpy()
explained = 1 - rng.permutation(sigma_after) ** 2 / sigma_before**2
low, high = np.quantile(explained, [0.03, 0.97])
print(
    f"share of the between-county variance explained by uranium: median "
    f"{np.median(explained):.2f}, 94% interval [{low:.2f}, {high:.2f}]"
)

# %% tags=["check"]
mcse = np.hypot(*sigma_table["mcse_mean"])
assert sigma_table["mean"].iloc[0] - sigma_table["mean"].iloc[1] > 0.1 + 4 * mcse
assert 0.5 < np.median(explained) < 0.95

# %% [markdown]
# $\sigma_\alpha$ falls to less than half its value, so uranium explains most of the
# between-county variance (the median share printed above), though the interval is wide:
# with 85 counties, a spread is not known precisely.
#
# ### The published fit
#
# Gelman & Hill (2007, section 12.6, p. 266) fit the same model by restricted maximum
# likelihood with R's `lmer`: intercept 1.47 (standard error 0.04), floor $-0.67$ (0.07),
# uranium 0.72 (0.09), county spread 0.16 and residual spread 0.76. With priors this weak and
# 919 homes, the posterior means should sit within about one of those standard errors of the
# estimates. They do (table and check below), and the published county spread lies inside
# our 94% interval for $\sigma_\alpha$.
#
# Our $\sigma_y$, about 0.73, is lower than their 0.76, and not by chance: the two analyses do
# not use quite the same outcome. This course's file stores $\log(\text{radon} + 0.1)$ for
# every home, as the PyMC radon primer does (the first AITKIN home, 2.2 pCi/L in the survey,
# appears as $\log 2.3 = 0.83$), while Gelman & Hill take $\log(\text{radon})$ and use 0.1
# only for readings of zero. Adding 0.1 compresses the low readings, so homes scatter a
# little less on our scale. The coefficients hardly notice; the residual spread does.

# %%
published = pd.DataFrame(
    {"estimate": [1.47, -0.67, 0.72], "se": [0.04, 0.07, 0.09]},
    index=["gamma_0", "beta", "gamma_1"],
)
ours = az.summary(uranium_idata, var_names=list(published.index), round_to="none")
published["posterior mean"] = ours["mean"]
published["difference / se"] = (ours["mean"] - published["estimate"]) / published["se"]
published.round(2)

# %% tags=["check"]
# The printed estimates are rounded to 0.005; our means carry their Monte Carlo error.
slack = (0.005 + 4 * ours["mcse_mean"]) / published["se"]
assert (published["difference / se"].abs() < 1 + slack).all()
spreads = az.summary(uranium_idata, var_names=["sigma_alpha", "sigma_y"], round_to="none")
assert spreads.loc["sigma_alpha", "hdi_3%"] < 0.16 < spreads.loc["sigma_alpha", "hdi_97%"]
assert spreads.loc["sigma_y", "mean"] < 0.75

# %% [markdown]
# ### The county intercepts against uranium
#
# Gelman & Hill's figure 12.6 plots each county's estimated intercept against its uranium,
# with the fitted line $\gamma_0 + \gamma_1 u$. We do the same with the posterior: a point for
# each county's posterior mean of $\alpha_j$, a bar for its central 68% interval (about ±1
# posterior sd).

# %% tags=["slide", "slide-hide-input"]
uranium_post = az.extract(uranium_idata)
alpha_draws = uranium_post["alpha"].to_numpy()  # (county, draw)
alpha_mean = alpha_draws.mean(axis=1)
alpha_low, alpha_high = np.quantile(alpha_draws, [0.16, 0.84], axis=1)
grid = np.linspace(log_uranium.min() - 0.05, log_uranium.max() + 0.05, 50)
gamma_0_mean = uranium_post["gamma_0"].mean().item()
gamma_1_mean = uranium_post["gamma_1"].mean().item()

fig, ax = plt.subplots(figsize=(8, 5))
ax.vlines(log_uranium, alpha_low, alpha_high, color="C0", alpha=0.5, lw=1)
ax.scatter(log_uranium, alpha_mean, s=12, color="C0", zorder=3, label="county intercept")
ax.plot(grid, gamma_0_mean + gamma_1_mean * grid, color="C3", label="fitted line")
ax.set(xlabel="county log uranium $u_j$", ylabel=r"basement level $\alpha_j$ (log radon)")
ax.set_title("County intercepts follow the soil's uranium")
legend = ax.legend(loc="upper left")

# %% [markdown]
# The intercepts rise with uranium along the line, and scatter around it by about
# $\sigma_\alpha$. Counties with few homes have long bars; their points sit close to the line.
#
# ### Shrinkage toward the line
#
# In the recap model a county with few homes is pulled toward the statewide mean $\mu_\alpha$.
# With uranium it is pulled toward **the line at its own uranium**: the model's best guess for
# a county with that soil. We follow three counties: the lowest- and the highest-uranium
# county among those with at most two measured homes, and the county with the most homes.
# For each, its own data (the mean of its homes' log radon, adjusted to a basement with the
# recap model's $\beta$), the recap estimate and the statewide mean it shrinks toward, the
# uranium estimate and the line value it shrinks toward.

# %%
small = county_table.index[homes <= 2]
named = [
    county_table.loc[small, "log_uranium"].idxmin(),
    county_table.loc[small, "log_uranium"].idxmax(),
    county_table["homes"].idxmax(),
]
intercept_post = az.extract(intercept_idata)
beta_recap = intercept_post["beta"].mean().item()
own_data = pd.Series(log_radon - beta_recap * floor).groupby(radon["county"], observed=True).mean()
shrink_table = pd.DataFrame(
    {
        "homes": county_table["homes"],
        "u_j": county_table["log_uranium"],
        "own data": own_data,
        "recap: alpha_j": intercept_post["alpha"].mean("sample").to_series(),
        "recap: mu_alpha": intercept_post["mu_alpha"].mean().item(),
        "uranium: alpha_j": pd.Series(alpha_mean, index=coords["county"]),
        "uranium: line": gamma_0_mean + gamma_1_mean * county_table["log_uranium"],
    }
).loc[named]
shrink_table.round(2)

# %% [markdown]
# The small counties have little data, so both models pull them most of the way, but toward
# different targets. COOK, the low-uranium county whose two basements read low, is pulled up
# most of the way to the statewide mean by the recap model; the uranium model expects low
# radon from its soil and keeps it lower, near its line value. ROCK's two homes read below
# its high line: the recap model pulls it toward the statewide mean, the uranium model lifts
# it up to near its line. ST LOUIS, with 116 homes, moves little in either: its own data
# decide. The table below gives the share of the distance from its own data to the target
# that each estimate closed.

# %%
closed = pd.DataFrame(
    {
        "recap: toward mu_alpha": 1
        - (shrink_table["recap: alpha_j"] - shrink_table["recap: mu_alpha"])
        / (shrink_table["own data"] - shrink_table["recap: mu_alpha"]),
        "uranium: toward the line": 1
        - (shrink_table["uranium: alpha_j"] - shrink_table["uranium: line"])
        / (shrink_table["own data"] - shrink_table["uranium: line"]),
    }
)
closed.round(2)

# %% tags=["check"]
low_u, high_u, largest = named
for county in (low_u, high_u):
    target_gap = abs(
        shrink_table.loc[county, "uranium: alpha_j"] - shrink_table.loc[county, "uranium: line"]
    )
    recap_gap = abs(
        shrink_table.loc[county, "recap: alpha_j"] - shrink_table.loc[county, "uranium: line"]
    )
    assert target_gap < recap_gap, county  # closer to its line with uranium than without
    assert closed.loc[county].min() > 0.5, county
assert closed.loc[largest].max() < 0.5

# %% [markdown]
# Why does a county with few homes shrink so far? Given the parameters, its estimate weighs
# its own mean, with precision $n_j / \sigma_y^2$, against the line, with precision
# $1 / \sigma_\alpha^2$ (lesson 01's precision weighting). The line is therefore worth
# $k = (\sigma_y / \sigma_\alpha)^2$ homes, and a county closes the share $k / (n_j + k)$ of the
# distance to its line. At the posterior means, $k$ is about two dozen homes (printed below):
# two homes barely count, 116 homes count for much more. The shares this predicts (last
# column below) are close to the ones measured (the column before it); they are not equal,
# because the posterior averages over $\sigma_\alpha$ and the line instead of fixing them.
# Uranium made the line better, its $\sigma_\alpha$ smaller, so each county borrows more
# from it.

# %%
k_homes = (uranium_post["sigma_y"].mean().item() / uranium_post["sigma_alpha"].mean().item()) ** 2
closed["uranium: k / (n_j + k)"] = k_homes / (shrink_table["homes"] + k_homes)
print(f"the line is worth k = {k_homes:.0f} homes")
closed.round(2)

# %% tags=["check"]
assert 18 < k_homes < 32
share_gap = closed["uranium: k / (n_j + k)"] - closed["uranium: toward the line"]
assert share_gap.abs().max() < 0.1

# %% [markdown]
# ## 3. The contextual effect: the county's share of first-floor homes
#
# A county-level predictor may also be the **county mean of a home-level predictor**. Add
# $\bar x_j$, the share of the county's measured homes measured on the first floor:
#
# $$
# \alpha_j = \gamma_0 + \gamma_1 u_j + \gamma_2 \bar x_j + \sigma_\alpha z_j, \qquad
# y_i \sim \mathrm{Normal}(\alpha_{j[i]} + \beta x_i,\ \sigma_y).
# $$
#
# Now the floor enters twice, and the two coefficients answer different questions.
#
# - **Within a county**, two homes differ in floor but share $\alpha_j$: their expected
#   difference is $\beta$, the *within-county* effect.
# - **Between counties**, a county whose homes were all measured on the first floor
#   ($\bar x_j = 1$) and one with only basements ($\bar x_j = 0$), at equal uranium, differ by
#   $\beta + \gamma_2$: the *between-county* effect. $\gamma_2$, the difference, is the
#   *contextual effect*.
#
# Without $\bar x_j$ the model forces one coefficient to be both. Nothing says they are equal:
# within a county, the floor is close to physics (the gas comes from the ground); between
# counties, the share of first-floor measurements goes with everything else that differs
# between counties (how houses are built, soils and water tables where basements are rare,
# who took part in the survey).

# %%
with pm.Model(coords=coords) as contextual_model:
    gamma_0 = pm.Normal("gamma_0", mu=0, sigma=2)
    gamma_1 = pm.Normal("gamma_1", mu=0, sigma=2)
    gamma_2 = pm.Normal("gamma_2", mu=0, sigma=2)
    sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=1)
    z = pm.Normal("z", mu=0, sigma=1, dims="county")
    county_line = gamma_0 + gamma_1 * log_uranium + gamma_2 * floor_mean
    alpha = pm.Deterministic("alpha", county_line + sigma_alpha * z, dims="county")
    beta = pm.Normal("beta", mu=0, sigma=2)
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal("y", mu=alpha[county_idx] + beta * floor, sigma=sigma_y, observed=log_radon)

# %%
contextual_idata = fit(contextual_model)
print(
    check_sampling(
        contextual_idata, var_names=["gamma_0", "gamma_1", "gamma_2", "sigma_alpha", "z"]
    )
)

# %%
contextual_post = az.extract(contextual_idata)
within = contextual_post["beta"].to_numpy()
contextual = contextual_post["gamma_2"].to_numpy()
effects = pd.DataFrame(
    {
        "within county (beta)": within,
        "between counties (beta + gamma_2)": within + contextual,
        "contextual (gamma_2)": contextual,
    }
)
effect_table = effects.describe(percentiles=[0.03, 0.97]).T[["mean", "std", "3%", "97%"]]
effect_table["P(> 0)"] = (effects > 0).mean()
effect_table.round(2)

# %% tags=["check"]
assert effect_table.loc["within county (beta)", "97%"] < -0.5
assert effect_table.loc["contextual (gamma_2)", "P(> 0)"] > 0.9
between = effect_table.loc["between counties (beta + gamma_2)"]
assert between["3%"] < 0 and between["97%"] > -0.2

# %% [markdown]
# The within-county effect is clearly negative: in the same county, a first-floor reading is
# lower than a basement one by about 0.7 on the log scale, a factor of about 2. The
# between-county effect is less than half as large and uncertain (its interval reaches from
# well below zero to near zero), and the contextual effect $\gamma_2$ is positive with high
# posterior probability (table above).
#
# Gelman & Hill (2007, section 21.7, p. 480) fit this model with `lmer`: floor $-0.72$ (0.07),
# county floor share 0.41 (0.20), uranium 0.72 (0.09), intercept 1.39 (0.05). Our posterior
# means agree within about one of those standard errors (check below).

# %%
published_contextual = pd.DataFrame(
    {"estimate": [1.39, 0.72, 0.41, -0.72], "se": [0.05, 0.09, 0.20, 0.07]},
    index=["gamma_0", "gamma_1", "gamma_2", "beta"],
)
ours = az.summary(contextual_idata, var_names=list(published_contextual.index), round_to="none")
published_contextual["posterior mean"] = ours["mean"]
published_contextual["difference / se"] = (
    ours["mean"] - published_contextual["estimate"]
) / published_contextual["se"]
published_contextual.round(2)

# %% tags=["check"]
slack = (0.005 + 4 * ours["mcse_mean"]) / published_contextual["se"]
assert (published_contextual["difference / se"].abs() < 1 + slack).all()

# %% [markdown]
# **What may we conclude?** These are observational data: nobody assigned floors or counties.
# The within-county $\beta$ compares homes that share their county's soil and climate, so it
# is the better guide to what moving a detector upstairs does, though homes measured on the
# first floor may still differ in other ways (houses without a basement are built
# differently). The contextual effect says that counties with many first-floor measurements
# have more radon than their floor mix alone predicts. It is **not** the effect of one's
# neighbours' floors: $\bar x_j$ stands for whatever goes with basement-less housing in a
# county. It is also measured with error: in a county with three measured homes, $\bar x_j$
# is a rough estimate of the county's housing mix. Reading the between-county association as
# the within-county effect is the *ecological fallacy*; keeping both in the model keeps them
# apart.

# %% [markdown]
# ## 4. How much of the variation lies between counties?
#
# In a varying-intercept model two homes of the same county, on the same floor, share
# $\alpha_j$ and have independent home-level errors. Given the parameters, their covariance is
# $\sigma_\alpha^2$ and each has variance $\sigma_\alpha^2 + \sigma_y^2$, so their correlation
# is the **intraclass correlation**
#
# $$
# \mathrm{ICC} = \frac{\sigma_\alpha^2}{\sigma_\alpha^2 + \sigma_y^2},
# $$
#
# the share of the variance of a home's log radon (beyond what the model's predictors
# explain) that lies between counties. This holds under the model's assumptions: county
# effects independent of the home-level errors, and one $\sigma_y$ for every county. Each
# posterior draw gives one value, so the ICC has a posterior.


# %%
def icc(post):
    """Intraclass correlation, one value per posterior draw."""
    sigma_alpha, sigma_y = post["sigma_alpha"].to_numpy(), post["sigma_y"].to_numpy()
    return sigma_alpha**2 / (sigma_alpha**2 + sigma_y**2)


icc_draws = {"recap (no predictor)": icc(intercept_post), "with uranium": icc(uranium_post)}
icc_table = pd.DataFrame(icc_draws).describe(percentiles=[0.03, 0.5, 0.97]).T
icc_table[["mean", "3%", "50%", "97%"]].round(3)

# %% tags=["check"]
assert 0.08 < icc_table.loc["recap (no predictor)", "50%"] < 0.3
assert icc_table.loc["with uranium", "97%"] < icc_table.loc["recap (no predictor)", "50%"]

# %% [markdown]
# Without uranium, about a sixth of the (floor-adjusted) variance of log radon lies between
# counties; with uranium, the county-to-county part left over is a few percent (table above).
# For a new home this means: knowing its county tells us something, but most of the
# uncertainty about one home's radon is the home itself. Two homes in the same county
# correlate only weakly, and once the county's uranium is known they correlate more weakly
# still. That is why the EPA asks every household to measure.
#
# The formula is a statement about the model, so we can check it by simulation: draw many
# counties and two homes in each from the recap model at its posterior means; the
# correlation of the two homes' readings must equal the formula at those values.

# %%
n_pairs = 200_000
sigma_alpha_hat = intercept_post["sigma_alpha"].mean().item()
sigma_y_hat = intercept_post["sigma_y"].mean().item()
county_shift = rng.normal(0, sigma_alpha_hat, n_pairs)
two_homes = county_shift[:, None] + rng.normal(0, sigma_y_hat, (n_pairs, 2))
simulated_icc = np.corrcoef(two_homes.T)[0, 1]
formula_icc = sigma_alpha_hat**2 / (sigma_alpha_hat**2 + sigma_y_hat**2)
print(f"formula: {formula_icc:.3f}; simulated pairs: {simulated_icc:.3f}")

# %% tags=["check"]
# The sampling sd of a correlation estimated from n pairs is about (1 - r^2) / sqrt(n).
assert abs(simulated_icc - formula_icc) < 4 * (1 - formula_icc**2) / np.sqrt(n_pairs)

# %% [markdown]
# ## 5. Predictions: a known county and a new one
#
# Take the high-uranium county with two homes from section 2, and predict the log radon of a
# new basement there. Then predict a basement in a county the survey never visited but whose
# soil uranium is known, the same as that county's. Both use the uranium model:
#
# - **Existing county**: $\tilde y = \alpha_j + \varepsilon$ for each posterior draw of
#   $\alpha_j$, with $\varepsilon \sim \mathrm{Normal}(0, \sigma_y)$. It carries the
#   uncertainty about the line ($\gamma_0$, $\gamma_1$), what the county's two homes say about
#   its deviation from the line, and the home-to-home spread $\sigma_y$.
# - **New county**: $\tilde\alpha = \gamma_0 + \gamma_1 u + \sigma_\alpha \tilde z$ with a fresh
#   $\tilde z \sim \mathrm{Normal}(0, 1)$ for each draw, then $\tilde y = \tilde\alpha +
#   \varepsilon$. It carries the line's uncertainty, the *whole* county-to-county spread
#   $\sigma_\alpha$ (nothing is known about this county's deviation), and $\sigma_y$.

# %%
PER_DRAW = 20  # predictive draws per posterior draw
draws = uranium_post.sizes["sample"]
u_known = county_table.loc[high_u, "log_uranium"]
alpha_known = uranium_post["alpha"].sel(county=high_u).to_numpy()
alpha_new = rng.normal(
    uranium_post["gamma_0"].to_numpy() + uranium_post["gamma_1"].to_numpy() * u_known,
    uranium_post["sigma_alpha"].to_numpy(),
    size=(PER_DRAW, draws),
)
sigma_y_draws = uranium_post["sigma_y"].to_numpy()
county_parts = {f"{high_u} (2 homes)": np.tile(alpha_known, (PER_DRAW, 1)), "new county": alpha_new}
EPA_ACTION = np.log(4 + 0.1)  # 4 pCi/L, on the file's log(radon + 0.1) scale
rows = {}
for name, county_part in county_parts.items():
    y_new = rng.normal(county_part, sigma_y_draws)
    rows[name] = {
        "mean": y_new.mean(),
        "sd": y_new.std(),
        "3%": np.quantile(y_new, 0.03),
        "97%": np.quantile(y_new, 0.97),
        "sd of the county part": county_part.std(),
        "P(above 4 pCi/L)": np.mean(y_new > EPA_ACTION),
    }
prediction_table = pd.DataFrame(rows).T
prediction_table.round(2)

# %% tags=["check"]
county_sd = prediction_table["sd of the county part"]
assert (county_sd < 0.4 * prediction_table["sd"]).all()  # the home dominates
assert (prediction_table["sd"] - prediction_table["sd"].mean()).abs().max() < 0.05

# %% [markdown]
# The two predictions are almost the same (table above). The known county's two homes shift
# its prediction only a little, because two homes weigh little against the line (section 2).
# Both predictive intervals are wide, and for the same reason: the spread between homes,
# $\sigma_y \approx 0.73$, dominates. The county-level part of each prediction has a standard
# deviation well under half of the total. A model can tell a county's radon level far better
# than a single home's.
#
# What changes between the two is *which* county-level uncertainty they carry: the known
# county's deviation from the line is constrained (weakly) by its data, the new county's not
# at all. The printed `sd of the county part` shows both; with two homes, they are close.

# %% [markdown]
# ## Posterior predictive check
#
# Does the uranium model reproduce what we care about? A hierarchy is about counties, so we
# check a county-level feature: the spread of the county mean log radon across the 85
# counties (the standard deviation of the 85 county means, small counties included), in the
# data and in data sets replicated from the posterior.

# %%
with uranium_model:
    pm.sample_posterior_predictive(
        uranium_idata, random_seed=rng, progressbar=False, extend_inferencedata=True
    )
replicated = uranium_idata.posterior_predictive["y"].stack(sample=("chain", "draw"))
replicated_means = pd.DataFrame(replicated.to_numpy()).groupby(county_idx).mean()  # county x draw
replicated_spread = replicated_means.std().to_numpy()
observed_spread = pd.Series(log_radon).groupby(county_idx).mean().std()
p_value = np.mean(replicated_spread >= observed_spread)
print(f"sd of the county means: observed {observed_spread:.3f}")
print(f"replicated: 94% of draws in {np.round(np.quantile(replicated_spread, [0.03, 0.97]), 3)}")
print(f"posterior predictive p-value: {p_value:.2f}")

# %% tags=["check"]
assert 0.05 < p_value < 0.95

# %% tags=["slide", "slide-hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(12, 4.5))
ax = plot_ppc(uranium_idata, ax=axs[0], num_pp_samples=100, random_seed=RANDOM_SEED)
ax.set(xlabel="log radon of a home", title="Homes: replicated and observed")
axs[1].hist(replicated_spread, bins=40, color="0.7", edgecolor="white")
axs[1].axvline(observed_spread, color="C3", lw=3, label="observed")
axs[1].set(xlabel="sd of the 85 county means", ylabel="replicated data sets")
axs[1].set_title("Counties: spread of the county means")
legend = axs[1].legend()

# %% [markdown]
# The replicated homes look like the observed ones (left), and the observed spread of the
# county means sits inside the replicated ones (right; its p-value is printed above, far from
# 0 and 1). The model reproduces how much counties differ. A check reveals only the misfits it
# looks for: the left panel shows two small ones the county-level check cannot see, an
# observed curve a little more peaked than the replications, and a bump at its far left, the
# homes at the lowest value $\log 0.1$ (readings of zero, lesson 05).

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a cell that checks your answer: run it once your answer is stored
# under the names the exercise gives. It tells you whether the answer is correct; if not, how
# far it is from the expected one, or which common mistake it looks like. For an MCMC answer it
# first asks whether your chains converged, then compares within the Monte Carlo standard
# errors: it is designed to fail a correct answer in fewer than one check in a thousand.
#
# ### Exercise 1: without the non-centered trick
#
# Write `uranium_model` in its centered form,
# $\alpha_j \sim \mathrm{Normal}(\gamma_0 + \gamma_1 u_j, \sigma_\alpha)$, fit it with the same
# `fit` settings, and read its diagnostics with `check_sampling(..., raise_on_failure=False)`.
# Compare the effective sample size of $\sigma_\alpha$ with the non-centered fit's. Which form
# samples $\sigma_\alpha$ better here, and why? (Think of how small $\sigma_\alpha$ is compared
# with what one county's homes say about its own intercept.) Name the model `centered_model`
# and its fit `centered_idata`, and store the two bulk ESS of $\sigma_\alpha$, the centered
# fit's first, in `ess`.
#
# ### Exercise 2: within and between, written directly
#
# Write the contextual model with the home's floor centred at its county mean:
# $y_i \sim \mathrm{Normal}(\alpha_{j[i]} + \beta_W (x_i - \bar x_{j[i]}),\ \sigma_y)$ and
# $\alpha_j = \gamma_0 + \gamma_1 u_j + \beta_B \bar x_j + \sigma_\alpha z_j$. Show that it is
# the same model as `contextual_model` with $\beta_W = \beta$ and
# $\beta_B = \beta + \gamma_2$, fit it, and compare the posteriors. Name the effects `beta_w`
# and `beta_b`, and the fit `within_between_idata`.
#
# ### Exercise 3: what a doubling of uranium does
#
# $u_j$ is the natural log of the uranium concentration. By what factor does the model expect
# a county's basement radon to change when its soil has twice as much uranium? Give the
# posterior mean and the 94% central interval (the 3% and 97% quantiles), and store the three
# numbers, in that order, in `doubling`.

# %% tags=["solution"]
with pm.Model(coords=coords) as centered_model:
    gamma_0 = pm.Normal("gamma_0", mu=0, sigma=2)
    gamma_1 = pm.Normal("gamma_1", mu=0, sigma=2)
    sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=1)
    alpha = pm.Normal("alpha", mu=gamma_0 + gamma_1 * log_uranium, sigma=sigma_alpha, dims="county")
    beta = pm.Normal("beta", mu=0, sigma=2)
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal("y", mu=alpha[county_idx] + beta * floor, sigma=sigma_y, observed=log_radon)
# The lesson's settings; PyMC's own convergence warnings are off because they appear for
# some seeds only: we read the diagnostics ourselves.
with centered_model:
    centered_idata = pm.sample(
        draws=1000,
        tune=1000,
        chains=4,
        cores=CORES,
        target_accept=0.95,
        random_seed=rng,
        progressbar=False,
        compute_convergence_checks=False,
    )

# %% tags=["solution"]
centered_report = check_sampling(
    centered_idata, var_names=["gamma_0", "gamma_1", "sigma_alpha"], raise_on_failure=False
)
print(
    f"centered: divergences {centered_report.divergences}, max r_hat "
    f"{centered_report.max_r_hat:.3f}, min bulk ESS {centered_report.min_ess_bulk:.0f}"
)
ess = pd.Series(
    {
        "centered": az.ess(centered_idata, var_names=["sigma_alpha"])["sigma_alpha"].item(),
        "non-centered": az.ess(uranium_idata, var_names=["sigma_alpha"])["sigma_alpha"].item(),
    },
    name="bulk ESS of sigma_alpha (4000 draws)",
)
ess.round(-1)

# %% tags=["solution", "check"]
assert ess["centered"] < ess["non-centered"] / 2

# %% tags=["answer-check"]
checks.centered_form(centered_model, centered_idata, ess, uranium_idata)

# %% [markdown] tags=["solution"]
# The centered form samples $\sigma_\alpha$ far worse (bulk ESS above, several times lower; its
# diagnostics, printed above, may also show divergences or an $\hat R$ above 1.01, depending
# on the seed). It is lesson 05's
# funnel: most counties have few homes, so their data say little about their own $\alpha_j$,
# and $\sigma_\alpha$ is small (about 0.15), so the $\alpha_j$ are tightly tied to the line
# whenever $\sigma_\alpha$ is small and loosely when it is larger. The centered sampler must
# squeeze into the narrow neck of that funnel; the non-centered one samples $z_j$, which do
# not change scale with $\sigma_\alpha$. With a large number of homes per county the data
# would pin each $\alpha_j$ down and the centered form would do as well or better.

# %% tags=["solution"]
floor_within = floor - floor_mean[county_idx]
with pm.Model(coords=coords) as within_between_model:
    gamma_0 = pm.Normal("gamma_0", mu=0, sigma=2)
    gamma_1 = pm.Normal("gamma_1", mu=0, sigma=2)
    beta_b = pm.Normal("beta_b", mu=0, sigma=2)
    sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=1)
    z = pm.Normal("z", mu=0, sigma=1, dims="county")
    alpha = gamma_0 + gamma_1 * log_uranium + beta_b * floor_mean + sigma_alpha * z
    beta_w = pm.Normal("beta_w", mu=0, sigma=2)
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal("y", mu=alpha[county_idx] + beta_w * floor_within, sigma=sigma_y, observed=log_radon)
within_between_idata = fit(within_between_model)
print(check_sampling(within_between_idata, var_names=["beta_b", "beta_w", "sigma_alpha"]))

# %% tags=["solution"]
direct = az.extract(within_between_idata)
same_model = pd.DataFrame(
    {
        "written directly": [direct["beta_w"].mean().item(), direct["beta_b"].mean().item()],
        "contextual_model": [within.mean(), (within + contextual).mean()],
    },
    index=["within (beta_W)", "between (beta_B)"],
)
same_model.round(2)

# %% tags=["solution", "check"]
direct_summary = az.summary(within_between_idata, var_names=["beta_w", "beta_b"])
gap = (same_model["written directly"] - same_model["contextual_model"]).abs().to_numpy()
assert (
    gap < 0.1 * direct_summary["sd"].to_numpy() + 4 * 2 * direct_summary["mcse_mean"].to_numpy()
).all()

# %% tags=["answer-check"]
checks.within_between(within_between_idata, contextual_idata)

# %% [markdown] tags=["solution"]
# Substituting $x_i = (x_i - \bar x_{j[i]}) + \bar x_{j[i]}$ into `contextual_model` gives
# $\alpha_j + \beta x_i = (\gamma_0 + \gamma_1 u_j + (\beta + \gamma_2)\bar x_j + \sigma_\alpha
# z_j) + \beta (x_i - \bar x_j)$: the same likelihood with $\beta_W = \beta$ and
# $\beta_B = \beta + \gamma_2$. Only the priors differ a little (here $\beta_B$ has the
# $\mathrm{Normal}(0, 2)$ prior, there $\gamma_2$ does), and with this much data that barely
# matters: the posterior means agree within Monte Carlo error and a small fraction of a
# posterior sd (table and check above). This form shows the two effects directly; the first
# shows their difference, the contextual effect.

# %% tags=["solution"]
factor = 2 ** uranium_post["gamma_1"].to_numpy()
low, high = np.quantile(factor, [0.03, 0.97])
doubling = (factor.mean(), low, high)
print(f"twice the uranium: radon times {factor.mean():.2f} (94% interval {low:.2f} to {high:.2f})")

# %% tags=["solution", "check"]
assert low > 1.2

# %% tags=["answer-check"]
checks.uranium_doubling(doubling, uranium_idata)

# %% [markdown] tags=["solution"]
# Doubling the uranium adds $\ln 2$ to $u_j$, so the expected basement log radon rises by
# $\gamma_1 \ln 2$ and the radon is multiplied by $e^{\gamma_1 \ln 2} = 2^{\gamma_1}$: about
# 1.6, with an interval well above 1 (printed). On the log-log scale $\gamma_1$ is an
# elasticity: about 0.7% more radon for 1% more uranium. This is an association between
# counties, with the same caveats as the contextual effect; it agrees with the physics,
# which is reassuring, not proof.

# %% [markdown]
# ## Key ideas
#
# - A **group-level predictor** turns the population distribution of a hierarchy into a
#   regression: $\alpha_j \sim \mathrm{Normal}(\gamma_0 + \gamma_1 u_j, \sigma_\alpha)$. Groups
#   then shrink toward the regression line at their own predictor value, not toward one mean.
# - $\sigma_\alpha$ becomes the spread **left unexplained** by the group-level predictors; how
#   much it falls measures what they explain. Here uranium explains most of the
#   between-county variance.
# - A small group is pulled toward its line with precision $1/\sigma_\alpha^2$ against its own
#   data's $n_j/\sigma_y^2$: the better the group-level predictors, the smaller
#   $\sigma_\alpha$, the more a small group borrows.
# - The group mean of a home-level predictor separates the **within-group** from the
#   **between-group** effect; their difference is the contextual effect. In observational
#   data neither is causal by itself; the within-group comparison controls for everything the
#   group shares.
# - The **intraclass correlation** $\sigma_\alpha^2 / (\sigma_\alpha^2 + \sigma_y^2)$ is the
#   share of the variance between groups, and the correlation of two members of one group.
# - A prediction for a new member of a known group and for a member of a new group carry
#   different group-level uncertainties; when members vary far more than groups, both are
#   dominated by the member-level spread.

# %% [markdown]
# ## References
#
# - Gelman, A. & Hill, J. (2007). *Data Analysis Using Regression and Multilevel/Hierarchical
#   Models*. Cambridge University Press. Section 12.6 (group-level predictors; the uranium
#   model's `lmer` fit, p. 266, and figure 12.6), section 21.7 (the county floor share as a
#   group-level predictor, p. 480).
# - Price, P. N., Nero, A. V. & Gelman, A. (1996). Bayesian prediction of mean indoor radon
#   concentrations for Minnesota counties. *Health Physics* 71(6), 922–936. The survey and
#   the uranium data.
# - McElreath, R. (2020). *Statistical Rethinking*, 2nd ed. CRC Press. Chapter 13: multilevel
#   models and their predictions for new clusters.
# - Raudenbush, S. W. & Bryk, A. S. (2002). *Hierarchical Linear Models*, 2nd ed. Sage.
#   Chapter 5: contextual effects and centring at the group mean.
# - Robinson, W. S. (1950). Ecological correlations and the behavior of individuals.
#   *American Sociological Review* 15(3), 351–357. The ecological fallacy.
# - Fonnesbeck, C. *A primer on Bayesian methods for multilevel modeling* (PyMC example
#   gallery). The radon models in PyMC.

# %% [markdown]
# ## Versions

# %%
print(versions())
