"""Simulated LNP neurons and the lab's real recording.

``make_lnp_neuron`` simulates the textbook neuron of the course;
``load_recording`` reads a ``.mat`` or ``.npz`` recording of spike times,
frame-flip (trigger) times and a stimulus movie (``save_recording`` writes
one); ``recording_design`` turns it into the design matrix, counts and
exposure that the estimators take, and
``lagged_recording_design`` into the space-time design of several lags, and
``subframe_design`` bins it finer than a frame (for spike-history models).
"""

from __future__ import annotations

import numbers
import warnings
import zipfile
import zlib
from numbers import Real
from os import PathLike

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._validation import COUNT as _COUNT
from ._validation import MAX_ABS_X, as_real_array, check_counts, check_memory
from ._validation import NON_NEGATIVE as _NON_NEGATIVE
from ._validation import POSITIVE as _POSITIVE
from .spikes import bin_spikes, check_times


@validate_params({"sigma": [_POSITIVE]}, prefer_skip_nested_validation=True)
def gaussian_rf(frame_shape=(15, 15), center=None, sigma=2.0) -> np.ndarray:
    """A Gaussian receptive field with peak 1.

    Parameters
    ----------
    frame_shape : tuple of int (rows, cols)
    center : tuple of float (row, col), optional
        Centre in pixels (0-based); the middle of the frame by default.
    sigma : float
        Standard deviation in pixels.

    Returns
    -------
    ndarray of shape ``frame_shape``

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.datasets import gaussian_rf
    >>> rf = gaussian_rf((5, 7), center=(1, 2), sigma=1.5)
    >>> rf.shape, float(rf.max()), tuple(int(i) for i in np.unravel_index(rf.argmax(), rf.shape))
    ((5, 7), 1.0, (1, 2))
    """
    rows, cols = frame_shape
    if center is None:
        center = ((rows - 1) / 2.0, (cols - 1) / 2.0)
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    # distances in units of sigma first: sigma**2 would overflow for a huge
    # sigma; a tiny sigma gives inf squares, whose exp(-inf) = 0 is right
    with np.errstate(over="ignore"):
        squared = ((r - center[0]) / sigma) ** 2 + ((c - center[1]) / sigma) ** 2
    return np.exp(-0.5 * squared)


