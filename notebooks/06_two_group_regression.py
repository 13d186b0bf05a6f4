# %% [markdown]
# # 06 · Two groups, opposite effects: pooled, unpooled and hierarchical regression
#
# A simulated multiple (multivariable) regression, one response and three predictors, in which
# two groups respond to the same features in opposite directions. Because we simulate, we know
# the true weights and can check what each model recovers.

# %% [markdown] tags=["slide"]
# ## The question
#
# Two groups follow the *same* linear model with *opposite* weights, $w_B = -w_A$.
#
# - What does a regression learn if it ignores the groups?
# - How do we give each group its own weights in PyMC without one likelihood per group?
# - Does a hierarchical model help when there are only two groups?

# %% [markdown]
# **Learning goals.** After this notebook you can
#
# - explain, with a short calculation, why pooling two groups with weights $+w$ and $-w$
#   estimates weights near zero and a large noise scale;
# - give every row the weights of its group with an index array, `w.T[group_idx]`, and check
#   that two ways of writing a model define the same log density;
# - write the standard hierarchical prior on group weights (population mean weights and a
#   population scale), and decide from what the data pin down which parts to non-center;
# - say why with only two groups the population parameters are barely learned, while with
#   1000 rows per group partial pooling changes almost nothing;
# - check parameter recovery against the known truth of a simulation.
#
# HDI, $\hat R$, ESS, divergences and non-centering are defined in 01.

# %%
import logging
import timeit

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from course_utils.checks import two_group_regression as checks
from course_utils.diagnostics import check_sampling, compare_runs, compare_to_reference
from course_utils.environment import sampler_cores, versions
from course_utils.plots import model_graph, plot_ppc, use_course_style
from course_utils.simulate import simulate_two_group_regression

# %%
DATA_SEED = 2024  # simulates the data (and the exercises' data); the prose describes these data
RANDOM_SEED = 8927  # seeds every sampler and predictive draw
data_rng = np.random.default_rng(DATA_SEED)
rng = np.random.default_rng(RANDOM_SEED)
CORES = sampler_cores()  # worker processes for the chains
use_course_style()
# Without a BLAS library PyTensor computes matrix products through NumPy and logs a one-off
# notice saying so; the results are the same, so that single message is dropped.
logging.getLogger("pytensor.tensor.blas").addFilter(
    lambda record: "NumPy C-API based implementation" not in record.getMessage()
)

# %% [markdown]
# ## The data
#
# We simulate $n = 1000$ rows per group and $m = 3$ standard-normal features. Group A has weights
# $w_A = (1, 3.5, 6)$ and group B the opposite, $w_B = -w_A$; the noise has standard deviation
# $0.5$:
#
# $$y_i = x_i^\top w_{g(i)} + \varepsilon_i, \qquad \varepsilon_i \sim \mathrm{Normal}(0, 0.5),$$
#
# where $g(i) \in \{A, B\}$ is the group of row $i$ and, as everywhere in the course,
# $\mathrm{Normal}(\text{mean}, \text{standard deviation})$. There is no intercept.

# %%
data = simulate_two_group_regression(data_rng, n=1000, w_a=(1, 3.5, 6))
X, y, group_idx = data.X, data.y, data.group_idx
n_obs, n_feature = X.shape
coords = {"feature": ["x0", "x1", "x2"], "group": ["A", "B"], "obs": np.arange(n_obs)}
true_w = xr.DataArray(data.w, coords={k: coords[k] for k in ("feature", "group")})
print(f"X: {X.shape}, y: {y.shape}, noise sd: {data.noise_sd}")
pd.Series(group_idx).map(dict(enumerate(coords["group"]))).value_counts().rename("rows")

# %%
true_w.to_pandas().rename_axis(columns="true weight")

# %% tags=["slide", "slide-hide-input"]
fig, ax = plt.subplots()
for j, (group, marker) in enumerate(zip(coords["group"], ["o", "x"], strict=True)):
    rows_g = group_idx == j
    ax.scatter(X[rows_g, 2], y[rows_g], s=8, marker=marker, alpha=0.5, label=f"group {group}")
ax.set(xlabel="feature x2", ylabel="y", title="Same feature, opposite slopes")
legend = ax.legend(loc="upper left")

# %% [markdown]
# Against the strongest feature, `x2`, group A rises with slope $6$ and group B falls with slope
# $-6$; the scatter around each line comes from the other two features and the noise. Drawn in one
# colour, the cloud would be a symmetric X with no overall trend: that is what a model that
# ignores the groups sees.

# %% [markdown]
# ## Complete pooling: one set of weights for everyone
#
# ### Least squares
#
# Ignoring the groups, the least-squares weights minimise $\lVert y - Xw \rVert^2$; they solve
# the normal equations $X^\top X\, \hat w = X^\top y$. `np.linalg.lstsq` computes them (through
# an SVD of $X$, which is more stable than forming $X^\top X$).

# %%
w_lstsq, *_ = np.linalg.lstsq(X, y, rcond=None)
residual_sd = np.sqrt(np.mean((y - X @ w_lstsq) ** 2))
noise_ratio = residual_sd / data.noise_sd
print(f"least-squares weights: {w_lstsq.round(3)} (true A: {data.w[:, 0]})")
print(f"residual sd: {residual_sd:.2f} (true noise sd: {data.noise_sd}), ratio {noise_ratio:.1f}")

# %% tags=["check"]
assert np.allclose(X.T @ X @ w_lstsq, X.T @ y)  # lstsq solves the normal equations
assert noise_ratio > 10

