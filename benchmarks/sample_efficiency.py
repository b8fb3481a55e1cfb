"""Sample efficiency: bins each RF estimator needs to reach a correlation with the true RF.

Simulated neurons (``sklearn_lnp.datasets.make_separable_neuron``) on the
lab's layout, 20 x 15 pixels and 5 lags (1500 weights): a smooth Gaussian map
(sigma 2 px) and a difference of Gaussians (centre 1.5 px, surround 3 px,
surround weight 0.5), both with the biphasic kernel, centred, ``rf_norm=1``.
The stimulus is binary +-1 white noise, the lab's dense noise (at a bounded
luminance range it gives every pixel the largest variance).  Bins are 0.2 s,
the lab's frame time, with ``exposure`` = the bin width, and the neuron fires
10 spikes/s on a blank screen, about 16.5 spikes/s on average (the lab's
neuron: 17).  For every seed one long recording is simulated; the grid's
``n_bins`` are its first ``n_bins`` bins.

Methods, each fitted to the lagged design (``LagTransformer(range(5))``)
with the exposure, and blocked folds ``BlockedTimeSeriesSplit(5, gap=4)``
wherever a penalty is chosen by cross-validation:

* ``ridge``: ``PoissonLNPRegressor`` with ``alpha`` chosen by
  ``GridSearchCV`` (scoring ``neg_poisson_deviance``, exposure routed by
  metadata routing) over ``alpha = (n_features / n_bins) * 10**k``,
  ``k = -1.5 .. 2`` in half decades (the chosen alpha scales as ``1/n_bins``);
  the table reports how often the choice fell on the grid's edge;
* ``lasso``: ``LassoLNPCV`` (its default 20-alpha path, scoring deviance);
* ``smooth``: ``SmoothLNPRegressor(frame_shape, n_lags=5)`` (ASD prior,
  hyperparameters by the Laplace evidence, no cross-validation).

The score is the Pearson correlation of the fitted weights (all lags, 1500
numbers) with the true ones.  For every method, seed and RF, the bins needed
to reach 0.9 and 0.95 are interpolated linearly in ``log(n_bins)`` between
the grid points around the first crossing; the table gives the median and
the range over seeds, and the ratio smooth / ridge per seed.  A method stops
climbing the grid once it reached the highest target (larger fits would not
change the bracket).  CPU time (``time.process_time``, BLAS and OpenMP pinned
to ``--threads`` threads before numpy is imported, checked with
threadpoolctl) is recorded for every fit, including the cross-validation.

Run from the repository root::

    python benchmarks/sample_efficiency.py                  # 3 seeds, ~1 h on 2 busy cores
    python benchmarks/sample_efficiency.py --seeds 5 --resume   # add seeds 3, 4
    python benchmarks/sample_efficiency.py --methods smooth --resume
    python benchmarks/sample_efficiency.py --quick          # smoke run, seconds

``--resume`` keeps the fits already in the JSON (same setup) and runs only
the missing ones; the Markdown table is rebuilt from all of them.  Two
processes can share the work: ``--name part --methods smooth`` writes
``part.{json,md}``, and ``--merge results/part.json --methods`` (no methods)
adds its fits to the main file and rebuilds the table.
Writes ``benchmarks/results/sample_efficiency[_quick].{json,md,png}``.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run_all import check_threads, pin_thread_environment  # noqa: E402 (no numeric imports)

METHODS = ("ridge", "lasso", "smooth")
TARGETS = (0.9, 0.95)
LABELS = {
    "ridge": "ridge, CV alpha",
    "lasso": "lasso, LassoLNPCV",
    "smooth": "smooth, ASD evidence",
}
FULL = {
    "frame_shape": (20, 15),
    "n_lags": 5,
    "grid": [125, 250, 500, 1000, 2000, 4000, 8000, 16000],
    "n_splits": 5,
    "ridge_decades": [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0],
    "lasso_alphas": 20,
}
QUICK = {
    "frame_shape": (6, 5),
    "n_lags": 5,
    "grid": [100, 200, 400],
    "n_splits": 3,
    "ridge_decades": [-1.0, 0.0, 1.0],
    "lasso_alphas": 5,
}
NEURONS = {
    "gaussian": {"spatial": "gaussian", "rf_sigma": 2.0, "temporal": "biphasic"},
    "dog": {
        "spatial": "dog",
        "rf_sigma": 1.5,
        "surround_sigma": 3.0,
        "surround_weight": 0.5,
        "temporal": "biphasic",
    },
}
QUICK_NEURONS = {
    "gaussian": {"spatial": "gaussian", "rf_sigma": 1.0, "temporal": "biphasic"},
    "dog": {
        "spatial": "dog",
        "rf_sigma": 0.8,
        "surround_sigma": 1.6,
        "surround_weight": 0.5,
        "temporal": "biphasic",
    },
}


# -- one fit ---------------------------------------------------------------------------
def simulate(rf: str, seed: int, n_bins: int, setup: dict, neurons: dict):
    """The lagged design, counts, exposure and true weights of one simulated neuron."""
    from sklearn_lnp import LagTransformer
    from sklearn_lnp.datasets import make_separable_neuron

    neuron = make_separable_neuron(
        n_bins,
        frame_shape=setup["frame_shape"],
        n_lags=setup["n_lags"],
        noise="binary",
        random_state=seed,
        **neurons[rf],
    )
    X = LagTransformer(lags=range(setup["n_lags"])).fit_transform(neuron.stimulus)
    return X, neuron.counts, neuron.exposure, neuron.coef, neuron.mean_rate


def fit_method(method: str, X, y, exposure, setup: dict) -> tuple[object, dict]:
    """Fit one method; return its weights' owner and what it chose."""
    import numpy as np
    import sklearn
    from sklearn.model_selection import GridSearchCV

    from sklearn_lnp import BlockedTimeSeriesSplit, LassoLNPCV, PoissonLNPRegressor
    from sklearn_lnp.metrics import get_scorer

    gap = setup["n_lags"] - 1
    cv = BlockedTimeSeriesSplit(setup["n_splits"], gap=gap)
    if method == "ridge":
        alphas = X.shape[1] / X.shape[0] * 10.0 ** np.asarray(setup["ridge_decades"])
        with sklearn.config_context(enable_metadata_routing=True):
            search = GridSearchCV(
                PoissonLNPRegressor().set_fit_request(exposure=True),
                {"alpha": alphas},
                cv=cv,
                scoring=get_scorer("neg_poisson_deviance"),
            )
            search.fit(X, y, exposure=exposure)
        alpha = float(search.best_params_["alpha"])
        edge = "low" if alpha == alphas.min() else "high" if alpha == alphas.max() else ""
        info = {"alpha": alpha, "alpha_at_grid_edge": edge, "n_fits": alphas.size * cv.n_splits + 1}
        return search.best_estimator_, info
    if method == "lasso":
        model = LassoLNPCV(alphas=setup["lasso_alphas"], cv=cv).fit(X, y, exposure=exposure)
        info = {"alpha": float(model.alpha_), "n_nonzero": int(np.count_nonzero(model.coef_))}
        return model, info
    if method == "smooth":
        from sklearn_lnp.linear_model import SmoothLNPRegressor

        model = SmoothLNPRegressor(setup["frame_shape"], n_lags=setup["n_lags"])
        model.fit(X, y, exposure=exposure)
        return model, smooth_info(model)
    raise ValueError(f"unknown method {method!r}")


