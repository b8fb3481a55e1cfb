"""Chunked dask designs and cross-validation on a ``dask.distributed`` cluster.

Facts asserted: a fit on a row-chunked dask design reaches the in-memory
optimum (objective within 1e-8 relative, gradient <= tol), for every smooth
solver, float32 storage and population fits, with the default scheduler and
on a 2-process ``LocalCluster``; a design whose chunks split columns is
refused with a ValueError; the lazy ``LagTransformer`` equals the eager one;
``GridSearchCV``, ``LassoLNPCV`` and population cross-validation under
``joblib.parallel_backend("dask")`` give the single-machine results; and
``import sklearn_lnp`` does not import dask.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason='dask is not installed (pip install ".[dask]")')
distributed = pytest.importorskip(
    "distributed", reason='distributed is not installed (pip install ".[dask]")'
)

from sklearn_lnp import PoissonLNPRegressor  # noqa: E402
from sklearn_lnp.preprocessing import LagTransformer  # noqa: E402

REL = 1e-8


def _neuron(n_samples=3000, n_features=40, n_neurons=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    shape = (n_features,) if n_neurons is None else (n_features, n_neurons)
    W = rng.standard_normal(shape) * 0.5 / np.sqrt(n_features)
    y = rng.poisson(np.exp(X @ W - 0.5)).astype(float)
    exposure = rng.uniform(0.5, 1.5, n_samples)
    return X, y, exposure


@pytest.mark.slow  # a fresh interpreter in a subprocess
def test_import_does_not_import_dask():
    code = "import sys, sklearn_lnp; print('dask' in sys.modules, 'distributed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cholesky", "auto"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dask_design_reaches_the_in_memory_optimum(solver, dtype):
    X, y, exposure = _neuron()
    X = X.astype(dtype)
    memory = PoissonLNPRegressor(alpha=1e-3, solver=solver).fit(X, y, exposure=exposure)
    lazy = PoissonLNPRegressor(alpha=1e-3, solver=solver).fit(
        da.from_array(X, chunks=(700, -1)), y, exposure=exposure
    )
    assert lazy.objective_ == pytest.approx(memory.objective_, rel=REL)
    assert lazy.optimality_ <= 1e-8
    np.testing.assert_allclose(lazy.coef_, memory.coef_, atol=1e-6)
    Xd = da.from_array(X, chunks=(1000, -1))
    # blockwise prediction = in-memory prediction of the same model
    np.testing.assert_allclose(
        lazy.predict(Xd, exposure=exposure), lazy.predict(X, exposure=exposure), rtol=1e-12
    )


def test_population_on_a_dask_design():
    X, Y, _ = _neuron(n_neurons=4)
    memory = PoissonLNPRegressor(alpha=1e-3, solver="lbfgs").fit(X, Y)
    lazy = PoissonLNPRegressor(alpha=1e-3, solver="lbfgs").fit(
        da.from_array(X, chunks=(500, -1)), Y
    )
    np.testing.assert_allclose(lazy.objective_, memory.objective_, rtol=REL)
    assert np.all(lazy.optimality_ <= 1e-8)


def test_design_whose_chunks_split_columns_is_refused():
    X, y, _ = _neuron(n_samples=200, n_features=10)
    with pytest.raises(ValueError, match=r"chunked along rows only.*rechunk"):
        PoissonLNPRegressor().fit(da.from_array(X, chunks=(100, 5)), y)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="X must be finite"):
        PoissonLNPRegressor().fit(da.from_array(bad, chunks=(100, -1)), y)
    with pytest.raises(ValueError, match="no spikes"):
        PoissonLNPRegressor().fit(da.from_array(X, chunks=(100, -1)), np.zeros(200))


@pytest.mark.slow
@pytest.mark.parametrize("rows_per_chunk", [3, 7, 300])
@pytest.mark.parametrize("lags", [(0, 1, 2, 3, 4), (3, 1)])
def test_lazy_lag_transformer_equals_the_eager_one(rows_per_chunk, lags):
    stimulus = np.random.default_rng(1).choice([-1.0, 1.0], size=(300, 12)).astype(np.float32)
    lazy_stimulus = da.from_array(stimulus, chunks=(rows_per_chunk, 6))
    transformer = LagTransformer(lags, fill_value=0.5)
    eager = transformer.fit_transform(stimulus)
    lazy = transformer.fit_transform(lazy_stimulus)
    assert isinstance(lazy, da.Array)
    assert lazy.chunks[1] == (eager.shape[1],) and lazy.dtype == eager.dtype
    np.testing.assert_array_equal(lazy.compute(), eager)
    with pytest.raises(ValueError, match="frame_index"):
        transformer.transform(lazy_stimulus, frame_index=np.arange(300))


# -- on a cluster --------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    with distributed.Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


@pytest.mark.slow  # Dask LocalCluster
def test_dask_design_fit_on_a_distributed_client(client):
    X, y, exposure = _neuron(n_samples=2000, n_features=30)
    memory = PoissonLNPRegressor(alpha=1e-3).fit(X, y, exposure=exposure)
    lazy = PoissonLNPRegressor(alpha=1e-3).fit(
        da.from_array(X, chunks=(500, -1)), y, exposure=exposure
    )
    assert lazy.objective_ == pytest.approx(memory.objective_, rel=REL)


@pytest.mark.slow  # Dask LocalCluster
def test_cross_validation_under_the_dask_joblib_backend(client):
    from joblib import parallel_backend
    from sklearn.model_selection import GridSearchCV, KFold, cross_validate

    from sklearn_lnp import LassoLNPCV

    X, y, _ = _neuron(n_samples=600, n_features=8, seed=2)
    _, Y, _ = _neuron(n_samples=600, n_features=8, n_neurons=3, seed=2)
    folds = KFold(3)
    grid = {"alpha": [1e-3, 1e-2, 1e-1]}

    def run():
        search = GridSearchCV(PoissonLNPRegressor(), grid, cv=folds, n_jobs=2).fit(X, y)
        lasso = LassoLNPCV(alphas=5, cv=folds, n_jobs=2).fit(X, y)
        population = cross_validate(
            PoissonLNPRegressor(alpha=1e-2, solver="lbfgs"), X, Y, cv=folds, n_jobs=2
        )
        return search, lasso, population

    local = run()
    with parallel_backend("dask"):
        remote = run()
    assert remote[0].best_params_ == local[0].best_params_
    np.testing.assert_allclose(
        remote[0].cv_results_["mean_test_score"],
        local[0].cv_results_["mean_test_score"],
        rtol=1e-10,
    )
    assert remote[1].alpha_ == local[1].alpha_
    np.testing.assert_allclose(remote[1].coef_, local[1].coef_, atol=1e-10)
    np.testing.assert_allclose(remote[2]["test_score"], local[2]["test_score"], rtol=1e-10)
