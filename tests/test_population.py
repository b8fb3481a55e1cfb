"""Population fits: ``PoissonLNPRegressor`` with ``y`` of shape (n_samples, n_neurons).

Facts asserted: every neuron's fit is its single-neuron optimum (gradient
computed here with numpy <= tol, same objective as the single fit, for every
solver, any order of the neurons, per-neuron alpha), the lockstep solver
reads ``X`` once per iteration for all neurons, the dual Newton form with
exposure reaches the primal optimum, and the bad inputs of the issue (NaN in
one neuron, neurons without spikes) behave as documented.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklearn_lnp import PoissonLNPRegressor
from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp._penalties import L2
from sklearn_lnp._solvers import SmoothProblem, solve
from sklearn_lnp._solvers._lbfgs import lbfgs
from sklearn_lnp._solvers._newton import newton_cholesky

TOL = 1e-8


def _population(n_samples=3000, n_features=200, n_neurons=6, seed=0, exposure=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    W = rng.standard_normal((n_features, n_neurons)) * 0.8 / np.sqrt(n_features)
    bias = rng.uniform(-1.5, 0.0, n_neurons)
    e = rng.uniform(0.5, 1.5, n_samples) if exposure else np.ones(n_samples)
    Y = rng.poisson(e[:, None] * np.exp(X @ W + bias)).astype(float)
    return X, Y, (e if exposure else None), W


def _gradient(X, y, coef, intercept, alpha, exposure=None, sample_weight=None):
    """Gradient of the documented objective, written out with numpy."""
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    s = s / s.sum()
    e = np.ones(n) if exposure is None else exposure
    mu = e * np.exp(X @ coef + intercept)
    r = s * (mu - y)
    return np.append(X.T @ r + alpha * coef, r.sum())


@pytest.mark.parametrize("solver", ["auto", "lbfgs"])
def test_population_fit_is_each_neurons_optimum(solver):
    X, Y, exposure, _ = _population(exposure=True)
    alpha = 1e-3
    model = PoissonLNPRegressor(alpha=alpha, solver=solver).fit(X, Y, exposure=exposure)
    assert model.coef_.shape == (Y.shape[1], X.shape[1])
    assert model.intercept_.shape == (Y.shape[1],)
    # auto hands this size (L-BFGS territory for one neuron) to the lockstep solver
    assert all(name.startswith("lbfgs") for name in model.solver_)
    for j in range(Y.shape[1]):
        grad = _gradient(X, Y[:, j], model.coef_[j], model.intercept_[j], alpha, exposure)
        assert np.abs(grad).max() <= TOL
        single = PoissonLNPRegressor(alpha=alpha, solver=solver).fit(X, Y[:, j], exposure=exposure)
        assert model.objective_[j] == pytest.approx(single.objective_, rel=1e-12)
        np.testing.assert_allclose(model.coef_[j], single.coef_, atol=1e-6)


def test_lockstep_reads_x_once_per_iteration_for_all_neurons():
    X, Y, _, _ = _population(n_samples=2000, n_features=100, n_neurons=8)
    objective = PoissonObjective(X, Y)
    results = lbfgs(
        SmoothProblem(objective, L2(1e-3)), objective.initial_params(), tol=TOL, max_iter=500
    )
    n_iter = np.array([result.n_iter for result in results])
    assert all(result.optimality <= TOL for result in results)
    # one fused sweep (X @ D and X.T @ R, one read or two when X is swept
    # whole) per lockstep iteration, plus a few for rejected unit steps,
    # whatever the number of neurons
    assert objective.n_passes <= 2 * n_iter.max() + 6
    assert objective.n_passes < n_iter.sum()


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cholesky", "auto"])
def test_k_neuron_solve_equals_k_single_solves(solver):
    """Same optimum per neuron, to 1e-12 relative (different summation orders), per-neuron alpha."""
    X, Y, exposure, _ = _population(n_samples=1500, n_features=60, n_neurons=4, exposure=True)
    alpha = np.array([1e-3, 1e-2, 0.0, 3e-3])
    together = PoissonObjective(X, Y, exposure)
    results = solve(together, L2(alpha), together.initial_params(), solver=solver, tol=TOL)
    for j, result in enumerate(results):
        alone = PoissonObjective(X, Y[:, j], exposure)
        (single,) = solve(alone, L2(alpha[j]), alone.initial_params(), solver=solver, tol=TOL)
        assert result.converged and single.converged
        assert result.objective == pytest.approx(single.objective, rel=1e-12)
        np.testing.assert_allclose(result.params, single.params, atol=1e-6)


def test_same_result_with_exposure_weights_float32_and_sparse():
    X, Y, exposure, _ = _population(n_samples=1500, n_features=40, n_neurons=4, exposure=True)
    weights = np.random.default_rng(3).uniform(0, 2, X.shape[0])
    reference = PoissonLNPRegressor(alpha=1e-2, solver="lbfgs").fit(
        X, Y, sample_weight=weights, exposure=exposure
    )
    for design in (X.astype(np.float32), sp.csr_matrix(X)):
        other = PoissonLNPRegressor(alpha=1e-2, solver="lbfgs").fit(
            design, Y, sample_weight=weights, exposure=exposure
        )
        np.testing.assert_allclose(other.coef_, reference.coef_, atol=1e-5)
        assert np.all(other.optimality_ <= TOL)
    for j in range(Y.shape[1]):
        grad = _gradient(
            X, Y[:, j], reference.coef_[j], reference.intercept_[j], 1e-2, exposure, weights
        )
        assert np.abs(grad).max() <= TOL
    expected = exposure[:, None] * np.exp(X @ reference.coef_.T + reference.intercept_)
    np.testing.assert_allclose(reference.predict(X, exposure=exposure), expected, rtol=1e-12)


def test_permuting_neurons_permutes_the_fit():
    X, Y, _, _ = _population(n_samples=1000, n_features=30, n_neurons=5, seed=4)
    order = np.array([3, 0, 4, 1, 2])
    a = PoissonLNPRegressor(alpha=1e-2, solver="lbfgs").fit(X, Y)
    b = PoissonLNPRegressor(alpha=1e-2, solver="lbfgs").fit(X, Y[:, order])
    np.testing.assert_allclose(b.coef_, a.coef_[order], atol=1e-6)


def test_multioutput_check_on_counts():
    """scikit-learn's check_regressor_multioutput, on non-negative counts."""
    X, Y, _, _ = _population(n_samples=11, n_features=10, n_neurons=5, seed=5)
    Y[0] += 1  # every neuron spikes at least once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # alpha=0 with 11 samples
        model = PoissonLNPRegressor(alpha=0.1).fit(X, Y)
    prediction = model.predict(X)
    assert prediction.dtype == np.float64
    assert prediction.shape == Y.shape
    column = PoissonLNPRegressor(alpha=0.1).fit(X, Y[:, :1])
    assert column.coef_.shape == (1, X.shape[1])
    assert column.predict(X).shape == (X.shape[0], 1)


