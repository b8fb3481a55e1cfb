"""joblib's private Dask backend and scikit-learn's private cross-validation helpers.

:mod:`sklearn_lnp.parallel` relies on four things that neither joblib nor
scikit-learn documents.  This module is the only place that touches them:

1. ``joblib._dask.DaskDistributedBackend``, subclassed by
   :func:`backend_class`.  The subclass overrides ``__init__``, ``submit``,
   ``_collect`` (the coroutine that waits for the Dask futures),
   ``start_call``, ``stop_call``, ``retrieve_result_callback``,
   ``abort_everything``, ``get_nested_backend`` and ``__reduce__``, and
   reads or sets the attributes ``client``, ``_scatter``, ``data_futures``,
   ``call_data_futures``, ``waiting_futures`` (a ``distributed.as_completed``
   that yields results and does not raise errors), ``_results``,
   ``_callbacks`` and ``_continue``.
2. The ``items`` of the batch that joblib hands to ``submit`` (joblib's
   ``BatchedCalls``): the ``(func, args, kwargs)`` of each call.
3. ``sklearn.utils.parallel._FuncWrapper``, which wraps every function
   dispatched through ``sklearn.utils.parallel.delayed`` and keeps it as
   its ``function`` attribute.
4. ``sklearn.model_selection._validation._fit_and_score``, recognised by
   name, and its keyword arguments ``parameters``, ``train``, ``test``,
   ``split_progress`` and ``candidate_progress``.

Tested with joblib 1.6.0, distributed 2026.8.0 (dask 2026.8.0) and
scikit-learn 1.9.1 (:data:`TESTED_VERSIONS`).  When joblib's backend lacks a
method of item 1, :func:`backend_class` raises :class:`PrivateAPIError`;
when it lacks an attribute, the backend raises it on creation or at the
start of a call.  Its message names the installed and the tested versions.
Items 2 to 4 only word the error message of a lost fit: without them a call
is described by its function's name and scalar keyword arguments.

Importing this module imports neither dask nor distributed.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.metadata
import inspect
from collections.abc import Callable
from typing import Any

TESTED_VERSIONS = {"joblib": "1.6.0", "distributed": "2026.8.0", "scikit-learn": "1.9.1"}

_OVERRIDDEN_METHODS = (
    "submit",
    "_collect",
    "start_call",
    "stop_call",
    "retrieve_result_callback",
    "abort_everything",
    "get_nested_backend",
)
_ATTRIBUTES_AFTER_INIT = (
    "client",
    "_scatter",
    "data_futures",
    "waiting_futures",
    "_results",
    "_callbacks",
)
_ATTRIBUTES_AFTER_START_CALL = ("_continue", "call_data_futures")


class PrivateAPIError(ImportError):
    """The installed joblib lacks a private part of its Dask backend that sklearn-lnp needs."""


def _installed(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def private_api_error(missing: str) -> PrivateAPIError:
    """The error for a missing private ``missing``, naming the installed and tested versions."""
    installed = ", ".join(f"{name} {_installed(name)}" for name in TESTED_VERSIONS)
    tested = ", ".join(f"{name} {version}" for name, version in TESTED_VERSIONS.items())
    return PrivateAPIError(
        "sklearn_lnp.parallel builds on joblib's private Dask backend and needs "
        f"{missing}, which the installed versions ({installed}) do not provide. It is "
        f"tested with {tested}: install those versions, or use joblib's own backend "
        "(joblib.parallel_config(backend='dask')), which does not name the fits of a lost task."
    )


def _require(obj: Any, names: tuple[str, ...], what: str) -> None:
    missing = [name for name in names if not hasattr(obj, name)]
    if missing:
        raise private_api_error(f"{what} {', '.join(missing)}")


def unwrap(func: Any) -> Any:
    """The function inside ``functools.partial`` and scikit-learn's ``_FuncWrapper`` (item 3)."""
    for _ in range(10):
        if isinstance(func, functools.partial):
            func = func.func
        elif callable(getattr(func, "function", None)):
            func = func.function
        else:
            return func
    return func  # pragma: no cover


def fit_and_score_arguments(func: Any, args: tuple, kwargs: dict) -> dict | None:
    """What names a fit of scikit-learn's ``_fit_and_score`` (item 4); ``None`` for other calls.

    Returns
    -------
    dict or None
        ``estimator``, ``parameters``, ``candidate_progress``,
        ``split_progress``, ``train`` and ``test`` (``None`` where absent),
        when ``func`` is ``_fit_and_score`` called with ``train`` and
        ``test`` keywords.
    """
    if getattr(unwrap(func), "__name__", None) != "_fit_and_score":
        return None
    if "train" not in kwargs or "test" not in kwargs:
        return None
    arguments = {"estimator": args[0] if args else kwargs.get("estimator")}
    for name in ("parameters", "candidate_progress", "split_progress", "train", "test"):
        arguments[name] = kwargs.get(name)
    return arguments


def _batch_calls(batch: Any) -> list:
    """The ``(func, args, kwargs)`` of the calls of a joblib batch (item 2)."""
    items = getattr(batch, "items", None)
    return list(items) if isinstance(items, list | tuple) else []


