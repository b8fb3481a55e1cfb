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

:func:`spike_triggered_average` skips the binning: it pairs each spike
with the frame on screen ``tau`` seconds earlier, on a grid of delays finer
than a frame, with the same convention (frame ``k`` on screen during
interval ``k``).
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

    Examples
    --------
    >>> from sklearn_lnp.spikes import bin_spikes
    >>> binned = bin_spikes([0.05, 0.12, 0.15], [0.0, 0.1, 0.25], frame_offset=1)
    >>> binned.counts.tolist(), binned.frame_index.tolist(), binned.n_before + binned.n_after
    ([1.0, 2.0], [1, 2], 0)
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

    Returns
    -------
    ndarray of shape (n_times,)

    Raises
    ------
    ValueError
        Naming ``name`` and the first offending element.

    Examples
    --------
    >>> from sklearn_lnp.spikes import check_times
    >>> check_times([[0.1], [0.5], [0.5]], "spike_times")      # a MATLAB column is flattened
    array([0.1, 0.5, 0.5])
    >>> check_times([0.1, 0.5, 0.5], "edges", strictly=True)
    Traceback (most recent call last):
    ...
    ValueError: edges must be strictly increasing; element 2 (0.5) follows 0.5.
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


@dataclass
class SpikeTriggeredAverage:
    """A spike-triggered average on a grid of delays ``tau``.

    Attributes
    ----------
    sta : ndarray of shape (n_pixels, n_taus)
        Column ``j`` is the mean stimulus frame on screen ``taus[j]`` seconds
        before a spike, minus the time-weighted mean frame (stimulus units;
        see :func:`spike_triggered_average`).
    taus : ndarray of shape (n_taus,)
        Delays (s); positive means the frame came before the spike.
    zscore : ndarray of shape (n_pixels, n_taus)
        ``sta`` divided by its standard deviation when spikes are independent
        of a stimulus that is white in time (see
        :func:`spike_triggered_average`); 0 where that deviation is 0.
    n_spikes : ndarray of shape (n_taus,)
        Spikes averaged at each delay (those whose frame at ``t - tau`` is
        known).
    n_spikes_before, n_spikes_after : int
        Spikes before the first frame time, or at or after the last one; they
        are left out at every delay.
    n_unused_frames : int
        Stimulus frames without a known display interval, left out: the
        frame starting at the last frame time (its end is unknown) and any
        frames after it (``n_frames - n_frame_times + 1``; 12 for the lab's
        1500 frames and 1489 triggers, as in
        :func:`~sklearn_lnp.datasets.recording_design`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.spikes import spike_triggered_average
    >>> frame_times = 0.2 * np.arange(6.0)                   # 5 frames of 200 ms shown
    >>> stimulus = np.array([[1.0], [-1.0], [1.0], [-1.0], [1.0], [-1.0]])
    >>> result = spike_triggered_average([0.25, 0.65], frame_times, stimulus,
    ...                                  window=0.4, resolution=0.2, warn=False)
    >>> result.taus.tolist(), result.n_spikes.tolist(), result.n_unused_frames
    ([0.0, 0.2], [2, 2], 1)
    >>> # tau = 0: frames 1 and 3 (-1) minus the mean frame 0.2; tau = 200 ms: frames
    >>> # 0 and 2 (+1) minus the mean 0 of the frames that delay can reach
    >>> result.sta.round(6).tolist()
    [[-1.2, 1.0]]
    """

    sta: np.ndarray
    taus: np.ndarray
    zscore: np.ndarray
    n_spikes: np.ndarray
    n_spikes_before: int
    n_spikes_after: int
    n_unused_frames: int


def _real_scalar(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number (s); got {value!r}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}.")
    return value


