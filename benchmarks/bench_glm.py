"""Coupled Poisson GLM of a simulated population at 1 ms bins: lockstep fit, loop, nemos.

Each neuron has a stimulus filter on 2 shared white-noise inputs (5 lags, weights
clipped to [-1, 1]), a refractory self-history and, for 10 % of the ordered pairs,
an excitatory or inhibitory coupling filter (lags 1-20 ms).  The design is the stimulus lags plus
every neuron's history in 8 log raised cosines (built one lag block at a time,
never at full lag resolution): 10 + 8 x n_neurons columns.  Methods, each in its
own process so that its peak memory (RSS) is its own:

* ``lockstep``: one multi-output ``PoissonLNPRegressor`` fit of all neurons
  (``solver="auto"``: L-BFGS on all neurons at once, handed over to Newton);
* ``loop``: one ``PoissonLNPRegressor`` fit per neuron, in a Python loop;
* ``nemos``: ``nemos.glm.PopulationGLM`` with the same Ridge penalty (its loss
  is the sum over neurons of the mean Poisson NLL plus ``strength/2 ||W||^2``,
  the same optimum as ``alpha`` here; constant bins, so the exposure is in
  the intercept), run by the Python of ``--nemos-python`` (a venv with nemos,
  which brings JAX), on the design saved by this script; its solution is
  scored with this package's objective.

Reported per method: CPU and wall time of the fit, iterations, the objective
and largest gradient entry at the solution (this package's objective, summed
over neurons), peak RSS, and the median correlation of recovered and true
coupling filters.  Threads are pinned to 1 before numpy is imported and checked
with threadpoolctl; the machine's load is recorded.

Run: ``python benchmarks/bench_glm.py [--neurons 50] [--seconds 20 60]
[--methods lockstep loop nemos] [--nemos-python PATH]``; results are written to
``benchmarks/results/bench_glm_<neurons>n_<seconds>s.json`` and ``.md`` (for
nemos the peak RSS is that of its own process, which loads the saved design).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

LAGS = np.arange(1, 21)
DT = 0.001
ALPHA = 1e-5
N_BASIS = 8
RESULTS = Path(__file__).resolve().parent / "results"

# Runs in the nemos venv: load the design, fit PopulationGLM, save the parameters.
NEMOS_WORKER = """
import json, resource, sys, time
import jax
jax.config.update("jax_enable_x64", True)
import numpy as np, nemos
data = np.load(sys.argv[1])
X, y = data["X"], data["counts"]
model = nemos.glm.PopulationGLM(regularizer="Ridge", regularizer_strength=float(sys.argv[3]),
                                solver_name="LBFGS", solver_kwargs={"tol": 1e-8, "maxiter": 5000})
cpu, wall = time.process_time(), time.perf_counter()
model.fit(X, y)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
np.savez(sys.argv[2], coef=np.asarray(model.coef_), intercept=np.asarray(model.intercept_))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
print(json.dumps({"cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "nemos": nemos.__version__,
                  "jax": jax.__version__, "peak_rss_mb_nemos_process": round(rss, 1)}))