# %% [markdown]
# The weights are close to **zero**, and the residual standard deviation is more than ten times
# the true noise. Nothing is wrong with the arithmetic: least squares answers exactly the
# question we asked, which was the wrong one.
#
# **Why zero?** Divide the normal equations by the number of rows $2n$ and split the sums by group:
#
# $$\frac{1}{2n} X^\top X \,\hat w = \frac12 \Big( \frac1n X_A^\top X_A\, w_A
# + \frac1n X_B^\top X_B\, w_B \Big) + \frac{1}{2n} X^\top \varepsilon .$$
#
# The features are independent standard normals, so $\frac1n X_g^\top X_g \to I$ and
# $\frac{1}{2n}X^\top \varepsilon \to 0$ as $n$ grows (law of large numbers), hence
# $\hat w \to \tfrac12 (w_A + w_B) = 0$: pooling estimates the **average** weight. With
# $\hat w \approx 0$ the residuals are $y$ itself, whose standard deviation is
# $\sqrt{\lVert w_A \rVert^2 + 0.5^2}$. For finite $n$, each component of $\hat w$ errs by
# about $\lVert w_A \rVert / \sqrt{2n}$.

# %%
predicted_sd = np.sqrt(np.sum(data.w[:, 0] ** 2) + data.noise_sd**2)
sampling_scale = np.linalg.norm(data.w[:, 0]) / np.sqrt(n_obs)
print(f"predicted residual sd: sqrt(|w_A|^2 + 0.5^2) = {predicted_sd:.2f}")
print(f"scale of the estimation error |w_A| / sqrt(2n) = {sampling_scale:.2f}")

# %% tags=["check"]
assert abs(residual_sd / predicted_sd - 1) < 0.1
assert np.max(np.abs(w_lstsq)) < 4 * sampling_scale

# %% [markdown]
# ### The pooled Bayesian model
#
# The same model with priors. The weights get a wide $\mathrm{Normal}(0, 10)$ prior. The noise
# scale gets an inverse-gamma prior with mean 1 and standard deviation 10: mostly below a few
# units but with a heavy right tail, so it does not rule out large values.
#
# $$w_k \sim \mathrm{Normal}(0, 10), \quad
# \sigma \sim \mathrm{InverseGamma}(\text{mean} = 1, \text{sd} = 10), \quad
# y_i \sim \mathrm{Normal}(x_i^\top w, \sigma).$$

# %%
with pm.Model(coords=coords) as pooled_model:
    w = pm.Normal("w", mu=0, sigma=10, dims="feature")
    sigma = pm.InverseGamma("sigma", mu=1, sigma=10)
    pm.Normal("y", mu=X @ w, sigma=sigma, observed=y, dims="obs")

# %%
with pooled_model:
    pooled_idata = pm.sample(
        draws=500, tune=500, chains=4, cores=CORES, random_seed=rng, progressbar=False
    )
check_sampling(pooled_idata, var_names=["w", "sigma"]).to_frame()

# %% [markdown]
# With 2000 rows the $\mathrm{Normal}(0, 10)$ prior is nearly flat where the likelihood is, so
# the posterior means of the weights are the least-squares weights. The table compares them in
# units of their Monte Carlo standard error ($z$; `compare_to_reference` raises if any
# $|z| > 4$).

# %%
lstsq_reference = pd.DataFrame({"mean": w_lstsq}, index=[f"w[{f}]" for f in coords["feature"]])
compare_to_reference(pooled_idata, lstsq_reference).round(3)

# %%
pooled_summary = az.summary(pooled_idata, var_names=["w", "sigma"], kind="stats")
w_pooled_mean = pooled_idata.posterior["w"].mean(("chain", "draw")).to_numpy()
w_pooled_sd = pooled_idata.posterior["w"].std(("chain", "draw")).to_numpy()
sigma_pooled_mean = pooled_idata.posterior["sigma"].mean().item()
pooled_summary

# %% tags=["check"]
# Every weight is within 4 posterior sds of the average weight 0.
assert np.all(np.abs(w_pooled_mean) < 4 * w_pooled_sd)
# The posterior mean of sigma differs from the least-squares residual sd by O(1/n) (a few
# tenths of a per cent here) plus a Monte Carlo error of about sd / sqrt(ESS) (0.03% here).
assert abs(sigma_pooled_mean / residual_sd - 1) < 0.01

# %% [markdown]
# The weights are all within a few posterior standard deviations of the *average* weight
# $\tfrac12(w_A + w_B) = 0$, and $\sigma$, the residual standard deviation of least squares,
# absorbs everything the model cannot explain (both checked in the cell above).

# %% [markdown]
# ## No pooling: each group its own weights
#
# Now $w$ is an $m \times 2$ matrix, one column per group, `dims=("feature", "group")`. The
# likelihood needs, for each row $i$, the prediction $x_i^\top w_{g(i)}$ with the weights of *that
# row's* group. The index array `group_idx` (0 for A, 1 for B) does it.
#
# ### Per-row weights: `w.T[group_idx]`
#
# `w.T[group_idx]` is a $2n \times m$ matrix whose row $i$ holds the weights of row $i$'s group
# (the same as `w[:, group_idx].T`). Multiply it elementwise with $X$ and sum over the features:
#
# $$\mu_i = \sum_{k=1}^m X_{ik}\, w_{k, g(i)} = x_i^\top w_{g(i)} .$$
#
# This is the usual PyMC idiom: `alpha[group_idx]` for varying intercepts is its one-feature
# case.

# %%
per_row_mean = (X * data.w.T[group_idx]).sum(axis=1)
print(f"w.T[group_idx] has shape {data.w.T[group_idx].shape}; mu has shape {per_row_mean.shape}")

# %% tags=["check"]
for j in range(2):
    np.testing.assert_allclose(per_row_mean[group_idx == j], X[group_idx == j] @ data.w[:, j])

