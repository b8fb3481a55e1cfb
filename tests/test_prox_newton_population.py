"""L1 fits of k neurons in lockstep (``sklearn_lnp._solvers._prox_newton`` with k > 1).

Facts asserted:

* every neuron's lockstep solution satisfies the L1 optimality (KKT)
  conditions to ``tol``, checked with a gradient written out in numpy, and
  is the neuron's own fit (``k = 1``; objective to 1e-12 relative,
  coefficients to 1e-8), reached by the same steps (iterations, Hessians and
  passes taken), on float64, float32, sparse and dask designs, with one
  penalty per neuron;
* the lockstep reads ``X`` once per outer step for all unfinished neurons:
  one ``X.T @ R`` per round whose columns are exactly the neurons still
  running, far fewer reads than the loop of single fits;
* the estimator: neurons without spikes get the intercept-only model with a
  warning naming them, a warm start at the optimum takes no step, and one
  ConvergenceWarning names the neurons that stopped short with the largest
  violation;
* bad penalties (``L1.strengths``) raise a ValueError naming ``alpha``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklearn_lnp import LassoLNPRegressor, _objective
from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp._penalties import L1
from sklearn_lnp._solvers._prox_newton import prox_newton

TOL = 1e-8


def _population(n_samples=1500, side=8, n_neurons=4, seed=0, silent=()):
    """+-1 white noise on a side x side screen; Gaussian RFs of a few pixels."""
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], size=(n_samples, side * side))
    rows, cols = np.mgrid[0:side, 0:side]
    W = np.empty((side * side, n_neurons))
    for j in range(n_neurons):
        r0, c0 = rng.uniform(1, side - 1, size=2)
        rf = np.exp(-((rows - r0) ** 2 + (cols - c0) ** 2) / 2.0)
        W[:, j] = 0.6 * rf.ravel() / np.linalg.norm(rf)
    bias = rng.uniform(-1.5, -0.5, n_neurons)
    exposure = rng.uniform(0.5, 1.5, n_samples)
    Y = rng.poisson(exposure[:, None] * np.exp(X @ W + bias)).astype(float)
    Y[:, list(silent)] = 0.0
    return X, Y, exposure


def _alphas(X, Y, exposure, fractions):
    """``fraction_j * alpha_max_j``, alpha_max from a numpy gradient at the intercept-only fit."""
    rate = Y.sum(axis=0) / exposure.sum()
    residual = (exposure[:, None] * rate - Y) / X.shape[0]
    return np.asarray(fractions) * np.abs(X.T @ residual).max(axis=0)


def _assert_kkt(X, y, exposure, coef, intercept, alpha, tol=TOL):
    """L1 optimality from a gradient of the mean Poisson NLL written out here."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    mu = exposure * np.exp(X @ coef + intercept)
    residual = (mu - y) / X.shape[0]
    grad = X.T @ residual
    active = coef != 0
    assert abs(residual.sum()) <= tol
    assert np.all(np.abs(grad[active] + alpha * np.sign(coef[active])) <= tol)
    assert np.all(np.abs(grad[~active]) <= alpha + tol)


def _designs():
    kinds = ["float64", "float32", "sparse"]
    try:
        import dask.array  # noqa: F401

        kinds.append("dask")
    except ImportError:  # pragma: no cover - dask is an optional extra
        pass
    return kinds


