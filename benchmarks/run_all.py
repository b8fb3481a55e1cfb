"""Every published benchmark number from one command, one process per problem, threads verified.

Run from the repository root::

    python benchmarks/run_all.py              # every problem (the README's tables)
    python benchmarks/run_all.py --quick      # tiny problems, 1 repeat (smoke run)
    python benchmarks/run_all.py --list       # the problems and their methods
    python benchmarks/run_all.py --only l2-real-lag0 l1-sim-offset0
    python benchmarks/run_all.py --render benchmarks/results/run_all.json   # tables only

Expected time on the 2-core development machine when it is quiet (load < 1):
about 25-35 minutes for the full run, most of it in the methods timed once
(glum's IRLS solvers and Newton on 20,000 and 100,000 rows, 20-120 s each);
``--skip irls-ls`` (glum's L2 Newton) saves about 5 minutes.  ``--quick``:
1-3 minutes (each problem's process imports every peer and compiles skglm's
kernels).  Run it on a quiet
machine: the load average at start and end is in the tables.

Writes ``run_all.json`` (raw numbers) and ``run_all.md`` (the tables the
README quotes) into ``--out`` (default ``benchmarks/results``; ``--quick``
writes ``run_all_quick.*``).

How the numbers are made to hold up
-----------------------------------
* **One process per problem.**  This script (the parent) imports no numeric
  library; it starts ``run_all.py --child PROBLEM`` in a fresh interpreter
  for each problem, so no problem inherits another one's memory, caches,
  compiled kernels or thread pools.
* **Threads pinned before any import, then verified.**  The child's
  environment sets ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
  ``MKL_NUM_THREADS``, ``NUMBA_NUM_THREADS`` (and the other variables of
  :data:`THREAD_VARIABLES`) to ``--threads`` (default 1).  The child imports
  every peer, runs every method once on a slice of the problem (imports,
  JIT compilation, lazily loaded BLAS: all outside the timings), then reads
  ``threadpoolctl.threadpool_info()`` and numba's thread count, records them
  and exits with status 3 if any pool has more threads than stated; it
  checks again after the timings (a library loaded during a fit counts).
  The parent stops the whole run on that status.  (threadpoolctl's
  ``threadpool_limits`` limits only the libraries already loaded when it is
  entered: the published skglm comparison ran skglm's BLAS calls, through
  scipy's OpenBLAS loaded after the limit, on 2 threads of a loaded 2-core
  machine, 7-60x slower; see ``bench_lasso.py``'s ``warm_up``.)  A fit whose
  CPU time exceeds its wall time by more than 20 % with one thread stated is
  flagged in its note (a thread nobody declared).
* **Round-robin repeats**: round k times every method once, so a change of
  the machine's load spreads over all methods; a method slower than
  ``--slow-seconds`` in round 1 is not repeated.  Wall time
  (``time.perf_counter``) and CPU time (``time.process_time``) are both
  recorded; tables give medians.
* **One yardstick**: every answer (ours and the peers') is evaluated with
  sklearn-lnp's objective by :func:`evaluate` below (numpy, float64):
  ``F(w, b) = mean(mu - y log mu) + penalty(w)``, ``mu = exposure exp(Xw + b)``.
  L2: relative objective gap ``(F - F_best) / |F_best|``, ``F_best`` the
  lowest objective found, including a Newton polish (``tol=1e-13``) of the
  best answer with the public ``PoissonLNPRegressor``.  L1: the largest
  violation of the KKT conditions (and the gap to the best objective).
* **Ratio** = sklearn-lnp's median time over that of the fastest peer that
  reaches the same accuracy: relative gap <= 1e-12 (L2), KKT violation
  <= 1e-8 (L1); given for wall and for CPU time.  float32: sklearn-lnp's
  float32 fit over its float64 fit, and the memory float32 saves (the design,
  and the peak of the arrays the fit allocates, measured by ``tracemalloc``
  in an extra untimed fit).

The problems and the peers' wrappers are those of ``bench_poisson_l2.py``
(``simulated_problem``, ``real_problem``, ``scipy_lbfgs``,
``sklearn_poisson``, ``glum_poisson``) and ``bench_lasso.py``
(``simulated_design``, ``real_design``, ``glum_lasso``, ``skglm_lasso``),
imported, not copied.  sklearn-lnp is used through its public estimators
only.  The real-neuron problems read ``../shared/data/nds_cl_5_data.mat``
(``--data``) and are skipped, with the reason, when it is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from _machine import cpu_model, package_versions

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEFAULT_DATA = HERE.parents[0].parent / "shared" / "data" / "nds_cl_5_data.mat"

# Every variable a BLAS, OpenMP or JIT runtime reads for its thread count.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "GOTO_NUM_THREADS",
)
L2_TARGET = 1e-12  # relative objective gap
L1_TARGET = 1e-8  # KKT violation
TOL = 1e-8
FIRST_ORDER_MAX_ITER = 20_000
THREAD_VIOLATION = 3  # exit status of a child whose libraries run on more threads than stated
PACKAGES = (
    "sklearn-lnp",
    "numpy",
    "scipy",
    "scikit-learn",
    "glum",
    "tabmat",
    "skglm",
    "numba",
    "statsmodels",
    "pyglmnet",
    "threadpoolctl",
)

# -- the problems ---------------------------------------------------------------
# name -> kind, title, full size, quick size; cases are built in the child.
PROBLEMS = {
    "l1-sim-offset0": {
        "kind": "l1",
        "title": "L1, simulated 20,000 x 1500, offset 0 (no exposure), 0.01 alpha_max",
        "full": {"n_samples": 20_000, "fractions": [0.01], "exposure": False},
        "quick": {"n_samples": 600, "fractions": [0.01], "exposure": False},
    },
    "l1-sim-exposure": {
        "kind": "l1",
        "title": "L1, bench_lasso.py's simulation (20,000 x 1500, 10 ms bins +-10 % as exposure), "
        "0.1 and 0.01 alpha_max",
        "full": {"n_samples": 20_000, "fractions": [0.1, 0.01], "exposure": True},
        "quick": {"n_samples": 600, "fractions": [0.01], "exposure": True},
    },
    "l1-real-lags5": {
        "kind": "l1",
        "title": "L1, real neuron, lags 0..4 (1488 x 1500, exposure), 0.1 and 0.01 alpha_max",
        "full": {"real": True, "fractions": [0.1, 0.01], "exposure": True},
        "quick": {"real": True, "fractions": [0.01], "exposure": True, "head": (400, 300)},
    },
    "l2-real-lag0": {
        "kind": "l2",
        "title": "L2, real neuron, lag 0 (1488 x 300), alpha 0.01 and 1",
        "full": {"real": True, "n_lags": 1, "alphas": [0.01, 1.0]},
        "quick": {"real": True, "n_lags": 1, "alphas": [1.0], "head": (400, 300)},
    },
    "l2-real-lags5": {
        "kind": "l2",
        "title": "L2, real neuron, lags 0..4 (1484 x 1500), alpha 1 and 10",
        "full": {"real": True, "n_lags": 5, "alphas": [1.0, 10.0]},
        "quick": {"real": True, "n_lags": 5, "alphas": [1.0], "head": (400, 300)},
    },
    "l2-sim-5000": {
        "kind": "l2",
        "title": "L2, simulated 5,000 x 1500, alpha 0.3 (alpha n = 1500)",
        "full": {"n_samples": 5_000},
        "quick": {"n_samples": 500},
    },
    "l2-sim-20000": {
        "kind": "l2",
        "title": "L2, simulated 20,000 x 1500, alpha 0.075 (alpha n = 1500)",
        "full": {"n_samples": 20_000},
        "quick": {"n_samples": 800},
    },
    "l2-sim-100000": {
        "kind": "l2",
        "title": "L2, simulated 100,000 x 1500, alpha 0.015 (alpha n = 1500)",
        "full": {"n_samples": 100_000},
        "quick": {"n_samples": 1_000},
    },
    "l2-float32": {
        "kind": "f32",
        "title": "L2, float32 design: simulated 100,000 x 1500, alpha 0.015, float32 vs float64",
        "full": {"n_samples": 100_000},
        "quick": {"n_samples": 1_000},
    },
}
QUICK_SIM = {"frame_shape": (10, 15), "n_lags": 1}  # 150 columns
FULL_SIM = {"frame_shape": (20, 15), "n_lags": 5}  # 1500 columns
SIM_TOTAL_PENALTY = 1500.0  # alpha * n_samples of the simulated L2 problems (0.015 at 100,000)

# (method, setting, role, counts) per kind; role "ours" is the default estimator
# the ratio is taken of; counts: a peer that may be the reference of the ratio.
METHODS = {
    "l2": [
        ("sklearn-lnp auto", "default (tol=1e-8)", "ours", False),
        ("sklearn-lnp lbfgs", "tol=1e-8", "ours-other", False),
        ("sklearn-lnp newton-cholesky", "tol=1e-8", "ours-other", False),
        ("scipy L-BFGS-B (numpy f, grad)", "gtol=1e-8, ftol=0", "peer", True),
        ("scipy L-BFGS-B (numpy f, grad)", "default", "peer", True),
        ("sklearn lbfgs", "matched (tol=1e-8)", "peer", True),
        ("sklearn lbfgs", "default", "peer", True),
        ("glum lbfgs", "gradient_tol=1e-8", "peer", True),
        ("glum irls-ls", "gradient_tol=1e-8", "peer", True),
        ("glum irls-ls", "default", "peer", True),
    ],
    "l1": [
        ("sklearn-lnp prox-newton", "default (tol=1e-8)", "ours", False),
        ("glum irls-cd", "gradient_tol=1e-8", "peer", True),
        ("glum irls-cd", "default", "peer", True),
        ("skglm ProxNewton", "tol=1e-8", "peer", True),
        ("skglm ProxNewton", "default (tol=1e-4)", "peer", True),
    ],
    "f32": [
        ("sklearn-lnp auto", "float64 X", "ours", False),
        ("sklearn-lnp auto", "float32 X", "ours-f32", False),
        ("sklearn-lnp lbfgs", "float32 X", "ours-other", False),
        ("scipy L-BFGS-B (numpy f, grad)", "float32 X, gtol=1e-8, ftol=0", "peer", True),
        ("sklearn lbfgs", "float32 X, matched (tol=1e-8)", "peer", True),
    ],
}


# -- parent: machine, children, rendering -----------------------------------------
def load_average():
    try:
        return [round(float(x), 2) for x in os.getloadavg()]
    except OSError:
        return None


def pin_thread_environment(threads: int) -> None:
    """Set :data:`THREAD_VARIABLES` in this process: every runtime loaded from now on reads them.

    For a script that imported numpy already (its OpenBLAS is loaded), this
    covers the runtimes loaded later (scipy's OpenBLAS, OpenMP loaded by
    scikit-learn or by glum's tabmat during a fit, numba), which a
    ``threadpool_limits`` entered earlier does not.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def default_thread_environment(threads: int) -> None:
    """Set each of :data:`THREAD_VARIABLES` that the caller has not set to ``threads``.

    For a script run on its own: called before numpy is imported, it pins
    every runtime to ``threads`` unless the caller chose otherwise.
    """
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))