# %% tags=["slide"]
with pm.Model(coords=coords) as unpooled_model:
    w = pm.Normal("w", mu=0, sigma=10, dims=("feature", "group"))
    sigma = pm.InverseGamma("sigma", mu=1, sigma=10)
    mu = (X * w.T[group_idx]).sum(axis=1)
    pm.Normal("y", mu=mu, sigma=sigma, observed=y, dims="obs")

# %% [markdown]
# ### The stacked design: every row against every group
#
# The matrix product $XW$, with $W = (w_A \;\; w_B)$, multiplies **every** row by **both** groups'
# weights. With the rows sorted by group it is a block matrix,
#
# $$X W = \begin{pmatrix} X_A w_A & X_A w_B \\ X_B w_A & X_B w_B \end{pmatrix}
# \qquad (2n \times 2),$$
#
# and only the diagonal blocks are wanted: entry $(i, g(i))$ of every row. Fancy indexing with
# one row and one column index per observation, `(X @ w)[rows, group_idx]`, picks them; so does
# multiplying by the one-hot matrix of the groups (row $i$ is 1 in column $g(i)$, 0 elsewhere)
# and summing each row. The off-diagonal blocks are computed and thrown away.

# %%
rows = np.arange(n_obs)
group_onehot = np.eye(len(coords["group"]))[group_idx]  # 2n x 2
stacked_mean = ((X @ data.w) * group_onehot).sum(axis=1)
print(
    f"X @ w has shape {(X @ data.w).shape}; after picking one column per row: {stacked_mean.shape}"
)

# %% tags=["check"]
np.testing.assert_allclose(stacked_mean, (X @ data.w)[rows, group_idx])
np.testing.assert_allclose(stacked_mean, per_row_mean)

# %%
with pm.Model(coords=coords) as stacked_model:
    w = pm.Normal("w", mu=0, sigma=10, dims=("feature", "group"))
    sigma = pm.InverseGamma("sigma", mu=1, sigma=10)
    mu = ((X @ w) * group_onehot).sum(axis=1)
    pm.Normal("y", mu=mu, sigma=sigma, observed=y, dims="obs")

# %% [markdown]
# ### Same model, same log density
#
# Two ways of writing a model define the same posterior exactly when they define the same
# log density. `model.compile_logp()` and `model.compile_dlogp()` compile the log density and its
# gradient (what NUTS evaluates at every leapfrog step). We evaluate both models at a few random
# points of the unconstrained space, where PyMC works with $\log \sigma$ (named `sigma_log__`).

# %%
models = {"per-row weights": unpooled_model, "stacked design": stacked_model}
logp_fns = {name: (m.compile_logp(), m.compile_dlogp()) for name, m in models.items()}
points = [
    {"w": rng.normal(scale=5, size=(n_feature, 2)), "sigma_log__": rng.normal()} for _ in range(4)
]
logp_table = pd.DataFrame(
    {name: [float(logp(pt)) for pt in points] for name, (logp, _) in logp_fns.items()}
)
logp_table.rename_axis("point").round(4)

# %% tags=["check"]
np.testing.assert_allclose(logp_table["stacked design"], logp_table["per-row weights"], rtol=1e-10)
for pt in points:
    np.testing.assert_allclose(*(dlogp(pt) for _, dlogp in logp_fns.values()), rtol=1e-8)

# %% [markdown]
# Identical log densities, and identical gradients (checked in the cell above): the two models
# are the same model, and NUTS follows the same trajectories through both, up to rounding. We
# may therefore write a likelihood in whichever form evaluates faster; the appendix compares
# their cost. We sample the per-row form.

# %%
with unpooled_model:
    unpooled_idata = pm.sample(
        draws=1000, tune=500, chains=4, cores=CORES, random_seed=rng, progressbar=False
    )
check_sampling(unpooled_idata, var_names=["w", "sigma"]).to_frame()

# %% [markdown]
# ### Recovery
#
# Does the unpooled model find the true weights? Under the model, the posterior mean misses the
# truth by about one posterior standard deviation: across repeated simulations the error
# divided by the posterior sd, $z = (\bar w - w_{\text{true}})/\mathrm{sd}$, is close to standard
# normal. For six weights, $P(\text{some } |z| > 4) \approx 6 \times 6 \times 10^{-5} < 10^{-3}$,
# so a tolerance of 4 posterior sds fails only when something is genuinely wrong (the Monte Carlo
# error of the mean is a few per cent of the sd, negligible here).

# %%
unpooled_summary = az.summary(unpooled_idata, var_names=["w"], kind="stats", round_to="none")
recovery = unpooled_summary[["mean", "sd"]].assign(true=data.w.ravel())
recovery["z"] = (recovery["mean"] - recovery["true"]) / recovery["sd"]
sigma_unpooled = az.summary(unpooled_idata, var_names=["sigma"], kind="stats", round_to="none")
recovery.round(3)

# %% tags=["check"]
assert recovery["z"].abs().max() < 4, recovery
# sigma's posterior sd is about 0.5 / sqrt(2 * 2000) = 0.008: 4 of them is 0.03.
assert (
    abs(sigma_unpooled.loc["sigma", "mean"] - data.noise_sd) < 4 * sigma_unpooled.loc["sigma", "sd"]
)

# %% [markdown]
# Every weight is recovered to within a few hundredths, with posterior sd about
# $0.5 / \sqrt{1000} \approx 0.016$: with 1000 rows per group and little noise, each group's data
# pin its weights down. The noise scale $\sigma$ is recovered too (checked above).
#
# A direct way to see the difference between the pooled and unpooled fits: plot each
# observation against the model's prediction $x_i^\top \bar w_{g(i)}$ at the posterior-mean
# weights, on the same axes. A good regression puts the points on the diagonal.

