# %% [markdown]
# # 09 · Radon: varying effects that move together
#
# Lesson 05 let each Minnesota county have its own basement level (an intercept) and its own
# change from basement to first floor (a slope), with **independent** priors. Lesson 08
# explained the intercepts with the county's soil uranium. This lesson takes the last step
# the standard references take on the radon data (Gelman & Hill 2007, chapter 13;
# *Statistical Rethinking*, chapter 14): it lets a county's intercept and slope vary
# **together**. Then it climbs the whole ladder of radon models and asks, with leave-one-out
# cross-validation, where to stop.
#
# **Learning goals.** After this lesson you can
#
# 1. say what the independence of lesson 05's priors assumes, and why it is a choice;
# 2. write a bivariate normal population for two varying effects, with an LKJ prior on their
#    correlation, non-centered through the Cholesky factor, and read what $\eta$ says;
# 3. read the posterior correlation of intercepts and slopes and what it changes for a county
#    with few homes;
# 4. compare a ladder of models with PSIS-LOO (elpd differences, their standard errors,
#    Pareto $k$) and decide, with a stated rule, when to stop; and say which question LOO
#    answers.
#
# Lessons 05 and 08 introduced the data, the non-centered form and group-level predictors;
# here we use them.

# %% [markdown] tags=["slide"]
# ## The question
#
# Do counties with more radon in their basements also lose more of it on the way upstairs?
# And how much structure should a model of 919 homes carry before it stops paying its way?

# %%
import warnings

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from matplotlib.patches import Ellipse

from course_utils.checks import correlated_effects as checks
from course_utils.data import load_radon
from course_utils.diagnostics import check_sampling
from course_utils.environment import sampler_cores, versions
from course_utils.plots import model_graph, use_course_style

# %%
RANDOM_SEED = 9090  # seeds every sampler and predictive draw
rng = np.random.default_rng(RANDOM_SEED)
CORES = sampler_cores()  # worker processes for the chains
use_course_style()

# %% [markdown]
# ## The data
#
# The same survey and loader as lessons 05 and 08: for each home its county, the floor of the
# measurement (`floor`: 0 = basement, 1 = first floor) and its log radon; for each county its
# soil uranium `log_uranium` ($u_j$). We also count each county's homes and its first-floor
# homes: a county's slope can only be learned from its first-floor homes.

# %%
radon = load_radon()
county_idx = radon["county"].cat.codes.to_numpy()
coords = {"county": radon["county"].cat.categories, "effect": ["intercept", "slope"]}
floor = radon["floor"].to_numpy()
log_radon = radon["log_radon"].to_numpy()

county_table = radon.groupby("county", observed=True).agg(
    homes=("floor", "size"),
    first_floor_homes=("floor", "sum"),
    log_uranium=("log_uranium", "first"),
)
county_table = county_table.reindex(coords["county"])
log_uranium = county_table["log_uranium"].to_numpy()
no_first_floor = (county_table["first_floor_homes"] == 0).to_numpy()
print(f"{len(radon)} homes in {len(county_table)} counties")
print(f"first-floor homes: {int(county_table['first_floor_homes'].sum())}")
print(f"counties with no first-floor home: {no_first_floor.sum()}")
print(
    f"counties with at most one first-floor home: {(county_table['first_floor_homes'] <= 1).sum()}"
)

# %% [markdown]
# Every model of this lesson is sampled with the same settings, so one small function holds
# them: 4 chains of 1500 draws after 1000 tuning steps, with `target_accept=0.99`. The
# varying slopes are hard for the sampler (lesson 05). Their spread $\sigma_\beta$ has
# posterior mass near 0, the neck of a funnel that the non-centered form eases but does not
# remove: at `target_accept=0.95` one of our first fits of the correlated model had a
# divergence, and with 1000 draws the largest $\hat R$ came within a thousandth of 1.01.
#
# A second function computes each model's PSIS-LOO (section 4) right after its fit. LOO needs
# the log likelihood of every home under every draw: 4000 draws x 919 homes, about 29 MB per
# model. Computed for one call and then dropped, only the small LOO result (one number per
# home) is kept, and the notebook never holds seven of those arrays at once.


# %%
def fit(model, draws=1500):
    """Sample ``model`` with the lesson's settings."""
    with model:
        return pm.sample(
            draws=draws,
            tune=1000,
            chains=4,
            cores=CORES,
            target_accept=0.99,
            random_seed=rng,
            progressbar=False,
        )


def psis_loo(model, idata):
    """PSIS-LOO of one fit, home by home; the log likelihood is not kept."""
    with model:
        log_lik = pm.compute_log_likelihood(idata, extend_inferencedata=False, progressbar=False)
    with warnings.catch_warnings():
        # ArviZ warns when a Pareto k exceeds 0.7; section 4 counts those homes instead.
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        return az.loo(
            az.InferenceData(posterior=idata.posterior, log_likelihood=log_lik), pointwise=True
        )


# %% [markdown]
# ## 1. The independence assumption of lesson 05
#
# Lesson 05's last model gave county $j$ an intercept $\alpha_j$ (its basement level) and a
# slope $\beta_j$ (its change from basement to first floor), each drawn from its own normal
# population:
#
# $$
# \begin{aligned}
# y_i &\sim \mathrm{Normal}(\alpha_{j[i]} + \beta_{j[i]} x_i,\ \sigma_y), \\
# \alpha_j &\sim \mathrm{Normal}(\mu_\alpha, \sigma_\alpha), \qquad
# \beta_j \sim \mathrm{Normal}(\mu_\beta, \sigma_\beta), \quad \text{independently.}
# \end{aligned}
# $$
#
# "Independently" is a choice, not a fact. In a county whose basements are high in radon the
# first floor may lose more of it (a negative correlation between $\alpha_j$ and $\beta_j$),
# or keep more of it (a positive one). If the two move together, a county's basement
# readings say something about its slope, and that matters most where the slope is least
# measured: 25 counties have no first-floor home at all (printed above).
#
# We refit lesson 05's model with the weakly informative priors of lesson 08
# ($\mathrm{Normal}(0, 2)$ for means, $\mathrm{HalfNormal}(1)$ for standard deviations, on a
# scale where homes vary by about 0.8), written non-centered.

