"""The looping bad-input suite: every public callable, every command option.

The public classes and functions are discovered from the modules of the API
reference (``docs/_ext/sklearn_lnp_docs.py``: ``PUBLIC_MODULES``, each
module's ``__all__``).  Each is either exercised here or listed in
:data:`EXEMPT` with the reason; a public name added later that is neither
fails :func:`test_every_public_callable_is_exercised_or_exempt`, which says
where to register it.  Regressors and transformers constructible without
arguments are exercised without registration (their data kind is known from
the scikit-learn tags); others need an entry in :data:`CONSTRUCTORS`.

Each corruptible argument gets the bad values of its kind
(``tests/_bad_input.py``: NaN, inf, 1e300, complex, words, wrong dims,
empty, one row short, negative counts/exposure/weights, zero exposure,
non-integer counts, ``y`` of shape (n, 1), a transposed population ``y``),
and the outcome must be a ``ValueError``/``TypeError`` naming the argument
or, where the value is not necessarily wrong, a result; never a numpy
``RuntimeWarning``, another exception (from this package or a dependency)
or a hang (watchdog).  Cases where a wrong value is accepted on purpose are
listed in :data:`ACCEPTED` with the reason.

``y`` of shape (n, 1) is a population of one neuron for every estimator
(:func:`test_column_y_is_a_population_of_one_for_every_estimator`).
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import inspect
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from _bad_input import (
    ANALYSIS_STEPS,
    KINDS,
    Spec,
    bad_values,
    check_outcome,
    patch_step,
    run_with_watchdog,
)
from sklearn.base import BaseEstimator, clone, is_regressor
from sklearn.utils import Bunch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))
from sklearn_lnp_docs import public_api  # noqa: E402

N, P = 60, 4
RNG_SEED = 0


# -- valid data ------------------------------------------------------------------------
@functools.cache
def _data():
    rng = np.random.default_rng(RNG_SEED)
    X = rng.normal(size=(N, P))
    y = rng.poisson(np.exp(0.4 * X[:, 0] + 0.3)).astype(float)
    exposure = rng.uniform(0.5, 1.5, N)
    weights = rng.uniform(0.5, 1.5, N)
    return X, y, exposure, weights


def X():
    return _data()[0].copy()


def y():
    return _data()[1].copy()


def exposure():
    return _data()[2].copy()


def weights():
    return _data()[3].copy()


@functools.cache
def _recording():
    from sklearn_lnp.datasets import recording_from_counts

    rng = np.random.default_rng(1)
    stimulus = rng.choice([-1.0, 1.0], size=(81, 6))
    counts = rng.poisson(np.exp(0.8 * stimulus[:80, 2]))
    return recording_from_counts(stimulus, counts, frame_shape=(2, 3), random_state=0)


def recording():
    r = _recording()
    return Bunch(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in r.items()})


def times():
    return np.sort(np.random.default_rng(2).uniform(0, 10, 40))


# -- estimators --------------------------------------------------------------------------
# Estimators that need constructor arguments (or smaller settings for speed):
# ``{name: (constructor, data kind)}``.  Kinds: "regressor" (fit(X, y,
# sample_weight, exposure), predict, score), "design" (a transformer of a real
# matrix), "counts" (a transformer of spike counts), "times" (of a column of times).
CONSTRUCTORS = {
    "LassoLNPRegressor": (lambda: _lnp().LassoLNPRegressor(alpha=0.01), "regressor"),
    "LassoLNPCV": (lambda: _lnp().LassoLNPCV(alphas=3, cv=3), "regressor"),
    "SVDSeparator": (lambda: _lnp().SVDSeparator(n_lags=2), "regressor"),
    "LagTransformer": (lambda: _lnp().LagTransformer(lags=(0, 1)), "design"),
    "SpikeHistoryTransformer": (lambda: _lnp().SpikeHistoryTransformer(lags=(1, 2)), "counts"),
    "SlowDriftFeatures": (lambda: _lnp().SlowDriftFeatures(n_basis=2), "times"),
}


def _lnp():
    return importlib.import_module("sklearn_lnp")


def _estimator_factory(name: str, cls):
    """(constructor, kind) of a public estimator class, from the registry or its tags."""
    if name in CONSTRUCTORS:
        return CONSTRUCTORS[name]
    try:
        instance = cls()
    except TypeError as error:
        raise LookupError(
            f"{cls.__module__}.{name} cannot be built without arguments ({error}): register "
            "it in CONSTRUCTORS of tests/test_bad_input_suite.py with a constructor of "
            "valid small settings and its data kind, or in EXEMPT with the reason."
        ) from None
    if is_regressor(instance):
        return (lambda: clone(instance)), "regressor"
    if hasattr(instance, "transform"):
        return (lambda: clone(instance)), "design"
    raise LookupError(
        f"{cls.__module__}.{name}: neither a regressor nor a transformer; register its "
        "data kind in CONSTRUCTORS of tests/test_bad_input_suite.py, or exempt it in EXEMPT."
    )


def _fit(estimator, X, y, sample_weight=None, exposure=None):
    kwargs = {}
    if sample_weight is not None:
        kwargs["sample_weight"] = sample_weight
    if exposure is not None:
        kwargs["exposure"] = exposure
    return estimator.fit(X, y, **kwargs)


@functools.cache
def _fitted(name: str, population: bool = False):
    make, _ = ESTIMATORS[name]
    target = np.column_stack([y(), y()[::-1]]) if population else y()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make().fit(X(), target, exposure=exposure())


def _estimator_specs(name: str, make, kind: str) -> dict[str, Spec]:
    # score's y is the metrics' y_true; a message naming y_true names it
    xy = {"X": ("X",), "y": ("y", "y_true")}
    if kind == "regressor":
        specs = {
            f"{name}.fit": Spec(
                lambda X, y, sample_weight, exposure: _fit(make(), X, y, sample_weight, exposure),
                lambda: {"X": X(), "y": y(), "sample_weight": weights(), "exposure": exposure()},
                {"X": "design", "y": "target", "sample_weight": "weights", "exposure": "exposure"},
                xy,
            ),
            f"{name}.predict": Spec(
                lambda X, exposure: _fitted(name).predict(X, exposure=exposure),
                lambda: {"X": X(), "exposure": exposure()},
                {"X": "features", "exposure": "exposure"},
                xy,
            ),
            f"{name}.score": Spec(
                lambda X, y, sample_weight, exposure: _fitted(name).score(
                    X, y, sample_weight=sample_weight, exposure=exposure
                ),
                lambda: {"X": X(), "y": y(), "sample_weight": weights(), "exposure": exposure()},
                {"X": "design", "y": "counts", "sample_weight": "weights", "exposure": "exposure"},
                xy,
            ),
        }
        if _fitted_population_supported(name):
            specs[f"{name}.score[population]"] = Spec(
                lambda X, y: _fitted(name, True).score(X, y, exposure=exposure()),
                lambda: {"X": X(), "y": np.column_stack([globals()["y"](), globals()["y"]()])},
                {"y": "target"},
                xy,
            )
        return specs
    data = {
        "design": (X, "design"),
        "counts": (lambda: y()[:, None], "counts"),
        "times": (lambda: np.arange(float(N))[:, None], "design"),
    }[kind]
    return {
        f"{name}.fit_transform": Spec(
            lambda X: make().fit_transform(X),
            lambda: {"X": data[0]()},
            {"X": data[1] if data[1] != "design" else "matrix"},
            xy,
        ),
        f"{name}.transform": Spec(
            lambda X: make().fit(data[0]()).transform(X),
            lambda: {"X": data[0]()},
            {"X": "features" if kind != "counts" else "counts"},
            xy,
        ),
    }


def _fitted_population_supported(name: str) -> bool:
    make, _ = ESTIMATORS[name]
    tags = make().__sklearn_tags__()
    return bool(tags.target_tags.multi_output)


# -- functions ---------------------------------------------------------------------------
def _m(path):
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _scorer_call(X, y, sample_weight, exposure):
    from sklearn_lnp.metrics import get_scorer

    return get_scorer("bits_per_spike")(
        _fitted("PoissonLNPRegressor"), X, y, sample_weight=sample_weight, exposure=exposure
    )


def _plot(path):
    import matplotlib.pyplot as plt

    def call(**kwargs):
        try:
            return _m(path)(**kwargs)
        finally:
            plt.close("all")

    return call


def _fn(path, valid, kinds, names=None, slow=False, call=None):
    return Spec(call or (lambda **kw: _m(path)(**kw)), valid, kinds, names or {}, slow)


Y_TRUE = {"y_true": ("y_true", "y"), "y_pred": ("y_pred",)}
RECORDING_WORDS = {
    "recording": ("recording", "stimulus", "spike_times", "trigger_times", "spike times")
}
FUNCTIONS = {
    "sklearn_lnp.linear_model.lasso_lnp_path": _fn(
        "sklearn_lnp.linear_model.lasso_lnp_path",
        lambda: {
            "X": X(),
            "y": y(),
            "exposure": exposure(),
            "sample_weight": weights(),
            "n_alphas": 3,
        },
        {
            "X": "design",
            "y": "target",
            "exposure": "exposure",
            "sample_weight": "weights",
            "n_alphas": "count_int",
        },
    ),
    "sklearn_lnp.metrics.poisson_deviance": _fn(
        "sklearn_lnp.metrics.poisson_deviance",
        lambda: {"y_true": y(), "y_pred": y() + 0.5, "sample_weight": weights()},
        {"y_true": "counts", "y_pred": "rates", "sample_weight": "weights"},
        Y_TRUE,
    ),
    "sklearn_lnp.metrics.poisson_log_likelihood": _fn(
        "sklearn_lnp.metrics.poisson_log_likelihood",
        lambda: {"y_true": y(), "y_pred": y() + 0.5, "sample_weight": weights()},
        {"y_true": "counts", "y_pred": "rates", "sample_weight": "weights"},
        Y_TRUE,
    ),
    "sklearn_lnp.metrics.d2_poisson_score": _fn(
        "sklearn_lnp.metrics.d2_poisson_score",
        lambda: {
            "y_true": y(),
            "y_pred": y() + 0.5,
            "sample_weight": weights(),
            "exposure": exposure(),
        },
        {"y_true": "counts", "y_pred": "rates", "sample_weight": "weights", "exposure": "exposure"},
        Y_TRUE,
    ),
    "sklearn_lnp.metrics.bits_per_spike": _fn(
        "sklearn_lnp.metrics.bits_per_spike",
        lambda: {
            "y_true": y(),
            "y_pred": y() + 0.5,
            "sample_weight": weights(),
            "exposure": exposure(),
        },
        {"y_true": "counts", "y_pred": "rates", "sample_weight": "weights", "exposure": "exposure"},
        Y_TRUE,
    ),
    "sklearn_lnp.metrics.get_scorer": Spec(
        _scorer_call,
        lambda: {"X": X(), "y": y(), "sample_weight": weights(), "exposure": exposure()},
        {"X": "design", "y": "counts", "sample_weight": "weights", "exposure": "exposure"},
        {"y": ("y", "y_true")},
    ),
    "sklearn_lnp.spikes.bin_spikes": _fn(
        "sklearn_lnp.spikes.bin_spikes",
        lambda: {"spike_times": times(), "edges": np.linspace(0, 10, 11)},
        {"spike_times": "times", "edges": "times"},
    ),
    "sklearn_lnp.spikes.check_times": _fn(
        "sklearn_lnp.spikes.check_times",
        lambda: {"times": times(), "name": "onsets"},
        {"times": "times"},
        {"times": ("onsets",)},
    ),
    "sklearn_lnp.spikes.spike_triggered_average": _fn(
        "sklearn_lnp.spikes.spike_triggered_average",
        lambda: {
            "spike_times": times(),
            "frame_times": np.linspace(0, 10, 21),
            "stimulus": X()[:21],
            "window": 1.0,
            "resolution": 0.25,
        },
        {
            "spike_times": "times",
            "frame_times": "times",
            "stimulus": "matrix",
            "window": "positive",
            "resolution": "positive",
        },
    ),
    "sklearn_lnp.penalties.smoothness_penalty": _fn(
        "sklearn_lnp.penalties.smoothness_penalty",
        lambda: {"frame_shape": (3, 4), "n_lags": 2, "space": 1.0, "time": 0.5, "ridge": 0.1},
        {
            "n_lags": "count_int",
            "space": "nonnegative",
            "time": "nonnegative",
            "ridge": "nonnegative",
        },
    ),
    "sklearn_lnp.priors.squared_exponential_kernel": _fn(
        "sklearn_lnp.priors.squared_exponential_kernel",
        lambda: {"n": 4, "length_scale": 1.5},
        {"n": "count_int", "length_scale": "positive"},
    ),
    "sklearn_lnp.priors.asd_axis_kernels": _fn(
        "sklearn_lnp.priors.asd_axis_kernels",
        lambda: {"frame_shape": (3, 4), "n_lags": 2, "length_scales": (1.0, 1.5, 0.5)},
        {"n_lags": "count_int"},
    ),
    "sklearn_lnp.priors.asd_covariance": _fn(
        "sklearn_lnp.priors.asd_covariance",
        lambda: {
            "frame_shape": (3, 4),
            "n_lags": 2,
            "scale": 0.5,
            "length_scales": (1.0, 1.5, 0.5),
        },
        {"n_lags": "count_int", "scale": "positive"},
    ),
    "sklearn_lnp.datasets.monophasic_kernel": _fn(
        "sklearn_lnp.datasets.monophasic_kernel",
        lambda: {"n_lags": 5, "peak": 1.0},
        {"n_lags": "count_int", "peak": "positive"},
    ),
    "sklearn_lnp.analysis.interpolating_drift_regressors": _fn(
        "sklearn_lnp.analysis.interpolating_drift_regressors",
        lambda: {"times": times(), "knots": np.array([0.0, 5.0, 10.0]), "scale": 30.0},
        {"times": "times", "knots": "times", "scale": "positive"},
    ),
    "sklearn_lnp.analysis.held_out_scores": Spec(
        lambda X, counts, exposure: _m("sklearn_lnp.analysis.held_out_scores")(
            _m("sklearn_lnp.linear_model.PoissonLNPRegressor")(alpha=1.0),
            X,
            counts,
            exposure,
            n_splits=3,
        ),
        lambda: {"X": X(), "counts": y(), "exposure": exposure()},
        {"X": "design", "counts": "counts", "exposure": "exposure"},
    ),
    "sklearn_lnp.spikes.tau_grid": _fn(
        "sklearn_lnp.spikes.tau_grid",
        lambda: {"window": 1.0, "resolution": 0.25},
        {"window": "positive", "resolution": "positive"},
    ),
    "sklearn_lnp.preprocessing.check_lags": _fn(
        "sklearn_lnp.preprocessing.check_lags", lambda: {"lags": [0, 1, 2]}, {"lags": "lags"}
    ),
    "sklearn_lnp.preprocessing.basis_coef_to_lags": _fn(
        "sklearn_lnp.preprocessing.basis_coef_to_lags",
        lambda: {"coef": X()[0, :3], "basis_matrix": X()[:5, :3]},
        {"coef": "matrix", "basis_matrix": "matrix"},
    ),
    "sklearn_lnp.preprocessing.RaisedCosineBasis": Spec(
        lambda n_basis, lags: _m("sklearn_lnp.preprocessing.RaisedCosineBasis")(n_basis).matrix(
            lags
        ),
        lambda: {"n_basis": 3, "lags": [1, 2, 3, 4, 5]},
        {"n_basis": "count_int", "lags": "lags"},
    ),
    "sklearn_lnp.model_selection.BlockedTimeSeriesSplit": Spec(
        lambda n_splits, gap, X: list(
            _m("sklearn_lnp.model_selection.BlockedTimeSeriesSplit")(
                n_splits=n_splits, gap=gap
            ).split(X)
        ),
        lambda: {"n_splits": 3, "gap": 2, "X": X()},
        {"n_splits": "count_int", "gap": "nonnegative_int", "X": "matrix"},
    ),
    "sklearn_lnp.decomposition.separate_space_time": _fn(
        "sklearn_lnp.decomposition.separate_space_time",
        lambda: {"W": X()[:3, :4]},
        {"W": "matrix"},
    ),
    "sklearn_lnp.decomposition.space_time_matrix": _fn(
        "sklearn_lnp.decomposition.space_time_matrix",
        lambda: {"coef": X()[0, :4], "n_lags": 2},
        {"coef": "matrix", "n_lags": "count_int"},
    ),
    "sklearn_lnp.datasets.recording_design": _fn(
        "sklearn_lnp.datasets.recording_design",
        lambda: {"recording": recording()},
        {"recording": "recording"},
        RECORDING_WORDS,
    ),
    "sklearn_lnp.datasets.lagged_recording_design": _fn(
        "sklearn_lnp.datasets.lagged_recording_design",
        lambda: {"recording": recording(), "lags": [0, 1]},
        {"recording": "recording", "lags": "lags"},
        RECORDING_WORDS,
    ),
    "sklearn_lnp.datasets.subframe_design": _fn(
        "sklearn_lnp.datasets.subframe_design",
        lambda: {"recording": recording(), "bin_width": 0.05},
        {"recording": "recording", "bin_width": "positive"},
        RECORDING_WORDS,
    ),
    "sklearn_lnp.datasets.recording_from_counts": _fn(
        "sklearn_lnp.datasets.recording_from_counts",
        lambda: {
            "stimulus": np.sign(X()[:, :4]) + 0.0,
            "counts": y()[:59],
            "frame_shape": (2, 2),
            "random_state": 0,
        },
        {"stimulus": "matrix", "counts": "counts"},
    ),
    "sklearn_lnp.datasets.make_lnp_neuron": _fn(
        "sklearn_lnp.datasets.make_lnp_neuron",
        lambda: {"n_frames": 50, "frame_shape": (4, 4), "rf_sigma": 1.0, "random_state": 0},
        {"n_frames": "count_int", "rf_sigma": "positive"},
    ),
    "sklearn_lnp.datasets.make_separable_neuron": _fn(
        "sklearn_lnp.datasets.make_separable_neuron",
        lambda: {"n_frames": 50, "frame_shape": (4, 4), "n_lags": 3, "random_state": 0},
        {"n_frames": "count_int", "n_lags": "count_int"},
    ),
    "sklearn_lnp.datasets.gaussian_rf": _fn(
        "sklearn_lnp.datasets.gaussian_rf",
        lambda: {"frame_shape": (5, 5), "sigma": 1.0},
        {"sigma": "positive"},
    ),
    "sklearn_lnp.datasets.dog_rf": _fn(
        "sklearn_lnp.datasets.dog_rf",
        lambda: {"frame_shape": (5, 5), "sigma": 1.0, "surround_sigma": 2.0},
        {"sigma": "positive", "surround_sigma": "positive"},
    ),
    "sklearn_lnp.datasets.biphasic_kernel": _fn(
        "sklearn_lnp.datasets.biphasic_kernel",
        lambda: {"n_lags": 5, "decay": 2.0},
        {"n_lags": "count_int", "decay": "positive"},
    ),
    "sklearn_lnp.simulation.simulate_glm_spikes": _fn(
        "sklearn_lnp.simulation.simulate_glm_spikes",
        lambda: {
            "log_rate": X()[:, 0] - 1.0,
            "history_filters": -np.ones((3, 1)),
            "exposure": exposure(),
            "random_state": 0,
        },
        {"log_rate": "design", "history_filters": "matrix", "exposure": "exposure"},
    ),
    "sklearn_lnp.analysis.constant_rate_cv_scores": _fn(
        "sklearn_lnp.analysis.constant_rate_cv_scores",
        lambda: {"counts": y(), "exposure": exposure(), "n_splits": 3},
        {"counts": "counts", "exposure": "exposure", "n_splits": "count_int"},
    ),
    "sklearn_lnp.analysis.fit_poisson_alpha_cv": _fn(
        "sklearn_lnp.analysis.fit_poisson_alpha_cv",
        lambda: {
            "X": X(),
            "counts": y(),
            "exposure": exposure(),
            "alpha": [0.1, 1.0],
            "n_splits": 3,
        },
        {"X": "design", "counts": "counts", "exposure": "exposure"},
        slow=True,
    ),
    "sklearn_lnp.analysis.rf_peak": _fn(
        "sklearn_lnp.analysis.rf_peak", lambda: {"image": X()[:4, :4]}, {"image": "matrix"}
    ),
    "sklearn_lnp.analysis.separate_space_time_rf": _fn(
        "sklearn_lnp.analysis.separate_space_time_rf",
        lambda: {"W": X()[:4, :2], "frame_shape": (2, 2)},  # 2 x 2 pixels, 2 lags
        {"W": "matrix"},
    ),
    "sklearn_lnp.analysis.slow_drift_regressors": _fn(
        "sklearn_lnp.analysis.slow_drift_regressors",
        lambda: {"exposure": exposure(), "n_basis": 3},
        {"exposure": "exposure", "n_basis": "count_int"},
    ),
    "sklearn_lnp.analysis.spike_time_sta": _fn(
        "sklearn_lnp.analysis.spike_time_sta",
        lambda: {"recording": recording(), "window": 0.5, "resolution": 0.1},
        {"recording": "recording", "window": "positive", "resolution": "positive"},
        RECORDING_WORDS,
        slow=True,
    ),
    "sklearn_lnp.analysis.fit_lags_separately": _fn(
        "sklearn_lnp.analysis.fit_lags_separately",
        lambda: {"recording": recording(), "lags": [0], "alpha": 1.0, "n_splits": 3},
        {"recording": "recording", "lags": "lags", "alpha": "nonnegative"},
        RECORDING_WORDS,
        slow=True,
    ),
    "sklearn_lnp.analysis.fit_lags_jointly": _fn(
        "sklearn_lnp.analysis.fit_lags_jointly",
        lambda: {
            "recording": recording(),
            "lags": [0, 1],
            "alpha": 1.0,
            "n_drift": 2,
            "n_splits": 3,
        },
        {"recording": "recording", "lags": "lags", "alpha": "nonnegative"},
        RECORDING_WORDS,
        slow=True,
    ),
    "sklearn_lnp.analysis.fit_l1_lags": _fn(
        "sklearn_lnp.analysis.fit_l1_lags",
        lambda: {"recording": recording(), "lags": [0, 1], "alphas": 3, "n_splits": 3},
        {"recording": "recording", "lags": "lags"},
        RECORDING_WORDS,
        slow=True,
    ),
    "sklearn_lnp.analysis.fit_simulated_neuron": _fn(
        "sklearn_lnp.analysis.fit_simulated_neuron",
        lambda: {"n_frames": 200, "random_state": 0},
        {"n_frames": "count_int"},
        slow=True,
    ),
    "sklearn_lnp.plotting.plot_rf": _fn(
        None,
        lambda: {"rf": X()[:4, :4]},
        {"rf": "matrix"},
        call=_plot("sklearn_lnp.plotting.plot_rf"),
        slow=True,
    ),
    "sklearn_lnp.plotting.plot_count_vs_rate": _fn(
        None,
        lambda: {"counts": y(), "rate": y() + 0.5},
        {"counts": "counts", "rate": "rates"},
        call=_plot("sklearn_lnp.plotting.plot_count_vs_rate"),
        slow=True,
    ),
    "sklearn_lnp.plotting.plot_counts_over_time": _fn(
        None,
        lambda: {"counts": y(), "rate": y() + 0.5},
        {"counts": "counts", "rate": "rates"},
        call=_plot("sklearn_lnp.plotting.plot_counts_over_time"),
        slow=True,
    ),
    "sklearn_lnp.plotting.plot_cv_curve": _fn(
        None,
        lambda: {"alphas": np.array([0.1, 1.0, 10.0]), "scores": np.array([0.1, 0.2, 0.15])},
        {"alphas": "times", "scores": "matrix"},
        call=_plot("sklearn_lnp.plotting.plot_cv_curve"),
        slow=True,
    ),
    "sklearn_lnp.plotting.plot_rf_lags": _fn(
        None,
        lambda: {"coef": X()[0, :4], "frame_shape": (1, 2), "lags": [0, 1]},
        {"coef": "matrix", "lags": "lags"},
        call=_plot("sklearn_lnp.plotting.plot_rf_lags"),
        slow=True,
    ),
    "sklearn_lnp.plotting.plot_lasso_grid": _fn(
        None,
        lambda: {
            "coefs": X()[:12].reshape(2, 3, 8)[:, :, :4],
            "frame_shape": (2, 2),
            "lags": [0, 1],
            "alphas": [1.0, 0.1, 0.01],
        },
        {"coefs": "matrix", "alphas": "times"},
        call=_plot("sklearn_lnp.plotting.plot_lasso_grid"),
        slow=True,
    ),
    "sklearn_lnp.plotting.plot_space_time_separation": _fn(
        None,
        lambda: {
            "spatial": X()[0, :4],
            "temporal": X()[1, :3],
            "lags": [0, 1, 2],
            "frame_shape": (2, 2),
        },
        {"spatial": "matrix", "temporal": "matrix"},
        call=_plot("sklearn_lnp.plotting.plot_space_time_separation"),
        slow=True,
    ),
    "sklearn_lnp.plotting.plot_sta_kernel": _fn(
        None,
        lambda: {
            "spatial_map": X()[:2, :2],
            "temporal": X()[0, :3],
            "taus": np.array([0.0, 0.1, 0.2]),
        },
        {"spatial_map": "matrix", "temporal": "matrix", "taus": "times"},
        call=_plot("sklearn_lnp.plotting.plot_sta_kernel"),
        slow=True,
    ),
    "sklearn_lnp.plotting.plot_sta_over_tau": _fn(
        None,
        lambda: {"sta": X()[:4, :3], "taus": np.array([0.0, 0.1, 0.2]), "frame_shape": (2, 2)},
        {"sta": "matrix", "taus": "times"},
        call=_plot("sklearn_lnp.plotting.plot_sta_over_tau"),
        slow=True,
    ),
    "sklearn_lnp.plotting.plot_history_gain": _fn(
        None,
        lambda: {"filters": -np.abs(X()[:5, :1]), "bin_width": 0.001},
        {"filters": "matrix", "bin_width": "positive"},
        call=_plot("sklearn_lnp.plotting.plot_history_gain"),
        slow=True,
    ),
    "sklearn_lnp.plotting.plot_coupling_filters": _fn(
        None,
        lambda: {"filters": X()[:5].reshape(5, 2, 2), "bin_width": 0.001},
        {"filters": "matrix", "bin_width": "positive"},
        call=_plot("sklearn_lnp.plotting.plot_coupling_filters"),
        slow=True,
    ),
}

# Public names not looped over here, each with the reason.
EXEMPT = {
    "sklearn_lnp.metrics.get_scorer_names": "takes no arguments",
    "sklearn_lnp.metrics.make_lnp_scorer": "its arguments are a callable and a bool, checked at "
    "creation: tests/test_bad_input_metrics.py",
    "sklearn_lnp.metrics.LNPScorer": "built by get_scorer / make_lnp_scorer; calling one is "
    "exercised here as sklearn_lnp.metrics.get_scorer",
    "sklearn_lnp.spikes.BinnedSpikes": "a result container returned by bin_spikes",
    "sklearn_lnp.spikes.SpikeTriggeredAverage": "a result container returned by "
    "spike_triggered_average",
    "sklearn_lnp.datasets.load_recording": "its input is a file: damaged, truncated, v7.3, "
    "folder and missing files are tests/test_bad_input_datasets.py",
    "sklearn_lnp.datasets.save_recording": "writes a recording built by recording_from_counts "
    "or load_recording (both exercised); its path errors are tests/test_bad_input_datasets.py",
    "sklearn_lnp.parallel.ClusterFitError": "an exception class",
    "sklearn_lnp.parallel.dask_backend": "needs a dask cluster: tests/test_parallel.py",
    "sklearn_lnp.parallel.register_backend": "takes no arguments",
    "sklearn_lnp.parallel.describe_call": "formats a joblib call for an error message "
    "(any Python objects are valid): tests/test_parallel.py",
    "sklearn_lnp.exceptions.ExposureWarning": "a warning class",
    "sklearn_lnp.metrics.compare_held_out": "its input is a mapping of method names to per-fold "
    "scores; bad scores, reference and n_se are tests/test_compare_methods.py",
    "sklearn_lnp.metrics.comparison_table": "formats the result of compare_held_out "
    "(exercised through it in tests/test_compare_methods.py)",
    "sklearn_lnp.plotting.plot_rf_significance": "its arrays are checked by the plotting "
    "helper exercised here through the other plot functions; bad coef/coef_std/level/z are "
    "tests/test_plot_rf_significance.py",
    "sklearn_lnp.analysis.compare_methods": "cross-validates four methods on a recording "
    "(about a minute); its recording goes through the recording checks exercised here by "
    "recording_design and its options are checked by the command's option loop",
    "sklearn_lnp.analysis.fit_history_glm": "fits four GLMs on 8 blocks of a sub-frame "
    "design; its recording and bin_width are checked by subframe_design (exercised here) and "
    "its other arguments in tests/test_history_glm.py",
    "sklearn_lnp.analysis.fit_smooth_lags": "runs the evidence fit on every fold; its "
    "recording goes through lagged_recording_design (exercised here), its bad options are "
    "tests/test_cli_smooth.py and tests/test_smooth.py",
    "sklearn_lnp.cli.UsageError": "an exception class",
    "sklearn_lnp.cli.build_parser": "takes no arguments; its options are looped over by "
    "test_every_command_option_refuses_bad_values",
    "sklearn_lnp.cli.main": "its options are looped over by "
    "test_every_command_option_refuses_bad_values",
    "sklearn_lnp.cli.run_fit": "called by main with parsed, checked options "
    "(test_every_command_option_refuses_bad_values)",
    "sklearn_lnp.cli.run_demo": "called by main with parsed, checked options "
    "(test_every_command_option_refuses_bad_values)",
}

# Wrong values accepted on purpose: {(spec glob, argument, category glob): reason}.
ACCEPTED: dict[tuple[str, str, str], str] = {
    ("sklearn_lnp.model_selection.BlockedTimeSeriesSplit", "X", "*"): "only the number of "
    "rows of X is used (as scikit-learn's splitters): its values and trailing dims are not read",
    ("sklearn_lnp.preprocessing.basis_coef_to_lags", "*", "[ni][an][nf]"): "a linear map of "
    "coefficients: NaN and inf propagate to the output, visibly",
    ("sklearn_lnp.decomposition.space_time_matrix", "coef", "[ni][an][nf]"): "a reshape of "
    "coefficients: NaN and inf propagate to the output, visibly",
    ("sklearn_lnp.*", "recording", "spike_times.empty"): "a recording without spikes is "
    "valid (every count 0); the fits refuse a y without spikes, naming y",
    ("sklearn_lnp.spikes.*", "*", "empty"): "no spike times is valid (every count 0); "
    "check_times takes min_length for callers that need some",
    ("sklearn_lnp.spikes.spike_triggered_average", "stimulus", "more_dims"): "a 3-d stimulus "
    "is (n_frames, rows, cols), as documented",
    ("sklearn_lnp.analysis.spike_time_sta", "recording", "stimulus.more_dims"): "a 3-d "
    "stimulus is (n_frames, rows, cols), as documented for spike_triggered_average",
    ("sklearn_lnp.simulation.simulate_glm_spikes", "history_filters", "*_dims"): "for the "
    "one neuron of the spec, (n_lags,) (the same self-history for every neuron) and "
    "(n_lags, 1, 1) (the [lag, source, target] form) are documented shapes of the same filter",
    ("sklearn_lnp.plotting.plot_history_gain", "filters", "fewer_dims"): "the spec's "
    "(n_lags, 1) filters flattened are (n_lags,), the documented shape of one filter",
    ("sklearn_lnp.datasets.recording_from_counts", "counts", "short"): "the stimulus may "
    "have more frames than there are counts (the extra frames get no trigger interval)",
}

# Defects this suite found and that are not fixed yet, each a class of causes:
# (spec glob, argument glob, category glob, regex of the problem, reason).  A case
# matching one is an expected failure (xfail) while it still fails *this way*; any
# other failure of the same case fails the test.  Delete a rule when it is fixed.
KNOWN: list[tuple[str, str, str, str, str]] = []

KINDS.setdefault(
    "lags",
    {
        "nan": "refuse",
        "inf": "refuse",
        "huge": "either",
        "negative": "refuse",
        "complex": "refuse",
        "words": "refuse",
        "more_dims": "refuse",
        "empty": "refuse",
        "fraction": "refuse",
    },
)
KINDS.setdefault("features", {**KINDS["matrix"], "extra_column": "refuse"})
KINDS.setdefault("nonnegative_int", {**KINDS["count_int"], "zero": "either"})
KINDS.setdefault(
    "recording",
    {
        f"{field}.{c}": e
        for field, kind in (
            ("stimulus", "matrix"),
            ("spike_times", "times"),
            ("trigger_times", "times"),
        )
        for c, e in KINDS[kind].items()
    },
)


def _bad(kind: str, valid) -> dict[str, object]:
    """Bad values of a kind, including the suite's own kinds (lags, features, recording)."""
    if kind == "lags":
        lags = np.asarray(valid)
        return {
            "nan": [0.0, np.nan],
            "inf": [0.0, np.inf],
            "huge": [0, 2**70],
            "negative": [-1, 0],
            "complex": [0, 1 + 1j],
            "words": ["zero", "one"],
            "more_dims": lags[:, None],
            "empty": [],
            "fraction": [0, 1.5],
        }
    if kind == "features":
        out = bad_values("matrix", valid)
        out["extra_column"] = np.column_stack([valid, valid[:, :1]])
        return out
    if kind == "nonnegative_int":
        out = bad_values("count_int", valid)
        out["zero"] = 0
        return out
    if kind == "recording":
        out = {}
        for field, field_kind in (
            ("stimulus", "matrix"),
            ("spike_times", "times"),
            ("trigger_times", "times"),
        ):
            for category, value in bad_values(field_kind, valid[field]).items():
                copy = Bunch(**valid)
                copy[field] = value
                out[f"{field}.{category}"] = copy
        return out
    return bad_values(kind, valid)