def tau_grid(window=1.0, resolution=0.025) -> np.ndarray:
    """Delays ``start, start + resolution, ...`` below ``stop``, in seconds.

    Parameters
    ----------
    window : float or (float, float), default=1.0
        ``stop`` (then ``start = 0``) or ``(start, stop)``; a negative
        ``start`` adds delays at which the frame comes *after* the spike (an
        acausal control).  ``stop - start`` must be positive.
    resolution : float, default=0.025
        Step (s), positive and at most ``stop - start``.

    Returns
    -------
    ndarray of shape (n_taus,)
        ``start + resolution * arange(n_taus)``, with ``n_taus`` the number
        of steps that stay below ``stop`` (1 s at 25 ms gives 40 delays,
        0 to 975 ms).

    Examples
    --------
    >>> from sklearn_lnp.spikes import tau_grid
    >>> tau_grid(0.1, 0.025).round(6).tolist()
    [0.0, 0.025, 0.05, 0.075]
    >>> tau_grid((-0.05, 0.05), 0.025).round(6).tolist()
    [-0.05, -0.025, 0.0, 0.025]
    """
    if isinstance(window, (tuple, list, np.ndarray)):
        if len(window) != 2:
            raise ValueError(
                f"window must be a positive length (s) or a (start, stop) pair; got {window!r}."
            )
        start = _real_scalar(window[0], "window[0] (start)")
        stop = _real_scalar(window[1], "window[1] (stop)")
    else:
        start, stop = 0.0, _real_scalar(window, "window")
    length = stop - start
    if not length > 0:
        raise ValueError(
            f"window must span a positive length of time; got start={start:g} s, stop={stop:g} s."
        )
    resolution = _real_scalar(resolution, "resolution")
    if not resolution > 0:
        raise ValueError(f"resolution must be positive (s); got {resolution:g}.")
    if resolution > length * (1 + 1e-12):
        raise ValueError(
            f"resolution ({resolution:g} s) must not be larger than the window "
            f"({length:g} s): the grid would hold no delay step."
        )
    # Steps strictly below stop, with a tolerance so that 1 / 0.025 gives 40.
    n_taus = max(1, int(np.ceil(length / resolution - 1e-9)))
    return start + resolution * np.arange(n_taus)


