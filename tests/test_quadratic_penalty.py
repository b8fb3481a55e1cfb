"""The quadratic penalty ``alpha/2 w' Q w``: derivatives, validation and exact optima.

Facts asserted:

* ``Quadratic.gradient`` is the derivative of ``value`` and
  ``add_to_hessian`` adds its derivative, ``alpha Q`` (finite differences),
  for dense and sparse ``Q``; ``line_terms`` and ``change`` are exact;
* ``Q`` that is not square, of the wrong size, not symmetric, not positive
  semi-definite or not finite is refused with the argument named;
* ``solve`` minimises data term plus ``Quadratic`` with Newton and L-BFGS
  without changes to their algorithms: the gradient is below ``tol``, the
  optimum equals scipy's ``minimize`` on the same objective, ``Q = I``
  equals the ridge, and the dual (Woodbury) Newton form, which assumes an
  ``alpha I`` Hessian, is not used for it;
* ``PoissonLNPRegressor(penalty_matrix=None)`` is the ridge path unchanged,
  and ``penalty_matrix=Q`` reaches that optimum with exposure, sample
  weights, populations, float32, sparse and dask designs.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from _problems import poisson_problem
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize

from sklearn_lnp import PoissonLNPRegressor
from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp._penalties import L2, Quadratic, check_penalty_matrix
from sklearn_lnp._solvers import SmoothProblem, solve
from sklearn_lnp._solvers._costs import use_dual
from sklearn_lnp.penalties import smoothness_penalty

moderate = st.floats(-10, 10, allow_nan=False)
strengths = arrays(np.float64, 3, elements=st.floats(0, 5, allow_nan=False))


def _random_psd(p, seed=0, rank=None):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((rank or p, p))
    return A.T @ A / p


PENALTY_MATRICES = {
    "dense": lambda: _random_psd(4, rank=2),  # singular: semi-definite only
    "sparse": lambda: smoothness_penalty((2, 2), space=1.0, ridge=0.1),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(PENALTY_MATRICES))
@settings(max_examples=30, deadline=None)
@given(W=arrays(np.float64, (4, 3), elements=moderate), alpha=strengths)
def test_gradient_and_hessian_are_derivatives(kind, W, alpha):
    Q = PENALTY_MATRICES[kind]()
    penalty = Quadratic(alpha, Q)
    G = penalty.gradient(W)
    h = 1e-6
    for i in range(W.shape[0]):
        E = np.zeros_like(W)
        E[i] = h
        numeric = (penalty.value(W + E) - penalty.value(W - E)) / (2 * h)
        # a quadratic: central differences exact up to round-off of |value|
        scale = 1e-6 * (1 + penalty.value(W).max() + np.abs(G).max())
        np.testing.assert_allclose(G[i], numeric, rtol=1e-6, atol=scale)
    for neuron in range(3):
        H = np.zeros((5, 5))  # 4 coefficients and an (unpenalised) intercept
        penalty.add_to_hessian(H, 4, neuron)
        numeric = np.empty((4, 4))
        for i in range(4):
            E = np.zeros((4, 1))
            E[i] = h
            column = W[:, [neuron]]
            single = penalty.subset([neuron])
            numeric[:, i] = (single.gradient(column + E) - single.gradient(column - E))[:, 0]
        numeric /= 2 * h
        np.testing.assert_allclose(H[:4, :4], numeric, rtol=1e-6, atol=1e-6)
        assert not H[4].any() and not H[:, 4].any()


@settings(max_examples=30, deadline=None)
@given(
    W=arrays(np.float64, (4, 3), elements=moderate),
    D=arrays(np.float64, (4, 3), elements=moderate),
    alpha=strengths,
    t=st.floats(-3, 3, allow_nan=False),
)
def test_line_terms_and_change_are_exact(W, D, alpha, t):
    penalty = Quadratic(alpha, _random_psd(4, seed=1))
    c1, c2 = penalty.line_terms(W, D)
    change = penalty.value(W + t * D) - penalty.value(W)
    # the sides are the same quadratic summed in different orders
    scale = 1.0 + penalty.value(W) + penalty.value(W + t * D)
    assert np.all(np.abs(c1 * t + 0.5 * c2 * t * t - change) <= 1e-12 * scale)
    assert np.all(np.abs(penalty.change(W, W + t * D) - change) <= 1e-12 * scale)


def test_identity_is_the_ridge_and_subset_keeps_q():
    rng = np.random.default_rng(0)
    W, D = rng.standard_normal((2, 5, 3))
    alpha = [0.5, 1.0, 2.0]
    for Q in (np.eye(5), sp.identity(5, format="csr")):
        quadratic, ridge = Quadratic(alpha, Q), L2(alpha)
        np.testing.assert_allclose(quadratic.value(W), ridge.value(W), rtol=1e-14)
        np.testing.assert_allclose(quadratic.gradient(W), ridge.gradient(W), rtol=1e-14)
        for a, b in zip(quadratic.line_terms(W, D), ridge.line_terms(W, D), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-14)
        sub = quadratic.subset([2])
        assert sub.Q is quadratic.Q and sub.alpha.tolist() == [2.0]
    G = rng.standard_normal((5, 3))
    np.testing.assert_allclose(
        Quadratic(alpha, np.eye(5)).kkt_violation(W, G), np.abs(G + ridge.gradient(W))
    )
    # no strength: zero whatever W (no 0 * inf)
    assert not Quadratic(0.0, np.eye(2)).value(np.full((2, 1), 1e200)).any()
    assert Quadratic.isotropic is False and L2.isotropic is True


@pytest.mark.parametrize(
    ("Q", "error", "match"),
    [
        (np.ones((2, 3)), ValueError, r"penalty_matrix must be a square \(p, p\)"),
        (np.ones(3), ValueError, r"penalty_matrix must be a square"),
        ([[1.0, 0.5], [0.0, 1.0]], ValueError, "penalty_matrix must be symmetric"),
        ([[1.0, 2.0], [2.0, 1.0]], ValueError, "positive semi-definite.*-1"),
        (sp.csr_matrix([[1.0, 2.0], [2.0, 1.0]]), ValueError, "positive semi-definite"),
        ([[1.0, np.nan], [np.nan, 1.0]], ValueError, "finite"),
        ([["a", "b"], ["c", "d"]], TypeError, "penalty_matrix must be a real numeric"),
    ],
)
def test_bad_penalty_matrix_is_refused_by_name(Q, error, match):
    with pytest.raises(error, match=match):
        check_penalty_matrix(Q)
    with pytest.raises(error, match=match):
        Quadratic(1.0, Q)


def test_penalty_matrix_size_must_match_features():
    with pytest.raises(ValueError, match=r"shape \(3, 3\) to match the 3 features of X"):
        check_penalty_matrix(np.eye(2), n_features=3)
    with pytest.raises(ValueError, match="penalty_matrix is required"):
        Quadratic(1.0)
    # symmetric to round-off is accepted, and made exactly symmetric
    Q = _random_psd(5)
    Q[0, 1] += 1e-14
    checked = check_penalty_matrix(Q)
    np.testing.assert_array_equal(checked, checked.T)


def _objective_and_penalty(n=300, p=12, seed=0, alpha=0.05, sample_weight=(0.5, 2.0)):
    data = poisson_problem(n, p, seed=seed, per_sqrt_features=True, sample_weight=sample_weight)
    Q = smoothness_penalty((3, 4), space=1.0, ridge=0.0)  # singular Laplacian
    objective = PoissonObjective(data.X, data.y, data.exposure, data.sample_weight)
    return objective, Quadratic(alpha, Q)


@pytest.mark.parametrize("solver", ["newton-cholesky", "lbfgs", "auto"])
def test_solve_with_quadratic_reaches_scipy_minimum(solver):
    objective, penalty = _objective_and_penalty()
    problem = SmoothProblem(objective, penalty)
    result = solve(objective, penalty, objective.initial_params(), solver=solver, tol=1e-10)[0]
    assert result.converged and result.optimality <= 1e-10

    def fun(params):
        values, G, _ = problem.evaluate(params[:, None])
        return values[0], G[:, 0]

    def hess(params):
        eta = objective.linear_predictor(params[:, None])
        return problem.hessian(eta)

    reference = minimize(
        fun,
        np.zeros(objective.n_params),
        jac=True,
        hess=hess,
        method="trust-exact",
        options={"gtol": 1e-12},
    )
    # both optima of a strictly convex objective to 1e-10 in gradient: equal
    # to (gradient tolerance) x (inverse curvature), well below 1e-7 here
    np.testing.assert_allclose(result.params, reference.x, rtol=0, atol=1e-7)
    assert result.objective <= reference.fun + 1e-14


def test_quadratic_with_more_features_than_samples_uses_the_primal_newton():
    data = poisson_problem(40, 60, seed=3, per_sqrt_features=True)
    objective = PoissonObjective(data.X, data.y, data.exposure)
    Q = smoothness_penalty((6, 10), ridge=0.01)
    penalty = Quadratic(0.5, Q)
    problem = SmoothProblem(objective, penalty)
    assert use_dual(SmoothProblem(objective, L2(0.5)))  # the ridge would use the dual form
    assert not use_dual(problem)  # it assumes alpha I: not for Q
    results = [
        solve(objective, penalty, objective.initial_params(), solver=s, tol=1e-10)[0]
        for s in ("newton-cholesky", "lbfgs")
    ]
    for result in results:
        assert result.converged
        _, G, _ = problem.evaluate(result.params[:, None])
        assert np.max(np.abs(G)) <= 1e-10
    np.testing.assert_allclose(results[0].params, results[1].params, atol=1e-8)


@pytest.mark.parametrize("solver", ["newton-cholesky", "lbfgs"])
def test_estimator_with_identity_equals_ridge(solver):
    data = poisson_problem(400, 15, seed=1, per_sqrt_features=True, sample_weight=(0.5, 2.0))
    fit = dict(sample_weight=data.sample_weight, exposure=data.exposure)
    ridge = PoissonLNPRegressor(alpha=0.1, solver=solver).fit(data.X, data.y, **fit)
    same = PoissonLNPRegressor(alpha=0.1, solver=solver, penalty_matrix=None).fit(
        data.X, data.y, **fit
    )
    np.testing.assert_array_equal(same.coef_, ridge.coef_)  # the same path, bit for bit
    for Q in (np.eye(15), sp.identity(15, format="csr")):
        quadratic = PoissonLNPRegressor(alpha=0.1, solver=solver, penalty_matrix=Q)
        quadratic.fit(data.X, data.y, **fit)
        # two fits to max|grad| <= 1e-8 of the same strictly convex objective
        np.testing.assert_allclose(quadratic.coef_, ridge.coef_, rtol=0, atol=1e-6)
        np.testing.assert_allclose(quadratic.intercept_, ridge.intercept_, atol=1e-6)


def _smooth_fit_kkt(model, X, y, exposure, sample_weight, Q):
    """max |gradient| of the mean objective plus alpha/2 w'Qw at the fitted optimum."""
    objective = PoissonObjective(np.asarray(X, dtype=np.float64), y, exposure, sample_weight)
    P = objective.join(model.coef_[:, None], model.intercept_)
    _, G, _ = SmoothProblem(objective, Quadratic(model.alpha, Q)).evaluate(P)
    return float(np.max(np.abs(G)))


