"""Issue 13: exposure that cannot be silently lost.

A model fitted with exposure other than 1 (uneven, or a constant c != 1) records it
(``exposure_required_``); ``score`` without exposure then raises, ``predict`` without it
warns (``ExposureWarning``), each naming the fix; without exposure, or with exposure 1,
nothing changes.  Every estimator follows the one rule of ``linear_model._base``.
"""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, KFold, cross_val_predict
from sklearn.pipeline import make_pipeline

from sklearn_lnp import (
    LagTransformer,
    LassoLNPCV,
    LassoLNPRegressor,
    PoissonLNPRegressor,
    STAEstimator,
    SVDSeparator,
)
from sklearn_lnp.exceptions import ExposureWarning
from sklearn_lnp.metrics import get_scorer

FIX = "sklearn.set_config(enable_metadata_routing=True); model.set_fit_request(exposure=True)"
GRID = {"poissonlnpregressor__alpha": [0.01, 100.0]}


@pytest.fixture(scope="module")
def neuron():
    """Simulated neuron with bins of unequal width (0.1 to 2): counts ~ e * exp(X w + b)."""
    rng = np.random.default_rng(0)
    n = 600
    X = rng.normal(size=(n, 4))
    e = rng.uniform(0.1, 2.0, size=n)
    y = rng.poisson(e * np.exp(X @ np.array([0.5, -0.3, 0.0, 0.2]) + 0.5)).astype(float)
    return X, y, e


def _pipe():
    return make_pipeline(LagTransformer(lags=range(2)), PoissonLNPRegressor())


def test_fit_records_whether_exposure_is_required(neuron):
    X, y, e = neuron
    assert PoissonLNPRegressor().fit(X, y, exposure=e).exposure_required_ is True
    assert PoissonLNPRegressor().fit(X, y, exposure=0.5).exposure_required_ is True
    assert PoissonLNPRegressor().fit(X, y, exposure=1.0).exposure_required_ is False
    assert PoissonLNPRegressor().fit(X, y).exposure_required_ is False


def test_score_without_exposure_raises_with_the_fix(neuron):
    X, y, e = neuron
    model = PoissonLNPRegressor().fit(X, y, exposure=e)
    with pytest.raises(ValueError, match="score got none") as info:
        model.score(X, y)
    assert FIX in str(info.value) and "model.score(X, y, exposure=e)" in str(info.value)
    assert model.score(X, y, exposure=e) > 0.05


def test_predict_without_exposure_warns_with_the_fix_and_returns_the_rate(neuron):
    X, y, e = neuron
    model = PoissonLNPRegressor().fit(X, y, exposure=e)
    with pytest.warns(ExposureWarning, match="model.predict\\(X, exposure=e\\)") as record:
        rate = model.predict(X)
    assert FIX in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(model.predict(X, exposure=e), e * rate)


@pytest.mark.parametrize("exposure", [None, 1.0])
def test_no_exposure_or_exposure_one_changes_nothing(neuron, exposure):
    X, y, _ = neuron
    model = PoissonLNPRegressor().fit(X, y, exposure=exposure)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rate = model.predict(X)
        assert np.isfinite(model.score(X, y))
        assert np.isfinite(get_scorer("d2_poisson")(model, X, y))
    np.testing.assert_allclose(model.predict(X, exposure=2.0), 2.0 * rate)


def test_search_without_routing_no_longer_scores_silently(neuron):
    """Fit param only, no routing: every score fails with the fix (was a silent D^2 < 0)."""
    X, y, e = neuron
    search = GridSearchCV(_pipe(), GRID, cv=KFold(3))
    with pytest.warns(UserWarning, match="Scoring failed") as record:
        search.fit(X, y, poissonlnpregressor__exposure=e)
    assert any(FIX in str(w.message) for w in record)
    assert np.all(np.isnan(search.cv_results_["mean_test_score"]))
    strict = GridSearchCV(_pipe(), GRID, cv=KFold(3), error_score="raise")
    with pytest.raises(ValueError, match="score got none"):
        strict.fit(X, y, poissonlnpregressor__exposure=e)


