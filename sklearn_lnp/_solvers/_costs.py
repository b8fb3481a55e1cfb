"""The cost model of the smooth solvers, in passes over ``X``.

A pass is one read of the design, ``n p`` multiply-adds at memory speed
(:mod:`sklearn_lnp._passes`).  The model chooses between L-BFGS and Newton
(``solver="auto"``), between Newton's primal and dual (Woodbury) forms, and
between a Newton step and a chord step (:mod:`._newton`).
"""

from __future__ import annotations

import math

__all__ = [
    "LBFGS_MIN_ITERATIONS",
    "NEWTON_STEPS_COLD",
    "NEWTON_STEPS_WARM",
    "chord_is_cheaper",
    "l2_strength",
    "lbfgs_iteration_cost_in_passes",
    "newton_cost_in_passes",
    "use_dual",
]

# Multiply-adds per second of dsyrk / Cholesky over those of a pass over X:
# matrix-vector products are memory bound, BLAS-3 runs at the compute peak.
# The constants below are single-threaded calibrations on the benchmark
# problems (``benchmarks/bench_poisson_l2.py``); the commits that set them
# record the measurements.
GEMM_SPEEDUP = 8.0
# Passes per L-BFGS iteration: one fused sweep, plus the occasional rejected
# unit step (one more read).
_LBFGS_ITERATION_PASSES = 1.2
# Fixed Python and LAPACK-call overhead of one iteration of either solver,
# in multiply-adds of a pass.  It makes few-iteration Newton the choice for
# small problems.
_ITERATION_OVERHEAD = 1.0e6
# Newton steps needed from an L-BFGS iterate, and from the initial point.
NEWTON_STEPS_WARM = 4
NEWTON_STEPS_COLD = 7
# Fewest L-BFGS iterations a fit takes: Newton is used directly when it
# costs less.
LBFGS_MIN_ITERATIONS = 15


def l2_strength(problem) -> float:
    """The L2 strength of a one-neuron problem."""
    return float(problem.penalty.strengths(1)[0])


def use_dual(problem) -> bool:
    """Whether Newton steps in the dual (Woodbury) form are cheaper for a one-neuron problem.

    Flop counts (multiply-adds): a primal step forms ``X' D X`` (``n p^2 / 2``)
    and factorises it (``p^3 / 6``); a dual step factorises an ``n x n``
    matrix (``n^3 / 6``) after computing ``K = X X'`` once (``n^2 p / 2``,
    spread here over four steps).  Needs ``alpha > 0`` and a penalty whose
    Hessian is ``alpha I`` (``penalty.isotropic``).
    """
    if not problem.penalty.isotropic or l2_strength(problem) <= 0.0:
        return False
    n, p = problem.objective.n_samples, problem.objective.n_features
    primal = n * p * p / 2 + p**3 / 6
    dual = n**3 / 6 + n * n * p / 8
    return dual < primal


def _overhead_in_passes(objective) -> float:
    return _ITERATION_OVERHEAD / (float(objective.n_samples) * objective.n_params)


def lbfgs_iteration_cost_in_passes(objective) -> float:
    """Estimated cost of one L-BFGS iteration of one neuron, in passes over ``X``."""
    return _LBFGS_ITERATION_PASSES + _overhead_in_passes(objective)


def _newton_step_passes(problem, dual: bool) -> float:
    """Passes of one Newton step (Hessian, factorisation, direction, gradient)."""
    objective = problem.objective
    n, p = objective.n_samples, objective.n_params
    per_pass = float(n) * p
    if dual:
        return (n**3 / 6) / GEMM_SPEEDUP / per_pass + 2.0 + 3.0 * n / p
    return (n * p * p / 2 + p**3 / 6) / GEMM_SPEEDUP / per_pass + 1.0


def newton_cost_in_passes(problem, steps: int) -> float:
    """Estimated cost of ``steps`` Newton steps, in passes over ``X``.

    For a one-neuron ``problem``; includes the one-off kernel of the dual
    form.  BLAS-3 work runs ``GEMM_SPEEDUP`` times faster than a pass.
    """
    objective = problem.objective
    dual = use_dual(problem)
    setup = objective.n_samples / 2 / GEMM_SPEEDUP if dual else 0.0  # n^2 p / 2 multiply-adds
    return setup + steps * (_newton_step_passes(problem, dual) + _overhead_in_passes(objective))


def chord_is_cheaper(problem, dual: bool, contraction: float, grad_max: float, tol: float) -> bool:
    """Whether chord steps reach ``tol`` for less than one more Newton step.

    A chord step (a direction from the Hessian already factorised) costs one
    pass, plus two products with the kernel in the dual form; its predicted
    ``contraction`` of ``max|grad|`` per step gives the number of steps
    from ``grad_max`` to ``tol``.  Newton needs at least one more step.
    """
    if not 0.0 < contraction < 1.0:
        return False
    objective = problem.objective
    n, p = objective.n_samples, objective.n_params
    chord = 1.0 + (2.0 * n / p if dual else 0.0) + _overhead_in_passes(objective)
    steps = max(1.0, math.ceil(math.log(tol / grad_max) / math.log(contraction)))
    return steps * chord <= _newton_step_passes(problem, dual) + _overhead_in_passes(objective)
