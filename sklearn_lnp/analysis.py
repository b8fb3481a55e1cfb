"""The analyses of a recording, as functions that return their results.

Each function runs one analysis that the ``sklearn-lnp`` command and the
lab's notebook run, and returns a :class:`~sklearn.utils.Bunch` of the fitted
models, arrays, cross-validation scores, chosen penalties, RF peaks and
timings.  None prints or writes files: the command turns the results into
JSON and figures.

* :func:`fit_simulated_neuron`: the textbook LNP neuron, simulated and fitted.
* :func:`fit_lags_separately`: one L2 model per lag (the lab's recipe).
* :func:`fit_lags_jointly`: one L2 model of all lags, with slow-drift regressors.
* :func:`separate_space_time_rf`: spatial map and temporal kernel (rank-1 SVD).
* :func:`fit_l1_lags`: L1 fits of all lags over a path of penalties, alpha by CV.
* :func:`spike_time_sta`: the spike-triggered average at sub-frame delays.
* :func:`held_out_scores` and :func:`compare_methods`: every method's held-out
  gain on the same blocked folds, with paired standard errors
  (:func:`~sklearn_lnp.metrics.compare_held_out`).
* :func:`fit_history_glm`: what spike history adds, held out, at sub-frame bins.
* :func:`fit_smooth_lags`: the evidence-optimised smoothness prior on all lags,
  compared fold by fold with ridge.

The long steps take ``progress``, a function called with one line per fold
(e.g. ``"STA fold 3/5: +0.021 bits/spike"``); the command prints them on
stderr.

A recording's fits all use :func:`~sklearn_lnp.datasets.lagged_recording_design`
(bin ``k`` sees frame ``k + frame_offset - L`` at lag ``L``).  A penalty given
as a sequence is chosen by :func:`fit_poisson_alpha_cv`: ``GridSearchCV`` over
``BlockedTimeSeriesSplit`` folds (contiguous test blocks, a gap of the largest
lag on each side), scored by held-out bits per spike with the bin widths routed
to the fits and the scorer.
"""

from __future__ import annotations

import contextlib
import io
import numbers
import time
from collections.abc import Callable, Sequence

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils import Bunch
from sklearn.utils._param_validation import validate_params

from ._validation import MAX_ABS_X, POSITIVE, as_real_array, check_counts, check_exposure
from .datasets import lagged_recording_design, make_lnp_neuron, subframe_design
from .decomposition import separate_space_time, space_time_matrix
from .linear_model import LassoLNPCV, PoissonLNPRegressor, SmoothLNPRegressor, lasso_lnp_path
from .metrics import LNPScorer, bits_per_spike, compare_held_out, get_scorer
from .model_selection import BlockedTimeSeriesSplit
from .preprocessing import (
    LagTransformer,
    RaisedCosineBasis,
    SlowDriftFeatures,
    SpikeHistoryTransformer,
)
from .spikes import check_times, spike_triggered_average
from .sta import STAEstimator

Progress = Callable[[str], None]

__all__ = [
    "compare_methods",
    "constant_rate_cv_scores",
    "fit_history_glm",
    "fit_l1_lags",
    "fit_lags_jointly",
    "fit_lags_separately",
    "fit_poisson_alpha_cv",
    "fit_simulated_neuron",
    "fit_smooth_lags",
    "held_out_scores",
    "interpolating_drift_regressors",
    "rf_peak",
    "separate_space_time_rf",
    "slow_drift_regressors",
    "spike_time_sta",
]


def rf_peak(image: np.ndarray) -> tuple[int, int]:
    """Row and column of the largest absolute value of a 2-d map.

    Parameters
    ----------
    image : ndarray of shape (rows, cols)

    Returns
    -------
    tuple of int (row, col)
        0-based; the first one in C order when several tie.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.analysis import rf_peak
    >>> rf_peak(np.array([[0.1, -0.2, 0.0], [0.0, 0.3, -0.9]]))
    (1, 2)
    """
    image = as_real_array(image, "image", "weights (real numbers)")
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"image must be a non-empty 2-d array (rows, cols); got {image.shape}.")
    if not np.all(np.isfinite(image)):
        raise ValueError("image must be finite; found NaN or infinite values.")
    row, col = np.unravel_index(int(np.argmax(np.abs(image))), image.shape)
    return int(row), int(col)


def _check_binned(counts, exposure, X=None) -> tuple[np.ndarray, np.ndarray]:
    """``counts`` and ``exposure`` of one neuron's bins as float64 vectors, checked.

    ``counts`` must be 1-d and non-empty, ``exposure`` one positive width per
    count (or a scalar) and ``X``, when given, 2-d with one row per count;
    each refusal is a ValueError naming the argument.
    """
    counts = check_counts(counts, "counts")
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(
            f"counts must be 1-d and non-empty (one count per bin); got shape {counts.shape}."
        )
    exposure = check_exposure(exposure, counts.shape[0])
    if np.max(exposure) > MAX_ABS_X:
        # A log rate offset this large overflows the held-out scores.
        raise ValueError(
            f"exposure (bin widths) must be at most {MAX_ABS_X:g}; got {np.max(exposure):.3g}."
        )
    if X is not None:
        shape = X.shape if hasattr(X, "shape") else np.shape(X)
        if len(shape) != 2 or shape[0] != counts.shape[0]:
            raise ValueError(
                f"X must be 2-d with one row per count ({counts.shape[0]} counts); got shape "
                f"{shape}."
            )
    return counts, exposure


def constant_rate_cv_scores(
    counts: np.ndarray, exposure: np.ndarray, *, n_splits: int = 5, gap: int = 0
) -> np.ndarray:
    """Held-out bits per spike of a model without stimulus, on the blocked CV folds.

    The baseline of a cross-validation curve: on each fold of
    ``BlockedTimeSeriesSplit(n_splits, gap=gap)``, the constant rate of the
    training blocks (spikes per second) predicts the test block, scored like
    the models (bits per spike against the test block's own mean rate, so it
    is at most 0, and below 0 when the rate drifts).  A model helps only where
    its score is above this one.

    Parameters
    ----------
    counts : ndarray of shape (n_bins,)
    exposure : ndarray of shape (n_bins,)
        Bin widths (s).
    n_splits : int, default=5
    gap : int, default=0

    Returns
    -------
    ndarray of shape (n_splits,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.analysis import constant_rate_cv_scores
    >>> counts = np.r_[np.full(50, 4.0), np.full(50, 2.0)]     # the rate halves
    >>> constant_rate_cv_scores(counts, np.ones(100), n_splits=2).round(3).tolist()
    [-0.279, -0.443]
    """
    counts, exposure = _check_binned(counts, exposure)
    scores = []
    for train, test in BlockedTimeSeriesSplit(n_splits, gap=gap).split(counts.reshape(-1, 1)):
        rate = counts[train].sum() / exposure[train].sum()
        scores.append(bits_per_spike(counts[test], rate * exposure[test], exposure=exposure[test]))
    return np.array(scores, dtype=np.float64)


class _FoldProgressScorer(LNPScorer):
    """The ``"bits_per_spike"`` scorer of a sequential ``GridSearchCV`` that reports each fold.

    ``GridSearchCV`` scores candidate by candidate, fold by fold within each
    (with ``n_jobs=None``), so the calls count the folds.
    """

    def __init__(self, progress: Progress, n_splits: int, label: str):
        super().__init__(bits_per_spike, name="bits_per_spike")
        self.progress, self.n_splits, self.label, self.calls = progress, n_splits, label, 0

    def __call__(self, estimator, X, y_true, sample_weight=None, exposure=None) -> float:
        score = super().__call__(estimator, X, y_true, sample_weight, exposure)
        fold = self.calls % self.n_splits + 1
        self.calls += 1
        alpha = getattr(estimator, "alpha", None)
        where = f"alpha {alpha:g}, " if alpha is not None else ""
        self.progress(
            f"{self.label}{where}fold {fold}/{self.n_splits}: {score:+.3f} bits/spike "
            "(null: the test block's rate)"
        )
        return score


