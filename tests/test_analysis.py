"""The analyses of :mod:`sklearn_lnp.analysis` and the lagged design of a recording.

Facts asserted: the lagged design at lag L for frame offset f holds the frame
paired with the bin L bins earlier (``recording_design`` at offset f - L, and
``LagTransformer`` of the whole movie), for f < 0, f = 0 and f > 0; simulated
receptive fields are recovered by the lag-wise, joint and L1 analyses; the
CV-chosen alpha is the one ``GridSearchCV`` chooses on the same grid and
folds.  On the lab's recording (skipped without it), the facts of
``../shared/data/README.md``: an ON RF at row 12, col 4 at lag 0, a weaker
opposite-sign lobe at lag 2 (a biphasic kernel), and in the spike-time STA a
peak near 100 ms and the opposite lobe near 350 ms.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV

from sklearn_lnp import BlockedTimeSeriesSplit, LagTransformer, PoissonLNPRegressor
from sklearn_lnp.analysis import (
    fit_l1_lags,
    fit_lags_jointly,
    fit_lags_separately,
    fit_poisson_alpha_cv,
    fit_simulated_neuron,
    spike_time_sta,
)
from sklearn_lnp.datasets import (
    lagged_recording_design,
    make_separable_neuron,
    recording_design,
    recording_from_counts,
)
from sklearn_lnp.metrics import get_scorer

RF = (12, 4)  # the real neuron's RF centre (row, col), ../shared/data/README.md


def _quiet(function, *args, **kwargs):
    """Call without the warnings about unused frames and spikes outside the triggers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return function(*args, **kwargs)


def _recording(stimulus, counts, frame_shape, seed, *, n_extra_frames=0):
    """A recording whose bin k (a frame interval of 0.18-0.25 s) holds counts[k] spikes."""
    if n_extra_frames:
        stimulus = np.vstack([stimulus, np.zeros((n_extra_frames, stimulus.shape[1]))])
    return recording_from_counts(stimulus, counts, frame_shape=frame_shape, random_state=seed)


def _correlation(a, b) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


# --- the lagged design of a recording ---------------------------------------------------


@pytest.fixture(scope="module")
def numbered_recording():
    """30 frames of 2 pixels that name the frame (frame i = [i + 1, 100 + i]), 24 bins."""
    frames = np.arange(30.0)
    recording = _recording(np.column_stack([frames + 1, 100 + frames]), np.ones(24), (1, 2), 0)
    return recording


@pytest.mark.parametrize("offset", [-3, 0, 2])
def test_lagged_design_at_lag_L_is_the_frame_paired_with_the_bin_L_before(
    numbered_recording, offset
):
    lags = [0, 1, 3]
    design = _quiet(lagged_recording_design, numbered_recording, lags, frame_offset=offset)
    bins = design.frame_index - offset  # bin k pairs with frame k + offset
    for k, lag in enumerate(lags):
        block = design.X[:, 2 * k : 2 * k + 2]
        # The first pixel is the frame number + 1; before frame 0 the block is 0 (fill).
        shown = design.frame_index - lag
        expected = np.where(shown >= 0, shown + 1.0, 0.0)
        np.testing.assert_array_equal(block[:, 0], expected)
        # The same frames as the lag-0 design at offset f - L, bin by bin.
        earlier = _quiet(recording_design, numbered_recording, frame_offset=offset - lag)
        earlier_bins = earlier.frame_index - (offset - lag)
        common, mine, theirs = np.intersect1d(bins, earlier_bins, return_indices=True)
        assert common.size >= 15  # 24 bins, offsets down to -6
        np.testing.assert_array_equal(block[mine], earlier.X[theirs])
    # And LagTransformer of the whole movie, at the paired frames.
    movie = LagTransformer(lags=lags).fit_transform(numbered_recording.stimulus)
    np.testing.assert_array_equal(design.X, movie[design.frame_index])


def test_lagged_design_sees_real_frames_before_the_first_bin_when_the_offset_is_positive(
    numbered_recording,
):
    design = _quiet(lagged_recording_design, numbered_recording, [0, 2], frame_offset=2)
    # Bin 0 shows frame 2, so at lag 2 it sees frame 0 (not the fill value, as lagging the
    # bins' own frames would give).
    assert design.X[0].tolist() == [3.0, 102.0, 1.0, 100.0]
    assert design.X[1].tolist() == [4.0, 103.0, 2.0, 101.0]
    lag0 = _quiet(recording_design, numbered_recording)
    np.testing.assert_array_equal(
        _quiet(lagged_recording_design, numbered_recording, [0, 2]).X,
        LagTransformer(lags=[0, 2]).fit_transform(lag0.X),  # f = 0: the two constructions agree
    )