# %%
with pm.Model(coords=coords) as independent_model:
    mu_alpha = pm.Normal("mu_alpha", mu=0, sigma=2)
    mu_beta = pm.Normal("mu_beta", mu=0, sigma=2)
    sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=1)
    sigma_beta = pm.HalfNormal("sigma_beta", sigma=1)
    z = pm.Normal("z", mu=0, sigma=1, dims=("county", "effect"))
    alpha = pm.Deterministic("alpha", mu_alpha + sigma_alpha * z[:, 0], dims="county")
    beta = pm.Deterministic("beta", mu_beta + sigma_beta * z[:, 1], dims="county")
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal(
        "y", mu=alpha[county_idx] + beta[county_idx] * floor, sigma=sigma_y, observed=log_radon
    )

# %%
independent_idata = fit(independent_model)
print(check_sampling(independent_idata))
independent_loo = psis_loo(independent_model, independent_idata)

# %% [markdown]
# `check_sampling` looks at every variable of the posterior: the parameters the sampler moves
# (`mu_alpha`, ..., `z`) and the county effects `alpha` and `beta` built from them.
#
# ## 2. A bivariate population for $(\alpha_j, \beta_j)$
#
# Let each county's pair come from a bivariate normal population:
#
# $$
# \begin{pmatrix} \alpha_j \\ \beta_j \end{pmatrix} \sim
# \mathrm{MvNormal}\left(\begin{pmatrix} \mu_\alpha \\ \mu_\beta \end{pmatrix}, \Sigma\right),
# \qquad
# \Sigma = \begin{pmatrix} \sigma_\alpha^2 & \rho\,\sigma_\alpha\sigma_\beta \\
# \rho\,\sigma_\alpha\sigma_\beta & \sigma_\beta^2 \end{pmatrix}.
# $$
#
# The prior on the covariance matrix $\Sigma$ is split into the two **scales**
# $\sigma_\alpha, \sigma_\beta$ (the same $\mathrm{HalfNormal}(1)$ priors as before) and the
# **correlation** $\rho$. The standard prior for a correlation matrix is the LKJ distribution
# (Lewandowski, Kurowicka & Joe 2009), with one parameter $\eta > 0$: its density is
# proportional to $\det(R)^{\eta - 1}$. For two effects $\det(R) = 1 - \rho^2$, and the LKJ
# prior is simply
#
# $$
# \frac{\rho + 1}{2} \sim \mathrm{Beta}(\eta, \eta),
# \qquad \mathbb{E}[\rho] = 0, \qquad \mathrm{Var}(\rho) = \frac{1}{2\eta + 1}.
# $$
#
# $\eta = 1$ is uniform on $(-1, 1)$; larger $\eta$ concentrates $\rho$ around 0. We take
# $\eta = 2$, which only keeps $\rho$ away from $\pm 1$. The prior, drawn:

# %%
with pm.Model() as lkj_prior:
    chol, corr, stds = pm.LKJCholeskyCov(
        "chol", n=2, eta=2.0, sd_dist=pm.HalfNormal.dist(sigma=1.0, shape=2), compute_corr=True
    )
lkj_rho = pm.draw(corr[0, 1], draws=20_000, random_seed=rng)
beta_rho = {eta: 2 * rng.beta(eta, eta, size=20_000) - 1 for eta in (1.0, 2.0)}

fig, ax = plt.subplots(figsize=(7, 4))
bins = np.linspace(-1, 1, 41)
for eta, draws in beta_rho.items():
    ax.hist(
        draws,
        bins=bins,
        density=True,
        histtype="step",
        lw=2,
        label=rf"$2\,\mathrm{{Beta}}({eta:g}, {eta:g}) - 1$",
    )
ax.hist(
    lkj_rho, bins=bins, density=True, color="C2", alpha=0.3, label=r"LKJCholeskyCov, $\eta = 2$"
)
ax.set(xlabel=r"correlation $\rho$", ylabel="prior density", title="The LKJ prior for two effects")
legend = ax.legend(loc="lower center")

# %% tags=["check"]
# The Beta form is the LKJ prior: same mean and variance within Monte Carlo error.
for draws in (lkj_rho, beta_rho[2.0]):
    se_var = np.sqrt((np.mean(draws**4) - draws.var() ** 2) / draws.size)
    assert abs(draws.var() - 1 / 5) < 5 * se_var
    assert abs(draws.mean()) < 5 * draws.std() / np.sqrt(draws.size)

# %% [markdown]
# The green histogram is `pm.LKJCholeskyCov` with $\eta = 2$, the orange line its Beta form;
# they agree (checked above). In blue, $\eta = 1$: every correlation equally likely.
#
# **Non-centered through the Cholesky factor.** Lesson 05 wrote $\alpha_j = \mu_\alpha +
# \sigma_\alpha z_j$ with $z_j$ standard normal, so that the sampler moves independent
# $z_j$ instead of a funnel. The two-dimensional version uses the Cholesky factor $L$ of
# $\Sigma$, the lower-triangular matrix with $\Sigma = L L^\top$: with $z_j$ a pair of
# independent standard normals, $(\alpha_j, \beta_j)^\top = (\mu_\alpha, \mu_\beta)^\top +
# L z_j$ has exactly the bivariate normal distribution above. For two effects $L$ can be
# written out:
#
# $$
# L = \begin{pmatrix} \sigma_\alpha & 0 \\ \rho\,\sigma_\beta & \sigma_\beta\sqrt{1 - \rho^2}
# \end{pmatrix},
# \qquad
# \alpha_j = \mu_\alpha + \sigma_\alpha z_{j,1}, \quad
# \beta_j = \mu_\beta + \sigma_\beta\left(\rho\, z_{j,1} + \sqrt{1 - \rho^2}\, z_{j,2}\right).
# $$
#
# Two ways to write the model in PyMC:
#
# - `pm.LKJCholeskyCov("chol", n=2, eta=2, sd_dist=...)` returns $L$ directly and works in any
#   dimension (intercept, slope and more). The sampler then moves the packed entries of $L$.
# - For two effects, the form above with a Beta prior on $(\rho + 1)/2$: the sampler moves the
#   scales and $\rho$ themselves.
#
# They are the same prior (checked above, and for the whole model in Exercise 1), so they give
# the same posterior. On these data the explicit form samples more easily (Exercise 1 says
# what we measured), and it shows what the Cholesky factor is: we fit it.

