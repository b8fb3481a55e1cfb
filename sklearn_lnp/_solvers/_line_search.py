"""Line search on a convex one-dimensional restriction of the objective.

The smooth solvers move along a direction ``d`` whose linear predictor
``z = X d`` they compute once (one pass over ``X``); the objective along the
line then costs ``O(n_samples)`` per point (see
:class:`sklearn_lnp._loss.LineRestriction`).  So instead of backtracking with
two passes per trial, the step is found by safeguarded Newton iterations on
``phi'(t) = 0``, with the sufficient-decrease (Armijo) condition checked on
the accurately computed decrease ``phi(t) = F(x + t d) - F(x)``.
"""

from __future__ import annotations

import math

import numpy as np

_ARMIJO = 1e-4
_EPS = float(np.finfo(float).eps)
_MAX_EVALUATIONS = 40


def line_search(line, t0: float = 1.0, *, curvature: float = 0.1):
    """Find a step ``t > 0`` along a descent direction of a convex ``phi``.

    Accepts ``t`` when ``phi(t) <= 1e-4 * t * phi'(0)`` (sufficient decrease)
    and ``|phi'(t)| <= curvature * |phi'(0)|`` (strong Wolfe curvature
    condition); small ``curvature`` makes the search nearly exact, which costs
    only ``O(n_samples)`` evaluations here.

    Parameters
    ----------
    line : callable
        ``line(t) -> (phi(t), phi'(t), phi''(t))`` with ``phi(0) = 0``, and
        attribute ``slope = phi'(0)``.
    t0 : float
        First trial step (1 for Newton and quasi-Newton directions).
    curvature : float
        Relative tolerance on ``|phi'(t)|``.

    Returns
    -------
    step : float
        Accepted step, or the best step with a sufficient decrease found in
        the evaluation budget, or 0.0 when no decrease could be found (not a
        descent direction, or the decrease is below round-off).
    decrease : float
        ``phi(step)`` (<= 0).
    """
    slope = float(line.slope)
    if not slope < 0.0:
        return 0.0, 0.0
    lo, hi = 0.0, math.inf
    best_t, best_value = 0.0, 0.0
    t = t0 if t0 > 0 and math.isfinite(t0) else 1.0
    for _ in range(_MAX_EVALUATIONS):
        value, first, second = line(t)
        if not (math.isfinite(value) and math.isfinite(first)):
            hi = t
            t = 0.5 * (lo + hi)
            continue
        sufficient = value <= _ARMIJO * t * slope
        if sufficient and value < best_value:
            best_t, best_value = t, value
        if sufficient and abs(first) <= curvature * abs(slope):
            return t, value
        if first < 0.0:
            lo = t
        else:
            hi = t
        if hi - lo <= 1e-15 * hi:  # bracket at round-off: nothing more to find
            break
        # Newton step on phi', kept inside the bracket (bisection otherwise).
        step = t - first / second if second > 0 and math.isfinite(second) else math.nan
        if not lo < step < hi:
            step = 0.5 * (lo + hi) if math.isfinite(hi) else 4.0 * t
        if value > 0.0:
            # Worse than the start: far beyond the minimiser, where phi grows
            # like exp and Newton on phi' creeps back by ~1 / max|z| per step.
            # Backtrack at least geometrically.
            step = min(step, 0.5 * (lo + t))
        t = step
    return best_t, best_value


def take_step(objective, params, direction, *, grad, value, t0=1.0, curvature=0.9):
    """Line search along ``direction`` that costs one read of ``X`` when ``t0`` is accepted.

    The gradient at ``params + t0 * direction`` is computed in the same sweep
    as ``z = X d`` (:meth:`PoissonObjective.gradient_along`).  ``t0`` is
    accepted on the Armijo and strong Wolfe conditions, checked from the
    gradients and objective values at both ends (``O(n_params)``); only when
    the decrease is too small for the values to resolve it is the accurate
    one-dimensional restriction evaluated (``O(n_samples)``).  If ``t0``
    fails, another step is searched on the line (no pass) and its gradient
    computed (one more pass).

    Parameters
    ----------
    grad, value : ndarray, float
        Gradient and objective at ``params``.

    Returns
    -------
    step : float
        0.0 when no decrease could be found.
    params, value, grad
        The new point, its objective and gradient (None when ``step == 0``).
    slope : float
        Directional derivative at ``params`` along ``direction``.
    """
    slope = float(grad @ direction)
    if not slope < 0.0:
        return 0.0, None, None, None, slope
    line, new_params, new_value, new_grad = objective.gradient_along(params, direction, t0)
    decrease = new_value - value
    if abs(decrease) <= 64 * _EPS * abs(value):  # below the resolution of F
        decrease = line.value_slope(t0)[0]
    if decrease <= _ARMIJO * t0 * slope and abs(float(new_grad @ direction)) <= curvature * abs(
        slope
    ):
        return t0, new_params, new_value, new_grad, slope
    step, _ = line_search(line, t0, curvature=min(curvature, 0.1))
    if step == 0.0:
        return 0.0, None, None, None, slope
    new_params = params + step * direction
    new_value, new_grad = objective.loss_gradient_at(new_params, line.eta_at(step))
    return step, new_params, new_value, new_grad, slope


def search_unscaled(objective, params, direction):
    """Line search along a direction of unknown scale (e.g. ``-grad``); two passes.

    ``z = X d`` is computed first, the search starts at the minimiser of the
    quadratic model of the objective along the line, and the gradient at the
    accepted point costs one more pass.

    Returns
    -------
    step : float
        0.0 when no decrease could be found.
    params, value, grad
        The new point, its objective and gradient (None when ``step == 0``).
    """
    z = objective.direction_predictor(direction)
    line = objective.line_restriction(params, direction, z)
    if not line.slope < 0.0:
        return 0.0, None, None, None
    _, _, second = line(0.0)
    t0 = -line.slope / second if second > 0 and math.isfinite(second) else 1.0
    step, _ = line_search(line, t0)
    if step == 0.0:
        return 0.0, None, None, None
    new_params = params + step * direction
    value, grad = objective.loss_gradient_at(new_params, line.eta_at(step))
    return step, new_params, value, grad