@pytest.mark.parametrize("layout", ["dense", "sparse", "float32", "dask"])
def test_estimator_with_smoothness_penalty_on_every_design(layout):
    data = poisson_problem(500, 20, seed=2, per_sqrt_features=True, sample_weight=(0.5, 2.0))
    Q = smoothness_penalty((4, 5), space=1.0)
    X = data.X
    if layout == "sparse":
        X = sp.csr_matrix(X)
    elif layout == "float32":
        X = X.astype(np.float32)
    elif layout == "dask":
        da = pytest.importorskip("dask.array")
        X = da.from_array(X, chunks=(128, 20))
    model = PoissonLNPRegressor(alpha=0.2, penalty_matrix=Q).fit(
        X, data.y, sample_weight=data.sample_weight, exposure=data.exposure
    )
    dense = np.asarray(X.compute() if layout == "dask" else (X.toarray() if sp.issparse(X) else X))
    assert _smooth_fit_kkt(model, dense, data.y, data.exposure, data.sample_weight, Q) <= 1e-8
    reference = PoissonLNPRegressor(alpha=0.2, penalty_matrix=Q.toarray()).fit(
        dense, data.y, sample_weight=data.sample_weight, exposure=data.exposure
    )
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)


def test_population_with_penalty_matrix_fits_each_neuron():
    data = poisson_problem(300, 12, seed=4, n_neurons=3, per_sqrt_features=True)
    Q = smoothness_penalty((3, 4), ridge=0.1)
    population = PoissonLNPRegressor(alpha=0.1, penalty_matrix=Q).fit(
        data.X, data.y, exposure=data.exposure
    )
    for j in range(3):
        single = PoissonLNPRegressor(alpha=0.1, penalty_matrix=Q).fit(
            data.X, data.y[:, j], exposure=data.exposure
        )
        np.testing.assert_allclose(population.coef_[j], single.coef_, atol=1e-6)


