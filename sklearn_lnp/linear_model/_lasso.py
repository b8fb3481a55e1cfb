r"""``LassoLNPRegressor``, ``lasso_lnp_path``: the L1 (or elastic-net) LNP model, solved exactly."""

from __future__ import annotations

import numbers
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array

from .._objective import PoissonObjective
from .._penalties import L1, ElasticNet
from .._solvers import warn_if_not_converged
from .._solvers._prox_newton import prox_newton
from .._solvers._quadratic_lasso import INNER_SOLVERS
from .._solvers._result import stopping_tol
from .._validation import (
    check_counts,
    check_counts_representable,
    check_exposure,
    check_finite_representable,
    check_real_input,
    fit_sample_weight,
    naming,
)
from ._base import LNPBaseEstimator, check_population_counts
from ._separation import TINY_ALPHA_RATIO, warn_if_no_mle

LASSO_SOLVERS = ("prox-newton", "pyglmnet")
_PROX_NEWTON_OPTIONS = {"inner", "ws_min_size"}


def _prox_newton_options(options) -> dict:
    """Validated keyword arguments of :func:`~sklearn_lnp._solvers._prox_newton.prox_newton`."""
    options = {} if options is None else dict(options)
    unknown = set(options) - _PROX_NEWTON_OPTIONS
    if unknown:
        raise ValueError(
            f"solver_options for solver='prox-newton' accepts only {sorted(_PROX_NEWTON_OPTIONS)}; "
            f"got unknown keys {sorted(unknown)}."
        )
    inner = options.get("inner", "cd")
    if inner not in INNER_SOLVERS:
        raise ValueError(f"solver_options['inner'] must be one of {INNER_SOLVERS}; got {inner!r}.")
    ws_min_size = options.get("ws_min_size", 10)
    if (
        isinstance(ws_min_size, bool)
        or not isinstance(ws_min_size, numbers.Integral)
        or ws_min_size < 1
    ):
        raise ValueError(
            f"solver_options['ws_min_size'] must be an integer >= 1; got {ws_min_size!r}."
        )
    return {"inner": inner, "ws_min_size": int(ws_min_size)}


def alpha_max(objective, l1_ratio=1.0) -> np.ndarray:
    """Smallest penalty whose optimum has every weight at zero, per neuron, shape (k,).

    At ``w = 0`` the intercept optimum is closed-form (``exp(b)`` = weighted
    count / weighted exposure; ``b = 0`` without an intercept), and ``w = 0``
    is optimal iff every gradient entry there is at most ``alpha l1_ratio``
    in absolute value (:meth:`~sklearn_lnp._penalties.L1.alpha_max`, divided
    by ``l1_ratio`` for the elastic net).  One pass over ``X`` for all
    neurons.
    """
    return null_start(objective, l1_ratio)[2]


def null_start(objective, l1_ratio=1.0):
    """The null model's parameters, its evaluation and :func:`alpha_max`, in one pass over ``X``.

    Returns
    -------
    P : ndarray of shape (n_params, k)
        Zero weights and each neuron's intercept-only optimum.
    start : tuple
        ``(values, G, eta)`` of ``objective.value_gradient(P)``, for
        ``prox_newton(..., start=start)``.
    alpha_max : ndarray of shape (k,)
    """
    P = objective.initial_params()
    start = objective.value_gradient(P)
    top = L1.alpha_max(start[1][: objective.n_features]) / np.asarray(l1_ratio, dtype=np.float64)
    return P, start, top


def check_l1_ratio(l1_ratio, name: str = "l1_ratio") -> np.ndarray:
    """``l1_ratio`` as a float64 array (scalar or 1-d), every value in (0, 1].

    Raises
    ------
    ValueError
        Naming ``name``: for 0 (pure L2), pointing to ``PoissonLNPRegressor``;
        for values outside (0, 1], non-finite values or an empty list.
    """
    ratio = np.asarray(l1_ratio, dtype=np.float64)
    if ratio.ndim > 1 or ratio.size == 0:
        raise ValueError(
            f"{name} must be a number in (0, 1] or a non-empty 1-d list of them; got {l1_ratio!r}."
        )
    if np.any(ratio == 0):
        raise ValueError(
            f"{name}=0 is the pure L2 (ridge) penalty, which has no L1 part to solve with "
            "proximal Newton: use PoissonLNPRegressor(alpha=...), whose alpha/2 ||w||^2 is "
            f"this model's penalty at {name}=0. {name} must be in (0, 1]."
        )
    if not np.all((ratio > 0) & (ratio <= 1)):
        raise ValueError(f"{name} must be in (0, 1]; got {l1_ratio!r}.")
    return ratio


