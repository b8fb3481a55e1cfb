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

from .._loss import PoissonObjective, safe_exp
from .._solvers import warn_if_not_converged
from .._solvers._prox_newton import alpha_max, prox_newton_lasso
from ..metrics import bits_per_spike, poisson_deviance
from ..model_selection import BlockedTimeSeriesSplit
from ._base import LNPBaseEstimator, check_population_counts
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


def _unit_name(fold, n_folds, neuron) -> str:
    name = f"fold {fold + 1}/{n_folds}"
    return name if neuron is None else f"{name} neuron {neuron}"


def _fold_path(
    X, y, exposure, sample_weight, train, test, alphas, settings, *, fold, n_folds, neuron=None
):
    """Fit the path on ``train``; score every alpha on ``test``.

    One work unit of the cross-validation: fold ``fold`` (0-based, of
    ``n_folds``) of neuron ``neuron`` (the column of a 2-d ``y``; None for a
    1-d ``y``).  Both are keyword arguments, so a joblib backend can name a
    failed unit from the call's arguments.  With ``settings["collect_warnings"]``
    the per-alpha ``ConvergenceWarning`` of :func:`fit_path` is silenced when
    the unit runs in a main thread (sequentially, or in a loky worker process):
    the caller reads ``optimality`` and ``converged`` and warns once for all
    units.  (Under a thread-pool backend they are not silenced: swapping the
    process-wide warning filters from concurrent threads is not safe.)

    Returns
    -------
    dict
        ``deviance``, ``bits`` (n_alphas,) held-out scores; ``n_nonzero``,
        ``n_iter``, ``optimality``, ``converged`` (n_alphas,) of the fits;
        ``seconds`` the unit's wall time.
    """
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

    name = _unit_name(fold, n_folds, neuron)
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
            raise FloatingPointError(f"LassoLNPCV {name}: {exc}") from exc
    seconds = time.perf_counter() - start
    if settings["verbose"]:
        best = int(np.argmin(deviance))
        print(
            f"[LassoLNPCV] {name}: {len(alphas)} alphas in {seconds:.2f} s; best alpha "
            f"{alphas[best]:.4g} ({n_nonzero[best]} non-zero), max KKT "
            f"{fits.optimality.max():.1e}",
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


def _refit(X, y, exposure, sample_weight, alpha, settings, *, neuron=None):
    """Exact fit on all rows at ``alpha``: ``(coef, intercept, SolverResult)``.

    The refit work unit of neuron ``neuron`` (None for a 1-d ``y``).
    """
    objective = PoissonObjective(
        X, y, exposure, sample_weight, alpha=0.0, fit_intercept=settings["fit_intercept"]
    )
    result = prox_newton_lasso(
        objective,
        objective.initial_params(),
        float(alpha),
        tol=settings["tol"],
        max_iter=settings["max_iter"],
        verbose=settings["refit_verbose"],
        **settings["solver_options"],
    )
    try:
        _finite_or_raise(result, result.solver)
    except FloatingPointError as exc:
        if neuron is None:
            raise
        raise FloatingPointError(f"LassoLNPCV refit of neuron {neuron}: {exc}") from exc
    coef, intercept = objective.split(result.params)
    return np.array(coef), float(intercept), result


def _choose(deviance_path, bits_path, scoring) -> int:
    """Index of the best mean held-out score over folds (paths of shape (n_alphas, n_folds))."""
    if scoring == "deviance":
        return int(np.argmin(deviance_path.mean(axis=1)))
    return int(np.nanargmax(np.nanmean(bits_path, axis=1)))


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

    **Populations.** With ``y`` of shape (n_samples, n_neurons) (one column
    per neuron, scikit-learn's multi-output convention) every neuron gets its
    own cross-validation on the shared design and the same folds, and its own
    ``alpha_``: neurons differ in rate and receptive-field strength, so their
    ``alpha_max`` differ (it is the largest gradient entry at ``w = 0``) and a
    shared penalty would zero the RF of weak neurons while under-penalising
    strong ones.  For the same reason an integer ``alphas`` gives each neuron
    its own log grid below its own ``alpha_max``; a user grid is shared.  The
    result for each neuron is that of ``LassoLNPCV`` on its column alone,
    and so is the work (measured: 20 neurons on the real neuron's 1488 x 300
    design, 33-36 s of CPU time either way).  The work units are the
    (fold, neuron) paths, dispatched in one ``joblib.Parallel(n_jobs)`` call
    (so they spread over a dask cluster under
    ``joblib.parallel_backend("dask")``), then the per-neuron refits in a
    second call (they need every fold's scores).  Neurons without spikes
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
        shared by all neurons).
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
        Work units run in parallel (joblib): the folds for a 1-d ``y``, the
        (fold, neuron) paths and then the per-neuron refits for a 2-d ``y``.
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
    alphas_ : ndarray of shape (n_alphas,) or (n_neurons, n_alphas)
        Grid, in decreasing order; one row per neuron (NaN for a neuron
        without spikes when the grid is the default one).
    alpha_max_ : float or ndarray of shape (n_neurons,)
        Smallest penalty that zeroes every weight on all rows (0 for a
        neuron without spikes: its weights are zero at any penalty).
    deviance_path_ : ndarray of shape (n_alphas, n_folds) or (n_neurons, n_alphas, n_folds)
        Held-out mean Poisson deviance per bin, per alpha and fold.
    bits_per_spike_path_ : ndarray of shape (n_alphas, n_folds) or (n_neurons, n_alphas, n_folds)
        Held-out bits per spike (NaN for a fold without spikes).
    n_nonzero_path_ : ndarray of shape (n_alphas, n_folds) or (n_neurons, n_alphas, n_folds)
        Non-zero weights of each training-fold fit (0 for a neuron without
        spikes).
    best_index_ : int or ndarray of shape (n_neurons,)
        Index of ``alpha_`` in ``alphas_`` (its row); -1 for a neuron
        without spikes.
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
            neuron gets its own ``alpha_``).
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
        if y.ndim == 2:
            folds = list(splitter.split(X, y))
            return self._fit_population(X, y, sample_weight, exposure, folds, options)
        objective = PoissonObjective(
            X, y, exposure, sample_weight, alpha=0.0, fit_intercept=self.fit_intercept
        )
        self.alpha_max_ = alpha_max(objective)
        folds = list(splitter.split(X, y))
        eps = self._grid_eps(folds, X.shape[1])
        if eps is not None:
            alphas = alpha_grid(self.alpha_max_, int(self.alphas), eps)
        else:
            alphas = check_alpha_grid(self.alphas, "alphas")
        verbose = int(self.verbose)
        settings = self._settings(options, verbose, max(verbose - 2, 0), False)
        if self.verbose:
            print(
                f"[LassoLNPCV] {len(alphas)} alphas from {alphas[0]:.4g} to {alphas[-1]:.4g} "
                f"(alpha_max {self.alpha_max_:.4g}), {len(folds)} folds",
                flush=True,
            )
        start = time.perf_counter()
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_path)(
                X,
                y,
                exposure,
                sample_weight,
                train,
                test,
                alphas,
                settings,
                fold=k,
                n_folds=len(folds),
            )
            for k, (train, test) in enumerate(folds)
        )
        self.cv_seconds_ = time.perf_counter() - start
        self.alphas_ = alphas
        self.deviance_path_ = np.column_stack([r["deviance"] for r in results])
        self.bits_per_spike_path_ = np.column_stack([r["bits"] for r in results])
        self.n_nonzero_path_ = np.column_stack([r["n_nonzero"] for r in results])
        self.best_index_ = _choose(self.deviance_path_, self.bits_per_spike_path_, self.scoring)
        self.alpha_ = float(alphas[self.best_index_])
        coef, intercept, result = _refit(X, y, exposure, sample_weight, self.alpha_, settings)
        warn_if_not_converged(result, self.tol, self.max_iter)
        self.coef_ = coef
        self.intercept_ = intercept
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

    def _fit_population(self, X, Y, sample_weight, exposure, folds, options):
        """One cross-validation per neuron (column of ``Y``), on the same folds.

        Work units: the (fold, neuron) paths in one ``Parallel`` call, then
        the refits of the neurons with spikes in another.
        """
        n_neurons, n_features, n_folds = Y.shape[1], X.shape[1], len(folds)
        silent = check_population_counts(Y, sample_weight, self.fit_intercept)
        active = np.setdiff1d(np.arange(n_neurons), silent).tolist()
        columns = np.asfortranarray(Y)  # each neuron's counts a contiguous column
        verbose = int(self.verbose)

        self.alpha_max_ = np.zeros(n_neurons)
        for j in active:
            self.alpha_max_[j] = alpha_max(
                PoissonObjective(
                    X,
                    columns[:, j],
                    exposure,
                    sample_weight,
                    alpha=0.0,
                    fit_intercept=self.fit_intercept,
                )
            )
        eps = self._grid_eps(folds, n_features)
        if eps is not None:
            alphas = np.full((n_neurons, int(self.alphas)), np.nan)
            for j in active:
                alphas[j] = alpha_grid(self.alpha_max_[j], int(self.alphas), eps)
        else:
            alphas = np.tile(check_alpha_grid(self.alphas, "alphas"), (n_neurons, 1))
        n_alphas = alphas.shape[1]
        settings = self._settings(options, max(verbose - 1, 0), max(verbose - 3, 0), True)
        units = [(k, j) for k in range(n_folds) for j in active]
        if verbose:
            print(
                f"[LassoLNPCV] {n_neurons} neurons ({len(silent)} without spikes), "
                f"{n_alphas} alphas per neuron, {n_folds} folds: {len(units)} "
                "(fold, neuron) paths",
                flush=True,
            )

        start = time.perf_counter()
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_path)(
                X,
                columns[:, j],
                exposure,
                sample_weight,
                folds[k][0],
                folds[k][1],
                alphas[j],
                settings,
                fold=k,
                n_folds=n_folds,
                neuron=j,
            )
            for k, j in units
        )
        self.cv_seconds_ = time.perf_counter() - start

        shape = (n_neurons, n_alphas, n_folds)
        deviance, bits = np.full(shape, np.nan), np.full(shape, np.nan)
        n_nonzero = np.zeros(shape, dtype=int)
        short = []  # (neuron, fold, largest KKT violation) of unfinished paths
        for (k, j), r in zip(units, results, strict=True):
            deviance[j, :, k], bits[j, :, k], n_nonzero[j, :, k] = (
                r["deviance"],
                r["bits"],
                r["n_nonzero"],
            )
            if not np.all(r["converged"]):
                short.append((j, k, float(np.max(r["optimality"]))))
        if verbose:
            for k in range(n_folds):
                done = [r for (f, _), r in zip(units, results, strict=True) if f == k]
                kkt = max((float(r["optimality"].max()) for r in done), default=0.0)
                print(
                    f"[LassoLNPCV] fold {k + 1}/{n_folds}: {len(done)} neurons, "
                    f"{sum(r['seconds'] for r in done):.2f} s of fits; max KKT {kkt:.1e}",
                    flush=True,
                )

        if self.scoring == "bits_per_spike":
            undefined = [j for j in active if np.all(np.isnan(bits[j]))]
            if undefined:
                raise ValueError(
                    f"LassoLNPCV: y columns {undefined} (neurons) have no spikes in any "
                    "held-out fold: bits per spike is undefined for them. Use "
                    "scoring='deviance' or other folds."
                )
        self.alphas_ = alphas
        self.deviance_path_, self.bits_per_spike_path_ = deviance, bits
        self.n_nonzero_path_ = n_nonzero
        self.best_index_ = np.full(n_neurons, -1)
        self.alpha_ = np.full(n_neurons, np.nan)
        for j in active:
            self.best_index_[j] = _choose(deviance[j], bits[j], self.scoring)
            self.alpha_[j] = alphas[j, self.best_index_[j]]

        start = time.perf_counter()
        refits = Parallel(n_jobs=self.n_jobs)(
            delayed(_refit)(
                X, columns[:, j], exposure, sample_weight, self.alpha_[j], settings, neuron=j
            )
            for j in active
        )
        refit_seconds = time.perf_counter() - start
        self.coef_ = np.zeros((n_neurons, n_features))
        self.intercept_ = np.full(n_neurons, -np.inf if self.fit_intercept else 0.0)
        self.n_iter_ = np.zeros(n_neurons, dtype=int)
        self.objective_ = np.zeros(n_neurons)
        self.optimality_ = np.zeros(n_neurons)
        self.solver_ = np.full(n_neurons, "intercept-only", dtype=object)
        short_refits = []
        for j, (coef, intercept, result) in zip(active, refits, strict=True):
            self.coef_[j], self.intercept_[j] = coef, intercept
            self.n_iter_[j] = result.n_iter
            self.objective_[j] = result.objective
            self.optimality_[j] = result.optimality
            self.solver_[j] = result.solver
            if not result.converged:
                short_refits.append(j)
            if verbose >= 2:
                print(
                    f"[LassoLNPCV] neuron {j}: alpha_ = {self.alpha_[j]:.4g} "
                    f"({self.best_index_[j] + 1}/{n_alphas}); refit: "
                    f"{np.count_nonzero(coef)} non-zero, KKT {result.optimality:.1e}",
                    flush=True,
                )
        self.n_nonzero_ = np.count_nonzero(self.coef_, axis=1)
        self.n_features_in_ = n_features
        self._warn_short(short, short_refits, len(units))
        if verbose and active:
            chosen = self.alpha_[active]
            print(
                f"[LassoLNPCV] cross-validation {self.cv_seconds_:.2f} s; alpha_ from "
                f"{chosen.min():.4g} to {chosen.max():.4g} (median {np.median(chosen):.4g}); "
                f"refits {refit_seconds:.2f} s: median "
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
            f"LassoLNPCV: {' and '.join(parts)} stopped short of tol={self.tol:.3g}: "
            f"largest KKT violation {worst:.3g} ({place}). Increase max_iter or loosen tol.",
            ConvergenceWarning,
            stacklevel=4,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