def test_smoothness_penalty_smooths_the_estimate():
    """A smooth true RF: the smoothness penalty recovers it better than the ridge."""
    from sklearn_lnp.datasets import gaussian_rf

    rf = gaussian_rf((10, 10), sigma=2.0).ravel()
    rf = 0.6 * rf / np.abs(rf).max()
    data = poisson_problem(800, 100, seed=5, design="binary", coef=rf, intercept=-1.0)
    Q = smoothness_penalty((10, 10), ridge=1e-3)
    correlations = {}
    alphas = [0.01, 0.03, 0.1]
    for name, matrix in (("ridge", None), ("smooth", Q)):
        correlations[name] = max(
            np.corrcoef(
                PoissonLNPRegressor(alpha=a, penalty_matrix=matrix)
                .fit(data.X, data.y, exposure=data.exposure)
                .coef_,
                rf,
            )[0, 1]
            for a in alphas
        )
    assert correlations["smooth"] > correlations["ridge"]


def test_estimator_refuses_a_penalty_matrix_of_the_wrong_size():
    data = poisson_problem(50, 4, seed=0)
    with pytest.raises(ValueError, match=r"penalty_matrix must have shape \(4, 4\)"):
        PoissonLNPRegressor(alpha=1.0, penalty_matrix=np.eye(5)).fit(data.X, data.y)
    with pytest.raises(ValueError, match="positive semi-definite"):
        PoissonLNPRegressor(alpha=1.0, penalty_matrix=-np.eye(4)).fit(data.X, data.y)
    with pytest.raises(ValueError, match="penalty_matrix"):
        PoissonLNPRegressor(penalty_matrix="identity").fit(data.X, data.y)