class _ForwardFoldLines(io.TextIOBase):
    """Stdout of a verbose ``LassoLNPCV``: its per-fold lines go to ``progress``, the rest away."""

    def __init__(self, progress: Progress, label: str):
        self.progress, self.label, self.pending = progress, label, ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if line.startswith("[LassoLNPCV] fold"):
                self.progress(self.label + line.removeprefix("[LassoLNPCV] "))
        return len(text)


def held_out_scores(
    estimator,
    X,
    counts: np.ndarray,
    exposure: np.ndarray,
    *,
    n_splits: int = 5,
    gap: int = 0,
    progress: Progress | None = None,
    label: str = "",
) -> np.ndarray:
    """Held-out gain of ``estimator`` over the constant training rate, fold by fold.

    On each fold of ``BlockedTimeSeriesSplit(n_splits, gap=gap)`` a clone of
    ``estimator`` is fitted to the training blocks with their bin widths and
    scored on the test block by :func:`~sklearn_lnp.metrics.bits_per_spike`
    with the training blocks' constant rate as null
    (``get_scorer("bits_per_spike", null="train")``): positive where the
    model predicts the test block better than that rate.  These are the
    inputs of :func:`~sklearn_lnp.metrics.compare_held_out`.

    Parameters
    ----------
    estimator : LNP estimator
        Fitted as ``fit(X, y, exposure=e)`` (e.g. ``PoissonLNPRegressor``,
        ``STAEstimator``, ``SVDSeparator``).
    X : {ndarray, sparse matrix} of shape (n_bins, n_features)
        Design, rows in temporal order.
    counts : ndarray of shape (n_bins,)
    exposure : ndarray of shape (n_bins,)
        Bin widths (s).
    n_splits : int, default=5
    gap : int, default=0
        Bins left out on each side of a test block (use the largest lag).
    progress : callable, optional
        Called with one line per fold, e.g. ``"fold 3/5: +0.021 bits/spike"``.
    label : str, default=""
        Prefix of the progress lines.

    Returns
    -------
    ndarray of shape (n_splits,)
        Bits per spike.

    Examples
    --------
    >>> from sklearn_lnp import PoissonLNPRegressor
    >>> from sklearn_lnp.analysis import held_out_scores
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> neuron = make_lnp_neuron(n_frames=1500, frame_shape=(6, 6), random_state=0)
    >>> gains = held_out_scores(PoissonLNPRegressor(alpha=0.01), neuron.stimulus,
    ...                         neuron.counts, neuron.exposure, progress=print)
    ... # doctest: +ELLIPSIS
    fold 1/5: +0... bits/spike
    ...
    fold 5/5: +0... bits/spike
    >>> gains.shape, bool(gains.min() > 0)
    ((5,), True)
    """
    counts, exposure = _check_binned(counts, exposure, X)
    scorer = get_scorer("bits_per_spike", null="train")
    scores = []
    for k, (train, test) in enumerate(BlockedTimeSeriesSplit(n_splits, gap=gap).split(X)):
        model = clone(estimator).fit(X[train], counts[train], exposure=exposure[train])
        scores.append(scorer(model, X[test], counts[test], exposure=exposure[test]))
        if progress is not None:
            progress(f"{label}fold {k + 1}/{n_splits}: {scores[-1]:+.3f} bits/spike")
    return np.array(scores, dtype=np.float64)


def _timed_fit(model, X, y, exposure):
    start = time.perf_counter()
    model.fit(X, y, exposure=exposure)
    return model, time.perf_counter() - start


def fit_poisson_alpha_cv(
    X: np.ndarray,
    counts: np.ndarray,
    exposure: np.ndarray,
    alpha: float | Sequence[float],
    *,
    gap: int = 0,
    n_splits: int = 5,
    solver: str = "auto",
    verbose: int = 0,
    progress: Progress | None = None,
    label: str = "",
) -> Bunch:
    """Fit a :class:`~sklearn_lnp.PoissonLNPRegressor`, its L2 penalty chosen by blocked CV.

    A number ``alpha`` is used as it is.  A sequence is searched by
    ``GridSearchCV`` over ``BlockedTimeSeriesSplit(n_splits, gap=gap)`` with
    the ``"bits_per_spike"`` scorer of :mod:`sklearn_lnp.metrics`, the
    exposure routed to every fit and score; the best alpha (the smallest of
    ties) is then refitted on all bins.

    Parameters
    ----------
    X : ndarray of shape (n_bins, n_features)
        Design, rows in temporal order.
    counts : ndarray of shape (n_bins,)
        Spike counts.
    exposure : ndarray of shape (n_bins,)
        Bin widths (s).
    alpha : float or sequence of float
        The penalty (scikit-learn's mean-NLL scaling), or the grid to choose it from.
    gap : int, default=0
        Bins left out on each side of a test block (use the largest lag).
    n_splits : int, default=5
        Contiguous test blocks.
    solver : str, default="auto"
        ``PoissonLNPRegressor`` solver.
    verbose : int, default=0
        Solver log of the final fit.
    progress : callable, optional
        Called with one line per alpha and fold of the search, e.g.
        ``"alpha 10, fold 3/5: -0.121 bits/spike (null: the test block's
        rate)"``, the held-out score of the search.
    label : str, default=""
        Prefix of the progress lines.

    Returns
    -------
    Bunch
        ``model`` (fitted on all bins), ``alpha`` (float), ``alphas``
        (n_alphas,) the grid in increasing order or None, ``best_index``
        (the position of ``alpha`` in it) or None, ``cv_scores``
        (n_alphas, n_splits) held-out bits per spike or None,
        ``mean_cv_scores`` (n_alphas,) or None, ``baseline_cv_scores``
        (n_splits,) the :func:`constant_rate_cv_scores` on the same folds or
        None, ``search`` (the fitted ``GridSearchCV``, without refit, or
        None), ``cv_seconds`` and ``fit_seconds`` (wall time in s).

    Examples
    --------
    >>> from sklearn_lnp.analysis import fit_poisson_alpha_cv
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> neuron = make_lnp_neuron(n_frames=600, frame_shape=(6, 6), random_state=0)
    >>> fit = fit_poisson_alpha_cv(neuron.stimulus, neuron.counts, neuron.exposure,
    ...                            [0.001, 1.0, 100.0], n_splits=3)
    >>> fit.cv_scores.shape, bool(fit.alpha == fit.alphas[fit.mean_cv_scores.argmax()])
    ((3, 3), True)
    """
    counts, exposure = _check_binned(counts, exposure, X)
    alpha = as_real_array(alpha, "alpha", "penalty strengths (real numbers)")
    if np.ndim(alpha) == 0:
        model = PoissonLNPRegressor(alpha=float(alpha), solver=solver, verbose=verbose)
        model, fit_seconds = _timed_fit(model, X, counts, exposure)
        return Bunch(
            model=model,
            alpha=float(alpha),
            alphas=None,
            best_index=None,
            cv_scores=None,
            mean_cv_scores=None,
            baseline_cv_scores=None,
            search=None,
            cv_seconds=0.0,
            fit_seconds=fit_seconds,
        )
    alphas = np.sort(np.asarray(alpha, dtype=np.float64))
    start = time.perf_counter()
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            PoissonLNPRegressor(solver=solver).set_fit_request(exposure=True),
            {"alpha": alphas.tolist()},
            cv=BlockedTimeSeriesSplit(n_splits, gap=gap),
            scoring=get_scorer("bits_per_spike")
            if progress is None
            else _FoldProgressScorer(progress, n_splits, label),
            refit=False,
            error_score="raise",
        ).fit(X, counts, exposure=exposure)
    cv_seconds = time.perf_counter() - start
    cv_scores = np.column_stack(
        [search.cv_results_[f"split{k}_test_score"] for k in range(n_splits)]
    )
    best = float(search.best_params_["alpha"])
    model = PoissonLNPRegressor(alpha=best, solver=solver, verbose=verbose)
    model, fit_seconds = _timed_fit(model, X, counts, exposure)
    return Bunch(
        model=model,
        alpha=best,
        alphas=alphas,
        best_index=int(search.best_index_),
        cv_scores=cv_scores,
        mean_cv_scores=cv_scores.mean(axis=1),
        baseline_cv_scores=constant_rate_cv_scores(counts, exposure, n_splits=n_splits, gap=gap),
        search=search,
        cv_seconds=cv_seconds,
        fit_seconds=fit_seconds,
    )