# %%
fig, axs = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True)
w_unpooled_mean = unpooled_idata.posterior["w"].mean(("chain", "draw")).to_numpy()
predictions = {"pooled": X @ w_pooled_mean, "unpooled": (X * w_unpooled_mean.T[group_idx]).sum(1)}
for ax, (name, y_hat) in zip(axs, predictions.items(), strict=True):
    ax.scatter(y_hat, y, s=6, alpha=0.4)
    ax.axline((0, 0), slope=1, color="C4", linestyle="--", label="y = prediction")
    ax.set(xlabel="predicted y (posterior-mean weights)", title=f"{name} model")
axs[0].set_ylabel("observed y")
legend = axs[0].legend(loc="upper left")

# %%
prediction_check = pd.DataFrame(
    {
        name: {
            "range of predictions": np.ptp(y_hat),
            "correlation with y": np.corrcoef(y_hat, y)[0, 1],
        }
        for name, y_hat in predictions.items()
    }
)
print(f"range of observed y: {np.ptp(y):.1f}")
prediction_check.round(3)

# %% tags=["check"]
assert prediction_check.loc["range of predictions", "pooled"] < 0.1 * np.ptp(y)
assert abs(prediction_check.loc["correlation with y", "pooled"]) < 0.1
assert prediction_check.loc["correlation with y", "unpooled"] > 0.99

# %% [markdown]
# The pooled model predicts nearly the same value for every row: its predictions span less than a
# tenth of the range of $y$ (the narrow vertical band in the left panel) and barely correlate
# with it. The unpooled model's predictions lie on the diagonal, correlated almost perfectly
# with $y$.

# %% [markdown]
# ## A hierarchical model
#
# The two groups' weights can also be treated as draws from a population. The standard
# hierarchical prior gives each feature $k$ a population mean weight and a population scale:
#
# $$w_{k,\text{pop}} \sim \mathrm{Normal}(0, 10), \qquad \tau_k \sim \mathrm{HalfNormal}(10),
# \qquad w_{k,g} \sim \mathrm{Normal}(w_{k,\text{pop}}, \tau_k), \quad g \in \{A, B\},$$
#
# with the likelihood of the unpooled model. In code $\tau$ is `w_sd`. Treating A and B as
# draws from one population means assuming they are *exchangeable* (01): before seeing the
# data, nothing tells us which group has the larger weights.
#
# ### Writing it for the sampler
#
# The model is fixed; what we choose is which variables NUTS moves. As with non-centering in
# 01, a change of variables, with its Jacobian, leaves the model unchanged.
#
# - **The group weights stay centered.** Non-centering, $w = w_{\text{pop}} + \tau z$, helps
#   when the data say little about each group (01, 05). Here each group's 1000 rows fix its weights
#   to within about $0.016$, and a non-centered sampler would have to move $w_{\text{pop}}$,
#   $\tau$ and $z$ together along the thin ridge where $w_{\text{pop}} + \tau z$ keeps its
#   data-fixed value (exercise 4 measures how thin).
# - **The population mean is non-centered.** Given the two data-fixed group weights,
#   $w_{\text{pop}}$ is known to within about $\tau / \sqrt 2$: tight when $\tau$ is small,
#   loose when it is large, the funnel of 01 in another place. So we let NUTS move
#   $u = w_{\text{pop}} / \tau$, whose posterior spread does not depend on $\tau$. Scaling a
#   normal variable: if $w_{\text{pop}} \sim \mathrm{Normal}(0, 10)$ independently of $\tau$,
#   then $u \mid \tau \sim \mathrm{Normal}(0, 10 / \tau)$, and conversely. Declaring $u$ with this
#   prior and setting $w_{\text{pop}} = \tau u$ is therefore the prior above, not a new one (the
#   check after the model graph confirms it on prior draws; exercise 3 samples the direct form).
# - **The likelihood is the stacked design**, the same density as the per-row form and the
#   cheaper one to differentiate with two groups (appendix).

# %%
with pm.Model(coords=coords) as hierarchical_model:
    w_sd = pm.HalfNormal("w_sd", sigma=10, dims="feature")
    w_pop_scaled = pm.Normal("w_pop_scaled", mu=0, sigma=10 / w_sd, dims="feature")
    w_pop = pm.Deterministic("w_pop", w_sd * w_pop_scaled, dims="feature")  # ~ Normal(0, 10)
    w = pm.Normal("w", mu=w_pop[:, None], sigma=w_sd[:, None], dims=("feature", "group"))
    sigma = pm.InverseGamma("sigma", mu=1, sigma=10)
    mu = ((X @ w) * group_onehot).sum(axis=1)  # the stacked design
    pm.Normal("y", mu=mu, sigma=sigma, observed=y, dims="obs")

# %% tags=["nbval-ignore-output"]
model_graph(hierarchical_model)

# %% [markdown]
# ### Prior predictive check
#
# Before fitting, draw parameters and data sets from the priors alone. First, the prior draws
# of $w_{\text{pop}}$ must be those of $\mathrm{Normal}(0, 10)$ and must not depend on $\tau$:
# their standard deviation should be 10 and their size uncorrelated with $\tau$, each within
# four standard errors (the standard error of a sample sd is about
# $10 / \sqrt{2N}$ for $N$ normal draws, that of a correlation about $1 / \sqrt N$).

# %%
with hierarchical_model:
    prior_idata = pm.sample_prior_predictive(draws=1000, random_seed=rng)
w_pop_prior = prior_idata.prior["w_pop"].to_numpy().ravel()
tau_prior = prior_idata.prior["w_sd"].to_numpy().ravel()
n_prior = w_pop_prior.size
prior_check = pd.DataFrame(
    {
        "draws": [w_pop_prior.std(), np.corrcoef(np.abs(w_pop_prior), tau_prior)[0, 1]],
        "expected": [10.0, 0.0],
        "std. error": [10 / np.sqrt(2 * n_prior), 1 / np.sqrt(n_prior)],
    },
    index=["sd of w_pop", "corr(|w_pop|, tau)"],
)
prior_check["z"] = (prior_check["draws"] - prior_check["expected"]) / prior_check["std. error"]
prior_check.round(3)

