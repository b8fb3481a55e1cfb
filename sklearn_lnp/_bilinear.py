r"""Exact fit of the low-rank (separable) space-time LNP model.

Model: ``mu_t = e_t exp(sum_L x_{t,L} . W[:, L] + z_t . c + b)`` with the
pixels x lags RF ``W = A B^T`` of rank ``k`` (``A`` pixels x k spatial,
``B`` lags x k temporal) and optional covariates ``z`` (e.g. slow-drift
regressors) with free coefficients ``c``.  The objective is the one of every
estimator of the package (:mod:`sklearn_lnp._objective`) restricted to rank ``k``:

.. math::

    F(A, B, c, b) = \text{mean NLL} + \frac{\alpha}{2}
        \left(\lVert A B^T \rVert_F^2 + \lVert c \rVert^2\right).

Alternating exact fits
----------------------
With ``B`` fixed the model is linear in ``(A, c, b)``: the design has the
columns ``sum_L B[L, i] X_L`` (one block of pixels per component), and with
``B``'s columns orthonormal, ``||A B^T||_F = ||A||_F``, so the sub-problem is
exactly a :class:`~sklearn_lnp._objective.PoissonObjective` (plus ``L2``) with the same
``alpha``, solved by :func:`~sklearn_lnp._solvers.solve`.  Likewise with
``A`` fixed (orthonormalised, its scale moved into ``B``) the design has the
columns ``X_L A[:, i]``.  Re-orthonormalising changes ``A B^T`` by nothing,
so each half-step minimises ``F`` exactly over one factor and ``F`` never
increases.

Stopping criterion: after a temporal half-step the gradient in ``(B, c, b)``
is at most the inner tolerance; the alternation stops when the largest
gradient entry in ``A`` (in the gauge where ``B`` is orthonormal) is at most
``tol`` as well, i.e. when the full gradient of ``F`` is.

Initialisation: the rank-``k`` SVD of the spike-triggered average of the
lagged design, which exists for any number of bins (unlike the unconstrained
maximum-likelihood fit when bins < pixels x lags).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from ._objective import PoissonObjective
from ._penalties import L2
from ._solvers import SmoothProblem, solve


def _blocks(X, n_lags: int, n_pixels: int):
    return [X[:, L * n_pixels : (L + 1) * n_pixels] for L in range(n_lags)]


def _spatial_design(blocks, covariates, B):
    """Columns ``sum_L B[L, i] X_L`` for each component ``i``, then covariates."""
    parts = []
    for i in range(B.shape[1]):
        part = blocks[0] * B[0, i]
        for L in range(1, len(blocks)):
            part = part + blocks[L] * B[L, i]
        parts.append(part)
    if covariates is not None:
        parts.append(covariates)
    if any(sp.issparse(p) for p in parts):
        return sp.hstack(parts, format="csr")
    return np.hstack([np.asarray(p, dtype=np.float64) for p in parts])


def _temporal_design(blocks, covariates, A):
    """Columns ``X_L A[:, i]`` ordered ``(L, i)`` row-major, then covariates."""
    columns = [np.asarray(block @ A, dtype=np.float64).reshape(-1, A.shape[1]) for block in blocks]
    design = np.hstack(columns)
    if covariates is None:
        return design
    if sp.issparse(covariates):
        covariates = covariates.toarray()
    return np.hstack([design, np.asarray(covariates, dtype=np.float64)])


def sta_temporal_start(blocks, y, exposure, sample_weight, rank: int) -> np.ndarray:
    """Orthonormal lags x rank start: temporal SVD factors of the lagged STA."""
    expected = np.ones_like(y) if exposure is None else exposure
    weights = np.ones_like(y) if sample_weight is None else sample_weight
    residual = weights * (y - expected * np.sum(weights * y) / np.sum(weights * expected))
    sta = np.column_stack([np.asarray(block.T @ residual).ravel() for block in blocks])
    _, _, Vt = np.linalg.svd(sta, full_matrices=False)
    return Vt[:rank].T.copy()


def fit_low_rank(
    X,
    y,
    *,
    n_lags: int,
    n_pixels: int,
    n_covariates: int = 0,
    rank: int = 1,
    exposure=None,
    sample_weight=None,
    alpha: float = 0.0,
    fit_intercept: bool = True,
    solver: str = "auto",
    inner_tol: float = 1e-8,
    inner_max_iter: int = 1000,
    tol: float = 1e-7,
    max_iter: int = 200,
) -> Bunch:
    """Fit ``W = A B^T`` by alternating exact Poisson fits (module docstring).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_lags * n_pixels + n_covariates)
        Lag-major design followed by the covariates.
    y : ndarray of shape (n_samples,)
    n_lags, n_pixels, n_covariates, rank : int
    exposure, sample_weight : ndarray of shape (n_samples,) or None
    alpha, fit_intercept, solver, inner_tol, inner_max_iter
        Settings of each exact sub-problem (as ``PoissonLNPRegressor``).
    tol : float
        Stop when the largest gradient entry of ``F`` is at most
        ``tol * max(1, mean count)`` (``inner_tol`` likewise: the scale of
        the gradient and of its round-off grows with the counts).
    max_iter : int
        Maximum alternations (spatial + temporal half-steps); the
        alternation also stops, unconverged, when a whole alternation no
        longer decreases ``F`` beyond round-off.

    Returns
    -------
    Bunch with ``W`` (n_pixels, n_lags), ``covariate_coef`` (n_covariates,),
    ``intercept``, ``objective``, ``optimality``, ``n_iter``, ``converged``.
    """
    n_rf = n_lags * n_pixels
    # Tolerances relative to the counts' scale: F / max(1, mean count) has the
    # same minimiser, and its gradient's round-off does not grow with the
    # counts (with counts of 1e9 an absolute 1e-8 is below round-off: every
    # inner solve ran to its max_iter and the alternation to its own).
    weights = np.ones_like(y) if sample_weight is None else sample_weight
    scale = max(1.0, float(np.sum(weights * y) / max(np.sum(weights), 1e-300)))
    tol, inner_tol = tol * scale, inner_tol * scale
    blocks = _blocks(X, n_lags, n_pixels)
    covariates = X[:, n_rf:] if n_covariates else None
    B = sta_temporal_start(blocks, y, exposure, sample_weight, rank)
    A = np.zeros((n_pixels, rank))
    c = np.zeros(n_covariates)
    b = None  # intercept-only optimum on the first spatial step
    penalty = L2(alpha)
    solve_kw = dict(solver=solver, tol=inner_tol, max_iter=inner_max_iter)

    def restricted(design):
        """The problem restricted to one factor: a Poisson objective of ``design``."""
        objective = PoissonObjective(
            design, y, exposure, sample_weight, fit_intercept=fit_intercept
        )
        return SmoothProblem(objective, penalty)

    def spatial_problem():
        return restricted(_spatial_design(blocks, covariates, B))

    def run(problem, params, evaluated=None):
        (result,) = solve(problem.objective, penalty, params, evaluated=evaluated, **solve_kw)
        coef, intercept = problem.objective.split(result.params)
        return result, coef, float(intercept)

    def gradient(problem, params):
        return problem.evaluate(params[:, None])[1][:, 0]

    def pack(first):
        params = np.concatenate([first, c])
        return np.append(params, b) if fit_intercept else params

    optimality = np.inf
    previous = np.inf
    stalled = False
    converged = False
    n_iter = 0
    result = None
    for n_iter in range(1, max_iter + 1):
        # Spatial half-step with orthonormal B (the scale lives in A).
        Q, R = np.linalg.qr(B)
        A, B = A @ R.T, Q
        problem = spatial_problem()
        evaluated = None  # at params, when the convergence test below has it
        if b is None:
            params = problem.objective.initial_params()[:, 0]
        else:
            params = pack(A.T.ravel())
            if n_iter > 1:
                evaluated = problem.evaluate(params[:, None])
                optimality = float(np.max(np.abs(evaluated[1][: n_pixels * rank])))
                optimality = max(optimality, result.optimality)
                if optimality <= tol:
                    converged = True
                    n_iter -= 1
                    break
        result, coef, intercept = run(problem, params, evaluated)
        A = coef[: n_pixels * rank].reshape(rank, n_pixels).T.copy()
        c, b = coef[n_pixels * rank :].copy(), intercept
        if not np.any(A):
            break  # no spatial signal at all: W = 0 is the optimum of the restriction
        # Temporal half-step with orthonormal A (the scale lives in B).
        Q, R = np.linalg.qr(A)
        A, B = Q, B @ R.T
        problem = restricted(_temporal_design(blocks, covariates, A))
        result, coef, intercept = run(problem, pack(B.ravel()))
        B = coef[: n_lags * rank].reshape(n_lags, rank).copy()
        c, b = coef[n_lags * rank :].copy(), intercept
        value = result.objective
        if value >= previous - 64 * np.finfo(float).eps * max(abs(value), 1.0):
            stalled = True  # no progress beyond round-off: the optimality below says how far
            break
        previous = value
    if stalled or n_iter == max_iter and not converged:
        Q, R = np.linalg.qr(B)
        A, B = A @ R.T, Q
        problem = spatial_problem()
        optimality = float(np.max(np.abs(gradient(problem, pack(A.T.ravel())))))
        optimality = max(optimality, result.optimality)
        converged = optimality <= tol
    if not np.any(A):
        problem = spatial_problem()
        optimality = float(np.max(np.abs(gradient(problem, pack(A.T.ravel())))))
        converged = optimality <= tol
    final = problem.evaluate(pack(A.T.ravel())[:, None])[0][0]
    return Bunch(
        W=A @ B.T,
        covariate_coef=c,
        intercept=float(b) if fit_intercept else 0.0,
        objective=float(final),
        optimality=float(optimality),
        n_iter=int(n_iter),
        converged=bool(converged),
    )
