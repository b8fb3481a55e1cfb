"""``PoissonLNPRegressor``: the LNP model with an optional L2 penalty, solved exactly."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from .._objective import PoissonObjective
from .._passes import is_dask_array
from .._penalties import L2
from .._solvers import SMOOTH_SOLVERS, solve, warn_if_not_converged
from .._validation import check_representable
from ._base import LNPBaseEstimator, check_population_counts
from ._separation import warn_if_no_mle


class PoissonLNPRegressor(LNPBaseEstimator):
    r"""Linear-nonlinear-Poisson model fitted by (penalised) maximum likelihood.

    The recipe for bins of unequal width ``e`` (the shortest correct one):
    enable metadata routing and request ``exposure`` at fit (``score``
    requests it by default), so that every fit and score of a search gets
    its fold's bin widths:

    >>> import sklearn
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_lnp import BlockedTimeSeriesSplit, PoissonLNPRegressor
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> neuron = make_lnp_neuron(n_frames=1000, frame_shape=(6, 6), random_state=0)
    >>> X, y, e = neuron.stimulus, neuron.counts, neuron.exposure
    >>> with sklearn.config_context(enable_metadata_routing=True):   # or sklearn.set_config
    ...     model = PoissonLNPRegressor().set_fit_request(exposure=True)
    ...     search = GridSearchCV(model, {"alpha": [0.01, 1.0]},
    ...                           cv=BlockedTimeSeriesSplit(5)).fit(X, y, exposure=e)
    >>> counts = search.best_estimator_.predict(X, exposure=e)     # expected spikes per bin
    >>> bool(abs(counts.sum() / y.sum() - 1) < 1e-6)   # the MLE intercept matches the total
    True

    Without ``exposure``, ``score`` of a model fitted with bin widths other
    than 1 raises and ``predict`` warns
    (:class:`~sklearn_lnp.exceptions.ExposureWarning`), each naming this fix.

    Counts are modelled as ``y_t ~ Poisson(mu_t)`` with
    ``mu_t = exposure_t * exp(X_t @ w + b)``: ``X_t`` is a stimulus frame
    (flattened pixels, or several lagged frames), ``w`` the receptive field
    and ``exposure_t`` the bin width.  The fitted parameters minimise

    .. math::

        \frac{1}{\sum_t s_t} \sum_t s_t \bigl(\mu_t - y_t \log \mu_t\bigr)
        + \frac{\alpha}{2} \lVert w \rVert_2^2

    (``s`` the sample weights, all 1 by default), the mean negative
    log-likelihood up to a constant, with the scaling of scikit-learn's
    ``PoissonRegressor``: the same ``alpha`` means the same penalty in both.
    The intercept is not penalised.  Counts need not be integers.

    To reproduce the textbook model ``r_t = exp(w . s_t) dt R`` pass
    ``exposure=dt * R`` and ``fit_intercept=False``.

    Several neurons recorded with the same stimulus are fitted at once with
    ``y`` of shape (n_samples, n_neurons): each neuron gets its own
    optimum of the objective above (the same as a fit of its column alone),
    by the same solvers as a single neuron: L-BFGS runs all neurons in
    lockstep, so that ``X`` is read by matrix-matrix products once per
    iteration for all of them (see ``sklearn_lnp._solvers._lbfgs``);
    Newton steps need one Gram matrix per neuron and fit them one by one;
    ``"auto"`` chooses, and hands over, per neuron.  A neuron without spikes gets the
    intercept-only model of rate 0 with a warning naming it (a 1-d ``y``
    without spikes raises instead); NaN in a column raises a ValueError
    naming the column.

    Parameters
    ----------
    alpha : float, default=0.0
        L2 penalty strength (non-negative).  With ``n_features >= n_samples``
        use ``alpha > 0``: without it the maximum-likelihood estimate need
        not exist.
    fit_intercept : bool, default=True
        Whether to fit the log baseline rate ``b``.
    solver : {"auto", "newton-cholesky", "lbfgs"}, default="auto"
        ``"newton-cholesky"``: Newton steps with one Gram matrix each
        (``dsyrk``), exact in a few steps, best for ill-conditioned or
        ``n_features >= n_samples`` problems.  ``"lbfgs"``: two passes over
        ``X`` per iteration, best for well-conditioned problems with many
        samples.  ``"auto"`` starts with L-BFGS and hands over to Newton
        when the observed L-BFGS rate predicts that Newton is cheaper.
    tol : float, default=1e-8
        Stopping criterion: the fit stops when the largest absolute entry of
        the gradient of the objective (intercept included) is at most ``tol``.
    max_iter : int, default=1000
        Maximum iterations of each solver.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` when refitting.
    verbose : int, default=0
        Print one line per iteration when positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_neurons, n_features)
        Receptive field ``w`` (log-rate change per unit of each feature);
        one row per neuron when ``y`` is 2-d.
    intercept_ : float or ndarray of shape (n_neurons,)
        Log baseline rate ``b`` per unit of exposure (0 when not fitted;
        ``-inf`` for a neuron without spikes).
    n_iter_ : int or ndarray of shape (n_neurons,)
        Iterations the solver(s) used.
    objective_ : float or ndarray of shape (n_neurons,)
        Objective value at the solution.
    optimality_ : float or ndarray of shape (n_neurons,)
        Largest absolute gradient entry at the solution.
    solver_ : str or ndarray of shape (n_neurons,) of str
        Solver(s) actually used (``"lbfgs+newton-cholesky"``: L-BFGS handed
        over to Newton; ``"intercept-only"``: a neuron without spikes).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string column names.

    Examples
    --------
    >>> from sklearn_lnp import PoissonLNPRegressor
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> neuron = make_lnp_neuron(n_frames=2000, random_state=0)
    >>> model = PoissonLNPRegressor().fit(
    ...     neuron.stimulus, neuron.counts, exposure=neuron.exposure)
    >>> import numpy as np
    >>> bool(np.corrcoef(model.coef_, neuron.rf.ravel())[0, 1] > 0.9)
    True

    Two neurons sharing the stimulus (here the same cell and a copy of it
    with every count doubled), fitted together: one row of ``coef_`` each,
    each the neuron's own optimum.

    >>> counts = np.column_stack([neuron.counts, 2 * neuron.counts])
    >>> population = PoissonLNPRegressor().fit(neuron.stimulus, counts, exposure=neuron.exposure)
    >>> population.coef_.shape == (2, neuron.stimulus.shape[1])
    True
    >>> bool(np.allclose(population.coef_[0], model.coef_, atol=1e-6))
    True
    """

    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0.0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SMOOTH_SOLVERS))],
        "tol": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        alpha=0.0,
        fit_intercept=True,
        solver="auto",
        tol=1e-8,
        max_iter=1000,
        warm_start=False,
        verbose=0,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None, exposure=None):
        """Fit the receptive field and baseline by maximum likelihood.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Stimulus design, float64 or float32 (used without a copy).
        y : array-like of shape (n_samples,) or (n_samples, n_neurons)
            Spike counts per bin (non-negative, finite), one column per
            neuron for a population fit.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights.
        exposure : array-like of shape (n_samples,) or float, optional
            Bin widths (positive; e.g. seconds).  With scikit-learn's
            metadata routing enabled, request it with
            ``set_fit_request(exposure=True)`` to route it through a
            ``Pipeline`` or cross-validation.

        Returns
        -------
        self
        """
        self._validate_params()
        X, y, sample_weight, exposure = self._validate_fit_data(
            X, y, sample_weight, exposure, multi_output=True
        )
        # |X| > 1e50 or counts > 2**53: refused naming the argument, not numpy overflow
        check_representable(X, y)
        self._fit(X, y, sample_weight, exposure)
        if self.alpha == 0 and not (is_dask_array(X) or is_dask_array(y)):
            # complete separation with n_samples > n_features (n_samples <=
            # n_features has its own warning in _fit): the lasso's exact linear
            # programme, not run for large designs.  Neurons with spikes where
            # weighted are checked; alpha = 0 is below any fraction of alpha_max (1).
            Y = y.reshape(y.shape[0], -1)
            fitted = np.flatnonzero(np.asarray(sample_weight) @ (Y > 0) > 0)
            zeros = np.zeros(fitted.size)
            coef = np.reshape(self.coef_, (Y.shape[1], X.shape[1]))[fitted].T
            warn_if_no_mle(self, X, Y, sample_weight, fitted, zeros, zeros + 1.0, coef)
        return self

    def _fit(self, X, y, sample_weight, exposure):
        """Fit every neuron (column of a 2-d ``y``; a 1-d ``y`` is one neuron)."""
        Y = y.reshape(y.shape[0], -1)
        n_neurons, n_features = Y.shape[1], X.shape[1]
        if y.ndim == 2:
            silent = check_population_counts(Y, sample_weight, self.fit_intercept)
            fitted = np.setdiff1d(np.arange(n_neurons), silent)
        else:
            fitted = np.arange(1)
        objective = PoissonObjective(
            X, Y[:, fitted], exposure, sample_weight, fit_intercept=self.fit_intercept
        )
        coef = np.zeros((n_neurons, n_features))
        intercept = np.full(n_neurons, -np.inf if self.fit_intercept else 0.0)
        previous = np.asarray(getattr(self, "coef_", np.empty(0)))
        if self.warm_start and previous.shape == (coef[0].shape if y.ndim == 1 else coef.shape):
            previous = previous.reshape(-1, n_features)[fitted]
            P = objective.join(previous.T, np.reshape(self.intercept_, -1)[fitted])
        else:
            P = objective.initial_params()
        results = solve(
            objective,
            L2(self.alpha),
            P,
            solver=self.solver,
            tol=self.tol,
            max_iter=self.max_iter,
            verbose=self.verbose,
        )
        n_iter = np.zeros(n_neurons, dtype=int)
        values = np.zeros(n_neurons)
        optimality = np.zeros(n_neurons)
        solvers = np.full(n_neurons, "intercept-only", dtype=object)
        failed = []
        for j, result in zip(fitted, results, strict=True):
            if not (np.all(np.isfinite(result.params)) and np.isfinite(result.objective)):
                neuron = f" for neuron (y column) {j}" if y.ndim == 2 else ""
                raise FloatingPointError(
                    f"Solver {result.solver!r} produced non-finite parameters{neuron}; the fit "
                    "failed. Check the scale of X or add regularisation (alpha > 0)."
                )
            if not result.converged:
                failed.append((int(j), result))
            W, b = objective.split(result.params[:, None])
            coef[j] = W[:, 0]
            if self.fit_intercept:
                intercept[j] = b[0]
            n_iter[j] = result.n_iter
            values[j] = result.objective
            optimality[j] = result.optimality
            solvers[j] = result.solver
        if failed and y.ndim == 1:
            warn_if_not_converged(failed[0][1], self.tol, self.max_iter)
        elif failed:
            worst = max(failed, key=lambda item: item[1].optimality)[1]
            warnings.warn(
                f"{len(failed)} of {n_neurons} neurons (y columns "
                f"{[j for j, _ in failed]}) stopped short of tol={self.tol:.3g}: "
                f"largest optimality {worst.optimality:.3g} after {worst.n_iter} iterations "
                f"(max_iter={self.max_iter}). Increase max_iter, loosen tol, or add "
                "regularisation (alpha > 0).",
                ConvergenceWarning,
                stacklevel=3,
            )
        if self.alpha == 0 and objective.n_params > X.shape[0] and np.any(Y == 0):
            warnings.warn(
                f"alpha=0 with {objective.n_params} parameters "
                f"{'per neuron ' if y.ndim == 2 else ''}for {X.shape[0]} samples, some with "
                "zero counts: the maximum-likelihood estimate does not exist (the likelihood "
                "keeps increasing as the rate of empty bins goes to 0), so coef_ is only a "
                "point where the gradient is below tol. Use alpha > 0.",
                UserWarning,
                stacklevel=3,
            )
        if y.ndim == 1:
            self.coef_ = coef[0]
            self.intercept_ = float(intercept[0])
            self.n_iter_ = int(n_iter[0])
            self.objective_ = float(values[0])
            self.optimality_ = float(optimality[0])
            self.solver_ = solvers[0]
        else:
            self.coef_ = coef
            self.intercept_ = intercept
            self.n_iter_ = n_iter
            self.objective_ = values
            self.optimality_ = optimality
            self.solver_ = solvers
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
