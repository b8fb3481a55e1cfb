"""The optional pyglmnet 1.1 backend of :class:`LassoLNPRegressor`, checked against the optimum.

The lab fits its L1 models with pyglmnet's ``GLM``.  ``solver="pyglmnet"``
runs it, for comparison, and never passes its answer off as the optimum:

* **numpy 2.** pyglmnet 1.1 uses ``np.float`` (removed in numpy 1.24) and
  its random initialisation assigns a length-1 array to an array element
  (``ValueError: setting an array element with a sequence``).  For the
  duration of the fit, pyglmnet's module, and only it, sees a namespace in
  which ``np.float`` and ``np.int`` exist (numpy itself is never modified;
  :mod:`sklearn_lnp._integrations.pyglmnet_numpy` holds this patch and the
  version it is tested with), and pyglmnet starts from our initial point
  (zero weights, the intercept-only optimum) through its warm-start
  attributes instead of its random draw.
* **Parameters.** pyglmnet's documented objective with its ``alpha=1``
  (pure L1) and ``reg_lambda=alpha`` is ours (both divide the
  log-likelihood by ``n_samples``).  But its ``batch-gradient`` solver takes
  the proximal step ``prox(beta - lr * grad, reg_lambda)`` where ISTA needs
  the threshold ``lr * reg_lambda``: its fixed point is the lasso with
  penalty ``reg_lambda / learning_rate`` (5x its documented penalty at the
  default ``learning_rate=0.2``; measured: with ``reg_lambda = alpha * lr``
  it converges to our optimum to 1e-10).  The backend therefore passes
  ``reg_lambda = alpha * learning_rate``.  Its ``cdfast`` solver thresholds
  by ``reg_lambda`` after Newton coordinate steps, a weighted lasso with
  weights that change with the fit: no exact mapping exists, so
  ``reg_lambda = alpha`` and the gap is reported.  The elastic net
  (``l1_ratio < 1``) maps the same way: batch-gradient's fixed point has L1
  weight ``a * reg_lambda / lr`` and L2 weight ``(1 - a) * reg_lambda`` for
  its ``alpha=a``, so ``reg_lambda = alpha (l1_ratio lr + 1 - l1_ratio)`` and
  ``a = alpha l1_ratio lr / reg_lambda``; cdfast gets the documented
  ``reg_lambda = alpha``, ``a = l1_ratio``.  pyglmnet has no offset
  and no sample weights: a constant exposure is absorbed into the intercept
  exactly; per-bin exposure (replaced by its geometric mean) and
  non-uniform weights cannot be passed and are reported (and warned about).
* **Its nonlinearity.** pyglmnet's ``poisson`` is ``exp(z)`` only for
  ``z <= eta`` and linear above (``eta=2`` by default).  Unless
  ``solver_options["eta"]`` is given, the backend sets ``eta`` one unit above
  the largest linear predictor of the optimum (at least 2), so that
  pyglmnet's model is the exponential one over the data and its minimiser is
  ours, while its linear part still caps the curvature of wild iterates; it
  counts the bins whose linear predictor ends above ``eta``.
* **Its answer.** The objective and the KKT violation of pyglmnet's answer
  are measured with *our* loss; the optimum is computed with the proximal
  Newton solver; the gap, the violation and the non-zeros of both are stored
  in ``backend_report_`` and a ``ConvergenceWarning`` says so when the
  violation exceeds ``tol``, with the likely cause (unmappable exposure or
  weights, ``max_iter``, the linear part).  Non-finite output (its
  exponential iterates overflow with a large ``learning_rate`` or ``eta``)
  raises ``FloatingPointError``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from .._integrations.pyglmnet_numpy import numpy_aliases_for
from .._objective import ETA_MAX
from .._solvers._prox_newton import max_kkt_violation, penalised_value, prox_newton
from ._lasso import lasso_penalty

INSTALL_HINT = (
    'pip install ".[pyglmnet]" from the sklearn-lnp repository (or: pip install "pyglmnet>=1.1")'
)
_OPTIONS = {"solver", "learning_rate", "max_iter", "tol", "eta"}


def import_pyglmnet():
    """Return pyglmnet's ``pyglmnet.pyglmnet`` module, or raise with the install command."""
    try:
        import pyglmnet.pyglmnet as module
    except ImportError as exc:
        raise ImportError(
            "solver='pyglmnet' needs the optional pyglmnet package, which is not installed. "
            f"Install the extra: {INSTALL_HINT}"
        ) from exc
    return module


def pyglmnet_available() -> bool:
    """Whether pyglmnet can be imported."""
    try:
        import_pyglmnet()
    except ImportError:
        return False
    return True


def _check_options(options) -> dict:
    options = {} if options is None else dict(options)
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ValueError(
            f"solver_options for solver='pyglmnet' accepts only {sorted(_OPTIONS)}; "
            f"got unknown keys {sorted(unknown)}."
        )
    return options


