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

Times may be floats (seconds) or integers (e.g. clock ticks):
:func:`bin_spikes` compares integer times exactly, also beyond 2**53
where float64 rounds them.  Complex or non-numeric times are refused
naming the argument.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._validation import as_real_array, check_memory


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


def check_times(
    times,
    name: str,
    *,
    min_length: int = 0,
    strictly: bool = False,
    exact_integers: bool = False,
) -> np.ndarray:
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
    exact_integers : bool
        Return integer times (e.g. sample indices or nanosecond clocks) as
        int64 instead of float64, which holds integers exactly only up to
        2**53 (about 9e15).

    Returns
    -------
    ndarray of shape (n_times,)
        float64 (int64 for integer times with ``exact_integers=True``).

    Raises
    ------
    ValueError
        Naming ``name`` and the first offending element; also for complex
        or non-numeric times (e.g. strings) and, with ``exact_integers``,
        integers beyond the int64 range.

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
    raw = np.asarray(times)
    if exact_integers and raw.dtype.kind in "iu":
        if raw.dtype.kind == "u" and raw.size and raw.max() > np.iinfo(np.int64).max:
            raise ValueError(
                f"{name} holds integer times up to {raw.max()}, beyond the int64 range "
                f"(2**63 - 1): they cannot be binned exactly."
            )
        times = raw.astype(np.int64)
    else:
        times = as_real_array(raw, name, "times (real numbers, s)")
    if times.ndim == 2 and 1 in times.shape:
        times = times.ravel()
    if times.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of times; got shape {times.shape}.")
    if times.shape[0] < min_length:
        raise ValueError(f"{name} needs at least {min_length} times; got {times.shape[0]}.")
    if not np.all(np.isfinite(times)):
        raise ValueError(f"{name} must be finite; found NaN or infinite values.")
    # Compare neighbours (a difference of int64 times could overflow).
    bad = times[1:] <= times[:-1] if strictly else times[1:] < times[:-1]
    if np.any(bad):
        first = int(np.argmax(bad))
        order = "strictly increasing" if strictly else "sorted (non-decreasing)"
        raise ValueError(
            f"{name} must be {order}; element {first + 1} ({times[first + 1]:g}) follows "
            f"{times[first]:g}."
        )
    return times


_INT64 = np.iinfo(np.int64)


def _to_int64(values: np.ndarray) -> np.ndarray:
    """Integer-valued float64 ``values`` as int64, saturated at the int64 range."""
    # float(2**63) is above int64 max: saturate before casting.
    low, high = float(_INT64.min), float(_INT64.max)
    out = np.empty(values.shape, dtype=np.int64)
    inside = (values >= low) & (values < high)
    out[inside] = values[inside].astype(np.int64)
    out[values < low] = _INT64.min
    out[values >= high] = _INT64.max
    return out


