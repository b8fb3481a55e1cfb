"""Fits on a Dask cluster whose failures name the fit that failed.

joblib's ``"dask"`` backend runs scikit-learn's cross-validation
(``GridSearchCV``, ``cross_validate``, :class:`~sklearn_lnp.LassoLNPCV`) on
the workers of a ``dask.distributed`` client.  When a worker process dies
under it (out of memory, a crash in compiled code, a killed job on a batch
system), that backend:

* raises ``distributed.FutureCancelledError`` with an empty message when
  the dead worker held data joblib had scattered to it, so the fits it was
  running are known only from the scheduler's log;
* **hangs** when distributed gives up on the task itself
  (``KilledWorker``, e.g. with ``distributed.scheduler.allowed-failures``
  set to 0): the backend stores the error on a future nobody waits for and
  never tells ``joblib.Parallel``, which waits forever.

:func:`dask_backend` is joblib's Dask backend with one change: every task
that does not finish, for whatever reason, stops the whole ``Parallel`` call
with a :class:`ClusterFitError` whose message names the fits of that task
(estimator, parameters, cross-validation split, or the fold and neuron of a
:class:`~sklearn_lnp.LassoLNPCV` path) and why it was lost.  A
cross-validation therefore either returns every fit or raises; it never
returns fewer fits.

Importing this module registers nothing with joblib and does not import
dask.  :func:`dask_backend` sets the backend for a ``with`` block;
:func:`register_backend` registers it with joblib under the name
``"sklearn-lnp-dask"`` (:data:`BACKEND_NAME`) for code that selects joblib
backends by name.  The backend builds on private parts of joblib: with a
joblib release that lacks them, both raise an ``ImportError`` naming the
installed versions and those it is tested with.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from joblib import parallel_config, register_parallel_backend

from ._integrations import joblib_dask

__all__ = ["BACKEND_NAME", "ClusterFitError", "dask_backend", "describe_call", "register_backend"]

#: Name under which :func:`register_backend` registers the joblib backend of
#: :func:`dask_backend`, for ``parallel_config(backend=BACKEND_NAME)``.
BACKEND_NAME = "sklearn-lnp-dask"
_MAX_REPR = 160


class ClusterFitError(RuntimeError):
    """A fit dispatched to a Dask cluster did not return a result.

    Attributes
    ----------
    fits : list of str
        Descriptions of the fits of the lost task (see :func:`describe_call`).
    status : str
        The task's final status in distributed (``"error"`` or ``"cancelled"``).
    key : str
        The task's key in the scheduler (its log names the task by it).
    """

    def __init__(self, message: str, *, fits: list[str], status: str, key: str):
        super().__init__(message)
        self.fits = fits
        self.status = status
        self.key = key


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def _rows(indices: Any) -> str:
    """``"400 rows (0..399)"`` for an index array, ``"?"`` for anything else."""
    try:
        rows = np.asarray(indices)
    except Exception:  # pragma: no cover - exotic index objects
        return "?"
    if rows.ndim != 1 or rows.size == 0 or rows.dtype.kind not in "iu":
        return "?"
    return f"{rows.size} rows ({rows.min()}..{rows.max()})"


def _is_scalar_like(value: Any) -> bool:
    if isinstance(value, (str, bool, int, float, np.integer, np.floating)) or value is None:
        return True
    if isinstance(value, tuple) and len(value) <= 4:
        return all(_is_scalar_like(v) for v in value)
    if isinstance(value, dict) and len(value) <= 10:
        return all(_is_scalar_like(v) for v in value.values())
    return False


def describe_call(func: Any, args: tuple, kwargs: dict) -> str:
    """One line naming a fit dispatched by ``joblib.Parallel``.

    Parameters
    ----------
    func : callable
        The dispatched function: the fit-and-score function of scikit-learn's
        ``GridSearchCV`` and ``cross_validate``, a
        :class:`~sklearn_lnp.LassoLNPCV` fold path, or any other.
    args : tuple
        Its positional arguments.
    kwargs : dict
        Its keyword arguments.

    Returns
    -------
    str
        For a fit of a scikit-learn search or cross-validation: the
        estimator, the candidate's parameters and the split (index and
        rows); otherwise the function's name with its
        scalar-like keyword arguments (e.g. ``fold=1, n_folds=5, neuron=3``).

    Examples
    --------
    >>> def fold_path(X, y, *, fold, n_folds, neuron):
    ...     pass
    >>> describe_call(fold_path, ([[0.0]], [1.0]), {"fold": 1, "n_folds": 5, "neuron": 3})
    'fold_path(fold=1, n_folds=5, neuron=3)'
    """
    fit = joblib_dask.fit_and_score_arguments(func, args, kwargs)
    if fit is not None:
        parts = [f"fit of {_short(fit['estimator'])}"]
        if fit["parameters"]:
            parts.append(f"parameters {_short(fit['parameters'])}")
        if fit["candidate_progress"]:
            candidate, n_candidates = fit["candidate_progress"]
            parts.append(f"candidate {candidate + 1}/{n_candidates}")
        if fit["split_progress"]:
            split, n_splits = fit["split_progress"]
            parts.append(f"split {split + 1}/{n_splits}")
        parts.append(f"train {_rows(fit['train'])}, test {_rows(fit['test'])}")
        return ", ".join(parts)
    func = joblib_dask.unwrap(func)
    name = getattr(func, "__name__", type(func).__name__)
    shown = ", ".join(f"{k}={_short(v)}" for k, v in kwargs.items() if _is_scalar_like(v))
    return f"{name}({shown})"


def _lost_task_error(fits: list[str], status: str, cause, key: str) -> ClusterFitError:
    """The error naming the fits of a task that ended with ``status``."""
    if type(cause).__name__ == "KilledWorker":
        # KilledWorker(key, last_worker, allowed_failures): the scheduler's setting
        allowed = cause.args[2] if len(cause.args) > 2 else None
        deaths = f"{int(allowed) + 1} time(s)" if isinstance(allowed, int) else "repeatedly"
        why = (
            f"the workers it was assigned to died {deaths} (distributed.scheduler.allowed-failures"
            f" = {allowed}): a fit crashed them (memory limit, a crash in compiled code, "
            "os._exit), either one of these fits or another task running or queued on the same "
            "worker, which the scheduler cannot tell apart"
        )
    elif status == "cancelled":
        why = (
            "it was cancelled: a worker died while holding its input (data joblib scatters to "
            "one worker are lost with it), or the client cancelled it. Pass scatter=[X, y] to "
            "dask_backend to broadcast the inputs to every worker: distributed then reruns a "
            "task whose worker died"
        )
    else:
        why = f"the task failed outside the fit ({cause!r})"
    if len(fits) == 1:
        named = fits[0]
    else:
        named = f"a batch of {len(fits)} fits: " + "; ".join(fits)
    message = (
        f"No result from the Dask cluster for {named}. Task {key!r} ended with status "
        f"{status!r}: {why}. The Parallel call was stopped rather than returning fewer fits. "
        f"Cause reported by distributed: {cause!r}."
    )
    error = ClusterFitError(message, fits=fits, status=status, key=key)
    if isinstance(cause, BaseException):
        error.__cause__ = cause
    return error


def _backend_class() -> type:
    return joblib_dask.backend_class(describe_call, _lost_task_error)


def _new_backend(**kwargs):
    return _backend_class()(**kwargs)


def register_backend() -> str:
    """Register the backend of :func:`dask_backend` with joblib as ``"sklearn-lnp-dask"``.

    Nothing registers it on import.  After this call,
    ``joblib.parallel_config(backend="sklearn-lnp-dask")`` (or
    ``joblib.parallel_backend``) runs ``joblib.Parallel`` calls on the
    current Dask client (``distributed.get_client()``) with the failure
    reporting of :func:`dask_backend`, whose options (``scatter``, ...) it
    takes as keyword arguments.  Registering again changes nothing.

    Returns
    -------
    str
        The name registered, :data:`BACKEND_NAME`.

    Raises
    ------
    ImportError
        As :func:`dask_backend`: distributed is missing, or joblib lacks
        what the backend builds on.

    Examples
    --------
    >>> import joblib
    >>> from sklearn_lnp.parallel import register_backend
    >>> name = register_backend()  # doctest: +SKIP
    >>> with joblib.parallel_config(backend=name, scatter=[X, y]):  # doctest: +SKIP
    ...     search = GridSearchCV(PoissonLNPRegressor(), {"alpha": [1e-3, 1e-2]}).fit(X, y)
    """
    _backend_class()
    register_parallel_backend(BACKEND_NAME, _new_backend)
    return BACKEND_NAME


@contextlib.contextmanager
def dask_backend(client=None, **backend_kwargs) -> Iterator[Any]:
    """Run ``joblib.Parallel`` calls on a Dask cluster; a lost fit raises by name.

    Inside the ``with`` block, ``GridSearchCV``, ``cross_validate``,
    :class:`~sklearn_lnp.LassoLNPCV` and anything else that uses joblib run
    their fits on the workers of ``client``, as under
    ``joblib.parallel_backend("dask")``; a task that does not return (its
    worker died, its scattered input was lost, it was cancelled) raises
    :class:`ClusterFitError` naming its fits instead of an empty
    ``FutureCancelledError`` or a hang.

    Parameters
    ----------
    client : distributed.Client, optional
        Default: the current client (``distributed.get_client()``).
    **backend_kwargs
        Passed to joblib's Dask backend (``scatter``,
        ``wait_for_workers_timeout``, and ``client.submit`` options such as
        ``retries``).

    Yields
    ------
    backend
        The joblib backend instance.

    Raises
    ------
    ImportError
        When distributed is not installed, or when the installed joblib
        lacks a private part of its Dask backend that this backend builds on
        (the message names the installed versions and those it is tested
        with).

    Examples
    --------
    >>> from distributed import Client, LocalCluster  # doctest: +SKIP
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_lnp import PoissonLNPRegressor
    >>> from sklearn_lnp.parallel import dask_backend
    >>> client = Client(LocalCluster(n_workers=2))  # doctest: +SKIP
    >>> with dask_backend(client):  # doctest: +SKIP
    ...     search = GridSearchCV(PoissonLNPRegressor(), {"alpha": [1e-3, 1e-2]}).fit(X, y)
    """
    backend = _new_backend(client=client, **backend_kwargs)
    with parallel_config(backend=backend):
        yield backend
