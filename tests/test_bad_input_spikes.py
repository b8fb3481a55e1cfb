"""Bad and extreme input to ``sklearn_lnp.spikes``: exact integer binning, named refusals.

Facts asserted: integer spike times and edges are binned exactly, also
beyond 2**53 where float64 rounds them (and against float edges or
spikes); complex or word times, stimulus values and a huge
``frame_offset`` are refused naming the argument; delay grids that cannot
be represented or whose arrays would exceed the machine's memory are
refused before any allocation, naming ``window`` and ``resolution`` and
saying how much memory they need; a stimulus entry of 1e300 gives the
exact STA without a numpy ``RuntimeWarning``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lnp.spikes import bin_spikes, check_times, spike_triggered_average, tau_grid

BIG = 10**18


# -- item 9: integer times binned exactly -------------------------------------------


def test_integer_spike_times_beyond_2_53_are_binned_exactly():
    spikes = np.array([BIG + 999])
    edges = np.array([BIG, BIG + 1000, BIG + 2000])  # float64 rounds both to BIG + 1024
    binned = bin_spikes(spikes, edges)
    assert binned.counts.tolist() == [1.0, 0.0]
    assert binned.exposure.tolist() == [1000.0, 1000.0]


def test_integer_times_on_both_sides_of_an_edge():
    edges = np.array([BIG, BIG + 1, BIG + 2, BIG + 3], dtype=np.int64)
    spikes = np.array([BIG - 1, BIG, BIG + 1, BIG + 1, BIG + 2, BIG + 3], dtype=np.int64)
    binned = bin_spikes(spikes, edges, warn=False)
    assert binned.counts.tolist() == [1.0, 2.0, 1.0]
    assert (binned.n_before, binned.n_after) == (1, 1)


@settings(max_examples=100, deadline=None)
@given(
    offset=st.integers(-(2**62), 2**62),
    steps=st.lists(st.integers(1, 5000), min_size=1, max_size=8),
    spikes=st.lists(st.integers(-2000, 42000), max_size=30),
)
def test_integer_binning_matches_python_integers(offset, steps, spikes):
    edges = offset + np.cumsum([0, *steps])
    times = offset + np.sort(np.array(spikes, dtype=np.int64))
    binned = bin_spikes(times, edges, warn=False)
    expected = [
        sum(int(a) <= int(t) < int(b) for t in times)
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    assert binned.counts.tolist() == expected
    assert binned.exposure.tolist() == [float(s) for s in steps]


def test_integer_spikes_against_float_edges_and_float_spikes_against_integer_edges():
    # float64 edge BIG + 1024 (what BIG + 1000.0 becomes) vs the integer spike BIG + 1000
    edges = np.array([float(BIG), float(BIG) + 2048.0, float(BIG) + 4096.0])
    assert bin_spikes(np.array([BIG + 2047]), edges).counts.tolist() == [1.0, 0.0]
    assert bin_spikes(np.array([BIG + 2048]), edges).counts.tolist() == [0.0, 1.0]
    int_edges = np.array([BIG, BIG + 1000, BIG + 1024, BIG + 1025])
    # the float spike is exactly BIG + 1024: the third bin
    assert bin_spikes(np.array([float(BIG + 1024)]), int_edges).counts.tolist() == [0, 0, 1]
    # small float times against integer edges: floor(t) decides
    assert bin_spikes([0.5, 1.0, 1.99], np.array([0, 1, 2])).counts.tolist() == [1.0, 2.0]


def test_integer_edges_whose_span_overflows_int64():
    edges = np.array([-(2**62) - 2**61, 0, 2**62 + 2**61], dtype=np.int64)
    binned = bin_spikes(np.array([-1, 0], dtype=np.int64), edges)
    assert binned.counts.tolist() == [1.0, 1.0]
    assert binned.exposure.tolist() == [float(2**62 + 2**61)] * 2


def test_check_times_keeps_floats_by_default():
    assert check_times([1, 2], "edges").dtype == np.float64
    assert check_times([1, 2], "edges", exact_integers=True).dtype == np.int64
    with pytest.raises(ValueError, match="edges.*int64"):
        check_times(np.array([0, 2**64 - 1], dtype=np.uint64), "edges", exact_integers=True)


# -- item 17: arguments named -------------------------------------------------------


@pytest.mark.parametrize(
    "spikes, edges, name, match",
    [
        (["a", "b"], [0.0, 1.0], "spike_times", "strings"),
        (np.array([0.2 + 1j]), [0.0, 1.0], "spike_times", "complex"),
        ([0.2], ["0", "1"], "edges", "strings"),
        ([0.2], np.array([0.0, 1.0 + 0j]), "edges", "complex"),
        ([0.2], np.array([0.0, None], dtype=object), "edges", "None"),
    ],
)
def test_bin_spikes_refuses_non_real_times_naming_them(spikes, edges, name, match):
    with pytest.raises(ValueError, match=name) as error:
        bin_spikes(spikes, edges)
    assert match in str(error.value)


def test_bin_spikes_refuses_a_frame_offset_beyond_int64():
    with pytest.raises(ValueError, match="frame_offset"):
        bin_spikes([0.5], [0.0, 1.0], frame_offset=2**70)
    assert bin_spikes([0.5], [0.0, 1.0], frame_offset=2**62).frame_index.tolist() == [2**62]


def _recording():
    frame_times = 0.2 * np.arange(6.0)
    stimulus = np.array([[1.0, 2.0], [-1.0, 0.0], [1.0, 1.0], [-1.0, 3.0], [1.0, 0.5], [0.0, 0.0]])
    return [0.25, 0.65, 0.9], frame_times, stimulus


@pytest.mark.parametrize(
    "change, name",
    [
        ({"spike_times": ["a", "b"]}, "spike_times"),
        ({"frame_times": np.array([0.0, 0.2 + 1j])}, "frame_times"),
        ({"stimulus": _recording()[2] + 1j}, "stimulus"),
        ({"stimulus": np.array([["a", "b"]] * 6)}, "stimulus"),
    ],
)
def test_spike_triggered_average_refuses_non_real_input_naming_it(change, name):
    spikes, frame_times, stimulus = _recording()
    arguments = {"spike_times": spikes, "frame_times": frame_times, "stimulus": stimulus}
    arguments.update(change)
    with pytest.raises(ValueError, match=name):
        spike_triggered_average(**arguments, window=0.4, resolution=0.2, warn=False)


# -- item 16: delay grids ------------------------------------------------------------


@pytest.mark.parametrize(
    "window, resolution, match",
    [
        (1e12, 1e-3, "would need .* of memory, more than this machine has"),  # 7 PiB
        ((-1e308, 1e308), 1.0, "window spans .* beyond the float64 range"),
        (1e308, 1e-10, "window .* resolution=1e-10 .* delays"),
        (1e300, 1e-300, "window .* resolution=1e-300 .* delays"),
    ],
)
def test_unrepresentable_or_huge_delay_grids_are_refused(window, resolution, match):
    with pytest.raises(ValueError, match=match):
        tau_grid(window, resolution)
    spikes, frame_times, stimulus = _recording()
    with pytest.raises(ValueError, match=match) as error:
        spike_triggered_average(
            spikes, frame_times, stimulus, window=window, resolution=resolution, warn=False
        )
    assert "window" in str(error.value)
    assert "resolution" in str(error.value) or "float64" in str(error.value)


@pytest.mark.slow
def test_memory_of_the_frames_by_delays_arrays_is_checked_before_allocating():
    # 10**7 delays fit (80 MB for the grid) but 8 arrays of 10**7 x 10**5 frames do not.
    frame_times = np.arange(100_001, dtype=float)
    stimulus = np.zeros((100_001, 1))
    with pytest.raises(ValueError, match=r"would need .*(TiB|PiB).* more than this machine has"):
        spike_triggered_average(
            [0.5, 1.5], frame_times, stimulus, window=1e4, resolution=1e-3, warn=False
        )


# -- item 18: extreme stimulus values --------------------------------------------


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("big", [1e300, 1e-300, 8e307])
def test_extreme_stimulus_values_give_the_scaled_sta_without_warnings(big):
    spikes, frame_times, stimulus = _recording()
    base = spike_triggered_average(
        spikes, frame_times, stimulus, window=0.4, resolution=0.2, warn=False
    )
    scaled = stimulus.copy()
    scaled[:, 0] *= big
    result = spike_triggered_average(
        spikes, frame_times, scaled, window=0.4, resolution=0.2, warn=False
    )
    np.testing.assert_allclose(result.sta[0], big * base.sta[0], rtol=1e-12)
    np.testing.assert_allclose(result.sta[1], base.sta[1], rtol=1e-12)
    np.testing.assert_allclose(result.zscore, base.zscore, rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_one_stimulus_entry_of_1e300_gives_no_warning():
    spikes, frame_times, stimulus = _recording()
    stimulus = stimulus.copy()
    stimulus[0, 0] = 1e300
    result = spike_triggered_average(
        spikes, frame_times, stimulus, window=0.4, resolution=0.2, warn=False
    )
    assert np.all(np.isfinite(result.sta)) and np.all(np.isfinite(result.zscore))


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_an_sta_beyond_float64_is_refused_naming_the_stimulus():
    _, frame_times, stimulus = _recording()
    stimulus = stimulus.copy()
    # Both spikes see +M at tau = 0, where the mean frame is -0.6 M: STA 1.6 M > 1.8e308.
    stimulus[:, 0] = 1.7e308 * np.array([-1.0, 1.0, -1.0, -1.0, -1.0, 0.0])
    with pytest.raises(ValueError, match="stimulus"):
        spike_triggered_average(
            [0.25, 0.3], frame_times, stimulus, window=0.2, resolution=0.2, warn=False
        )
