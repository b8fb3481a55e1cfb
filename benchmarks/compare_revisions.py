"""Same-machine before/after: sklearn-lnp's own fits at two revisions, timed in alternation.

Run from the repository root::

    python benchmarks/compare_revisions.py --old ../pre            # every problem
    python benchmarks/compare_revisions.py --old ../pre --quick    # tiny slices (smoke)
    python benchmarks/compare_revisions.py --old ../pre --only l2-real-lag0 l1-cv-real-lags5
    python benchmarks/compare_revisions.py --list
    python benchmarks/compare_revisions.py --render benchmarks/results/compare_revisions.json

``--old`` and ``--new`` are two checkouts of this repository (``--new``
defaults to the one this script lives in).  Writes ``compare_revisions.md``
and ``.json`` into ``--out`` (default ``benchmarks/results``; ``--quick``
writes ``compare_revisions_quick.*``).  The problems' arrays are written to
a scratch folder in the system's temporary directory (``TMPDIR``; up to
1.2 GB, for the 100,000 x 1500 design) and removed at the end.

Expected time on the 2-core development machine when it is quiet: about
10-15 minutes for every problem with the defaults (2 rounds x 3 fits per
revision: 12 fits of each case, about 35 s of fitting per revision and
repetition, most of it the two 20,000-row lasso fits and ``LassoLNPCV``;
40 child processes of 2-3 s of imports, loading and warm-up each).
``--quick``: about 2 minutes.  The three population problems add about
10 minutes (12 fits of 5-20 s each per problem, and 12 children loading a
240 MB design).  Run it on a quiet machine: the load
average at start and end is in the table.

What is compared
----------------
The problems and settings of ``run_all.py`` (built by its ``build_cases``),
for sklearn-lnp's estimators only: L2 ``PoissonLNPRegressor(alpha,
solver="auto", tol=1e-8, max_iter=20000)`` on every L2 problem and on the
float32 design (its float32 fit); L1 ``LassoLNPRegressor(alpha, tol=1e-8)``
on every L1 problem; and, as ``bench_lasso.py --sections cv`` builds it,
``LassoLNPCV`` on the real neuron's 5-lag design with exposure (20 alphas
down to 0.01 alpha_max, 5 blocked folds with a gap of 4, refit at the
chosen alpha; ``n_jobs=1``, coordinate-descent inner solver); and the
population fits that ``bench_population.py`` and
``bench_population_lasso.py`` time, on their 200 simulated neurons sharing a
20,000 x 1500 design: ``PoissonLNPRegressor(alpha=1e-3)`` on all neurons at
once, and each revision's own ``_fit_population`` of its
``bench_population_lasso.py`` (loaded from that checkout) with one alpha
(0.3 x the median ``alpha_max``) and with one alpha per neuron (0.5 x each
``alpha_max``).  Their accuracy is each revision's reported optimality
(max |grad| for L2, KKT violation for L1) and the largest relative
difference of a neuron's objective between the two revisions' answers.

How the numbers are made to hold up
-----------------------------------
* **Identical arrays.**  Each problem is built once, by a process importing
  the ``--new`` checkout, and saved to a temporary ``.npz``; every child of
  both revisions loads that file.
* **One process per revision and round.**  A child is started with
  ``PYTHONPATH=<that checkout>`` (nothing else on it) and the thread
  variables of ``run_all.child_environment`` set before any import; it
  checks that ``sklearn_lnp.__file__`` lies under the checkout it was given
  (exit status 4 otherwise) and records it.  It fits every case once on a
  slice (imports, numba compilation, lazily loaded BLAS outside the
  timings), verifies every thread pool with threadpoolctl after the warm-up
  and after the timings (``run_all.check_threads``: exit status 3 on a
  violation, which stops the run), then fits each case ``--repeats`` times,
  recording ``time.process_time`` and ``time.perf_counter``.
* **Alternation.**  Round ``k`` of a problem runs the old child then the new
  one when ``k`` is even, the new one first when odd, so a drift of the
  machine's load falls on both.  Table times are medians over every repeat
  of every round.
* **Accuracy beside speed.**  Every answer (of every round) is evaluated in
  the parent with ``run_all.evaluate`` (sklearn-lnp's objective in numpy
  float64): L2 by the relative objective gap to the lower of the two
  revisions' objectives (and max|grad|), L1 by the largest KKT violation of
  the objective; the worst over the rounds is reported, so a faster but
  less accurate revision cannot win silently.

Adapting to an older API: :data:`PARAMETER_RENAMES` maps a parameter's
current name to its name at an older revision (none were needed against
3b7a0fa: its ``PoissonLNPRegressor``, ``LassoLNPRegressor`` and
``LassoLNPCV`` accept every parameter used here).  A parameter the old
estimator lacks, or a fit that raises, is recorded in the table's note
instead of stopping the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import cpu_model, package_versions
from run_all import (
    DEFAULT_DATA,
    FIRST_ORDER_MAX_ITER,
    PROBLEMS,
    RESULTS,
    THREAD_VARIABLES,
    THREAD_VIOLATION,
    TOL,
    _e,
    _median,
    _t,
    child_environment,
    load_average,
    pools_text,
)

HERE = Path(__file__).resolve().parent
WRONG_TREE = 4  # exit status of a child that imported sklearn_lnp from another checkout


def _shown(path) -> str:
    """``path`` relative to this repository's root, as the result files record it."""
    return os.path.relpath(Path(path).resolve(), HERE.parent)


