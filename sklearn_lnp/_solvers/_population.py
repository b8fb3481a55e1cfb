r"""Population fits: many neurons sharing one design, fitted in lockstep.

Each neuron ``j`` has its own objective (:mod:`sklearn_lnp._loss`) with the
same ``X``, exposure, sample weights and ``alpha``; their sum is separable,
so the neurons are independent problems.  Fitting them one at a time reads
``X`` twice per L-BFGS iteration *per neuron* with matrix-vector products,
which are bound by memory bandwidth.  Here all neurons take their L-BFGS
iteration together: ``Z = X D`` and ``X.T R`` become matrix-matrix products
(BLAS-3, one read of ``X`` for all neurons), while every neuron keeps its own
correction pairs, its own exact line search (vectorised over neurons on the
one-dimensional restrictions, ``O(n_samples)`` per neuron and trial, no pass
over ``X``) and its own stopping test ``max|grad_j| <= tol``.  A neuron that
has converged leaves the active set, so the products shrink as the fit goes.

Neurons that do not reach ``tol`` in the lockstep phase (ill-conditioned
ones, for which ``solver="auto"`` prefers Newton, see
:func:`sklearn_lnp._solvers.solve`) are finished one by one by the
single-neuron :func:`~sklearn_lnp._solvers.solve` from their lockstep
iterate: the optimum and the stopping criterion are those of a single fit.
"""

from __future__ import annotations

import numpy as np

from .._loss import ETA_CLIP, ETA_MAX, PoissonObjective, safe_exp
from .._passes import matvec, rmatvec
from ._result import SolverResult

__all__ = ["PopulationObjective", "population_lbfgs", "solve_population"]

_MEMORY = 10
_ARMIJO = 1e-4
_MAX_EVALUATIONS = 40
_REFRESH_EVERY = 200


class PopulationObjective:
    """The objectives of ``k`` neurons that share ``X``, as one object.

    Parameters are a matrix ``P`` of shape (n_params, k): column ``j`` holds
    neuron ``j``'s coefficients followed by its intercept (when fitted).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, k)
        Counts, one column per neuron.
    exposure, sample_weight : ndarray of shape (n_samples,) or None
    alpha : float
    fit_intercept : bool
    """

    def __init__(self, X, Y, exposure=None, sample_weight=None, alpha=0.0, fit_intercept=True):
        self.X = X
        self.Y = np.asarray(Y, dtype=np.float64)
        n_samples = self.Y.shape[0]
        if sample_weight is None:
            self.weights = np.full(n_samples, 1.0 / n_samples)
        else:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            self.weights = sample_weight / sample_weight.sum()
        self.exposure = exposure
        self.sample_weight = sample_weight
        self.log_exposure = None if exposure is None else np.log(exposure)
        self.alpha = float(alpha)
        self.fit_intercept = bool(fit_intercept)
        self.n_features = X.shape[1]
        self.n_params = self.n_features + int(self.fit_intercept)
        self.weighted_Y = self.weights[:, None] * self.Y
        self.n_passes = 0

    def neuron(self, j: int) -> PoissonObjective:
        """The single-neuron objective of column ``j`` (same data, no copy of ``X``)."""
        return PoissonObjective(
            self.X,
            self.Y[:, j],
            self.exposure,
            self.sample_weight,
            alpha=self.alpha,
            fit_intercept=self.fit_intercept,
        )

    def linear_predictor(self, P: np.ndarray) -> np.ndarray:
        """``X @ W + b + log(exposure)`` of shape (n_samples, k) (one pass)."""
        p = self.n_features
        eta = np.asarray(matvec(self.X, np.ascontiguousarray(P[:p])), dtype=np.float64)
        self.n_passes += 1
        if self.fit_intercept:
            eta += P[p]
        if self.log_exposure is not None:
            eta += self.log_exposure[:, None]
        return eta

    def direction_predictor(self, D: np.ndarray) -> np.ndarray:
        """``X @ dW + db`` of shape (n_samples, k) (one pass)."""
        p = self.n_features
        z = np.asarray(matvec(self.X, np.ascontiguousarray(D[:p])), dtype=np.float64)
        self.n_passes += 1
        if self.fit_intercept:
            z += D[p]
        return z

    def value_gradient(self, P: np.ndarray, eta: np.ndarray, cols):
        """Objective values (k,) and gradients (n_params, k) of neurons ``cols``.

        ``eta`` is the linear predictor of those neurons; one pass
        (``X.T @ R``).
        """
        mu, dmu, _ = safe_exp(eta)
        if mu is not dmu:
            eta = np.clip(eta, -ETA_CLIP, ETA_CLIP)
        wY = self.weighted_Y[:, cols]
        W = P[: self.n_features]
        values = self.weights @ mu - np.einsum("ij,ij->j", wY, eta)
        residual = dmu * self.weights[:, None]
        residual -= wY
        grad = np.empty_like(P)
        grad[: self.n_features] = rmatvec(self.X, residual)
        self.n_passes += 1
        if self.alpha:
            values += 0.5 * self.alpha * np.einsum("ij,ij->j", W, W)
            grad[: self.n_features] += self.alpha * W
        if self.fit_intercept:
            grad[-1] = residual.sum(axis=0)
        return values, grad

    def initial_params(self, cols=slice(None)) -> np.ndarray:
        """Zero coefficients and each neuron's intercept-only optimum."""
        k = self.Y[:, cols].shape[1]
        P = np.zeros((self.n_params, k))
        if self.fit_intercept:
            exposure = 1.0 if self.exposure is None else self.exposure
            total = float(np.sum(self.weights * exposure))
            rate = self.weighted_Y[:, cols].sum(axis=0) / total
            P[-1] = np.log(np.maximum(rate, np.finfo(float).tiny))
        return P


