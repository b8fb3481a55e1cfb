"""Laplace error bars: posterior precision, covariance and ``coef_std_``.

Facts asserted:

* :func:`posterior_precision` is the derivative of the gradient of the
  *total* negative log posterior (``S`` times the mean objective, ``S`` the
  sum of the sample weights) -- finite differences -- with the penalty
  ``alpha Q`` on the coefficients and the intercept unpenalised;
* for ``alpha = 0`` ``coef_std_`` and ``intercept_std_`` are the standard
  errors of statsmodels' Poisson GLM with ``offset=log(exposure)``, to
  1e-6 relative, on simulated data (with and without sample weights, which
  statsmodels takes as ``freq_weights`` or ``var_weights``: the same for the
  Poisson family, whose scale is 1) and on the lab's lag-0 design;
* the 95% intervals ``coef_ +- 1.96 coef_std_`` of a simulated neuron
  cover the true weights at the nominal rate (binomial bounds);
* ``coef_covariance`` is consistent with ``coef_std_``, works for every
  neuron of a population and for sparse and dask designs, and refuses what
  it cannot do (an undetermined fit, a missing exposure, a bad ``neuron``).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from _problems import poisson_problem

from sklearn_lnp import PoissonLNPRegressor
from sklearn_lnp._laplace import (
    PosteriorNotDefiniteError,
    posterior_covariance,
    posterior_precision,
)
from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp._penalties import L2, Quadratic
from sklearn_lnp._solvers import SmoothProblem
from sklearn_lnp.penalties import smoothness_penalty

sm = pytest.importorskip("statsmodels.api")


def _statsmodels_bse(X, y, exposure, **weights):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    model = sm.GLM(
        y,
        sm.add_constant(X, has_constant="add"),
        family=sm.families.Poisson(),
        offset=np.log(exposure),
        **weights,
    )
    return model.fit(tol=1e-12).bse


@pytest.mark.parametrize("penalty_kind", ["none", "l2", "quadratic"])
def test_precision_is_the_hessian_of_the_total_negative_log_posterior(penalty_kind):
    data = poisson_problem(200, 6, seed=0, per_sqrt_features=True, sample_weight=(0.5, 2.0))
    objective = PoissonObjective(data.X, data.y, data.exposure, data.sample_weight)
    penalty = {
        "none": None,
        "l2": L2(0.3),
        "quadratic": Quadratic(0.3, smoothness_penalty((2, 3), ridge=0.1)),
    }[penalty_kind]
    problem = SmoothProblem(objective, penalty)
    P = np.random.default_rng(1).normal(scale=0.2, size=(7, 1))
    H = posterior_precision(objective, penalty, P)
    total = data.sample_weight.sum()

    def total_gradient(params):
        return total * problem.evaluate(params[:, None])[1][:, 0]

    h = 1e-6
    numeric = np.column_stack(
        [
            (total_gradient(P[:, 0] + h * e) - total_gradient(P[:, 0] - h * e)) / (2 * h)
            for e in np.eye(7)
        ]
    )
    # central differences of a smooth gradient: error O(h^2) plus round-off / h
    np.testing.assert_allclose(H, numeric, rtol=1e-6, atol=1e-6 * np.abs(H).max())
    np.testing.assert_array_equal(H, H.T)


def test_covariance_is_the_inverse_and_undefined_precisions_raise():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((8, 5))
    precision = A.T @ A
    covariance = posterior_covariance(precision)
    np.testing.assert_allclose(covariance @ precision, np.eye(5), atol=1e-10)
    with pytest.raises(PosteriorNotDefiniteError, match="not positive definite"):
        posterior_covariance(-np.eye(3))
    singular = A[:3].T @ A[:3]  # rank 3 of 5: round-off pivots
    with pytest.raises(PosteriorNotDefiniteError, match="alpha > 0"):
        posterior_covariance(singular)
    assert issubclass(PosteriorNotDefiniteError, ValueError)


@pytest.mark.parametrize("weights", [None, "freq_weights", "var_weights"])
def test_unpenalised_std_equals_statsmodels_bse(weights):
    data = poisson_problem(
        600,
        8,
        seed=2,
        per_sqrt_features=True,
        sample_weight=None if weights is None else (0.5, 2.0),
    )
    model = PoissonLNPRegressor(compute_std=True, tol=1e-10).fit(
        data.X, data.y, exposure=data.exposure, sample_weight=data.sample_weight
    )
    extra = {} if weights is None else {weights: data.sample_weight}
    bse = _statsmodels_bse(data.X, data.y, data.exposure, **extra)
    np.testing.assert_allclose(model.coef_std_, bse[1:], rtol=1e-6)
    np.testing.assert_allclose(model.intercept_std_, bse[0], rtol=1e-6)


@pytest.mark.slow  # ~30 s under load: statsmodels' IRLS and the separation check on 1488 x 300
def test_unpenalised_std_equals_statsmodels_bse_on_the_real_neuron(real_design):
    X, y, exposure = real_design.X, real_design.counts, real_design.exposure
    model = PoissonLNPRegressor(compute_std=True, tol=1e-10).fit(X, y, exposure=exposure)
    bse = _statsmodels_bse(X, y, exposure)
    np.testing.assert_allclose(model.coef_std_, bse[1:], rtol=1e-6)
    np.testing.assert_allclose(model.intercept_std_, bse[0], rtol=1e-6)


def test_intervals_cover_the_true_weights_at_the_nominal_rate():
    data = poisson_problem(5000, 60, seed=3, per_sqrt_features=True, coef_scale=1.0)
    model = PoissonLNPRegressor(compute_std=True).fit(data.X, data.y, exposure=data.exposure)
    z = (model.coef_ - data.coef) / model.coef_std_
    covered = int(np.sum(np.abs(z) <= 1.96))
    # Binomial(60, 0.95): P(covered < 51) ~ 0.3%; the z are nearly independent
    assert covered >= 51
    assert abs(float(np.mean(z))) < 4 / np.sqrt(60)  # no bias beyond 4 standard errors


def test_penalised_covariance_is_smaller_than_unpenalised():
    """A Gaussian prior adds precision: Sigma(alpha) <= Sigma(0) in the Loewner order."""
    data = poisson_problem(400, 6, seed=4, per_sqrt_features=True)
    fit = dict(exposure=data.exposure)
    free = PoissonLNPRegressor().fit(data.X, data.y, **fit)
    Q = smoothness_penalty((2, 3))
    smooth = PoissonLNPRegressor(alpha=0.05, penalty_matrix=Q).fit(data.X, data.y, **fit)
    # at the same point the difference of precisions is S alpha Q, exactly
    objective = PoissonObjective(data.X, data.y, data.exposure)
    P = objective.join(free.coef_[:, None], free.intercept_)
    difference = posterior_precision(objective, Quadratic(0.05, Q), P) - posterior_precision(
        objective, None, P
    )
    np.testing.assert_allclose(difference[:6, :6], 400 * 0.05 * Q.toarray(), atol=1e-9)
    assert not difference[6].any()
    # so the covariance shrinks: Sigma(0) - Sigma(alpha) is PSD
    gap = posterior_covariance(posterior_precision(objective, None, P)) - posterior_covariance(
        posterior_precision(objective, Quadratic(0.05, Q), P)
    )
    assert np.linalg.eigvalsh(gap)[0] > -1e-12 * np.abs(gap).max()
    # the diagonal of a PSD matrix, to the round-off of the two inverses (as above)
    assert np.all(np.diag(gap) >= -1e-12 * np.abs(gap).max())
    assert smooth.coef_covariance(data.X, **fit).shape == (7, 7)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_coef_covariance_matches_coef_std(fit_intercept):
    data = poisson_problem(300, 5, seed=5, per_sqrt_features=True, sample_weight=(0.5, 2.0))
    kwargs = dict(exposure=data.exposure, sample_weight=data.sample_weight)
    model = PoissonLNPRegressor(alpha=0.01, compute_std=True, fit_intercept=fit_intercept)
    model.fit(data.X, data.y, **kwargs)
    covariance = model.coef_covariance(data.X, **kwargs)
    assert covariance.shape == (5 + fit_intercept,) * 2
    std = np.sqrt(np.diag(covariance))
    np.testing.assert_allclose(std[:5], model.coef_std_, rtol=1e-12)
    assert model.intercept_std_ == (pytest.approx(std[5], rel=1e-12) if fit_intercept else 0.0)
    model.set_params(compute_std=False).fit(data.X, data.y, **kwargs)
    assert not hasattr(model, "coef_std_")


def test_population_std_is_each_neurons_and_sparse_dask_agree():
    data = poisson_problem(300, 6, seed=6, n_neurons=3, per_sqrt_features=True)
    y = data.y.copy()
    y[:, 1] = 0.0  # a silent neuron: no posterior
    population = PoissonLNPRegressor(alpha=0.01, compute_std=True)
    with pytest.warns(UserWarning, match="no spikes|without spikes"):
        population.fit(data.X, y, exposure=data.exposure)
    assert np.all(np.isnan(population.coef_std_[1])) and np.isnan(population.intercept_std_[1])
    for j in (0, 2):
        single = PoissonLNPRegressor(alpha=0.01, compute_std=True).fit(
            data.X, y[:, j], exposure=data.exposure
        )
        np.testing.assert_allclose(population.coef_std_[j], single.coef_std_, rtol=1e-6)
        np.testing.assert_allclose(
            population.coef_covariance(data.X, exposure=data.exposure, neuron=j),
            single.coef_covariance(data.X, exposure=data.exposure),
            rtol=1e-6,
        )
    with pytest.raises(ValueError, match=r"neuron must be an integer in \[0, 3\)"):
        population.coef_covariance(data.X, exposure=data.exposure)
    with pytest.raises(ValueError, match="neuron 1 had no spikes"):
        population.coef_covariance(data.X, exposure=data.exposure, neuron=1)
    single = PoissonLNPRegressor(alpha=0.01).fit(data.X, y[:, 0], exposure=data.exposure)
    dense = single.coef_covariance(data.X, exposure=data.exposure)
    np.testing.assert_allclose(
        single.coef_covariance(sp.csr_matrix(data.X), exposure=data.exposure), dense, rtol=1e-10
    )
    da = pytest.importorskip("dask.array")
    np.testing.assert_allclose(
        single.coef_covariance(da.from_array(data.X, chunks=(100, 6)), exposure=data.exposure),
        dense,
        rtol=1e-10,
    )
    with pytest.raises(ValueError, match="neuron must be None"):
        single.coef_covariance(data.X, exposure=data.exposure, neuron=2)
    with pytest.raises(ValueError, match="coef_covariance got none"):
        single.coef_covariance(data.X)


def test_undetermined_fit_raises_a_named_error():
    data = poisson_problem(20, 30, seed=7, per_sqrt_features=True)
    with pytest.warns(UserWarning, match="does not exist"):
        model = PoissonLNPRegressor(max_iter=50).fit(data.X, data.y, exposure=data.exposure)
    with pytest.raises(PosteriorNotDefiniteError, match="not positive definite"):
        model.coef_covariance(data.X, exposure=data.exposure)
    # with a penalty the posterior is defined
    ridge = PoissonLNPRegressor(alpha=0.1, compute_std=True).fit(
        data.X, data.y, exposure=data.exposure
    )
    assert np.all(np.isfinite(ridge.coef_std_)) and np.all(ridge.coef_std_ > 0)


def test_float32_design_gives_the_float64_error_bars():
    data = poisson_problem(1000, 10, seed=8, design="binary", per_sqrt_features=True)
    fit = dict(exposure=data.exposure)
    double = PoissonLNPRegressor(alpha=0.01, compute_std=True).fit(data.X, data.y, **fit)
    single = PoissonLNPRegressor(alpha=0.01, compute_std=True).fit(
        data.X.astype(np.float32), data.y, **fit
    )
    assert single.coef_std_.dtype == np.float64
    # +-1 entries are exact in float32; the two fits agree to their tolerance
    np.testing.assert_allclose(single.coef_std_, double.coef_std_, rtol=1e-6)
