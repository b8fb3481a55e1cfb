"""The pass-saving machinery of the smooth solvers.

Facts asserted:

* a fused sweep equals ``X.T @ f(X @ v)`` for every kind of design, and its
  single-precision variant on float32 designs stays within the documented
  round-off (~1e-6 relative for ``X v``);
* the line restriction returns ``F(x + t d) - F(x)`` and its first two
  derivatives (also beyond the overflow threshold of ``exp``), and resolves
  decreases far below ``eps * |F|``;
* ``gradient_along`` gives the gradient at ``x + t d`` in one pass;
* the dual (Woodbury) Newton direction equals the primal one;
* the L-BFGS direction (compact representation, pairs stored interleaved)
  equals the two-loop recursion on the same pairs, across window slides,
  dropped pairs and pairs refused by the curvature test;
* L-BFGS on a float32 design (single-precision products while far from the
  optimum) stops at a point whose float64 gradient meets ``tol``;
* an L-BFGS iteration costs about one pass over ``X`` and a Newton step in
  the dual form costs no Gram matrix;
* ``solver="auto"`` keeps L-BFGS on a well-conditioned problem with many
  samples and hands over to Newton on an ill-conditioned ``p > n`` problem.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import sklearn_lnp._passes as linalg
import sklearn_lnp._passes._memory as memory
from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp._penalties import L2
from sklearn_lnp._solvers import SmoothProblem, solve
from sklearn_lnp._solvers._lbfgs import _History
from sklearn_lnp._solvers._newton import (
    _DualSystem,
    _newton_direction,
    cholesky_factor,
    cholesky_solve,
)


def _smooth(X, y, exposure, weights, alpha, fit_intercept=True):
    """One neuron's data term plus ``L2(alpha)``."""
    objective = PoissonObjective(X, y, exposure, weights, fit_intercept=fit_intercept)
    return SmoothProblem(objective, L2(alpha))


def _fit(problem, solver, tol, P=None):
    """The one neuron's SolverResult."""
    objective = problem.objective
    P = objective.initial_params() if P is None else P
    (result,) = solve(objective, problem.penalty, P, solver=solver, tol=tol)
    return result


def _value(problem, params):
    return problem.evaluate(params[:, None])[0][0]


def _gradient(problem, params):
    return problem.evaluate(params[:, None])[1][:, 0]


def _hessian(problem, params):
    return problem.hessian(problem.objective.linear_predictor(params[:, None]))


def _problem(n, p, *, seed=0, alpha=0.3, dtype=np.float64, scale=0.3):
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], size=(n, p)).astype(dtype)
    w = rng.standard_normal(p) * scale / np.sqrt(p)
    exposure = rng.uniform(0.5, 1.5, n)
    y = rng.poisson(exposure * np.exp(X.astype(np.float64) @ w)).astype(np.float64)
    weights = rng.uniform(0.5, 2.0, n)
    return X, y, exposure, weights, alpha


@pytest.mark.parametrize(
    "kind",
    [
        "float64",
        "float64-F",
        "float64-big",
        "float32",
        "float32-fast",
        "float32-blocks",
        "float32-fast-blocks",
        "csr",
    ],
)
def test_sweep_equals_two_products(kind, monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5003, 17))
    if kind == "float64-big":  # force several row blocks on a float64 design
        monkeypatch.setattr(memory, "_SWEEP_WHOLE_BYTES", 0)
        monkeypatch.setattr(memory, "_SWEEP_BLOCK_BYTES", 8 * 17 * 1000)
    if kind == "float64-F":
        X = np.asfortranarray(X)
    if kind.endswith("-blocks"):  # several row blocks, converted or single precision
        monkeypatch.setattr(memory, "_CONVERT_BLOCK_BYTES", 8 * 17 * 700)
        monkeypatch.setattr(memory, "_FAST_BLOCK_BYTES", 8 * 17 * 700)
    if kind.startswith("float32"):
        X = X.astype(np.float32)
    if kind == "csr":
        X[rng.random(X.shape) < 0.7] = 0.0
        X = sp.csr_matrix(X)
    dense = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    v = rng.standard_normal(17)
    seen = []

    def func(rows, u):
        seen.append((rows.start, rows.stop))
        return np.tanh(u) * np.arange(rows.start, rows.stop)

    out = linalg.sweep(X, v, func, fast=kind.startswith("float32-fast"))
    expected = dense.T @ (np.tanh(dense @ v) * np.arange(5003))
    # the slices cover the samples in order
    assert seen[0][0] == 0 and seen[-1][1] == 5003
    assert all(a[1] == b[0] for a, b in zip(seen[:-1], seen[1:], strict=True))
    rtol = 1e-5 if kind.startswith("float32-fast") else 1e-12
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