# %% tags=["check"]
assert (prior_check["z"].abs() < 4).all()

# %% [markdown]
# Next, the spread of the simulated data sets against the observed one. If the priors routinely
# produced responses a thousand times too large, or none as large as the data, we would rethink
# them.

# %%
prior_y_sd = prior_idata.prior_predictive["y"].std("obs").to_numpy().ravel()
observed_y_sd = y.std()
share_below = np.mean(prior_y_sd < observed_y_sd)
median_ratio = np.median(prior_y_sd) / observed_y_sd
print(f"observed sd(y): {observed_y_sd:.2f}")
print("prior predictive sd(y), 5%/50%/95%:", np.quantile(prior_y_sd, [0.05, 0.5, 0.95]).round(1))
print(f"median prior sd / observed sd: {median_ratio:.1f}")
print(f"prior data sets less spread out than the observed one: {share_below:.1%}")

# %% tags=["check"]
assert 2 < median_ratio < 5
assert 0 < share_below < 0.5

# %%
fig, ax = plt.subplots()
ax.hist(np.log10(prior_y_sd), bins=40, color="C1")
ax.axvline(np.log10(observed_y_sd), color="C4", linestyle="--", label="observed data")
ax.set(
    xlabel=r"$\log_{10}$ sd(y) of a simulated data set",
    ylabel="prior draws",
    title="Prior predictive spread of y",
)
legend = ax.legend(loc="upper left")

# %% [markdown]
# The priors expect data a few times more spread out than ours (the median ratio, printed
# above, is between 2 and 5). That follows from the priors: a group weight has prior standard
# deviation $\sqrt{10^2 + \mathrm{E}[\tau^2]} = \sqrt{200} \approx 14$, so weights of size 10 are
# as plausible a priori as weights of size 1. The observed spread sits in the lower tail of the
# prior predictive distribution (the printed fraction of less spread-out data sets is small),
# but inside it. The priors lean toward larger effects than ours without excluding them; with
# 2000 observations the data overrule them easily, while with a handful of rows we would choose
# tighter priors.

# %% [markdown]
# ### Sampling
#
# Two weights as far apart as $\pm 1$ cannot come from a population with a tiny $\tau$, so the
# posterior of $\tau$ falls off a steep cliff below its bulk; a smaller step size, through a
# higher `target_accept`, lets NUTS approach the cliff without diverging. The posterior scales
# also differ widely: the group weights (and $\log \sigma$) have posterior sd of about $0.016$,
# while $\log \tau$ and $u$ vary on a scale of order 1. NUTS learns the scales during tuning;
# the `jitter+adapt_diag_grad` initialisation learns them from gradients as well as from draws,
# and gets there sooner on this model.

# %%
with hierarchical_model:
    hierarchical_idata = pm.sample(
        draws=1500,  # at 800, 1 of 23 sampler seeds gave an r_hat of 1.011
        tune=600,
        chains=4,
        cores=CORES,
        target_accept=0.99,
        init="jitter+adapt_diag_grad",
        random_seed=rng,
        progressbar=False,
    )
check_sampling(hierarchical_idata, var_names=["w_pop", "w_sd", "w", "sigma"]).to_frame()

# %% [markdown]
# ### Two groups tell us little about a population
#
# For each feature the data supply two numbers, $w_{k,A} \approx -w_{k,B}$, and estimating a mean
# and a standard deviation from a sample of two is hopeless: the 94% HDI of $w_{\text{pop}}$ is
# more than 8 units wide for every feature, and the 94% HDI of $\tau$ spans a factor of more
# than 3 (both printed below).

# %%
hierarchical_hdi = az.hdi(hierarchical_idata, var_names=["w_pop", "w_sd"], hdi_prob=0.94)
w_pop_hdi, tau_hdi = hierarchical_hdi["w_pop"].to_pandas(), hierarchical_hdi["w_sd"].to_pandas()
population_table = pd.DataFrame(
    {
        "w_pop HDI width": w_pop_hdi["higher"] - w_pop_hdi["lower"],
        "tau HDI lower": tau_hdi["lower"],
        "tau HDI upper": tau_hdi["higher"],
        "tau upper / lower": tau_hdi["higher"] / tau_hdi["lower"],
    }
)
population_table.round(2)

# %% tags=["check"]
assert (population_table["w_pop HDI width"] > 8).all()
assert (population_table["tau upper / lower"] > 3).all()

# %%
fig, axs = plt.subplots(1, n_feature, figsize=(12, 4), sharey=True)
grid = np.linspace(0, 40, 200)
prior_density = 2 * np.exp(-0.5 * (grid / 10) ** 2) / (10 * np.sqrt(2 * np.pi))
for ax, feature in zip(axs, coords["feature"], strict=True):
    draws = hierarchical_idata.posterior["w_sd"].sel(feature=feature).to_numpy().ravel()
    ax.hist(draws, bins=40, range=(0, 40), density=True, color="C2", label="posterior")
    ax.plot(grid, prior_density, color="C0", label="prior HalfNormal(10)")
    ax.set(xlabel=f"w_sd[{feature}] (tau)", title=f"feature {feature}")
axs[0].set_ylabel("density")
suptitle = fig.suptitle("Population scale tau: posterior and prior")
legend = axs[0].legend(loc="upper right")