def lasso_penalty(alpha, l1_ratio=1.0):
    """``L1(alpha)`` when every ``l1_ratio`` is 1 (the lasso), else the ``ElasticNet``."""
    ratio = np.asarray(l1_ratio, dtype=np.float64)
    return L1(alpha) if np.all(ratio == 1.0) else ElasticNet(alpha, ratio)


def warn_if_nearly_unpenalised(alpha, top, shape, stacklevel: int = 3) -> None:
    """UserWarning when ``min(alpha) < TINY_ALPHA_RATIO * alpha_max`` and ``p >= n``.

    There the solution is nearly the unpenalised maximum-likelihood fit,
    which need not exist (the design can interpolate the counts): proximal
    Newton then takes many slow steps (each bounded, see
    :func:`~sklearn_lnp._solvers._prox_newton.inner_budget`) and usually
    stops at ``max_iter`` with a ``ConvergenceWarning``.
    """
    n_samples, n_features = shape
    alpha, top = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(top, float))
    ratio = np.min(alpha / np.where(top > 0, top, np.inf), initial=np.inf)
    if n_features < n_samples or not ratio < TINY_ALPHA_RATIO:
        return
    warnings.warn(
        f"alpha is {ratio:.2g} x alpha_max (< {TINY_ALPHA_RATIO:g}) with n_features="
        f"{n_features} >= n_samples={n_samples}: the fit is nearly the unpenalised "
        "maximum-likelihood one, which need not exist (the design can interpolate the "
        "counts). The solver may take every one of max_iter slow steps and stop short "
        "with a ConvergenceWarning. Use a larger alpha (see LassoLNPCV or lasso_lnp_path).",
        UserWarning,
        stacklevel=stacklevel,
    )


def silent_neurons(y, sample_weight, fit_intercept: bool) -> np.ndarray:
    """Columns of a 2-d ``y`` without spikes, with one warning naming them (none for 1-d).

    Called from an estimator's ``fit``: the warning points at its caller.
    """
    if y.ndim == 1:
        return np.array([], dtype=int)
    return check_population_counts(y, sample_weight, fit_intercept)


def set_solution(estimator, fit, fitted, n_neurons, n_features, *, population) -> None:
    """Set an L1 estimator's fitted attributes from the lockstep fit of the neurons ``fitted``.

    The other neurons (without spikes) get the intercept-only model (zero
    weights, intercept -inf, ``solver_ = "intercept-only"``).  For a 1-d
    ``y`` (``population`` False, one neuron) the attributes are scalars and
    ``coef_`` has shape (n_features,); else one entry (row) per neuron.

    Parameters
    ----------
    estimator : LassoLNPRegressor or LassoLNPCV
    fit : ProxNewtonFit or None
        None when no neuron has spikes.
    fitted : ndarray of shape (k,)
        Columns of ``y`` the fit's neurons are.
    n_neurons, n_features : int
    population : bool
    """
    coef = np.zeros((n_neurons, n_features))
    intercept = np.full(n_neurons, -np.inf if estimator.fit_intercept else 0.0)
    n_iter = np.zeros(n_neurons, dtype=int)
    value, optimality = np.zeros(n_neurons), np.zeros(n_neurons)
    solver = np.full(n_neurons, "intercept-only", dtype=object)
    if fit is not None:
        coef[fitted] = fit.params[:n_features].T
        if estimator.fit_intercept:
            intercept[fitted] = fit.params[-1]
        n_iter[fitted], value[fitted] = fit.n_iter, fit.objective
        optimality[fitted], solver[fitted] = fit.optimality, fit.solver
    estimator.n_features_in_ = n_features
    if population:
        estimator.coef_, estimator.intercept_ = coef, intercept
        estimator.n_nonzero_ = np.count_nonzero(coef, axis=1)
        estimator.n_iter_, estimator.objective_ = n_iter, value
        estimator.optimality_, estimator.solver_ = optimality, solver
        return
    estimator.coef_, estimator.intercept_ = coef[0], float(intercept[0])
    estimator.n_nonzero_ = int(np.count_nonzero(coef[0]))
    estimator.n_iter_, estimator.objective_ = int(n_iter[0]), float(value[0])
    estimator.optimality_, estimator.solver_ = float(optimality[0]), solver[0]


def _finite_or_raise(fit, solver: str, where: str = "") -> None:
    """FloatingPointError when a fit's parameters or objectives are not finite."""
    if not (np.all(np.isfinite(fit.params)) and np.all(np.isfinite(fit.objective))):
        raise FloatingPointError(
            f"{where}Solver {solver!r} produced non-finite parameters; the fit failed. "
            "Check the scale of X or increase alpha."
        )


