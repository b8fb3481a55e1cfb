"""Helpers shared by the benchmarks: machine description, timing, evaluation, tables.

Every benchmark fits several methods to the same problem in one process,
evaluates every result with *our* objective (so all are compared on the same
number), and writes a Markdown table and a JSON file of the raw numbers.
Nothing here is specific to one penalty: a benchmark supplies the objective
(anything with ``loss(params)``, and ``gradient(params)`` for the optimality
column) and the methods.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from _machine import cpu_model, package_versions

REPO_ROOT = Path(__file__).resolve().parents[1]
# The lab's recording lives beside the repository, never inside it.
DEFAULT_DATA_PATH = REPO_ROOT.parent / "shared" / "data" / "nds_cl_5_data.mat"


# -- machine -----------------------------------------------------------------


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages (None where unavailable)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info(threads: int, packages=()) -> dict:
    """What the numbers depend on: CPU, cores, load, Python, BLAS, package versions."""
    from threadpoolctl import threadpool_info

    blas = [
        {
            key: pool.get(key)
            for key in ("internal_api", "version", "architecture", "num_threads", "prefix")
        }
        for pool in threadpool_info()
    ]
    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "threads_used": threads,
        "load_average_at_start": load_average(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "blas": blas,
        "versions": package_versions(["numpy", "scipy", "scikit-learn", *packages]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def machine_lines(info: dict) -> list[str]:
    """Markdown bullet lines describing the machine."""
    blas = ", ".join(
        f"{b['internal_api']} {b['version']} ({b['prefix']}, {b['architecture']})"
        for b in info["blas"]
        if b.get("internal_api") != "openmp"
    )
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    return [
        f"- CPU: {info['cpu']}, {info['logical_cores']} logical cores; "
        f"BLAS/OpenMP threads pinned to {info['threads_used']} (threadpoolctl)",
        f"- load average at start (1/5/15 min): {info['load_average_at_start']}",
        f"- Python {info['python']} on {info['platform']}",
        f"- BLAS: {blas}",
        f"- {versions}",
        f"- run at {info['date']}",
    ]


# -- running -----------------------------------------------------------------
@dataclass
class Run:
    """One method on one problem: timings, what it reported, how good its result is."""

    problem: str
    method: str
    setting: str
    times: list[float] = field(default_factory=list)
    n_iter: int | None = None
    n_passes: float | None = None
    n_grams: int | None = None
    objective: float | None = None
    optimality: float | None = None
    gap: float | None = None
    rel_gap: float | None = None
    note: str = ""
    skipped: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None


def run_from_dict(fields: dict) -> Run:
    """A :class:`Run` back from its JSON form (``median`` is recomputed)."""
    names = {f for f in Run.__dataclass_fields__}
    return Run(**{k: v for k, v in fields.items() if k in names})


def time_repeats(fit, repeats: int, slow_seconds: float):
    """Call ``fit()`` ``repeats`` times (once if the first call exceeds ``slow_seconds``).

    Returns the list of wall times and the output of the last call.  Warnings
    raised by the fits (e.g. ConvergenceWarning of capped peers) are
    collected, not printed, and returned as a set of short messages.
    """
    times, out, messages = [], None, set()
    for k in range(repeats):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            out = fit()
            times.append(time.perf_counter() - start)
        messages.update(f"{w.category.__name__}" for w in caught)
        if k == 0 and times[0] > slow_seconds:
            break
    return times, out, messages


def evaluate(run: Run, objective, params) -> None:
    """Fill ``run.objective`` and ``run.optimality`` with our objective at ``params``."""
    params = np.asarray(params, dtype=np.float64)
    if not np.all(np.isfinite(params)):
        run.objective = float("nan")
        run.optimality = float("nan")
        return
    run.objective = float(objective.loss(params))
    if hasattr(objective, "gradient"):
        run.optimality = float(np.max(np.abs(objective.gradient(params))))


def fill_gaps(runs: list[Run], best: float) -> None:
    """Objective minus the best objective found, absolute and relative."""
    for run in runs:
        if run.objective is None or not np.isfinite(run.objective):
            continue
        run.gap = run.objective - best
        run.rel_gap = run.gap / abs(best) if best != 0 else run.gap


# -- reporting ---------------------------------------------------------------
def _fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    return f"{t * 1e3:.1f} ms" if t < 1.0 else f"{t:.2f} s"


def _fmt_sci(x: float | None) -> str:
    if x is None or not np.isfinite(x):
        return "-"
    if x == 0.0:
        return "0"
    return f"{x:.1e}"


def fastest(runs: list[Run], *, max_rel_gap: float | None = None) -> Run | None:
    """The fastest timed run (optionally only among those within ``max_rel_gap``)."""
    timed = [r for r in runs if r.times and not r.skipped]
    if max_rel_gap is not None:
        timed = [r for r in timed if r.rel_gap is not None and r.rel_gap <= max_rel_gap]
    return min(timed, key=lambda r: r.median, default=None)


def time_one_pass(X, repeats: int = 7) -> float:
    """Median wall time of one ``X @ w`` (in the precision of ``X``): the unit pass."""
    w = np.full(X.shape[1], 1.0 / X.shape[1], dtype=X.dtype)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        X @ w
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def markdown_table(
    runs: list[Run], *, reference: Run | None = None, pass_seconds: float | None = None
) -> str:
    """Markdown table of the runs of one problem, fastest first.

    ``x fastest`` is the median time over that of ``reference`` (default:
    the fastest run).  With ``pass_seconds`` (the time of one ``X @ w``), a
    column gives every median time in that unit: how far each method is
    from the limit of reading ``X`` a few times.
    """
    reference = reference or fastest(runs)
    unit = pass_seconds is not None
    header = (
        "| method | setting | median time | x fastest "
        + ("| time / (X @ w) " if unit else "")
        + "| F - F_best | relative | max abs grad | passes | iterations | note |\n"
        + "|---|---|---:|---:|"
        + ("---:|" if unit else "")
        + "---:|---:|---:|---:|---:|---|\n"
    )
    rows = []
    order = sorted(runs, key=lambda r: (r.median is None, r.median or 0.0))
    for r in order:
        if r.skipped:
            empty = "| " * (6 + unit)
            rows.append(f"| {r.method} | {r.setting} | skipped {empty}| {r.skipped} |")
            continue
        ratio = f"{r.median / reference.median:.2f}" if reference and r.median else "-"
        in_passes = f"| {r.median / pass_seconds:.0f} " if unit else ""
        passes = "-" if r.n_passes is None else f"{r.n_passes:g}"
        if r.n_grams:
            passes += f" + {r.n_grams} Gram"
        times = f"{_fmt_time(r.median)} ({len(r.times)}x)"
        rows.append(
            f"| {r.method} | {r.setting} | {times} | {ratio} {in_passes}| {_fmt_sci(r.gap)} "
            f"| {_fmt_sci(r.rel_gap)} | {_fmt_sci(r.optimality)} | {passes} "
            f"| {'-' if r.n_iter is None else r.n_iter} | {r.note} |"
        )
    return header + "\n".join(rows) + "\n"


def write_json(path: Path, payload: dict) -> None:
    """Write the raw numbers (runs as dicts with their median)."""

    def encode(obj):
        if isinstance(obj, Run):
            out = asdict(obj)
            out["median"] = obj.median
            return out
        if isinstance(obj, np.generic):
            return obj.item()
        raise TypeError(f"not JSON serialisable: {type(obj)}")

    path.write_text(json.dumps(payload, indent=1, default=encode) + "\n")
