r"""The Poisson data term of the LNP model for ``k`` neurons sharing one design.

Model
-----
For bin :math:`t` with stimulus row :math:`x_t`, exposure (bin width)
:math:`e_t > 0`, sample weight :math:`s_t \ge 0` and neuron :math:`j` with
count :math:`y_{tj}`,

.. math::

    \mu_{tj} = \exp(\eta_{tj}), \qquad
    \eta_{tj} = x_t \cdot w_j + b_j + \log e_t ,

and the data term of neuron :math:`j` is

.. math::

    L_j(w_j, b_j) = \frac{1}{\sum_t s_t} \sum_t s_t \left(\mu_{tj} - y_{tj} \eta_{tj}\right),

the sample-weighted mean Poisson negative log-likelihood without the
:math:`\log y!` term.  Estimators minimise ``L_j + penalty_j`` (penalties in
:mod:`sklearn_lnp._penalties`; ``alpha`` means what it means in scikit-learn's
``PoissonRegressor``).  ``y`` need not be integer.  The neurons are
independent problems that share ``X``: every pass over ``X`` serves all of
them at once (matrix-matrix products).  ``k = 1`` is an ordinary fit.

Exposure enters in one place only, the linear predictor ``eta``; every other
quantity is a function of ``eta``.

Overflow
--------
``exp`` is evaluated only up to :data:`ETA_MAX` (= 100, about 2.7e43 expected
counts in a bin, which no optimum of real data reaches).  Above it, ``exp``
is continued by its second-order Taylor polynomial (convex, twice
continuously differentiable, finite), so no finite input makes the
objective, gradient or Hessian overflow or warn.  ``eta`` is further clipped
to :data:`ETA_CLIP` in absolute value.

API
---
Parameters of the ``k`` neurons are a matrix ``P`` of shape (n_params, k):
column ``j`` holds neuron ``j``'s coefficients, then its intercept when
``fit_intercept``.  Everything the objective computes is a function of the
linear predictor ``eta`` of shape (n_samples, k); solvers keep ``eta`` (and
``Z = X D`` of a direction) and pass it back explicitly, so the objective
holds no cache and no mode switches.  The products with ``X`` take
``fast`` (single-precision products on a dense float32 design, see
:func:`sklearn_lnp._passes.sweep`; accurate to ~1e-6 relative, for iterates
far from the optimum) and adds to the counters ``n_passes`` / ``n_grams``.

:class:`PoissonObjective` ``(X, Y, exposure=None, sample_weight=None, *, fit_intercept=True)``

* ``n_samples``, ``n_neurons``, ``n_features``, ``n_params``; ``X``, ``Y``
  (n_samples, k), ``weights`` (normalised sample weights), ``n_passes``,
  ``n_grams`` (shared with every :meth:`~PoissonObjective.subset`);
* ``split(P) -> (W (p, k), b (k,))``, ``join(W, b) -> P``,
  ``initial_params() -> P`` (zero weights, each neuron's intercept-only
  optimum), ``subset(neurons)`` (same ``X``, some neurons);
* ``linear_predictor(P) -> eta``, ``direction_predictor(D) -> Z = X dW + db``,
  ``rmatvec(R) -> X.T R``, ``kernel() -> X X.T``: one pass (or Gram) each;
* ``value(P, eta=None) -> values (k,)``;
* ``value_gradient(P, eta=None) -> (values (k,), G (n_params, k), eta)``: one
  fused read of ``X`` without ``eta``, one ``X.T R`` with it;
* ``gradient_along(eta, D, step, terms=None) -> (line, values, G, eta_new)``:
  ``Z = X D`` and the gradient at ``eta + step Z`` in one fused read;
* ``line_restriction(eta, Z, terms=None) -> LineRestriction``: the objective
  along ``P + t D`` for all columns, no pass;
* ``gradient_weights(eta)``, ``hessian_weights(eta)``: per-sample weights
  (n_samples, k) of ``X.T`` in the gradient and Hessian; ``hessian(eta, neuron)`` one
  neuron's data Hessian (n_params, n_params) from one weighted Gram with its
  intercept border.

:class:`LineRestriction` (from ``gradient_along`` or ``line_restriction``):
``slope`` and ``curvature0`` (``phi_j'(0)``, ``phi_j''(0)``, shape (k,)),
``line(t, cols=None, second=True) -> (phi, phi', phi'')`` per column (``t``
scalar or one step per column), ``eta_at(t, cols=None)``.

``terms`` is a penalty's ``line_terms(W, dW)`` (``c1``, ``c2`` per neuron):
the restriction of the penalised objective is then exact.  The penalised
objective the smooth solvers minimise is
:class:`sklearn_lnp._solvers.SmoothProblem` (this data term plus a penalty
object).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._passes import (
    column_dot,
    matvec,
    mirror_upper,
    rmatvec,
    row_gram,
    sweep,
    sweep_reads,
    weighted_gram,
)

__all__ = ["ETA_CLIP", "ETA_MAX", "LineRestriction", "PoissonObjective", "safe_exp"]

ETA_MAX = 100.0
ETA_CLIP = 1e100
_EXP_ETA_MAX = float(np.exp(ETA_MAX))


def safe_exp(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the inverse link, its first and second derivative at ``eta``.

    ``exp(eta)`` for ``eta <= ETA_MAX``; beyond it the quadratic Taylor
    continuation ``exp(T) (1 + d + d**2 / 2)`` with ``d = eta - T``.

    Parameters
    ----------
    eta : ndarray
        Linear predictor including ``log(exposure)``.

    Returns
    -------
    value, first, second : ndarray
        Arrays of the shape of ``eta``, finite for finite input; the same
        array three times when no continuation is needed.
    """
    eta = np.asarray(eta, dtype=np.float64)
    if eta.size == 0 or (eta.max() <= ETA_MAX and eta.min() >= -ETA_CLIP):
        value = np.exp(eta)
        return value, value, value
    eta = np.clip(eta, -ETA_CLIP, ETA_CLIP)
    value = np.exp(np.minimum(eta, ETA_MAX))
    over = eta > ETA_MAX
    first = value.copy()
    second = value.copy()
    d = eta[over] - ETA_MAX
    value[over] = _EXP_ETA_MAX * (1.0 + d + 0.5 * d * d)
    first[over] = _EXP_ETA_MAX * (1.0 + d)
    second[over] = _EXP_ETA_MAX
    return value, first, second


