r"""Working sets of the proximal Newton solver and their Hessians.

A proximal Newton step of one neuron works on a *working set* of features
(:func:`choose_working_set`): its support plus the coordinates that violate
the optimality conditions most.  The Hessian of the data term restricted to
those columns (and the intercept, last),

.. math::

    H = \begin{pmatrix} X_W^\top D X_W & X_W^\top d \\ d^\top X_W & \textstyle\sum d \end{pmatrix},
    \qquad D = \operatorname{diag}(d),

costs ``n_samples |W|^2`` flops; :class:`WorkingSetHessian` keeps the last
one and reuses it

* at the first step of a warm start along a path (the previous alpha's
  Hessian, one small step away), and at every other step while the working
  set grows: the rows of columns already held are kept, only those of new
  columns are computed (with the same weights ``d``, so the matrix is one
  consistent ``X_W' D X_W``);
* for up to ``CHORD_MAX_AGE`` steps while each step cuts the largest KKT
  violation ``CHORD_RATIO``-fold (chord steps).

Both save a large part of the Gram work of a path; the stopping test always
uses the exact gradient, so the solution does not depend on the reuse.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._passes import rmatvec, weighted_gram
from .._passes._memory import single_precision_agrees
from .._passes._memory import weighted_gram as dense_weighted_gram

__all__ = [
    "CHORD_MAX_AGE",
    "CHORD_RATIO",
    "WS_MIN_SIZE",
    "WorkingSetHessian",
    "choose_working_set",
    "single_precision",
]

WS_MIN_SIZE = 10
# Bytes of one row block of the working-set columns (float64) in :func:`_new_rows`.
_BLOCK_BYTES = 1 << 24
# Single-precision products for a Hessian made from the whole design once it
# costs this many multiply-adds and the samples outnumber its columns this
# many times (see :func:`single_precision`).
SINGLE_MIN_WORK = 2e9
SINGLE_MIN_RATIO = 4


def single_precision(n_samples: int, n_ws: int) -> bool:
    """Whether the Hessian of ``n_ws`` columns is computed with float32 products.

    Each row block's products are then single precision (summed in float64
    across blocks: relative errors of about 1e-7 times the square root of
    the block's rows), at about half the time of float64 products.  The
    Hessian only shapes the step: the gradient, the stopping test and the
    line search stay in float64, so the solution is unchanged; an error
    ``E`` of the Hessian slows the final convergence to a linear rate of
    about ``||H^-1 E||``, negligible when ``n_samples >= SINGLE_MIN_RATIO
    n_ws`` keeps ``H`` well conditioned.  Used only for large Hessians
    (``n_samples n_ws^2 / 2 >= SINGLE_MIN_WORK``), where their time
    dominates a fit.
    """
    return n_samples >= SINGLE_MIN_RATIO * n_ws and n_samples * n_ws**2 / 2 >= SINGLE_MIN_WORK


CHORD_RATIO = 10.0
CHORD_MAX_AGE = 3


def choose_working_set(coef: np.ndarray, violation: np.ndarray, size: int) -> np.ndarray:
    """Support of ``coef`` plus its largest violators, ``size`` features at most.

    Parameters
    ----------
    coef : ndarray of shape (n_features,)
    violation : ndarray of shape (n_features,)
        KKT violation per coefficient.
    size : int
        Largest working set (the support is always included, even if larger).

    Returns
    -------
    ndarray of shape (n_ws,), sorted feature indices
    """
    support = np.flatnonzero(coef)
    candidates = np.flatnonzero((coef == 0) & (violation > 0))
    room = max(size - support.size, 0)
    if candidates.size > room:
        top = np.argpartition(violation[candidates], -room)[-room:] if room else []
        candidates = candidates[top]
    return np.sort(np.concatenate([support, candidates]).astype(np.intp))


class WorkingSetHessian:
    """The data-term Hessian of one neuron's last working set, and its reuse.

    Parameters
    ----------
    fit_intercept : bool
        Whether the Hessian has an intercept row and column (last).

    Attributes
    ----------
    columns : ndarray of shape (n_ws,) or None
        Features of the held Hessian, sorted.
    hess : ndarray of shape (n_ws + fit_intercept, n_ws + fit_intercept) or None
    weights : ndarray of shape (n_samples,) or None
        Hessian weights ``d`` (``s_t mu_t`` normalised) it was computed with.
    fresh : bool
        Whether ``hess`` was computed afresh at the last step (not extended
        or reused); extensions while the working set grows alternate with
        fresh Hessians.
    age : int
        Steps it has been reused for since it was computed.
    n_grams : int
        Working-set Gram matrices computed (fresh ones; an extension counts
        as none).
    """

    def __init__(self, fit_intercept: bool = True):
        self.fit_intercept = bool(fit_intercept)
        self.columns = None
        self.hess = None
        self.weights = None
        self.fresh = False
        self.age = 0
        self.n_grams = 0

    def start(self) -> None:
        """Begin a new solve (a warm start): the held Hessian is not fresh for it."""
        self.fresh = False

    def reusable(self, ws, *, first_step: bool, violation: float, previous: float) -> bool:
        """Whether the step on ``ws`` should try the held Hessian.

        At the first step of a warm-started solve; while the working set
        grows right after a fresh Hessian; and as a chord step while the
        largest KKT ``violation`` fell ``CHORD_RATIO``-fold from the
        ``previous`` step's, for at most ``CHORD_MAX_AGE`` steps.
        """
        if self.hess is None:
            return False
        growing = self.fresh and not np.all(np.isin(ws, self.columns))
        chord = self.age < CHORD_MAX_AGE and violation <= previous / CHORD_RATIO
        return first_step or growing or chord

    def held_columns(self, ws: np.ndarray) -> np.ndarray | None:
        """Mask of ``ws`` in the held Hessian; None when it holds fewer than half of them."""
        common = np.isin(ws, self.columns)
        return common if 2 * np.count_nonzero(common) >= ws.size else None

    def compute(self, ws: np.ndarray, X_ws, weights: np.ndarray, *, design=None) -> np.ndarray:
        """A fresh Hessian on ``ws`` (``X_ws = X[:, ws]``) with weights ``d``; held.

        Parameters
        ----------
        ws : ndarray of shape (n_ws,)
        X_ws : array or None
            ``X[:, ws]``; None when ``design`` is given.
        weights : ndarray of shape (n_samples,)
        design : ndarray of shape (n_samples, n_features), optional
            The whole dense design, read in row blocks whose ``ws`` columns
            are gathered in cache (:func:`~sklearn_lnp._passes._memory.weighted_gram`
            with ``columns``): no copy of ``X[:, ws]`` as a whole.

        Returns
        -------
        ndarray of shape (n_ws + fit_intercept, n_ws + fit_intercept)
        """
        k = ws.size
        m = k + int(self.fit_intercept)
        hess = np.empty((m, m))
        border = np.zeros(0)
        if k and design is not None:
            single = single_precision(design.shape[0], k)
            hess[:k, :k], border = dense_weighted_gram(
                design, weights, border=True, columns=ws, single=single
            )
        elif k:  # an empty working set (every weight optimal at 0): the intercept alone
            hess[:k, :k] = weighted_gram(X_ws, weights)
            border = rmatvec(X_ws, weights) if self.fit_intercept else border
        if self.fit_intercept:
            hess[:k, -1] = border
            hess[-1, :k] = border
            hess[-1, -1] = weights.sum()
        self.n_grams += 1
        self.columns, self.hess, self.weights = ws, hess, weights
        self.fresh, self.age = True, 0
        return hess

    def extend(self, ws: np.ndarray, X_ws=None, *, design=None) -> np.ndarray | None:
        """The held Hessian on ``ws``: held rows kept, rows of new columns computed.

        Parameters
        ----------
        ws : ndarray of shape (n_ws,)
        X_ws : array or None
            ``X[:, ws]``; needed only when ``ws`` has columns not held and
            ``design`` is None.
        design : ndarray of shape (n_samples, n_features), optional
            The whole dense design, read in row blocks (as in
            :meth:`compute`) instead of ``X_ws``.

        Returns
        -------
        ndarray of shape (n_ws + fit_intercept, n_ws + fit_intercept) or None
            None when fewer than half of ``ws`` are held (a fresh Gram matrix
            is then as cheap).  The held Hessian is not replaced, but its age
            grows by one step.
        """
        common = self.held_columns(ws)
        if common is None:
            return None
        old_columns, old_hess, d = self.columns, self.hess, self.weights
        k = ws.size
        new = np.flatnonzero(~common)
        if not new.size and np.array_equal(ws, old_columns):  # a chord step
            hess = old_hess.copy()
        else:
            # held rows and columns at their new places; those of new columns
            # (taken from the held position 0 as placeholders) are overwritten
            old_pos = np.searchsorted(old_columns, ws)
            old_pos[new] = 0
            if self.fit_intercept:
                old_pos = np.append(old_pos, old_columns.size)
            hess = old_hess.take(old_pos, axis=0).take(old_pos, axis=1)
        if new.size:
            if design is not None or isinstance(X_ws, np.ndarray):
                source, columns = (X_ws, None) if design is None else (design, ws)
                single = single_precision(source.shape[0], k)
                cross, border = _new_rows(source, columns, new, d, single=single)
            elif sp.issparse(X_ws):
                X_new = X_ws[:, new]
                cross = np.asarray((X_new.T @ X_ws.multiply(d[:, None])).toarray())
                border = rmatvec(X_new, d)
            else:
                X_new = X_ws[:, new]
                weighted = np.multiply(X_ws, d[:, None], dtype=np.float64)
                # (lazy for a dask design until here: the product is small)
                cross = np.asarray(np.asarray(X_new, dtype=np.float64).T @ weighted)
                border = rmatvec(X_new, d)
            hess[new, :k] = cross
            hess[:k, new] = cross.T
            if self.fit_intercept:
                hess[new, -1] = border
                hess[-1, new] = border
        self.fresh = False
        self.age += 1
        return hess


def _new_rows(X, columns, new, d, *, single=False):
    """``X_W[:, new]' D X_W`` and ``X_W[:, new]' d``, ``X_W = X[:, columns]`` (or ``X``).

    ``X`` dense, read in row blocks: each block's columns are gathered and
    weighted in cache, so no copy of ``X_W`` (or of ``D X_W``) is made.
    ``single``: each block's product in float32, summed in float64 (as
    :func:`~sklearn_lnp._passes._memory.weighted_gram`).

    Returns
    -------
    cross : ndarray of shape (n_new, n_ws)
    border : ndarray of shape (n_new,)
    """
    n_ws = X.shape[1] if columns is None else len(columns)
    cross = np.zeros((new.size, n_ws))
    border = np.zeros(new.size)
    diagonal = np.zeros(new.size)
    step = max(1, _BLOCK_BYTES // (8 * max(n_ws, 1)))
    for start in range(0, X.shape[0], step):
        rows = slice(start, start + step)
        block = X[rows] if columns is None else np.take(X[rows], columns, axis=1)
        block = np.asarray(block, dtype=np.float64)
        weighted = block[:, new] * d[rows, None]
        border += weighted.sum(axis=0)
        if single:
            diagonal += np.einsum("ij,ij->j", weighted, block[:, new])
            # values outside float32's range (inf, nan) fail the check below
            with np.errstate(over="ignore", invalid="ignore"):
                cross += weighted.astype(np.float32).T @ block.astype(np.float32)
        else:
            cross += weighted.T @ block
    if single:
        at = (np.arange(new.size), new)
        if not single_precision_agrees(cross[at], diagonal):
            return _new_rows(X, columns, new, d)
        cross[at] = diagonal
    return cross, border
