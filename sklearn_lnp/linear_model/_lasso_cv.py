"""``LassoLNPCV``: the L1 penalty chosen by cross-validation over a warm-started path.

One neuron (``y`` 1-d) or a population sharing one design (``y`` of shape
(n_samples, n_neurons)), with one penalty chosen per neuron.
"""

from __future__ import annotations

import contextlib
import numbers
import threading
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions

from .._objective import PoissonObjective, safe_exp
from .._solvers import warn_if_not_converged
from .._solvers._prox_newton import prox_newton
from .._solvers._result import stopping_tol
from ..metrics import bits_per_spike, poisson_deviance
from ..model_selection import BlockedTimeSeriesSplit
from ._base import LNPBaseEstimator
from ._lasso import (
    _finite_or_raise,
    _prox_newton_options,
    alpha_grid,
    alpha_max,
    check_alpha_grid,
    check_l1_ratio,
    default_eps,
    fit_path,
    lasso_penalty,
    set_solution,
    silent_neurons,
    warn_if_nearly_unpenalised,
)

SCORINGS = ("deviance", "bits_per_spike")


def _subset(a, rows):
    return None if a is None else a[rows]


def _fold_path(
    X,
    Y,
    exposure,
    sample_weight,
    train,
    test,
    alphas,
    settings,
    *,
    fold,
    n_folds,
    neuron=None,
    l1_ratio=1.0,
):
    """Fit every neuron's path on ``train`` in lockstep; score every alpha on ``test``.

    One work unit of the cross-validation: fold ``fold`` (0-based, of
    ``n_folds``) of the neurons ``neuron`` (the columns of a 2-d ``y`` that
    ``Y``'s columns are; None for a 1-d ``y``) at one ``l1_ratio``.  Both are keyword arguments,
    so a joblib backend can name a failed unit from the call's arguments.
    Neuron ``j`` goes down its own grid ``alphas[:, j]``
    (:func:`~sklearn_lnp.linear_model._lasso.fit_path`).  With
    ``settings["collect_warnings"]`` the per-alpha ``ConvergenceWarning`` of
    :func:`fit_path` is silenced when the unit runs in a main thread
    (sequentially, or in a loky worker process): the caller reads
    ``optimality`` and ``converged`` and warns once for all units.  (Under a
    thread-pool backend they are not silenced: swapping the process-wide
    warning filters from concurrent threads is not safe.)

    Parameters
    ----------
    Y : ndarray of shape (n_samples, k)
    alphas : ndarray of shape (n_alphas, k)

    Returns
    -------
    dict
        ``deviance``, ``bits`` (n_alphas, k) held-out scores; ``n_nonzero``,
        ``n_iter``, ``optimality``, ``converged`` (n_alphas, k) of the fits;
        ``seconds`` the unit's wall time.
    """
    start = time.perf_counter()
    intercept = settings["fit_intercept"]
    w_train, w_test = sample_weight[train], sample_weight[test]
    objective = PoissonObjective(
        X[train], Y[train], _subset(exposure, train), w_train, fit_intercept=intercept
    )
    e_test = _subset(exposure, test)
    held_out = PoissonObjective(X[test], Y[test], e_test, w_test, fit_intercept=intercept)
    Y_test = held_out.Y
    has_spikes = w_test @ Y_test > 0
    n_alphas, k = alphas.shape
    deviance = np.empty((n_alphas, k))
    bits = np.full((n_alphas, k), np.nan)
    n_nonzero = np.empty((n_alphas, k), dtype=int)

    def score(a, P):
        mu = safe_exp(held_out.linear_predictor(P))[0]
        for j in range(k):
            deviance[a, j] = poisson_deviance(Y_test[:, j], mu[:, j], sample_weight=w_test)
            if has_spikes[j]:
                bits[a, j] = bits_per_spike(
                    Y_test[:, j], mu[:, j], exposure=e_test, sample_weight=w_test
                )
        deviance[a] /= w_test.sum()
        n_nonzero[a] = np.count_nonzero(P[: objective.n_features], axis=0)

    name = f"fold {fold + 1}/{n_folds}" + ("" if l1_ratio == 1 else f" l1_ratio {l1_ratio:g}")
    label = f"[LassoLNPCV] {name} " if settings["verbose"] else ""
    # ``catch_warnings`` swaps the process-wide filters: safe in a main thread
    # (the caller's, a loky worker's), not in a thread pool, where the filters
    # of concurrent units could leak past the fit.  There the per-alpha
    # warnings are left as they are.
    silence = settings["collect_warnings"] and (
        threading.current_thread() is threading.main_thread()
    )
    with warnings.catch_warnings() if silence else contextlib.nullcontext():
        if silence:
            warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            fits = fit_path(
                objective,
                alphas,
                l1_ratio=l1_ratio,
                tol=settings["tol"],
                max_iter=settings["max_iter"],
                verbose=max(settings["verbose"] - 1, 0),
                solver_options=settings["solver_options"],
                callback=score,
                label=label,
            )
        except FloatingPointError as exc:
            if neuron is None:
                raise
            raise FloatingPointError(f"LassoLNPCV {name} (neurons {neuron}): {exc}") from exc
    seconds = time.perf_counter() - start
    if settings["verbose"]:
        columns = [None] if neuron is None else neuron
        for j, column in enumerate(columns):
            best = int(np.argmin(deviance[:, j]))
            unit = name if column is None else f"{name} neuron {column}"
            print(
                f"[LassoLNPCV] {unit}: {n_alphas} alphas in {seconds:.2f} s; best alpha "
                f"{alphas[best, j]:.4g} ({n_nonzero[best, j]} non-zero), max KKT "
                f"{fits.optimality[:, j].max():.1e}",
                flush=True,
            )
    return {
        "deviance": deviance,
        "bits": bits,
        "n_nonzero": n_nonzero,
        "n_iter": fits.n_iter,
        "optimality": fits.optimality,
        "converged": fits.converged,
        "seconds": seconds,
    }


