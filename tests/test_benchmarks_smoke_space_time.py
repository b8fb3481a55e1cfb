"""Smoke run of ``benchmarks/space_time_recovery.py``, alone and against another checkout.

Facts asserted (no timing assertions: timings depend on the machine):

* the script prints one row per number of bins and method (15), with the
  correlations of the fitted spatial and temporal components with the truth;
* with ``--old`` set to this same checkout, both packages load side by side
  in one process and fit the same simulated neurons: the correlations of the
  two are printed identical, and every row has a time for each and a ratio.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from _benchmarks import BENCHMARKS, REPO_ROOT

pytestmark = pytest.mark.slow  # subprocess runs of the benchmark script, seconds

ROW = re.compile(r"^bins +(\d+) (bilinear|svd) +alpha (\S+)", re.MULTILINE)


def _run(*args):
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "space_time_recovery.py"), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_rows_report_correlations_and_time_per_fit():
    out = _run("1")
    rows = ROW.findall(out)
    assert len(rows) == 15
    assert len(re.findall(r"spatial -?\d\.\d{3} / -?\d\.\d{3}", out)) == 15
    assert len(re.findall(r"\(\d+\.\d ms per fit\)", out)) == 15


def test_old_checkout_runs_alongside_in_one_process():
    out = _run("1", "--old", str(REPO_ROOT), "--rounds", "1")
    lines = [line for line in out.splitlines() if ROW.match(line)]
    assert len(lines) == 15
    for line in lines:
        times = re.search(r"old +(\d+\.\d+) +new +(\d+\.\d+) +\((\d+\.\d+)\)", line)
        assert times, line
        new, old = line.split("  new spatial")[1].split("  old spatial")
        assert new.strip() == old.strip(), line  # the same code on the same neurons
    assert re.search(r"summed ms per fit: old \d+\.\d +new \d+\.\d +\(\d\.\d{3}\)", out)