def child_environment(threads: int) -> dict:
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    # The child finds the package tree this script belongs to first.
    root = str(HERE.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_child(name: str, args, out_file: Path) -> int:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        name,
        "--child-out",
        str(out_file),
        "--threads",
        str(args.threads),
        "--repeats",
        str(args.repeats),
        "--slow-seconds",
        str(args.slow_seconds),
        "--data",
        str(args.data),
    ]
    if args.quick:
        command.append("--quick")
    if args.skip:
        command += ["--skip", *args.skip]
    completed = subprocess.run(command, env=child_environment(args.threads), cwd=HERE.parent)
    return completed.returncode


def parent(args) -> int:
    names = args.only or list(PROBLEMS)
    unknown = [n for n in names if n not in PROBLEMS]
    if unknown:
        print(f"unknown problem(s) {unknown}; see --list", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "run_all_quick" if args.quick else "run_all"
    command = "python benchmarks/run_all.py" + "".join(
        f" {a}" for a in (sys.argv[1:] if args.argv is None else args.argv)
    )
    payload = {
        "command": command,
        "quick": args.quick,
        "threads": args.threads,
        "thread_environment": {v: str(args.threads) for v in THREAD_VARIABLES},
        "machine": {
            "cpu": cpu_model(),
            "logical_cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        },
        "versions": package_versions(PACKAGES),
        "load_average_at_start": load_average(),
        "repeats": args.repeats,
        "slow_seconds": args.slow_seconds,
        "problems": [],
    }
    started = time.perf_counter()
    status = 0
    for name in names:
        print(f"\n=== {name}: {PROBLEMS[name]['title']}", flush=True)
        out_file = args.out / f".{stem}.{name}.json"
        out_file.unlink(missing_ok=True)
        code = run_child(name, args, out_file)
        if out_file.exists():
            result = json.loads(out_file.read_text())
            out_file.unlink()
        else:
            result = {
                "name": name,
                "title": PROBLEMS[name]["title"],
                "kind": PROBLEMS[name]["kind"],
            }
        pools = [
            *(result.get("threadpools_before") or []),
            *(result.get("threadpools_after") or []),
        ]
        if code == 0 and (
            any((p["num_threads"] or 0) > args.threads for p in pools)
            or (result.get("numba_threads") or 0) > args.threads
        ):  # checked in the child already; the parent checks the record it publishes
            code, result["status"] = THREAD_VIOLATION, "failed"
            result["reason"] = "a library ran on more threads than stated"
        result.setdefault("status", "ok" if code == 0 else "failed")
        if code != 0:
            result.setdefault("reason", "the problem's process failed (its output is above)")
        result["exit_status"] = code
        payload["problems"].append(result)
        if code == THREAD_VIOLATION:
            print(
                f"\nFAILED: {name}: a library ran on more threads than the {args.threads} stated "
                "(see the child's message above); the run is stopped.",
                file=sys.stderr,
            )
            status = THREAD_VIOLATION
            break
        if code != 0:
            print(f"\nFAILED: {name} exited with status {code}", file=sys.stderr)
            status = 1
    payload["load_average_at_end"] = load_average()
    payload["elapsed_seconds"] = time.perf_counter() - started
    (args.out / f"{stem}.json").write_text(json.dumps(payload, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(render(payload))
    print(f"\nwrote {args.out / (stem + '.md')} and .json ({payload['elapsed_seconds']:.0f} s)")
    return status


# -- rendering --------------------------------------------------------------------
def _t(seconds) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1.0 else f"{seconds:.2f} s"


def _e(x) -> str:
    if x is None or x != x or x in (float("inf"), float("-inf")):
        return "-"
    return "0" if x == 0 else f"{x:.1e}"


def _median(values):
    if not values:
        return None
    s = sorted(values)
    k = len(s) // 2
    return s[k] if len(s) % 2 else 0.5 * (s[k - 1] + s[k])


def _run(case, method, setting):
    return next(
        (r for r in case["runs"] if r["method"] == method and r["setting"] == setting), None
    )


def _ours(case, role="ours"):
    return next((r for r in case["runs"] if r["role"] == role), None)


def _brief(run, kind) -> str:
    if run is None:
        return "-"
    if run.get("skipped"):
        return f"skipped ({run['skipped']})"
    accuracy = f"KKT {_e(run['kkt'])}" if kind == "l1" else f"gap {_e(run['rel_gap'])}"
    return f"{_t(run['wall_median'])} / {_t(run['cpu_median'])} CPU ({accuracy})"


def _ratio(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def _named(case, method_setting, kind) -> str:
    method, setting = method_setting
    return f"{method} [{setting}]: " + _brief(_run(case, method, setting), kind)


def summary_tables(payload) -> list[str]:
    l2, l1, f32 = [], [], []
    for problem in payload["problems"]:
        for case in problem.get("cases", []):
            s = case["summary"]
            ours = _ours(case)
            ref = s.get("reference_peer")
            ref_text = _named(case, ref, problem["kind"]) if ref else "none reaches it"
            if problem["kind"] == "l2":
                any_ = s.get("fastest_peer_any")
                l2.append(
                    f"| {case['title']} | {_brief(ours, 'l2')} | {ref_text} "
                    f"| **{_ratio(s.get('ratio_wall'))}** | {_ratio(s.get('ratio_cpu'))} "
                    f"| {_named(case, any_, 'l2') if any_ else '-'} |"
                )
            elif problem["kind"] == "l1":
                glum = _run(case, "glum irls-cd", "gradient_tol=1e-8")
                skglm = _run(case, "skglm ProxNewton", "tol=1e-8")
                l1.append(
                    f"| {case['title']} | {_brief(ours, 'l1')} | {_brief(glum, 'l1')} "
                    f"| {_brief(skglm, 'l1')} | {ref_text} | **{_ratio(s.get('ratio_wall'))}** "
                    f"| {_ratio(s.get('ratio_cpu'))} |"
                )
            else:
                f = _ours(case, "ours-f32")
                m = case.get("memory", {})
                mib = 2.0**20
                f32.append(
                    f"| {case['title']} | {_brief(ours, 'l2')} | {_brief(f, 'l2')} "
                    f"| **{_ratio(s.get('ratio_wall'))}** | {_ratio(s.get('ratio_cpu'))} "
                    f"| {m.get('X_float64_bytes', 0) / mib:.0f} MiB -> "
                    f"{m.get('X_float32_bytes', 0) / mib:.0f} MiB "
                    f"| {m.get('fit_peak_float64_bytes', 0) / mib:.1f} MiB -> "
                    f"{m.get('fit_peak_float32_bytes', 0) / mib:.1f} MiB |"
                )
    out = []
    if l2:
        out += [
            '### L2 (`PoissonLNPRegressor`, `solver="auto"`, tol 1e-8)',
            "",
            "Times: median wall / median CPU. Ratio: sklearn-lnp's median time over that of the "
            f"fastest peer whose relative objective gap is <= {L2_TARGET:g} (wall; CPU).",
            "",
            "| problem | sklearn-lnp auto | fastest peer within 1e-12 | ratio (wall) "
            "| ratio (CPU) | fastest peer at any accuracy |",
            "|---|---|---|---:|---:|---|",
            *l2,
            "",
        ]
    if l1:
        out += [
            "### L1 (`LassoLNPRegressor`, tol 1e-8 on the KKT violation)",
            "",
            "Times: median wall / median CPU. Ratio: sklearn-lnp's median time over that of the "
            f"fastest peer whose KKT violation (of our objective) is <= {L1_TARGET:g}. skglm has "
            "no offset: on problems with exposure it fits without it (intercept shifted by "
            "mean log exposure), which is not our problem, so its KKT violation is large.",
            "",
            "| problem | sklearn-lnp | glum irls-cd (gradient_tol 1e-8) "
            "| skglm ProxNewton (tol 1e-8) | fastest peer with KKT <= 1e-8 | ratio (wall) "
            "| ratio (CPU) |",
            "|---|---|---|---|---|---:|---:|",
            *l1,
            "",
        ]
    if f32:
        out += [
            '### float32 designs (`PoissonLNPRegressor`, `solver="auto"`)',
            "",
            "Ratio: the float32 fit's median time over the float64 fit's. Memory: the design, "
            "and the peak of the arrays the fit allocates beyond it (tracemalloc).",
            "",
            "| problem | float64 X | float32 X | ratio (wall) | ratio (CPU) | X memory "
            "| fit's peak allocations |",
            "|---|---|---|---:|---:|---|---|",
            *f32,
            "",
        ]
    return out


def pools_text(pools) -> str:
    """threadpoolctl's report as one line: ``api version (library): threads, ...``."""
    return ", ".join(
        f"{p['internal_api']} {p.get('version') or ''} ({p['library']}): {p['num_threads']}"
        for p in pools
    )


def thread_lines(problem) -> list[str]:
    lines = []
    for label, key in (
        ("before the timings", "threadpools_before"),
        ("after", "threadpools_after"),
    ):
        pools = problem.get(key)
        if pools is None:
            continue
        lines.append(f"- thread pools {label}: {pools_text(pools)}")
    if "numba_threads" in problem:
        lines.append(f"- numba threads: {problem['numba_threads']}")
    if "threads_verified" in problem:
        lines.append(
            f"- every pool <= {problem['threads_stated']} thread(s): "
            f"{'verified' if problem['threads_verified'] else 'VIOLATED'}"
        )
    return lines


def case_table(case, kind) -> list[str]:
    accuracy = "KKT violation" if kind == "l1" else "max abs grad"
    lines = [
        f"| method | setting | wall (median) | CPU (median) | repeats | F - F_best | relative "
        f"| {accuracy} | iterations | non-zeros | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    order = sorted(case["runs"], key=lambda r: (r["wall_median"] is None, r["wall_median"] or 0.0))
    for r in order:
        if r.get("skipped"):
            lines.append(
                f"| {r['method']} | {r['setting']} | skipped | | | | | | | | {r['skipped']} |"
            )
            continue
        acc = r["kkt"] if kind == "l1" else r["optimality"]
        lines.append(
            f"| {r['method']} | {r['setting']} | {_t(r['wall_median'])} | {_t(r['cpu_median'])} "
            f"| {len(r['wall'])} | {_e(r['gap'])} | {_e(r['rel_gap'])} | {_e(acc)} "
            f"| {'-' if r.get('n_iter') is None else r['n_iter']} "
            f"| {'-' if r.get('nnz') is None else r['nnz']} | {r.get('note', '')} |"
        )
    return lines


def render(payload) -> str:
    m = payload["machine"]
    v = ", ".join(f"{k} {x}" for k, x in payload["versions"].items())
    env = " ".join(f"{k}={x}" for k, x in payload["thread_environment"].items())
    md = [
        "# sklearn-lnp benchmarks against scikit-learn, glum, skglm and scipy",
        "",
        f"Produced by `{payload['command']}` in {payload.get('elapsed_seconds', 0) / 60:.1f} min"
        + (
            " (**quick smoke run: tiny problems, not for publication**)."
            if payload["quick"]
            else "."
        ),
        "",
        f"- CPU: {m['cpu']}, {m['logical_cores']} logical cores; Python {m['python']} on "
        f"{m['platform']}; run at {m['date']}",
        f"- load average (1/5/15 min) at start: {payload['load_average_at_start']}, at end: "
        f"{payload.get('load_average_at_end')}",
        f"- {v}",
        f"- threads: {payload['threads']} per library, set in each problem's process before any "
        f"import ({env}) and verified with threadpoolctl after every peer was imported and run "
        "(per problem below)",
        f"- one process per problem; methods timed in {payload['repeats']} interleaved rounds "
        f"(a method slower than {payload['slow_seconds']:g} s in round 1 is timed once)",
        "",
        "Every answer is evaluated with sklearn-lnp's objective (mean Poisson NLL with exposure "
        "as offset, plus the penalty; `benchmarks/run_all.py`'s `evaluate`). F_best: the lowest "
        "objective found (L2: including a Newton polish of the best answer to max|grad| 1e-13).",
        "",
        "## Summary",
        "",
        *summary_tables(payload),
        "## Problems",
    ]
    for problem in payload["problems"]:
        md += ["", f"### {problem['name']}: {problem['title']}", ""]
        if problem.get("status") != "ok":
            md.append(
                f"**{problem.get('status')}**: {problem.get('reason', '')} "
                f"(exit status {problem.get('exit_status')})"
            )
            continue
        md += thread_lines(problem)
        md.append(
            f"- load average at start / end: {problem.get('load_average_at_start')} / "
            f"{problem.get('load_average_at_end')}"
        )
        for case in problem.get("cases", []):
            md += ["", f"#### {case['title']}", "", case["description"] + ".", ""]
            if case.get("reference"):
                md += [case["reference"], ""]
            md += case_table(case, "l1" if problem["kind"] == "l1" else "l2")
    return "\n".join(md) + "\n"


# -- child: one problem ---------------------------------------------------------------
def evaluate(X64, y, exposure, params, l1=0.0, l2=0.0) -> dict:
    """sklearn-lnp's objective at ``params = (w, b)``, its max |gradient| and KKT violation.

    ``F = mean(mu - y log mu) + l2 / 2 ||w||^2 + l1 ||w||_1``,
    ``mu = exposure exp(X w + b)``, in float64.  ``optimality``: the largest
    absolute gradient entry of the smooth part (L2 problems: of ``F``);
    ``kkt``: the largest violation of the L1 optimality conditions.
    """
    import numpy as np

    params = np.asarray(params, dtype=np.float64)
    nan = {"objective": float("nan"), "optimality": float("nan"), "kkt": float("nan")}
    if not np.all(np.isfinite(params)):
        return nan
    w, b = params[:-1], params[-1]
    eta = X64 @ w + b
    if exposure is not None:
        eta = eta + np.log(exposure)
    with np.errstate(over="ignore"):
        mu = np.exp(eta)
    if not np.all(np.isfinite(mu)):
        return nan
    n = y.shape[0]
    value = (mu.sum() - y @ eta) / n + 0.5 * l2 * (w @ w) + l1 * np.abs(w).sum()
    r = (mu - y) / n
    g = X64.T @ r + l2 * w
    gb = r.sum()
    optimality = max(float(np.max(np.abs(g))), abs(float(gb)))
    kkt = np.where(w != 0, np.abs(g + l1 * np.sign(w)), np.maximum(np.abs(g) - l1, 0.0))
    return {
        "objective": float(value),
        "optimality": optimality,
        "kkt": max(float(np.max(kkt)), abs(float(gb))),
    }


def thread_pools() -> list[dict]:
    from threadpoolctl import threadpool_info

    return [
        {
            "internal_api": p.get("internal_api"),
            "version": p.get("version"),
            "num_threads": p.get("num_threads"),
            "library": p.get("filepath", "").split("site-packages/")[-1],
            "user_api": p.get("user_api"),
        }
        for p in threadpool_info()
    ]


def numba_threads():
    try:
        import numba
    except ImportError:
        return None
    return int(numba.get_num_threads())


def check_threads(stated: int, where: str) -> tuple[list[dict], int | None]:
    """Record the pools; exit with :data:`THREAD_VIOLATION` if any has more than ``stated``."""
    pools, numba_n = thread_pools(), numba_threads()
    bad = [p for p in pools if p["num_threads"] is not None and p["num_threads"] > stated]
    if numba_n is not None and numba_n > stated:
        bad.append({"library": "numba", "num_threads": numba_n})
    if bad:
        listing = "; ".join(f"{p['library']}: {p['num_threads']} threads" for p in bad)
        print(
            f"\nTHREAD CHECK FAILED {where}: {listing} (stated: {stated}). The environment "
            f"variables {', '.join(THREAD_VARIABLES)} must be set before any import.",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(THREAD_VIOLATION)
    return pools, numba_n


def import_peers() -> dict:
    """Import every peer (and the runtimes it loads); which ones failed, and why."""
    import importlib

    failed = {}
    for module in (
        "numpy",
        "scipy.linalg",
        "scipy.optimize",
        "sklearn.linear_model",
        "sklearn_lnp",
        "glum",
        "skglm",
        "statsmodels.api",
        "numba",
        "threadpoolctl",
    ):
        try:
            importlib.import_module(module)
        except Exception as exc:  # an absent peer is a skipped row, not a crash
            failed[module] = f"{type(exc).__name__}: {exc}"
    return failed


def lags_label(n_lags: int) -> str:
    return "real neuron, lag 0" if n_lags == 1 else f"real neuron, lags 0..{n_lags - 1}"


def build_cases(name: str, spec: dict, quick: bool, data: Path):
    """``[(case_title, description, problem object, X64, alpha)]`` of one problem."""
    import warnings

    import numpy as np
    from bench_lasso import Problem as LassoProblem
    from bench_lasso import real_design, simulated_design
    from bench_poisson_l2 import as_float32, real_problem, simulated_problem

    size = spec["quick" if quick else "full"]
    sim = QUICK_SIM if quick else FULL_SIM
    cases = []
    if spec["kind"] == "l1":
        if size.get("real"):
            label, X, y, exposure = real_design(data)
        elif quick:
            p = simulated_problem(size["n_samples"], sim["frame_shape"], sim["n_lags"], 0.0)
            label, X, y, exposure = (
                "simulated",
                p.X,
                p.y,
                p.exposure,
            )
        else:
            label, X, y, exposure = simulated_design(size["n_samples"])
        if "head" in size:
            r, c = size["head"]
            X, y, exposure = np.ascontiguousarray(X[:r, :c]), y[:r], exposure[:r]
        if not size["exposure"]:
            exposure = None
        # alpha_max: max_j |g_j| at the intercept-only optimum (what lasso_lnp_path computes)
        e = np.ones_like(y) if exposure is None else exposure
        b0 = np.log(y.sum() / e.sum())
        alpha_max = float(np.max(np.abs(X.T @ (e * np.exp(b0) - y))) / y.shape[0])
        for fraction in size["fractions"]:
            alpha = fraction * alpha_max
            which = "exposure" if exposure is not None else "offset 0"
            title = f"{label} ({X.shape[0]} x {X.shape[1]}), {which}, {fraction:g} alpha_max"
            description = (
                f"{label}: {X.shape[0]} x {X.shape[1]}, {which}, alpha = {fraction:g} x alpha_max "
                f"= {alpha:.4g}, mean count {y.mean():.3f}/bin"
            )
            problem = LassoProblem(title, X, y, exposure, alpha, description)
            cases.append((title, description, problem, X, alpha))
        return cases
    if size.get("real"):
        for alpha in size["alphas"]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p = real_problem(data, size["n_lags"], alpha)
            if "head" in size:
                r, c = size["head"]
                p = p.head(r, min(c, p.X.shape[1]))
            cases.append(
                (
                    f"{lags_label(size['n_lags'])}, alpha={alpha:g} "
                    f"({p.X.shape[0]} x {p.X.shape[1]})",
                    p.description,
                    p,
                    p.X,
                    alpha,
                )
            )
        return cases
    n = size["n_samples"]
    p = simulated_problem(n, sim["frame_shape"], sim["n_lags"], SIM_TOTAL_PENALTY / n)
    if spec["kind"] == "f32":
        p32 = as_float32(p)
        title = f"simulated {n} x {p.X.shape[1]}, float32 vs float64"
        return [(title, p.description, (p, p32), p.X, p.alpha)]
    return [(f"{p.name}, alpha {p.alpha:g}", p.description, p, p.X, p.alpha)]


def fit_function(kind: str, method: str, setting: str):
    """``fit(problem) -> {"params", "n_iter", "note", ...}`` for one row of :data:`METHODS`."""
    import numpy as np
    from bench_lasso import glum_lasso, skglm_lasso
    from bench_poisson_l2 import glum_poisson, scipy_lbfgs, sklearn_poisson

    if kind == "l1":
        if method.startswith("sklearn-lnp"):

            def fit(p):
                from sklearn_lnp import LassoLNPRegressor

                model = LassoLNPRegressor(alpha=p.alpha, tol=TOL)
                model.fit(p.X, p.y, exposure=p.exposure)
                return {
                    "params": np.append(model.coef_, model.intercept_),
                    "n_iter": int(model.n_iter_),
                    "reported_objective": float(model.objective_),
                    "reported_optimality": float(model.optimality_),
                }

            return fit
        matched = "1e-8" in setting
        return glum_lasso(matched) if method.startswith("glum") else skglm_lasso(matched)

    pick32 = kind == "f32" and "float32" in setting
    if method.startswith("sklearn-lnp"):
        solver = method.split()[-1]

        def fit(p):
            from sklearn_lnp import PoissonLNPRegressor

            if isinstance(p, tuple):
                p = p[1] if pick32 else p[0]
            model = PoissonLNPRegressor(
                alpha=p.alpha, solver=solver, tol=TOL, max_iter=FIRST_ORDER_MAX_ITER
            )
            model.fit(p.X, p.y, exposure=p.exposure)
            return {
                "params": np.append(model.coef_, model.intercept_),
                "n_iter": int(model.n_iter_),
                "note": str(model.solver_) if solver == "auto" else "",
                "reported_objective": float(model.objective_),
                "reported_optimality": float(model.optimality_),
            }

        return fit
    matched = "1e-8" in setting
    if method.startswith("scipy"):
        inner = scipy_lbfgs(matched)
    elif method.startswith("sklearn"):
        inner = sklearn_poisson("lbfgs", matched)
    else:
        inner = glum_poisson(method.split()[-1], matched)

    def fit(p):
        if isinstance(p, tuple):
            p = p[1] if pick32 else p[0]
        return inner(p)

    return fit


def small_version(problem):
    """A slice of ``problem`` for the untimed warm-up (imports, JIT, lazy BLAS)."""
    import numpy as np

    if isinstance(problem, tuple):
        return tuple(small_version(p) for p in problem)
    if hasattr(problem, "head"):
        return problem.head(min(300, problem.X.shape[0]), min(50, problem.X.shape[1]))
    from bench_lasso import Problem as LassoProblem

    X = np.ascontiguousarray(problem.X[:300, :50])
    e = None if problem.exposure is None else problem.exposure[:300]
    return LassoProblem("warm-up", X, problem.y[:300], e, problem.alpha, "")


def prepare(problem):
    """Attributes the bench_poisson_l2 wrappers expect (``log_exposure``)."""
    import numpy as np

    if isinstance(problem, tuple):
        for p in problem:
            prepare(p)
    elif not isinstance(getattr(type(problem), "log_exposure", None), property):
        problem.log_exposure = np.log(problem.exposure)
    return problem


def time_case(kind, problem, methods, args, log, pools_ok):
    """Warm up, then time every method in interleaved rounds; returns rows and last outputs."""
    import warnings

    rows, active = [], []
    for method, setting, role, counts in methods:
        row = {
            "method": method,
            "setting": setting,
            "role": role,
            "counts": counts,
            "wall": [],
            "cpu": [],
            "skipped": "",
            "note": "",
        }
        rows.append(row)
        module = {"glum": "glum", "skglm": "skglm", "sklearn ": "sklearn"}
        needed = next((m for key, m in module.items() if method.startswith(key)), None)
        if needed and needed in args.import_failures:
            row["skipped"] = f"{needed} not importable: {args.import_failures[needed][:60]}"
        elif any(s.lower() in f"{method} {setting}".lower() for s in args.skip):
            row["skipped"] = "--skip"
        if row["skipped"]:
            continue
        fit = fit_function(kind, method, setting)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit(prepare(small_version(problem)))
        except Exception as exc:  # a peer failing is a result, not a crash
            row["skipped"] = f"failed in warm-up: {type(exc).__name__}: {str(exc)[:80]}"
            continue
        active.append((row, fit))
    pools_ok("after the warm-up")
    outputs, warned = {}, {id(r): set() for r, _ in active}
    for round_ in range(args.repeats):
        for row, fit in active:
            if row["skipped"] or (round_ and row["wall"][0] > args.slow_seconds):
                continue
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    c0, w0 = time.process_time(), time.perf_counter()
                    out = fit(problem)
                    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            except Exception as exc:
                row["skipped"] = f"failed: {type(exc).__name__}: {str(exc)[:80]}"
                continue
            row["wall"].append(wall)
            row["cpu"].append(cpu)
            outputs[id(row)] = out
            warned[id(row)].update(w.category.__name__ for w in caught)
        log(f"  round {round_ + 1}/{args.repeats} done (load {load_average()})")
    for row, _ in active:
        if row["skipped"]:
            continue
        out = outputs[id(row)]
        row["output"] = out
        notes = [out.get("note") or "", *sorted(warned[id(row)])]
        if args.threads == 1 and sum(row["cpu"]) > 1.2 * sum(row["wall"]) + 0.05:
            notes.append("CPU > 1.2 x wall: more than one busy thread")
        row["note"] = ", ".join(n for n in notes if n)
        row["n_iter"] = out.get("n_iter")
    return rows


def polish_l2(problem, params):
    """Newton (public estimator, warm start) from ``params`` to max|grad| 1e-13."""
    import warnings

    import numpy as np

    from sklearn_lnp import PoissonLNPRegressor

    model = PoissonLNPRegressor(
        alpha=problem.alpha, solver="newton-cholesky", tol=1e-13, max_iter=50, warm_start=True
    )
    model.coef_ = np.array(params[:-1], dtype=np.float64)
    model.intercept_ = float(params[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(problem.X, problem.y, exposure=problem.exposure)
    return np.append(model.coef_, model.intercept_)


def fit_memory(fit, problem) -> int:
    """Peak bytes the fit allocates beyond what exists when it starts (tracemalloc)."""
    import tracemalloc
    import warnings

    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit(problem)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return int(peak - base)


def finish_case(kind, case_title, description, problem, X64, alpha, rows, log) -> dict:
    import numpy as np

    base = problem[0] if isinstance(problem, tuple) else problem
    l1, l2 = (alpha, 0.0) if kind == "l1" else (0.0, alpha)
    for row in rows:
        if row["skipped"]:
            row.update(
                wall_median=None,
                cpu_median=None,
                objective=None,
                optimality=None,
                kkt=None,
                gap=None,
                rel_gap=None,
                nnz=None,
            )
            continue
        out = row.pop("output")
        ev = evaluate(X64, base.y, base.exposure, out["params"], l1=l1, l2=l2)
        row.update(ev)
        row["nnz"] = int(np.count_nonzero(np.asarray(out["params"])[:-1]))
        row["wall_median"], row["cpu_median"] = _median(row["wall"]), _median(row["cpu"])
        if "reported_objective" in out:
            row["reported_objective"] = out["reported_objective"]
            diff = abs(out["reported_objective"] - ev["objective"])
            if diff > 1e-12 * max(1.0, abs(ev["objective"])):
                row["note"] = ", ".join(
                    filter(None, [row["note"], f"objective_ differs from evaluate by {diff:.1e}"])
                )
        row["params"] = np.asarray(out["params"], dtype=np.float64)
    finite = [r for r in rows if r.get("objective") is not None and np.isfinite(r["objective"])]
    reference = ""
    best = min(r["objective"] for r in finite) if finite else float("nan")
    if kind != "l1" and finite:
        start = min(finite, key=lambda r: r["objective"])["params"]
        polished = polish_l2(base, start)
        ev = evaluate(X64, base.y, base.exposure, polished, l2=l2)
        reference = (
            f"Newton polish of the best answer: F = {ev['objective']:.17g}, max|grad| "
            f"{ev['optimality']:.1e}; F_best = {min(best, ev['objective']):.17g}."
        )
        best = min(best, ev["objective"])
    for row in rows:
        row.pop("params", None)
        if row.get("objective") is None or not np.isfinite(row["objective"]):
            continue
        row["gap"] = row["objective"] - best
        row["rel_gap"] = row["gap"] / abs(best) if best != 0 else row["gap"]
        acc = row["kkt"] if kind == "l1" else row["rel_gap"]
        log(
            f"  {row['method']:32s} {row['setting']:30s} wall {row['wall_median']:8.3f} s "
            f"cpu {row['cpu_median']:8.3f} s ({len(row['wall'])}x) "
            f"{'KKT' if kind == 'l1' else 'gap'} {acc:.1e} {row['note']}"
        )
    ours = next((r for r in rows if r["role"] == "ours" and not r["skipped"]), None)
    target = L1_TARGET if kind == "l1" else L2_TARGET

    def accurate(r):
        value = r["kkt"] if kind == "l1" else r["rel_gap"]
        return value is not None and np.isfinite(value) and value <= target

    peers = [r for r in rows if r["counts"] and not r["skipped"]]
    summary = {"target": target}
    if kind == "f32":
        peers = [r for r in rows if r["role"] == "ours-f32" and not r["skipped"]]
    exact = [r for r in peers if kind == "f32" or accurate(r)]
    if ours is not None and exact:
        ref = min(exact, key=lambda r: r["wall_median"])
        summary["reference_peer"] = [ref["method"], ref["setting"]]
        if kind == "f32":  # float32 over float64
            summary["ratio_wall"] = ref["wall_median"] / ours["wall_median"]
            summary["ratio_cpu"] = ref["cpu_median"] / ours["cpu_median"]
        else:
            summary["ratio_wall"] = ours["wall_median"] / ref["wall_median"]
            ref_cpu = min(exact, key=lambda r: r["cpu_median"])
            summary["ratio_cpu"] = ours["cpu_median"] / ref_cpu["cpu_median"]
    if peers and kind != "f32":
        any_ = min(peers, key=lambda r: r["wall_median"])
        summary["fastest_peer_any"] = [any_["method"], any_["setting"]]
    if ours is not None:
        summary["ours_accurate"] = bool(accurate(ours))
    shape = list(base.X.shape)
    return {
        "title": case_title,
        "description": description,
        "alpha": alpha,
        "shape": shape,
        "best_objective": best,
        "reference": reference,
        "runs": rows,
        "summary": summary,
    }


def child(args) -> int:
    missing = [v for v in THREAD_VARIABLES if os.environ.get(v) != str(args.threads)]
    if missing:
        print(
            f"run_all --child needs {missing} = {args.threads} in its environment before "
            "any import (run it through the parent, python benchmarks/run_all.py)",
            file=sys.stderr,
        )
        return 2
    spec = PROBLEMS[args.child]
    sys.path.insert(0, str(HERE))
    result = {
        "name": args.child,
        "title": spec["title"],
        "kind": spec["kind"],
        "threads_stated": args.threads,
        "load_average_at_start": load_average(),
        "environment": {v: os.environ[v] for v in THREAD_VARIABLES},
    }

    def write(status, reason=""):
        result.update(status=status, reason=reason, load_average_at_end=load_average())
        Path(args.child_out).write_text(json.dumps(result, indent=1, default=float) + "\n")

    def log(message):
        print(message, flush=True)

    size = spec["quick" if args.quick else "full"]
    if size.get("real") and not args.data.exists():
        log(f"  skipped: the recording is not at {args.data}")
        write("skipped", f"recording not found at {args.data}")
        return 0
    args.import_failures = import_peers()
    result["import_failures"] = args.import_failures

    def pools_ok(where):
        pools, numba_n = check_threads(args.threads, where)
        key = "threadpools_before" if "threadpools_before" not in result else "threadpools_after"
        if "after the timings" in where:
            key = "threadpools_after"
        result[key], result["numba_threads"] = pools, numba_n

    result["cases"] = []
    try:
        cases = build_cases(args.child, spec, args.quick, args.data)
        for case_title, description, problem, X64, alpha in cases:
            log(f"-- {case_title}: {description}")
            prepare(problem)
            rows = time_case(spec["kind"], problem, METHODS[spec["kind"]], args, log, pools_ok)
            case = finish_case(
                spec["kind"], case_title, description, problem, X64, alpha, rows, log
            )
            if spec["kind"] == "f32":
                f64 = fit_function("f32", "sklearn-lnp auto", "float64 X")
                f32 = fit_function("f32", "sklearn-lnp auto", "float32 X")
                case["memory"] = {
                    "X_float64_bytes": int(problem[0].X.nbytes),
                    "X_float32_bytes": int(problem[1].X.nbytes),
                    "fit_peak_float64_bytes": fit_memory(f64, problem),
                    "fit_peak_float32_bytes": fit_memory(f32, problem),
                }
                log(f"  memory: {case['memory']}")
            result["cases"].append(case)
        pools_ok("after the timings")
        result["threads_verified"] = True
    except SystemExit:
        result["threads_verified"] = False
        write("failed", "a library ran on more threads than stated")
        raise
    write("ok")
    return 0


def list_problems() -> None:
    for name, spec in PROBLEMS.items():
        print(f"{name:16s} {spec['title']}")
        for method, setting, _, _ in METHODS[spec["kind"]]:
            print(f"{'':16s}   {method} [{setting}]")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny problems, 1 repeat (smoke)")
    parser.add_argument("--only", nargs="+", metavar="PROBLEM", help="run these problems only")
    parser.add_argument("--list", action="store_true", help="list the problems and methods")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="re-render the Markdown next to a results JSON (no fits)",
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per library (1)")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (5; quick: 1)")
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=20.0,
        help="methods slower than this in round 1 are timed once (20)",
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="skip methods whose name or setting contains any of these",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the .mat recording")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    if args.list:
        list_problems()
        return 0
    if args.render is not None:
        payload = json.loads(args.render.read_text())
        args.render.with_suffix(".md").write_text(render(payload))
        print(f"wrote {args.render.with_suffix('.md')}")
        return 0
    if args.child:
        return child(args)
    return parent(args)


if __name__ == "__main__":
    raise SystemExit(main())
