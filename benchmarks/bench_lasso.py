"""Time L1-penalised Poisson (LNP) fits and a CV path: sklearn-lnp vs glum, skglm, pyglmnet, etc.

All methods run in one process, with BLAS/OpenMP threads pinned by
threadpoolctl (``--threads``, default 1), and every result is evaluated with
*our* objective ``F(w, b) = mean(mu - y log mu) + alpha ||w||_1``,
``mu = exposure exp(Xw + b)``, and *our* optimality measure, the largest KKT
violation (``max(|g_j| - alpha, 0)`` where ``w_j = 0``,
``|g_j + alpha sign(w_j)|`` elsewhere, ``|g_b|``).  "F - F_best" is the
objective minus the best found by any method (our optimum, KKT <= 1e-8).

Problems
--------
(a) The lab's neuron (``nds_cl_5_data.mat``), lags 0..4 as one design built
    with ``LagTransformer`` (1488 x 1500, per-bin exposure = the trigger
    intervals), at ``alpha = 0.1 alpha_max`` and ``0.01 alpha_max``.
(b) A simulated neuron, 20,000 x 1500 (+-1 noise, 20 x 15 pixels x 5 lags,
    the L2 benchmark's ``simulated_problem``: 10 ms bins of +-10 % jittered
    width, 20 Hz), at the same fractions of its ``alpha_max``.

Each problem is fitted *with* its per-bin exposure and *without* it (a model
of counts per bin): skglm and pyglmnet have no offset, so only the second is
a problem they can express; on the first they fit without the offset (the
intercept shifted by ``mean(log exposure)``) and their gap is reported.

Mapping of the model to the peers
---------------------------------
* glum ``GeneralizedLinearRegressor(family="poisson", alpha, l1_ratio=1)``
  with ``offset=log(exposure)``: the same objective and ``alpha``.
* skglm ``GeneralizedLinearEstimator(Poisson(), L1(alpha), ProxNewton)``:
  the same objective without exposure.
* pyglmnet 1.1 ``GLM(distr="poisson", alpha=1)`` through
  ``sklearn_lnp.linear_model._pyglmnet.fit_pyglmnet``: ``reg_lambda = alpha *
  learning_rate`` (its batch-gradient fixed point has penalty
  ``reg_lambda / learning_rate``), ``eta`` one unit above the optimum's
  largest linear predictor, numpy 2 shims scoped to pyglmnet.  Also "as the
  lab calls it": ``reg_lambda = alpha``, ``eta = 2`` (its defaults).
* statsmodels ``GLM(..., offset=log(exposure)).fit_regularized(L1_wt=1)``
  minimises ``-loglike / n + alpha ||w||_1`` (constant column unpenalised).

Path with cross-validation (real neuron, with exposure): 20 alphas from
``alpha_max`` (log-spaced down to ``1e-2 alpha_max``, the default grid),
5 blocked folds (``BlockedTimeSeriesSplit(5, gap=4)``), refit at the chosen
alpha: ``LassoLNPCV`` (n_jobs 1 and 2; inner solver CD and FISTA) against
glum's ``GeneralizedLinearRegressorCV`` on the same grid and folds.

Held-out bits per spike on the same folds (``--sections bits``): the lasso
and the L2 fit each at their CV-best alpha, and the unpenalised fits of lag 0
and of lags 0..4.

Run from the repository root::

    python benchmarks/bench_lasso.py                 # full run, ~30 minutes
    python benchmarks/bench_lasso.py --quick         # smoke run, seconds
    python benchmarks/bench_lasso.py --skip pyglmnet statsmodels --no-glum-cv
    python benchmarks/bench_lasso.py --sections bits   # -> results/lasso_bits.md
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    DEFAULT_DATA_PATH,
    Run,
    fill_gaps,
    machine_info,
    machine_lines,
    time_repeats,
    write_json,
)

TOL = 1e-8  # KKT violation, our default
SECTIONS = ("fits", "cv", "bits")
FRACTIONS = (0.1, 0.01)


@dataclass
class Problem:
    name: str
    X: np.ndarray
    y: np.ndarray
    exposure: np.ndarray | None
    alpha: float
    description: str

    @property
    def log_exposure(self):
        return None if self.exposure is None else np.log(self.exposure)


# -- problems ----------------------------------------------------------------
def real_design(path: Path):
    from sklearn_lnp import LagTransformer
    from sklearn_lnp.datasets import load_recording, recording_design

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unused frames are reported
        design = recording_design(load_recording(path))
    X = LagTransformer(lags=range(5)).fit_transform(design.X)
    return "real neuron, lags 0..4", X, design.counts, design.exposure


def simulated_design(n_samples: int):
    from bench_poisson_l2 import simulated_problem

    p = simulated_problem(n_samples, (20, 15), 5, alpha=0.0, seed=0)
    return f"simulated {n_samples} x {p.X.shape[1]}", p.X, p.y, p.exposure


def problems_of(name, X, y, exposure, fractions):
    from sklearn_lnp import lasso_lnp_path

    out = []
    for with_exposure in (True, False):
        e = exposure if with_exposure else None
        top = lasso_lnp_path(X, y, exposure=e, n_alphas=1).alpha_max
        for fraction in fractions:
            label = "exposure" if with_exposure else "no exposure"
            out.append(
                Problem(
                    f"{name}, {label}, {fraction:g} alpha_max",
                    X,
                    y,
                    e,
                    fraction * top,
                    f"{name}: {X.shape[0]} x {X.shape[1]}, {label}, alpha = {fraction:g} x "
                    f"alpha_max = {fraction * top:.4g}, mean count {y.mean():.3f}/bin",
                )
            )
    return out


# -- evaluation --------------------------------------------------------------
def kkt(problem: Problem, params) -> tuple[float, float, int]:
    """Our objective, largest KKT violation and non-zeros at ``params``."""
    params = np.asarray(params, dtype=np.float64)
    if not np.all(np.isfinite(params)):
        return float("nan"), float("nan"), -1
    value, violation = objective_and_kkt(
        problem.X, problem.y, problem.exposure, params, problem.alpha
    )
    return value, violation, int(np.count_nonzero(params[:-1]))


def objective_and_kkt(X, y, exposure, params, alpha) -> tuple[float, float]:
    """``f + alpha ||w||_1`` and the largest KKT violation at ``params`` (n_params,)."""
    from sklearn_lnp._objective import PoissonObjective
    from sklearn_lnp._penalties import L1
    from sklearn_lnp._solvers._prox_newton import max_kkt_violation, penalised_value

    objective = PoissonObjective(X, y, exposure)
    penalty, P = L1(alpha), np.reshape(params, (-1, 1))
    _, G, _ = objective.value_gradient(P)
    largest, _ = max_kkt_violation(penalty, P, G, objective.n_features)
    return float(penalised_value(objective, penalty, P)[0]), float(largest[0])


def shift_for_missing_offset(problem: Problem) -> float:
    """Intercept shift of a fit without offset: ``mean(log exposure)`` (0 without exposure)."""
    return 0.0 if problem.exposure is None else float(np.mean(problem.log_exposure))


# -- methods -----------------------------------------------------------------
def ours(inner: str):
    def fit(p: Problem):
        from sklearn_lnp import LassoLNPRegressor

        model = LassoLNPRegressor(alpha=p.alpha, tol=TOL, solver_options={"inner": inner})
        model.fit(p.X, p.y, exposure=p.exposure)
        return {"params": np.append(model.coef_, model.intercept_), "n_iter": model.n_iter_}

    return fit


def glum_lasso(matched: bool):
    def fit(p: Problem):
        from glum import GeneralizedLinearRegressor

        kwargs = {"gradient_tol": TOL, "max_iter": 1000} if matched else {}
        model = GeneralizedLinearRegressor(
            family="poisson", alpha=p.alpha, l1_ratio=1.0, solver="irls-cd", **kwargs
        )
        model.fit(p.X, p.y, offset=p.log_exposure)
        return {"params": np.append(model.coef_, model.intercept_), "n_iter": model.n_iter_}

    return fit


def skglm_lasso(matched: bool):
    def fit(p: Problem):
        from skglm import GeneralizedLinearEstimator
        from skglm.datafits import Poisson
        from skglm.penalties import L1
        from skglm.solvers import ProxNewton

        solver = ProxNewton(tol=TOL if matched else 1e-4, fit_intercept=True)
        model = GeneralizedLinearEstimator(datafit=Poisson(), penalty=L1(p.alpha), solver=solver)
        model.fit(p.X, p.y)
        intercept = model.intercept_ - shift_for_missing_offset(p)
        note = "no offset" if p.exposure is not None else ""
        return {"params": np.append(model.coef_, intercept), "n_iter": None, "note": note}

    return fit


def pyglmnet_lasso(lab: bool):
    def fit(p: Problem):
        from sklearn_lnp._objective import PoissonObjective
        from sklearn_lnp.linear_model._pyglmnet import fit_pyglmnet

        objective = PoissonObjective(p.X, p.y, p.exposure)
        if lab:
            # pyglmnet's defaults as the lab calls it: reg_lambda = alpha, eta = 2
            # (``fit_pyglmnet`` multiplies by the learning rate, so undo that).
            options, alpha = {"eta": 2.0}, p.alpha / 0.2
        else:
            options, alpha = {"eta": PYGLMNET_ETA[p.name]}, p.alpha
        with np.errstate(all="ignore"):
            raw = fit_pyglmnet(
                p.X,
                p.y,
                alpha=alpha,
                exposure=p.exposure,
                init_intercept=float(objective.initial_params()[-1, 0]),
                options=options,
            )
        notes = []
        if p.exposure is not None:
            notes.append("no offset")
        if raw["warnings"]:
            notes.append("max_iter")
        if not np.all(np.isfinite(raw["coef"])):
            notes.append("diverged (NaN)")
        return {
            "params": np.append(raw["coef"], raw["intercept"]),
            "n_iter": raw["n_iter"],
            "note": ", ".join(notes),
        }

    return fit


def statsmodels_lasso():
    def fit(p: Problem):
        import statsmodels.api as sm

        X_const = np.hstack([p.X, np.ones((p.X.shape[0], 1))])
        model = sm.GLM(p.y, X_const, family=sm.families.Poisson(), offset=p.log_exposure)
        penalty = np.full(X_const.shape[1], p.alpha)
        penalty[-1] = 0.0
        result = model.fit_regularized(alpha=penalty, L1_wt=1.0, maxiter=1000, cnvrg_tol=1e-10)
        return {"params": np.asarray(result.params, dtype=np.float64), "n_iter": None}

    return fit


PYGLMNET_ETA: dict[str, float] = {}


def methods(args):
    """(method, setting, fit, requirement)."""
    out = [
        ("sklearn-lnp prox-newton", "default (tol=1e-8, CD)", ours("cd"), None),
        ("sklearn-lnp prox-newton", "tol=1e-8, FISTA inner", ours("fista"), None),
        ("glum irls-cd", "gradient_tol=1e-8", glum_lasso(True), "glum"),
        ("glum irls-cd", "default", glum_lasso(False), "glum"),
        ("skglm ProxNewton", "tol=1e-8", skglm_lasso(True), "skglm"),
        ("skglm ProxNewton", "default (tol=1e-4)", skglm_lasso(False), "skglm"),
        ("pyglmnet batch-gradient", "mapped (defaults)", pyglmnet_lasso(False), "pyglmnet"),
        ("pyglmnet batch-gradient", "as the lab calls it", pyglmnet_lasso(True), "pyglmnet"),
        ("statsmodels fit_regularized", "L1_wt=1", statsmodels_lasso(), "statsmodels"),
    ]
    return [m for m in out if not any(s in f"{m[0]} {m[1]}" for s in args.skip)]


# -- running -----------------------------------------------------------------
def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def warm_up():
    """Import every peer and compile the numba kernels (ours, skglm) outside the timings.

    Every library that may load a BLAS or OpenMP runtime is imported here,
    *before* the thread limits are set: threadpoolctl limits only the
    libraries loaded when the limit is entered.  (Measured: skglm imported
    inside a 1-thread limit still ran on 2 OpenBLAS threads and took 74 s
    instead of 0.75 s on the simulated problem.)
    """
    import sklearn_lnp.linear_model._pyglmnet  # noqa: F401
    from sklearn_lnp import LassoLNPRegressor

    for module in ("glum", "skglm", "statsmodels.api", "pyglmnet.pyglmnet"):
        if _installed(module.split(".")[0]):
            importlib.import_module(module)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 30))
    y = rng.poisson(np.exp(0.2 * X[:, 0])).astype(float)
    LassoLNPRegressor(alpha=0.01).fit(X, y)
    if _installed("skglm"):
        skglm_lasso(True)(Problem("warm-up", X, y, None, 0.01, ""))


def run_problem(problem: Problem, args, log) -> list[Run]:
    """Time every method on ``problem`` in rounds (round k times each method once).

    Interleaving spreads the load of a shared machine evenly over the
    methods; a method slower than ``--slow-seconds`` in the first round is
    not repeated.
    """
    runs, fits = [], []
    for method, setting, fit, requirement in methods(args):
        run = Run(problem.name, method, setting)
        runs.append(run)
        if requirement and not _installed(requirement):
            run.skipped = f"{requirement} not installed"
        elif "statsmodels" in method and "0.01 alpha_max" in problem.name:
            run.skipped = "not run at 0.01 alpha_max (minutes at 0.1)"
        elif (
            "pyglmnet" in method
            and "simulated" in problem.name
            and ("lab" in setting or "0.01 alpha_max" in problem.name)
        ):
            run.skipped = "not run: minutes per fit (O(p^3) per iteration)"
        else:
            fits.append((run, fit))
    notes: dict[int, set] = {id(run): set() for run, _ in fits}
    outputs: dict[int, dict] = {}
    for round_ in range(args.repeats):
        for run, fit in fits:
            if run.skipped or (round_ > 0 and run.times[0] > args.slow_seconds):
                continue
            try:
                times, out, messages = time_repeats(lambda fit=fit: fit(problem), 1, np.inf)
            except Exception as exc:  # a peer failing is a result, not a crash
                run.skipped = f"failed: {type(exc).__name__}: {str(exc)[:80]}"
                log(f"  {run.method} [{run.setting}]: {run.skipped}")
                continue
            run.times += times
            outputs[id(run)] = out
            notes[id(run)].update(messages)
    for run, _ in fits:
        if run.skipped:
            continue
        out = outputs[id(run)]
        run.n_iter = out.get("n_iter")
        run.note = ", ".join(n for n in [out.get("note", ""), *sorted(notes[id(run)])] if n)
        run.objective, run.optimality, nnz = kkt(problem, out["params"])
        run.n_passes = nnz  # reused column: non-zero coefficients
        log(
            f"  {run.method} [{run.setting}]: {run.median:.3f} s, F {run.objective:.12g}, "
            f"KKT {run.optimality:.1e}, nnz {nnz} {run.note}"
        )
    finite = [r.objective for r in runs if r.objective is not None and np.isfinite(r.objective)]
    fill_gaps(runs, min(finite))
    return runs


def _fmt(x, digits=1):
    if x is None or not np.isfinite(x):
        return "-"
    return "0" if x == 0 else f"{x:.{digits}e}"


def _fmt_time(t):
    if t is None:
        return "-"
    return f"{t * 1e3:.1f} ms" if t < 1.0 else f"{t:.2f} s"


def table(runs: list[Run]) -> str:
    """Markdown table, fastest first; "x fastest exact": over the fastest run with KKT <= 1e-8."""
    exact = [r for r in runs if r.times and r.optimality is not None and r.optimality <= TOL]
    reference = min(exact, key=lambda r: r.median, default=None)
    lines = [
        "| method | setting | median time | x fastest exact | F - F_best | KKT violation "
        "| non-zeros | iterations | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in sorted(runs, key=lambda r: (r.median is None, r.median or 0.0)):
        if r.skipped:
            lines.append(f"| {r.method} | {r.setting} | skipped | | | | | | {r.skipped} |")
            continue
        ratio = f"{r.median / reference.median:.2f}" if reference else "-"
        lines.append(
            f"| {r.method} | {r.setting} | {_fmt_time(r.median)} ({len(r.times)}x) | {ratio} "
            f"| {_fmt(r.gap)} | {_fmt(r.optimality)} | {r.n_passes} "
            f"| {'-' if r.n_iter is None else r.n_iter} | {r.note} |"
        )
    return "\n".join(lines) + "\n"


# -- path with cross-validation ----------------------------------------------
def run_cv(X, y, exposure, args, log) -> tuple[list[dict], str]:
    from sklearn_lnp import LassoLNPCV
    from sklearn_lnp.model_selection import BlockedTimeSeriesSplit

    folds = list(BlockedTimeSeriesSplit(5, gap=4).split(X))
    rows = []
    ref = None
    # Start joblib's worker processes (and load the compiled kernel in them)
    # outside the timing: the first n_jobs=2 call of a session adds seconds.
    LassoLNPCV(alphas=2, cv=3, n_jobs=2).fit(X[:200], y[:200], exposure=exposure[:200])
    for n_jobs, inner in ((1, "cd"), (2, "cd"), (1, "fista")):
        if inner == "fista" and args.quick:
            continue
        model = LassoLNPCV(
            alphas=args.n_alphas, cv=folds, n_jobs=n_jobs, solver_options={"inner": inner}
        )
        start = time.perf_counter()
        model.fit(X, y, exposure=exposure)
        seconds = time.perf_counter() - start
        ref = ref or model
        rows.append(
            {
                "method": f"LassoLNPCV (n_jobs={n_jobs}, {inner.upper()} inner)",
                "seconds": seconds,
                "alpha_": model.alpha_,
                "alpha_over_alpha_max": model.alpha_ / model.alpha_max_,
                "n_nonzero": model.n_nonzero_,
                "max_kkt_refit": model.optimality_,
                "mean_bits_per_spike_at_alpha_": float(
                    np.nanmean(model.bits_per_spike_path_[model.best_index_])
                ),
            }
        )
        log(f"  {rows[-1]}")
    if args.glum_cv and _installed("glum"):
        from glum import GeneralizedLinearRegressorCV

        model = GeneralizedLinearRegressorCV(
            family="poisson",
            l1_ratio=1.0,
            alphas=ref.alphas_,
            cv=folds,
            solver="irls-cd",
            gradient_tol=TOL,
            max_iter=1000,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y, offset=np.log(exposure))
        seconds = time.perf_counter() - start
        params = np.append(model.coef_, model.intercept_)
        rows.append(
            {
                "method": "glum GeneralizedLinearRegressorCV (irls-cd, gradient_tol=1e-8)",
                "seconds": seconds,
                "alpha_": float(model.alpha_),
                "alpha_over_alpha_max": float(model.alpha_) / ref.alpha_max_,
                "n_nonzero": int(np.count_nonzero(model.coef_)),
                "max_kkt_refit": objective_and_kkt(X, y, exposure, params, float(model.alpha_))[1],
                "mean_bits_per_spike_at_alpha_": float("nan"),
            }
        )
        log(f"  {rows[-1]}")
    fastest = min(r["seconds"] for r in rows)
    lines = [
        "| method | time | x fastest | alpha_ | alpha_ / alpha_max | non-zeros "
        "| KKT of refit | CV bits/spike at alpha_ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        bits = r["mean_bits_per_spike_at_alpha_"]
        lines.append(
            f"| {r['method']} | {_fmt_time(r['seconds'])} | {r['seconds'] / fastest:.2f} "
            f"| {r['alpha_']:.4g} | {r['alpha_over_alpha_max']:.3f} | {r['n_nonzero']} "
            f"| {_fmt(r['max_kkt_refit'])} | {'-' if not np.isfinite(bits) else f'{bits:.4f}'} |"
        )
    return rows, "\n".join(lines) + "\n"


def held_out_bits(X, y, exposure, log) -> tuple[list[dict], str]:
    """Held-out bits per spike on the 5 blocked folds: lasso vs L2 vs unpenalised fits.

    Lasso and L2 each at the alpha with the best mean held-out bits per spike
    over the same folds (so both carry the same selection optimism); the
    unpenalised fits of lag 0 alone (the lab's per-lag recipe) and of all 5
    lags (1500 columns, ~1190 training bins: the MLE does not exist).
    """
    import sklearn
    from sklearn.model_selection import GridSearchCV, cross_validate

    from sklearn_lnp import LassoLNPCV, PoissonLNPRegressor
    from sklearn_lnp.metrics import get_scorer
    from sklearn_lnp.model_selection import BlockedTimeSeriesSplit

    folds = BlockedTimeSeriesSplit(5, gap=4)
    scorer = get_scorer("bits_per_spike")
    rows = []
    lasso = LassoLNPCV(alphas=20, cv=folds, scoring="bits_per_spike").fit(X, y, exposure=exposure)
    per_fold = lasso.bits_per_spike_path_[lasso.best_index_]
    rows.append(("L1 (LassoLNPCV), lags 0-4", f"alpha = {lasso.alpha_:.4g}", per_fold))
    l2_grid = list(np.logspace(-1, 3, 13))
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        l2 = GridSearchCV(
            PoissonLNPRegressor().set_fit_request(exposure=True),
            {"alpha": l2_grid},
            cv=folds,
            scoring=scorer,
        ).fit(X, y, exposure=exposure)
        best = l2.best_index_
        per_fold = np.array([l2.cv_results_[f"split{f}_test_score"][best] for f in range(5)])
        rows.append(
            ("L2 (PoissonLNPRegressor), lags 0-4", f"alpha = {l2_grid[best]:.4g}", per_fold)
        )
        for label, columns in (("lag 0", slice(0, X.shape[1] // 5)), ("lags 0-4", slice(None))):
            per_fold = cross_validate(
                PoissonLNPRegressor(alpha=0.0).set_fit_request(exposure=True),
                X[:, columns],
                y,
                cv=folds,
                scoring=scorer,
                params={"exposure": exposure},
            )["test_score"]
            rows.append((f"unpenalised (PoissonLNPRegressor), {label}", "alpha = 0", per_fold))
    lines = [
        "| model | penalty | mean bits/spike | folds 1-4 (without the drift fold 5) | per fold |",
        "|---|---|---:|---:|---|",
    ]
    out = []
    for model, penalty, per_fold in rows:
        per_fold = np.asarray(per_fold, dtype=float)
        out.append({"model": model, "penalty": penalty, "per_fold": per_fold.tolist()})
        fmt = ", ".join(f"{v:.3g}" for v in per_fold)
        lines.append(
            f"| {model} | {penalty} | {np.mean(per_fold):.4g} | {np.mean(per_fold[:4]):.4g} "
            f"| {fmt} |"
        )
        log(f"  {model} [{penalty}]: {np.mean(per_fold):.4g} ({fmt})")
    return out, "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small problems, 1 repeat (smoke)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (1)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (default 3)")
    parser.add_argument(
        "--slow-seconds", type=float, default=20.0, help="time once methods slower than this"
    )
    parser.add_argument("--n-samples", type=int, default=None, help="rows of the simulation")
    parser.add_argument("--n-alphas", type=int, default=20, help="alphas of the CV path (20)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH, help="the .mat recording")
    parser.add_argument(
        "--skip", nargs="*", default=[], help="skip methods whose name or setting contains"
    )
    parser.add_argument("--no-glum-cv", dest="glum_cv", action="store_false", help="skip glum CV")
    parser.add_argument(
        "--sections",
        nargs="*",
        choices=SECTIONS,
        default=list(SECTIONS),
        help="fits (single fits), cv (path + CV timing), bits (held-out bits per spike)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results", help="folder"
    )
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    n_samples = args.n_samples or (2000 if args.quick else 20_000)
    if args.quick:
        args.glum_cv = False
        args.n_alphas = min(args.n_alphas, 6)
    from threadpoolctl import threadpool_limits

    lines_out = []

    def log(message):
        print(message, flush=True)

    from run_all import check_threads, pin_thread_environment

    # Runtimes loaded from here on (scipy's OpenBLAS that skglm's numba code calls, OpenMP of
    # scikit-learn and of glum's tabmat, loaded during its first fit) read these variables;
    # the published skglm times ran on 2-thread scipy OpenBLAS loaded after the limit.
    pin_thread_environment(args.threads)
    warm_up()  # imports first: the limit below then covers every loaded runtime
    with threadpool_limits(args.threads):
        check_threads(args.threads, "after the warm-up")  # exits with status 3 if not
        info = machine_info(
            args.threads, packages=["glum", "skglm", "pyglmnet", "statsmodels", "numba"]
        )
        designs = []
        if args.data.exists():
            designs.append(real_design(args.data))
        else:
            log(f"real recording not found at {args.data}: skipping problem (a)")
        if "fits" in args.sections:
            designs.append(simulated_design(n_samples))
        all_runs, descriptions = [], []
        for name, X, y, exposure in designs if "fits" in args.sections else []:
            if args.quick and name.startswith("real"):
                X, y, exposure = X[:600, :600], y[:600], exposure[:600]
            for problem in problems_of(name, X, y, exposure, FRACTIONS):
                from sklearn_lnp import LassoLNPRegressor

                optimum = LassoLNPRegressor(alpha=problem.alpha).fit(
                    problem.X, problem.y, exposure=problem.exposure
                )
                z = problem.X @ optimum.coef_ + optimum.intercept_
                PYGLMNET_ETA[problem.name] = max(
                    2.0, float(np.max(z)) + shift_for_missing_offset(problem) + 1.0
                )
                log(f"\n== {problem.description}")
                runs = run_problem(problem, args, log)
                all_runs += runs
                descriptions.append(problem.description)
                lines_out += [f"### {problem.description}", "", table(runs)]
        cv_rows, cv_table, bits_rows, bits_table = [], "", [], ""
        real = [d for d in designs if d[0].startswith("real")]
        if real:
            name, X, y, exposure = real[0]
            if args.quick:
                X, y, exposure = X[:600, :600], y[:600], exposure[:600]
            if "cv" in args.sections:
                log(f"\n== {args.n_alphas}-alpha path, 5-fold blocked CV, {name}")
                cv_rows, cv_table = run_cv(X, y, exposure, args, log)
            if "bits" in args.sections:
                log(f"\n== held-out bits per spike, 5 blocked folds, {name}")
                bits_rows, bits_table = held_out_bits(X, y, exposure, log)
        info["threadpools_after"] = check_threads(args.threads, "after the fits")[0]
    info["load_average_at_end"] = [round(float(x), 2) for x in os.getloadavg()]
    header = [
        "# L1-penalised Poisson (LNP) fits: sklearn-lnp vs glum, skglm, pyglmnet, statsmodels",
        "",
        "Command: `python benchmarks/bench_lasso.py"
        + (" --quick" if args.quick else "")
        + ("" if set(args.sections) == set(SECTIONS) else " --sections " + " ".join(args.sections))
        + (f" --threads {args.threads}" if args.threads != 1 else "")
        + "`",
        "",
        *machine_lines(info),
        f"- load average at end: {info['load_average_at_end']}",
        "",
        "Every result is scored with our objective and our KKT violation (see the script's "
        "docstring). *x fastest exact* = median time over that of the fastest run whose KKT "
        "violation is <= 1e-8. Non-zeros: coefficients != 0.",
        "",
    ]
    cv_part = []
    if cv_table:
        cv_part += [
            f"### {args.n_alphas}-alpha path with 5-fold blocked CV and refit "
            "(real neuron, exposure)",
            "",
            cv_table,
        ]
    if bits_table:
        cv_part += [
            "### Held-out bits per spike on the same 5 blocked folds (real neuron, exposure)",
            "",
            "Mean over folds of the log-likelihood gain over each test fold's constant rate, "
            "per spike. Fold 5 (the last fifth) has the lowest firing rate of the recording "
            "(drift), which every model trained on the other folds mispredicts.",
            "",
            bits_table,
        ]
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "lasso_quick" if args.quick else "lasso"
    if set(args.sections) != set(SECTIONS):
        stem += "_" + "_".join(args.sections)
    (args.out / f"{stem}.md").write_text("\n".join(header + lines_out + cv_part))
    write_json(
        args.out / f"{stem}.json",
        {
            "machine": info,
            "problems": descriptions,
            "runs": all_runs,
            "cv": cv_rows,
            "held_out_bits_per_spike": bits_rows,
        },
    )
    log(f"\nwrote {args.out / (stem + '.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