# %% [markdown]
# The figure shows the posterior of each population scale $\tau_k$ (histogram) over its prior
# (line). Each posterior rules out $\tau$ near zero (two weights that differ by 2 for `x0`, 12
# for `x2`, cannot come from a very tight population), but none rules out large values: the 94%
# HDIs in the table above end at about 12 for `x0`, 16 for `x1` and 18 for `x2`, on the scale of
# the prior (10). How far to the right a posterior reaches depends on the feature: for `x2`,
# whose two weights differ most, nearly as far as the prior; for `x0`, whose weights differ
# least, clearly less far, because two weights only 2 apart favour a smaller $\tau$. The data
# set a lower bound on $\tau$; above it, the prior does most of the work.
#
# ### What partial pooling does here: almost nothing
#
# In a normal hierarchy, given $\tau$ and $w_{\text{pop}}$, and with a likelihood for a group's
# weight that is normal with standard deviation $s$ (here, a linear model with known design,
# $s \approx 0.016$), the posterior mean of that weight is its own estimate moved toward
# $w_{\text{pop}}$ by the fraction $s^2 / (s^2 + \tau^2)$ of the distance (BDA3, section 5.4).
# Averaged over the posterior draws of $\tau$ the fraction is printed below: of order $10^{-4}$
# or less. Partial pooling matters when groups have *few* data; these groups have 1000 rows each.

# %%
s = recovery["sd"].mean()
tau_draws = hierarchical_idata.posterior["w_sd"]
shrinkage_fraction = (s**2 / (s**2 + tau_draws**2)).mean(("chain", "draw")).to_pandas()
shrinkage_fraction.rename("fraction moved toward w_pop").to_frame().map("{:.1e}".format)

# %% tags=["check"]
assert (shrinkage_fraction < 1e-3).all()

# %% [markdown]
# Accordingly, the hierarchical and unpooled posteriors of the group weights agree within Monte
# Carlo error (`compare_runs` raises if any $|z| > 4$):

# %%
compare_runs(hierarchical_idata, unpooled_idata, var_names=["w", "sigma"]).round(4)

# %% [markdown]
# ### Posterior predictive check
#
# Replicated data sets drawn from the fitted hierarchical model, compared with the observed $y$.

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
fig, ax = plt.subplots()
ax.set(xlabel="y", ylabel="density", title="Posterior predictive check, hierarchical model")
ax = plot_ppc(hierarchical_idata, num_pp_samples=100, random_seed=RANDOM_SEED, ax=ax)

# %% [markdown]
# The density of the observed $y$ (thick red line) lies within the band of 100 replicated data
# sets (grey). This check is weaker than it looks: the pooled model also predicts a
# bell-shaped $y$ with standard deviation about 7 (exactly because its $\sigma$ absorbed the
# group effects), so it would pass this plot too (exercise 2). Checks that condition on the
# features, like the prediction plot above, are what separate the two.

# %% [markdown]
# ## Recovery: all three models against the truth
#
# For each model we plot the posterior mean of each weight, with its 94% HDI, against the true
# weight. The pooled model has one weight per feature, shared by both groups, so it appears once
# at $+w$ and once at $-w$.


# %%
def plot_recovery(idata, ax, title):
    """Posterior mean and 94% HDI of w against the true weights, one marker per group."""
    posterior_w = idata.posterior["w"]
    mean = posterior_w.mean(("chain", "draw")).broadcast_like(true_w)
    hdi = az.hdi(posterior_w, hdi_prob=0.94)["w"].broadcast_like(true_w)
    for group, marker in zip(coords["group"], ["o", "s"], strict=True):
        m = mean.sel(group=group).to_numpy()
        t = true_w.sel(group=group).to_numpy()
        yerr = np.abs(hdi.sel(group=group).transpose("hdi", "feature").to_numpy() - m)
        ax.errorbar(t, m, yerr=yerr, fmt=marker, capsize=3, label=f"group {group}")
    ax.axline((0, 0), slope=1, color="C4", linestyle="--", linewidth=1)
    ax.set(title=title, xlabel="true weight")


# %% tags=["slide", "slide-hide-input"]
fig, axs = plt.subplots(1, 3, figsize=(13, 4.5), sharex=True, sharey=True)
fits = {"pooled": pooled_idata, "unpooled": unpooled_idata, "hierarchical": hierarchical_idata}
for ax, (name, idata) in zip(axs, fits.items(), strict=True):
    plot_recovery(idata, ax, title=f"{name} model")
axs[0].set_ylabel("posterior mean (94% HDI)")
legend = axs[0].legend(loc="upper left")

# %% [markdown]
# Each panel plots a model's estimate of every weight against its true value; the dashed line
# is perfect recovery. The unpooled and hierarchical estimates sit on the diagonal (their
# HDIs, about $\pm 0.03$, are smaller than the markers). The pooled estimates lie on a flat line
# at zero: one weight per feature cannot be $+6$ for group A and $-6$ for group B, so it
# settles on their average. With 1000 rows per group, the hierarchy adds nothing to the unpooled
# fit.

# %% [markdown]
# ## Appendix: what the two likelihoods cost
#
# The per-row form costs $m$ multiply-adds per row. The stacked design computes every row
# against every group, $G m$ multiply-adds per row for $G$ groups, and discards all but one
# column: its work grows with the number of groups, the per-row form's does not.

# %%
pd.DataFrame(
    {
        n_group: {
            "per-row weights": n_obs * n_feature,
            "stacked design": n_obs * n_feature * n_group,
        }
        for n_group in (2, 10)
    }
).rename_axis(columns="groups (2000 rows)")

# %% [markdown]
# Counting multiply-adds predicts how the cost *grows*, not what it is on a small problem. What
# NUTS evaluates, tens of thousands of times per fit, is the log density *and its gradient*.
# PyTensor differentiates the gather `w.T[group_idx]` with a scatter-add into a 2-D array,
# which is slow compared with the matrix products and elementwise products of the stacked
# design. With only 3 features and 2 groups that overhead outweighs the saved arithmetic: on the
# machines this course is tested on the stacked design evaluates faster, which is why the
# hierarchical model uses it; with many groups the per-row form wins. Timings depend on the
# machine, its load and PyTensor's backend, so run the cell and read your own numbers.

