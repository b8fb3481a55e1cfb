"""``LassoLNPCV`` with ``y`` of shape (n_samples, n_neurons): one penalty per neuron.

Facts asserted:

* the population cross-validation is N independent cross-validations: each
  neuron's grid, score paths, ``alpha_`` and refit equal those of
  ``LassoLNPCV`` on its column alone (with exposure and sample weights);
* every refit satisfies the L1 optimality (KKT) conditions at its own
  ``alpha_`` (violation computed here from the objective's gradient);
* on simulated neurons sharing one stimulus, a neuron without a receptive
  field is penalised harder than neurons with one (smaller ``best_index_``
  in every seed tried, all weights zero in most), and each neuron's default
  grid starts at its own ``alpha_max_``;
* permuting the columns of ``Y`` permutes ``alpha_`` and ``coef_``;
* bad input: neurons without spikes (any set of them) get the
  intercept-only model, NaN choice and paths, and one warning naming them,
  and leave the other neurons' results unchanged; NaN in one neuron raises a
  ValueError naming the column; 2-d exposure or sample weights raise as for
  one neuron; unfinished fits raise one ConvergenceWarning naming the
  (neuron, fold) paths and the largest KKT violation;
* every work unit carries its fold and neurons as keyword arguments: one
  unit per fold, fitting the paths of every neuron with spikes in lockstep;
  ``n_jobs=2`` gives the ``n_jobs=1`` result; verbose mode prints one
  summary line per fold at level 1;
* the choice by held-out bits per spike is each neuron's too; scikit-learn's
  multi-output check holds on counts; ``cross_val_score`` runs around it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _lasso_reference import PoissonObjective, max_kkt_violation
from hypothesis import given, settings
from hypothesis import strategies as st
from joblib import parallel_backend
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score

from sklearn_lnp import LassoLNPCV
from sklearn_lnp.datasets import gaussian_rf
from sklearn_lnp.linear_model import _lasso_cv
from sklearn_lnp.model_selection import BlockedTimeSeriesSplit

TOL = 1e-8
STRONG, WIDE, FLAT, WEAK = 0, 1, 2, 3  # the simulated neurons (columns of Y)


def _population(seed=0, n_samples=1200, frame_shape=(6, 6)):
    """Four neurons seeing one +-1 checkerboard: RFs of different size and strength.

    ``STRONG``: small RF, high rate; ``WIDE``: wide RF; ``FLAT``: no RF;
    ``WEAK``: small, weak RF and a low rate.
    """
    rng = np.random.default_rng(seed)
    n_pixels = frame_shape[0] * frame_shape[1]
    X = rng.choice([-1.0, 1.0], size=(n_samples, n_pixels))
    rfs = [
        gaussian_rf(frame_shape, (2, 2), 1.0).ravel(),
        gaussian_rf(frame_shape, (3, 3), 2.5).ravel(),
        np.zeros(n_pixels),
        gaussian_rf(frame_shape, (4, 1), 1.0).ravel(),
    ]
    norms, rates = [1.0, 0.6, 0.0, 0.4], [1.0, 0.5, 0.5, 0.1]  # log-rate units, spikes/bin
    W = np.column_stack(
        [rf / max(np.linalg.norm(rf), 1e-300) * s for rf, s in zip(rfs, norms, strict=True)]
    )
    exposure = rng.uniform(0.15, 0.25, n_samples)
    Y = rng.poisson(exposure[:, None] * np.exp(X @ W) * np.array(rates) / 0.2).astype(float)
    return X, Y, exposure


@pytest.fixture(scope="module")
def data():
    X, Y, exposure = _population(seed=0)
    weights = np.random.default_rng(1).uniform(0.5, 1.5, X.shape[0])
    return X, Y, exposure, weights


@pytest.fixture(scope="module")
def fitted(data):
    X, Y, exposure, weights = data
    return LassoLNPCV(alphas=8, cv=BlockedTimeSeriesSplit(4, gap=2)).fit(
        X, Y, sample_weight=weights, exposure=exposure
    )


@pytest.mark.slow
def test_each_neuron_is_its_own_cross_validation(data, fitted):
    X, Y, exposure, weights = data
    n_neurons, n_features = Y.shape[1], X.shape[1]
    assert fitted.coef_.shape == (n_neurons, n_features)
    assert fitted.deviance_path_.shape == (n_neurons, 8, 4)
    assert fitted.alphas_.shape == (n_neurons, 8)
    for name in ("alpha_", "alpha_max_", "best_index_", "intercept_", "n_nonzero_", "n_iter_"):
        assert np.shape(getattr(fitted, name)) == (n_neurons,), name
    assert fitted.predict(X, exposure=exposure).shape == Y.shape
    for j in range(n_neurons):
        single = LassoLNPCV(alphas=8, cv=BlockedTimeSeriesSplit(4, gap=2)).fit(
            X, Y[:, j], sample_weight=weights, exposure=exposure
        )
        assert fitted.alpha_max_[j] == pytest.approx(single.alpha_max_, rel=1e-12)
        np.testing.assert_allclose(fitted.alphas_[j], single.alphas_, rtol=1e-12)
        np.testing.assert_allclose(fitted.deviance_path_[j], single.deviance_path_, rtol=1e-10)
        np.testing.assert_allclose(
            fitted.bits_per_spike_path_[j], single.bits_per_spike_path_, rtol=1e-9, atol=1e-12
        )
        np.testing.assert_array_equal(fitted.n_nonzero_path_[j], single.n_nonzero_path_)
        assert fitted.best_index_[j] == single.best_index_
        assert fitted.alpha_[j] == pytest.approx(single.alpha_, rel=1e-12)
        np.testing.assert_allclose(fitted.coef_[j], single.coef_, atol=1e-10)
        assert fitted.intercept_[j] == pytest.approx(single.intercept_, abs=1e-10)
        assert fitted.n_nonzero_[j] == single.n_nonzero_
        assert fitted.objective_[j] == pytest.approx(single.objective_, rel=1e-12)


def test_each_refit_satisfies_kkt_at_its_own_alpha(data, fitted):
    X, Y, exposure, weights = data
    for j in range(Y.shape[1]):
        objective = PoissonObjective(X, Y[:, j], exposure, weights)
        params = np.append(fitted.coef_[j], fitted.intercept_[j])
        assert max_kkt_violation(objective, params, fitted.alpha_[j]) <= TOL
        assert fitted.optimality_[j] <= TOL
        # each default grid starts at the neuron's own alpha_max, where w = 0 is optimal
        assert fitted.alphas_[j, 0] == pytest.approx(fitted.alpha_max_[j], rel=1e-12)
        assert fitted.alpha_[j] == fitted.alphas_[j, fitted.best_index_[j]]
    assert len(set(np.round(fitted.alpha_max_, 12))) == Y.shape[1]


@pytest.mark.slow  # population CV over several seeds
def test_neuron_without_receptive_field_gets_the_strongest_penalty():
    zeroed = 0
    seeds = range(5)
    for seed in seeds:
        X, Y, exposure = _population(seed=seed)
        model = LassoLNPCV(alphas=10, cv=4).fit(X, Y, exposure=exposure)
        # relative to its grid, the flat neuron's penalty is stronger than that of
        # the neurons with a clear RF, in every seed
        assert model.best_index_[FLAT] < model.best_index_[STRONG]
        assert model.best_index_[FLAT] < model.best_index_[WIDE]
        assert model.n_nonzero_[FLAT] < model.n_nonzero_[STRONG]
        assert 0 < model.best_index_[STRONG] < 9  # an interior choice for a clear RF
        zeroed += model.n_nonzero_[FLAT] == 0
    assert zeroed > len(seeds) / 2  # all weights zero in most seeds


@settings(max_examples=6, deadline=None)
@given(order=st.permutations(range(3)))
@pytest.mark.slow  # population CV per permutation
def test_permuting_neurons_permutes_the_choice(order):
    X, Y, exposure = _population(seed=3, n_samples=300, frame_shape=(3, 3))
    Y = Y[:, :3]
    order = np.array(order)
    cv = BlockedTimeSeriesSplit(3, gap=1)
    a = LassoLNPCV(alphas=4, cv=cv).fit(X, Y, exposure=exposure)
    b = LassoLNPCV(alphas=4, cv=cv).fit(X, Y[:, order], exposure=exposure)
    np.testing.assert_array_equal(b.best_index_, a.best_index_[order])
    np.testing.assert_allclose(b.alpha_, a.alpha_[order], rtol=1e-12)
    np.testing.assert_allclose(b.coef_, a.coef_[order], atol=1e-10)
    np.testing.assert_allclose(b.deviance_path_, a.deviance_path_[order], rtol=1e-10)


def test_user_grid_is_shared():
    X, Y, exposure = _population(seed=4, n_samples=400, frame_shape=(3, 3))
    model = LassoLNPCV(alphas=[0.01, 0.1, 0.03], cv=3).fit(X, Y, exposure=exposure)
    np.testing.assert_array_equal(model.alphas_, np.tile([0.1, 0.03, 0.01], (Y.shape[1], 1)))
    assert set(model.alpha_) <= {0.1, 0.03, 0.01}


@pytest.mark.slow
def test_bits_per_spike_choice_is_each_neurons():
    X, Y, exposure = _population(seed=5, n_samples=400, frame_shape=(3, 3))
    cv = BlockedTimeSeriesSplit(3, gap=1)
    model = LassoLNPCV(alphas=5, cv=cv, scoring="bits_per_spike").fit(X, Y, exposure=exposure)
    for j in range(Y.shape[1]):
        single = LassoLNPCV(alphas=5, cv=cv, scoring="bits_per_spike").fit(
            X, Y[:, j], exposure=exposure
        )
        assert model.best_index_[j] == single.best_index_
        best = int(np.argmax(model.bits_per_spike_path_[j].mean(axis=1)))
        assert model.alpha_[j] == model.alphas_[j, best]
    # a neuron whose spikes all fall outside the held-out rows: bits per spike undefined
    Y[200:, WEAK] = 0.0
    Y[0, WEAK] += 1
    held_out_late = [(np.arange(0, 200), np.arange(200, 400))]
    with pytest.raises(ValueError, match=r"columns \[3\].*no spikes in any held-out fold"):
        LassoLNPCV(alphas=3, cv=held_out_late, scoring="bits_per_spike").fit(X, Y)


def test_neuron_without_spikes(data):
    X, Y, exposure, _ = data
    Y = Y.copy()
    Y[:, WIDE] = 0.0
    cv = BlockedTimeSeriesSplit(3, gap=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LassoLNPCV(alphas=5, cv=cv).fit(X, Y, exposure=exposure)
    named = [w for w in caught if issubclass(w.category, UserWarning)]
    assert len(named) == 1 and "columns [1]" in str(named[0].message)
    assert named[0].filename == __file__
    assert np.isnan(model.alpha_[WIDE]) and model.best_index_[WIDE] == -1
    assert np.all(np.isnan(model.alphas_[WIDE]))
    assert np.all(np.isnan(model.deviance_path_[WIDE]))
    assert np.all(np.isnan(model.bits_per_spike_path_[WIDE]))
    assert np.all(model.coef_[WIDE] == 0) and model.intercept_[WIDE] == -np.inf
    assert model.solver_[WIDE] == "intercept-only" and model.alpha_max_[WIDE] == 0.0
    assert np.all(model.predict(X)[:, WIDE] == 0)
    others = [STRONG, FLAT, WEAK]
    rest = LassoLNPCV(alphas=5, cv=cv).fit(X, Y[:, others], exposure=exposure)
    np.testing.assert_allclose(model.alpha_[others], rest.alpha_, rtol=1e-12)
    np.testing.assert_allclose(model.coef_[others], rest.coef_, atol=1e-10)
    with pytest.raises(ValueError, match=r"columns \[1\].*fit_intercept=False"):
        LassoLNPCV(alphas=3, cv=3, fit_intercept=False).fit(X, Y)


@pytest.mark.slow
@settings(max_examples=5, deadline=None)
@given(silent=st.sets(st.integers(0, 3), min_size=1, max_size=3))
def test_any_set_of_silent_neurons_is_named_and_left_out(silent):
    X, Y, exposure = _population(seed=6, n_samples=300, frame_shape=(3, 3))
    silent = sorted(silent)
    Y[:, silent] = 0.0
    cv = BlockedTimeSeriesSplit(3, gap=1)
    with pytest.warns(UserWarning, match=rf"columns \{silent}"):
        model = LassoLNPCV(alphas=3, cv=cv).fit(X, Y, exposure=exposure)
    assert np.all(np.isnan(model.alpha_[silent])) and np.all(model.best_index_[silent] == -1)
    assert np.all(model.intercept_[silent] == -np.inf)
    others = [j for j in range(4) if j not in silent]
    rest = LassoLNPCV(alphas=3, cv=cv).fit(X, Y[:, others], exposure=exposure)
    np.testing.assert_allclose(model.alpha_[others], rest.alpha_, rtol=1e-12)
    np.testing.assert_allclose(model.coef_[others], rest.coef_, atol=1e-10)


def test_nan_in_one_neuron_names_the_column(data):
    X, Y, _, _ = data
    Y = Y.copy()
    Y[5, WEAK] = np.nan
    with pytest.raises(ValueError, match=r"neuron column\(s\) \[3\]"):
        LassoLNPCV(alphas=3, cv=3).fit(X, Y)


def test_two_dimensional_exposure_or_weights_are_refused_as_for_one_neuron(data):
    X, Y, exposure, weights = data
    for y in (Y[:, 0], Y):
        with pytest.raises(ValueError, match="exposure must be a 1-d array"):
            LassoLNPCV(alphas=3, cv=3).fit(X, y, exposure=np.tile(exposure[:, None], (1, 4)))
        with pytest.raises(ValueError, match="1D"):
            LassoLNPCV(alphas=3, cv=3).fit(X, y, sample_weight=np.tile(weights[:, None], (1, 4)))


def test_one_convergence_warning_for_the_population(data):
    X, Y, exposure, _ = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LassoLNPCV(alphas=4, cv=3, max_iter=1).fit(X, Y, exposure=exposure)
    found = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(found) == 1
    message = str(found[0].message)
    assert found[0].filename == __file__  # points at the caller's line
    # every path (one Newton step per alpha is not enough) and the unfinished refits
    assert "12 of 12 cross-validation paths" in message
    assert "{0: [0, 1, 2], 1: [0, 1, 2]" in message
    short = np.flatnonzero(model.optimality_ > TOL).tolist()
    assert short and f"refits of neurons {short}" in message
    worst = float(message.split("largest KKT violation ")[1].split(" ")[0])
    assert worst >= model.optimality_.max() * (1 - 1e-2) and worst > TOL


def test_units_carry_fold_and_neuron(data, monkeypatch):
    X, Y, exposure, _ = data
    calls = []
    original = _lasso_cv._fold_path

    def spy(*args, **kwargs):
        calls.append((kwargs["fold"], tuple(kwargs["neuron"]), kwargs["n_folds"]))
        return original(*args, **kwargs)

    monkeypatch.setattr(_lasso_cv, "_fold_path", spy)
    Y = Y.copy()
    Y[:, FLAT] = 0.0
    with pytest.warns(UserWarning, match=r"columns \[2\]"):
        LassoLNPCV(alphas=3, cv=3).fit(X, Y, exposure=exposure)
    # one unit per fold: every neuron with spikes, in lockstep (the silent one left out)
    expected = {(k, tuple(sorted((STRONG, WIDE, WEAK))), 3) for k in range(3)}
    assert len(calls) == len(expected) and set(calls) == expected


@pytest.mark.slow
def test_parallel_units_and_verbose(data, capsys):
    X, Y, exposure, _ = data
    cv = BlockedTimeSeriesSplit(3, gap=2)
    filters = list(warnings.filters)
    serial = LassoLNPCV(alphas=4, cv=cv, verbose=1).fit(X, Y, exposure=exposure)
    out = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("[LassoLNPCV] fold ") for line in out) == 3
    assert len(out) == 3 + 2  # one line per fold, the header and the choice
    # Threads: concurrent units without the start-up of worker processes (the loky
    # path is that of one neuron, tests/test_lasso_cv.py; a dask cluster ran it too).
    with parallel_backend("threading"):
        parallel = LassoLNPCV(alphas=4, cv=cv, n_jobs=2).fit(X, Y, exposure=exposure)
    assert warnings.filters == filters  # no unit's filter leaked out of the fit
    np.testing.assert_array_equal(parallel.best_index_, serial.best_index_)
    np.testing.assert_allclose(parallel.deviance_path_, serial.deviance_path_, rtol=1e-12)
    np.testing.assert_allclose(parallel.coef_, serial.coef_, atol=1e-12)
    LassoLNPCV(alphas=4, cv=cv, verbose=2).fit(X, Y, exposure=exposure)
    out = capsys.readouterr().out.splitlines()
    # level 2 adds one line per (fold, neuron) path and one per neuron's refit
    assert len(out) == 3 + 2 + 3 * 4 + 4
    assert sum(line.startswith("[LassoLNPCV] fold 2/3 neuron 1:") for line in out) == 1
    assert sum(line.startswith("[LassoLNPCV] neuron 3: alpha_ =") for line in out) == 1


def test_cross_val_score_around_the_population(data):
    X, Y, exposure, _ = data
    scores = cross_val_score(LassoLNPCV(alphas=3, cv=3), X[:600], Y[:600], cv=2)
    # mean D^2 over neurons of held-out counts: finite, at most 1
    assert scores.shape == (2,) and np.all(np.isfinite(scores)) and np.all(scores <= 1)


def test_multioutput_check_on_counts():
    """scikit-learn's check_regressor_multioutput, on non-negative counts."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 10))
    Y = rng.poisson(1.0, size=(30, 5)).astype(float)
    Y[0] += 1  # every neuron spikes at least once
    model = LassoLNPCV(alphas=4, cv=BlockedTimeSeriesSplit(3, gap=0)).fit(X, Y)
    prediction = model.predict(X)
    assert prediction.dtype == np.float64 and prediction.shape == Y.shape
    column = LassoLNPCV(alphas=4, cv=BlockedTimeSeriesSplit(3, gap=0)).fit(X, Y[:, :1])
    assert column.coef_.shape == (1, X.shape[1]) and column.alpha_.shape == (1,)
    assert column.predict(X).shape == (X.shape[0], 1)