def test_single_output_unchanged():
    X, Y, _, _ = _population(n_samples=800, n_features=20, n_neurons=1, seed=6)
    model = PoissonLNPRegressor(alpha=1e-2).fit(X, Y[:, 0])
    assert model.coef_.shape == (X.shape[1],)
    assert isinstance(model.intercept_, float)
    with pytest.raises(ValueError, match="no spikes"):
        PoissonLNPRegressor().fit(X, np.zeros(X.shape[0]))


def test_neuron_without_spikes_gets_intercept_only_model_with_a_warning():
    X, Y, _, _ = _population(n_samples=1000, n_features=20, n_neurons=4, seed=7)
    Y[:, 2] = 0.0
    with pytest.warns(UserWarning, match=r"columns \[2\]"):
        model = PoissonLNPRegressor(alpha=1e-2, solver="lbfgs").fit(X, Y)
    assert np.all(model.coef_[2] == 0.0) and model.intercept_[2] == -np.inf
    assert np.all(model.predict(X)[:, 2] == 0.0)
    assert model.solver_[2] == "intercept-only"
    others = PoissonLNPRegressor(alpha=1e-2, solver="lbfgs").fit(X, Y[:, [0, 1, 3]])
    np.testing.assert_allclose(model.coef_[[0, 1, 3]], others.coef_, atol=1e-7)
    with pytest.raises(ValueError, match=r"columns \[2\].*fit_intercept=False"):
        PoissonLNPRegressor(alpha=1e-2, fit_intercept=False).fit(X, Y)


def test_nan_in_one_neuron_names_the_column():
    X, Y, _, _ = _population(n_samples=200, n_features=5, n_neurons=4, seed=8)
    Y[17, 3] = np.nan
    with pytest.raises(ValueError, match=r"neuron column\(s\) \[3\]"):
        PoissonLNPRegressor().fit(X, Y)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(Y, columns=["a", "b", "c", "cell_d"])
    with pytest.raises(ValueError, match="cell_d"):
        PoissonLNPRegressor().fit(X, frame)


