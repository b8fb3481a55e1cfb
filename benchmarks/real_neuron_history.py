"""What spike history adds on the lab's neuron: held-out bits per spike at sub-frame bins.

The recording is binned at ``BIN`` seconds (each bin carries the frame on screen
and its width as exposure, ``sklearn_lnp.datasets.subframe_design``).  Two models,
fitted on the same blocked folds (``BlockedTimeSeriesSplit(5, gap)`` with the gap
the longest stimulus lag), scored by held-out bits per spike:

* stimulus: the RF patch (rows 9-13, cols 3-5 of the 20 x 15 frame; 15 pixels)
  on screen over the last 500 ms, in a linear-time raised-cosine basis (sub-frame
  filter);
* stimulus + history: the same plus the neuron's own spikes over the last
  100 ms in a log-time raised-cosine basis.

No slow-drift regressors: fitted on the training blocks they extrapolate into a
held-out block at an end of the recording (the last fold lost tens of bits per
spike with 6 Legendre polynomials); both models share the error of ignoring the
drift.  The paired difference per fold gives the mean and its standard error.  The designs
are built on the whole recording before splitting (no leak: every column holds
the past only).  The RF patch is the one the README reports from the frame-level
STA of the whole recording; it is the same for both models.

Run: ``python benchmarks/real_neuron_history.py [path/to/nds_cl_5_data.mat]``
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from sklearn_lnp import (
    BlockedTimeSeriesSplit,
    LagTransformer,
    PoissonLNPRegressor,
    RaisedCosineBasis,
    SpikeHistoryTransformer,
)
from sklearn_lnp.datasets import load_recording, subframe_design
from sklearn_lnp.metrics import bits_per_spike

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "nds_cl_5_data.mat"
BIN = 0.002  # s
ROWS, COLS = range(9, 14), range(3, 6)
STIM_LAGS = range(0, 250, 5)  # 0-490 ms in 10 ms steps
HISTORY_LAGS = range(1, 51)  # 2-100 ms
ALPHA = 1e-4


def designs(path, bin_width=BIN):
    """Stimulus and history columns, counts and exposure at ``bin_width`` bins."""
    recording = load_recording(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        design = subframe_design(recording, bin_width)
    n_cols = recording.frame_shape[1]
    pixels = [i * n_cols + j for i in ROWS for j in COLS]
    frames = recording.stimulus[design.frame_index][:, pixels]
    stim_lags = range(0, round(0.5 / bin_width), max(1, round(0.01 / bin_width)))
    stimulus = LagTransformer(stim_lags, basis=RaisedCosineBasis(6, log_time=False)).fit_transform(
        frames
    )
    history = SpikeHistoryTransformer(
        range(1, round(0.1 / bin_width) + 1), basis=RaisedCosineBasis(8)
    )
    Xh = history.fit_transform(design.counts[:, None])
    return design, stimulus, Xh, history, max(stim_lags)


def compare(path, bin_width=BIN, n_splits=5, alpha=ALPHA):
    design, Xs, Xh, history, gap = designs(path, bin_width)
    y, e = design.counts, design.exposure
    rows = []
    for train, test in BlockedTimeSeriesSplit(n_splits, gap=gap).split(Xs):
        scores = []
        for X in (Xs, np.hstack([Xs, Xh])):
            model = PoissonLNPRegressor(alpha=alpha).fit(X[train], y[train], exposure=e[train])
            scores.append(bits_per_spike(y[test], model.predict(X[test], exposure=e[test])))
        rows.append(scores)
    rows = np.array(rows)
    diff = rows[:, 1] - rows[:, 0]
    full = PoissonLNPRegressor(alpha=alpha).fit(np.hstack([Xs, Xh]), y, exposure=e)
    filt = history.coef_to_lags(full.coef_[Xs.shape[1] :])
    return {
        "bin_width_s": bin_width,
        "n_bins": int(y.size),
        "n_spikes": int(y.sum()),
        "alpha": alpha,
        "bits_per_spike_stimulus": rows[:, 0].tolist(),
        "bits_per_spike_stimulus_history": rows[:, 1].tolist(),
        "mean_stimulus": float(rows[:, 0].mean()),
        "mean_stimulus_history": float(rows[:, 1].mean()),
        "mean_difference": float(diff.mean()),
        "se_difference": float(diff.std(ddof=1) / np.sqrt(n_splits)),
        "history_gain": np.exp(filt).tolist(),
        "history_lag_ms": (1000 * bin_width * history.lags_).tolist(),
    }


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else DEFAULT
    start = time.perf_counter()
    result = compare(path)
    result["seconds"] = round(time.perf_counter() - start, 1)
    out = Path(__file__).resolve().parent / "results" / "real_neuron_history.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{result['n_bins']} bins of {1000 * result['bin_width_s']:g} ms, "
        f"{result['n_spikes']} spikes, alpha={result['alpha']}\n"
        f"held-out bits/spike, stimulus:           {result['mean_stimulus']:+.4f}  "
        f"{np.round(result['bits_per_spike_stimulus'], 4).tolist()}\n"
        f"held-out bits/spike, stimulus + history: {result['mean_stimulus_history']:+.4f}  "
        f"{np.round(result['bits_per_spike_stimulus_history'], 4).tolist()}\n"
        f"difference (paired over folds): {result['mean_difference']:+.4f} "
        f"+- {result['se_difference']:.4f} (s.e.)\n"
        "history gain exp(filter) at "
        + ", ".join(
            f"{lag:g} ms: {g:.2f}"
            for lag, g in list(zip(result["history_lag_ms"], result["history_gain"], strict=True))[
                :8
            ]
        )
        + f"\n{result['seconds']} s; written to {out}"
    )


if __name__ == "__main__":
    main()
