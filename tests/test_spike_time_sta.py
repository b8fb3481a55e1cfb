"""Spike-time STA at sub-frame resolution: exactness, simulated latency, null calibration, input."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lnp import STAEstimator
from sklearn_lnp.plotting import RF_CMAP, plot_sta_over_tau
from sklearn_lnp.spikes import bin_spikes, spike_triggered_average, tau_grid


def _frames(rng, n_frames, n_pixels):
    """Unequal frame onsets (0.17-0.26 s, as the lab's triggers) and a binary movie."""
    frame_times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.17, 0.26, n_frames - 1))])
    stimulus = rng.choice([-1.0, 1.0], size=(n_frames, n_pixels))
    return frame_times, stimulus


def _latency_neuron(seed, n_frames=2000, delay=0.1, base_rate=10.0, dt=0.001):
    """Spikes of ``rate(t) = base_rate * exp(w . frame on screen at t - delay)``.

    Drawn on a 1 ms grid (Bernoulli per step, then jittered within the step),
    so the spike-time STA should peak at ``tau = delay`` on the RF.
    """
    rng = np.random.default_rng(seed)
    frame_times, stimulus = _frames(rng, n_frames, 64)
    rf = np.zeros((8, 8))
    rf[3, 4], rf[3, 3], rf[4, 4] = 0.6, 0.3, 0.3
    drive = stimulus @ rf.ravel()
    grid = np.arange(frame_times[0], frame_times[-1], dt)
    frame = np.searchsorted(frame_times, grid - delay, side="right") - 1
    rate = np.where(frame >= 0, base_rate * np.exp(drive[np.maximum(frame, 0)]), base_rate)
    fire = rng.random(grid.size) < rate * dt
    spikes = grid[fire] + rng.uniform(0, dt, size=int(fire.sum()))
    return spikes, frame_times, stimulus, rf


def _brute_force(spike_times, frame_times, stimulus, taus):
    """Loop over delays, spikes and frames: the definition, written out."""
    start, stop = frame_times[0], frame_times[-1]
    n_frames = frame_times.size - 1
    sta = np.zeros((stimulus.shape[1], taus.size))
    for j, tau in enumerate(taus):
        paired = []
        for t in spike_times:
            if not start <= t < stop:
                continue
            for k in range(n_frames):
                if frame_times[k] + tau <= t < frame_times[k + 1] + tau:
                    paired.append(stimulus[k])
        # Null mean: the frames over the span that t - tau can reach, by time.
        low, high = max(start, start - tau), min(stop, stop - tau)
        weight = np.array(
            [
                max(0.0, min(frame_times[k + 1], high) - max(frame_times[k], low))
                for k in range(n_frames)
            ]
        )
        null_mean = weight @ stimulus[:n_frames] / weight.sum()
        sta[:, j] = np.mean(paired, axis=0) - null_mean
    return sta


def test_matches_the_definition_written_as_a_loop():
    rng = np.random.default_rng(3)
    frame_times, stimulus = _frames(rng, 40, 5)
    stimulus = np.vstack([stimulus, rng.normal(size=(3, 5))])  # frames without onsets
    spikes = np.sort(rng.uniform(-0.5, frame_times[-1] + 0.5, size=150))
    with pytest.warns(UserWarning):
        result = spike_triggered_average(
            spikes, frame_times, stimulus, window=(-0.3, 0.6), resolution=0.05
        )
    expected = _brute_force(spikes, frame_times, stimulus, result.taus)
    np.testing.assert_allclose(result.sta, expected, atol=1e-12)
    inside = (spikes >= frame_times[0]) & (spikes < frame_times[-1])
    assert result.n_spikes_before + result.n_spikes_after == np.sum(~inside)
    assert result.n_unused_frames == 3 + 1  # the frame at the last onset has no known end


