"""Fits on a Dask cluster whose failures name the fit that failed.

joblib's ``"dask"`` backend runs scikit-learn's cross-validation
(``GridSearchCV``, ``cross_validate``, :class:`~sklearn_lnp.LassoLNPCV`) on
the workers of a ``dask.distributed`` client.  When a worker process dies
under it (out of memory, a crash in compiled code, a killed job on a batch
system), that backend, as of joblib 1.6 and distributed 2026.8, measured:

* raises ``distributed.FutureCancelledError`` with an empty message when
  the dead worker held data joblib had scattered to it, so the fits it was
  running are known only from the scheduler's log;
* **hangs** when distributed gives up on the task itself
  (``KilledWorker``, e.g. with ``distributed.scheduler.allowed-failures``
  set to 0): the backend stores the error on a future nobody waits for and
  never tells ``joblib.Parallel``, which waits forever.

:func:`dask_backend` (also registered as the joblib backend
``"sklearn-lnp-dask"``) is joblib's Dask backend with one change: every
task that does not finish, for whatever reason, stops the whole
``Parallel`` call with a :class:`ClusterFitError` whose message names the
fits of that task (estimator, parameters, cross-validation split, or the
fold and neuron of a :class:`~sklearn_lnp.LassoLNPCV` path) and why it was
lost.  A cross-validation therefore either returns every fit or raises; it
never returns fewer fits.

Importing this module does not import dask; :func:`dask_backend` does.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

import numpy as np
from joblib import parallel_config, register_parallel_backend

__all__ = ["BACKEND_NAME", "ClusterFitError", "dask_backend", "describe_call"]

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


def _unwrap(func: Any) -> Any:
    """The user's function inside scikit-learn's and functools' wrappers."""
    for _ in range(10):
        if isinstance(func, functools.partial):
            func = func.func
        elif hasattr(func, "function") and callable(func.function):
            func = func.function  # sklearn.utils.parallel._FuncWrapper
        else:
            return func
    return func  # pragma: no cover


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
        The dispatched function (scikit-learn's ``_fit_and_score``, a
        :class:`~sklearn_lnp.LassoLNPCV` fold path, or any other).
    args : tuple
        Its positional arguments.
    kwargs : dict
        Its keyword arguments.

    Returns
    -------
    str
        For ``_fit_and_score``: the estimator, the candidate's parameters and
        the split (index and rows); otherwise the function's name with its
        scalar-like keyword arguments (e.g. ``fold=1, n_folds=5, neuron=3``).

    Examples
    --------
    >>> def fold_path(X, y, *, fold, n_folds, neuron):
    ...     pass
    >>> describe_call(fold_path, ([[0.0]], [1.0]), {"fold": 1, "n_folds": 5, "neuron": 3})
    'fold_path(fold=1, n_folds=5, neuron=3)'
    """
    func = _unwrap(func)
    name = getattr(func, "__name__", type(func).__name__)
    if name == "_fit_and_score":
        estimator = args[0] if args else kwargs.get("estimator")
        parts = [f"fit of {_short(estimator)}"]
        parameters = kwargs.get("parameters")
        if parameters:
            parts.append(f"parameters {_short(parameters)}")
        candidate = kwargs.get("candidate_progress")
        if candidate:
            parts.append(f"candidate {candidate[0] + 1}/{candidate[1]}")
        split = kwargs.get("split_progress")
        if split:
            parts.append(f"split {split[0] + 1}/{split[1]}")
        parts.append(f"train {_rows(kwargs.get('train'))}, test {_rows(kwargs.get('test'))}")
        return ", ".join(parts)
    shown = ", ".join(f"{k}={_short(v)}" for k, v in kwargs.items() if _is_scalar_like(v))
    return f"{name}({shown})"


def _describe_batch(items) -> list[str]:
    descriptions = []
    for item in items:
        try:
            descriptions.append(describe_call(*item))
        except Exception as exc:  # pragma: no cover - never hide the real failure
            descriptions.append(f"<undescribable call: {exc!r}>")
    return descriptions


class _DescribedCallback:
    """joblib's completion callback, carrying the descriptions of its task's fits."""

    def __init__(self, callback, fits: list[str]):
        self.callback = callback
        self.fits = fits

    def __call__(self, result):
        return self.callback(result)


class _LostTask:
    """Stands for the result of a task that did not finish; re-raised on retrieval."""

    def __init__(self, error: ClusterFitError):
        self.error = error


def _failure(future, result, fits: list[str]) -> ClusterFitError:
    """The error naming the fits of a task that ended with ``future.status``."""
    status = future.status
    if status == "error":
        cause = result[1] if isinstance(result, tuple) and len(result) == 3 else result
    else:
        cause = result if isinstance(result, BaseException) else None
    if type(cause).__name__ == "KilledWorker":
        # KilledWorker(key, last_worker, allowed_failures): the scheduler's setting
        allowed = cause.args[2] if len(cause.args) > 2 else None
        deaths = f"{int(allowed) + 1} time(s)" if isinstance(allowed, int) else "repeatedly"
        why = (
            f"the workers running it died {deaths} (distributed.scheduler.allowed-failures = "
            f"{allowed}): the fit itself most likely crashed its worker (memory limit, a crash "
            "in compiled code, os._exit)"
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
        f"No result from the Dask cluster for {named}. Task {future.key!r} ended with status "
        f"{status!r}: {why}. The Parallel call was stopped rather than returning fewer fits. "
        f"Cause reported by distributed: {cause!r}."
    )
    error = ClusterFitError(message, fits=fits, status=status, key=str(future.key))
    if isinstance(cause, BaseException):
        error.__cause__ = cause
    return error


@functools.cache
def _backend_class():
    """joblib's Dask backend, failing loudly and by name (built on first use)."""
    import asyncio

    from joblib._dask import DaskDistributedBackend

    class NamingDaskBackend(DaskDistributedBackend):
        """joblib's ``DaskDistributedBackend`` that raises :class:`ClusterFitError`."""

        def __init__(self, scatter=None, **kwargs):
            super().__init__(**kwargs)
            if scatter is not None and not isinstance(scatter, (list, tuple)):
                raise TypeError(f"scatter must be a list or tuple; got {type(scatter).__name__}.")
            if scatter:
                # As joblib's backend, but without content-hashed keys: the
                # same arrays scattered again while an earlier backend's
                # copies are being released were cancelled (measured;
                # dask/distributed#3703).
                self._scatter = list(scatter)
                futures = self.client.scatter(self._scatter, broadcast=True, hash=False)
                self.data_futures = {id(x): f for x, f in zip(self._scatter, futures, strict=True)}

        def submit(self, func, callback=None):
            fits = _describe_batch(getattr(func, "items", []))
            return super().submit(func, _DescribedCallback(callback, fits))

        async def _collect(self):
            # joblib's loop, except that a task that did not finish is
            # reported through the callback (joblib only stores its error on
            # a future nobody waits for, and Parallel hangs).
            while self._continue:
                async for future, result in self.waiting_futures:
                    cf_future = self._results.pop(future)
                    callback = self._callbacks.pop(future)
                    if future.status == "finished":
                        cf_future.set_result(result)
                        callback(result)
                        continue
                    error = _failure(future, result, getattr(callback, "fits", ["?"]))
                    cf_future.set_exception(error)
                    callback(_LostTask(error))
                await asyncio.sleep(0.01)

        def start_call(self):
            super().start_call()
            if self._scatter:
                # The user broadcast the large inputs (``scatter=[X, y]``):
                # send every other argument with its task instead of
                # scattering it to one worker, so that no input of a task
                # lives on a single worker and distributed can rerun a task
                # whose worker died.
                self.call_data_futures = None

        def stop_call(self):
            if self.call_data_futures is None:
                self.call_data_futures = {}
            super().stop_call()

        def retrieve_result_callback(self, out):
            if isinstance(out, _LostTask):
                raise out.error
            return super().retrieve_result_callback(out)

        def abort_everything(self, ensure_ready=True):
            # joblib forgets the pending tasks but keeps them referenced, so
            # the cluster would go on running (and crashing on) fits whose
            # results nobody will read: cancel them.
            pending = list(self._results)
            super().abort_everything(ensure_ready=ensure_ready)
            self._results.clear()
            self._callbacks.clear()
            if pending:
                self.client.cancel(pending)

        def get_nested_backend(self):
            return NamingDaskBackend(client=self.client), -1

        def __reduce__(self):
            return (_new_backend, ())

    return NamingDaskBackend


def _new_backend(**kwargs):
    return _backend_class()(**kwargs)


register_parallel_backend(BACKEND_NAME, _new_backend)


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