def _bin_index(spike_times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each spike, ``#(edges <= t) - 1``, compared exactly.

    Float64 and int64 times are compared without converting an integer to
    float64 (which rounds integers above 2**53): for an integer ``e`` and a
    float ``t``, ``e <= t`` exactly when ``e <= floor(t)``; for a float ``e``
    and an integer ``t``, exactly when ``ceil(e) <= t``.
    """
    int_spikes, int_edges = spike_times.dtype.kind == "i", edges.dtype.kind == "i"
    if int_edges and not int_spikes:
        spike_times = _to_int64(np.floor(spike_times))
    elif int_spikes and not int_edges:
        edges = _to_int64(np.ceil(edges))
    return np.searchsorted(edges, spike_times, side="right") - 1


def _exact_widths(edges: np.ndarray) -> np.ndarray:
    """``np.diff(edges)`` as float64, without int64 overflow or float rounding first."""
    if edges.dtype.kind != "i":
        return np.diff(edges)
    if int(edges[-1]) - int(edges[0]) <= _INT64.max:
        return np.diff(edges).astype(np.float64)
    return np.array([float(int(b) - int(a)) for a, b in zip(edges[:-1], edges[1:], strict=True)])


def bin_spikes(spike_times, edges, *, frame_offset: int = 0, warn: bool = True) -> BinnedSpikes:
    """Count spikes per stimulus frame, with the real (unequal) frame durations.

    Parameters
    ----------
    spike_times : array-like of shape (n_spikes,)
        Sorted spike times (s).  Integer times (e.g. clock ticks) are binned
        exactly, also beyond 2**53 where float64 cannot hold every integer.
    edges : array-like of shape (n_bins + 1,)
        Strictly increasing bin edges (s), e.g. the frame-flip trigger
        times; integers are used exactly, as for ``spike_times``.
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
    spike_times = check_times(spike_times, "spike_times", exact_integers=True)
    edges = check_times(edges, "edges", min_length=2, strictly=True, exact_integers=True)
    if isinstance(frame_offset, bool) or not isinstance(frame_offset, (int, np.integer)):
        raise ValueError(f"frame_offset must be an integer; got {frame_offset!r}.")
    n_bins = edges.shape[0] - 1
    if not _INT64.min <= int(frame_offset) <= _INT64.max - n_bins:
        raise ValueError(
            f"frame_offset={frame_offset} puts frame numbers beyond the int64 range "
            f"(with {n_bins} bins)."
        )
    # The bin whose left edge is <= t, or -1 / n_bins outside the edges.
    index = _bin_index(spike_times, edges)
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
        exposure=_exact_widths(edges),
        frame_index=np.arange(n_bins, dtype=np.int64) + np.int64(frame_offset),
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
    if not np.isfinite(length):
        raise ValueError(
            f"window spans {start:g} to {stop:g} s, a length beyond the float64 range; "
            "give a finite (start, stop) no longer than 1.8e308 s."
        )
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
    steps = length / resolution  # finite: resolution <= length (1 + 1e-12)
    if not np.isfinite(steps) or steps > 2.0**62:
        raise ValueError(
            f"window ({length:g} s) at resolution={resolution:g} s would hold {steps:.3g} "
            "delays, more than an array can index; widen resolution or shorten window."
        )
    n_taus = max(1, int(np.ceil(steps - 1e-9)))
    check_memory(8.0 * n_taus, f"tau_grid: window={window!r} at resolution={resolution!r}")
    return start + resolution * np.arange(n_taus)


def _pixel_units(stimulus: np.ndarray) -> np.ndarray | None:
    """Per-pixel powers of two near each pixel's largest magnitude, or None if not needed."""
    peak = np.max(np.abs(stimulus), axis=0) if stimulus.shape[0] else np.zeros(0)
    extreme = (peak > 2.0**400) | ((peak > 0) & (peak < 2.0**-400))
    if not np.any(extreme):
        return None
    # peak = m 2**e with 0.5 <= m < 1: dividing by 2**(e - 1) leaves |values| < 2.
    exponent = np.frexp(peak)[1]
    return np.where(extreme, np.ldexp(1.0, exponent - 1), 1.0)


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
        frame times, or a delay at which no spike has a frame.  Also, before
        any work, a grid of delays whose arrays would need more memory than
        the machine has (the message says how much), and complex or
        non-numeric times or stimulus values.

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
    stimulus = as_real_array(stimulus[:n_frames], "stimulus", "stimulus values (real numbers)")
    if not np.all(np.isfinite(stimulus)):
        raise ValueError("stimulus must be finite; found NaN or infinite values.")
    taus = tau_grid(window, resolution)
    # About eight frames x delays arrays (counts, overlaps, residuals and
    # their temporaries) and eight pixels x delays arrays are alive at once.
    n_pixels = stimulus.shape[1]
    check_memory(
        8.0 * taus.size * (8.0 * n_frame_times + 8.0 * n_pixels),
        f"spike_triggered_average with {taus.size} delays (window={window!r}, "
        f"resolution={resolution!r}), {n_frame_times} frame times and {n_pixels} pixels",
    )
    # Pixels with values near the float64 limits (whose squares would
    # overflow or underflow) are scaled by a power of two, which is exact;
    # the STA is scaled back at the end and the z-score does not depend on it.
    unit = _pixel_units(stimulus)
    if unit is not None:
        stimulus = stimulus / unit

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
    if unit is not None:
        with np.errstate(over="ignore"):
            sta = sta * unit[:, None]
        if not np.all(np.isfinite(sta)):
            raise ValueError(
                "the STA exceeds the float64 range (1.8e308): stimulus values (largest "
                f"magnitude {float(np.max(unit)):g}) are too large; rescale the stimulus."
            )
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