def test_tau_zero_equals_the_frame_level_sta_with_exposure():
    """At tau = 0 a spike sees the frame of its bin: STAEstimator on counts, with bin widths."""
    rng = np.random.default_rng(0)
    frame_times, stimulus = _frames(rng, 300, 12)
    spikes = np.sort(rng.uniform(0, frame_times[-1], size=1200))
    fine = spike_triggered_average(spikes, frame_times, stimulus, window=0.1, resolution=0.05)
    binned = bin_spikes(spikes, frame_times)
    frame_level = STAEstimator().fit(stimulus[:-1], binned.counts, exposure=binned.exposure)
    np.testing.assert_allclose(fine.sta[:, 0], frame_level.sta_, atol=1e-12)
    np.testing.assert_allclose(fine.zscore[:, 0], frame_level.zscore_, atol=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_simulated_latency_is_found_at_sub_frame_resolution(seed):
    """A neuron that responds 100 ms after the frame: the STA peaks at tau = 100 ms.

    Over 10 seeds (2000 frames, about 5500 spikes) the peak of the RF
    centre's STA was at exactly 100 ms on the 25 ms grid every time and the
    map there correlated with the true RF at 0.964-0.980: the test asks for
    the peak within one step and a correlation above 0.9.
    """
    spikes, frame_times, stimulus, rf = _latency_neuron(seed)
    result = spike_triggered_average(
        spikes, frame_times, stimulus, window=(-0.5, 1.0), resolution=0.025, warn=False
    )
    centre = 3 * 8 + 4
    peak = int(np.argmax(result.sta[centre]))
    assert abs(result.taus[peak] - 0.1) <= 0.025 + 1e-12
    assert np.corrcoef(result.sta[:, peak], rf.ravel())[0, 1] > 0.9
    assert result.zscore[centre, peak] > 10
    # A frame shown more than one frame (0.26 s) after the spike cannot have
    # caused it: no pixel's z exceeds what 64 x 8 null values reach.
    acausal = result.zscore[:, result.taus <= -0.3]
    assert np.abs(acausal).max() < 5


def test_zscore_is_standard_normal_without_stimulus_dependence():
    """Spikes independent of a white binary movie: z over 400 pixels has mean 0, s.d. 1.

    Over 5 seeds the s.d. of all z values was 0.983-1.025 and the mean within
    0.06 of 0 (delays of one frame share frames, so the 40 columns are not
    independent; the bounds leave room for that).
    """
    rng = np.random.default_rng(1)
    frame_times, stimulus = _frames(rng, 2000, 400)
    spikes = np.sort(rng.uniform(0, frame_times[-1], size=8000))
    result = spike_triggered_average(spikes, frame_times, stimulus, warn=False)
    assert abs(result.zscore.mean()) < 0.1
    assert 0.9 < result.zscore.std() < 1.1


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    shift=st.floats(-1e3, 1e3, allow_nan=False),
    offset=st.floats(-5, 5, allow_nan=False),
    gain=st.floats(0.1, 10, allow_nan=False),
)
def test_invariant_to_time_shift_stimulus_offset_and_gain(seed, shift, offset, gain):
    rng = np.random.default_rng(seed)
    frame_times, stimulus = _frames(rng, 30, 4)
    spikes = np.sort(rng.uniform(0, frame_times[-1], size=60))
    kwargs = {"window": 0.5, "resolution": 0.1, "warn": False}
    base = spike_triggered_average(spikes, frame_times, stimulus, **kwargs)
    moved = spike_triggered_average(spikes + shift, frame_times + shift, stimulus, **kwargs)
    rescaled = spike_triggered_average(spikes, frame_times, gain * stimulus + offset, **kwargs)
    # A shift may move a spike across a frame edge by rounding only when it
    # sits within ~1e-13 s of one; uniform random times never do.
    np.testing.assert_allclose(moved.sta, base.sta, atol=1e-9)
    np.testing.assert_allclose(rescaled.sta, gain * base.sta, atol=1e-9 * gain * (1 + abs(offset)))
    np.testing.assert_allclose(rescaled.zscore, base.zscore, atol=1e-7)
    np.testing.assert_array_equal(moved.n_spikes, base.n_spikes)