PACKAGES = ("numpy", "scipy", "scikit-learn", "numba", "threadpoolctl")

CV_PROBLEM = "l1-cv-real-lags5"
CV_SPEC = {
    "kind": "l1cv",
    "title": "LassoLNPCV, real neuron, lags 0..4 (1488 x 1500, exposure), 20 alphas x 5 "
    "blocked folds (gap 4), refit at alpha_",
    "full": {"n_alphas": 20},
    "quick": {"n_alphas": 6, "head": (400, 300)},
}
CV_FOLDS, CV_GAP = 5, 4


# Populations: the fits that bench_population.py (L2) and bench_population_lasso.py
# (L1, one alpha and one alpha per neuron) time, on their simulated neurons.
POPULATION_SIZES = {"full": (20000, 50, 30, 200), "quick": (2000, 15, 10, 20)}
POPULATION_PROBLEMS = {
    "l2-population": {
        "kind": "pop",
        "penalty": "l2",
        "alpha": 1e-3,
        "title": "PoissonLNPRegressor(alpha=1e-3) on 200 neurons at once, 20,000 x 1500 "
        "(bench_population.py's population fit)",
    },
    "l1-population": {
        "kind": "pop",
        "penalty": "l1",
        "fraction": 0.3,
        "per_neuron": False,
        "title": "LassoLNPRegressor on 200 neurons at once, one alpha = 0.3 x median "
        "alpha_max, 20,000 x 1500 (bench_population_lasso.py's population fit)",
    },
    "l1-population-per-neuron": {
        "kind": "pop",
        "penalty": "l1",
        "fraction": 0.5,
        "per_neuron": True,
        "title": "proximal Newton on 200 neurons at once, alpha_j = 0.5 x alpha_max_j, "
        "20,000 x 1500 (bench_population_lasso.py --per-neuron --alpha-fraction 0.5)",
    },
}


def all_problems() -> dict:
    """run_all's problems, the LassoLNPCV problem and the populations, name -> spec."""
    return {**PROBLEMS, CV_PROBLEM: CV_SPEC, **POPULATION_PROBLEMS}


# current parameter name -> its name at an older revision, per estimator
PARAMETER_RENAMES: dict[str, dict[str, str]] = {
    "PoissonLNPRegressor": {},
    "LassoLNPRegressor": {},
    "LassoLNPCV": {},
}


def estimator_settings(kind: str, alpha=None, n_alphas=None, folds=None) -> tuple[str, dict]:
    """The estimator (name in ``sklearn_lnp``) and parameters of one case, as run_all fits it."""
    if kind in ("l2", "f32"):
        return "PoissonLNPRegressor", {
            "alpha": alpha,
            "solver": "auto",
            "tol": TOL,
            "max_iter": FIRST_ORDER_MAX_ITER,
        }
    if kind == "l1":
        return "LassoLNPRegressor", {"alpha": alpha, "tol": TOL}
    return "LassoLNPCV", {
        "alphas": n_alphas,
        "cv": folds,
        "n_jobs": 1,
        "solver_options": {"inner": "cd"},
    }


