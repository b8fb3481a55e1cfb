"""Cross-validation on a Dask cluster: a lost fit raises by name, never a shorter result.

Facts asserted: :func:`describe_call` names the estimator, parameters and
split of scikit-learn's ``_fit_and_score`` calls and the scalar keyword
arguments of other calls; under :func:`dask_backend` on a 2-process
``LocalCluster`` a search gives the single-machine results; a fit that kills
its worker every time makes ``GridSearchCV.fit`` raise ``ClusterFitError``
naming that fit's parameters (even with ``error_score=np.nan``, which would
otherwise turn a failed fit into a NaN score) instead of hanging; a fit that
kills its worker once either is rerun (inputs broadcast with ``scatter``:
the full, correct result) or raises by name; importing ``sklearn_lnp`` and
``sklearn_lnp.parallel`` registers no joblib backend and imports no dask,
and :func:`register_backend` registers ``"sklearn-lnp-dask"`` when called; a
joblib whose Dask backend lacks the module, a method or an attribute the
backend builds on raises an ``ImportError`` naming it and the installed and
tested versions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import types

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_lnp import PoissonLNPRegressor
from sklearn_lnp.parallel import BACKEND_NAME, ClusterFitError, describe_call

# -- descriptions (no dask needed) ---------------------------------------------


def test_describe_fit_and_score_names_estimator_parameters_and_split():
    from sklearn.model_selection._validation import _fit_and_score
    from sklearn.utils.parallel import delayed

    func, args, kwargs = delayed(_fit_and_score)(
        PoissonLNPRegressor(alpha=0.5),
        np.zeros((10, 2)),
        np.zeros(10),
        train=np.arange(3, 10),
        test=np.arange(3),
        parameters={"alpha": 0.5},
        split_progress=(1, 3),
        candidate_progress=(2, 4),
    )
    text = describe_call(func, args, kwargs)
    assert "PoissonLNPRegressor(alpha=0.5)" in text
    assert "parameters {'alpha': 0.5}" in text
    assert "candidate 3/4" in text and "split 2/3" in text
    assert "train 7 rows (3..9)" in text and "test 3 rows (0..2)" in text


def test_describe_other_calls_lists_scalar_keywords_only():
    def path(X, y, *, fold, n_folds, neuron, alphas):
        pass

    text = describe_call(
        path, (np.zeros((5, 2)),), {"fold": 0, "n_folds": 5, "neuron": 7, "alphas": np.ones(20)}
    )
    assert text == "path(fold=0, n_folds=5, neuron=7)"


def test_describe_a_fit_and_score_without_its_split_keywords_by_name_and_scalars():
    def _fit_and_score(estimator, X, y, *, verbose):
        pass

    text = describe_call(_fit_and_score, (PoissonLNPRegressor(),), {"verbose": 0})
    assert text == "_fit_and_score(verbose=0)"


def _in_a_fresh_interpreter(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.slow  # a fresh interpreter in a subprocess
def test_import_registers_no_backend_and_imports_no_dask():
    code = (
        "import sys; from joblib.parallel import BACKENDS; before = set(BACKENDS); "
        "import sklearn_lnp, sklearn_lnp.parallel; "
        "print(sorted(set(BACKENDS) - before) == [], 'sklearn-lnp-dask' in BACKENDS, "
        "'dask' in sys.modules, 'distributed' in sys.modules)"
    )
    assert _in_a_fresh_interpreter(code) == ["True", "False", "False", "False"]


# -- on a cluster ----------------------------------------------------------------

distributed = pytest.importorskip(
    "distributed", reason='distributed is not installed (pip install ".[dask]")'
)
cloudpickle = pytest.importorskip("cloudpickle", reason="cloudpickle comes with distributed")
# The workers are separate processes that may not import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

from sklearn_lnp._integrations import joblib_dask  # noqa: E402
from sklearn_lnp.parallel import dask_backend, register_backend  # noqa: E402

TIMEOUT = 90  # seconds; a hang (joblib's plain Dask backend on a KilledWorker) fails the test


def _on_a_worker() -> bool:
    """Never kill the test process (joblib runs fits in it when it sees one core)."""
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


class KillsItsWorker(RegressorMixin, BaseEstimator):
    """Predicts the mean; its fit kills the worker process at ``alpha == fatal_alpha``.

    With ``marker`` set, only the first such fit dies (it leaves the file behind).
    """

    def __init__(self, alpha=0.0, fatal_alpha=2.0, marker=None):
        self.alpha = alpha
        self.fatal_alpha = fatal_alpha
        self.marker = marker

    def fit(self, X, y):
        if self.alpha == self.fatal_alpha and _on_a_worker():
            if self.marker is None:
                os._exit(1)
            # created atomically: of two fatal fits running at once on the two
            # workers only one dies (exists-then-create let both die, and with them
            # every copy of the broadcast inputs)
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os._exit(1)
        self.mean_ = float(np.mean(y)) + self.alpha
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def _cluster():
    import dask

    # One retry: a fit that always kills its worker fails after 2 deaths.  One task per
    # worker thread at a time (worker-saturation 1.0; the default 1.1 queues a second
    # task on each 1-thread worker): a task queued behind the fatal fit on the worker it
    # kills would count that death as its own, and after two such deaths distributed
    # declares it a KilledWorker too, so the error could name an innocent task.
    config = {
        "distributed.scheduler.allowed-failures": 1,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(config):
        return distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        )


@pytest.fixture(scope="module")
def client():
    """A cluster whose workers no test kills."""
    cluster = _cluster()
    with distributed.Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


@pytest.fixture
def fresh_client():
    """A cluster of its own for a test that kills workers (nothing left over between tests)."""
    cluster = _cluster()
    with distributed.Client(cluster) as dask_client:
        _settle(dask_client)
        yield dask_client
    cluster.close()


def _settle(client):
    """Wait until both workers are up and no task of an earlier test is left."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        processing = client.processing()
        if len(processing) == 2 and not any(processing.values()):
            return
        time.sleep(0.2)
    pytest.fail(f"the cluster did not settle within {TIMEOUT} s: {client.processing()}")


