"""History/coupling figures, sub-frame bins of a recording, the lab's neuron's history."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt  # the Agg backend is set in conftest.py
import numpy as np
import pytest
from sklearn.utils import Bunch

from sklearn_lnp import PoissonLNPRegressor, RaisedCosineBasis, SpikeHistoryTransformer
from sklearn_lnp.datasets import subframe_design
from sklearn_lnp.plotting import plot_coupling_filters, plot_history_gain


def test_history_gain_plot_draws_exp_of_the_filter_over_ms():
    h = np.column_stack([-3 * np.exp(-np.arange(10) / 2), np.zeros(10)])
    lines = plot_history_gain(h, 0.002, labels=["A", "B"])
    ax = lines[0].axes
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_xdata(), 2.0 * np.arange(1, 11))
    np.testing.assert_allclose(lines[0].get_ydata(), np.exp(h[:, 0]))
    assert ax.get_xlabel() == "time since spike (ms)"
    assert "gain" in ax.get_ylabel() and "exp(h)" in ax.get_ylabel()
    assert "history" in ax.get_title().lower()
    plt.close("all")


@pytest.mark.parametrize(
    ("plot", "shape"), [(plot_history_gain, (3, 1)), (plot_coupling_filters, (3, 1, 1))]
)
def test_gains_beyond_1e300_are_refused_and_just_below_are_drawn(plot, shape):
    # A gain near the float maximum overflows in matplotlib's drawing arithmetic.
    with pytest.raises(ValueError, match="filters holds a log-rate change of 700"):
        plot(np.full(shape, 700.0), 0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot(np.full(shape, np.log(1e299)), 0.001)
        plt.gcf().canvas.draw()
    plt.close("all")


def test_coupling_plot_has_one_titled_panel_per_source_target_pair():
    h = np.zeros((6, 3, 3))
    h[:, 0, 2] = 0.5
    axes = plot_coupling_filters(h, 0.001, names=["a", "b", "c"])
    assert axes.shape == (3, 3)
    assert axes[2, 0].get_title() == "a → c"
    np.testing.assert_allclose(axes[2, 0].lines[0].get_ydata(), np.exp(0.5))
    np.testing.assert_allclose(axes[0, 2].lines[0].get_ydata(), 1.0)
    assert axes[2, 1].get_xlabel() == "time since source spike (ms)"
    assert axes[1, 0].get_ylabel() == "gain exp(h)"
    assert "Coupling filters" in axes[0, 0].figure.get_suptitle()
    plt.close("all")


def _toy_recording():
    return Bunch(
        stimulus=np.arange(8.0).reshape(4, 2),
        frame_shape=(1, 2),
        spike_times=np.array([0.01, 0.12, 0.13, 0.5, 0.69]),
        trigger_times=np.array([0.0, 0.2, 0.41, 0.6, 0.83]),
    )


def test_subframe_bins_tile_each_frame_and_keep_every_spike():
    recording = _toy_recording()
    design = subframe_design(recording, 0.05)
    # Exposures tile the trigger span; each frame's bins sum to its duration.
    np.testing.assert_allclose(design.exposure.sum(), 0.83, rtol=1e-12)
    for k, duration in enumerate(np.diff(recording.trigger_times)):
        np.testing.assert_allclose(design.exposure[design.frame_index == k].sum(), duration)
    assert np.all(design.exposure <= 0.05 + 1e-12)
    assert design.counts.sum() == 5
    assert design.counts[design.frame_index == 0].sum() == 3
    np.testing.assert_allclose(
        design.time_in_frame[design.frame_index == 1], [0, 0.05, 0.1, 0.15, 0.2]
    )


@pytest.mark.parametrize("width", [0.0, -0.01, np.inf, 0.2])
def test_subframe_refuses_bad_widths(width):
    message = "larger than the shortest frame" if width == 0.2 else "bin_width must be a positive"
    with pytest.raises(ValueError, match=message):
        subframe_design(_toy_recording(), width)


def test_real_neuron_subframe_bins_keep_the_spikes_inside_the_triggers(real_recording):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        design = subframe_design(real_recording, 0.001)
    # README: 5493 spikes inside the trigger span, 7 after it.
    assert design.counts.sum() == 5493 and design.n_spikes_after == 7
    np.testing.assert_allclose(design.exposure.sum(), real_recording.trigger_times[-1], rtol=1e-9)


@pytest.mark.slow
def test_real_neuron_history_shows_refractoriness(real_recording):
    """The lab's neuron is refractory after a spike, then fires at a preferred interval.

    The shortest inter-spike interval is 7.2 ms and the median 39 ms (README).
    A history-only GLM at 1 ms bins (lags 1-50 ms, 8 log raised cosines, alpha
    1e-4) gives the gain exp(h) 0.18 at 1 ms and 0.06-0.09 at 2-4 ms (measured;
    the penalty and the smooth basis keep it above the empirical 0), crossing 1
    near 22 ms and peaking at 2.1 near 39 ms.  Asserted with margins: gain < 0.5
    at 1-4 ms and > 1.3 somewhere in 25-50 ms.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        design = subframe_design(real_recording, 0.001)
    history = SpikeHistoryTransformer(range(1, 51), basis=RaisedCosineBasis(8))
    X = history.fit_transform(design.counts[:, None])
    model = PoissonLNPRegressor(alpha=1e-4).fit(X, design.counts, exposure=design.exposure)
    gain = np.exp(history.coef_to_lags(model.coef_))
    assert np.all(gain[:4] < 0.5), gain[:4]
    assert gain[24:].max() > 1.3, gain[24:]
