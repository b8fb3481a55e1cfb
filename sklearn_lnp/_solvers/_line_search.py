"""Line search on the convex one-dimensional restrictions of the objective, per neuron.

The smooth solvers move every neuron ``j`` along a direction ``d_j`` whose
linear predictor ``z_j = X d_j`` is computed once for all neurons (one read
of ``X``); the objective along each line then costs ``O(n_samples)`` per
point (:class:`sklearn_lnp._objective.LineRestriction`).  So instead of
backtracking with two passes per trial, the steps are found by safeguarded
Newton iterations on ``phi_j'(t) = 0``, with the sufficient-decrease
(Armijo) condition checked on the accurately computed decrease
``phi_j(t) = F_j(x + t d) - F_j(x)``.  Each neuron's iteration runs on
Python floats; the restrictions of all the neurons still searching are
evaluated together, one vectorised call per round (one neuron alone: a
call on its vectors, :meth:`LineRestriction.at`).
"""

from __future__ import annotations

import math

import numpy as np

from .._passes import column_dot

_ARMIJO = 1e-4
_EPS = float(np.finfo(float).eps)
_MAX_EVALUATIONS = 40


def _search(slope: float, t: float, curvature: float):
    """One neuron's search, on Python floats: a generator of trial steps.

    Yields the trial ``t`` (the first: ``t``, or 1 if it is not a positive
    finite step) and receives ``(phi(t), phi'(t), phi''(t))``; returns
    (``StopIteration.value``) the step of :func:`line_search`.
    ``slope = phi'(0) < 0``.
    """
    if not (math.isfinite(t) and t > 0.0):
        t = 1.0
    bound = curvature * abs(slope)  # strong Wolfe bound on |phi'(t)|
    lo, hi = 0.0, math.inf
    best_t = best_value = 0.0
    for _ in range(_MAX_EVALUATIONS):
        value, first, second = yield t
        finite = math.isfinite(value) and math.isfinite(first)
        sufficient = finite and value <= _ARMIJO * t * slope
        if sufficient and value < best_value:
            best_t, best_value = t, value
        if sufficient and abs(first) <= bound:
            return t
        if not finite or first >= 0.0:
            hi = t
        else:
            lo = t
        # Bracket at round-off: nothing more to find.  Also true while no trial
        # has overshot (hi = inf): a trial short of the minimiser of a convex
        # phi with |phi'(t)| above the bound has a sufficient decrease, and
        # is kept rather than extended.
        if finite and hi - lo <= 1e-15 * hi:
            return best_t
        middle = 0.5 * (lo + hi)  # hi is finite from here on
        if not finite:
            t = middle
            continue
        # Newton step on phi', kept inside the bracket (bisection otherwise)
        newton = t - first / second if second > 0.0 and math.isfinite(second) else math.nan
        new_t = newton if lo < newton < hi else middle
        # Worse than the start: far beyond the minimiser, where phi grows like
        # exp and Newton on phi' creeps back by ~1 / max|z| per step.
        t = min(new_t, 0.5 * (lo + t)) if value > 0.0 else new_t
    return best_t