def fit_simulated_neuron(
    n_frames: int = 5000, *, random_state: int | None = 0, verbose: int = 0
) -> Bunch:
    """Simulate the textbook LNP neuron and fit it as the model is written.

    :func:`~sklearn_lnp.datasets.make_lnp_neuron` (15 x 15 Gaussian RF,
    bins of 0.1 s, a mean rate of about 27 spikes/s) fitted by
    ``PoissonLNPRegressor(fit_intercept=False)`` with ``exposure = dt * R``.

    Parameters
    ----------
    n_frames : int, default=5000
        Frames (= bins) simulated: 500 s, about 13,000 spikes (correlation of
        the fitted and the true RF 0.975-0.984 over seeds 0-19).
    random_state : int or None, default=0
        Seed of the simulation.
    verbose : int, default=0
        Solver log.

    Returns
    -------
    Bunch
        ``neuron`` (the simulation, see ``make_lnp_neuron``), ``model`` (the
        fitted ``PoissonLNPRegressor``), ``rf_correlation`` (correlation of
        the true and the fitted RF over the 225 pixels) and ``fit_seconds``.

    Examples
    --------
    >>> from sklearn_lnp.analysis import fit_simulated_neuron
    >>> result = fit_simulated_neuron(2000, random_state=0)    # r = 0.94-0.95
    >>> result.model.coef_.shape, bool(result.rf_correlation > 0.9)
    ((225,), True)
    """
    neuron = make_lnp_neuron(n_frames, random_state=random_state)
    model = PoissonLNPRegressor(fit_intercept=False, verbose=verbose)
    model, fit_seconds = _timed_fit(model, neuron.stimulus, neuron.counts, neuron.exposure)
    correlation = float(np.corrcoef(model.coef_, neuron.rf.ravel())[0, 1])
    return Bunch(neuron=neuron, model=model, rf_correlation=correlation, fit_seconds=fit_seconds)


def _fit_design(recording, lags, frame_offset: int) -> Bunch:
    """The lagged design of a recording, refusing a recording without spikes to fit.

    A design without spikes is valid (every count 0), but no rate model can
    be fitted to it: the refusal names the recording's spike times rather
    than the design's ``y``.
    """
    design = lagged_recording_design(recording, lags, frame_offset=frame_offset)
    if not np.any(design.counts > 0):
        raise ValueError(
            f"recording.spike_times has no spike inside the trigger intervals paired with "
            f"a stimulus frame ({design.n_spikes_outside} outside the triggers, "
            f"{design.n_spikes_dropped_frames} in bins without a frame): there is no rate "
            "to fit."
        )
    return design


def _lag_maps(coef: np.ndarray, n_lags: int, frame_shape) -> tuple[np.ndarray, list]:
    """Lag-major RF weights as (n_lags, rows, cols) maps, and each map's peak."""
    maps = np.asarray(coef).reshape(n_lags, *frame_shape)
    return maps, [rf_peak(image) for image in maps]


def fit_lags_separately(
    recording: Bunch,
    lags: Sequence[int] = (0,),
    *,
    alpha: float | Sequence[float] = 0.0,
    frame_offset: int = 0,
    n_splits: int = 5,
    gap: int | None = None,
    verbose: int = 0,
    progress: Progress | None = None,
) -> Bunch:
    """One L2 Poisson GLM per lag, on that lag's frames alone (the lab's recipe).

    Parameters
    ----------
    recording : Bunch
        As returned by :func:`~sklearn_lnp.datasets.load_recording`.
    lags : sequence of int, default=(0,)
        Lags in frames; lag ``L`` pairs bin ``k`` with frame ``k + frame_offset - L``.
    alpha : float or sequence of float, default=0.0
        L2 penalty, or a grid to choose it from for each lag by blocked CV
        (see :func:`fit_poisson_alpha_cv`).
    frame_offset : int, default=0
        Bin ``k`` pairs with frame ``k + frame_offset`` at lag 0.
    n_splits : int, default=5
    gap : int, optional
        Bins between test and training blocks; ``max(lags)`` by default, so
        that every lag is scored on the same folds as a joint fit of ``lags``.
    verbose : int, default=0
    progress : callable, optional
        Called with one line per alpha and fold of each lag's search (see
        :func:`fit_poisson_alpha_cv`).

    Returns
    -------
    Bunch
        ``lags`` (n_lags,); ``fits``: one :func:`fit_poisson_alpha_cv` Bunch
        per lag (``model``, ``alpha``, CV scores, timings); ``alphas``
        (n_lags,) the penalties used; ``maps`` (n_lags, rows, cols) the
        weights in log rate per unit contrast; ``peaks`` the (row, col) of
        each map's largest |weight|; ``fit_seconds`` (n_lags,); ``design``
        (the :func:`~sklearn_lnp.datasets.lagged_recording_design` of ``lags``).

    Examples
    --------
    A simulated neuron with a Gaussian RF at (row 1, col 2) of 4 x 5 pixels
    and a biphasic temporal kernel, each lag's penalty chosen from two:

    >>> from sklearn_lnp.analysis import fit_lags_separately
    >>> from sklearn_lnp.datasets import make_separable_neuron, recording_from_counts
    >>> neuron = make_separable_neuron(1500, frame_shape=(4, 5), rf_center=(1, 2),
    ...                                random_state=0)
    >>> recording = recording_from_counts(neuron.stimulus, neuron.counts, frame_shape=(4, 5),
    ...                                   random_state=0)
    >>> result = fit_lags_separately(recording, lags=[0, 2], alpha=[0.01, 1.0])
    >>> result.peaks, result.maps.shape, result.fits[0].cv_scores.shape
    ([(1, 2), (1, 2)], (2, 4, 5), (2, 5))
    >>> bool(result.maps[0][1, 2] > 0 > result.maps[1][1, 2])   # ON at lag 0, OFF at lag 2
    True
    """
    design = _fit_design(recording, lags, frame_offset)
    n_pixels = int(np.prod(design.frame_shape))
    gap = int(max(design.lags)) if gap is None else gap
    fits = []
    for k in range(design.lags.size):
        block = design.X[:, k * n_pixels : (k + 1) * n_pixels]
        fits.append(
            fit_poisson_alpha_cv(
                block,
                design.counts,
                design.exposure,
                alpha,
                gap=gap,
                n_splits=n_splits,
                verbose=verbose,
                progress=progress,
                label=f"lag {design.lags[k]}: ",
            )
        )
    coef = np.concatenate([fit.model.coef_ for fit in fits])
    maps, peaks = _lag_maps(coef, design.lags.size, design.frame_shape)
    return Bunch(
        lags=design.lags,
        fits=fits,
        alphas=np.array([fit.alpha for fit in fits]),
        maps=maps,
        peaks=peaks,
        fit_seconds=np.array([fit.fit_seconds for fit in fits]),
        design=design,
    )


def slow_drift_regressors(exposure: np.ndarray, n_basis: int = 6) -> np.ndarray:
    """Legendre polynomials of time that absorb a slow drift of the firing rate.

    :class:`~sklearn_lnp.SlowDriftFeatures` of the bin centres, the
    recording's span mapped to ``[-1, 1]``.

    Parameters
    ----------
    exposure : ndarray of shape (n_bins,)
        Widths (s) of consecutive bins.
    n_basis : int, default=6
        Polynomials (degrees 1 to ``n_basis``).

    Returns
    -------
    ndarray of shape (n_bins, n_basis)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.analysis import slow_drift_regressors
    >>> slow_drift_regressors(np.full(4, 0.5), n_basis=2).shape
    (4, 2)
    """
    exposure = as_real_array(exposure, "exposure", "bin widths (real numbers)")
    if exposure.ndim != 1 or exposure.size == 0:
        raise ValueError(f"exposure must be 1-d and non-empty; got shape {exposure.shape}.")
    exposure = check_exposure(exposure, exposure.shape[0])
    times = (np.cumsum(exposure) - exposure / 2).reshape(-1, 1)
    span = (0.0, float(np.sum(exposure)))
    return SlowDriftFeatures(n_basis=n_basis, time_range=span).fit_transform(times)


