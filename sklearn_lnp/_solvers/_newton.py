"""Newton-Cholesky for the smooth (L2) objective, in the primal or the dual form.

Primal form (``n_samples`` larger than about ``1.5 n_features``, or
``alpha == 0``): each iteration costs one weighted Gram matrix ``X' D X``
(``dsyrk``, with the intercept border from the same read of ``X``) and one
Cholesky factorisation of size ``n_params``.

Dual (Woodbury) form (``alpha > 0`` and ``n_samples`` up to about
``1.5 n_features``): with ``S = D^{1/2}`` and the kernel ``K = X X'``
computed once,

.. math::

    (X' D X + \\alpha I)^{-1} = \\alpha^{-1}
        \\bigl(I - X' S (\\alpha I + S K S)^{-1} S X\\bigr),

so each iteration factorises an ``n_samples`` matrix instead of forming and
factorising an ``n_features`` one; the unpenalised intercept is eliminated
by its Schur complement.  ``X @ g`` and ``X @ d`` come from ``K`` (no pass).

Either way the step is found on the line (one ``O(n_samples)`` evaluation per
trial, see :mod:`._line_search`), and the full Newton step, accepted near the
optimum, costs one read of ``X`` for its direction and gradient together.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from .._passes import row_gram
from ._line_search import line_search, search_unscaled, take_step
from ._result import SolverResult


def use_dual(objective) -> bool:
    """Whether Newton steps in the dual (Woodbury) form are cheaper.

    Flop counts (multiply-adds): a primal step forms ``X' D X`` (``n p^2 / 2``)
    and factorises it (``p^3 / 6``); a dual step factorises an ``n x n``
    matrix (``n^3 / 6``) after computing ``K = X X'`` once (``n^2 p / 2``,
    spread here over four steps).  Needs ``alpha > 0``.
    """
    if objective.alpha <= 0.0:
        return False
    n, p = objective.y.shape[0], objective.n_features
    primal = n * p * p / 2 + p**3 / 6
    dual = n**3 / 6 + n * n * p / 8
    return dual < primal


def _newton_direction(hess: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Solve ``hess @ d = -grad`` from the upper triangle of ``hess``.

    Adds a growing ridge if ``hess`` is numerically singular (possible with
    ``alpha == 0`` and ``n_features >= n_samples``); falls back to ``-grad``.
    """
    diagonal = np.diag(hess).copy()
    scale = max(float(np.max(np.abs(diagonal))), np.finfo(float).tiny)
    jitter = 0.0
    for _ in range(12):
        try:
            matrix = hess.copy(order="F")
            if jitter:
                matrix[np.diag_indices_from(matrix)] = diagonal + jitter
            factor = cho_factor(matrix, lower=False, overwrite_a=True, check_finite=False)
            direction = cho_solve(factor, -grad, check_finite=False)
            if np.all(np.isfinite(direction)):
                return direction
        except LinAlgError:
            pass
        jitter = scale * 1e-12 if jitter == 0.0 else jitter * 100.0
    return -grad


