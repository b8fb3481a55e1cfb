"""``LassoLNPRegressor(solver="pyglmnet")``: pyglmnet 1.1 on numpy 2, checked against the optimum.

Facts asserted (pyglmnet tests are skipped, with the reason, when the
optional extra is not installed; ``.ci/run`` installs it):

* pyglmnet runs on numpy 2 and numpy is left unpatched: ``np.float`` is
  still missing afterwards (also after pyglmnet raised inside the block),
  and pyglmnet's module gets its original ``np`` back; the aliases are lent
  to one block at a time (a second thread waits), and a module without a
  global ``np`` is refused with an ``ImportError`` naming the tested version;
* the parameter mapping is right: pyglmnet's documented objective (its
  ``_loss`` with ``alpha=1``, ``reg_lambda=alpha``) equals ours at the same
  parameters, but its batch-gradient solver converges to the penalty
  ``reg_lambda / learning_rate``, so the backend passes
  ``reg_lambda = alpha * learning_rate`` and then reaches our optimum; a
  constant exposure maps to an intercept shift of ``log(exposure)``;
* what it returns is never passed off as the optimum: its objective and KKT
  violation are measured with our loss, the gap to the exact optimum is
  non-negative and reported, and a ``ConvergenceWarning`` says so when it
  stops short; divergence to non-finite values raises ``FloatingPointError``;
* per-bin exposure and sample weights, which pyglmnet cannot take, are
  warned about;
* without pyglmnet, ``solver="pyglmnet"`` raises an ``ImportError`` that
  gives the install command.
"""

from __future__ import annotations

import sys
import threading
import types
import warnings

import numpy as np
import pytest
from _lasso_reference import PoissonObjective, alpha_max, l1_objective
from sklearn.exceptions import ConvergenceWarning

from sklearn_lnp import LassoLNPRegressor
from sklearn_lnp._integrations.pyglmnet_numpy import numpy_aliases_for
from sklearn_lnp.linear_model import _pyglmnet

HAVE_PYGLMNET = _pyglmnet.pyglmnet_available()
needs_pyglmnet = pytest.mark.skipif(
    not HAVE_PYGLMNET,
    reason='pyglmnet is not installed (optional extra: pip install ".[pyglmnet]")',
)


