"""SmoothLNPRegressor and sklearn_lnp.priors: the prior's layout, the evidence, the MAP."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_lnp import (
    BlockedTimeSeriesSplit,
    LagTransformer,
    PoissonLNPRegressor,
    SmoothLNPRegressor,
)
from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp.datasets import make_separable_neuron
from sklearn_lnp.priors import asd_axis_kernels, asd_covariance, squared_exponential_kernel


def _neuron(n_frames=1200, frame_shape=(6, 5), n_lags=2, seed=0, sigma=1.5):
    neuron = make_separable_neuron(
        n_frames, frame_shape=frame_shape, n_lags=n_lags, rf_sigma=sigma, random_state=seed
    )
    X = LagTransformer(lags=range(n_lags)).fit_transform(neuron.stimulus)
    return neuron, X


# -- the prior ---------------------------------------------------------------
def test_asd_covariance_is_the_squared_exponential_of_lagtransformer_layout():
    """Entry (i, j) is rho exp(-sum_axis d^2 / 2 l^2) with (row, col, lag) read off
    LagTransformer's feature names ("x{row * cols + col}_lag{lag}")."""
    rows, cols, n_lags = 3, 4, 2
    scales = (1.3, 0.7, 2.1)
    names = (
        LagTransformer(lags=range(n_lags)).fit(np.zeros((2, rows * cols))).get_feature_names_out()
    )
    pixel = np.array([int(name.split("_")[0][1:]) for name in names])
    lag = np.array([int(name.split("lag")[1]) for name in names])
    r, c = pixel // cols, pixel % cols
    expected = 0.3 * np.exp(
        -0.5 * ((r[:, None] - r[None]) / scales[0]) ** 2
        - 0.5 * ((c[:, None] - c[None]) / scales[1]) ** 2
        - 0.5 * ((lag[:, None] - lag[None]) / scales[2]) ** 2
    )
    C = asd_covariance((rows, cols), n_lags, 0.3, scales)
    np.testing.assert_allclose(C, expected, rtol=1e-14, atol=0)
    k_lag, k_row, k_col = asd_axis_kernels((rows, cols), n_lags, scales)
    np.testing.assert_array_equal(k_row, squared_exponential_kernel(rows, scales[0]))
    assert k_lag.shape == (n_lags, n_lags) and k_col.shape == (cols, cols)


@pytest.mark.parametrize(
    "call",
    [
        lambda: asd_covariance((3, 0), 1, 1.0, (1, 1, 1)),
        lambda: asd_covariance((3,), 1, 1.0, (1, 1, 1)),
        lambda: asd_covariance((3, 2), 0, 1.0, (1, 1, 1)),
        lambda: asd_covariance((3, 2), 1, -1.0, (1, 1, 1)),
        lambda: asd_covariance((3, 2), 1, 1.0, (1, 0, 1)),
        lambda: asd_covariance((3, 2), 1, 1.0, (1, 1)),
        lambda: squared_exponential_kernel(3, np.nan),
    ],
)
def test_priors_refuse_bad_layout_and_hyperparameters(call):
    with pytest.raises(ValueError, match="frame_shape|n_lags|scale|length_scale"):
        call()


# -- the evidence ------------------------------------------------------------
def _evidence(model, X, neuron, sample_weight=None):
    weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    return model._evidence_problem(X, neuron.counts, weights, neuron.exposure)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_evidence_gradient_matches_finite_differences(fit_intercept):
    """The analytic gradient (incl. the move of the MAP) against central differences."""
    neuron, X = _neuron(600, seed=1)
    evidence = _evidence(
        SmoothLNPRegressor((6, 5), n_lags=2, fit_intercept=fit_intercept, tol=1e-11), X, neuron
    )
    log_theta = np.log([0.05, 1.3, 0.9, 0.8])
    grad = evidence.gradient(evidence.map_fit(*evidence.unpack(log_theta)))
    step = 1e-4
    numeric = np.empty(4)
    for j in range(4):
        e = np.zeros(4)
        e[j] = step
        plus = evidence.map_fit(*evidence.unpack(log_theta + e))["log_evidence"]
        minus = evidence.map_fit(*evidence.unpack(log_theta - e))["log_evidence"]
        numeric[j] = (plus - minus) / (2 * step)
    # central differences: O(step^2) truncation and MAP error (tol 1e-11 on the
    # mean scale, times N = 600) divided by the step; measured agreement ~1e-6.
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4)