# %%
with pm.Model(coords=coords) as correlated_model:
    mu_alpha = pm.Normal("mu_alpha", mu=0, sigma=2)
    mu_beta = pm.Normal("mu_beta", mu=0, sigma=2)
    sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=1)
    sigma_beta = pm.HalfNormal("sigma_beta", sigma=1)
    rho_01 = pm.Beta("rho_01", alpha=2.0, beta=2.0)  # (rho + 1) / 2: LKJ(eta = 2)
    rho = pm.Deterministic("rho", 2 * rho_01 - 1)
    z = pm.Normal("z", mu=0, sigma=1, dims=("county", "effect"))
    alpha = pm.Deterministic("alpha", mu_alpha + sigma_alpha * z[:, 0], dims="county")
    beta = pm.Deterministic(
        "beta",
        mu_beta + sigma_beta * (rho * z[:, 0] + pt.sqrt(1 - rho**2) * z[:, 1]),
        dims="county",
    )
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal(
        "y", mu=alpha[county_idx] + beta[county_idx] * floor, sigma=sigma_y, observed=log_radon
    )

# %% tags=["nbval-ignore-output"]
model_graph(correlated_model)

# %%
correlated_idata = fit(correlated_model)
print(check_sampling(correlated_idata))
correlated_loo = psis_loo(correlated_model, correlated_idata)

# %% [markdown]
# Again every variable is checked: the sampler's own parameters (`rho_01`, the scales, `z`) and
# what they mean (`rho`, the county effects `alpha` and `beta`).
#
# ## 3. The posterior correlation
#
# Gelman & Hill (2007, section 13.1) fit this model to the same survey by restricted maximum
# likelihood (R's `lmer`, `y ~ x + (1 + x | county)`): intercept 1.46 (standard error 0.05),
# floor slope $-0.68$ (0.09), county standard deviations 0.35 for the intercepts and 0.34 for
# the slopes, correlation $-0.34$, residual standard deviation 0.75. They print no standard
# errors for the spreads and the correlation; our posterior gives their uncertainty.

# %%
CORRELATED = ["mu_alpha", "mu_beta", "sigma_alpha", "sigma_beta", "rho", "sigma_y"]
correlated_summary = az.summary(correlated_idata, var_names=CORRELATED, round_to="none")
published = pd.Series([1.46, -0.68, 0.35, 0.34, -0.34, 0.75], index=CORRELATED)
comparison_13 = correlated_summary[["mean", "sd", "hdi_3%", "hdi_97%"]].assign(
    **{
        "Gelman & Hill": published,
        "difference / sd": (correlated_summary["mean"] - published) / correlated_summary["sd"],
    }
)
comparison_13.round(3)

# %% tags=["check"]
# sigma_y is left out: the outcomes differ slightly (see below).
shared = comparison_13.drop(index="sigma_y")
assert (shared["difference / sd"].abs() < 1).all()
published_shared = shared["Gelman & Hill"]
assert (shared["hdi_3%"] < published_shared).all()
assert (published_shared < shared["hdi_97%"]).all()
assert comparison_13.loc["sigma_y", "mean"] < published["sigma_y"]

# %% [markdown]
# The two means, the two spreads and the correlation agree: each published value lies inside
# our 94% interval and within one posterior standard deviation of our posterior mean (table
# and check above). Our $\sigma_y$ is a little lower for the reason lesson 08 gives: this
# course's file stores $\log(\text{radon} + 0.1)$, Gelman & Hill $\log(\text{radon})$.
#
# The correlation is the new quantity. Its posterior:

# %%
rho_draws = az.extract(correlated_idata)["rho"].to_numpy()
rho_low, rho_high = np.quantile(rho_draws, [0.03, 0.97])
print(
    f"rho: mean {rho_draws.mean():.2f}, sd {rho_draws.std():.2f}, "
    f"94% interval [{rho_low:.2f}, {rho_high:.2f}]"
)
print(f"P(rho < 0) = {np.mean(rho_draws < 0):.2f}")
print(f"prior sd of rho (LKJ, eta = 2): {np.sqrt(1 / 5):.2f}")

# %% tags=["check"]
assert rho_low < 0 < rho_high
assert 0.6 < np.mean(rho_draws < 0) < 0.95
assert 0.5 * np.sqrt(1 / 5) < rho_draws.std() < np.sqrt(1 / 5)

# %% [markdown]
# The data lean toward a negative correlation: counties with high basement levels tend to have a
# more negative floor slope, they lose more radon on the way upstairs. But the lean is weak. The
# interval runs from strongly negative to positive, and the posterior standard deviation is only
# about a third smaller than the prior's (printed above). With 85 counties, most of them with at
# most one first-floor home, the slopes are measured so noisily that how they co-vary with the
# intercepts is only loosely determined. Gelman & Hill's point estimate of $-0.34$ hides that
# uncertainty.

# %% [markdown]
# ### Shrinkage in two dimensions
#
# In lesson 01 each group's estimate moved from its own mean toward the population mean. With
# two correlated effects the target is a **population ellipse**. The figure draws, for every
# county with at least one basement home and one first-floor home, its unpooled estimate
# (open circle: the mean of its basement homes, and the difference between its first-floor and
# basement means) and an arrow to its posterior mean under the correlated model. The
# ellipses contain 50% and 90% of the population distribution at the posterior means of
# $\mu$ and $\Sigma$ (the idea of *Statistical Rethinking*, figure 14.5).

# %%
by_floor = radon.pivot_table(
    index="county", columns="floor", values="log_radon", aggfunc="mean", observed=False
)
by_floor = by_floor.reindex(coords["county"])
both_floors = by_floor.notna().all(axis=1).to_numpy()
unpooled_alpha = by_floor[0].to_numpy()
unpooled_beta = (by_floor[1] - by_floor[0]).to_numpy()

correlated_post = az.extract(correlated_idata)
alpha_mean = correlated_post["alpha"].mean("sample").to_numpy()
beta_mean = correlated_post["beta"].mean("sample").to_numpy()
centre = correlated_summary.loc[["mu_alpha", "mu_beta"], "mean"].to_numpy()
s_a, s_b, r = (
    correlated_summary.loc[name, "mean"] for name in ["sigma_alpha", "sigma_beta", "rho"]
)
population_cov = np.array([[s_a**2, r * s_a * s_b], [r * s_a * s_b, s_b**2]])
print(f"counties with both floors measured: {both_floors.sum()}")