def make_problem(n=400, p=10, *, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * 0.3
    w = np.zeros(p)
    w[:3] = [0.8, -0.6, 0.4]
    y = rng.poisson(np.exp(X @ w + 0.5)).astype(float)
    return X, y


@needs_pyglmnet
def test_numpy_is_not_patched():
    X, y = make_problem()
    assert not hasattr(np, "float")
    module = _pyglmnet.import_pyglmnet()
    original = module.np
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LassoLNPRegressor(alpha=0.01, solver="pyglmnet").fit(X, y)
    assert not hasattr(np, "float") and not hasattr(np, "int")
    assert module.np is original
    with pytest.raises(RuntimeError), numpy_aliases_for(module):
        assert module.np.float is float  # visible inside, to pyglmnet only
        assert not hasattr(np, "float")
        raise RuntimeError("boom")
    assert module.np is original and not hasattr(np, "float")


def test_numpy_aliases_are_lent_to_one_block_at_a_time():
    module = types.ModuleType("fake_pyglmnet")
    module.np = np
    entered = threading.Event()

    def other_fit():
        with numpy_aliases_for(module):
            entered.set()

    with numpy_aliases_for(module):
        thread = threading.Thread(target=other_fit, daemon=True)
        thread.start()
        assert not entered.wait(0.2)  # the other thread waits for this block
        assert module.np.int is int
    thread.join(10)
    assert entered.is_set() and module.np is np


def test_a_pyglmnet_without_np_is_refused_naming_the_tested_version():
    module = types.ModuleType("pyglmnet.pyglmnet")
    with pytest.raises(ImportError, match=r"tested with pyglmnet 1\.1"):
        with numpy_aliases_for(module):
            pass  # pragma: no cover


@needs_pyglmnet
def test_objective_mapping_matches_pyglmnet_loss():
    module = _pyglmnet.import_pyglmnet()
    X, y = make_problem(seed=1)
    obj = PoissonObjective(X, y)
    alpha = 0.1 * alpha_max(obj)
    rng = np.random.default_rng(1)
    for _ in range(3):
        coef, b = rng.standard_normal(X.shape[1]) * 0.2, 0.3
        theirs = module._loss("poisson", 1.0, None, alpha, X, y, 100.0, None, np.r_[b, coef])
        ours = l1_objective(obj, np.append(coef, b), alpha)
        assert theirs == pytest.approx(ours, rel=1e-12)


@needs_pyglmnet
def test_converged_pyglmnet_is_near_the_optimum_and_reported():
    X, y = make_problem(seed=2)
    # Run to its fixed point: with reg_lambda = alpha * learning_rate (the
    # backend's mapping) that fixed point is our optimum.
    model = LassoLNPRegressor(
        alpha=0.02, solver="pyglmnet", solver_options={"max_iter": 20000, "tol": 1e-14}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    report = model.backend_report_
    exact = LassoLNPRegressor(alpha=0.02).fit(X, y)
    assert report["reg_lambda"] == pytest.approx(0.02 * 0.2)
    assert report["optimum_objective"] == pytest.approx(exact.objective_, abs=1e-12)
    # Both objectives are ~0.5 and agree to round-off: the sign of their
    # difference depends on summation order (BLAS kernel, CPU), so only its
    # size is asserted (-5.6e-16 seen on one machine, +2e-16 on another).
    assert abs(report["gap"]) < 1e-12
    assert model.solver_ == "pyglmnet"
    assert model.objective_ == pytest.approx(report["objective"])
    assert model.optimality_ == report["kkt_violation"] < 1e-6
    np.testing.assert_allclose(model.coef_, exact.coef_, atol=1e-8)


@needs_pyglmnet
def test_unscaled_reg_lambda_is_a_larger_penalty():
    """pyglmnet's batch-gradient fixed point has penalty reg_lambda / learning_rate."""
    X, y = make_problem(seed=2)
    obj = PoissonObjective(X, y)
    raw = _pyglmnet.fit_pyglmnet(
        X,
        y,
        alpha=0.02 / 0.2,  # the backend passes alpha * lr: this is reg_lambda = 0.02
        init_intercept=obj.initial_params()[-1, 0],
        options={"max_iter": 20000, "tol": 1e-14},
    )
    at_five_times = LassoLNPRegressor(alpha=0.02 / 0.2).fit(X, y)
    np.testing.assert_allclose(raw["coef"], at_five_times.coef_, atol=1e-8)


@needs_pyglmnet
def test_constant_exposure_maps_to_the_intercept():
    X, y = make_problem(seed=3)
    options = {"max_iter": 20000, "tol": 1e-14}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = LassoLNPRegressor(alpha=0.02, solver="pyglmnet", solver_options=options).fit(X, y)
        b = LassoLNPRegressor(alpha=0.02, solver="pyglmnet", solver_options=options).fit(
            X, y, exposure=0.5
        )
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)
    assert b.intercept_ == pytest.approx(a.intercept_ - np.log(0.5), abs=1e-8)


@needs_pyglmnet
def test_stopping_short_is_reported_with_the_gap():
    X, y = make_problem(seed=4)
    with pytest.warns(ConvergenceWarning, match="NOT the optimum") as record:
        model = LassoLNPRegressor(
            alpha=0.01, solver="pyglmnet", solver_options={"max_iter": 3}
        ).fit(X, y)
    report = model.backend_report_
    assert report["gap"] > 0 and report["kkt_violation"] > model.tol
    assert f"{report['gap']:.3g}" in str(record[0].message)


@needs_pyglmnet
def test_divergence_raises():
    X, y = make_problem(seed=5)
    X = X * 10  # a learning rate of 5 on this scale overflows
    with pytest.raises(FloatingPointError, match="diverged"):
        LassoLNPRegressor(
            alpha=0.01,
            solver="pyglmnet",
            solver_options={"learning_rate": 5.0, "max_iter": 50, "eta": 100.0},
        ).fit(X, y)
    assert not hasattr(np, "float")


@needs_pyglmnet
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_unmappable_inputs_are_warned_about():
    X, y = make_problem(seed=6)
    rng = np.random.default_rng(6)
    options = {"max_iter": 5}
    with pytest.warns(UserWarning, match="no offset"):
        LassoLNPRegressor(alpha=0.01, solver="pyglmnet", solver_options=options).fit(
            X, y, exposure=rng.uniform(0.5, 2, len(y))
        )
    with pytest.warns(UserWarning, match="no sample weights"):
        LassoLNPRegressor(alpha=0.01, solver="pyglmnet", solver_options=options).fit(
            X, y, sample_weight=rng.uniform(0.5, 2, len(y))
        )
    with pytest.raises(ValueError, match="solver_options"):
        LassoLNPRegressor(solver="pyglmnet", solver_options={"speed": 1}).fit(X, y)


def test_missing_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyglmnet", None)
    monkeypatch.setitem(sys.modules, "pyglmnet.pyglmnet", None)
    X, y = make_problem(seed=7)
    with pytest.raises(ImportError, match=r"pip install \"\.\[pyglmnet\]\""):
        LassoLNPRegressor(solver="pyglmnet").fit(X, y)