class _DualSystem:
    """Newton directions from the kernel ``K = X X'`` (Woodbury identity)."""

    def __init__(self, objective):
        self.kernel = row_gram(objective.X)
        objective.n_grams += 1

    def direction(self, objective, params, grad):
        """Return the Newton direction and ``z = X dw + db`` (one pass over ``X``)."""
        eta, _, dmu, d2mu = objective._evaluate(params)
        kernel, alpha = self.kernel, objective.alpha
        coef, intercept = objective.split(params)
        residual = objective.weights * dmu - objective.weighted_y
        delta = objective.weights * d2mu
        s = np.sqrt(delta)
        xw = eta - intercept
        if objective.log_exposure is not None:
            xw = xw - objective.log_exposure
        x_grad = kernel @ residual + alpha * xw  # X @ grad_w
        x_border = kernel @ delta  # X @ (X' delta), the intercept border
        system = kernel * s[:, None]
        system *= s[None, :]
        system[np.diag_indices_from(system)] += alpha
        factor = cho_factor(system, lower=False, overwrite_a=True, check_finite=False)
        solved = cho_solve(factor, np.column_stack([s * x_grad, s * x_border]), check_finite=False)
        m_grad, m_border = solved[:, 0], solved[:, 1]
        if objective.fit_intercept:
            # Schur complement of the (unpenalised) intercept.
            sx_border = s * x_border
            border_grad = (delta @ x_grad - sx_border @ m_grad) / alpha
            border_border = (delta @ x_border - sx_border @ m_border) / alpha
            schur = max(float(delta.sum() - border_border), np.finfo(float).tiny)
            d_intercept = (border_grad - grad[-1]) / schur
        else:
            d_intercept = 0.0
        c = d_intercept * delta - s * (m_grad + d_intercept * m_border)
        p = objective.n_features
        direction = np.empty(objective.n_params)
        direction[:p] = -(grad[:p] + objective.rmatvec(c)) / alpha
        if objective.fit_intercept:
            direction[-1] = d_intercept
        z = -(x_grad + kernel @ c) / alpha + d_intercept
        return direction, z


def newton_cholesky(
    objective, params, *, tol, max_iter, verbose=0, solver_name="newton-cholesky", dual=None
):
    """Minimise ``objective`` by damped Newton steps.

    Stops when ``max |grad| <= tol`` (the documented criterion), or after
    ``max_iter`` iterations, or when no decrease can be found along the
    Newton direction nor the gradient (round-off floor); ``converged`` says
    which.

    Parameters
    ----------
    objective : PoissonObjective
    params : ndarray of shape (n_params,)
        Starting point.
    tol : float
        Tolerance on the largest absolute gradient entry.
    max_iter : int
        Maximum number of Newton iterations.
    verbose : int
        Print one line per iteration when positive.
    solver_name : str
        Name reported in the result.
    dual : bool or None
        Force the dual (True) or primal (False) form; by default chosen by
        :func:`use_dual`.

    Returns
    -------
    SolverResult
    """
    params = np.array(params, dtype=np.float64)
    value, grad = objective.loss_gradient(params)
    grad_max = float(np.max(np.abs(grad)))
    if dual is None:
        dual = use_dual(objective)
    system = None
    n_iter = 0
    while grad_max > tol and n_iter < max_iter:
        if dual:
            if system is None:
                system = _DualSystem(objective)
            direction, z = system.direction(objective, params, grad)
            line = objective.line_restriction(params, direction, z)
            step = 0.0
            if line.slope < 0.0:
                step, _ = line_search(line, 1.0, curvature=0.9)
            if step > 0.0:
                new_params = params + step * direction
                new_value, new_grad = objective.loss_gradient_at(new_params, line.eta_at(step))
        else:
            direction = _newton_direction(objective.hessian(params, symmetric=False), grad)
            step, new_params, new_value, new_grad, _ = take_step(
                objective, params, direction, grad=grad, value=value
            )
        if step == 0.0:
            # Not a descent direction (singular Hessian) or round-off floor:
            # one try along the gradient, then give up.
            step, new_params, new_value, new_grad = search_unscaled(objective, params, -grad)
        n_iter += 1
        if verbose:
            print(
                f"[newton{'-dual' if dual else ''}] iter {n_iter:3d}  objective {value:.15g}  "
                f"max|grad| {grad_max:.3e}  step {step:.3g}"
            )
        if step == 0.0:
            break
        params, value, grad = new_params, new_value, new_grad
        grad_max = float(np.max(np.abs(grad)))
    return SolverResult(
        params=params,
        objective=value,
        optimality=grad_max,
        n_iter=n_iter,
        converged=grad_max <= tol,
        solver=solver_name,
        n_passes=objective.n_passes,
        n_grams=objective.n_grams,
    )