# -- building the problems (a process importing the --new checkout) -------------
def build(args) -> int:
    """Save every case of problem ``args.build`` to ``args.build_dir``; write its manifest."""
    import numpy as np
    from run_all import build_cases

    import sklearn_lnp

    name = args.build
    spec = all_problems()[name]
    size = spec.get("quick" if args.quick else "full", {})  # populations: none
    out = Path(args.build_dir)
    manifest = {"problem": name, "built_with": _shown(sklearn_lnp.__file__)}
    cases = []
    if spec["kind"] == "pop":
        cases.append(_build_population(spec, args.quick, out / f"{name}-0.npz"))
    elif spec["kind"] == "l1cv":
        from bench_lasso import real_design

        from sklearn_lnp.model_selection import BlockedTimeSeriesSplit

        label, X, y, exposure = real_design(args.data)
        if "head" in size:
            r, c = size["head"]
            X, y, exposure = np.ascontiguousarray(X[:r, :c]), y[:r], exposure[:r]
        folds = list(BlockedTimeSeriesSplit(CV_FOLDS, gap=CV_GAP).split(X))
        arrays = {"X": X, "y": y, "exposure": exposure}
        for k, (train, test) in enumerate(folds):
            arrays[f"train{k}"], arrays[f"test{k}"] = train, test
        path = out / f"{name}-0.npz"
        np.savez(path, **arrays)
        title = (
            f"LassoLNPCV, {label} ({X.shape[0]} x {X.shape[1]}), exposure, "
            f"{size['n_alphas']} alphas x {CV_FOLDS} blocked folds"
        )
        cases.append(
            {
                "title": title,
                "description": f"{title}, gap {CV_GAP}, refit at alpha_",
                "file": str(path),
                "n_alphas": size["n_alphas"],
                "n_folds": len(folds),
                "shape": list(X.shape),
                "dtype": str(X.dtype),
            }
        )
    else:
        for k, (title, description, problem, X64, alpha) in enumerate(
            build_cases(name, spec, args.quick, args.data)
        ):
            if spec["kind"] == "f32":
                p64, problem = problem
                # the float32 fit is the one compared; evaluation casts its X back to
                # float64, exact because the simulated design's entries are +-1
                if not np.array_equal(problem.X, X64):
                    raise AssertionError("the float32 design is not exactly its float64 design")
                title = f"{p64.name}, alpha {alpha:g}, float32 X"
                del p64
            exposure = problem.exposure
            arrays = {"X": problem.X, "y": problem.y}
            if exposure is not None:
                arrays["exposure"] = exposure
            path = out / f"{name}-{k}.npz"
            np.savez(path, **arrays)
            cases.append(
                {
                    "title": title,
                    "description": description,
                    "file": str(path),
                    "alpha": float(alpha),
                    "shape": list(problem.X.shape),
                    "dtype": str(problem.X.dtype),
                }
            )
            del problem, X64
    manifest["cases"] = cases
    Path(args.build_out).write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


def _build_population(spec, quick: bool, path: Path) -> dict:
    """Simulate the population benchmarks' neurons (and their alphas); save them to ``path``."""
    import numpy as np
    from bench_population import simulate
    from bench_population_lasso import alpha_maxima

    n_samples, width, height, n_neurons = POPULATION_SIZES["quick" if quick else "full"]
    X, Y = simulate(n_samples, width, height, n_neurons)
    if spec["penalty"] == "l2":
        alphas = np.full(n_neurons, spec["alpha"])
    elif spec["per_neuron"]:
        alphas = spec["fraction"] * alpha_maxima(X, Y)
    else:
        alphas = np.full(n_neurons, spec["fraction"] * float(np.median(alpha_maxima(X, Y))))
    np.savez(path, X=X, Y=Y, alphas=alphas)
    title = f"{n_neurons} neurons, {n_samples} x {X.shape[1]}"
    return {
        "title": title,
        "description": spec["title"],
        "file": str(path),
        "shape": list(X.shape),
        "n_neurons": n_neurons,
        "dtype": str(X.dtype),
        "penalty": spec["penalty"],
        "per_neuron": bool(spec.get("per_neuron", False)),
    }


# -- a child: one revision, one problem -------------------------------------------
class _PopulationFit:
    """A population fit at the child's revision, as its own benchmark script makes it.

    L2: ``PoissonLNPRegressor(alpha, tol=1e-8).fit(X, Y)`` (bench_population.py).
    L1: ``_fit_population`` of that revision's ``benchmarks/bench_population_lasso.py``
    (the estimator for one alpha, its solver for one alpha per neuron).
    """

    def __init__(self, tree: Path, case, alphas):
        self.case, self.alphas = case, alphas
        self.script = None
        if case["penalty"] == "l1":
            import importlib.util

            path = tree / "benchmarks" / "bench_population_lasso.py"
            loader = importlib.util.spec_from_file_location("_revision_population_lasso", path)
            self.script = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(self.script)

    def fit(self, X, Y, exposure=None):
        import numpy as np

        from sklearn_lnp import PoissonLNPRegressor

        if self.script is None:
            alpha = float(self.alphas[0])
            model = PoissonLNPRegressor(alpha=alpha, tol=TOL).fit(X, Y)
            objective, optimality = model.objective_, model.optimality_
            nonzero, n_iter = np.count_nonzero(model.coef_, axis=1), model.n_iter_
        else:
            alphas = self.alphas[: Y.shape[1]]
            objective, optimality, nonzero = self.script._fit_population(
                X, Y, alphas, self.case["per_neuron"]
            )
            n_iter = [0]
        self.output = {
            "objectives": np.asarray(objective, dtype=float).tolist(),
            "max_optimality": float(np.max(optimality)),
            "n_nonzero": int(np.sum(nonzero)),
            "n_iter": int(np.max(n_iter)),
            "solver": "",
        }
        return self

    def warm_up(self, X, Y) -> None:
        r, c, k = min(300, X.shape[0]), min(50, X.shape[1]), min(5, Y.shape[1])
        import numpy as np

        self.fit(np.ascontiguousarray(X[:r, :c]), np.ascontiguousarray(Y[:r, :k]))


def _load_case(case):
    import numpy as np

    with np.load(case["file"]) as data:
        arrays = {key: data[key] for key in data.files}
    if "Y" in arrays:  # a population: X, Y and the alphas
        return arrays["X"], arrays["Y"], arrays["alphas"], None
    folds = None
    if "n_folds" in case:
        folds = [(arrays[f"train{k}"], arrays[f"test{k}"]) for k in range(case["n_folds"])]
    return arrays["X"], arrays["y"], arrays.get("exposure"), folds


