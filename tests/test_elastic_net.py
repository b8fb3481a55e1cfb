"""The elastic net: ``l1_ratio`` of ``LassoLNPRegressor``, ``lasso_lnp_path`` and ``LassoLNPCV``.

Facts asserted (simulated neurons with per-bin exposure):

* the fit satisfies the elastic-net optimality (KKT) conditions to 1e-8,
  with the gradient computed here in plain numpy, with exposure and with
  sample weights; integer sample weights are repeated rows;
* it is glum's optimum with the same ``alpha`` and ``l1_ratio`` and the log
  exposure as ``offset`` (both evaluated with our objective);
* ``l1_ratio=1`` is the lasso bit for bit (fit, path and cross-validation);
  as ``l1_ratio -> 0`` the solution tends to the ridge optimum of
  ``PoissonLNPRegressor`` with the same ``alpha``;
* along a path at fixed ``l1_ratio``, the facts that hold for any penalised
  convex problem: the optimal objective is non-decreasing in ``alpha``, the
  data term non-decreasing and the penalty (per unit alpha) non-increasing;
  every weight is zero exactly from ``alpha_max = max|g| / l1_ratio`` on;
* a population (2-d ``y``) is each neuron's own optimum;
* ``LassoLNPCV`` with a list of ``l1_ratio`` chooses the pair with the best
  mean held-out deviance (ElasticNetCV's rule), its ``l1_ratio=1`` row is
  the lasso's cross-validation, and the shapes follow ElasticNetCV's
  convention;
* pyglmnet's default solver converges to the elastic net with
  ``alpha = lam (a / lr + 1 - a)``, ``l1_ratio = (a / lr) / (a / lr + 1 - a)``
  for its ``GLM(alpha=a, reg_lambda=lam, learning_rate=lr)`` (user guide,
  "Elastic net"), not to its documented objective;
* ``l1_ratio`` outside (0, 1] is refused naming it (0 pointing to
  ``PoissonLNPRegressor``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _problems import poisson_problem

from sklearn_lnp import LassoLNPCV, LassoLNPRegressor, PoissonLNPRegressor, lasso_lnp_path
from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp._penalties import ElasticNet
from sklearn_lnp._solvers._prox_newton import penalised_value, prox_newton
from sklearn_lnp.linear_model._pyglmnet import pyglmnet_available
from sklearn_lnp.model_selection import BlockedTimeSeriesSplit


def make_problem(n=300, p=40, *, seed=0):
    """``X``, counts and exposure of a problem with 6 active weights (``poisson_problem``)."""
    data = poisson_problem(n, p, seed=seed, n_active=6)
    return data.X, data.y, data.exposure


def numpy_kkt(X, y, e, coef, intercept, alpha, l1_ratio, s=None):
    """Largest elastic-net KKT violation, from the definition (intercept included)."""
    s = np.ones(len(y)) if s is None else s
    mu = e * np.exp(X @ coef + intercept)
    r = s * (mu - y) / s.sum()
    g = X.T @ r + alpha * (1 - l1_ratio) * coef
    t = alpha * l1_ratio
    v = np.where(coef == 0, np.maximum(np.abs(g) - t, 0), np.abs(g + t * np.sign(coef)))
    return max(v.max(), abs(r.sum()))


def enet_objective(X, y, e, coef, intercept, alpha, l1_ratio, s=None) -> float:
    """Our objective (data term + elastic net) at a solution."""
    objective = PoissonObjective(X, y, e, s)
    params = np.append(coef, intercept)[:, None]
    return float(penalised_value(objective, ElasticNet(alpha, l1_ratio), params)[0])


@pytest.mark.parametrize("l1_ratio", [0.9, 0.5, 0.1])
def test_kkt_with_exposure_and_weights(l1_ratio):
    X, y, e = make_problem()
    s = np.random.default_rng(1).uniform(0.2, 2.0, len(y))
    alpha = 0.05 / l1_ratio
    model = LassoLNPRegressor(alpha=alpha, l1_ratio=l1_ratio).fit(X, y, s, exposure=e)
    assert 0 < model.n_nonzero_ < X.shape[1]
    assert model.optimality_ <= 1e-8
    assert numpy_kkt(X, y, e, model.coef_, model.intercept_, alpha, l1_ratio, s) <= 1e-8
    assert model.objective_ == pytest.approx(
        enet_objective(X, y, e, model.coef_, model.intercept_, alpha, l1_ratio, s), abs=1e-14
    )


def test_integer_weights_are_repeated_rows():
    X, y, e = make_problem(n=200)
    counts = np.random.default_rng(2).integers(0, 3, len(y))
    kwargs = {"alpha": 0.1, "l1_ratio": 0.5}
    weighted = LassoLNPRegressor(**kwargs).fit(X, y, counts.astype(float), exposure=e)
    rows = np.repeat(np.arange(len(y)), counts)
    repeated = LassoLNPRegressor(**kwargs).fit(X[rows], y[rows], exposure=e[rows])
    # two exact optima of the same objective, summed in different orders
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-7)
    assert weighted.objective_ == pytest.approx(repeated.objective_, rel=1e-12)


@pytest.mark.slow  # glum's import and IRLS-CD solver
def test_same_optimum_as_glum_with_offset():
    glum = pytest.importorskip("glum", reason="glum is not installed (test extra)")
    X, y, e = make_problem()
    alpha, l1_ratio = 0.08, 0.4
    ours = LassoLNPRegressor(alpha=alpha, l1_ratio=l1_ratio).fit(X, y, exposure=e)
    # glum minimises deviance / (2 sum s) + alpha l1_ratio |w|_1
    # + alpha (1 - l1_ratio)/2 |w|^2: the Poisson deviance / 2 is our mean
    # negative log-likelihood plus a constant, so alpha and l1_ratio map 1:1.
    ref = glum.GeneralizedLinearRegressor(
        family="poisson", alpha=alpha, l1_ratio=l1_ratio, gradient_tol=1e-12
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # glum's line-search warnings
        ref.fit(X, y, offset=np.log(e))
    theirs = enet_objective(X, y, e, ref.coef_, ref.intercept_, alpha, l1_ratio)
    assert -1e-12 <= theirs - ours.objective_ <= 1e-10 * abs(ours.objective_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


def test_l1_ratio_one_is_the_lasso_bit_for_bit():
    X, y, e = make_problem()
    lasso = LassoLNPRegressor(alpha=0.05).fit(X, y, exposure=e)
    net = LassoLNPRegressor(alpha=0.05, l1_ratio=1.0).fit(X, y, exposure=e)
    np.testing.assert_array_equal(net.coef_, lasso.coef_)
    assert (net.intercept_, net.n_iter_, net.objective_) == (
        lasso.intercept_,
        lasso.n_iter_,
        lasso.objective_,
    )
    path = lasso_lnp_path(X, y, exposure=e, n_alphas=5)
    path_1 = lasso_lnp_path(X, y, exposure=e, n_alphas=5, l1_ratio=1.0)
    np.testing.assert_array_equal(path_1.coefs, path.coefs)
    np.testing.assert_array_equal(path_1.alphas, path.alphas)


def test_small_l1_ratio_tends_to_the_ridge_optimum():
    X, y, e = make_problem()
    alpha = 0.2
    ridge = PoissonLNPRegressor(alpha=alpha, tol=1e-12).fit(X, y, exposure=e)
    distances = []
    for l1_ratio in [1e-1, 1e-2, 1e-3, 1e-4]:
        net = LassoLNPRegressor(alpha=alpha, l1_ratio=l1_ratio).fit(X, y, exposure=e)
        distances.append(np.max(np.abs(net.coef_ - ridge.coef_)))
    # the optimum is Lipschitz in l1_ratio: the distance shrinks about 10x per decade
    assert all(b < 0.2 * a for a, b in zip(distances, distances[1:], strict=False))
    assert distances[-1] < 1e-3 * np.max(np.abs(ridge.coef_))


@pytest.mark.parametrize("l1_ratio", [0.7, 0.2])
def test_path_facts(l1_ratio):
    X, y, e = make_problem()
    path = lasso_lnp_path(X, y, exposure=e, n_alphas=12, l1_ratio=l1_ratio)
    objective = PoissonObjective(X, y, e)
    assert np.all(path.optimality <= 1e-8)
    unit = ElasticNet(1.0, l1_ratio)
    params = np.vstack([path.coefs, path.intercepts])
    data = objective.value(params)
    penalty = unit.value(path.coefs)
    # optimal values along a descending alpha grid: each fit is optimal to
    # KKT 1e-8, so the comparisons hold up to ~1e-12 (objective error of an
    # approximate optimum is second order in the violation, plus round-off)
    slack = 1e-12
    assert np.all(np.diff(path.objective) <= slack)  # F*(alpha) non-decreasing in alpha
    assert np.all(np.diff(data) <= slack)  # data term non-decreasing in alpha
    assert np.all(np.diff(penalty) >= -slack)  # penalty non-increasing in alpha
    assert path.alpha_max == pytest.approx(
        lasso_lnp_path(X, y, exposure=e, n_alphas=1).alpha_max / l1_ratio, rel=1e-15
    )
    assert path.n_nonzero[0] == 0 and path.n_nonzero[1] > 0
    below = LassoLNPRegressor(alpha=path.alpha_max * (1 - 1e-6), l1_ratio=l1_ratio)
    assert below.fit(X, y, exposure=e).n_nonzero_ >= 1


def test_population_is_each_neurons_optimum():
    X, y, e = make_problem()
    Y = np.column_stack([y, make_problem(seed=3)[1]])
    alpha, l1_ratio = 0.1, 0.5
    together = LassoLNPRegressor(alpha=alpha, l1_ratio=l1_ratio).fit(X, Y, exposure=e)
    assert together.coef_.shape == (2, X.shape[1])
    for j in range(2):
        single = LassoLNPRegressor(alpha=alpha, l1_ratio=l1_ratio).fit(X, Y[:, j], exposure=e)
        # the same problem solved to KKT 1e-8 from the same start: equal optima
        np.testing.assert_allclose(together.coef_[j], single.coef_, atol=1e-7)
        assert together.optimality_[j] <= 1e-8


def test_per_neuron_alpha_and_l1_ratio_in_lockstep():
    # the refit of a population's LassoLNPCV: one alpha and one l1_ratio per neuron
    X, y, e = make_problem()
    Y = np.asfortranarray(np.column_stack([y, make_problem(seed=3)[1], y]))
    alphas, ratios = np.array([0.1, 0.05, 0.02]), np.array([0.5, 1.0, 0.2])
    objective = PoissonObjective(X, Y, e)
    fit = prox_newton(objective, ElasticNet(alphas, ratios), objective.initial_params())
    assert np.all(fit.converged)
    for j in range(3):
        coef, intercept = fit.params[:-1, j], fit.params[-1, j]
        assert numpy_kkt(X, Y[:, j], e, coef, intercept, alphas[j], ratios[j]) <= 1e-8


@pytest.mark.slow
def test_cv_over_l1_ratios_follows_elastic_net_cv():
    X, y, e = make_problem(n=400)
    cv = BlockedTimeSeriesSplit(3, gap=0)
    lasso = LassoLNPCV(alphas=6, cv=cv).fit(X, y, exposure=e)
    ratios = [0.2, 0.6, 1.0]
    net = LassoLNPCV(alphas=6, cv=cv, l1_ratio=ratios).fit(X, y, exposure=e)
    assert net.deviance_path_.shape == (3, 6, 3)
    assert net.alphas_.shape == (3, 6) and net.alpha_max_.shape == (3,)
    np.testing.assert_allclose(net.alpha_max_ * np.array(ratios), lasso.alpha_max_, rtol=1e-14)
    # the l1_ratio = 1 row is the lasso's cross-validation, step for step
    np.testing.assert_array_equal(net.deviance_path_[2], lasso.deviance_path_)
    mean = net.deviance_path_.mean(axis=2)
    r, a = np.unravel_index(np.argmin(mean), mean.shape)
    assert net.l1_ratio_ == ratios[r] and net.best_index_ == a
    assert net.alpha_ == net.alphas_[r, a]
    assert net.optimality_ <= 1e-8
    assert numpy_kkt(X, y, e, net.coef_, net.intercept_, net.alpha_, net.l1_ratio_) <= 1e-8
    # one l1_ratio: no l1_ratio axis (ElasticNetCV squeezes it)
    single = LassoLNPCV(alphas=6, cv=cv, l1_ratio=[0.6]).fit(X, y, exposure=e)
    assert single.deviance_path_.shape == (6, 3) and single.l1_ratio_ == 0.6
    np.testing.assert_array_equal(single.deviance_path_, net.deviance_path_[1])
    # a user grid is shared by the l1_ratios
    given = LassoLNPCV(alphas=[0.2, 0.05], cv=cv, l1_ratio=ratios).fit(X, y, exposure=e)
    assert given.alphas_.shape == (2,) and given.deviance_path_.shape == (3, 2, 3)


@pytest.mark.slow
def test_cv_population_chooses_per_neuron():
    X, y, e = make_problem(n=400)
    Y = np.column_stack([y, make_problem(n=400, seed=3)[1]])
    cv = BlockedTimeSeriesSplit(3, gap=0)
    ratios = [0.3, 1.0]
    model = LassoLNPCV(alphas=5, cv=cv, l1_ratio=ratios).fit(X, Y, exposure=e)
    assert model.deviance_path_.shape == (2, 2, 5, 3)
    assert model.alphas_.shape == (2, 2, 5) and model.l1_ratio_.shape == (2,)
    for j in range(2):
        alone = LassoLNPCV(alphas=5, cv=cv, l1_ratio=ratios).fit(X, Y[:, j], exposure=e)
        assert model.l1_ratio_[j] == alone.l1_ratio_
        assert model.alpha_[j] == pytest.approx(alone.alpha_, rel=1e-12)
        coef, intercept = model.coef_[j], model.intercept_[j]
        violation = numpy_kkt(X, Y[:, j], e, coef, intercept, model.alpha_[j], model.l1_ratio_[j])
        assert violation <= 1e-8


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: LassoLNPRegressor(l1_ratio=0.0), "PoissonLNPRegressor"),
        (lambda: LassoLNPRegressor(l1_ratio=1.5), "l1_ratio"),
        (lambda: LassoLNPRegressor(l1_ratio="half"), "l1_ratio"),
        (lambda: LassoLNPCV(l1_ratio=[0.5, 0.0]), "PoissonLNPRegressor"),
        (lambda: LassoLNPCV(l1_ratio=[0.5, 2.0]), r"l1_ratio must be in \(0, 1\]"),
        (lambda: LassoLNPCV(l1_ratio=[]), "non-empty"),
        (lambda: LassoLNPCV(l1_ratio=[[0.5]]), "1-d list"),
    ],
)
def test_bad_l1_ratio_is_named(make, match):
    X, y, e = make_problem(n=60, p=8)
    with pytest.raises(ValueError, match=match):
        make().fit(X, y, exposure=e)


def test_bad_path_l1_ratio_is_named():
    X, y, e = make_problem(n=60, p=8)
    with pytest.raises(ValueError, match="PoissonLNPRegressor"):
        lasso_lnp_path(X, y, exposure=e, l1_ratio=0.0)
    with pytest.raises(ValueError, match="l1_ratio"):
        lasso_lnp_path(X, y, exposure=e, l1_ratio=-0.5)


@pytest.mark.slow  # pyglmnet's import and its gradient iterations (~2 s under load)
@pytest.mark.skipif(not pyglmnet_available(), reason="pyglmnet is not installed (optional extra)")
def test_pyglmnet_batch_gradient_converges_to_the_mapped_elastic_net():
    from sklearn_lnp._integrations.pyglmnet_numpy import numpy_aliases_for
    from sklearn_lnp.linear_model._pyglmnet import import_pyglmnet

    module = import_pyglmnet()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 20))
    y = rng.poisson(np.exp(X[:, :4].sum(axis=1) * 0.3 + 0.2)).astype(float)
    lam, mix, rate = 0.02, 0.5, 0.2  # the lab's GLM(alpha=0.5, reg_lambda=lam)
    glm = module.GLM(
        distr="poisson", alpha=mix, reg_lambda=lam, learning_rate=rate, max_iter=20000, tol=1e-12
    )
    glm.eta = 100.0  # the exponential model over the data (its default is linear above 2)
    glm.beta0_, glm.beta_ = float(np.log(y.mean())), np.zeros(X.shape[1])
    with warnings.catch_warnings(), numpy_aliases_for(module), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        glm.fit(X, y)
    # its proximal step thresholds at mix * lam (not rate * mix * lam): the
    # fixed point has L1 weight mix * lam / rate and L2 gradient (1 - mix) lam w
    l1, l2 = mix * lam / rate, (1 - mix) * lam
    mapped = LassoLNPRegressor(alpha=l1 + l2, l1_ratio=l1 / (l1 + l2)).fit(X, y)
    np.testing.assert_allclose(glm.beta_, mapped.coef_, atol=1e-7)
    documented = LassoLNPRegressor(alpha=lam, l1_ratio=mix).fit(X, y)
    assert np.max(np.abs(glm.beta_ - documented.coef_)) > 1e-3


@pytest.mark.slow  # pyglmnet runs to its fixed point (thousands of gradient steps)
@pytest.mark.skipif(not pyglmnet_available(), reason="pyglmnet is not installed (optional extra)")
def test_pyglmnet_backend_reaches_the_elastic_net_optimum():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 20))
    y = rng.poisson(np.exp(X[:, :4].sum(axis=1) * 0.3 + 0.2)).astype(float)
    alpha, l1_ratio = 0.06, 5 / 6
    model = LassoLNPRegressor(
        alpha=alpha,
        l1_ratio=l1_ratio,
        solver="pyglmnet",
        solver_options={"max_iter": 20000, "tol": 1e-14},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its own warnings; the report is what is checked
        model.fit(X, y)
    report = model.backend_report_
    # the lab's GLM(alpha=0.5, reg_lambda=lam) at learning_rate 0.2 is alpha = 3 lam, 5/6
    assert report["pyglmnet_alpha"] == pytest.approx(0.5, rel=1e-12)
    assert report["reg_lambda"] == pytest.approx(alpha / 3, rel=1e-12)
    exact = LassoLNPRegressor(alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    assert report["optimum_objective"] == pytest.approx(exact.objective_, abs=1e-12)
    # two approximations of one optimum: only the size of the gap is a fact
    assert abs(report["gap"]) < 1e-12
    np.testing.assert_allclose(model.coef_, exact.coef_, atol=1e-7)
