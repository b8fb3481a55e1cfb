"""Bad and extreme input to the transformers and ``BlockedTimeSeriesSplit``: named refusals.

Facts asserted: ``LagTransformer`` refuses a lag beyond int64, a NaN or
infinite ``fill_value`` and a word, boolean or out-of-range ``frame_index``,
each naming the argument, and never lets ``frame_index - lag`` wrap around;
``SlowDriftFeatures`` refuses a word ``time_range`` naming it, maps times
near +-1e308 without a numpy ``RuntimeWarning``, and outside its fitted
time range holds the drift at the nearest end (documented, with a
warning); ``BlockedTimeSeriesSplit`` names ``y``, ``groups`` or ``X`` when
their rows cannot match the fold indices.
"""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_lnp.model_selection import BlockedTimeSeriesSplit
from sklearn_lnp.preprocessing import LagTransformer, SlowDriftFeatures, check_lags


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(200, 6))


# -- LagTransformer -----------------------------------------------------------------


@pytest.mark.parametrize("lags", [[2**70], [0, 2**63], np.array([2**63], dtype=np.uint64)])
def test_lags_beyond_int64_are_refused_naming_lags(X, lags):
    with pytest.raises(ValueError, match="lags must be at most 2\\*\\*63 - 1"):
        LagTransformer(lags=lags).fit_transform(X)
    with pytest.raises(ValueError, match="lags"):
        check_lags(lags)


def test_a_lag_longer_than_the_recording_is_all_fill(X):
    out = LagTransformer(lags=[2**62], fill_value=-1.0).fit_transform(X)
    assert np.all(out == -1.0)
    out = LagTransformer(lags=[2**62], fill_value=-1.0).fit_transform(X, frame_index=np.arange(200))
    assert np.all(out == -1.0)


@pytest.mark.parametrize("fill_value", [np.nan, np.inf, -np.inf])
def test_non_finite_fill_value_is_refused_naming_it(X, fill_value):
    with pytest.raises(ValueError, match="fill_value must be finite"):
        LagTransformer(fill_value=fill_value).fit(X)
    fitted = LagTransformer().fit(X).set_params(fill_value=fill_value)
    with pytest.raises(ValueError, match="fill_value must be finite"):
        fitted.transform(X)


@pytest.mark.parametrize(
    "frame_index, match",
    [
        (np.array([str(i) for i in range(200)]), "strings"),
        (np.array([str(i) for i in range(200)], dtype=object), "str"),
        ("abc", "strings"),
        (np.arange(200) + 0.5j, "complex"),
        (np.arange(200) % 2 == 0, "booleans"),
        (np.r_[np.arange(199.0), 1e300], "int64 range"),
        (np.r_[np.arange(199, dtype=np.uint64), np.uint64(2**64 - 1)], "int64 range"),
    ],
)
def test_bad_frame_index_is_refused_naming_it(X, frame_index, match):
    with pytest.raises(ValueError, match="frame_index") as error:
        LagTransformer(lags=[0, 1]).fit_transform(X, frame_index=frame_index)
    assert match in str(error.value)


def test_frame_index_near_the_int64_limits_does_not_wrap_around():
    movie = np.arange(4.0).reshape(4, 1)
    low = np.iinfo(np.int64).min
    # frame low - 2 would wrap to a huge positive frame number: it must be "missing".
    frames = np.array([low, low + 1, low + 2, np.iinfo(np.int64).max - 1])
    out = LagTransformer(lags=[0, 1, 2], fill_value=-1.0).fit_transform(movie, frame_index=frames)
    np.testing.assert_array_equal(
        out, [[0.0, -1.0, -1.0], [1.0, 0.0, -1.0], [2.0, 1.0, 0.0], [3.0, -1.0, -1.0]]
    )


# -- SlowDriftFeatures ----------------------------------------------------------------


@pytest.mark.parametrize(
    "time_range, match",
    [(("a", "b"), "start is 'a'"), ((0.0, 1 + 1j), "stop is"), ((True, 5.0), "start is True")],
)
def test_non_real_time_range_is_refused_naming_it(time_range, match):
    with pytest.raises(ValueError, match="time_range") as error:
        SlowDriftFeatures(time_range=time_range).fit(np.arange(5.0)[:, None])
    assert match in str(error.value)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_times_near_the_float64_limits_give_no_runtime_warning():
    t = np.array([[-1e308], [0.0], [1e308]])
    out = SlowDriftFeatures(n_basis=2, scale=1.0).fit_transform(t)
    np.testing.assert_allclose(out, [[-1.0, 1.0], [0.0, -0.5], [1.0, 1.0]], atol=1e-12)
    drift = SlowDriftFeatures(n_basis=3, time_range=(-1.7e308, 1.7e308)).fit(t)
    assert np.all(np.isfinite(drift.transform(t)))


def test_outside_the_fitted_range_the_drift_is_held_at_the_nearest_end():
    drift = SlowDriftFeatures(n_basis=3, scale=1.0).fit(np.arange(5.0)[:, None])
    ends = drift.transform(np.array([[0.0], [4.0]]))
    with pytest.warns(UserWarning, match="2 of 3 times lie outside the fitted time_range_"):
        out = drift.transform(np.array([[-100.0], [2.0], [1e300]]))
    np.testing.assert_array_equal(out[0], ends[0])
    np.testing.assert_array_equal(out[2], ends[1])
    assert np.all(np.abs(out) <= 1.0)  # Legendre polynomials on [-1, 1]


# -- BlockedTimeSeriesSplit -------------------------------------------------------------


@pytest.mark.parametrize(
    "y, groups, name",
    [(np.zeros(150), None, "y"), (None, np.zeros(250), "groups"), (np.zeros(250), None, "y")],
)
def test_split_names_y_or_groups_of_another_length(X, y, groups, name):
    with pytest.raises(ValueError, match=f"{name} has .* rows but X has 200"):
        list(BlockedTimeSeriesSplit(5, gap=2).split(X, y, groups))


@pytest.mark.parametrize("X_bad", [5, None])
def test_split_names_X_without_rows(X_bad):
    with pytest.raises(ValueError, match="X must be an array-like"):
        list(BlockedTimeSeriesSplit(5, gap=2).split(X_bad))


def test_split_with_too_many_folds_names_n_splits():
    with pytest.raises(ValueError, match="n_splits=30.*rows of X"):
        list(BlockedTimeSeriesSplit(30, gap=0).split(np.zeros((5, 1))))


@pytest.mark.slow
def test_outputs_larger_than_the_machine_are_refused_before_allocating():
    with pytest.raises(ValueError, match=r"LagTransformer with 1000000 lags.*TiB of memory"):
        LagTransformer(lags=range(0, 10**12, 10**6)).fit_transform(np.zeros((10**6, 10)))
    with pytest.raises(ValueError, match=r"n_basis=1000000000000 .*TiB of memory"):
        SlowDriftFeatures(n_basis=10**12).fit_transform(np.arange(5.0)[:, None])
