"""``LassoLNPCV``: the L1 penalty chosen by cross-validation over a warm-started path."""

from __future__ import annotations

import numbers
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions

from .._loss import PoissonObjective, safe_exp
from .._solvers import warn_if_not_converged
from .._solvers._prox_newton import alpha_max, prox_newton_lasso
from ..metrics import bits_per_spike, poisson_deviance
from ..model_selection import BlockedTimeSeriesSplit
from ._base import LNPBaseEstimator
from ._lasso import (
    _finite_or_raise,
    _prox_newton_options,
    alpha_grid,
    check_alpha_grid,
    default_eps,
    fit_path,
)

SCORINGS = ("deviance", "bits_per_spike")


def _subset(a, rows):
    return None if a is None else a[rows]


def _fold_path(X, y, exposure, sample_weight, train, test, alphas, settings, fold, n_folds):
    """Fit the path on ``train``; score every alpha on ``test``."""
    start = time.perf_counter()
    w_train = sample_weight[train]
    objective = PoissonObjective(
        X[train],
        y[train],
        _subset(exposure, train),
        w_train,
        alpha=0.0,
        fit_intercept=settings["fit_intercept"],
    )
    X_test, y_test = X[test], y[test]
    e_test, w_test = _subset(exposure, test), sample_weight[test]
    has_spikes = float(np.sum(w_test * y_test)) > 0
    deviance = np.empty(len(alphas))
    bits = np.full(len(alphas), np.nan)
    n_nonzero = np.empty(len(alphas), dtype=int)

    def score(k, params):
        coef, intercept = objective.split(params)
        eta = np.asarray(X_test @ coef, dtype=np.float64) + intercept
        mu = safe_exp(eta)[0]
        if e_test is not None:
            mu = mu * e_test
        deviance[k] = poisson_deviance(y_test, mu, sample_weight=w_test) / w_test.sum()
        if has_spikes:
            bits[k] = bits_per_spike(y_test, mu, exposure=e_test, sample_weight=w_test)
        n_nonzero[k] = np.count_nonzero(coef)

    label = f"[LassoLNPCV] fold {fold + 1}/{n_folds} " if settings["verbose"] else ""
    fits = fit_path(
        objective,
        alphas,
        tol=settings["tol"],
        max_iter=settings["max_iter"],
        verbose=max(settings["verbose"] - 1, 0),
        solver_options=settings["solver_options"],
        callback=score,
        label=label,
    )
    if settings["verbose"]:
        best = int(np.argmin(deviance))
        print(
            f"[LassoLNPCV] fold {fold + 1}/{n_folds}: {len(alphas)} alphas in "
            f"{time.perf_counter() - start:.2f} s; best alpha {alphas[best]:.4g} "
            f"({n_nonzero[best]} non-zero), max KKT {fits.optimality.max():.1e}",
            flush=True,
        )
    return deviance, bits, n_nonzero, fits.n_iter


