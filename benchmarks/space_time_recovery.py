"""Recovery of separable space-time RFs: bins needed by SVD-of-unconstrained vs bilinear fits.

Simulated neurons: ``make_separable_neuron`` with a Gaussian (sigma 1.5 px)
spatial map on 8 x 8 pixels, the default biphasic kernel over 5 lags,
``rf_norm=1``, 2 spikes per blank bin.  For each number of bins and seed, the
correlation of the fitted leading spatial / temporal components with the truth,
and the time per fit (simulation, lagged design and fit; threads pinned to 1
unless ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ... are set).

With ``--old DIR`` (a checkout of another revision, e.g. ``git worktree add
../old <commit>``), both packages are loaded in this one process and every
row is timed on both, alternating their order over ``--rounds`` rounds:
the two revisions then share the interpreter, the allocator and the moment,
which two separate runs on a busy machine do not.  Each revision simulates
and builds its own designs (the same seeds).  Printed: the median over the
rounds of the time per fit of each, their ratio, the correlations of both.

Sharing the allocator couples the two revisions through the heap: glibc
returns the top of its heap to the system when it is free (and serves
arrays above a moving threshold by ``mmap``), so whether an allocation
page-faults depends on what the other revision left on the heap.  With
``--old``, the script therefore fixes glibc's trim and mmap thresholds
(``mallopt``, where glibc is the C library; the output says whether it did):
freed memory stays in the heap, and neither revision pays page faults that
the other one caused.  The plain run leaves the allocator as it is.

Run: ``python benchmarks/space_time_recovery.py [n_seeds] [--old DIR] [--rounds R]``
"""

from __future__ import annotations

from run_all import default_thread_environment  # no numeric imports

# Before numpy is imported: one thread per runtime unless the caller set them,
# so the times printed compare across machines and revisions.
default_thread_environment(1)

import argparse  # noqa: E402
import ctypes  # noqa: E402
import ctypes.util  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

import sklearn_lnp  # noqa: E402

SHAPE = (8, 8)
N_LAGS = 5
BINS = (200, 400, 800, 1600, 3200)
METHODS = (("bilinear", 0.0), ("svd", 0.03), ("svd", 0.3))


# glibc's mallopt parameters, and the largest mmap threshold it accepts (64-bit)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_MAX = 32 << 20


def pin_allocator() -> bool:
    """Keep glibc's freed memory in its heap: no trimming, no ``mmap`` below 32 MiB.

    Returns whether both thresholds were set (False without glibc).
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, TypeError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    trim = mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    mmap = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
    return bool(trim and mmap)


def load_package(checkout: Path, name: str):
    """The ``sklearn_lnp`` package of another checkout, imported as ``name``."""
    package = checkout / "sklearn_lnp"
    spec = importlib.util.spec_from_file_location(
        name, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    if spec is None:
        raise SystemExit(f"--old: no sklearn_lnp package in {checkout}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    importlib.import_module(f"{name}.datasets")
    return module


def recovery(package, n_bins, method, alpha, seed):
    """Simulate, build the lagged design and fit with ``package``; the two correlations."""
    neuron = package.datasets.make_separable_neuron(
        n_bins, frame_shape=SHAPE, n_lags=N_LAGS, random_state=seed
    )
    X = package.LagTransformer(lags=range(N_LAGS)).fit_transform(neuron.stimulus)
    model = package.SVDSeparator(
        package.PoissonLNPRegressor(alpha=alpha), n_lags=N_LAGS, center="none", fit_method=method
    )
    model.fit(X, neuron.counts, exposure=neuron.exposure)
    return (
        np.corrcoef(model.spatial_, neuron.spatial)[0, 1],
        np.corrcoef(model.temporal_, neuron.temporal)[0, 1],
    )


def _timed_row(package, n_bins, method, alpha, n_seeds):
    start = time.perf_counter()
    r = np.array([recovery(package, n_bins, method, alpha, seed) for seed in range(n_seeds)])
    return r, (time.perf_counter() - start) / n_seeds


def _summary(r):
    return (
        f"spatial {np.median(r[:, 0]):.3f} / {r[:, 0].min():.3f}"
        f"  temporal {np.median(r[:, 1]):.3f} / {r[:, 1].min():.3f}"
    )


def run(n_seeds):
    print(f"{SHAPE[0]}x{SHAPE[1]} pixels, {N_LAGS} lags, {n_seeds} seeds: median / min correlation")
    start_all = time.perf_counter()
    importlib.import_module("sklearn_lnp.datasets")
    for n_bins in BINS:
        for method, alpha in METHODS:
            r, per_fit = _timed_row(sklearn_lnp, n_bins, method, alpha, n_seeds)
            print(
                f"bins {n_bins:5d} {method:8s} alpha {alpha:<5} {_summary(r)}"
                f"  ({1e3 * per_fit:.1f} ms per fit)",
                flush=True,
            )
    return time.perf_counter() - start_all


def compare(n_seeds, old_checkout: Path, rounds: int):
    pinned = pin_allocator()
    packages = {"old": load_package(old_checkout.resolve(), "sklearn_lnp_old"), "new": sklearn_lnp}
    importlib.import_module("sklearn_lnp.datasets")
    for label, package in packages.items():
        print(f"{label}: {Path(package.__file__).parent.parent}")
    print(
        "allocator: glibc trim and mmap thresholds fixed (freed memory stays in the heap)"
        if pinned
        else "allocator: left as it is (no glibc mallopt)"
    )
    print(
        f"{SHAPE[0]}x{SHAPE[1]} pixels, {N_LAGS} lags, {n_seeds} seeds, {rounds} alternating "
        "rounds: median ms per fit (simulation, design and fit), new/old"
    )
    start_all = time.perf_counter()
    totals = {"old": 0.0, "new": 0.0}
    for n_bins in BINS:
        for method, alpha in METHODS:
            times = {"old": [], "new": []}
            results = {}
            for round_ in range(rounds):
                order = ["old", "new"] if round_ % 2 == 0 else ["new", "old"]
                for label in order:
                    r, per_fit = _timed_row(packages[label], n_bins, method, alpha, n_seeds)
                    results[label] = r
                    times[label].append(per_fit)
            median = {label: 1e3 * statistics.median(t) for label, t in times.items()}
            for label in totals:
                totals[label] += median[label]
            print(
                f"bins {n_bins:5d} {method:8s} alpha {alpha:<5}"
                f" old {median['old']:6.2f}  new {median['new']:6.2f}"
                f"  ({median['new'] / median['old']:.2f})  new {_summary(results['new'])}"
                f"  old {_summary(results['old'])}",
                flush=True,
            )
    print(
        f"summed ms per fit: old {totals['old']:.1f}  new {totals['new']:.1f}"
        f"  ({totals['new'] / totals['old']:.3f})"
    )
    return time.perf_counter() - start_all


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_seeds", nargs="?", type=int, default=20)
    parser.add_argument("--old", type=Path, help="checkout of another revision to time alongside")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds with --old (5)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.old is None:
        elapsed = run(args.n_seeds)
    else:
        elapsed = compare(args.n_seeds, args.old, args.rounds)
    threads = sorted({pool["num_threads"] for pool in threadpool_info()})
    print(f"all fits: {elapsed:.1f} s wall; BLAS/OpenMP threads {threads}")


if __name__ == "__main__":
    main()
