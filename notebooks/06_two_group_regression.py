# %% [markdown]
# # 06 · Two groups, opposite effects: pooled, unpooled and hierarchical regression
#
# A simulated multivariate regression in which two groups respond to the same features in
# opposite directions. Because we simulate, we know the true weights and can check what each
# model recovers.

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
# - fit a linear regression with NumPy (normal equations and `lstsq`) and as a Bayesian model;
# - explain, with a short calculation, why pooling two groups with weights $+w$ and $-w$
#   estimates weights near zero and a huge noise scale;
# - write group-specific weights with a stacked design, `(X @ w)[rows, group_idx]`, explain it as a
#   block-matrix product, and replace it by the per-row form `w[:, group_idx]`, which does half
#   the arithmetic;
# - check that two ways of writing a model define the same log density;
# - build a hierarchical version, and say why with only two groups its population parameters are
#   barely learned while partial pooling changes almost nothing;
# - check parameter recovery against the known truth of a simulation.

# %%
import logging
import timeit

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from course_utils.diagnostics import check_sampling, compare_runs
from course_utils.plots import model_graph, use_course_style
from course_utils.simulate import simulate_two_group_regression

# %%
RANDOM_SEED = 8927
rng = np.random.default_rng(RANDOM_SEED)
use_course_style()
PPC_COLORS = ["0.75", "C4", "C0"]  # replicated data, observed data, mean of the replicates
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
# $$y_i = x_i^\top w_{g(i)} + \varepsilon_i, \qquad \varepsilon_i \sim \mathrm{Normal}(0, 0.5^2),$$
#
# where $g(i) \in \{A, B\}$ is the group of row $i$. There is no intercept.

# %%
data = simulate_two_group_regression(rng, n=1000, w_a=(1, 3.5, 6))
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
# ### Least squares with NumPy
#
# Ignoring the groups, the least-squares weights minimise $\lVert y - Xw \rVert^2$. Setting the
# gradient to zero gives the **normal equations** $X^\top X\, \hat w = X^\top y$. Solve them
# with `np.linalg.solve` (never by inverting $X^\top X$), or let `np.linalg.lstsq` solve the
# least-squares problem directly (via an SVD of $X$, more stable when $X^\top X$ is
# ill-conditioned).

# %%
w_normal_eq = np.linalg.solve(X.T @ X, X.T @ y)
w_lstsq, *_ = np.linalg.lstsq(X, y, rcond=None)
np.testing.assert_allclose(w_normal_eq, w_lstsq, rtol=1e-10, atol=1e-12)
residual_sd = np.sqrt(np.mean((y - X @ w_lstsq) ** 2))
pd.DataFrame(
    {"normal equations": w_normal_eq, "lstsq": w_lstsq, "true A": data.w[:, 0]},
    index=coords["feature"],
).round(3)

# %%
noise_ratio = residual_sd / data.noise_sd
print(f"residual sd of the pooled fit: {residual_sd:.2f} (true noise sd: {data.noise_sd})")
print(f"ratio: {noise_ratio:.1f}")
assert noise_ratio > 10

# %% [markdown]
# The two solvers agree to rounding error, and both return weights close to **zero** with a
# residual standard deviation more than ten times the true noise. Nothing is wrong with the
# arithmetic: least squares answers exactly the question we asked, which was the wrong one.
#
# **Why zero?** Divide the normal equations by the number of rows $2n$ and split the sums by group:
#
# $$\frac{1}{2n} X^\top X \,\hat w = \frac{1}{2n} X^\top y
# = \frac12 \Big( \frac1n X_A^\top X_A\, w_A + \frac1n X_B^\top X_B\, w_B \Big)
# + \frac{1}{2n} X^\top \varepsilon .$$
#
# The features are independent standard normals, so $\frac1n X_g^\top X_g \to I$ and
# $\frac{1}{2n}X^\top \varepsilon \to 0$ as $n$ grows: $\mathrm{E}[X^\top y]/2n$ is the **average**
# of the two groups' weights, and so is $\hat w$:
#
# $$\hat w \;\to\; \tfrac12 (w_A + w_B) = \tfrac12 (w_A - w_A) = 0 .$$
#
# With $\hat w \approx 0$ the model explains nothing, so its residuals are $y$ itself, whose
# variance is $\mathrm{E}[(x^\top w_A)^2] + 0.5^2 = \lVert w_A \rVert^2 + 0.5^2$. The estimate is
# not exactly zero only because the group sums are finite: each of its components errs by about
# $\lVert w_A \rVert / \sqrt{2n}$ (a short calculation puts its standard deviation between this
# and $\sqrt 2$ times this).