"""


def population(n_neurons: int, n_bins: int, seed: int = 0):
    """Stimulus, true filters [lag, source, target], coupled pairs and simulated counts."""
    from sklearn_lnp import LagTransformer
    from sklearn_lnp.simulation import simulate_glm_spikes

    rng = np.random.default_rng(seed)
    stimulus = rng.normal(size=(n_bins, 2))
    kernel = np.array([0.0, 0.3, 0.5, 0.3, 0.1])
    # Stimulus weights clipped to [-1, 1]: the drive's SD stays <= 0.93 (kernel norm 0.66),
    # so its peaks over 1.2 million bins of Gaussian noise stay physiological (<= ~3
    # spikes per ms bin before history); unclipped weights (up to 2.4 for this seed)
    # give peaks of 77 spikes per ms, which the simulation refuses.
    weights = np.clip(rng.normal(scale=0.7, size=(2, n_neurons)), -1.0, 1.0)
    drive = np.log(15.0) + LagTransformer(range(5)).fit_transform(stimulus) @ np.kron(
        kernel[:, None], weights
    )
    filters = np.zeros((LAGS.size, n_neurons, n_neurons))
    refractory = -4.0 * np.exp(-(LAGS - 1) / 2.5)
    bump = np.exp(-0.5 * ((LAGS - 4) / 1.5) ** 2)
    for i in range(n_neurons):
        filters[:, i, i] = refractory
    coupled = rng.random((n_neurons, n_neurons)) < 0.1
    np.fill_diagonal(coupled, False)
    signs = rng.choice([-0.8, 0.8], size=(n_neurons, n_neurons))
    for i, j in zip(*np.nonzero(coupled), strict=True):
        filters[:, i, j] = signs[i, j] * bump
    counts = simulate_glm_spikes(drive, filters, exposure=DT, random_state=seed)
    return stimulus, filters, coupled, counts


def design(stimulus, counts, history, chunk: int = 5) -> np.ndarray:
    """Stimulus lags then the basis-major history columns, filled into one array.

    Equal to ``np.hstack([stimulus lags, history.transform(counts)])`` but built
    in place: the history of ``chunk`` neurons at a time is written into its
    columns (column ``b * n_neurons + j`` of the history block holds basis
    function ``b`` of neuron ``j``), so that the only full-size array is the
    design itself (3.9 GB at 50 neurons x 1.2 million bins) rather than the
    design, the history block and their concatenation.
    """
    from sklearn.base import clone

    from sklearn_lnp import LagTransformer

    stimulus_lags = LagTransformer(range(5)).fit_transform(stimulus)
    n_bins, n_neurons = counts.shape
    n_stim = stimulus_lags.shape[1]
    X = np.empty((n_bins, n_stim + N_BASIS * n_neurons))
    X[:, :n_stim] = stimulus_lags
    del stimulus_lags
    part = clone(history)  # same lags and basis, refitted on each subset of neurons
    for start in range(0, n_neurons, chunk):
        block = np.arange(start, min(start + chunk, n_neurons))
        H = part.fit_transform(counts[:, block])  # basis-major: column b * block.size + k
        for b in range(N_BASIS):
            X[:, n_stim + b * n_neurons + block] = H[:, b * block.size : (b + 1) * block.size]
    return X


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def _score(X, counts, coef, intercept) -> tuple[float, float]:
    """Summed objective and largest gradient entry of this package's objective at a solution."""
    mu = DT * np.exp(X @ coef.T + intercept)  # (n_bins, n_neurons)
    n = X.shape[0]
    objective = np.sum(np.mean(mu - counts * np.log(mu), axis=0)) + ALPHA / 2 * np.sum(coef**2)
    residual = (mu - counts) / n
    gradient = np.vstack([X.T @ residual + ALPHA * coef.T, residual.sum(axis=0)])
    return float(objective), float(np.abs(gradient).max())