def line_search(line, t0, cols=None, *, curvature: float = 0.1) -> np.ndarray:
    """Steps ``t_j > 0`` along descent directions of convex ``phi_j``.

    Accepts ``t_j`` when ``phi_j(t) <= 1e-4 t phi_j'(0)`` (sufficient
    decrease) and ``|phi_j'(t)| <= curvature |phi_j'(0)|`` (strong Wolfe);
    small ``curvature`` makes the search nearly exact, which costs only
    ``O(n_samples)`` per neuron and evaluation here.  Each neuron's search
    is safeguarded Newton on ``phi_j'`` (:func:`_search`, on floats); the
    trials of all the neurons still searching are evaluated together, one
    call of ``line`` per round.

    Parameters
    ----------
    line : LineRestriction
        ``line(t, cols) -> (phi, phi', phi'')`` with ``phi(0) = 0`` and
        ``line.slope = phi'(0)`` of every column.
    t0 : float or ndarray of shape (len(cols),)
        First trial steps (1 for Newton and quasi-Newton directions).
    cols : ndarray of int or None
        The columns (neurons) of ``line`` to search; all when None.
    curvature : float
        Relative tolerance on ``|phi'(t)|``.

    Returns
    -------
    steps : ndarray of shape (len(cols),)
        Accepted steps, or the best step with a sufficient decrease found in
        the evaluation budget, or 0 where no decrease could be found (not a
        descent direction, or a decrease below round-off).
    """
    cols = np.arange(line.Z.shape[1]) if cols is None else np.asarray(cols)
    steps = np.zeros(cols.size)
    slopes = line.slope[cols].tolist()
    starts = np.broadcast_to(np.asarray(t0, dtype=np.float64), cols.shape).tolist()
    searches, trials = [], []  # of the positions still searching, in order
    for position, (slope, t) in enumerate(zip(slopes, starts, strict=True)):
        if slope < 0.0:
            search = _search(slope, t, curvature)
            searches.append((position, search))
            trials.append(next(search))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        while searches:
            if len(searches) == 1:
                results = [line.at(trials[0], int(cols[searches[0][0]]))]
            else:
                where = cols[[position for position, _ in searches]]
                value, first, second = line(np.array(trials), where)
                results = zip(value.tolist(), first.tolist(), second.tolist(), strict=True)
            going, trials = [], []
            for (position, search), result in zip(searches, results, strict=True):
                try:
                    trials.append(search.send(result))
                    going.append((position, search))
                except StopIteration as stop:
                    steps[position] = stop.value
            searches = going
    return steps


def search_one(line, t0: float, col: int = 0, curvature: float = 0.1) -> float:
    """:func:`line_search` of the one column ``col`` of ``line``, as a Python float."""
    slope = float(line.slope[col])
    if not slope < 0.0:
        return 0.0
    search = _search(slope, t0, curvature)
    t = next(search)
    try:
        while True:
            t = search.send(line.at(t, col))
    except StopIteration as stop:
        return stop.value


def _unresolved(decrease, value):
    """Whether a decrease is below the resolution of the objective's value ``F``.

    Python floats or arrays (one entry per neuron).
    """
    return abs(decrease) <= 64 * _EPS * abs(value)


def _accepted(decrease, slope, end_slope, t, curvature):
    """Armijo and strong Wolfe conditions of step ``t`` (floats or arrays per neuron).

    ``slope`` and ``end_slope`` are the directional derivatives at both ends.
    """
    return (
        (decrease <= _ARMIJO * t * slope)
        & (slope < 0.0)
        & (abs(end_slope) <= curvature * abs(slope))
    )