# -- discovery ---------------------------------------------------------------------------
def _public_objects() -> dict[str, object]:
    out = {}
    for module_name, names in public_api().items():
        module = importlib.import_module(module_name)
        for name in names:
            out[f"{module_name}.{name}"] = getattr(module, name)
    return out


def _discover():
    estimators, problems = {}, []
    for full, obj in _public_objects().items():
        if full in EXEMPT or full in FUNCTIONS:
            continue
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            try:
                estimators[full.rsplit(".", 1)[1]] = _estimator_factory(full.rsplit(".", 1)[1], obj)
            except LookupError as error:
                problems.append(str(error))
            continue
        problems.append(
            f"{full} is public but neither exercised nor exempt: add a Spec to FUNCTIONS of "
            "tests/test_bad_input_suite.py (how to call it validly and the kind of each "
            "argument), or an entry in EXEMPT with the reason."
        )
    return estimators, problems


ESTIMATORS, DISCOVERY_PROBLEMS = _discover()
SPECS = dict(FUNCTIONS)
for _name, (_make, _kind) in ESTIMATORS.items():
    SPECS.update(_estimator_specs(_name, _make, _kind))


ROW_KINDS = {"design", "counts", "target", "exposure", "weights", "rates"}

# The part of the loop in the fast set (``-m "not slow"``, ~300 cases): the main
# estimator, the lasso's fit, two metrics, binning, lags.  Everything else (every
# other spec, estimators registered later included) runs with the slow tests.
FAST_SPECS = {
    "PoissonLNPRegressor.fit",
    "PoissonLNPRegressor.predict",
    "PoissonLNPRegressor.score",
    "PoissonLNPRegressor.score[population]",
    "LassoLNPRegressor.fit",
    "sklearn_lnp.metrics.bits_per_spike",
    "sklearn_lnp.metrics.poisson_deviance",
    "sklearn_lnp.spikes.bin_spikes",
    "sklearn_lnp.preprocessing.check_lags",
    "LagTransformer.fit_transform",
}
FAST_COMMAND_VALUES = {"nan", "spike"}