def _estimator(kind, case, folds, small=False):
    """The estimator of one case at this revision, or the reason it cannot be built."""
    import sklearn_lnp

    name, params = estimator_settings(kind, case.get("alpha"), case.get("n_alphas"), folds)
    if small and kind == "l1cv":  # warm-up: the same code path on a short grid
        params = dict(params, alphas=2, cv=3)
    cls = getattr(sklearn_lnp, name, None)
    if cls is None:
        return None, f"sklearn_lnp.{name} does not exist at this revision"
    renames = PARAMETER_RENAMES[name]
    params = {renames.get(key, key): value for key, value in params.items()}
    missing = sorted(set(params) - set(cls().get_params()))
    if missing:
        return None, f"{name} has no parameter(s) {missing} at this revision"
    return cls(**params), ""


def _fit_output(kind, model) -> dict:
    import numpy as np

    out = {
        "params": np.append(model.coef_, model.intercept_).tolist(),
        "n_iter": int(np.max(model.n_iter_)),
        "solver": str(getattr(model, "solver_", "")),
    }
    if kind == "l1cv":
        out.update(
            alpha_=float(model.alpha_),
            alpha_max_=float(model.alpha_max_),
            n_nonzero=int(np.count_nonzero(model.coef_)),
        )
    return out


def _warm_up(kind, case, model, X, y, exposure) -> None:
    """One fit of the case's code path on a slice (imports, compilation, lazy BLAS)."""
    import numpy as np

    if kind == "pop":
        model.warm_up(X, y)
        return
    small, _ = _estimator(kind, case, None, small=True)
    r, c = min(300, X.shape[0]), min(50, X.shape[1])
    e = None if exposure is None else exposure[:r]
    small.fit(np.ascontiguousarray(X[:r, :c]), y[:r], exposure=e)


def child(args) -> int:
    from run_all import check_threads

    missing = [v for v in THREAD_VARIABLES if os.environ.get(v) != str(args.threads)]
    if missing:
        print(
            f"compare_revisions --child needs {missing} = {args.threads} in its environment "
            "before any import (run it through the parent)",
            file=sys.stderr,
        )
        return 2
    tree = Path(args.tree).resolve()
    import warnings

    import numpy as np

    import sklearn_lnp

    imported = Path(sklearn_lnp.__file__).resolve()
    result = {
        "tree": _shown(tree),
        "sklearn_lnp_file": _shown(imported),
        "sklearn_lnp_version": getattr(sklearn_lnp, "__version__", "unknown"),
        "numpy": np.__version__,
        "load_average_at_start": load_average(),
        "cases": [],
    }

    def write():
        result["load_average_at_end"] = load_average()
        Path(args.child_out).write_text(json.dumps(result, indent=1) + "\n")

    if tree not in imported.parents:
        write()
        print(f"sklearn_lnp imported from {imported}, not from {tree}", file=sys.stderr)
        return WRONG_TREE
    manifest = json.loads(Path(args.manifest).read_text())
    kind = all_problems()[manifest["problem"]]["kind"]
    loaded = []
    for case in manifest["cases"]:
        X, y, exposure, folds = _load_case(case)
        if kind == "pop":
            model, reason = _PopulationFit(tree, case, exposure), ""
            exposure = None  # (the alphas, held by the model)
        else:
            model, reason = _estimator(kind, case, folds)
        row = {"title": case["title"], "cpu": [], "wall": [], "skipped": reason, "warnings": []}
        if model is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    _warm_up(kind, case, model, X, y, exposure)
            except Exception as exc:  # an old revision failing is a result
                row["skipped"] = f"failed in warm-up: {type(exc).__name__}: {str(exc)[:100]}"
        result["cases"].append(row)
        loaded.append((row, model, X, y, exposure))
    try:
        result["threadpools_before"], result["numba_threads"] = check_threads(
            args.threads, "after the warm-up"
        )
        for row, model, X, y, exposure in loaded:
            if row["skipped"]:
                continue
            for repeat in range(args.repeats):
                try:
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        c0, w0 = time.process_time(), time.perf_counter()
                        model.fit(X, y, exposure=exposure)
                        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                except Exception as exc:
                    row["skipped"] = f"failed: {type(exc).__name__}: {str(exc)[:100]}"
                    break
                row["cpu"].append(cpu)
                row["wall"].append(wall)
                row["warnings"] = sorted(
                    set(row["warnings"]) | {w.category.__name__ for w in caught}
                )
                if repeat == 0 and wall > args.slow_seconds:
                    break
            if not row["skipped"]:
                row.update(model.output if kind == "pop" else _fit_output(kind, model))
        result["threadpools_after"], numba_after = check_threads(args.threads, "after the timings")
        result["numba_threads"] = numba_after
    except SystemExit:
        result["threads_verified"] = False
        write()
        raise
    result["threads_verified"] = True
    write()
    return 0


