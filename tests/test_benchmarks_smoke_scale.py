"""Smoke runs of the scale benchmarks at a tiny size, in a subprocess.

``benchmarks/bench_population.py --quick`` (20 neurons on a 2000 x 150
design) and ``benchmarks/bench_out_of_core.py`` (15,000 x 1500 float32
design in three dask chunks of 5000 rows) write their table and JSON into
``tmp_path``.  Facts asserted (no timing assertions: timings depend on the
machine and its load):

* the Markdown table and the JSON of raw numbers exist, the table has one
  row per method and the machine lines (CPU, load, BLAS, versions);
* every method fits the same objective: population vs loop vs joblib per
  neuron within the solver tolerance, every fit converged (max abs gradient
  <= tol = 1e-8); dask vs in-memory within 1e-8 relative (the issue's
  target), each stated objective consistent between table and JSON.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from _benchmarks import assert_machine_lines, run_benchmark, table_rows

pytestmark = pytest.mark.slow  # subprocess runs of the benchmark scripts, seconds each
TOL = 1e-8  # the estimators' default tol (max abs gradient at the optimum)


def test_population_quick_methods_reach_the_same_optima(tmp_path):
    run_benchmark("bench_population.py", "--quick", "--output", str(tmp_path))
    table = (tmp_path / "population_quick.md").read_text()
    payload = json.loads((tmp_path / "population_quick.json").read_text())

    assert_machine_lines(table, ["joblib"])
    assert "Command: `python benchmarks/bench_population.py --quick`" in table
    rows = table_rows(table)
    methods = ("population", "loop", "joblib")
    for method in methods:
        assert method in rows, method
        assert payload["times"][method] > 0
        # every fit of this method converged: max abs gradient <= tol
        optimality = float(re.search(r"max optimality ([\d.e+-]+)", rows[method][-1]).group(1))
        assert optimality <= TOL, (method, optimality)

    n_samples, n_features, n_neurons = payload["shape"]
    assert (n_samples, n_features, n_neurons) == (2000, 150, 20)
    # the population fit names the solver of every neuron (lockstep L-BFGS,
    # or its hand-over to Newton)
    assert "lbfgs" in payload["notes"]["population"]
    reference = np.asarray(payload["objectives"]["loop"])
    assert reference.shape == (n_neurons,) and np.all(np.isfinite(reference))
    for method in methods:
        objectives = np.asarray(payload["objectives"][method])
        assert objectives.shape == (n_neurons,)
        # Gradients below tol put each objective within ~tol^2 / curvature of
        # the optimum: far below tol itself in relative terms.
        rel = np.abs(objectives - reference) / np.abs(reference)
        assert rel.max() <= TOL, (method, rel.max())
        # the table states the same maximum difference
        assert float(rows[method][3]) == pytest.approx(rel.max(), rel=0.1, abs=1e-15)


def test_out_of_core_dask_fit_matches_in_memory(tmp_path):
    pytest.importorskip("dask.array", reason='dask is not installed (pip install ".[dask]")')
    run_benchmark(
        "bench_out_of_core.py",
        "--rows",
        "15000",
        "--chunk-rows",
        "5000",
        "--output",
        str(tmp_path),
    )
    table = (tmp_path / "out_of_core.md").read_text()
    payload = json.loads((tmp_path / "out_of_core.json").read_text())

    assert_machine_lines(table, ["dask"])
    assert (
        "Command: `python benchmarks/bench_out_of_core.py --rows 15000 --chunk-rows 5000`" in table
    )
    assert "15000 x 1500 float32 design" in table
    assert payload["rows"] == 15000 and payload["chunk_rows"] == 5000
    assert payload["design_bytes"] == 15000 * 1500 * 4

    rows = table_rows(table)
    results = {r["path"]: r for r in payload["results"]}
    assert set(results) == {"memory", "dask"}
    for path, result in results.items():
        assert path in rows, path
        assert np.isfinite(result["objective"])
        assert result["optimality"] <= TOL, (path, result["optimality"])
        assert result["n_iter"] >= 1
        assert result["fit_seconds"] > 0 and result["seconds_per_pass"] > 0
        assert result["peak_rss_bytes"] > 0
        # the objective printed in the table is the one in the JSON
        assert float(rows[path][5]) == pytest.approx(result["objective"], rel=1e-13)
    memory, lazy = results["memory"]["objective"], results["dask"]["objective"]
    rel = abs(lazy - memory) / abs(memory)
    assert rel <= 1e-8, rel
    assert payload["relative_objective_difference"] == pytest.approx(rel, rel=1e-12, abs=1e-300)
    assert "Relative objective difference dask vs memory" in table