# --- simulations ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def separable():
    """A neuron with a Gaussian RF at (3, 5) of 8 x 10 pixels and a biphasic kernel."""
    neuron = make_separable_neuron(
        3000, frame_shape=(8, 10), rf_center=(3, 5), rf_norm=1.5, random_state=1
    )
    recording = _recording(neuron.stimulus, neuron.counts, (8, 10), 1)
    return neuron, recording


@pytest.mark.slow  # the demo's simulation and fit
def test_simulated_demo_recovers_the_rf():
    result = fit_simulated_neuron(2000, random_state=0)
    # The realistic neuron (27 spikes/s): 0.935-0.953 at 2000 frames over seeds 0..19.
    assert result.rf_correlation > 0.9
    assert result.fit_seconds > 0 and result.model.coef_.shape == (225,)


def test_constant_rate_baseline_is_at_most_zero_and_sees_the_drift():
    from sklearn_lnp.analysis import constant_rate_cv_scores

    rng = np.random.default_rng(0)
    exposure = rng.uniform(0.17, 0.27, size=1500)
    steady = rng.poisson(17.0 * exposure)
    scores = constant_rate_cv_scores(steady, exposure, n_splits=5, gap=4)
    # The test block's own mean rate is the best constant (the score's reference), so a
    # constant from other blocks scores at most 0; at a steady rate it loses little
    # (about 1 / (2 n_spikes ln 2) per spike: -0.0002 at ~1000 spikes per block).
    assert scores.shape == (5,) and np.all(scores <= 1e-12) and np.all(scores > -0.01)
    # The lab's drift in miniature: the last fifth fires at half the rate.
    drifting = rng.poisson(np.r_[np.full(1200, 17.0), np.full(300, 8.5)] * exposure)
    scores = constant_rate_cv_scores(drifting, exposure, n_splits=5, gap=4)
    # Predicting 17 instead of 8.5 spikes/s costs (1 - ln 2) / ln 2 = 0.44 bit per spike.
    assert scores[-1] == pytest.approx(-(1 - np.log(2)) / np.log(2), abs=0.1)
    assert scores[-1] < min(scores[:-1]) - 0.2


@pytest.mark.slow  # blocked CV over alpha of a joint 5-lag fit
def test_joint_fit_recovers_the_separable_rf(separable):
    neuron, recording = separable
    joint = _quiet(fit_lags_jointly, recording, range(5), alpha=0.01, n_drift=2)
    assert joint.peaks[0] == (3, 5)
    # 400 weights from 3000 bins of ~2 spikes: the estimate is close, not exact.
    assert _correlation(joint.coef, neuron.coef) > 0.9
    separation = joint.separation
    assert separation.peak == (3, 5)
    assert abs(_correlation(separation.spatial, neuron.spatial)) > 0.95
    # The kernel is positive at lag 0 and negative at lag 2 (biphasic_kernel: 0.92, 0, -0.34).
    assert separation.temporal[0] > 0.5 and separation.temporal[2] < -0.1


def test_lagwise_fits_find_the_rf_at_each_lag_where_the_kernel_is_strong(separable):
    _, recording = separable
    result = _quiet(fit_lags_separately, recording, [0, 2], alpha=0.01)
    # The kernel is 0.92 at lag 0 and -0.34 at lag 2: the lag-2 map is 2.7x weaker and its
    # peak may fall on a neighbour of the centre (the Gaussian's sigma is 1.5 pixels).
    assert result.peaks[0] == (3, 5)
    row, col = result.peaks[1]
    assert abs(row - 3) <= 1 and abs(col - 5) <= 1
    assert result.maps[0][3, 5] > 0 > result.maps[1][3, 5]
    assert result.alphas.tolist() == [0.01, 0.01] and result.fit_seconds.shape == (2,)


@pytest.mark.slow  # LassoLNPCV path over blocked folds
def test_l1_fit_of_the_simulation_is_sparse_and_finds_the_centre(separable):
    _, recording = separable
    l1 = _quiet(fit_l1_lags, recording, [0, 1], alphas=[0.05, 0.02, 0.01, 0.005])
    assert l1.peaks[0] == (3, 5) and l1.maps[0][3, 5] > 0
    assert l1.cv.n_nonzero_ < l1.design.X.shape[1]
    assert l1.cv.optimality_ <= 1e-8  # KKT conditions met to the solver's tolerance
    # The path at the chosen alpha and the CV's refit solve the same convex problem; both
    # stop at a KKT violation of 1e-8, so they agree to far better than the weights' size.
    chosen = l1.path_coefs[:, l1.cv.best_index_].ravel()
    np.testing.assert_allclose(chosen, l1.cv.coef_, atol=1e-4)


