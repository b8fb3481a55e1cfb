"""BlockedTimeSeriesSplit: contiguous test blocks, gaps, no shared lagged frames."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GridSearchCV, cross_val_score

from sklearn_lnp import BlockedTimeSeriesSplit, LagTransformer, PoissonLNPRegressor


@settings(max_examples=80, deadline=None)
@given(n_samples=st.integers(4, 300), n_splits=st.integers(2, 8), gap=st.integers(0, 6))
def test_split_invariants(n_samples, n_splits, gap):
    cv = BlockedTimeSeriesSplit(n_splits, gap=gap)
    X = np.zeros((n_samples, 1))
    try:
        folds = list(cv.split(X))
    except ValueError as error:
        # Only too many folds or a gap that empties a training set may be refused.
        assert n_splits > n_samples or "no training rows" in str(error)
        return
    assert len(folds) == cv.get_n_splits() == n_splits
    tested = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(tested), np.arange(n_samples))  # each row once
    sizes = [test.size for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    for train, test in folds:
        assert np.array_equal(test, np.arange(test[0], test[-1] + 1))  # contiguous
        assert np.all(np.diff(train) > 0)
        # Every row at least gap + 1 rows away from the test block is used for training.
        distance = np.maximum(test[0] - np.arange(n_samples), np.arange(n_samples) - test[-1])
        np.testing.assert_array_equal(train, np.flatnonzero(distance > gap))


@settings(max_examples=30, deadline=None)
@given(
    lags=st.lists(st.integers(0, 5), min_size=1, max_size=4, unique=True),
    n_samples=st.integers(40, 120),
)
def test_gap_of_largest_lag_keeps_lagged_frames_disjoint(lags, n_samples):
    # Frames used by a row t of a lagged design: t - L for L in lags.
    cv = BlockedTimeSeriesSplit(4, gap=max(lags))
    for train, test in cv.split(np.zeros((n_samples, 1))):
        used_train = {t - lag for t in train for lag in lags if t >= lag}
        used_test = {t - lag for t in test for lag in lags if t >= lag}
        assert not used_train & used_test


def test_example_split():
    folds = list(BlockedTimeSeriesSplit(3, gap=1).split(np.zeros((9, 2))))
    assert [test.tolist() for _, test in folds] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert [train.tolist() for train, _ in folds] == [
        [4, 5, 6, 7, 8],
        [0, 1, 7, 8],
        [0, 1, 2, 3, 4],
    ]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_splits": 1}, "n_splits"),
        ({"n_splits": 2.0}, "n_splits"),
        ({"gap": -1}, "gap"),
        ({"gap": True}, "gap"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        list(BlockedTimeSeriesSplit(**kwargs).split(np.zeros((20, 1))))


def test_too_few_samples():
    with pytest.raises(ValueError, match="greater than the number of samples"):
        list(BlockedTimeSeriesSplit(5, gap=0).split(np.zeros((3, 1))))
    with pytest.raises(ValueError, match="no training rows"):
        list(BlockedTimeSeriesSplit(2, gap=10).split(np.zeros((10, 1))))


def test_usable_by_grid_search_and_cross_val_score():
    rng = np.random.default_rng(0)
    movie = rng.choice([-1.0, 1.0], size=(600, 3))
    X = LagTransformer(lags=range(3)).fit_transform(movie)
    y = rng.poisson(np.exp(0.3 + X[:, 0] * 0.4 - X[:, 3] * 0.3))
    cv = BlockedTimeSeriesSplit(4, gap=2)
    scores = cross_val_score(PoissonLNPRegressor(), X, y, cv=cv)
    assert scores.shape == (4,) and np.all(scores > 0)  # the true RF predicts held-out bins
    search = GridSearchCV(PoissonLNPRegressor(), {"alpha": [0.0, 1e3]}, cv=cv).fit(X, y)
    assert search.best_params_ == {"alpha": 0.0}  # a huge penalty removes the signal
