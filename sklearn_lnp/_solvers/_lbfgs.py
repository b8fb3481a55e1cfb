"""L-BFGS for the smooth (L2) objective of ``k`` neurons in lockstep, one read of ``X`` each step.

Every neuron keeps its own correction pairs, step and stopping test
(``max|grad_j| <= tol``); they share the reads of ``X``: an iteration needs
``Z = X D`` for the new directions ``D`` (one column per neuron) and
``X.T @ R`` at the new points, and both come from one fused sweep over ``X``
(:meth:`PoissonObjective.gradient_along`, matrix-matrix products for
``k > 1``), evaluated at the unit steps; the linear predictors are updated
as ``eta + t Z`` (no pass).  A neuron that has converged leaves the active
set, so the products shrink as the fit goes; ``k = 1`` is the ordinary
single-neuron fit, at the cost of matrix-vector products (and, with
accurate products, the same iterations on Python scalars,
:func:`_lbfgs_one`, without the lockstep bookkeeping).  The unit step is
accepted on the Armijo and strong Wolfe conditions (almost always after the
first iteration); otherwise the step is searched on the one-dimensional
restriction of the objective, ``O(n_samples)`` per trial
(:mod:`._line_search`, vectorised over the neurons), and its gradient costs
one more pass for the neurons concerned.  That
restriction computes decreases relative to the current point (``expm1``), so
the search keeps making progress where objective values no longer differ in
floating point: L-BFGS reaches tight gradient tolerances (1e-8 and below)
instead of stalling at the round-off floor of ``F``.  The inverse-Hessian
product uses the compact representation (a few BLAS calls).  On float32
designs the sweeps run in single precision while far from the optimum, with
accurate refreshes (:class:`_Products`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import dtrsv

from ._line_search import search_unscaled, take_step
from ._result import SolverResult
from ._smooth import SmoothProblem

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
    (``S' Y`` and ``Y' Y`` are updated by one row and column per pair).  The
    pairs are stored interleaved (rows ``s_0, y_0, s_1, y_1, ...``), so that
    ``S'g`` and ``Y'g`` come from one matrix-vector product, and so does
    ``S p - gamma Y c``.
    """

    def __init__(self, n_params: int, memory: int):
        # Twice the memory: the window of valid pairs slides forward and is
        # moved back to the front only once every ``memory`` pushes.
        self._pairs = np.empty((2 * memory, 2, n_params))  # [i, 0] = s_i, [i, 1] = y_i
        self._sy = np.empty((2 * memory, 2 * memory))  # sy[i, j] = s_i . y_j
        self._yy = np.empty((2 * memory, 2 * memory))  # yy[i, j] = y_i . y_j
        self._d = np.empty(2 * memory)  # d[i] = s_i . y_i, the diagonal of sy
        self.start = 0
        self.size = 0
        self.memory = memory

    def push(self, s: np.ndarray, y: np.ndarray) -> None:
        if self.start + self.size == 2 * self.memory:  # slide the window back
            old = slice(self.start, self.start + self.size)
            new = slice(0, self.size)
            self._pairs[new] = self._pairs[old]
            self._sy[new, new] = self._sy[old, old]
            self._yy[new, new] = self._yy[old, old]
            self._d[new] = self._d[old]
            self.start = 0
        k = self.start + self.size
        i0 = self.start + int(self.size == self.memory)  # the oldest pair kept
        newest = self._pairs[k]
        newest[0] = s
        newest[1] = y
        # Only the products the matrices need, each a matrix-vector product
        # over the rows y_i (or s_i), i = i0 .. k, of the interleaved store.
        kept = self._pairs[i0 : k + 1]
        ys = kept[:, 1] @ s  # y_i . s; the last is y . s
        yy = kept[:, 1] @ y  # y_i . y
        sy = float(ys[-1])
        # Curvature condition; holds for convex objectives with exact line
        # searches unless s or y are at round-off level.
        if not sy > 1e-12 * math.sqrt(float(s @ s) * float(yy[-1])):
            return
        if i0 > self.start:  # drop the oldest pair
            self.start = i0
            self.size -= 1
        self._sy[k, i0 : k + 1] = ys
        self._sy[i0:k, k] = kept[:-1, 0] @ y  # s_i . y
        self._yy[k, i0 : k + 1] = yy
        self._yy[i0:k, k] = yy[:-1]
        self._d[k] = sy
        self.size += 1

    def clear(self) -> None:
        self.start = 0
        self.size = 0

    def direction(self, grad: np.ndarray) -> np.ndarray:
        """``-H grad`` with the L-BFGS inverse-Hessian approximation ``H``."""
        if self.size == 0:
            return -grad
        start, stop = self.start, self.start + self.size
        pairs = self._pairs[start:stop].reshape(-1, grad.size)
        sy = self._sy[start:stop, start:stop]
        gamma = sy[-1, -1] / self._yy[stop - 1, stop - 1]
        products = pairs @ grad  # s_0 . g, y_0 . g, s_1 . g, ...
        # dtrsv reads only the upper triangle of sy: that is R.
        c = dtrsv(sy, products[0::2], lower=0, trans=0)
        rhs = self._yy[start:stop, start:stop] @ c
        rhs -= products[1::2]
        rhs *= gamma
        rhs += self._d[start:stop] * c
        coefficients = np.empty(pairs.shape[0])
        np.negative(dtrsv(sy, rhs, lower=0, trans=1), out=coefficients[0::2])
        np.multiply(c, gamma, out=coefficients[1::2])
        direction = coefficients @ pairs  # -(S p - gamma Y c)
        direction -= gamma * grad
        return direction


