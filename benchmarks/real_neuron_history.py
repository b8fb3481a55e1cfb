"""What spike history adds on the lab's neuron: held-out bits per spike at sub-frame bins.

Runs :func:`sklearn_lnp.analysis.fit_history_glm` (the analysis of
``sklearn-lnp fit --history-bin-ms``) on the lab's recording at 2 ms bins:
stimulus-only, stimulus + history, and both with piecewise-linear drift terms,
each held out on the 8 interior blocks of 10 (every test block lies inside the
training time range, so the drift is interpolated, never extrapolated), scored
in bits per spike against the training blocks' rate, with paired fold-wise
standard errors of the differences.  The stimulus is the RF patch (rows 9-13,
cols 3-5 of the 20 x 15 frame; 15 pixels), the one the README reports from the
frame-level STA of the whole recording.

Thread pools are pinned to 1 before numpy is imported, and checked.

Run: ``python benchmarks/real_neuron_history.py [path/to/nds_cl_5_data.mat] [bin_ms]``
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

from sklearn_lnp.analysis import fit_history_glm  # noqa: E402
from sklearn_lnp.datasets import load_recording  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "nds_cl_5_data.mat"
BIN = 0.002  # s
ROWS, COLS = range(9, 14), range(3, 6)


def compare(path, bin_width=BIN) -> dict:
    """The held-out comparison as plain numbers (the JSON written by :func:`main`)."""
    recording = load_recording(path)
    n_cols = recording.frame_shape[1]
    pixels = [i * n_cols + j for i in ROWS for j in COLS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # spikes outside the triggers
        result = fit_history_glm(recording, bin_width=bin_width, pixels=pixels)
    return {
        "bin_width_s": result.bin_width,
        "n_bins": result.n_bins,
        "n_spikes": result.n_spikes,
        "alpha": result.alpha,
        "n_columns": result.n_columns,
        "folds": "the 8 interior blocks of 10 contiguous blocks, gap = longest lag",
        "null": "train (the training blocks' constant rate scores 0)",
        "block_rates_hz": result.block_rates.tolist(),
        "bits_per_spike": {name: s.tolist() for name, s in result.scores.items()},
        "mean_bits_per_spike": result.mean_scores,
        "differences": {
            name: {"mean": mean, "paired_se": se} for name, (mean, se) in result.differences.items()
        },
        "history_gain": result.history_gain.tolist(),
        "history_lag_ms": result.history_lag_ms.tolist(),
    }


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else DEFAULT
    bin_width = float(argv[1]) / 1000 if len(argv) > 1 else BIN
    pools = {(p["internal_api"], p["num_threads"]) for p in threadpool_info()}
    if any(n != 1 for _, n in pools):
        raise SystemExit(f"thread pools not pinned to 1: {sorted(pools)}")
    wall, cpu = time.perf_counter(), time.process_time()
    result = compare(path, bin_width)
    result["seconds_wall"] = round(time.perf_counter() - wall, 1)
    result["seconds_cpu"] = round(time.process_time() - cpu, 1)
    result["load_average"] = list(os.getloadavg())
    result["threads"] = sorted(pools)
    suffix = "" if bin_width == BIN else f"_{1000 * bin_width:g}ms"
    out = Path(__file__).resolve().parent / "results" / f"real_neuron_history{suffix}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    means, diffs = result["mean_bits_per_spike"], result["differences"]
    lines = [
        f"{result['n_bins']} bins of {1000 * result['bin_width_s']:g} ms, "
        f"{result['n_spikes']} spikes, alpha={result['alpha']}; held-out bits/spike "
        "(8 interior blocks, null = training rate):"
    ]
    for name, scores in result["bits_per_spike"].items():
        lines.append(f"  {name:24s} {means[name]:+.4f}  {np.round(scores, 3).tolist()}")
    for name, d in diffs.items():
        lines.append(f"  difference {name:20s} {d['mean']:+.4f} +- {d['paired_se']:.4f} (paired)")
    gain, lag = np.array(result["history_gain"]), np.array(result["history_lag_ms"])
    lines.append(
        "history gain exp(filter): "
        + ", ".join(f"{t:g} ms: {g:.2f}" for t, g in zip(lag[:6], gain[:6], strict=True))
        + f"; peak {gain.max():.2f} at {lag[np.argmax(gain)]:g} ms"
    )
    lines.append(
        f"{result['seconds_cpu']} s CPU, {result['seconds_wall']} s wall, load "
        f"{result['load_average'][0]:.1f}; written to {out}"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