def fit_pyglmnet(
    X,
    y,
    *,
    alpha: float,
    l1_ratio: float = 1.0,
    exposure=None,
    fit_intercept: bool = True,
    init_intercept: float = 0.0,
    options=None,
    verbose: int = 0,
) -> dict:
    """Run pyglmnet's ``GLM`` (Poisson, L1 or elastic net) and return its raw answer.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Densified for pyglmnet when sparse.
    y : ndarray of shape (n_samples,)
    alpha : float
        Our penalty; for the lasso pyglmnet gets ``reg_lambda = alpha * learning_rate``
        (batch-gradient) or ``alpha`` (cdfast), with its ``alpha=1``.
    l1_ratio : float in (0, 1], default=1.0
        Our L1 share; mapped to pyglmnet's ``alpha`` and ``reg_lambda`` as
        in the module docstring.
    exposure : ndarray of shape (n_samples,) or None
        Only a constant exposure can be mapped exactly (into the intercept);
        a varying one is replaced by its geometric mean (the caller reports
        it).
    fit_intercept : bool
    init_intercept : float
        Our intercept at the starting point (zero weights).
    options : dict, optional
        pyglmnet's ``solver`` (``"batch-gradient"``, its default, or
        ``"cdfast"``), ``learning_rate`` (2e-1), ``max_iter`` (1000), ``tol``
        (1e-6, its relative parameter-change criterion) and ``eta`` (its
        default is 2; here 100 unless given).
    verbose : int

    Returns
    -------
    dict
        ``coef``, ``intercept`` (in our parametrisation), ``n_iter``,
        ``reg_lambda`` (passed to pyglmnet), ``eta``, ``z_max`` (largest
        linear predictor pyglmnet saw at its answer), ``n_bins_linear_part``
        (bins where it exceeds ``eta``), ``warnings`` (messages pyglmnet emitted) and ``seconds``.
    """
    module = import_pyglmnet()
    options = _check_options(options)
    eta = float(options.get("eta", ETA_MAX))
    # pyglmnet's intercept b' = b + mean(log exposure): exact for a constant
    # exposure c (exp(Xw + b') = c exp(Xw + b)); for a varying exposure,
    # which pyglmnet cannot take, the best constant stand-in.
    shift = 0.0 if exposure is None else float(np.mean(np.log(exposure)))
    X_dense = X.toarray() if sp.issparse(X) else np.asarray(X)
    solver = options.get("solver", "batch-gradient")
    learning_rate = float(options.get("learning_rate", 2e-1))
    # See the module docstring: batch-gradient's fixed point has penalty
    # reg_lambda / learning_rate.
    rate = learning_rate if solver == "batch-gradient" else 1.0
    l1, l2 = float(alpha) * l1_ratio * rate, float(alpha) * (1.0 - l1_ratio)
    reg_lambda = l1 + l2
    mix = l1 / reg_lambda if reg_lambda > 0 else 1.0
    glm = module.GLM(
        distr="poisson",
        alpha=mix,
        reg_lambda=reg_lambda,
        solver=solver,
        learning_rate=learning_rate,
        max_iter=int(options.get("max_iter", 1000)),
        tol=float(options.get("tol", 1e-6)),
        eta=eta,
        fit_intercept=bool(fit_intercept),
        random_state=0,
        verbose=bool(verbose),
    )
    # Start from our initial point: pyglmnet's own random initialisation
    # fails on numpy 2 (it assigns a length-1 array to one element).
    glm.beta0_ = float(init_intercept + shift) if fit_intercept else 0.0
    glm.beta_ = np.zeros(X_dense.shape[1])
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with numpy_aliases_for(module), np.errstate(all="ignore"):
            glm.fit(X_dense, np.asarray(y, dtype=np.float64))
    seconds = time.perf_counter() - start
    coef = np.asarray(glm.beta_, dtype=np.float64).copy()
    intercept = float(glm.beta0_) - shift if fit_intercept else 0.0
    with np.errstate(all="ignore"):
        z = X_dense @ coef + (float(glm.beta0_) if fit_intercept else 0.0)
    return {
        "coef": coef,
        "intercept": intercept,
        "n_iter": int(glm.n_iter_),
        "reg_lambda": reg_lambda,
        "pyglmnet_alpha": mix,
        "eta": eta,
        "z_max": float(np.max(z)) if np.all(np.isfinite(z)) else float("nan"),
        "n_bins_linear_part": int(np.sum(z > eta)),
        "warnings": [str(w.message) for w in caught],
        "seconds": seconds,
    }