# -- parent ---------------------------------------------------------------------
def _git(tree: Path) -> dict:
    def run(*command):
        completed = subprocess.run(
            ["git", "-C", str(tree), *command], capture_output=True, text=True
        )
        return completed.stdout.strip() if completed.returncode == 0 else None

    status = run("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": run("rev-parse", "HEAD"),
        "subject": run("log", "-1", "--format=%s"),
        "uncommitted_changes": None if status is None else bool(status),
    }


def _script_command(mode: list[str], args) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), *mode]
    command += ["--threads", str(args.threads), "--data", str(args.data)]
    return command + (["--quick"] if args.quick else [])


def _environment(args, tree: Path) -> dict:
    env = child_environment(args.threads)
    env["PYTHONPATH"] = str(tree)  # that checkout only: it wins over the editable install
    return env


def _case_rows(results, revision: str, k: int) -> list[dict]:
    """Case ``k``'s rows of every child of ``revision``."""
    return [c["cases"][k] for c in results[revision] if c.get("cases") and len(c["cases"]) > k]


def _timings(rows_all: list[dict]) -> dict:
    """One case's times, medians, warnings and skip reason over every child of a revision."""
    cpu = [t for r in rows_all for t in r["cpu"]]
    wall = [t for r in rows_all for t in r["wall"]]
    skipped = next((r["skipped"] for r in rows_all if r["skipped"]), "")
    return {
        "skipped": skipped or ("" if rows_all else "no child result"),
        "cpu": cpu,
        "wall": wall,
        "cpu_median": _median(cpu),
        "wall_median": _median(wall),
        "warnings": sorted({w for r in rows_all for w in r["warnings"]}),
    }


def _evaluate_problem(manifest, kind, results, log) -> list[dict]:
    """Accuracy of every answer of both revisions; the worst over rounds, per case."""
    from run_all import evaluate, pin_thread_environment

    pin_thread_environment(1)  # the parent's own BLAS: one thread, beside nothing
    import numpy as np

    if kind == "pop":
        return _evaluate_population(manifest, results, log)
    rows = []
    for k, case in enumerate(manifest["cases"]):
        X, y, exposure, _ = _load_case(case)
        X64 = np.asarray(X, dtype=np.float64)
        evaluated = {}
        for revision in ("old", "new"):
            runs = []
            for child_result in results[revision]:
                row = child_result["cases"][k] if child_result.get("cases") else None
                if row is None or row["skipped"] or "params" not in row:
                    continue
                l1 = row["alpha_"] if kind == "l1cv" else case["alpha"] if kind == "l1" else 0.0
                l2 = case["alpha"] if kind in ("l2", "f32") else 0.0
                runs.append((row, evaluate(X64, y, exposure, row["params"], l1=l1, l2=l2)))
            evaluated[revision] = runs
        finite = [
            ev["objective"]
            for runs in evaluated.values()
            for _, ev in runs
            if np.isfinite(ev["objective"])
        ]
        best = min(finite) if finite else float("nan")
        out = {"title": case["title"], "shape": case["shape"], "dtype": case["dtype"]}
        out["best_objective"] = best
        for revision, runs in evaluated.items():
            summary = {
                **_timings(_case_rows(results, revision, k)),
                "n_iter": sorted({r["n_iter"] for r, _ in runs}),
                "solver": sorted({r["solver"] for r, _ in runs}),
                "objective": [ev["objective"] for _, ev in runs],
                "max_grad": max((ev["optimality"] for _, ev in runs), default=None),
                "kkt": max((ev["kkt"] for _, ev in runs), default=None),
                "identical_over_rounds": len({tuple(r["params"]) for r, _ in runs}) <= 1,
            }
            gaps = [(ev["objective"] - best) / abs(best) for _, ev in runs if best != 0]
            summary["rel_gap"] = max(gaps, default=None)
            if kind == "l1cv":
                summary["alpha_"] = sorted({r["alpha_"] for r, _ in runs})
                summary["alpha_over_alpha_max"] = sorted(
                    {r["alpha_"] / r["alpha_max_"] for r, _ in runs}
                )
                summary["n_nonzero"] = sorted({r["n_nonzero"] for r, _ in runs})
            out[revision] = summary
        accuracy = [_accuracy(out[r], kind) for r in ("old", "new")]
        log(
            f"  {case['title']}: CPU old {_t(out['old']['cpu_median'])}, new "
            f"{_t(out['new']['cpu_median'])}; old {accuracy[0]}, new {accuracy[1]}"
        )
        rows.append(out)
        del X, X64
    return rows


