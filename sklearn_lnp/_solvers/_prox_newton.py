r"""Proximal Newton with working sets for the L1-penalised Poisson objective.

Problem
-------
Minimise ``F(w, b) = f(w, b) + alpha * ||w||_1`` where ``f`` is a
:class:`~sklearn_lnp._loss.PoissonObjective` (the sample-weighted mean
Poisson negative log-likelihood, plus its own L2 term if any); the intercept
``b`` is not penalised.

Optimality (KKT) and the stopping criterion
-------------------------------------------
``(w, b)`` is optimal iff, with ``g`` the gradient of ``f``,

* ``|g_j| <= alpha`` for every ``w_j = 0``,
* ``g_j = -alpha * sign(w_j)`` for every ``w_j != 0``,
* ``g_b = 0``.

The *violation* of coordinate ``j`` is ``max(|g_j| - alpha, 0)`` when
``w_j = 0`` and ``|g_j + alpha sign(w_j)|`` otherwise (``|g_b|`` for the
intercept): the distance of ``-g_j`` to the subdifferential of
``alpha |w_j|``.  The solver stops when the largest violation is at most
``tol``; this is the value reported as ``SolverResult.optimality``.  With the
default ``tol = 1e-8`` the returned point is optimal to about 8 digits of the
gradient scale (``alpha_max``, the largest gradient entry at ``w = 0``, is
0.34 for the lab's neuron with 5 lags), i.e. it is the optimum up to
round-off for every practical purpose (measured on the real neuron: glum's
optimum at ``gradient_tol=1e-10`` has the same objective to 1e-12).

Algorithm
---------
Each outer iteration

1. computes the full gradient (one pass over ``X``) and the violations;
2. picks a *working set*: the current support plus the most violating zero
   coefficients, at most ``max(ws_min, 2 * |support|)`` features (the set
   doubles while the support grows, so the first steps from ``w = 0`` are
   cheap);
3. forms the Hessian of ``f`` restricted to the working set (and intercept)
   with :func:`~sklearn_lnp._passes.weighted_gram` on the working-set columns
   only (``X`` itself is never copied whole);
4. minimises the quadratic model plus the L1 term on the working set
   (:func:`solve_quadratic_lasso`): coordinate descent on the Gram matrix,
   compiled with numba, alternating with Newton (Cholesky) steps on the
   identified support and signs, which make the subproblem solution exact
   (numba earns its place: the numpy FISTA fallback, ``inner="fista"``,
   makes the real neuron's 20-alpha 5-fold CV 1.7x slower);
5. takes the step with Armijo backtracking on ``F`` along the line, using
   the objective's 1-D restriction (no pass over ``X`` per trial step).

Along a path (:func:`~sklearn_lnp.lasso_lnp_path`, ``LassoLNPCV``) the first
step of each alpha reuses the previous alpha's last working-set Hessian and
computes only the rows of new columns; so does every other step while the
working set grows, and a Hessian is kept for up to 3 steps while each step
cuts the violation 10-fold (chord steps).  BLAS runs single-threaded inside the
solver (:func:`single_threaded_blas`); parallelism is across folds.

The iterations are written as a generator (:func:`prox_newton_steps`) that
yields every read of the full ``X`` it needs (the gradient's ``X.T @ r``,
a direction's ``X @ d``, the working-set columns): one neuron's driver
answers them with the objective's own products; the population driver
(:mod:`._population_lasso`) answers many neurons' requests with one
matrix-matrix product.

Near the optimum the support stops changing and step 4 is an exact Newton
step on the support, so the outer iterations converge quadratically (chord
steps with a kept Hessian are used only while they cut the violation at least
10-fold each).
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from .._passes import gather_columns, rmatvec, weighted_gram
from ._result import SolverResult

_ARMIJO = 1e-4
_MAX_HALVINGS = 40
WS_MIN_SIZE = 10
INNER_SOLVERS = ("cd", "fista")
# Reuse a Hessian (chord steps) while each step cuts the KKT violation by at
# least this factor, for at most this many steps (measured on the real
# neuron's CV: Gram work 107 -> 67 GFlop, total linear-algebra work -16%,
# 18% more steps; the stopping test always uses the exact gradient).
_CHORD_RATIO = 10.0
_CHORD_MAX_AGE = 3


# --------------------------------------------------------------------------
# Optimality
# --------------------------------------------------------------------------
def kkt_violation(coef: np.ndarray, grad_coef: np.ndarray, alpha: float) -> np.ndarray:
    """Violation of the L1 optimality conditions, per coefficient.

    Parameters
    ----------
    coef : ndarray of shape (n_features,)
    grad_coef : ndarray of shape (n_features,)
        Gradient of the smooth part ``f`` with respect to ``coef``.
    alpha : float
        L1 penalty.

    Returns
    -------
    ndarray of shape (n_features,)
        ``max(|g_j| - alpha, 0)`` where ``coef_j == 0``, else
        ``|g_j + alpha * sign(coef_j)|``.
    """
    coef = np.asarray(coef, dtype=np.float64)
    grad_coef = np.asarray(grad_coef, dtype=np.float64)
    return np.where(
        coef == 0,
        np.maximum(np.abs(grad_coef) - alpha, 0.0),
        np.abs(grad_coef + alpha * np.sign(coef)),
    )


def max_kkt_violation(objective, params: np.ndarray, alpha: float, grad=None) -> float:
    """Largest KKT violation of ``params`` for ``f + alpha * ||w||_1`` (intercept included)."""
    if grad is None:
        grad = objective.gradient(params)
    coef, _ = objective.split(params)
    violation = float(np.max(kkt_violation(coef, grad[: objective.n_features], alpha), initial=0))
    if objective.fit_intercept:
        violation = max(violation, abs(float(grad[-1])))
    return violation


def l1_objective(objective, params: np.ndarray, alpha: float) -> float:
    """``F = f + alpha * ||w||_1`` at ``params``."""
    coef, _ = objective.split(params)
    return objective.loss(params) + alpha * float(np.abs(coef).sum())


def alpha_max(objective) -> float:
    """Smallest L1 penalty whose optimum has every coefficient at zero.

    At ``w = 0`` the intercept optimum is closed-form (``exp(b)`` = weighted
    count / weighted exposure), and ``w = 0`` is optimal iff
    ``|g_j| <= alpha`` for all ``j``: ``alpha_max = max_j |g_j|`` there.
    (Without an intercept, ``b = 0`` and the same formula holds.)

    Parameters
    ----------
    objective : PoissonObjective

    Returns
    -------
    float
    """
    params = objective.initial_params()
    grad = objective.gradient(params)
    return float(np.max(np.abs(grad[: objective.n_features]), initial=0.0))


# --------------------------------------------------------------------------
# Quadratic subproblem
# --------------------------------------------------------------------------
_CD_KERNEL = None


def _cd_kernel():
    """Compile (once; cached on disk) the coordinate-descent kernel."""
    global _CD_KERNEL
    if _CD_KERNEL is None:
        from numba import njit

        @njit(cache=True, nogil=True)
        def cd_gram(hess, lin, penalty, z, grad, max_sweeps, tol):  # pragma: no cover
            # Minimise 0.5 z'Hz + lin'z + sum_j penalty_j |z_j| by cyclic CD.
            # ``grad`` holds H z + lin and is kept up to date.
            m = z.shape[0]
            sweep = 0
            violation = np.inf
            while sweep < max_sweeps:
                sweep += 1
                for j in range(m):
                    hjj = hess[j, j]
                    if hjj <= 0.0:
                        continue
                    old = z[j]
                    u = old - grad[j] / hjj
                    thr = penalty[j] / hjj
                    if u > thr:
                        new = u - thr
                    elif u < -thr:
                        new = u + thr
                    else:
                        new = 0.0
                    if new != old:
                        delta = new - old
                        z[j] = new
                        row = hess[j]  # H is symmetric: row j is column j, contiguous
                        for i in range(m):
                            grad[i] += delta * row[i]
                violation = 0.0
                for j in range(m):
                    if z[j] == 0.0:
                        v = abs(grad[j]) - penalty[j]
                    elif z[j] > 0.0:
                        v = abs(grad[j] + penalty[j])
                    else:
                        v = abs(grad[j] - penalty[j])
                    if v > violation:
                        violation = v
                if violation <= tol:
                    break
            return sweep, violation

        _CD_KERNEL = cd_gram
    return _CD_KERNEL


def _quadratic_violation(z, grad, penalty):
    return float(
        np.max(
            np.where(
                z == 0,
                np.abs(grad) - penalty,
                np.abs(grad + penalty * np.sign(z)),
            ),
            initial=0.0,
        )
    )


def _fista_kernel(hess):
    """Vectorised alternative to the CD kernel: FISTA with step 1/||H||_2."""
    lipschitz = float(np.linalg.eigvalsh(hess)[-1]) if hess.shape[0] else 1.0
    step = 1.0 / max(lipschitz, np.finfo(float).tiny)
    return functools.partial(_fista, step=step)


def _fista(hess, lin, penalty, z, grad, max_sweeps, tol, *, step):
    y = z.copy()
    z_old = z.copy()
    momentum = 1.0
    violation = np.inf
    for sweep in range(1, max_sweeps + 1):
        u = y - step * (hess @ y + lin)
        z[:] = np.sign(u) * np.maximum(np.abs(u) - step * penalty, 0.0)
        momentum_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * momentum**2))
        y = z + ((momentum - 1.0) / momentum_new) * (z - z_old)
        momentum = momentum_new
        z_old[:] = z
        if sweep % 10 == 0 or sweep == max_sweeps:
            grad[:] = hess @ z + lin
            violation = _quadratic_violation(z, grad, penalty)
            if violation <= tol:
                break
    grad[:] = hess @ z + lin
    return sweep, _quadratic_violation(z, grad, penalty)


def _quadratic_value(hess, lin, penalty, z):
    """``q(z) = 0.5 z'Hz + lin'z + sum_j penalty_j |z_j|``."""
    return float(0.5 * z @ (hess @ z) + lin @ z + penalty @ np.abs(z))


def _solve_face(hess, lin, penalty, active, signs):
    """Minimiser of the quadratic on the face ``(active, signs)``, or None if singular."""
    rhs = -(lin[active] + penalty[active] * signs)
    try:
        factor = cho_factor(
            hess[np.ix_(active, active)], lower=False, overwrite_a=True, check_finite=False
        )
        c = cho_solve(factor, rhs, check_finite=False)
    except (LinAlgError, ValueError):
        return None
    return c if np.all(np.isfinite(c)) else None


def _predicted_face_step(hess, lin, penalty, z, grad):
    """Newton step on the face predicted by one diagonal proximal step (semismooth Newton).

    The face is that of ``u = S(z - grad / diag(H), penalty / diag(H))`` (the
    coordinates a coordinate-descent sweep would make non-zero, with their
    signs); its minimiser ``c`` is computed as in :func:`_face_step`, and
    coordinates whose sign flips are set to 0.  Unlike :func:`_face_step`,
    this step can add coordinates and drop several at once, but it is not
    guaranteed to decrease ``q``: the caller checks.

    Returns
    -------
    z_new : ndarray or None
    full : bool
        Whether no sign flipped (``z_new`` is then the face optimum).
    """
    diag = np.diag(hess)
    safe = np.where(diag > 0, diag, np.inf)
    u = z - grad / safe
    active = (np.abs(u) * safe > penalty) | (penalty == 0)
    if not np.any(active):
        return np.zeros_like(z), True
    signs = np.sign(u[active])
    c = _solve_face(hess, lin, penalty, active, signs)
    if c is None:
        return None, False
    penalised = penalty[active] > 0
    flipped = penalised & (np.sign(c) != signs)
    c[flipped] = 0.0
    z_new = np.zeros_like(z)
    z_new[active] = c
    return z_new, not np.any(flipped)


def _face_step(hess, lin, penalty, z):
    """Newton step on the face (support and signs) of ``z``.

    On the support ``A`` of ``z`` (plus the unpenalised coordinates) with
    signs ``s``, the quadratic plus L1 term is the smooth quadratic
    ``0.5 z_A'H_AA z_A + (lin_A + penalty_A s_A)'z_A``; its minimiser ``c``
    solves ``H_AA c = -(lin_A + penalty_A s_A)`` (Cholesky).  When ``c``
    keeps the signs ``s`` it is returned; otherwise the point where the
    segment from ``z`` to ``c`` first crosses zero (that coordinate set to
    exactly 0).  Either way the subproblem objective does not increase: it is
    a convex quadratic on the segment, decreasing towards ``c``.

    Returns
    -------
    z_new : ndarray or None
        None when the face system is singular.
    full : bool
        Whether ``c`` itself (the face optimum) was returned.
    """
    active = (z != 0) | (penalty == 0)
    if not np.any(active):
        return None, False
    signs = np.sign(z[active])
    c = _solve_face(hess, lin, penalty, active, signs)
    if c is None:
        return None, False
    z_active = z[active]
    penalised = penalty[active] > 0
    crossing = penalised & (np.sign(c) != signs)
    z_new = np.zeros_like(z)
    if not np.any(crossing):
        z_new[active] = c
        return z_new, True
    # Fraction of the way to ``c`` at which each crossing coordinate hits 0.
    fractions = z_active[crossing] / (z_active[crossing] - c[crossing])
    t = float(np.min(fractions))
    moved = z_active + t * (c - z_active)
    moved[np.flatnonzero(crossing)[fractions <= t]] = 0.0
    moved[penalised & (np.sign(moved) != signs)] = 0.0
    z_new[active] = moved
    return z_new, False


def solve_quadratic_lasso(hess, lin, penalty, z0, *, tol, inner="cd", max_sweeps=20000):
    r"""Minimise ``q(z) = 0.5 z'Hz + lin'z + sum_j penalty_j |z_j|`` from ``z0``.

    Alternates two moves until the largest violation of the subproblem's
    optimality conditions is at most ``tol``:

    * a Newton step on a face (support and signs): first on the face that
      one diagonal proximal step predicts (:func:`_predicted_face_step`,
      which can add and drop many coordinates at once), kept if it decreases
      ``q``; once a prediction fails, on the face of the current point
      (:func:`_face_step`, which never increases ``q``).  Each costs one
      Cholesky factorisation on the support and is exact once the support
      and signs are right;
    * sweeps of the iterative method, ``inner="cd"`` (cyclic coordinate
      descent on ``H``, compiled with numba) or ``inner="fista"`` (numpy,
      vectorised), which find the support; their number doubles after every
      face step (10, 20, 40, ...), so factorisations cost at most about as
      much as the sweeps.

    A face step comes first when no zero coordinate violates its condition,
    so a warm start with the right support is solved by one factorisation
    and no sweep.  Every accepted move decreases ``q``.

    Parameters
    ----------
    hess : ndarray of shape (m, m)
        Symmetric positive semi-definite.
    lin : ndarray of shape (m,)
    penalty : ndarray of shape (m,)
        Non-negative L1 weights (0 for unpenalised coordinates).
    z0 : ndarray of shape (m,)
        Starting point.
    tol : float
        Target violation.
    inner : {"cd", "fista"}
    max_sweeps : int
        Budget of sweeps of the iterative method.

    Returns
    -------
    z : ndarray of shape (m,)
    info : dict
        ``sweeps``, ``factorisations``, ``violation`` and ``exact`` (whether
        the last move was a face optimum satisfying the conditions).
    """
    hess = np.ascontiguousarray(hess, dtype=np.float64)
    lin = np.ascontiguousarray(lin, dtype=np.float64)
    penalty = np.ascontiguousarray(penalty, dtype=np.float64)
    z = np.array(z0, dtype=np.float64)
    grad = hess @ z + lin
    violation = _quadratic_violation(z, grad, penalty)
    if inner == "cd":
        kernel = _cd_kernel()
    elif inner == "fista":
        kernel = _fista_kernel(hess)
    else:
        raise ValueError(f"inner must be one of {INNER_SOLVERS}, got {inner!r}.")
    sweeps_total = 0
    factorisations = 0
    chunk = 10
    exact = False
    # A face step first only if no zero coordinate wants to enter: otherwise
    # it cannot be exact, and sweeps come first (measured on the real
    # neuron's CV path: 37% fewer factorisations, the same number of sweeps).
    face_first = not np.any((z == 0) & (np.abs(grad) > penalty))
    # Predicted faces (semismooth Newton) until one fails to decrease q; then
    # only the monotone face step.  Measured on the real neuron's CV path:
    # 18% fewer sweeps and 7% less factorisation work than face steps alone.
    predict = True
    while violation > tol:
        z_face, full = None, False
        if predict and face_first:
            z_face, full = _predicted_face_step(hess, lin, penalty, z, grad)
            factorisations += 1
            if z_face is not None and not (
                _quadratic_value(hess, lin, penalty, z_face)
                < _quadratic_value(hess, lin, penalty, z)
            ):
                z_face = None
                predict = False
        if z_face is None and face_first:
            z_face, full = _face_step(hess, lin, penalty, z)
            factorisations += 1
        face_first = True
        if z_face is not None:
            face_grad = hess @ z_face + lin
            face_violation = _quadratic_violation(z_face, face_grad, penalty)
            z, grad, violation = z_face, face_grad, face_violation
            exact = full and violation <= tol
            if violation <= tol:
                break
        if sweeps_total >= max_sweeps:
            break
        budget = min(chunk, max_sweeps - sweeps_total)
        sweeps, violation = kernel(hess, lin, penalty, z, grad, budget, tol)
        sweeps_total += int(sweeps)
        exact = False
        chunk *= 2
    return z, {
        "sweeps": sweeps_total,
        "factorisations": factorisations,
        "violation": violation,
        "exact": exact,
    }


# --------------------------------------------------------------------------
# Outer loop
# --------------------------------------------------------------------------
def _hessian_weights(objective, params):
    """``s_t * mu''_t`` at ``params`` (free after a gradient at the same point).

    Uses the objective's cache of the last evaluated point, so no extra pass
    over ``X`` is needed.
    """
    _, _, _, d2mu = objective._evaluate(params)
    return objective.weights * d2mu


def _columns(objective, columns):
    """``X[:, columns]`` (CSC when sparse): a copy of the columns only."""
    return gather_columns(objective.X, columns)


def _restricted_hessian(objective, columns, d, X_ws=None):
    """Hessian of ``f`` on ``columns`` (and the intercept, last), shape (m, m).

    ``X_ws`` is ``X[:, columns]`` when already gathered.
    """
    if X_ws is None:
        X_ws = _columns(objective, columns)
    k = columns.size
    m = k + int(objective.fit_intercept)
    hess = np.empty((m, m))
    hess[:k, :k] = weighted_gram(X_ws, d)
    hess[np.arange(k), np.arange(k)] += objective.alpha
    if objective.fit_intercept:
        border = rmatvec(X_ws, d)
        hess[:k, -1] = border
        hess[-1, :k] = border
        hess[-1, -1] = d.sum()
    objective.n_grams += 1
    return hess


def _cached_columns(columns, cache):
    """Which of ``columns`` the cached Hessian holds; None when fewer than half (no extension)."""
    common = np.isin(columns, cache["columns"])
    return common if 2 * np.count_nonzero(common) >= columns.size else None


def _extend_hessian(objective, columns, cache, X_ws=None):
    """Hessian on ``columns`` from a cached one at a nearby point, or None.

    The cached Hessian (``cache["hess"]`` on ``cache["columns"]`` with the
    weights ``cache["d"]``) was computed at the previous point of a path,
    one small step from the warm start.  Its rows of the columns kept are
    reused, and only the rows of new columns are computed, with the same
    weights ``d`` so that the matrix is one consistent Hessian
    ``X_W' diag(d) X_W``.  Returns None when fewer than half of ``columns``
    are cached (a fresh Gram matrix is then as cheap).  ``X_ws`` is
    ``X[:, columns]`` when already gathered (needed only when there are new
    columns).
    """
    old_columns, old_hess, d = cache["columns"], cache["hess"], cache["d"]
    common = _cached_columns(columns, cache)
    if common is None:
        return None
    k = columns.size
    m = k + int(objective.fit_intercept)
    hess = np.empty((m, m))
    keep = np.flatnonzero(common)
    old_pos = np.searchsorted(old_columns, columns[keep])
    if objective.fit_intercept:
        keep = np.append(keep, k)
        old_pos = np.append(old_pos, old_columns.size)
    hess[np.ix_(keep, keep)] = old_hess[np.ix_(old_pos, old_pos)]
    new = np.flatnonzero(~common)
    if new.size:
        if X_ws is None:
            X_ws = _columns(objective, columns)
        X_new = X_ws[:, new]
        if sp.issparse(X_ws):
            cross = np.asarray((X_new.T @ X_ws.multiply(d[:, None])).toarray())
        else:
            weighted = np.multiply(X_ws, d[:, None], dtype=np.float64)
            # (lazy for a dask design until here: the product is small)
            cross = np.asarray(np.asarray(X_new, dtype=np.float64).T @ weighted)
        cross[np.arange(new.size), new] += objective.alpha
        hess[new, :k] = cross
        hess[:k, new] = cross.T
        if objective.fit_intercept:
            border = rmatvec(X_new, d)
            hess[new, -1] = border
            hess[-1, new] = border
    return hess


def _working_set(coef, violation, size):
    """Support of ``coef`` plus the largest violators, ``size`` features at most."""
    support = np.flatnonzero(coef)
    candidates = np.flatnonzero((coef == 0) & (violation > 0))
    room = max(size - support.size, 0)
    if candidates.size > room:
        top = np.argpartition(violation[candidates], -room)[-room:] if room else []
        candidates = candidates[top]
    return np.sort(np.concatenate([support, candidates]).astype(np.intp))


_CONTROLLER = None


def single_threaded_blas():
    """Context in which BLAS/LAPACK use one thread.

    Measured on the 2-core development machine under load: a multi-threaded
    OpenBLAS Cholesky of a 1300 x 1300 working-set Hessian took 0.7 s
    instead of 0.012 s single-threaded (spinning threads competing for busy
    cores), and the working-set Gram matrix 1.7x longer.  Parallelism is
    taken across folds instead (``LassoLNPCV(n_jobs=...)``).
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def prox_newton_lasso(objective, params, alpha, **kwargs) -> SolverResult:
    """Minimise ``objective + alpha * ||coef||_1``; see :func:`_prox_newton_lasso`.

    Runs with single-threaded BLAS (:func:`single_threaded_blas`).
    """
    with single_threaded_blas():
        return _prox_newton_lasso(objective, params, alpha, **kwargs)