def test_routing_with_only_the_fit_request_scores_counts(neuron):
    """The former NaN path: score now requests exposure by default, so it is the recipe."""
    X, y, e = neuron
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            LagTransformer(lags=range(2)), PoissonLNPRegressor().set_fit_request(exposure=True)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            search = GridSearchCV(pipe, GRID, cv=KFold(3)).fit(X, y, exposure=e)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    # the same numbers as scoring each fold by hand with its exposure
    expected = []
    for alpha in GRID["poissonlnpregressor__alpha"]:
        fold_scores = []
        for train, test in KFold(3).split(X):
            model = _pipe().set_params(poissonlnpregressor__alpha=alpha)
            model.fit(X[train], y[train], poissonlnpregressor__exposure=e[train])
            Z = model[:-1].transform(X[test])  # Pipeline.score passes no exposure unrouted
            fold_scores.append(model[-1].score(Z, y[test], exposure=e[test]))
        expected.append(np.mean(fold_scores))
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    assert search.best_params_ == {"poissonlnpregressor__alpha": 0.01}


def test_routing_with_score_request_unset_explicitly_raises_at_the_first_score(neuron):
    """Opting out of the default score request: the first score raises (error_score='raise')
    or fails with the fix, instead of a silent NaN."""
    X, y, e = neuron
    with sklearn.config_context(enable_metadata_routing=True):
        model = PoissonLNPRegressor().set_fit_request(exposure=True)
        model.set_score_request(exposure=False)
        search = GridSearchCV(model, {"alpha": [0.01, 1.0]}, cv=KFold(3), error_score="raise")
        with pytest.raises(ValueError, match="score got none"):
            search.fit(X, y, exposure=e)


def test_sklearn_poisson_deviance_scorer_warns_inside_grid_search(neuron):
    """scikit-learn's own scorers call predict(X): rates vs counts, now with a warning."""
    X, y, e = neuron
    search = GridSearchCV(_pipe(), GRID, cv=KFold(3), scoring="neg_mean_poisson_deviance")
    with pytest.warns(ExposureWarning, match="predict got none"):
        search.fit(X, y, poissonlnpregressor__exposure=e)


def test_cross_val_predict_warns_that_it_returns_rates(neuron):
    X, y, e = neuron
    with pytest.warns(ExposureWarning, match="predict got none"):
        rates = cross_val_predict(PoissonLNPRegressor(), X, y, cv=KFold(3), params={"exposure": e})
    assert rates.shape == y.shape


def test_lnp_scorer_without_exposure_raises_with_the_fix(neuron):
    X, y, e = neuron
    model = _pipe().fit(X, y, poissonlnpregressor__exposure=e)
    scorer = get_scorer("bits_per_spike")
    with pytest.raises(ValueError, match="the scorer got none") as info:
        scorer(model, X, y)
    assert FIX in str(info.value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # predict's warning is not shown: exposure is applied
        assert np.isfinite(scorer(model, X, y, exposure=e))


@pytest.mark.slow  # 5-fold search over 5 alphas on 1500 columns
def test_real_neuron_grid_search_with_the_recipe_chooses_alpha_10(real_design):
    """Issue 13's case on the lab's neuron: with the recipe, alpha 10 is chosen.

    (Without routing every score now fails with the fix; before it was D^2 about -19
    at every alpha and alpha 3 was chosen.)
    """
    from sklearn_lnp import BlockedTimeSeriesSplit

    X, y, e = real_design.X, real_design.counts, real_design.exposure
    grid = {"poissonlnpregressor__alpha": [1.0, 3.0, 10.0, 30.0, 100.0]}
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            LagTransformer(lags=range(5)), PoissonLNPRegressor().set_fit_request(exposure=True)
        )
        search = GridSearchCV(pipe, grid, cv=BlockedTimeSeriesSplit(5, gap=4))
        search.fit(X, y, exposure=e)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_ == {"poissonlnpregressor__alpha": 10.0}