class _Products:
    """Single-precision products on a float32 design, refreshed accurately, per neuron.

    On a dense float32 ``X`` the sweeps run in single precision
    (``fast=True``, about twice as fast) while the iterates are far from the
    optimum: their errors (~1e-6 relative in ``X d``, which accumulate in
    ``eta``) only slow the progress a little there.  A neuron's value and
    gradient are recomputed with float64 accumulation ("refresh": ``eta = X
    w`` afresh) whenever its ``max|grad|`` has dropped by ``_FAST_DROP``
    since its last accurate evaluation, and always before it stops, so the
    stopping test and the returned values are accurate.  When a neuron's
    approximate gradients stall (their round-off floor, which depends on the
    design), its line search fails, or its accurate gradient misses ``tol``,
    the products of the whole lockstep stay accurate from then on.
    """

    def __init__(self, X, k: int):
        self.enabled = not sp.issparse(X) and X.dtype == np.float32
        # Whether single precision was ever on: otherwise nothing is approximate.
        self.used = self.enabled
        self.approximate = np.full(k, self.enabled)
        self.iterations = np.zeros(k, dtype=int)
        self.improved_at = np.zeros(k, dtype=int)
        self.best = np.full(k, np.inf)

    def moved(self, cols: np.ndarray, grad_max: np.ndarray) -> None:
        """Neurons ``cols`` moved to new iterates (approximate if enabled)."""
        self.approximate[cols] = self.enabled
        self.iterations[cols] += 1
        better = grad_max < 0.5 * self.best[cols]
        self.best[cols[better]] = grad_max[better]
        self.improved_at[cols[better]] = self.iterations[cols[better]]

    def stalled(self, cols: np.ndarray) -> np.ndarray:
        """Whether approximate gradients stopped halving: their noise floor is reached."""
        return self.iterations[cols] - self.improved_at[cols] >= _FAST_PATIENCE

    def disable(self) -> None:
        """Accurate products from now on."""
        self.enabled = False


def _mixed_steps(problem, here, D, values, G, paired, products):
    """Steps of neurons with pairs (``take_step``) and without (``search_unscaled``)."""
    P, eta = here
    k = D.shape[1]
    out = [np.zeros(k), np.empty_like(P), np.empty(k), np.empty_like(P), np.empty_like(eta)]
    for group in (np.flatnonzero(paired), np.flatnonzero(~paired)):
        sub = problem.subset(group)
        if paired[group[0]]:
            found = take_step(
                sub,
                P[:, group],
                eta[:, group],
                D[:, group],
                values[group],
                G[:, group],
                fast=products.enabled,
            )
        else:
            found = search_unscaled(
                sub, P[:, group], eta[:, group], D[:, group], fast=products.enabled
            )
        out[0][group], out[2][group] = found[0], found[2]
        for index in (1, 3, 4):
            out[index][:, group] = found[index]
    return tuple(out)


def _largest(G: np.ndarray) -> np.ndarray:
    """``max_i |G_ij|`` per column, shape (k,)."""
    return np.maximum.reduce(np.abs(G), axis=0, initial=0.0)


def _take(array: np.ndarray, cols: np.ndarray, k: int) -> np.ndarray:
    """Columns ``cols`` of ``array``: the array itself when they are all ``k``."""
    return array if cols.size == k else array[:, cols]