def fit_lags_jointly(
    recording: Bunch,
    lags: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    alpha: float | Sequence[float] = (1.0, 10.0, 100.0),
    n_drift: int = 6,
    center: str = "none",
    frame_offset: int = 0,
    n_splits: int = 5,
    gap: int | None = None,
    verbose: int = 0,
    progress: Progress | None = None,
) -> Bunch:
    """One L2 Poisson GLM of all lags at once, with the slow rate drift modelled.

    The design is the lagged recording (every bin with its true stimulus
    history) beside ``n_drift`` :func:`slow_drift_regressors`; the model is
    fitted by L-BFGS.  ``alpha`` as a sequence is chosen by blocked CV (see
    :func:`fit_poisson_alpha_cv`).

    Parameters
    ----------
    recording : Bunch
        As returned by :func:`~sklearn_lnp.datasets.load_recording`.
    lags : sequence of int, default=(0, 1, 2, 3, 4)
    alpha : float or sequence of float, default=(1.0, 10.0, 100.0)
        L2 penalty, or the grid to choose it from.
    n_drift : int, default=6
        Slow-drift regressors (0: none).
    center : {"none", "over_pixels", "over_lags", "both"}, default="none"
        Centring of the RF before its rank-1 SVD (see
        :mod:`sklearn_lnp.decomposition`); ``"none"`` keeps the kernel's
        shape, ``"over_lags"`` forces it to sum to zero.
    frame_offset : int, default=0
    n_splits : int, default=5
    gap : int, optional
        ``max(lags)`` by default: no training bin shares a frame with a test bin.
    verbose : int, default=0
    progress : callable, optional
        Called with one line per alpha and fold of the search (see
        :func:`fit_poisson_alpha_cv`).

    Returns
    -------
    Bunch
        ``lags`` (n_lags,); ``fit``, the :func:`fit_poisson_alpha_cv` Bunch
        (``model``, ``alpha``, ``alphas``, ``cv_scores``, ``mean_cv_scores``,
        ``cv_seconds``, ``fit_seconds``); ``alpha``; ``coef`` (n_lags *
        n_pixels,) the lag-major RF weights (log rate per unit contrast),
        without the drift's; ``maps`` (n_lags, rows, cols); ``peaks`` (row,
        col) per lag; ``separation``, the :func:`separate_space_time_rf` of the
        RF centred by ``center`` (None for one lag); ``n_drift``;
        ``frame_duration`` (mean bin width, s); ``seconds`` (CV and final
        fit, s); ``design``.

    Examples
    --------
    A simulated neuron with a Gaussian RF at (row 1, col 2) of 4 x 5 pixels
    and a biphasic temporal kernel (positive at lag 0, negative at lag 2):

    >>> from sklearn_lnp.analysis import fit_lags_jointly
    >>> from sklearn_lnp.datasets import make_separable_neuron, recording_from_counts
    >>> neuron = make_separable_neuron(1500, frame_shape=(4, 5), rf_center=(1, 2),
    ...                                random_state=0)
    >>> recording = recording_from_counts(neuron.stimulus, neuron.counts, frame_shape=(4, 5),
    ...                                   random_state=0)
    >>> result = fit_lags_jointly(recording, alpha=[0.01, 1.0], n_drift=2)
    >>> result.coef.shape, result.fit.model.coef_.shape, result.fit.cv_scores.shape
    ((100,), (102,), (2, 5))
    >>> kernel = result.separation.temporal
    >>> result.separation.peak, bool(kernel[0] > 0 > kernel[2])
    ((1, 2), True)
    """
    design = _fit_design(recording, lags, frame_offset)
    X = design.X
    if n_drift:
        X = np.hstack([X, slow_drift_regressors(design.exposure, n_drift)])
    gap = int(max(design.lags)) if gap is None else gap
    fit = fit_poisson_alpha_cv(
        X,
        design.counts,
        design.exposure,
        alpha,
        gap=gap,
        n_splits=n_splits,
        solver="lbfgs",
        verbose=verbose,
        progress=progress,
    )
    coef = fit.model.coef_[: design.X.shape[1]]
    n_lags = design.lags.size
    maps, peaks = _lag_maps(coef, n_lags, design.frame_shape)
    separation = None
    if n_lags > 1:
        W = space_time_matrix(coef, n_lags)
        separation = separate_space_time_rf(W, design.frame_shape, center=center)
    return Bunch(
        lags=design.lags,
        fit=fit,
        alpha=fit.alpha,
        coef=coef,
        maps=maps,
        peaks=peaks,
        separation=separation,
        n_drift=int(n_drift),
        frame_duration=float(np.mean(design.exposure)),
        seconds=fit.cv_seconds + fit.fit_seconds,
        design=design,
    )


def separate_space_time_rf(
    W: np.ndarray, frame_shape: tuple[int, int], *, center: str = "none"
) -> Bunch:
    """Rank-1 separation of a space-time RF into a spatial map and a temporal kernel.

    :func:`~sklearn_lnp.decomposition.separate_space_time` (SVD after the
    centring ``center``), with the first component as an image and its peaks.

    Parameters
    ----------
    W : ndarray of shape (n_pixels, n_lags)
        Pixels x lags (or x delays) RF; for lag-major weights use
        :func:`~sklearn_lnp.decomposition.space_time_matrix`.
    frame_shape : tuple of int (rows, cols)
    center : {"none", "over_pixels", "over_lags", "both"}, default="none"
        Mean removed before the SVD; ``"over_lags"`` and ``"both"`` make the
        kernel sum to zero (see :mod:`sklearn_lnp.decomposition`).

    Returns
    -------
    Bunch
        ``spatial`` (n_pixels,) and ``spatial_map`` (rows, cols) the
        unit-norm spatial component; ``temporal`` (n_lags,) the unit-norm
        kernel; ``peak`` (row, col) of the map; ``temporal_peak`` the index of
        the kernel's largest |value|; ``singular_values`` and
        ``explained_variance_ratio`` (min(n_pixels, n_lags),); ``center``;
        ``svd`` (the full result of ``separate_space_time``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.analysis import separate_space_time_rf
    >>> spatial = np.zeros((3, 4))
    >>> spatial[1, 2] = 1.0
    >>> W = np.outer(spatial.ravel(), [1.0, 0.2, -0.5])           # pixels x lags
    >>> result = separate_space_time_rf(W, (3, 4))
    >>> result.peak, result.temporal_peak, result.temporal.round(2).tolist()
    ((1, 2), 0, [0.88, 0.18, -0.44])
    """
    svd = separate_space_time(W, center=center, frame_shape=frame_shape)
    spatial_map, temporal = svd.spatial_maps[0], svd.temporal[0]
    return Bunch(
        spatial=svd.spatial[0],
        spatial_map=spatial_map,
        temporal=temporal,
        peak=rf_peak(spatial_map),
        temporal_peak=int(np.argmax(np.abs(temporal))),
        singular_values=svd.singular_values,
        explained_variance_ratio=svd.explained_variance_ratio,
        center=center,
        svd=svd,
    )