def _prox_newton_lasso(objective, params, alpha: float, **kwargs) -> SolverResult:
    """Minimise ``objective + alpha * ||coef||_1`` by proximal Newton.

    Parameters
    ----------
    objective : PoissonObjective
        Smooth part (its own ``alpha`` is an L2 penalty, usually 0).
    params : ndarray of shape (n_params,)
        Starting point (coefficients, then the intercept); a warm start.
    alpha : float
        L1 penalty (non-negative).
    tol : float, default=1e-8
        Stop when the largest KKT violation (module docstring) is at most
        ``tol``.
    max_iter : int, default=100
        Maximum number of proximal Newton steps.
    verbose : int, default=0
        One line per step when positive.
    inner : {"cd", "fista"}, default="cd"
        Iterative method of the quadratic subproblem.
    ws_min_size : int, default=10
        Smallest working set.
    hessian_cache : dict or None
        Shared along a path: the last working-set Hessian is stored in it,
        and the first step of the next call (warm-started from the previous
        solution, one small step away from where that Hessian was computed)
        reuses its rows and computes only those of new working-set columns
        (:func:`_extend_hessian`).  Within a call the same is done at every
        other step while the working set grows, and for up to 3 steps while
        each step cuts the KKT violation 10-fold.  The stopping test always
        uses the exact gradient, so the solution and its exactness do not
        depend on the cache.

    Returns
    -------
    SolverResult
        ``optimality`` is the largest KKT violation at ``params``.
    """
    return run_steps(prox_newton_steps(objective, params, alpha, **kwargs), objective)