def test_every_spike_and_frame_is_accounted_for():
    rng = np.random.default_rng(5)
    frame_times, stimulus = _frames(rng, 50, 3)
    stimulus = np.vstack([stimulus, stimulus[:11]])
    spikes = np.sort(np.concatenate([[-1.0, -0.5], rng.uniform(0, frame_times[-1], 90), [1e4]]))
    with pytest.warns(UserWarning) as record:
        result = spike_triggered_average(spikes, frame_times, stimulus, window=0.2)
    messages = " ".join(str(w.message) for w in record)
    assert (
        "2 spikes before" in messages
        and "1 at or after" in messages
        and "11 of 61 stimulus frames come after" in messages
    )
    assert (result.n_spikes_before, result.n_spikes_after, result.n_unused_frames) == (2, 1, 12)
    assert result.n_spikes[0] == 90  # tau = 0: every spike inside has its frame
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spike_triggered_average(spikes, frame_times, stimulus, window=0.2, warn=False)


def test_tau_grid():
    assert tau_grid(1.0, 0.025).size == 40
    np.testing.assert_allclose(tau_grid((-0.1, 0.1), 0.05), [-0.1, -0.05, 0.0, 0.05], atol=1e-15)
    assert tau_grid(0.2, 0.2).size == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"resolution": 0.0}, "resolution must be positive"),
        ({"resolution": -0.01}, "resolution must be positive"),
        ({"resolution": float("nan")}, "resolution must be finite"),
        ({"resolution": "fine"}, "resolution must be a real number"),
        ({"window": 0.1, "resolution": 0.2}, "must not be larger than the window"),
        ({"window": 0.0}, "window must span a positive length"),
        ({"window": -1.0}, "window must span a positive length"),
        ({"window": (0.5, 0.2)}, "window must span a positive length"),
        ({"window": (0.0, 0.5, 1.0)}, r"window must be a positive length \(s\) or a"),
        ({"window": float("inf")}, "window must be finite"),
    ],
)
def test_bad_window_or_resolution(kwargs, match):
    rng = np.random.default_rng(0)
    frame_times, stimulus = _frames(rng, 20, 2)
    with pytest.raises(ValueError, match=match):
        spike_triggered_average([0.5, 1.0], frame_times, stimulus, **kwargs)


def test_bad_times_and_stimulus():
    rng = np.random.default_rng(0)
    frame_times, stimulus = _frames(rng, 20, 2)
    spikes = [0.5, 1.0, 2.0]
    with pytest.raises(ValueError, match="frame_times must be strictly increasing"):
        spike_triggered_average(spikes, frame_times[::-1], stimulus)
    with pytest.raises(ValueError, match="frame_times must be strictly increasing"):
        spike_triggered_average(spikes, np.r_[frame_times[:5], frame_times[4:]], stimulus[:30])
    with pytest.raises(ValueError, match="spike_times must be sorted"):
        spike_triggered_average(spikes[::-1], frame_times, stimulus)
    with pytest.raises(ValueError, match="stimulus has 19 frames but frame_times has 20"):
        spike_triggered_average(spikes, frame_times, stimulus[:19])
    with pytest.raises(ValueError, match="stimulus must be 2-d"):
        spike_triggered_average(spikes, frame_times, stimulus[:, 0])
    with pytest.raises(ValueError, match="stimulus must be finite"):
        spike_triggered_average(spikes, frame_times, np.where(stimulus > 0, np.nan, 0.0))
    # A 3-d movie (frames, rows, cols) is flattened in C order (before any arithmetic, so
    # both calls do the same operations on the same numbers: equal exactly).
    movie = rng.normal(size=(20, 2, 3))
    flat = spike_triggered_average(spikes, frame_times, movie.reshape(20, 6), window=0.3)
    cube = spike_triggered_average(spikes, frame_times, movie, window=0.3)
    np.testing.assert_array_equal(flat.sta, cube.sta)


