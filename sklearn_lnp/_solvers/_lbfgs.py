"""L-BFGS for the smooth (L2) objective, at about one read of ``X`` per iteration.

An iteration needs ``z = X d`` for the new direction ``d`` and ``X.T @ r``
at the new point.  Both come from one fused sweep over ``X``
(:meth:`PoissonObjective.gradient_along`), evaluated at the unit step; the
linear predictor is updated as ``eta + t z`` (no pass).  The unit step is
accepted on the Armijo and strong Wolfe conditions (almost always after the
first iteration); otherwise the step is searched on the one-dimensional
restriction of the objective, ``O(n_samples)`` per trial
(:mod:`._line_search`), and its gradient costs one more pass.  That
restriction computes decreases relative to the current point (``expm1``), so
the search keeps making progress where objective values no longer differ in
floating point: L-BFGS reaches tight gradient tolerances (1e-8 and below)
instead of stalling at the round-off floor of ``F``.  The inverse-Hessian
product uses the compact representation (a few BLAS calls).  On float32
designs the sweeps run in single precision while far from the optimum, with
accurate refreshes (:class:`_Products`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import dtrsv

from ._line_search import search_unscaled, take_step
from ._result import SolverResult

_MEMORY = 20
# Recompute eta = X w from scratch every this many iterations (one read of
# X), so that round-off accumulated by the updates ``eta + t z`` stays
# negligible.
_REFRESH_EVERY = 200
# With single-precision products (float32 designs), refresh accurately each
# time max|grad| has dropped by this factor (besides before stopping, after a
# failed line search and every _REFRESH_EVERY iterations).  Single-precision
# round-off in eta is random across samples and averages out in X.T @ r:
# on the 100,000 x 1500 benchmark the gradient after 10 fast iterations was
# within tol of the accurate one, and an intermediate refresh (1e-4) only
# added a read of X.
_FAST_DROP = 1e-8
# ... and switch to accurate products for good when the approximate max|grad|
# has not halved for this many iterations (their noise floor), when a line
# search fails, or when it reached tol but the accurate one did not.
_FAST_PATIENCE = 5


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


class _Products:
    """Single-precision products on a float32 design, refreshed accurately.

    On a dense float32 ``X`` the sweeps run in single precision
    (``_passes.sweep(fast=True)``, about twice as fast) while the iterate is
    far from the optimum: their errors (~1e-6 relative in ``X d``, which
    accumulate in ``eta``) only slow the progress a little there.  The value
    and gradient are recomputed with float64 accumulation ("refresh": one
    read of ``X``, ``eta = X w`` afresh) whenever ``max|grad|`` has dropped
    by ``_FAST_DROP`` since the last accurate evaluation, and always before
    the solver stops, so the stopping test and the returned values are
    accurate.  When the approximate gradients stall (their round-off floor,
    which depends on the design), a line search fails, or the accurate
    gradient misses ``tol``, the products stay accurate from then on.
    """

    def __init__(self, objective):
        self.objective = objective
        X = objective.X
        self.enabled = not sp.issparse(X) and X.dtype == np.float32
        self.approximate = self.enabled
        self.iterations = self.improved_at = 0
        self.best = np.inf
        objective.clear_cache()
        objective.fast_products = self.enabled

    def moved(self, grad_max: float) -> None:
        """A new iterate was computed (with approximate products if enabled)."""
        self.approximate = self.enabled
        self.iterations += 1
        if grad_max < 0.5 * self.best:
            self.best, self.improved_at = grad_max, self.iterations

    def stalled(self) -> bool:
        """Whether approximate gradients stopped halving: their noise floor is reached."""
        return self.iterations - self.improved_at >= _FAST_PATIENCE

    def disable(self) -> None:
        """Accurate products from now on."""
        self.enabled = self.approximate = False
        self.objective.fast_products = False

    def refresh(self, params):
        """Accurate value and gradient at ``params`` (one accurate read of ``X``)."""
        objective = self.objective
        objective.fast_products = False
        objective.clear_cache()
        value, grad = objective.loss_gradient(params)
        objective.fast_products = self.enabled
        self.approximate = False
        return value, grad

    def close(self) -> None:
        """Back to accurate products (the cache holds an accurate point)."""
        self.objective.fast_products = False


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
    products = _Products(objective)
    value, grad = objective.loss_gradient(params)
    grad_max = float(np.abs(grad).max())
    reference = grad_max  # max|grad| at the last accurate evaluation
    pairs = _History(params.shape[0], memory)
    history: list[float] = []
    n_iter = 0
    while n_iter < max_iter:
        if products.approximate:
            stalled, at_tol = products.stalled(), grad_max <= tol
            if stalled or at_tol or grad_max <= _FAST_DROP * reference:
                value, grad = products.refresh(params)
                grad_max = reference = float(np.abs(grad).max())
                if stalled or (at_tol and grad_max > tol):  # single-precision noise floor
                    products.disable()
        if grad_max <= tol:
            break
        direction = pairs.direction(grad)
        if pairs.size == 0:
            # Unscaled steepest descent (z needed before the search: two passes).
            step, new_params, new_value, new_grad = search_unscaled(objective, params, direction)
        else:
            step, new_params, new_value, new_grad, _ = take_step(
                objective, params, direction, grad=grad, value=value
            )
        if step == 0.0:
            if pairs.size:  # retry along the steepest descent direction
                pairs.clear()
                continue
            if products.approximate:  # maybe single-precision noise: retry accurately
                value, grad = products.refresh(params)
                grad_max = reference = float(np.abs(grad).max())
                products.disable()
                continue
            break
        n_iter += 1
        products.moved(float(np.abs(new_grad).max()))
        if n_iter % _REFRESH_EVERY == 0:
            new_value, fresh_grad = products.refresh(new_params)
            pairs.push(new_params - params, fresh_grad - grad)
            new_grad = fresh_grad
        else:
            pairs.push(new_params - params, new_grad - grad)
        params, value, grad = new_params, new_value, new_grad
        grad_max = float(np.abs(grad).max())
        history.append(grad_max)
        if verbose:
            print(
                f"[lbfgs] iter {n_iter:4d}  objective {value:.15g}  "
                f"max|grad| {grad_max:.3e}  step {step:.3g}"
            )
        if should_stop is not None and should_stop(history):
            break
    if products.approximate:
        value, grad = products.refresh(params)
        grad_max = float(np.abs(grad).max())
    products.close()
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
