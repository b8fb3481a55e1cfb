"""Coupled Poisson GLM of a simulated population at 1 ms bins: simulate, build, fit, recover.

Each neuron has a stimulus filter on 2 shared white-noise inputs (5 lags), a
refractory self-history and, for 10 % of the ordered pairs, an excitatory or
inhibitory coupling filter (lags 1-20 ms).  The design is the stimulus lags plus
every neuron's history in 6 log raised cosines; one multi-output
``PoissonLNPRegressor`` fit estimates all neurons in lockstep.  Reported: the
times of the simulation (numba loop), of the design and of the fit, and the
correlation of the recovered and true coupling filters.

nemos (0.2.8, JAX) is not compared: installing it would add JAX, xarray, h5py,
pynapple and some 20 other packages to the environment shared by the team.

Run: ``python benchmarks/bench_glm.py [n_neurons] [seconds]`` (default 10 neurons, 60 s).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from sklearn_lnp import (
    LagTransformer,
    PoissonLNPRegressor,
    RaisedCosineBasis,
    SpikeHistoryTransformer,
)
from sklearn_lnp.simulation import simulate_glm_spikes

LAGS = np.arange(1, 21)
DT = 0.001


def population(n_neurons: int, n_bins: int, seed: int = 0):
    """Stimulus, true filters [lag, source, target] and simulated counts."""
    rng = np.random.default_rng(seed)
    stimulus = rng.normal(size=(n_bins, 2))
    kernel = np.array([0.0, 0.3, 0.5, 0.3, 0.1])
    weights = rng.normal(scale=0.7, size=(2, n_neurons))
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
    start = time.perf_counter()
    counts = simulate_glm_spikes(drive, filters, exposure=DT, random_state=seed)
    return stimulus, filters, coupled, counts, time.perf_counter() - start


def run(n_neurons: int = 10, seconds: float = 60.0) -> dict:
    n_bins = int(seconds / DT)
    simulate_glm_spikes(np.zeros(10), [0.0])  # compile before timing
    stimulus, filters, coupled, counts, t_sim = population(n_neurons, n_bins)
    start = time.perf_counter()
    Xs = LagTransformer(range(5)).fit_transform(stimulus)
    history = SpikeHistoryTransformer(LAGS, basis=RaisedCosineBasis(6))
    X = np.hstack([Xs, history.fit_transform(counts)])
    t_design = time.perf_counter() - start
    start = time.perf_counter()
    model = PoissonLNPRegressor(alpha=1e-5).fit(X, counts, exposure=np.full(n_bins, DT))
    t_fit = time.perf_counter() - start
    # [target, lag, source]
    W = history.coef_to_lags(model.coef_[:, Xs.shape[1] :]).reshape(n_neurons, LAGS.size, -1)
    pairs = np.argwhere(coupled)
    corr = [np.corrcoef(W[j, :, i], filters[:, i, j])[0, 1] for i, j in pairs]
    self_corr = [np.corrcoef(W[i, :, i], filters[:, i, i])[0, 1] for i in range(n_neurons)]
    return {
        "n_neurons": n_neurons,
        "seconds": seconds,
        "n_bins": n_bins,
        "n_columns": X.shape[1],
        "spikes_per_neuron": float(counts.sum(0).mean()),
        "simulate_s": round(t_sim, 2),
        "design_s": round(t_design, 2),
        "fit_s": round(t_fit, 2),
        "n_coupled_pairs": len(pairs),
        "coupling_corr_median": float(np.median(corr)) if corr else None,
        "coupling_corr_min": float(np.min(corr)) if corr else None,
        "history_corr_median": float(np.median(self_corr)),
    }


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    n_neurons = int(argv[0]) if argv else 10
    seconds = float(argv[1]) if len(argv) > 1 else 60.0
    result = run(n_neurons, seconds)
    print(json.dumps(result, indent=2))
    out = Path(__file__).resolve().parent / "results" / f"bench_glm_{n_neurons}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