def _refit(X, Y, exposure, sample_weight, alphas, l1_ratios, settings):
    """Exact fits of all neurons on all rows, neuron ``j`` at ``alphas[j], l1_ratios[j]``.

    In lockstep (the lasso when every ``l1_ratio`` is 1).

    Returns
    -------
    fit : ProxNewtonFit
    tol : float
        The KKT tolerance used (``settings["tol"]``, or above it at huge counts).
    """
    objective = PoissonObjective(
        X, Y, exposure, sample_weight, fit_intercept=settings["fit_intercept"]
    )
    tol = stopping_tol(settings["tol"], objective)
    fit = prox_newton(
        objective,
        lasso_penalty(alphas, l1_ratios),
        objective.initial_params(),
        tol=tol,
        max_iter=settings["max_iter"],
        verbose=settings["refit_verbose"],
        **settings["solver_options"],
    )
    _finite_or_raise(fit, fit.solver, "LassoLNPCV refit: ")
    return fit, tol


def _check_folds(folds, Y, sample_weight, active, population) -> dict:
    """Refuse degenerate folds of ``cv`` (ValueError naming ``cv`` and the fold).

    Refused always: an empty training or test set, or one of zero total
    ``sample_weight``.  One neuron (1-d ``y``): a training or a test fold
    without spikes (where ``sample_weight > 0``): the training fit would
    have no receptive field (all-zero ``coef_``, rate 0), and a test fold
    without spikes rewards the lowest rate, not the receptive field.  A
    population: a neuron (with spikes) without spikes in a training fold is
    refused, naming ``{neuron: folds}``; a neuron without spikes in some test
    folds has its scores in those folds skipped (NaN in ``deviance_path_``
    and ``bits_per_spike_path_``, the choice averages over its other folds),
    and refused only when it has no spikes in any test fold.

    Returns
    -------
    dict
        ``{neuron: [fold indices (0-based)]}`` of the skipped scores.
    """
    n_folds = len(folds)
    spiking = (sample_weight[:, None] * Y[:, active]) > 0
    no_train, no_test = {}, {}
    for k, (train, test) in enumerate(folds):
        for part, rows, silent in (("training", train, no_train), ("test", test, no_test)):
            rows = np.asarray(rows)
            rows = np.flatnonzero(rows) if rows.dtype == bool else rows
            where = f"fold {k + 1} of {n_folds}"
            if rows.size == 0:
                raise ValueError(
                    f"LassoLNPCV: cv gives an empty {part} set in {where}: every fold needs "
                    "training and test rows. Use fewer folds or another cv."
                )
            if not np.sum(sample_weight[rows]) > 0:
                raise ValueError(
                    f"LassoLNPCV: cv gives a {part} set of zero total sample_weight in "
                    f"{where}: it has no rows that count. Use another cv."
                )
            for j in active[~np.any(spiking[rows], axis=0)]:
                silent.setdefault(int(j), []).append(k)
    if not population:
        for part, silent in (("training", no_train), ("test", no_test)):
            if silent:
                folds_1 = [k + 1 for k in silent[0]]
                raise ValueError(
                    f"LassoLNPCV: cv gives {part} sets without spikes (where sample_weight > "
                    f"0) in folds {folds_1} of {n_folds}: "
                    + (
                        "the fit on them has no receptive field (all-zero coef_, rate 0)."
                        if part == "training"
                        else "their held-out score rewards the lowest rate, not the "
                        "receptive field."
                    )
                    + " Use fewer folds or folds that each contain spikes."
                )
        return {}
    if no_train:
        named = {j: [k + 1 for k in f] for j, f in no_train.items()}
        raise ValueError(
            f"LassoLNPCV: cv gives training sets without spikes (where sample_weight > 0) for "
            f"y columns (neurons) {sorted(named)}: {{neuron: folds (1-based) of {n_folds}}} = "
            f"{named}; the fit on them has no receptive field. Use fewer folds, folds that "
            "each contain spikes of every neuron, or fit those neurons separately."
        )
    everywhere = sorted(j for j, f in no_test.items() if len(f) == n_folds)
    if everywhere:
        raise ValueError(
            f"LassoLNPCV: y columns {everywhere} (neurons) have no spikes in any held-out "
            "fold of cv (where sample_weight > 0): no fold scores their penalty. Use other "
            "folds or fit those neurons separately."
        )
    return no_test