@pytest.mark.slow  # two fits with 1500 weights, Newton forming 1500 x 1500 Gram matrices
def test_smoothness_penalty_on_the_real_neuron_at_five_lags(real_design, real_lagged_X):
    Q = smoothness_penalty(real_design.frame_shape, n_lags=5, space=1.0, time=1.0)
    y, exposure = real_design.counts, real_design.exposure
    fits = {
        solver: PoissonLNPRegressor(alpha=1e-2, penalty_matrix=Q, solver=solver).fit(
            real_lagged_X, y, exposure=exposure
        )
        for solver in ("newton-cholesky", "lbfgs")
    }
    for model in fits.values():
        assert _smooth_fit_kkt(model, real_lagged_X, y, exposure, None, Q) <= 1e-8
    # two fits to max|grad| <= 1e-8 of one strictly convex objective
    np.testing.assert_allclose(
        fits["newton-cholesky"].coef_, fits["lbfgs"].coef_, rtol=0, atol=1e-5
    )


def test_penalty_matrix_goes_through_clone_and_grid_search():
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    data = poisson_problem(400, 12, seed=0, per_sqrt_features=True)
    Q = smoothness_penalty((3, 4))
    model = PoissonLNPRegressor(penalty_matrix=Q, compute_std=True)
    assert clone(model).get_params()["penalty_matrix"].shape == (12, 12)
    search = GridSearchCV(model, {"alpha": [0.01, 0.1]}, cv=3).fit(data.X, data.y)
    best = search.best_estimator_
    assert best.coef_std_.shape == (12,) and np.all(best.coef_std_ > 0)