def _row_aligned(spec) -> list[str]:
    return [a for a, k in spec.kinds.items() if k in ROW_KINDS]


def _cases():
    for spec_name, spec in SPECS.items():
        for argument, kind in spec.kinds.items():
            for category, expected in KINDS[kind].items():
                if category == "short" and len(_row_aligned(spec)) < 2:
                    continue  # a shorter input is only wrong beside other rows
                slow = spec.slow or spec_name not in FAST_SPECS
                marks = [pytest.mark.slow] if slow else []
                yield pytest.param(
                    spec_name,
                    argument,
                    category,
                    expected,
                    marks=marks,
                    id=f"{spec_name}-{argument}-{category}",
                )


def test_every_public_callable_is_exercised_or_exempt():
    assert not DISCOVERY_PROBLEMS, "\n".join(DISCOVERY_PROBLEMS)
    public = set(_public_objects())
    stale = sorted((set(FUNCTIONS) | set(EXEMPT)) - public)
    assert not stale, f"entries for names that are not public (any more): {stale}"
    assert not set(FUNCTIONS) & set(EXEMPT)


def _matches(patterns, spec_name, argument, category) -> str | None:
    for (spec_glob, argument_glob, category_glob), reason in patterns:
        if (
            fnmatch.fnmatchcase(spec_name, spec_glob)
            and fnmatch.fnmatchcase(argument, argument_glob)
            and fnmatch.fnmatchcase(category, category_glob)
        ):
            return reason
    return None


