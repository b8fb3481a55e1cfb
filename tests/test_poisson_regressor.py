r"""``PoissonLNPRegressor``: the optimum it finds, and how it treats its inputs.

Facts asserted:

* the fit is the optimum of the documented objective: the gradient, written
  out here independently, vanishes to ``tol``; scikit-learn's
  ``PoissonRegressor`` and statsmodels' GLM find the same parameters;
* all solvers reach the same optimum, on dense, sparse, float32 and p > n
  designs; ``warm_start`` starts from the previous optimum;
* a solver stopped by ``max_iter`` says so with a ``ConvergenceWarning``
  that quotes the optimality it reached;
* integer sample weights are repeated rows; ``exposure`` is split per fold
  by cross-validation through a ``Pipeline`` with metadata routing;
* bad input raises a ``ValueError`` naming the argument.

The exposure mapping to scikit-learn
-------------------------------------
Ours, with sample weights :math:`s_t` (all 1 by default), :math:`S = \sum s_t`,
:math:`\eta_t = x_t w + b`, :math:`\mu_t = e_t \exp(\eta_t)`:

.. math::  F(w, b) = \frac1S \sum_t s_t (\mu_t - y_t \log \mu_t) + \frac\alpha2 \|w\|^2 .

scikit-learn's ``PoissonRegressor`` has no offset; fit it on the rates
:math:`y_t / e_t` with sample weights :math:`s_t e_t`.  Its objective is, up
to terms constant in :math:`(w, b)`,

.. math::
    G(w, b) = \frac{1}{\sum_t s_t e_t} \sum_t s_t e_t
              \left(e^{\eta_t} - \frac{y_t}{e_t}\eta_t\right) + \frac{\alpha_{sk}}2 \|w\|^2
            = \frac{1}{\sum_t s_t e_t} \sum_t s_t (\mu_t - y_t \log \mu_t + y_t \log e_t)
              + \frac{\alpha_{sk}}2 \|w\|^2 .

So :math:`\frac{\sum s_t e_t}{S}\, G = F - \frac\alpha2\|w\|^2 + \text{const}
+ \frac{\sum s_t e_t}{S} \frac{\alpha_{sk}}2 \|w\|^2`: both have the same
minimiser exactly when :math:`\alpha_{sk} = \alpha \, S / \sum_t s_t e_t`,
i.e. ``alpha * n / sum(exposure)`` without sample weights.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import PoissonRegressor
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_lnp import PoissonLNPRegressor

SOLVERS = ["auto", "newton-cholesky", "lbfgs"]
# Tolerance on max |gradient| each solver reaches without a ConvergenceWarning
# on these small problems.  An L-BFGS whose line search compares objective
# values cannot resolve decreases below ~1e-16 * |F|: with the first solver
# (commit 45e1ddb) plain L-BFGS stopped at max |grad| between 1e-9 and 1.3e-7
# here (measured), while Newton reaches 1e-12.  A line search on the exact
# restriction of F to the line removes that floor; TOL["lbfgs"] can then be
# lowered.  (solver="auto" hands over to Newton when L-BFGS stops short.)
TOL = {"auto": 1e-9, "newton-cholesky": 1e-9, "lbfgs": 3e-7}


def make_data(n=300, p=8, *, seed=0, rate_scale=1.0):
    """A Poisson neuron with unequal bin widths (exposure) and a known RF."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = rng.standard_normal(p) * 0.5 / np.sqrt(p)
    exposure = rng.uniform(0.5, 2.0, n)
    y = rng.poisson(rate_scale * exposure * np.exp(X @ w + 0.3)).astype(np.float64)
    return X, y, exposure


def gradient(X, y, coef, intercept, *, exposure=None, sample_weight=None, alpha=0.0):
    """Gradient of the documented objective, written out independently."""
    n = y.shape[0]
    exposure = np.ones(n) if exposure is None else exposure
    s = np.ones(n) if sample_weight is None else sample_weight
    mu = exposure * np.exp(X @ coef + intercept)
    residual = s * (mu - y) / s.sum()
    return X.T @ residual + alpha * coef, residual.sum()