@pytest.mark.slow  # 1.3 s (measured in the fast loop at load ~3)
def test_cv_alpha_is_the_choice_of_gridsearchcv_on_the_same_grid_and_folds(separable):
    neuron, _ = separable
    X, y, e = neuron.stimulus, neuron.counts, neuron.exposure
    grid = [100.0, 0.01, 1.0]
    fit = fit_poisson_alpha_cv(X, y, e, grid, gap=2, n_splits=4)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            PoissonLNPRegressor().set_fit_request(exposure=True),
            {"alpha": sorted(grid)},
            cv=BlockedTimeSeriesSplit(4, gap=2),
            scoring=get_scorer("bits_per_spike"),
        ).fit(X, y, exposure=e)
    assert fit.alpha == search.best_params_["alpha"]
    assert fit.alphas.tolist() == sorted(grid)
    # The same fits and scores: equal up to the solver's tolerance.
    np.testing.assert_allclose(
        fit.mean_cv_scores, search.cv_results_["mean_test_score"], rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(fit.model.coef_, search.best_estimator_.coef_, atol=1e-6)


def test_a_fixed_alpha_skips_the_cv(separable):
    neuron, _ = separable
    fit = fit_poisson_alpha_cv(neuron.stimulus, neuron.counts, neuron.exposure, 1.0)
    assert fit.alpha == 1.0 and fit.cv_scores is None and fit.search is None


def test_spike_time_sta_of_a_simulation_peaks_within_the_first_frame():
    rng = np.random.default_rng(0)
    stimulus = rng.choice([-1.0, 1.0], size=(1500, 12))
    counts = rng.poisson(np.exp(0.8 * stimulus[:, 6]))  # pixel (1, 2) of 3 x 4, same frame
    recording = _recording(stimulus, counts, (3, 4), 0, n_extra_frames=1)
    result = spike_time_sta(recording, window=0.5, resolution=0.025)
    assert result.peak == (1, 2) and result.peak_zscore > 8
    assert result.taus[result.peak_tau] < 0.25  # frames last 0.18-0.25 s
    assert result.separation.peak == (1, 2)


# --- the lab's recording ----------------------------------------------------------------


def test_real_lag0_fit_is_an_on_rf_at_row_12_col_4(real_recording):
    result = _quiet(fit_lags_separately, real_recording, (0,), alpha=0.0)
    assert result.peaks == [RF] and result.maps[0][RF] > 0
    assert result.design.X.shape == (1488, 300)


@pytest.mark.slow  # 1.2 s (measured in the fast loop at load ~3)
def test_real_cv_alpha_equals_gridsearchcv_and_is_interior(real_recording, real_design):
    grid = [1.0, 10.0, 100.0]
    result = _quiet(fit_lags_separately, real_recording, (0,), alpha=grid, gap=4)
    fit = result.fits[0]
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            PoissonLNPRegressor().set_fit_request(exposure=True),
            {"alpha": grid},
            cv=BlockedTimeSeriesSplit(5, gap=4),
            scoring=get_scorer("bits_per_spike"),
            refit=False,
        ).fit(real_design.X, real_design.counts, exposure=real_design.exposure)
    assert fit.alpha == search.best_params_["alpha"] == 10.0  # the interior value
    np.testing.assert_allclose(
        fit.mean_cv_scores, search.cv_results_["mean_test_score"], rtol=1e-6, atol=1e-9
    )
    assert result.peaks == [RF]


@pytest.mark.slow  # blocked CV of the joint fit on the recording
def test_real_joint_fit_is_biphasic_at_the_rf(real_recording):
    joint = _quiet(fit_lags_jointly, real_recording, range(5), alpha=10.0)
    lag0, lag2 = joint.peaks[0], joint.peaks[2]
    assert lag0 == RF and joint.maps[0][RF] > 0
    assert max(abs(lag2[0] - RF[0]), abs(lag2[1] - RF[1])) <= 1 and joint.maps[2][lag2] < 0
    assert joint.separation.peak == RF
    assert joint.separation.temporal[0] > 0 > joint.separation.temporal[2]
    assert joint.fit.model.coef_.size == 5 * 300 + 6  # the drift regressors are in the model
    assert 0.2 < joint.frame_duration < 0.23  # README: mean frame 0.2155 s


@pytest.mark.slow  # 1.6 s (measured in the fast loop at load ~3)
def test_real_l1_fit_of_lag_0_finds_the_rf(real_recording):
    l1 = _quiet(fit_l1_lags, real_recording, (0,), alphas=[0.1, 0.05, 0.03, 0.02])
    assert l1.peaks == [RF] and l1.maps[0][RF] > 0
    assert l1.cv.optimality_ <= 1e-8
    assert l1.mean_cv_scores.shape == (4,)


def test_real_spike_time_sta_peaks_near_100_ms_and_reverses_near_350_ms(real_recording):
    result = spike_time_sta(real_recording)
    assert result.peak == RF and result.peak_zscore > 8
    assert 0.075 <= result.taus[result.peak_tau] <= 0.125
    assert 0.3 <= result.taus[result.opposite_tau] <= 0.4 and result.opposite_zscore < -4
    assert result.separation.peak == RF
