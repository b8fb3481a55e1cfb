"""Bad input to the L1 estimators and the path (issue 18, estimator side).

Each test failed on ``main`` before its fix: ``score`` reshaped a wrong
layout of ``y``; ``lasso_lnp_path`` validated none of its arguments; an
empty working set crashed in ``dsyrk``; huge counts or X entries raised
numpy RuntimeWarnings (errors under pytest).
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_lnp import LassoLNPRegressor, PoissonLNPRegressor, lasso_lnp_path
from sklearn_lnp.linear_model import LassoLNPCV


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = rng.poisson(np.exp(0.3 * X[:, 0] + 0.2)).astype(float)
    Y = rng.poisson(np.exp(0.3 * X[:, :3] + 0.2)).astype(float)
    return X, y, Y


# -- item 2: score of a population model takes y of shape (n, k) only ---------
@pytest.mark.parametrize("layout", ["transposed", "flat"])
def test_population_score_refuses_wrong_layout(data, layout):
    X, _, Y = data
    model = LassoLNPRegressor(alpha=0.01).fit(X, Y)
    bad = Y.T if layout == "transposed" else Y.ravel()
    with pytest.raises(ValueError, match=r"y must have shape .*\(200, 3\).*got y of shape"):
        model.score(X, bad)
    assert np.isfinite(model.score(X, Y))


@pytest.mark.parametrize(
    "make",
    [
        lambda: PoissonLNPRegressor(alpha=0.0),
        lambda: LassoLNPRegressor(alpha=0.01),
        lambda: LassoLNPCV(alphas=4, cv=3),
    ],
    ids=["poisson", "lasso", "lasso_cv"],
)
def test_column_y_is_a_population_of_one(data, make):
    """y of shape (n, 1): 2-d attributes and predictions, score takes (n, 1) only."""
    X, y, _ = data
    column = make().fit(X, y[:, None])
    single = make().fit(X, y)
    assert column.coef_.shape == (1, X.shape[1])
    assert np.shape(column.intercept_) == (1,)
    assert column.predict(X).shape == (X.shape[0], 1)
    assert single.coef_.shape == (X.shape[1],)
    np.testing.assert_allclose(column.coef_[0], single.coef_, rtol=1e-6, atol=1e-8)
    assert column.score(X, y[:, None]) == pytest.approx(single.score(X, y), rel=1e-6)
    with pytest.raises(ValueError, match=r"y must have shape"):
        column.score(X, y)


# -- item 8: lasso_lnp_path validates every argument ---------------------------
@pytest.mark.parametrize(
    "name, value",
    [
        ("fit_intercept", "no"),
        ("tol", 0),
        ("tol", -1.0),
        ("tol", "small"),
        ("max_iter", 0),
        ("max_iter", 2.5),
        ("verbose", -1),
        ("verbose", "loud"),
        ("n_alphas", 0),
        ("eps", 1.5),
        ("exposure", -1.0),
    ],
)
def test_path_validates_arguments(data, name, value):
    X, y, _ = data
    with pytest.raises((ValueError, TypeError), match=f"'{name}' parameter of lasso_lnp_path"):
        lasso_lnp_path(X, y, **{"n_alphas": 3, name: value})


# -- item 13: an empty working set is an intercept-only step -------------------
def test_lasso_constant_huge_counts_no_crash(data):
    """Every weight optimal at 0 and only the intercept to move: no dsyrk crash."""
    X, _, _ = data
    with warnings.catch_warnings():
        # the absolute KKT tolerance is below the round-off of counts of 1e9
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LassoLNPRegressor(alpha=1.0).fit(X, np.full(200, 1e9))
    np.testing.assert_array_equal(model.coef_, 0.0)
    assert model.intercept_ == pytest.approx(np.log(1e9), rel=1e-9)


# -- items 16/18: values beyond float64's reach are refused, naming them -------
@pytest.mark.parametrize(
    "estimator",
    [
        LassoLNPRegressor(alpha=0.01),
        LassoLNPCV(alphas=3, cv=3),
        "path",
    ],
    ids=["lasso", "lasso_cv", "path"],
)
@pytest.mark.parametrize("where", ["X", "y"])
def test_huge_values_refused_naming_argument(data, estimator, where):
    X, y, _ = data
    X, y = X.copy(), y.copy()
    if where == "X":
        X[0, 0] = 1e300
    else:
        y[0] = 1e300
    with pytest.raises(ValueError, match=rf"^{where} "):
        if estimator == "path":
            lasso_lnp_path(X, y, n_alphas=3)
        else:
            estimator.fit(X, y)


def test_large_counts_within_limit_compute_safely(data):
    """Counts up to 2**53 run without numpy RuntimeWarnings (errors under pytest)."""
    X, y, _ = data
    y = y.copy()
    y[0] = 1e12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LassoLNPRegressor(alpha=0.01).fit(X, y)
    assert np.all(np.isfinite(model.coef_)) and np.isfinite(model.intercept_)


# -- item 11: tiny alpha with p >= n: a warning, bounded work per step ----------
def _wide_problem():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 60))
    y = rng.poisson(np.exp(0.3 * X[:, 0] + 0.2)).astype(float)
    return X, y


def test_tiny_alpha_wide_design_warns_and_stops():
    X, y = _wide_problem()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = LassoLNPRegressor(alpha=1e-6, max_iter=5).fit(X, y)
    user = [str(w.message) for w in record if w.category is UserWarning]
    assert len(user) == 1 and "nearly the unpenalised" in user[0]
    messages = [str(w.message) for w in record if issubclass(w.category, ConvergenceWarning)]
    assert messages and "optimality" in messages[0]
    assert model.n_iter_ == 5


def test_tiny_alpha_path_warns():
    X, y = _wide_problem()
    with pytest.warns(UserWarning, match="nearly the unpenalised"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            lasso_lnp_path(X, y, alphas=[1e-2, 1e-7], max_iter=3)


def test_moderate_alpha_wide_design_no_warning():
    X, y = _wide_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        LassoLNPRegressor(alpha=0.05).fit(X, y)


@pytest.mark.slow
def test_inner_work_per_step_is_bounded():
    """A nearly singular subproblem (p >= n, tiny alpha): sweeps capped per outer step."""
    from sklearn_lnp._objective import PoissonObjective
    from sklearn_lnp._penalties import L1
    from sklearn_lnp._solvers._prox_newton import inner_budget, prox_newton

    X, y = _wide_problem()
    objective = PoissonObjective(X, y[:, None], None, np.ones(X.shape[0]))
    penalty = L1(1e-9)
    start = prox_newton(objective, penalty, objective.initial_params(), max_iter=15)
    fit = prox_newton(objective, penalty, None, max_iter=5, previous=start)
    largest = inner_budget(X.shape[1] + 1)[0]
    assert fit.n_iter[0] <= 5
    assert fit.n_sweeps[0] <= 5 * largest
    assert inner_budget(10) == (20000, 64)
    assert inner_budget(1500) == (100, 2)


@pytest.mark.slow
def test_real_lagged_design_tiny_alpha_is_bounded(real_design, real_lagged_X):
    """The lab's 5-lag design (1488 x 1500), alpha 1e-6: was ~20 min; now bounded steps."""
    import time

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = LassoLNPRegressor(alpha=1e-6, max_iter=50).fit(
            real_lagged_X, real_design.counts, exposure=real_design.exposure
        )
    elapsed = time.perf_counter() - start
    categories = {w.category for w in record}
    assert UserWarning in categories  # nearly unpenalised with p >= n
    assert ConvergenceWarning in categories or model.optimality_ <= 1e-8
    assert elapsed < 60.0, elapsed  # ~20 s on one core: 50 bounded steps (was ~20 min)


