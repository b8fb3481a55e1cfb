"""The quadratic lasso subproblem (``sklearn_lnp._solvers._quadratic_lasso``).

Facts asserted:

* the solver is exact: the subproblem's KKT conditions hold to ``tol``
  (checked against their definition here), with an unpenalised coordinate;
* its coordinate-descent (numba) and FISTA (numpy) variants agree;
* a warm start at the solution takes no sweep;
* an unknown inner method raises a ValueError naming the choices.
"""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_lnp._solvers._quadratic_lasso import INNER_SOLVERS, solve_quadratic_lasso


def _problem(seed=5, m=25):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((40, m))
    hess = A.T @ A / 40
    lin = rng.standard_normal(m)
    penalty = np.full(m, 0.3)
    penalty[-1] = 0.0  # an unpenalised coordinate, like the intercept
    return hess, lin, penalty


@pytest.mark.parametrize("inner", INNER_SOLVERS)
def test_quadratic_subproblem_is_exact(inner):
    hess, lin, penalty = _problem()
    z, info = solve_quadratic_lasso(hess, lin, penalty, np.zeros(25), tol=1e-12, inner=inner)
    grad = hess @ z + lin
    violation = np.where(
        z == 0, np.maximum(np.abs(grad) - penalty, 0), np.abs(grad + penalty * np.sign(z))
    )
    assert violation.max() <= 1e-12
    assert info["violation"] <= 1e-12
    other = "fista" if inner == "cd" else "cd"
    z_other, _ = solve_quadratic_lasso(hess, lin, penalty, z * 0, tol=1e-12, inner=other)
    np.testing.assert_allclose(z, z_other, atol=1e-10)


def test_warm_start_at_the_solution_takes_no_sweep():
    hess, lin, penalty = _problem(seed=6)
    z, _ = solve_quadratic_lasso(hess, lin, penalty, np.zeros(25), tol=1e-12)
    again, info = solve_quadratic_lasso(hess, lin, penalty, z, tol=1e-10)
    assert info["sweeps"] == 0
    # a face step (one Cholesky solve) may move it by round-off only
    np.testing.assert_allclose(again, z, atol=1e-10)


def test_unknown_inner_method():
    hess, lin, penalty = _problem()
    with pytest.raises(ValueError, match="inner must be one of"):
        solve_quadratic_lasso(hess, lin, penalty, np.zeros(25), tol=1e-8, inner="newton")