# -- every estimator, uneven and constant (c != 1) exposure ----------------------


def _estimators():
    """(name, fresh estimator, n_lags of its design) for each estimator with predict/score."""
    return [
        ("PoissonLNPRegressor", lambda: PoissonLNPRegressor(alpha=0.01)),
        ("LassoLNPRegressor", lambda: LassoLNPRegressor(alpha=0.001)),
        ("LassoLNPCV", lambda: LassoLNPCV(alphas=[0.01, 0.001], cv=3)),
        ("STAEstimator exp", lambda: STAEstimator()),
        ("STAEstimator binned", lambda: STAEstimator(nonlinearity="binned", n_bins=5)),
        ("SVDSeparator svd", lambda: SVDSeparator(n_lags=2)),
        ("SVDSeparator bilinear", lambda: SVDSeparator(n_lags=2, fit_method="bilinear")),
    ]


@pytest.fixture(scope="module")
def lagged(neuron):
    X, y, e = neuron
    return LagTransformer(lags=range(2)).fit_transform(X), y, e


@pytest.mark.parametrize("make", [m for _, m in _estimators()], ids=[n for n, _ in _estimators()])
@pytest.mark.parametrize("kind", ["uneven", "constant 0.25"])
def test_every_estimator_needs_the_exposure_it_was_fitted_with(lagged, make, kind):
    """Fitted with bin widths other than 1, counts need them: score raises, predict warns.

    Without exposure the prediction is the rate per unit of exposure, so for a
    constant exposure c the counts would be off by the factor c: the same rule
    as for uneven bins.
    """
    X, y, e = lagged
    exposure = e if kind == "uneven" else np.full(y.size, 0.25)
    model = make().fit(X, y, exposure=exposure)
    assert model.exposure_required_ is True
    with pytest.raises(ValueError, match="score got none") as info:
        model.score(X, y)
    assert FIX in str(info.value)
    with pytest.warns(ExposureWarning, match="predict got none") as record:
        rate = model.predict(X)
    assert FIX in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        counts = model.predict(X, exposure=exposure)
        assert np.isfinite(model.score(X, y, exposure=exposure))
    np.testing.assert_allclose(counts, exposure * rate)
    # the counts, not the rates, match the data's total (the MLE intercept fits it)
    assert 0.5 < counts.sum() / y.sum() < 2.0


@pytest.mark.parametrize("make", [m for _, m in _estimators()], ids=[n for n, _ in _estimators()])
@pytest.mark.parametrize("exposure", [None, 1.0])
def test_every_estimator_is_silent_without_exposure_or_with_exposure_one(lagged, make, exposure):
    X, y, _ = lagged
    model = make().fit(X, y, exposure=exposure)
    assert model.exposure_required_ is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rate = model.predict(X)
        assert np.isfinite(model.score(X, y))
    np.testing.assert_allclose(model.predict(X, exposure=2.0), 2.0 * rate)


def test_svd_separator_under_routing_records_the_exposure_its_estimator_received(lagged):
    X, y, e = lagged
    with sklearn.config_context(enable_metadata_routing=True):
        model = SVDSeparator(PoissonLNPRegressor().set_fit_request(exposure=True), n_lags=2)
        assert model.fit(X, y, exposure=e).exposure_required_ is True
        with pytest.raises(ValueError, match="score got none"):
            model.score(X, y)
        assert np.isfinite(model.score(X, y, exposure=e))


def test_exposure_warning_is_public_and_filterable_by_name(neuron):
    X, y, e = neuron
    model = PoissonLNPRegressor().fit(X, y, exposure=e)
    assert issubclass(ExposureWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=ExposureWarning)
        model.predict(X)