def smooth_info(model) -> dict:
    """The fitted attributes of SmoothLNPRegressor that describe its choice (JSON-ready)."""
    import numpy as np

    info = {}
    for name, value in vars(model).items():
        if not name.endswith("_") or name.startswith("_") or name in ("coef_", "intercept_"):
            continue
        if name in ("n_features_in_", "feature_names_in_"):
            continue
        value = np.asarray(value) if not isinstance(value, dict) else value
        if isinstance(value, dict):
            info[name] = {k: np.asarray(v).tolist() for k, v in value.items()}
        elif value.size <= 10:
            info[name] = value.tolist()
    return info


def available(method: str) -> str:
    """Empty if the method can run in this version of the package, else why not."""
    if method != "smooth":
        return ""
    try:
        from sklearn_lnp.linear_model import SmoothLNPRegressor  # noqa: F401
    except ImportError:
        return "sklearn_lnp.linear_model.SmoothLNPRegressor is not in this version"
    return ""


# -- summary ---------------------------------------------------------------------------
def bins_to_reach(grid, corr, target):
    """Bins where ``corr`` first reaches ``target``, linear in log(n) between grid points.

    Returns ``(value, flag)``: ``flag`` is ``""``, ``"<="`` (already reached at
    the first grid point, which is returned) or ``">"`` (never reached; the
    last grid point is returned).
    """

    for k, (n, r) in enumerate(zip(grid, corr, strict=True)):
        if r >= target:
            if k == 0:
                return float(n), "<="
            n0, r0 = grid[k - 1], corr[k - 1]
            fraction = (target - r0) / (r - r0)
            return math.exp(math.log(n0) + fraction * (math.log(n) - math.log(n0))), ""
    return float(grid[-1]) if grid else float("nan"), ">"


