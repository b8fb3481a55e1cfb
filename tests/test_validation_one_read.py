"""Fit validation reads an in-memory ``X`` once: finiteness and ``|X| <= MAX_ABS_X`` together.

``check_finite_representable`` replaces scikit-learn's finiteness sum and
``check_representable``'s sum of squares by one sum of squares; it must
refuse exactly what the two refused, with their messages.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _problems import design_with_entries
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils import validation as sklearn_validation

from sklearn_lnp import PoissonLNPRegressor, _validation
from sklearn_lnp._validation import MAX_ABS_X, check_finite_representable

_VALUES = st.sampled_from(
    [0.0, 1.0, 1e40, 0.99 * MAX_ABS_X, 1.01 * MAX_ABS_X, 1e160, 1e300, np.inf, -np.inf, np.nan]
)


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 6),
    p=st.integers(1, 5),
    value=_VALUES,
    count=st.integers(0, 30),
    layout=st.sampled_from(["C", "F", "strided", "csr"]),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**16),
)
def test_refuses_exactly_non_finite_and_too_large_entries(n, p, value, count, layout, dtype, seed):
    X = design_with_entries(n, p, value, count, layout, dtype, seed)
    dense = X.toarray() if sp.issparse(X) else X
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from an overflowing sum of squares
        if np.isnan(dense).any():
            with pytest.raises(ValueError, match="X contains NaN"):
                check_finite_representable(X, "PoissonLNPRegressor")
        elif np.isinf(dense).any():
            with pytest.raises(ValueError, match="X contains infinity"):
                check_finite_representable(X)
        elif float(np.max(np.abs(dense), initial=0.0)) > MAX_ABS_X:
            with pytest.raises(ValueError, match="X has an entry of absolute value"):
                check_finite_representable(X)
        else:
            check_finite_representable(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_validation_reads_X_once(dtype, monkeypatch):
    # scikit-learn's finiteness check never sees X, and one sum of squares of
    # all of X settles both checks
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 7)).astype(dtype)
    y = rng.poisson(np.exp(0.3 * X[:, 0])).astype(np.float64)
    finiteness_checked, squared = [], []
    original_finite = sklearn_validation._assert_all_finite
    original_squares = _validation._sum_of_squares

    def record_finite(array, *args, **kwargs):
        finiteness_checked.append(np.shape(array))
        return original_finite(array, *args, **kwargs)

    def record_squares(v):
        squared.append(v.size)
        return original_squares(v)

    monkeypatch.setattr(sklearn_validation, "_assert_all_finite", record_finite)
    monkeypatch.setattr(_validation, "_sum_of_squares", record_squares)
    model = PoissonLNPRegressor(alpha=0.1).fit(X, y)
    assert X.shape not in finiteness_checked
    assert squared.count(X.size) == 1
    # and the fit is the one of the validated data
    reference = PoissonLNPRegressor(alpha=0.1).fit(X.astype(np.float64), y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("bad, message", [(np.nan, "X contains NaN"), (np.inf, "infinity")])
def test_fit_refuses_non_finite_X_with_scikit_learn_message(bad, message):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((50, 3))
    X[7, 1] = bad
    with pytest.raises(ValueError, match=message):
        PoissonLNPRegressor().fit(X, rng.poisson(1.0, 50).astype(float))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sum_of_squares_in_chunks_is_the_dot_product(dtype, monkeypatch):
    """Chunks of at most ``_DOT_CHUNK`` elements (scipy's BLAS takes 32-bit lengths).

    Summed in another order than ``v @ v``: equal to round-off of the dtype
    (rtol 1e-5 for float32 chunk sums, 1e-12 for float64).
    """
    v = np.random.default_rng(5).standard_normal(1001).astype(dtype)
    whole = _validation._sum_of_squares(v)
    assert isinstance(whole, float)
    monkeypatch.setattr(_validation, "_DOT_CHUNK", 64)
    chunked = _validation._sum_of_squares(v)
    expected = float(np.dot(v.astype(np.float64), v.astype(np.float64)))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert whole == pytest.approx(expected, rel=rtol)
    assert chunked == pytest.approx(expected, rel=rtol)
    assert _validation._sum_of_squares(v[:0]) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow and nan pass silently
        big = np.full(100, np.finfo(dtype).max / 4, dtype=dtype)
        assert _validation._sum_of_squares(big) == np.inf
        v[500] = np.nan
        assert np.isnan(_validation._sum_of_squares(v))