# %%
for name, m in models.items():
    logp_dlogp = m.compile_fn([m.logp(), m.dlogp()])
    seconds = min(timeit.repeat(lambda f=logp_dlogp: f(points[0]), number=200, repeat=3))
    print(f"{name}: 200 evaluations of logp and gradient took {seconds:.3f} seconds")

# %% [markdown]
# ## Exercises
#
# Exercises 1, 2 and 4 end with a cell that checks your answer: run it once your answer is
# stored under the names the exercise gives. It tells you whether the answer is correct; if
# not, how far it is from the expected one (in standard errors, where the answer is random), or
# which common mistake it looks like. It is designed to fail a correct answer in fewer than one
# check in a thousand.
#
# 1. **Groups that agree.** Simulate with `w_b=(1, 3.5, 6)` (the same weights as group A) and fit
#    the pooled least-squares regression. What weights and residual sd do you get, and why?
#    (Store the data in `data_same`, the weights in `w_same` and the residual sd in
#    `residual_sd`.)
# 2. **A check that fails the pooled model.** Draw posterior predictive samples from the pooled
#    model and make the same `plot_ppc` as for the hierarchical model. Does it reveal the
#    problem? Then compute, for the observed data and for each replicated data set, the
#    least-squares slope of $y$ on `x2` within group A (regressed on all three features, as in
#    the model; store it in `slope_x2_observed`, and the replicated slopes, one per data set, in
#    `slope_x2_replicated`). Where does the observed value fall?
# 3. **Declare the population mean directly.** Copy `hierarchical_model` and replace its two
#    lines for the population mean by `w_pop = pm.Normal("w_pop", mu=0, sigma=10,
#    dims="feature")`: the same prior, written in the usual way. Sample it with the settings of
#    the lesson and compare the diagnostics and the bulk ESS of `w_pop` and `w_sd` with the
#    lesson's fit. Which form mixes better, and why?
# 4. **Why not non-center the group weights?** A non-centered model would sample
#    $z_{k,g} = (w_{k,g} - w_{k,\text{pop}}) / \tau_k$. Compute $z$ from the draws of
#    `hierarchical_idata` and compare its posterior sd with the width of the ridge it would have
#    to stay on: given $w_{\text{pop}}$ and $\tau$, the data fix $z$ to within $s / \tau$, where
#    $s \approx 0.016$ is the posterior sd of a group weight (the lesson's `s`). For each
#    feature, divide the posterior sd of $z$, averaged over the two groups, by the posterior
#    median of $s / \tau$, and store the ratios in `ratio_to_ridge`. What does the ratio mean
#    for the number of leapfrog steps NUTS would need per draw?

# %% tags=["solution"]
exercise_rng = np.random.default_rng([DATA_SEED, 1])  # exercise data: fixed by DATA_SEED
data_same = simulate_two_group_regression(exercise_rng, n=1000, w_a=(1, 3.5, 6), w_b=(1, 3.5, 6))
w_same, *_ = np.linalg.lstsq(data_same.X, data_same.y, rcond=None)
residual_sd = np.std(data_same.y - data_same.X @ w_same)
print("pooled weights:", w_same.round(3))
print(f"residual sd: {residual_sd:.3f}")

# %% tags=["answer-check"]
checks.agreeing_groups(w_same, residual_sd, data_same)

# %% [markdown] tags=["solution"]
# When the groups share their weights, pooling is the *right* model: the average of the two
# weight vectors is the common vector, the weights are recovered and the residual sd is the noise
# sd, 0.5. Pooling fails only when the groups differ, and it fails silently, by averaging.

# %% tags=["solution"]
with pooled_model:
    pooled_ppc = pm.sample_posterior_predictive(
        pooled_idata, var_names=["y"], random_seed=rng, progressbar=False
    )
fig, ax = plt.subplots()
ax.set(xlabel="y", ylabel="density", title="Posterior predictive check, pooled model")
ax = plot_ppc(pooled_ppc, num_pp_samples=100, random_seed=RANDOM_SEED, ax=ax)

# %% tags=["solution"]
rows_a = group_idx == 0
y_rep_a = pooled_ppc.posterior_predictive["y"].to_numpy().reshape(-1, n_obs)[:, rows_a]
coef_a = np.linalg.lstsq(X[rows_a], np.column_stack([y[rows_a], y_rep_a.T]), rcond=None)[0]
slope_x2_observed, slope_x2_replicated = coef_a[2, 0], coef_a[2, 1:]
print(f"observed slope on x2 in group A: {slope_x2_observed:.2f}")
slope_x2_quantiles = np.quantile(slope_x2_replicated, [0.01, 0.99]).round(2)
print(f"replicated slopes, 1% and 99% quantiles: {slope_x2_quantiles}")
assert slope_x2_observed > slope_x2_replicated.max()

# %% tags=["answer-check"]
checks.group_slope(slope_x2_observed, slope_x2_replicated, pooled_idata, X, y, group_idx)

# %% [markdown] tags=["solution"]
# The marginal `plot_ppc` looks fine: the pooled model reproduces a bell-shaped $y$ of the right
# spread. The group-wise slope exposes it: the observed slope on `x2` in group A is about 6,
# larger than every replicated slope, which stay within about a unit of zero. Choose test
# statistics that target what the model might get wrong (BDA3, chapter 6).

