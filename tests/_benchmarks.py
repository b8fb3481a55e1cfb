"""Helpers of the benchmark smoke tests: run a script, read its Markdown table.

Each ``tests/test_benchmarks_smoke*.py`` runs one script of ``benchmarks/``
at a tiny size in a subprocess, from the repository root, and reads the
table and JSON it writes into ``--output``.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO_ROOT / "benchmarks"


def load_benchmark(name: str):
    """Import ``benchmarks/<name>.py`` as a module (``benchmarks/`` is put on ``sys.path``).

    The scripts import their sibling modules (``_machine``, ``run_all``) as a
    script run from ``benchmarks/`` does.
    """
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_benchmark(script: str, *args: str) -> None:
    """Run ``benchmarks/<script> <args>`` from the repository root; fail with its stderr."""
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


def table_rows(table: str) -> dict[str, list[str]]:
    """First cell -> cells of every data row of the Markdown table(s)."""
    rows = {}
    for line in table.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def assert_machine_lines(table: str, packages: list[str]) -> None:
    """The table names the CPU, the pinned threads, the load, the BLAS and every version."""
    assert re.search(r"^- CPU: .+, \d+ logical cores; BLAS/OpenMP threads pinned to 1", table, re.M)
    assert re.search(r"^- load average at start \(1/5/15 min\): \[", table, re.M)
    assert re.search(r"^- BLAS: \w+", table, re.M)
    versions = next(line for line in table.splitlines() if line.startswith("- numpy "))
    for name in ["scipy", "scikit-learn", *packages]:
        assert f" {name} " in versions, (name, versions)
        assert f"{name} absent" not in versions