# Requests of :func:`prox_newton_steps` for a read of ``X``:
# ``(GRADIENT, params, eta)`` wants ``(value, grad)`` at ``params`` (``eta``
# its linear predictor, or None when unknown); ``(PREDICTOR, direction)``
# wants ``X @ dw + db`` (:meth:`PoissonObjective.direction_predictor`);
# ``(COLUMNS, ws)`` wants ``X[:, ws]`` (:func:`_columns`).
GRADIENT = "gradient"
PREDICTOR = "predictor"
COLUMNS = "columns"


def answer_request(objective, request):
    """Answer one request of :func:`prox_newton_steps` with ``objective``'s own passes."""
    if request[0] == PREDICTOR:
        return objective.direction_predictor(request[1])
    if request[0] == COLUMNS:
        return _columns(objective, request[1])
    _, params, eta = request
    if eta is None:
        return objective.loss_gradient(params)
    return objective.loss_gradient_at(params, eta)


def run_steps(steps, objective) -> SolverResult:
    """Drive the generator ``steps`` to its end, answering with :func:`answer_request`."""
    request = next(steps)
    while True:
        try:
            request = steps.send(answer_request(objective, request))
        except StopIteration as stop:
            return stop.value


def prox_newton_steps(
    objective,
    params,
    alpha: float,
    *,
    tol: float = 1e-8,
    max_iter: int = 100,
    verbose: int = 0,
    inner: str = "cd",
    ws_min_size: int = WS_MIN_SIZE,
    hessian_cache: dict | None = None,
    hold_columns: bool = True,
):
    """The proximal Newton iterations of :func:`_prox_newton_lasso`, as a generator.

    Every read of the full ``X`` the solver needs is a request yielded to
    the caller (module constants ``GRADIENT``, ``PREDICTOR`` and
    ``COLUMNS``), whose answer is sent back; everything else (working sets, Hessians on the
    working-set columns, the subproblem, the line search) is done here.  The
    single-neuron driver :func:`run_steps` answers with the objective's own
    products; :func:`~sklearn_lnp._solvers._population_lasso.population_prox_newton`
    answers many neurons' requests with one matrix-matrix product.  Before
    answering a ``GRADIENT`` request with a known ``eta``, a driver must leave
    ``objective``'s cache at that point (as
    :meth:`~sklearn_lnp._loss.PoissonObjective.loss_gradient_at` does): the
    Hessian weights and the line restriction are read from it.

    Parameters are those of :func:`_prox_newton_lasso`, and
    ``hold_columns``: whether the working-set columns are kept from one step
    to the next (where the working set does not change).  When False they
    are released before every gradient request and asked for again
    (``COLUMNS``) where they would have been reused: the same steps and
    passes, for a driver that gathers columns cheaply and runs many
    generators at once (``n_samples x |ws|`` floats each).  The generator's
    return value (``StopIteration.value``) is its :class:`SolverResult`.
    """
    params = np.array(params, dtype=np.float64)
    p = objective.n_features
    value, grad = yield GRADIENT, params, None
    coef = params[:p]
    total = value + alpha * float(np.abs(coef).sum())
    converged = False
    n_iter = 0
    violation_max = np.inf
    X_ws, ws_of_X_ws = None, None
    cache = {} if hessian_cache is None else hessian_cache
    cache.pop("fresh", None)
    previous_violation = np.inf
    for n_iter in range(1, max_iter + 1):
        coef = params[:p]
        violation = kkt_violation(coef, grad[:p], alpha)
        violation_max = float(np.max(violation, initial=0.0))
        if objective.fit_intercept:
            violation_max = max(violation_max, abs(float(grad[-1])))
        if violation_max <= tol:
            converged = True
            n_iter -= 1
            break
        n_support = int(np.count_nonzero(coef))
        ws = _working_set(coef, violation, max(ws_min_size, 2 * n_support))
        idx = np.append(ws, p) if objective.fit_intercept else ws
        hess = None
        # Reuse the last Hessian, extended by the rows of new columns, at the
        # first step of a path's alpha, while the working set grows (every
        # other step; measured: 30% less Gram work for the same number of
        # steps, on single fits and on the real neuron's CV), and while the
        # steps converge fast (chord steps, see _CHORD_RATIO).
        growing = cache.get("fresh") and not np.all(np.isin(ws, cache["columns"]))
        chord = (
            cache.get("age", np.inf) < _CHORD_MAX_AGE
            and violation_max <= previous_violation / _CHORD_RATIO
        )
        # ``held``: the columns of this working set were gathered (X_ws may
        # have been released since, with hold_columns=False: asked for again)
        held = ws_of_X_ws is not None and np.array_equal(ws_of_X_ws, ws)
        if (n_iter == 1 and cache) or growing or chord:
            common = _cached_columns(ws, cache)
            if common is not None and not np.all(common) and (not held or X_ws is None):
                # new columns: gathered once, for their rows of the Hessian
                # and for the direction's linear predictor below
                X_ws, ws_of_X_ws, held = (yield COLUMNS, ws), ws, True
            hess = _extend_hessian(objective, ws, cache, X_ws if held else None)
            cache["fresh"] = False
            cache["age"] = cache.get("age", 0) + 1
        if hess is None:
            if not held or X_ws is None:
                X_ws, ws_of_X_ws, held = (yield COLUMNS, ws), ws, True
            d = _hessian_weights(objective, params)
            hess = _restricted_hessian(objective, ws, d, X_ws)
            cache.update(columns=ws, hess=hess, d=d, fresh=True, age=0)
        previous_violation = violation_max
        w0 = params[idx]
        lin = grad[idx] - hess @ w0
        penalty = np.full(idx.size, alpha)
        if objective.fit_intercept:
            penalty[-1] = 0.0
        # Forcing sequence: loose far from the optimum, exact near it.
        inner_tol = max(0.1 * tol, min(0.1, violation_max) * violation_max)
        z, info = solve_quadratic_lasso(hess, lin, penalty, w0, tol=inner_tol, inner=inner)
        direction = z - w0
        decrease = float(grad[idx] @ direction) + alpha * float(
            np.sum(np.abs(z[: ws.size]) - np.abs(w0[: ws.size]))
        )
        full_direction = np.zeros_like(params)
        full_direction[idx] = direction
        # Change of the linear predictor per unit step: from the working-set
        # columns when gathered, else one pass over X.
        if held:
            if X_ws is None:
                X_ws = yield COLUMNS, ws
            predictor = np.asarray(X_ws @ direction[: ws.size], dtype=np.float64).ravel()
            if objective.fit_intercept:
                predictor = predictor + direction[-1]
        else:
            predictor = yield PREDICTOR, full_direction
        # F(params + t d) - F(params), accurate to the size of the decrease
        # itself (no round-off of F), without further passes over X.
        line = objective.line_restriction(params, full_direction, predictor)
        abs_start = np.abs(w0[: ws.size])
        step = 1.0
        accepted = False
        for _ in range(_MAX_HALVINGS):
            change, _ = line.value_slope(step)
            moved = w0[: ws.size] + step * direction[: ws.size]
            # Differences per coordinate, then their sum: accurate to the
            # size of the change, unlike a difference of two L1 norms.
            change += alpha * float(np.sum(np.abs(moved) - abs_start))
            if np.isfinite(change) and change <= _ARMIJO * step * decrease:
                accepted = True
                break
            step *= 0.5
        trial = params.copy()
        trial[idx] = w0 + step * direction
        if verbose:
            print(
                f"[prox-newton] iter {n_iter:3d}  objective {total:.15g}  "
                f"kkt {violation_max:.3e}  ws {ws.size:4d}  nnz {n_support:4d}  "
                f"inner {info['sweeps']:5d} sweeps {info['factorisations']:2d} chol  "
                f"step {step if accepted else 0.0:.3g}"
            )
        if not accepted:
            break
        params = trial
        if not hold_columns:
            X_ws = None
        value, grad = yield GRADIENT, params, line.eta_at(step)
        total = value + alpha * float(np.abs(params[:p]).sum())
    else:
        violation_max = max_kkt_violation(objective, params, alpha, grad)
        converged = violation_max <= tol
    return SolverResult(
        params=params,
        objective=total,
        optimality=violation_max,
        n_iter=n_iter,
        converged=converged,
        solver="prox-newton",
        n_passes=objective.n_passes,
        n_grams=objective.n_grams,
    )