# %%
predicted_sd = np.sqrt(np.sum(data.w[:, 0] ** 2) + data.noise_sd**2)
sampling_scale = np.linalg.norm(data.w[:, 0]) / np.sqrt(n_obs)
print(f"predicted residual sd: sqrt(|w_A|^2 + 0.5^2) = {predicted_sd:.2f}")
print(f"scale of the estimation error |w_A| / sqrt(2n) = {sampling_scale:.2f}")
assert abs(residual_sd / predicted_sd - 1) < 0.1
assert np.max(np.abs(w_lstsq)) < 4 * sampling_scale

# %% [markdown]
# ### The pooled Bayesian model
#
# The same model with priors. The weights get a wide $\mathrm{Normal}(0, 10^2)$ prior. The noise
# scale gets an inverse-gamma prior with mean 1 and standard deviation 10: mostly below a few
# units but with a heavy right tail, so it does not rule out large values.
#
# $$w_k \sim \mathrm{Normal}(0, 10^2), \quad
# \sigma \sim \mathrm{InverseGamma}(\mu = 1, \text{sd} = 10), \quad
# y_i \sim \mathrm{Normal}(x_i^\top w, \sigma^2).$$

# %%
with pm.Model(coords=coords) as pooled_model:
    w = pm.Normal("w", mu=0, sigma=10, dims="feature")
    sigma = pm.InverseGamma("sigma", mu=1, sigma=10)
    pm.Normal("y", mu=X @ w, sigma=sigma, observed=y, dims="obs")

# %%
with pooled_model:
    pooled_idata = pm.sample(
        draws=500, tune=500, chains=4, cores=4, random_seed=rng, progressbar=False
    )
check_sampling(pooled_idata, var_names=["w", "sigma"]).to_frame()

# %%
pooled_summary = az.summary(pooled_idata, var_names=["w", "sigma"], kind="stats")
pooled_summary

# %% [markdown]
# With 2000 rows the prior hardly matters, so the posterior means match least squares and the
# noise scale $\sigma$ matches the predicted residual standard deviation. The weights are near
# zero — all within a few posterior standard deviations of the *average* weight
# $\tfrac12(w_A + w_B) = 0$ — and $\sigma$ absorbs everything the model cannot explain. The cell
# below checks both statements.

# %%
w_pooled_mean = pooled_idata.posterior["w"].mean(("chain", "draw")).to_numpy()
w_pooled_sd = pooled_idata.posterior["w"].std(("chain", "draw")).to_numpy()
sigma_pooled_mean = pooled_idata.posterior["sigma"].mean().item()
np.testing.assert_allclose(w_pooled_mean, w_lstsq, atol=0.05)
assert np.all(np.abs(w_pooled_mean) < 4 * w_pooled_sd)  # consistent with the average weight 0
assert np.linalg.norm(w_pooled_mean) < 0.1 * np.linalg.norm(data.w[:, 0])  # near 0 vs the truth
assert abs(sigma_pooled_mean / predicted_sd - 1) < 0.1
print(f"|w pooled| / |w_A| = {np.linalg.norm(w_pooled_mean) / np.linalg.norm(data.w[:, 0]):.3f}")
print(f"sigma: {sigma_pooled_mean:.2f}, predicted {predicted_sd:.2f}, true noise {data.noise_sd}")