def fit_with_pyglmnet(estimator, objective, X, y, sample_weight, exposure) -> None:
    """Fit ``estimator`` (a LassoLNPRegressor) with pyglmnet and report its distance to the optimum.

    Sets the estimator's fitted attributes to pyglmnet's answer and
    ``backend_report_`` to what was measured with our loss.

    Raises
    ------
    ImportError
        pyglmnet is not installed (the message gives the install command).
    FloatingPointError
        pyglmnet returned non-finite coefficients.
    """
    import_pyglmnet()
    alpha, l1_ratio = float(estimator.alpha), float(estimator.l1_ratio)
    penalty = lasso_penalty(alpha, l1_ratio)
    exposure_varies = exposure is not None and not np.all(exposure == exposure[0])
    weights_vary = not np.all(sample_weight == sample_weight[0])
    unmapped = []
    if exposure_varies:
        unmapped.append(
            "exposure varies across bins but pyglmnet has no offset: it fitted the model "
            "with a constant exposure (the geometric mean)"
        )
    if weights_vary:
        unmapped.append("pyglmnet has no sample weights: it fitted unweighted")
    for message in unmapped:
        warnings.warn(f"solver='pyglmnet': {message}.", UserWarning, stacklevel=3)
    # The optimum first: it sets pyglmnet's ``eta`` (see the module
    # docstring) and is the reference of the report.
    optimum = prox_newton(
        objective, penalty, objective.initial_params(), tol=estimator.tol, max_iter=100
    ).result()
    options = _check_options(estimator.solver_options)
    if "eta" not in options:
        shift = 0.0 if exposure is None else float(np.mean(np.log(exposure)))
        opt_coef, opt_intercept = objective.split(optimum.params[:, None])
        z_opt = np.asarray(X @ opt_coef, dtype=np.float64) + opt_intercept + shift
        options["eta"] = max(2.0, float(np.max(z_opt)) + 1.0)
    start_params = objective.initial_params()
    raw = fit_pyglmnet(
        X,
        y,
        alpha=alpha,
        l1_ratio=l1_ratio,
        exposure=exposure,
        fit_intercept=estimator.fit_intercept,
        init_intercept=float(start_params[-1, 0]) if estimator.fit_intercept else 0.0,
        options=options,
        verbose=estimator.verbose,
    )
    coef, intercept = raw["coef"], raw["intercept"]
    if not (np.all(np.isfinite(coef)) and np.isfinite(intercept)):
        n_optimum = int(np.count_nonzero(optimum.params[: X.shape[1]]))
        raise FloatingPointError(
            f"pyglmnet diverged: non-finite coefficients after {raw['n_iter']} iterations "
            f"(alpha={alpha:g}, eta={raw['eta']:.3g}); its answer cannot be used. The optimum "
            f"(objective {optimum.objective:.10g}, {n_optimum} "
            "non-zero weights) is what solver='prox-newton' returns; or try a smaller "
            "learning_rate in solver_options."
        )
    params = (np.append(coef, intercept) if estimator.fit_intercept else coef)[:, None]
    value = float(penalised_value(objective, penalty, params)[0])
    _, G, _ = objective.value_gradient(params)
    violation = float(max_kkt_violation(penalty, params, G, X.shape[1])[0][0])
    n_nonzero = int(np.count_nonzero(coef))
    n_nonzero_optimum = int(np.count_nonzero(optimum.params[: X.shape[1]]))
    n_linear = raw["n_bins_linear_part"]
    report = {
        "objective": value,
        "optimum_objective": float(optimum.objective),
        "gap": value - float(optimum.objective),
        "kkt_violation": violation,
        "optimum_kkt_violation": float(optimum.optimality),
        "n_nonzero": n_nonzero,
        "n_nonzero_optimum": n_nonzero_optimum,
        "n_iter": raw["n_iter"],
        "reg_lambda": raw["reg_lambda"],
        "pyglmnet_alpha": raw["pyglmnet_alpha"],
        "eta": raw["eta"],
        "n_bins_linear_part": n_linear,
        "unmapped": unmapped,
        "pyglmnet_warnings": raw["warnings"],
        "seconds": raw["seconds"],
    }
    estimator.coef_ = coef
    estimator.intercept_ = float(intercept)
    estimator.n_nonzero_ = n_nonzero
    estimator.n_iter_ = raw["n_iter"]
    estimator.objective_ = value
    estimator.optimality_ = violation
    estimator.solver_ = "pyglmnet"
    estimator.backend_report_ = report
    if violation > estimator.tol:
        reasons = list(unmapped)
        if raw["n_iter"] >= int(options.get("max_iter", 1000)):
            reasons.append(f"it stopped at max_iter={raw['n_iter']}")
        if n_linear:
            reasons.append(f"{n_linear} bins fell on its linear part above eta={raw['eta']:.3g}")
        if options.get("solver") == "cdfast":
            reasons.append("its cdfast fixed point is a weighted lasso, not this problem")
        why = ("; likely because " + "; ".join(reasons)) if reasons else ""
        warnings.warn(
            f"pyglmnet's answer is NOT the optimum: objective "
            f"{value - optimum.objective:.3g} above it, KKT violation {violation:.3g} > "
            f"tol={estimator.tol:.3g}, {n_nonzero} non-zero weights vs {n_nonzero_optimum} at "
            f"the optimum, after {raw['n_iter']} iterations{why}. solver='prox-newton' "
            "returns the exact solution.",
            ConvergenceWarning,
            stacklevel=3,
        )
