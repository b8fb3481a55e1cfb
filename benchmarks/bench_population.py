"""Population fit vs a loop of single-neuron fits vs joblib-parallel single fits.

Problem (the issue's): 200 simulated LNP neurons sharing one 20,000 x 1500
white-noise design (+-1 pixels of a 50 x 30 screen), each with a Gaussian
receptive field at a random place and a random baseline; counts in unit
bins.  Every method fits every neuron with ``PoissonLNPRegressor(alpha,
solver="auto", tol=1e-8)``:

* ``population``: one fit with ``y`` of shape (20000, 200) (lockstep L-BFGS,
  matrix-matrix products, see ``sklearn_lnp._solvers._lbfgs``);
* ``loop``: a Python loop of 200 single-neuron fits;
* ``joblib``: the same single fits with ``joblib.Parallel(n_jobs)`` (loky
  worker processes; ``X`` is memory-mapped to them by joblib).

All in one benchmark process, BLAS pinned to ``--threads`` threads (in the
workers too).  Each neuron's objective is compared across methods (same
objective, so the differences are the solvers' tolerances).

Run::

    python benchmarks/bench_population.py            # the issue's size (~15-25 min on 2 cores)
    python benchmarks/bench_population.py --quick    # 2000 x 150, 20 neurons (seconds)

Writes ``benchmarks/results/population[_quick].md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_average, machine_info, machine_lines, write_json  # noqa: E402

from sklearn_lnp import PoissonLNPRegressor  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def simulate(n_samples, width, height, n_neurons, seed=0):
    """White-noise design and counts of ``n_neurons`` Gaussian-RF LNP neurons."""
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], size=(n_samples, width * height))
    rows, cols = np.mgrid[0:height, 0:width]
    W = np.empty((width * height, n_neurons))
    for j in range(n_neurons):
        r0, c0 = rng.uniform(0, height), rng.uniform(0, width)
        sigma = rng.uniform(1.0, 2.5)
        sign = rng.choice([-1.0, 1.0])
        rf = sign * np.exp(-((rows - r0) ** 2 + (cols - c0) ** 2) / (2 * sigma**2))
        W[:, j] = 0.25 * rf.ravel() / np.linalg.norm(rf)
    bias = rng.uniform(-2.5, -0.5, n_neurons)
    Y = rng.poisson(np.exp(X @ W + bias)).astype(float)
    return X, Y


def _fit_one(X, y, alpha, threads):
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("error")  # a non-converged single fit must not pass silently
        model = PoissonLNPRegressor(alpha=alpha).fit(X, y)
    return model.objective_, model.optimality_, model.solver_


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2000 x 150 design, 20 neurons")
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--jobs", type=int, default=2, help="joblib workers (default 2)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        n_samples, width, height, n_neurons = 2000, 15, 10, 20
    else:
        n_samples, width, height, n_neurons = 20000, 50, 30, 200
    X, Y = simulate(n_samples, width, height, n_neurons)
    info = machine_info(args.threads, ["joblib"])
    times, objectives, notes = {}, {}, {}
    loads = {}
    with threadpool_limits(args.threads):
        start = time.perf_counter()
        model = PoissonLNPRegressor(alpha=args.alpha).fit(X, Y)
        times["population"] = time.perf_counter() - start
        loads["population"] = load_average()
        objectives["population"] = model.objective_
        names, counts = np.unique(model.solver_.astype(str), return_counts=True)
        notes["population"] = ", ".join(f"{c} {n}" for n, c in zip(names, counts, strict=True))
        notes["population"] += f"; max optimality {model.optimality_.max():.2g}"

        start = time.perf_counter()
        loop = [_fit_one(X, Y[:, j], args.alpha, args.threads) for j in range(n_neurons)]
        times["loop"] = time.perf_counter() - start
        loads["loop"] = load_average()
    start = time.perf_counter()
    parallel = Parallel(n_jobs=args.jobs)(
        delayed(_fit_one)(X, Y[:, j], args.alpha, args.threads) for j in range(n_neurons)
    )
    times["joblib"] = time.perf_counter() - start
    loads["joblib"] = load_average()
    for name, fits in (("loop", loop), ("joblib", parallel)):
        objectives[name] = np.array([f[0] for f in fits])
        names, counts = np.unique([f[2] for f in fits], return_counts=True)
        notes[name] = ", ".join(f"{c} {n}" for n, c in zip(names, counts, strict=True))
        notes[name] += f"; max optimality {max(f[1] for f in fits):.2g}"
    reference = objectives["loop"]
    rows = []
    for name in ("population", "loop", "joblib"):
        rel = np.abs(objectives[name] - reference) / np.abs(reference)
        rows.append(
            f"| {name} | {times[name]:.1f} s | {times['loop'] / times[name]:.2f} "
            f"| {rel.max():.1e} | {loads[name]} | {notes[name]} |"
        )
    label = "population_quick" if args.quick else "population"
    table = (
        f"# Population fit: {n_neurons} neurons, {n_samples} x {width * height} design, "
        f"alpha={args.alpha:g}, tol=1e-8\n\n"
        f"Command: `python benchmarks/bench_population.py{' --quick' if args.quick else ''}`"
        f" (BLAS threads {args.threads}, joblib n_jobs={args.jobs})\n\n"
        + "\n".join(machine_lines(info))
        + "\n\n| method | wall time | speed-up over loop | max relative objective difference"
        " to loop (per neuron) | load average after (1/5/15 min) | solvers used |\n"
        "|---|---:|---:|---:|---|---|\n" + "\n".join(rows) + "\n"
    )
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / f"{label}.md").write_text(table)
    write_json(
        args.output / f"{label}.json",
        {
            "machine": info,
            "shape": [n_samples, width * height, n_neurons],
            "alpha": args.alpha,
            "times": times,
            "loads_after": loads,
            "objectives": {k: v.tolist() for k, v in objectives.items()},
            "notes": notes,
        },
    )
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