def _evaluate_population(manifest, results, log) -> list[dict]:
    """Times and the fits' own accuracy per revision; objectives compared across revisions.

    The answers are each revision's per-neuron objectives and largest
    optimality (max |grad| for L2, KKT violation for L1), as their benchmark
    scripts report them; ``objective_difference`` is the largest relative
    difference of a neuron's objective between any two answers.
    """
    import numpy as np

    rows = []
    for k, case in enumerate(manifest["cases"]):
        out = {"title": case["title"], "shape": case["shape"], "dtype": case["dtype"]}
        answers = []
        for revision in ("old", "new"):
            rows_all = _case_rows(results, revision, k)
            done = [r for r in rows_all if not r["skipped"] and "objectives" in r]
            answers += [np.asarray(r["objectives"]) for r in done]
            out[revision] = {
                **_timings(rows_all),
                "n_iter": sorted({r["n_iter"] for r in done if r["n_iter"]}),
                "solver": [],
                "max_optimality": max((r["max_optimality"] for r in done), default=None),
                "n_nonzero": sorted({r["n_nonzero"] for r in done}),
                "identical_over_rounds": len({tuple(r["objectives"]) for r in done}) <= 1,
            }
        if answers:
            stacked = np.array(answers)
            spread = (stacked.max(axis=0) - stacked.min(axis=0)) / np.abs(stacked.min(axis=0))
            out["objective_difference"] = float(spread.max())
        else:
            out["objective_difference"] = None
        for revision in ("old", "new"):
            out[revision]["objective_difference"] = out["objective_difference"]
        log(
            f"  {case['title']}: CPU old {_t(out['old']['cpu_median'])}, new "
            f"{_t(out['new']['cpu_median'])}; objectives differ by <= "
            f"{_e(out['objective_difference'])}"
        )
        rows.append(out)
    return rows