def curves(fits: list[dict], grid) -> dict:
    """(rf, method, seed) -> (n_bins, correlations), sorted, for every complete curve.

    A curve is complete when it reached the highest target or ran to the grid's
    end; an interrupted one (a run stopped early) would fake a "not reached".
    """
    out = {}
    for fit in fits:
        out.setdefault((fit["rf"], fit["method"], fit["seed"]), []).append(
            (fit["n_bins"], fit["corr"])
        )
    points = {key: tuple(zip(*sorted(p), strict=True)) for key, p in out.items()}
    return {
        key: (n, r) for key, (n, r) in points.items() if max(r) >= max(TARGETS) or n[-1] == grid[-1]
    }


def summarise(fits: list[dict], grid, targets=TARGETS) -> list[dict]:
    """Bins to each target per (rf, method): per seed, median and range; smooth / ridge."""
    import numpy as np

    rows = []
    by_key = curves(fits, grid)
    rfs = sorted({k[0] for k in by_key}, key=list(NEURONS).index)
    for rf in [*rfs, "all"]:
        for method in METHODS:
            keys = sorted(k for k in by_key if k[1] == method and (rf == "all" or k[0] == rf))
            if not keys:
                continue
            row = {"rf": rf, "method": method, "n_seeds": len(keys)}
            for target in targets:
                reached = [bins_to_reach(*by_key[k], target) for k in keys]
                values = np.array([np.inf if flag == ">" else v for v, flag in reached])
                row[f"bins_{target}"] = {
                    "per_seed": [
                        [k[0], k[2], v, flag] for k, (v, flag) in zip(keys, reached, strict=True)
                    ],
                    "median": float(np.median(values)),
                    "min": float(values.min()),
                    "max": float(values.max()),
                }
            rows.append(row)
    for row in rows:
        ridge = next((r for r in rows if r["rf"] == row["rf"] and r["method"] == "ridge"), None)
        if row["method"] != "smooth" or ridge is None:
            continue
        for target in targets:
            # per (rf, seed) that both ran; a pair where neither reached the target has no
            # ratio, and one reached at the grid's start or not by its end makes it a bound
            theirs = {(rf, seed): (v, f) for rf, seed, v, f in ridge[f"bins_{target}"]["per_seed"]}
            pairs = [
                ((v, f), theirs[rf, seed])
                for rf, seed, v, f in row[f"bins_{target}"]["per_seed"]
                if (rf, seed) in theirs and not (f == ">" and theirs[rf, seed][1] == ">")
            ]
            if not pairs:
                continue
            ratios = np.array([a[0] / b[0] for a, b in pairs])
            row[f"ratio_to_ridge_{target}"] = {
                "per_seed": ratios.tolist(),
                "median": float(np.median(ratios)),
                "min": float(ratios.min()),
                "max": float(ratios.max()),
                "bounded": any(a[1] or b[1] for a, b in pairs),
                "n_pairs": len(pairs),
            }
    return rows


