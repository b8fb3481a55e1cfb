r"""The quadratic lasso subproblem of a proximal Newton step.

Minimise ``q(z) = 0.5 z'Hz + lin'z + sum_j penalty_j |z_j|`` over the
working-set coordinates, ``H`` the working-set Hessian (symmetric positive
semi-definite, a few tens to a few thousand rows).  :func:`solve_quadratic_lasso`
alternates Newton (Cholesky) steps on a face -- a support with its signs,
where ``q`` is a smooth quadratic -- with sweeps of an iterative method that
finds the support:

* ``inner="cd"``: cyclic coordinate descent on ``H``, compiled with numba
  (one coordinate update reads one row of ``H``);
* ``inner="fista"``: accelerated proximal gradient in numpy (vectorised, no
  compilation).  Kept as the reference the CD kernel is checked against
  (``tests/test_quadratic_lasso.py``) and timed against
  (``benchmarks/bench_lasso.py``, ``solver_options={"inner": "fista"}``).

The face steps make the solution exact once the support and signs are
right: the subproblem is solved to any ``tol`` in a few factorisations.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.linalg import LinAlgError

from .._penalties import l1_violation, soft_threshold
from ._blas import cholesky_factor, cholesky_solve

__all__ = ["INNER_SOLVERS", "solve_quadratic_lasso"]

INNER_SOLVERS = ("cd", "fista")

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


def _quadratic_violation(z, grad, penalty) -> float:
    """Largest violation of the subproblem's optimality conditions at ``z``."""
    return float(np.max(l1_violation(z, grad, penalty), initial=0.0))


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
        z[:] = soft_threshold(u, step * penalty)
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
    index = np.flatnonzero(active)
    rhs = -(lin[index] + penalty[index] * signs)
    # The face's block is C-ordered; its transpose is the same symmetric
    # matrix in Fortran order, which LAPACK factorises in place (its lower
    # triangle is the block's upper one) without a copy.
    if index.size == hess.shape[0]:  # the whole working set: one contiguous copy
        block = hess.copy()
    else:
        block = hess.take(index, axis=0).take(index, axis=1)
    try:
        c = cholesky_solve(cholesky_factor(block.T, lower=True), rhs, lower=True)
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


def solve_quadratic_lasso(
    hess, lin, penalty, z0, *, tol, inner="cd", max_sweeps=20000, max_factorisations=None
):
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
    max_factorisations : int or None
        Budget of face steps (Cholesky factorisations); None: no limit
        beyond the one the doubling sweeps imply.  With both budgets spent
        the point reached is returned (it decreases ``q`` from ``z0``: still
        a descent direction for the outer step).

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
    # it cannot be exact, and sweeps come first (fewer factorisations for the
    # same sweeps).
    face_first = not np.any((z == 0) & (np.abs(grad) > penalty))
    # Predicted faces (semismooth Newton) until one fails to decrease q; then
    # only the monotone face step: a predicted face can add and drop many
    # coordinates at once, saving sweeps.
    predict = True
    faces_left = np.inf if max_factorisations is None else max_factorisations
    while violation > tol:
        z_face, full = None, False
        face_first = face_first and factorisations < faces_left
        if predict and face_first:
            z_face, full = _predicted_face_step(hess, lin, penalty, z, grad)
            factorisations += 1
            if z_face is not None and not (
                _quadratic_value(hess, lin, penalty, z_face)
                < _quadratic_value(hess, lin, penalty, z)
            ):
                z_face = None
                predict = False
        if z_face is None and face_first and factorisations < faces_left:
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
