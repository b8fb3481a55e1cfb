"""SpikeHistoryTransformer, RaisedCosineBasis and LagTransformer(basis=): layout and facts."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_lnp import (
    BlockedTimeSeriesSplit,
    LagTransformer,
    PoissonLNPRegressor,
    RaisedCosineBasis,
    SpikeHistoryTransformer,
)
from sklearn_lnp.metrics import get_scorer
from sklearn_lnp.preprocessing import basis_coef_to_lags


def _project(full, basis_matrix, n_columns):
    """Reference: the full lag-major design projected on the basis."""
    n = full.shape[0]
    lagged = full.reshape(n, basis_matrix.shape[0], n_columns)
    return np.einsum("kj,nkp->njp", basis_matrix, lagged).reshape(n, -1)


def test_history_is_the_past_counts_lag_major_zero_filled():
    counts = np.array([[1, 0], [0, 2], [3, 0], [0, 1]])
    out = SpikeHistoryTransformer(lags=[1, 3]).fit_transform(counts)
    # block lag 1: row t holds counts[t - 1]; block lag 3: counts[t - 3]; zeros before.
    expected = np.array(
        [[0, 0, 0, 0], [1, 0, 0, 0], [0, 2, 0, 0], [3, 0, 1, 0]],
        dtype=float,
    )
    np.testing.assert_array_equal(out, expected)


def test_history_feature_names():
    history = SpikeHistoryTransformer(lags=[1, 2]).fit(np.zeros((3, 2)))
    assert history.get_feature_names_out(["a", "b"]).tolist() == [
        "a_hist1",
        "b_hist1",
        "a_hist2",
        "b_hist2",
    ]
    with_basis = SpikeHistoryTransformer(lags=range(1, 6), basis=RaisedCosineBasis(2))
    names = with_basis.fit(np.zeros((3, 2))).get_feature_names_out(["a", "b"]).tolist()
    assert names == ["a_histbasis0", "b_histbasis0", "a_histbasis1", "b_histbasis1"]


@pytest.mark.parametrize("lags", [[0, 1], [-1, 2], 0])
def test_history_refuses_lags_that_leak_the_target(lags):
    with pytest.raises(ValueError, match="lags must all be >= 1.*leak the target"):
        SpikeHistoryTransformer(lags=lags).fit(np.zeros((4, 1)))


@pytest.mark.parametrize(
    ("bad", "message"),
    [(-1.0, "X \\(the spike counts"), (0.5, "X \\(the spike counts"), (np.nan, "X contains NaN")],
)
def test_history_refuses_counts_that_are_not_counts(bad, message):
    counts = np.zeros((5, 2))
    counts[2, 1] = bad
    with pytest.raises(ValueError, match=message):
        SpikeHistoryTransformer(lags=[1]).fit(counts)
    history = SpikeHistoryTransformer(lags=[1]).fit(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=message):
        history.transform(counts)


def test_history_with_basis_is_the_projected_full_design():
    counts = np.random.default_rng(0).poisson(0.3, size=(200, 3)).astype(float)
    lags = range(1, 31)
    full = SpikeHistoryTransformer(lags=lags).fit_transform(counts)
    history = SpikeHistoryTransformer(lags=lags, basis=RaisedCosineBasis(5))
    out = history.fit_transform(counts)
    assert out.shape == (200, 5 * 3)
    # Sums of at most 30 products of O(1) numbers: float64 round-off is ~1e-14.
    np.testing.assert_allclose(out, _project(full, history.basis_matrix_, 3), atol=1e-12)


@pytest.mark.parametrize("log_time", [True, False])
@pytest.mark.parametrize(("lags", "n_basis"), [(range(1, 51), 6), (range(0, 25), 4), ([3], 1)])
def test_raised_cosine_basis_covers_the_lag_range(lags, n_basis, log_time):
    B = RaisedCosineBasis(n_basis, log_time=log_time).matrix(lags)
    assert B.shape == (len(lags), n_basis)
    assert np.all(B >= 0) and np.all(B <= 1)
    # Bumps overlapping by half their width: the sum is >= 1 at every lag (1.5 at the
    # end peaks with n_basis >= 2) and <= 2.
    total = B.sum(axis=1)
    assert total.min() >= 1.0 - 1e-12
    assert total.max() <= 2.0 + 1e-12


def test_log_time_bumps_are_narrow_at_short_lags_and_wide_at_long_lags():
    B = RaisedCosineBasis(6).matrix(range(1, 101))
    support = (B > 0).sum(axis=0)
    assert support[1] < support[-2]
    # Linear time: bumps away from the ends (not cut by them) span the same number of lags.
    linear = (RaisedCosineBasis(6, log_time=False).matrix(range(1, 101)) > 0).sum(axis=0)
    assert np.ptp(linear[2:-2]) <= 1


def test_orthogonalized_basis_is_orthonormal_with_the_same_span():
    lags = range(1, 41)
    B = RaisedCosineBasis(7).matrix(lags)
    Q = RaisedCosineBasis(7, orthogonalize=True).matrix(lags)
    np.testing.assert_allclose(Q.T @ Q, np.eye(7), atol=1e-10)
    # Same column space: projecting B on Q reproduces B.
    np.testing.assert_allclose(Q @ (Q.T @ B), B, atol=1e-10)


def test_basis_wider_than_the_lag_range_is_refused():
    with pytest.raises(ValueError, match="n_basis=6 is more than the 5 lags"):
        RaisedCosineBasis(6).matrix(range(5))
    with pytest.raises(ValueError, match="n_basis=6 is more than the 5 lags"):
        SpikeHistoryTransformer(lags=range(1, 6), basis=RaisedCosineBasis(6)).fit(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="log_offset must be a positive"):
        RaisedCosineBasis(2, log_offset=0.0).matrix(range(5))
    with pytest.raises(ValueError, match="n_basis must be a positive integer"):
        RaisedCosineBasis(0).matrix(range(5))


def test_lag_transformer_default_is_unchanged_and_basis_projects():
    X = np.random.default_rng(1).normal(size=(60, 4))
    full = LagTransformer(lags=range(25)).fit_transform(X)
    assert full.shape == (60, 100)
    np.testing.assert_array_equal(full[5:, 4 * 5 : 4 * 6], X[:-5])
    lagger = LagTransformer(lags=range(25), basis=RaisedCosineBasis(5))
    out = lagger.fit_transform(X)
    assert out.shape == (60, 5 * 4)
    np.testing.assert_allclose(out, _project(full, lagger.basis_matrix_, 4), atol=1e-12)
    assert lagger.get_feature_names_out()[:2].tolist() == ["x0_basis0", "x1_basis0"]
    # frame_index: the same projection of the frame-number-aware full design.
    frames = np.r_[0:30, 40:70]
    full_f = LagTransformer(lags=range(25)).fit_transform(X, frame_index=frames)
    np.testing.assert_allclose(
        lagger.transform(X, frame_index=frames),
        _project(full_f, lagger.basis_matrix_, 4),
        atol=1e-12,
    )


def test_lag_transformer_basis_refuses_dask_with_a_message():
    da = pytest.importorskip("dask.array")
    X = da.zeros((20, 3), chunks=10)
    lagger = LagTransformer(lags=range(5), basis=RaisedCosineBasis(2)).fit(X)
    with pytest.raises(ValueError, match="basis is not supported with a dask stimulus"):
        lagger.transform(X)


def test_basis_weights_map_back_to_the_filter_over_lags():
    """A filter in the basis span is found exactly, through the basis design, in lag space."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 3))
    lagger = LagTransformer(lags=range(10), basis=RaisedCosineBasis(4)).fit(X)
    c = rng.normal(size=4 * 3)
    w = lagger.coef_to_lags(c)
    assert w.shape == (10 * 3,)
    full = LagTransformer(lags=range(10)).fit_transform(X)
    # Same linear predictor: X_basis @ c == X_full @ (B c) up to round-off.
    np.testing.assert_allclose(lagger.transform(X) @ c, full @ w, atol=1e-10)
    two = basis_coef_to_lags(np.vstack([c, 2 * c]), lagger.basis_matrix_)
    np.testing.assert_allclose(two[1], 2 * w, atol=1e-12)
    with pytest.raises(ValueError, match="n_basis \\* n_columns"):
        basis_coef_to_lags(np.ones(5), lagger.basis_matrix_)