def _fmt_bins(entry: dict, grid) -> str:
    """``median [min-max]``; ``>N`` not reached by the grid's end, ``<=N`` at its start."""

    def one(value, flag):
        if flag == ">" or not value < float("inf"):
            return f">{grid[-1]:,}"
        return ("<=" if flag == "<=" else "") + f"{value:,.0f}"

    per_seed = sorted(
        (tuple(e[2:]) for e in entry["per_seed"]),
        key=lambda vf: float("inf") if vf[1] == ">" else vf[0],
    )
    flag_of = {}
    for value, flag in per_seed:
        flag_of.setdefault(value, flag)
    median = one(entry["median"], flag_of.get(entry["median"], ""))
    if len(per_seed) == 1:
        return median
    return f"{median} [{one(*per_seed[0])} - {one(*per_seed[-1])}]"


def plot(payload: dict, path: Path) -> None:
    """Correlation with the true RF against bins: median over seeds, range shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fits, grid = payload["fits"], payload["setup"]["grid"]
    rfs = list(payload["neurons"])
    fig, axes = plt.subplots(1, len(rfs), figsize=(4.2 * len(rfs), 3.4), sharey=True)
    for ax, rf in zip(np.atleast_1d(axes), rfs, strict=True):
        for method, color in zip(METHODS, ("C0", "C1", "C2"), strict=True):
            points = []
            for n in grid:
                key = (rf, method, n)
                corr = [f["corr"] for f in fits if (f["rf"], f["method"], f["n_bins"]) == key]
                if corr:
                    points.append((n, np.median(corr), min(corr), max(corr)))
            if not points:
                continue
            n, median, low, high = map(np.array, zip(*points, strict=True))
            ax.plot(n, median, "o-", color=color, label=LABELS[method])
            ax.fill_between(n, low, high, color=color, alpha=0.2, linewidth=0)
        for target in TARGETS:
            ax.axhline(target, color="0.5", linestyle="--", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_xticks(grid, [f"{g:,}" for g in grid], rotation=45)
        ax.minorticks_off()
        ax.set_xlabel("recording length (bins of 0.2 s)")
        spec = payload["neurons"][rf]
        ax.set_title(
            f"Gaussian RF, sigma {spec['rf_sigma']} px"
            if spec["spatial"] == "gaussian"
            else f"DoG RF, sigma {spec['rf_sigma']} / {spec['surround_sigma']} px",
            fontsize=10,
        )
        ax.grid(True, which="major", alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("correlation with the true RF")
    np.atleast_1d(axes)[0].legend(loc="lower right")
    n_seeds = len({f["seed"] for f in fits})
    fig.suptitle(
        f"Correlation of the fitted with the true RF (all lags): median over {n_seeds} "
        f"seed{'s' * (n_seeds > 1)}, range shaded",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def describe(rf: str, spec: dict) -> str:
    """One RF of :data:`NEURONS` in words."""
    if spec["spatial"] == "gaussian":
        space = f"Gaussian, sigma {spec['rf_sigma']} px"
    else:
        space = (
            f"difference of Gaussians, centre sigma {spec['rf_sigma']} px, surround "
            f"{spec['surround_sigma']} px of relative weight {spec['surround_weight']}"
        )
    return f"`{rf}` {space}, {spec['temporal']} kernel"


def markdown(payload: dict) -> str:
    """The Markdown report: setup, machine, bins-to-target table, correlation curves, times."""
    import numpy as np
    from _common import machine_lines

    setup, fits = payload["setup"], payload["fits"]
    grid = setup["grid"]
    rows = summarise(fits, grid)
    lines = [
        "# Sample efficiency: bins needed to reach a correlation with the true RF",
        "",
        "Commands (in order; `--resume` adds fits to the same file):",
        "",
        *[f"- `{c}`" for c in payload["commands"]],
        "",
        f"Simulated neurons: {setup['frame_shape'][0]} x {setup['frame_shape'][1]} pixels, "
        f"{setup['n_lags']} lags ({setup['n_features']} weights), binary +-1 white noise, "
        "0.2 s bins (exposure = bin width), mean rate (closed form) "
        + ", ".join(f"{rf} {rate:.1f}" for rf, rate in setup["mean_rate"].items())
        + " spikes/s; "
        f"RFs: {'; '.join(describe(rf, spec) for rf, spec in payload['neurons'].items())}, "
        f"centred, norm 1. "
        f"Grid of bins: {', '.join(str(n) for n in setup['grid'])} (prefixes of one "
        f"recording per seed). Blocked CV: {setup['n_splits']} folds, gap "
        f"{setup['n_lags'] - 1}. Score: Pearson correlation of all fitted weights with the "
        "true ones.",
        "",
    ]
    loads = [f["load_average"][0] for f in fits if f.get("load_average")]
    if loads:
        lines += [
            f"Load average (1 min) after each fit: median {np.median(loads):.1f}, range "
            f"{min(loads):.1f}-{max(loads):.1f}, on {payload['machines'][-1]['logical_cores']} "
            "cores shared with other jobs: CPU times (`process_time`) are this process's own, "
            "wall times are not comparable.",
            "",
        ]
    lines += [
        "Machine, as recorded by each run that finished (a run stopped early leaves its fits "
        "but no record; all ran on this machine):",
        "",
    ]
    for info in payload["machines"]:
        lines += [
            *machine_lines(info),
            f"- load average at end: {info.get('load_average_at_end')}",
            f"- git commit: {info.get('git_commit')}",
        ]
        lines.append("")
    lines += [
        "## Bins to reach the target correlation",
        "",
        "Median over seeds [min-max], interpolated in log(n_bins) between grid points; "
        "`>N`: not reached by the grid's end N. Interrupted curves (a run stopped before "
        "reaching 0.95 or the grid's end) are left out. Ratio: smooth / ridge per (RF, seed), "
        "median [min-max].",
        "",
        "| RF | method | seeds | bins to 0.9 | bins to 0.95 | ratio to ridge, 0.9 "
        "| ratio to ridge, 0.95 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratios = []
        for target in TARGETS:
            entry = row.get(f"ratio_to_ridge_{target}")
            if entry is None:
                ratios.append("-")
            else:
                bound = " (bounds)" if entry["bounded"] else ""
                ratios.append(
                    f"{entry['median']:.2f} [{entry['min']:.2f}-{entry['max']:.2f}]{bound}"
                )
        lines.append(
            f"| {row['rf']} | {row['method']} | {row['n_seeds']} | "
            f"{_fmt_bins(row['bins_0.9'], grid)} | {_fmt_bins(row['bins_0.95'], grid)} | "
            f"{ratios[0]} | {ratios[1]} |"
        )
    lines += [
        "",
        "## Correlation with the true RF, and CPU time per fit (with its CV)",
        "",
        "Median over seeds of the correlation / median CPU seconds (`process_time`).",
        "",
    ]
    lines.append("| RF | method | " + " | ".join(f"{n:,}" for n in grid) + " |")
    lines.append("|---|---|" + "---:|" * len(grid))
    for rf in payload["neurons"]:
        for method in METHODS:
            cells = []
            for n in grid:
                here = [f for f in fits if f["rf"] == rf and f["method"] == method]
                at = [f for f in here if f["n_bins"] == n]
                if not at:
                    cells.append("-")
                    continue
                corr = np.median([f["corr"] for f in at])
                cpu = np.median([f["cpu_seconds"] for f in at])
                cells.append(f"{corr:.3f} / {cpu:.1f} s")
            if any(c != "-" for c in cells):
                lines.append(f"| {rf} | {method} | " + " | ".join(cells) + " |")
    ridge = [f for f in fits if f["method"] == "ridge"]
    if ridge:
        edges = sum(bool(f["info"].get("alpha_at_grid_edge")) for f in ridge)
        lines += ["", f"Ridge: the CV-chosen alpha was at the grid's edge in {edges} of "
                  f"{len(ridge)} fits."]  # fmt: skip
    warned = [f for f in fits if f.get("warnings")]
    lines += ["", f"Fits that raised a warning: {len(warned)} of {len(fits)}."]
    lines += [
        f"- {f['rf']} {f['method']} seed {f['seed']} n={f['n_bins']}: {'; '.join(f['warnings'])}"
        for f in warned
    ]
    if payload.get("unavailable"):
        lines += [
            "",
            "Not run: " + "; ".join(f"{k}: {v}" for k, v in payload["unavailable"].items()),
        ]
    return "\n".join(lines) + "\n"


def git_commit() -> str:
    """The commit of the repository this script belongs to (``"unknown"`` outside git)."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def correlation(coef, truth) -> float:
    """Pearson correlation of the fitted and true weights; 0 for a constant (all-zero) fit."""
    import numpy as np

    coef = np.asarray(coef, dtype=np.float64)
    if np.ptp(coef) == 0.0:
        return 0.0  # no pattern at all, e.g. a lasso fit with every weight at 0
    return float(np.corrcoef(coef, truth)[0, 1])


