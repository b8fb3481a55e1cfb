"""The proximal Newton solver of the L1-penalised Poisson objective.

Facts asserted:

* the KKT violation is the distance of ``-g_j`` to the subdifferential of
  ``alpha |w_j|`` (checked against its definition coordinate by coordinate);
* ``alpha_max`` is exact: at ``alpha_max`` the solution is ``w = 0``, a hair
  below it a weight becomes non-zero, and ``max |g|`` at the intercept-only
  optimum equals it;
* returned solutions satisfy the L1 optimality conditions to ``tol``, checked
  with a gradient computed here independently in numpy, with and without
  intercept, exposure, sample weights, float32 and sparse designs;
* the solution is the minimiser: no random perturbation lowers the objective,
  and it matches a brute-force smooth reformulation solved by L-BFGS-B with
  bounds (``w = u - v``, ``u, v >= 0``);
* Hessians made with float32 products (forced here on a small problem; the
  solver uses them for large, well-determined working sets) lead to the
  same optimum, KKT-checked with the numpy gradient;
* integer sample weights equal repeated rows (hypothesis);
* stopping short raises ``ConvergenceWarning`` with the reached violation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _lasso_reference import PoissonObjective, alpha_max, l1_objective, solve
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

from sklearn_lnp._penalties import L1
from sklearn_lnp._solvers import warn_if_not_converged
from sklearn_lnp._solvers._prox_newton import max_kkt_violation


def coefficients(objective, params):
    return params[: objective.n_features]


def make_problem(n=120, p=30, *, seed=0, exposure=True, weights=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[: max(p // 5, 1)] = rng.standard_normal(max(p // 5, 1)) * 0.5
    e = rng.uniform(0.5, 1.5, n) if exposure else None
    mu = (1.0 if e is None else e) * np.exp(X @ w + 0.5)
    y = rng.poisson(mu).astype(float)
    s = rng.uniform(0.2, 2.0, n) if weights else None
    return X, y, e, s


def numpy_gradient(X, y, e, s, coef, intercept):
    """Gradient of the mean NLL, written out independently of the package."""
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    s = np.ones(len(y)) if s is None else s
    s = s / s.sum()
    mu = (1.0 if e is None else e) * np.exp(Xd @ coef + intercept)
    r = s * (mu - y)
    return Xd.T @ r, r.sum()


def numpy_kkt(grad, grad_b, coef, alpha, fit_intercept=True):
    zero = coef == 0
    v = np.empty_like(coef)
    v[zero] = np.maximum(np.abs(grad[zero]) - alpha, 0)
    v[~zero] = np.abs(grad[~zero] + alpha * np.sign(coef[~zero]))
    return max(v.max(), abs(grad_b) if fit_intercept else 0.0)


def test_kkt_violation_definition():
    coef = np.array([0.0, 0.0, 1.0, -2.0, 0.5])
    grad = np.array([0.3, -0.7, -0.5, 0.5, 0.1])
    alpha = 0.5
    expected = [0.0, 0.2, 0.0, 0.0, 0.6]
    violation = L1(alpha).kkt_violation(coef[:, None], grad[:, None])[:, 0]
    np.testing.assert_allclose(violation, expected, atol=1e-15)
    largest, _ = max_kkt_violation(L1(alpha), coef[:, None], grad[:, None], coef.size)
    assert largest[0] == pytest.approx(0.6, abs=1e-15)  # no intercept row: the weights' largest


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_alpha_max_is_exact(fit_intercept):
    X, y, e, s = make_problem(seed=1, weights=True)
    obj = PoissonObjective(X, y, e, s, fit_intercept=fit_intercept)
    top = alpha_max(obj)
    # Intercept-only optimum in closed form, gradient in numpy.
    b0 = np.log(np.sum(s * y) / np.sum(s * e)) if fit_intercept else 0.0
    g, _ = numpy_gradient(X, y, e, s, np.zeros(X.shape[1]), b0)
    assert top == pytest.approx(np.max(np.abs(g)), rel=1e-12)
    at = solve(obj, obj.initial_params(), top)
    assert np.count_nonzero(coefficients(obj, at.params)) == 0 and at.converged
    below = solve(obj, obj.initial_params(), top * (1 - 1e-4))
    assert np.count_nonzero(coefficients(obj, below.params)) >= 1 and below.converged


@pytest.mark.parametrize("variant", ["plain", "no-intercept", "weights", "float32", "sparse"])
@pytest.mark.parametrize("fraction", [0.5, 0.1, 0.02])
def test_solution_satisfies_kkt(variant, fraction):
    X, y, e, s = make_problem(seed=2, weights=variant == "weights")
    fit_intercept = variant != "no-intercept"
    if variant == "float32":
        X = X.astype(np.float32)
    if variant == "sparse":
        X[np.abs(X) < 0.7] = 0.0
        X = sp.csc_matrix(X)
    obj = PoissonObjective(X, y, e, s, fit_intercept=fit_intercept)
    alpha = fraction * alpha_max(obj)
    result = solve(obj, obj.initial_params(), alpha, tol=1e-10)
    coef = coefficients(obj, result.params)
    b = result.params[-1] if fit_intercept else 0.0
    g, gb = numpy_gradient(X, y, e, s, coef, b)
    assert result.converged
    assert numpy_kkt(g, gb, coef, alpha, fit_intercept) <= 1e-9
    assert result.optimality <= 1e-10
    assert result.optimality == pytest.approx(
        numpy_kkt(g, gb, coef, alpha, fit_intercept), abs=1e-12
    )


@pytest.mark.parametrize("exposure", [True, False])
def test_float32_hessian_products_reach_the_same_optimum(monkeypatch, exposure):
    import sklearn_lnp._solvers._working_set as working_set

    X, y, e, s = make_problem(n=800, p=60, seed=4, exposure=exposure)
    obj = PoissonObjective(X, y, e, s)
    alpha = 0.02 * alpha_max(obj)
    reference = solve(obj, obj.initial_params(), alpha, tol=1e-10)
    calls = []
    gram = working_set.dense_weighted_gram

    def spy(*args, **kwargs):
        calls.append(kwargs.get("single", False))
        return gram(*args, **kwargs)

    monkeypatch.setattr(working_set, "SINGLE_MIN_WORK", 0.0)
    monkeypatch.setattr(working_set, "dense_weighted_gram", spy)
    result = solve(obj, obj.initial_params(), alpha, tol=1e-10)
    assert any(calls)  # float32 products were used
    coef, b = coefficients(obj, result.params), result.params[-1]
    g, gb = numpy_gradient(X, y, e, s, coef, b)
    assert result.converged and numpy_kkt(g, gb, coef, alpha, True) <= 1e-9
    np.testing.assert_array_equal(coef != 0, coefficients(obj, reference.params) != 0)
    # two points within KKT 1e-10 of the unique optimum of a strongly convex
    # problem (n = 800 >> p = 60): equal far below the tolerance asked here
    np.testing.assert_allclose(result.params, reference.params, rtol=0, atol=1e-7)


def test_matches_bound_constrained_reformulation():
    """w = u - v with u, v >= 0 turns the lasso into a smooth bound-constrained problem."""
    X, y, e, _ = make_problem(n=80, p=12, seed=3)
    obj = PoissonObjective(X, y, e)
    alpha = 0.1 * alpha_max(obj)
    ours = solve(obj, obj.initial_params(), alpha)
    p = X.shape[1]

    def fun(z):
        u, v, b = z[:p], z[p : 2 * p], z[-1]
        coef = u - v
        mu = e * np.exp(X @ coef + b)
        value = np.mean(mu - y * np.log(e) - y * (X @ coef + b)) + alpha * (u.sum() + v.sum())
        r = (mu - y) / len(y)
        g = X.T @ r
        return value, np.concatenate([g + alpha, -g + alpha, [r.sum()]])

    z0 = np.zeros(2 * p + 1)
    z0[-1] = obj.initial_params()[-1, 0]
    bounds = [(0, None)] * (2 * p) + [(None, None)]
    ref = minimize(
        fun, z0, jac=True, method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-15, "gtol": 1e-12}
    )
    ref_params = np.append(ref.x[:p] - ref.x[p : 2 * p], ref.x[-1])
    assert l1_objective(obj, ref_params, alpha) >= ours.objective - 1e-12
    np.testing.assert_allclose(ours.params, ref_params, atol=1e-5)


def test_no_perturbation_lowers_the_objective():
    X, y, e, s = make_problem(seed=4, weights=True)
    obj = PoissonObjective(X, y, e, s)
    alpha = 0.05 * alpha_max(obj)
    best = solve(obj, obj.initial_params(), alpha)
    rng = np.random.default_rng(0)
    for scale in (1e-2, 1e-4, 1e-6):
        for _ in range(20):
            trial = best.params + scale * rng.standard_normal(best.params.size)
            assert l1_objective(obj, trial, alpha) >= best.objective


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), repeats=st.lists(st.integers(0, 3), min_size=40, max_size=40))
def test_integer_weights_equal_repeated_rows(seed, repeats):
    repeats = np.asarray(repeats)
    if repeats.sum() < 10:
        repeats = repeats + 1
    X, y, e, _ = make_problem(n=40, p=8, seed=seed)
    if np.sum(repeats * y) == 0:
        y[0], repeats[0] = 1.0, max(repeats[0], 1)
    weighted = PoissonObjective(X, y, e, repeats.astype(float))
    rows = np.repeat(np.arange(40), repeats)
    repeated = PoissonObjective(X[rows], y[rows], e[rows])
    alpha = 0.2 * alpha_max(repeated)
    a = solve(weighted, weighted.initial_params(), alpha, tol=1e-11)
    b = solve(repeated, repeated.initial_params(), alpha, tol=1e-11)
    np.testing.assert_allclose(a.params, b.params, atol=1e-8)


def test_stopping_short_warns_with_the_reached_violation():
    X, y, e, _ = make_problem(seed=6)
    obj = PoissonObjective(X, y, e)
    result = solve(obj, obj.initial_params(), 0.01 * alpha_max(obj), max_iter=1)
    assert not result.converged
    _, G, _ = obj.value_gradient(result.params[:, None])
    largest, _ = max_kkt_violation(L1(0.01 * alpha_max(obj)), result.params[:, None], G, 30)
    assert result.optimality == pytest.approx(largest[0], rel=1e-9)  # GEMV vs fused sweep
    with pytest.warns(ConvergenceWarning, match=f"{result.optimality:.3g}"):
        warn_if_not_converged(result, 1e-8, 1)


def test_warm_start_at_the_optimum_takes_no_step():
    X, y, e, _ = make_problem(seed=7)
    obj = PoissonObjective(X, y, e)
    alpha = 0.1 * alpha_max(obj)
    first = solve(obj, obj.initial_params(), alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = solve(obj, first.params, alpha)
    assert again.n_iter == 0 and again.converged
    np.testing.assert_array_equal(again.params, first.params)