def fit_l1_lags(
    recording: Bunch,
    lags: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    alphas: int | Sequence[float] = 20,
    frame_offset: int = 0,
    n_splits: int = 5,
    gap: int | None = None,
    verbose: int = 0,
    progress: Progress | None = None,
) -> Bunch:
    """L1 (lasso) fits of all lags at once over a path of penalties, alpha by blocked CV.

    :class:`~sklearn_lnp.LassoLNPCV` chooses alpha by held-out bits per spike
    over ``BlockedTimeSeriesSplit(n_splits, gap)`` and refits it on all bins;
    :func:`~sklearn_lnp.lasso_lnp_path` then fits every alpha of the grid on
    all bins (the lags x alphas grid of RFs).

    Parameters
    ----------
    recording : Bunch
        As returned by :func:`~sklearn_lnp.datasets.load_recording`.
    lags : sequence of int, default=(0, 1, 2, 3, 4)
    alphas : int or sequence of float, default=20
        The grid, or its number of log-spaced values from ``alpha_max`` (the
        smallest penalty whose RF is all zero) down.
    frame_offset : int, default=0
    n_splits : int, default=5
    gap : int, optional
        ``max(lags)`` by default.
    verbose : int, default=0
    progress : callable, optional
        Called with one line per fold of the cross-validation (its path over
        all alphas), when ``verbose`` is 0.

    Returns
    -------
    Bunch
        ``lags``; ``cv`` (the fitted ``LassoLNPCV``: ``alpha_``,
        ``alphas_`` decreasing, ``bits_per_spike_path_`` (n_alphas,
        n_splits), ``n_nonzero_path_``, ``coef_``, ``optimality_`` ...);
        ``alpha``; ``mean_cv_scores`` (n_alphas,) held-out bits per spike;
        ``baseline_cv_scores`` (n_splits,) those of the constant rate of the
        training blocks (:func:`constant_rate_cv_scores`);
        ``alphas`` (n_alphas,) the path's penalties, decreasing; ``path_coefs``
        (n_lags, n_alphas, n_pixels) the fits of every alpha on all bins;
        ``maps`` (n_lags, rows, cols) and ``peaks`` of the refit at ``alpha``;
        ``cv_seconds`` and ``path_seconds``; ``frame_duration`` (mean bin
        width, s); ``design``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.analysis import fit_l1_lags
    >>> from sklearn_lnp.datasets import recording_from_counts
    >>> rng = np.random.default_rng(0)
    >>> stimulus = rng.choice([-1.0, 1.0], size=(600, 12))     # 600 frames of 3 x 4 pixels
    >>> counts = rng.poisson(np.exp(0.8 * stimulus[:, 6]))     # pixel (1, 2) at lag 0
    >>> recording = recording_from_counts(stimulus, counts, frame_shape=(3, 4), random_state=0)
    >>> result = fit_l1_lags(recording, lags=[0, 1], alphas=[0.3, 0.1, 0.03, 0.01])
    >>> result.peaks[0], result.path_coefs.shape, bool(result.cv.optimality_ <= 1e-8)
    ((1, 2), (2, 4, 12), True)
    """
    design = _fit_design(recording, lags, frame_offset)
    X, y, exposure = design.X, design.counts, design.exposure
    gap = int(max(design.lags)) if gap is None else gap
    report = progress is not None and not verbose
    cv = LassoLNPCV(
        alphas=alphas,
        cv=BlockedTimeSeriesSplit(n_splits, gap=gap),
        scoring="bits_per_spike",
        verbose=1 if report else verbose,
    )
    # its verbose fold lines (stdout) become progress lines; the rest is dropped
    forward = _ForwardFoldLines(progress, "L1 ") if report else None
    with contextlib.redirect_stdout(forward) if report else contextlib.nullcontext():
        cv, cv_seconds = _timed_fit(cv, X, y, exposure)
    start = time.perf_counter()
    path = lasso_lnp_path(X, y, exposure=exposure, alphas=cv.alphas_)
    path_seconds = time.perf_counter() - start
    n_lags, n_pixels = design.lags.size, int(np.prod(design.frame_shape))
    maps, peaks = _lag_maps(cv.coef_, n_lags, design.frame_shape)
    return Bunch(
        lags=design.lags,
        cv=cv,
        alpha=float(cv.alpha_),
        mean_cv_scores=np.nanmean(cv.bits_per_spike_path_, axis=1),
        baseline_cv_scores=constant_rate_cv_scores(y, exposure, n_splits=n_splits, gap=gap),
        alphas=path.alphas,
        path_coefs=path.coefs.T.reshape(-1, n_lags, n_pixels).transpose(1, 0, 2),
        maps=maps,
        peaks=peaks,
        cv_seconds=cv_seconds,
        path_seconds=path_seconds,
        frame_duration=float(np.mean(exposure)),
        design=design,
    )


def spike_time_sta(
    recording: Bunch, *, window: float = 1.0, resolution: float = 0.025, center: str = "none"
) -> Bunch:
    """Spike-triggered average from spike times at sub-frame delays, and its rank-1 SVD.

    Frame ``k`` is on screen from trigger ``k`` to trigger ``k + 1`` (the
    pairing the lab's data show); see
    :func:`~sklearn_lnp.spikes.spike_triggered_average`.

    Parameters
    ----------
    recording : Bunch
        As returned by :func:`~sklearn_lnp.datasets.load_recording`.
    window : float, default=1.0
        Largest delay before the spike (s).
    resolution : float, default=0.025
        Delay step (s).
    center : {"none", "over_pixels", "over_lags", "both"}, default="none"
        Centring of the STA before its rank-1 SVD; ``"over_lags"`` forces the
        kernel over delays to sum to zero.

    Returns
    -------
    Bunch
        ``sta`` (the ``SpikeTriggeredAverage``: ``sta`` and ``zscore``
        (n_pixels, n_taus), ``taus`` (s), ``n_spikes`` ...); ``taus``;
        ``peak`` (row, col) and ``peak_tau`` (index into ``taus``) of the
        largest |z|; ``peak_zscore``; ``opposite_tau`` (index of the
        strongest opposite-sign z of the same pixel) and ``opposite_zscore``;
        ``separation`` (:func:`separate_space_time_rf` of the STA, centred by
        ``center``); ``window`` and ``resolution`` (s); ``seconds``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.analysis import spike_time_sta
    >>> from sklearn_lnp.datasets import recording_from_counts
    >>> rng = np.random.default_rng(0)
    >>> stimulus = rng.choice([-1.0, 1.0], size=(601, 12))     # 3 x 4 pixels
    >>> counts = rng.poisson(np.exp(0.8 * stimulus[:600, 6]))  # pixel (1, 2), same frame
    >>> recording = recording_from_counts(stimulus, counts, frame_shape=(3, 4), random_state=0)
    >>> result = spike_time_sta(recording, window=0.5)
    >>> result.peak, result.taus.size, result.separation.peak
    ((1, 2), 20, (1, 2))
    """
    from .datasets import _check_recording

    stimulus, spike_times, trigger_times = _check_recording(recording, stimulus_ndim=(2, 3))
    start = time.perf_counter()
    sta = spike_triggered_average(
        spike_times,
        trigger_times,
        stimulus,
        window=window,
        resolution=resolution,
        warn=False,
    )
    seconds = time.perf_counter() - start
    pixel, peak_tau = np.unravel_index(int(np.argmax(np.abs(sta.zscore))), sta.zscore.shape)
    trace = sta.zscore[pixel]
    opposite = int(np.argmin(np.sign(trace[peak_tau]) * trace))
    return Bunch(
        sta=sta,
        taus=sta.taus,
        peak=tuple(int(i) for i in np.unravel_index(int(pixel), recording.frame_shape)),
        peak_tau=int(peak_tau),
        peak_zscore=float(trace[peak_tau]),
        opposite_tau=opposite,
        opposite_zscore=float(trace[opposite]),
        separation=separate_space_time_rf(sta.sta, recording.frame_shape, center=center),
        window=float(window),
        resolution=float(resolution),
        seconds=seconds,
    )