@pytest.mark.parametrize("k", [1, 3])
def test_sweep_blocks_by_number_of_columns(k, monkeypatch):
    # vectors (memory-bound products) and matrices (compute bound) have their
    # own row-block sizes; both cover the samples in order and give X.T f(X v)
    monkeypatch.setattr(memory, "_SWEEP_WHOLE_BYTES", 0)
    monkeypatch.setattr(memory, "_SWEEP_BLOCK_BYTES", 8 * 17 * 1000)
    monkeypatch.setattr(memory, "_SWEEP_MATRIX_BLOCK_BYTES", 8 * 17 * 700)
    monkeypatch.setattr(memory, "_SWEEP_MATRIX_WHOLE_BYTES", 0)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5003, 17))
    v = rng.standard_normal(17) if k == 1 else rng.standard_normal((17, k))
    seen = []

    def func(rows, u):
        seen.append(rows.stop - rows.start)
        return np.tanh(u)

    out = linalg.sweep(X, v, func)
    assert sum(seen) == 5003 and max(seen) == (1000 if k == 1 else 700)
    # the blocks' partial sums add in another order than one product's
    np.testing.assert_allclose(out, X.T @ np.tanh(X @ v), rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_fast_products_round_off_is_single_precision_sized():
    rng = np.random.default_rng(2)
    X = rng.choice([-1.0, 1.0], size=(20000, 300)).astype(np.float32)
    w = rng.standard_normal(300)
    exact = X.astype(np.float64) @ w
    fast = linalg.matvec(X, w, fast=True)
    scale = np.abs(X).astype(np.float64) @ np.abs(w)
    assert np.max(np.abs(fast - exact) / scale) < 1e-6
    r = rng.standard_normal(20000)
    exact_t = X.astype(np.float64).T @ r
    fast_t = linalg.rmatvec(X, r, fast=True)
    assert np.max(np.abs(fast_t - exact_t)) < 1e-6 * np.abs(r).sum()
    # and the accurate products are accurate
    assert np.max(np.abs(linalg.matvec(X, w) - exact) / scale) < 1e-14


@pytest.mark.parametrize("intercept", [0.0, 99.5])
def test_line_restriction_is_the_objective_along_the_line(intercept):
    X, y, exposure, weights, alpha = _problem(200, 6, seed=3)
    problem = _smooth(X, y, exposure, weights, alpha)
    rng = np.random.default_rng(4)
    params = rng.standard_normal(7) * 0.2
    params[-1] += intercept  # 99.5: steps cross the exp continuation at ETA_MAX
    direction = rng.standard_normal(7) * 0.3
    base, G, eta = problem.evaluate(params[:, None])
    line = problem.restriction(params[:, None], eta, direction[:, None])
    assert line.slope[0] == pytest.approx(G[:, 0] @ direction, rel=1e-10)
    for t in (-0.7, 0.3, 2.0):
        value, first, second = (float(v[0]) for v in line(t))
        point = params + t * direction
        assert value == pytest.approx(_value(problem, point) - base[0], rel=1e-8, abs=1e-12)
        assert first == pytest.approx(_gradient(problem, point) @ direction, rel=1e-9)
        curvature = direction @ _hessian(problem, point) @ direction
        assert second == pytest.approx(curvature, rel=1e-9)


def test_line_restriction_resolves_decreases_below_round_off_of_f():
    X, y, exposure, weights, alpha = _problem(300, 5, seed=5)
    problem = _smooth(X, y, exposure, weights, alpha)
    result = _fit(problem, "newton-cholesky", 1e-13)
    direction = np.random.default_rng(6).standard_normal(6)
    t = 1e-9  # decrease of order t^2 ~ 1e-18, far below eps * |F| ~ 1e-16
    start = (result.params - t * direction)[:, None]
    _, _, eta = problem.evaluate(start)
    line = problem.restriction(start, eta, direction[:, None])
    value = float(line(t)[0][0])
    expected = -0.5 * t * t * (direction @ _hessian(problem, result.params) @ direction)
    assert value == pytest.approx(expected, rel=1e-3)
    assert value < 0


def test_gradient_along_costs_one_pass(monkeypatch):
    # a design too large to stay in cache is swept in fused row blocks
    monkeypatch.setattr(memory, "_SWEEP_WHOLE_BYTES", 0)
    monkeypatch.setattr(memory, "_SWEEP_BLOCK_BYTES", 8 * 9 * 64)
    X, y, exposure, weights, alpha = _problem(400, 9, seed=7)
    problem = _smooth(X, y, exposure, weights, alpha)
    P = problem.objective.initial_params()
    _, G, eta = problem.evaluate(P)
    D = -G
    passes = problem.objective.n_passes
    line, values, G_new, _, new_P = problem.along(P, eta, D, 0.7)
    assert problem.objective.n_passes == passes + 1
    np.testing.assert_allclose(new_P, P + 0.7 * D)
    fresh = _smooth(X, y, exposure, weights, alpha)
    assert values[0] == pytest.approx(_value(fresh, new_P[:, 0]), rel=1e-13)
    np.testing.assert_allclose(G_new[:, 0], _gradient(fresh, new_P[:, 0]), rtol=1e-10, atol=1e-15)
    assert line.slope[0] == pytest.approx(-(D[:, 0] @ D[:, 0]), rel=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n, p", [(40, 90), (90, 40)])
def test_dual_newton_direction_equals_primal(fit_intercept, n, p):
    X, y, exposure, weights, alpha = _problem(n, p, seed=8)
    problem = _smooth(X, y, exposure, weights, alpha, fit_intercept)
    objective = problem.objective
    params = np.random.default_rng(9).standard_normal(objective.n_params) * 0.1
    _, G, eta = problem.evaluate(params[:, None])
    grad = G[:, 0]
    primal, _ = _newton_direction(problem.hessian(eta, symmetric=False), grad)
    xw = X @ objective.split(params[:, None])[0][:, 0]
    system = _DualSystem(objective)
    hessian = system.factorize(objective, alpha, eta[:, 0])
    dual, z = system.direction(problem, alpha, hessian, eta[:, 0], xw, grad)
    np.testing.assert_allclose(dual, primal, rtol=1e-8, atol=1e-10 * np.abs(primal).max())
    expected_z = objective.direction_predictor(dual[:, None])[:, 0]
    np.testing.assert_allclose(z, expected_z, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("n, p, alpha, rate", [(20000, 60, 0.01, 1.0), (1000, 1000, 1.0, 4.0)])
def test_lbfgs_on_float32_meets_tol_in_float64(n, p, alpha, rate):
    """Single-precision sweeps far from the optimum, accurate ones at the end.

    (1000, 1000): the approximate gradients reach their round-off floor above
    tol; the solver must notice and finish with accurate products in about as
    many iterations as on the float64 copy (without the switch: 197 against
    44, measured).
    """
    rng = np.random.default_rng(10)
    X = rng.choice([-1.0, 1.0], size=(n, p))
    w = rng.standard_normal(p) * 0.3 / np.sqrt(p)
    exposure = rng.uniform(0.5, 1.5, n)
    y = rng.poisson(rate * exposure * np.exp(X @ w)).astype(np.float64)
    result = _fit(_smooth(X.astype(np.float32), y, exposure, None, alpha), "lbfgs", 1e-8)
    assert result.converged
    exact = _smooth(X, y, exposure, None, alpha)
    assert np.max(np.abs(_gradient(exact, result.params))) <= 1e-8
    assert result.objective == pytest.approx(_value(exact, result.params), rel=1e-14)
    reference = _fit(exact, "lbfgs", 1e-8)
    assert result.n_iter <= 1.3 * reference.n_iter + 2


def test_pass_counts_of_lbfgs_and_dual_newton(monkeypatch):
    X, y, exposure, weights, alpha = _problem(20000, 60, seed=11, alpha=0.01)
    result = _fit(_smooth(X, y, exposure, weights, alpha), "lbfgs", 1e-8)
    assert result.converged and result.n_grams == 0
    # X (9.6 MB) fits in cache: swept whole, two reads per iteration
    assert result.n_passes <= 2 * (1.25 * result.n_iter + 3)
    # too large for the cache: one fused sweep per iteration, plus the first
    # gradient, the first (unscaled) step's X d and the occasional rejected
    # unit step
    monkeypatch.setattr(memory, "_SWEEP_WHOLE_BYTES", 0)
    result = _fit(_smooth(X, y, exposure, weights, alpha), "lbfgs", 1e-8)
    assert result.converged
    assert result.n_passes <= 1.25 * result.n_iter + 3
    X, y, exposure, weights, alpha = _problem(100, 300, seed=12, alpha=0.5)
    result = _fit(_smooth(X, y, exposure, weights, alpha), "newton-cholesky", 1e-10)
    assert result.converged
    assert result.n_grams == 1  # the kernel X X' once, no Gram matrix per step
    assert result.n_passes <= 2 * result.n_iter + 1


def test_auto_chooses_by_conditioning():
    # Many samples, white design, moderate penalty: L-BFGS alone.
    X, y, exposure, weights, _ = _problem(20000, 200, seed=13)
    result = _fit(_smooth(X, y, exposure, None, 0.01), "auto", 1e-8)
    assert result.converged and result.solver == "lbfgs"
    # p > n with a tiny penalty: L-BFGS crawls, Newton finishes.
    X, y, exposure, weights, _ = _problem(600, 800, seed=14, scale=1.0)
    result = _fit(_smooth(X, y, exposure, None, 1e-4), "auto", 1e-8)
    assert result.converged and result.solver == "lbfgs+newton-cholesky"
    # A small problem: a few Newton steps cost less than the per-iteration
    # overhead of an L-BFGS run.
    X, y, exposure, weights, _ = _problem(300, 40, seed=15)
    result = _fit(_smooth(X, y, exposure, None, 0.1), "auto", 1e-8)
    assert result.converged and result.solver == "newton-cholesky"


@pytest.mark.parametrize("jump", [3.0, 800.0])
def test_gradient_along_past_the_exp_threshold_is_exact_and_silent(jump):
    """A trial step into the continuation of exp (or beyond float overflow)."""
    X, y, exposure, weights, alpha = _problem(300, 5, seed=16)
    problem = _smooth(X, y, exposure, weights, alpha)
    P = np.zeros((6, 1))
    P[-1] = 98.0
    _, _, eta = problem.evaluate(P)
    D = np.zeros((6, 1))
    D[0], D[-1] = 0.1, jump
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, values, G, _, new_P = problem.along(P, eta, D, 1.0)
    fresh = _smooth(X, y, exposure, weights, alpha)
    assert np.isfinite(values[0]) and np.all(np.isfinite(G))
    assert values[0] == pytest.approx(_value(fresh, new_P[:, 0]), rel=1e-12)
    np.testing.assert_allclose(G[:, 0], _gradient(fresh, new_P[:, 0]), rtol=1e-12)


def _two_loop(pairs, grad):
    """``-H grad`` by the two-loop recursion (Nocedal and Wright, algorithm 7.4)."""
    q = grad.copy()
    alphas = []
    for s, y in reversed(pairs):
        a = (s @ q) / (s @ y)
        alphas.append(a)
        q -= a * y
    s, y = pairs[-1]
    r = (s @ y) / (y @ y) * q
    for (s, y), a in zip(pairs, reversed(alphas), strict=True):
        r += (a - (y @ r) / (s @ y)) * s
    return -r


@pytest.mark.parametrize("memory", [1, 3, 5])
def test_lbfgs_direction_equals_the_two_loop_recursion(memory):
    rng = np.random.default_rng(memory)
    n = 7
    A = rng.standard_normal((n, n))
    hessian = A @ A.T + np.eye(n)  # the pairs of a convex quadratic: y = H s
    history = _History(n, memory)
    kept = []
    for i in range(4 * memory + 3):  # the window slides back more than once
        s = rng.standard_normal(n)
        if i % 4 == 3:  # s'y < 0: refused by the curvature test, nothing changes
            history.push(s, -hessian @ s)
        else:
            history.push(s, hessian @ s)
            kept = (kept + [(s, hessian @ s)])[-memory:]
        grad = rng.standard_normal(n)
        expected = _two_loop(kept, grad)
        # two exact formulas for the same product: round-off apart only
        np.testing.assert_allclose(history.direction(grad), expected, rtol=1e-9, atol=1e-12)
    history.clear()
    np.testing.assert_array_equal(history.direction(grad), -grad)


@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_solve_solves_from_one_triangle(order, lower):
    """``A x = b`` for a positive definite ``A`` read from one triangle only."""
    rng = np.random.default_rng(3)
    root = rng.standard_normal((30, 30))
    A = root @ root.T + 30 * np.eye(30)
    b = rng.standard_normal((30, 2))
    matrix = np.array(A, order=order)
    other = np.triu_indices(30, 1) if lower else np.tril_indices(30, -1)
    matrix[other] = np.nan  # the triangle that must not be read
    factor = cholesky_factor(matrix, lower=lower)
    x = cholesky_solve(factor, b, lower=lower)
    # backward error of a Cholesky solve: a few eps times cond(A) (~10 here)
    np.testing.assert_allclose(A @ x, b, rtol=0, atol=1e-12 * np.abs(b).max())
    np.testing.assert_allclose(cholesky_solve(factor, b[:, 0], lower=lower), x[:, 0], rtol=1e-12)


def test_cholesky_solve_refuses_an_indefinite_matrix():
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        cholesky_factor(np.array([[1.0, 2.0], [2.0, 1.0]], order="F"), lower=False)


@pytest.mark.parametrize("n, p", [(300, 12), (60, 80)])  # primal and dual Newton
def test_newton_from_a_given_evaluation_is_the_same_fit_without_its_reads(n, p):
    X, y, exposure, weights, alpha = _problem(n, p, seed=4)
    runs = []
    for given in (False, True):
        problem = _smooth(X, y, exposure, weights, alpha)
        objective = problem.objective
        P = objective.initial_params() + 0.01
        evaluated = problem.evaluate(P) if given else None
        before = objective.n_passes
        (result,) = solve(
            objective, problem.penalty, P, solver="newton-cholesky", evaluated=evaluated
        )
        runs.append((result, objective.n_passes - before))
    (plain, plain_passes), (given, given_passes) = runs
    # the same arithmetic from the same evaluation: equal iterates
    np.testing.assert_array_equal(given.params, plain.params)
    assert given.n_iter == plain.n_iter
    assert given_passes == plain_passes - linalg.sweep_reads(X)  # the evaluation's reads


@pytest.mark.parametrize("n, p", [(800, 320), (400, 320)])  # primal and dual form
def test_chord_steps_reach_the_same_optimum_with_fewer_factorisations(monkeypatch, n, p):
    """Near the optimum Newton reuses its factorised Hessian; the optimum is unchanged."""
    from sklearn_lnp._solvers import _newton

    X, y, exposure, weights, alpha = _problem(n, p, seed=5, scale=1.0)
    factorisations = []
    real_factor = _newton.cholesky_factor

    def counted(matrix, *, lower):
        factorisations.append(matrix.shape[0])
        return real_factor(matrix, lower=lower)

    monkeypatch.setattr(_newton, "cholesky_factor", counted)
    runs = {}
    for label, rule in (("plain", lambda *args: False), ("chord", _newton.chord_is_cheaper)):
        monkeypatch.setattr(_newton, "chord_is_cheaper", rule)
        factorisations.clear()
        problem = _smooth(X, y, exposure, weights, alpha)
        objective = problem.objective
        (result,) = solve(
            objective, problem.penalty, objective.initial_params(), solver="newton-cholesky",
            tol=1e-8,
        )  # fmt: skip
        runs[label] = (result, len(factorisations))
    (plain, plain_count), (chord, chord_count) = runs["plain"], runs["chord"]
    assert plain.converged and chord.converged
    assert chord.optimality <= 1e-8
    assert chord_count < plain_count
    # both meet the same gradient criterion: values within the objective's round-off
    assert abs(chord.objective - plain.objective) <= 1e-12 * abs(plain.objective)
    np.testing.assert_allclose(chord.params, plain.params, rtol=0, atol=1e-8)