def lbfgs(
    problem: SmoothProblem,
    P,
    *,
    tol,
    max_iter,
    verbose=0,
    should_stop: Callable | Sequence[Callable] | None = None,
    memory=_MEMORY,
    pairs: Sequence[_History] | None = None,
    return_state: bool = False,
):
    """Minimise every neuron's objective by L-BFGS with exact line searches, in lockstep.

    Neuron ``j`` stops when ``max |grad_j| <= tol`` (the documented
    criterion), after ``max_iter`` iterations, when its ``should_stop`` rule
    returns True, or when no decrease can be found along its L-BFGS
    direction nor along its steepest-descent direction (round-off floor);
    ``converged`` reports whether the gradient criterion holds at the
    returned point.

    Parameters
    ----------
    problem : SmoothProblem
        The objective of ``k`` neurons and their smooth penalty.
    P : ndarray of shape (n_params, k)
        Starting points, one column per neuron.
    tol : float
    max_iter : int
        Maximum iterations per neuron.
    verbose : int
    should_stop : callable, sequence of k callables, or None
        Called after every iteration of a neuron with the list of its
        ``max |grad|`` values so far; True stops that neuron (used by
        ``solver="auto"``).
    memory : int
        Number of correction pairs kept per neuron.
    pairs : sequence of k ``_History`` of ``memory`` pairs, or None
        Each neuron's correction pairs to start from (updated in place);
        None: no pairs (the first step is a searched steepest descent).

    Returns
    -------
    list of SolverResult
        One per neuron; ``n_passes`` and ``n_grams`` count the reads of the
        whole lockstep run, shared by its neurons.
    state : tuple
        Only with ``return_state``: the values (k,), gradients (n_params, k)
        and ``eta`` (n_samples, k) at the returned points, accurate (float64
        products), for a solver that continues from them
        (``newton_cholesky(..., evaluated=state)``).
    """
    objective = problem.objective
    P = np.array(P, dtype=np.float64)
    n_params, k = P.shape
    every = np.arange(k)
    rules = list(should_stop) if isinstance(should_stop, Sequence) else [should_stop] * k
    products = _Products(objective.X, k)
    if k == 1 and not products.enabled:
        seed = None if pairs is None else pairs[0]
        result, state = _lbfgs_one(problem, P, tol, max_iter, verbose, rules[0], memory, seed)
        return ([result], state) if return_state else [result]
    values, G, eta = problem.evaluate(P, fast=products.enabled)
    grad_max = _largest(G)
    reference = grad_max.copy()  # max|grad| at each neuron's last accurate evaluation
    if pairs is None:
        pairs = [_History(n_params, memory) for _ in range(k)]
    histories: list[list[float]] = [[] for _ in range(k)]
    n_iter = np.zeros(k, dtype=int)
    stopped = np.zeros(k, dtype=bool)
    rounds = 0

    def refresh(cols):
        """Accurate values and gradients of ``cols`` from a fresh ``eta = X W``."""
        part = _take(P, cols, k)
        sub = problem if cols.size == k else problem.subset(cols)
        values[cols], G[:, cols], eta[:, cols] = sub.evaluate(part)
        grad_max[cols] = reference[cols] = _largest(G[:, cols])
        products.approximate[cols] = False

    while True:
        if products.used and products.approximate.any():
            approximate = np.flatnonzero(products.approximate & ~stopped)
            stalled = products.stalled(approximate)
            at_tol = grad_max[approximate] <= tol
            due = stalled | at_tol | (grad_max[approximate] <= _FAST_DROP * reference[approximate])
            if due.any():
                refresh(approximate[due])
                missed = at_tol[due] & (grad_max[approximate[due]] > tol)
                if np.any(stalled[due] | missed):  # single-precision noise floor
                    products.disable()
        if k == 1:  # one neuron: the same test on scalars
            live = not stopped[0] and grad_max[0] > tol and n_iter[0] < max_iter
            active = every if live else every[:0]
        else:
            live = ~stopped & (grad_max > tol) & (n_iter < max_iter)
            active = every if live.all() else np.flatnonzero(live)
        if not active.size:
            break
        whole = active.size == k
        indices = active.tolist()
        paired = [pairs[j].size > 0 for j in indices]
        if len(indices) == 1:  # one direction: a column view, no copy
            D = pairs[indices[0]].direction(G[:, indices[0]])[:, None]
        else:
            D = np.empty((n_params, active.size))
            for i, j in enumerate(indices):
                D[:, i] = pairs[j].direction(G[:, j])
        here = (_take(P, active, k), _take(eta, active, k))
        sub = problem if whole else problem.subset(active)
        here_values = values if whole else values[active]
        if all(paired):
            found = take_step(
                sub, *here, D, here_values, _take(G, active, k), fast=products.enabled
            )
        elif not any(paired):
            # unscaled steepest descent: Z = X d before the search, two passes
            found = search_unscaled(sub, *here, D, fast=products.enabled)
        else:
            found = _mixed_steps(
                sub, here, D, here_values, _take(G, active, k), np.array(paired), products
            )
        steps, new_P, new_values, new_G, new_eta = found
        if not steps.all():
            for i in np.flatnonzero(steps == 0.0):
                j = active[i]
                if pairs[j].size:  # retry along the steepest descent direction
                    pairs[j].clear()
                elif products.approximate[j]:  # maybe single-precision noise: retry accurately
                    refresh(np.array([j]))
                    products.disable()
                else:
                    stopped[j] = True
            moved_at = np.flatnonzero(steps > 0.0)
            if not moved_at.size:
                continue
            cols = active[moved_at]
            new_P, new_values = new_P[:, moved_at], new_values[moved_at]
            new_G, new_eta = new_G[:, moved_at], new_eta[:, moved_at]
        else:
            cols = active
        if cols.size == k:  # every neuron moved: the new arrays replace the old ones
            n_iter += 1
            S, Y = new_P - P, new_G - G
            P, values, G, eta = new_P, new_values, new_G, new_eta
            grad_max = _largest(G)
        else:
            n_iter[cols] += 1
            S, Y = new_P - P[:, cols], new_G - G[:, cols]
            P[:, cols], values[cols] = new_P, new_values
            G[:, cols], eta[:, cols] = new_G, new_eta
            grad_max[cols] = _largest(new_G)
        if products.used:
            products.moved(cols, grad_max[cols])
        # eta = X w afresh every _REFRESH_EVERY iterations: the updates eta + t z
        # accumulate round-off
        rounds += 1  # an upper bound of n_iter.max()
        due = ()
        if rounds >= _REFRESH_EVERY and n_iter.max() >= _REFRESH_EVERY:
            due = cols[n_iter[cols] % _REFRESH_EVERY == 0]
        if len(due):
            before = G[:, due].copy()
            refresh(due)
            Y[:, np.searchsorted(cols, due)] += G[:, due] - before
        for i, j in enumerate(cols.tolist()):
            pairs[j].push(S[:, i], Y[:, i])
            if rules[j] is not None:
                histories[j].append(float(grad_max[j]))
                if rules[j](histories[j]):
                    stopped[j] = True
        if verbose:
            shown = cols[np.argmax(grad_max[cols])]
            print(
                f"[lbfgs] iter {int(n_iter[shown]):4d}  objective {values[shown]:.15g}  "
                f"max|grad| {grad_max[shown]:.3e}  step {steps.max():.3g}"
                + (f"  ({np.sum(grad_max > tol)}/{k} neurons above tol)" if k > 1 else "")
            )
    approximate = np.flatnonzero(products.approximate)
    if approximate.size:
        refresh(approximate)
    results = [
        SolverResult.of_smooth_fit(objective, P, values, grad_max[j], n_iter[j], tol, "lbfgs", j)
        for j in every
    ]
    return (results, (values, G, eta)) if return_state else results