class LassoLNPCV(LNPBaseEstimator):
    r"""L1-penalised LNP model with ``alpha`` chosen by cross-validation.

    For every fold, the exact path of :class:`LassoLNPRegressor` solutions
    is computed on the training rows over the grid ``alphas_`` (largest
    first, each fit warm-started from the previous one) and scored on the
    held-out rows; ``alpha_`` has the best mean score over the folds, and
    the model is refitted on all rows at ``alpha_`` only.

    The default folds are :class:`~sklearn_lnp.model_selection.BlockedTimeSeriesSplit`
    (contiguous test blocks with a 4-bin gap on each side, for designs of up
    to 5 lags); pass ``cv=BlockedTimeSeriesSplit(k, gap=max_lag)`` for other
    lags.

    Parameters
    ----------
    alphas : int or array-like, default=20
        Number of penalties of the default grid (log-spaced from
        ``alpha_max``, computed on all rows, down to ``eps * alpha_max``), or
        the penalties themselves (positive).
    eps : float in (0, 1) or None, default=None
        Ratio of the smallest to the largest penalty of the default grid;
        ``None``: 1e-2 when the smallest training fold has fewer rows than
        ``X`` has columns (as glmnet's ``lambda.min.ratio``: below it such a
        fit interpolates, predicts badly and is slow to solve), else 1e-3.
    cv : int, cross-validation generator or iterable, default=None
        ``None``: ``BlockedTimeSeriesSplit(5)``; an int ``k``:
        ``BlockedTimeSeriesSplit(k)``; anything ``check_cv`` accepts.
    scoring : {"deviance", "bits_per_spike"}, default="deviance"
        Criterion of the choice: mean held-out Poisson deviance per bin
        (lower is better) or held-out bits per spike (higher is better), each
        averaged over folds.  Both paths are stored.
    fit_intercept : bool, default=True
    tol : float, default=1e-8
        KKT tolerance of every fit (see :class:`LassoLNPRegressor`).
    max_iter : int, default=100
        Proximal Newton steps per fit.
    n_jobs : int or None, default=None
        Folds fitted in parallel (joblib).
    verbose : int, default=0
        1: one line per fold and the choice; 2: one line per alpha; 3: solver lines.
    solver_options : dict or None, default=None
        As for :class:`LassoLNPRegressor` with ``solver="prox-newton"``.

    Attributes
    ----------
    alpha_ : float
        Chosen penalty.
    alphas_ : ndarray of shape (n_alphas,)
        Grid, in decreasing order.
    alpha_max_ : float
        Smallest penalty that zeroes every weight on all rows.
    deviance_path_ : ndarray of shape (n_alphas, n_folds)
        Held-out mean Poisson deviance per bin, per alpha and fold.
    bits_per_spike_path_ : ndarray of shape (n_alphas, n_folds)
        Held-out bits per spike (NaN for a fold without spikes).
    n_nonzero_path_ : ndarray of shape (n_alphas, n_folds)
        Non-zero weights of each training-fold fit.
    best_index_ : int
        Index of ``alpha_`` in ``alphas_``.
    coef_, intercept_, n_nonzero_, n_iter_, objective_, optimality_, solver_
        Of the refit on all rows at ``alpha_`` (see :class:`LassoLNPRegressor`).
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
    >>> from sklearn_lnp import LassoLNPCV
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> neuron = make_lnp_neuron(n_frames=1500, random_state=0)
    >>> model = LassoLNPCV(alphas=8, cv=3).fit(
    ...     neuron.stimulus, neuron.counts, exposure=neuron.exposure)
    >>> model.deviance_path_.shape
    (8, 3)
    >>> bool(model.alphas_[-1] <= model.alpha_ < model.alphas_[0])
    True
    """

    _parameter_constraints = {
        "alphas": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(numbers.Real, 0.0, 1.0, closed="neither"), None],
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

    def fit(self, X, y, sample_weight=None, exposure=None):
        """Cross-validate the path, choose ``alpha_`` and refit on all rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Design, rows in temporal order (for the default folds).
        y : array-like of shape (n_samples,)
            Spike counts.
        sample_weight : array-like of shape (n_samples,), optional
        exposure : array-like of shape (n_samples,) or float, optional
            Bin widths; used in the fits and in the held-out scores.

        Returns
        -------
        self
        """
        self._validate_params()
        X, y, sample_weight, exposure = self._validate_fit_data(X, y, sample_weight, exposure)
        options = _prox_newton_options(self.solver_options)
        objective = PoissonObjective(
            X, y, exposure, sample_weight, alpha=0.0, fit_intercept=self.fit_intercept
        )
        self.alpha_max_ = alpha_max(objective)
        splitter = self._splitter()
        n_splits = splitter.get_n_splits(X, y)
        if X.shape[0] < max(n_splits, 2):
            raise ValueError(
                f"LassoLNPCV: cross-validation with {n_splits} folds needs at least "
                f"{max(n_splits, 2)} samples; got n_samples={X.shape[0]}."
            )
        folds = list(splitter.split(X, y))
        if isinstance(self.alphas, numbers.Integral) and not isinstance(self.alphas, bool):
            # The folds' fits have fewer rows than X: the smallest training
            # set decides whether they have more columns than rows.
            n_train = min(len(train) for train, _ in folds)
            eps = default_eps(n_train, X.shape[1]) if self.eps is None else float(self.eps)
            alphas = alpha_grid(self.alpha_max_, int(self.alphas), eps)
        else:
            alphas = check_alpha_grid(self.alphas, "alphas")
        settings = {
            "fit_intercept": self.fit_intercept,
            "tol": self.tol,
            "max_iter": self.max_iter,
            "verbose": int(self.verbose),
            "solver_options": options,
        }
        if self.verbose:
            print(
                f"[LassoLNPCV] {len(alphas)} alphas from {alphas[0]:.4g} to {alphas[-1]:.4g} "
                f"(alpha_max {self.alpha_max_:.4g}), {len(folds)} folds",
                flush=True,
            )
        start = time.perf_counter()
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_path)(
                X, y, exposure, sample_weight, train, test, alphas, settings, k, len(folds)
            )
            for k, (train, test) in enumerate(folds)
        )
        self.cv_seconds_ = time.perf_counter() - start
        self.alphas_ = alphas
        self.deviance_path_ = np.column_stack([r[0] for r in results])
        self.bits_per_spike_path_ = np.column_stack([r[1] for r in results])
        self.n_nonzero_path_ = np.column_stack([r[2] for r in results])
        if self.scoring == "deviance":
            self.best_index_ = int(np.argmin(self.deviance_path_.mean(axis=1)))
        else:
            self.best_index_ = int(np.nanargmax(np.nanmean(self.bits_per_spike_path_, axis=1)))
        self.alpha_ = float(alphas[self.best_index_])
        result = prox_newton_lasso(
            objective,
            objective.initial_params(),
            self.alpha_,
            tol=self.tol,
            max_iter=self.max_iter,
            verbose=max(int(self.verbose) - 2, 0),
            **options,
        )
        _finite_or_raise(result, result.solver)
        warn_if_not_converged(result, self.tol, self.max_iter)
        coef, intercept = objective.split(result.params)
        self.coef_ = np.array(coef)
        self.intercept_ = float(intercept)
        self.n_nonzero_ = int(np.count_nonzero(self.coef_))
        self.n_iter_ = int(result.n_iter)
        self.objective_ = float(result.objective)
        self.optimality_ = float(result.optimality)
        self.solver_ = result.solver
        if self.verbose:
            print(
                f"[LassoLNPCV] cross-validation {self.cv_seconds_:.2f} s; alpha_ = "
                f"{self.alpha_:.4g} ({self.best_index_ + 1}/{len(alphas)}); refit: "
                f"{self.n_nonzero_} non-zero, KKT {self.optimality_:.1e}",
                flush=True,
            )
        return self