class _Lines:
    r"""The restrictions ``phi_j(t) = F_j(P_j + t D_j) - F_j(P_j)`` of many neurons.

    Vectorised form of :class:`sklearn_lnp._loss.LineRestriction`: with
    ``eta`` and ``Z = X D`` known, each evaluation costs ``O(n_samples)``
    per neuron and no pass over ``X``; the decrease is computed with
    ``expm1`` (accurate relative to the decrease itself).
    """

    def __init__(self, objective, eta, z, W, dW, cols):
        self.weights = objective.weights
        self.eta = eta
        self.z = z
        self.mu0, self.dmu0, _ = safe_exp(eta)
        self.wmu = self.mu0 * self.weights[:, None]
        wY = objective.weighted_Y[:, cols]
        alpha = objective.alpha
        self.c1 = alpha * np.einsum("ij,ij->j", W, dW)
        self.c2 = alpha * np.einsum("ij,ij->j", dW, dW)
        self.slope_y = np.einsum("ij,ij->j", wY, z)
        self.first0 = np.einsum("ij,ij->j", self.wmu, z)
        self.second0 = np.einsum("ij,ij->j", self.wmu, z * z)
        self.eta_max = eta.max(axis=0)
        self.z_max = z.max(axis=0)
        self.z_min = z.min(axis=0)
        if self.mu0 is self.dmu0:
            self.slope = self.first0 - self.slope_y + self.c1
        else:
            wdmu = self.dmu0 * self.weights[:, None]
            self.slope = np.einsum("ij,ij->j", wdmu, z) - self.slope_y + self.c1

    def __call__(self, t: np.ndarray, idx: np.ndarray):
        """``phi, phi', phi''`` at steps ``t`` of the neurons ``idx`` (positions)."""
        z = self.z[:, idx]
        penalty = t * self.c1[idx] + 0.5 * t * t * self.c2[idx]
        top = t * np.where(t >= 0, self.z_max[idx], self.z_min[idx])
        if np.all(self.eta_max[idx] + top <= ETA_MAX) and np.all(top <= 700.0):
            grow = np.expm1(z * t)
            grow *= self.wmu[:, idx]
            gz = grow * z
            value = grow.sum(axis=0) - t * self.slope_y[idx] + penalty
            first = self.first0[idx] + gz.sum(axis=0) - self.slope_y[idx] + self.c1[idx]
            first += t * self.c2[idx]
            second = self.second0[idx] + np.einsum("ij,ij->j", gz, z) + self.c2[idx]
            return value, first, second
        eta = self.eta[:, idx]
        value_t, first_t, second_t = safe_exp(eta + z * t)
        value = self.weights @ (value_t - self.mu0[:, idx]) - t * self.slope_y[idx] + penalty
        first = self.weights @ (first_t * z) - self.slope_y[idx] + self.c1[idx] + t * self.c2[idx]
        second = self.weights @ (second_t * z * z) + self.c2[idx]
        return value, first, second