@validate_params(
    {
        "n_frames": [_COUNT],
        "rf_sigma": [_POSITIVE],
        "rf_norm": [_NON_NEGATIVE],
        "contrast": [_NON_NEGATIVE],
        "dt": [_POSITIVE],
        "R": [_POSITIVE],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_lnp_neuron(
    n_frames: int = 1000,
    *,
    frame_shape=(15, 15),
    rf_center=None,
    rf_sigma: float = 2.0,
    rf_norm: float = 0.3,
    contrast: float = 5.0,
    dt: float = 0.1,
    R: float = 20.0,
    random_state=None,
) -> Bunch:
    r"""Simulate the textbook LNP neuron, with firing rates of a real neuron.

    Binary checkerboard noise ``s_t`` with pixels ``+-contrast/2`` (5 peak to
    peak by default), a Gaussian receptive field ``w`` scaled to
    ``||w|| = rf_norm``, expected counts ``r_t = exp(w . s_t) dt R`` and
    counts ``y_t ~ Poisson(r_t)``.  Fit it with ``exposure=dt * R`` (and
    ``fit_intercept=False`` to reproduce the textbook model exactly).

    The defaults give rates in the range of real visual neurons: a mean of
    about 27 spikes/s (2.7 spikes per 0.1 s bin) and a peak of about
    190 spikes/s (99.9th percentile of the rate over 20,000 frames; the
    largest of 2000 frames is about 260 spikes/s).  The lab's retinal neuron
    fires 17 spikes/s on average.  The course's values ``rf_norm=0.5,
    R=50`` make a neuron that fires up to about 3700 spikes/s, far above any
    neuron's; pass them to reproduce the course's exercise.  A realistic
    neuron carries less information per bin, so its RF takes more bins to
    estimate: the correlation of the maximum-likelihood RF with the true one
    is 0.94-0.95 at 2000 frames and 0.975-0.984 at 5000 (seeds 0-19).

    Parameters
    ----------
    n_frames : int, default=1000
        Number of stimulus frames (= time bins).
    frame_shape : tuple of int, default=(15, 15)
    rf_center : tuple of float, optional
        RF centre (row, col) in pixels; the middle by default.
    rf_sigma : float, default=2.0
        RF width in pixels.
    rf_norm : float, default=0.3
        Euclidean norm of the RF (log rate per unit contrast).
    contrast : float, default=5.0
        Peak-to-peak stimulus contrast.
    dt : float, default=0.1
        Bin width (s).
    R : float, default=20.0
        Rate scale (Hz): the rate for a stimulus orthogonal to the RF.
    random_state : int, RandomState instance or None

    Returns
    -------
    Bunch with
        ``stimulus`` (n_frames, n_pixels), ``counts`` (n_frames,), ``rate``
        (expected counts per bin, (n_frames,)), ``rf`` (``frame_shape``),
        ``exposure`` (n_frames,) equal to ``dt * R``, ``frame_shape``, ``dt``, ``R``.

    Examples
    --------
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> neuron = make_lnp_neuron(n_frames=100, random_state=0)
    >>> neuron.stimulus.shape, neuron.counts.shape, neuron.rf.shape
    ((100, 225), (100,), (15, 15))
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be a positive integer; got {n_frames!r}.")
    if dt <= 0 or R <= 0:
        raise ValueError(f"dt and R must be positive; got dt={dt!r}, R={R!r}.")
    rng = check_random_state(random_state)
    rf = gaussian_rf(frame_shape, rf_center, rf_sigma)
    rf *= rf_norm / np.linalg.norm(rf)
    n_pixels = int(np.prod(frame_shape))
    stimulus = (rng.randint(0, 2, size=(n_frames, n_pixels)) - 0.5) * contrast
    rate = np.exp(stimulus @ rf.ravel()) * dt * R
    counts = rng.poisson(rate).astype(np.float64)
    return Bunch(
        stimulus=stimulus,
        counts=counts,
        rate=rate,
        rf=rf,
        exposure=np.full(n_frames, dt * R),
        frame_shape=tuple(frame_shape),
        dt=dt,
        R=R,
    )


RECORDING_SUFFIXES = (".mat", ".npz")


# The first bytes of an HDF5 file (MATLAB v7.3 puts them after a 512-byte header).
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
HDF5_EXTRA = 'pip install ".[hdf5]" (from the sklearn-lnp repository) or pip install h5py'


def _read_variables(path) -> dict:
    """The named arrays of a ``.mat`` (MATLAB 5 or v7.3) or ``.npz`` file.

    A missing file raises ``FileNotFoundError``, a folder ``IsADirectoryError``,
    anything unreadable (truncated, not that format) ``ValueError`` naming the file.
    """
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a recording file (.mat or .npz).")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file; give the path of a .mat or .npz file.")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            # the file opened here, so that it is closed when numpy fails to read it
            with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as contents:
                return {key: contents[key] for key in contents.files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, AttributeError, KeyError):
            raise ValueError(
                f"{path} is not a readable .npz file (truncated, or not written by numpy.savez); "
                "write one with numpy.savez."
            ) from None
    if suffix != ".mat":
        raise ValueError(
            f"{path}: the recording must be a .mat (MATLAB) or .npz file; got {suffix!r}."
        )
    with open(path, "rb") as file:
        head = file.read(520)
    if head.startswith(HDF5_SIGNATURE) or head[512:520] == HDF5_SIGNATURE:
        return _read_hdf5_variables(path)
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        contents = loadmat(path)
    except NotImplementedError:  # a v7.3 header without the HDF5 signature: damaged
        raise ValueError(f"{path} says it is a MATLAB v7.3 file but is not HDF5.") from None
    except (ValueError, TypeError, OSError, EOFError, IndexError, KeyError, MatReadError,
            zlib.error) as error:  # fmt: skip
        raise ValueError(
            f"{path} is not a readable MATLAB .mat file (truncated or another format: "
            f"{type(error).__name__}: {error}); write one with scipy.io.savemat or MATLAB's "
            "save(..., '-v7')."
        ) from None
    return {key: value for key, value in contents.items() if not key.startswith("__")}


def _read_hdf5_variables(path) -> dict:
    """The arrays of a MATLAB v7.3 (HDF5) file, in MATLAB's axis order (needs h5py)."""
    try:
        import h5py
    except ImportError:
        raise ValueError(
            f"{path} is a MATLAB v7.3 (HDF5) file; reading it needs h5py ({HDF5_EXTRA}), or "
            "save it with save(..., '-v7') in MATLAB, or as .npz with numpy.savez."
        ) from None
    try:
        with h5py.File(path, "r") as file:
            # MATLAB writes column-major arrays: h5py sees the axes reversed.
            return {
                key: np.asarray(item[()]).T
                for key, item in file.items()
                if isinstance(item, h5py.Dataset) and not key.startswith("#")
            }
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(
            f"{path} is not a readable MATLAB v7.3 (HDF5) file (truncated or damaged: {error})."
        ) from None


def _movie_to_frames(movie: np.ndarray, name: str, frame_shape) -> tuple[np.ndarray, tuple]:
    """A rows x cols x frames movie, or pixels x frames with ``frame_shape``, as frames x pixels."""
    if movie.ndim == 3:
        rows, cols, n_frames = movie.shape
        if frame_shape is not None and tuple(frame_shape) != (rows, cols):
            raise ValueError(
                f"{name} is a {rows} x {cols} x {n_frames} movie (rows x cols x frames), "
                f"which does not match frame_shape={tuple(frame_shape)}."
            )
        return movie.reshape(rows * cols, n_frames).T.copy(), (rows, cols)
    if movie.ndim == 2:
        if frame_shape is None:
            raise ValueError(
                f"{name} has shape {movie.shape}: a 2-d stimulus (pixels x frames) needs "
                "frame_shape=(rows, cols) to tell its pixels' layout."
            )
        rows, cols = (int(v) for v in frame_shape)
        if movie.shape[0] != rows * cols:
            raise ValueError(
                f"{name} has {movie.shape[0]} rows (pixels x frames expected), which is not "
                f"frame_shape=({rows}, {cols}): {rows} x {cols} = {rows * cols} pixels."
            )
        return movie.T.copy(), (rows, cols)
    raise ValueError(
        f"{name} must be a rows x cols x frames movie (or pixels x frames with frame_shape); "
        f"got shape {movie.shape}."
    )


def load_recording(
    path: str | PathLike,
    *,
    stimulus_key: str = "DN_stim",
    spike_key: str = "DN_spiketimes",
    trigger_key: str = "DN_triggertimes",
    frame_shape: tuple[int, int] | None = None,
    signed: bool = True,
) -> Bunch:
    """Load a recording of spike times, trigger times and a stimulus movie (``.mat`` or ``.npz``).

    The file holds three variables (the names are parameters; the lab's file
    uses the defaults):

    * the stimulus movie, rows x cols x frames (``uint8`` {0, 1} in the lab's
      file), or pixels x frames with ``frame_shape`` given, pixel ``(i, j)``
      in row ``i * n_cols + j``;
    * the spike times in s (any 1-d or column array, sorted);
    * the trigger times in s: frame ``k`` is on screen from trigger ``k`` to
      trigger ``k + 1`` (strictly increasing, at least 2).

    The stimulus is returned as float64 frames x pixels, pixel ``(i, j)`` in
    column ``i * n_cols + j`` (NumPy C order, as the course's
    ``reshape((300, 1500))``).  Casting happens before any arithmetic, so the
    uint8 overflow of ``2 * s - 1`` cannot occur.

    Parameters
    ----------
    path : path-like
        A ``.mat`` file (MATLAB 5 format, as read by ``scipy.io.loadmat``, or
        MATLAB v7.3 (HDF5) with the optional ``h5py``:
        ``pip install ".[hdf5]"`` from the repository) or an ``.npz`` file (``numpy.savez``).
    stimulus_key, spike_key, trigger_key : str
        Names of the variables in the file.
    frame_shape : tuple of int (rows, cols), optional
        Needed for a 2-d (pixels x frames) stimulus; checked against a 3-d one.
    signed : bool, default=True
        Map a binary {0, 1} stimulus to {-1, +1} (contrast coding with mean
        about 0).  Other stimuli are returned as stored.

    Returns
    -------
    Bunch with
        ``stimulus`` (n_frames, n_pixels) float64, ``frame_shape`` (rows, cols),
        ``spike_times`` (n_spikes,) in s, ``trigger_times`` (n_triggers,) in s.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        When ``path`` does not exist or is a folder.
    ValueError
        When the file type is not supported, the file is not readable
        (truncated, another format, v7.3 without h5py), a variable is missing
        (the message lists those the file has), the stimulus has the wrong
        shape, or the times are not sorted or too few; the message names the
        file or the variable.

    Examples
    --------
    A tiny recording in the lab's format: a uint8 movie of 4 x 3 pixels and
    10 frames, 4 spike times and 11 frame-flip times (s), as MATLAB columns.

    >>> import tempfile
    >>> import numpy as np
    >>> from scipy.io import savemat
    >>> from sklearn_lnp.datasets import load_recording
    >>> movie = np.random.default_rng(0).integers(0, 2, size=(4, 3, 10)).astype(np.uint8)
    >>> triggers = [0.0, 0.2, 0.45, 0.65, 0.83, 1.05, 1.25, 1.46, 1.65, 1.85, 2.08]
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = f"{folder.name}/tiny.mat"
    >>> savemat(path, {"DN_stim": movie, "DN_spiketimes": [[0.05], [0.31], [0.33], [1.9]],
    ...                "DN_triggertimes": np.array(triggers)[:, None]})
    >>> recording = load_recording(path)
    >>> recording.stimulus.shape, recording.frame_shape, np.unique(recording.stimulus).tolist()
    ((10, 12), (4, 3), [-1.0, 1.0])
    >>> # pixel (row 1, col 2) of frame 6 is column 1 * 3 + 2, coded -1/+1
    >>> bool(recording.stimulus[6, 1 * 3 + 2] == 2.0 * movie[1, 2, 6] - 1.0)
    True

    The same recording as ``.npz`` with other names and the movie as pixels x frames:

    >>> np.savez(f"{folder.name}/tiny.npz", movie=movie.reshape(12, 10),
    ...          spikes=[0.05, 0.31, 0.33, 1.9], frames=triggers)
    >>> other = load_recording(f"{folder.name}/tiny.npz", stimulus_key="movie",
    ...                        spike_key="spikes", trigger_key="frames", frame_shape=(4, 3))
    >>> bool(np.array_equal(other.stimulus, recording.stimulus)), other.frame_shape
    (True, (4, 3))
    >>> folder.cleanup()
    """
    contents = _read_variables(path)
    for key, what, label in (
        (stimulus_key, "stimulus_key", "stimulus movie"),
        (spike_key, "spike_key", "spike times"),
        (trigger_key, "trigger_key", "frame-flip (trigger) times"),
    ):
        if key not in contents:
            raise ValueError(
                f"{what}={key!r} is not a variable of {path}; the file has {sorted(contents)}; "
                f"pass {what}=NAME with the name of its {label}."
            )
    movie = np.asarray(contents[stimulus_key])
    if not (np.issubdtype(movie.dtype, np.number) or movie.dtype == bool):
        raise ValueError(f"{stimulus_key} must be numeric; got dtype {movie.dtype}.")
    stimulus, shape = _movie_to_frames(movie.astype(np.float64), stimulus_key, frame_shape)
    if not np.all(np.isfinite(stimulus)):
        raise ValueError(f"{stimulus_key} holds NaN or infinite values.")
    if signed and np.all(np.isin(stimulus, (0.0, 1.0))):
        stimulus = 2.0 * stimulus - 1.0
    spike_times = check_times(contents[spike_key], spike_key)
    trigger_times = check_times(contents[trigger_key], trigger_key, min_length=2, strictly=True)
    return Bunch(
        stimulus=stimulus,
        frame_shape=shape,
        spike_times=spike_times,
        trigger_times=trigger_times,
    )


def save_recording(
    path: str | PathLike,
    recording: Bunch,
    *,
    stimulus_key: str = "DN_stim",
    spike_key: str = "DN_spiketimes",
    trigger_key: str = "DN_triggertimes",
) -> None:
    """Write a recording (as :func:`load_recording` returns it) to ``.mat`` or ``.npz``.

    The stimulus is stored as a rows x cols x frames movie, the times as
    columns (s), under the given names; :func:`load_recording` with the same
    names reads it back.

    Parameters
    ----------
    path : path-like
        Ends in ``.mat`` (MATLAB 5) or ``.npz``.
    recording : Bunch
        ``stimulus`` (n_frames, n_pixels), ``frame_shape``, ``spike_times``, ``trigger_times``.
    stimulus_key, spike_key, trigger_key : str

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_lnp.datasets import load_recording, recording_from_counts, save_recording
    >>> recording = recording_from_counts(np.eye(4), [0, 3, 1, 2], frame_shape=(2, 2),
    ...                                   random_state=0)
    >>> folder = tempfile.TemporaryDirectory()
    >>> save_recording(f"{folder.name}/r.npz", recording, spike_key="spikes")
    >>> back = load_recording(f"{folder.name}/r.npz", spike_key="spikes", signed=False)
    >>> bool(np.array_equal(back.stimulus, recording.stimulus)), back.spike_times.size
    (True, 6)
    >>> folder.cleanup()
    """
    from pathlib import Path

    rows, cols = recording.frame_shape
    movie = np.asarray(recording.stimulus).T.reshape(rows, cols, -1)
    variables = {
        stimulus_key: movie,
        spike_key: np.asarray(recording.spike_times, dtype=np.float64).reshape(-1, 1),
        trigger_key: np.asarray(recording.trigger_times, dtype=np.float64).reshape(-1, 1),
    }
    suffix = Path(path).suffix.lower()
    if suffix == ".npz":
        np.savez(path, **variables)
    elif suffix == ".mat":
        from scipy.io import savemat

        savemat(path, variables)
    else:
        raise ValueError(f"path must end in .mat or .npz; got {suffix!r}.")


def _check_recording(recording, *, stimulus_ndim: tuple[int, ...] = (2,)):
    """``(stimulus, spike_times, trigger_times)`` of a recording, validated.

    Each refusal is a ValueError naming the field (``recording.stimulus``,
    ``recording.spike_times``, ``recording.trigger_times``): a missing field,
    a stimulus that is not real, finite, non-empty and of ``stimulus_ndim``
    dimensions (frames first), or times that :func:`~sklearn_lnp.spikes.check_times`
    refuses (trigger times strictly increasing, at least two).
    """
    missing = [
        key
        for key in ("stimulus", "spike_times", "trigger_times")
        if not hasattr(recording, key) and not (isinstance(recording, dict) and key in recording)
    ]
    if missing:
        raise ValueError(
            f"recording must have the fields stimulus, spike_times and trigger_times (as "
            f"load_recording returns); missing {missing}."
        )
    stimulus = as_real_array(recording.stimulus, "recording.stimulus", "stimulus values")
    if stimulus.ndim not in stimulus_ndim:
        raise ValueError(
            f"recording.stimulus must have {' or '.join(map(str, stimulus_ndim))} dimensions "
            f"(frames first); got shape {stimulus.shape}."
        )
    if stimulus.shape[0] == 0 or stimulus.size == 0:
        raise ValueError(f"recording.stimulus is empty (shape {stimulus.shape}).")
    if not np.all(np.isfinite(stimulus)):
        raise ValueError("recording.stimulus holds NaN or infinite values.")
    largest = float(np.max(np.abs(stimulus)))
    if largest > MAX_ABS_X:
        raise ValueError(
            f"recording.stimulus has an entry of absolute value {largest:.3g} > "
            f"{MAX_ABS_X:.0e}: the fits cannot represent it (see check_representable); "
            "rescale the stimulus."
        )
    spike_times = check_times(recording.spike_times, "recording.spike_times", exact_integers=True)
    trigger_times = check_times(
        recording.trigger_times,
        "recording.trigger_times",
        min_length=2,
        strictly=True,
        exact_integers=True,
    )
    return stimulus, spike_times, trigger_times


def recording_design(recording: Bunch, *, frame_offset: int = 0) -> Bunch:
    """Pair each inter-trigger interval with its stimulus frame.

    Bin ``k`` is ``[trigger[k], trigger[k + 1])`` and is paired with frame
    ``k + frame_offset`` (see :mod:`sklearn_lnp.spikes`).  Bins whose frame
    does not exist are left out, and frames after the last trigger interval
    (the lab's file has 1500 frames for 1489 triggers) are not used; both are
    reported in a warning.  Every spike is counted: in ``counts``, or in
    ``n_spikes_outside`` (before the first or at/after the last trigger) or
    ``n_spikes_dropped_frames`` (in a bin left out for want of a frame), so
    ``counts.sum() + n_spikes_outside + n_spikes_dropped_frames`` is the
    number of spikes.

    Parameters
    ----------
    recording : Bunch
        As returned by :func:`load_recording`.
    frame_offset : int, default=0

    Returns
    -------
    Bunch with
        ``X`` (n_bins, n_pixels) frames, ``counts`` (n_bins,), ``exposure``
        (n_bins,) bin widths in s, ``frame_index`` (n_bins,), ``frame_shape``,
        ``n_unused_frames``, the spike numbers outside the triggers
        (``n_spikes_before``, ``n_spikes_after`` and their sum
        ``n_spikes_outside``), and ``n_bins_dropped_frames`` and
        ``n_spikes_dropped_frames``, the bins left out for want of a stimulus
        frame and their spikes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from sklearn_lnp.datasets import recording_design
    >>> recording = Bunch(                        # as load_recording returns it
    ...     stimulus=np.arange(8.0).reshape(4, 2), frame_shape=(1, 2),
    ...     spike_times=np.array([0.05, 0.31, 0.33, 0.7]),
    ...     trigger_times=np.array([0.0, 0.2, 0.45, 0.65, 0.83]))
    >>> design = recording_design(recording)
    >>> design.counts.tolist(), design.exposure.round(2).tolist()
    ([1.0, 2.0, 0.0, 1.0], [0.2, 0.25, 0.2, 0.18])
    >>> design.X[1].tolist()                      # bin 1 = [0.2, 0.45) s <-> frame 1
    [2.0, 3.0]
    """
    stimulus, spike_times, trigger_times = _check_recording(recording)
    binned = bin_spikes(spike_times, trigger_times, frame_offset=frame_offset)
    n_frames = stimulus.shape[0]
    valid = (binned.frame_index >= 0) & (binned.frame_index < n_frames)
    # every spike is binned or counted: outside the triggers (bin_spikes warns)
    # or in a bin left out for want of a frame (warned here, in spikes)
    n_dropped_bins = int(np.sum(~valid))
    n_dropped_spikes = int(np.sum(binned.counts[~valid]))
    if n_dropped_bins:
        warnings.warn(
            f"recording_design: {n_dropped_bins} bins have no stimulus frame "
            f"(frame_offset={frame_offset}, {n_frames} frames) and are left out with their "
            f"{n_dropped_spikes} spikes (n_spikes_dropped_frames).",
            UserWarning,
            stacklevel=2,
        )
    frames = binned.frame_index[valid]
    used = np.zeros(n_frames, dtype=bool)
    used[frames] = True
    n_unused = int(n_frames - used.sum())
    if n_unused:
        warnings.warn(
            f"recording_design: {n_unused} of {n_frames} stimulus frames have no trigger "
            "interval and are not used.",
            UserWarning,
            stacklevel=2,
        )
    return Bunch(
        X=stimulus[frames],
        counts=binned.counts[valid],
        exposure=binned.exposure[valid],
        frame_index=frames,
        frame_shape=recording.frame_shape,
        n_unused_frames=n_unused,
        n_spikes_before=binned.n_before,
        n_spikes_after=binned.n_after,
        n_spikes_outside=binned.n_before + binned.n_after,
        n_bins_dropped_frames=n_dropped_bins,
        n_spikes_dropped_frames=n_dropped_spikes,
    )


def lagged_recording_design(recording: Bunch, lags=(0,), *, frame_offset: int = 0) -> Bunch:
    """The space-time design of a recording: each bin with the frames of its past bins.

    Bin ``k`` is paired with frame ``f_k = k + frame_offset`` as in
    :func:`recording_design`.  Its columns at lag ``L`` hold frame ``f_k - L``
    of the whole movie, i.e. the frame paired with bin ``k - L``, and 0 where
    that frame would come before the first one.  Because the movie is lagged
    before bins are selected, the first bins see real frames whenever the
    movie has them (``frame_offset > 0``), not the fill value.  Columns are
    lag-major as :class:`~sklearn_lnp.LagTransformer` makes them.

    Parameters
    ----------
    recording : Bunch
        As returned by :func:`load_recording`.
    lags : iterable of int, default=(0,)
        Distinct non-negative lags in frames (bins); blocks in this order.
    frame_offset : int, default=0

    Returns
    -------
    Bunch
        The fields of :func:`recording_design`, with ``X`` of shape
        (n_bins, n_lags * n_pixels) the lagged frames, and ``lags``
        (n_lags,) the validated lags.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from sklearn_lnp.datasets import lagged_recording_design
    >>> recording = Bunch(                        # 5 frames of 1 pixel, 3 trigger intervals
    ...     stimulus=np.arange(5.0).reshape(5, 1), frame_shape=(1, 1),
    ...     spike_times=np.array([0.1, 0.3]), trigger_times=np.array([0.0, 0.2, 0.4, 0.6]))
    >>> design = lagged_recording_design(recording, lags=[0, 1], frame_offset=1)
    >>> design.frame_index.tolist(), design.X.tolist()   # bin 0 sees frame 1, then frame 0
    ([1, 2, 3], [[1.0, 0.0], [2.0, 1.0], [3.0, 2.0]])
    """
    from .preprocessing import LagTransformer

    design = recording_design(recording, frame_offset=frame_offset)
    lagger = LagTransformer(lags=lags)
    design.X = lagger.fit_transform(_check_recording(recording)[0])[design.frame_index]
    design.lags = lagger.lags_
    return design


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
        the shortest frame interval; naming the field when the recording's
        stimulus or times are not valid (as for
        :func:`~sklearn_lnp.datasets.recording_design`).

    Notes
    -----
    A recording's frames last ~200 ms, far longer than a refractory period
    (1-2 ms) or a burst: spike history needs bins finer than a frame.  Frames
    have unequal durations, so the last bin of each frame is shorter and every
    bin carries its own width as exposure.  No bin straddles a frame flip.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from sklearn_lnp.datasets import subframe_design
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
    stimulus, spike_times, triggers = _check_recording(recording)
    # Bin edges are trigger times plus multiples of bin_width (s): float64.
    triggers = triggers.astype(np.float64)
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
    binned = bin_spikes(spike_times, edges, frame_offset=frame_offset, warn=False)
    if binned.n_before or binned.n_after:
        warnings.warn(
            f"subframe_design: {binned.n_before} spikes before the first trigger and "
            f"{binned.n_after} after the last fall in no bin and are not counted.",
            UserWarning,
            stacklevel=2,
        )
    frame_index = frame_of_bin + np.int64(frame_offset)
    n_frames = stimulus.shape[0]
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


def recording_from_counts(
    stimulus: np.ndarray,
    counts: np.ndarray,
    *,
    frame_shape: tuple[int, int],
    frame_duration: tuple[float, float] = (0.18, 0.25),
    random_state=None,
) -> Bunch:
    """A recording in the format of :func:`load_recording` with given counts per frame.

    Frame ``k`` is on screen for a duration drawn uniformly from
    ``frame_duration`` (unequal, as the lab's monitor flips frames), and its
    interval holds ``counts[k]`` spikes at uniform random times: the
    recording a simulated neuron would leave, for examples and tests.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
        Frames; ``n_frames >= n_bins`` (later frames get no trigger interval).
    counts : array-like of int of shape (n_bins,)
        Spikes in each frame's interval.
    frame_shape : tuple of int (rows, cols)
    frame_duration : tuple of float (low, high), default=(0.18, 0.25)
        Range of the frame durations (s).
    random_state : int, RandomState instance or None

    Returns
    -------
    Bunch
        ``stimulus``, ``frame_shape``, ``spike_times`` (n_spikes,) sorted, in
        s, and ``trigger_times`` (n_bins + 1,) from 0 s.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.datasets import recording_from_counts, recording_design
    >>> stimulus = np.eye(4)                      # 4 frames of 2 x 2 pixels
    >>> recording = recording_from_counts(stimulus, [0, 3, 1, 2], frame_shape=(2, 2),
    ...                                   random_state=0)
    >>> recording.trigger_times.size, recording_design(recording).counts.tolist()
    (5, [0.0, 3.0, 1.0, 2.0])
    """
    stimulus = as_real_array(stimulus, "stimulus", "stimulus values")
    if stimulus.ndim != 2 or stimulus.size == 0:
        raise ValueError(
            f"stimulus must be a non-empty 2-d array (frames x pixels); got shape {stimulus.shape}."
        )
    if not np.all(np.isfinite(stimulus)):
        raise ValueError("stimulus must be finite; found NaN or infinite values.")
    counts = check_counts(counts, "counts")
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"counts must be 1-d and non-empty; got shape {counts.shape}.")
    if not np.all(counts == np.floor(counts)):
        raise ValueError("counts must be whole numbers of spikes (one spike time each).")
    # one spike time (and its start and width) per spike, float64
    check_memory(24.0 * float(np.sum(counts)), f"counts (sum {float(np.sum(counts)):.3g} spikes)")
    counts = counts.astype(np.int64)
    rng = check_random_state(random_state)
    low, high = frame_duration
    triggers = np.cumsum(np.r_[0.0, rng.uniform(low, high, size=counts.size)])
    starts = np.repeat(triggers[:-1], counts)
    widths = np.repeat(np.diff(triggers), counts)
    spikes = np.sort(starts + widths * rng.uniform(size=starts.size))
    return Bunch(
        stimulus=stimulus,
        frame_shape=tuple(frame_shape),
        spike_times=spikes,
        trigger_times=triggers,
    )


@validate_params(
    {
        "sigma": [_POSITIVE],
        "surround_sigma": [_POSITIVE],
        "surround_weight": [Interval(Real, 0.0, 1.0, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def dog_rf(
    frame_shape=(15, 15),
    center=None,
    sigma: float = 1.5,
    surround_sigma: float = 3.0,
    surround_weight: float = 0.5,
) -> np.ndarray:
    """A difference-of-Gaussians (centre-surround) receptive field with peak 1.

    ``g(sigma) - surround_weight * g(surround_sigma)``, scaled so the
    centre pixel is 1; ``g`` as in :func:`gaussian_rf`.

    Parameters
    ----------
    frame_shape : tuple of int (rows, cols)
    center : tuple of float (row, col), optional
    sigma, surround_sigma : float
        Widths (pixels) of the centre and the surround.
    surround_weight : float
        Peak of the surround relative to the centre's (``< 1`` keeps the
        centre's sign at the peak).

    Returns
    -------
    ndarray of shape ``frame_shape``

    Examples
    --------
    >>> from sklearn_lnp.datasets import dog_rf
    >>> rf = dog_rf((15, 15), sigma=1.5, surround_sigma=3.0, surround_weight=0.5)
    >>> float(rf[7, 7]), bool(rf[7, 0] < 0)       # ON centre, OFF surround
    (1.0, True)
    """
    if not 0 <= surround_weight < 1 or surround_sigma <= sigma:
        raise ValueError(
            "dog_rf needs 0 <= surround_weight < 1 and surround_sigma > sigma; got "
            f"surround_weight={surround_weight!r}, sigma={sigma!r}, "
            f"surround_sigma={surround_sigma!r}."
        )
    return (
        gaussian_rf(frame_shape, center, sigma)
        - surround_weight * gaussian_rf(frame_shape, center, surround_sigma)
    ) / (1.0 - surround_weight)


@validate_params(
    {"n_lags": [_COUNT], "zero_crossing": [_POSITIVE], "decay": [_POSITIVE]},
    prefer_skip_nested_validation=True,
)
def biphasic_kernel(n_lags: int = 5, *, zero_crossing: float = 1.5, decay: float = 2.0):
    """A biphasic temporal kernel over lags ``0 .. n_lags - 1`` (frames), unit norm.

    ``k(L) = exp(-t / decay) cos(pi t / (2 zero_crossing))`` at the frame
    centres ``t = L + 0.5``: positive at lag 0, a sign change at
    ``zero_crossing`` frames, and a weaker opposite-sign lobe after it (the
    shape of the lab's neuron: ON at lag 0, OFF at lag 2).

    Parameters
    ----------
    n_lags : int, default=5
    zero_crossing : float, default=1.5
        Time (frames) of the first sign change.
    decay : float, default=2.0
        Exponential decay time (frames).

    Returns
    -------
    ndarray of shape (n_lags,)

    Examples
    --------
    >>> from sklearn_lnp.datasets import biphasic_kernel
    >>> biphasic_kernel(5).round(2)
    array([ 0.92,  0.  , -0.34, -0.2 , -0.  ])
    """
    if n_lags < 1 or zero_crossing <= 0 or decay <= 0:
        raise ValueError(
            "biphasic_kernel needs n_lags >= 1, zero_crossing > 0 and decay > 0; got "
            f"n_lags={n_lags!r}, zero_crossing={zero_crossing!r}, decay={decay!r}."
        )
    t = np.arange(n_lags) + 0.5
    kernel = np.exp(-t / decay) * np.cos(np.pi * t / (2.0 * zero_crossing))
    return kernel / np.linalg.norm(kernel)


@validate_params({"n_lags": [_COUNT], "peak": [_POSITIVE]}, prefer_skip_nested_validation=True)
def monophasic_kernel(n_lags: int = 5, *, peak: float = 1.0):
    """A monophasic temporal kernel over lags ``0 .. n_lags - 1`` (frames), unit norm.

    The alpha function ``k(L) = (t / peak) exp(1 - t / peak)`` at the frame
    centres ``t = L + 0.5``: one lobe of one sign, rising to its maximum at
    ``peak`` frames and decaying after it (a sustained cell's impulse
    response, where :func:`biphasic_kernel` is a transient one's).

    Parameters
    ----------
    n_lags : int, default=5
    peak : float, default=1.0
        Time (frames) of the maximum.

    Returns
    -------
    ndarray of shape (n_lags,)

    Examples
    --------
    >>> from sklearn_lnp.datasets import monophasic_kernel
    >>> monophasic_kernel(5).round(2)
    array([0.6 , 0.66, 0.4 , 0.21, 0.1 ])
    """
    t = np.arange(n_lags) + 0.5
    # Constant factors cancel in the normalisation: the log of
    # t exp(-t / peak) relative to the first lag (0 there, so the maximum is
    # finite) keeps a tiny or huge peak from underflowing the whole kernel to
    # 0.  A tiny peak overflows (t - t_0) / peak to inf: exp(-inf) = 0, the
    # exact limit.
    with np.errstate(over="ignore"):
        log_kernel = np.log(t / t[0]) - (t - t[0]) / float(peak)
    kernel = np.exp(log_kernel - log_kernel.max())
    return kernel / np.linalg.norm(kernel)


@validate_params(
    {
        "n_frames": [_COUNT],
        "n_lags": [_COUNT],
        "spatial": [StrOptions({"gaussian", "dog"})],
        "rf_sigma": [_POSITIVE],
        "surround_sigma": [_POSITIVE],
        "surround_weight": [Interval(Real, 0.0, 1.0, closed="left")],
        "rf_norm": [_NON_NEGATIVE],
        "mean_count": [_POSITIVE],
        "dt": [_POSITIVE],
        "noise": [StrOptions({"binary", "gaussian"})],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_separable_neuron(
    n_frames: int = 2000,
    *,
    frame_shape=(10, 10),
    n_lags: int = 5,
    spatial: str = "gaussian",
    rf_center=None,
    rf_sigma: float = 1.5,
    surround_sigma: float = 3.0,
    surround_weight: float = 0.5,
    temporal=None,
    rf_norm: float = 1.0,
    mean_count: float = 2.0,
    dt: float = 0.2,
    noise: str = "binary",
    random_state=None,
) -> Bunch:
    r"""Simulate an LNP neuron with a separable space-time receptive field.

    The RF is ``W = rf_norm * u v^T`` (pixels x lags) with a unit-norm spatial
    map ``u`` (Gaussian or difference of Gaussians) and a unit-norm temporal
    kernel ``v`` (:func:`biphasic_kernel` by default, or
    :func:`monophasic_kernel`).  The stimulus is white noise of unit variance
    per pixel: binary +-1 checkerboard noise (the lab's dense noise) or
    Gaussian; bin ``t`` sees frames ``t - L`` for
    ``L = 0 .. n_lags - 1`` (0 before the first frame, as
    :class:`~sklearn_lnp.LagTransformer` fills them), and its count is
    Poisson with mean ``dt * exp(b + sum_L x_{t-L} . W[:, L])``, ``b`` chosen
    so that a blank stimulus gives ``mean_count`` spikes per bin.

    The mean firing rate over the noise ensemble has a closed form,
    ``exp(b) prod_i cosh(w_i)`` spikes/s for binary noise and
    ``exp(b + ||w||^2 / 2)`` for Gaussian noise (``w`` the lag-major RF, for
    every bin after the first ``n_lags - 1``); it is returned as
    ``mean_rate``.  The defaults (10 spikes/s for a blank screen, 0.2 s bins
    like the lab's frames, ``rf_norm=1``) give about 16.5 spikes/s, the lab's
    neuron fires 17.

    Parameters
    ----------
    n_frames : int, default=2000
        Frames = time bins.
    frame_shape : tuple of int, default=(10, 10)
    n_lags : int, default=5
    spatial : {"gaussian", "dog"}, default="gaussian"
    rf_center : tuple of float, optional
        Centre (row, col); the middle of the frame by default.
    rf_sigma, surround_sigma, surround_weight : float
        Spatial widths (pixels) and surround weight (``"dog"``).
    temporal : {"biphasic", "monophasic"} or array-like of shape (n_lags,), optional
        Temporal kernel: :func:`biphasic_kernel` (the default),
        :func:`monophasic_kernel`, or given (normalised to unit norm).
    rf_norm : float, default=1.0
        Frobenius norm of ``W`` (log-rate units per unit contrast).
    mean_count : float, default=2.0
        Expected count per bin for a blank (all-zero) stimulus.
    dt : float, default=0.2
        Bin width in s (the exposure).
    noise : {"binary", "gaussian"}, default="binary"
        Pixel distribution of the white-noise stimulus: +-1 with equal
        probability, or standard normal.
    random_state : int, RandomState instance or None

    Returns
    -------
    Bunch with
        ``stimulus`` (n_frames, n_pixels), ``counts`` (n_frames,),
        ``rate`` (expected counts, (n_frames,)), ``exposure`` (n_frames,) equal
        to ``dt``, ``spatial`` (n_pixels,) and ``temporal`` (n_lags,) unit-norm
        truth, ``rf`` (n_pixels, n_lags) = ``W``, ``coef`` the lag-major
        truth (n_lags * n_pixels,), ``intercept`` ``b``, ``mean_rate``
        (spikes/s, the ensemble mean above), ``dt``, ``lags``, ``frame_shape``.

    Examples
    --------
    >>> from sklearn_lnp.datasets import make_separable_neuron
    >>> neuron = make_separable_neuron(500, frame_shape=(6, 5), random_state=0)
    >>> neuron.stimulus.shape, neuron.rf.shape, neuron.coef.shape
    ((500, 30), (30, 5), (150,))
    """
    from .preprocessing import _lag_design

    if n_frames < 1 or n_lags < 1:
        raise ValueError(f"n_frames and n_lags must be >= 1; got {n_frames!r}, {n_lags!r}.")
    if mean_count <= 0 or dt <= 0 or rf_norm < 0:
        raise ValueError(
            "mean_count and dt must be positive and rf_norm non-negative; got "
            f"mean_count={mean_count!r}, dt={dt!r}, rf_norm={rf_norm!r}."
        )
    rng = check_random_state(random_state)
    if spatial == "gaussian":
        u = gaussian_rf(frame_shape, rf_center, rf_sigma)
    elif spatial == "dog":
        u = dog_rf(frame_shape, rf_center, rf_sigma, surround_sigma, surround_weight)
    else:
        raise ValueError(f"spatial must be 'gaussian' or 'dog'; got {spatial!r}.")
    u = u.ravel() / np.linalg.norm(u)
    if temporal is None or (isinstance(temporal, str) and temporal == "biphasic"):
        v = biphasic_kernel(n_lags)
    elif isinstance(temporal, str) and temporal == "monophasic":
        v = monophasic_kernel(n_lags)
    elif isinstance(temporal, str):
        raise ValueError(
            f"temporal must be 'biphasic', 'monophasic' or an array; got {temporal!r}."
        )
    else:
        v = np.asarray(temporal, dtype=np.float64).ravel()
        if v.shape != (n_lags,) or not np.all(np.isfinite(v)) or not np.any(v):
            raise ValueError(
                f"temporal must be a finite, non-zero kernel of length n_lags={n_lags}; "
                f"got shape {v.shape}."
            )
        v = v / np.linalg.norm(v)
    W = rf_norm * np.outer(u, v)
    coef = W.T.ravel()
    if noise == "binary":
        stimulus = rng.choice([-1.0, 1.0], size=(n_frames, u.size))
        log_gain = float(np.sum(np.log(np.cosh(coef))))
    else:
        stimulus = rng.standard_normal(size=(n_frames, u.size))
        log_gain = 0.5 * float(coef @ coef)
    # the lagged design (LagTransformer's, without the estimator's validation)
    design = _lag_design(stimulus, range(n_lags), 0.0, np.float64)
    intercept = float(np.log(mean_count / dt))
    rate = dt * np.exp(intercept + design @ coef)
    counts = rng.poisson(rate).astype(np.float64)
    return Bunch(
        stimulus=stimulus,
        counts=counts,
        rate=rate,
        exposure=np.full(n_frames, dt),
        spatial=u,
        temporal=v,
        rf=W,
        coef=coef,
        intercept=intercept,
        mean_rate=float(np.exp(intercept + log_gain)),
        dt=dt,
        lags=np.arange(n_lags),
        frame_shape=tuple(frame_shape),
    )
