"""L-BFGS for the smooth (L2) objective, with an exact line search.

Each iteration costs exactly two passes over ``X``: ``z = X d`` for the new
direction ``d`` and ``X.T @ r`` for the gradient at the new point.  The
linear predictor is updated as ``eta + t z`` (no pass), and the step ``t``
is found on the one-dimensional restriction of the objective, which costs
``O(n_samples)`` per trial (:mod:`._line_search`).  The decrease along the
line is computed relative to the current point (``expm1``), so the search
keeps making progress where objective values no longer differ in floating
point: L-BFGS reaches tight gradient tolerances (1e-8 and below) instead of
stalling at the round-off floor of ``F``.
"""

from __future__ import annotations

import numpy as np

from ._line_search import search_unscaled, take_step
from ._result import SolverResult

_MEMORY = 20
# Recompute eta = X w from scratch every this many iterations (one read of
# X), so that round-off accumulated by the updates ``eta + t z`` stays
# negligible.
_REFRESH_EVERY = 200


class _History:
    """Correction pairs ``(s, y)`` and the two-loop recursion of L-BFGS."""

    def __init__(self, n_params: int, memory: int):
        self.s = np.empty((memory, n_params))
        self.y = np.empty((memory, n_params))
        self.rho = np.empty(memory)
        self.size = 0
        self.head = 0  # index of the next slot to write
        self.memory = memory

    def push(self, s: np.ndarray, y: np.ndarray) -> None:
        sy = float(s @ y)
        # Curvature condition; holds for convex objectives with exact line
        # searches unless s or y are at round-off level.
        if not sy > 1e-12 * float(np.sqrt((s @ s) * (y @ y))):
            return
        self.s[self.head] = s
        self.y[self.head] = y
        self.rho[self.head] = 1.0 / sy
        self.head = (self.head + 1) % self.memory
        self.size = min(self.size + 1, self.memory)

    def clear(self) -> None:
        self.size = 0
        self.head = 0

    def direction(self, grad: np.ndarray) -> np.ndarray:
        """``-H grad`` with the L-BFGS inverse-Hessian approximation ``H``."""
        q = -grad
        if self.size == 0:
            return q
        order = [(self.head - 1 - k) % self.memory for k in range(self.size)]
        a = np.empty(self.size)
        for k, i in enumerate(order):
            a[k] = self.rho[i] * float(self.s[i] @ q)
            q -= a[k] * self.y[i]
        newest = order[0]
        y = self.y[newest]
        q *= 1.0 / (self.rho[newest] * float(y @ y))
        for k in range(self.size - 1, -1, -1):
            i = order[k]
            b = self.rho[i] * float(self.y[i] @ q)
            q += (a[k] - b) * self.s[i]
        return q


def lbfgs(objective, params, *, tol, max_iter, verbose=0, should_stop=None, memory=_MEMORY):
    """Minimise ``objective`` by L-BFGS with an exact line search.

    Stops when ``max |grad| <= tol`` (the documented criterion), after
    ``max_iter`` iterations, when ``should_stop(history)`` returns True, or
    when no decrease can be found along the L-BFGS direction nor along the
    steepest-descent direction (round-off floor); ``converged`` reports
    whether the gradient criterion holds at the returned point.

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
    memory : int
        Number of correction pairs kept.

    Returns
    -------
    SolverResult
    """
    params = np.array(params, dtype=np.float64)
    value, grad = objective.loss_gradient(params)
    grad_max = float(np.max(np.abs(grad)))
    pairs = _History(params.shape[0], memory)
    history: list[float] = []
    n_iter = 0
    while grad_max > tol and n_iter < max_iter:
        direction = pairs.direction(grad)
        if pairs.size == 0:
            # Unscaled steepest descent (z needed before the search: two passes).
            step, new_params, new_value, new_grad = search_unscaled(objective, params, direction)
            if step == 0.0:
                break
        else:
            step, new_params, new_value, new_grad, _ = take_step(objective, params, direction)
            if step == 0.0:  # retry along the steepest descent direction
                pairs.clear()
                continue
        n_iter += 1
        if n_iter % _REFRESH_EVERY == 0:
            objective.clear_cache()
            new_value, fresh_grad = objective.loss_gradient(new_params)
            pairs.push(new_params - params, fresh_grad - grad)
            new_grad = fresh_grad
        else:
            pairs.push(new_params - params, new_grad - grad)
        params, value, grad = new_params, new_value, new_grad
        grad_max = float(np.max(np.abs(grad)))
        history.append(grad_max)
        if verbose:
            print(
                f"[lbfgs] iter {n_iter:4d}  objective {value:.15g}  "
                f"max|grad| {grad_max:.3e}  step {step:.3g}"
            )
        if should_stop is not None and should_stop(history):
            break
    return SolverResult(
        params=params,
        objective=value,
        optimality=grad_max,
        n_iter=n_iter,
        converged=grad_max <= tol,
        solver="lbfgs",
        n_passes=objective.n_passes,
        n_grams=objective.n_grams,
    )
