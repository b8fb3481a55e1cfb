"""Blockwise passes over a chunked dask design equal the in-memory passes.

Facts asserted: for float64 and float32 designs in uneven row chunks,
``matvec``, ``rmatvec`` (vector and matrix operands), ``weighted_gram``
(with its border) and the fused ``sweep`` through :mod:`sklearn_lnp._passes`
equal the in-memory passes to 1e-12 relative; the fused sweep calls
``func`` exactly once on every row (in the numbering of the whole design),
with the products ``X @ v`` of those rows, from dask's worker threads, and
keeps the caller's ``np.errstate``; single-precision (``fast``) products
on a float32 dask design keep the in-memory path's documented accuracy;
the sweep reads ``X`` once with the threaded or synchronous scheduler and
falls back to two reads, with the same result, under the processes
scheduler.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason='dask is not installed (pip install ".[dask]")')
import dask  # noqa: E402

from sklearn_lnp import _passes  # noqa: E402
from sklearn_lnp._passes._dask import runs_in_process  # noqa: E402

RTOL = 1e-12
CHUNKS = ((300, 1, 450, 249),)  # uneven, one single-row chunk


def _design(dtype, n_samples=1000, n_features=60, seed=0, chunks=CHUNKS):
    rng = np.random.default_rng(seed)
    X = rng.choice(np.array([-1.0, 1.0]), size=(n_samples, n_features)).astype(dtype)
    X[:, :5] = rng.standard_normal((n_samples, 5))  # not only +-1
    return X, da.from_array(X, chunks=(chunks[0], -1))


def _close(actual, expected, rtol=RTOL):
    scale = np.max(np.abs(expected))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_products_and_gram_equal_the_in_memory_ones(dtype):
    X, Xd = _design(dtype)
    rng = np.random.default_rng(1)
    w, W = rng.standard_normal(X.shape[1]), rng.standard_normal((X.shape[1], 3))
    r, R = rng.standard_normal(X.shape[0]), rng.standard_normal((X.shape[0], 3))
    d = rng.uniform(0.1, 2.0, X.shape[0])
    with dask.config.set(scheduler="threads", num_workers=2):
        _close(_passes.matvec(Xd, w), _passes.matvec(X, w))
        _close(_passes.matvec(Xd, W), _passes.matvec(X, W))
        _close(_passes.rmatvec(Xd, r), _passes.rmatvec(X, r))
        _close(_passes.rmatvec(Xd, R), _passes.rmatvec(X, R))
        gram, border = _passes.weighted_gram(Xd, d, border=True)
        expected_gram, expected_border = _passes.weighted_gram(X, d, border=True)
        _close(gram, expected_gram)
        np.testing.assert_array_equal(gram, gram.T)
        _close(border, expected_border)
        _close(_passes.weighted_gram(Xd, d), expected_gram)
    assert _passes.matvec(Xd, w).shape == (X.shape[0],)
    assert _passes.rmatvec(Xd, R).shape == (X.shape[1], 3)


@pytest.mark.parametrize("scheduler", ["threads", "sync"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_sweep_equals_the_in_memory_sweep(dtype, scheduler):
    X, Xd = _design(dtype)
    v = np.random.default_rng(2).standard_normal(X.shape[1]) * 0.1
    seen = np.zeros(X.shape[0], dtype=int)
    recorded = np.full(X.shape[0], np.nan)
    threads = set()

    def residual(rows, u):
        assert rows.stop > rows.start and u.shape == (rows.stop - rows.start,)
        seen[rows] += 1
        recorded[rows] = u
        threads.add(threading.get_ident())
        return np.exp(u) - 1.0

    expected = _passes.sweep(X, v, lambda rows, u: np.exp(u) - 1.0)
    with dask.config.set(scheduler=scheduler, num_workers=2):
        assert runs_in_process(Xd)
        assert _passes.sweep_reads(Xd) == 1
        result = _passes.sweep(Xd, v, residual)
    _close(result, expected)
    np.testing.assert_array_equal(seen, 1)  # every row once
    _close(recorded, _passes.matvec(X, v))  # func saw X @ v of its rows
    if scheduler == "sync":
        assert threads == {threading.get_ident()}


def test_fused_sweep_keeps_the_callers_errstate_in_worker_threads():
    _, Xd = _design(np.float64)
    v = np.full(Xd.shape[1], 100.0)  # exp(|X v|) overflows on some rows

    def residual(rows, u):
        return np.exp(u * 100.0)

    with dask.config.set(scheduler="threads", num_workers=2):
        with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
            warnings.simplefilter("error")
            out = _passes.sweep(Xd, v, residual)
        assert not np.all(np.isfinite(out))
        with np.errstate(over="raise"), pytest.raises(FloatingPointError):
            _passes.sweep(Xd, v, residual)


def test_fast_products_on_a_float32_dask_design_keep_their_accuracy():
    X, Xd = _design(np.float32)
    rng = np.random.default_rng(3)
    v, r = rng.standard_normal(X.shape[1]), rng.standard_normal(X.shape[0])
    accurate_u, accurate_g = _passes.matvec(X, v), _passes.rmatvec(X, r)
    # documented: X @ v to ~1e-6 relative, X.T @ r to ~1e-7 of sum |x r|
    scale_u = np.abs(X).astype(np.float64) @ np.abs(v)
    scale_g = np.abs(X).astype(np.float64).T @ np.abs(r)
    with dask.config.set(scheduler="threads", num_workers=2):
        fast_u = _passes.matvec(Xd, v, fast=True)
        fast_g = _passes.rmatvec(Xd, r, fast=True)
        fast_sweep = _passes.sweep(Xd, v, lambda rows, u: r[rows], fast=True)
    assert np.all(np.abs(fast_u - accurate_u) <= 1e-6 * scale_u)
    assert np.all(np.abs(fast_g - accurate_g) <= 1e-6 * scale_g)
    assert np.all(np.abs(fast_sweep - accurate_g) <= 1e-6 * scale_g)
    # single precision really was used: not the float64 result to round-off
    assert np.max(np.abs(fast_u - accurate_u)) > 1e-12 * np.max(scale_u)


def test_sweep_falls_back_to_two_reads_outside_this_process(monkeypatch):
    X, Xd = _design(np.float64, n_samples=200, n_features=8, chunks=((70, 70, 60),))
    with dask.config.set(scheduler="processes"):  # nothing computed: no processes started
        assert not runs_in_process(Xd)
        assert _passes.sweep_reads(Xd) == 2
    # the fallback itself, on the threaded scheduler (quick)
    from sklearn_lnp._passes import _dask

    monkeypatch.setattr(_dask, "runs_in_process", lambda X: False)
    v = np.linspace(-0.1, 0.1, X.shape[1])
    calls = []

    def residual(rows, u):
        calls.append(rows)
        return np.exp(u)

    result = _passes.sweep(Xd, v, residual)
    assert calls == [slice(0, X.shape[0])]  # called here, on all rows at once
    _close(result, _passes.sweep(X, v, lambda rows, u: np.exp(u)))
