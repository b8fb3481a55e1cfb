"""Passes over an in-memory design (numpy array or scipy sparse matrix).

The in-memory implementation of :mod:`sklearn_lnp._passes`; each chunk of a
dask design goes through these same functions (:mod:`._dask`).  Solvers
reach both through the dispatching functions of the package, so that the
cost of a fit can be counted in *passes* (one pass = one read of ``X``, e.g.
one ``X @ w``) and so that float32 designs are used as they are: they are
read in row blocks that are converted to float64 one block at a time (a few
MiB of scratch), which keeps objective, gradient and Hessian sums accurate to
float64 precision while never holding a float64 copy of the whole of ``X``.

:func:`sweep` fuses ``u = X @ v`` and ``X.T @ f(u)`` in a single read of
``X``: each row block is used twice while it is in cache.  Matrix-vector
products are bound by memory bandwidth, so this costs little more than one
product, and less than the two products done separately (more so when other
processes compete for memory bandwidth).  The block must fit in
the per-core (L2) cache for its second use to be a cache hit (1 MiB; the
machines this was tuned on have 2 MiB of L2 per core).  A design of up to
``_SWEEP_WHOLE_BYTES`` stays in the last-level cache between the two
products and is swept whole, with two BLAS calls.

Dense float64 designs go straight to BLAS; scipy sparse designs use their
own sparse products.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import dsyrk, ssyrk

# Row-block sizes in bytes of float64 scratch.  Matrix-vector products that
# convert ``X`` to float64 block by block (float32 designs with accurate
# products, other dtypes, non-contiguous designs): the conversion streams
# through the block once, so blocks sized for the last-level cache beat
# blocks sized for the per-core cache, whose Python loop and shorter BLAS
# calls cost more.  The Gram matrix is compute bound: larger blocks let BLAS
# reach its peak.
_MATVEC_BLOCK_BYTES = 1 << 22
_GRAM_BLOCK_BYTES = 1 << 25


# Row blocks of a fused sweep: small enough to stay in the per-core cache
# between the two products, large enough that the Python loop overhead stays
# small.
_SWEEP_BLOCK_BYTES = 1 << 20
# ... of a sweep with k > 1 columns (matrix-matrix products, compute bound
# rather than memory bound, and more Python work per block): larger blocks,
# and designs up to _SWEEP_MATRIX_WHOLE_BYTES swept whole.
_SWEEP_MATRIX_BLOCK_BYTES = 1 << 22
# Row blocks of single-precision products on float32 designs (counted, as
# every block size here, in bytes of float64 rows: the float32 block is half
# of it): float32 sums run within a block only, so the block also bounds
# round-off.  Sized to stay in a per-core L2 cache (2 MiB on the development
# machine) between the two products.
_FAST_BLOCK_BYTES = 1 << 21
# Row blocks of a sweep that converts ``X`` to float64 (float32 designs with
# accurate products, non-contiguous float64 ones): the converted block is
# written, then read twice; as for _MATVEC_BLOCK_BYTES, a block that the
# last-level cache holds does better than one sized for the per-core cache.
_CONVERT_BLOCK_BYTES = 1 << 22
# A float64 design up to this size is swept as one block (two plain BLAS
# calls): it stays in a last-level cache of 32 MiB between the two products,
# and two long BLAS calls beat the row blocks' shorter ones and Python loop
# (a row block of a 1500-column design holds 87 rows).
_SWEEP_WHOLE_BYTES = 3 << 23
_SWEEP_MATRIX_WHOLE_BYTES = 1 << 25


def _rows_per_block(n_cols: int, block_bytes: int) -> int:
    """Rows of ``n_cols`` float64 values in ``block_bytes`` (at least one)."""
    return max(1, block_bytes // (8 * max(n_cols, 1)))


def row_blocks(n_rows: int, n_cols: int, block_bytes: int):
    rows = _rows_per_block(n_cols, block_bytes)
    for start in range(0, n_rows, rows):
        yield slice(start, min(start + rows, n_rows))


def _blas_ready(X) -> bool:
    """Whether row blocks of dense ``X`` go to BLAS as they are (no conversion)."""
    return X.dtype == np.float64 and (X.flags.c_contiguous or X.flags.f_contiguous)


def _fast(X, fast: bool) -> bool:
    """Whether to use single-precision BLAS on a dense float32 ``X``."""
    return fast and not sp.issparse(X) and X.dtype == np.float32


def _whole_bytes(n_columns: int) -> int:
    """Size up to which a float64 design is swept whole, for ``n_columns`` vectors."""
    return _SWEEP_WHOLE_BYTES if n_columns == 1 else _SWEEP_MATRIX_WHOLE_BYTES


def sweep_reads(X, n_columns: int = 1) -> int:
    """Reads of ``X`` that one :func:`sweep` costs: 1 when fused in row blocks.

    A sparse design, and a dense float64 one small enough to be swept whole
    (it stays in cache, so the two products are done separately), are read
    twice.  ``n_columns`` is the number of columns of ``v`` (1 for a vector).
    """
    if sp.issparse(X):
        return 2
    if _blas_ready(X) and X.nbytes <= _whole_bytes(n_columns):
        return 2
    return 1


def sweep(X, v: np.ndarray, func, *, fast: bool = False) -> np.ndarray:
    """Return ``X.T @ func(X @ v)`` in float64, reading ``X`` once (see :func:`sweep_reads`).

    ``X`` is read in row blocks; for each block ``rows``, ``u = X[rows] @ v``
    is computed, ``r = func(rows, u)`` is called (it may record ``u``), and
    ``X[rows].T @ r`` is accumulated while the block is still in cache.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    v : ndarray of shape (n_features,) or (n_features, k)
        One vector, or ``k`` columns (neurons) that share the read of ``X``
        as matrix-matrix products.
    func : callable
        ``func(rows, u) -> r`` with ``rows`` a slice of the samples and ``u``
        (float64, shape (len(rows),) or (len(rows), k)) the products of those
        rows with ``v``; returns float64 weights of the shape of ``u``.
        Called on consecutive slices that cover all samples in order.

    fast : bool, default=False
        For a dense float32 ``X`` only: compute both products in single
        precision (``sgemv``, about twice as fast as converting each block
        to float64, and it reads half the bytes of a float64 design).
        ``X @ v`` is then accurate to ~1e-6 relative and ``X.T @ r`` to
        ~1e-7 relative of ``sum |x r|`` (float32 sums within a block, float64
        across blocks).  Solvers use it while far from the optimum, and
        refresh with accurate products before they stop.

    Returns
    -------
    ndarray of shape (n_features,) or (n_features, k), float64
    """
    n_samples, n_features = X.shape
    shape = (n_features,) + v.shape[1:]
    if _fast(X, fast):
        out = np.zeros(shape)
        v32 = v.astype(np.float32)
        for rows in row_blocks(n_samples, n_features, _FAST_BLOCK_BYTES):
            block = X[rows]
            r = func(rows, (block @ v32).astype(np.float64))
            out += block.T @ r.astype(np.float32) if v.ndim == 2 else r.astype(np.float32) @ block
        return out
    if sp.issparse(X):
        u = np.asarray(X @ v, dtype=np.float64)
        return rmatvec(X, func(slice(0, n_samples), u))
    direct = _blas_ready(X)
    if direct and X.nbytes <= _whole_bytes(1 if v.ndim == 1 else v.shape[1]):
        everything = slice(0, n_samples)
        return X.T @ func(everything, X @ v)
    out = np.zeros(shape)
    part = np.empty(shape)
    buffer = None
    if not direct:
        block_bytes = _CONVERT_BLOCK_BYTES
    elif v.ndim == 1:
        block_bytes = _SWEEP_BLOCK_BYTES
    else:
        block_bytes = _SWEEP_MATRIX_BLOCK_BYTES
    for rows in row_blocks(n_samples, n_features, block_bytes):
        if direct:
            block = X[rows]
        else:
            if buffer is None:
                buffer = np.empty((rows.stop - rows.start, n_features))
            block = buffer[: rows.stop - rows.start]
            np.copyto(block, X[rows])
        r = func(rows, block @ v)
        if v.ndim == 2:
            np.dot(block.T, r, out=part)
        else:
            np.dot(r, block, out=part)
        out += part
    return out


def matvec(X, w: np.ndarray, *, fast: bool = False) -> np.ndarray:
    """Return ``X @ w`` in float64.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    w : ndarray of shape (n_features,) or (n_features, k)
    fast : bool, default=False
        Single-precision product for a dense float32 ``X`` (see :func:`sweep`).

    Returns
    -------
    ndarray of shape (n_samples,) or (n_samples, k), float64
    """
    if _fast(X, fast):
        return (X @ w.astype(np.float32)).astype(np.float64)
    if sp.issparse(X):
        return np.asarray(X @ w, dtype=np.float64)
    if X.dtype == np.float64:
        return X @ w
    out = np.empty((X.shape[0],) + w.shape[1:], dtype=np.float64)
    for rows in row_blocks(X.shape[0], X.shape[1], _MATVEC_BLOCK_BYTES):
        out[rows] = X[rows].astype(np.float64) @ w
    return out


def rmatvec(X, r: np.ndarray, *, fast: bool = False) -> np.ndarray:
    """Return ``X.T @ r`` in float64.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    r : ndarray of shape (n_samples,) or (n_samples, k)
    fast : bool, default=False
        Single-precision products for a dense float32 ``X``, summed in
        float64 across row blocks (see :func:`sweep`).

    Returns
    -------
    ndarray of shape (n_features,) or (n_features, k), float64
    """
    if _fast(X, fast):
        out = np.zeros((X.shape[1],) + r.shape[1:], dtype=np.float64)
        for rows in row_blocks(X.shape[0], X.shape[1], _FAST_BLOCK_BYTES):
            out += X[rows].T @ r[rows].astype(np.float32)
        return out
    if sp.issparse(X):
        return np.asarray(X.T @ r, dtype=np.float64)
    if X.dtype == np.float64:
        return X.T @ r
    out = np.zeros((X.shape[1],) + r.shape[1:], dtype=np.float64)
    for rows in row_blocks(X.shape[0], X.shape[1], _MATVEC_BLOCK_BYTES):
        out += X[rows].astype(np.float64).T @ r[rows]
    return out


def weighted_gram(
    X, d: np.ndarray, *, border: bool = False, symmetric: bool = True, columns=None, single=False
):
    """Return ``X.T @ diag(d) @ X`` for non-negative ``d``, in float64.

    Dense designs are processed in row blocks with the symmetric rank-k
    update ``dsyrk`` (half the flops of a general product, and no copy of
    ``X`` beyond one block of ``sqrt(d) * X``).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    d : ndarray of shape (n_samples,), non-negative weights
    border : bool, default=False
        Also return ``X.T @ d`` (the intercept border of a Hessian), computed
        from the same blocks, so it costs no separate pass over ``X``.
    symmetric : bool, default=True
        If False, only the upper triangle of the result is defined (the
        lower one holds arbitrary values): enough for a Cholesky
        factorisation, and it saves mirroring the triangle.
    columns : ndarray of int, optional
        Use ``X[:, columns]`` instead of ``X``; a dense ``X`` is read in
        row blocks, each block's columns gathered in cache (no copy of the
        columns as a whole, with ``np.take``: faster than fancy indexing).
    single : bool, default=False
        Dense ``X`` only: each row block's products in single precision
        (``ssyrk``, about twice the speed of ``dsyrk``), summed in float64
        across blocks; entries then carry relative errors of about
        ``1e-7 sqrt(block rows)``.  The diagonal is computed in float64 too
        and replaces the float32 one; if the two disagree
        (:func:`single_precision_agrees`: values outside float32's range)
        the Gram matrix is recomputed in float64.

    Returns
    -------
    gram : ndarray of shape (n_features, n_features), float64
        Symmetric (or upper triangular, see ``symmetric``).
    border : ndarray of shape (n_features,), float64
        Only when ``border=True``.
    """
    if sp.issparse(X) and columns is not None:
        X, columns = X[:, columns], None
    n_features = X.shape[1] if columns is None else len(columns)
    if sp.issparse(X):
        weighted = sp.csr_matrix(X.multiply(d[:, None]))
        gram = np.asarray((X.T @ weighted).toarray(), dtype=np.float64)
        return (gram, rmatvec(X, d)) if border else gram
    gram = np.zeros((n_features, n_features), dtype=np.float64, order="F")
    side = np.zeros(n_features) if border else None
    sqrt_d = np.sqrt(d)
    if single:
        diagonal = np.zeros(n_features)
        part = np.zeros((n_features, n_features), dtype=np.float32, order="F")
    for rows in row_blocks(X.shape[0], n_features, _GRAM_BLOCK_BYTES):
        block = X[rows] if columns is None else np.take(X[rows], columns, axis=1)
        block = np.multiply(block, sqrt_d[rows, None], dtype=np.float64)
        if border:
            side += block.T @ sqrt_d[rows]
        # ``block.T`` is Fortran ordered: BLAS reads it without a copy and
        # adds block.T @ block into the upper triangle of ``gram``.
        if single:  # one block's products in float32, the blocks summed in float64
            diagonal += np.einsum("ij,ij->j", block, block)
            # values outside float32's range (inf, nan) fail the check below
            with np.errstate(over="ignore", invalid="ignore"):
                low = block.astype(np.float32)
                part = ssyrk(1.0, low.T, beta=0.0, c=part, trans=0, lower=0, overwrite_c=1)
                gram += part
        else:
            gram = dsyrk(1.0, block.T, beta=1.0, c=gram, trans=0, lower=0, overwrite_c=1)
    if single:
        if not single_precision_agrees(np.diag(gram), diagonal):
            return weighted_gram(X, d, border=border, symmetric=symmetric, columns=columns)
        np.fill_diagonal(gram, diagonal)
    if symmetric:
        mirror_upper(gram)
    return (gram, side) if border else gram


def single_precision_agrees(values: np.ndarray, exact: np.ndarray) -> bool:
    """Whether sums of squares made in single precision agree with the float64 ones.

    The check of a Gram matrix computed with float32 products: entries
    outside float32's range (overflow, or underflow of a column whose values
    are all tiny) make some column's sum of squares wrong, while
    representable values give relative errors near 1e-6.  When the diagonal
    agrees, the off-diagonal errors are as small relative to
    ``sqrt(G_ii G_jj)`` (Cauchy-Schwarz).

    Parameters
    ----------
    values : ndarray of shape (m,)
        Diagonal entries from float32 products.
    exact : ndarray of shape (m,)
        The same sums in float64.

    Returns
    -------
    bool
        Every entry finite and within relative ``1e-3`` of the float64 sum.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(values - exact) <= 1e-3 * exact))


