"""Solvers behind the estimators: one interface, ``solve(objective, penalty, P, ...)``.

Every solver minimises, for each of the ``k`` neurons of a
:class:`~sklearn_lnp._objective.PoissonObjective` (columns of ``P``), its
data term plus a smooth penalty of :mod:`sklearn_lnp._penalties`, and
returns one :class:`SolverResult` per neuron.  Stopping criterion, for
every solver: ``max_i |grad_ij| <= tol`` for neuron ``j`` (its gradient,
intercept included), or ``max_iter`` iterations; a neuron that stopped short
is reported by one ``ConvergenceWarning`` quoting the value reached
(:func:`warn_if_not_converged`).

Costs are counted in *passes* over ``X`` (one read of the design; see
:mod:`sklearn_lnp._passes`).  An L-BFGS iteration costs about one pass (the
direction's ``X d`` and the new gradient are fused in one read).  A Newton
step costs a weighted Gram matrix and a Cholesky factorisation (primal form)
or a Cholesky factorisation of an ``n_samples`` matrix after a kernel
``X X'`` computed once (dual form, see :mod:`._newton`); these run at BLAS-3
speed, ``_costs.GEMM_SPEEDUP`` times more multiply-adds per second than a pass.

``solver="auto"`` decides per neuron: it runs L-BFGS (all neurons in
lockstep, one read of ``X`` per iteration for all of them) while it is on
course to reach ``tol`` for less than what Newton would cost from there, and
otherwise hands its iterate to Newton-Cholesky. The rule predicts the
remaining L-BFGS iterations from the observed (linear) rate of decrease of
``max|grad|``; in addition L-BFGS never spends more than Newton would (so
``auto`` costs at most about twice the cheaper of the two). Well-conditioned
problems with many samples are thus solved by L-BFGS alone, ill-conditioned
ones by Newton; problems with few features go to Newton directly.

L-BFGS (``"lbfgs"`` and ``"auto"``) starting from zero weights starts with
each neuron's memory seeded by its intercept's curvature, which costs no
pass (``_start.intercept_pairs``): the first direction is then scaled.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ._costs import (
    LBFGS_MIN_ITERATIONS,
    NEWTON_STEPS_COLD,
    NEWTON_STEPS_WARM,
    lbfgs_iteration_cost_in_passes,
    newton_cost_in_passes,
)
from ._lbfgs import lbfgs
from ._newton import newton_cholesky
from ._result import SolverResult, warn_if_not_converged
from ._smooth import SmoothProblem
from ._start import intercept_pairs

__all__ = ["SMOOTH_SOLVERS", "SmoothProblem", "SolverResult", "solve", "warn_if_not_converged"]

SMOOTH_SOLVERS = ("auto", "newton-cholesky", "lbfgs")


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
        # (Python floats: the history is short, numpy calls would cost more)
        best = list(itertools.accumulate(history[-max(window, k // 2) :], min))
        if not best[-1] > 0.0:
            return False
        # least-squares slope of log(best) against the iteration number
        m = len(best)
        centre = 0.5 * (m - 1)
        slope = sum((i - centre) * math.log(b) for i, b in enumerate(best)) / (
            m * (m * m - 1) / 12.0
        )
        if not slope < 0.0:
            return True
        remaining = math.log(tol / best[-1]) / slope
        return remaining * iteration_cost > newton_cost

    return should_stop


def _columns(problem: SmoothProblem, P: np.ndarray, cols: list[int]):
    """The problem and starting points of the neurons ``cols`` (increasing indices)."""
    if len(cols) == problem.n_neurons:
        return problem, P
    return problem.subset(np.array(cols)), P[:, cols]


def solve(
    objective, penalty, P, *, solver="auto", tol=1e-8, max_iter=1000, verbose=0, evaluated=None
):
    """Minimise every neuron's data term plus penalty with the named solver.

    Parameters
    ----------
    objective : PoissonObjective
        Data term of ``k`` neurons.
    penalty : Penalty or None
        A smooth penalty (``L2``) with one strength or ``k``; None is no penalty.
    P : ndarray of shape (n_params, k) or (n_params,)
        Starting points (a vector: ``k = 1``).
    solver : {"auto", "newton-cholesky", "lbfgs"}
        ``"auto"``: per neuron, Newton directly when it is predicted cheaper
        than the fewest L-BFGS iterations, otherwise L-BFGS (in lockstep with
        the other such neurons) with a hand-over of its iterate to Newton
        when the observed rate predicts that Newton finishes for less
        (solver ``"lbfgs+newton-cholesky"``).
    tol : float
        Neuron ``j`` stops when the largest absolute entry of its gradient
        is at most ``tol``.
    max_iter : int
        Maximum iterations of each solver used, per neuron.
    verbose : int
    evaluated : tuple or None
        ``SmoothProblem(objective, penalty).evaluate(P)`` (values, gradients
        and ``eta``) when the caller has it; Newton started from ``P`` then
        saves a read of ``X``.

    Returns
    -------
    list of SolverResult
        One per neuron, in the order of the columns of ``P``.  ``n_passes``
        and ``n_grams`` count the reads of ``X`` of the whole call so far
        (shared by the neurons).
    """
    P = np.asarray(P, dtype=np.float64)
    P = P[:, None] if P.ndim == 1 else P
    problem = SmoothProblem(objective, penalty)
    if solver not in SMOOTH_SOLVERS:
        raise ValueError(f"solver must be one of {SMOOTH_SOLVERS}, got {solver!r}.")
    options = {"tol": tol, "max_iter": max_iter, "verbose": verbose}
    if solver == "newton-cholesky":
        return newton_cholesky(problem, P, evaluated=evaluated, **options)
    if solver == "lbfgs":
        return lbfgs(problem, P, pairs=intercept_pairs(problem, P), **options)
    k = P.shape[1]
    iteration_cost = lbfgs_iteration_cost_in_passes(objective)
    singles = [problem if k == 1 else problem.subset([j]) for j in range(k)]
    newton_direct = [
        newton_cost_in_passes(single, NEWTON_STEPS_COLD) <= LBFGS_MIN_ITERATIONS * iteration_cost
        for single in singles
    ]
    results: list = [None] * k
    direct = [j for j in range(k) if newton_direct[j]]
    if direct:
        sub, P_direct = _columns(problem, P, direct)
        start = evaluated if sub is problem else None
        newton = newton_cholesky(sub, P_direct, evaluated=start, **options)
        for j, result in zip(direct, newton, strict=True):
            results[j] = result
    first = [j for j in range(k) if not newton_direct[j]]
    if first:
        rules = [
            _lbfgs_not_worth_continuing(
                tol, newton_cost_in_passes(singles[j], NEWTON_STEPS_WARM), iteration_cost
            )
            for j in first
        ]
        sub, P_first = _columns(problem, P, first)
        started, (values, G, eta) = lbfgs(
            sub,
            P_first,
            should_stop=rules,
            pairs=intercept_pairs(sub, P_first),
            return_state=True,
            **options,
        )
        for j, result in zip(first, started, strict=True):
            results[j] = result
        unfinished = [i for i, result in enumerate(started) if not result.converged]
        if unfinished:
            cols = [first[i] for i in unfinished]
            sub = _columns(problem, P, cols)[0]
            start = np.column_stack([started[i].params for i in unfinished])
            # Newton starts from L-BFGS's last evaluation (no read of X)
            evaluated = (values[unfinished], G[:, unfinished], eta[:, unfinished])
            finished = newton_cholesky(
                sub, start, solver_name="lbfgs+newton-cholesky", evaluated=evaluated, **options
            )
            for i, j, result in zip(unfinished, cols, finished, strict=True):
                result.n_iter += started[i].n_iter
                results[j] = result
    return results