def _choose(deviance_path, bits_path, scoring) -> int:
    """Index of the best mean held-out score over folds (paths of shape (n_alphas, n_folds))."""
    if scoring == "deviance":
        # NaN: a neuron's fold without spikes in a population (skipped, see _check_folds)
        return int(np.nanargmin(np.nanmean(deviance_path, axis=1)))
    return int(np.nanargmax(np.nanmean(bits_path, axis=1)))


class LassoLNPCV(LNPBaseEstimator):
    r"""L1-penalised (or elastic-net) LNP model with ``alpha`` chosen by cross-validation.

    For every fold, the exact path of :class:`LassoLNPRegressor` solutions
    is computed on the training rows over the grid ``alphas_`` (largest
    first, each fit warm-started from the previous one) and scored on the
    held-out rows; ``alpha_`` has the best mean score over the folds, and
    the model is refitted on all rows at ``alpha_`` only.

    **Elastic net.** With ``l1_ratio`` a list, every ``l1_ratio`` gets its
    own path (its own default grid below its ``alpha_max / l1_ratio``) on
    every fold, and the pair ``(l1_ratio_, alpha_)`` with the best mean
    held-out score is chosen, as scikit-learn's ``ElasticNetCV``: on a tie
    the first ``l1_ratio`` in the list wins (then the larger ``alpha``).
    Also as there, the path attributes gain an ``l1_ratio`` axis (after the
    neuron axis of a population) only when more than one ``l1_ratio`` is
    given, and a user grid ``alphas`` is shared by the ``l1_ratio`` values
    (``alphas_`` then has no such axis).

    The default folds are :class:`~sklearn_lnp.model_selection.BlockedTimeSeriesSplit`
    (contiguous test blocks with a 4-bin gap on each side, for designs of up
    to 5 lags); pass ``cv=BlockedTimeSeriesSplit(k, gap=max_lag)`` for other
    lags.

    **Populations.** With ``y`` of shape (n_samples, n_neurons) (one column
    per neuron, scikit-learn's multi-output convention) every neuron gets its
    own cross-validation on the shared design and the same folds, and its own
    ``alpha_``: neurons differ in rate and receptive-field strength, so their
    ``alpha_max`` differ (it is the largest gradient entry at ``w = 0``) and a
    shared penalty would zero the RF of weak neurons while under-penalising
    strong ones.  For the same reason an integer ``alphas`` gives each neuron
    its own log grid below its own ``alpha_max``; a user grid is shared.  The
    result for each neuron is that of ``LassoLNPCV`` on its column alone
    (the same steps).  The work units are the folds, dispatched in one
    ``joblib.Parallel(n_jobs)`` call (so they spread over a dask cluster
    under ``joblib.parallel_backend("dask")``): each fits the paths of all
    neurons in lockstep (one proximal Newton run for all of them, every
    neuron down its own grid; the passes over the fold's rows shared as
    matrix-matrix products), then the refits on all rows are one lockstep fit
    at the chosen penalties (they need every fold's scores).  Neurons without spikes
    (where ``sample_weight > 0``) are not cross-validated: they get the
    intercept-only model (``coef_`` row 0, ``intercept_ = -inf``), ``alpha_``
    NaN, NaN score paths and a ``UserWarning`` naming their columns.  Fits
    that stop short of ``tol`` raise one ``ConvergenceWarning`` for the whole
    population, naming the (neuron, fold) paths and refits and the largest
    KKT violation.

    Parameters
    ----------
    alphas : int or array-like, default=20
        Number of penalties of the default grid (log-spaced from
        ``alpha_max``, computed on all rows, down to ``eps * alpha_max``;
        per neuron for a 2-d ``y``), or the penalties themselves (positive;
        shared by all neurons and all ``l1_ratio`` values).
    eps : float in (0, 1) or None, default=None
        Ratio of the smallest to the largest penalty of the default grid;
        ``None``: 1e-2 when the smallest training fold has fewer rows than
        ``X`` has columns (as glmnet's ``lambda.min.ratio``: below it such a
        fit interpolates, predicts badly and is slow to solve), else 1e-3.
    l1_ratio : float in (0, 1] or array-like of them, default=1.0
        Share of the L1 part of the penalty (see :class:`LassoLNPRegressor`):
        1 is the lasso, a list is cross-validated with ``alpha`` (scikit-learn's
        ``ElasticNetCV`` suggests values near 1, e.g. ``[.1, .5, .7, .9, .95,
        .99, 1]``).  0 is refused: use :class:`PoissonLNPRegressor`.
    cv : int, cross-validation generator or iterable, default=None
        ``None``: ``BlockedTimeSeriesSplit(5)``; an int ``k``:
        ``BlockedTimeSeriesSplit(k)``; anything ``check_cv`` accepts.
        Degenerate folds are refused with a ValueError naming the fold: an
        empty (or zero-weight) training or test set, and for a 1-d ``y`` a
        training or test set without spikes.  For a 2-d ``y``, a neuron
        without spikes in a training set is refused (naming neurons and
        folds); a neuron without spikes in some test sets has its scores
        there skipped (NaN in the paths; the choice averages its other
        folds), and is refused when it has none in any test set.
    scoring : {"deviance", "bits_per_spike"}, default="deviance"
        Criterion of the choice: mean held-out Poisson deviance per bin
        (lower is better) or held-out bits per spike (higher is better), each
        averaged over folds.  Both paths are stored.
    fit_intercept : bool, default=True
    tol : float, default=1e-8
        KKT tolerance of every fit (at least 1e-12 of the mean count, see
        :class:`LassoLNPRegressor`).
    max_iter : int, default=100
        Proximal Newton steps per fit.
    n_jobs : int or None, default=None
        Work units run in parallel (joblib): the folds, each with the paths
        of all neurons.
    verbose : int, default=0
        1-d ``y`` -- 1: one line per fold and the choice; 2: one line per
        alpha; 3: solver lines.  2-d ``y`` (one line per unit would be
        thousands of lines for a large population) -- 1: one summary line
        per fold and one for the choice; 2: also one line per (fold, neuron)
        path and per neuron's refit; 3: one line per alpha; 4: solver lines.
    solver_options : dict or None, default=None
        As for :class:`LassoLNPRegressor` with ``solver="prox-newton"``.

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_neurons,)
        Chosen penalty (NaN for a neuron without spikes).
    l1_ratio_ : float or ndarray of shape (n_neurons,)
        Chosen ``l1_ratio`` (NaN for a neuron without spikes).
    alphas_ : ndarray of shape (n_alphas,) or (n_neurons, n_alphas)
        Grid, in decreasing order; one row per neuron (NaN for a neuron
        without spikes when the grid is the default one).  With several
        ``l1_ratio`` and the default grid: shape (n_l1_ratio, n_alphas) or
        (n_neurons, n_l1_ratio, n_alphas).
    alpha_max_ : float or ndarray of shape (n_neurons,)
        Smallest penalty that zeroes every weight on all rows (0 for a
        neuron without spikes: its weights are zero at any penalty),
        ``max_j |g_j| / l1_ratio``; with several ``l1_ratio``: shape
        (n_l1_ratio,) or (n_neurons, n_l1_ratio).
    deviance_path_ : ndarray of shape (n_alphas, n_folds) or (n_neurons, n_alphas, n_folds)
        Held-out mean Poisson deviance per bin, per alpha and fold (NaN for a
        population neuron's fold without held-out spikes: skipped).
    bits_per_spike_path_ : ndarray of shape (n_alphas, n_folds) or (n_neurons, n_alphas, n_folds)
        Held-out bits per spike (NaN for a fold without spikes).
    n_nonzero_path_ : ndarray of shape (n_alphas, n_folds) or (n_neurons, n_alphas, n_folds)
        Non-zero weights of each training-fold fit (0 for a neuron without
        spikes).  The three paths get an ``l1_ratio`` axis before the alpha
        axis when several ``l1_ratio`` are given: (n_l1_ratio, n_alphas,
        n_folds) or (n_neurons, n_l1_ratio, n_alphas, n_folds).
    best_index_ : int or ndarray of shape (n_neurons,)
        Index of ``alpha_`` along the alpha axis (in the row of
        ``l1_ratio_``); -1 for a neuron without spikes.
    coef_ : ndarray of shape (n_features,) or (n_neurons, n_features)
        Receptive field of the refit on all rows at ``alpha_`` (one row per
        neuron; 0 for a neuron without spikes).
    intercept_ : float or ndarray of shape (n_neurons,)
        Log baseline rate of the refit (-inf for a neuron without spikes).
    n_nonzero_, n_iter_, objective_, optimality_, solver_ : scalar or ndarray of shape (n_neurons,)
        Of the refit (see :class:`LassoLNPRegressor`); a neuron without
        spikes: ``n_iter_ = 0``, ``objective_ = optimality_ = 0``,
        ``solver_ = "intercept-only"``.
    cv_seconds_ : float
        Wall time of the cross-validation (without the refit).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string column names.

    See Also
    --------
    LassoLNPRegressor : fixed penalty.
    lasso_lnp_path : the path on all rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp import LassoLNPCV
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> neuron = make_lnp_neuron(n_frames=1500, random_state=0)
    >>> model = LassoLNPCV(alphas=8, cv=3).fit(
    ...     neuron.stimulus, neuron.counts, exposure=neuron.exposure)
    >>> model.deviance_path_.shape
    (8, 3)
    >>> bool(model.alphas_[-1] <= model.alpha_ < model.alphas_[0])
    True

    A population: the same neuron and one without a receptive field, which
    gets its largest penalty (every weight zero).

    >>> flat = np.random.default_rng(0).poisson(neuron.exposure * 0.2)
    >>> Y = np.column_stack([neuron.counts, flat])
    >>> population = LassoLNPCV(alphas=8, cv=3).fit(
    ...     neuron.stimulus, Y, exposure=neuron.exposure)
    >>> population.coef_.shape, population.deviance_path_.shape
    ((2, 225), (2, 8, 3))
    >>> # the same choice as the single fit (grids equal up to round-off in alpha_max)
    >>> bool(np.isclose(population.alpha_[0], model.alpha_, rtol=1e-12, atol=0))
    True
    >>> population.n_nonzero_[1]
    np.int64(0)
    """

    _parameter_constraints = {
        "alphas": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(numbers.Real, 0.0, 1.0, closed="neither"), None],
        "l1_ratio": [Interval(numbers.Real, 0.0, 1.0, closed="both"), "array-like"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(SCORINGS))],
        "fit_intercept": ["boolean"],
        "tol": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
        "solver_options": [dict, None],
    }

    def __init__(
        self,
        *,
        alphas=20,
        eps=None,
        l1_ratio=1.0,
        cv=None,
        scoring="deviance",
        fit_intercept=True,
        tol=1e-8,
        max_iter=100,
        n_jobs=None,
        verbose=0,
        solver_options=None,
    ):
        self.alphas = alphas
        self.eps = eps
        self.l1_ratio = l1_ratio
        self.cv = cv
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.solver_options = solver_options

    def _splitter(self):
        if self.cv is None:
            return BlockedTimeSeriesSplit(5)
        if isinstance(self.cv, numbers.Integral) and not isinstance(self.cv, bool):
            return BlockedTimeSeriesSplit(int(self.cv))
        return check_cv(self.cv)

    def _grid_eps(self, folds, n_features) -> float | None:
        """``eps`` of the default grid (None for a user grid)."""
        if isinstance(self.alphas, numbers.Integral) and not isinstance(self.alphas, bool):
            # The folds' fits have fewer rows than X: the smallest training
            # set decides whether they have more columns than rows.
            n_train = min(len(train) for train, _ in folds)
            return default_eps(n_train, n_features) if self.eps is None else float(self.eps)
        return None

    def _settings(self, options, unit_verbose, refit_verbose, collect_warnings) -> dict:
        return {
            "fit_intercept": self.fit_intercept,
            "tol": self.tol,
            "max_iter": self.max_iter,
            "verbose": unit_verbose,
            "refit_verbose": refit_verbose,
            "solver_options": options,
            "collect_warnings": collect_warnings,
        }

    def fit(self, X, y, sample_weight=None, exposure=None):
        """Cross-validate the path, choose ``alpha_`` and refit on all rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Design, rows in temporal order (for the default folds).
        y : array-like of shape (n_samples,) or (n_samples, n_neurons)
            Spike counts; one column per neuron for a population (each
            neuron gets its own ``alpha_``).  A 2-d ``y`` of shape (n, 1)
            is a population of one (array attributes, as
            :class:`LassoLNPRegressor`).
        sample_weight : array-like of shape (n_samples,), optional
            Shared by all neurons.
        exposure : array-like of shape (n_samples,) or float, optional
            Bin widths, shared by all neurons; used in the fits and in the
            held-out scores.

        Returns
        -------
        self
        """
        self._validate_params()
        ratios = np.atleast_1d(check_l1_ratio(self.l1_ratio))
        several, n_ratios = ratios.size > 1, ratios.size
        X, y, sample_weight, exposure = self._validate_fit_data(
            X, y, sample_weight, exposure, multi_output=True
        )
        options = _prox_newton_options(self.solver_options)
        splitter = self._splitter()
        n_splits = splitter.get_n_splits(X, y)
        if X.shape[0] < max(n_splits, 2):
            raise ValueError(
                f"LassoLNPCV: cross-validation with {n_splits} folds needs at least "
                f"{max(n_splits, 2)} samples; got n_samples={X.shape[0]}."
            )
        folds = list(splitter.split(X, y))
        population = y.ndim == 2
        Y = y if population else y[:, None]
        n_neurons, n_features, n_folds = Y.shape[1], X.shape[1], len(folds)
        silent = silent_neurons(y, sample_weight, self.fit_intercept)
        active = np.setdiff1d(np.arange(n_neurons), silent)
        skipped = _check_folds(folds, Y, sample_weight, active, population)
        Y_active = np.asfortranarray(Y[:, active])  # each neuron's counts a contiguous column
        verbose = int(self.verbose)

        alpha_max_ = np.zeros((n_neurons, n_ratios))
        if active.size:
            top = alpha_max(
                PoissonObjective(
                    X, Y_active, exposure, sample_weight, fit_intercept=self.fit_intercept
                )
            )
            alpha_max_[active] = top[:, None] / ratios
        eps = self._grid_eps(folds, n_features)
        if eps is not None:
            alphas = np.full((n_neurons, n_ratios, int(self.alphas)), np.nan)
            for j in active:
                for r in range(n_ratios):
                    alphas[j, r] = alpha_grid(alpha_max_[j, r], int(self.alphas), eps)
        else:
            grid = check_alpha_grid(self.alphas, "alphas")
            alphas = np.tile(grid, (n_neurons, n_ratios, 1))
        n_alphas = alphas.shape[2]
        if active.size:  # a user grid far below alpha_max on a wide design: say why it is slow
            warn_if_nearly_unpenalised(np.min(alphas[active], axis=2), alpha_max_[active], X.shape)
        if population:
            settings = self._settings(options, max(verbose - 1, 0), max(verbose - 3, 0), True)
        else:
            settings = self._settings(options, verbose, max(verbose - 2, 0), False)
        if verbose:
            mix = f" x {n_ratios} l1_ratios" if several else ""
            if population:
                print(
                    f"[LassoLNPCV] {n_neurons} neurons ({len(silent)} without spikes), "
                    f"{n_alphas} alphas{mix} per neuron, {n_folds} folds: one lockstep path of "
                    f"{active.size} neurons per fold",
                    flush=True,
                )
            else:
                print(
                    f"[LassoLNPCV] {n_alphas} alphas{mix} from {alphas[0, 0, 0]:.4g} to "
                    f"{alphas[0, 0, -1]:.4g} (alpha_max {alpha_max_[0, 0]:.4g}), {n_folds} folds",
                    flush=True,
                )

        start = time.perf_counter()
        results = []
        if active.size:
            results = Parallel(n_jobs=self.n_jobs)(
                delayed(_fold_path)(
                    X,
                    Y_active,
                    exposure,
                    sample_weight,
                    train,
                    test,
                    np.ascontiguousarray(alphas[active, r].T),
                    settings,
                    fold=k,
                    n_folds=n_folds,
                    neuron=active.tolist() if population else None,
                    l1_ratio=float(ratios[r]),
                )
                for r in range(n_ratios)
                for k, (train, test) in enumerate(folds)
            )
        self.cv_seconds_ = time.perf_counter() - start

        shape = (n_neurons, n_ratios, n_alphas, n_folds)
        deviance, bits = np.full(shape, np.nan), np.full(shape, np.nan)
        n_nonzero = np.zeros(shape, dtype=int)
        short = []  # (neuron, fold, largest KKT violation) of unfinished paths
        for unit, res in enumerate(results):
            r, k = divmod(unit, n_folds)
            deviance[active, r, :, k] = res["deviance"].T
            bits[active, r, :, k] = res["bits"].T
            n_nonzero[active, r, :, k] = res["n_nonzero"].T
            for i in np.flatnonzero(~np.all(res["converged"], axis=0)):
                short.append((int(active[i]), k, float(np.max(res["optimality"][:, i]))))
        for j, skipped_folds in skipped.items():  # no spikes held out: scores skipped
            deviance[j][..., skipped_folds] = np.nan
            bits[j][..., skipped_folds] = np.nan
        if verbose and population:
            for unit, res in enumerate(results):
                r, k = divmod(unit, n_folds)
                mix = f" (l1_ratio {ratios[r]:g})" if several else ""
                print(
                    f"[LassoLNPCV] fold {k + 1}/{n_folds}{mix}: {active.size} neurons, "
                    f"{res['seconds']:.2f} s of fits; max KKT {res['optimality'].max():.1e}",
                    flush=True,
                )

        if self.scoring == "bits_per_spike":
            undefined = [int(j) for j in active if np.all(np.isnan(bits[j]))]
            if undefined and population:
                raise ValueError(
                    f"LassoLNPCV: y columns {undefined} (neurons) have no spikes in any "
                    "held-out fold: bits per spike is undefined for them. Use "
                    "scoring='deviance' or other folds."
                )
        best_index = np.full(n_neurons, -1)
        best_ratio = np.full(n_neurons, -1)
        alpha_, l1_ratio_ = np.full(n_neurons, np.nan), np.full(n_neurons, np.nan)
        for j in active:
            # (l1_ratio, alpha) flattened in that order: on a tie the first
            # l1_ratio given, then the largest alpha (ElasticNetCV's rule)
            flat = _choose(
                deviance[j].reshape(-1, n_folds), bits[j].reshape(-1, n_folds), self.scoring
            )
            best_ratio[j], best_index[j] = divmod(flat, n_alphas)
            alpha_[j] = alphas[j, best_ratio[j], best_index[j]]
            l1_ratio_[j] = ratios[best_ratio[j]]

        start = time.perf_counter()
        fit = None
        if active.size:
            fit, refit_tol = _refit(
                X, Y_active, exposure, sample_weight, alpha_[active], l1_ratio_[active], settings
            )
        refit_seconds = time.perf_counter() - start
        set_solution(self, fit, active, n_neurons, n_features, population=population)
        if not several:  # ElasticNetCV's convention: an l1_ratio axis only for several
            alphas, alpha_max_ = alphas[:, 0], alpha_max_[:, 0]
            deviance, bits, n_nonzero = deviance[:, 0], bits[:, 0], n_nonzero[:, 0]
        elif eps is None:  # a user grid, shared by the l1_ratios
            alphas = alphas[:, 0]
        if not population:
            self.alpha_max_ = float(alpha_max_[0]) if not several else alpha_max_[0]
            self.alphas_ = alphas[0]
            self.deviance_path_ = deviance[0]
            self.bits_per_spike_path_ = bits[0]
            self.n_nonzero_path_ = n_nonzero[0]
            self.best_index_ = int(best_index[0])
            self.alpha_ = float(alpha_[0])
            self.l1_ratio_ = float(l1_ratio_[0])
            warn_if_not_converged(fit.result(0), refit_tol, self.max_iter)
            if verbose:
                mix = f", l1_ratio_ = {self.l1_ratio_:g}" if several else ""
                print(
                    f"[LassoLNPCV] cross-validation {self.cv_seconds_:.2f} s; alpha_ = "
                    f"{self.alpha_:.4g} ({self.best_index_ + 1}/{n_alphas}){mix}; refit: "
                    f"{self.n_nonzero_} non-zero, KKT {self.optimality_:.1e}",
                    flush=True,
                )
            return self
        self.alpha_max_, self.alphas_ = alpha_max_, alphas
        self.deviance_path_, self.bits_per_spike_path_ = deviance, bits
        self.n_nonzero_path_ = n_nonzero
        self.best_index_, self.alpha_ = best_index, alpha_
        self.l1_ratio_ = l1_ratio_
        short_refits = [] if fit is None else active[~fit.converged].tolist()
        if verbose >= 2:
            for j in active:
                print(
                    f"[LassoLNPCV] neuron {j}: alpha_ = {alpha_[j]:.4g} "
                    f"({best_index[j] + 1}/{n_alphas}), l1_ratio_ = {l1_ratio_[j]:g}; refit: "
                    f"{self.n_nonzero_[j]} non-zero, KKT {self.optimality_[j]:.1e}",
                    flush=True,
                )
        self._warn_short(short, short_refits, active.size * n_folds * n_ratios)
        if verbose and active.size:
            chosen = alpha_[active]
            print(
                f"[LassoLNPCV] cross-validation {self.cv_seconds_:.2f} s; alpha_ from "
                f"{chosen.min():.4g} to {chosen.max():.4g} (median {np.median(chosen):.4g}); "
                f"refit {refit_seconds:.2f} s: median "
                f"{np.median(self.n_nonzero_[active]):g} non-zero, max KKT "
                f"{self.optimality_.max():.1e}",
                flush=True,
            )
        return self

    def _warn_short(self, short, short_refits, n_units) -> None:
        """One ``ConvergenceWarning`` for every unfinished path and refit of a population."""
        if not short and not short_refits:
            return
        where = [(v, f"neuron {j}, fold {k}") for j, k, v in short]
        where += [(float(self.optimality_[j]), f"refit of neuron {j}") for j in short_refits]
        worst, place = max(where)
        parts = []
        if short:
            folds: dict[int, list[int]] = {}
            for j, k, _ in sorted(short):
                folds.setdefault(j, []).append(k)
            parts.append(
                f"{len(short)} of {n_units} cross-validation paths ({{neuron: folds}} = {folds})"
            )
        if short_refits:
            parts.append(f"the refits of neurons {short_refits}")
        warnings.warn(
            f"LassoLNPCV: {' and '.join(parts)} stopped short of tol={self.tol:.3g} "
            "(or 1e-12 of the mean count, if larger): "
            f"largest KKT violation {worst:.3g} ({place}). Increase max_iter or loosen tol.",
            ConvergenceWarning,
            stacklevel=3,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
