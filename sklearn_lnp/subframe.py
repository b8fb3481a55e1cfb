"""Sub-frame time bins of a recording: spike history needs bins finer than a frame.

A recording's frames last ~200 ms, far longer than a refractory period
(1-2 ms) or a burst.  :func:`subframe_design` cuts every frame interval
``[trigger[k], trigger[k + 1])`` into bins of ``bin_width`` seconds; the
last bin of each frame is shorter (frames have unequal durations), so every
bin carries its own width as exposure and the frame on screen during it.
No bin straddles a frame flip.

Uses only the public :func:`sklearn_lnp.datasets.load_recording` Bunch and
:func:`sklearn_lnp.spikes.bin_spikes`.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.utils import Bunch

from .spikes import bin_spikes

__all__ = ["subframe_design"]


def subframe_design(recording: Bunch, bin_width: float, *, frame_offset: int = 0) -> Bunch:
    """Bin a recording's spikes at ``bin_width`` seconds, each bin paired with its frame.

    Frame interval ``k`` (``[trigger[k], trigger[k + 1])``, paired with frame
    ``k + frame_offset`` as in :func:`~sklearn_lnp.datasets.recording_design`)
    is cut into bins starting at ``trigger[k] + m * bin_width``; the last one
    ends at ``trigger[k + 1]`` and is shorter (or equal).

    Parameters
    ----------
    recording : Bunch
        As returned by :func:`~sklearn_lnp.datasets.load_recording`
        (``stimulus``, ``spike_times``, ``trigger_times`` in s).
    bin_width : float
        Bin width in s; positive and at most the shortest frame interval.
    frame_offset : int, default=0
        Frame paired with interval ``k``.

    Returns
    -------
    Bunch with
        ``counts`` (n_bins,) spikes per bin; ``exposure`` (n_bins,) bin widths
        in s; ``frame_index`` (n_bins,) frame on screen (the stimulus of the
        bins is ``recording.stimulus[frame_index]``, n_bins x n_pixels);
        ``bin_start`` (n_bins,) in s; ``time_in_frame`` (n_bins,) seconds since
        the frame's flip; ``frame_shape``; ``n_spikes_before`` and
        ``n_spikes_after`` (outside the triggers, not counted).

    Raises
    ------
    ValueError
        When ``bin_width`` is not a positive finite number, or is larger than
        the shortest frame interval.

    Notes
    -----
    Location: this belongs beside ``recording_design`` in
    :mod:`sklearn_lnp.datasets` once that module is free to edit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from sklearn_lnp.subframe import subframe_design
    >>> recording = Bunch(stimulus=np.arange(6.0).reshape(3, 2), frame_shape=(1, 2),
    ...                   spike_times=np.array([0.01, 0.05, 0.24]),
    ...                   trigger_times=np.array([0.0, 0.1, 0.25]))
    >>> design = subframe_design(recording, 0.04)
    >>> design.counts.tolist(), design.frame_index.tolist()
    ([1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0], [0, 0, 0, 1, 1, 1, 1])
    >>> design.exposure.round(3).tolist()     # the last bin of each frame is shorter
    [0.04, 0.04, 0.02, 0.04, 0.04, 0.04, 0.03]
    """
    if (
        isinstance(bin_width, bool | np.bool_)
        or not isinstance(bin_width, numbers.Real)
        or not 0 < bin_width < np.inf
    ):
        raise ValueError(f"bin_width must be a positive number of seconds; got {bin_width!r}.")
    triggers = np.asarray(recording.trigger_times, dtype=np.float64)
    durations = np.diff(triggers)
    if bin_width > durations.min():
        raise ValueError(
            f"bin_width={bin_width} s is larger than the shortest frame interval "
            f"({durations.min():.4g} s): a bin would straddle a frame flip. Use the frame "
            "bins of recording_design for frame-level models."
        )
    # Bins per frame; the tolerance keeps round-off in d / w from adding a sliver bin.
    per_frame = np.maximum(np.ceil(durations / bin_width * (1 - 1e-9)), 1).astype(np.int64)
    frame_of_bin = np.repeat(np.arange(durations.size), per_frame)
    first_bin = np.cumsum(per_frame) - per_frame
    within = np.arange(frame_of_bin.size) - first_bin[frame_of_bin]
    starts = triggers[frame_of_bin] + within * bin_width
    edges = np.append(starts, triggers[-1])
    binned = bin_spikes(recording.spike_times, edges, frame_offset=frame_offset, warn=False)
    if binned.n_before or binned.n_after:
        warnings.warn(
            f"subframe_design: {binned.n_before} spikes before the first trigger and "
            f"{binned.n_after} after the last fall in no bin and are not counted.",
            UserWarning,
            stacklevel=2,
        )
    frame_index = frame_of_bin + np.int64(frame_offset)
    n_frames = recording.stimulus.shape[0]
    valid = (frame_index >= 0) & (frame_index < n_frames)
    if not np.all(valid):
        warnings.warn(
            f"subframe_design: {int(np.sum(~valid))} bins have no stimulus frame "
            f"(frame_offset={frame_offset}, {n_frames} frames) and are left out.",
            UserWarning,
            stacklevel=2,
        )
    return Bunch(
        counts=binned.counts[valid],
        exposure=binned.exposure[valid],
        frame_index=frame_index[valid],
        bin_start=starts[valid],
        time_in_frame=(within * bin_width)[valid],
        frame_shape=recording.frame_shape,
        n_spikes_before=binned.n_before,
        n_spikes_after=binned.n_after,
    )