def _run_with_timeout(function):
    """``function()``'s result or exception; fails the test if it does not return."""
    outcome = {}

    def target():
        try:
            outcome["result"] = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(TIMEOUT)
    assert not thread.is_alive(), f"the Parallel call hung for more than {TIMEOUT} s"
    return outcome


def _data(n_samples=600):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_samples, 6))
    y = rng.poisson(np.exp(0.3 * X[:, 0] - 0.5)).astype(float)
    return X, y


@pytest.mark.slow  # Dask LocalCluster
def test_search_on_the_cluster_equals_the_local_search(client):
    _settle(client)
    X, y = _data()
    grid = {"alpha": [1e-3, 1e-2, 1e-1]}
    local = GridSearchCV(PoissonLNPRegressor(), grid, cv=KFold(3)).fit(X, y)
    with dask_backend(client):
        remote = GridSearchCV(PoissonLNPRegressor(), grid, cv=KFold(3), n_jobs=-1).fit(X, y)
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], rtol=1e-10
    )
    with dask_backend(client, scatter=[X, y]):
        broadcast = GridSearchCV(PoissonLNPRegressor(), grid, cv=KFold(3), n_jobs=-1).fit(X, y)
    np.testing.assert_allclose(
        broadcast.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], rtol=1e-10
    )


@pytest.mark.slow  # Dask LocalCluster
def test_a_fit_that_kills_its_worker_raises_naming_that_fit(fresh_client):
    X, y = _data()
    search = GridSearchCV(
        KillsItsWorker(), {"alpha": [1.0, 2.0, 3.0]}, cv=KFold(3), error_score=np.nan
    )

    def fit():
        with dask_backend(fresh_client):
            return search.fit(X, y)

    outcome = _run_with_timeout(fit)
    assert "result" not in outcome, "the search returned although a fit never finished"
    error = outcome["error"]
    assert isinstance(error, ClusterFitError)
    # the failed task's fits are named; a lost task of the fatal alpha is a KilledWorker,
    # a task that lost its scattered input is named as cancelled
    assert "parameters {'alpha'" in str(error) and "split" in str(error)
    assert error.status in ("error", "cancelled")
    if error.status == "error":
        # The scheduler counts a worker's death against every task assigned to it, running or
        # queued, so the first task to reach the allowed failures may hold the fatal fit
        # (alpha 2) or an innocent fit that was queued on both dead workers: which one is a
        # race. The error names the fits of whichever task it was and says it may be either.
        assert all("parameters {'alpha': " in fit for fit in error.fits), error.fits
        assert "KilledWorker" in str(error)
        assert "another task running or queued on the same worker" in str(error)


def _search_where_one_fit_dies_once(client, tmp_path, **backend_kwargs):
    """Run a search whose fatal fit kills its worker once; the outcome and the local reference."""
    X, y = _data()
    grid = {"alpha": [1.0, 2.0, 3.0]}
    reference = GridSearchCV(KillsItsWorker(fatal_alpha=-1.0), grid, cv=KFold(3)).fit(X, y)
    marker = str(tmp_path / "died-once")
    if backend_kwargs.pop("broadcast", False):
        backend_kwargs["scatter"] = [X, y]

    def fit():
        search = GridSearchCV(KillsItsWorker(marker=marker), grid, cv=KFold(3), n_jobs=-1)
        with dask_backend(client, **backend_kwargs):
            return search.fit(X, y)

    outcome = _run_with_timeout(fit)
    assert os.path.exists(marker), "the fatal fit did not run"
    return outcome, reference.cv_results_["mean_test_score"]


