"""Passes over the design matrix, accumulated in float64 without copying ``X``.

Every solver touches the data only through these three functions, so that
the cost of a fit can be counted in *passes* (one pass = one ``X @ w``) and
so that float32 designs are used as they are: they are read in row blocks
that are converted to float64 one block at a time (a few MiB of scratch),
which keeps objective, gradient and Hessian sums accurate to float64
precision while never holding a float64 copy of the whole of ``X``.

Dense float64 designs go straight to BLAS; scipy sparse designs use their
own sparse products.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import dsyrk

# Row-block sizes in bytes of float64 scratch.  Matrix-vector products are
# memory bound: a block that stays in cache is best.  The Gram matrix is
# compute bound: larger blocks let BLAS reach its peak.
_MATVEC_BLOCK_BYTES = 1 << 20
_GRAM_BLOCK_BYTES = 1 << 25


def _row_blocks(n_rows: int, n_cols: int, block_bytes: int):
    rows = max(1, block_bytes // (8 * max(n_cols, 1)))
    for start in range(0, n_rows, rows):
        yield slice(start, min(start + rows, n_rows))


def matvec(X, w: np.ndarray) -> np.ndarray:
    """Return ``X @ w`` in float64.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    w : ndarray of shape (n_features,) or (n_features, k)

    Returns
    -------
    ndarray of shape (n_samples,) or (n_samples, k), float64
    """
    if sp.issparse(X):
        return np.asarray(X @ w, dtype=np.float64)
    if X.dtype == np.float64:
        return X @ w
    out = np.empty((X.shape[0],) + w.shape[1:], dtype=np.float64)
    for rows in _row_blocks(X.shape[0], X.shape[1], _MATVEC_BLOCK_BYTES):
        out[rows] = X[rows].astype(np.float64) @ w
    return out


def rmatvec(X, r: np.ndarray) -> np.ndarray:
    """Return ``X.T @ r`` in float64.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    r : ndarray of shape (n_samples,) or (n_samples, k)

    Returns
    -------
    ndarray of shape (n_features,) or (n_features, k), float64
    """
    if sp.issparse(X):
        return np.asarray(X.T @ r, dtype=np.float64)
    if X.dtype == np.float64:
        return X.T @ r
    out = np.zeros((X.shape[1],) + r.shape[1:], dtype=np.float64)
    for rows in _row_blocks(X.shape[0], X.shape[1], _MATVEC_BLOCK_BYTES):
        out += X[rows].astype(np.float64).T @ r[rows]
    return out


def weighted_gram(X, d: np.ndarray) -> np.ndarray:
    """Return ``X.T @ diag(d) @ X`` for non-negative ``d``, in float64.

    Dense designs are processed in row blocks with the symmetric rank-k
    update ``dsyrk`` (half the flops of a general product, and no copy of
    ``X`` beyond one block of ``sqrt(d) * X``).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    d : ndarray of shape (n_samples,), non-negative weights

    Returns
    -------
    ndarray of shape (n_features, n_features), symmetric, float64
    """
    n_features = X.shape[1]
    if sp.issparse(X):
        weighted = sp.csr_matrix(X.multiply(d[:, None]))
        return np.asarray((X.T @ weighted).toarray(), dtype=np.float64)
    gram = np.zeros((n_features, n_features), dtype=np.float64, order="F")
    sqrt_d = np.sqrt(d)
    for rows in _row_blocks(X.shape[0], n_features, _GRAM_BLOCK_BYTES):
        block = np.multiply(X[rows], sqrt_d[rows, None], dtype=np.float64)
        # ``block.T`` is Fortran ordered: BLAS reads it without a copy and
        # adds block.T @ block into the upper triangle of ``gram``.
        gram = dsyrk(1.0, block.T, beta=1.0, c=gram, trans=0, lower=0, overwrite_c=1)
    upper = np.triu_indices(n_features, k=1)
    gram[upper[1], upper[0]] = gram[upper]
    return gram
