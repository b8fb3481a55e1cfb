"""One-neuron views of the L1 solver's quantities, for the tests (1-d ``params``).

Each is a thin wrapper of the one definition in the package:
:func:`~sklearn_lnp.linear_model._lasso.alpha_max`,
:func:`~sklearn_lnp._solvers._prox_newton.penalised_value`,
:func:`~sklearn_lnp._solvers._prox_newton.max_kkt_violation` and
:func:`~sklearn_lnp._solvers._prox_newton.prox_newton` with ``k = 1``.
"""

from __future__ import annotations

import numpy as np

from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp._penalties import L1
from sklearn_lnp._solvers._prox_newton import max_kkt_violation as _max_kkt_violation
from sklearn_lnp._solvers._prox_newton import penalised_value, prox_newton
from sklearn_lnp.linear_model._lasso import alpha_max as _alpha_max

__all__ = ["PoissonObjective", "alpha_max", "l1_objective", "max_kkt_violation", "solve"]


def alpha_max(objective) -> float:
    """The one neuron's ``alpha_max``."""
    return float(_alpha_max(objective)[0])


def l1_objective(objective, params, alpha) -> float:
    """``f + alpha ||w||_1`` at ``params`` of shape (n_params,)."""
    return float(penalised_value(objective, L1(alpha), np.reshape(params, (-1, 1)))[0])


def max_kkt_violation(objective, params, alpha) -> float:
    """Largest KKT violation (intercept included) at ``params`` of shape (n_params,)."""
    P = np.reshape(params, (-1, 1))
    _, G, _ = objective.value_gradient(P)
    return float(_max_kkt_violation(L1(alpha), P, G, objective.n_features)[0][0])


def solve(objective, params, alpha, **options):
    """One neuron's fit from ``params`` (n_params,): a SolverResult."""
    P = np.reshape(params, (-1, 1))
    return prox_newton(objective, L1(alpha), P, **options).result()
