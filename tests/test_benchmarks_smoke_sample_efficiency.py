"""Smoke run of the sample-efficiency benchmark (``benchmarks/sample_efficiency.py --quick``).

Facts asserted (no timing assertions: timings depend on the machine):

* the quick run writes the Markdown table, the JSON and the figure, with the machine
  lines, and every method (ridge, lasso, smooth) has a row in the
  bins-to-target table, or, for ``SmoothLNPRegressor`` only while it is not
  in the package, a "Not run" line saying so;
* every fit's correlation is a correlation and its CPU time is recorded;
* the interpolation of the bins needed is linear in ``log(n_bins)``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys

import pytest
from _benchmarks import BENCHMARKS, assert_machine_lines, run_benchmark

METHODS = ("ridge", "lasso", "smooth")


def _smooth_exists() -> bool:
    import sklearn_lnp.linear_model as linear_model

    return hasattr(linear_model, "SmoothLNPRegressor")


@pytest.mark.slow  # a subprocess run of the benchmark script, ~10-20 s under load
def test_quick_run_writes_a_table_with_every_method(tmp_path):
    run_benchmark("sample_efficiency.py", "--quick", "--out", str(tmp_path))
    table = (tmp_path / "sample_efficiency_quick.md").read_text()
    payload = json.loads((tmp_path / "sample_efficiency_quick.json").read_text())
    assert (tmp_path / "sample_efficiency_quick.png").read_bytes().startswith(b"\x89PNG")

    assert "| RF | method | seeds | bins to 0.9 | bins to 0.95 |" in table
    assert_machine_lines(table, [])
    rows = {
        tuple(c.strip() for c in line.strip("|").split("|")[:2])
        for line in table.splitlines()
        if line.startswith("| gaussian |") or line.startswith("| dog |")
    }
    methods_in_table = {method for _, method in rows}
    for method in METHODS:
        if method == "smooth" and not _smooth_exists():
            assert "Not run: smooth: " in table
            continue
        assert ("gaussian", method) in rows and ("dog", method) in rows, (method, rows)
    assert methods_in_table <= set(METHODS)
    if _smooth_exists():
        assert "ratio" in table and payload["summary"]

    assert payload["fits"]
    for fit in payload["fits"]:
        assert -1.0 <= fit["corr"] <= 1.0
        assert fit["cpu_seconds"] >= 0.0 and fit["n_bins"] in payload["setup"]["grid"]
    assert payload["machines"][0]["threadpools"]


def test_bins_to_reach_interpolates_in_log_bins():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(
            "sample_efficiency", BENCHMARKS / "sample_efficiency.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    # Halfway in correlation between 100 and 400 bins is their geometric mean, 200.
    value, flag = module.bins_to_reach([100, 400, 1600], [0.8, 1.0, 1.0], 0.9)
    assert flag == "" and math.isclose(value, 200.0, rel_tol=1e-12)
    assert module.bins_to_reach([100, 400], [0.95, 0.99], 0.9) == (100.0, "<=")
    assert module.bins_to_reach([100, 400], [0.5, 0.6], 0.9) == (400.0, ">")