def objective(X, y, coef, intercept, *, exposure=None, alpha=0.0):
    exposure = np.ones(y.shape[0]) if exposure is None else exposure
    log_mu = X @ coef + intercept + np.log(exposure)
    return np.mean(np.exp(log_mu) - y * log_mu) + 0.5 * alpha * coef @ coef


# -- the optimum --------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("alpha", [0.0, 0.05])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fit_is_a_stationary_point(solver, alpha, fit_intercept):
    X, y, exposure = make_data()
    sample_weight = np.random.default_rng(9).uniform(0.5, 2.0, y.shape[0])
    tol = TOL[solver]
    model = PoissonLNPRegressor(alpha=alpha, fit_intercept=fit_intercept, solver=solver, tol=tol)
    model.fit(X, y, sample_weight=sample_weight, exposure=exposure)
    g_coef, g_intercept = gradient(
        X,
        y,
        model.coef_,
        model.intercept_,
        exposure=exposure,
        sample_weight=sample_weight,
        alpha=alpha,
    )
    assert np.max(np.abs(g_coef)) <= tol
    if fit_intercept:
        assert abs(g_intercept) <= tol
    else:
        assert model.intercept_ == 0.0
    assert model.optimality_ <= tol
    assert model.coef_.shape == (X.shape[1],)
    assert isinstance(model.intercept_, float)
    assert model.n_features_in_ == X.shape[1]
    assert model.n_iter_ >= 1


@pytest.mark.parametrize("alpha", [0.01, 0.3])
@pytest.mark.parametrize("use_weight", [False, True])
def test_agrees_with_sklearn_poisson_regressor_with_exposure_mapping(alpha, use_weight):
    """Same optimum as sklearn on y / exposure, sample_weight * exposure, mapped alpha.

    The mapping ``alpha_sk = alpha * sum(s) / sum(s * exposure)`` is derived in
    the module docstring.
    """
    X, y, exposure = make_data(seed=1)
    n = y.shape[0]
    s = np.random.default_rng(2).integers(1, 4, n).astype(float) if use_weight else np.ones(n)
    ours = PoissonLNPRegressor(alpha=alpha, tol=1e-12).fit(
        X, y, sample_weight=s if use_weight else None, exposure=exposure
    )
    alpha_sk = alpha * s.sum() / np.sum(s * exposure)
    theirs = PoissonRegressor(alpha=alpha_sk, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    theirs.fit(X, y / exposure, sample_weight=s * exposure)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8, atol=1e-10)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-8, abs=1e-10)
    # Predictions: sklearn predicts rates, ours expected counts with exposure.
    np.testing.assert_allclose(
        ours.predict(X, exposure=exposure), exposure * theirs.predict(X), rtol=1e-8
    )
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-8)


def test_same_alpha_means_same_penalty_as_sklearn_without_exposure():
    X, y, _ = make_data(seed=3)
    ours = PoissonLNPRegressor(alpha=0.2, tol=1e-12).fit(X, y)
    theirs = PoissonRegressor(alpha=0.2, solver="newton-cholesky", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8, atol=1e-10)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-8)
    # score is D^2, the fraction of Poisson deviance explained, as in sklearn.
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), rel=1e-8)