def worker(n_neurons: int, seconds: float, method: str, nemos_python: str | None) -> dict:
    """One method at one size, in this process: design, fit, scores, peak RSS."""
    from threadpoolctl import threadpool_info

    from sklearn_lnp import (
        PoissonLNPRegressor,
        RaisedCosineBasis,
        SpikeHistoryTransformer,
    )

    n_bins = int(round(seconds / DT))
    stimulus, filters, coupled, counts = population(n_neurons, n_bins)
    cpu = time.process_time()
    history = SpikeHistoryTransformer(LAGS, basis=RaisedCosineBasis(N_BASIS)).fit(counts)
    X = design(stimulus, counts, history)
    design_cpu = time.process_time() - cpu
    rss_design = _peak_rss_mb()
    exposure = np.full(n_bins, DT)
    result = {"method": method, "n_neurons": n_neurons, "seconds": seconds, "n_bins": n_bins}
    result.update(n_columns=X.shape[1], design_cpu_s=round(design_cpu, 2))
    cpu, wall = time.process_time(), time.perf_counter()
    if method == "lockstep":
        model = PoissonLNPRegressor(alpha=ALPHA).fit(X, counts, exposure=exposure)
        coef, intercept, n_iter = model.coef_, model.intercept_, np.asarray(model.n_iter_)
        result["solver"] = sorted(set(np.asarray(model.solver_).tolist()))
    elif method == "loop":
        fits = []
        for j in range(n_neurons):
            fits.append(PoissonLNPRegressor(alpha=ALPHA).fit(X, counts[:, j], exposure=exposure))
            # progress on stderr: if the run is stopped, the parent reports this last line
            print(
                f"loop: {j + 1}/{n_neurons} neurons fitted, {time.process_time() - cpu:.1f} s CPU",
                file=sys.stderr,
                flush=True,
            )
        coef = np.array([f.coef_ for f in fits])
        intercept = np.array([f.intercept_ for f in fits])
        n_iter = np.array([f.n_iter_ for f in fits])
        result["solver"] = sorted({f.solver_ for f in fits})
    else:
        with tempfile.TemporaryDirectory() as folder:
            data, out = Path(folder) / "design.npz", Path(folder) / "nemos.npz"
            np.savez(data, X=X, counts=counts)
            text = subprocess.run(
                [nemos_python, "-c", NEMOS_WORKER, str(data), str(out), str(ALPHA)],
                check=True, capture_output=True, text=True,
                env={**os.environ, "JAX_PLATFORMS": "cpu",
                     "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"},
            ).stdout  # fmt: skip
            nemos_result = json.loads(text.strip().splitlines()[-1])
            params = np.load(out)
            coef, intercept = params["coef"].T, params["intercept"] - np.log(DT)
        n_iter = np.array([np.nan])
        result.update(nemos_result)
    if method != "nemos":
        result["cpu_s"] = round(time.process_time() - cpu, 2)
        result["wall_s"] = round(time.perf_counter() - wall, 2)
    result["n_iter_max"] = None if np.isnan(n_iter).all() else int(np.nanmax(n_iter))
    result["n_iter_median"] = None if np.isnan(n_iter).all() else float(np.nanmedian(n_iter))
    result["objective"], result["max_gradient"] = _score(X, counts, coef, intercept)
    result["peak_rss_mb_after_design"] = round(rss_design, 1)
    result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    result["design_mb"] = round(X.nbytes / 2**20, 1)
    W = history.coef_to_lags(coef[:, -N_BASIS * n_neurons :]).reshape(n_neurons, LAGS.size, -1)
    pairs = np.argwhere(coupled)
    corr = [np.corrcoef(W[j, :, i], filters[:, i, j])[0, 1] for i, j in pairs]
    result["coupling_corr_median"] = float(np.median(corr)) if corr else None
    result["threads"] = sorted({(p["internal_api"], p["num_threads"]) for p in threadpool_info()})
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=50)
    parser.add_argument("--seconds", type=float, nargs="+", default=[20.0, 60.0])
    parser.add_argument("--methods", nargs="+", default=["lockstep", "loop"])
    parser.add_argument("--nemos-python", default=None, help="python of a venv with nemos")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(args.neurons, args.seconds[0], args.methods[0], args.nemos_python)
        print(json.dumps(result))
        return
    runs = []
    for seconds in args.seconds:
        for method in args.methods:
            if method == "nemos" and args.nemos_python is None:
                continue
            command = [sys.executable, __file__, "--worker", "--neurons", str(args.neurons)]
            command += ["--seconds", str(seconds), "--methods", method]
            if args.nemos_python:
                command += ["--nemos-python", args.nemos_python]
            load = os.getloadavg()[0]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:  # e.g. the simulation refusing a runaway rate: say so, go on
                error = done.stderr.strip().splitlines()[-1]
                print(f"{method} at {seconds:g} s failed: {error}", file=sys.stderr)
                continue
            run = json.loads(done.stdout.strip().splitlines()[-1])
            run["load_before"] = round(load, 2)
            runs.append(run)
            print(json.dumps(run), flush=True)
    machine = {"platform": platform.platform(), "cpus": os.cpu_count(), "python": sys.version}
    payload = {"machine": machine, "alpha": ALPHA, "n_basis": N_BASIS, "runs": runs}
    RESULTS.mkdir(exist_ok=True)
    stem = f"bench_glm_{args.neurons}n_{'_'.join(f'{s:g}' for s in args.seconds)}s"
    (RESULTS / f"{stem}.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        "| neurons | seconds (1 ms bins) | columns | method | fit CPU s | fit wall s | max iter "
        "| objective | max gradient | peak RSS MB | coupling r (median) | load |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        r = {k: (float("nan") if v is None else v) for k, v in r.items()}
        rss = r.get("peak_rss_mb_nemos_process", r["peak_rss_mb"])
        lines.append(
            f"| {r['n_neurons']} | {r['seconds']:g} | {r['n_columns']} | {r['method']} "
            f"| {r['cpu_s']:.1f} | {r['wall_s']:.1f} | {r['n_iter_max']} | {r['objective']:.10f} "
            f"| {r['max_gradient']:.1e} | {rss:.0f} | {r['coupling_corr_median']:.3f} "
            f"| {r['load_before']:.1f} |"
        )
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
