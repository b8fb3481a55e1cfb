"""
=====================================================
The spike-triggered average from spike times
=====================================================

Which stimulus preceded the spikes, at a resolution finer than one frame?
:func:`~sklearn_lnp.spikes.spike_triggered_average` pairs each spike with the frame
that was on screen ``tau`` seconds earlier, for every ``tau`` on a grid (here 25 ms),
using the real, unequal frame times; no model is fitted. Its space-time matrix is then
separated by SVD into a spatial map and a temporal kernel over ``tau``.

The last section repeats this on the lab's recording when it is found beside the
repository (``../shared/data/nds_cl_5_data.mat``, or ``$SKLEARN_LNP_DATA``) and says
so otherwise; the simulated part never needs it.
"""

# %%
# Spike times of a simulated neuron, frames of unequal duration
# -------------------------------------------------------------
# Bin ``t`` is the display interval of frame ``t``; its count depends on the frames
# shown 0-4 intervals earlier. Spikes are spread uniformly within each interval.
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sklearn_lnp.datasets import load_recording, make_separable_neuron
from sklearn_lnp.decomposition import separate_space_time
from sklearn_lnp.plotting import plot_sta_kernel, plot_sta_over_tau
from sklearn_lnp.spikes import spike_triggered_average

rng = np.random.default_rng(0)
neuron = make_separable_neuron(
    3000, frame_shape=(10, 10), n_lags=5, temporal=[0.3, 1.0, 0.4, -0.5, -0.2], random_state=0
)
durations = rng.uniform(0.17, 0.27, size=len(neuron.counts))
frame_times = np.concatenate([[0.0], np.cumsum(durations)[:-1]])  # onset of each frame
starts, stops = frame_times[:-1], frame_times[1:]
counts = neuron.counts[: len(starts)].astype(int)
spike_times = np.sort(
    np.concatenate(
        [rng.uniform(a, b, size=n) for a, b, n in zip(starts, stops, counts, strict=True)]
    )
)
print(f"{spike_times.size} spikes, {frame_times.size} frame times")

# %%
# STA at 25 ms steps over the second before each spike, and its rank-1 SVD
sta = spike_triggered_average(
    spike_times, frame_times, neuron.stimulus, window=1.2, resolution=0.025
)
parts = separate_space_time(sta.sta, frame_shape=neuron.frame_shape)
peak_tau = sta.taus[np.argmax(np.abs(parts.temporal[0]))]
print(f"kernel peaks {1000 * peak_tau:.0f} ms before the spike")
r_map = abs(np.corrcoef(parts.spatial[0], neuron.spatial)[0, 1])
print(f"|r| of the map with the true one: {r_map:.3f}")

# %%
# The STA at a few of the delays, on one colour scale
plot_sta_over_tau(sta.sta, sta.taus, neuron.frame_shape, n_panels=8)

# %%
# Its rank-1 separation: the map and the kernel over the delay
fig, axes = plt.subplots(1, 2, figsize=(8, 3.4), layout="constrained")
plot_sta_kernel(parts.spatial_maps[0], parts.temporal[0], sta.taus, axes=axes)

# %%
# The same on the lab's recording, if present
# -------------------------------------------
# The documentation does not depend on the recording: without it, this section only
# prints that it was skipped.
candidates = [Path(os.environ.get("SKLEARN_LNP_DATA", "_none_"))]
candidates += [
    Path(p).resolve().parent / "shared" / "data" / "nds_cl_5_data.mat"
    for p in (Path.cwd(), *Path.cwd().parents)
]
path = next((p for p in candidates if p.is_file()), None)
if path is None:
    print("The lab's recording (nds_cl_5_data.mat) was not found; section skipped.")
else:
    recording = load_recording(path)
    real = spike_triggered_average(
        recording.spike_times,
        recording.trigger_times,
        recording.stimulus,
        window=0.6,
        resolution=0.025,
        warn=False,
    )
    real_parts = separate_space_time(real.sta, frame_shape=recording.frame_shape)
    print(f"real neuron: {recording.spike_times.size} spikes")
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4), layout="constrained")
    plot_sta_kernel(
        real_parts.spatial_maps[0],
        real_parts.temporal[0],
        real.taus,
        axes=axes,
        title="the lab's neuron",
    )
plt.show()