class LassoLNPRegressor(LNPBaseEstimator):
    r"""Linear-nonlinear-Poisson model with an L1 (lasso) penalty, solved exactly.

    The recipe for bins of unequal width ``e`` (the shortest correct one):
    enable metadata routing and request ``exposure`` at fit (``score``
    requests it by default), so that every fit and score of a search gets
    its fold's bin widths:

    >>> import sklearn
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_lnp import BlockedTimeSeriesSplit, LassoLNPRegressor
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> neuron = make_lnp_neuron(n_frames=1000, frame_shape=(6, 6), random_state=0)
    >>> X, y, e = neuron.stimulus, neuron.counts, neuron.exposure
    >>> with sklearn.config_context(enable_metadata_routing=True):   # or sklearn.set_config
    ...     model = LassoLNPRegressor().set_fit_request(exposure=True)
    ...     search = GridSearchCV(model, {"alpha": [0.003, 0.03]},
    ...                           cv=BlockedTimeSeriesSplit(5)).fit(X, y, exposure=e)
    >>> counts = search.best_estimator_.predict(X, exposure=e)     # expected spikes per bin
    >>> bool(abs(counts.sum() / y.sum() - 1) < 1e-6)   # the MLE intercept matches the total
    True

    Without ``exposure``, ``score`` of a model fitted with bin widths other
    than 1 raises and ``predict`` warns
    (:class:`~sklearn_lnp.exceptions.ExposureWarning`), each naming this fix.

    Counts are modelled as ``y_t ~ Poisson(mu_t)`` with
    ``mu_t = exposure_t * exp(X_t @ w + b)``, and the fitted parameters
    minimise

    .. math::

        F(w, b) = \frac{1}{\sum_t s_t} \sum_t s_t \bigl(\mu_t - y_t \log \mu_t\bigr)
        + \alpha \Bigl(\rho \lVert w \rVert_1
        + \frac{1 - \rho}{2} \lVert w \rVert_2^2\Bigr) ,

    the sample-weighted mean Poisson negative log-likelihood of
    :class:`PoissonLNPRegressor` (scikit-learn ``PoissonRegressor`` scaling)
    plus an L1 penalty on ``w`` (``rho = l1_ratio = 1``, the default) or the
    elastic net (``0 < l1_ratio < 1``: glum's, scikit-learn's
    ``ElasticNet``'s and statsmodels' ``L1_wt`` convention); the intercept
    ``b`` is not penalised.  Many weights are exactly zero: a sparse
    receptive field; the L2 part keeps groups of correlated pixels together
    instead of picking one.

    **Meaning of alpha.** For ``alpha >= alpha_max`` (see
    :func:`lasso_lnp_path`, ``alpha_max = max_j |g_j| / l1_ratio`` at
    ``w = 0``) every weight is zero.  glum's
    ``GeneralizedLinearRegressor(alpha, l1_ratio)`` with the log exposure as
    ``offset`` has the same optimum for any ``l1_ratio``.  The lasso's
    ``alpha`` is skglm's ``L1(alpha)`` with its ``Poisson`` datafit
    (same mean scaling).  pyglmnet's *documented* objective with its
    ``alpha=1`` has ``reg_lambda = alpha``, but its default solver converges
    to the penalty ``reg_lambda / learning_rate`` (it does not scale its
    proximal threshold by the step): the lab's ``GLM(alpha=0.5,
    reg_lambda=lam)`` (``learning_rate=0.2``) is an elastic net with L1
    weight ``2.5 * lam`` and L2 term ``(lam / 4) ||w||^2``, i.e. this
    estimator with ``alpha=3 * lam, l1_ratio=5/6`` (user guide, "Elastic
    net"); the
    ``solver="pyglmnet"`` backend maps ``alpha`` to ``reg_lambda = alpha * learning_rate``
    for that reason.  scikit-learn's ``Lasso``
    minimises ``||y - Xw||^2 / (2 n) + alpha ||w||_1``, a Gaussian model
    whose ``alpha`` is in units of counts, not comparable.  Choose ``alpha``
    with :class:`LassoLNPCV`.

    **Optimality.** ``solver="prox-newton"`` stops when the largest violation
    of the optimality (KKT) conditions,
    ``|g_j| <= alpha l1_ratio`` where ``w_j = 0`` and
    ``g_j = -alpha l1_ratio sign(w_j)`` elsewhere (``g`` the gradient of the
    smooth part, ``alpha (1 - l1_ratio) w`` included; ``g_b = 0``), is at
    most ``tol``; the reached value is ``optimality_``.  The algorithm is proximal
    Newton with working sets: the subproblem is solved by compiled coordinate
    descent on the working-set Gram matrix and an exact Cholesky step on its
    support.

    Parameters
    ----------
    alpha : float, default=1.0
        L1 penalty strength (non-negative; scikit-learn's ``Lasso`` default).
        Data with few spikes per bin usually need ``alpha`` well below 1:
        use :class:`LassoLNPCV` or :func:`lasso_lnp_path`.
    l1_ratio : float in (0, 1], default=1.0
        Share of the L1 part of the penalty: 1 is the lasso (exactly the
        fit without this parameter), ``0 < l1_ratio < 1`` the elastic net.
        0 (pure L2) is refused: that is :class:`PoissonLNPRegressor`
        with the same ``alpha``.  ``solver="pyglmnet"`` maps it to pyglmnet's
        ``alpha`` and ``reg_lambda`` (user guide, "Elastic net").
    fit_intercept : bool, default=True
        Whether to fit the (unpenalised) log baseline rate ``b``.
    solver : {"prox-newton", "pyglmnet"}, default="prox-newton"
        ``"pyglmnet"`` runs pyglmnet 1.1's ``GLM`` (``pip install ".[pyglmnet]"``
        from the repository), for comparison with the lab's code: the
        answer is checked against the optimum of the objective above and a
        ``ConvergenceWarning`` says how far it is (``backend_report_``).
    tol : float, default=1e-8
        Largest KKT violation accepted, in the units of the gradient of the
        mean negative log-likelihood: the fit stops at a violation of at
        most ``max(tol, 1e-12 * mean count)``.  The gradient and its
        round-off grow in proportion to the counts, so the criterion never
        asks for less than 1e-12 of their scale (the mean count weighted by
        ``sample_weight``; for a population, the smallest neuron's); below a
        mean count of 1e4 it is ``tol`` itself.
    max_iter : int, default=100
        Maximum number of proximal Newton steps (for ``"pyglmnet"``, see
        ``solver_options``).
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` when refitting.
    verbose : int, default=0
        Print one line per proximal Newton step when positive.
    solver_options : dict or None, default=None
        ``"prox-newton"``: ``{"inner": "cd" | "fista", "ws_min_size": int}``
        (inner iterative method; smallest working set).  ``"pyglmnet"``:
        pyglmnet's ``solver`` (``"batch-gradient"``, its default, or
        ``"cdfast"``), ``learning_rate`` (0.2), ``max_iter`` (1000), ``tol``
        (1e-6, its relative parameter-change criterion) and ``eta`` (its
        default is 2; here 100 unless given).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_neurons, n_features)
        Receptive field ``w`` (log-rate change per unit of each feature);
        one row per neuron when ``y`` is 2-d (all neurons fitted in lockstep
        on the shared design, each to its own optimum; a neuron without spikes
        gets the intercept-only model, ``intercept_ = -inf``, with a warning).
    intercept_ : float or ndarray of shape (n_neurons,)
        Log baseline rate ``b`` per unit of exposure (0 when not fitted).
    n_nonzero_ : int or ndarray of shape (n_neurons,)
        Number of non-zero coefficients.
    n_iter_ : int or ndarray of shape (n_neurons,)
        Proximal Newton steps (pyglmnet iterations for ``"pyglmnet"``).
    objective_ : float or ndarray of shape (n_neurons,)
        ``F(w, b)`` at the solution.
    optimality_ : float or ndarray of shape (n_neurons,)
        Largest KKT violation at the solution.
    solver_ : str or ndarray of shape (n_neurons,)
        Solver used.
    backend_report_ : dict
        Only for ``solver="pyglmnet"``: its objective, the optimum, the gap,
        the KKT violation, non-zeros of both, and what could not be mapped.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string column names.

    See Also
    --------
    LassoLNPCV : alpha chosen by cross-validation.
    lasso_lnp_path : solutions over a grid of alphas.
    PoissonLNPRegressor : the L2-penalised model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp import LassoLNPRegressor
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> neuron = make_lnp_neuron(n_frames=2000, random_state=0)
    >>> model = LassoLNPRegressor(alpha=0.01).fit(
    ...     neuron.stimulus, neuron.counts, exposure=neuron.exposure)
    >>> bool(model.optimality_ <= 1e-8)
    True
    >>> bool(0 < model.n_nonzero_ < neuron.stimulus.shape[1])
    True
    """

    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0.0, None, closed="left")],
        "l1_ratio": [Interval(numbers.Real, 0.0, 1.0, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(LASSO_SOLVERS))],
        "tol": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "solver_options": [dict, None],
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=1.0,
        fit_intercept=True,
        solver="prox-newton",
        tol=1e-8,
        max_iter=100,
        warm_start=False,
        verbose=0,
        solver_options=None,
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose
        self.solver_options = solver_options

    def fit(self, X, y, sample_weight=None, exposure=None):
        """Fit the sparse receptive field and the baseline.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Stimulus design (e.g. lagged frames), float64 or float32 (used
            without a copy).
        y : array-like of shape (n_samples,) or (n_samples, n_neurons)
            Spike counts per bin (non-negative, finite, at most 2**53), one
            column per neuron for a population fit.  A 2-d ``y`` is a
            population even with one column: ``y`` of shape (n, 1) gives
            ``coef_`` of shape (1, n_features), array attributes and
            predictions of shape (n, 1), and :meth:`score` then takes ``y``
            of shape (n, 1) only (as :class:`PoissonLNPRegressor`,
            :class:`LassoLNPCV` and scikit-learn's multi-output regressors).
            Pass ``y.ravel()`` for the single-neuron (scalar) attributes.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights.
        exposure : array-like of shape (n_samples,) or float, optional
            Bin widths (positive, e.g. seconds).  Route it through a
            ``Pipeline`` or cross-validation with
            ``set_fit_request(exposure=True)`` (metadata routing).

        Returns
        -------
        self
        """
        self._validate_params()
        check_l1_ratio(self.l1_ratio)
        X, y, sample_weight, exposure = self._validate_fit_data(
            X, y, sample_weight, exposure, multi_output=True
        )
        if self.solver == "pyglmnet":
            return self._fit_pyglmnet(X, y, sample_weight, exposure)
        Y = y if y.ndim == 2 else y[:, None]
        n_neurons, n_features = Y.shape[1], X.shape[1]
        silent = silent_neurons(y, sample_weight, self.fit_intercept)
        fitted = np.setdiff1d(np.arange(n_neurons), silent)
        fit = None
        if fitted.size:
            # each neuron's counts a contiguous column, as its linear predictor in the solver
            counts = np.asfortranarray(Y[:, fitted])
            objective = PoissonObjective(
                X, counts, exposure, sample_weight, fit_intercept=self.fit_intercept
            )
            # alpha_max for the warnings of a tiny alpha, from the null model's
            # gradient (one pass over X), which is also the solver's start
            P, start, top = null_start(objective, self.l1_ratio)
            if self.warm_start and np.size(getattr(self, "coef_", ())) == n_neurons * n_features:
                P = P.copy()
                P[:n_features] = np.reshape(self.coef_, (n_neurons, n_features))[fitted].T
                if self.fit_intercept:
                    P[-1] = np.reshape(self.intercept_, (n_neurons,))[fitted]
                start = None
            warn_if_nearly_unpenalised(self.alpha, top, X.shape)
            tol = stopping_tol(self.tol, objective)
            fit = prox_newton(
                objective,
                lasso_penalty(self.alpha, self.l1_ratio),
                P,
                tol=tol,
                max_iter=self.max_iter,
                verbose=self.verbose,
                start=start,
                **_prox_newton_options(self.solver_options),
            )
            _finite_or_raise(fit, fit.solver)
            warn_if_no_mle(
                self,
                X,
                Y,
                sample_weight,
                fitted,
                self.alpha,
                top,
                fit.params,
                fix="Use alpha of the order of alpha_max / 100 or more (see LassoLNPCV).",
            )
        set_solution(self, fit, fitted, n_neurons, n_features, population=y.ndim == 2)
        if fit is None:
            return self
        failed = fitted[~fit.converged].tolist()
        if y.ndim == 1:
            warn_if_not_converged(fit.result(0), tol, self.max_iter)
        elif failed:
            self._warn_unconverged(failed, tol, stacklevel=3)
        return self

    def _warn_unconverged(self, failed, tol: float, stacklevel: int) -> None:
        """One ``ConvergenceWarning`` naming the neurons ``failed`` and the largest violation."""
        worst = int(np.argmax(self.optimality_))
        warnings.warn(
            f"{len(failed)} of {len(self.optimality_)} neurons (y columns {failed}) stopped "
            f"short of tol={tol:.3g}: largest KKT violation "
            f"{self.optimality_[worst]:.3g} (neuron {worst}). Increase max_iter or loosen tol.",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )

    def _fit_pyglmnet(self, X, y, sample_weight, exposure):
        """pyglmnet's answer, neuron by neuron, with its distance to the optimum."""
        from ._pyglmnet import fit_with_pyglmnet

        if y.ndim == 1:
            objective = PoissonObjective(
                X, y, exposure, sample_weight, fit_intercept=self.fit_intercept
            )
            fit_with_pyglmnet(self, objective, X, y, sample_weight, exposure)
            return self
        n_neurons = y.shape[1]
        silent = check_population_counts(y, sample_weight, self.fit_intercept)
        names = ("coef_", "intercept_", "n_nonzero_", "n_iter_", "objective_", "optimality_")
        attributes = {name: [] for name in names + ("solver_",)}
        single = clone(self)
        failed = []
        for j in range(n_neurons):
            if j in silent:
                values = (np.zeros(X.shape[1]), -np.inf, 0, 0, 0.0, 0.0, "intercept-only")
            else:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", ConvergenceWarning)
                    single.fit(X, y[:, j], sample_weight=sample_weight, exposure=exposure)
                for warning in caught:
                    if issubclass(warning.category, ConvergenceWarning):
                        failed.append(j)
                    else:
                        warnings.warn_explicit(
                            warning.message, warning.category, warning.filename, warning.lineno
                        )
                values = tuple(getattr(single, name) for name in names + ("solver_",))
            for name, value in zip(attributes, values, strict=True):
                attributes[name].append(value)
        for name, values in attributes.items():
            setattr(self, name, np.array(values, dtype=object if name == "solver_" else None))
        if failed:
            self._warn_unconverged(failed, self.tol, stacklevel=4)
        self.n_features_in_ = X.shape[1]
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