@pytest.mark.parametrize("spec_name, argument, category, expected", list(_cases()))
def test_bad_input(spec_name, argument, category, expected):
    spec = SPECS[spec_name]
    if _matches(ACCEPTED.items(), spec_name, argument, category):
        expected = "either"
    valid = spec.valid()[argument]
    value = _bad(KINDS_OF[(spec_name, argument)], valid)[category]
    problem = check_outcome(spec, argument, category, value, expected)
    if problem is None:
        return
    for spec_glob, argument_glob, category_glob, regex, reason in KNOWN:
        if _matches(
            [((spec_glob, argument_glob, category_glob), reason)], spec_name, argument, category
        ) and re.search(regex, problem):
            pytest.xfail(f"known: {reason} [{problem[:200]}]")
    pytest.fail(f"{spec_name}({argument}={category}): {problem}")


KINDS_OF = {(name, a): k for name, spec in SPECS.items() for a, k in spec.kinds.items()}


# -- every command option ----------------------------------------------------------------
class _Reached(Exception):
    """An analysis step was reached: the options were accepted."""


def _command_options():
    """(sub-command, option, kind) of every option of ``sklearn-lnp`` that takes a value."""
    import argparse

    from sklearn_lnp.cli import build_parser

    for action in build_parser()._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for command, parser in action.choices.items():
            for option in parser._actions:
                if not option.option_strings or option.nargs == 0:
                    continue
                if option.choices is not None:
                    kind = "choice"
                elif option.type is None:
                    kind = "text"  # names and paths: any word is a valid one
                else:
                    kind = "number"
                yield command, option.option_strings[-1], kind


