"""``STAEstimator(whiten=True)`` refuses a numerically singular stimulus covariance.

Facts asserted: with ``ridge=0``, duplicated or nearly duplicated stimulus
columns (condition number of the covariance above the documented 1e12)
raise a ``ValueError`` naming ``ridge`` and the fix (``ridge > 0``)
instead of returning a filter of size ~1e3-1e4; a well-conditioned
correlated stimulus is still whitened with ``ridge=0``, and ``ridge > 0``
whitens the duplicated columns.
"""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_lnp import STAEstimator


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = rng.poisson(np.exp(0.3 * X[:, 0] + 0.2)).astype(float)
    return X, y, rng


@pytest.mark.parametrize("noise", [0.0, 1e-12, 1e-9, 1e-7])
def test_duplicated_columns_without_ridge_are_refused_naming_ridge(data, noise):
    X, y, rng = data
    duplicated = np.column_stack([X, X[:, 0] + noise * rng.normal(size=200)])
    with pytest.raises(
        ValueError, match="ridge=0 .*(numerically singular|not positive definite).*increase ridge"
    ):
        STAEstimator(whiten=True, ridge=0.0).fit(duplicated, y)
    # The fix the message names works, and gives a filter of the stimulus' size.
    model = STAEstimator(whiten=True, ridge=0.1).fit(duplicated, y)
    assert np.max(np.abs(model.filter_)) < 10


def test_a_correlated_but_well_conditioned_stimulus_is_whitened_without_ridge(data):
    X, y, rng = data
    correlated = np.column_stack([X, X[:, 0] + 0.1 * rng.normal(size=200)])
    model = STAEstimator(whiten=True, ridge=0.0).fit(correlated, y)
    covariance = np.cov(correlated.T, bias=True)
    np.testing.assert_allclose(covariance @ model.filter_, model.sta_, atol=1e-10)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_one_count_of_1e300_gives_the_zscore_without_a_runtime_warning(data):
    X, y, _ = data
    huge = np.r_[y[:-1], 1e300]
    model = STAEstimator(nonlinearity="binned").fit(X, huge)
    assert np.all(np.isfinite(model.sta_)) and np.all(np.isfinite(model.zscore_))
    # The z-score does not depend on the unit of the counts.
    scaled = STAEstimator(nonlinearity="binned").fit(X, 1e290 * y)
    unit = STAEstimator(nonlinearity="binned").fit(X, y)
    np.testing.assert_allclose(scaled.zscore_, unit.zscore_, rtol=1e-10, atol=1e-12)