def parent(args) -> int:
    problems = all_problems()
    names = args.only or list(problems)
    unknown = [n for n in names if n not in problems]
    if unknown:
        print(f"unknown problem(s) {unknown}; see --list", file=sys.stderr)
        return 2
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    for label, tree in trees.items():
        if not (tree / "sklearn_lnp" / "__init__.py").exists():
            print(f"--{label} {tree} is not a checkout of sklearn-lnp", file=sys.stderr)
            return 2
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "compare_revisions_quick" if args.quick else "compare_revisions"
    argv = sys.argv[1:] if args.argv is None else args.argv
    payload = {
        "command": "python benchmarks/compare_revisions.py" + "".join(f" {a}" for a in argv),
        "quick": args.quick,
        "threads": args.threads,
        "thread_environment": {v: str(args.threads) for v in THREAD_VARIABLES},
        "rounds": args.rounds,
        "repeats": args.repeats,
        "slow_seconds": args.slow_seconds,
        "machine": {
            "cpu": cpu_model(),
            "logical_cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        },
        "versions": package_versions(PACKAGES),
        "revisions": {label: {"path": _shown(tree), **_git(tree)} for label, tree in trees.items()},
        "load_average_at_start": load_average(),
        "problems": [],
    }
    started = time.perf_counter()
    status = 0
    scratch = Path(tempfile.mkdtemp(prefix="compare_revisions_"))
    try:
        for name in names:
            spec = problems[name]
            print(f"\n=== {name}: {spec['title']}", flush=True)
            entry = {"name": name, "title": spec["title"], "kind": spec["kind"]}
            payload["problems"].append(entry)
            size = spec.get("quick" if args.quick else "full", {})  # populations: none
            needs_data = spec["kind"] == "l1cv" or size.get("real")
            if needs_data and not args.data.exists():
                entry.update(status="skipped", reason=f"recording not found at {args.data}")
                print(f"  skipped: {entry['reason']}", flush=True)
                continue
            manifest_file = scratch / f"{name}.json"
            built = subprocess.run(
                _script_command(
                    [
                        "--build",
                        name,
                        "--build-dir",
                        str(scratch),
                        "--build-out",
                        str(manifest_file),
                    ],
                    args,
                ),
                env=_environment(args, trees["new"]),
            )
            if built.returncode != 0:
                entry.update(status="failed", reason=f"building failed (status {built.returncode})")
                status = 1
                continue
            manifest = json.loads(manifest_file.read_text())
            entry["built_with"] = manifest["built_with"]
            results = {"old": [], "new": []}
            for round_ in range(args.rounds):
                order = ("old", "new") if round_ % 2 == 0 else ("new", "old")
                for label in order:
                    out_file = scratch / f"{name}.{label}.{round_}.json"
                    command = _script_command(
                        ["--child", name, "--tree", str(trees[label])], args
                    ) + [
                        "--manifest",
                        str(manifest_file),
                        "--child-out",
                        str(out_file),
                        "--repeats",
                        str(args.repeats),
                        "--slow-seconds",
                        str(args.slow_seconds),
                    ]
                    code = subprocess.run(
                        command, env=_environment(args, trees[label]), cwd=scratch
                    ).returncode
                    result = json.loads(out_file.read_text()) if out_file.exists() else {}
                    result.update(revision=label, round=round_, exit_status=code)
                    results[label].append(result)
                    print(
                        f"  round {round_ + 1}/{args.rounds} {label}: exit {code}, "
                        f"load {load_average()}",
                        flush=True,
                    )
                    if code == THREAD_VIOLATION:
                        entry.update(status="failed", reason="a library ran on more threads")
                        raise _Stop(THREAD_VIOLATION)
                    if code != 0:
                        status = 1
            entry["children"] = {
                label: [
                    {
                        key: r.get(key)
                        for key in (
                            "round",
                            "exit_status",
                            "sklearn_lnp_file",
                            "sklearn_lnp_version",
                            "threads_verified",
                            "threadpools_before",
                            "threadpools_after",
                            "numba_threads",
                            "load_average_at_start",
                            "load_average_at_end",
                        )
                    }
                    for r in runs
                ]
                for label, runs in results.items()
            }
            failed = [r for runs in results.values() for r in runs if r["exit_status"] != 0]
            entry["status"] = "ok" if not failed else "failed"
            if failed:
                entry["reason"] = "; ".join(
                    f"{r['revision']} child of round {r['round'] + 1} exited with status "
                    f"{r['exit_status']}"
                    for r in failed
                )
            entry["cases"] = _evaluate_problem(manifest, spec["kind"], results, print)
            for case in manifest["cases"]:
                Path(case["file"]).unlink(missing_ok=True)
    except _Stop as stop:
        status = stop.status
        print("\nFAILED: a library ran on more threads than stated; run stopped", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    payload["load_average_at_end"] = load_average()
    payload["elapsed_seconds"] = time.perf_counter() - started
    (args.out / f"{stem}.json").write_text(json.dumps(payload, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(render(payload))
    print(f"\nwrote {args.out / (stem + '.md')} and .json ({payload['elapsed_seconds']:.0f} s)")
    return status


class _Stop(Exception):
    def __init__(self, status):
        super().__init__(status)
        self.status = status


# -- rendering --------------------------------------------------------------------
def _accuracy(summary, kind) -> str:
    if summary.get("skipped"):
        return "-"
    if kind == "pop":
        return (
            f"largest optimality {_e(summary['max_optimality'])}; objectives within "
            f"{_e(summary['objective_difference'])} of the other revision's"
        )
    if kind in ("l1", "l1cv"):
        return f"KKT {_e(summary['kkt'])}"
    return f"gap {_e(summary['rel_gap'])} (max abs grad {_e(summary['max_grad'])})"


def _note(case, kind) -> str:
    notes = []
    for label in ("old", "new"):
        s = case[label]
        if s["skipped"]:
            notes.append(f"{label}: {s['skipped']}")
            continue
        if s["warnings"]:
            notes.append(f"{label}: {', '.join(s['warnings'])}")
        if not s["identical_over_rounds"]:
            notes.append(f"{label}: answers differ between rounds")
        if s["cpu"] and sum(s["cpu"]) > 1.2 * sum(s["wall"]) + 0.05:
            notes.append(f"{label}: CPU > 1.2 x wall (more than one busy thread)")
    if kind == "l1cv" and not (case["old"]["skipped"] or case["new"]["skipped"]):
        ratio = [
            ", ".join(f"{a:.3g}" for a in case[r]["alpha_over_alpha_max"]) for r in ("old", "new")
        ]
        nnz = [", ".join(str(n) for n in case[r]["n_nonzero"]) for r in ("old", "new")]
        notes.append(
            f"alpha_/alpha_max old {ratio[0]}, new {ratio[1]}; non-zeros {nnz[0]} / {nnz[1]}"
        )
    if kind == "pop" and not (case["old"]["skipped"] or case["new"]["skipped"]):
        nnz = [", ".join(str(n) for n in case[r]["n_nonzero"]) for r in ("old", "new")]
        notes.append(f"non-zeros in all {nnz[0]} / {nnz[1]}")
    solvers = [", ".join(case[r].get("solver") or []) for r in ("old", "new")]
    if kind in ("l2", "f32") and any(solvers):
        notes.append(f"solver_ {solvers[0] or '-'} / {solvers[1] or '-'}")
    return "; ".join(notes)


def table(payload) -> list[str]:
    lines = [
        "| problem | old CPU (median) | new CPU (median) | new/old | old accuracy "
        "| new accuracy | iterations old / new | note |",
        "|---|---:|---:|---:|---|---|---|---|",
    ]
    for problem in payload["problems"]:
        kind = problem["kind"]
        if problem.get("status") == "skipped" or not problem.get("cases"):
            lines.append(
                f"| {problem['name']}: {problem['title']} | - | - | - | - | - | - "
                f"| {problem.get('status', '')}: {problem.get('reason', '')} |"
            )
            continue
        for case in problem["cases"]:
            old, new = case["old"], case["new"]
            ratio = (
                f"**{new['cpu_median'] / old['cpu_median']:.2f}**"
                if old["cpu_median"] and new["cpu_median"]
                else "-"
            )
            iters = " / ".join(
                ", ".join(str(n) for n in s["n_iter"]) if s["n_iter"] else "-" for s in (old, new)
            )
            lines.append(
                f"| {problem['name']}: {case['title']} | {_t(old['cpu_median'])} "
                f"| {_t(new['cpu_median'])} | {ratio} "
                f"| {_accuracy(old, kind)} | {_accuracy(new, kind)} | {iters} "
                f"| {_note(case, kind)} |"
            )
    return lines


def thread_lines(payload) -> list[str]:
    lines, verified = [], True
    shown = set()
    for problem in payload["problems"]:
        for label, children in (problem.get("children") or {}).items():
            for c in children:
                verified &= bool(c.get("threads_verified"))
                if label in shown or not c.get("threadpools_after"):
                    continue
                shown.add(label)
                lines.append(
                    f"- {label} child's thread pools after its timings ({problem['name']}): "
                    f"{pools_text(c['threadpools_after'])}; numba threads: {c.get('numba_threads')}"
                )
    lines.append(
        f"- every pool <= {payload['threads']} thread(s) in every child, after the warm-up and "
        f"after the timings: {'verified' if verified else 'NOT VERIFIED (see the JSON)'}"
    )
    return lines


def render(payload) -> str:
    m = payload["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in payload["versions"].items())
    env = " ".join(f"{k}={x}" for k, x in payload["thread_environment"].items())
    revisions = []
    for label, rev in payload["revisions"].items():
        files = sorted(
            {
                c.get("sklearn_lnp_file") or "?"
                for p in payload["problems"]
                for c in (p.get("children") or {}).get(label, [])
            }
        )
        dirty = " (with uncommitted changes)" if rev.get("uncommitted_changes") else ""
        revisions.append(
            f"- {label}: `{rev['path']}` at {(rev.get('commit') or 'unknown')[:10]}{dirty} "
            f'"{rev.get("subject") or ""}"; children imported {", ".join(files) or "-"}'
        )
    md = [
        "# sklearn-lnp before/after: two revisions on the same machine",
        "",
        f"Produced by `{payload['command']}` in {payload.get('elapsed_seconds', 0) / 60:.1f} min"
        + (
            " (**quick smoke run: tiny slices, not for publication**)." if payload["quick"] else "."
        ),
        "",
        *revisions,
        f"- CPU: {m['cpu']}, {m['logical_cores']} logical cores; Python {m['python']} on "
        f"{m['platform']}; run at {m['date']}",
        f"- load average (1/5/15 min) at start: {payload['load_average_at_start']}, at end: "
        f"{payload.get('load_average_at_end')}",
        f"- {versions}",
        f"- threads: {payload['threads']} per library, set in each child before any import ({env})",
        *thread_lines(payload),
        f"- one child process per revision, problem and round; {payload['rounds']} rounds "
        "alternating the order (old first in odd rounds, new first in even ones), "
        f"{payload['repeats']} timed fit(s) per case in each child (once if slower than "
        f"{payload['slow_seconds']:g} s); CPU time (`time.process_time`), median over every "
        "fit of every round; wall times are in the JSON",
        "",
        "Accuracy: every answer evaluated with `run_all.py`'s `evaluate` (sklearn-lnp's "
        "objective in numpy float64), the worst over the rounds. L2: relative objective gap to "
        "the lower of the two revisions' objectives, and the largest absolute gradient entry. "
        "L1 and LassoLNPCV (its refit, at its own alpha_): the largest KKT violation.",
        "",
        *table(payload),
    ]
    return "\n".join(md) + "\n"


def list_problems() -> None:
    for name, spec in all_problems().items():
        if spec["kind"] == "pop":
            estimator = "each revision's population fit"
        else:
            estimator, _ = estimator_settings(spec["kind"])
        print(f"{name:18s} {spec['title']} [{estimator}]")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--old", type=Path, help="checkout of the older revision")
    parser.add_argument(
        "--new", type=Path, default=HERE.parent, help="checkout of the newer revision (this one)"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these problems only")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (2)")
    parser.add_argument("--repeats", type=int, default=None, help="fits per child (3; quick: 1)")
    parser.add_argument(
        "--slow-seconds", type=float, default=60.0, help="a fit slower than this is timed once"
    )
    parser.add_argument("--quick", action="store_true", help="tiny slices (smoke run)")
    parser.add_argument("--threads", type=int, default=1, help="threads per library (1)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the .mat recording")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--list", action="store_true", help="list the problems")
    parser.add_argument(
        "--render", type=Path, metavar="JSON", help="re-render the Markdown of a results JSON"
    )
    for hidden in ("--build", "--build-dir", "--build-out", "--child", "--tree", "--manifest"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.list:
        list_problems()
        return 0
    if args.render is not None:
        payload = json.loads(args.render.read_text())
        args.render.with_suffix(".md").write_text(render(payload))
        print(f"wrote {args.render.with_suffix('.md')}")
        return 0
    if args.build:
        return build(args)
    if args.child:
        return child(args)
    if args.old is None:
        parser.error("--old is required (a checkout of the older revision)")
    if args.rounds < 1 or args.repeats < 1:
        parser.error("--rounds and --repeats must be at least 1")
    return parent(args)


if __name__ == "__main__":
    raise SystemExit(main())
