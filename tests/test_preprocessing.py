"""LagTransformer and SlowDriftFeatures: layout, names, dtype, validation, routing, drift."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline

from sklearn_lnp import LagTransformer, PoissonLNPRegressor, SlowDriftFeatures
from sklearn_lnp.preprocessing import check_lags

lag_sets = st.lists(st.integers(0, 7), min_size=1, max_size=5, unique=True)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(lags=lag_sets, n_samples=st.integers(1, 12), n_pixels=st.integers(1, 4))
def test_lag_major_layout_and_fill(lags, n_samples, n_pixels):
    rng = np.random.default_rng(n_samples * 10 + n_pixels)
    X = rng.normal(size=(n_samples, n_pixels))
    out = LagTransformer(lags=lags, fill_value=-7.0).fit_transform(X)
    assert out.shape == (n_samples, len(lags) * n_pixels)
    for k, lag in enumerate(lags):
        block = out[:, k * n_pixels : (k + 1) * n_pixels]
        for t in range(n_samples):
            expected = X[t - lag] if t >= lag else np.full(n_pixels, -7.0)
            np.testing.assert_array_equal(block[t], expected)


def test_reshape_recovers_lags_by_pixels():
    # coef.reshape(n_lags, n_pixels) row k is the map at lags[k]: check it on the design.
    X = np.arange(20.0).reshape(5, 4)
    out = LagTransformer(lags=[0, 2]).fit_transform(X)
    assert np.array_equal(out[4].reshape(2, 4), np.stack([X[4], X[2]]))


def test_feature_names_lag_major():
    lagger = LagTransformer(lags=[0, 3]).fit(np.zeros((3, 2)))
    assert lagger.get_feature_names_out().tolist() == ["x0_lag0", "x1_lag0", "x0_lag3", "x1_lag3"]
    assert lagger.get_feature_names_out(["a", "b"]).tolist() == [
        "a_lag0",
        "b_lag0",
        "a_lag3",
        "b_lag3",
    ]


def test_feature_names_from_dataframe():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(np.zeros((3, 2)), columns=["r0c0", "r0c1"])
    lagger = LagTransformer(lags=range(2)).fit(frame)
    assert list(lagger.get_feature_names_out()) == [
        "r0c0_lag0",
        "r0c1_lag0",
        "r0c0_lag1",
        "r0c1_lag1",
    ]


def test_float32_on_request_and_preserved():
    X = np.random.default_rng(0).choice([-1.0, 1.0], size=(50, 6))
    out64 = LagTransformer().fit_transform(X)
    out32 = LagTransformer(dtype="float32").fit_transform(X)
    assert out64.dtype == np.float64 and out32.dtype == np.float32
    np.testing.assert_array_equal(out32, out64.astype(np.float32))  # copies of +-1: exact
    assert LagTransformer().fit_transform(X.astype(np.float32)).dtype == np.float32
    assert LagTransformer(dtype="float64").fit_transform(X.astype(np.float32)).dtype == np.float64


@pytest.mark.parametrize(
    "lags, match",
    [
        ([-1, 0], "non-negative"),
        ([0, 2, 2], "duplicates"),
        ([0, 1.5], "integers"),
        ([0.0, 1.0], "integers"),
        ([True], "integers"),
        ([], "at least one"),
        (-3, "lags"),
        (2.5, "lags"),
        ("ab", "lags"),
    ],
)
def test_bad_lags_raise_value_error(lags, match):
    with pytest.raises(ValueError, match=match):
        LagTransformer(lags=lags).fit(np.zeros((4, 2)))


def test_check_lags_accepts_ranges_arrays_and_ints():
    assert check_lags(range(2, 5)).tolist() == [2, 3, 4]
    assert check_lags(np.array([4, 0])).tolist() == [4, 0]
    assert check_lags(3).tolist() == [3]


def test_transform_checks_n_features():
    lagger = LagTransformer().fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="features"):
        lagger.transform(np.zeros((4, 2)))


def test_frame_index_fills_missing_history():
    rng = np.random.default_rng(1)
    movie = rng.normal(size=(30, 3))
    full = LagTransformer(lags=[0, 1, 3]).fit_transform(movie)
    rows = np.r_[0:10, 15:30]  # a training set with a gap of 5 frames
    missing = 1e6  # a finite marker (NaN is refused: fill_value must be finite)
    sub = LagTransformer(lags=[0, 1, 3], fill_value=missing).fit(movie[rows])
    out = sub.transform(movie[rows], frame_index=rows)
    # Where the lagged frame is among the rows, the entry is the true history ...
    for k, lag in enumerate([0, 1, 3]):
        block = out[:, 3 * k : 3 * k + 3]
        present = np.isin(rows - lag, rows)
        np.testing.assert_array_equal(block[present], full[rows][present, 3 * k : 3 * k + 3])
        # ... and otherwise fill_value, never the frames before the gap.
        assert np.all(block[~present] == missing)
    assert np.sum((out[:, 3:6] == missing).any(axis=1)) == 2  # lag 1: frames 0 and 15


@pytest.mark.parametrize(
    "frame_index, match",
    [(np.arange(3), "length"), (np.array([0, 1, 1, 2]), "duplicates"), ([0, 1.5, 2, 3], "integer")],
)
def test_bad_frame_index(frame_index, match):
    lagger = LagTransformer().fit(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=match):
        lagger.transform(np.zeros((4, 2)), frame_index=frame_index)


def test_frame_index_and_exposure_routed_through_pipeline():
    rng = np.random.default_rng(2)
    movie = rng.choice([-1.0, 1.0], size=(400, 4))
    exposure = rng.uniform(0.5, 1.5, size=400)
    full = LagTransformer(lags=range(3)).fit_transform(movie)
    counts = rng.poisson(exposure * np.exp(0.5 + full @ rng.normal(0, 0.3, size=12)))
    rows = np.r_[0:150, 200:400]
    direct = PoissonLNPRegressor().fit(
        LagTransformer(lags=range(3)).fit(movie).transform(movie[rows], frame_index=rows),
        counts[rows],
        exposure=exposure[rows],
    )
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            LagTransformer(lags=range(3)).set_transform_request(frame_index=True),
            PoissonLNPRegressor().set_fit_request(exposure=True),
        )
        pipe.fit(movie[rows], counts[rows], exposure=exposure[rows], frame_index=rows)
    np.testing.assert_allclose(pipe[-1].coef_, direct.coef_, rtol=1e-6, atol=1e-9)


def test_without_frame_index_rows_are_consecutive_frames():
    movie = np.arange(12.0).reshape(6, 2)
    lagger = LagTransformer(lags=[0, 2]).fit(movie)
    np.testing.assert_array_equal(
        lagger.transform(movie), lagger.transform(movie, frame_index=np.arange(6))
    )


# -- SlowDriftFeatures --------------------------------------------------------


def test_drift_features_are_scaled_legendre_polynomials():
    t = np.linspace(10.0, 20.0, 11).reshape(-1, 1)
    out = SlowDriftFeatures(n_basis=3, scale=2.0).fit_transform(t)
    u = np.linspace(-1.0, 1.0, 11)
    expected = np.column_stack([u, (3 * u**2 - 1) / 2, (5 * u**3 - 3 * u) / 2])
    np.testing.assert_allclose(out, 2.0 * expected, atol=1e-12)


def test_drift_time_range_fixes_the_basis_across_folds():
    drift = SlowDriftFeatures(n_basis=2, time_range=(0.0, 100.0))
    part = drift.fit(np.array([[10.0], [20.0]])).transform(np.array([[50.0], [100.0]]))
    np.testing.assert_allclose(part[:, 0] / drift.scale, [0.0, 1.0])
    np.testing.assert_array_equal(drift.time_range_, [[0.0, 100.0]])
    assert drift.get_feature_names_out().tolist() == ["x0_drift1", "x0_drift2"]


@pytest.mark.parametrize(
    "X, kwargs, match",
    [
        (np.ones((4, 1)), {}, "stop > start"),
        (np.arange(4.0).reshape(-1, 1), {"time_range": (5.0, 1.0)}, "stop > start"),
        (np.arange(4.0).reshape(-1, 1), {"time_range": (0.0, 1.0, 2.0)}, "start, stop"),
    ],
)
def test_drift_bad_input(X, kwargs, match):
    # A constant time column has no range to map to [-1, 1].
    with pytest.raises(ValueError, match=match):
        SlowDriftFeatures(**kwargs).fit(X)


def test_drift_features_capture_the_real_rate_drift(real_design):
    # README: mean count per bin by quarter of the recording 4.58, 4.05, 3.89, 2.25.
    e, y = real_design.exposure, real_design.counts
    t = (np.cumsum(e) - e / 2).reshape(-1, 1)
    features = SlowDriftFeatures().fit_transform(t)
    model = PoissonLNPRegressor().fit(features, y, exposure=e)
    predicted = model.predict(features, exposure=e)
    quarters = np.array_split(np.arange(y.size), 4)
    np.testing.assert_allclose([y[q].mean() for q in quarters], [4.58, 4.05, 3.89, 2.25], atol=0.01)
    # The default six smooth regressors follow the rate per twelfth of the recording,
    # including its collapse at the end (about 0.4 spikes per bin in the last twelfth).
    twelfths = np.array_split(np.arange(y.size), 12)
    observed = np.array([y[q].mean() for q in twelfths])
    fitted = np.array([predicted[q].mean() for q in twelfths])
    assert observed[-1] < 0.5 < 3.5 < observed[:10].min()
    np.testing.assert_allclose(fitted, observed, atol=0.25)
    # The drift is real: the drift model explains deviance a constant rate does not.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.score(features, y, exposure=e) > 0.3


def test_drift_expands_each_column():
    t = np.column_stack([np.linspace(0, 1, 5), np.linspace(0, 4, 5)])
    drift = SlowDriftFeatures(n_basis=3, scale=1.0).fit(t)
    out = drift.transform(t)
    np.testing.assert_allclose(out[:, :3], out[:, 3:])  # both map to [-1, 1]
    assert drift.get_feature_names_out().tolist()[2:4] == ["x0_drift3", "x1_drift1"]


def test_float32_design_is_built_without_a_float64_copy():
    import tracemalloc

    X = np.random.default_rng(0).choice([-1.0, 1.0], size=(2000, 150))
    lagger = LagTransformer(dtype="float32").fit(X)
    tracemalloc.start()
    out = lagger.transform(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # 2000 x 750 float32 = 6 MB; a float64 intermediate would need 12 MB more.
    assert out.nbytes == 2000 * 750 * 4
    assert peak < 1.2 * out.nbytes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("with_frame_index", [False, True])
def test_fit_transform_equals_fit_then_transform(dtype, with_frame_index):
    """fit_transform validates X once and builds the design that fit().transform() builds."""
    frames = np.random.default_rng(0).standard_normal((40, 6)).astype(dtype)
    frame_index = np.r_[0:15, 22:47] if with_frame_index else None
    lagger = LagTransformer(lags=[0, 2, 3], fill_value=-1.0)
    at_once = lagger.fit_transform(frames, frame_index=frame_index)
    apart = LagTransformer(lags=[0, 2, 3], fill_value=-1.0).fit(frames)
    expected = apart.transform(frames, frame_index=frame_index)
    assert at_once.dtype == expected.dtype == dtype
    np.testing.assert_array_equal(at_once, expected)
    assert lagger.n_features_in_ == 6