# %% tags=["solution"]
with pm.Model(coords=coords) as direct_model:
    w_sd = pm.HalfNormal("w_sd", sigma=10, dims="feature")
    w_pop = pm.Normal("w_pop", mu=0, sigma=10, dims="feature")
    w = pm.Normal("w", mu=w_pop[:, None], sigma=w_sd[:, None], dims=("feature", "group"))
    sigma = pm.InverseGamma("sigma", mu=1, sigma=10)
    mu = ((X @ w) * group_onehot).sum(axis=1)
    pm.Normal("y", mu=mu, sigma=sigma, observed=y, dims="obs")
with direct_model:
    direct_idata = pm.sample(
        draws=1500,
        tune=600,
        chains=4,
        cores=CORES,
        target_accept=0.99,
        init="jitter+adapt_diag_grad",
        random_seed=rng,
        progressbar=False,
        compute_convergence_checks=False,  # this form may mix badly; we inspect it ourselves
    )
population_vars = ["w_pop", "w_sd"]
mixing = pd.DataFrame(
    {
        name: check_sampling(idata, var_names=population_vars, raise_on_failure=False).to_frame()[
            "value"
        ]
        for name, idata in {
            "u = w_pop / tau (lesson)": hierarchical_idata,
            "w_pop directly": direct_idata,
        }.items()
    }
)
mixing

# %% tags=["solution"]
ess_population = {
    name: az.ess(idata, var_names=population_vars).to_array().to_numpy().min()
    for name, idata in {"lesson": hierarchical_idata, "direct": direct_idata}.items()
}
assert ess_population["direct"] < ess_population["lesson"]

# %% [markdown] tags=["solution"]
# Both forms define the same posterior, but the direct form mixes worse: with the same
# settings, its smallest bulk ESS among the population parameters is lower than the lesson's
# (checked in the cell above). NUTS must explore the funnel between $w_{\text{pop}}$ and $\tau$
# with one step size: wide steps fit where $\tau$ is large, narrow ones where it is small.
# Measured in units of $\tau$, the population mean has the same spread everywhere.

# %% tags=["solution"]
posterior = hierarchical_idata.posterior
z = (posterior["w"] - posterior["w_pop"]) / posterior["w_sd"]
ridge_width = (s / posterior["w_sd"]).median(("chain", "draw"))
ridge = pd.DataFrame(
    {
        "posterior sd of z": z.std(("chain", "draw")).mean("group").to_pandas(),
        "ridge width s / tau (median)": ridge_width.to_pandas(),
    }
)
ridge["ratio"] = ridge["posterior sd of z"] / ridge["ridge width s / tau (median)"]
ratio_to_ridge = ridge["ratio"]
ridge.round({"posterior sd of z": 2, "ridge width s / tau (median)": 4, "ratio": 0})

# %% tags=["solution"]
assert (ridge["ratio"] > 50).all()

# %% tags=["answer-check"]
checks.ridge_ratio(ratio_to_ridge, hierarchical_idata, s)

# %% [markdown] tags=["solution"]
# The non-centered $z$ would range over about 0.7 while staying on a ridge a hundred or more
# times narrower. NUTS's step size must fit the narrow direction and its trajectories must
# cross the wide one, so each draw would take hundreds of leapfrog steps (NUTS's default limit
# is 1023 per draw) instead of the dozen or so of the lesson's fit. Non-centering helps when the
# data say little about each group; when they say a lot, the centered form is the better one
# (Papaspiliopoulos, Roberts & Sköld 2007; Betancourt & Girolami 2015).

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - Pooling groups whose effects differ estimates their **average** effect: with weights $+w$ and
#   $-w$ that is zero, and the noise scale $\sigma$ swallows the group differences.
# - Group-specific weights: index the weights per row, $\mu_i = x_i^\top w_{g(i)}$, as
#   `(X * w.T[group_idx]).sum(axis=1)`. The stacked design `(X @ w)` with one column picked per
#   row gives the same log density but computes every row against every group.
# - Two ways of writing a model are the same model when their log densities agree everywhere;
#   comparing log density and gradient at a few random points is a cheap check.
# - Non-center what the data leave loose: here the population mean (in units of $\tau$), not the
#   group weights, which the data pin down.
# - With two groups a hierarchy learns little about its population ($\tau$ stays prior-driven),
#   and with 1000 rows per group partial pooling moves nothing: it helps when groups are many and
#   small.
# - Simulated data let us test recovery: posterior means within a few posterior sds of the truth.

# %% [markdown]
# ## References
#
# - Gelman, A. & Hill, J. (2007). *Data Analysis Using Regression and Multilevel/Hierarchical
#   Models.* Cambridge University Press. Chapters 12-13: multilevel linear models with varying
#   intercepts and slopes, the models of this lesson.
# - Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. & Rubin, D. B. (2013).
#   *Bayesian Data Analysis*, 3rd ed. CRC Press. Section 5.4 (the normal hierarchy and its
#   shrinkage fraction), chapter 6 (posterior predictive checks with test statistics),
#   chapters 14-15 (regression and hierarchical linear models).
# - Martin, O. A. (2024). *Bayesian Analysis with Python*, 3rd ed. Packt. Chapters 3-4:
#   hierarchical models and linear models in PyMC.
# - McElreath, R. (2020). *Statistical Rethinking*, 2nd ed. CRC Press. Chapters 13-14: varying
#   effects, and non-centered parameterisations.
# - Papaspiliopoulos, O., Roberts, G. O. & Sköld, M. (2007). A general framework for the
#   parametrization of hierarchical models. *Statistical Science* 22(1), 59-73: the centered form
#   is better when the data are informative about each group, the non-centered when they are not.
# - Betancourt, M. & Girolami, M. (2015). Hamiltonian Monte Carlo for hierarchical models. In
#   *Current Trends in Bayesian Methodology with Applications*, CRC Press, 79-101 (arXiv:1312.0906):
#   funnels and the choice of parameterisation for HMC.

# %% [markdown]
# ## Versions

# %%
print(versions())