# -- item 7: complete separation (the MLE does not exist) with n > p -----------
def _one_spike(row):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = np.zeros(200)
    y[row] = 1.0
    return X, y


# row 39 has the largest norm: a vertex of the rows' convex hull, separable;
# row 0 is inside it (the MLE exists)
@pytest.mark.parametrize("alpha", [0.0, 1e-6])
def test_separation_warns(alpha):
    X, y = _one_spike(39)
    with pytest.warns(UserWarning, match="does not exist"):
        LassoLNPRegressor(alpha=alpha).fit(X, y)


def test_separation_warning_names_population_columns():
    X, y = _one_spike(39)
    _, inside = _one_spike(0)
    with pytest.warns(UserWarning, match=r"does not exist for y columns \[1\]"):
        LassoLNPRegressor(alpha=0.0).fit(X, np.column_stack([inside, y]))


@pytest.mark.parametrize("row, alpha", [(0, 0.0), (39, 1e-3)])
def test_no_separation_warning_when_mle_exists_or_alpha_moderate(row, alpha):
    X, y = _one_spike(row)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        LassoLNPRegressor(alpha=alpha).fit(X, y)


# -- item 12: the bilinear separation with huge counts or one huge X entry -----
def test_bilinear_counts_scaled_by_1e9_is_fast_and_equivariant(data):
    """Counts x 1e9: the same RF, intercept + log(1e9) (was 20-110 s, unconverged)."""
    from sklearn_lnp.decomposition import SVDSeparator

    X, y, _ = data
    X = X.copy()
    reference = SVDSeparator(n_lags=2, fit_method="bilinear").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        scaled = SVDSeparator(n_lags=2, fit_method="bilinear").fit(X, y * 1e9)
    np.testing.assert_allclose(scaled.coef_, reference.coef_, rtol=1e-5, atol=1e-7)
    assert scaled.intercept_ == pytest.approx(reference.intercept_ + np.log(1e9), rel=1e-7)
    assert scaled.n_iter_ <= 2 * reference.n_iter_ + 2


def test_bilinear_constant_huge_counts(data):
    from sklearn_lnp.decomposition import SVDSeparator

    X, _, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the all-zero RF has no SVD
        model = SVDSeparator(n_lags=2, fit_method="bilinear").fit(X, np.full(200, 1e9))
    np.testing.assert_allclose(model.coef_, 0.0, atol=1e-6)
    assert model.intercept_ == pytest.approx(np.log(1e9), rel=1e-9)


@pytest.mark.parametrize("fit_method", ["bilinear", "svd"])
def test_separator_refuses_huge_x(data, fit_method):
    from sklearn_lnp.decomposition import SVDSeparator

    X, y, _ = data
    X = X.copy()
    X[0, 0] = 1e300
    with pytest.raises(ValueError, match="^X has an entry"):
        SVDSeparator(n_lags=2, fit_method=fit_method).fit(X, y)


def test_tiny_alpha_cv_grid_warns():
    X, y = _wide_problem()
    with pytest.warns(UserWarning, match="nearly the unpenalised"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            LassoLNPCV(alphas=[1e-2, 1e-7], cv=2, max_iter=3).fit(X, y)
