"""The passes over a design ``X``: the only way solvers read the data.

One pass is one read of ``X``: ``X @ w`` (:func:`matvec`), ``X.T @ r``
(:func:`rmatvec`), both fused in one read (:func:`sweep`), or a weighted Gram
matrix (:func:`weighted_gram`).  Counting a fit's cost in passes makes the
solvers comparable across designs; every sum is accumulated in float64, also
for float32 designs, which are never copied whole.

Two implementations, peers behind these functions:

* :mod:`._memory`: numpy arrays (float64 to BLAS directly, float32 converted
  a few MiB at a time) and scipy sparse matrices;
* :mod:`._dask`: ``dask.array`` designs chunked by rows, as reductions over
  the row chunks, each chunk going through :mod:`._memory`.  dask itself is
  imported only when a dask array is passed.

Every function takes ``w``, ``r`` of shape (n,) or (n, k): ``k`` columns
(neurons) share one read of ``X`` as a matrix-matrix product.
"""

from __future__ import annotations

import numpy as np

from . import _dask, _memory
from ._memory import column_dot, mirror_upper, row_blocks

__all__ = [
    "column_dot",
    "column_major",
    "gather_columns",
    "is_dask_array",
    "matvec",
    "mirror_upper",
    "rmatvec",
    "row_blocks",
    "row_gram",
    "sweep",
    "sweep_reads",
    "weighted_gram",
]


def is_dask_array(X) -> bool:
    """Whether ``X`` is a ``dask.array`` (without importing dask)."""
    kind = type(X)
    return kind.__name__ == "Array" and kind.__module__.split(".")[0] == "dask"


def _implementation(X):
    return _dask if is_dask_array(X) else _memory


def matvec(X, w: np.ndarray, *, fast: bool = False) -> np.ndarray:
    """``X @ w`` in float64; see :func:`._memory.matvec`."""
    return _implementation(X).matvec(X, w, fast=fast)


def rmatvec(X, r: np.ndarray, *, fast: bool = False) -> np.ndarray:
    """``X.T @ r`` in float64; see :func:`._memory.rmatvec`."""
    return _implementation(X).rmatvec(X, r, fast=fast)


def sweep(X, v: np.ndarray, func, *, fast: bool = False) -> np.ndarray:
    """``X.T @ func(rows, X @ v)`` in one read where possible; see :func:`._memory.sweep`."""
    return _implementation(X).sweep(X, v, func, fast=fast)


def sweep_reads(X, n_columns: int = 1) -> int:
    """Reads of ``X`` one :func:`sweep` costs (1 when fused, 2 otherwise).

    A dask design is read once when its tasks run in this process (threaded
    or synchronous scheduler), twice on processes or a cluster.
    """
    if is_dask_array(X):
        return 1 if _dask.runs_in_process(X) else 2
    return _memory.sweep_reads(X, n_columns)


def weighted_gram(X, d: np.ndarray, *, border: bool = False, symmetric: bool = True):
    """``X.T @ diag(d) @ X`` (and ``X.T @ d``); see :func:`._memory.weighted_gram`."""
    return _implementation(X).weighted_gram(X, d, border=border, symmetric=symmetric)


def row_gram(X, *, symmetric: bool = True) -> np.ndarray:
    """The kernel ``X @ X.T`` (n_samples x n_samples); see :func:`._memory.row_gram`."""
    return _implementation(X).row_gram(X, symmetric=symmetric)


def column_major(X):
    """``X`` with contiguous columns (Fortran order or CSC); a dask design as it is."""
    return X if is_dask_array(X) else _memory.column_major(X)


def gather_columns(X, columns: np.ndarray):
    """``X[:, columns]``, a copy of those columns only (CSC when sparse, lazy for dask)."""
    return _memory.gather_columns(X, columns)
