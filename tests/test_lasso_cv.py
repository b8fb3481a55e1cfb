"""``LassoLNPCV``: cross-validated L1 penalty over warm-started exact paths.

Facts asserted:

* the stored per-fold scores are the held-out Poisson deviance per bin and
  bits per spike of independent single fits at each alpha on each fold;
* ``alpha_`` is the grid point with the best mean score, and ``coef_`` is the
  fit of ``LassoLNPRegressor(alpha=alpha_)`` on all rows;
* ``GridSearchCV`` over ``LassoLNPRegressor`` on the same folds gives the
  same per-fold scores and the same alpha; over
  ``make_pipeline(LagTransformer(), LassoLNPRegressor())`` with the frame
  index routed (so lags never cross a fold boundary) it gives the same alpha
  and per-fold scores that differ only by the few rows whose lagged frames
  fall in a gap;
* ``n_jobs=2`` gives the same result as ``n_jobs=1``; the default folds are
  the blocked time-series folds; verbose mode reports every fold and alpha;
* on a simulated neuron the chosen alpha is interior and the CV fit predicts
  held-out counts better than the unpenalised fit.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_lnp import LagTransformer, LassoLNPCV, LassoLNPRegressor, PoissonLNPRegressor
from sklearn_lnp.datasets import make_separable_neuron
from sklearn_lnp.metrics import bits_per_spike, get_scorer, make_lnp_scorer, poisson_deviance
from sklearn_lnp.model_selection import BlockedTimeSeriesSplit


@pytest.fixture(scope="module")
def neuron():
    return make_separable_neuron(1200, frame_shape=(6, 6), n_lags=4, rf_norm=1.5, random_state=0)


@pytest.fixture(scope="module")
def design(neuron):
    return LagTransformer(lags=neuron.lags).fit_transform(neuron.stimulus)


def mean_deviance(y_true, y_pred, *, sample_weight=None):
    weights = np.ones(len(y_true)) if sample_weight is None else sample_weight
    return poisson_deviance(y_true, y_pred, sample_weight=sample_weight) / np.sum(weights)


@pytest.fixture(scope="module")
def fitted(neuron, design):
    return LassoLNPCV(alphas=8, cv=BlockedTimeSeriesSplit(4, gap=3)).fit(
        design, neuron.counts, exposure=neuron.exposure
    )


@pytest.mark.slow
def test_scores_are_those_of_single_fits(neuron, design, fitted):
    folds = list(BlockedTimeSeriesSplit(4, gap=3).split(design))
    y, e = neuron.counts, neuron.exposure
    assert fitted.deviance_path_.shape == (8, 4)
    for k in (0, 3, 7):
        alpha = fitted.alphas_[k]
        for f, (train, test) in enumerate(folds):
            model = LassoLNPRegressor(alpha=alpha).fit(design[train], y[train], exposure=e[train])
            mu = model.predict(design[test], exposure=e[test])
            assert fitted.deviance_path_[k, f] == pytest.approx(
                mean_deviance(y[test], mu), rel=1e-6
            )
            assert fitted.bits_per_spike_path_[k, f] == pytest.approx(
                bits_per_spike(y[test], mu, exposure=e[test]), abs=1e-6
            )
            assert fitted.n_nonzero_path_[k, f] == model.n_nonzero_


def test_choice_and_refit(neuron, design, fitted):
    assert fitted.alphas_[0] == pytest.approx(fitted.alpha_max_)
    assert np.all(np.diff(fitted.alphas_) < 0)
    best = int(np.argmin(fitted.deviance_path_.mean(axis=1)))
    assert fitted.alpha_ == fitted.alphas_[best] and fitted.best_index_ == best
    assert 0 < best < len(fitted.alphas_) - 1  # interior on this neuron
    refit = LassoLNPRegressor(alpha=fitted.alpha_).fit(
        design, neuron.counts, exposure=neuron.exposure
    )
    np.testing.assert_allclose(fitted.coef_, refit.coef_, atol=1e-8)
    assert fitted.optimality_ <= 1e-8


@pytest.mark.slow  # held-out comparison over blocked folds
def test_beats_the_unpenalised_fit_on_held_out_counts(neuron, design):
    n = len(neuron.counts)
    train, test = np.arange(0, 800), np.arange(804, n)
    y, e = neuron.counts, neuron.exposure
    cv = LassoLNPCV(alphas=8, cv=BlockedTimeSeriesSplit(4, gap=3)).fit(
        design[train], y[train], exposure=e[train]
    )
    mle = PoissonLNPRegressor().fit(design[train], y[train], exposure=e[train])
    lasso_bits = bits_per_spike(
        y[test], cv.predict(design[test], exposure=e[test]), exposure=e[test]
    )
    mle_bits = bits_per_spike(
        y[test], mle.predict(design[test], exposure=e[test]), exposure=e[test]
    )
    assert lasso_bits > mle_bits


@pytest.mark.slow  # GridSearchCV refits every alpha and fold
def test_grid_search_agrees_on_the_same_folds(neuron, design, fitted):
    cv = BlockedTimeSeriesSplit(4, gap=3)
    scorer = make_lnp_scorer(mean_deviance, greater_is_better=False)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            LassoLNPRegressor().set_fit_request(exposure=True),
            {"alpha": list(fitted.alphas_)},
            cv=cv,
            scoring=scorer,
        ).fit(design, neuron.counts, exposure=neuron.exposure)
    split = np.column_stack([search.cv_results_[f"split{f}_test_score"] for f in range(4)])
    np.testing.assert_allclose(-split, fitted.deviance_path_, rtol=1e-7)
    assert search.best_params_["alpha"] == fitted.alpha_


@pytest.mark.slow  # two 5-fold L1 paths on a lagged design
def test_pipeline_with_lags_agrees(neuron, fitted):
    cv = BlockedTimeSeriesSplit(4, gap=3)
    frame_index = np.arange(len(neuron.counts))
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            LagTransformer(lags=neuron.lags).set_transform_request(frame_index=True),
            LassoLNPRegressor().set_fit_request(exposure=True),
        )
        search = GridSearchCV(
            pipe,
            {"lassolnpregressor__alpha": list(fitted.alphas_)},
            cv=cv,
            scoring=get_scorer("bits_per_spike"),
        ).fit(neuron.stimulus, neuron.counts, exposure=neuron.exposure, frame_index=frame_index)
    split = np.column_stack([search.cv_results_[f"split{f}_test_score"] for f in range(4)])
    # Only the rows next to a gap see filled (0) frames instead of real ones.
    np.testing.assert_allclose(split, fitted.bits_per_spike_path_, atol=0.02)
    best = int(np.argmax(fitted.bits_per_spike_path_.mean(axis=1)))
    assert search.best_params_["lassolnpregressor__alpha"] == fitted.alphas_[best]


@pytest.mark.slow  # n_jobs=2 starts a process pool
def test_scoring_bits_per_spike_and_parallel_folds(neuron, design, fitted):
    par = LassoLNPCV(
        alphas=8, cv=BlockedTimeSeriesSplit(4, gap=3), n_jobs=2, scoring="bits_per_spike"
    ).fit(design, neuron.counts, exposure=neuron.exposure)
    np.testing.assert_allclose(par.deviance_path_, fitted.deviance_path_, rtol=1e-10)
    best = int(np.argmax(par.bits_per_spike_path_.mean(axis=1)))
    assert par.alpha_ == par.alphas_[best]


@pytest.mark.slow
def test_default_folds_and_verbose(neuron, design, capsys):
    model = LassoLNPCV(alphas=3, verbose=2).fit(design, neuron.counts, exposure=neuron.exposure)
    assert model.deviance_path_.shape == (3, 5)
    folds = list(BlockedTimeSeriesSplit(5).split(design))
    manual = LassoLNPCV(alphas=3, cv=folds).fit(design, neuron.counts, exposure=neuron.exposure)
    np.testing.assert_array_equal(model.deviance_path_, manual.deviance_path_)
    out = capsys.readouterr().out
    assert out.count("[LassoLNPCV] fold") == 5 + 5 * 3
    assert "alpha_ =" in out


def test_user_grid_is_sorted_and_validated(neuron, design):
    model = LassoLNPCV(alphas=[0.01, 0.1, 0.03], cv=3).fit(
        design, neuron.counts, exposure=neuron.exposure
    )
    np.testing.assert_array_equal(model.alphas_, [0.1, 0.03, 0.01])
    with pytest.raises(ValueError, match="alphas"):
        LassoLNPCV(alphas=[0.1, -0.1]).fit(design, neuron.counts)
    with pytest.raises(ValueError, match="eps"):
        LassoLNPCV(eps=1.5).fit(design, neuron.counts)


@pytest.mark.slow  # CLI run: 5-fold L1 path and figures
def test_cli_penalty_l1_on_a_toy_recording(tmp_path):
    """``sklearn-lnp fit --penalty l1`` on a recording in the lab's format, made here."""
    import json

    from scipy.io import savemat

    from sklearn_lnp.cli import main

    rng = np.random.default_rng(0)
    movie = rng.integers(0, 2, size=(4, 5, 700)).astype(np.uint8)  # rows x cols x frames
    triggers = np.concatenate([[0.0], np.cumsum(rng.uniform(0.18, 0.25, size=700))])
    # The cell fires more when pixel (row 2, col 3) is on in the current frame.
    counts = rng.poisson(np.where(movie[2, 3] == 1, 4.0, 1.5) * np.diff(triggers) / 0.2)
    spikes = np.sort(
        np.concatenate([rng.uniform(triggers[k], triggers[k + 1], c) for k, c in enumerate(counts)])
    )
    path = tmp_path / "toy.mat"
    savemat(
        path,
        {"DN_stim": movie, "DN_spiketimes": spikes[:, None], "DN_triggertimes": triggers[:, None]},
    )
    alphas = "0.3,0.1,0.03,0.01,0.003"
    main(
        [
            "fit",
            str(path),
            "--lags",
            "0-2",
            "--alpha-grid",
            "10",
            "--penalty",
            "l1",
            "--l1-alphas",
            alphas,
            "--out",
            str(tmp_path),
        ]
    )
    folder = tmp_path / "toy"
    summary = json.loads((folder / "summary.json").read_text())
    block = summary["l1"]
    for name in ("l1_grid.png", "l1_cv.png"):
        assert (folder / name).stat().st_size > 0 and name in summary["figures"]
    assert block["grid_alphas"] == sorted(float(a) for a in alphas.split(","))[::-1]
    assert block["alpha"] in block["alphas"] and block["lags"] == [0, 1, 2]
    lag0 = block["refit"]["peaks"][0]
    assert (lag0["peak_row"], lag0["peak_col"]) == (2, 3) and lag0["peak_weight"] > 0
    assert block["refit"]["kkt_violation"] <= 1e-8
