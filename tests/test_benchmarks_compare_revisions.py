"""Smoke run of the before/after benchmark (``benchmarks/compare_revisions.py --quick``).

Facts asserted (no timing assertions: timings depend on the machine):

* with ``--old`` and ``--new`` both this checkout, every child imported
  sklearn_lnp from the checkout it was given, in alternating rounds, with
  every thread pool on the 1 thread stated; the JSON and the Markdown table
  (one row per case) are written, and ``--render`` rebuilds the same
  Markdown without fitting;
* the same code on the same arrays reaches the same optimum in both
  "revisions": the L2 gap between them is round-off and both meet the
  solver's tolerance; L1 fits (and LassoLNPCV's refit) meet the KKT target;
  the population fits (L2, and L1 with one alpha per neuron) put every
  neuron at its optimum, with the same objectives in both;
* a child whose ``sklearn_lnp`` comes from another checkout than the one it
  was given stops with its own exit status, and an ``--old`` that is not a
  checkout is refused.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from _benchmarks import BENCHMARKS, REPO_ROOT, load_benchmark, table_rows

pytestmark = pytest.mark.slow  # subprocess runs of the benchmark, a child per revision and round

SCRIPT = BENCHMARKS / "compare_revisions.py"
PROBLEMS = [
    "l2-sim-5000",
    "l1-sim-offset0",
    "l1-cv-real-lags5",
    "l2-population",
    "l1-population-per-neuron",
]


def _run(*args, env=None):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def test_quick_same_checkout_twice(tmp_path):
    run_all = load_benchmark("run_all")
    root = str(REPO_ROOT)
    completed = _run(
        "--quick", "--old", root, "--new", root, "--only", *PROBLEMS, "--out", str(tmp_path)
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    payload = json.loads((tmp_path / "compare_revisions_quick.json").read_text())
    table = (tmp_path / "compare_revisions_quick.md").read_text()

    assert [p["name"] for p in payload["problems"]] == PROBLEMS
    assert payload["rounds"] == 2 and payload["repeats"] == 1
    assert payload["load_average_at_start"] and payload["load_average_at_end"]
    for label in ("old", "new"):
        # recorded relative to the repository root (no machine-specific paths)
        assert (REPO_ROOT / payload["revisions"][label]["path"]).resolve() == REPO_ROOT.resolve()
    assert "every pool <= 1 thread(s) in every child" in table and "verified" in table
    rows = table_rows(table)
    for problem in payload["problems"]:
        if problem["status"] == "skipped":  # the recording is absent
            assert "recording not found" in problem["reason"]
            continue
        assert problem["status"] == "ok", problem
        for label in ("old", "new"):
            children = problem["children"][label]
            assert [c["round"] for c in children] == [0, 1]
            for c in children:
                imported = (REPO_ROOT / c["sklearn_lnp_file"]).resolve()
                assert REPO_ROOT.resolve() in imported.parents, imported
                assert c["threads_verified"] is True
                for pools in (c["threadpools_before"], c["threadpools_after"]):
                    assert pools and all(p["num_threads"] == 1 for p in pools), pools
        assert problem["cases"]
        for case in problem["cases"]:
            assert any(k.startswith(f"{problem['name']}: ") for k in rows), rows
            for label in ("old", "new"):
                s = case[label]
                assert not s["skipped"], s
                assert len(s["cpu"]) == len(s["wall"]) == 2  # 1 repeat x 2 rounds
                assert math.isfinite(s["cpu_median"]) and s["cpu_median"] > 0.0
                if problem["kind"] == "pop":
                    # every neuron at its optimum: L2 max|grad|, L1 KKT, each <= tol
                    assert s["max_optimality"] <= run_all.TOL, s
                    # same code, same arrays: the objectives agree to round-off
                    assert s["objective_difference"] <= 1e-12, s
                    assert s["identical_over_rounds"], s
                    assert len(s["n_nonzero"]) == 1 and s["n_nonzero"][0] > 0, s
                    continue
                assert len(s["objective"]) == 2
                if problem["kind"] == "l2":
                    # same code, same arrays: any gap is round-off of the two processes
                    assert s["rel_gap"] <= run_all.L2_TARGET, s
                    # the solver stops at max|grad| <= tol on its own sums; evaluate's
                    # numpy sums are in another order, hence the factor 2
                    assert s["max_grad"] <= 2 * run_all.TOL, s
                else:
                    assert s["kkt"] <= run_all.L1_TARGET, s

    rendered = _run("--render", str(tmp_path / "compare_revisions_quick.json"))
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    assert (tmp_path / "compare_revisions_quick.md").read_text() == table


def test_child_refuses_a_package_from_another_checkout(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    # the thread variables, as the parent sets them
    env.update(dict.fromkeys(load_benchmark("run_all").THREAD_VARIABLES, "1"))
    completed = _run(
        "--child",
        "l2-sim-5000",
        "--tree",
        str(tmp_path),  # not where PYTHONPATH's sklearn_lnp lives
        "--manifest",
        str(tmp_path / "absent.json"),
        "--child-out",
        str(tmp_path / "child.json"),
        env=env,
    )
    assert completed.returncode == 4, completed.stderr[-2000:]
    assert f"not from {tmp_path.resolve()}" in completed.stderr
    record = json.loads((tmp_path / "child.json").read_text())
    assert REPO_ROOT.resolve() in (REPO_ROOT / record["sklearn_lnp_file"]).resolve().parents


def test_old_must_be_a_checkout(tmp_path):
    completed = _run("--old", str(tmp_path), "--quick", "--out", str(tmp_path))
    assert completed.returncode == 2
    assert "--old" in completed.stderr and "not a checkout of sklearn-lnp" in completed.stderr


def test_absent_recording_is_a_row_not_a_failure(tmp_path):
    completed = _run(
        "--quick",
        "--old",
        str(REPO_ROOT),
        "--only",
        "l2-real-lag0",
        "--data",
        str(tmp_path / "absent.mat"),
        "--out",
        str(tmp_path),
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    rows = table_rows((tmp_path / "compare_revisions_quick.md").read_text())
    row = next(cells for key, cells in rows.items() if key.startswith("l2-real-lag0: "))
    assert row[-1].startswith("skipped: recording not found at ")


def test_a_parameter_the_old_estimator_lacks_is_a_stated_reason(monkeypatch):
    module = load_benchmark("compare_revisions")
    case = {"alpha": 0.1}
    model, reason = module._estimator("l2", case, None)
    assert reason == "" and model.get_params()["tol"] == 1e-8
    renames = dict(module.PARAMETER_RENAMES, PoissonLNPRegressor={"tol": "tolerance"})
    monkeypatch.setattr(module, "PARAMETER_RENAMES", renames)
    model, reason = module._estimator("l2", case, None)
    assert model is None
    assert reason == "PoissonLNPRegressor has no parameter(s) ['tolerance'] at this revision"
