"""BLAS thread control of the solvers that factorise small matrices in a loop."""

from __future__ import annotations

__all__ = ["single_threaded_blas"]

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