@pytest.mark.slow  # Dask LocalCluster
def test_a_fit_that_kills_its_worker_once_is_rerun_when_inputs_are_broadcast(
    fresh_client, tmp_path
):
    outcome, reference = _search_where_one_fit_dies_once(fresh_client, tmp_path, broadcast=True)
    assert "error" not in outcome, f"the rerun failed: {outcome.get('error')!r}"
    np.testing.assert_allclose(
        outcome["result"].cv_results_["mean_test_score"], reference, rtol=1e-12
    )


@pytest.mark.slow  # Dask LocalCluster
def test_without_broadcast_a_worker_death_gives_all_fits_or_a_named_error(fresh_client, tmp_path):
    outcome, reference = _search_where_one_fit_dies_once(fresh_client, tmp_path)
    if "error" in outcome:  # the dead worker held a scattered input of some task
        assert isinstance(outcome["error"], ClusterFitError)
        assert "parameters {'alpha'" in str(outcome["error"])
    else:  # distributed reran the task elsewhere: every fit is there
        scores = outcome["result"].cv_results_["mean_test_score"]
        np.testing.assert_allclose(scores, reference, rtol=1e-12)


@pytest.mark.slow  # a fresh interpreter in a subprocess
def test_register_backend_registers_it_only_when_called():
    code = (
        "from joblib.parallel import BACKENDS; from sklearn_lnp import parallel; "
        "print(parallel.BACKEND_NAME in BACKENDS, parallel.register_backend(), "
        "parallel.BACKEND_NAME in BACKENDS)"
    )
    assert _in_a_fresh_interpreter(code) == ["False", BACKEND_NAME, "True"]


@pytest.mark.slow  # Dask LocalCluster
def test_registered_backend_runs_on_the_current_client(client):
    from joblib import Parallel, delayed, parallel_config

    assert register_backend() == register_backend() == BACKEND_NAME
    with parallel_config(backend=BACKEND_NAME):
        squares = Parallel()(delayed(pow)(k, 2) for k in range(5))
    assert squares == [0, 1, 4, 9, 16]


# -- joblib's private API, checked with the versions named -----------------------


def _fresh_hooks():
    """Hooks the backend class cache has not seen: every call builds the class anew."""
    return (lambda func, args, kwargs: "call"), (lambda fits, status, cause, key: None)


def _assert_names_the_versions(error):
    import joblib

    message = str(error)
    assert f"joblib {joblib.__version__}" in message
    assert f"distributed {distributed.__version__}" in message
    tested = joblib_dask.TESTED_VERSIONS
    assert f"tested with joblib {tested['joblib']}" in message
    assert f"scikit-learn {tested['scikit-learn']}" in message


def test_a_joblib_without_its_dask_backend_module_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "joblib._dask", None)
    with pytest.raises(joblib_dask.PrivateAPIError, match="joblib._dask") as caught:
        joblib_dask.backend_class(*_fresh_hooks())
    assert isinstance(caught.value, ImportError)
    _assert_names_the_versions(caught.value)


def _fake_joblib_dask(monkeypatch, backend):
    module = types.ModuleType("joblib._dask")
    module.DaskDistributedBackend = backend
    monkeypatch.setitem(sys.modules, "joblib._dask", module)


def test_a_dask_backend_without_a_method_it_overrides_is_named(monkeypatch):
    class WithoutCollect:
        def submit(self, func, callback=None):
            pass

        start_call = stop_call = retrieve_result_callback = submit
        abort_everything = get_nested_backend = submit

    _fake_joblib_dask(monkeypatch, WithoutCollect)
    with pytest.raises(joblib_dask.PrivateAPIError, match="_collect") as caught:
        joblib_dask.backend_class(*_fresh_hooks())
    _assert_names_the_versions(caught.value)


def test_a_dask_backend_without_an_attribute_it_reads_is_named(monkeypatch):
    class WithoutState:
        def __init__(self, **kwargs):
            self.client = kwargs.get("client")

        async def _collect(self):
            pass

        def submit(self, func, callback=None):
            pass

        start_call = stop_call = retrieve_result_callback = submit
        abort_everything = get_nested_backend = submit

    _fake_joblib_dask(monkeypatch, WithoutState)
    backend = joblib_dask.backend_class(*_fresh_hooks())
    with pytest.raises(joblib_dask.PrivateAPIError, match="waiting_futures") as caught:
        backend(client=None)
    _assert_names_the_versions(caught.value)