def test_glm_pipeline_runs_through_grid_search_with_blocked_folds_and_exposure():
    """Stimulus lags + history in a ColumnTransformer, alpha chosen on blocked folds."""
    rng = np.random.default_rng(3)
    n = 1500
    stimulus = rng.normal(size=(n, 3))
    counts = rng.poisson(0.2 * np.exp(0.3 * stimulus[:, :1]))
    data = np.hstack([stimulus, counts])
    exposure = np.full(n, 0.01)
    design = ColumnTransformer(
        [
            ("stimulus", LagTransformer(range(3)), [0, 1, 2]),
            ("history", SpikeHistoryTransformer(range(1, 11), basis=RaisedCosineBasis(3)), [3]),
        ]
    )
    with sklearn.config_context(enable_metadata_routing=True):
        model = make_pipeline(
            design,
            PoissonLNPRegressor().set_fit_request(exposure=True).set_score_request(exposure=True),
        )
        search = GridSearchCV(
            model,
            {"poissonlnpregressor__alpha": [1e-3, 1e-1]},
            cv=BlockedTimeSeriesSplit(3, gap=10),
            scoring=get_scorer("bits_per_spike").set_score_request(exposure=True),
        ).fit(data, counts.ravel(), exposure=exposure)
    fitted = search.best_estimator_[-1]
    assert fitted.coef_.shape == (3 * 3 + 3,)
    assert np.isfinite(search.best_score_)


def test_coupled_population_glm_is_one_multi_output_fit():
    """All neurons on [stimulus lags, every neuron's history]: one coef_ row per neuron."""
    rng = np.random.default_rng(4)
    n = 2000
    stimulus = rng.normal(size=(n, 2))
    counts = rng.poisson(0.1, size=(n, 3)).astype(float)
    design = ColumnTransformer(
        [
            ("stimulus", LagTransformer(range(2)), [0, 1]),
            (
                "history",
                SpikeHistoryTransformer(range(1, 9), basis=RaisedCosineBasis(3)),
                [2, 3, 4],
            ),
        ]
    )
    glm = make_pipeline(design, PoissonLNPRegressor(alpha=1e-3))
    glm.fit(np.hstack([stimulus, counts]), counts)
    coef = glm[-1].coef_
    assert coef.shape == (3, 2 * 2 + 3 * 3)
    history = glm[0].named_transformers_["history"]
    filters = history.coef_to_lags(coef[:, 4:]).reshape(3, 8, 3)  # [target, lag, source]
    assert filters.shape == (3, 8, 3)
    assert glm.predict(np.hstack([stimulus, counts])).shape == (n, 3)