def test_non_integer_counts_accepted_and_match_sklearn():
    X, y, _ = make_data(seed=4)
    y = y * 0.37  # not counts any more: the loss extends to real y >= 0
    ours = PoissonLNPRegressor(alpha=0.1, tol=1e-12).fit(X, y)
    theirs = PoissonRegressor(alpha=0.1, solver="newton-cholesky", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("use_weight", [False, True])
def test_agrees_with_statsmodels_glm_with_offset(use_weight):
    """Unpenalised fit == statsmodels GLM Poisson with offset log(exposure)."""
    sm = pytest.importorskip("statsmodels.api")
    X, y, exposure = make_data(seed=5)
    s = np.random.default_rng(6).integers(1, 4, y.shape[0]).astype(float) if use_weight else None
    ours = PoissonLNPRegressor(tol=1e-12).fit(X, y, sample_weight=s, exposure=exposure)
    glm = sm.GLM(
        y,
        sm.add_constant(X),
        family=sm.families.Poisson(),
        offset=np.log(exposure),
        freq_weights=s,
    ).fit(tol=1e-14, maxiter=100)
    np.testing.assert_allclose(ours.coef_, glm.params[1:], rtol=1e-8, atol=1e-10)
    assert ours.intercept_ == pytest.approx(glm.params[0], rel=1e-8, abs=1e-10)


def test_all_solvers_agree():
    X, y, exposure = make_data(n=400, p=80, seed=7)  # > 64 columns: auto runs L-BFGS first
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fits = {
            solver: PoissonLNPRegressor(alpha=0.01, solver=solver, tol=TOL[solver]).fit(
                X, y, exposure=exposure
            )
            for solver in SOLVERS
        }
    ref = fits["newton-cholesky"]
    for solver, model in fits.items():
        # The objective is alpha-strongly convex: a point with max |grad| <= tol
        # is within ||grad||_2 / alpha of the optimum, and its objective within
        # ||grad||_2^2 / (2 alpha) of the optimum value.
        grad_norm = np.sqrt(X.shape[1] + 1) * (TOL[solver] + TOL["newton-cholesky"])
        np.testing.assert_allclose(
            model.coef_, ref.coef_, rtol=0, atol=grad_norm / 0.01, err_msg=solver
        )
        assert abs(model.objective_ - ref.objective_) <= grad_norm**2 / (2 * 0.01)
        assert model.objective_ == pytest.approx(
            objective(X, y, model.coef_, model.intercept_, exposure=exposure, alpha=0.01),
            rel=1e-13,
        )
    assert fits["lbfgs"].solver_ == "lbfgs"
    assert fits["newton-cholesky"].solver_ == "newton-cholesky"
    assert "lbfgs" in fits["auto"].solver_ or "newton" in fits["auto"].solver_


@pytest.mark.parametrize("solver", SOLVERS)
def test_more_features_than_samples_with_penalty(solver):
    X, y, exposure = make_data(n=60, p=150, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = PoissonLNPRegressor(alpha=0.5, solver=solver, tol=TOL[solver]).fit(
            X, y, exposure=exposure
        )
    g_coef, g_intercept = gradient(
        X, y, model.coef_, model.intercept_, exposure=exposure, alpha=0.5
    )
    assert max(np.max(np.abs(g_coef)), abs(g_intercept)) <= TOL[solver]
    assert np.all(np.isfinite(model.coef_)) and np.any(model.coef_ != 0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_convergence_warning_quotes_reached_optimality(solver):
    X, y, exposure = make_data(n=300, p=80, seed=10)
    model = PoissonLNPRegressor(solver=solver, max_iter=1, tol=1e-12)
    with pytest.warns(ConvergenceWarning) as record:
        model.fit(X, y, exposure=exposure)
    message = str(record[0].message)
    assert "max_iter=1" in message
    reached = float(re.search(r"optimality ([0-9.eE+-]+)", message).group(1))
    assert reached == pytest.approx(model.optimality_, rel=1e-2)
    assert model.optimality_ > 1e-12
    # The warned fit still returns the (finite, non-zero) iterate it reached.
    assert np.all(np.isfinite(model.coef_)) and np.any(model.coef_ != 0)


# -- warm start ---------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_warm_start_from_optimum_takes_no_iteration(solver, fit_intercept):
    X, y, exposure = make_data(seed=11)
    model = PoissonLNPRegressor(
        alpha=0.1, solver=solver, warm_start=True, fit_intercept=fit_intercept, tol=TOL[solver]
    )
    model.fit(X, y, exposure=exposure)
    first_coef = model.coef_
    first = first_coef.copy()
    assert model.n_iter_ >= 1
    model.fit(X, y, exposure=exposure)
    assert model.n_iter_ == 0
    np.testing.assert_allclose(model.coef_, first, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(first_coef, first)  # the old coef_ was not mutated


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_reaches_the_cold_optimum(solver):
    X, y, exposure = make_data(seed=12)
    tol = TOL[solver]
    warm = PoissonLNPRegressor(alpha=1.0, solver=solver, warm_start=True, tol=tol)
    warm.fit(X, y, exposure=exposure)
    warm.set_params(alpha=0.01).fit(X, y, exposure=exposure)
    cold = PoissonLNPRegressor(alpha=0.01, solver=solver, tol=tol).fit(X, y, exposure=exposure)
    # Both stop within tol of the same strongly convex optimum.
    np.testing.assert_allclose(warm.coef_, cold.coef_, rtol=0, atol=1e3 * tol)
    # A new number of features cannot warm start: it starts cold.
    warm.fit(X[:, :3], y, exposure=exposure)
    assert warm.coef_.shape == (3,)


def test_no_warm_start_ignores_previous_fit():
    X, y, exposure = make_data(seed=13)
    model = PoissonLNPRegressor(solver="newton-cholesky").fit(X, y, exposure=exposure)
    n_iter = model.n_iter_
    model.fit(X, y, exposure=exposure)
    assert model.n_iter_ == n_iter >= 1


# -- invariances ----------------------------------------------------------------


def test_integer_sample_weight_equals_repeated_rows():
    X, y, exposure = make_data(n=120, seed=14)
    counts = np.random.default_rng(15).integers(0, 4, y.shape[0])
    weighted = PoissonLNPRegressor(alpha=0.05, tol=1e-11).fit(
        X, y, sample_weight=counts.astype(float), exposure=exposure
    )
    repeated = PoissonLNPRegressor(alpha=0.05, tol=1e-11).fit(
        np.repeat(X, counts, axis=0),
        np.repeat(y, counts),
        exposure=np.repeat(exposure, counts),
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8, atol=1e-10)
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, rel=1e-8)
    assert weighted.objective_ == pytest.approx(repeated.objective_, rel=1e-12)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_sparse_equals_dense(fmt, solver):
    X, y, exposure = make_data(seed=16)
    X[np.abs(X) < 0.8] = 0.0
    tol = TOL[solver]
    dense = PoissonLNPRegressor(alpha=0.02, solver=solver, tol=tol).fit(X, y, exposure=exposure)
    sparse = PoissonLNPRegressor(alpha=0.02, solver=solver, tol=tol).fit(
        sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X), y, exposure=exposure
    )
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=1e3 * tol)
    np.testing.assert_allclose(
        sparse.predict(sp.csr_matrix(X), exposure=exposure),
        dense.predict(X, exposure=exposure),
        rtol=1e4 * tol,
    )


def test_float32_design_gives_the_float64_optimum():
    X, y, exposure = make_data(seed=17)
    X32 = X.astype(np.float32)
    fit32 = PoissonLNPRegressor(tol=1e-11).fit(X32, y, exposure=exposure)
    fit64 = PoissonLNPRegressor(tol=1e-11).fit(X32.astype(np.float64), y, exposure=exposure)
    assert fit32.coef_.dtype == np.float64
    np.testing.assert_allclose(fit32.coef_, fit64.coef_, rtol=1e-9, atol=1e-11)
    assert fit32.objective_ == pytest.approx(fit64.objective_, rel=1e-13)


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cholesky"])
def test_float32_design_in_many_row_blocks_gives_the_float64_optimum(solver, monkeypatch):
    # row blocks of a few rows: the single-precision sweeps and the accurate
    # (float64-converted) refreshes of the L-BFGS iterates run over many blocks,
    # as on a design larger than the blocks
    from sklearn_lnp._passes import _memory

    monkeypatch.setattr(_memory, "_FAST_BLOCK_BYTES", 8 * 8 * 37)
    monkeypatch.setattr(_memory, "_CONVERT_BLOCK_BYTES", 8 * 8 * 29)
    monkeypatch.setattr(_memory, "_MATVEC_BLOCK_BYTES", 8 * 8 * 23)
    X, y, exposure = make_data(n=2000, seed=20)
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)
    alpha, tol = 0.01, 1e-10
    fit32 = PoissonLNPRegressor(alpha=alpha, solver=solver, tol=tol).fit(X32, y, exposure=exposure)
    fit64 = PoissonLNPRegressor(alpha=alpha, solver=solver, tol=tol).fit(X64, y, exposure=exposure)
    # the float32 fit meets the stopping rule on the float64 numbers of its design
    g, g_b = gradient(X64, y, fit32.coef_, fit32.intercept_, exposure=exposure, alpha=alpha)
    # (1e-6: the reference gradient is summed in another order, round-off ~1e-16)
    assert max(np.max(np.abs(g)), abs(g_b)) <= tol * (1 + 1e-6)
    # two points within tol of one strongly convex optimum (curvature >= alpha)
    np.testing.assert_allclose(fit32.coef_, fit64.coef_, rtol=0, atol=2 * tol / alpha)
    assert fit32.objective_ == pytest.approx(fit64.objective_, rel=1e-13)