def _describe(describe_call: Callable, calls: list) -> list[str]:
    descriptions = []
    for call in calls:
        try:
            descriptions.append(describe_call(*call))
        except Exception as exc:  # pragma: no cover - never hide the real failure
            descriptions.append(f"<undescribable call: {exc!r}>")
    return descriptions


def _reported_cause(status: str, result: Any) -> BaseException | None:
    """The exception distributed reported for a task that did not finish."""
    if status == "error" and isinstance(result, tuple) and len(result) == 3:
        return result[1]  # (type, exception, traceback)
    return result if isinstance(result, BaseException) else None


class _DescribedCallback:
    """joblib's completion callback, carrying the descriptions of its task's calls."""

    def __init__(self, callback: Callable, fits: list[str]):
        self.callback = callback
        self.fits = fits

    def __call__(self, result):
        return self.callback(result)


class _LostTask:
    """Stands for the result of a task that did not finish; its error is raised on retrieval."""

    def __init__(self, error: BaseException):
        self.error = error


@functools.cache
def backend_class(describe_call: Callable, lost_task_error: Callable) -> type:
    """joblib's Dask backend, with every task that does not finish raising an error.

    Parameters
    ----------
    describe_call : callable
        ``describe_call(func, args, kwargs) -> str``: one line naming a call.
    lost_task_error : callable
        ``lost_task_error(fits, status, cause, key) -> BaseException``: the
        error that stops ``joblib.Parallel`` when a task does not finish,
        from the descriptions of its calls, its final status in distributed
        (``"error"`` or ``"cancelled"``), the exception distributed reported
        (or ``None``) and the task's key.

    Returns
    -------
    type
        A subclass of ``joblib._dask.DaskDistributedBackend`` taking its
        arguments (``client``, ``scatter``, ``wait_for_workers_timeout`` and
        ``client.submit`` options).  A lost task stops the call with
        ``lost_task_error``'s error and its pending tasks are cancelled;
        ``scatter`` inputs are broadcast without content-hashed keys and
        every other argument travels with its task.

    Raises
    ------
    ImportError
        When distributed is not installed.
    PrivateAPIError
        When joblib's Dask backend lacks a method this class overrides.
    """
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "sklearn_lnp.parallel needs dask.distributed, which is not installed. "
            'Install the extra: pip install ".[dask]" (from the sklearn-lnp repository)'
        ) from exc
    try:
        from joblib._dask import DaskDistributedBackend
    except ImportError as exc:
        raise private_api_error("the module joblib._dask") from exc
    _require(DaskDistributedBackend, _OVERRIDDEN_METHODS, "the DaskDistributedBackend methods")
    if not inspect.iscoroutinefunction(DaskDistributedBackend._collect):
        raise private_api_error("DaskDistributedBackend._collect as a coroutine")

    class NamingDaskBackend(DaskDistributedBackend):
        """joblib's ``DaskDistributedBackend`` whose lost tasks raise by name."""

        def __init__(self, scatter=None, **kwargs):
            super().__init__(**kwargs)
            _require(self, _ATTRIBUTES_AFTER_INIT, "the DaskDistributedBackend attributes")
            if scatter is not None and not isinstance(scatter, (list, tuple)):
                raise TypeError(f"scatter must be a list or tuple; got {type(scatter).__name__}.")
            if scatter:
                # As joblib's backend, but without content-hashed keys: distributed
                # cancels arrays scattered again under the key of copies it is
                # still releasing (dask/distributed#3703).
                self._scatter = list(scatter)
                futures = self.client.scatter(self._scatter, broadcast=True, hash=False)
                self.data_futures = {id(x): f for x, f in zip(self._scatter, futures, strict=True)}

        def submit(self, func, callback=None):
            fits = _describe(describe_call, _batch_calls(func))
            return super().submit(func, _DescribedCallback(callback, fits))

        async def _collect(self):
            # joblib's loop, except that a task that did not finish is
            # reported through the callback: joblib only stores its error on
            # a future nobody waits for, and Parallel waits forever.
            while self._continue:
                async for future, result in self.waiting_futures:
                    cf_future = self._results.pop(future)
                    callback = self._callbacks.pop(future)
                    if future.status == "finished":
                        cf_future.set_result(result)
                        callback(result)
                        continue
                    error = lost_task_error(
                        getattr(callback, "fits", ["?"]),
                        future.status,
                        _reported_cause(future.status, result),
                        str(future.key),
                    )
                    cf_future.set_exception(error)
                    callback(_LostTask(error))
                await asyncio.sleep(0.01)

        def start_call(self):
            super().start_call()
            _require(self, _ATTRIBUTES_AFTER_START_CALL, "the DaskDistributedBackend attributes")
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
            return (_new_backend, (describe_call, lost_task_error))

    return NamingDaskBackend


def _new_backend(describe_call: Callable, lost_task_error: Callable, **kwargs):
    """A backend on the current client; how a pickled backend is rebuilt on a worker."""
    return backend_class(describe_call, lost_task_error)(**kwargs)