# %% [markdown]
# ## No pooling: each group its own weights
#
# Now $w$ is an $m \times 2$ matrix, one column per group, `dims=("feature", "group")`. The
# likelihood needs, for each row $i$, the prediction $x_i^\top w_{g(i)}$ with the weights of *that
# row's* group. There are two common ways to write it.
#
# ### The stacked design: `(X @ w)[rows, group_idx]`
#
# Sort the rows by group, $X = \begin{pmatrix} X_A \\ X_B \end{pmatrix}$, and write
# $W = (w_A \;\; w_B)$. The matrix product multiplies **every** row by **both** groups' weights:
#
# $$X W = \begin{pmatrix} X_A w_A & X_A w_B \\ X_B w_A & X_B w_B \end{pmatrix}
# \qquad (2n \times 2).$$
#
# Only the diagonal blocks are wanted: column 0 for the rows of A, column 1 for the rows of B.
# Fancy indexing with one row index and one column index per observation,
# `(X @ w)[np.arange(2n), group_idx]`, picks entry $(i, g(i))$ of each row. The off-diagonal
# blocks $X_A w_B$ and $X_B w_A$ are computed and thrown away. (The indexing does not need sorted
# rows; sorting only makes the blocks visible.)

# %%
rows = np.arange(n_obs)
stacked_mean = (X @ data.w)[rows, group_idx]
print(f"X @ w has shape {(X @ data.w).shape}; after indexing: {stacked_mean.shape}")
np.testing.assert_allclose(stacked_mean[group_idx == 0], X[group_idx == 0] @ data.w[:, 0])
np.testing.assert_allclose(stacked_mean[group_idx == 1], X[group_idx == 1] @ data.w[:, 1])

# %%
with pm.Model(coords=coords) as stacked_model:
    w = pm.Normal("w", mu=0, sigma=10, dims=("feature", "group"))
    sigma = pm.InverseGamma("sigma", mu=1, sigma=10)
    mu = (X @ w)[rows, group_idx]
    pm.Normal("y", mu=mu, sigma=sigma, observed=y, dims="obs")

# %% [markdown]
# ### Per-row weights: `w[:, group_idx]`
#
# Index the weights instead of the predictions. `w.T[group_idx]` (the same as `w[:, group_idx].T`)
# is a $2n \times m$ matrix whose row $i$ holds the weights of row $i$'s group. Multiply it
# elementwise with $X$ and sum over the features:
#
# $$\mu_i = \sum_{k=1}^m X_{ik}\, W_{k, g(i)} = x_i^\top w_{g(i)} .$$
#
# Each row costs $m$ multiply-adds instead of $2m$, and there is no discarded column, so no wasted
# work in the gradient either. With $G$ groups the stacked design does $G$ times as much
# arithmetic, while the per-row form does not grow with $G$.

# %%
per_row_mean = (X * data.w.T[group_idx]).sum(axis=1)
np.testing.assert_allclose(per_row_mean, stacked_mean)
pd.Series(
    {"stacked design": n_obs * n_feature * 2, "per-row weights": n_obs * n_feature},
    name="multiply-adds for mu",
)

# %% tags=["slide"]
with pm.Model(coords=coords) as unpooled_model:
    w = pm.Normal("w", mu=0, sigma=10, dims=("feature", "group"))
    sigma = pm.InverseGamma("sigma", mu=1, sigma=10)
    mu = (X * w.T[group_idx]).sum(axis=1)
    pm.Normal("y", mu=mu, sigma=sigma, observed=y, dims="obs")

# %% [markdown]
# ### Same model, same log density
#
# Two ways of writing a model define the same posterior exactly when they define the same
# log density. `model.compile_logp()` and `model.compile_dlogp()` compile the log density and its
# gradient (what NUTS evaluates at every leapfrog step). We evaluate both models at a few random
# points of the unconstrained space, where PyMC works with $\log \sigma$ (named `sigma_log__`).