def fit_key(fit: dict) -> tuple:
    return fit["rf"], fit["seed"], fit["method"], fit["n_bins"]


def check_same_setup(payload: dict, setup: dict, neurons: dict, path: Path) -> None:
    """Refuse to mix fits of another grid, CV or neurons into one table."""
    same = payload.get("neurons") == neurons and all(
        json.loads(json.dumps(payload["setup"].get(k))) == json.loads(json.dumps(v))
        for k, v in setup.items()
        if k not in ("n_features", "mean_rate")
    )
    if not same:
        raise SystemExit(f"{path} was written with another setup or neurons; cannot combine")


# -- main ------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="6 x 5 pixels, 3 sizes (smoke)")
    parser.add_argument("--seeds", type=int, default=None, help="N seeds (3; quick 1)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds K..K+N-1 (0)")
    parser.add_argument("--methods", nargs="*", choices=METHODS, default=list(METHODS))
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (1)")
    parser.add_argument("--resume", action="store_true", help="keep the fits already saved")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="output folder")
    parser.add_argument("--name", default=None, help="file stem (sample_efficiency[_quick])")
    parser.add_argument(
        "--merge", type=Path, nargs="*", default=[], help="add the fits of these JSON files"
    )
    args = parser.parse_args(argv)
    # Before numpy (and every BLAS, OpenMP or numba runtime) is loaded.
    pin_thread_environment(args.threads)

    from _common import load_average, machine_info, write_json
    from threadpoolctl import threadpool_limits

    setup = dict(QUICK if args.quick else FULL)
    neurons = QUICK_NEURONS if args.quick else NEURONS
    n_seeds = args.seeds or (1 if args.quick else 3)
    stem = args.name or ("sample_efficiency_quick" if args.quick else "sample_efficiency")
    json_path, md_path = args.out / f"{stem}.json", args.out / f"{stem}.md"
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/sample_efficiency.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    payload = {"commands": [], "machines": [], "fits": [], "unavailable": {}}
    if args.resume and json_path.exists():
        payload = json.loads(json_path.read_text())
        check_same_setup(payload, setup, neurons, json_path)
        # a fit without a finite correlation (an interrupted or faulty record) is re-run
        payload["fits"] = [f for f in payload["fits"] if math.isfinite(f["corr"])]
    payload["commands"].append(command.strip())
    for path in args.merge:
        other = json.loads(path.read_text())
        check_same_setup(other, setup, neurons, path)
        keys = {fit_key(f) for f in payload["fits"]}
        payload["fits"] += [f for f in other["fits"] if fit_key(f) not in keys]
        payload["commands"] += [f"{c}  (merged from {path.name})" for c in other["commands"]]
        payload["machines"] += other["machines"]
    payload["neurons"] = neurons
    unavailable = {m: why for m in args.methods if (why := available(m))}
    payload["unavailable"] = unavailable
    methods = [m for m in args.methods if m not in unavailable]
    for method, why in unavailable.items():
        print(f"{method}: {why}", flush=True)

    with threadpool_limits(args.threads):
        X, y, exposure, truth, mean_rate = simulate("gaussian", 0, 300, setup, neurons)
        fit_method("ridge", X, y, exposure, setup)  # loads every runtime before the check
        pools = check_threads(args.threads, "after the warm-up")[0]  # exits (3) if not pinned
        info = machine_info(args.threads, packages=["threadpoolctl", "numba"])
        info["threadpools"] = pools
        info["git_commit"] = git_commit()
        setup["n_features"] = int(X.shape[1])
        # closed form, the same for every seed (the RF is fixed; seeds draw stimulus and spikes)
        setup["mean_rate"] = {rf: simulate(rf, 0, 10, setup, neurons)[4] for rf in neurons}
        payload["setup"] = setup
        done = {fit_key(f) for f in payload["fits"]}
        for seed in range(args.first_seed, args.first_seed + n_seeds if methods else 0):
            for rf in neurons:
                X, y, exposure, truth, _ = simulate(rf, seed, max(setup["grid"]), setup, neurons)
                for method in methods:
                    for n in setup["grid"]:
                        key = (rf, seed, method, n)
                        old = [f for f in payload["fits"] if fit_key(f) == key]
                        if key in done:
                            if old[0]["corr"] >= max(TARGETS):
                                break
                            continue
                        wall, cpu = time.perf_counter(), time.process_time()
                        with warnings.catch_warnings(record=True) as caught:
                            warnings.simplefilter("always")
                            model, chosen = fit_method(method, X[:n], y[:n], exposure[:n], setup)
                        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                        corr = correlation(model.coef_, truth)
                        payload["fits"].append(
                            {
                                "rf": rf,
                                "seed": seed,
                                "method": method,
                                "n_bins": n,
                                "n_spikes": int(y[:n].sum()),
                                "corr": corr,
                                "cpu_seconds": cpu,
                                "wall_seconds": wall,
                                "load_average": load_average(),
                                "info": chosen,
                                "warnings": sorted(
                                    {f"{w.category.__name__}: {w.message}"[:300] for w in caught}
                                ),
                            }
                        )
                        print(
                            f"seed {seed} {rf:8s} {method:6s} n={n:6d} r={corr:.4f} "
                            f"cpu {cpu:7.2f} s wall {wall:7.2f} s {chosen}",
                            flush=True,
                        )
                        write_json(json_path, payload)
                        if corr >= max(TARGETS):
                            break
        info["threadpools_after"] = check_threads(args.threads, "after the fits")[0]
    info["load_average_at_end"] = load_average()
    payload["machines"].append(info)
    payload["summary"] = summarise(payload["fits"], setup["grid"])
    write_json(json_path, payload)
    md_path.write_text(markdown(payload))
    plot(payload, md_path.with_suffix(".png"))
    print(f"wrote {md_path} and {json_path}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