def test_zero_spikes_is_an_error_not_a_nan_map():
    rng = np.random.default_rng(0)
    frame_times, stimulus = _frames(rng, 20, 2)
    with pytest.raises(ValueError, match="no spike inside the frame times"):
        spike_triggered_average([], frame_times, stimulus)
    with pytest.raises(ValueError, match=r"no spike inside .* \(1 before, 2 after\)"):
        spike_triggered_average([-1.0, 1e3, 2e3], frame_times, stimulus)
    # Delays longer than the recording leave no spike with a frame.
    with pytest.raises(ValueError, match="no spike has a stimulus frame at tau"):
        spike_triggered_average([0.5, 1.0], frame_times, stimulus, window=(2.0, 2.5))


def test_uint8_movie_is_cast_before_arithmetic():
    """The lab's movie is uint8 {0, 1}: the STA must not wrap around."""
    rng = np.random.default_rng(2)
    frame_times, stimulus = _frames(rng, 100, 6)
    binary = ((stimulus + 1) / 2).astype(np.uint8)
    spikes = np.sort(rng.uniform(0, frame_times[-1], 400))
    as_uint8 = spike_triggered_average(spikes, frame_times, binary, window=0.3)
    as_float = spike_triggered_average(spikes, frame_times, binary.astype(float), window=0.3)
    np.testing.assert_allclose(as_uint8.sta, as_float.sta)
    np.testing.assert_allclose(
        2 * as_uint8.sta,
        spike_triggered_average(spikes, frame_times, stimulus, window=0.3).sta,
        atol=1e-12,
    )


def test_plot_sta_over_tau_draws_shared_centred_maps():
    rng = np.random.default_rng(0)
    sta = rng.normal(size=(12, 40))
    taus = 0.025 * np.arange(40)
    fig, axes, images = plot_sta_over_tau(sta, taus, (3, 4), taus_shown=[0.1, 0.35, 0.36])
    assert [ax.get_title() for ax in axes] == ["τ = 100 ms", "τ = 350 ms", "τ = 350 ms"]
    shown = sta[:, [4, 14, 14]]
    vmax = np.abs(shown).max()
    for image, column in zip(images, [4, 14, 14], strict=True):
        assert image.get_cmap().name == RF_CMAP
        assert image.get_clim() == pytest.approx((-vmax, vmax))
        np.testing.assert_array_equal(image.get_array(), sta[:, column].reshape(3, 4))
    assert axes[0].get_xlabel() == "column (pixel)" and axes[0].get_ylabel() == "row (pixel)"
    colorbars = [ax for ax in fig.axes if ax not in axes]
    assert len(colorbars) == 1 and colorbars[0].get_ylabel() == "STA (stimulus units)"
    fig, axes, _ = plot_sta_over_tau(sta, taus, (3, 4), n_panels=8)
    assert len(axes) == 8 and axes[1].get_title() == "τ = 125 ms"
    with pytest.raises(ValueError, match="one column per tau"):
        plot_sta_over_tau(sta[:, :10], taus, (3, 4))
    plt.close("all")


def test_plot_sta_kernel_draws_the_map_and_the_kernel_in_ms():
    from sklearn_lnp.plotting import plot_sta_kernel

    taus = 0.025 * np.arange(40)
    spatial = np.zeros((4, 5))
    spatial[2, 1] = 1.0
    temporal = np.sin(2 * np.pi * taus)
    fig, image, line = plot_sta_kernel(spatial, temporal, taus, title="svd")
    np.testing.assert_allclose(line.get_xdata(), 1000 * taus)
    np.testing.assert_allclose(line.get_ydata(), temporal)
    assert image.get_cmap().name == RF_CMAP and image.get_clim() == (-1.0, 1.0)
    kernel_axes = line.axes
    assert kernel_axes.get_xlabel() == "τ: time before the spike (ms)"
    assert "unit norm" in kernel_axes.get_ylabel()
    assert any(ax.get_ylabel() == "weight (unit norm)" for ax in fig.axes)  # colorbar
    with pytest.raises(ValueError, match="one entry per tau"):
        plot_sta_kernel(spatial, temporal[:5], taus)
    plt.close("all")
