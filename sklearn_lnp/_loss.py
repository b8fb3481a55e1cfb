r"""The Poisson negative log-likelihood of the LNP model, its gradient and Hessian.

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

from ._linalg import matvec, rmatvec, weighted_gram

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
        Arrays of the same shape as ``eta``; all finite for finite input.
    """
    eta = np.clip(eta, -ETA_CLIP, ETA_CLIP)
    value = np.exp(np.minimum(eta, ETA_MAX))
    over = eta > ETA_MAX
    if not np.any(over):
        return value, value, value
    first = value.copy()
    second = value.copy()
    d = eta[over] - ETA_MAX
    value[over] = _EXP_ETA_MAX * (1.0 + d + 0.5 * d * d)
    first[over] = _EXP_ETA_MAX * (1.0 + d)
    second[over] = _EXP_ETA_MAX
    return value, first, second


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

    # -- helpers -----------------------------------------------------------
    def split(self, params: np.ndarray) -> tuple[np.ndarray, float]:
        """Return ``(coef, intercept)`` from a parameter vector."""
        if self.fit_intercept:
            return params[:-1], float(params[-1])
        return params, 0.0

    def linear_predictor(self, params: np.ndarray) -> np.ndarray:
        """Return ``eta = X @ w + b + log(exposure)``, shape (n_samples,)."""
        coef, intercept = self.split(params)
        eta = matvec(self.X, coef)
        self.n_passes += 1
        eta = eta + intercept
        if self.log_exposure is not None:
            eta += self.log_exposure
        return eta

    def _evaluate(self, params: np.ndarray):
        key = params.tobytes()
        if self._cache_key == key:
            return self._cache
        eta = self.linear_predictor(params)
        mu, dmu, d2mu = safe_exp(eta)
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
        """Objective value and gradient (length ``n_params``) at ``params``."""
        eta, mu, dmu, _ = self._evaluate(params)
        coef, _ = self.split(params)
        value = float(self.weights @ mu - self.weighted_y @ eta)
        value += self._penalty(coef)
        residual = self.weights * dmu - self.weighted_y
        grad = np.empty(self.n_params)
        grad[: self.n_features] = rmatvec(self.X, residual)
        self.n_passes += 1
        grad[: self.n_features] += self.alpha * coef
        if self.fit_intercept:
            grad[-1] = residual.sum()
        return value, grad

    def gradient(self, params: np.ndarray) -> np.ndarray:
        """Gradient of the objective at ``params``."""
        return self.loss_gradient(params)[1]

    def hessian(self, params: np.ndarray) -> np.ndarray:
        """Hessian of the objective at ``params``, shape (n_params, n_params).

        ``X.T diag(s * mu) X / sum(s) + alpha I`` bordered by the intercept
        row and column.  Costs one weighted Gram matrix.
        """
        _, _, _, d2mu = self._evaluate(params)
        d = self.weights * d2mu
        p = self.n_features
        hess = np.empty((self.n_params, self.n_params))
        hess[:p, :p] = weighted_gram(self.X, d)
        self.n_grams += 1
        hess[np.diag_indices(p)] += self.alpha
        if self.fit_intercept:
            border = rmatvec(self.X, d)
            self.n_passes += 1
            hess[:p, -1] = border
            hess[-1, :p] = border
            hess[-1, -1] = d.sum()
        return hess

    def initial_params(self) -> np.ndarray:
        """Starting point: zero coefficients and the intercept-only optimum."""
        params = np.zeros(self.n_params)
        if self.fit_intercept:
            exposure = 1.0 if self.log_exposure is None else np.exp(self.log_exposure)
            mean_rate = self.weighted_y.sum() / float(np.sum(self.weights * exposure))
            params[-1] = np.log(max(mean_rate, np.finfo(float).tiny))
        return params
