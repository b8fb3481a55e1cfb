"""L1 population fit vs a loop of single-neuron fits vs joblib-parallel single fits.

Problem: the population benchmark's (``bench_population.py``): 200 simulated
LNP neurons sharing one 20,000 x 1500 white-noise design (+-1 pixels of a
50 x 30 screen), each with a Gaussian receptive field (sigma 1-2.5 pixels)
at a random place.  Every method fits every neuron with
``LassoLNPRegressor(alpha, tol=1e-8)``, one ``alpha`` for all neurons:
``--alpha-fraction`` (default 0.3) times the median over neurons of
``alpha_max`` (the smallest penalty with an all-zero fit), which leaves
tens to a few hundred non-zero weights per neuron (stated in the table;
``alpha_max`` varies 3-fold across neurons with their rates).  The
lockstep shares the passes over ``X``; each neuron's working-set Hessian
(``n_samples x |ws|^2``) stays its own, so the gain is largest for sparse
fits (small working sets).

* ``population``: one fit with ``y`` of shape (20000, 200): every neuron's
  own proximal Newton steps in lockstep, the passes over ``X`` (gradients
  ``X.T @ R``, direction predictors ``X @ D``) shared as matrix-matrix
  products (``sklearn_lnp._solvers._prox_newton`` with k neurons);
* ``loop``: a Python loop of 200 single-neuron fits;
* ``joblib``: the same single fits with ``joblib.Parallel(n_jobs)`` (loky
  worker processes; ``X`` is memory-mapped to them by joblib).

All in one benchmark process, BLAS pinned to ``--threads`` threads (in the
workers too).  Each neuron's objective is compared across methods (the same
problem, so the differences are the solvers' tolerances).

Run::

    python benchmarks/bench_population_lasso.py          # the issue's size
    python benchmarks/bench_population_lasso.py --quick  # 2000 x 150, 20 neurons (seconds)
    python benchmarks/bench_population_lasso.py --per-neuron --alpha-fraction 0.5

``--per-neuron`` gives every neuron its own ``alpha_j = fraction x
alpha_max_j`` (as cross-validation per neuron would: ``alpha_max`` grows
with the rate, and so does the noise level of the gradient), timed at the
solver level (``prox_newton`` of all neurons with a vector of penalties vs
``prox_newton`` of one neuron at a time, what the estimator does for 1-d y), since the
estimator takes one ``alpha``.

Writes ``benchmarks/results/population_lasso[_quick].md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_average, machine_info, machine_lines, write_json  # noqa: E402
from bench_population import simulate  # noqa: E402

from sklearn_lnp import LassoLNPRegressor  # noqa: E402
from sklearn_lnp._objective import PoissonObjective  # noqa: E402
from sklearn_lnp._penalties import L1  # noqa: E402
from sklearn_lnp._solvers._prox_newton import prox_newton  # noqa: E402
from sklearn_lnp.linear_model._lasso import alpha_max  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TOL = 1e-8
# alpha / median alpha_max: at 0.3 the noise pixels' gradients (about
# sqrt(rate / n_samples)) stay below alpha for most neurons and the fits
# keep tens to a few hundred weights (the receptive fields cover tens of
# pixels); 0.1 keeps most of the 1500 pixels (noise), 0.5 only a few.
DEFAULT_FRACTION = 0.3


def alpha_maxima(X, Y) -> np.ndarray:
    """Every neuron's ``alpha_max`` (``max_j |g_j|`` at ``w = 0``), from one ``X.T @ R``."""
    return alpha_max(PoissonObjective(X, Y))


