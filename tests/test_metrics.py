"""The four Poisson goodness-of-fit metrics, against independent definitions.

Facts asserted: the log-likelihood is the sum of ``scipy.stats.poisson``
log-pmfs; the deviance is scikit-learn's ``mean_poisson_deviance`` times the
weight total and twice the log-likelihood gap to the saturated model; D^2 is
scikit-learn's ``d2_tweedie_score(power=1)`` without exposure, 0 for the
constant-rate null model and 1 for a perfect prediction; bits per spike is
the log-likelihood gain over the null model in bits per spike, linked to D^2
by ``LL - LL0 = (D0 - D) / 2``; bad input raises a ``ValueError`` naming it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import poisson
from sklearn.metrics import d2_tweedie_score, mean_poisson_deviance

from sklearn_lnp.metrics import (
    bits_per_spike,
    d2_poisson_score,
    poisson_deviance,
    poisson_log_likelihood,
)


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    exposure = rng.uniform(0.1, 0.3, n)
    rate = np.exp(rng.normal(2.5, 0.5, n))
    y_true = rng.poisson(exposure * rate).astype(float)
    y_pred = exposure * rate * rng.uniform(0.8, 1.2, n)  # an imperfect model
    weight = rng.uniform(0.5, 2.0, n)
    return y_true, y_pred, exposure, weight


@pytest.mark.parametrize("weighted", [False, True])
def test_log_likelihood_is_sum_of_poisson_logpmf(weighted):
    y, mu, _, w = _data()
    w = w if weighted else None
    expected = np.sum((1.0 if w is None else w) * poisson.logpmf(y, mu))
    assert poisson_log_likelihood(y, mu, sample_weight=w) == pytest.approx(expected, rel=1e-12)


def test_log_likelihood_zero_rate():
    assert poisson_log_likelihood([0.0, 0.0], [0.0, 1.0]) == pytest.approx(-1.0)
    assert poisson_log_likelihood([1.0], [0.0]) == -np.inf


@pytest.mark.parametrize("weighted", [False, True])
def test_deviance_matches_sklearn_and_saturated_gap(weighted):
    y, mu, _, w = _data(seed=1)
    w_arg = w if weighted else None
    total = y.size if w_arg is None else w.sum()
    deviance = poisson_deviance(y, mu, sample_weight=w_arg)
    expected = mean_poisson_deviance(y, mu, sample_weight=w_arg) * total
    assert deviance == pytest.approx(expected, rel=1e-12)
    saturated = poisson_log_likelihood(y, y, sample_weight=w_arg)
    model = poisson_log_likelihood(y, mu, sample_weight=w_arg)
    assert deviance == pytest.approx(2 * (saturated - model), rel=1e-10)
    # Exact: every term is xlogy(y, y) - xlogy(y, y) - y + y, which is 0.0 in floating point.
    assert poisson_deviance(y, y) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    y=arrays(np.float64, 20, elements=st.floats(0, 50)),
    mu=arrays(np.float64, 20, elements=st.floats(1e-3, 50)),
)
def test_deviance_is_non_negative_and_zero_only_at_y(y, mu):
    deviance = poisson_deviance(y, mu)
    assert deviance >= -1e-9 * (1 + np.sum(mu) + np.sum(y))
    assert poisson_deviance(y, np.where(y > 0, y, mu)) <= deviance + 1e-9 * (1 + deviance)


@pytest.mark.parametrize("weighted", [False, True])
def test_d2_matches_sklearn_without_exposure(weighted):
    y, mu, _, w = _data(seed=2)
    w = w if weighted else None
    assert d2_poisson_score(y, mu, sample_weight=w) == pytest.approx(
        d2_tweedie_score(y, mu, power=1, sample_weight=w), rel=1e-12
    )


def test_d2_null_model_is_zero_and_perfect_is_one():
    y, _, exposure, w = _data(seed=3)
    for weight in (None, w):
        s = np.ones_like(y) if weight is None else weight
        null = exposure * np.sum(s * y) / np.sum(s * exposure)
        assert d2_poisson_score(y, null, exposure=exposure, sample_weight=weight) == pytest.approx(
            0.0, abs=1e-12
        )
        # Exact: the deviance of mu = y is 0.0 term by term (above), so D^2 = 1 - 0 / D0.
        assert d2_poisson_score(y, y, exposure=exposure, sample_weight=weight) == 1.0
    # Any other constant-rate prediction does worse than the null model.
    assert d2_poisson_score(y, 1.3 * exposure * y.sum() / exposure.sum(), exposure=exposure) < 0


def test_d2_is_nan_when_the_null_model_is_perfect():
    assert np.isnan(d2_poisson_score([2.0, 2.0], [1.0, 3.0]))


def test_bits_per_spike_definition_and_link_to_d2():
    y, mu, exposure, _ = _data(seed=4)
    null = exposure * y.sum() / exposure.sum()
    gain = poisson.logpmf(y, mu).sum() - poisson.logpmf(y, null).sum()
    expected = gain / (y.sum() * np.log(2))
    assert bits_per_spike(y, mu, exposure=exposure) == pytest.approx(expected, rel=1e-10)
    assert bits_per_spike(y, null, exposure=exposure) == pytest.approx(0.0, abs=1e-12)
    # LL - LL0 = (D0 - D) / 2 = D^2 * D0 / 2.
    d0 = poisson_deviance(y, null)
    d2 = d2_poisson_score(y, mu, exposure=exposure)
    assert bits_per_spike(y, mu, exposure=exposure) == pytest.approx(
        d2 * d0 / 2 / (y.sum() * np.log(2)), rel=1e-10
    )


def test_bits_per_spike_sample_weight_is_repetition():
    y, mu, exposure, _ = _data(n=50, seed=5)
    repeats = np.random.default_rng(6).integers(0, 4, y.size)
    weighted = bits_per_spike(y, mu, exposure=exposure, sample_weight=repeats.astype(float))
    repeated = bits_per_spike(
        np.repeat(y, repeats), np.repeat(mu, repeats), exposure=np.repeat(exposure, repeats)
    )
    assert weighted == pytest.approx(repeated, rel=1e-12)


METRICS = [poisson_log_likelihood, poisson_deviance, d2_poisson_score, bits_per_spike]


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize(
    "y_true, y_pred, name",
    [
        ([1.0, -1.0], [1.0, 1.0], "y_true"),
        ([1.0, np.nan], [1.0, 1.0], "y_true"),
        ([1.0, 2.0], [1.0, -1.0], "y_pred"),
        ([1.0, 2.0], [1.0, np.inf], "y_pred"),
        ([1.0, 2.0], [1.0, 1.0, 1.0], "y_pred"),
    ],
)
def test_bad_values_raise_naming_the_argument(metric, y_true, y_pred, name):
    with pytest.raises(ValueError, match=name):
        metric(y_true, y_pred)


@pytest.mark.parametrize("metric", METRICS)
def test_bad_sample_weight_shape_raises(metric):
    with pytest.raises(ValueError, match="sample_weight"):
        metric([1.0, 2.0], [1.0, 1.0], sample_weight=[1.0])


@pytest.mark.parametrize("metric", [d2_poisson_score, bits_per_spike])
@pytest.mark.parametrize("exposure", [[1.0], [1.0, 0.0], [1.0, np.nan]])
def test_bad_exposure_raises(metric, exposure):
    with pytest.raises(ValueError, match="exposure"):
        metric([1.0, 2.0], [1.0, 1.0], exposure=exposure)


def test_bits_per_spike_needs_a_spike():
    with pytest.raises(ValueError, match="at least one spike"):
        bits_per_spike([0.0, 0.0], [1.0, 1.0], exposure=[1.0, 1.0])