def _lbfgs_one(problem, P, tol, max_iter, verbose, should_stop, memory, seed=None):
    """:func:`lbfgs` for one neuron with accurate products: the same iterates, on scalars.

    Returns the result and the state ``(values, G, eta)`` at its point.

    The lockstep loop's bookkeeping (active sets, column gathers, per-neuron
    arrays) costs more than the arithmetic of an iteration on small designs;
    here the neuron's state is Python floats and the ``(n_params, 1)``
    arrays that :func:`take_step` returns.
    """
    objective = problem.objective
    values, G, eta = problem.evaluate(P)
    grad_max = float(np.max(np.abs(G)))
    pairs = _History(P.shape[0], memory) if seed is None else seed
    history: list[float] = []
    n_iter = 0
    step = 0.0
    while grad_max > tol and n_iter < max_iter:
        D = pairs.direction(G[:, 0])[:, None]
        if pairs.size:
            found = take_step(problem, P, eta, D, values, G)
        else:  # unscaled steepest descent: Z = X d before the search, two passes
            found = search_unscaled(problem, P, eta, D)
        step = float(found[0][0])
        if step == 0.0:
            if not pairs.size:
                break  # no decrease along the steepest descent direction either
            pairs.clear()  # retry along the steepest descent direction
            continue
        new_P, values, new_G, eta = found[1:]
        n_iter += 1
        S = new_P - P
        Y = new_G - G
        P, G = new_P, new_G
        grad_max = float(np.max(np.abs(G)))
        if n_iter % _REFRESH_EVERY == 0:
            # eta = X w afresh: the updates eta + t z accumulate round-off
            before = G
            values, G, eta = problem.evaluate(P)
            grad_max = float(np.max(np.abs(G)))
            Y += G - before
        pairs.push(S[:, 0], Y[:, 0])
        if should_stop is not None:
            history.append(grad_max)
            if should_stop(history):
                break
        if verbose:
            print(
                f"[lbfgs] iter {n_iter:4d}  objective {float(values[0]):.15g}  "
                f"max|grad| {grad_max:.3e}  step {step:.3g}"
            )
    result = SolverResult.of_smooth_fit(objective, P, values, grad_max, n_iter, tol, "lbfgs")
    return result, (values, G, eta)
