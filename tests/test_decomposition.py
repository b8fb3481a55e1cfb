"""separate_space_time (SVD helper) and SVDSeparator."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_lnp import LagTransformer
from sklearn_lnp.decomposition import separate_space_time, space_time_matrix

finite = st.floats(-10, 10, allow_nan=False, allow_subnormal=False)


def _unit(a):
    return a / np.linalg.norm(a)


def test_separable_rf_is_recovered_exactly():
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=30), np.array([1.0, 0.4, -0.6, -0.2, 0.0])
    svd = separate_space_time(3.0 * np.outer(u, v), center="none", frame_shape=(5, 6))
    sign = np.sign(u[np.argmax(np.abs(u))])
    np.testing.assert_allclose(svd.spatial[0], sign * _unit(u), atol=1e-12)
    np.testing.assert_allclose(svd.temporal[0], sign * _unit(v), atol=1e-12)
    np.testing.assert_allclose(svd.singular_values[0], 3 * np.linalg.norm(u) * np.linalg.norm(v))
    np.testing.assert_allclose(svd.explained_variance_ratio, [1, 0, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(svd.spatial_maps[0], svd.spatial[0].reshape(5, 6))


@settings(max_examples=50, deadline=None)
@given(W=arrays(np.float64, st.tuples(st.integers(2, 8), st.integers(2, 5)), elements=finite))
def test_sign_rule_and_reconstruction(W):
    if np.linalg.norm(W) < 1e-3:
        return
    svd = separate_space_time(W, center="none", rank=min(W.shape))
    for spatial in svd.spatial:  # sign rule: largest-magnitude spatial entry positive
        peak = np.max(np.abs(spatial))
        assert spatial[np.flatnonzero(np.isclose(np.abs(spatial), peak))[0]] > 0
    np.testing.assert_allclose(svd.low_rank, W, atol=1e-9 * (1 + np.abs(W).max()))
    assert np.isclose(svd.explained_variance_ratio.sum(), 1.0)
    flipped = separate_space_time(-W, center="none", rank=1)
    single = separate_space_time(W, center="none", rank=1)
    # -W has the same spatial map; the sign moves to the temporal kernel.
    gap = svd.singular_values[0] - svd.singular_values[1]
    if gap > 1e-6 * svd.singular_values[0]:
        np.testing.assert_allclose(flipped.spatial, single.spatial, atol=1e-8)
        np.testing.assert_allclose(flipped.temporal, -single.temporal, atol=1e-8)


@settings(max_examples=30, deadline=None)
@given(
    W=arrays(np.float64, st.tuples(st.integers(3, 8), st.integers(3, 5)), elements=finite),
    rank=st.integers(1, 3),
)
def test_low_rank_is_the_best_approximation(W, rank):
    if not np.any(W):
        return  # the all-zero RF is tested below
    svd = separate_space_time(W, center="none", rank=rank)
    error = np.linalg.norm(W - svd.low_rank)
    np.testing.assert_allclose(error, np.sqrt(np.sum(svd.singular_values[rank:] ** 2)), atol=1e-8)


def test_centerings_are_the_documented_means():
    W = np.random.default_rng(1).normal(size=(6, 4))
    lab = separate_space_time(W, center="over_pixels")
    np.testing.assert_allclose(lab.centered, W - W.mean(axis=0))
    over_lags = separate_space_time(W, center="over_lags")
    np.testing.assert_allclose(over_lags.centered, W - W.mean(axis=1, keepdims=True))
    both = separate_space_time(W, center="both")
    np.testing.assert_allclose(both.centered.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(both.centered.mean(axis=1), 0, atol=1e-12)
    for svd in (lab, over_lags, both):
        np.testing.assert_allclose(svd.centered + svd.offset, W)


def test_over_lags_removes_a_lag_independent_pattern():
    # The real neuron's problem in miniature: every lag carries the same spatial
    # pattern c (from the rate drift) on top of a separable RF u v^T.
    rng = np.random.default_rng(2)
    u = np.zeros(40)
    u[[12, 13, 17]] = [1.0, 0.6, 0.5]
    v = np.array([1.0, 0.3, -0.7, -0.3, -0.1])
    c = np.zeros(40)
    c[3] = -1.5
    W = np.outer(u, v) + np.outer(c, np.ones(5)) + rng.normal(0, 0.01, size=(40, 5))
    for center in ("none", "over_pixels"):
        wrong = separate_space_time(W, center=center)
        assert np.argmax(np.abs(wrong.spatial[0])) == 3  # the contamination wins
        assert np.all(np.sign(wrong.temporal[0]) == np.sign(wrong.temporal[0][0]))
    right = separate_space_time(W, center="over_lags")
    assert np.argmax(right.spatial[0]) == 12
    assert abs(np.corrcoef(right.spatial[0], u)[0, 1]) > 0.99
    # The temporal kernel is v minus its mean over lags, so it still changes sign.
    assert np.corrcoef(right.temporal[0], v - v.mean())[0, 1] > 0.99
    assert right.temporal[0][0] > 0 > right.temporal[0][2]


def test_all_zero_rf_warns_and_returns_zeros_not_nan():
    with pytest.warns(UserWarning, match="all zero"):
        svd = separate_space_time(np.zeros((4, 3)), rank=2)
    for key in ("spatial", "temporal", "singular_values", "explained_variance_ratio", "low_rank"):
        assert not np.any(np.isnan(svd[key])) and not np.any(svd[key])
    # A constant RF is all zero after centring over lags, and warns too.
    with pytest.warns(UserWarning, match="center='over_lags'"):
        separate_space_time(np.ones((4, 3)))


@pytest.mark.parametrize(
    "W, kwargs, match",
    [
        (np.ones(4), {}, "2-d"),
        (np.full((3, 2), np.nan), {}, "finite"),
        (np.ones((4, 3)), {"rank": 4}, "rank"),
        (np.ones((4, 3)), {"rank": 0}, "rank"),
        (np.ones((4, 3)), {"rank": 1.0}, "rank"),
        (np.ones((4, 3)), {"center": "lab"}, "center"),
        (np.ones((4, 3)), {"frame_shape": (3, 3)}, "frame_shape"),
        (np.ones((4, 3)), {"frame_shape": "ab"}, "frame_shape"),
    ],
)
def test_bad_input(W, kwargs, match):
    with warnings.catch_warnings(), pytest.raises(ValueError, match=match):
        warnings.simplefilter("ignore", UserWarning)
        separate_space_time(W, **kwargs)


def test_space_time_matrix_matches_the_lag_transformer_layout():
    # A design column "pixel j at lag k" is column k * n_pixels + j; its weight is W[j, k].
    movie = np.random.default_rng(3).normal(size=(10, 4))
    lagger = LagTransformer(lags=[0, 1, 2]).fit(movie)
    names = lagger.get_feature_names_out()
    W = space_time_matrix(np.arange(12.0), n_lags=3)
    for j in range(4):
        for k in range(3):
            assert names[int(W[j, k])] == f"x{j}_lag{k}"
    with pytest.raises(ValueError, match="n_lags=5"):
        space_time_matrix(np.ones(12), n_lags=5)
    with pytest.raises(ValueError, match="1-d"):
        space_time_matrix(np.ones((3, 4)), n_lags=3)
    with pytest.raises(ValueError, match="n_lags"):
        space_time_matrix(np.ones(4), n_lags=0)