# %%
models = {"stacked design": stacked_model, "per-row weights": unpooled_model}
logp_fns = {name: (m.compile_logp(), m.compile_dlogp()) for name, m in models.items()}
points = [
    {"w": rng.normal(scale=5, size=(n_feature, 2)), "sigma_log__": rng.normal()} for _ in range(4)
]
logp_table = pd.DataFrame(
    {name: [float(logp(pt)) for pt in points] for name, (logp, _) in logp_fns.items()}
)
np.testing.assert_allclose(logp_table["stacked design"], logp_table["per-row weights"], rtol=1e-10)
for pt in points:
    np.testing.assert_allclose(*(dlogp(pt) for _, dlogp in logp_fns.values()), rtol=1e-8)
logp_table.rename_axis("point").round(4)

# %% [markdown]
# Identical log densities and identical gradients (checked by the asserts): the two models are
# the same model, and NUTS would follow the same trajectories through both (up to rounding).

# %% [markdown]
# How long does one evaluation of log density *and* gradient take? Timings depend on the machine,
# its load and PyTensor's backend, so run the cell yourself rather than trust a printed number.
#
# Counting multiply-adds predicts how the cost *grows*, not what it is on a small problem. PyTensor
# differentiates the gather `w.T[group_idx]` with a scatter-add (NumPy's `np.add.at`), which is
# slow on 2-D arrays compared with a matrix product of the same size. With only 3 features and 2
# groups this overhead can outweigh the saved arithmetic, so do not be surprised if the stacked
# design is faster here; what the count guarantees is that the stacked design's work grows with
# the number of groups and the per-row form's does not.

# %%
for name, m in models.items():
    logp_dlogp = m.compile_fn([m.logp(), m.dlogp()])
    seconds = min(timeit.repeat(lambda f=logp_dlogp: f(points[0]), number=200, repeat=3))
    print(f"{name}: 200 evaluations of logp and gradient took {seconds:.3f} seconds")

# %% [markdown]
# Since the models are identical, we sample only the per-row one: it is the usual PyMC idiom
# (`beta[group_idx]` for varying intercepts is its one-feature case) and it scales to many groups.