def test_evidence_is_the_laplace_formula_in_the_original_coordinates():
    """log p(y) = loglik(w*) + log N(w*; 0, C) + (p + 1)/2 log 2 pi - 1/2 log det H_total,
    with H_total = X' D X + C^-1 bordered by the (flat-prior) intercept."""
    from scipy.special import gammaln

    neuron, X = _neuron(500, frame_shape=(3, 4), n_lags=2, seed=2)
    model = SmoothLNPRegressor((3, 4), n_lags=2, prune_tol=0.0)
    evidence = _evidence(model, X, neuron)
    rho, scales = 0.04, np.array([0.8, 0.9, 0.7])  # C well conditioned: no pruning
    fit = evidence.map_fit(rho, scales)
    assert fit["keep"].size == X.shape[1]
    w, b = fit["w"], fit["b"]
    eta = X @ w + b + np.log(neuron.exposure)
    mu = np.exp(eta)
    y = neuron.counts
    loglik = np.sum(y * eta - mu - gammaln(y + 1))
    C = asd_covariance((3, 4), 2, rho, scales)
    p = X.shape[1]
    _, logdet_C = np.linalg.slogdet(C)
    log_prior = -0.5 * w @ np.linalg.solve(C, w) - 0.5 * logdet_C - 0.5 * p * np.log(2 * np.pi)
    design = np.column_stack([X, np.ones(len(y))])
    H = design.T @ (mu[:, None] * design)
    H[:p, :p] += np.linalg.inv(C)
    _, logdet_H = np.linalg.slogdet(H)
    expected = loglik + log_prior + 0.5 * (p + 1) * np.log(2 * np.pi) - 0.5 * logdet_H
    # the same quantity summed in another order (eigenbasis vs. explicit inverse)
    np.testing.assert_allclose(fit["log_evidence"], expected, rtol=1e-9)


def test_fitted_map_is_the_optimum_of_the_penalised_objective():
    """At the chosen hyperparameters coef_ is stationary: C X' s (y - mu) = w (so
    C^-1 w is the log-likelihood's gradient, without inverting C), and the intercept's
    gradient sum_t (mu_t - y_t) vanishes; the mean objective's gradient norm is ~tol."""
    neuron, X = _neuron(1000, seed=3)
    model = SmoothLNPRegressor((6, 5), n_lags=2).fit(X, neuron.counts, exposure=neuron.exposure)
    objective = PoissonObjective(X, neuron.counts, neuron.exposure)
    _, G, _ = objective.value_gradient(objective.join(model.coef_, model.intercept_))
    n = X.shape[0]
    scales = np.nan_to_num(model.length_scales_, nan=1.0)
    C = asd_covariance((6, 5), 2, model.prior_scale_, scales)
    g = -n * G[:-1, 0]  # X' (y - mu), sum scale
    # pruned eigen-directions (prune_tol 1e-10 of the largest eigenvalue) leave
    # a residual of that relative size
    np.testing.assert_allclose(C @ g, model.coef_, atol=1e-6 * np.abs(model.coef_).max())
    assert abs(G[-1, 0]) < 1e-7


def test_coef_std_is_the_laplace_posterior_sd():
    """coef_std_ = sqrt(diag) of the w-block of the inverse total Hessian."""
    neuron, X = _neuron(500, frame_shape=(3, 4), n_lags=2, seed=4)
    model = SmoothLNPRegressor((3, 4), n_lags=2, prune_tol=0.0)
    evidence = _evidence(model, X, neuron)
    rho, scales = 0.04, np.array([0.8, 0.9, 0.7])
    fit = evidence.map_fit(rho, scales)
    mu = np.exp(X @ fit["w"] + fit["b"] + np.log(neuron.exposure))
    design = np.column_stack([X, np.ones(len(mu))])
    H = design.T @ (mu[:, None] * design)
    p = X.shape[1]
    H[:p, :p] += np.linalg.inv(asd_covariance((3, 4), 2, rho, scales))
    expected = np.sqrt(np.diag(np.linalg.inv(H))[:p])
    np.testing.assert_allclose(evidence.coef_std(fit), expected, rtol=1e-8)