def _plain(eta: np.ndarray) -> bool:
    """Whether ``exp`` needs neither the continuation nor clipping on ``eta``."""
    return eta.size == 0 or (eta.max() <= ETA_MAX and eta.min() >= -ETA_CLIP)


class PoissonObjective:
    """Data term ``L_j`` of the module docstring for ``k`` neurons sharing ``X``.

    Parameters
    ----------
    X : ndarray, sparse matrix or dask array of shape (n_samples, n_features)
        Design, float32 or float64; never copied.
    Y : ndarray of shape (n_samples,) or (n_samples, k)
        Non-negative counts, one column per neuron (1-d: ``k = 1``).
    exposure : ndarray of shape (n_samples,) or None
        Positive bin widths (or any multiplicative exposure); ``None`` is 1.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights; normalised to sum to one.
    fit_intercept : bool
        Whether ``P`` ends with an intercept row.

    Attributes
    ----------
    Y : ndarray of shape (n_samples, k)
    weights : ndarray of shape (n_samples,)
        Sample weights normalised to sum to one.
    total_weight : float
        Sum of the sample weights before normalisation (``n_samples``
        without them): the data term times it is the total negative
        log-likelihood.
    log_exposure : ndarray of shape (n_samples,) or None
    n_passes : int
        Reads of ``X`` so far (``X @ W``, ``X.T @ R``, or one fused sweep when
        it reads ``X`` once); shared with every :meth:`subset`.
    n_grams : int
        Weighted Gram matrices and kernels computed; shared likewise.
    """

    def __init__(self, X, Y, exposure=None, sample_weight=None, *, fit_intercept=True):
        Y = np.asarray(Y, dtype=np.float64)
        self.X = X
        self.Y = Y[:, None] if Y.ndim == 1 else Y
        n_samples = self.Y.shape[0]
        # the weight of every sample when they are all equal (a scalar multiply)
        self._equal_weight = None
        if sample_weight is None:
            self._equal_weight = 1.0 / n_samples
            self.weights = np.full(n_samples, self._equal_weight)
            self.total_weight = float(n_samples)
        else:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            self.total_weight = float(sample_weight.sum())
            self.weights = sample_weight / self.total_weight
        if exposure is None:
            self.log_exposure = None
        else:
            exposure = np.asarray(exposure, dtype=np.float64)
            if exposure.shape == (n_samples,):
                self.log_exposure = np.log(exposure)
            else:
                self.log_exposure = np.log(np.broadcast_to(exposure, n_samples))
        self.fit_intercept = bool(fit_intercept)
        self._counts = {"passes": 0, "grams": 0}
        # reads of one sweep of a vector and of a matrix (k > 1), found on the first sweep
        self._sweep_reads = None
        self._set_neurons(self.Y)

    def _set_neurons(self, Y: np.ndarray, weighted_Y=None, y_total=None) -> None:
        """The neurons' counts, weighted counts and their totals (computed unless given)."""
        self.Y = Y
        self.weighted_Y = self.weights[:, None] * Y if weighted_Y is None else weighted_Y
        self._y_total = self.weighted_Y.sum(axis=0) if y_total is None else y_total

    # -- sizes and counters ------------------------------------------------
    @property
    def n_samples(self) -> int:
        return self.Y.shape[0]

    @property
    def n_neurons(self) -> int:
        return self.Y.shape[1]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def n_params(self) -> int:
        return self.X.shape[1] + int(self.fit_intercept)

    @property
    def n_passes(self) -> int:
        return self._counts["passes"]

    @n_passes.setter
    def n_passes(self, value: int) -> None:
        self._counts["passes"] = int(value)

    @property
    def n_grams(self) -> int:
        return self._counts["grams"]

    @n_grams.setter
    def n_grams(self, value: int) -> None:
        self._counts["grams"] = int(value)

    # -- parameters --------------------------------------------------------
    def subset(self, neurons) -> PoissonObjective:
        """The objective of some neurons (indices or mask): same ``X``, shared counters."""
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._set_neurons(
            self.Y[:, neurons].reshape(self.n_samples, -1),
            self.weighted_Y[:, neurons].reshape(self.n_samples, -1),
            self._y_total[neurons].reshape(-1),
        )
        return view

    def split(self, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``W`` of shape (n_features, k) and ``b`` of shape (k,) (views or zeros).

        A vector ``P`` of shape (n_params,) (one neuron) gives ``W`` of shape
        (n_features,) and a 0-d ``b``.
        """
        p = self.n_features
        if self.fit_intercept:
            return P[:p], P[p]
        return P[:p], np.zeros(P.shape[1:])

    def join(self, W: np.ndarray, b=None) -> np.ndarray:
        """``P`` of shape (n_params, k) from ``W`` (n_features, k) and ``b`` (k,)."""
        W = np.asarray(W, dtype=np.float64).reshape(self.n_features, -1)
        if not self.fit_intercept:
            return W.copy()
        b = np.broadcast_to(np.asarray(0.0 if b is None else b, dtype=np.float64), W.shape[1])
        return np.vstack([W, b[None, :]])

    def initial_params(self) -> np.ndarray:
        """Zero weights and each neuron's intercept-only optimum, shape (n_params, k)."""
        P = np.zeros((self.n_params, self.n_neurons))
        if self.fit_intercept:
            exposure = 1.0 if self.log_exposure is None else np.exp(self.log_exposure)
            rate = self._y_total / float(np.sum(self.weights * exposure))
            P[-1] = np.log(np.maximum(rate, np.finfo(float).tiny))
        return P

    # -- passes ------------------------------------------------------------
    def _times(self, V: np.ndarray, fast: bool) -> np.ndarray:
        """``X @ V`` of shape (n_samples, k) in float64; one pass."""
        self._counts["passes"] += 1
        if V.shape[1] == 1:
            return np.asarray(matvec(self.X, V[:, 0], fast=fast), dtype=np.float64)[:, None]
        return np.asarray(matvec(self.X, np.ascontiguousarray(V), fast=fast), dtype=np.float64)

    def rmatvec(self, R: np.ndarray, *, fast: bool = False) -> np.ndarray:
        """``X.T @ R`` of shape (n_features, k) in float64 for ``R`` (n_samples, k); one pass."""
        self._counts["passes"] += 1
        if R.shape[1] == 1:
            return rmatvec(self.X, np.ascontiguousarray(R[:, 0]), fast=fast)[:, None]
        return np.asarray(rmatvec(self.X, R, fast=fast), dtype=np.float64)

    def _sweep(self, V: np.ndarray, func, fast: bool, vector_func=None) -> np.ndarray:
        """``X.T @ func(rows, X[rows] @ V)`` of shape (n_features, k), one fused read.

        ``func`` sees and returns (len(rows), k) arrays whatever ``k``;
        ``vector_func``, if given, is used instead when ``k = 1`` and sees and
        returns vectors (len(rows),).
        """
        if self._sweep_reads is None:
            self._sweep_reads = (sweep_reads(self.X, 1), sweep_reads(self.X, 2))
        self._counts["passes"] += self._sweep_reads[min(V.shape[1], 2) - 1]
        if V.shape[1] == 1 and vector_func is not None:
            return sweep(self.X, V[:, 0], vector_func, fast=fast)[:, None]
        if V.shape[1] == 1:  # matrix-vector products (gemv) for one neuron

            def vector_func(rows, u):
                return func(rows, u[:, None])[:, 0]

            return sweep(self.X, V[:, 0], vector_func, fast=fast)[:, None]
        return sweep(self.X, np.ascontiguousarray(V), func, fast=fast)

    def _offset(self, rows, b: np.ndarray):
        """``b + log(exposure)`` on ``rows``, broadcastable to (len(rows), k)."""
        if self.log_exposure is None:
            return b
        return self.log_exposure[rows, None] + b

    def linear_predictor(self, P: np.ndarray, *, fast: bool = False) -> np.ndarray:
        """``eta = X @ W + b + log(exposure)``, shape (n_samples, k).

        One pass over ``X``, none when ``W`` is zero.
        """
        W, b = self.split(P)
        if np.any(W):
            eta = self._times(W, fast)
            eta += self._offset(slice(None), b)
        else:
            eta = np.broadcast_to(self._offset(slice(None), b), self.Y.shape).copy()
        return eta

    def direction_predictor(self, D: np.ndarray, *, fast: bool = False) -> np.ndarray:
        """``Z = X @ dW + db``, the change of ``eta`` per unit step along ``D``; one pass."""
        dW, db = self.split(D)
        Z = self._times(dW, fast)
        if self.fit_intercept:
            Z += db
        return Z

    def kernel(self, *, symmetric: bool = True) -> np.ndarray:
        """The kernel ``X @ X.T`` (n_samples, n_samples), counted as one Gram.

        With ``symmetric=False`` only its upper triangle is sure to be filled
        (see :func:`sklearn_lnp._passes.row_gram`).
        """
        self._counts["grams"] += 1
        return row_gram(self.X, symmetric=symmetric)

    # -- values and gradients ---------------------------------------------
    def _weight_column(self, rows=slice(None)):
        """Sample weights of ``rows`` as a column (a scalar when all are equal)."""
        return self.weights[rows, None] if self._equal_weight is None else self._equal_weight

    def _residual_rows(self, rows, eta_rows: np.ndarray, mu: np.ndarray, extended: list):
        """Per-sample gradient weights ``s dmu - s y`` on ``rows`` of ``eta_rows`` (in place).

        Stores ``mu`` on ``rows``; clips ``eta_rows`` and appends to
        ``extended`` when the continuation of ``exp`` is needed.  Entries
        below ``-ETA_CLIP`` alone are left to :meth:`_finish` to clip (one
        reduction for all the rows): ``exp`` of them is 0 whether clipped
        or not.
        """
        weights = self._weight_column(rows)
        mu_rows = mu[rows]
        if eta_rows.max(initial=-np.inf) <= ETA_MAX:  # False for NaN
            np.exp(eta_rows, out=mu_rows)
            r = mu_rows * weights
        else:
            extended.append(True)
            np.clip(eta_rows, -ETA_CLIP, ETA_CLIP, out=eta_rows)
            value, r, _ = safe_exp(eta_rows)
            mu_rows[...] = value
            r = r * weights
        r -= self.weighted_Y[rows]
        return r

    def _along_one(self, eta, D, step, fast):
        """:meth:`gradient_along` for one neuron on vectors, or None if ``exp`` needs more.

        Sets ``z = u + db``, ``eta_new = eta + step z``, ``mu = exp(eta_new)``
        and the gradient weights ``s mu - s y`` row block by row block (the
        arithmetic of :meth:`_residual_rows` in fewer calls, without its test
        for the continuation of ``exp``), then the value and the gradient in
        :meth:`_finish` from the two sums of one column.  Returns None,
        after the sweep, when some ``eta_new > ETA_MAX``: the caller sweeps
        again with the continuation.  Entries below ``-ETA_CLIP`` are
        clipped, as :meth:`_finish` does.
        """
        p, n = self.n_features, self.n_samples
        shift = float(D[p, 0]) if self.fit_intercept else 0.0
        factor = step if isinstance(step, float) else float(np.reshape(step, -1)[0])
        Z = np.empty((n, 1))
        new_eta = np.empty((n, 1))
        mu = np.empty(n)
        old, z, new = eta[:, 0], Z[:, 0], new_eta[:, 0]
        weights, equal = self.weights, self._equal_weight
        weighted_y = self.weighted_Y[:, 0]

        def residual_of(rows, u):
            z_rows, new_rows, mu_rows = z[rows], new[rows], mu[rows]
            np.add(u, shift, out=z_rows)
            if factor == 1.0:
                np.add(z_rows, old[rows], out=new_rows)
            else:
                np.multiply(z_rows, factor, out=new_rows)
                new_rows += old[rows]
            np.exp(new_rows, out=mu_rows)
            r = mu_rows * (weights[rows] if equal is None else equal)
            r -= weighted_y[rows]
            return r

        with np.errstate(over="ignore", invalid="ignore"):
            XtR = self._sweep(D[:p], None, fast, residual_of)
        if not new.max(initial=-np.inf) <= ETA_MAX:  # False for NaN
            return None
        if new.min(initial=0.0) < -ETA_CLIP:
            np.maximum(new, -ETA_CLIP, out=new)
        sums = (np.array([self.weights @ mu]), np.array([weighted_y @ new]))
        values, G = self._finish(new_eta, None, XtR, [], sums)
        return values, G, new_eta, Z

    def _finish(self, eta, mu, XtR, extended, sums=None) -> tuple[np.ndarray, np.ndarray]:
        """Values and gradient from ``eta`` (clipped in place), ``mu`` and ``X.T R``.

        ``sums``: ``(weights @ mu, weighted_Y . eta)`` of one neuron when the
        caller has them (from ``eta`` that needs no clipping, or is clipped already), as
        arrays (1,).
        """
        if sums is not None:
            weighted_mu, weighted_eta = sums
        else:
            if eta.min(initial=0.0) < -ETA_CLIP:
                np.maximum(eta, -ETA_CLIP, out=eta)
            weighted_mu = self.weights @ mu
            weighted_eta = column_dot(self.weighted_Y, eta)
        values = weighted_mu - weighted_eta
        G = np.empty((self.n_params, self.n_neurons))
        G[: self.n_features] = XtR
        if self.fit_intercept:
            if extended:
                weighted_mu = self.weights @ safe_exp(eta)[1]
            G[-1] = weighted_mu - self._y_total
        return values, G

    def value(self, P: np.ndarray, eta: np.ndarray | None = None) -> np.ndarray:
        """Data term of each neuron, shape (k,); one pass without ``eta``."""
        if eta is None:
            eta = self.linear_predictor(P)
        mu, _, _ = safe_exp(eta)
        if not _plain(eta):
            eta = np.clip(eta, -ETA_CLIP, ETA_CLIP)
        return self.weights @ mu - column_dot(self.weighted_Y, eta)

    def value_gradient(
        self, P: np.ndarray, eta: np.ndarray | None = None, *, fast=False, scratch=False
    ):
        """Values and gradients of the data terms.

        Parameters
        ----------
        P : ndarray of shape (n_params, k)
        eta : ndarray of shape (n_samples, k) or None
            The linear predictor of ``P`` when known (e.g. updated along a
            line as ``eta + t Z``): saves the read ``X @ W``.
        fast : bool
        scratch : bool
            Whether the given ``eta`` (float64) may be clipped in place and
            returned instead of a copy.

        Returns
        -------
        values : ndarray of shape (k,)
        G : ndarray of shape (n_params, k)
        eta : ndarray of shape (n_samples, k)
            The linear predictor used (clipped to ``ETA_CLIP``); pass it back
            to later calls at ``P``.

        Notes
        -----
        Without ``eta``: one fused read of ``X`` (``X @ W`` and ``X.T @ R``
        row block by row block), none for ``X @ W`` when ``W`` is zero.  With
        it: one read (``X.T @ R``).
        """
        W, b = self.split(P)
        mu = np.empty(self.Y.shape)
        extended: list = []
        if eta is None and np.any(W):
            eta = np.empty(self.Y.shape)

            def residual_of(rows, u):
                block = eta[rows]
                np.add(u, self._offset(rows, b), out=block)
                return self._residual_rows(rows, block, mu, extended)

            XtR = self._sweep(W, residual_of, fast)
        else:
            if eta is None:
                eta = self.linear_predictor(P)
            elif not (scratch and eta.dtype == np.float64):
                eta = np.array(eta, dtype=np.float64)
            if _plain(eta):  # mu, its weighted sum, then R in the same array
                np.exp(eta, out=mu)
                sums = (self.weights @ mu, column_dot(self.weighted_Y, eta))
                R = np.multiply(mu, self._weight_column(), out=mu)
                R -= self.weighted_Y
                XtR = self.rmatvec(R, fast=fast)
                return (*self._finish(eta, mu, XtR, extended, sums), eta)
            R = self._residual_rows(slice(None), eta, mu, extended)
            XtR = self.rmatvec(R, fast=fast)
        values, G = self._finish(eta, mu, XtR, extended)
        return values, G, eta

    def gradient_along(self, eta, D, step=1.0, *, terms=None, fast=False):
        """Move ``step`` along ``D`` with one read of ``X``.

        ``Z = X @ dW + db`` and the gradient at ``eta + step Z`` come from
        one fused sweep.  If the caller's line search rejects ``step``, the
        point it picks instead costs one more read
        (:meth:`value_gradient` with ``line.eta_at(t)``).

        Parameters
        ----------
        eta : ndarray of shape (n_samples, k)
            Linear predictor at the current point.
        D : ndarray of shape (n_params, k)
            Directions.
        step : float or ndarray of shape (k,)
        terms : tuple of two ndarrays of shape (k,), callable returning one, or None
            The penalty's ``line_terms`` along ``D`` (for ``line``; a
            callable is called only if ``line`` is used).
        fast : bool

        Returns
        -------
        line : LineRestriction
            The objective along ``D`` from ``eta``.
        values : ndarray of shape (k,)
            Data terms at ``eta + step Z``.
        G : ndarray of shape (n_params, k)
        eta_new : ndarray of shape (n_samples, k)
        """
        if self.n_neurons == 1:
            found = self._along_one(eta, D, step, fast)
            if found is not None:
                values, G, new_eta, Z = found
                return LineRestriction(self, eta, Z, terms), values, G, new_eta
        dW, db = self.split(D)
        step = np.asarray(step, dtype=np.float64)  # () or (k,): broadcasts over the rows
        unit = step.ndim == 0 and step == 1.0
        Z = np.empty(self.Y.shape)
        new_eta = np.empty(self.Y.shape)
        mu = np.empty(self.Y.shape)
        extended: list = []

        def residual_of(rows, u):
            z = Z[rows]
            if self.fit_intercept:
                np.add(u, db, out=z)
            else:
                z[...] = u
            block = new_eta[rows]
            if unit:
                np.add(z, eta[rows], out=block)
            else:
                np.multiply(z, step, out=block)
                block += eta[rows]
            return self._residual_rows(rows, block, mu, extended)

        with np.errstate(over="ignore", invalid="ignore"):
            XtR = self._sweep(dW, residual_of, fast)
        values, G = self._finish(new_eta, mu, XtR, extended)
        return LineRestriction(self, eta, Z, terms), values, G, new_eta

    def line_restriction(self, eta, Z, terms=None) -> LineRestriction:
        """The objective along ``P + t D`` from ``eta`` with ``Z = X D`` known (no pass)."""
        return LineRestriction(self, eta, Z, terms)

    def gradient_weights(self, eta: np.ndarray) -> np.ndarray:
        """Per-sample gradient weights ``s dmu - s y``: ``G[:p] = X.T @ them``.

        ``eta`` of shape (n_samples, k), or (n_samples,) for a one-neuron
        objective; the weights have its shape.
        """
        columns = np.array(eta, dtype=np.float64).reshape(self.n_samples, -1)
        r = self._residual_rows(slice(None), columns, np.empty(columns.shape), [])
        return r.reshape(np.shape(eta))

    # -- second order ------------------------------------------------------
    def hessian_weights(self, eta: np.ndarray) -> np.ndarray:
        """Per-sample Hessian weights ``s d2mu``; shapes as in :meth:`gradient_weights`."""
        weights = self.weights if np.ndim(eta) == 1 else self.weights[:, None]
        return weights * safe_exp(eta)[2]

    def hessian(self, eta: np.ndarray, neuron: int = 0, *, symmetric: bool = True):
        """One neuron's data Hessian, shape (n_params, n_params).

        ``X.T diag(s d2mu) X`` bordered by the intercept row and column, from
        one weighted Gram matrix (the border from the same read of ``X``).
        With ``symmetric=False`` only the upper triangle is filled (enough
        for a Cholesky factorisation).

        Parameters
        ----------
        eta : ndarray of shape (n_samples,) or (n_samples, k)
            That neuron's linear predictor, or all neurons'.
        neuron : int
            Column of ``eta`` when 2-d.
        """
        eta = eta[:, neuron] if eta.ndim == 2 else eta
        d = self.weights * safe_exp(eta)[2]
        p = self.n_features
        if self.fit_intercept:
            gram, border = weighted_gram(self.X, d, border=True, symmetric=False)
            hess = np.empty((self.n_params, self.n_params), order="F")
            hess[:p, :p] = gram
            hess[:p, -1] = border
            hess[-1, -1] = d.sum()
            if sp.issparse(self.X):
                self._counts["passes"] += 1
        else:
            hess = np.asfortranarray(weighted_gram(self.X, d, symmetric=False))
        self._counts["grams"] += 1
        if symmetric:
            mirror_upper(hess)
        return hess


class LineRestriction:
    r"""The objectives along a line, ``phi_j(t) = F_j(P_j + t D_j) - F_j(P_j)``, per neuron.

    With ``eta`` at ``P`` and ``Z = X D`` known, ``eta(t) = eta + t Z``, so
    ``phi``, ``phi'`` and ``phi''`` cost ``O(n_samples)`` per neuron and no
    pass over ``X``:

    .. math::

        \phi_j(t) = \sum_i s_i \mu_{ij} (e^{t z_{ij}} - 1) - t \sum_i s_i y_{ij} z_{ij}
                    + c_{1j} t + c_{2j} t^2 / 2 ,

    ``c1``, ``c2`` from the penalty (``line_terms``).  The decrease is
    computed with ``expm1``, accurate relative to the decrease itself, not
    to ``F``: a line search resolves decreases far below ``eps * |F|``.
    Set-up costs ``O(n_samples k)`` and runs on first use.

    Parameters
    ----------
    objective : PoissonObjective
    eta, Z : ndarray of shape (n_samples, k)
    terms : tuple (c1, c2) of ndarrays of shape (k,), callable returning one, or None
        A callable is called on first use (most unit steps never use the line).
    """

    def __init__(self, objective, eta, Z, terms=None):
        self._objective = objective
        self.eta = eta
        self.Z = Z
        self._terms = terms
        self._ready = False
        self._z2 = None

    def _prepare(self) -> None:
        if self._ready:
            return
        objective, eta, Z = self._objective, self.eta, self.Z
        terms = self._terms() if callable(self._terms) else self._terms
        if terms is None:
            self.c1 = self.c2 = np.zeros(Z.shape[1])
        else:
            self.c1, self.c2 = (np.asarray(c, dtype=np.float64) for c in terms)
        weights = objective.weights[:, None]
        self._mu, dmu, _ = safe_exp(eta)
        self._wmu = weights * self._mu
        self._eta_max = eta.max(axis=0, initial=-np.inf)
        self._z_max = Z.max(axis=0, initial=0.0)
        self._z_min = Z.min(axis=0, initial=0.0)
        self._slope_y = column_dot(objective.weighted_Y, Z)
        self._first0 = column_dot(self._wmu, Z)
        if dmu is self._mu:
            self._slope = self._first0 - self._slope_y + self.c1
        else:
            self._slope = column_dot(weights * dmu, Z) - self._slope_y + self.c1
        self._ready = True

    @property
    def slope(self) -> np.ndarray:
        """``phi_j'(0)`` per neuron, shape (k,)."""
        self._prepare()
        return self._slope

    @property
    def curvature0(self) -> np.ndarray:
        """``phi_j''(0)`` per neuron, shape (k,)."""
        return self(np.zeros(self.Z.shape[1]))[2]

    def eta_at(self, t, cols=None) -> np.ndarray:
        """Linear predictor ``eta + t Z`` of the columns ``cols`` (all when None); no pass.

        ``cols`` are increasing positions (or a slice).

        ``t`` is a scalar or has one step per column.
        """
        cols = self._columns(cols)
        out = self.Z[:, cols] * t
        out += self.eta[:, cols]
        return out

    def _columns(self, cols):
        """``cols`` as an index: a slice (views, no copies) when they are all the columns.

        ``cols`` are increasing positions, so ``k`` of them are ``0 .. k - 1``.
        """
        if cols is None or (not isinstance(cols, slice) and len(cols) == self.Z.shape[1]):
            return slice(None)
        return cols

    def _squares(self) -> np.ndarray:
        if self._z2 is None:
            self._z2 = self.Z * self.Z
            self._second0 = column_dot(self._wmu, self._z2)
        return self._z2

    def __call__(self, t, cols=None, *, second: bool = True):
        """``phi, phi', phi''`` of the neurons ``cols`` at steps ``t``.

        Parameters
        ----------
        t : float or ndarray of shape (len(cols),)
        cols : ndarray of int or None
            Positions among the ``k`` columns; all when None.
        second : bool
            Whether to compute ``phi''`` (None otherwise).

        Returns
        -------
        value, first, second : ndarrays of shape (len(cols),)
        """
        self._prepare()
        cols = self._columns(cols)
        t = np.asarray(t, dtype=np.float64)
        if t.ndim == 0:
            t = np.array([float(t)] * self._slope_y[cols].size)
        top = t * np.where(t >= 0, self._z_max[cols], self._z_min[cols])
        plain = (self._eta_max[cols] + top <= ETA_MAX).all() and (top <= 700.0).all()
        return self._evaluate(t, cols, plain, second)

    def at(self, t: float, col: int = 0, *, second: bool = True):
        """``phi, phi', phi''`` of the neuron ``col`` at the step ``t``, as Python floats.

        The arithmetic of :meth:`__call__` on that column's vectors, for the
        searches of one neuron (``phi''`` None without ``second``).
        """
        self._prepare()
        top = t * (self._z_max[col] if t >= 0 else self._z_min[col])
        plain = self._eta_max[col] + top <= ETA_MAX and top <= 700.0
        value, first, curvature = self._evaluate(t, col, plain, second)
        return float(value), float(first), None if curvature is None else float(curvature)

    def _evaluate(self, t, cols, plain: bool, second: bool):
        """``phi, phi', phi''`` at ``t`` of the columns ``cols`` (an index, or one column).

        ``plain``: ``exp`` needs no continuation anywhere on the way to ``t``,
        so the decrease comes from ``expm1(t z)`` (accurate for small ``t``).
        """
        Z = self.Z[:, cols]
        c1, c2 = self.c1[cols], self.c2[cols]
        penalty = t * c1 + 0.5 * t * t * c2
        slope_y = self._slope_y[cols]
        if plain:
            grow = np.expm1(Z * t)  # mu(t) / mu - 1
            grow *= self._wmu[:, cols]
            value = grow.sum(axis=0) - t * slope_y + penalty
            first = self._first0[cols] + column_dot(grow, Z) - slope_y + c1 + t * c2
            if not second:
                return value, first, None
            z2 = self._squares()[:, cols]
            curvature = self._second0[cols] + column_dot(grow, z2) + c2
            return value, first, curvature
        weights = self._objective.weights
        with np.errstate(over="ignore", invalid="ignore"):  # inf for steps far beyond the bracket
            value_t, first_t, second_t = safe_exp(self.eta[:, cols] + Z * t)
            value = weights @ (value_t - self._mu[:, cols]) - t * slope_y + penalty
            first = weights @ (first_t * Z) - slope_y + c1 + t * c2
            if not second:
                return value, first, None
            curvature = weights @ (second_t * self._squares()[:, cols]) + c2
        return value, first, curvature
