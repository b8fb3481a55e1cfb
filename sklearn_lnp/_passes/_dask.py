"""Designs stored as chunked ``dask.array``: blockwise passes, validation, lazy lags.

A design ``X`` that does not fit in memory is kept as a ``dask.array`` whose
chunks hold **rows** (every chunk spans all columns).  The solvers touch
``X`` only through the passes of :mod:`sklearn_lnp._passes`; for a dask
design those dispatch here (a peer of the in-memory :mod:`._memory`), and
each pass is a reduction over row chunks that runs where the chunks are (threads, processes or a
``dask.distributed`` cluster, whichever scheduler is active):

* ``X @ w`` (``matvec``): each chunk returns its rows' products; the client
  receives the ``n_samples`` vector (or ``n_samples x k`` matrix);
* ``X.T @ r`` (``rmatvec``): ``r`` is split along the chunks, each chunk
  returns ``X_b.T @ r_b`` (``n_features``), summed by dask's tree reduction;
* ``X.T diag(d) X`` (``weighted_gram``, Newton): each chunk returns its
  ``n_features^2`` Gram matrix (``dsyrk``), summed by dask's tree reduction;
* ``X.T @ f(X @ v)`` (``sweep``, the gradient): with the threaded or
  synchronous scheduler (tasks in this process), each chunk computes its
  rows' ``u = X_b @ v``, calls the solver's ``f`` on them and returns
  ``X_b.T @ f(u)``, one read of ``X`` as in memory; with processes or a
  distributed cluster, ``matvec`` then ``rmatvec`` (two reads).

Each chunk goes through the in-memory pass of :mod:`._memory`:
float32 storage is read as it is and converted to float64 a few MiB at a
time, so sums are float64 as in memory and the fitted objective agrees with
the in-memory fit to round-off; the single-precision products that L-BFGS
uses far from the optimum on float32 designs (``fast``) are those of the
in-memory path too.

Memory
------
The client (the process that calls ``fit``) holds the per-sample vectors
of the solver (a dozen ``n_samples`` float64 vectors: ``eta``, ``mu``,
``y``, weights, ..., i.e. ~100 bytes per row; 0.8 GB for 10 million rows)
and, for Newton, one or two ``n_params^2`` float64 matrices (18 MB each at
1500 features); never ``X``.  Each task holds one chunk of ``X`` plus a few MiB
of float64 scratch (32 MiB for a Gram matrix, plus the chunk's
``n_features^2`` Gram).  The in-memory path holds ``X``
itself plus a few MiB of scratch (see :mod:`._memory`).

Only this module imports dask, and only when a dask array is passed
(``pip install ".[dask]"`` from the repository).
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _memory

__all__ = [
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


# Every chunk is handed to the in-memory pass of :mod:`._memory`
# (one piece of code for the math): a float32 chunk is converted to float64
# a few MiB at a time, never as a whole float64 copy of the chunk.  ``meta``
# is given to every ``map_blocks`` so that dask never calls a kernel on an
# empty block to infer its output (a sweep's ``func`` must only see rows).
_META = {ndim: np.empty((0,) * ndim) for ndim in (1, 2, 3)}  # float64


def _block_matvec(block, w, fast):
    out = _memory.matvec(block, w, fast=fast)
    return out[:, None] if out.ndim == 1 else out


def _block_rmatvec(block, r, fast):
    # one (1, n_features[, k]) slab per row chunk, summed by dask's tree reduction
    return _memory.rmatvec(block, r, fast=fast)[None]


def _block_sweep(block, v, func, fast, block_info=None):
    start = block_info[0]["array-location"][0][0]

    def shifted(rows, u):
        return func(slice(start + rows.start, start + rows.stop), u)

    # (dask's threaded scheduler runs tasks in the caller's context: its
    # ``np.errstate`` holds here)
    return _memory.sweep(block, v, shifted, fast=fast)[None]


def _block_gram(block, d, border):
    part = _memory.weighted_gram(block, d[:, 0], border=border, symmetric=False)
    return (np.column_stack(part) if border else part)[None]


def matvec(X, w: np.ndarray, *, fast: bool = False) -> np.ndarray:
    """``X @ w``, computed blockwise; returns a float64 numpy array.

    Each chunk goes through :func:`sklearn_lnp._memory.matvec` (``fast``:
    single-precision products on float32 chunks, as in memory).
    """
    w = np.asarray(w, dtype=np.float64)
    # (n_samples, k) blocks, k = 1 for a vector: no axis is dropped, since
    # ``drop_axis`` makes dask concatenate each chunk's blocks along the
    # dropped axis first, a copy of every chunk (a large part of a pass).
    out = X.map_blocks(
        _block_matvec,
        w,
        fast,
        dtype=np.float64,
        meta=_META[2],
        chunks=(X.chunks[0], w.shape[1:] or (1,)),
    )
    out = np.asarray(out.compute())
    return out[:, 0] if w.ndim == 1 else out


def _split_rows(X, r):
    """``r`` (n_samples[, k]) as a dask array chunked like the rows of ``X``."""
    import dask.array as da

    r = np.asarray(r, dtype=np.float64)
    if r.ndim == 1:
        r = r[:, None]
    return da.from_array(r, chunks=(X.chunks[0], r.shape[1:]))


def _slabs(X, width: int) -> tuple:
    """Chunks of a (n_row_chunks, n_features, width) stack of per-chunk partial sums."""
    return ((1,) * X.numblocks[0], (X.shape[1],), (width,))


def rmatvec(X, r: np.ndarray, *, fast: bool = False) -> np.ndarray:
    """``X.T @ r`` in float64: one partial product per row chunk, tree-summed."""
    import dask.array as da

    vector = np.ndim(r) == 1
    rd = _split_rows(X, r)
    parts = da.map_blocks(
        _block_rmatvec,
        X,
        rd,
        fast,
        dtype=np.float64,
        meta=_META[3],
        new_axis=2,
        chunks=_slabs(X, rd.shape[1]),
    )
    out = np.asarray(parts.sum(axis=0).compute())
    return out[:, 0] if vector else out


def runs_in_process(X) -> bool:
    """Whether the scheduler that would compute ``X`` runs its tasks in this process.

    True for dask's threaded and synchronous schedulers (the default for a
    ``dask.array``), False for processes or a ``dask.distributed`` client.
    Only then can a fused :func:`sweep` call the solver's ``func`` inside the
    tasks (it records per-sample values in the caller's arrays).
    """
    import dask.local
    import dask.threaded
    from dask.base import get_scheduler

    return get_scheduler(collections=[X]) in (dask.threaded.get, dask.local.get_sync)


def sweep(X, v: np.ndarray, func, *, fast: bool = False) -> np.ndarray:
    """``X.T @ func(X @ v)``: one read of ``X`` when the tasks run in this process.

    With the threaded or synchronous scheduler, each row chunk computes
    ``u = X_b @ v``, calls ``func(rows, u)`` (``rows`` in the numbering of
    the whole design) and returns ``X_b.T @ r`` while the chunk is in memory
    (:func:`sklearn_lnp._memory.sweep` on the chunk); the partial sums are
    tree-summed.  ``func`` is then called from the worker threads, on
    disjoint slices, in any order.  With other schedulers (processes, a
    distributed cluster) ``func`` cannot run in the tasks: ``matvec`` then
    ``rmatvec``, two reads of ``X`` (see :func:`sklearn_lnp._memory.sweep_reads`).
    """
    import dask.array as da

    if not runs_in_process(X):
        u = matvec(X, v, fast=fast)
        return rmatvec(X, func(slice(0, X.shape[0]), u), fast=fast)
    v = np.asarray(v, dtype=np.float64)
    parts = da.map_blocks(
        _block_sweep,
        X,
        v,
        func,
        fast,
        dtype=np.float64,
        meta=_META[1 + v.ndim],
        chunks=((1,) * X.numblocks[0], (X.shape[1],)) + tuple((c,) for c in v.shape[1:]),
        **({"new_axis": 2} if v.ndim == 2 else {}),
    )
    return np.asarray(parts.sum(axis=0).compute())


def weighted_gram(X, d: np.ndarray, *, border: bool = False, symmetric: bool = True):
    """``X.T diag(d) X`` (and ``X.T d`` with ``border``): chunk Grams, tree-summed."""
    import dask.array as da

    p = X.shape[1]
    width = p + 1 if border else p
    parts = da.map_blocks(
        _block_gram,
        X,
        _split_rows(X, d),
        border,
        dtype=np.float64,
        meta=_META[3],
        new_axis=2,
        chunks=_slabs(X, width),
    )
    total = np.asarray(parts.sum(axis=0).compute())
    gram = np.asfortranarray(total[:, :p])
    if symmetric:
        _memory.mirror_upper(gram)
    return (gram, total[:, p].copy()) if border else gram


def row_gram(X, *, symmetric: bool = True) -> np.ndarray:
    """``X @ X.T`` (n_samples x n_samples; used by dual Newton when n_samples is small).

    Always the whole symmetric matrix (``symmetric`` is accepted for the
    in-memory implementation's signature).
    """
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
