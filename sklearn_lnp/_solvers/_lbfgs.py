"""L-BFGS (scipy's L-BFGS-B without bounds) for the smooth (L2) objective.

Each iteration costs two passes over ``X`` (``X @ w`` and ``X.T @ r``) per
function evaluation, usually one evaluation per iteration.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from ._result import SolverResult

_MEMORY = 20


def lbfgs(objective, params, *, tol, max_iter, verbose=0, should_stop=None):
    """Minimise ``objective`` by L-BFGS.

    Stops when ``max |grad| <= tol`` (scipy's ``gtol``, the documented
    criterion), when the relative decrease of the objective falls below
    ``64 * eps`` (round-off floor), after ``max_iter`` iterations, or when
    ``should_stop(history)`` returns True; ``converged`` reports whether the
    gradient criterion holds at the returned point.

    Parameters
    ----------
    objective : PoissonObjective
    params : ndarray of shape (n_params,)
    tol : float
    max_iter : int
    verbose : int
    should_stop : callable or None
        Called after every iteration with the list of ``max |grad|`` values
        so far; returning True stops the run (used by ``solver="auto"``).

    Returns
    -------
    SolverResult
    """
    history: list[float] = []
    last_grad: dict[bytes, np.ndarray] = {}

    def fun(x):
        value, grad = objective.loss_gradient(x)
        last_grad.clear()
        last_grad[x.tobytes()] = grad
        return value, grad

    def callback(intermediate_result):
        x = intermediate_result.x
        grad = last_grad.get(x.tobytes())
        if grad is None:
            grad = objective.loss_gradient(x)[1]
        history.append(float(np.max(np.abs(grad))))
        if verbose:
            print(
                f"[lbfgs] iter {len(history):4d}  objective {intermediate_result.fun:.15g}  "
                f"max|grad| {history[-1]:.3e}"
            )
        if should_stop is not None and should_stop(history):
            raise StopIteration

    result = minimize(
        fun,
        np.asarray(params, dtype=np.float64),
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={
            "maxiter": max_iter,
            "maxfun": 2 * max_iter + 20,
            "maxls": 50,
            "maxcor": _MEMORY,
            "gtol": tol,
            "ftol": 64 * np.finfo(float).eps,
        },
    )
    value, grad = objective.loss_gradient(result.x)
    optimality = float(np.max(np.abs(grad)))
    return SolverResult(
        params=result.x,
        objective=value,
        optimality=optimality,
        n_iter=int(result.nit),
        converged=optimality <= tol,
        solver="lbfgs",
        n_passes=objective.n_passes,
        n_grams=objective.n_grams,
    )