# Values tried on each option, and whether each must be refused for a kind.
COMMAND_VALUES = {
    "nan": {"number": "refuse", "choice": "refuse", "text": "either"},
    "inf": {"number": "refuse", "choice": "refuse", "text": "either"},
    "-inf": {"number": "refuse", "choice": "refuse", "text": "either"},
    "1+2j": {"number": "refuse", "choice": "refuse", "text": "either"},
    "spike": {"number": "refuse", "choice": "refuse", "text": "either"},
    "": {"number": "refuse", "choice": "refuse", "text": "either"},
    "-1": {"number": "either", "choice": "refuse", "text": "either"},
    "0": {"number": "either", "choice": "refuse", "text": "either"},
    "1e300": {"number": "either", "choice": "refuse", "text": "either"},
    "2.5": {"number": "either", "choice": "refuse", "text": "either"},
}


def _command_cases():
    for command, option, kind in _command_options():
        for value, expected in COMMAND_VALUES.items():
            marks = [] if value in FAST_COMMAND_VALUES else [pytest.mark.slow]
            yield pytest.param(
                command,
                option,
                value,
                expected[kind],
                marks=marks,
                id=f"{command}-{option}={value}",
            )


def test_command_options_are_discovered():
    found = {(c, o) for c, o, _ in _command_options()}
    assert ("fit", "--lags") in found and ("demo", "--n-frames") in found