# -- what the evidence buys ----------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_smooth_rf_beats_ridge_on_simulated_smooth_neurons(seed):
    """Gaussian blob (sigma 1.5 px) on 10 x 8 pixels, biphasic kernel over 3 lags,
    2000 bins.  Measured over seeds 0-4: correlation with the truth 0.990-0.996 for the
    evidence fit against 0.973-0.980 for ridge at its best alpha of a grid chosen
    with the truth (an oracle no real fit has), a margin of 0.015-0.020 (sigma 1.0:
    0.010-0.015; sigma 2.5: 0.020-0.026)."""
    neuron, X = _neuron(2000, frame_shape=(10, 8), n_lags=3, seed=seed)
    model = SmoothLNPRegressor((10, 8), n_lags=3).fit(X, neuron.counts, exposure=neuron.exposure)
    smooth = np.corrcoef(model.coef_, neuron.coef)[0, 1]
    ridge = max(
        np.corrcoef(
            PoissonLNPRegressor(alpha=alpha).fit(X, neuron.counts, exposure=neuron.exposure).coef_,
            neuron.coef,
        )[0, 1]
        for alpha in (1e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
    )
    assert smooth > ridge + 0.005
    # the spatial length scales track the blob: a Gaussian of sd sigma has an
    # autocorrelation of sd sigma * sqrt(2) (2.1 px); measured 1.97-2.14 px (seeds
    # 0-4; sigma 1.0: 1.28-1.49 px against 1.41, sigma 2.5: 3.08-3.63 against 3.54)
    sigma_acf = 1.5 * np.sqrt(2.0)
    assert np.all(
        (model.length_scales_[:2] > sigma_acf / 2) & (model.length_scales_[:2] < 2 * sigma_acf)
    )


@pytest.mark.slow
def test_length_scales_grow_with_the_rf_width():
    """A wider blob gives longer spatial length scales (sigma 1.0 vs 2.5 px; measured
    ratio 2.2-2.6 over seeds 0-4)."""
    fitted = []
    for sigma in (1.0, 2.5):
        neuron, X = _neuron(2000, frame_shape=(10, 8), n_lags=3, seed=0, sigma=sigma)
        model = SmoothLNPRegressor((10, 8), n_lags=3)
        fitted.append(model.fit(X, neuron.counts, exposure=neuron.exposure).length_scales_[:2])
    assert np.all(fitted[1] > 1.3 * fitted[0])


# -- scikit-learn integration -------------------------------------------------
@pytest.mark.slow  # 1.7 s (measured in the fast loop at load ~3)
def test_pipeline_and_grid_search_route_exposure():
    """LagTransformer + SmoothLNPRegressor in GridSearchCV over blocked folds, with
    the exposure routed to fit and score: a rescaled exposure shifts only the intercept."""
    neuron = make_separable_neuron(900, frame_shape=(4, 3), n_lags=2, random_state=5)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            LagTransformer(lags=range(2)),
            SmoothLNPRegressor((4, 3), n_lags=2).set_fit_request(exposure=True),
        )
        search = GridSearchCV(
            pipe,
            {"smoothlnpregressor__length_scale_bounds": [(0.25, 25.0), (0.5, 5.0)]},
            cv=BlockedTimeSeriesSplit(3, gap=1),
            error_score="raise",
        ).fit(neuron.stimulus, neuron.counts, exposure=neuron.exposure)
        assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
        assert search.best_estimator_[-1].n_map_fits_ > 0
        double = make_pipeline(
            LagTransformer(lags=range(2)),
            SmoothLNPRegressor((4, 3), n_lags=2).set_fit_request(exposure=True),
        ).fit(neuron.stimulus, neuron.counts, exposure=2 * neuron.exposure)
    single = make_pipeline(LagTransformer(lags=range(2)), SmoothLNPRegressor((4, 3), n_lags=2))
    single.fit(neuron.stimulus, neuron.counts, smoothlnpregressor__exposure=neuron.exposure)
    # exposure is an offset: doubling it lowers the intercept by log 2 and leaves the
    # likelihood, hence the evidence, unchanged (the flat prior on b is translation
    # invariant); the optimisations take the same path up to the MAP solver's tolerance
    np.testing.assert_allclose(double[-1].log_evidence_, single[-1].log_evidence_, rtol=1e-9)
    np.testing.assert_allclose(double[-1].coef_, single[-1].coef_, atol=1e-5)
    np.testing.assert_allclose(double[-1].intercept_, single[-1].intercept_ - np.log(2), atol=1e-5)


