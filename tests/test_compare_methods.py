"""Comparisons with error bars: paired fold-wise standard errors (issue 13).

``metrics.compare_held_out`` takes per-fold held-out gains of several methods on
the same folds; ``analysis.held_out_scores`` produces them; ``analysis.compare_methods``
is the command's method table.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_lnp import LagTransformer, PoissonLNPRegressor
from sklearn_lnp.analysis import (
    compare_methods,
    constant_rate_cv_scores,
    fit_lags_jointly,
    held_out_scores,
)
from sklearn_lnp.datasets import make_separable_neuron, recording_from_counts
from sklearn_lnp.metrics import compare_held_out, comparison_table

finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@given(
    scores=arrays(np.float64, st.tuples(st.integers(2, 4), st.integers(2, 8)), elements=finite),
    shift=st.lists(finite, min_size=8, max_size=8),
)
@settings(max_examples=60, deadline=None)
def test_paired_se_is_the_se_of_the_per_fold_differences_and_ignores_fold_offsets(scores, shift):
    names = [f"m{k}" for k in range(scores.shape[0])]
    result = compare_held_out(dict(zip(names, scores, strict=True)), reference="m0")
    n_folds = scores.shape[1]
    for k in range(len(names)):
        differences = scores[k] - scores[0]
        assert result.difference[k] == pytest.approx(differences.mean(), abs=1e-12)
        se = np.std(differences, ddof=1) / np.sqrt(n_folds)
        assert result.difference_se[k] == pytest.approx(se, abs=1e-12)
        assert result.gain_se[k] == pytest.approx(np.std(scores[k], ddof=1) / np.sqrt(n_folds))
        assert result.resolved[k] == (abs(result.difference[k]) > 2 * result.difference_se[k])
    # A constant added to every method on a fold (a harder or easier block, or
    # another null) changes no difference; equal up to rounding of the sums.
    offsets = np.asarray(shift[:n_folds])
    moved = compare_held_out(dict(zip(names, scores + offsets, strict=True)), reference="m0")
    np.testing.assert_allclose(moved.difference, result.difference, atol=1e-9)
    np.testing.assert_allclose(moved.difference_se, result.difference_se, atol=1e-9)
    # The same offsets given as the baseline are subtracted: the gains come back.
    back = compare_held_out(
        dict(zip(names, scores + offsets, strict=True)), reference="m0", baseline=offsets
    )
    np.testing.assert_allclose(back.fold_gains, scores, atol=1e-9)


def test_reference_row_and_identical_methods_have_zero_difference_and_zero_se():
    a = np.array([0.1, -0.4, 0.2, 0.05, 0.3])
    result = compare_held_out({"a": a, "b": a.copy(), "c": a + 0.01}, reference="a")
    assert result.difference[:2].tolist() == [0.0, 0.0]
    assert result.difference_se[:2].tolist() == [0.0, 0.0]
    assert result.resolved.tolist()[:2] == [False, False]  # 0 > 2 * 0 is false
    assert result.resolved[2]  # a constant gain on every fold: resolved
    assert "> 2 x its paired standard error" in result.rule


@pytest.fixture(scope="module")
def simulated():
    """A separable neuron at 2000 bins: the true RF drives lags 0-4."""
    neuron = make_separable_neuron(2000, frame_shape=(4, 5), rf_center=(1, 2), random_state=0)
    X = LagTransformer(lags=range(5)).fit_transform(neuron.stimulus)
    return neuron, X


def test_held_out_scores_are_the_gain_over_the_constant_training_rate(simulated):
    neuron, X = simulated
    y, e = neuron.counts, neuron.exposure
    lines = []
    gains = held_out_scores(
        PoissonLNPRegressor(alpha=0.01), X, y, e, gap=4, progress=lines.append, label="x "
    )
    assert lines[2].startswith("x fold 3/5: ") and lines[2].endswith(" bits/spike")
    assert len(lines) == 5
    # A model without stimulus columns is the constant training rate: gain 0 on every fold.
    constant = held_out_scores(PoissonLNPRegressor(), np.zeros((y.size, 1)), y, e, gap=4)
    np.testing.assert_allclose(constant, 0.0, atol=1e-9)  # its intercept-only optimum, 1e-9
    # null="train" gains equal null="test" scores minus the constant rate's (same folds)
    assert np.all(gains > 0)
    baseline = constant_rate_cv_scores(y, e, gap=4)
    # The test block's own rate is the best constant (<= 0; 1e-12: sums of logs in round-off).
    assert np.all(baseline <= 1e-12)


def test_a_truly_better_method_is_resolved_and_identical_methods_are_not(simulated):
    """The design with the stimulus beats one with shuffled frames, on every fold, resolved;
    the same estimator twice gives difference 0 with s.e. 0, not resolved."""
    neuron, X = simulated
    y, e = neuron.counts, neuron.exposure
    shuffled = X[np.random.default_rng(1).permutation(y.size)]  # frames unrelated to spikes
    scores = {
        "stimulus": held_out_scores(PoissonLNPRegressor(alpha=1.0), X, y, e, gap=4),
        "stimulus again": held_out_scores(PoissonLNPRegressor(alpha=1.0), X, y, e, gap=4),
        "shuffled frames": held_out_scores(PoissonLNPRegressor(alpha=1.0), shuffled, y, e, gap=4),
    }
    result = compare_held_out(scores, reference="stimulus")
    assert result.difference[1] == 0.0 and result.difference_se[1] == 0.0
    assert not result.resolved[1]
    assert result.difference[2] < -2 * result.difference_se[2] and result.resolved[2]
    assert result.gain[0] > 0.1 and abs(result.gain[2]) < result.gain[0] / 5
    table = comparison_table(result, extra_columns={"note": {"stimulus": "true RF"}})
    lines = table.splitlines()
    assert len(lines) == 2 + 3 and lines[2].endswith("| reference |  | true RF |")
    assert lines[3].split("|")[4].strip() == "no" and lines[4].split("|")[4].strip() == "yes"


def test_compare_methods_pairs_the_searched_and_the_refitted_methods_on_the_same_folds(simulated):
    neuron, _ = simulated
    recording = recording_from_counts(
        neuron.stimulus, neuron.counts, frame_shape=(4, 5), random_state=0
    )
    joint = fit_lags_jointly(recording, alpha=[1.0], n_drift=0)
    lines = []
    result = compare_methods(recording, alpha=1.0, joint=joint, progress=lines.append)
    comparison = result.comparison
    assert comparison.reference == comparison.names[0]
    assert comparison.names[0] == "L2, lags 0-4 jointly, alpha = 1 (CV)"
    # The search's fold scores minus the constant rate's are the null="train" gains of
    # a refit on each fold: the same numbers by two routes (to solver tolerance).
    direct = held_out_scores(
        PoissonLNPRegressor(alpha=1.0, solver="lbfgs"),
        joint.design.X,
        joint.design.counts,
        joint.design.exposure,
        gap=4,
    )
    np.testing.assert_allclose(comparison.fold_gains[0], direct, atol=1e-6)
    assert any(line.startswith("lag-0 L2 fold 5/5") for line in lines)
    assert any(line.startswith("STA fold 1/5") for line in lines)
    assert result.fold_rates.shape == (5,)


@pytest.mark.parametrize(
    ("scores", "kwargs", "match"),
    [
        ({}, {"reference": "a"}, "non-empty mapping"),
        ({"a": [1.0, 2.0]}, {"reference": "b"}, "reference must be one of"),
        ({"a": [1.0, 2.0], "b": [1.0]}, {"reference": "a"}, "same folds"),
        ({"a": [1.0]}, {"reference": "a"}, "at least 2 folds"),
        ({"a": [1.0, np.nan]}, {"reference": "a"}, r"scores\['a'\] must be finite"),
        ({"a": [[1.0, 2.0]]}, {"reference": "a"}, "1-d"),
        ({"a": [1.0, 2.0]}, {"reference": "a", "n_se": 0}, "n_se"),
        ({"a": [1.0, 2.0]}, {"reference": "a", "baseline": [0.0]}, "baseline has 1 folds"),
    ],
)
def test_bad_input_names_the_argument(scores, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare_held_out(scores, **kwargs)


def test_the_alpha_search_reports_each_fold(simulated):
    from sklearn_lnp.analysis import fit_poisson_alpha_cv

    neuron, X = simulated
    lines = []
    fit = fit_poisson_alpha_cv(
        X, neuron.counts, neuron.exposure, [0.1, 10.0], n_splits=3, progress=lines.append
    )
    assert [line.split(":")[0] for line in lines] == [
        f"alpha {a:g}, fold {k}/3" for a in (0.1, 10.0) for k in (1, 2, 3)
    ]
    # the reported numbers are the search's own fold scores
    reported = np.array([float(line.split(": ")[1].split()[0]) for line in lines])
    np.testing.assert_allclose(reported, fit.cv_scores.ravel(), atol=5e-4)  # printed to 3 dp
