"""``PoissonLNPRegressor``: the LNP model with an optional L2 or quadratic penalty, solved exactly.

With ``compute_std=True`` (or :meth:`PoissonLNPRegressor.coef_covariance`)
it also gives the Laplace posterior covariance of its weights at the
optimum (:mod:`sklearn_lnp._laplace`).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._laplace import posterior_covariance, posterior_precision
from .._objective import PoissonObjective
from .._passes import is_dask_array
from .._penalties import L2, Quadratic, check_penalty_matrix
from .._solvers import SMOOTH_SOLVERS, solve, warn_if_not_converged
from .._solvers._result import stopping_tol
from .._validation import (
    check_exposure,
    fit_sample_weight,
    validate_X,
)
from ._base import _ACCEPT_SPARSE, _DTYPES, LNPBaseEstimator, check_population_counts
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
        + \frac{\alpha}{2} w^\top Q w

    (``s`` the sample weights, all 1 by default; ``Q = I`` -- the ridge --
    unless ``penalty_matrix`` is given), the mean negative log-likelihood up
    to a constant, with the scaling of scikit-learn's ``PoissonRegressor``:
    the same ``alpha`` means the same penalty in both.  The intercept is not
    penalised.  Counts need not be integers.  A smoothness penalty (squared
    differences of neighbouring pixels and lags) is
    ``penalty_matrix=smoothness_penalty(frame_shape, n_lags)``
    (:func:`sklearn_lnp.penalties.smoothness_penalty`).

    Error bars: with ``compute_std=True`` the fit also stores the Laplace
    posterior standard deviations ``coef_std_`` and ``intercept_std_``
    (for ``alpha = 0`` the standard errors of the maximum-likelihood
    estimate); :meth:`coef_covariance` gives the full covariance.  See
    :ref:`error_bars`.

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
        Penalty strength (non-negative).  With ``n_features >= n_samples``
        use ``alpha > 0``: without it the maximum-likelihood estimate need
        not exist.
    penalty_matrix : {array-like, sparse matrix} of shape (n_features, n_features), default=None
        ``Q`` of the penalty ``alpha/2 w' Q w``, symmetric positive
        semi-definite (checked at fit: symmetric to 1e-10 of its largest
        entry, no eigenvalue below -1e-8 of its largest diagonal entry).
        None is the ridge ``Q = I``.  The Newton solver adds ``alpha Q`` to
        its Gram matrix (always in the primal form), L-BFGS ``alpha Q w`` to
        its gradient; a sparse ``Q`` keeps that cheap.
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
        the gradient of the objective (intercept included) is at most
        ``max(tol, 1e-12 * mean count)``.  The gradient and its round-off
        grow in proportion to the counts, so the criterion never asks for
        less than 1e-12 of their scale (the mean count weighted by
        ``sample_weight``; for a population, the smallest neuron's); below a
        mean count of 1e4 it is ``tol`` itself.
    max_iter : int, default=1000
        Maximum iterations of each solver.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` when refitting.
    verbose : int, default=0
        Print one line per iteration when positive.
    compute_std : bool, default=False
        Also compute ``coef_std_`` and ``intercept_std_`` at fit: per neuron
        one weighted Gram matrix (``n_samples * n_params^2 / 2``
        multiply-adds) and one Cholesky factorisation and inversion
        (``~n_params^3 / 2``).  Off by default so that cross-validation
        fits pay nothing.  Fit raises a ValueError
        (``PosteriorNotDefiniteError``) when the posterior is not defined
        (``alpha = 0`` with collinear features or separation).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_neurons, n_features)
        Receptive field ``w`` (log-rate change per unit of each feature);
        one row per neuron when ``y`` is 2-d.
    intercept_ : float or ndarray of shape (n_neurons,)
        Log baseline rate ``b`` per unit of exposure (0 when not fitted;
        ``-inf`` for a neuron without spikes).
    coef_std_ : ndarray of shape (n_features,) or (n_neurons, n_features)
        Only with ``compute_std=True``: posterior standard deviation of each
        weight (Laplace approximation at the optimum, see
        :meth:`coef_covariance`); ``coef_ / coef_std_`` is a z-map.  NaN for
        a neuron without spikes.
    intercept_std_ : float or ndarray of shape (n_neurons,)
        Only with ``compute_std=True``: the same for the intercept (0 when
        it is not fitted, NaN for a neuron without spikes).
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
        "penalty_matrix": [None, "array-like", "sparse matrix"],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SMOOTH_SOLVERS))],
        "tol": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "compute_std": ["boolean"],
    }

    def __init__(
        self,
        *,
        alpha=0.0,
        penalty_matrix=None,
        fit_intercept=True,
        solver="auto",
        tol=1e-8,
        max_iter=1000,
        warm_start=False,
        verbose=0,
        compute_std=False,
    ):
        self.alpha = alpha
        self.penalty_matrix = penalty_matrix
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose
        self.compute_std = compute_std

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
        penalty = self._penalty(X.shape[1])
        self._fit(X, y, sample_weight, exposure, penalty)
        if self.alpha == 0 and not (is_dask_array(X) or is_dask_array(y)):
            # complete separation with n_samples > n_features (n_samples <=
            # n_features has its own warning in _fit): the lasso's exact linear
            # programme, not run for large designs.  Neurons with spikes where
            # weighted are checked; alpha = 0 is below any fraction of alpha_max (1).
            Y = y.reshape(y.shape[0], -1)
            fitted = np.flatnonzero(np.asarray(sample_weight) @ (Y > 0) > 0)
            zeros = np.zeros(fitted.size)
            coef = np.reshape(self.coef_, (Y.shape[1], X.shape[1]))[fitted].T
            warn_if_no_mle(
                self,
                X,
                Y,
                sample_weight,
                fitted,
                zeros,
                zeros + 1.0,
                coef,
                fix="Use an L2 penalty alpha > 0, chosen by cross-validation (e.g. GridSearchCV "
                "over alpha with BlockedTimeSeriesSplit).",
            )
        if self.compute_std:
            self._set_std(X, sample_weight, exposure, penalty)
        elif hasattr(self, "coef_std_"):  # from an earlier fit with compute_std=True
            del self.coef_std_, self.intercept_std_
        return self

    def _penalty(self, n_features: int):
        """``L2(alpha)``, or ``Quadratic(alpha, Q)`` with ``Q`` validated against ``n_features``."""
        if self.penalty_matrix is None:
            return L2(self.alpha)
        Q = check_penalty_matrix(self.penalty_matrix, n_features, name="penalty_matrix")
        return Quadratic(self.alpha, Q, _checked=True)

    def _covariance(self, X, sample_weight, exposure, penalty, neuron: int) -> np.ndarray:
        """Posterior covariance of one fitted neuron's parameters on the design ``X``."""
        coef = np.reshape(self.coef_, (-1, X.shape[1]))[neuron]
        intercept = np.reshape(self.intercept_, -1)[neuron]
        if not np.isfinite(intercept):
            raise ValueError(
                f"neuron {neuron} had no spikes (intercept_ is -inf): its posterior is not defined."
            )
        # The log link: the Hessian depends on the counts only through the
        # fitted rates, so no counts are needed.
        objective = PoissonObjective(
            X, np.zeros(X.shape[0]), exposure, sample_weight, fit_intercept=self.fit_intercept
        )
        P = objective.join(coef[:, None], intercept)
        return posterior_covariance(posterior_precision(objective, penalty, P))

    def _set_std(self, X, sample_weight, exposure, penalty) -> None:
        """``coef_std_`` and ``intercept_std_`` of every neuron with spikes."""
        n_features = X.shape[1]
        coef = np.reshape(self.coef_, (-1, n_features))
        intercept = np.reshape(self.intercept_, -1)
        coef_std = np.full(coef.shape, np.nan)
        intercept_std = np.full(intercept.shape, np.nan if self.fit_intercept else 0.0)
        for j in np.flatnonzero(np.isfinite(intercept)):
            std = np.sqrt(np.diagonal(self._covariance(X, sample_weight, exposure, penalty, j)))
            coef_std[j] = std[:n_features]
            if self.fit_intercept:
                intercept_std[j] = std[-1]
        if np.ndim(self.coef_) == 1:
            self.coef_std_, self.intercept_std_ = coef_std[0], float(intercept_std[0])
        else:
            self.coef_std_, self.intercept_std_ = coef_std, intercept_std

    def coef_covariance(self, X, exposure=None, sample_weight=None, *, neuron=None):
        r"""Laplace posterior covariance of the fitted parameters, for the training data.

        The inverse of the Hessian of the total penalised negative
        log-likelihood at the fitted ``coef_`` and ``intercept_``,

        .. math::

            \Bigl(\sum_t s_t \mu_t \tilde x_t \tilde x_t^\top
            + S \alpha \begin{pmatrix} Q & 0 \\ 0 & 0 \end{pmatrix}\Bigr)^{-1},
            \quad \tilde x_t = (x_t, 1),\ S = \sum_t s_t,

        with ``mu_t`` the fitted expected counts: the penalty is a Gaussian
        prior on the weights (precision ``S alpha Q``), the sample weights
        count bins (frequency weights).  For ``alpha = 0`` it is the inverse
        Fisher information of the maximum-likelihood estimate (the squared
        standard errors of a Poisson GLM).  It is the posterior covariance
        only when ``X``, ``exposure`` and ``sample_weight`` are those of the
        fit: pass the training data.  The counts are not needed (the log
        link makes the Hessian depend on them only through the fit).

        Cost: one weighted Gram matrix (``n_samples * n_params^2 / 2``
        multiply-adds) and one Cholesky factorisation and inversion
        (``~n_params^3 / 2``); the result has ``n_params^2`` entries.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The training design.
        exposure : array-like of shape (n_samples,) or float, optional
            The training bin widths (required when they were not constant).
        sample_weight : array-like of shape (n_samples,), optional
            The training sample weights.
        neuron : int, optional
            Which neuron (column of ``y`` at fit) of a population fit;
            must be None for a single neuron.

        Returns
        -------
        ndarray of shape (n_params, n_params)
            ``n_params = n_features + 1`` with the intercept (last row and
            column) when fitted, else ``n_features``; the square roots of
            its diagonal are ``coef_std_`` (and ``intercept_std_``).

        Raises
        ------
        sklearn_lnp._laplace.PosteriorNotDefiniteError
            A ValueError, when the Hessian is not positive definite (e.g.
            ``alpha = 0`` with ``n_features >= n_samples`` or separation).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_lnp import PoissonLNPRegressor
        >>> from sklearn_lnp.datasets import make_lnp_neuron
        >>> neuron = make_lnp_neuron(n_frames=2000, frame_shape=(4, 4), random_state=0)
        >>> model = PoissonLNPRegressor(compute_std=True).fit(
        ...     neuron.stimulus, neuron.counts, exposure=neuron.exposure)
        >>> cov = model.coef_covariance(neuron.stimulus, exposure=neuron.exposure)
        >>> cov.shape
        (17, 17)
        >>> bool(np.allclose(np.sqrt(np.diag(cov))[:-1], model.coef_std_))
        True
        """
        check_is_fitted(self)
        n_neurons = 1 if np.ndim(self.coef_) == 1 else np.shape(self.coef_)[0]
        if np.ndim(self.coef_) == 1:
            if neuron not in (None, 0):
                raise ValueError(f"neuron must be None for a single-neuron fit; got {neuron!r}.")
            neuron = 0
        elif (
            isinstance(neuron, bool)
            or not isinstance(neuron, numbers.Integral)
            or not 0 <= neuron < n_neurons
        ):
            raise ValueError(
                f"neuron must be an integer in [0, {n_neurons}) for a fit to {n_neurons} "
                f"neurons; got {neuron!r}."
            )
        if exposure is None and getattr(self, "exposure_required_", False):
            raise ValueError(
                f"{type(self).__name__} was fitted with exposure (bin widths) other than 1 but "
                "coef_covariance got none: pass the training exposure, "
                "coef_covariance(X, exposure=e)."
            )
        if is_dask_array(X):
            from .._passes._dask import check_dask_design

            X = check_dask_design(X)
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
        else:
            X = validate_X(self, X, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES, reset=False)
        n_samples = X.shape[0]
        exposure = check_exposure(exposure, n_samples)
        sample_weight = fit_sample_weight(sample_weight, n_samples)
        penalty = self._penalty(X.shape[1])
        return self._covariance(X, sample_weight, exposure, penalty, int(neuron))

    def _fit(self, X, y, sample_weight, exposure, penalty):
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
        tol = stopping_tol(self.tol, objective)
        results = solve(
            objective,
            penalty,
            P,
            solver=self.solver,
            tol=tol,
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
            warn_if_not_converged(failed[0][1], tol, self.max_iter, shape=X.shape, alpha=self.alpha)
        elif failed:
            worst = max(failed, key=lambda item: item[1].optimality)[1]
            warnings.warn(
                f"{len(failed)} of {n_neurons} neurons (y columns "
                f"{[j for j, _ in failed]}) stopped short of tol={tol:.3g}: "
                f"largest optimality {worst.optimality:.3g} after {worst.n_iter} iterations "
                f"(max_iter={self.max_iter}). Increase max_iter or loosen tol"
                + (", or add regularisation (alpha > 0)." if self.alpha == 0 else "."),
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
