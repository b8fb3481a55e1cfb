"""BLAS and LAPACK for the solvers: Cholesky factorisations, and thread control for small ones."""

from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, get_lapack_funcs

__all__ = ["cholesky_factor", "cholesky_solve", "single_threaded_blas"]

_POTRF, _POTRS = get_lapack_funcs(("potrf", "potrs"), dtype=np.float64)

_CONTROLLER = None


def single_threaded_blas():
    """Context in which BLAS/LAPACK use one thread.

    The proximal Newton solver factorises and multiplies working-set
    matrices of a few tens to a few thousand rows, many times: there,
    multi-threaded BLAS mostly spins threads that compete for busy cores, and
    a small factorisation can take many times longer than on one thread.
    Parallelism is taken across folds instead (``LassoLNPCV(n_jobs=...)``).

    Returns
    -------
    context manager
        A :class:`threadpoolctl.ThreadpoolController` limit on the loaded
        BLAS libraries, restored on exit.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def cholesky_factor(matrix: np.ndarray, *, lower: bool) -> np.ndarray:
    """Cholesky factor of ``A`` positive definite, given by one triangle of ``matrix``.

    LAPACK's ``potrf`` (scipy's) on the Fortran-ordered ``matrix``, which the
    factor overwrites (a C-ordered one is copied); the other triangle is not
    read.

    Parameters
    ----------
    matrix : ndarray of shape (m, m), Fortran-ordered float64
    lower : bool
        Whether ``A`` is given by the lower (else the upper) triangle.

    Returns
    -------
    ndarray of shape (m, m)
        The factor, in that triangle (for :func:`cholesky_solve`).

    Raises
    ------
    LinAlgError
        When ``A`` is not numerically positive definite.
    """
    factor, info = _POTRF(matrix, lower=lower, overwrite_a=True, clean=False)
    if info != 0:
        raise LinAlgError(f"the matrix is not positive definite (potrf info {info}).")
    return factor


def cholesky_solve(factor: np.ndarray, rhs: np.ndarray, *, lower: bool) -> np.ndarray:
    """Solve ``A x = rhs`` from the factor of :func:`cholesky_factor` (``potrs``).

    ``rhs`` of shape (m,) or (m, r); ``lower`` as given to :func:`cholesky_factor`.
    """
    solution, info = _POTRS(factor, rhs, lower=lower)
    if info != 0:  # pragma: no cover - only for invalid arguments
        raise LinAlgError(f"potrs failed (info {info}).")
    return solution