def column_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum_i a_ij b_ij`` per column ``j``, shape (k,); one BLAS dot for a single column.

    For vectors ``a``, ``b`` (one column as 1-d arrays): their dot product.
    """
    if a.ndim == 1:
        return a @ b
    if a.shape[1] == 1:
        return (a.T @ b)[0]
    return np.einsum("ij,ij->j", a, b)


def mirror_upper(a: np.ndarray) -> None:
    """Copy the upper triangle of the square ``a`` onto its lower one, in place."""
    n = a.shape[0]
    # Column strips: one vectorised copy per strip of a transposed block,
    # instead of one fancy-indexed copy of n^2 / 2 scattered entries.
    step = 256
    for start in range(0, n, step):
        stop = min(start + step, n)
        # rows > start of this strip of columns, from the matching rows strip
        a[start:, start:stop] = np.where(
            np.arange(start, n)[:, None] > np.arange(start, stop)[None, :],
            a[start:stop, start:].T,
            a[start:, start:stop],
        )


def column_major(X):
    """``X`` in a layout whose columns are contiguous: Fortran order, or CSC.

    Gathering a few tens of columns of a row-major design reads most of its
    cache lines (measured on a 20,000 x 1500 float64 design, one thread:
    43 ms for 160 columns, more than the 25 ms of ``X.T @ r``); from a
    column-major copy it is a contiguous copy (3.6 ms).  A fit that gathers
    working-set columns many times (a population fit) makes this copy once.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)

    Returns
    -------
    Same shape and dtype: a Fortran-ordered ndarray, a CSC matrix, or ``X``
    itself when it is already so.
    """
    if sp.issparse(X):
        return X.tocsc()
    return np.asfortranarray(X)


def gather_columns(X, columns: np.ndarray):
    """``X[:, columns]``, a copy of those columns only (CSC when ``X`` is sparse).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    columns : ndarray of int

    Returns
    -------
    array of shape (n_samples, len(columns)), ``X``'s dtype
    """
    X_columns = X[:, columns]
    return X_columns.tocsc() if sp.issparse(X_columns) else X_columns


def row_gram(X, *, symmetric: bool = True) -> np.ndarray:
    """Return the kernel matrix ``X @ X.T`` (n_samples x n_samples) in float64.

    Used by Newton steps in the dual (Woodbury) form when ``n_samples`` is
    not larger than ``n_features``.  Dense float64 designs go to ``dsyrk``
    without a copy; float32 designs are converted one column block at a time.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    symmetric : bool, default=True
        If False, only the upper triangle of a dense ``X``'s kernel is
        defined (the lower one holds zeros): enough for symmetric BLAS
        products and a Cholesky factorisation, and it saves mirroring it.

    Returns
    -------
    ndarray of shape (n_samples, n_samples), float64
        Symmetric (or upper triangular, see ``symmetric``); Fortran-ordered
        for a dense ``X``.
    """
    n_samples, n_features = X.shape
    if sp.issparse(X):
        return np.asarray((X @ X.T).toarray(), dtype=np.float64)
    kernel = np.zeros((n_samples, n_samples), dtype=np.float64, order="F")
    step = max(1, _GRAM_BLOCK_BYTES // (8 * max(n_samples, 1)))
    for start in range(0, n_features, step):
        block = X[:, start : start + step]
        if block.dtype != np.float64 or not (block.flags.c_contiguous or block.flags.f_contiguous):
            block = np.asarray(block, dtype=np.float64, order="F")
        if block.flags.f_contiguous:
            kernel = dsyrk(1.0, block, beta=1.0, c=kernel, trans=0, lower=0, overwrite_c=1)
        else:  # C ordered: its transpose is Fortran ordered
            kernel = dsyrk(1.0, block.T, beta=1.0, c=kernel, trans=1, lower=0, overwrite_c=1)
    if symmetric:
        mirror_upper(kernel)
    return kernel