def compare_methods(
    recording: Bunch,
    lags: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    alpha: float = 0.0,
    joint: Bunch | None = None,
    l1: Bunch | None = None,
    frame_offset: int = 0,
    n_splits: int = 5,
    progress: Progress | None = None,
) -> Bunch:
    """Held-out gains of the command's methods on the same blocked folds, paired.

    Every method is scored on ``BlockedTimeSeriesSplit(n_splits,
    gap=max(lags))`` of the bins of :func:`~sklearn_lnp.datasets.lagged_recording_design`
    ``(recording, lags)`` by its gain over the constant rate of the training
    blocks, and compared with a reference method fold by fold
    (:func:`~sklearn_lnp.metrics.compare_held_out`):

    * ``PoissonLNPRegressor(alpha)`` on the lag-0 frames alone, and the STA
      (``STAEstimator``) of ``lags``, fitted here on each fold;
    * the joint fit ``joint`` (:func:`fit_lags_jointly` of the same lags)
      and the lasso ``l1`` (:func:`fit_l1_lags`), when given: their scores at
      the penalty their cross-validation chose, on the folds that chose it
      (slightly optimistic: the choice saw those folds); a ``joint`` with a
      fixed alpha is scored here.

    The reference is the joint fit when given, else the lag-0 fit.

    Parameters
    ----------
    recording : Bunch
        As returned by :func:`~sklearn_lnp.datasets.load_recording`.
    lags : sequence of int, default=(0, 1, 2, 3, 4)
        Those of ``joint`` and ``l1``.
    alpha : float, default=0.0
        L2 penalty of the lag-0 fit.
    joint, l1 : Bunch, optional
        Results of :func:`fit_lags_jointly` and :func:`fit_l1_lags` with
        ``lags``, ``n_splits`` and the default gap.
    frame_offset : int, default=0
    n_splits : int, default=5
    progress : callable, optional
        Called with one line per fold of the fits made here.

    Returns
    -------
    Bunch
        ``comparison`` (the :func:`~sklearn_lnp.metrics.compare_held_out`
        Bunch: ``names``, ``gain``, ``gain_se``, ``difference``,
        ``difference_se``, ``resolved``, ``rule`` ...); ``fold_rates``
        (n_splits,) the firing rate of each test block (spikes/s);
        ``n_splits`` and ``gap``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.analysis import compare_methods, fit_lags_jointly
    >>> from sklearn_lnp.datasets import make_separable_neuron, recording_from_counts
    >>> neuron = make_separable_neuron(2000, frame_shape=(4, 5), rf_center=(1, 2),
    ...                                random_state=0)
    >>> recording = recording_from_counts(neuron.stimulus, neuron.counts, frame_shape=(4, 5),
    ...                                   random_state=0)
    >>> joint = fit_lags_jointly(recording, alpha=[0.01, 1.0], n_drift=0)
    >>> result = compare_methods(recording, alpha=0.01, joint=joint)
    >>> result.comparison.names[0], result.comparison.reference == result.comparison.names[0]
    ('L2, lags 0-4 jointly, alpha = 0.01 (CV)', True)
    >>> bool(np.all(result.comparison.gain > 0))     # every method beats the constant rate
    True
    """
    design = _fit_design(recording, lags, frame_offset)
    X, y, e = design.X, design.counts, design.exposure
    gap, n_pixels = int(max(design.lags)), int(np.prod(design.frame_shape))
    span = _lags_name(design.lags)
    options = {"n_splits": n_splits, "gap": gap, "progress": progress}
    gains = {}
    if joint is not None:
        fit, drift = joint.fit, f" + {joint.n_drift} drift regressors" if joint.n_drift else ""
        if fit.alphas is None:
            X_joint = X
            if joint.n_drift:
                X_joint = np.hstack([X, slow_drift_regressors(e, joint.n_drift)])
            model = PoissonLNPRegressor(alpha=fit.alpha, solver="lbfgs")
            name = f"L2, {span} jointly{drift}, alpha = {fit.alpha:g}"
            gains[name] = held_out_scores(model, X_joint, y, e, label="joint L2 ", **options)
        else:
            name = f"L2, {span} jointly{drift}, alpha = {fit.alpha:g} (CV)"
            gains[name] = fit.cv_scores[fit.best_index] - fit.baseline_cv_scores
    model = PoissonLNPRegressor(alpha=alpha)
    gains[f"L2, lag 0 alone, alpha = {alpha:g}"] = held_out_scores(
        model, X[:, :n_pixels], y, e, label="lag-0 L2 ", **options
    )
    if l1 is not None:
        cv = l1.cv
        name = f"L1, {span} jointly, alpha = {cv.alpha_:.4g} (LassoLNPCV)"
        gains[name] = cv.bits_per_spike_path_[cv.best_index_] - l1.baseline_cv_scores
    gains[f"STA, {span}, exp nonlinearity"] = held_out_scores(
        STAEstimator(), X, y, e, label="STA ", **options
    )
    rates = [
        y[test].sum() / e[test].sum()
        for _, test in BlockedTimeSeriesSplit(n_splits, gap=gap).split(X)
    ]
    return Bunch(
        comparison=compare_held_out(gains, reference=next(iter(gains))),
        fold_rates=np.array(rates),
        n_splits=n_splits,
        gap=gap,
    )


def _lags_name(lags) -> str:
    """``"lag 0"``, ``"lags 0-4"`` or ``"lags 0, 2, 5"``."""
    lags = [int(lag) for lag in lags]
    if len(lags) == 1:
        return f"lag {lags[0]}"
    if lags == list(range(lags[0], lags[-1] + 1)):
        return f"lags {lags[0]}-{lags[-1]}"
    return "lags " + ", ".join(map(str, lags))


def _paired_difference(scores: dict, method: str, reference: str) -> tuple[float, float]:
    """``method - reference``: mean and paired s.e. over folds (``compare_held_out``)."""
    comparison = compare_held_out(
        {name: scores[name] for name in (reference, method)}, reference=reference
    )
    return float(comparison.difference[1]), float(comparison.difference_se[1])


@validate_params({"scale": [POSITIVE]}, prefer_skip_nested_validation=True)
def interpolating_drift_regressors(
    times: np.ndarray, knots: np.ndarray, *, scale: float = 30.0
) -> np.ndarray:
    """Piecewise-linear drift of the log rate: one tent function per knot.

    Column ``j`` is 1 at ``knots[j]``, falls linearly to 0 at the
    neighbouring knots and is 0 beyond them; before the first knot and after
    the last the first and last columns hold 1 (the drift is held constant,
    never extrapolated).  The columns sum to 1, so with the intercept they
    are collinear: the penalty of the regressor picks the split.  Put the
    knots at the edges of cross-validation blocks and the drift inside a test
    block is the straight line between its two edge values, each fitted on
    the training blocks on either side: the test block is interpolated, not
    extrapolated.

    Parameters
    ----------
    times : ndarray of shape (n_bins,)
        Time of each bin (s).
    knots : ndarray of shape (n_knots,)
        Strictly increasing knot times (s), ``n_knots >= 2``.
    scale : float, default=30.0
        Multiplier of every column: an L2 penalty ``alpha`` then costs
        ``alpha/2 (d/scale)^2`` for a drift of ``d`` log-rate units (as in
        :class:`~sklearn_lnp.SlowDriftFeatures`).

    Returns
    -------
    ndarray of shape (n_bins, n_knots)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.analysis import interpolating_drift_regressors
    >>> interpolating_drift_regressors(np.array([-1.0, 0.0, 0.5, 2.0, 3.0]),
    ...                                np.array([0.0, 1.0, 2.0]), scale=1.0)
    array([[1. , 0. , 0. ],
           [1. , 0. , 0. ],
           [0.5, 0.5, 0. ],
           [0. , 0. , 1. ],
           [0. , 0. , 1. ]])
    """
    times = as_real_array(times, "times", "bin times (real numbers, s)")
    if times.ndim != 1 or times.size == 0:
        raise ValueError(f"times must be 1-d and non-empty (one per bin); got shape {times.shape}.")
    if not np.all(np.isfinite(times)):
        raise ValueError("times must be finite; found NaN or infinite values.")
    knots = check_times(knots, "knots", min_length=2, strictly=True)
    # np.interp of the unit vectors: tent j is the interpolant of e_j, held constant outside.
    identity = np.eye(knots.size)
    columns = [np.interp(times, knots, identity[j]) for j in range(knots.size)]
    return float(scale) * np.column_stack(columns)


def _top_sta_pixels(recording: Bunch, n_pixels: int, window: float) -> np.ndarray:
    """The ``n_pixels`` pixels with the largest |z-scored STA| at any delay in ``window``."""
    stimulus = np.asarray(recording.stimulus)
    # Each frame time needs a frame: a recording may have one trigger more than frames.
    sta = spike_triggered_average(
        recording.spike_times,
        recording.trigger_times[: stimulus.shape[0]],
        stimulus,
        window=window,
        warn=False,
    )
    strength = np.abs(sta.zscore).max(axis=1)
    return np.sort(np.argsort(strength, kind="stable")[::-1][:n_pixels])


# A hundred-odd columns: one Gram matrix per Newton step is cheap and Newton
# converges in ~5 steps, whereas L-BFGS crawls on the ill-conditioned basis
# columns (the stimulus-and-history fit of the lab's neuron at 2 ms did not
# reach tol in 1000 iterations).
_HISTORY_SOLVER = "newton-cholesky"

_HISTORY_MODELS = {
    "stimulus": ("stimulus",),
    "stimulus_history": ("stimulus", "history"),
    "stimulus_drift": ("stimulus", "drift"),
    "stimulus_history_drift": ("stimulus", "history", "drift"),
}


