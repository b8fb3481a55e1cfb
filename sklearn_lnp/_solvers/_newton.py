"""Newton-Cholesky with Armijo backtracking for the smooth (L2) objective.

Each iteration costs one weighted Gram matrix (``dsyrk``), one Cholesky
factorisation of size ``n_params`` and two passes over ``X`` per trial
point of the line search (usually one trial: the full Newton step).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ._result import SolverResult

_ARMIJO = 1e-4
_MAX_HALVINGS = 40


def _newton_direction(hess: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Solve ``hess @ d = -grad``; add a growing ridge if ``hess`` is singular."""
    scale = max(float(np.max(np.abs(np.diag(hess)))), np.finfo(float).tiny)
    jitter = 0.0
    for _ in range(12):
        try:
            factor = cho_factor(
                hess + jitter * np.eye(hess.shape[0]) if jitter else hess,
                lower=False,
                check_finite=False,
            )
            direction = cho_solve(factor, -grad, check_finite=False)
            if np.all(np.isfinite(direction)):
                return direction
        except LinAlgError:
            pass
        jitter = scale * 1e-12 if jitter == 0.0 else jitter * 100.0
    return -grad


def newton_cholesky(objective, params, *, tol, max_iter, verbose=0, solver_name="newton-cholesky"):
    """Minimise ``objective`` by damped Newton steps.

    Stops when ``max |grad| <= tol`` (the documented criterion), or after
    ``max_iter`` iterations, or when the line search can no longer decrease
    the objective nor the gradient (round-off floor); ``converged`` says which.

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

    Returns
    -------
    SolverResult
    """
    params = np.array(params, dtype=np.float64)
    value, grad = objective.loss_gradient(params)
    n_iter = 0
    converged = False
    for n_iter in range(1, max_iter + 1):
        grad_max = float(np.max(np.abs(grad)))
        if grad_max <= tol:
            converged = True
            n_iter -= 1
            break
        direction = _newton_direction(objective.hessian(params), grad)
        slope = float(grad @ direction)
        if not slope < 0:
            direction, slope = -grad, -float(grad @ grad)
        step = 1.0
        accepted = False
        for _ in range(_MAX_HALVINGS):
            trial = params + step * direction
            trial_value, trial_grad = objective.loss_gradient(trial)
            if np.isfinite(trial_value) and trial_value <= value + _ARMIJO * step * slope:
                accepted = True
                break
            # Round-off floor: the value cannot resolve the decrease any more,
            # but the gradient still can.
            if (
                np.isfinite(trial_value)
                and abs(trial_value - value) <= 64 * np.finfo(float).eps * abs(value)
                and np.max(np.abs(trial_grad)) < grad_max
            ):
                accepted = True
                break
            step *= 0.5
        if verbose:
            print(
                f"[newton] iter {n_iter:3d}  objective {value:.15g}  "
                f"max|grad| {grad_max:.3e}  step {step if accepted else 0.0:.3g}"
            )
        if not accepted:
            break
        params, value, grad = trial, trial_value, trial_grad
    else:
        converged = float(np.max(np.abs(grad))) <= tol
    return SolverResult(
        params=params,
        objective=value,
        optimality=float(np.max(np.abs(grad))),
        n_iter=n_iter,
        converged=converged,
        solver=solver_name,
        n_passes=objective.n_passes,
        n_grams=objective.n_grams,
    )
