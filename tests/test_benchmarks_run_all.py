"""Smoke run of the one-command benchmark (``benchmarks/run_all.py --quick``).

Facts asserted (no timing assertions: timings depend on the machine):

* one problem of each kind (L1 with glum and skglm, L2 on the real neuron
  with scipy, scikit-learn and glum, float32 vs float64) runs, each in its
  own process, and the JSON and the Markdown are written; ``--render``
  rebuilds the same Markdown from the JSON without fitting;
* every problem that ran has a row for every method of its kind, and the
  accuracy columns (our objective, the gap to the best, max|grad| or the KKT
  violation) are filled for every row that ran;
* every thread pool that threadpoolctl found in each problem's process
  (numpy's and scipy's OpenBLAS, OpenMP runtimes, numba), after every peer
  was imported and run, ran on the 1 thread stated, and the Markdown says so;
* a process whose BLAS runs on more threads than stated fails with the
  thread-violation status, and a child started without the thread variables
  refuses to run.

The problems of the full run are the same code at larger sizes; ``--list``
names them all.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from _benchmarks import BENCHMARKS, REPO_ROOT, load_benchmark

pytestmark = pytest.mark.slow  # subprocess runs of the benchmark, each importing every peer

SMOKE_PROBLEMS = ["l1-sim-offset0", "l2-real-lag0", "l2-float32"]


def _run(*args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / "run_all.py"), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _finite(x):
    return x is not None and math.isfinite(x)


def test_quick_run_all_rows_accuracy_and_threads(tmp_path):
    run_all = load_benchmark("run_all")
    completed = _run("--quick", "--only", *SMOKE_PROBLEMS, "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    payload = json.loads((tmp_path / "run_all_quick.json").read_text())
    table = (tmp_path / "run_all_quick.md").read_text()

    assert [p["name"] for p in payload["problems"]] == SMOKE_PROBLEMS
    assert payload["threads"] == 1
    assert all(value == "1" for value in payload["thread_environment"].values())
    assert "OPENBLAS_NUM_THREADS=1" in table and "NUMBA_NUM_THREADS=1" in table
    assert payload["load_average_at_start"] and payload["load_average_at_end"]
    for problem in payload["problems"]:
        if problem["status"] == "skipped":  # the recording is absent
            assert "recording not found" in problem["reason"]
            continue
        assert problem["status"] == "ok", problem
        assert problem["threads_verified"] is True
        # every pool found after all peers were imported and run: 1 thread
        for key in ("threadpools_before", "threadpools_after"):
            pools = problem[key]
            assert any(p["internal_api"] == "openblas" for p in pools), pools
            assert all(p["num_threads"] == 1 for p in pools), pools
        assert problem["numba_threads"] == 1
        assert f"### {problem['name']}: " in table
        methods = [(m, s) for m, s, _, _ in run_all.METHODS[problem["kind"]]]
        assert problem["cases"]
        for case in problem["cases"]:
            rows = {(r["method"], r["setting"]): r for r in case["runs"]}
            assert sorted(rows) == sorted(methods), case["title"]
            for row in case["runs"]:
                if row["skipped"]:  # an absent peer is a stated skip
                    assert row["method"].split()[0] in row["skipped"] or "failed" in row["skipped"]
                    continue
                assert row["wall"] and len(row["wall"]) == len(row["cpu"])
                assert _finite(row["wall_median"]) and _finite(row["cpu_median"])
                assert _finite(row["objective"]), row
                assert _finite(row["gap"]) and row["gap"] >= 0.0
                assert _finite(row["rel_gap"])
                assert _finite(row["kkt"] if problem["kind"] == "l1" else row["optimality"])
            ours = next(r for r in case["runs"] if r["role"] == "ours")
            target = run_all.L1_TARGET if problem["kind"] == "l1" else run_all.L2_TARGET
            accuracy = ours["kkt"] if problem["kind"] == "l1" else ours["rel_gap"]
            assert accuracy <= target, (case["title"], accuracy)
            assert _finite(case["summary"].get("ratio_wall")), case["summary"]
            assert _finite(case["summary"].get("ratio_cpu")), case["summary"]
            if problem["kind"] == "f32":
                memory = case["memory"]
                assert memory["X_float32_bytes"] * 2 == memory["X_float64_bytes"]
                assert memory["fit_peak_float32_bytes"] > 0
    assert "every pool <= 1 thread(s): verified" in table
    for heading in ("### L2 (", "### L1 (", "### float32 designs"):
        assert heading in table

    # --render rebuilds the same Markdown from the JSON, without fitting
    rendered = _run("--render", str(tmp_path / "run_all_quick.json"))
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    assert (tmp_path / "run_all_quick.md").read_text() == table


def test_more_blas_threads_than_stated_fail_loudly():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import numpy, run_all; "
        "run_all.check_threads(1, 'in the test')"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, str(BENCHMARKS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if (os.cpu_count() or 1) < 2:
        pytest.skip("OpenBLAS caps its threads at the cores: one core cannot show 2 threads")
    assert completed.returncode == load_benchmark("run_all").THREAD_VIOLATION, completed.stderr
    assert "THREAD CHECK FAILED" in completed.stderr


def test_child_refuses_without_thread_variables(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    completed = _run(
        "--child", "l2-sim-5000", "--child-out", str(tmp_path / "x.json"), "--quick", env=env
    )
    assert completed.returncode == 2
    assert "OPENBLAS_NUM_THREADS" in completed.stderr


def test_list_names_every_problem():
    completed = _run("--list")
    assert completed.returncode == 0
    for name in load_benchmark("run_all").PROBLEMS:
        assert name in completed.stdout
