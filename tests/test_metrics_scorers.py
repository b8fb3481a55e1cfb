"""Exposure-aware scorers: values, metadata routing through GridSearchCV and pipelines."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from _problems import lagged_separable_neuron
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline

from sklearn_lnp import BlockedTimeSeriesSplit, LagTransformer, PoissonLNPRegressor, SVDSeparator
from sklearn_lnp.metrics import (
    LNPScorer,
    bits_per_spike,
    d2_poisson_score,
    get_scorer,
    get_scorer_names,
    make_lnp_scorer,
    poisson_deviance,
    poisson_log_likelihood,
)


@pytest.fixture(scope="module")
def data():
    # unequal bin widths, as in the lab's data
    nr = lagged_separable_neuron(900, (4, 4), seed=0, exposure=(0.1, 0.3), exposure_seed=0)
    model = PoissonLNPRegressor(alpha=0.01).fit(nr.X, nr.counts, exposure=nr.exposure)
    return nr.stimulus, nr.X, nr.counts, nr.exposure, model


def test_each_scorer_equals_its_metric_on_expected_counts(data):
    _, X, y, e, model = data
    mu = model.predict(X, exposure=e)
    expected = {
        "bits_per_spike": bits_per_spike(y, mu, exposure=e),
        "d2_poisson": d2_poisson_score(y, mu, exposure=e),
        "poisson_log_likelihood": poisson_log_likelihood(y, mu) / y.size,
        "neg_poisson_deviance": -poisson_deviance(y, mu),
    }
    assert sorted(expected) == get_scorer_names()
    for name, value in expected.items():
        np.testing.assert_allclose(get_scorer(name)(model, X, y, exposure=e), value, rtol=1e-12)
    # The D^2 scorer is the estimator's own score.
    np.testing.assert_allclose(
        get_scorer("d2_poisson")(model, X, y, exposure=e), model.score(X, y, exposure=e)
    )
    w = np.random.default_rng(1).uniform(0, 2, size=y.size)
    np.testing.assert_allclose(
        get_scorer("bits_per_spike")(model, X, y, exposure=e, sample_weight=w),
        bits_per_spike(y, mu, exposure=e, sample_weight=w),
    )


def test_sklearn_make_scorer_would_score_rates_not_counts(data):
    # Why LNPScorer exists: sklearn's scorer predicts without exposure (spikes/s).
    _, X, y, e, model = data
    with sklearn.config_context(enable_metadata_routing=True):
        naive = make_scorer(bits_per_spike).set_score_request(exposure=True)
        wrong = naive(model, X, y, exposure=e)
    right = get_scorer("bits_per_spike")(model, X, y, exposure=e)
    assert right > 0 > wrong


def test_make_lnp_scorer_signs(data):
    _, X, y, e, model = data
    loss = make_lnp_scorer(poisson_deviance, greater_is_better=False)
    assert isinstance(loss, LNPScorer)
    np.testing.assert_allclose(
        loss(model, X, y, exposure=e), -poisson_deviance(y, model.predict(X, exposure=e))
    )
    with pytest.raises(ValueError, match="sign"):
        LNPScorer(poisson_deviance, sign=2)
    with pytest.raises(ValueError, match="Unknown scorer"):
        get_scorer("r2")


def test_get_scorer_returns_fresh_objects():
    first = get_scorer("bits_per_spike").set_score_request(exposure=False)
    assert get_scorer("bits_per_spike")._requests["exposure"] is True
    assert first._requests["exposure"] is False


def _manual_fold_scores(X, y, e, alpha, cv, name):
    scores = []
    for train, test in cv.split(X):
        model = PoissonLNPRegressor(alpha=alpha).fit(X[train], y[train], exposure=e[train])
        scores.append(get_scorer(name)(model, X[test], y[test], exposure=e[test]))
    return np.array(scores)


def test_grid_search_routes_exposure_to_fit_and_scorer(data):
    _, X, y, e, _ = data
    cv = BlockedTimeSeriesSplit(3, gap=4)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            PoissonLNPRegressor().set_fit_request(exposure=True),
            {"alpha": [0.01, 1.0]},
            cv=cv,
            scoring={
                "bits": get_scorer("bits_per_spike"),
                "ll": get_scorer("poisson_log_likelihood"),
            },
            refit="bits",
        ).fit(X, y, exposure=e)
    for k, alpha in enumerate([0.01, 1.0]):
        manual = _manual_fold_scores(X, y, e, alpha, cv, "bits_per_spike")
        got = [search.cv_results_[f"split{i}_test_bits"][k] for i in range(3)]
        np.testing.assert_allclose(got, manual, rtol=1e-7)
    assert search.cv_results_["mean_test_bits"][0] > 0  # a real RF predicts held-out spikes


def test_pipeline_and_meta_estimator_in_cross_validate(data):
    stimulus, X, y, e, _ = data
    cv = BlockedTimeSeriesSplit(3, gap=4)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            LagTransformer(), PoissonLNPRegressor(alpha=0.01).set_fit_request(exposure=True)
        )
        separable = SVDSeparator(PoissonLNPRegressor(alpha=0.01).set_fit_request(exposure=True))
        scoring = get_scorer("bits_per_spike")
        joint = cross_validate(pipe, stimulus, y, cv=cv, scoring=scoring, params={"exposure": e})
        rank1 = cross_validate(separable, X, y, cv=cv, scoring=scoring, params={"exposure": e})
    assert np.all(joint["test_score"] > 0) and np.all(rank1["test_score"] > 0)
    # The simulated RF is separable: the rank-1 model predicts at least as well as the full one
    # on held-out blocks (fewer noisy parameters), up to 0.01 bit per spike.
    assert rank1["test_score"].mean() > joint["test_score"].mean() - 0.01


def test_sample_weight_needs_an_explicit_request(data):
    _, X, y, e, _ = data
    w = np.ones_like(y)
    with sklearn.config_context(enable_metadata_routing=True):
        est = PoissonLNPRegressor().set_fit_request(exposure=True, sample_weight=True)
        with pytest.raises(Exception, match="sample_weight"):
            cross_validate(
                est,
                X,
                y,
                cv=BlockedTimeSeriesSplit(3),
                scoring=get_scorer("d2_poisson"),
                params={"exposure": e, "sample_weight": w},
            )
        scorer = get_scorer("d2_poisson").set_score_request(sample_weight=True)
        out = cross_validate(
            est,
            X,
            y,
            cv=BlockedTimeSeriesSplit(3),
            scoring=scorer,
            params={"exposure": e, "sample_weight": w},
        )
    assert np.all(np.isfinite(out["test_score"]))


def test_missing_exposure_raises_when_predictions_are_rates(data):
    # issue 13: a model fitted with non-constant exposure is never scored without it
    _, X, y, e, model = data
    with pytest.raises(ValueError, match="enable_metadata_routing=True"):
        get_scorer("bits_per_spike")(model, X, y)
    unit = PoissonLNPRegressor().fit(X, y)  # fitted without exposure: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_scorer("bits_per_spike")(unit, X, y)


# -- bits_per_spike null= (issue 13: comparisons with error bars) ------------------


def _train_constant_model(X, y, e):
    """A model whose prediction is the training constant rate: coef 0, intercept log(rate)."""
    model = PoissonLNPRegressor(alpha=1e6).fit(X, y, exposure=e)
    model.coef_ = np.zeros_like(model.coef_)
    model.intercept_ = float(np.log(model.null_rate_))
    return model


def test_null_rate_is_the_training_rate(data):
    _, X, y, e, model = data
    assert np.isclose(model.null_rate_, y.sum() / e.sum())
    w = np.linspace(0.5, 2.0, y.shape[0])
    weighted = PoissonLNPRegressor().fit(X, y, exposure=e, sample_weight=w)
    assert np.isclose(weighted.null_rate_, (w @ y) / (w @ e))


def test_null_train_scores_the_training_constant_zero_on_any_block(data):
    _, X, y, e, _ = data
    half = y.shape[0] // 2
    model = _train_constant_model(X[:half], y[:half], e[:half])
    scorer = get_scorer("bits_per_spike", null="train")
    for block in (slice(0, half), slice(half, None), slice(10, 60)):
        assert abs(scorer(model, X[block], y[block], exposure=e[block])) < 1e-12
        direct = bits_per_spike(
            y[block],
            model.predict(X[block], exposure=e[block]),
            exposure=e[block],
            null=model.null_rate_,
        )
        assert abs(direct) < 1e-12
    # the default null (the block's own rate) is not 0 for that model on the test half
    assert get_scorer("bits_per_spike")(model, X[half:], y[half:], exposure=e[half:]) < 0


@pytest.mark.parametrize("null", ["train", 0.37])
def test_null_scorer_equals_a_direct_computation(data, null):
    _, X, y, e, _ = data
    half = y.shape[0] // 2
    model = PoissonLNPRegressor(alpha=0.01).fit(X[:half], y[:half], exposure=e[:half])
    Xt, yt, et = X[half:], y[half:], e[half:]
    rate = model.null_rate_ if null == "train" else null
    mu = model.predict(Xt, exposure=et)
    ll = np.sum(yt * np.log(mu) - mu)
    ll0 = np.sum(yt * np.log(rate * et) - rate * et)
    expected = (ll - ll0) / (yt.sum() * np.log(2.0))
    assert np.isclose(bits_per_spike(yt, mu, exposure=et, null=rate), expected)
    scorer = get_scorer("bits_per_spike", null=null)
    assert np.isclose(scorer(model, Xt, yt, exposure=et), expected)
    # null="test" is today's default
    assert bits_per_spike(yt, mu, exposure=et, null="test") == bits_per_spike(yt, mu, exposure=et)


@pytest.mark.parametrize("null", ["train", -1.0, 0.0, np.nan, "mean", True])
def test_bits_per_spike_rejects_bad_null(null):
    y = np.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="null must be 'test' or a positive finite rate"):
        bits_per_spike(y, np.ones(3), null=null)


def test_null_scorer_options_are_checked_when_made():
    with pytest.raises(ValueError, match="null must be"):
        get_scorer("bits_per_spike", null=-2.0)
    with pytest.raises(ValueError, match="needs a score_func taking null"):
        get_scorer("d2_poisson", null="train")


def test_null_train_in_cross_validate_reads_each_folds_training_rate(data):
    _, X, y, e, _ = data
    cv = BlockedTimeSeriesSplit(3, gap=0)
    with sklearn.config_context(enable_metadata_routing=True):
        model = PoissonLNPRegressor(alpha=0.01).set_fit_request(exposure=True)
        scores = cross_validate(
            model,
            X,
            y,
            cv=cv,
            scoring=get_scorer("bits_per_spike", null="train"),
            params={"exposure": e},
            return_estimator=True,
        )
    for (train, test), fitted, score in zip(
        cv.split(X), scores["estimator"], scores["test_score"], strict=True
    ):
        direct = bits_per_spike(
            y[test],
            fitted.predict(X[test], exposure=e[test]),
            exposure=e[test],
            null=y[train].sum() / e[train].sum(),
        )
        assert np.isclose(score, direct)
