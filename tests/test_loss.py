"""The Poisson LNP objective: its value, gradient and Hessian, and overflow safety.

Facts asserted:

* the value equals the formula of the module docstring, computed here
  independently with numpy (sample-weighted mean of ``mu - y log mu`` plus
  ``alpha/2 ||w||^2``, ``mu = exposure * exp(X w + b)``);
* the gradient and Hessian are the derivatives of that value (finite
  differences), for every combination of exposure, sample weights, penalty,
  intercept, float32/float64 and sparse designs;
* a float32 design gives the float64 objective of the same numbers to ~1e-12;
* no ``RuntimeWarning`` and finite values for any finite linear predictor.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import approx_fprime, check_grad

from sklearn_lnp._loss import PoissonObjective


def make_problem(n=60, p=5, *, seed=0, dtype=np.float64, sparse=False):
    """Small Poisson problem with unequal exposure and integer counts."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random((n, p)) < 0.6] = 0.0
    w = rng.standard_normal(p) * 0.4
    exposure = rng.uniform(0.5, 2.0, n)
    y = rng.poisson(exposure * np.exp(X @ w + 0.3)).astype(np.float64)
    sample_weight = rng.uniform(0.0, 3.0, n)
    X = X.astype(dtype)
    if sparse:
        X = sp.csr_matrix(X)
    return X, y, exposure, sample_weight


def reference_loss(X, y, exposure, sample_weight, alpha, fit_intercept, params):
    """The documented objective, written out directly in float64."""
    X = X.toarray() if sp.issparse(X) else X
    X = np.asarray(X, dtype=np.float64)
    n = y.shape[0]
    coef, intercept = (params[:-1], params[-1]) if fit_intercept else (params, 0.0)
    exposure = np.ones(n) if exposure is None else exposure
    s = np.ones(n) if sample_weight is None else sample_weight
    log_mu = X @ coef + intercept + np.log(exposure)
    terms = np.exp(log_mu) - y * log_mu
    return float(s @ terms / s.sum() + 0.5 * alpha * coef @ coef)


CASES = list(
    itertools.product(
        [False, True],  # exposure
        [False, True],  # sample_weight
        [0.0, 0.7],  # alpha
        [True, False],  # fit_intercept
        ["float64", "float32", "sparse"],  # design
    )
)


def _build(case, seed=0):
    use_exposure, use_weight, alpha, fit_intercept, design = case
    dtype = np.float32 if design == "float32" else np.float64
    X, y, exposure, sample_weight = make_problem(seed=seed, dtype=dtype, sparse=design == "sparse")
    exposure = exposure if use_exposure else None
    sample_weight = sample_weight if use_weight else None
    objective = PoissonObjective(X, y, exposure, sample_weight, alpha, fit_intercept)
    rng = np.random.default_rng(seed + 1)
    params = rng.standard_normal(objective.n_params) * 0.3
    return objective, params, (X, y, exposure, sample_weight, alpha, fit_intercept)


