"""Solvers behind the estimators: one interface, ``solve(objective, params, ...)``.

``solver="auto"`` runs L-BFGS while it is on course to reach ``tol`` for less
than the cost of a few Newton steps, and otherwise hands its iterate to
Newton-Cholesky, which finishes in a few quadratically convergent steps.
Well-conditioned problems with many samples (where one Gram matrix costs as
much as the whole L-BFGS run) are thus solved by L-BFGS alone, ill-conditioned
or ``n_features >= n_samples`` problems by Newton.
"""

from __future__ import annotations

import math

import numpy as np

from ._lbfgs import lbfgs
from ._newton import newton_cholesky
from ._result import SolverResult, warn_if_not_converged

__all__ = ["SolverResult", "solve", "warn_if_not_converged", "SMOOTH_SOLVERS"]

SMOOTH_SOLVERS = ("auto", "newton-cholesky", "lbfgs")

# How many matrix-vector passes one Gram-matrix flop is worth: BLAS-3 runs
# this many times faster per flop than the memory-bound BLAS-2 passes.
_GEMM_SPEEDUP = 16.0
# Features below which a Newton step is cheaper than any L-BFGS run.
_NEWTON_ONLY_FEATURES = 64


def newton_step_cost_in_passes(n_samples: int, n_params: int) -> float:
    """Estimated cost of one Newton step, in passes over ``X``.

    A pass costs ``n * p`` flops at BLAS-2 speed; the Gram matrix
    ``n p^2 / 2`` and the Cholesky factorisation ``p^3 / 3`` flops run at
    BLAS-3 speed.
    """
    flops = n_samples * n_params**2 / 2 + n_params**3 / 3
    return flops / (n_samples * n_params) / _GEMM_SPEEDUP + 2.0


def _lbfgs_not_worth_continuing(tol: float, newton_cost: float):
    """Return a ``should_stop`` rule for L-BFGS in ``solver="auto"``.

    After a few iterations, the recent linear rate of decrease of ``max|grad|``
    predicts the iterations still needed to reach ``tol``; when those would
    cost more passes than three Newton steps, L-BFGS stops and Newton takes
    over from its iterate.
    """
    window = 10

    def should_stop(history: list[float]) -> bool:
        k = len(history)
        if k < 2 * window:
            return False
        previous, current = history[-window - 1], history[-1]
        if current <= tol:
            return False
        if not (0 < current < previous):
            rate = 1.0
        else:
            rate = (current / previous) ** (1.0 / window)
        remaining = math.inf if rate >= 1.0 else math.log(tol / current) / math.log(rate)
        return 2.0 * remaining > 3.0 * newton_cost

    return should_stop


def solve(objective, params, *, solver="auto", tol=1e-8, max_iter=1000, verbose=0):
    """Minimise a smooth objective with the named solver.

    Parameters
    ----------
    objective : PoissonObjective
    params : ndarray of shape (n_params,)
        Starting point.
    solver : {"auto", "newton-cholesky", "lbfgs"}
    tol : float
        Stop when the largest absolute gradient entry is at most ``tol``.
    max_iter : int
        Maximum iterations of each solver used.
    verbose : int

    Returns
    -------
    SolverResult
    """
    params = np.asarray(params, dtype=np.float64)
    if solver == "newton-cholesky":
        return newton_cholesky(objective, params, tol=tol, max_iter=max_iter, verbose=verbose)
    if solver == "lbfgs":
        return lbfgs(objective, params, tol=tol, max_iter=max_iter, verbose=verbose)
    if solver != "auto":
        raise ValueError(f"solver must be one of {SMOOTH_SOLVERS}, got {solver!r}.")
    n_samples = objective.y.shape[0]
    if objective.n_params <= _NEWTON_ONLY_FEATURES:
        return newton_cholesky(objective, params, tol=tol, max_iter=max_iter, verbose=verbose)
    newton_cost = newton_step_cost_in_passes(n_samples, objective.n_params)
    first = lbfgs(
        objective,
        params,
        tol=tol,
        max_iter=max_iter,
        verbose=verbose,
        should_stop=_lbfgs_not_worth_continuing(tol, newton_cost),
    )
    if first.converged:
        return first
    second = newton_cholesky(
        objective,
        first.params,
        tol=tol,
        max_iter=max_iter,
        verbose=verbose,
        solver_name="lbfgs+newton-cholesky",
    )
    second.n_iter += first.n_iter
    return second
