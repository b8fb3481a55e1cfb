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
from scipy.linalg.blas import dtrsv

from ._line_search import search_unscaled, take_step
from ._result import SolverResult

_MEMORY = 20
# Recompute eta = X w from scratch every this many iterations (one read of
# X), so that round-off accumulated by the updates ``eta + t z`` stays
# negligible.
_REFRESH_EVERY = 200


class _History:
    """Correction pairs ``(s, y)`` and the L-BFGS inverse-Hessian product.

    Uses the compact representation of Byrd, Nocedal and Schnabel (1994):
    with ``S``, ``Y`` the pairs (oldest first), ``R = triu(S' Y)``,
    ``D = diag(S' Y)`` and ``gamma = s'y / y'y`` of the newest pair,

    ``H g = gamma g + S p - gamma Y c``, ``c = R^-1 S'g``,
    ``p = R^-T ((D + gamma Y'Y) c - gamma Y'g)``,

    the same product as the two-loop recursion in a handful of BLAS calls
    (``S' Y`` and ``Y' Y`` are updated by one row and column per pair).
    """

    def __init__(self, n_params: int, memory: int):
        # Twice the memory: the window of valid pairs slides forward and is
        # moved back to the front only once every ``memory`` pushes.
        self._s = np.empty((2 * memory, n_params))
        self._y = np.empty((2 * memory, n_params))
        self._sy = np.empty((2 * memory, 2 * memory))  # sy[i, j] = s_i . y_j
        self._yy = np.empty((2 * memory, 2 * memory))  # yy[i, j] = y_i . y_j
        self.start = 0
        self.size = 0
        self.memory = memory

    def push(self, s: np.ndarray, y: np.ndarray) -> None:
        sy = float(s @ y)
        # Curvature condition; holds for convex objectives with exact line
        # searches unless s or y are at round-off level.
        if not sy > 1e-12 * float(np.sqrt((s @ s) * (y @ y))):
            return
        if self.size == self.memory:  # drop the oldest pair
            self.start += 1
            self.size -= 1
        if self.start + self.size == 2 * self.memory:  # slide the window back
            old = slice(self.start, self.start + self.size)
            new = slice(0, self.size)
            self._s[new] = self._s[old]
            self._y[new] = self._y[old]
            self._sy[new, new] = self._sy[old, old]
            self._yy[new, new] = self._yy[old, old]
            self.start = 0
        i0, k = self.start, self.start + self.size
        self._s[k] = s
        self._y[k] = y
        self._sy[k, i0 : k + 1] = self._y[i0 : k + 1] @ s
        self._sy[i0:k, k] = self._s[i0:k] @ y
        self._yy[k, i0 : k + 1] = self._y[i0 : k + 1] @ y
        self._yy[i0:k, k] = self._yy[k, i0:k]
        self.size += 1

    def clear(self) -> None:
        self.start = 0
        self.size = 0

    def direction(self, grad: np.ndarray) -> np.ndarray:
        """``-H grad`` with the L-BFGS inverse-Hessian approximation ``H``."""
        if self.size == 0:
            return -grad
        window = slice(self.start, self.start + self.size)
        S, Y = self._s[window], self._y[window]
        sy = self._sy[window, window]
        yy = self._yy[window, window]
        gamma = sy[-1, -1] / yy[-1, -1]
        # dtrsv reads only the upper triangle of sy: that is R.
        c = dtrsv(sy, S @ grad, lower=0, trans=0)
        rhs = np.diagonal(sy) * c + gamma * (yy @ c - Y @ grad)
        p = dtrsv(sy, rhs, lower=0, trans=1)
        direction = p @ S
        direction -= gamma * (c @ Y)
        direction += gamma * grad
        direction *= -1.0
        return direction


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
