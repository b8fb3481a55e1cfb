"""Smoke run of ``benchmarks/bench_population_lasso.py --quick`` in a subprocess.

Facts asserted (no timing assertions: timings depend on the machine and its
load): the script writes its Markdown table and JSON into ``--output``; the
table has one row per method and the machine lines; every method reached
the KKT tolerance on every neuron and found the same optimum (objectives
equal to 1e-10 relative per neuron, the same supports' sizes); the penalty
is the stated fraction of the median ``alpha_max`` and leaves a sparse fit.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from _benchmarks import assert_machine_lines, run_benchmark

pytestmark = pytest.mark.slow  # a subprocess run of the benchmark script, seconds
TOL = 1e-8


def test_quick_population_lasso_benchmark(tmp_path):
    # one joblib worker: the joblib path runs, without process start-up time
    run_benchmark("bench_population_lasso.py", "--quick", "--jobs", "1", "--output", str(tmp_path))
    table = (tmp_path / "population_lasso_quick.md").read_text()
    payload = json.loads((tmp_path / "population_lasso_quick.json").read_text())

    assert_machine_lines(table, [])
    methods = ["population", "loop", "joblib"]
    for method in methods:
        assert re.search(rf"^\| {method} \| [0-9.]+ s \|", table, re.M), method
    n_samples, n_features, n_neurons = payload["shape"]
    alpha_max = np.array(payload["alpha_max"])
    assert alpha_max.shape == (n_neurons,)
    assert payload["alpha"] == np.float64(payload["alpha_fraction"]) * np.median(alpha_max)

    reference = np.array(payload["objectives"]["loop"])
    assert reference.shape == (n_neurons,) and np.all(np.isfinite(reference))
    for method in methods:
        objectives = np.array(payload["objectives"][method])
        np.testing.assert_allclose(objectives, reference, rtol=1e-10, atol=0)
        assert np.max(payload["optimality"][method]) <= TOL
        # Integer support sizes.  They agree across methods (whose gradients differ in
        # round-off: GEMM vs GEMV) because no weight of this problem sits within the
        # tolerance of the KKT boundary |g_j| = alpha; an exactly zero weight is a
        # soft-threshold decision with a margin, not a float compared to 0.
        nonzero = np.array(payload["n_nonzero"][method])
        np.testing.assert_array_equal(nonzero, payload["n_nonzero"]["loop"])
        assert 0 < np.median(nonzero) < n_features