# --------------------------------------------------------------------------
# Regularisation path
# --------------------------------------------------------------------------
def default_eps(n_samples: int, n_features: int) -> float:
    """Ratio ``alpha_min / alpha_max`` of the default grid.

    ``1e-2`` when ``n_samples < n_features`` (as glmnet's
    ``lambda.min.ratio``: below it the fit interpolates and no longer
    predicts), ``1e-3`` otherwise (scikit-learn's ``lasso_path`` default).
    """
    return 1e-2 if n_samples < n_features else 1e-3


def check_alpha_grid(alphas, name: str = "alphas") -> np.ndarray:
    """Validate a user grid: 1-d, finite, strictly positive; returned sorted descending."""
    grid = np.asarray(alphas, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-d array of penalties; got shape {grid.shape}."
        )
    if not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError(
            f"{name} must hold finite, strictly positive penalties; got min {np.nanmin(grid)!r}."
        )
    return np.sort(grid)[::-1].copy()


def alpha_grid(alpha_max_value: float, n_alphas: int, eps: float) -> np.ndarray:
    """``n_alphas`` penalties from ``alpha_max`` down to ``eps * alpha_max``, log-spaced."""
    if not (0.0 < eps < 1.0):
        raise ValueError(f"eps must be in the open interval (0, 1); got {eps!r}.")
    if n_alphas < 1:
        raise ValueError(f"n_alphas must be >= 1; got {n_alphas!r}.")
    if n_alphas == 1:
        return np.array([alpha_max_value])
    return alpha_max_value * np.logspace(0.0, np.log10(eps), n_alphas)