def fit_history_glm(
    recording: Bunch,
    *,
    bin_width: float = 0.002,
    pixels: Sequence[int] | None = None,
    n_pixels: int = 15,
    stimulus_window: float = 0.5,
    n_stimulus_basis: int = 6,
    history_window: float = 0.1,
    n_history_basis: int = 8,
    n_blocks: int = 10,
    drift: bool = True,
    alpha: float = 1e-4,
    frame_offset: int = 0,
    verbose: int = 0,
) -> Bunch:
    """What spike history adds to a stimulus model: held-out bits per spike at fine bins.

    The recording is binned at ``bin_width`` seconds
    (:func:`~sklearn_lnp.datasets.subframe_design`: each bin carries the
    frame on screen and its width as exposure).  Three groups of columns:

    * stimulus: the chosen pixels over the last ``stimulus_window`` seconds
      (lags every 10 ms, or every bin when bins are wider) in a linear-time
      :class:`~sklearn_lnp.RaisedCosineBasis` of ``n_stimulus_basis``;
    * history: the neuron's own counts over the last ``history_window``
      seconds in a log-time raised-cosine basis of ``n_history_basis``
      (:class:`~sklearn_lnp.SpikeHistoryTransformer`);
    * drift: :func:`interpolating_drift_regressors` with knots at the edges of
      the ``n_blocks`` cross-validation blocks.

    Four models (``stimulus``, ``stimulus_history``, ``stimulus_drift``,
    ``stimulus_history_drift``; the first two with ``drift=False``) are fitted by
    :class:`~sklearn_lnp.PoissonLNPRegressor` (L2 ``alpha``, exposure,
    ``solver="newton-cholesky"``) on the
    same folds: the recording is cut into ``n_blocks`` contiguous blocks and
    each *interior* block (not the first, not the last) is held out in turn,
    with a gap of the longest lag on each side
    (:class:`~sklearn_lnp.BlockedTimeSeriesSplit` folds ``1 .. n_blocks - 2``).
    Every test block therefore lies inside the time range of the training
    data, and the drift inside it is interpolated between the training
    blocks around it.  Scores are held-out bits per spike against the
    training blocks' constant rate (``null=`` the fitted ``null_rate_`` of
    :func:`~sklearn_lnp.metrics.bits_per_spike`): a model that only predicts
    the training rate scores 0.  The designs are built on the whole
    recording before splitting; no column leaks the target (history holds
    lags >= 1 only).

    Parameters
    ----------
    recording : Bunch
        As returned by :func:`~sklearn_lnp.datasets.load_recording`.
    bin_width : float, default=0.002
        Bin width (s), positive and at most the shortest frame interval.
    pixels : sequence of int, optional
        Flat (C-order) pixel indices of the stimulus columns.  By default the
        ``n_pixels`` pixels of largest absolute z-scored spike-triggered
        average (:func:`~sklearn_lnp.spikes.spike_triggered_average` over
        ``stimulus_window``, whole recording; the same pixels for every
        model, so the paired differences are not favoured either way).
    n_pixels : int, default=15
        Pixels chosen when ``pixels`` is None.
    stimulus_window : float, default=0.5
        Stimulus history (s).
    n_stimulus_basis : int, default=6
        Basis functions over the stimulus lags (at most one per lag).
    history_window : float, default=0.1
        Spike history (s).
    n_history_basis : int, default=8
        Basis functions over the history lags (at most one per lag).
    n_blocks : int, default=10
        Contiguous blocks; ``n_blocks - 2`` folds (at least 4 blocks).
    drift : bool, default=True
        Also fit and score the two models with drift columns.
    alpha : float, default=1e-4
        L2 penalty of every fit (mean NLL scaling).
    frame_offset : int, default=0
        As in :func:`~sklearn_lnp.datasets.subframe_design`.
    verbose : int, default=0
        Solver log of every fit.

    Returns
    -------
    Bunch
        ``scores``: dict of model name -> ndarray of shape (n_blocks - 2,)
        held-out bits per spike; ``mean_scores``: dict of model name ->
        float; ``differences``: dict of comparison name -> (mean, paired
        s.e.) from :func:`~sklearn_lnp.metrics.compare_held_out`, for ``"history"``
        (stimulus_history - stimulus), ``"history_given_drift"``
        (stimulus_history_drift - stimulus_drift) and ``"drift"``
        (stimulus_drift - stimulus), the last two only with ``drift``;
        ``model``: the ``stimulus_history_drift`` model (``stimulus_history``
        without ``drift``) fitted on all bins;
        ``history_filter`` (n_history_lags,) its history filter over lags
        (log gain); ``history_gain`` ``exp(history_filter)``;
        ``history_lag_ms`` (n_history_lags,) lags in ms (at ``bin_width``);
        ``pixels``; ``bin_width``; ``n_bins``; ``n_spikes``; ``n_columns``
        dict of group -> int; ``block_rates`` (n_blocks,) spikes per second
        per block; ``alpha``; ``seconds``.

    Raises
    ------
    ValueError
        ``bin_width`` as in :func:`~sklearn_lnp.datasets.subframe_design`;
        ``n_blocks`` below 4; a window shorter than one bin; ``pixels`` out of
        range.

    Examples
    --------
    >>> from sklearn_lnp.analysis import fit_history_glm
    >>> from sklearn_lnp.datasets import make_separable_neuron, recording_from_counts
    >>> neuron = make_separable_neuron(600, frame_shape=(4, 5), random_state=0)
    >>> recording = recording_from_counts(neuron.stimulus, neuron.counts, frame_shape=(4, 5),
    ...                                   random_state=0)
    >>> result = fit_history_glm(recording, bin_width=0.02, n_pixels=4, n_blocks=5)
    >>> sorted(result.scores), result.scores["stimulus"].shape
    (['stimulus', 'stimulus_drift', 'stimulus_history', 'stimulus_history_drift'], (3,))
    """
    start = time.perf_counter()
    for name, value, low in (
        ("n_blocks", n_blocks, 4),
        ("n_pixels", n_pixels, 1),
        ("n_stimulus_basis", n_stimulus_basis, 1),
        ("n_history_basis", n_history_basis, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    design = subframe_design(recording, bin_width, frame_offset=frame_offset)
    for name, window in (("stimulus_window", stimulus_window), ("history_window", history_window)):
        if not isinstance(window, numbers.Real) or not np.isfinite(window) or window < bin_width:
            raise ValueError(
                f"{name} must be a number of seconds >= bin_width ({bin_width}); got {window!r}."
            )
    n_all = int(np.prod(recording.frame_shape))
    if pixels is None:
        pixels = _top_sta_pixels(recording, min(n_pixels, n_all), stimulus_window)
    pixels = np.asarray(pixels)
    if pixels.ndim != 1 or pixels.size == 0 or not np.issubdtype(pixels.dtype, np.integer):
        raise ValueError(f"pixels must be a non-empty 1-d sequence of integers; got {pixels!r}.")
    if pixels.min() < 0 or pixels.max() >= n_all:
        raise ValueError(
            f"pixels must be flat pixel indices in [0, {n_all}); "
            f"got {pixels.min()}..{pixels.max()}."
        )
    y, exposure = design.counts, design.exposure
    frames = np.asarray(recording.stimulus, dtype=np.float64)[design.frame_index][:, pixels]
    step = max(1, round(0.01 / bin_width))
    stim_lags = range(0, max(1, round(stimulus_window / bin_width)), step)
    stimulus = LagTransformer(
        stim_lags, basis=RaisedCosineBasis(min(n_stimulus_basis, len(stim_lags)), log_time=False)
    ).fit_transform(frames)
    history_lags = range(1, round(history_window / bin_width) + 1)
    history = SpikeHistoryTransformer(
        history_lags, basis=RaisedCosineBasis(min(n_history_basis, len(history_lags)))
    )
    columns = {"stimulus": stimulus, "history": history.fit_transform(y[:, None])}
    gap = max(max(stim_lags), int(history.lags_.max()))
    cv = BlockedTimeSeriesSplit(n_blocks, gap=gap)
    edges = np.linspace(0, y.size, n_blocks + 1).round().astype(int)
    times = design.bin_start + exposure / 2
    knots = np.r_[design.bin_start[edges[:-1]], design.bin_start[-1] + exposure[-1]]
    columns["drift"] = interpolating_drift_regressors(times, knots)
    folds = list(cv.split(stimulus))[1:-1]
    models = {
        name: groups for name, groups in _HISTORY_MODELS.items() if drift or "drift" not in name
    }
    scores = {}
    for name, groups in models.items():
        X = np.hstack([columns[g] for g in groups])
        fold_scores = []
        for train, test in folds:
            model = PoissonLNPRegressor(alpha=alpha, solver=_HISTORY_SOLVER, verbose=verbose)
            model.fit(X[train], y[train], exposure=exposure[train])
            predicted = model.predict(X[test], exposure=exposure[test])
            fold_scores.append(
                bits_per_spike(y[test], predicted, exposure=exposure[test], null=model.null_rate_)
            )
        scores[name] = np.array(fold_scores)
    X = np.hstack([columns[g] for g in models[list(models)[-1]]])
    model = PoissonLNPRegressor(alpha=alpha, solver=_HISTORY_SOLVER, verbose=verbose)
    model.fit(X, y, exposure=exposure)
    n_stim = stimulus.shape[1]
    n_hist = columns["history"].shape[1]
    history_filter = history.coef_to_lags(model.coef_[n_stim : n_stim + n_hist])
    differences = {"history": _paired_difference(scores, "stimulus_history", "stimulus")}
    if drift:
        differences["history_given_drift"] = _paired_difference(
            scores, "stimulus_history_drift", "stimulus_drift"
        )
        differences["drift"] = _paired_difference(scores, "stimulus_drift", "stimulus")
    block_rates = np.add.reduceat(y, edges[:-1]) / np.add.reduceat(exposure, edges[:-1])
    return Bunch(
        scores=scores,
        mean_scores={name: float(values.mean()) for name, values in scores.items()},
        differences=differences,
        model=model,
        history_filter=history_filter,
        history_gain=np.exp(history_filter),
        history_lag_ms=1000.0 * bin_width * history.lags_,
        pixels=pixels,
        bin_width=float(bin_width),
        n_bins=int(y.size),
        n_spikes=int(y.sum()),
        n_columns={name: int(c.shape[1]) for name, c in columns.items()},
        block_rates=block_rates,
        alpha=float(alpha),
        seconds=time.perf_counter() - start,
    )


def fit_smooth_lags(
    recording: Bunch,
    lags: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    alpha: Sequence[float] = (1.0, 3.0, 10.0, 30.0, 100.0),
    frame_offset: int = 0,
    n_splits: int = 5,
    gap: int | None = None,
    verbose: int = 0,
) -> Bunch:
    """:class:`~sklearn_lnp.SmoothLNPRegressor` on all lags, against ridge, fold by fold.

    Both models see the lagged recording with the bin widths as exposure.
    On each fold of ``BlockedTimeSeriesSplit(n_splits, gap=gap)`` the smooth
    model chooses its prior by the evidence of the training blocks alone;
    ridge (:class:`~sklearn_lnp.PoissonLNPRegressor`) uses the ``alpha`` of
    the grid with the best mean held-out score on these same folds (chosen
    with the test blocks, which favours ridge).  Scores are held-out bits
    per spike against the training rate (``get_scorer("bits_per_spike",
    null="train")``); the difference is paired by fold, its standard error
    ``sd(differences) / sqrt(n_splits)``.

    Parameters
    ----------
    recording : Bunch
        As returned by :func:`~sklearn_lnp.datasets.load_recording`.
    lags : sequence of int, default=(0, 1, 2, 3, 4)
    alpha : sequence of float, default=(1, 3, 10, 30, 100)
        Ridge grid (scikit-learn's mean-NLL scaling).
    frame_offset : int, default=0
    n_splits : int, default=5
    gap : int, optional
        ``max(lags)`` by default.
    verbose : int, default=0
        Log of the evidence search of the fit on all bins.

    Returns
    -------
    Bunch
        ``model`` (the smooth model fitted on all bins), ``coef`` (n_lags *
        n_pixels,), ``coef_std`` (Laplace posterior sd), ``maps`` (n_lags,
        rows, cols), ``peaks`` (row, col) per lag, ``length_scales``
        (rows, cols in pixels; lags in frames), ``length_scale_ms`` (the lag
        length scale in ms, times the mean frame duration), ``prior_scale``,
        ``log_evidence``, ``n_map_fits``, ``fit_seconds`` and
        ``fit_cpu_seconds`` (wall and CPU time of the full fit),
        ``smooth_scores`` and ``ridge_scores`` (n_splits,),
        ``difference`` (smooth minus ridge, mean over folds), ``difference_se``
        (paired standard error), ``ridge_alpha``, ``ridge_mean_scores`` over
        the grid, ``frame_duration`` (s), ``lags``, ``frame_shape``.

    Examples
    --------
    >>> from sklearn_lnp.analysis import fit_smooth_lags
    >>> from sklearn_lnp.datasets import make_separable_neuron, recording_from_counts
    >>> neuron = make_separable_neuron(1200, frame_shape=(4, 5), n_lags=2, rf_center=(1, 2),
    ...                                random_state=0)
    >>> recording = recording_from_counts(neuron.stimulus, neuron.counts, frame_shape=(4, 5),
    ...                                   random_state=0)
    >>> result = fit_smooth_lags(recording, lags=(0, 1), alpha=[0.1, 1.0], n_splits=3)
    >>> result.maps.shape, result.smooth_scores.shape, result.peaks[0]
    ((2, 4, 5), (3,), (1, 2))
    """
    design = lagged_recording_design(recording, lags, frame_offset=frame_offset)
    X, counts, exposure = design.X, design.counts, design.exposure
    n_lags = design.lags.size
    frame_shape = tuple(design.frame_shape)
    gap = int(max(design.lags)) if gap is None else gap
    cv = BlockedTimeSeriesSplit(n_splits, gap=gap)
    alphas = np.sort(np.asarray(alpha, dtype=np.float64))
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            PoissonLNPRegressor().set_fit_request(exposure=True),
            {"alpha": alphas.tolist()},
            cv=cv,
            scoring=get_scorer("bits_per_spike", null="train"),
            refit=False,
            error_score="raise",
        ).fit(X, counts, exposure=exposure)
    ridge_grid = np.column_stack(
        [search.cv_results_[f"split{k}_test_score"] for k in range(n_splits)]
    )
    best = int(np.argmax(ridge_grid.mean(axis=1)))
    scorer = get_scorer("bits_per_spike", null="train")
    smooth_scores = []
    for train, test in cv.split(X):
        fold = SmoothLNPRegressor(frame_shape, n_lags=n_lags).fit(
            X[train], counts[train], exposure=exposure[train]
        )
        smooth_scores.append(scorer(fold, X[test], counts[test], exposure=exposure[test]))
    smooth_scores = np.asarray(smooth_scores)
    model = SmoothLNPRegressor(frame_shape, n_lags=n_lags, verbose=verbose)
    cpu = time.process_time()
    model, fit_seconds = _timed_fit(model, X, counts, exposure)
    fit_cpu_seconds = time.process_time() - cpu
    maps, peaks = _lag_maps(model.coef_, n_lags, frame_shape)
    difference, difference_se = _paired_difference(
        {"smooth": smooth_scores, "ridge": ridge_grid[best]}, "smooth", "ridge"
    )
    frame_duration = float(np.mean(exposure))
    return Bunch(
        model=model,
        coef=model.coef_,
        coef_std=model.coef_std_,
        maps=maps,
        peaks=peaks,
        length_scales=model.length_scales_,
        length_scale_ms=float(model.length_scales_[2] * frame_duration * 1e3),
        prior_scale=model.prior_scale_,
        log_evidence=model.log_evidence_,
        n_map_fits=model.n_map_fits_,
        fit_seconds=fit_seconds,
        fit_cpu_seconds=fit_cpu_seconds,
        smooth_scores=smooth_scores,
        ridge_scores=ridge_grid[best],
        difference=difference,
        difference_se=difference_se,
        ridge_alpha=float(alphas[best]),
        ridge_alphas=alphas,
        ridge_mean_scores=ridge_grid.mean(axis=1),
        frame_duration=frame_duration,
        lags=design.lags,
        frame_shape=frame_shape,
    )
