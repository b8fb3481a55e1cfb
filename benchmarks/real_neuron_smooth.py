"""The lab's neuron: the evidence-optimised smoothness prior against CV-chosen ridge.

Lags 0-4 (1488 bins x 1500 columns), bin widths as exposure.  Held-out bits per
spike against the training rate on ``BlockedTimeSeriesSplit(5, gap=4)``; ridge's
alpha is the grid's best on these same folds (chosen with the test blocks, which
favours ridge), the smooth model's prior is chosen by the evidence of each
training set alone.  The difference is paired by fold (mean and standard error
``sd / sqrt(5)``).  Also: the fitted length scales (pixels; frames and ms), the
z-map peak and the time of the full fit (threads pinned to 1, CPU and wall).

Run: ``python benchmarks/real_neuron_smooth.py [path/to/nds_cl_5_data.mat]``
(default ``../shared/data/nds_cl_5_data.mat`` beside the repository).  Writes
``benchmarks/results/real_neuron_smooth.{json,md}``.
"""

from __future__ import annotations

import os

from run_all import default_thread_environment  # no numeric imports

default_thread_environment(1)  # before numpy is imported

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from sklearn_lnp.analysis import fit_smooth_lags  # noqa: E402
from sklearn_lnp.datasets import load_recording  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "nds_cl_5_data.mat"
RESULTS = Path(__file__).resolve().parent / "results"
# Measured once by refitting folds 1 and 2 with the evidence's hyperparameters and
# with others (MAP fits at fixed hyperparameters); not recomputed by this script.
NOTE = """
Why the evidence fit loses here: on folds 1 and 2 the training-set evidence prefers spatial
length scales of 0.4-0.6 px with a lag length scale of 4.6-6.5 frames (a per-pixel pattern
repeated at every lag, the imprint of the rate drift, see ../shared/data/README.md), by about
100 nats over short length scales; that pattern does not carry over to the held-out block
(fold 2: -0.049 bits/spike at the evidence optimum, +0.001 to +0.005 with 0.3-px length
scales). The model has no drift term; unpenalised drift covariates in the evidence are the
next step."""


def main(path=DEFAULT) -> dict:
    from threadpoolctl import threadpool_info

    threads = sorted({pool["num_threads"] for pool in threadpool_info()})
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = fit_smooth_lags(load_recording(path))
    total = time.perf_counter() - start
    z = result.maps[0] / result.coef_std.reshape(result.maps.shape)[0]
    peak = tuple(int(i) for i in np.unravel_index(np.argmax(result.maps[0]), result.maps[0].shape))
    payload = {
        "lags": result.lags.tolist(),
        "smooth_bits_per_spike": result.smooth_scores.tolist(),
        "ridge_bits_per_spike": result.ridge_scores.tolist(),
        "ridge_alpha": result.ridge_alpha,
        "ridge_grid": result.ridge_alphas.tolist(),
        "ridge_grid_mean_bits_per_spike": result.ridge_mean_scores.tolist(),
        "difference_mean": result.difference,
        "difference_se": result.difference_se,
        "length_scales_pixels_rows_cols": result.length_scales[:2].tolist(),
        "length_scale_lags_frames": float(result.length_scales[2]),
        "length_scale_lags_ms": result.length_scale_ms,
        "frame_duration_s": result.frame_duration,
        "prior_scale": result.prior_scale,
        "log_evidence": result.log_evidence,
        "n_map_fits": result.n_map_fits,
        "lag0_peak_row_col": peak,
        "lag0_peak_z": float(z[peak]),
        "fit_seconds_wall": result.fit_seconds,
        "fit_seconds_cpu": result.fit_cpu_seconds,
        "total_seconds_wall": total,
        "blas_threads": threads,
        "load_average_1min_at_start": load,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "real_neuron_smooth.json").write_text(json.dumps(payload, indent=2) + "\n")
    rows = [
        "# The lab's neuron: SmoothLNPRegressor (ASD prior, evidence) vs ridge (CV alpha)",
        "",
        "Lags 0-4, exposure = bin widths, `BlockedTimeSeriesSplit(5, gap=4)`, held-out bits "
        "per spike against the training rate. Ridge's alpha is the best of "
        f"{result.ridge_alphas.tolist()} on these folds (favours ridge).",
        "",
        "| fold | smooth | ridge | difference |",
        "| --- | --- | --- | --- |",
    ]
    for k, (s, r) in enumerate(zip(result.smooth_scores, result.ridge_scores, strict=True)):
        rows.append(f"| {k} | {s:+.4f} | {r:+.4f} | {s - r:+.4f} |")
    rows += [
        f"| mean | {result.smooth_scores.mean():+.4f} | {result.ridge_scores.mean():+.4f} | "
        f"{result.difference:+.4f} +- {result.difference_se:.4f} (paired SE) |",
        "",
        f"- ridge alpha: {result.ridge_alpha:g}",
        f"- length scales: rows {result.length_scales[0]:.2f} px, cols "
        f"{result.length_scales[1]:.2f} px, lags {result.length_scales[2]:.2f} frames = "
        f"{result.length_scale_ms:.0f} ms (mean frame {1e3 * result.frame_duration:.1f} ms)",
        f"- lag-0 peak (row, col) {peak}, z = coef / coef_std = {z[peak]:.1f}",
        f"- log evidence {result.log_evidence:.2f} after {result.n_map_fits} MAP fits",
        f"- full fit: {result.fit_cpu_seconds:.1f} s CPU, {result.fit_seconds:.1f} s wall "
        f"(BLAS threads {threads}, 1-min load {load:.1f} at start); whole script "
        f"{total:.0f} s wall",
        "",
        "Command: `python benchmarks/real_neuron_smooth.py`",
        NOTE,
    ]
    (RESULTS / "real_neuron_smooth.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))
    return payload


if __name__ == "__main__":
    main(*sys.argv[1:2])