@pytest.mark.parametrize("command, option, value, expected", list(_command_cases()))
def test_every_command_option_refuses_bad_values(
    command, option, value, expected, tmp_path, monkeypatch, capsys
):
    """A bad value: exit 2 and one error line naming the option, before any work."""
    from sklearn_lnp import cli
    from sklearn_lnp.datasets import save_recording

    def reached(*args, **kwargs):
        raise _Reached

    for step in (*ANALYSIS_STEPS, "fit_simulated_neuron"):
        patch_step(monkeypatch, step, reached)
    monkeypatch.chdir(tmp_path)
    argv = [command]
    if command == "fit":
        save_recording(tmp_path / "cell.mat", recording())
        argv.append(str(tmp_path / "cell.mat"))
    argv += ["--out", str(tmp_path / "out")] if option != "--out" else []
    argv += [f"{option}={value}", "--quiet"]

    def call():
        try:
            return cli.main(argv)
        except SystemExit as exit_:
            return exit_.code

    status, error, record = run_with_watchdog(call)
    err = capsys.readouterr().err
    numeric = [w for w in record if issubclass(w.category, RuntimeWarning)]
    assert not numeric, f"{option}={value!r}: {numeric[0].message}"
    if isinstance(error, _Reached) or (error is None and status == 0):
        assert expected == "either", f"{option}={value!r} was accepted"
        return
    if error is not None:
        raise error
    assert status == 2, (status, err)
    lines = [line for line in err.strip().splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert option in lines[0], f"{option}={value!r}: the message does not name it: {err}"


# -- y of shape (n, 1) -------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n, marks=[] if n in ("PoissonLNPRegressor", "STAEstimator") else [pytest.mark.slow]
        )
        for n, (_, kind) in ESTIMATORS.items()
        if kind == "regressor"
    ],
)
def test_column_y_is_a_population_of_one_for_every_estimator(name):
    """The rule of docs/user_guide/data_conventions.rst, for every public regressor.

    Estimators that fit several neurons (``multi_output`` tag) treat y of shape (n, 1)
    as a population of one (coef_ (1, p), predictions (n, 1)); single-neuron
    estimators ravel it with scikit-learn's DataConversionWarning.  Both give the
    numbers of the 1-d fit.
    """
    from sklearn.exceptions import DataConversionWarning

    make, _ = ESTIMATORS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        single = make().fit(X(), y(), exposure=exposure())
    column = y()[:, None]
    population = _fitted_population_supported(name)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = make().fit(X(), column, exposure=exposure())
    converted = [w for w in record if issubclass(w.category, DataConversionWarning)]
    prediction = model.predict(X(), exposure=exposure())
    # the same solver path on the same numbers (one column of a population):
    # equal up to the order of summation in the population code
    if population:
        assert not converted
        assert np.shape(model.coef_) == (1, P)
        assert prediction.shape == (N, 1)
        np.testing.assert_allclose(model.coef_[0], single.coef_, rtol=1e-7, atol=1e-9)
    else:
        assert converted, "a single-neuron estimator ravels (n, 1) with a DataConversionWarning"
        assert np.shape(model.coef_) == np.shape(single.coef_)
        assert prediction.shape == (N,)
        np.testing.assert_allclose(model.coef_, single.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        np.ravel(prediction), single.predict(X(), exposure=exposure()), rtol=1e-7
    )
    score = model.score(X(), column, exposure=exposure())
    assert score == pytest.approx(single.score(X(), y(), exposure=exposure()), rel=1e-7)