def spike_triggered_average(
    spike_times,
    frame_times,
    stimulus,
    *,
    window=1.0,
    resolution: float = 0.025,
    warn: bool = True,
) -> SpikeTriggeredAverage:
    r"""Spike-triggered average straight from spike times, finer than one frame.

    For each spike at ``t`` and each delay ``tau`` of the grid, the frame on
    screen at ``t - tau`` is taken, with the real, unequal frame times:
    frame ``k`` is shown during ``[frame_times[k], frame_times[k + 1])``
    (the pairing ``interval k <-> frame k`` of :mod:`sklearn_lnp.spikes`).
    The average of those frames minus the time-weighted mean frame is the
    STA at ``tau`` (see Notes).

    Nothing loops over spikes: the number of spikes paired with frame ``k``
    at delay ``tau`` is the number of spike times in
    ``[frame_times[k] + tau, frame_times[k + 1] + tau)``, found for all
    frames and delays at once by one ``searchsorted`` on the sorted spikes.
    The STA is then one product of the stimulus with that
    frames x delays count matrix, so the cost hardly grows with the number
    of spikes.

    Parameters
    ----------
    spike_times : array-like of shape (n_spikes,)
        Sorted spike times (s).
    frame_times : array-like of shape (n_frame_times,)
        Strictly increasing onset times (s) of stimulus frames ``0, 1, ...``
        (the frame-flip triggers).  The frame starting at the last frame
        time has no known end, so it is not used, and spikes at or after the
        last frame time are left out.
    stimulus : array-like of shape (n_frames, n_pixels) or (n_frames, rows, cols)
        The movie, one frame per row (flattened in C order when 3-d); needs
        ``n_frames >= n_frame_times``.  Cast to float64 before any
        arithmetic (a uint8 movie is safe).
    window : float or (float, float), default=1.0
        Delays covered (s): ``[0, window)`` or ``[start, stop)``, see
        :func:`tau_grid`.
    resolution : float, default=0.025
        Delay step (s); any value, also finer than a frame.
    warn : bool, default=True
        Warn when spikes fall outside the frame times or stimulus frames
        come after the last frame time.  Their numbers are in the result
        either way.

    Returns
    -------
    SpikeTriggeredAverage
        ``sta`` and ``zscore`` (pixels x taus), ``taus`` (s), spikes used
        per delay, and what was left out.

    Raises
    ------
    ValueError
        Unsorted spike or frame times, a stimulus with fewer frames than
        frame times, a bad ``window`` or ``resolution``, no spike inside the
        frame times, or a delay at which no spike has a frame.

    Notes
    -----
    With ``n_k(tau)`` the spikes paired with frame ``k`` at delay ``tau``,
    ``N(tau) = sum_k n_k(tau)``, and ``p_k(tau)`` frame ``k``'s share of the
    time that spikes in the frame times can reach at that delay (its
    duration over the total, except for frames within ``|tau|`` of either
    end), the residual counts ``r_k = n_k - N p_k`` (spikes minus those of a
    constant rate) give

    .. math::

        \mathrm{STA}(\tau) = \frac{1}{N} \sum_k r_k(\tau)\, s_k, \qquad
        z_j(\tau) = \frac{\sum_k r_k(\tau)\, s_{kj}}
                         {\sigma_j \sqrt{\sum_k r_k(\tau)^2}},

    ``sigma_j`` the standard deviation of pixel ``j`` with weights ``p``.  The
    mean frame subtracted is the ``p``-weighted one.  When the
    frames are independent and the spikes do not depend on them, ``z`` has
    mean 0 and variance 1 (the same null as the frame-level STA of
    :class:`~sklearn_lnp.STAEstimator`, to which ``tau = 0`` reduces exactly).
    Delays within one frame share frames, so neighbouring columns are
    correlated.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.spikes import spike_triggered_average
    >>> rng = np.random.default_rng(0)
    >>> frame_times = np.cumsum(rng.uniform(0.18, 0.25, size=401)) - 0.2
    >>> stimulus = rng.choice([-1.0, 1.0], size=(401, 20))
    >>> # a neuron that fires 100 ms after pixel 3 turns on
    >>> on = frame_times[:-1][stimulus[:-1, 3] > 0]
    >>> spikes = np.sort(on + 0.1 + rng.uniform(0, 0.05, size=on.size))
    >>> result = spike_triggered_average(
    ...     spikes, frame_times, stimulus, window=0.5, resolution=0.025, warn=False)
    >>> result.sta.shape, result.taus.shape
    ((20, 20), (20,))
    >>> pixel, tau = np.unravel_index(np.argmax(result.sta), result.sta.shape)
    >>> int(pixel), bool(0.1 <= result.taus[tau] <= 0.15)
    (3, True)
    """
    spike_times = check_times(spike_times, "spike_times")
    frame_times = check_times(frame_times, "frame_times", min_length=2, strictly=True)
    stimulus = np.asarray(stimulus)
    if stimulus.ndim == 3:
        stimulus = stimulus.reshape(stimulus.shape[0], -1)
    if stimulus.ndim != 2:
        raise ValueError(
            "stimulus must be 2-d (n_frames, n_pixels) or 3-d (n_frames, rows, cols); "
            f"got shape {stimulus.shape}."
        )
    n_frame_times = frame_times.shape[0]
    if stimulus.shape[0] < n_frame_times:
        raise ValueError(
            f"stimulus has {stimulus.shape[0]} frames but frame_times has {n_frame_times} "
            "onsets: every frame time needs a stimulus frame (frames are rows of stimulus)."
        )
    n_frames = n_frame_times - 1
    n_unused = int(stimulus.shape[0] - n_frames)
    stimulus = np.asarray(stimulus[:n_frames], dtype=np.float64)
    if not np.all(np.isfinite(stimulus)):
        raise ValueError("stimulus must be finite; found NaN or infinite values.")
    taus = tau_grid(window, resolution)

    first, last = np.searchsorted(spike_times, frame_times[[0, -1]], side="left")
    n_before, n_after = int(first), int(spike_times.shape[0] - last)
    spikes = spike_times[first:last]
    if spikes.size == 0:
        raise ValueError(
            f"spike_times has no spike inside the frame times [{frame_times[0]:g}, "
            f"{frame_times[-1]:g}) s ({n_before} before, {n_after} after): the STA of zero "
            "spikes is undefined."
        )
    if warn and (n_before or n_after):
        warnings.warn(
            f"spike_triggered_average: {n_before} spikes before the first frame time and "
            f"{n_after} at or after the last one ({frame_times[-1]:g} s) are left out.",
            UserWarning,
            stacklevel=2,
        )
    n_beyond = n_unused - 1
    if warn and n_beyond:
        warnings.warn(
            f"spike_triggered_average: {n_beyond} of {n_frames + n_unused} stimulus frames "
            f"come after the last frame time and are left out (with the frame shown at the "
            f"last frame time, whose end is unknown: {n_unused} unused).",
            UserWarning,
            stacklevel=2,
        )

    # counts[k, j]: spikes t with frame_times[k] <= t - taus[j] < frame_times[k + 1].
    boundaries = np.searchsorted(spikes, frame_times[:, None] + taus[None, :], side="left")
    counts = np.diff(boundaries, axis=0).astype(np.float64)
    n_spikes = counts.sum(axis=0)
    if np.any(n_spikes == 0):
        empty = taus[n_spikes == 0]
        raise ValueError(
            f"no spike has a stimulus frame at tau = {empty[0]:g} s ({empty.size} delays "
            "without spikes): shorten the window or check the spike and frame times."
        )
    # Null model: spikes uniform in time.  At delay tau, t - tau is uniform on
    # the part of the frame times that spikes in [first, last) can reach, so
    # frame k's share of the null counts is its overlap with that span.  The
    # overlap equals the frame duration except for the few frames within
    # |tau| of either end ("deficit" rows), which keeps the pixel means and
    # variances at one pass over the stimulus.
    start, stop = frame_times[0], frame_times[-1]
    low = np.maximum(start, start - taus)
    high = np.minimum(stop, stop - taus)
    overlap = np.minimum(frame_times[1:, None], high[None, :]) - np.maximum(
        frame_times[:-1, None], low[None, :]
    )
    overlap = np.clip(overlap, 0.0, None)
    durations = np.diff(frame_times)
    reachable = overlap.sum(axis=0)
    deficit = durations[:, None] - overlap
    edge = np.flatnonzero(np.any(deficit != 0, axis=1))
    edge_frames, edge_deficit = stimulus[edge], deficit[edge]
    mean = (stimulus.T @ durations)[:, None] - edge_frames.T @ edge_deficit
    second = np.einsum("kj,kj,k->j", stimulus, stimulus, durations)[:, None]
    second = second - (edge_frames * edge_frames).T @ edge_deficit
    mean /= reachable
    variance = np.clip(second / reachable - mean * mean, 0.0, None)
    projection = stimulus.T @ counts - mean * n_spikes
    sta = projection / n_spikes
    residual = counts - overlap * (n_spikes / reachable)[None, :]
    denominator = np.sqrt(variance * np.sum(residual * residual, axis=0)[None, :])
    zscore = np.divide(
        projection, denominator, out=np.zeros_like(projection), where=denominator > 0
    )
    return SpikeTriggeredAverage(
        sta=sta,
        taus=taus,
        zscore=zscore,
        n_spikes=n_spikes.astype(np.int64),
        n_spikes_before=n_before,
        n_spikes_after=n_after,
        n_unused_frames=n_unused,
    )