def _line_search(lines: _Lines, t0: np.ndarray) -> np.ndarray:
    """Vectorised safeguarded Newton search on ``phi_j'(t) = 0``.

    The unit step (or ``t0``) is accepted under the Armijo and strong Wolfe
    (0.9) conditions, as in the single-neuron L-BFGS; otherwise the search
    continues with curvature 0.1 as :func:`._line_search.line_search`.
    Returns the steps; 0 for neurons where no decrease was found.
    """
    k = t0.shape[0]
    slope = lines.slope
    steps = np.zeros(k)
    pending = np.flatnonzero(slope < 0.0)
    if not pending.size:
        return steps
    t = t0[pending].copy()
    lo = np.zeros(pending.size)
    hi = np.full(pending.size, np.inf)
    best_t = np.zeros(pending.size)
    best_v = np.zeros(pending.size)
    curvature = np.full(pending.size, 0.9)
    for _ in range(_MAX_EVALUATIONS):
        value, first, second = lines(t, pending)
        s0 = slope[pending]
        finite = np.isfinite(value) & np.isfinite(first)
        sufficient = finite & (value <= _ARMIJO * t * s0)
        better = sufficient & (value < best_v)
        best_t[better] = t[better]
        best_v[better] = value[better]
        done = sufficient & (np.abs(first) <= curvature * np.abs(s0))
        steps[pending[done]] = t[done]
        # bracket update
        lo = np.where(finite & (first < 0.0), t, lo)
        hi = np.where(~finite | (first >= 0.0), t, hi)
        stalled = ~done & (hi - lo <= 1e-15 * hi)
        steps[pending[stalled]] = best_t[stalled]
        keep = ~(done | stalled)
        if not keep.any():
            return steps
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = np.where((second > 0) & np.isfinite(second), t - first / second, np.nan)
        inside = (lo < newton) & (newton < hi)
        fallback = np.where(np.isfinite(hi), 0.5 * (lo + hi), 4.0 * t)
        new_t = np.where(inside, newton, fallback)
        new_t = np.where(~finite, 0.5 * (lo + hi), new_t)
        worse = finite & (value > 0.0)
        new_t = np.where(worse, np.minimum(new_t, 0.5 * (lo + t)), new_t)
        pending, t = pending[keep], new_t[keep]
        lo, hi, best_t, best_v = lo[keep], hi[keep], best_t[keep], best_v[keep]
        curvature = np.full(pending.size, 0.1)
    steps[pending] = best_t
    return steps