# %% tags=["slide", "slide-hide-input"]
fig, ax = plt.subplots(figsize=(8, 6))
eigenvalues, eigenvectors = np.linalg.eigh(population_cov)
angle = np.degrees(np.arctan2(eigenvectors[1, 1], eigenvectors[0, 1]))
for mass in (0.5, 0.9):
    radius = np.sqrt(-2 * np.log(1 - mass))  # Mahalanobis radius holding `mass` in 2-D
    width, height = 2 * radius * np.sqrt(eigenvalues[::-1])
    ax.add_patch(Ellipse(centre, width, height, angle=angle, fill=False, color="grey", ls="--"))
ax.scatter(
    unpooled_alpha[both_floors],
    unpooled_beta[both_floors],
    facecolors="none",
    edgecolors="C0",
    label="unpooled",
)
ax.scatter(
    alpha_mean[both_floors], beta_mean[both_floors], s=12, color="C1", label="correlated model"
)
for j in np.flatnonzero(both_floors):
    ax.annotate(
        "",
        xy=(alpha_mean[j], beta_mean[j]),
        xytext=(unpooled_alpha[j], unpooled_beta[j]),
        arrowprops={"arrowstyle": "->", "color": "grey", "alpha": 0.5, "lw": 0.8},
    )
ax.set(
    xlabel=r"intercept $\alpha_j$ (basement log radon)",
    ylabel=r"slope $\beta_j$ (first floor minus basement)",
    title="Counties move toward the population ellipse",
)
legend = ax.legend(loc="upper right")

# %%
alpha_move = np.abs(alpha_mean - unpooled_alpha)[both_floors]
beta_move = np.abs(beta_mean - unpooled_beta)[both_floors]
print(f"median move of a county's intercept: {np.median(alpha_move):.3f}")
print(f"median move of a county's slope: {np.median(beta_move):.3f}")

# %% tags=["check"]
assert np.median(beta_move) > 1.5 * np.median(alpha_move)

# %% [markdown]
# The slopes move much more than the intercepts (median moves printed above): a county's
# basement level rests on several homes, its slope on one or two first-floor homes, so almost
# all of its unpooled slope is noise and the model pulls it nearly all the way to the
# population. The arrows do not point at the centre: they point toward the tilted ellipse, along
# which a high intercept goes with a lower slope.
#
# ### What the correlation changes for a county with few homes
#
# For the 25 counties without a first-floor home, nothing in their own data speaks about their
# slope. Under the independent model each of them gets the population's slope $\mu_\beta$,
# whatever its basements say. Under the correlated model the population's regression of slope
# on intercept, $\mathbb{E}[\beta_j \mid \alpha_j] = \mu_\beta + \rho\,(\sigma_\beta /
# \sigma_\alpha)(\alpha_j - \mu_\alpha)$, lets the basement level inform the slope. Across
# these counties we regress the posterior mean slopes on the posterior mean intercepts, under
# each model, and predict a first-floor home in the one with the highest basement level.

# %%
independent_post = az.extract(independent_idata)
slope_on_intercept = {}
for name, post in {"independent": independent_post, "correlated": correlated_post}.items():
    a = post["alpha"].mean("sample").to_numpy()[no_first_floor]
    b = post["beta"].mean("sample").to_numpy()[no_first_floor]
    slope_on_intercept[name] = np.polyfit(a, b, deg=1)[0]
print("slope of E[beta_j] on E[alpha_j], counties with no first-floor home:")
for name, value in slope_on_intercept.items():
    print(f"  {name}: {value:.2f}")

high = np.flatnonzero(no_first_floor)[np.argmax(alpha_mean[no_first_floor])]
high_name = coords["county"][high]
first_floor_prediction = {}
for name, post in {"independent": independent_post, "correlated": correlated_post}.items():
    level = (post["alpha"].isel(county=high) + post["beta"].isel(county=high)).to_numpy()
    first_floor_prediction[name] = {
        "mean": level.mean(),
        "3%": np.quantile(level, 0.03),
        "97%": np.quantile(level, 0.97),
    }
print(f"\n{high_name} ({county_table.loc[high_name, 'homes']} homes, all basements):")
pd.DataFrame(first_floor_prediction).T.round(2)

# %% tags=["check"]
assert abs(slope_on_intercept["independent"]) < 0.05
assert slope_on_intercept["correlated"] < slope_on_intercept["independent"] - 0.05
shift = first_floor_prediction["correlated"]["mean"] - first_floor_prediction["independent"]["mean"]
width = first_floor_prediction["independent"]["97%"] - first_floor_prediction["independent"]["3%"]
assert abs(shift) < 0.1 * width

# %% [markdown]
# Under the independent model the slopes of these counties do not follow their intercepts
# (a regression slope near 0); under the correlated model they do, with the negative slope
# the posterior of $\rho$ implies. For the county with the highest basement level, the two
# models' predictions of its first-floor level (the table: the mean first-floor log radon,
# $\alpha_j + \beta_j$, under each model, with its 94% interval) differ by less than a tenth
# of the interval's width (checked): $\rho$ is too uncertain to move a single county far.
# The correlated model uses information the independent one throws away; with a
# better-determined correlation, or more effects per county, that would matter more.

# %% [markdown]
# ### Does uranium explain the correlation?
#
# Lesson 08 showed that uranium explains most of the differences between county intercepts.
# Put it into the correlated model, $\alpha_j = \gamma_0 + \gamma_1 u_j + (\text{county
# deviation})$: now $\rho$ is the correlation between the part of the intercept that uranium
# leaves unexplained and the slope.

# %%
with pm.Model(coords=coords) as uranium_correlated_model:
    gamma_0 = pm.Normal("gamma_0", mu=0, sigma=2)
    gamma_1 = pm.Normal("gamma_1", mu=0, sigma=2)
    mu_beta = pm.Normal("mu_beta", mu=0, sigma=2)
    sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=1)
    sigma_beta = pm.HalfNormal("sigma_beta", sigma=1)
    rho_01 = pm.Beta("rho_01", alpha=2.0, beta=2.0)
    rho = pm.Deterministic("rho", 2 * rho_01 - 1)
    z = pm.Normal("z", mu=0, sigma=1, dims=("county", "effect"))
    alpha_line = gamma_0 + gamma_1 * log_uranium
    alpha = pm.Deterministic("alpha", alpha_line + sigma_alpha * z[:, 0], dims="county")
    beta = pm.Deterministic(
        "beta",
        mu_beta + sigma_beta * (rho * z[:, 0] + pt.sqrt(1 - rho**2) * z[:, 1]),
        dims="county",
    )
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal(
        "y", mu=alpha[county_idx] + beta[county_idx] * floor, sigma=sigma_y, observed=log_radon
    )

