r"""Legacy single-neuron objective (with ``alpha`` inside), kept for the L1 solvers.

The objective of the package is :mod:`sklearn_lnp._objective` (k neurons,
data term only; penalties in :mod:`sklearn_lnp._penalties`); ``safe_exp``
and the overflow constants are imported from there.  This module goes when
the L1 solvers (``_prox_newton``, ``_population_lasso``, the lasso
estimators) take the new objective.

The Poisson negative log-likelihood of the LNP model, its gradient and Hessian.

Model
-----
For bin :math:`t` with stimulus row :math:`x_t`, count :math:`y_t`, exposure
(bin width) :math:`e_t > 0` and sample weight :math:`s_t \ge 0`,

.. math::

    \mu_t = e_t \exp(\eta_t), \qquad \eta_t = x_t \cdot w + b,

and the objective minimised by every estimator of this package is

.. math::

    F(w, b) = \frac{1}{\sum_t s_t} \sum_t s_t \left(\mu_t - y_t \log \mu_t\right)
              + \frac{\alpha}{2} \lVert w \rVert_2^2 ,

the sample-weighted mean Poisson negative log-likelihood without the
:math:`\log y_t!` term (a constant), plus an L2 penalty on ``w`` only.  This
is exactly scikit-learn's ``PoissonRegressor`` scaling (its half Poisson
deviance differs from ours by a constant), so ``alpha`` means the same in
both.  ``y`` need not be integer: the loss extends to real ``y >= 0``.

Overflow
--------
``exp`` is evaluated only up to :data:`ETA_MAX` (= 100, i.e. about 2.7e43
expected counts in a bin, which no optimum of real data reaches).  Above it,
``exp`` is continued by its second-order Taylor polynomial, which is convex,
twice continuously differentiable and finite, so no finite input makes the
objective, gradient or Hessian overflow or warn.  The linear predictor is
further clipped to :data:`ETA_CLIP` in absolute value.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._objective import ETA_CLIP, ETA_MAX, safe_exp
from ._passes import matvec, mirror_upper, rmatvec, sweep, sweep_reads, weighted_gram

__all__ = ["ETA_CLIP", "ETA_MAX", "LineRestriction", "PoissonObjective", "safe_exp"]


class PoissonObjective:
    """Objective ``F(w, b)`` of the module docstring for fixed data.

    Parameters are handled as one vector ``params`` of length
    ``n_features + fit_intercept``: the coefficients first, then the
    intercept.  The last point evaluated is cached, so that the Hessian at a
    point whose gradient was just computed costs no extra pass over ``X``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Design (stimulus) matrix, float32 or float64; never copied.
    y : ndarray of shape (n_samples,)
        Non-negative counts.
    exposure : ndarray of shape (n_samples,) or None
        Positive bin widths (or any multiplicative exposure); ``None`` is 1.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights; normalised to sum to one.
    alpha : float
        L2 penalty strength on the coefficients (not the intercept).
    fit_intercept : bool
        Whether ``params`` ends with an intercept.

    Attributes
    ----------
    n_passes : int
        Number of passes over ``X`` so far (one ``X @ w`` or ``X.T @ r``
        each; a Gram matrix is counted separately in ``n_grams``).
    n_grams : int
        Number of weighted Gram matrices (Hessians) computed.
    """

    def __init__(self, X, y, exposure=None, sample_weight=None, alpha=0.0, fit_intercept=True):
        self.X = X
        self.y = np.asarray(y, dtype=np.float64)
        n_samples = self.y.shape[0]
        if sample_weight is None:
            self.weights = np.full(n_samples, 1.0 / n_samples)
        else:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            self.weights = sample_weight / sample_weight.sum()
        self.log_exposure = None if exposure is None else np.log(exposure)
        self.alpha = float(alpha)
        self.fit_intercept = bool(fit_intercept)
        self.n_features = X.shape[1]
        self.n_params = self.n_features + int(self.fit_intercept)
        # Constant weighted sum of y, used by the gradient of the intercept.
        self.weighted_y = self.weights * self.y
        self.n_passes = 0
        self.n_grams = 0
        self._cache_key = None
        self._cache = None
        self._grad_key = None
        self._grad = None
        # A fused sweep reads X once; a sparse or cache-sized X is read twice.
        self._sweep_passes = sweep_reads(X)
        # Set by solvers: single-precision products on a float32 design (see
        # ``_passes.sweep``), for iterates far from the optimum.
        self.fast_products = False

    # -- helpers -----------------------------------------------------------
    def split(self, params: np.ndarray) -> tuple[np.ndarray, float]:
        """Return ``(coef, intercept)`` from a parameter vector."""
        if self.fit_intercept:
            return params[:-1], float(params[-1])
        return params, 0.0

    def linear_predictor(self, params: np.ndarray) -> np.ndarray:
        """Return ``eta = X @ w + b + log(exposure)``, shape (n_samples,).

        One pass over ``X``, none when ``w`` is zero.
        """
        coef, intercept = self.split(params)
        if np.any(coef):
            eta = matvec(self.X, coef, fast=self.fast_products) + intercept
            self.n_passes += 1
        else:
            eta = np.full(self.y.shape[0], intercept)
        if self.log_exposure is not None:
            eta += self.log_exposure
        return eta

    def rmatvec(self, r: np.ndarray) -> np.ndarray:
        """``X.T @ r`` in float64 (one pass over ``X``)."""
        self.n_passes += 1
        return rmatvec(self.X, r, fast=self.fast_products)

    def clear_cache(self) -> None:
        """Forget the cached point, so the next evaluation recomputes ``eta = X w`` afresh."""
        self._cache_key = self._cache = None
        self._grad_key = self._grad = None

    def _offset(self, rows: slice, intercept: float):
        """``b + log(exposure)`` on ``rows``."""
        if self.log_exposure is None:
            return intercept
        return self.log_exposure[rows] + intercept

    def _residual(self, rows: slice, eta: np.ndarray) -> np.ndarray:
        """Per-sample gradient weights ``s (dmu/deta) - s y`` on ``rows`` (a new array)."""
        if eta.size and eta.max() <= ETA_MAX:
            residual = np.exp(eta)
        else:
            residual = safe_exp(eta)[1].copy()
        residual *= self.weights[rows]
        residual -= self.weighted_y[rows]
        return residual

    def direction_predictor(self, direction: np.ndarray) -> np.ndarray:
        """Return ``z = X @ dw + db``, the change of ``eta`` per unit step along ``direction``.

        One pass over ``X``.  With ``z`` the objective along the line
        ``params + t * direction`` costs no further pass (see
        :meth:`line_restriction`).
        """
        dcoef, dintercept = self.split(direction)
        z = np.asarray(matvec(self.X, dcoef, fast=self.fast_products), dtype=np.float64)
        self.n_passes += 1
        if dintercept != 0.0:
            z = z + dintercept
        return z

    def _evaluate(self, params: np.ndarray, eta: np.ndarray | None = None):
        """``(eta, mu, dmu, d2mu)`` at ``params``, cached; ``eta`` if already known."""
        key = params.tobytes()
        if self._cache_key == key:
            return self._cache
        if eta is None:
            eta = self.linear_predictor(params)
        mu, dmu, d2mu = safe_exp(eta)
        if mu is dmu:  # no continuation, so no clipping either
            eta = np.asarray(eta, dtype=np.float64)
        else:
            eta = np.clip(eta, -ETA_CLIP, ETA_CLIP)
        self._cache_key = key
        self._cache = (eta, mu, dmu, d2mu)
        return self._cache

    def _penalty(self, coef: np.ndarray) -> float:
        """``alpha/2 ||w||^2``; exactly 0 when ``alpha == 0``, whatever ``w``.

        Without the guard ``0 * (w @ w)`` is NaN once ``w @ w`` overflows.
        """
        if self.alpha == 0.0:
            return 0.0
        return 0.5 * self.alpha * float(coef @ coef)

    # -- public ------------------------------------------------------------
    def loss(self, params: np.ndarray) -> float:
        """Objective value at ``params``."""
        eta, mu, _, _ = self._evaluate(params)
        coef, _ = self.split(params)
        value = float(self.weights @ mu - self.weighted_y @ eta)
        return value + self._penalty(coef)

    def loss_gradient(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """Objective value and gradient (length ``n_params``) at ``params``.

        One pass over ``X`` (``eta`` and ``X.T @ r`` fused in one read of
        ``X`` when ``eta`` is not cached), none when already computed.
        """
        key = params.tobytes()
        if self._grad_key == key:
            value, grad = self._grad
            return value, grad.copy()
        coef, intercept = self.split(params)
        if self._cache_key != key and np.any(coef):
            eta = np.empty(self.y.shape[0])

            def residual_of(rows, u):
                block = eta[rows]
                np.add(u, self._offset(rows, intercept), out=block)
                return self._residual(rows, block)

            grad_coef = sweep(self.X, coef, residual_of, fast=self.fast_products)
            self.n_passes += self._sweep_passes
            self._evaluate(params, eta)
            return self._finish_gradient(params, grad_coef)
        self._evaluate(params)
        _, _, dmu, _ = self._cache
        residual = self.weights * dmu - self.weighted_y
        grad_coef = rmatvec(self.X, residual, fast=self.fast_products)
        self.n_passes += 1
        return self._finish_gradient(params, grad_coef, residual)

    def _finish_gradient(self, params, grad_coef, residual=None):
        """Value and gradient at the cached ``params`` from ``X.T @ r``."""
        eta, mu, dmu, _ = self._cache
        coef, _ = self.split(params)
        value = float(self.weights @ mu - self.weighted_y @ eta) + self._penalty(coef)
        grad = np.empty(self.n_params)
        grad[: self.n_features] = grad_coef
        if self.alpha:
            grad[: self.n_features] += self.alpha * coef
        if self.fit_intercept:
            if residual is None:
                residual = self.weights * dmu - self.weighted_y
            grad[-1] = residual.sum()
        self._grad_key = params.tobytes()
        self._grad = (value, grad)
        return value, grad.copy()

    def gradient_along(self, params: np.ndarray, direction: np.ndarray, step: float = 1.0):
        """Move to ``params + step * direction`` with one read of ``X``.

        Computes ``z = X @ dw + db`` and the gradient at the new point in a
        single fused sweep (the new ``eta`` is ``eta + step * z``).  If the
        caller's line search rejects ``step``, the point it picks instead
        costs one more pass (:meth:`loss_gradient_at` with ``eta + t z``).

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            Current point; must be the last point evaluated (cached).
        direction : ndarray of shape (n_params,)
        step : float

        Returns
        -------
        line : LineRestriction
            The objective along ``direction`` from ``params``.
        new_params : ndarray of shape (n_params,)
        value : float
            Objective at ``new_params``.
        grad : ndarray of shape (n_params,)
            Gradient at ``new_params``.
        """
        eta0, mu0, dmu0, _ = self._evaluate(params)
        coef, _ = self.split(params)
        dcoef, dintercept = self.split(direction)
        z = np.empty(self.y.shape[0])
        weighted_y = self.weighted_y
        # Without the exp continuation at eta0, mu(eta0 + t u) = mu0 exp(t u):
        # four operations per row block (overflow is detected afterwards).
        plain = mu0 is dmu0
        weighted_mu = self.weights * mu0 if plain else None

        def residual_of(rows, u):
            if dintercept:
                u += dintercept
            z[rows] = u
            if not plain:
                return self._residual(rows, eta0[rows] + step * u)
            r = np.multiply(u, step)
            np.exp(r, out=r)
            r *= weighted_mu[rows]
            r -= weighted_y[rows]
            return r

        with np.errstate(over="ignore", invalid="ignore"):
            grad_coef = sweep(self.X, dcoef, residual_of, fast=self.fast_products)
        self.n_passes += self._sweep_passes
        line = LineRestriction(self, eta0, mu0, z, coef, dcoef, dmu0)
        new_params = params + step * direction
        eta = line.eta_at(step)
        self._evaluate(new_params, eta)
        if plain and not (eta.max() <= ETA_MAX and np.all(np.isfinite(grad_coef))):
            # exp overflowed or entered the continuation: recompute safely.
            self._grad_key = None
            return (line, new_params, *self.loss_gradient(new_params))
        value, grad = self._finish_gradient(new_params, grad_coef)
        return line, new_params, value, grad

    def loss_gradient_at(self, params: np.ndarray, eta: np.ndarray) -> tuple[float, np.ndarray]:
        """:meth:`loss_gradient` at ``params`` whose linear predictor ``eta`` is known.

        ``eta`` must equal :meth:`linear_predictor` ``(params)`` (up to
        round-off), e.g. updated along a line as ``eta + t * z``; this saves
        the pass ``X @ w`` (one pass, ``X.T @ r``, remains).
        """
        key = params.tobytes()
        if self._grad_key == key:
            return self.loss_gradient(params)
        if self._cache_key != key:
            self._evaluate(params, eta)
        return self.loss_gradient(params)

    def line_restriction(
        self, params: np.ndarray, direction: np.ndarray, z: np.ndarray
    ) -> LineRestriction:
        """The objective along ``params + t * direction`` (no pass over ``X``).

        ``z`` is the direction's linear predictor (:meth:`direction_predictor`).

        ``params`` must be the last point evaluated (its ``eta`` is taken from
        the cache, computing it costs a pass otherwise).
        """
        eta, mu, dmu, _ = self._evaluate(params)
        coef, _ = self.split(params)
        dcoef, _ = self.split(direction)
        return LineRestriction(self, eta, mu, z, coef, dcoef, dmu)

    def gradient(self, params: np.ndarray) -> np.ndarray:
        """Gradient of the objective at ``params``."""
        return self.loss_gradient(params)[1]

    def hessian(self, params: np.ndarray, *, symmetric: bool = True) -> np.ndarray:
        """Hessian of the objective at ``params``, shape (n_params, n_params).

        ``X.T diag(s * mu) X / sum(s) + alpha I`` bordered by the intercept
        row and column.  Costs one weighted Gram matrix (the border comes
        from the same read of ``X``).  With ``symmetric=False`` only the
        upper triangle is filled (enough for a Cholesky factorisation).
        """
        _, _, _, d2mu = self._evaluate(params)
        d = self.weights * d2mu
        p = self.n_features
        if self.fit_intercept:
            gram, border = weighted_gram(self.X, d, border=True, symmetric=False)
            hess = np.empty((self.n_params, self.n_params), order="F")
            hess[:p, :p] = gram
            hess[:p, -1] = border
            hess[-1, -1] = d.sum()
        else:
            hess = weighted_gram(self.X, d, symmetric=False)
        if sp.issparse(self.X) and self.fit_intercept:
            self.n_passes += 1
        self.n_grams += 1
        hess[np.diag_indices(p)] += self.alpha
        if symmetric:
            mirror_upper(hess)
        return hess

    def initial_params(self) -> np.ndarray:
        """Starting point: zero coefficients and the intercept-only optimum."""
        params = np.zeros(self.n_params)
        if self.fit_intercept:
            exposure = 1.0 if self.log_exposure is None else np.exp(self.log_exposure)
            mean_rate = self.weighted_y.sum() / float(np.sum(self.weights * exposure))
            params[-1] = np.log(max(mean_rate, np.finfo(float).tiny))
        return params


class LineRestriction:
    r"""The objective along a line, ``phi(t) = F(params + t d) - F(params)``.

    With ``eta`` at ``params`` and ``z = X dw + db`` known,
    ``eta(t) = eta + t z``, so ``phi``, ``phi'`` and ``phi''`` cost
    ``O(n_samples)`` each and no pass over ``X``:

    .. math::

        \phi(t) = \sum_i s_i \mu_i (e^{t z_i} - 1) - t \sum_i s_i y_i z_i
                   + \alpha (t\, w \cdot d_w + t^2 \lVert d_w \rVert^2 / 2).

    The difference to ``F(params)`` is computed with ``expm1``, so it is
    accurate relative to the *decrease* itself, not to ``F``: a line search
    can resolve decreases far below ``eps * |F|``, where comparisons of
    objective values stall.

    Attributes
    ----------
    slope : float
        ``phi'(0)``, the directional derivative at ``t = 0``.
    """

    def __init__(self, objective, eta, mu, z, coef, dcoef, dmu=None):
        # Only references here: the O(n) set-up runs on first use, so a
        # solver that accepts a step from the gradient alone pays nothing.
        self._objective = objective
        self._eta = eta
        self._mu = mu
        self._dmu = dmu
        self._z = z
        self._coef = coef
        self._dcoef = dcoef
        self._ready = False
        self._z2 = None  # z * z, computed when a second derivative is needed
        self._second0 = None

    def _prepare(self) -> None:
        if self._ready:
            return
        objective, eta, z, mu = self._objective, self._eta, self._z, self._mu
        self._weights = objective.weights
        self._wmu = objective.weights * mu
        self._eta_max = float(eta.max()) if eta.size else 0.0
        self._z_max = float(z.max()) if z.size else 0.0
        self._z_min = float(z.min()) if z.size else 0.0
        alpha = objective.alpha
        self._c1 = alpha * float(self._coef @ self._dcoef) if alpha else 0.0
        self._c2 = alpha * float(self._dcoef @ self._dcoef) if alpha else 0.0
        self._slope_y = float(objective.weighted_y @ z)
        self._first0 = float(self._wmu @ z)
        dmu = safe_exp(eta)[1] if self._dmu is None else self._dmu
        if dmu is mu:
            self._slope = self._first0 - self._slope_y + self._c1
        else:
            self._slope = float((objective.weights * dmu) @ z) - self._slope_y + self._c1
        self._ready = True

    @property
    def slope(self) -> float:
        """``phi'(0)``, the directional derivative at ``t = 0``."""
        self._prepare()
        return self._slope

    def eta_at(self, t: float) -> np.ndarray:
        """Linear predictor ``eta + t z`` at step ``t`` (no pass over ``X``)."""
        return self._eta + t * self._z

    def _squares(self):
        if self._z2 is None:
            self._z2 = self._z * self._z
            self._second0 = float(self._wmu @ self._z2)
        return self._z2

    def value_slope(self, t: float) -> tuple[float, float]:
        """Return ``phi(t), phi'(t)`` (cheaper than the call with ``phi''``)."""
        return self._evaluate(float(t), False)[:2]

    def __call__(self, t: float) -> tuple[float, float, float]:
        """Return ``phi(t), phi'(t), phi''(t)``."""
        return self._evaluate(float(t), True)

    def _evaluate(self, t: float, with_second: bool):
        self._prepare()
        penalty = t * self._c1 + 0.5 * t * t * self._c2
        top = t * (self._z_max if t >= 0 else self._z_min)
        if self._eta_max <= ETA_MAX and self._eta_max + top <= ETA_MAX and top <= 700.0:
            grow = np.expm1(t * self._z)  # mu(t) / mu - 1
            grow *= self._wmu
            value = float(grow.sum()) - t * self._slope_y + penalty
            first = self._first0 + float(grow @ self._z) - self._slope_y + self._c1 + t * self._c2
            if not with_second:
                return value, first, None
            second = self._second0_value() + float(grow @ self._z2) + self._c2
            return value, first, second
        value_t, first_t, second_t = safe_exp(self._eta + t * self._z)
        value = float(self._weights @ (value_t - safe_exp(self._eta)[0]))
        value += -t * self._slope_y + penalty
        first = float((self._weights * first_t) @ self._z) - self._slope_y + self._c1
        first += t * self._c2
        if not with_second:
            return value, first, None
        second = float((self._weights * second_t) @ self._squares()) + self._c2
        return value, first, second

    def _second0_value(self) -> float:
        self._squares()
        return self._second0