# -- bad input -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"frame_shape": (4, 4)}, "frame_shape=.* give 32 features.*X has 24 columns"),
        ({"frame_shape": (4, 3), "n_lags": 3}, "give 36 features"),
        ({"frame_shape": (4, 0)}, "frame_shape must be two positive integers"),
        ({"frame_shape": (4, 3), "length_scale_bounds": (5.0, 5.0)}, "length_scale_bounds"),
        ({"frame_shape": (4, 3), "length_scale_bounds": (-1.0, 5.0)}, "length_scale_bounds"),
        ({"frame_shape": (4, 3), "prior_scale_bounds": (0.0, 1.0)}, "prior_scale_bounds"),
        ({"frame_shape": (4, 3), "prior_scale_bounds": (1.0,)}, "prior_scale_bounds"),
    ],
)
def test_bad_layout_and_bounds_are_refused_by_name(params, match):
    neuron = make_separable_neuron(100, frame_shape=(4, 3), n_lags=2, random_state=0)
    X = LagTransformer(lags=range(2)).fit_transform(neuron.stimulus)
    params = {"n_lags": 2, **params}
    with pytest.raises(ValueError, match=match):
        SmoothLNPRegressor(**params).fit(X, neuron.counts)


def test_two_dimensional_y_is_refused():
    neuron, X = _neuron(100, frame_shape=(2, 2), n_lags=1)
    with pytest.raises(ValueError, match="fits one neuron: y must be 1-d"):
        SmoothLNPRegressor((2, 2)).fit(X, np.column_stack([neuron.counts] * 2))


def test_unfinished_evidence_optimisation_warns_with_the_reached_value():
    neuron, X = _neuron(300, frame_shape=(3, 3), n_lags=1)
    with pytest.warns(ConvergenceWarning, match=r"stopped after 1 iterations.*log evidence -?\d"):
        model = SmoothLNPRegressor((3, 3), max_iter=1).fit(X, neuron.counts)
    assert np.isnan(model.length_scales_[2])  # one lag: no lag length scale
    assert model.n_map_fits_ >= 1 and np.all(model.coef_std_ > 0)


# -- the lab's neuron ---------------------------------------------------------------
@pytest.mark.slow
def test_real_neuron_rf_peaks_at_the_known_location(real_design, real_lagged_X):
    """Lags 0-4 with exposure.  The lag-0 map peaks in column 4 within one row of row
    12 (measured: (11, 4); ridge's peak is (12, 4) with a dip at (11, 4) between
    (10, 4) and (12, 4), which a length scale of ~2.7 rows smooths over), with
    z = coef / coef_std > 8 there (measured 12.4), and the lag-2 lobe is negative."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SmoothLNPRegressor((20, 15), n_lags=5).fit(
            real_lagged_X, real_design.counts, exposure=real_design.exposure
        )
    maps = model.coef_.reshape(5, 20, 15)
    row, col = np.unravel_index(np.argmax(maps[0]), (20, 15))
    assert col == 4 and abs(row - 12) <= 1
    z = maps[0, row, col] / model.coef_std_.reshape(5, 20, 15)[0, row, col]
    assert z > 8
    assert maps[2, 10:14, 3:6].min() < 0
    assert 1.0 < model.length_scales_[0] < 6.0 and 0.5 < model.length_scales_[1] < 4.0


def test_weights_beyond_a_count_of_bins_are_refused_by_name():
    # Frequency weights count bins in the evidence; a total beyond 2**53 is no
    # count and overflows the posterior precision (a Cholesky failure before).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    y = rng.poisson(1.0, size=40).astype(float)
    with pytest.raises(ValueError, match="sample_weight sums to"):
        SmoothLNPRegressor((2, 2)).fit(X, y, sample_weight=np.full(40, 1e300))