def _cubic_minimiser(decrease, slope, end_slope, t0: float) -> np.ndarray:
    """Minimiser of the cubic through ``phi(0) = 0``, ``phi'(0)``, ``phi(t0)``, ``phi'(t0)``.

    Per neuron (arrays of shape (k,)); ``t0`` where the cubic has no
    minimiser in ``(0, 10 t0]`` (Nocedal and Wright, eq. 3.59).  The first
    trial of the search after ``t0`` is rejected: on the nearly quadratic
    restrictions of the Poisson objective it is usually accepted.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d1 = slope + end_slope - 3.0 * decrease / t0
        d2 = np.sqrt(d1 * d1 - slope * end_slope)
        t = t0 - t0 * (end_slope + d2 - d1) / (end_slope - slope + 2.0 * d2)
    return np.where(np.isfinite(t) & (t > 0.0) & (t <= 10.0 * t0), t, t0)


def _move(problem, P, D, line, steps, cols, out, fast):
    """Evaluate the neurons ``cols`` at ``P + steps D`` from ``line.eta_at`` (one read of ``X``)."""
    new_P, values, G, eta = out
    if cols.size == problem.n_neurons:  # all of them (increasing): views, not copies
        part, cols = problem, slice(None)
    else:
        part = problem.subset(cols)
    new_P[:, cols] = P[:, cols] + D[:, cols] * steps
    values[cols], G[:, cols], eta[:, cols] = part.evaluate(
        new_P[:, cols], line.eta_at(steps, cols), fast=fast
    )


def take_step(problem, P, eta, D, values, G, *, t0=1.0, curvature=0.9, fast=False):
    """Line search along ``D`` that costs one read of ``X`` when ``t0`` is accepted.

    The gradients at ``P + t0 D`` are computed in the same sweep as
    ``Z = X D`` (:meth:`PoissonObjective.gradient_along`).  ``t0`` is accepted
    per neuron on the Armijo and strong Wolfe conditions, checked from the
    gradients and objective values at both ends; only where the decrease
    is too small for the values to resolve it is the accurate restriction
    evaluated.  Neurons that reject ``t0`` search their step on the line
    (no pass) and get their gradients in one more read of ``X``.

    Parameters
    ----------
    problem : SmoothProblem
    P, D : ndarray of shape (n_params, k)
        Points and directions.
    eta : ndarray of shape (n_samples, k)
    values, G : ndarray of shape (k,), (n_params, k)
        Objective values and gradients at ``P``.

    Returns
    -------
    steps : ndarray of shape (k,)
        0 where no decrease could be found.
    new_P, new_values, new_G, new_eta
        The new points (columns with a zero step are undefined).
    """
    line, new_values, new_G, new_eta, new_P = problem.along(P, eta, D, t0, fast=fast)
    if D.shape[1] == 1:  # one neuron: the same test on Python floats (no array bookkeeping)
        slope, end_slope = float(G[:, 0] @ D[:, 0]), float(new_G[:, 0] @ D[:, 0])
        decrease = float(new_values[0]) - float(values[0])
        if _unresolved(decrease, float(values[0])):
            decrease = line.at(t0, 0, second=False)[0]
        if _accepted(decrease, slope, end_slope, t0, curvature):
            return np.array([float(t0)]), new_P, new_values, new_G, new_eta
        accepted = np.zeros(1, dtype=bool)
    else:
        slope, end_slope = column_dot(G, D), column_dot(new_G, D)
        decrease = new_values - values
        small = _unresolved(decrease, values)
        if small.any():
            small = np.flatnonzero(small)
            decrease[small] = line(t0, small, second=False)[0]
        accepted = _accepted(decrease, slope, end_slope, t0, curvature)
        if accepted.all():
            return np.full(accepted.size, float(t0)), new_P, new_values, new_G, new_eta
    steps = np.where(accepted, float(t0), 0.0)
    rest = np.flatnonzero(~accepted)
    if rest.size:
        first_trial = _cubic_minimiser(
            np.asarray(decrease, dtype=float).reshape(-1)[rest],
            np.asarray(slope, dtype=float).reshape(-1)[rest],
            np.asarray(end_slope, dtype=float).reshape(-1)[rest],
            float(t0),
        )
        steps[rest] = line_search(line, first_trial, rest, curvature=min(curvature, 0.1))
        moved = rest[steps[rest] > 0.0]
        if moved.size:
            out = (new_P, new_values, new_G, new_eta)
            _move(problem, P, D, line, steps[moved], moved, out, fast)
    return steps, new_P, new_values, new_G, new_eta


def search_unscaled(problem, P, eta, D, *, fast=False):
    """Line search along directions of unknown scale (e.g. ``-G``); two reads of ``X``.

    ``Z = X D`` is computed first, the search starts at the minimiser of the
    quadratic model of each neuron's objective along its line, and the
    gradients at the accepted points cost one more read.

    Returns
    -------
    steps : ndarray of shape (k,)
        0 where no decrease could be found.
    new_P, new_values, new_G, new_eta
        The new points (columns with a zero step are undefined).
    """
    line = problem.restriction(P, eta, D, fast=fast)
    k = D.shape[1]
    out = (np.empty_like(P), np.empty(k), np.empty_like(P), np.empty_like(eta))
    steps = np.zeros(k)
    descent = np.flatnonzero(line.slope < 0.0)
    if descent.size:
        second = line(0.0, descent)[2]
        with np.errstate(divide="ignore", invalid="ignore"):
            t0 = -line.slope[descent] / second
        steps[descent] = line_search(line, t0, descent)
        moved = np.flatnonzero(steps > 0.0)
        if moved.size:
            _move(problem, P, D, line, steps[moved], moved, out, fast)
    return (steps, *out)