def test_constant_exposure_only_shifts_the_intercept():
    """exposure c is the same model as none, with b + log(c) in place of b."""
    X, y, _ = make_data(seed=18)
    plain = PoissonLNPRegressor(tol=1e-11).fit(X, y)
    scaled = PoissonLNPRegressor(tol=1e-11).fit(X, y, exposure=0.25)
    np.testing.assert_allclose(scaled.coef_, plain.coef_, rtol=1e-8, atol=1e-11)
    assert scaled.intercept_ + np.log(0.25) == pytest.approx(plain.intercept_, rel=1e-8)
    np.testing.assert_allclose(scaled.predict(X, exposure=0.25), plain.predict(X), rtol=1e-8)


def test_feature_names_in(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y, exposure = make_data(p=3, seed=19)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = PoissonLNPRegressor().fit(frame, y, exposure=exposure)
    assert model.feature_names_in_.tolist() == ["a", "b", "c"]
    with pytest.warns(UserWarning, match="feature names"):
        model.predict(X)


@pytest.mark.parametrize("y_kind", ["1-d", "2-d"])
def test_plain_arrays_are_validated_like_any_other_input(y_kind):
    """Numpy arrays skip ``validate_data``; the fit records what it would have.

    The same data as a list (through ``validate_data``) gives the same fit,
    ``n_features_in_``, and a refit on arrays drops the ``feature_names_in_``
    of an earlier fit on a DataFrame, as scikit-learn does.
    """
    pd = pytest.importorskip("pandas")
    X, y, exposure = make_data(p=3, seed=23)
    y = y if y_kind == "1-d" else np.column_stack([y, y + 1.0])
    model = PoissonLNPRegressor(alpha=0.1).fit(pd.DataFrame(X, columns=["a", "b", "c"]), y)
    assert hasattr(model, "feature_names_in_")
    model.fit(X, y, exposure=exposure)
    assert not hasattr(model, "feature_names_in_")
    assert model.n_features_in_ == 3
    listed = PoissonLNPRegressor(alpha=0.1).fit(X.tolist(), y.tolist(), exposure=exposure)
    # same arrays and the same arithmetic: no tolerance beyond round-off is needed
    np.testing.assert_allclose(model.coef_, listed.coef_, rtol=1e-12, atol=1e-15)
    assert listed.n_features_in_ == 3


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_counts_refused_on_the_fast_path(bad):
    X, y, _ = make_data(p=3, seed=24)
    y = y.astype(float)
    y[5] = bad
    with pytest.raises(ValueError, match="y"):
        PoissonLNPRegressor().fit(X, y)


def test_textbook_model_recovers_rf():
    """``exposure = dt R`` and no intercept is the textbook model exactly."""
    from sklearn_lnp.datasets import make_lnp_neuron

    neuron = make_lnp_neuron(n_frames=2000, random_state=0)
    model = PoissonLNPRegressor(fit_intercept=False).fit(
        neuron.stimulus, neuron.counts, exposure=neuron.exposure
    )
    assert np.corrcoef(model.coef_, neuron.rf.ravel())[0, 1] > 0.9
    # The expected counts it predicts track the true rate.
    predicted = model.predict(neuron.stimulus, exposure=neuron.exposure)
    assert np.corrcoef(predicted, neuron.rate)[0, 1] > 0.9


# -- cross-validation and metadata routing ---------------------------------------


def test_exposure_routed_through_pipeline_and_split_per_fold():
    X, y, exposure = make_data(n=200, p=5, seed=20)
    cv = KFold(4)
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = (
            PoissonLNPRegressor().set_fit_request(exposure=True).set_score_request(exposure=True)
        )
        pipe = make_pipeline(StandardScaler(), estimator)
        scores = cross_val_score(pipe, X, y, params={"exposure": exposure}, cv=cv)
    manual = []
    for train, test in cv.split(X):
        scaler = StandardScaler().fit(X[train])
        model = PoissonLNPRegressor().fit(
            scaler.transform(X[train]), y[train], exposure=exposure[train]
        )
        manual.append(model.score(scaler.transform(X[test]), y[test], exposure=exposure[test]))
    np.testing.assert_allclose(scores, manual, rtol=1e-10)
    # Exposure matters: ignoring it gives other scores (so it really was used).
    without = [
        PoissonLNPRegressor()
        .fit(StandardScaler().fit_transform(X[train]), y[train])
        .score(StandardScaler().fit(X[train]).transform(X[test]), y[test])
        for train, test in cv.split(X)
    ]
    assert not np.allclose(scores, without, rtol=1e-3)


# -- bad input --------------------------------------------------------------------


def _names(message: str, argument: str) -> bool:
    return re.search(rf"(?<![A-Za-z_]){re.escape(argument)}(?![A-Za-z_])", message) is not None


_bad_value = st.sampled_from([np.nan, np.inf, -np.inf])
_small = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_small
@given(bad=_bad_value, row=st.integers(0, 29), col=st.integers(0, 3))
def test_non_finite_X_raises_naming_X(bad, row, col):
    X, y, _ = make_data(n=30, p=4)
    X[row, col] = bad
    with pytest.raises(ValueError) as info:
        PoissonLNPRegressor().fit(X, y)
    assert _names(str(info.value), "X")


@_small
@given(bad=_bad_value, row=st.integers(0, 29))
def test_non_finite_y_raises_naming_y(bad, row):
    X, y, _ = make_data(n=30, p=4)
    y[row] = bad
    with pytest.raises(ValueError) as info:
        PoissonLNPRegressor().fit(X, y)
    assert _names(str(info.value), "y")


@_small
@given(value=st.floats(max_value=-1e-300, allow_infinity=False), row=st.integers(0, 29))
def test_negative_counts_raise_naming_y(value, row):
    X, y, _ = make_data(n=30, p=4)
    y[row] = value
    with pytest.raises(ValueError, match="non-negative") as info:
        PoissonLNPRegressor().fit(X, y)
    assert _names(str(info.value), "y")


@_small
@given(
    n_y=st.integers(1, 40),
    n_exposure=st.integers(1, 40),
    n_weight=st.integers(1, 40),
    which=st.sampled_from(["y", "exposure", "sample_weight"]),
)
@example(n_y=30, n_exposure=1, n_weight=1, which="y")  # y one longer than X
@example(n_y=1, n_exposure=30, n_weight=1, which="exposure")
@example(n_y=1, n_exposure=1, n_weight=30, which="sample_weight")
def test_mismatched_lengths_raise_naming_the_argument(n_y, n_exposure, n_weight, which):
    n = 30
    X, y, exposure = make_data(n=max(n + 1, n_y, n_exposure, n_weight), p=4)
    lengths = {"y": n, "exposure": n, "sample_weight": n}
    lengths[which] = {"y": n_y, "exposure": n_exposure, "sample_weight": n_weight}[which]
    if lengths[which] == n:
        lengths[which] = n + 1
    with pytest.raises(ValueError) as info:
        PoissonLNPRegressor().fit(
            X[:n],
            y[: lengths["y"]],
            sample_weight=np.ones(lengths["sample_weight"]),
            exposure=exposure[: lengths["exposure"]],
        )
    assert _names(str(info.value), which)


@_small
@given(
    value=st.one_of(st.floats(max_value=0.0), st.sampled_from([np.nan, np.inf])),
    row=st.integers(0, 29),
)
def test_non_positive_or_non_finite_exposure_raises_naming_exposure(value, row):
    X, y, exposure = make_data(n=30, p=4)
    exposure[row] = value
    with pytest.raises(ValueError) as info:
        PoissonLNPRegressor().fit(X, y, exposure=exposure)
    assert _names(str(info.value), "exposure")
    model = PoissonLNPRegressor().fit(X, y)
    with pytest.raises(ValueError) as info:
        model.predict(X, exposure=exposure)
    assert _names(str(info.value), "exposure")


def test_bad_exposure_shape_and_scalar():
    X, y, exposure = make_data(n=30, p=4)
    with pytest.raises(ValueError, match="exposure"):
        PoissonLNPRegressor().fit(X, y, exposure=exposure[:, None].repeat(2, axis=1))
    with pytest.raises(ValueError, match="exposure"):
        PoissonLNPRegressor().fit(X, y, exposure=-1.0)
    model = PoissonLNPRegressor().fit(X, y)
    with pytest.raises(ValueError, match="exposure"):
        model.predict(X, exposure=exposure[:10])


def test_no_spikes_raises_instead_of_returning_zeros():
    X, y, _ = make_data(n=30, p=4)
    with pytest.raises(ValueError, match="y"):
        PoissonLNPRegressor().fit(X, np.zeros_like(y))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"alpha": -1.0}, "alpha"),
        ({"solver": "sgd"}, "solver"),
        ({"tol": 0.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_parameters_raise_naming_them(params, name):
    X, y, _ = make_data(n=30, p=4)
    with pytest.raises(ValueError, match=name):
        PoissonLNPRegressor(**params).fit(X, y)


@pytest.mark.parametrize("solver", ["newton-cholesky", "lbfgs", "auto"])
def test_first_step_far_beyond_the_optimum_is_backtracked(solver):
    # Large counts and no intercept: the first Newton step from w = 0 puts the
    # linear predictor near 100 (phi(1) ~ 1e40), where Newton on phi' alone
    # creeps back by ~1/max|Xd| per evaluation. The line search must still find
    # the decrease, and the fit must reach the scikit-learn optimum.
    # The data of scikit-learn's regressor checks, made positive as they do.
    X, y = make_regression(
        n_samples=200, n_features=10, n_informative=1, bias=5.0, noise=20, random_state=42
    )
    X = StandardScaler().fit_transform(X)
    y += 1 + abs(y.min())
    model = PoissonLNPRegressor(alpha=0.1, fit_intercept=False, solver=solver).fit(X, y)
    assert model.optimality_ <= model.tol
    reference = PoissonRegressor(
        alpha=0.1, fit_intercept=False, solver="newton-cholesky", tol=1e-12, max_iter=1000
    ).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6, atol=1e-8)