@settings(max_examples=25, deadline=None)
@given(
    n_neurons=st.integers(2, 6),
    data=st.data(),
    value=st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_any_non_finite_column_is_named(n_neurons, data, value):
    bad = sorted(data.draw(st.sets(st.integers(0, n_neurons - 1), min_size=1)))
    rng = np.random.default_rng(n_neurons)
    X = rng.standard_normal((30, 3))
    Y = rng.poisson(1.0, size=(30, n_neurons)).astype(float)
    Y[data.draw(st.integers(0, 29)), bad] = value
    with pytest.raises(ValueError, match=rf"neuron column\(s\) \{bad}"):
        PoissonLNPRegressor().fit(X, Y)


def test_convergence_warning_names_the_neurons():
    X, Y, _, _ = _population(n_samples=500, n_features=20, n_neurons=3, seed=9)
    with pytest.warns(ConvergenceWarning, match=r"3 of 3 neurons \(y columns \[0, 1, 2\]\)"):
        PoissonLNPRegressor(alpha=1e-2, solver="lbfgs", max_iter=2).fit(X, Y)


def test_warm_start_from_the_optimum_takes_no_iteration():
    X, Y, _, _ = _population(n_samples=1000, n_features=20, n_neurons=3, seed=10)
    model = PoissonLNPRegressor(alpha=1e-2, solver="lbfgs", warm_start=True).fit(X, Y)
    coef = model.coef_.copy()
    model.fit(X, Y)
    assert np.all(model.n_iter_ == 0)
    np.testing.assert_array_equal(model.coef_, coef)


# -- lasso ----------------------------------------------------------------------


def test_lasso_population_is_each_neurons_optimum():
    from sklearn_lnp import LassoLNPRegressor

    X, Y, exposure, _ = _population(n_samples=800, n_features=30, n_neurons=3, exposure=True)
    Y[:, 1] = 0.0
    alpha = 0.01
    with pytest.warns(UserWarning, match=r"columns \[1\]"):
        model = LassoLNPRegressor(alpha=alpha).fit(X, Y, exposure=exposure)
    assert model.coef_.shape == (3, 30) and model.predict(X).shape == Y.shape
    assert model.intercept_[1] == -np.inf and model.n_nonzero_[1] == 0
    for j in (0, 2):
        # KKT of the L1 problem, from a numpy gradient of the smooth part
        grad = _gradient(X, Y[:, j], model.coef_[j], model.intercept_[j], 0.0, exposure)
        active = model.coef_[j] != 0
        assert np.abs(grad[-1]) <= TOL
        assert np.all(np.abs(grad[:-1][active] + alpha * np.sign(model.coef_[j][active])) <= TOL)
        assert np.all(np.abs(grad[:-1][~active]) <= alpha + TOL)
        single = LassoLNPRegressor(alpha=alpha).fit(X, Y[:, j], exposure=exposure)
        assert model.objective_[j] == pytest.approx(single.objective_, rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    k=st.integers(2, 4),
    solver=st.sampled_from(["lbfgs", "newton-cholesky", "auto"]),
    fit_intercept=st.booleans(),
)
def test_k_neurons_are_k_independent_fits_in_any_order(seed, k, solver, fit_intercept):
    """Each neuron's optimum is that of its single fit, and permuting neurons permutes results.

    Objectives agree to 1e-12 relative (the products sum in different orders
    and each fit stops anywhere with max|grad| <= tol); coefficients to 1e-6.
    """
    rng = np.random.default_rng(seed)
    X, Y, exposure, _ = _population(
        n_samples=300, n_features=8, n_neurons=k, seed=seed, exposure=True
    )
    Y[0] += 1.0  # every neuron spikes
    alpha = rng.uniform(1e-3, 1e-1, k)
    together = PoissonObjective(X, Y, exposure, fit_intercept=fit_intercept)
    results = solve(together, L2(alpha), together.initial_params(), solver=solver, tol=TOL)
    order = rng.permutation(k)
    permuted = PoissonObjective(X, Y[:, order], exposure, fit_intercept=fit_intercept)
    shuffled = solve(permuted, L2(alpha[order]), permuted.initial_params(), solver=solver, tol=TOL)
    for j, result in enumerate(results):
        alone = PoissonObjective(X, Y[:, j], exposure, fit_intercept=fit_intercept)
        (single,) = solve(alone, L2(alpha[j]), alone.initial_params(), solver=solver, tol=TOL)
        assert result.converged and single.converged
        assert result.objective == pytest.approx(single.objective, rel=1e-12)
        np.testing.assert_allclose(result.params, single.params, atol=1e-6)
    for i, j in enumerate(order):
        assert shuffled[i].objective == pytest.approx(results[j].objective, rel=1e-12)
        np.testing.assert_allclose(shuffled[i].params, results[j].params, atol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dual_newton_with_exposure_reaches_the_primal_optimum(fit_intercept):
    """The dual form keeps X w itself: exposure enters the linear predictor only."""
    X, Y, exposure, _ = _population(n_samples=120, n_features=200, n_neurons=2, exposure=True)
    objective = PoissonObjective(X, Y, exposure, fit_intercept=fit_intercept)
    problem = SmoothProblem(objective, L2([0.05, 0.2]))
    P = objective.initial_params()
    dual = newton_cholesky(problem, P, tol=1e-10, max_iter=50, dual=True)
    primal = newton_cholesky(problem, P, tol=1e-10, max_iter=50, dual=False)
    for a, b in zip(dual, primal, strict=True):
        assert a.converged and b.converged
        assert a.objective == pytest.approx(b.objective, rel=1e-13)
        np.testing.assert_allclose(a.params, b.params, atol=1e-8)