def check_path_data(X, y, exposure, sample_weight, fit_intercept=True):
    """Validate the inputs of a path fit; raise if there is no spike to fit."""
    check_real_input(X, "X")
    with naming("X"):
        # X's finiteness is checked below together with its magnitude
        X = check_array(
            X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32), ensure_all_finite=False
        )
    y = check_counts(y, "y")
    if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
        raise ValueError(f"y must be 1-d (one count per bin); got shape {y.shape}.")
    y = y.ravel()
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one count per row of X ({X.shape[0]}); got {y.shape[0]}.")
    exposure = check_exposure(exposure, X.shape[0])
    sample_weight = fit_sample_weight(sample_weight, X.shape[0])
    check_finite_representable(X)
    check_counts_representable(y)
    if np.sum(sample_weight * y) <= 0:
        raise ValueError(
            "y (spike counts) has no spikes where sample_weight > 0: the regularisation path "
            "is undefined (alpha_max needs the log of the mean rate). Give at least one spike."
        )
    return X, y, exposure, sample_weight


def fit_path(
    objective,
    alphas,
    *,
    l1_ratio=1.0,
    tol=1e-8,
    max_iter=100,
    verbose=0,
    solver_options=None,
    callback=None,
    label="",
    first_start=None,
):
    """Solve ``f_j + alpha (l1_ratio ||w_j||_1 + (1 - l1_ratio)/2 ||w_j||^2)`` for each alpha.

    All neurons of ``objective`` go down their own grids together: at
    grid position ``a`` neuron ``j`` is solved at ``alphas[a, j]`` by one
    lockstep :func:`~sklearn_lnp._solvers._prox_newton.prox_newton` call
    started from the solutions at position ``a - 1`` (their linear
    predictors, gradients and working-set Hessians reused).

    Parameters
    ----------
    objective : PoissonObjective
        ``k`` neurons.
    alphas : ndarray of shape (n_alphas,) or (n_alphas, k)
        Penalties in the order solved (descending is fastest, each fit
        warm-started from the previous one); one grid for all neurons or one
        column per neuron.
    l1_ratio : float or ndarray of shape (k,), default=1.0
        Share of the L1 part (1: the lasso, :class:`~sklearn_lnp._penalties.L1`).
    tol, max_iter : see :class:`LassoLNPRegressor`.
    verbose : int
        One line per alpha when positive; solver lines when > 1.
    solver_options : dict, optional
    callback : callable, optional
        Called as ``callback(a, P)`` after grid position ``a`` with the
        solutions ``P`` of shape (n_params, k).
    label : str
        Prefix of the progress lines and warnings.
    first_start : tuple, optional
        The null model's evaluation from :func:`null_start`, where the first
        fit starts: it then makes no pass before its first step.

    Returns
    -------
    Bunch
        ``params`` (n_alphas, n_params, k); ``n_iter``, ``optimality``,
        ``objective`` (n_alphas, k); ``converged`` (bool, (n_alphas, k)).
    """
    options = _prox_newton_options(solver_options)
    k = objective.n_neurons
    grid = np.asarray(alphas, dtype=np.float64).reshape(len(alphas), -1)
    grid = np.broadcast_to(grid, (grid.shape[0], k))
    n = grid.shape[0]
    out = Bunch(
        params=np.empty((n, objective.n_params, k)),
        n_iter=np.zeros((n, k), dtype=int),
        optimality=np.zeros((n, k)),
        objective=np.zeros((n, k)),
        converged=np.zeros((n, k), dtype=bool),
    )
    tol = stopping_tol(tol, objective)
    fit = None
    for a in range(n):
        start = time.perf_counter()
        fit = prox_newton(
            objective,
            lasso_penalty(grid[a], l1_ratio),
            objective.initial_params() if fit is None else None,
            tol=tol,
            max_iter=max_iter,
            verbose=max(verbose - 1, 0),
            previous=fit,
            start=first_start if fit is None else None,
            **options,
        )
        _finite_or_raise(fit, fit.solver, label)
        out.params[a] = fit.params
        out.n_iter[a] = fit.n_iter
        out.optimality[a] = fit.optimality
        out.objective[a] = fit.objective
        out.converged[a] = fit.converged
        if not np.all(fit.converged):
            worst = int(np.argmax(fit.optimality))
            where = "" if k == 1 else f" (neuron {worst} of {k})"
            warnings.warn(
                f"{label}alpha={grid[a, worst]:.6g}{where}: proximal Newton stopped after "
                f"{fit.n_iter[worst]} steps (max_iter={max_iter}) at KKT violation "
                f"{fit.optimality[worst]:.3g} > tol={tol:.3g}.",
                ConvergenceWarning,
                stacklevel=2,
            )
        if callback is not None:
            callback(a, fit.params)
        if verbose:
            nnz = np.count_nonzero(fit.params[: objective.n_features], axis=0)
            alpha = f"{grid[a, 0]:.4g}" if k == 1 else f"{np.median(grid[a]):.4g} (median)"
            print(
                f"{label}alpha {a + 1:3d}/{n} = {alpha}: {int(np.median(nnz))} non-zero, "
                f"{int(fit.n_iter.max())} steps, KKT {fit.optimality.max():.1e}, "
                f"{time.perf_counter() - start:.2f} s",
                flush=True,
            )
    return out


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "exposure": ["array-like", Interval(numbers.Real, 0.0, None, closed="neither"), None],
        "sample_weight": ["array-like", None],
        "alphas": ["array-like", None],
        "n_alphas": [Interval(numbers.Integral, 1, None, closed="left")],
        "eps": [Interval(numbers.Real, 0.0, 1.0, closed="neither"), None],
        "l1_ratio": [Interval(numbers.Real, 0.0, 1.0, closed="both")],
        "fit_intercept": ["boolean"],
        "tol": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def lasso_lnp_path(
    X,
    y,
    *,
    exposure=None,
    sample_weight=None,
    alphas=None,
    n_alphas: int = 20,
    eps: float | None = None,
    l1_ratio: float = 1.0,
    fit_intercept: bool = True,
    tol: float = 1e-8,
    max_iter: int = 100,
    verbose: int = 0,
) -> Bunch:
    r"""Exact L1-penalised (or elastic-net) LNP fits over a grid of penalties, with warm starts.

    Solves the problem of :class:`LassoLNPRegressor` (with its ``l1_ratio``)
    for every ``alpha``, from the largest to the smallest, each fit starting
    from the previous solution (so the path costs a few Newton steps per
    alpha).

    ``alpha_max``, the smallest penalty whose solution has every weight at
    zero, is exact: at ``w = 0`` the optimal intercept is
    ``log(sum s y / sum s exposure)`` in closed form, and ``w = 0`` is optimal
    iff every gradient entry there is at most ``alpha l1_ratio`` in absolute
    value, so ``alpha_max = max_j |g_j(0, b_0)| / l1_ratio``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Design (e.g. from :class:`~sklearn_lnp.LagTransformer`).
    y : array-like of shape (n_samples,)
        Spike counts; at least one spike.
    exposure : array-like of shape (n_samples,) or float, optional
        Bin widths.
    sample_weight : array-like of shape (n_samples,), optional
    alphas : array-like of shape (n_alphas,), optional
        Penalties (positive); sorted in decreasing order.  Default: a
        log-spaced grid from ``alpha_max`` to ``eps * alpha_max``.
    n_alphas : int, default=20
        Length of the default grid.
    eps : float in (0, 1), optional
        ``alpha_min / alpha_max`` of the default grid; default ``1e-2`` if
        ``n_samples < n_features`` (below it the fit interpolates), else ``1e-3``.
    l1_ratio : float in (0, 1], default=1.0
        Share of the L1 part of the penalty (see :class:`LassoLNPRegressor`;
        1 is the lasso, 0 is refused: use :class:`PoissonLNPRegressor`).
    fit_intercept : bool, default=True
    tol : float > 0, default=1e-8
        KKT tolerance of every fit (as :class:`LassoLNPRegressor`, at least
        1e-12 of the mean count; ``tol=0``
        is refused: the violation stalls at round-off, so it would only mean
        "run ``max_iter`` steps").
    max_iter : int >= 1, default=100
        Proximal Newton steps per alpha.
    verbose : int, default=0
        One line per alpha when positive.

    Returns
    -------
    Bunch with
        ``alphas`` (n_alphas,) descending; ``coefs`` (n_features, n_alphas)
        as scikit-learn's ``lasso_path``; ``intercepts`` (n_alphas,);
        ``n_nonzero``, ``n_iter``, ``optimality`` (KKT violation),
        ``objective`` (n_alphas,); ``alpha_max`` (float); ``l1_ratio`` (float).

    Raises
    ------
    ValueError
        If ``y`` has no spike, ``alphas`` are not positive or ``eps`` is not
        in (0, 1).
    sklearn.utils._param_validation.InvalidParameterError
        (a ValueError and TypeError) naming the argument, for any argument of
        the wrong type or out of range (``fit_intercept="no"``, ``tol <= 0``,
        ``max_iter < 1``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp import lasso_lnp_path
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> neuron = make_lnp_neuron(n_frames=1000, random_state=0)
    >>> path = lasso_lnp_path(neuron.stimulus, neuron.counts,
    ...                       exposure=neuron.exposure, n_alphas=5)
    >>> path.coefs.shape
    (225, 5)
    >>> int(path.n_nonzero[0]), bool(np.all(np.diff(path.alphas) < 0))
    (0, True)
    """
    if eps is not None and not (isinstance(eps, numbers.Real) and 0.0 < eps < 1.0):
        raise ValueError(f"eps must be in the open interval (0, 1); got {eps!r}.")
    if alphas is None and (
        isinstance(n_alphas, bool) or not isinstance(n_alphas, numbers.Integral) or n_alphas < 1
    ):
        raise ValueError(f"n_alphas must be an integer >= 1; got {n_alphas!r}.")
    grid = None if alphas is None else check_alpha_grid(alphas)
    l1_ratio = float(check_l1_ratio(l1_ratio))
    X, y, exposure, sample_weight = check_path_data(X, y, exposure, sample_weight)
    objective = PoissonObjective(X, y, exposure, sample_weight, fit_intercept=fit_intercept)
    _, start, tops = null_start(objective, l1_ratio)
    top = float(tops[0])
    if grid is None:
        eps = default_eps(*X.shape) if eps is None else float(eps)
        grid = alpha_grid(top, int(n_alphas), eps)
    warn_if_nearly_unpenalised(grid[-1], top, X.shape, stacklevel=4)
    fits = fit_path(
        objective,
        grid,
        l1_ratio=l1_ratio,
        tol=tol,
        max_iter=max_iter,
        verbose=verbose,
        first_start=start,
    )
    coefs = fits.params[:, : objective.n_features, 0].T.copy()
    intercepts = fits.params[:, -1, 0].copy() if fit_intercept else np.zeros(grid.size)
    return Bunch(
        alphas=grid,
        coefs=coefs,
        intercepts=intercepts,
        n_nonzero=np.count_nonzero(coefs, axis=0),
        n_iter=fits.n_iter[:, 0],
        optimality=fits.optimality[:, 0],
        objective=fits.objective[:, 0],
        alpha_max=top,
        l1_ratio=l1_ratio,
    )