# %%
uranium_correlated_idata = fit(uranium_correlated_model)
print(check_sampling(uranium_correlated_idata))
uranium_correlated_loo = psis_loo(uranium_correlated_model, uranium_correlated_idata)

# %%
rho_table = pd.concat(
    {
        "without uranium": az.summary(
            correlated_idata, var_names=["sigma_alpha", "sigma_beta", "rho"]
        ),
        "with uranium": az.summary(
            uranium_correlated_idata, var_names=["sigma_alpha", "sigma_beta", "rho"]
        ),
    }
)[["mean", "sd", "hdi_3%", "hdi_97%"]]
rho_table

# %% tags=["check"]
rho_with_uranium = az.extract(uranium_correlated_idata)["rho"].to_numpy()
assert np.quantile(rho_with_uranium, 0.03) < 0 < np.quantile(rho_with_uranium, 0.97)
assert rho_with_uranium.std() > 0.7 * np.sqrt(1 / 5)
assert (
    rho_table.loc[("with uranium", "sigma_alpha"), "mean"]
    < rho_table.loc[("without uranium", "sigma_alpha"), "mean"] / 2
)

# %% [markdown]
# With uranium in the model, the intercepts' unexplained spread $\sigma_\alpha$ falls to less
# than half, and the posterior of $\rho$ centres near 0 with a standard deviation more than two
# thirds of its prior's 0.45 (table above): the data say little about it. There is little left
# to correlate: what uranium leaves of the intercepts is small, and the slopes are as noisy as
# before. So "$\rho \approx -0.34$" is a statement about the counties' total intercepts; it does
# not survive as a statement about what uranium leaves unexplained. Two fits, two different
# correlations, and no contradiction: $\rho$ always means the correlation of what the model
# leaves to vary.

# %% [markdown]
# ## 4. The ladder of models, compared with PSIS-LOO
#
# Seven models of the same 919 homes, from the crudest to the richest. The home-level part is
# always $y_i \sim \mathrm{Normal}(\alpha_{j[i]} + \beta_{j[i]} x_i, \sigma_y)$ (with one
# $\beta$ where the slope does not vary):
#
# | model | intercepts $\alpha_j$ | slopes $\beta_j$ |
# |---|---|---|
# | pooled | one $\alpha$ for all counties | one $\beta$ |
# | unpooled | separate, each $\mathrm{Normal}(0, 2)$ | one $\beta$ |
# | varying intercept | $\mathrm{Normal}(\mu_\alpha, \sigma_\alpha)$ | one $\beta$ |
# | + uranium | $\mathrm{Normal}(\gamma_0 + \gamma_1 u_j, \sigma_\alpha)$ (08) | one $\beta$ |
# | varying slope | $\mathrm{Normal}(\mu_\alpha, \sigma_\alpha)$ | independent (section 1) |
# | + correlation | bivariate normal with $\rho$ (section 2) | |
# | + uranium, correlated | as above, around the uranium line (section 3) | |
#
# The first four are new here; we fit them and compute their LOO.

# %%
with pm.Model() as pooled_model:
    alpha = pm.Normal("alpha", mu=0, sigma=2)
    beta = pm.Normal("beta", mu=0, sigma=2)
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal("y", mu=alpha + beta * floor, sigma=sigma_y, observed=log_radon)

with pm.Model(coords=coords) as unpooled_model:
    alpha = pm.Normal("alpha", mu=0, sigma=2, dims="county")
    beta = pm.Normal("beta", mu=0, sigma=2)
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal("y", mu=alpha[county_idx] + beta * floor, sigma=sigma_y, observed=log_radon)

with pm.Model(coords=coords) as intercept_model:
    mu_alpha = pm.Normal("mu_alpha", mu=0, sigma=2)
    sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=1)
    z = pm.Normal("z", mu=0, sigma=1, dims="county")
    alpha = pm.Deterministic("alpha", mu_alpha + sigma_alpha * z, dims="county")
    beta = pm.Normal("beta", mu=0, sigma=2)
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal("y", mu=alpha[county_idx] + beta * floor, sigma=sigma_y, observed=log_radon)

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

# %%
rung_models = {
    "pooled": pooled_model,
    "unpooled": unpooled_model,
    "varying intercept": intercept_model,
    "+ uranium": uranium_model,
}
rung_fits = {
    "pooled": fit(pooled_model),
    "unpooled": fit(unpooled_model),
    "varying intercept": fit(intercept_model),
    "+ uranium": fit(uranium_model),
}
rung_loos = {}
for name, idata in rung_fits.items():
    print(f"{name}: {check_sampling(idata)}")
    rung_loos[name] = psis_loo(rung_models[name], idata)

# %% [markdown]
# **PSIS-LOO.** Which model predicts a **new home in these counties** best? Leave-one-out
# cross-validation asks, for every home, how probable its reading is under the model fitted
# to the other 918 homes; the sum of the logs of these probabilities is the expected log
# pointwise predictive density, $\mathrm{elpd}_\text{loo}$ (higher is better). PSIS-LOO
# (Vehtari, Gelman & Gabry 2017) gets all 919 leave-one-out fits from the one full fit, by
# importance sampling with Pareto-smoothed weights. `p_loo`, the difference between the
# in-sample and the leave-one-out fit, is the model's **effective number of parameters**.
#
# Two models are compared home by home: their difference is a sum over the same 919 homes,
# and its standard error `dse` comes from the spread of the 919 home-level differences.
#
# **Pareto $k$.** Each home's importance weights get a Pareto $k$. Above 0.7 (for this many
# draws) the weights are too heavy-tailed for the estimate of that home's term to be trusted:
# the home is so influential that the fit without it differs too much from the fit with it.
# A few such homes make the model's total unreliable by an unknown amount; the remedy is to
# refit without each of them (`az.reloo`) or to use K-fold cross-validation. The table
# counts them per model.

# %%
ladder_loos = {
    **rung_loos,
    "varying slope": independent_loo,
    "+ correlation": correlated_loo,
    "+ uranium, correlated": uranium_correlated_loo,
}
comparison = az.compare(ladder_loos).reindex(list(ladder_loos))
comparison["homes with k > 0.7"] = [int((loo.pareto_k > 0.7).sum()) for loo in ladder_loos.values()]
comparison["max k"] = [float(loo.pareto_k.max()) for loo in ladder_loos.values()]
best = comparison["elpd_loo"].idxmax()
print(f"best elpd_loo: {best}")