def _as(kind, X):
    if kind == "float32":
        return X.astype(np.float32)
    if kind == "sparse":
        return sp.csr_matrix(X)
    if kind == "dask":
        import dask.array as da

        return da.from_array(X, chunks=(X.shape[0] // 3 + 1, X.shape[1]))
    return X


@pytest.mark.slow
@pytest.mark.parametrize("kind", _designs())
def test_lockstep_is_each_neurons_single_fit(kind):
    X64, Y, exposure = _population(n_samples=600 if kind == "dask" else 1500)
    X = _as(kind, X64)
    X_exact = X64.astype(np.float32).astype(np.float64) if kind == "float32" else X64
    alphas = _alphas(X_exact, Y, exposure, [0.1, 0.2, 0.3, 0.5])  # one penalty per neuron
    objective = PoissonObjective(X, Y, exposure)
    fit = prox_newton(objective, L1(alphas), objective.initial_params(), tol=TOL)
    for j in range(Y.shape[1]):
        result = fit.result(j)
        assert result.converged and result.optimality <= TOL
        coef, intercept = result.params[:-1], result.params[-1]
        assert 0 < np.count_nonzero(coef) < X.shape[1]  # a sparse RF, not all or nothing
        _assert_kkt(X_exact, Y[:, j], exposure, coef, intercept, alphas[j])
        neuron = PoissonObjective(X, Y[:, j], exposure)
        single = prox_newton(neuron, L1(alphas[j]), neuron.initial_params(), tol=TOL).result()
        assert result.objective == pytest.approx(single.objective, rel=1e-12)
        np.testing.assert_allclose(result.params, single.params, rtol=0, atol=1e-8)
        # the same algorithm: same steps, Hessians and passes (shared ones counted per neuron)
        assert (result.n_iter, result.n_grams) == (single.n_iter, single.n_grams)
        assert result.n_passes == single.n_passes


def test_one_gradient_pass_per_round_for_all_running_neurons(monkeypatch):
    X, Y, exposure = _population(n_neurons=6, seed=1)
    alphas = _alphas(X, Y, exposure, [0.05, 0.1, 0.2, 0.3, 0.5, 0.8])
    products = []  # columns of every X.T @ R of the lockstep

    def counting_rmatvec(X_, R, fast=False):
        products.append(1 if R.ndim == 1 else R.shape[1])
        return X_.T @ R

    monkeypatch.setattr(_objective, "rmatvec", counting_rmatvec)
    objective = PoissonObjective(X, Y, exposure)
    fit = prox_newton(objective, L1(alphas), objective.initial_params())
    n_iter = fit.n_iter
    assert np.all(fit.converged)
    # round 1: the initial gradients; round r > 1: step r - 1 of every running neuron
    assert fit.n_rounds == 1 + n_iter.max()
    assert len(products) == fit.n_rounds
    running = [int(np.sum(n_iter >= r)) for r in range(fit.n_rounds)]
    assert products == running
    assert products[0] == Y.shape[1]
    # X @ D products, if any, are at most one per round; no other full pass
    assert fit.n_rounds <= fit.n_shared_passes <= 2 * fit.n_rounds
    # the loop of single fits reads X at least once per step and neuron
    loop_passes = int(fit.n_passes.sum())
    assert loop_passes >= int(np.sum(n_iter + 1)) > fit.n_shared_passes


def test_estimator_population_fit():
    X, Y, exposure = _population(n_neurons=4, seed=2, silent=(2,))
    alpha = float(np.median(_alphas(X, Y[:, [0, 1, 3]], exposure, [0.3] * 3)))
    with pytest.warns(UserWarning, match=r"columns \[2\]"):
        model = LassoLNPRegressor(alpha=alpha).fit(X, Y, exposure=exposure)
    assert model.coef_.shape == (4, X.shape[1])
    assert model.intercept_[2] == -np.inf and model.n_nonzero_[2] == 0
    assert model.solver_[2] == "intercept-only"
    for j in (0, 1, 3):
        assert model.solver_[j] == "prox-newton"
        _assert_kkt(X, Y[:, j], exposure, model.coef_[j], model.intercept_[j], alpha)
        single = LassoLNPRegressor(alpha=alpha).fit(X, Y[:, j], exposure=exposure)
        assert model.objective_[j] == pytest.approx(single.objective_, rel=1e-12)
        np.testing.assert_allclose(model.coef_[j], single.coef_, rtol=0, atol=1e-8)
        assert model.n_iter_[j] == single.n_iter_
        assert model.n_nonzero_[j] == np.count_nonzero(model.coef_[j])

    # warm start at the optimum: no step, same solution
    model.set_params(warm_start=True)
    coef = model.coef_.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the silent neuron, again
        model.fit(X, Y, exposure=exposure)
    assert np.all(model.n_iter_ == 0)
    np.testing.assert_array_equal(model.coef_, coef)


def test_one_convergence_warning_names_the_unconverged_neurons():
    X, Y, exposure = _population(n_neurons=3, seed=3)
    alpha = float(np.min(_alphas(X, Y, exposure, [0.1] * 3)))
    with pytest.warns(ConvergenceWarning) as record:
        model = LassoLNPRegressor(alpha=alpha, max_iter=1).fit(X, Y, exposure=exposure)
    messages = [str(w.message) for w in record if issubclass(w.category, ConvergenceWarning)]
    assert len(messages) == 1
    worst = int(np.argmax(model.optimality_))
    assert "3 of 3 neurons (y columns [0, 1, 2])" in messages[0]
    assert f"{model.optimality_[worst]:.3g} (neuron {worst})" in messages[0]
    assert np.all(model.optimality_ > TOL) and np.all(model.n_iter_ == 1)


@settings(max_examples=25, deadline=None)
@given(
    n_neurons=st.integers(1, 6),
    shape=st.sampled_from(["scalar", "vector", "short", "long", "matrix"]),
    bad=st.sampled_from([None, -1.0, np.nan, np.inf]),
)
def test_alpha_scalar_or_one_per_neuron(n_neurons, shape, bad):
    values = {
        "scalar": 0.1,
        "vector": np.full(n_neurons, 0.1),
        "short": np.full(n_neurons - 1, 0.1),
        "long": np.full(n_neurons + 1, 0.1),
        "matrix": np.full((n_neurons, 1), 0.1),
    }[shape]
    if bad is not None and np.size(values):
        values = np.array(values, dtype=float)
        values.flat[0] = bad
    else:
        bad = None
    valid_shape = shape in ("scalar", "vector")
    if valid_shape and bad is None:
        np.testing.assert_array_equal(L1(values).strengths(n_neurons), 0.1)
        return
    match = "one value per neuron" if not valid_shape else "finite and non-negative"
    if not valid_shape and bad is not None:  # either fault may be reported first
        match = "(one value per neuron|finite and non-negative)"
    with pytest.raises(ValueError, match=rf"alpha must be .*{match}"):
        L1(values).strengths(n_neurons)