# %%
with unpooled_model:
    unpooled_idata = pm.sample(
        draws=1000, tune=500, chains=4, cores=4, random_seed=rng, progressbar=False
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
assert recovery["z"].abs().max() < 4, recovery
recovery.round(3)

# %% [markdown]
# Every weight is recovered to within a few hundredths, with posterior sd about
# $0.5 / \sqrt{1000} \approx 0.016$: with 1000 rows per group and little noise, each group's data
# pin its weights down. The noise scale is recovered too:

# %%
sigma_unpooled = az.summary(unpooled_idata, var_names=["sigma"], kind="stats")
assert abs(sigma_unpooled.loc["sigma", "mean"] - data.noise_sd) < 0.05
sigma_unpooled

# %% [markdown]
# A direct way to see the difference between the two fits: plot each observation against the
# model's prediction $x_i^\top \bar w_{g(i)}$ at the posterior-mean weights. A good regression puts
# the points on the diagonal.

# %%
fig, axs = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
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
assert prediction_check.loc["range of predictions", "pooled"] < 0.1 * np.ptp(y)
assert prediction_check.loc["correlation with y", "unpooled"] > 0.99
print(f"range of observed y: {np.ptp(y):.1f}")
prediction_check.round(3)

# %% [markdown]
# The pooled model predicts nearly the same value for every row: its predictions span less than a
# tenth of the range of $y$ (a vertical band in the left panel) and barely correlate with it. The
# unpooled model's predictions lie on the diagonal, correlated almost perfectly with $y$.

# %% [markdown]
# ## A hierarchical model
#
# The two groups' weights could also be treated as draws from a population: for each feature $k$,
#
# $$w_{k,\text{pop}} \sim \mathrm{Normal}(0, 10^2), \qquad \tau_k \sim \mathrm{HalfNormal}(10),
# \qquad w_{k,g} \sim \mathrm{Normal}(w_{k,\text{pop}}, \tau_k^2), \quad g \in \{A, B\},$$
#
# with the likelihood of the unpooled model. In code $\tau$ is `w_sd`.
#
# The stacked design and the per-row form define the same log density (checked above), so we are
# free to write the likelihood in whichever form evaluates faster. NUTS evaluates the gradient
# tens of thousands of times in one fit, and with only two groups PyTensor computes the stacked
# design's gradient about twice as fast as the per-row one on the machines this course is tested
# on (the timings above show it for yours). The hierarchical model therefore uses the stacked
# design; with many groups the per-row form would win.
#
# ### Where the funnel is, and how to remove it
#
# Hierarchical models are often **non-centred**, $w = w_{\text{pop}} + \tau z$ with
# $z \sim \mathrm{Normal}(0, 1)$. That helps when the data say little about each group, so that
# the group effects follow $\tau$ into a funnel. Here the opposite holds: the data fix each group
# weight to within about $0.016$, so the centred $w$ is easy to sample, while a non-centred
# sampler would have to move $w_{\text{pop}}$, $\tau$ and $z$ together along the narrow curved
# ridge where $w_{\text{pop}} + \tau z$ stays at its data-fixed value.
#
# The funnel is elsewhere. Given the two (data-fixed) group weights, the population mean is known
# to within about $\tau / \sqrt 2$: tight when $\tau$ is small, loose when it is large. So we
# measure $w_{\text{pop}}$ *in units of* $\tau$. If $w_{\text{pop}} \sim \mathrm{Normal}(0, 10^2)$,
# then $u = w_{\text{pop}} / \tau$ given $\tau$ is $\mathrm{Normal}(0, (10/\tau)^2)$, so
#
# $$u_k \mid \tau_k \sim \mathrm{Normal}\big(0, (10 / \tau_k)^2\big), \qquad
# w_{k,\text{pop}} = \tau_k\, u_k$$
#
# is *the same prior*, written differently, and the posterior spread of $u$ no longer depends on
# $\tau$. The `[:, None]` turns the length-$m$ vectors into $m \times 1$ columns that broadcast
# across the group axis.

# %%
with pm.Model(coords=coords) as hierarchical_model:
    w_sd = pm.HalfNormal("w_sd", sigma=10, dims="feature")
    w_pop_scaled = pm.Normal("w_pop_scaled", mu=0, sigma=10 / w_sd, dims="feature")
    w_pop = pm.Deterministic("w_pop", w_sd * w_pop_scaled, dims="feature")
    w = pm.Normal("w", mu=w_pop[:, None], sigma=w_sd[:, None], dims=("feature", "group"))
    sigma = pm.InverseGamma("sigma", mu=1, sigma=10)
    mu = (X @ w)[rows, group_idx]  # the stacked design: same density, faster here
    pm.Normal("y", mu=mu, sigma=sigma, observed=y, dims="obs")

# %% tags=["nbval-ignore-output"]
model_graph(hierarchical_model)

# %% [markdown]
# ### Prior predictive check
#
# Before fitting, simulate data sets from the priors alone and compare their spread with the
# observed one. If the priors routinely produced responses a thousand times too large, or none as
# large as the data, we would rethink them.

# %%
with hierarchical_model:
    prior_idata = pm.sample_prior_predictive(draws=500, random_seed=rng)
prior_y_sd = prior_idata.prior_predictive["y"].std("obs").to_numpy().ravel()
observed_y_sd = y.std()
share_below = np.mean(prior_y_sd < observed_y_sd)
median_ratio = np.median(prior_y_sd) / observed_y_sd
print(f"observed sd(y): {observed_y_sd:.2f}")
print("prior predictive sd(y), 5%/50%/95%:", np.quantile(prior_y_sd, [0.05, 0.5, 0.95]).round(1))
print(f"median prior sd / observed sd: {median_ratio:.1f}")
print(f"prior data sets less spread out than the observed one: {share_below:.1%}")
assert 0.005 < share_below < 0.1 and 2 < median_ratio < 5

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
# The priors expect data a few times more spread out than ours (the median ratio is printed
# above). That follows from the priors: a group weight has prior standard deviation
# $\sqrt{10^2 + \mathrm{E}[\tau^2]} = \sqrt{200} \approx 14$, so weights of size 10 are as
# plausible a priori as weights of size 1. The observed spread sits in the lower tail of the prior
# predictive distribution (the fraction of less spread-out simulated data sets is printed above),
# but inside it. The priors lean toward larger effects than ours without excluding them; with
# 2000 observations the data overrule them easily, while with a handful of rows we would choose
# tighter priors.

# %% [markdown]
# ### Sampling
#
# Two more difficulties remain. First, two weights as far apart as $\pm 1$ cannot come from a
# population with a tiny $\tau$, so the posterior of $\tau$ falls off a steep cliff below its
# bulk; a smaller step size, through a higher `target_accept`, lets NUTS approach the cliff
# without diverging. Second, the posterior scales differ widely: the group weights (and
# $\log \sigma$) have posterior sd of about $0.016$, while $\log \tau$ and $u$ vary on a scale of
# order 1. NUTS starts by treating every parameter as having scale 1 and learns the scales
# during tuning; the `jitter+adapt_diag_grad` initialisation learns them from gradients as well
# as from draws, and gets there sooner on this model.

# %%
with hierarchical_model:
    hierarchical_idata = pm.sample(
        draws=400,
        tune=500,
        chains=4,
        cores=4,
        target_accept=0.95,
        init="jitter+adapt_diag_grad",
        random_seed=rng,
        progressbar=False,
    )
check_sampling(hierarchical_idata, var_names=["w_pop", "w_sd", "w", "sigma"]).to_frame()

# %%
hierarchical_summary = az.summary(
    hierarchical_idata, var_names=["w_pop", "w_sd"], kind="stats", round_to="none"
)
w_pop_rows = hierarchical_summary.filter(like="w_pop", axis=0)
assert (w_pop_rows["hdi_97%"] - w_pop_rows["hdi_3%"] > 10).all()
hierarchical_summary.round(2)

# %% [markdown]
# ### Two groups tell us little about a population
#
# The population parameters are barely learned. For each feature the data supply two numbers,
# $w_{k,A} \approx -w_{k,B}$, and estimating a mean and a standard deviation from a sample of two
# is hopeless: the 94% HDI of $w_{\text{pop}}$ in the table above is more than 10 units wide for
# every feature, and the 94% HDI of $\tau$ spans the factor printed below.

# %%
w_sd_hdi = az.hdi(hierarchical_idata, var_names=["w_sd"], hdi_prob=0.94)["w_sd"].to_pandas()
w_sd_hdi["high / low"] = w_sd_hdi["higher"] / w_sd_hdi["lower"]
assert (w_sd_hdi["high / low"] > 4).all()
w_sd_hdi.round(2)

# %%
fig, axs = plt.subplots(1, n_feature, figsize=(12, 4), sharey=True)
grid = np.linspace(0, 40, 200)
prior_density = 2 * np.exp(-0.5 * (grid / 10) ** 2) / (10 * np.sqrt(2 * np.pi))
for ax, feature in zip(axs, coords["feature"], strict=True):
    draws = hierarchical_idata.posterior["w_sd"].sel(feature=feature).to_numpy().ravel()
    ax.hist(draws, bins=40, range=(0, 40), density=True, color="C2", label="posterior")
    ax.plot(grid, prior_density, color="C0", label="prior HalfNormal(10)")
    ax.set(xlabel=f"w_sd[{feature}]", title=f"feature {feature}")
axs[0].set_ylabel("density")
legend = axs[0].legend(loc="upper right")

# %% [markdown]
# Each posterior rules out $\tau$ near zero — two weights that differ by 2 (`x0`) to 12 (`x2`)
# cannot come from a very tight population — but it reaches as far to the right as the prior
# does. The prior, not the data, decides how large $\tau$ might be.
#
# ### What partial pooling does here: almost nothing
#
# In a normal hierarchy each group's estimate moves toward the population mean by the fraction
# $s^2 / (s^2 + \tau^2)$, where $s$ is the group's own posterior sd. Here $s \approx 0.016$ and
# $\tau$ is several units, so the move is of order $10^{-5}$ of the distance or less. Partial
# pooling matters when groups have *few* data; these groups have 1000 rows each.

# %%
s = recovery["sd"].mean()
tau = hierarchical_summary.filter(like="w_sd", axis=0)["mean"]
shrinkage_fraction = s**2 / (s**2 + tau**2)
assert (shrinkage_fraction < 5e-5).all()
shrinkage_fraction.rename("fraction moved toward w_pop").to_frame().map("{:.1e}".format)

# %% [markdown]
# The hierarchical and unpooled posteriors of the group weights agree within Monte Carlo error:

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
ax.set(ylabel="density", title="Posterior predictive check, hierarchical model")
ax = az.plot_ppc(
    hierarchical_idata, num_pp_samples=100, colors=PPC_COLORS, random_seed=RANDOM_SEED, ax=ax
)

# %% [markdown]
# The observed distribution of $y$ (blue) lies within the band of replicated distributions
# (grey). This check
# is weaker than it looks: the pooled model also predicts a bell-shaped $y$ with standard
# deviation about 7 — exactly because its $\sigma$ absorbed the group effects — so it would pass a
# plot of the marginal distribution too (try it in the exercises). Checks that condition on the
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
    plot_recovery(idata, ax, title=name)
axs[0].set_ylabel("posterior mean (94% HDI)")
legend = axs[0].legend(loc="upper left")

# %% [markdown]
# The unpooled and hierarchical estimates sit on the diagonal (their HDIs, about $\pm 0.03$, are
# smaller than the markers). The pooled estimates lie on a flat line at zero: one weight per
# feature cannot be $+6$ for group A and $-6$ for group B, so it settles on their average. With
# 1000 rows per group, the hierarchy adds nothing to the unpooled fit.

# %% [markdown]
# ## Exercises
#
# 1. **Groups that agree.** Simulate with `w_b=(1, 3.5, 6)` (the same weights as group A) and fit
#    the pooled least-squares regression. What weights and residual sd do you get, and why?
# 2. **How close to zero?** Each component of the pooled estimate errs by about
#    $\lVert w_A \rVert / \sqrt{2n}$. Check the $1/\sqrt{n}$ rate: for $n = 100$, $1000$ and
#    $10\,000$ rows per group, simulate 20 data sets, compute their pooled least-squares weights
#    and the root-mean-square size of the components, and compare with the prediction.
# 3. **A check that fails the pooled model.** Draw posterior predictive samples from the pooled
#    model and make the same `az.plot_ppc` as for the hierarchical model. Does it reveal the
#    problem? Then compute, for the observed data and for each replicated data set, the
#    least-squares slope of $y$ on `x2` within group A. Where does the observed value fall?
# 4. **Many groups.** Count the multiply-adds of the stacked design and of per-row weights with
#    $G = 10$ groups of 1000 rows each, and check with NumPy that both give the same means.

# %% tags=["solution"]
data_same = simulate_two_group_regression(
    np.random.default_rng(1), n=1000, w_a=(1, 3.5, 6), w_b=(1, 3.5, 6)
)
w_same, *_ = np.linalg.lstsq(data_same.X, data_same.y, rcond=None)
print("pooled weights:", w_same.round(3))
print(f"residual sd: {np.std(data_same.y - data_same.X @ w_same):.3f}")

# %% [markdown] tags=["solution"]
# When the groups share their weights, pooling is the *right* model: the average of the two
# weight vectors is the common vector, the weights are recovered and the residual sd is the noise
# sd, 0.5. Pooling fails only when the groups differ — and it fails silently, by averaging.

# %% tags=["solution"]
exercise_rng = np.random.default_rng(2)
for n in (100, 1000, 10_000):
    w_hats = []
    for _ in range(20):
        d = simulate_two_group_regression(exercise_rng, n=n, w_a=(1, 3.5, 6))
        w_hats.append(np.linalg.lstsq(d.X, d.y, rcond=None)[0])
    rms = np.sqrt(np.mean(np.square(w_hats)))
    predicted = np.linalg.norm(d.w[:, 0]) / np.sqrt(2 * n)
    print(f"n = {n:>6}: rms {rms:.3f}, |w_A|/sqrt(2n) {predicted:.3f}, ratio {rms / predicted:.2f}")

# %% [markdown] tags=["solution"]
# The ratio stays near $\sqrt{1 + 1/m} \approx 1.15$ for every $n$ (the exact variance of
# component $j$ is $(\lVert w_A \rVert^2 + w_{A,j}^2)/2n$, averaged over the $m = 3$
# components), so the error shrinks like $1/\sqrt n$: each tenfold increase of $n$ divides it by
# $\sqrt{10} \approx 3.2$. The pooled estimate converges to the average weight, zero.

# %% tags=["solution"]
with pooled_model:
    pooled_ppc = pm.sample_posterior_predictive(
        pooled_idata, var_names=["y"], random_seed=np.random.default_rng(3), progressbar=False
    )
fig, ax = plt.subplots()
ax.set(ylabel="density", title="Posterior predictive check, pooled model")
ax = az.plot_ppc(pooled_ppc, num_pp_samples=100, colors=PPC_COLORS, random_seed=3, ax=ax)

# %% tags=["solution"]
rows_a = group_idx == 0
y_rep_a = pooled_ppc.posterior_predictive["y"].to_numpy().reshape(-1, n_obs)[:, rows_a]
coef_a = np.linalg.lstsq(X[rows_a], np.column_stack([y[rows_a], y_rep_a.T]), rcond=None)[0]
slope_x2_observed, slope_x2_replicated = coef_a[2, 0], coef_a[2, 1:]
print(f"observed slope on x2 in group A: {slope_x2_observed:.2f}")
print(f"replicated slopes: {np.quantile(slope_x2_replicated, [0.01, 0.99]).round(2)} (1%, 99%)")

# %% [markdown] tags=["solution"]
# The marginal `plot_ppc` looks fine: the pooled model reproduces a bell-shaped $y$ of the right
# spread. The group-wise slope exposes it: the observed slope on `x2` in group A is about 6, while
# the replicated slopes stay within a fraction of a unit of zero. Choose test statistics that
# target what the model might get wrong.

# %% tags=["solution"]
n_group, n_per_group = 10, 1000
many_idx = np.repeat(np.arange(n_group), n_per_group)
many_X = np.random.default_rng(4).normal(size=(n_group * n_per_group, n_feature))
many_w = np.random.default_rng(5).normal(size=(n_feature, n_group))
stacked = (many_X @ many_w)[np.arange(many_X.shape[0]), many_idx]
np.testing.assert_allclose(stacked, (many_X * many_w.T[many_idx]).sum(axis=1))
print(f"stacked: {many_X.size * n_group} multiply-adds; per-row: {many_X.size} multiply-adds")

# %% [markdown] tags=["solution"]
# The stacked design computes all $G$ predictions for every row and keeps one, so it costs $G$
# times as much as the per-row form (here 300 000 vs 30 000 multiply-adds, plus a
# $10\,000 \times 10$ intermediate matrix). Its gradient, too, is a full matrix product with a
# mostly-zero matrix.

# %% [markdown] tags=["slide"]
# ## Key ideas
#
# - Pooling groups whose effects differ estimates their **average** effect: with weights $+w$ and
#   $-w$ that is zero, and the noise scale $\sigma$ swallows the group differences.
# - Group-specific weights: index the weights per row, $\mu_i = x_i^\top w_{g(i)}$, as
#   `(X * w.T[group_idx]).sum(axis=1)`. The stacked design `(X @ w)[rows, group_idx]` gives the
#   same log density but computes every row against every group and discards all but one.
# - Two ways of writing a model are the same model when their log densities agree everywhere;
#   comparing log density and gradient at a few random points is a cheap check.
# - With two groups a hierarchy learns little about its population ($\tau$ stays prior-driven),
#   and with 1000 rows per group partial pooling moves nothing: it helps when groups are many and
#   small.
# - Simulated data let us test recovery: posterior means within a few posterior sds of the truth.