# %% tags=["slide", "slide-hide-input"]
comparison[["elpd_loo", "p_loo", "elpd_diff", "dse", "homes with k > 0.7", "max k"]].round(
    {"elpd_loo": 1, "p_loo": 1, "elpd_diff": 1, "dse": 1, "max k": 2}
)

# %% tags=["check"]
diff, dse, p_loo = comparison["elpd_diff"], comparison["dse"], comparison["p_loo"]
assert best in {"+ uranium", "+ uranium, correlated"}
assert diff["pooled"] > 4 * dse["pooled"] and diff["unpooled"] > 2 * dse["unpooled"]
assert p_loo.drop(index="pooled").idxmin() == "+ uranium"
assert comparison.loc["unpooled", "homes with k > 0.7"] >= 1
high_k = comparison["homes with k > 0.7"]
assert high_k["+ uranium"] < high_k["unpooled"]

# %% [markdown]
# Reading the table (`elpd_diff` is each model's distance from the best, `dse` its standard
# error; `p_loo` the effective number of parameters):
#
# - **Pooled** is far worst, by several standard errors: counties matter. **Unpooled** is
#   better, but it spends the most effective parameters (`p_loo` near 85, one per county) and
#   its LOO is the least trustworthy, with homes above $k = 0.7$ (Exercise 2 finds them).
# - **+ uranium** is the best model, and it has the fewest effective parameters of all the
#   county models: pooling toward the uranium line is stronger than pooling toward one mean,
#   so the county intercepts cost less.
# - The other models' `elpd_diff` mix two things: what they add and what they lack. To see
#   what each step of the ladder buys, compare each model with the one it extends, home by
#   home:

# %%
STEPS = [
    ("unpooled", "pooled"),
    ("varying intercept", "unpooled"),
    ("+ uranium", "varying intercept"),
    ("varying slope", "varying intercept"),
    ("+ correlation", "varying slope"),
    ("+ uranium, correlated", "+ uranium"),
]


def step(richer, simpler):
    """elpd gain of ``richer`` over ``simpler``, its standard error, and the extra p_loo."""
    delta = ladder_loos[richer].loo_i.to_numpy() - ladder_loos[simpler].loo_i.to_numpy()
    se = np.sqrt(delta.size) * delta.std()
    return {
        "elpd gain": delta.sum(),
        "se": se,
        "gain / se": delta.sum() / se,
        "extra p_loo": ladder_loos[richer].p_loo - ladder_loos[simpler].p_loo,
    }


steps = pd.DataFrame(
    {f"{richer} vs {simpler}": step(richer, simpler) for richer, simpler in STEPS}
).T
steps.round(1)

# %% tags=["check"]
gain_per_se = steps["gain / se"]
assert gain_per_se["unpooled vs pooled"] > 1.5 and gain_per_se["varying intercept vs unpooled"] > 3
assert 1 < gain_per_se["+ uranium vs varying intercept"] < 3
for slopes_step in ["varying slope vs varying intercept", "+ uranium, correlated vs + uranium"]:
    assert steps.loc[slopes_step, "elpd gain"] < 0 and gain_per_se[slopes_step] > -2, slopes_step
    assert steps.loc[slopes_step, "extra p_loo"] > 10, slopes_step
assert abs(steps.loc["+ correlation vs varying slope", "elpd gain"]) < 4

# %% [markdown]
# - No pooling beats complete pooling by about two standard errors, and partial pooling beats
#   no pooling by more than three, with far fewer effective parameters.
# - Uranium gains about ten points of elpd, close to two standard errors of the difference:
#   likely, not certain, by LOO alone. Lesson 08's $\gamma_1$, many posterior standard
#   deviations from 0 and in the direction physics expects, backs it up.
# - Adding varying slopes, to the varying intercept or to the uranium model, **loses** a
#   little elpd (within two standard errors) and spends more than ten more effective
#   parameters. Adding the correlation to the varying slopes changes the elpd by much less
#   than 4, a difference too small to mean anything: Sivula et al. (2025) show that below
#   about 4 the normal approximation behind the standard error fails, which is why its
#   `gain / se` should not be read at all for near-identical models like these two.
#
# ## When to stop
#
# A rule, stated before we read the table: **prefer the model with the best
# $\mathrm{elpd}_\text{loo}$, unless a model with fewer effective parameters is within two
# standard errors of the difference; then prefer that one.** A difference of less than two
# standard errors is one the data cannot tell from noise; between two such models, take the
# one that spends less. (Sivula, Magnusson, Matamoros & Vehtari (2025) discuss when the
# normal approximation behind "two standard errors" holds: many observations, differences
# that are not tiny, no badly misspecified model; it is reasonable here.) In code:

# %%
within_two_se = comparison[comparison["elpd_diff"] <= 2 * comparison["dse"]]
stop_at = within_two_se["p_loo"].idxmin()
print(f"the rule stops at: {stop_at}")

# %% tags=["check"]
assert stop_at == "+ uranium"

# %% [markdown]
# The rule stops at **+ uranium** (printed): the models that predict about as well spend
# more. The varying slopes do not earn their place: the steps that add them buy no
# predictive accuracy we can detect. Note what the rule did with the varying intercept: it is
# close to two standard errors behind the best, so by LOO alone the uranium step is not
# certain; the rule still prefers + uranium because it is also the cheaper model.
#
# The limits of the conclusion:
#
# - LOO answers "how well does the model predict **a new home in one of these 85 counties**?"
#   Predicting for **a new county** is another question: leave one *county* out. Exercise 3
#   shows why PSIS cannot answer it from one fit.
# - Not earning its place in prediction does not make a model wrong. If the question were
#   how the floor effect differs between counties, the varying-slope model is the one to
#   report, with its honest, wide uncertainty. The ladder says that for predicting homes the
#   data cannot yet see those differences.

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a cell that checks your answer: run it once your answer is stored
# under the names the exercise gives. It tells you whether the answer is correct; if not, how
# far it is from the expected one, or which common mistake it looks like. It is designed to
# fail a correct answer in fewer than one check in a thousand.
#
# ### Exercise 1: the same model with `pm.LKJCholeskyCov`
#
# Write `lkj_model`: `correlated_model` with
# `pm.LKJCholeskyCov("chol", n=2, eta=2.0, sd_dist=..., compute_corr=True)`, the non-centered
# county effects as `z @ chol.T`, and $\sigma_\alpha$, $\sigma_\beta$, $\rho$ and the county
# slopes $\beta_j$ stored as `pm.Deterministic`s (`sigma_alpha`, `sigma_beta`, `rho`, `beta`).
# The likelihood is the same as `correlated_model`'s, so the two models have the same
# posterior if and only if they have the same prior: draw both priors
# (`pm.sample_prior_predictive`) and compare $\sigma_\alpha$, $\sigma_\beta$, $\rho$ and one
# county's $\beta_j$. If you sampled the posterior of this model, which variables should a
# convergence check leave out, and why?
#
# ### Exercise 2: where LOO struggles
#
# Find the homes that have a Pareto $k$ above 0.7 under the unpooled model. How many homes
# do their counties have? Count them by county size, 1-2 homes, 3-10 and more than 10 (store
# the three counts in `high_k_homes`). Explain why these homes, and why the hierarchical
# models have fewer of them.
#
# ### Exercise 3: leave one county out
#
# To predict a new county, leave out all the homes of one county at a time. The importance
# weights for leaving out county $j$ come from the sum of the log likelihoods of its homes.
# Compute them for the + uranium model (`pm.compute_log_likelihood`, then sum the homes of
# each county), run `az.loo` on the 85 county sums with the fit's posterior (store their
# Pareto $k$, in the order of the counties, in `county_k`), and count the counties with
# $k > 0.7$.
# What does the count say about PSIS for this question, and what would you do instead?

