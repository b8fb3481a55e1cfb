"""Recovery of separable space-time RFs: bins needed by SVD-of-unconstrained vs bilinear fits.

Simulated neurons: ``make_separable_neuron`` with a Gaussian (sigma 1.5 px)
spatial map on 8 x 8 pixels, the default biphasic kernel over 5 lags,
``rf_norm=1``, 2 spikes per blank bin.  For each number of bins and seed, the
correlation of the fitted leading spatial / temporal components with the truth,
and the time per fit (simulation, lagged design and fit; threads pinned to 1
unless ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ... are set).

Run: ``python benchmarks/space_time_recovery.py [n_seeds]``
"""

from __future__ import annotations

from run_all import default_thread_environment  # no numeric imports

# Before numpy is imported: one thread per runtime unless the caller set them,
# so the times printed compare across machines and revisions.
default_thread_environment(1)

import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

from sklearn_lnp import LagTransformer, PoissonLNPRegressor, SVDSeparator  # noqa: E402
from sklearn_lnp.datasets import make_separable_neuron  # noqa: E402

SHAPE = (8, 8)
N_LAGS = 5
BINS = (200, 400, 800, 1600, 3200)
METHODS = (("bilinear", 0.0), ("svd", 0.03), ("svd", 0.3))


def recovery(n_bins, method, alpha, seed):
    neuron = make_separable_neuron(n_bins, frame_shape=SHAPE, n_lags=N_LAGS, random_state=seed)
    X = LagTransformer(lags=range(N_LAGS)).fit_transform(neuron.stimulus)
    model = SVDSeparator(
        PoissonLNPRegressor(alpha=alpha), n_lags=N_LAGS, center="none", fit_method=method
    )
    model.fit(X, neuron.counts, exposure=neuron.exposure)
    return (
        np.corrcoef(model.spatial_, neuron.spatial)[0, 1],
        np.corrcoef(model.temporal_, neuron.temporal)[0, 1],
    )


def main(n_seeds=20):
    warnings.simplefilter("ignore")
    print(f"{SHAPE[0]}x{SHAPE[1]} pixels, {N_LAGS} lags, {n_seeds} seeds: median / min correlation")
    start_all = time.perf_counter()
    for n_bins in BINS:
        for method, alpha in METHODS:
            start = time.perf_counter()
            r = np.array([recovery(n_bins, method, alpha, seed) for seed in range(n_seeds)])
            print(
                f"bins {n_bins:5d} {method:8s} alpha {alpha:<5}"
                f" spatial {np.median(r[:, 0]):.3f} / {r[:, 0].min():.3f}"
                f"  temporal {np.median(r[:, 1]):.3f} / {r[:, 1].min():.3f}"
                f"  ({1e3 * (time.perf_counter() - start) / n_seeds:.1f} ms per fit)",
                flush=True,
            )
    threads = sorted({pool["num_threads"] for pool in threadpool_info()})
    print(f"all fits: {time.perf_counter() - start_all:.1f} s wall; BLAS/OpenMP threads {threads}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
