"""Bad and extreme input to the metrics (and so to every ``score``): refused naming the argument.

Facts asserted: ``sample_weight`` is validated once for every metric and
score (shape, finite, non-negative, not all zero; a ``ValueError`` naming
it); complex or word input is refused naming the argument; D^2 <= 1 for
any finite non-negative input (or NaN when undefined); counts of 1e300
give finite answers without a numpy ``RuntimeWarning`` and totals beyond
float64 a ``ValueError`` naming the inputs; D^2 of an all-zero ``y`` is NaN
and its bits per spike a ``ValueError``; ``make_lnp_scorer`` refuses an
invalid argument when it is called.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_lnp import PoissonLNPRegressor
from sklearn_lnp.metrics import (
    LNPScorer,
    bits_per_spike,
    d2_poisson_score,
    get_scorer,
    make_lnp_scorer,
    poisson_deviance,
    poisson_log_likelihood,
)

METRICS = [poisson_log_likelihood, poisson_deviance, d2_poisson_score, bits_per_spike]
SCORERS = ["bits_per_spike", "d2_poisson", "poisson_log_likelihood", "neg_poisson_deviance"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = rng.poisson(np.exp(0.3 * X[:, 0] + 0.2)).astype(float)
    mu = np.exp(0.3 * X[:, 0] + 0.2)
    return X, y, mu


@pytest.fixture(scope="module")
def model(data):
    X, y, _ = data
    return PoissonLNPRegressor().fit(X, y)


# -- item 3: sample_weight ------------------------------------------------------


def _bad_weights(n):
    negative = np.ones(n)
    negative[0] = -50.0
    nan = np.ones(n)
    nan[3] = np.nan
    inf = np.ones(n)
    inf[3] = np.inf
    return {
        "negative": (negative, "non-negative"),
        "nan": (nan, "finite"),
        "inf": (inf, "finite"),
        "all zero": (np.zeros(n), "zero everywhere"),
        "short": (np.ones(n - 1), "length"),
        "2-d": (np.ones((n, 2)), "shape"),
        "scalar": (2.0, "scalar"),
        "complex": (np.ones(n) + 1j, "complex"),
        "words": (np.array(["a"] * n), "strings"),
    }


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("case", list(_bad_weights(200)))
def test_metrics_refuse_bad_sample_weight_naming_it(data, metric, case):
    _, y, mu = data
    weights, match = _bad_weights(200)[case]
    with pytest.raises(ValueError, match="sample_weight") as error:
        metric(y, mu, sample_weight=weights)
    assert match in str(error.value)
    assert "y_pred" not in str(error.value)  # the weights are not blamed on y_pred


@pytest.mark.parametrize("case", ["negative", "nan", "all zero"])
def test_score_refuses_bad_sample_weight_naming_it(data, model, case):
    X, y, _ = data
    weights, _ = _bad_weights(200)[case]
    with pytest.raises(ValueError, match="sample_weight"):
        model.score(X, y, sample_weight=weights)


@pytest.mark.parametrize("name", SCORERS)
def test_scorers_refuse_negative_sample_weight_naming_it(data, model, name):
    X, y, _ = data
    weights, _ = _bad_weights(200)["negative"]
    with pytest.raises(ValueError, match="sample_weight"):
        get_scorer(name)(model, X, y, sample_weight=weights)


@settings(max_examples=60, deadline=None)
@given(
    weights=arrays(np.float64, 20, elements=st.floats(-1e6, 1e6)),
    position=st.integers(0, 19),
    negative=st.floats(-1e300, -1e-300),
)
def test_any_weights_with_a_negative_entry_are_refused(weights, position, negative):
    weights[position] = negative
    y = np.arange(20.0) % 4
    for metric in METRICS:
        with pytest.raises(ValueError, match="sample_weight must be non-negative"):
            metric(y, np.full(20, 1.5), sample_weight=weights)


def test_weights_with_some_zeros_are_valid(data):
    _, y, mu = data
    weights = np.ones(200)
    weights[::2] = 0.0
    assert poisson_deviance(y, mu, sample_weight=weights) == pytest.approx(
        poisson_deviance(y[1::2], mu[1::2])
    )


# -- item 10: D^2 <= 1 -------------------------------------------------------------


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_d2_of_huge_constant_counts_is_not_above_one():
    d2 = d2_poisson_score(np.full(50, 1e300), np.full(50, 2.0))  # 4.6e18 before
    assert np.isnan(d2) or d2 <= 1.0


@settings(max_examples=200, deadline=None)
@given(
    y=arrays(
        np.float64, 12, elements=st.one_of(st.floats(0, 1e300), st.integers(0, 30).map(float))
    ),
    mu=arrays(np.float64, 12, elements=st.floats(0, 1e300)),
    weights=st.one_of(st.none(), arrays(np.float64, 12, elements=st.floats(0, 1e300))),
)
@pytest.mark.slow
def test_d2_is_at_most_one_for_any_finite_non_negative_input(y, mu, weights):
    try:
        d2 = d2_poisson_score(y, mu, sample_weight=weights)
    except ValueError as error:  # only refusals that name an argument
        assert any(name in str(error) for name in ("y_true", "y_pred", "sample_weight"))
        return
    assert np.isnan(d2) or d2 <= 1.0


@settings(max_examples=100, deadline=None)
@given(
    y=arrays(np.float64, 12, elements=st.floats(0, 1e300)),
    mu=arrays(np.float64, 12, elements=st.floats(0, 1e300)),
)
@pytest.mark.slow
def test_deviance_is_never_negative(y, mu):
    try:
        deviance = poisson_deviance(y, mu)
    except ValueError as error:
        assert "y_true" in str(error) and "y_pred" in str(error)
        return
    assert deviance >= 0.0


# -- items 16 and 18: huge values ---------------------------------------------------


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("big", [1e300, 1e306, 1.7e308])
@pytest.mark.parametrize(
    "where",
    ["y_true", "y_pred", "sample_weight", "y_true+y_pred", "y_true+sample_weight",
     "y_pred+sample_weight", "all y_true"],
)  # fmt: skip
def test_one_entry_of_1e300_gives_no_runtime_warning(data, metric, big, where):
    _, y, mu = data
    y, mu, weights = y.copy(), mu.copy(), np.ones(200)
    if where == "all y_true":
        y[:] = big
    if "y_true" in where.split("+"):
        y[5] = big
    if "y_pred" in where:
        mu[5] = big
    if "sample_weight" in where:
        weights[5] = big
    try:
        value = metric(y, mu, sample_weight=weights)
    except ValueError as error:  # refusals name the argument
        assert any(name in str(error) for name in ("y_true", "y_pred", "sample_weight"))
    else:  # D^2 and bits per spike may overflow to -inf (a ratio beyond float64)
        assert value != np.inf and (
            metric in (d2_poisson_score, bits_per_spike) or np.isfinite(value)
        )


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_huge_counts_give_finite_values():
    y, mu = np.full(50, 1e300), np.full(50, 2.0)
    assert np.isfinite(poisson_deviance(y, mu)) and poisson_deviance(y, mu) > 0
    assert np.isfinite(poisson_log_likelihood(y, mu)) and poisson_log_likelihood(y, mu) < 0
    # The model predicts 2 where the constant rate predicts 1e300: a large loss per spike.
    assert bits_per_spike(y, mu) < -100


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("metric", [poisson_log_likelihood, poisson_deviance])
def test_totals_beyond_float64_are_refused_naming_the_inputs(metric):
    y, mu = np.full(50, 1e307), np.full(50, 1e-300)
    with pytest.raises(ValueError, match="cannot be represented in float64") as error:
        metric(y, mu)
    assert "y_true" in str(error.value) and "y_pred" in str(error.value)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_huge_y_pred_is_a_finite_loss():
    y, mu = np.full(50, 2.0), np.full(50, 1e300)
    assert poisson_deviance(y, mu) == pytest.approx(2 * 50 * 1e300, rel=1e-12)
    assert d2_poisson_score(y + np.arange(50) % 2, mu) < -1e290


def test_impossible_counts_keep_their_infinite_values():
    assert poisson_log_likelihood([1.0, 0.0], [0.0, 1.0]) == -np.inf
    assert poisson_deviance([1.0, 0.0], [0.0, 1.0]) == np.inf
    assert d2_poisson_score([1.0, 0.0], [0.0, 1.0]) == -np.inf
    assert bits_per_spike([1.0, 0.0], [0.0, 1.0]) == -np.inf
    # ... unless the sample has weight 0.
    assert np.isfinite(poisson_deviance([1.0, 0.0], [0.0, 1.0], sample_weight=[0.0, 1.0]))


# -- item 17: arguments named ---------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize(
    "argument, value, match",
    [
        ("y_true", np.array(["a"] * 4), "strings"),
        ("y_true", np.array([1.0, 2.0, 0.2 + 1j, 0.0]), "complex"),
        ("y_true", np.array([1, "2", 3, 4], dtype=object), "str"),
        ("y_pred", np.array(["a"] * 4), "strings"),
        ("y_pred", np.array([1.0, 2.0, 0.2 + 1j, 1.0]), "complex"),
        ("y_pred", np.array([1.0, -2.0, 1.0, 1.0]), "non-negative"),
        ("y_pred", np.array([1.0, np.nan, 1.0, 1.0]), "finite"),
    ],
)
def test_words_and_complex_values_are_refused_naming_the_argument(metric, argument, value, match):
    arguments = {"y_true": np.array([0.0, 1.0, 3.0, 2.0]), "y_pred": np.ones(4)}
    arguments[argument] = value
    with pytest.raises(ValueError, match=argument) as error:
        metric(arguments["y_true"], arguments["y_pred"])
    assert match in str(error.value)


def test_complex_exposure_is_refused_naming_it():
    with pytest.raises(ValueError, match="exposure.*complex"):
        d2_poisson_score([0.0, 1.0, 3.0], [1.0, 1.0, 1.0], exposure=np.ones(3) + 1j)


# -- documented behaviours ----------------------------------------------------------


def test_all_zero_counts_have_undefined_d2_and_bits_per_spike(data, model):
    X, _, _ = data
    zeros = np.zeros(200)
    assert np.isnan(d2_poisson_score(zeros, np.full(200, 0.5)))
    assert np.isnan(model.score(X, zeros))  # score is D^2: NaN, documented
    with pytest.raises(ValueError, match="at least one spike in y_true"):
        bits_per_spike(zeros, np.full(200, 0.5))
    # The log-likelihood and deviance stay defined.
    assert poisson_deviance(zeros, np.full(200, 0.5)) == pytest.approx(200.0)


def test_counts_proportional_to_exposure_have_undefined_d2():
    exposure = np.array([0.1, 0.2, 0.3])
    assert np.isnan(d2_poisson_score(10 * exposure, [1.0, 2.0, 4.0], exposure=exposure))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"score_func": "bits_per_spike"}, "score_func.*get_scorer"),
        ({"score_func": None}, "score_func must be a callable"),
        ({"score_func": lambda y_true, y_pred: 0.0}, "score_func.*sample_weight"),
        ({"score_func": bits_per_spike, "greater_is_better": "no"}, "greater_is_better"),
        ({"score_func": bits_per_spike, "greater_is_better": 1}, "greater_is_better"),
    ],
)
def test_make_lnp_scorer_refuses_invalid_arguments_when_called(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_lnp_scorer(**kwargs)


def test_lnp_scorer_refuses_a_non_callable_and_a_bool_sign():
    with pytest.raises(ValueError, match="score_func"):
        LNPScorer(42)
    with pytest.raises(ValueError, match="sign"):
        LNPScorer(bits_per_spike, sign=True)


def test_scorer_with_word_counts_names_y_true(data, model):
    X, _, _ = data
    with pytest.raises(ValueError, match="y_true"):
        get_scorer("d2_poisson")(model, X, np.array(["a"] * 200))