# %% tags=["solution"]
with pm.Model(coords=coords) as lkj_model:
    mu_alpha = pm.Normal("mu_alpha", mu=0, sigma=2)
    mu_beta = pm.Normal("mu_beta", mu=0, sigma=2)
    chol, corr, stds = pm.LKJCholeskyCov(
        "chol",
        n=2,
        eta=2.0,
        sd_dist=pm.HalfNormal.dist(sigma=1.0, shape=2),
        compute_corr=True,
        store_in_trace=False,
    )
    pm.Deterministic("sigma_alpha", stds[0])
    pm.Deterministic("sigma_beta", stds[1])
    pm.Deterministic("rho", corr[0, 1])
    z = pm.Normal("z", mu=0, sigma=1, dims=("county", "effect"))
    effects = pt.stack([mu_alpha, mu_beta]) + z @ chol.T  # row j: mu + L z_j
    alpha = pm.Deterministic("alpha", effects[:, 0], dims="county")
    beta = pm.Deterministic("beta", effects[:, 1], dims="county")
    sigma_y = pm.HalfNormal("sigma_y", sigma=1)
    pm.Normal(
        "y", mu=alpha[county_idx] + beta[county_idx] * floor, sigma=sigma_y, observed=log_radon
    )

# %% tags=["solution"]
PRIOR_DRAWS = 4000
QUANTITIES = ["sigma_alpha", "sigma_beta", "rho"]


def prior_quantities(model):
    """Prior draws of the scales, the correlation and the first county's slope."""
    with model:
        prior = pm.sample_prior_predictive(
            draws=PRIOR_DRAWS, var_names=[*QUANTITIES, "beta"], random_seed=rng
        ).prior
    draws = {name: prior[name].to_numpy().ravel() for name in QUANTITIES}
    draws["beta (first county)"] = prior["beta"].isel(county=0).to_numpy().ravel()
    return pd.DataFrame(draws)


explicit_prior, lkj_prior_draws = prior_quantities(correlated_model), prior_quantities(lkj_model)
mean_se = np.sqrt((explicit_prior.var() + lkj_prior_draws.var()) / PRIOR_DRAWS)
prior_agreement = pd.DataFrame(
    {
        "explicit form": explicit_prior.mean(),
        "LKJCholeskyCov": lkj_prior_draws.mean(),
        "difference / se": (lkj_prior_draws.mean() - explicit_prior.mean()) / mean_se,
        "sd, explicit": explicit_prior.std(),
        "sd, LKJCholeskyCov": lkj_prior_draws.std(),
    }
)
prior_agreement.round(2)

# %% tags=["solution", "check"]
assert (prior_agreement["difference / se"].abs() < 5).all()
sd_ratio = prior_agreement["sd, LKJCholeskyCov"] / prior_agreement["sd, explicit"]
assert ((sd_ratio - 1).abs() < 0.1).all()

# %% tags=["answer-check"]
checks.lkj_prior(lkj_model)

# %% [markdown] tags=["solution"]
# The two priors agree within Monte Carlo error in their means and their spreads (table), as
# they must: for two effects the LKJ prior is the Beta form, and both build the same $L$. The
# same prior with the same likelihood gives the same posterior.
#
# `store_in_trace=False` keeps the packed Cholesky entries out of the trace, and `sigma_alpha`,
# `sigma_beta` and `rho` are stored as Deterministics instead, so no variable of the trace is
# constant. With `compute_corr=True` and the default `store_in_trace=True`, the trace would hold
# the full correlation matrix, whose diagonal is 1 in every draw and has no $\hat R$. Such
# constants are the only thing a convergence check may leave out (`check_sampling` does, and
# fails on any other undefined $\hat R$); the packed entries of $L$ that the sampler moves
# (`lkj_model.free_RVs` lists the sampler's variables) must be checked with the rest. They
# are harder for the sampler than the explicit form's $\rho$: in a prototype of this lesson
# (`target_accept=0.9`, $\mathrm{Exponential}(1)$ priors on the scales), at 1000 to 2000
# draws, their $\hat R$ or bulk ESS missed the course's thresholds on 4 of 14 runs, while the
# explicit form passed all 9 runs tried. For two effects the explicit form is the easier one;
# in higher dimensions `LKJCholeskyCov` is the tool, with more draws and its checks.

# %% tags=["solution"]
unpooled_k = rung_loos["unpooled"].pareto_k.to_numpy()
county_homes = county_table["homes"].to_numpy()[county_idx]
county_size = pd.cut(
    county_homes, [0, 2, 10, np.inf], labels=["1-2 homes", "3-10 homes", "more than 10"]
)
k_by_size = pd.DataFrame(
    {
        "homes": pd.Series(county_size).value_counts(sort=False),
        "homes with k > 0.7": pd.Series(county_size[unpooled_k > 0.7]).value_counts(sort=False),
    }
).rename_axis("county size")
high_k_homes = k_by_size["homes with k > 0.7"]
k_by_size

