"""Issue 18, more bad input: items 4, 5, 7 and 16/18."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lnp import PoissonLNPRegressor


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = rng.poisson(np.exp(0.3 * X[:, 0] + 0.2)).astype(float)
    return X, y


# item 7: complete separation with one spike and n > p


def test_poisson_alpha0_complete_separation_warns():
    X, _ = _data()
    y = np.zeros(len(X))
    y[np.argmax(X[:, 0])] = 1.0  # an extreme point: a hyperplane separates it
    with pytest.warns(UserWarning, match="does not exist"):
        PoissonLNPRegressor().fit(X, y)


def test_poisson_alpha0_complete_separation_names_neuron():
    X, y = _data()
    one = np.zeros(len(X))
    one[np.argmax(X[:, 0])] = 1.0
    with pytest.warns(UserWarning, match=r"y columns \[1\]"):
        PoissonLNPRegressor().fit(X, np.column_stack([y, one]))


def test_poisson_no_separation_warning_when_mle_exists_or_penalised():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PoissonLNPRegressor().fit(X, y)
    one = np.zeros(len(X))
    one[np.argmax(X[:, 0])] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PoissonLNPRegressor(alpha=1.0).fit(X, one)


# items 16/18: values beyond float64's reach refused naming the argument


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("population", [False, True])
def test_poisson_huge_value_refused_naming_argument(where, population):
    X, y = _data()
    if where == "X":
        X[5, 2] = 1e300
    else:
        y[5] = 1e300
    if population:
        y = np.column_stack([y, y])
    with pytest.raises(ValueError, match=rf"^{where} "):
        PoissonLNPRegressor().fit(X, y)


# item 5: degenerate folds of a user cv refused, naming cv and the fold


def _lasso_cv():
    from sklearn_lnp import LassoLNPCV

    return LassoLNPCV(alphas=3)


def test_lasso_cv_empty_test_fold_refused():
    X, y = _data()
    folds = [(np.arange(100), np.arange(100, 200)), (np.arange(200), np.array([], dtype=int))]
    with pytest.raises(ValueError, match=r"cv gives an empty test set in fold 2 of 2"):
        _lasso_cv().set_params(cv=folds).fit(X, y)


def test_lasso_cv_empty_training_fold_refused():
    X, y = _data()
    folds = [(np.array([], dtype=int), np.arange(200))]
    with pytest.raises(ValueError, match=r"cv gives an empty training set in fold 1 of 1"):
        _lasso_cv().set_params(cv=folds).fit(X, y)


@pytest.mark.parametrize("part", ["training", "test"])
def test_lasso_cv_fold_without_spikes_refused(part):
    X, y = _data()
    y[:100] = 0.0  # rows 0..99 without spikes
    silent, spiking = np.arange(100), np.arange(100, 200)
    fold = (silent, spiking) if part == "training" else (spiking, silent)
    folds = [(np.arange(0, 200, 2), np.arange(1, 200, 2)), fold]
    with pytest.raises(ValueError, match=rf"cv gives {part} sets without spikes.*folds \[2\] of 2"):
        _lasso_cv().set_params(cv=folds).fit(X, y)


def test_lasso_cv_population_training_fold_without_spikes_names_neurons():
    X, y = _data()
    other = y.copy()
    other[:100] = 0.0
    Y = np.column_stack([y, other])
    folds = [(np.arange(0, 200, 2), np.arange(1, 200, 2)), (np.arange(100), np.arange(100, 200))]
    with pytest.raises(ValueError, match=r"training sets without spikes.*\[1\].*\{1: \[2\]\}"):
        _lasso_cv().set_params(cv=folds).fit(X, Y)


def test_lasso_cv_population_test_fold_without_spikes_skips_those_scores():
    X, y = _data()
    other = y.copy()
    other[100:] = 0.0
    Y = np.column_stack([y, other])
    folds = [(np.arange(0, 200, 2), np.arange(1, 200, 2)), (np.arange(100), np.arange(100, 200))]
    model = _lasso_cv().set_params(cv=folds).fit(X, Y)
    assert np.all(np.isnan(model.deviance_path_[1, :, 1]))
    assert np.all(np.isfinite(model.deviance_path_[1, :, 0]))
    assert np.all(np.isfinite(model.deviance_path_[0]))
    best = int(np.argmin(model.deviance_path_[1, :, 0]))
    assert model.best_index_[1] == best
    # silent in every test fold: refused
    with pytest.raises(ValueError, match=r"columns \[1\].*no spikes in any held-out fold"):
        _lasso_cv().set_params(cv=folds[1:]).fit(X, Y)


# item 4: recording_design counts every spike (binned, outside, or in a dropped bin)


def _recording(n_frames):
    from sklearn_lnp.datasets import recording_from_counts

    rng = np.random.default_rng(0)
    counts = rng.poisson(3.0, size=40)
    stimulus = rng.normal(size=(max(n_frames, 1), 4))[:n_frames]
    recording = recording_from_counts(stimulus, counts, frame_shape=(2, 2), random_state=1)
    # spikes before the first and after the last trigger too
    recording.spike_times = np.r_[-0.5, -0.1, recording.spike_times, 100.0]
    return recording


@settings(max_examples=40, deadline=None)
@given(frame_offset=st.integers(-50, 50), n_frames=st.integers(1, 60))
def test_recording_design_accounts_for_every_spike(frame_offset, n_frames):
    from sklearn_lnp.datasets import recording_design

    recording = _recording(n_frames)
    total = recording.spike_times.size
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        design = recording_design(recording, frame_offset=frame_offset)
    reported = design.n_spikes_outside + design.n_spikes_dropped_frames
    assert design.counts.sum() + reported == total
    assert design.n_spikes_outside == design.n_spikes_before + design.n_spikes_after == 3
    messages = " ".join(str(w.message) for w in caught)
    if design.n_bins_dropped_frames:
        assert f"with their {design.n_spikes_dropped_frames} spikes" in messages
    else:
        assert design.n_spikes_dropped_frames == 0