def _case_id(case):
    use_exposure, use_weight, alpha, fit_intercept, design = case
    return (
        f"{'exp' if use_exposure else 'noexp'}-{'sw' if use_weight else 'nosw'}-"
        f"a{alpha}-{'int' if fit_intercept else 'noint'}-{design}"
    )


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_value_matches_documented_formula(case):
    objective, params, data = _build(case)
    expected = reference_loss(*data, params)
    assert objective.loss(params) == pytest.approx(expected, rel=1e-12)
    value, _ = objective.loss_gradient(params)
    assert value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_gradient_matches_finite_differences(case):
    objective, params, _ = _build(case)
    grad = objective.gradient(params)
    assert grad.shape == (objective.n_params,)
    # check_grad: 2-norm of (analytic - forward difference); forward
    # differences with step 1e-7 are accurate to about 1e-7 * |Hessian|.
    error = check_grad(objective.loss, objective.gradient, params, epsilon=1e-7)
    assert error <= 1e-5 * max(1.0, np.linalg.norm(grad))
    numeric = approx_fprime(params, objective.loss, 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_hessian_matches_finite_differences_of_gradient(case):
    objective, params, _ = _build(case)
    hess = objective.hessian(params)
    assert hess.shape == (objective.n_params, objective.n_params)
    np.testing.assert_allclose(hess, hess.T, rtol=0, atol=1e-14 * np.abs(hess).max())
    numeric = approx_fprime(params, objective.gradient, 1e-7)
    np.testing.assert_allclose(hess, numeric, rtol=1e-4, atol=1e-5)
    # The objective is convex: the Hessian is positive semi-definite.
    assert np.linalg.eigvalsh(hess).min() >= -1e-12 * np.abs(hess).max()


def test_hessian_at_cached_point_after_gradient():
    """The Hessian right after the gradient at the same point is the same as fresh."""
    case = (True, True, 0.1, True, "float64")
    objective, params, data = _build(case)
    objective.loss_gradient(params)
    cached = objective.hessian(params)
    fresh = PoissonObjective(*data).hessian(params)
    np.testing.assert_allclose(cached, fresh, rtol=1e-14, atol=0)
    # Re-evaluating the same point re-uses X @ w: no further pass.
    passes = objective.n_passes
    objective.loss(params)
    assert objective.n_passes == passes


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_equals_dense(fit_intercept):
    Xs, y, exposure, sample_weight = make_problem(sparse=True)
    dense = PoissonObjective(Xs.toarray(), y, exposure, sample_weight, 0.2, fit_intercept)
    for X in (Xs, sp.csc_matrix(Xs)):
        sparse = PoissonObjective(X, y, exposure, sample_weight, 0.2, fit_intercept)
        params = np.linspace(-0.5, 0.5, dense.n_params)
        assert sparse.loss(params) == pytest.approx(dense.loss(params), rel=1e-14)
        np.testing.assert_allclose(sparse.gradient(params), dense.gradient(params), rtol=1e-12)
        np.testing.assert_allclose(sparse.hessian(params), dense.hessian(params), rtol=1e-12)


def test_float32_design_gives_float64_objective():
    """float32 X is accumulated in float64: same numbers, same objective to ~1e-12.

    The design is large enough to span several row blocks of the matrix-vector
    products, so that every block is converted and summed.
    """
    rng = np.random.default_rng(3)
    n, p = 6000, 60
    X32 = rng.standard_normal((n, p)).astype(np.float32)
    X64 = X32.astype(np.float64)  # exactly the same numbers
    y = rng.poisson(np.exp(X64 @ (rng.standard_normal(p) * 0.1))).astype(np.float64)
    exposure = rng.uniform(0.1, 0.3, n)
    params = rng.standard_normal(p + 1) * 0.1
    obj32 = PoissonObjective(X32, y, exposure, None, 0.5, True)
    obj64 = PoissonObjective(X64, y, exposure, None, 0.5, True)
    v32, g32 = obj32.loss_gradient(params)
    v64, g64 = obj64.loss_gradient(params)
    assert abs(v32 - v64) <= 1e-12 * abs(v64)
    np.testing.assert_allclose(g32, g64, rtol=1e-10, atol=1e-13 * np.abs(g64).max())
    h32, h64 = obj32.hessian(params), obj64.hessian(params)
    np.testing.assert_allclose(h32, h64, rtol=1e-10, atol=1e-13 * np.abs(h64).max())
    assert obj32.X is X32  # used as given, not converted


def test_zero_sample_weight_equals_dropping_rows():
    X, y, exposure, sample_weight = make_problem()
    sample_weight[::3] = 0.0
    keep = sample_weight > 0
    full = PoissonObjective(X, y, exposure, sample_weight, 0.3, True)
    sub = PoissonObjective(X[keep], y[keep], exposure[keep], sample_weight[keep], 0.3, True)
    params = np.linspace(-0.3, 0.4, full.n_params)
    assert full.loss(params) == pytest.approx(sub.loss(params), rel=1e-13)
    np.testing.assert_allclose(full.gradient(params), sub.gradient(params), rtol=1e-12)


def test_sample_weight_scale_invariance():
    """Weights are normalised: multiplying them by a constant changes nothing."""
    X, y, exposure, sample_weight = make_problem()
    a = PoissonObjective(X, y, exposure, sample_weight, 0.3, True)
    b = PoissonObjective(X, y, exposure, 7.5 * sample_weight, 0.3, True)
    params = np.linspace(-0.3, 0.4, a.n_params)
    assert a.loss(params) == pytest.approx(b.loss(params), rel=1e-14)


@pytest.mark.parametrize("use_exposure", [False, True])
@pytest.mark.parametrize("use_weight", [False, True])
def test_initial_params_is_intercept_only_optimum(use_exposure, use_weight):
    X, y, exposure, sample_weight = make_problem()
    objective = PoissonObjective(
        X,
        y,
        exposure if use_exposure else None,
        sample_weight if use_weight else None,
        0.0,
        True,
    )
    params = objective.initial_params()
    assert np.all(params[:-1] == 0)
    # d F / d b = sum_t s_t (mu_t - y_t) / sum s = 0 at the best constant rate.
    assert abs(objective.gradient(params)[-1]) < 1e-14
    no_intercept = PoissonObjective(X, y, None, None, 0.0, False)
    assert np.all(no_intercept.initial_params() == 0)
    assert no_intercept.initial_params().shape == (X.shape[1],)


def test_split():
    X, y, _, _ = make_problem(p=3)
    with_b = PoissonObjective(X, y, fit_intercept=True)
    coef, intercept = with_b.split(np.array([1.0, 2.0, 3.0, 4.0]))
    assert coef.tolist() == [1.0, 2.0, 3.0] and intercept == 4.0
    without_b = PoissonObjective(X, y, fit_intercept=False)
    coef, intercept = without_b.split(np.array([1.0, 2.0, 3.0]))
    assert coef.tolist() == [1.0, 2.0, 3.0] and intercept == 0.0


# -- overflow safety (safe_exp itself: tests/test_objective.py) -------------------


@settings(max_examples=150, deadline=None)
@given(
    X=arrays(np.float64, (8, 3), elements=st.floats(-10, 10)),
    params=arrays(np.float64, 4, elements=st.floats(-1e300, 1e300)),
    y=arrays(np.float64, 8, elements=st.floats(0, 1e6)),
    log_exposure=arrays(np.float64, 8, elements=st.floats(-30, 30)),
    use_weight=st.booleans(),
)
def test_objective_finite_and_silent_for_huge_and_tiny_linear_predictors(
    X, params, y, log_exposure, use_weight
):
    """Any finite parameters: linear predictors from -1e302 to 1e302, no warning."""
    sample_weight = np.linspace(0.5, 2.0, 8) if use_weight else None
    objective = PoissonObjective(X, y, np.exp(log_exposure), sample_weight, 0.0, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = objective.loss_gradient(params)
        hess = objective.hessian(params)
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))
    assert np.all(np.isfinite(hess))


@settings(max_examples=100, deadline=None)
@given(
    coef=arrays(np.float64, 3, elements=st.floats(-1e150, 1e150)),
    alpha=st.floats(0, 1e3),
)
def test_objective_finite_with_penalty(coef, alpha):
    """With alpha > 0 the penalty alpha/2 ||w||^2 stays finite for |w| <= 1e150."""
    X, y, exposure, _ = make_problem(n=10, p=3)
    objective = PoissonObjective(X, y, exposure, None, alpha, False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = objective.loss_gradient(coef)
        hess = objective.hessian(coef)
    assert np.isfinite(value) and np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))