def _peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fit_population(X, Y, alphas, per_neuron):
    """All neurons at once: the estimator (one alpha) or the solver (one alpha per neuron)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a non-converged fit must not pass silently
        if not per_neuron:
            model = LassoLNPRegressor(alpha=float(alphas[0]), tol=TOL).fit(X, Y)
            return model.objective_, model.optimality_, model.n_nonzero_
        objective = PoissonObjective(X, np.asfortranarray(Y))  # as the estimator does
        fit = prox_newton(objective, L1(alphas), objective.initial_params(), tol=TOL)
    assert np.all(fit.converged)
    return fit.objective, fit.optimality, np.count_nonzero(fit.params[:-1], axis=0)


def _fit_one(X, y, alpha, threads, per_neuron):
    """One neuron: the estimator, or (per-neuron alphas) the solver the estimator calls."""
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("error")  # a non-converged single fit must not pass silently
        if not per_neuron:
            model = LassoLNPRegressor(alpha=alpha, tol=TOL).fit(X, y)
            return model.objective_, model.optimality_, model.n_nonzero_
        objective = PoissonObjective(X, y)
        result = prox_newton(objective, L1(alpha), objective.initial_params(), tol=TOL).result()
    assert result.converged
    return result.objective, result.optimality, np.count_nonzero(result.params[:-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2000 x 150 design, 20 neurons")
    parser.add_argument("--neurons", type=int, default=None, help="override the number of neurons")
    parser.add_argument(
        "--alpha-fraction",
        type=float,
        default=DEFAULT_FRACTION,
        help=f"alpha / median alpha_max (default {DEFAULT_FRACTION})",
    )
    parser.add_argument(
        "--per-neuron",
        action="store_true",
        help="alpha_j = fraction x alpha_max_j (solver level: the estimator takes one alpha)",
    )
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--jobs", type=int, default=2, help="joblib workers (default 2)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        n_samples, width, height, n_neurons = 2000, 15, 10, 20
    else:
        n_samples, width, height, n_neurons = 20000, 50, 30, 200
    if args.neurons is not None:
        n_neurons = args.neurons
    X, Y = simulate(n_samples, width, height, n_neurons)
    info = machine_info(args.threads, ["joblib", "numba"])
    times, objectives, optimality, nonzero, loads = {}, {}, {}, {}, {}
    with threadpool_limits(args.threads):
        tops = alpha_maxima(X, Y)
        if args.per_neuron:
            alphas = args.alpha_fraction * tops
        else:
            alphas = np.full(n_neurons, args.alpha_fraction * float(np.median(tops)))
        # compile the numba kernel outside the timings (cached on disk)
        LassoLNPRegressor(alpha=float(alphas[0])).fit(X[:200], Y[:200, 0])

        rss_before = _peak_rss_mib()
        start = time.perf_counter()
        population = _fit_population(X, Y, alphas, args.per_neuron)
        times["population"] = time.perf_counter() - start
        rss_population = _peak_rss_mib()
        loads["population"] = load_average()
        objectives["population"], optimality["population"], nonzero["population"] = population

        start = time.perf_counter()
        loop = [
            _fit_one(X, Y[:, j], float(alphas[j]), args.threads, args.per_neuron)
            for j in range(n_neurons)
        ]
        times["loop"] = time.perf_counter() - start
        loads["loop"] = load_average()
    start = time.perf_counter()
    parallel = Parallel(n_jobs=args.jobs)(
        delayed(_fit_one)(X, Y[:, j], float(alphas[j]), args.threads, args.per_neuron)
        for j in range(n_neurons)
    )
    times["joblib"] = time.perf_counter() - start
    loads["joblib"] = load_average()
    for name, fits in (("loop", loop), ("joblib", parallel)):
        objectives[name] = np.array([f[0] for f in fits])
        optimality[name] = np.array([f[1] for f in fits])
        nonzero[name] = np.array([f[2] for f in fits])
    reference = objectives["loop"]
    rows = []
    for name in ("population", "loop", "joblib"):
        rel = np.abs(objectives[name] - reference) / np.abs(reference)
        nnz = nonzero[name]
        rows.append(
            f"| {name} | {times[name]:.1f} s | {times['loop'] / times[name]:.2f} "
            f"| {rel.max():.1e} | {optimality[name].max():.1e} "
            f"| {int(np.median(nnz))} ({int(nnz.min())}-{int(nnz.max())}) | {loads[name]} |"
        )
    label = "population_lasso" + ("_quick" if args.quick else "")
    if args.alpha_fraction != DEFAULT_FRACTION:
        label += f"_alpha{args.alpha_fraction:g}"
    if args.per_neuron:
        label += "_per_neuron"
    command = "python benchmarks/bench_population_lasso.py" + (" --quick" if args.quick else "")
    if args.neurons is not None:
        command += f" --neurons {args.neurons}"
    if args.alpha_fraction != DEFAULT_FRACTION:
        command += f" --alpha-fraction {args.alpha_fraction:g}"
    if args.per_neuron:
        command += " --per-neuron"
    if args.per_neuron:
        penalty = (
            f"alpha_j = {args.alpha_fraction:g} x alpha_max_j per neuron ({alphas.min():.3g}-"
            f"{alphas.max():.3g}; solver level: prox_newton with k neurons vs k = 1)"
        )
    else:
        penalty = (
            f"alpha={alphas[0]:.4g} ({args.alpha_fraction:g} x median alpha_max; "
            "estimators: LassoLNPRegressor with 2-d vs 1-d y)"
        )
    table = (
        f"# L1 population fit: {n_neurons} neurons, {n_samples} x {width * height} design, "
        f"{penalty}; alpha_max ranges {tops.min():.3g}-{tops.max():.3g}; tol={TOL:g}\n\n"
        f"Command: `{command}` (BLAS threads {args.threads}, joblib n_jobs={args.jobs})\n\n"
        + "\n".join(machine_lines(info))
        + f"\n\nPeak resident memory: {rss_before:.0f} MiB before the population fit, "
        f"{rss_population:.0f} MiB after it (X is {X.nbytes / 2**20:.0f} MiB; the fit keeps a "
        "column-major copy of X for the working-set gathers)."
        + "\n\n| method | wall time | speed-up over loop | max relative objective difference"
        " to loop (per neuron) | max KKT violation | non-zero weights per neuron, median"
        " (range) | load average after (1/5/15 min) |\n"
        "|---|---:|---:|---:|---:|---|---|\n" + "\n".join(rows) + "\n"
    )
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / f"{label}.md").write_text(table)
    write_json(
        args.output / f"{label}.json",
        {
            "machine": info,
            "command": command,
            "shape": [n_samples, width * height, n_neurons],
            "alpha": alphas.tolist() if args.per_neuron else float(alphas[0]),
            "per_neuron": args.per_neuron,
            "alpha_fraction": args.alpha_fraction,
            "alpha_max": tops.tolist(),
            "tol": TOL,
            "times": times,
            "peak_rss_mib": {"before_population": rss_before, "after_population": rss_population},
            "loads_after": loads,
            "objectives": {k: v.tolist() for k, v in objectives.items()},
            "optimality": {k: v.tolist() for k, v in optimality.items()},
            "n_nonzero": {k: v.tolist() for k, v in nonzero.items()},
        },
    )
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
