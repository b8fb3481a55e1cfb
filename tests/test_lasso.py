"""``LassoLNPRegressor`` and ``lasso_lnp_path``.

Facts asserted:

* the fit is the optimum of the documented objective: the same optimum as
  glum (``l1_ratio=1``, exposure as ``offset``) and skglm (Poisson + L1,
  ``ProxNewton``, no exposure), to 1e-9 in objective;
* ``alpha = 0`` gives the unpenalised maximum-likelihood fit of
  :class:`PoissonLNPRegressor`; ``alpha >= alpha_max`` gives ``w = 0``;
* a constant exposure only shifts the intercept by its log;
* the path: decreasing alphas, ``alpha_max`` first with no weight, every
  point satisfies the KKT conditions, the support grows as alpha falls, and
  each point equals an independent single fit;
* the simulated textbook neuron's RF is recovered (correlation > 0.9) with
  far fewer non-zeros than pixels, and its weights outside the true RF are
  mostly exactly zero;
* bad input (negative alpha, non-positive grids, eps outside (0, 1), no
  spikes, unknown solver options) raises a ``ValueError`` naming it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _lasso_reference import PoissonObjective, alpha_max, l1_objective, max_kkt_violation
from _problems import poisson_problem
from sklearn.exceptions import ConvergenceWarning

from sklearn_lnp import LassoLNPRegressor, PoissonLNPRegressor, lasso_lnp_path
from sklearn_lnp.datasets import make_lnp_neuron


def make_problem(n=300, p=40, *, seed=0):
    """``X``, counts and exposure of a problem with 6 active weights (``poisson_problem``)."""
    data = poisson_problem(n, p, seed=seed, n_active=6)
    return data.X, data.y, data.exposure


def test_attributes_and_kkt():
    X, y, e = make_problem()
    model = LassoLNPRegressor(alpha=0.05).fit(X, y, exposure=e)
    assert model.coef_.shape == (X.shape[1],)
    assert isinstance(model.intercept_, float)
    assert model.n_nonzero_ == np.count_nonzero(model.coef_)
    assert 0 < model.n_nonzero_ < X.shape[1]
    assert model.optimality_ <= 1e-8
    assert model.solver_ == "prox-newton"
    obj = PoissonObjective(X, y, e)
    params = np.append(model.coef_, model.intercept_)
    assert model.objective_ == pytest.approx(l1_objective(obj, params, 0.05), abs=1e-14)
    assert max_kkt_violation(obj, params, 0.05) <= 1e-8


@pytest.mark.slow  # glum's IRLS-CD solver
def test_agrees_with_glum_offset():
    glum = pytest.importorskip("glum", reason="glum is not installed (test extra)")
    X, y, e = make_problem(seed=1)
    obj = PoissonObjective(X, y, e)
    alpha = 0.1 * alpha_max(obj)
    ours = LassoLNPRegressor(alpha=alpha).fit(X, y, exposure=e)
    ref = glum.GeneralizedLinearRegressor(
        family="poisson", alpha=alpha, l1_ratio=1.0, gradient_tol=1e-12, max_iter=1000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y, offset=np.log(e))
    ref_params = np.append(ref.coef_, ref.intercept_)
    assert l1_objective(obj, ref_params, alpha) >= ours.objective_ - 1e-12
    assert l1_objective(obj, ref_params, alpha) - ours.objective_ <= 1e-9
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)


@pytest.mark.slow  # skglm's numba solvers compile on first use (~20-30 s)
def test_agrees_with_skglm_without_exposure():
    skglm = pytest.importorskip("skglm", reason="skglm is not installed (bench extra)")
    from skglm.datafits import Poisson
    from skglm.penalties import L1
    from skglm.solvers import ProxNewton

    X, y, _ = make_problem(seed=2)
    obj = PoissonObjective(X, y, None)
    alpha = 0.1 * alpha_max(obj)
    ours = LassoLNPRegressor(alpha=alpha).fit(X, y)
    ref = skglm.GeneralizedLinearEstimator(
        datafit=Poisson(), penalty=L1(alpha), solver=ProxNewton(tol=1e-12, fit_intercept=True)
    ).fit(X, y)
    ref_params = np.append(ref.coef_, ref.intercept_)
    assert abs(l1_objective(obj, ref_params, alpha) - ours.objective_) <= 1e-9
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)


def test_alpha_zero_is_maximum_likelihood():
    X, y, e = make_problem(p=10, seed=3)
    lasso = LassoLNPRegressor(alpha=0.0).fit(X, y, exposure=e)
    mle = PoissonLNPRegressor(alpha=0.0, tol=1e-10).fit(X, y, exposure=e)
    np.testing.assert_allclose(lasso.coef_, mle.coef_, atol=1e-7)
    assert lasso.intercept_ == pytest.approx(mle.intercept_, abs=1e-7)


def test_alpha_at_or_above_alpha_max_zeroes_every_weight():
    X, y, e = make_problem(seed=4)
    top = lasso_lnp_path(X, y, exposure=e, n_alphas=1).alpha_max
    for alpha in (top, 2 * top):
        model = LassoLNPRegressor(alpha=alpha).fit(X, y, exposure=e)
        assert model.n_nonzero_ == 0
        # intercept = log of the mean rate per unit exposure
        assert model.intercept_ == pytest.approx(np.log(y.sum() / e.sum()), abs=1e-10)


def test_constant_exposure_shifts_the_intercept():
    X, y, _ = make_problem(seed=5)
    a = LassoLNPRegressor(alpha=0.03).fit(X, y)
    b = LassoLNPRegressor(alpha=0.03).fit(X, y, exposure=0.25)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-9)
    assert b.intercept_ == pytest.approx(a.intercept_ - np.log(0.25), abs=1e-9)


def test_warm_start_reuses_the_solution():
    X, y, e = make_problem(seed=6)
    model = LassoLNPRegressor(alpha=0.05, warm_start=True).fit(X, y, exposure=e)
    model.fit(X, y, exposure=e)
    assert model.n_iter_ == 0


def test_recovers_the_textbook_rf_sparsely():
    neuron = make_lnp_neuron(n_frames=2000, random_state=0)
    X, y = neuron.stimulus, neuron.counts
    path = lasso_lnp_path(X, y, exposure=neuron.exposure, n_alphas=8, eps=0.05)
    rf = neuron.rf.ravel()
    corr = [np.corrcoef(c, rf)[0, 1] if np.any(c) else 0 for c in path.coefs.T]
    best = int(np.argmax(corr))
    assert corr[best] > 0.9
    assert path.n_nonzero[best] < X.shape[1] // 2
    outside = np.abs(rf) < 1e-3 * np.abs(rf).max()
    assert np.mean(path.coefs[outside, best] == 0) > 0.8


def test_path_points_are_exact_and_equal_single_fits():
    X, y, e = make_problem(seed=7)
    path = lasso_lnp_path(X, y, exposure=e, n_alphas=6, eps=0.01)
    assert np.all(np.diff(path.alphas) < 0)
    assert path.alphas[0] == pytest.approx(path.alpha_max)
    assert path.n_nonzero[0] == 0
    assert np.all(np.diff(path.n_nonzero) >= 0)
    obj = PoissonObjective(X, y, e)
    for k, alpha in enumerate(path.alphas):
        params = np.append(path.coefs[:, k], path.intercepts[k])
        assert max_kkt_violation(obj, params, alpha) <= 1e-8
        single = LassoLNPRegressor(alpha=alpha).fit(X, y, exposure=e)
        np.testing.assert_allclose(path.coefs[:, k], single.coef_, atol=1e-7)


def test_path_with_given_alphas_sorts_them():
    X, y, e = make_problem(seed=8)
    path = lasso_lnp_path(X, y, exposure=e, alphas=[0.01, 0.1, 0.05])
    np.testing.assert_array_equal(path.alphas, [0.1, 0.05, 0.01])


def test_not_converging_warns_with_the_violation():
    X, y, e = make_problem(seed=9)
    with pytest.warns(ConvergenceWarning, match="optimality"):
        LassoLNPRegressor(alpha=0.005, max_iter=1).fit(X, y, exposure=e)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alpha": -1.0}, "alpha"),
        ({"tol": 0.0}, "tol"),
        ({"solver": "cd"}, "solver"),
        ({"solver_options": {"speed": 2}}, "solver_options"),
        ({"solver_options": {"inner": "newton"}}, "inner"),
        ({"solver_options": {"ws_min_size": 0}}, "ws_min_size"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    X, y, e = make_problem(seed=10)
    with pytest.raises(ValueError, match=match):
        LassoLNPRegressor(**kwargs).fit(X, y, exposure=e)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alphas": [0.1, 0.0]}, "alphas"),
        ({"alphas": [0.1, -1.0]}, "alphas"),
        ({"alphas": [0.1, np.nan]}, "alphas"),
        ({"eps": 0.0}, "eps"),
        ({"eps": 1.0}, "eps"),
        ({"eps": 2.0}, "eps"),
        ({"n_alphas": 0}, "n_alphas"),
    ],
)
def test_bad_path_arguments_are_named(kwargs, match):
    X, y, e = make_problem(seed=11)
    with pytest.raises(ValueError, match=match):
        lasso_lnp_path(X, y, exposure=e, **kwargs)


def test_path_on_all_zero_counts_raises():
    X, _, e = make_problem(seed=12)
    with pytest.raises(ValueError, match="no spikes"):
        lasso_lnp_path(X, np.zeros(X.shape[0]), exposure=e)
    with pytest.raises(ValueError, match="no spikes"):
        LassoLNPRegressor().fit(X, np.zeros(X.shape[0]), exposure=e)
