"""Smoke run of the L2 benchmark (``benchmarks/bench_poisson_l2.py --quick``).

Facts asserted (no timing assertions: timings depend on the machine):

* the script runs from the repository root and writes the Markdown table and
  the JSON of raw numbers;
* every method that ran produced a finite objective (evaluated with our
  ``PoissonObjective``), never below the Newton-polished optimum by more
  than round-off;
* sklearn-lnp's three solvers reach that optimum to 1e-10 (relative);
* a peer library that is not installed is listed as skipped with that
  reason, and the real-neuron problem is either benchmarked or reported as
  skipped because the recording is absent.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from _benchmarks import run_benchmark

pytestmark = pytest.mark.slow  # a subprocess run of the benchmark script, seconds
PEER_MODULES = {"glum": "glum", "statsmodels": "statsmodels", "sklearn": "sklearn"}


def test_quick_benchmark_writes_table_with_finite_objectives(tmp_path):
    run_benchmark("bench_poisson_l2.py", "--quick", "--output", str(tmp_path))
    table = (tmp_path / "poisson_l2_quick.md").read_text()
    payload = json.loads((tmp_path / "poisson_l2_quick.json").read_text())

    assert "| method | setting | median time |" in table
    assert "sklearn-lnp auto" in table
    assert payload["machines"][0]["cpu"]
    names = [problem["name"] for problem in payload["problems"]]
    assert any(name.startswith("simulated") for name in names)
    if not any(name.startswith("real") for name in names):
        assert any("recording not found" in s for s in payload["skipped_problems"])

    for problem in payload["problems"]:
        best = problem["reference"]["best_objective"]
        assert np.isfinite(best)
        for run in problem["runs"]:
            if run["skipped"]:
                continue
            assert run["times"], run["method"]
            assert np.isfinite(run["objective"]), (problem["name"], run["method"])
            # best is the minimum over all runs and the Newton polish: the same floats
            # (JSON round-trips them exactly), so the comparison is exact
            assert run["objective"] >= best
            if run["method"].startswith("sklearn-lnp"):
                assert run["rel_gap"] <= 1e-10, (problem["name"], run["method"], run["rel_gap"])
        for run in problem["runs"]:
            module = next((m for key, m in PEER_MODULES.items() if key in run["method"]), None)
            if module and importlib.util.find_spec(module) is None:
                assert run["skipped"] == f"{module} is not installed"
