"""Designs stored as chunked ``dask.array``: blockwise passes, validation, lazy lags.

A design ``X`` that does not fit in memory is kept as a ``dask.array`` whose
chunks hold **rows** (every chunk spans all columns).  The solvers touch
``X`` only through the passes of :mod:`sklearn_lnp._linalg`; for a dask
design those dispatch here, and each pass is a reduction over row chunks
that runs where the chunks are (threads, processes or a
``dask.distributed`` cluster, whichever scheduler is active):

* ``X @ w`` (``matvec``): each chunk returns its rows' products; the client
  receives the ``n_samples`` vector (or ``n_samples x k`` matrix);
* ``X.T @ r`` (``rmatvec``): ``r`` is split along the chunks, each chunk
  returns ``X_b.T @ r_b`` (``n_features``), summed by dask's tree reduction;
* ``X.T diag(d) X`` (``weighted_gram``, Newton): each chunk returns its
  ``n_features^2`` Gram matrix (``dsyrk``), summed by dask's tree reduction;
* the fused sweep of the in-memory path becomes ``matvec`` then ``rmatvec``
  (two reads of ``X`` instead of one).

Every chunk is converted to float64 on its own (float32 storage is read as
it is), so sums are float64 as in memory and the fitted objective agrees
with the in-memory fit to round-off.

Memory
------
The client (the process that calls ``fit``) holds the per-sample vectors
of the solver (a dozen ``n_samples`` float64 vectors: ``eta``, ``mu``,
``y``, weights, ..., i.e. ~100 bytes per row; 0.8 GB for 10 million rows)
and, for Newton, one or two ``n_params^2`` float64 matrices (18 MB each at
1500 features); never ``X``.  Each task holds one chunk of ``X`` and its
float64 copy (``2 * chunk_rows * n_features * 8`` bytes at most, plus the
chunk's ``n_features^2`` Gram for Newton).  The in-memory path holds ``X``
itself plus a few MiB of scratch (see :mod:`sklearn_lnp._linalg`).

Only this module imports dask, and only when a dask array is passed
(``pip install sklearn-lnp[dask]``).
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.linalg.blas import dsyrk

from ._linalg import _is_dask as is_dask_array

__all__ = [
    "is_dask_array",
    "check_dask_design",
    "matvec",
    "rmatvec",
    "sweep",
    "weighted_gram",
    "row_gram",
    "lag_design",
]


def check_dask_design(X, name: str = "X", *, check_finite: bool = True):
    """Validate a dask design: 2-d, float, rows in chunks, known chunk sizes.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    name : str
        Name used in error messages.
    check_finite : bool
        Check that all entries are finite (one blockwise pass over ``X``).

    Returns
    -------
    dask.array.Array
        ``X`` itself for float32/float64, otherwise ``X.astype(float64)`` (lazy).

    Raises
    ------
    ValueError
        When ``X`` is not 2-d, its chunks split the columns, its chunk sizes
        are unknown, it is empty, it is not numeric, or (``check_finite``)
        it holds NaN or infinite values.
    """
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-d dask array (rows x features); got {X.ndim}-d.")
    if any(np.isnan(c) for c in X.chunks[0]) or any(np.isnan(c) for c in X.chunks[1]):
        raise ValueError(
            f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() first."
        )
    if len(X.chunks[1]) != 1:
        raise ValueError(
            f"{name} must be chunked along rows only (each chunk spanning all "
            f"{X.shape[1]} columns); its chunks split the columns into {X.chunks[1]}. "
            f"Rechunk it with {name}.rechunk({{1: -1}})."
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column; got {X.shape}.")
    if X.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric; got dtype {X.dtype}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if check_finite:
        import dask.array as da

        if not bool(da.isfinite(X).all().compute()):
            raise ValueError(f"{name} must be finite; found NaN or infinite values.")
    return X


def _offsets(X) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(int)


def _block_matvec(block, w):
    return np.asarray(block, dtype=np.float64) @ w


def _block_rmatvec(block, r):
    # one (1, n_features[, k]) slab per row chunk, summed by dask's tree reduction
    return (np.asarray(block, dtype=np.float64).T @ r)[None]


def _block_gram(block, d, border):
    sqrt_d = np.sqrt(d[:, 0])
    block = np.multiply(block, sqrt_d[:, None], dtype=np.float64)
    gram = dsyrk(1.0, block.T, trans=0, lower=0)  # upper triangle
    if border:
        gram = np.column_stack([gram, block.T @ sqrt_d])
    return gram[None]


def matvec(X, w: np.ndarray, *, fast: bool = False) -> np.ndarray:
    """``X @ w`` in float64, computed blockwise; returns a numpy array.

    ``fast`` is accepted for the interface of :func:`sklearn_lnp._linalg.matvec`
    and ignored (products are always float64).
    """
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 1:
        out = X.map_blocks(_block_matvec, w, dtype=np.float64, drop_axis=1)
    else:
        out = X.map_blocks(_block_matvec, w, dtype=np.float64, chunks=(X.chunks[0], w.shape[1:]))
    return np.asarray(out.compute())


def _split_rows(X, r):
    """``r`` (n_samples[, k]) as a dask array chunked like the rows of ``X``."""
    import dask.array as da

    r = np.asarray(r, dtype=np.float64)
    if r.ndim == 1:
        r = r[:, None]
    return da.from_array(r, chunks=(X.chunks[0], r.shape[1:]))


def rmatvec(X, r: np.ndarray, *, fast: bool = False) -> np.ndarray:
    """``X.T @ r`` in float64: one partial product per row chunk, tree-summed."""
    import dask.array as da

    vector = np.ndim(r) == 1
    rd = _split_rows(X, r)
    k = rd.shape[1]
    parts = da.map_blocks(
        _block_rmatvec,
        X,
        rd,
        dtype=np.float64,
        new_axis=2,
        chunks=((1,) * X.numblocks[0], (X.shape[1],), (k,)),
    )
    out = np.asarray(parts.sum(axis=0).compute())
    return out[:, 0] if vector else out


def sweep(X, v: np.ndarray, func, *, fast: bool = False) -> np.ndarray:
    """``X.T @ func(X @ v)`` as two blockwise passes (see the module docstring)."""
    u = matvec(X, v)
    return rmatvec(X, func(slice(0, X.shape[0]), u))


def weighted_gram(X, d: np.ndarray, *, border: bool = False, symmetric: bool = True):
    """``X.T diag(d) X`` (and ``X.T d`` with ``border``): chunk Grams, tree-summed."""
    import dask.array as da

    from ._linalg import _mirror_upper

    p = X.shape[1]
    width = p + 1 if border else p
    parts = da.map_blocks(
        _block_gram,
        X,
        _split_rows(X, d),
        border,
        dtype=np.float64,
        new_axis=2,
        chunks=((1,) * X.numblocks[0], (p,), (width,)),
    )
    total = np.asarray(parts.sum(axis=0).compute())
    gram = np.asfortranarray(total[:, :p])
    if symmetric:
        _mirror_upper(gram)
    return (gram, total[:, p].copy()) if border else gram


def row_gram(X) -> np.ndarray:
    """``X @ X.T`` (n_samples x n_samples; used by dual Newton when n_samples is small)."""
    Xf = X.astype(np.float64)
    return np.asarray((Xf @ Xf.T).compute())


def _lag_chunk(block, lags, depth, fill_value, dtype):
    n_pixels = block.shape[1]
    n = block.shape[0] - depth
    out = np.empty((n, len(lags) * n_pixels), dtype=dtype)
    for k, lag in enumerate(lags):
        start = depth - int(lag)
        out[:, k * n_pixels : (k + 1) * n_pixels] = block[start : start + n]
    return out


def lag_design(X, lags, fill_value: float, dtype):
    """Lazy lag-major design of :class:`~sklearn_lnp.preprocessing.LagTransformer`.

    Each output row chunk is built from the matching stimulus chunk and the
    ``max(lags)`` rows before it (``fill_value`` before the first frame);
    nothing is computed until the design is used.

    Parameters
    ----------
    X : dask.array.Array of shape (n_frames, n_pixels)
        Stimulus; its row chunks are kept (each must hold at least
        ``max(lags)`` rows), its columns are joined into one chunk.
    lags : ndarray of int
    fill_value : float
    dtype : numpy dtype

    Returns
    -------
    dask.array.Array of shape (n_frames, n_lags * n_pixels)
    """
    import dask.array as da

    if not isinstance(fill_value, numbers.Real):
        raise ValueError(f"fill_value must be a real number; got {fill_value!r}.")
    X = X.rechunk({1: -1})
    depth = int(np.max(lags))
    n_pixels = X.shape[1]
    out_chunks = (X.chunks[0], (len(lags) * n_pixels,))
    if depth == 0:
        return X.map_blocks(_lag_chunk, lags, 0, fill_value, dtype, dtype=dtype, chunks=out_chunks)
    if min(X.chunks[0]) < depth and X.numblocks[0] > 1:
        X = X.rechunk({0: max(depth, max(X.chunks[0]))})
        out_chunks = (X.chunks[0], out_chunks[1])
    padded = da.concatenate([da.full((depth, n_pixels), fill_value, dtype=X.dtype), X], axis=0)
    # chunk i of the output needs rows [start_i - depth, stop_i) of X, i.e. rows
    # [start_i, stop_i + depth) of ``padded``.
    offsets = _offsets(X)
    pieces = []
    for i in range(X.numblocks[0]):
        rows = padded[offsets[i] : offsets[i + 1] + depth]
        piece = rows.rechunk({0: -1}).map_blocks(
            _lag_chunk,
            lags,
            depth,
            fill_value,
            dtype,
            dtype=dtype,
            chunks=((offsets[i + 1] - offsets[i],), out_chunks[1]),
        )
        pieces.append(piece)
    return da.concatenate(pieces, axis=0)
