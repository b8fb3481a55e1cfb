"""``bin_spikes`` and ``check_times``: counts per frame interval, nothing lost silently.

Facts asserted: inside ``[edges[0], edges[-1])`` the counts are those of
``np.histogram`` (half-open bins); spikes outside are counted in
``n_before``/``n_after`` and reported in a warning, so every spike is
accounted for; the exposure is the bin widths; ``frame_offset`` pairs bin
``k`` with frame ``k + frame_offset``; unsorted or too few times raise a
``ValueError`` naming the argument.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lnp.spikes import bin_spikes, check_times


@st.composite
def edges_and_spikes(draw):
    """Strictly increasing edges and sorted spikes inside, on edges and outside."""
    n_edges = draw(st.integers(2, 30))
    widths = draw(st.lists(st.floats(0.01, 1.0), min_size=n_edges - 1, max_size=n_edges - 1))
    start = draw(st.floats(-100, 100))
    edges = start + np.concatenate([[0.0], np.cumsum(widths)])
    edges = np.unique(edges)  # round-off could merge two edges
    if edges.size < 2:
        edges = np.array([start, start + 1.0])
    span = (edges[0], edges[-1])
    inside = draw(st.lists(st.floats(0.0, 1.0, exclude_max=True), max_size=60))
    inside = [span[0] + u * (span[1] - span[0]) for u in inside]
    inside = [t for t in inside if t < span[1]]
    on_edges = draw(st.lists(st.sampled_from(list(edges[:-1])), max_size=5))
    before = draw(st.lists(st.floats(1e-3, 50.0), max_size=5))
    after = draw(st.lists(st.floats(0.0, 50.0), max_size=5))  # 0: on the last edge
    spikes = np.sort(
        np.concatenate(
            [
                np.asarray(inside + on_edges, dtype=float),
                span[0] - np.asarray(before, dtype=float),
                span[1] + np.asarray(after, dtype=float),
            ]
        )
    )
    return edges, spikes, len(inside) + len(on_edges), len(before), len(after)


@pytest.mark.slow  # 1.1 s of hypothesis examples (measured in the fast loop at load ~3)
@settings(max_examples=150, deadline=None)
@given(data=edges_and_spikes(), frame_offset=st.integers(-3, 3))
def test_counts_match_histogram_and_every_spike_is_accounted_for(data, frame_offset):
    edges, spikes, n_inside, n_before, n_after = data
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        binned = bin_spikes(spikes, edges, frame_offset=frame_offset)
    inside = spikes[(spikes >= edges[0]) & (spikes < edges[-1])]
    expected, _ = np.histogram(inside, bins=edges)
    np.testing.assert_array_equal(binned.counts, expected)
    assert binned.counts.dtype == np.float64
    assert binned.n_before == n_before
    assert binned.n_after == n_after
    assert binned.counts.sum() == n_inside
    assert binned.counts.sum() + binned.n_before + binned.n_after == spikes.size
    np.testing.assert_array_equal(binned.exposure, np.diff(edges))
    np.testing.assert_array_equal(binned.frame_index, np.arange(edges.size - 1) + frame_offset)
    outside_warned = [w for w in record if "fall in no bin" in str(w.message)]
    assert bool(outside_warned) == bool(n_before or n_after)
    if outside_warned:
        message = str(outside_warned[0].message)
        assert f"{n_before} spikes before" in message
        assert f"{n_after} at or after" in message


def test_spike_on_an_edge_belongs_to_the_bin_it_opens():
    edges = [0.0, 1.0, 2.0, 3.0]
    binned = bin_spikes([0.0, 1.0, 1.0, 2.5], edges)
    np.testing.assert_array_equal(binned.counts, [1.0, 2.0, 1.0])


def test_outside_spikes_are_reported_not_silently_dropped():
    edges = [1.0, 2.0, 3.0]
    spikes = [0.5, 0.9, 1.5, 2.5, 3.0, 7.0]
    with pytest.warns(UserWarning, match="2 spikes before .* 2 at or after"):
        binned = bin_spikes(spikes, edges)
    assert (binned.n_before, binned.n_after) == (2, 2)
    np.testing.assert_array_equal(binned.counts, [1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = bin_spikes(spikes, edges, warn=False)
    assert (quiet.n_before, quiet.n_after) == (2, 2)


def test_column_vectors_as_matlab_stores_them():
    binned = bin_spikes(np.array([[0.5], [1.5], [1.7]]), np.array([[0.0], [1.0], [2.0]]))
    np.testing.assert_array_equal(binned.counts, [1.0, 2.0])


def test_no_spikes_gives_zero_counts():
    binned = bin_spikes([], [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(binned.counts, [0.0, 0.0])
    assert (binned.n_before, binned.n_after) == (0, 0)


@pytest.mark.parametrize(
    "spikes, edges, name",
    [
        ([0.3, 0.1], [0.0, 1.0], "spike_times"),  # unsorted spikes
        ([0.1], [0.0, 2.0, 1.0], "edges"),  # unsorted edges
        ([0.1], [0.0, 1.0, 1.0], "edges"),  # repeated edge: a bin of width 0
        ([0.1], [0.0], "edges"),  # one edge: no bin
        ([0.1], [], "edges"),
        ([np.nan], [0.0, 1.0], "spike_times"),
        ([0.1], [0.0, np.inf], "edges"),
        ([[0.1, 0.2], [0.3, 0.4]], [0.0, 1.0], "spike_times"),  # not 1-d
    ],
)
def test_bad_times_raise_naming_the_argument(spikes, edges, name):
    with pytest.raises(ValueError, match=name):
        bin_spikes(spikes, edges)


@pytest.mark.parametrize("frame_offset", [0.5, "1", True, None])
def test_frame_offset_must_be_an_integer(frame_offset):
    with pytest.raises(ValueError, match="frame_offset"):
        bin_spikes([0.5], [0.0, 1.0], frame_offset=frame_offset)


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30, unique=True),
)
def test_check_times_accepts_exactly_the_sorted_inputs(times):
    times = np.asarray(times)
    is_sorted = bool(np.all(np.diff(times) > 0))
    if is_sorted:
        np.testing.assert_array_equal(check_times(times, "t", strictly=True), times)
    else:
        with pytest.raises(ValueError, match="t must be strictly increasing"):
            check_times(times, "t", strictly=True)
    np.testing.assert_array_equal(check_times(np.sort(times), "t"), np.sort(times))


def test_check_times_min_length_and_repeats():
    with pytest.raises(ValueError, match="trigger_times needs at least 2"):
        check_times([1.0], "trigger_times", min_length=2)
    # Repeated spike times are allowed (non-decreasing), repeated edges are not.
    np.testing.assert_array_equal(check_times([1.0, 1.0], "spike_times"), [1.0, 1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        check_times([1.0, 1.0], "edges", strictly=True)