# %% tags=["solution", "check"]
share_high_k = k_by_size["homes with k > 0.7"] / k_by_size["homes"]
assert share_high_k["1-2 homes"] > share_high_k[["3-10 homes", "more than 10"]].max()
assert k_by_size.loc["more than 10", "homes with k > 0.7"] <= 1

# %% tags=["answer-check"]
checks.high_k_by_county_size(high_k_homes, rung_loos, county_table, county_idx)

# %% [markdown] tags=["solution"]
# The homes with $k > 0.7$ sit (all, or all but one) in counties with at most ten homes, and
# a home of a county with one or two homes is far likelier to have one than a home of a
# larger county (table). In the unpooled model a small county's intercept is informed by its
# own few homes alone: leaving one out changes that intercept's posterior drastically, and
# importance weights from the full fit cannot represent the fit without it. In a large county
# one home hardly matters. In the hierarchical models the same small county also borrows from
# the others, so leaving out one of its homes changes less: fewer homes, or none, exceed 0.7
# (section 4's table).

# %% tags=["solution"]
with uranium_model:
    home_log_lik = pm.compute_log_likelihood(
        rung_fits["+ uranium"], extend_inferencedata=False, progressbar=False
    )["y"].to_numpy()  # (chain, draw, home)
# The log likelihood of a county's homes is the sum over its homes.
county_log_lik = np.stack(
    [home_log_lik[..., county_idx == j].sum(axis=-1) for j in range(len(county_table))], axis=-1
)
county_data = az.InferenceData(
    posterior=rung_fits["+ uranium"].posterior,
    log_likelihood=xr.Dataset({"y": (("chain", "draw", "county"), county_log_lik)}),
)
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
    county_loo = az.loo(county_data, pointwise=True)
county_k = pd.Series(county_loo.pareto_k.to_numpy(), index=coords["county"])
print(f"counties with k > 0.7: {(county_k > 0.7).sum()} of {county_k.size}")
homes_high_k = county_table["homes"][county_k > 0.7]
homes_low_k = county_table["homes"][county_k <= 0.7]
print(f"homes per county, counties with k > 0.7: median {homes_high_k.median():.0f}")
print(f"homes per county, the other counties: median {homes_low_k.median():.0f}")

# %% tags=["solution", "check"]
assert (county_k > 0.7).sum() >= 1
assert homes_high_k.median() > homes_low_k.median()

# %% tags=["answer-check"]
checks.county_pareto_k(county_k, uranium_model, rung_fits, county_idx)

# %% [markdown] tags=["solution"]
# Some counties get $k > 0.7$ (printed), and they are the large ones: leaving out a county
# removes everything the model knows about its intercept, and the more homes the county has,
# the further its intercept's posterior is from what the other counties alone would say.
# For those counties the importance weights from the full fit cannot bridge the gap, and
# they are the counties that hold the most homes, so the total from one fit cannot be
# trusted. Two remedies: refit the model without each of the counties flagged (`az.reloo`
# does this), or use K-fold cross-validation by county (about ten refits); integrating each
# county's intercept out of its likelihood (for a normal model its homes are jointly normal
# given the hyperparameters) also makes the left-out county's term far less sensitive. The
# ladder of section 4 compares predictions for new homes in these counties; for a new county
# it would have to be redone this way.

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - Independent priors on a group's varying effects are an assumption. A **bivariate normal
#   population** lets them move together, with a correlation the data estimate.
# - The **LKJ($\eta$) prior** on a correlation matrix: for two effects, $(\rho + 1)/2 \sim
#   \mathrm{Beta}(\eta, \eta)$; $\eta = 1$ is uniform, larger $\eta$ favours weak correlations.
#   Scales get their own priors.
# - **Non-centered through the Cholesky factor**: effects $= \mu + L z$ with $z$ standard
#   normal, the matrix form of $\mu + \sigma z$. `pm.LKJCholeskyCov` builds $L$ in any
#   dimension; for two effects it can be written out, and here that form samples better.
# - A correlation between group effects is only as well determined as the effects
#   themselves: with noisy slopes, $\rho$ stays close to its prior. It also changes meaning
#   when a group-level predictor enters the model.
# - **PSIS-LOO** compares models by how well they predict a new observation in the same
#   groups: elpd differences, their standard errors, $p_\text{loo}$ as the effective number
#   of parameters, and Pareto $k$ to say when an estimate cannot be trusted.
# - **When to stop**: state the rule before reading the table. Here: the best elpd, unless a
#   model with fewer effective parameters is within two standard errors. More structure that
#   predicts no better is not wrong, but it is not earned by these data.

# %% [markdown]
# ## References
#
# - Gelman, A. & Hill, J. (2007). *Data Analysis Using Regression and Multilevel/Hierarchical
#   Models*. Cambridge University Press. Section 13.1: varying intercepts and slopes for the
#   radon data, the `lmer` fit compared in section 3.
# - McElreath, R. (2020). *Statistical Rethinking*, 2nd ed. CRC Press. Chapter 14,
#   "Adventures in covariance": the bivariate population, the LKJ prior, the non-centered
#   Cholesky form, and two-dimensional shrinkage (figure 14.5).
# - Lewandowski, D., Kurowicka, D. & Joe, H. (2009). Generating random correlation matrices
#   based on vines and extended onion method. *Journal of Multivariate Analysis* 100(9),
#   1989–2001. The LKJ distribution.
# - Vehtari, A., Gelman, A. & Gabry, J. (2017). Practical Bayesian model evaluation using
#   leave-one-out cross-validation and WAIC. *Statistics and Computing* 27, 1413–1432. PSIS-LOO,
#   `p_loo`, and the standard error of a difference.
# - Vehtari, A., Simpson, D., Gelman, A., Yao, Y. & Gabry, J. (2024). Pareto smoothed
#   importance sampling. *Journal of Machine Learning Research* 25(72), 1–58. The Pareto $k$
#   diagnostic and its 0.7 threshold.
# - Sivula, T., Magnusson, M., Matamoros, A. A. & Vehtari, A. (2025). Uncertainty in Bayesian
#   leave-one-out cross-validation based model comparison. *Bayesian Analysis*. When the
#   standard error of an elpd difference can be trusted.
# - Merkle, E. C., Furr, D. & Rabe-Hesketh, S. (2019). Bayesian comparison of latent variable
#   models: conditional versus marginal likelihoods. *Psychometrika* 84, 802–829. Predicting
#   for new groups: leave-one-group-out.

# %% [markdown]
# ## Versions

# %%
print(versions())
