"""Solvers behind the estimators: one interface, ``solve(objective, params, ...)``.

Costs are counted in *passes* over ``X`` (one read of the design; see
:mod:`sklearn_lnp._passes`).  An L-BFGS iteration costs about one pass (the
direction's ``X d`` and the new gradient are fused in one read).  A Newton
step costs a weighted Gram matrix and a Cholesky factorisation (primal form)
or a Cholesky factorisation of an ``n_samples`` matrix after a kernel
``X X'`` computed once (dual form, see :mod:`._newton`); these run at BLAS-3
speed, ``_GEMM_SPEEDUP`` times more multiply-adds per second than a pass.

``solver="auto"`` runs L-BFGS while it is on course to reach ``tol`` for
less than what Newton would cost from there, and otherwise hands its iterate
to Newton-Cholesky.  The rule predicts the remaining L-BFGS iterations from
the observed (linear) rate of decrease of ``max|grad|``; in addition L-BFGS
never spends more than Newton would (so ``auto`` costs at most about twice
the cheaper of the two).  Well-conditioned problems with many samples are
thus solved by L-BFGS alone, ill-conditioned ones by Newton; problems with
few features go to Newton directly.
"""

from __future__ import annotations

import math

import numpy as np

from ._lbfgs import lbfgs
from ._newton import newton_cholesky, use_dual
from ._result import SolverResult, warn_if_not_converged

__all__ = ["SolverResult", "solve", "warn_if_not_converged", "SMOOTH_SOLVERS"]

SMOOTH_SOLVERS = ("auto", "newton-cholesky", "lbfgs")

# Multiply-adds per second of dsyrk / Cholesky over those of a pass over X
# (matrix-vector products are memory bound).  Measured single-threaded on
# the development machine (AMD EPYC, OpenBLAS 0.3): a 1500 x 1500 Gram matrix
# of 1484 rows costs as much as ~90 passes, i.e. (p / 2) / 90 ~ 8.
_GEMM_SPEEDUP = 8.0
# Passes per L-BFGS iteration: one fused sweep, plus the occasional rejected
# unit step (measured 1.05-1.2).
_LBFGS_ITERATION_PASSES = 1.2
# Fixed Python/LAPACK-call overhead of one iteration of either solver, in
# multiply-adds of a pass: ~0.3 ms at ~4 GFMA/s (measured: 0.5 ms of the
# 1.5 ms L-BFGS iterations on a 1484 x 1500 design).  It makes few-iteration
# Newton the choice for small problems.
_ITERATION_OVERHEAD = 1.0e6
# Newton steps needed from an L-BFGS iterate, and from the initial point
# (measured 3-5 and 5-8 on the benchmark problems).
_NEWTON_STEPS_WARM = 4
_NEWTON_STEPS_COLD = 7
# Fewest L-BFGS iterations a fit takes (measured 11 on the 100,000 x 1500
# simulation, 19 at 20,000 x 1500): Newton is used directly when it costs less.
_LBFGS_MIN_ITERATIONS = 15


def _overhead_in_passes(objective) -> float:
    return _ITERATION_OVERHEAD / (float(objective.y.shape[0]) * objective.n_params)


def lbfgs_iteration_cost_in_passes(objective) -> float:
    """Estimated cost of one L-BFGS iteration, in passes over ``X``."""
    return _LBFGS_ITERATION_PASSES + _overhead_in_passes(objective)


def newton_cost_in_passes(objective, steps: int) -> float:
    """Estimated cost of ``steps`` Newton steps, in passes over ``X``.

    Includes the one-off kernel of the dual form.  A pass is ``n p``
    multiply-adds at memory speed; BLAS-3 work runs ``_GEMM_SPEEDUP`` times
    faster.
    """
    n, p = objective.y.shape[0], objective.n_params
    per_pass = float(n) * p
    if use_dual(objective):
        setup = n * n * p / 2 / _GEMM_SPEEDUP / per_pass
        step = (n**3 / 6) / _GEMM_SPEEDUP / per_pass + 2.0 + 3.0 * n / p
    else:
        setup = 0.0
        step = (n * p * p / 2 + p**3 / 6) / _GEMM_SPEEDUP / per_pass + 1.0
    return setup + steps * (step + _overhead_in_passes(objective))


def _lbfgs_not_worth_continuing(tol: float, newton_cost: float, iteration_cost: float):
    """Return a ``should_stop`` rule for L-BFGS in ``solver="auto"``.

    After ``window`` iterations, the rate of decrease of the running minimum
    of ``max|grad|`` over the last half of the iterations (least-squares slope
    of its logarithm) predicts the iterations still needed to reach ``tol``;
    L-BFGS stops, and Newton takes over from its iterate, when those would
    cost more passes than Newton, or when L-BFGS has already spent as much.
    """
    window = 10

    def should_stop(history: list[float]) -> bool:
        k = len(history)
        if k < window or history[-1] <= tol:
            return False
        spent = k * iteration_cost
        if spent > newton_cost:
            return True
        best = np.minimum.accumulate(np.asarray(history[-max(window, k // 2) :]))
        if not best[-1] > 0.0:
            return False
        # least-squares slope of log(best) against the iteration number
        steps = np.arange(best.size) - 0.5 * (best.size - 1)
        slope = float(steps @ np.log(best)) / float(steps @ steps)
        if not slope < 0.0:
            return True
        remaining = math.log(tol / best[-1]) / slope
        return remaining * iteration_cost > newton_cost

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
    iteration_cost = lbfgs_iteration_cost_in_passes(objective)
    if newton_cost_in_passes(objective, _NEWTON_STEPS_COLD) <= (
        _LBFGS_MIN_ITERATIONS * iteration_cost
    ):
        return newton_cholesky(objective, params, tol=tol, max_iter=max_iter, verbose=verbose)
    newton_cost = newton_cost_in_passes(objective, _NEWTON_STEPS_WARM)
    first = lbfgs(
        objective,
        params,
        tol=tol,
        max_iter=max_iter,
        verbose=verbose,
        should_stop=_lbfgs_not_worth_continuing(tol, newton_cost, iteration_cost),
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
