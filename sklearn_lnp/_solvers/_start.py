"""The intercept's curvature at the start, as the first L-BFGS correction pair.

At the usual start of a fit (zero weights, each neuron's intercept at its
intercept-only optimum) the linear predictor needs no pass over ``X``
(``eta = b + log(exposure)``), and neither does the intercept's curvature,
the Hessian entry ``h_b = sum_t s_t mu_t`` (normalised sample weights ``s``;
the intercept is not penalised).  The pair ``(e_b, h_b e_b)`` (``e_b`` the
intercept's unit vector) seeds each neuron's L-BFGS memory: the first
direction becomes ``-g / h_b`` instead of ``-g`` of unknown scale, which
a unit step usually accepts (one fused read of ``X`` instead of two for a
searched steepest-descent step), and the pair keeps the intercept's
curvature in the memory for the next iterations.  It leaves out the
coupling ``X' (s mu)`` of the intercept with the weights (the rest of that
column of the Hessian), so it is exact when ``X' (s mu) = 0`` only; it is a
heuristic elsewhere, which on the benchmark problems (centred, uncentred 0/1
and rescaled designs) mostly saved passes.
For a centred design the neglected coupling, ``p`` weighted column means of
size ~``h_b / sqrt(n)`` each, is ~``sqrt(p / n)`` times ``h_b``: the pair is
seeded only when ``n_samples > n_features``, where that is below ``h_b``.
Any other start (a warm start with non-zero weights, whose ``eta`` would cost
a pass), or no intercept: no pair; the optimum and the stopping rule are
those of L-BFGS either way.
"""

from __future__ import annotations

import numpy as np

from ._lbfgs import _MEMORY, _History
from ._smooth import SmoothProblem


def intercept_pairs(problem: SmoothProblem, P: np.ndarray, memory: int = _MEMORY):
    """Each neuron's L-BFGS memory seeded with its intercept's curvature at ``P``.

    Parameters
    ----------
    problem : SmoothProblem
        The ``k`` neurons' objective and smooth penalty.
    P : ndarray of shape (n_params, k)
        Starting points.
    memory : int
        Pairs each memory keeps.

    Returns
    -------
    list of k ``_History``, or None
        None unless the objective fits an intercept, has more samples than
        features and every weight of ``P`` is zero (then no pass over ``X``
        is made).
    """
    objective = problem.objective
    W, _ = objective.split(P)
    if not objective.fit_intercept or objective.n_samples <= objective.n_features or np.any(W):
        return None
    eta = objective.linear_predictor(P)  # zero weights: no pass over X
    curvature = objective.hessian_weights(eta).sum(axis=0)
    unit = np.zeros(objective.n_params)
    unit[-1] = 1.0
    stores = []
    for h in curvature.tolist():
        store = _History(objective.n_params, memory)
        if np.isfinite(h) and h > 0.0:
            store.push(unit, h * unit)
        stores.append(store)
    return stores
