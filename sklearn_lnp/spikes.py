"""From spike times to counts per stimulus frame.

Alignment convention
--------------------
A recording gives frame-flip (trigger) times ``edges`` with
``len(edges) = n_bins + 1``.  Bin (interval) ``k`` is
``[edges[k], edges[k + 1])`` and lasts ``edges[k + 1] - edges[k]`` seconds,
its *exposure*.  The stimulus frame paired with bin ``k`` is frame
``k + frame_offset``.  The default ``frame_offset=0`` (interval k <-> frame k)
is what the lab's real recording shows: the spike-triggered average then
peaks at lag 0.  ``frame_offset=1`` reproduces the course template
``s[:, 1:len(trigger)]``, which shifts the same receptive field to "lag 1".
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass
class BinnedSpikes:
    """Spike counts per bin, with the bin widths and the paired frames.

    Attributes
    ----------
    counts : ndarray of shape (n_bins,)
        Spikes in ``[edges[k], edges[k + 1])``, float64.
    exposure : ndarray of shape (n_bins,)
        Bin widths ``edges[k + 1] - edges[k]``, in the unit of the times (s).
    frame_index : ndarray of shape (n_bins,)
        Stimulus frame paired with each bin, ``k + frame_offset``.
    n_before : int
        Spikes before ``edges[0]``, not counted in any bin.
    n_after : int
        Spikes at or after ``edges[-1]``, not counted in any bin.
    """

    counts: np.ndarray
    exposure: np.ndarray
    frame_index: np.ndarray
    n_before: int
    n_after: int


def check_times(times, name: str, *, min_length: int = 0, strictly: bool = False) -> np.ndarray:
    """Return ``times`` as a sorted, finite 1-d float64 array or raise ValueError.

    Parameters
    ----------
    times : array-like
        Event times (s); a column vector (as MATLAB stores them) is flattened.
    name : str
        Argument name used in error messages.
    min_length : int
        Minimum number of times required.
    strictly : bool
        Require strictly increasing times (frame edges) instead of
        non-decreasing (spikes).
    """
    times = np.asarray(times, dtype=np.float64)
    if times.ndim == 2 and 1 in times.shape:
        times = times.ravel()
    if times.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of times; got shape {times.shape}.")
    if times.shape[0] < min_length:
        raise ValueError(f"{name} needs at least {min_length} times; got {times.shape[0]}.")
    if not np.all(np.isfinite(times)):
        raise ValueError(f"{name} must be finite; found NaN or infinite values.")
    steps = np.diff(times)
    bad = steps <= 0 if strictly else steps < 0
    if np.any(bad):
        first = int(np.argmax(bad))
        order = "strictly increasing" if strictly else "sorted (non-decreasing)"
        raise ValueError(
            f"{name} must be {order}; element {first + 1} ({times[first + 1]:g}) follows "
            f"{times[first]:g}."
        )
    return times


def bin_spikes(spike_times, edges, *, frame_offset: int = 0, warn: bool = True) -> BinnedSpikes:
    """Count spikes per stimulus frame, with the real (unequal) frame durations.

    Parameters
    ----------
    spike_times : array-like of shape (n_spikes,)
        Sorted spike times (s).
    edges : array-like of shape (n_bins + 1,)
        Strictly increasing bin edges (s), e.g. the frame-flip trigger times.
    frame_offset : int, default=0
        Bin ``k`` is paired with stimulus frame ``k + frame_offset`` (see the
        module docstring; 0 is what the real recording shows).
    warn : bool, default=True
        Warn when spikes fall outside ``[edges[0], edges[-1])``.  They are
        never dropped silently: their numbers are in the result.

    Returns
    -------
    BinnedSpikes
        ``counts``, ``exposure`` (bin widths) and ``frame_index``, each of
        shape (n_bins,), and the numbers of spikes before and after the edges.

    Examples
    --------
    >>> from sklearn_lnp.spikes import bin_spikes
    >>> binned = bin_spikes([0.05, 0.12, 0.15, 0.31], [0.0, 0.1, 0.25, 0.3])
    >>> binned.counts.tolist(), binned.exposure.round(2).tolist(), binned.n_after
    ([1.0, 2.0, 0.0], [0.1, 0.15, 0.05], 1)
    """
    spike_times = check_times(spike_times, "spike_times")
    edges = check_times(edges, "edges", min_length=2, strictly=True)
    if isinstance(frame_offset, bool) or not isinstance(frame_offset, (int, np.integer)):
        raise ValueError(f"frame_offset must be an integer; got {frame_offset!r}.")
    # searchsorted(side="right") - 1 is the bin whose left edge is <= t.
    index = np.searchsorted(edges, spike_times, side="right") - 1
    n_bins = edges.shape[0] - 1
    n_before = int(np.sum(index < 0))
    n_after = int(np.sum(index >= n_bins))
    inside = index[(index >= 0) & (index < n_bins)]
    counts = np.bincount(inside, minlength=n_bins).astype(np.float64)
    if warn and (n_before or n_after):
        warnings.warn(
            f"bin_spikes: {n_before} spikes before the first edge ({edges[0]:g} s) and "
            f"{n_after} at or after the last edge ({edges[-1]:g} s) fall in no bin and are "
            "not counted.",
            UserWarning,
            stacklevel=2,
        )
    return BinnedSpikes(
        counts=counts,
        exposure=np.diff(edges),
        frame_index=np.arange(n_bins) + int(frame_offset),
        n_before=n_before,
        n_after=n_after,
    )