class _Pairs:
    """Per-neuron L-BFGS correction pairs, stored for all neurons in one ring.

    Every iteration pushes one slot for all neurons; a neuron whose pair is
    rejected (curvature condition) or that did not move gets ``rho = 0`` in
    that slot, which makes the slot a no-op in its two-loop recursion.
    """

    def __init__(self, n_params: int, k: int, memory: int):
        self.s = np.zeros((memory, n_params, k))
        self.y = np.zeros((memory, n_params, k))
        self.rho = np.zeros((memory, k))
        self.gamma = np.ones(k)
        self.count = np.zeros(k, dtype=int)  # valid pairs per neuron
        self.head = 0  # next slot to write
        self.pushes = 0
        self.memory = memory

    def push(self, S: np.ndarray, Y: np.ndarray, cols: np.ndarray) -> None:
        slot = self.head
        self.s[slot] = 0.0
        self.y[slot] = 0.0
        self.rho[slot] = 0.0
        sy = np.einsum("ij,ij->j", S, Y)
        yy = np.einsum("ij,ij->j", Y, Y)
        ss = np.einsum("ij,ij->j", S, S)
        ok = sy > 1e-12 * np.sqrt(ss * yy)
        good = cols[ok]
        self.s[slot][:, good] = S[:, ok]
        self.y[slot][:, good] = Y[:, ok]
        self.rho[slot, good] = 1.0 / sy[ok]
        self.gamma[good] = sy[ok] / yy[ok]
        self.count[good] = np.minimum(self.count[good] + 1, self.memory)
        self.head = (self.head + 1) % self.memory
        self.pushes += 1

    def clear(self, cols: np.ndarray) -> None:
        self.rho[:, cols] = 0.0
        self.gamma[cols] = 1.0
        self.count[cols] = 0

    def direction(self, G: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``-H_j g_j`` for the neurons ``cols`` (two-loop recursion, vectorised)."""
        q = G.copy()
        n_slots = min(self.pushes, self.memory)
        order = [(self.head - 1 - i) % self.memory for i in range(n_slots)]  # newest first
        a = {}
        for slot in order:
            rho = self.rho[slot, cols]
            if not rho.any():
                continue
            S = self.s[slot][:, cols]
            a[slot] = rho * np.einsum("ij,ij->j", S, q)
            q -= self.y[slot][:, cols] * a[slot]
        q *= self.gamma[cols]
        for slot in reversed(order):
            if slot not in a:
                continue
            rho = self.rho[slot, cols]
            Y = self.y[slot][:, cols]
            b = rho * np.einsum("ij,ij->j", Y, q)
            q += self.s[slot][:, cols] * (a[slot] - b)
        return -q


def population_lbfgs(objective: PopulationObjective, P, *, tol, max_iter, should_stop=None):
    """L-BFGS on all neurons in lockstep (matrix-matrix products over ``X``).

    Parameters
    ----------
    objective : PopulationObjective
    P : ndarray of shape (n_params, k)
        Starting point, one column per neuron.
    tol : float
        Neuron ``j`` stops when ``max|grad_j| <= tol``.
    max_iter : int
        Maximum lockstep iterations.
    should_stop : callable or None
        ``should_stop(history) -> bool`` per neuron on its list of
        ``max|grad|`` values (the ``solver="auto"`` hand-over rule); a neuron
        for which it returns True leaves the lockstep phase unconverged.

    Returns
    -------
    P : ndarray of shape (n_params, k)
    values : ndarray of shape (k,)
    optimality : ndarray of shape (k,)
        ``max|grad_j|``, recomputed from a fresh ``eta = X W`` at the end.
    n_iter : ndarray of shape (k,) of int
        Lockstep iterations in which each neuron moved.
    """
    P = np.array(P, dtype=np.float64)
    k = P.shape[1]
    every = np.arange(k)
    eta = objective.linear_predictor(P)
    values, G = objective.value_gradient(P, eta, every)
    gmax = np.abs(G).max(axis=0)
    pairs = _Pairs(objective.n_params, k, _MEMORY)
    n_iter = np.zeros(k, dtype=int)
    stopped = np.zeros(k, dtype=bool)
    histories: list[list[float]] = [[] for _ in range(k)]
    for iteration in range(1, max_iter + 1):
        active = np.flatnonzero(~stopped & (gmax > tol))
        if not active.size:
            break
        D = pairs.direction(G[:, active], active)
        Z = objective.direction_predictor(D)
        W = P[: objective.n_features, active]
        lines = _Lines(objective, eta[:, active], Z, W, D[: objective.n_features], active)
        # Unit step with curvature pairs, the quadratic model's step without.
        with np.errstate(divide="ignore", invalid="ignore"):
            t_model = -lines.slope / (lines.second0 + lines.c2)
        t_model = np.where(np.isfinite(t_model) & (t_model > 0), t_model, 1.0)
        t0 = np.where(pairs.count[active] > 0, 1.0, t_model)
        steps = _line_search(lines, t0)
        failed = steps == 0.0
        if failed.any():
            # Retry along steepest descent where there were pairs; stop otherwise.
            had_pairs = pairs.count[active[failed]] > 0
            pairs.clear(active[failed][had_pairs])
            stopped[active[failed][~had_pairs]] = True
        moved = ~failed
        cols = active[moved]
        if cols.size:
            S = D[:, moved] * steps[moved]
            new_P = P[:, cols] + S
            if iteration % _REFRESH_EVERY == 0:
                new_eta = objective.linear_predictor(new_P)
            else:
                new_eta = eta[:, cols] + Z[:, moved] * steps[moved]
            new_values, new_G = objective.value_gradient(new_P, new_eta, cols)
            pairs.push(S, new_G - G[:, cols], cols)
            P[:, cols] = new_P
            eta[:, cols] = new_eta
            values[cols] = new_values
            G[:, cols] = new_G
            gmax[cols] = np.abs(new_G).max(axis=0)
            n_iter[cols] += 1
            if should_stop is not None:
                for j in cols:
                    histories[j].append(float(gmax[j]))
                    if should_stop(histories[j]):
                        stopped[j] = True
    # Accurate values and gradients from a fresh eta = X W (no accumulated round-off).
    eta = objective.linear_predictor(P)
    values, G = objective.value_gradient(P, eta, every)
    return P, values, np.abs(G).max(axis=0), n_iter


def solve_population(
    objective: PopulationObjective, P, *, solver="auto", tol=1e-8, max_iter=1000, verbose=0
) -> list[SolverResult]:
    """Fit all neurons of ``objective``; one :class:`SolverResult` per neuron.

    ``"lbfgs"`` and ``"auto"`` run :func:`population_lbfgs` first (``"auto"``
    with the single-neuron hand-over rule to Newton, per neuron); neurons not
    at ``tol`` after it are finished by the single-neuron
    :func:`~sklearn_lnp._solvers.solve` with the same ``solver``.
    ``"newton-cholesky"`` needs one Gram matrix per neuron and step (nothing
    to share), and ``"auto"`` goes to Newton directly on problems where the
    single-neuron rule does: those fit each neuron with :func:`solve`.
    """
    from . import (
        _LBFGS_MIN_ITERATIONS,
        _NEWTON_STEPS_COLD,
        _NEWTON_STEPS_WARM,
        _lbfgs_not_worth_continuing,
        lbfgs_iteration_cost_in_passes,
        newton_cost_in_passes,
        solve,
    )

    P = np.array(P, dtype=np.float64)
    k = P.shape[1]
    lockstep = solver == "lbfgs"
    should_stop = None
    if solver == "auto" and k:
        single = objective.neuron(0)
        iteration_cost = lbfgs_iteration_cost_in_passes(single)
        newton_direct = newton_cost_in_passes(single, _NEWTON_STEPS_COLD) <= (
            _LBFGS_MIN_ITERATIONS * iteration_cost
        )
        if not newton_direct:
            lockstep = True
            newton_cost = newton_cost_in_passes(single, _NEWTON_STEPS_WARM)
            should_stop = _lbfgs_not_worth_continuing(tol, newton_cost, iteration_cost)
    if lockstep:
        P, values, optimality, n_iter = population_lbfgs(
            objective, P, tol=tol, max_iter=max_iter, should_stop=should_stop
        )
        if verbose:
            print(
                f"[population-lbfgs] {int(np.sum(optimality <= tol))}/{k} neurons at tol "
                f"after {int(n_iter.max(initial=0))} lockstep iterations"
            )
    else:
        values = np.full(k, np.nan)
        optimality = np.full(k, np.inf)
        n_iter = np.zeros(k, dtype=int)
    results = []
    for j in range(k):
        if optimality[j] <= tol:
            results.append(
                SolverResult(
                    params=P[:, j].copy(),
                    objective=float(values[j]),
                    optimality=float(optimality[j]),
                    n_iter=int(n_iter[j]),
                    converged=True,
                    solver="population-lbfgs",
                )
            )
            continue
        result = solve(
            objective.neuron(j), P[:, j], solver=solver, tol=tol, max_iter=max_iter, verbose=verbose
        )
        if lockstep:
            result.n_iter += int(n_iter[j])
            result.solver = "population-lbfgs+" + result.solver
        results.append(result)
    return results
