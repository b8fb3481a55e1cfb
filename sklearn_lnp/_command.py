"""Helpers of the ``sklearn-lnp`` command: option types, help, checks before any work.

Every option is checked before any work, with the option named in the
message (:class:`UsageError`): those argparse cannot check alone against the
recording once it is read (:func:`check_against_recording`), including the
memory a request would need, computed from the recording's size and compared
with this machine's memory before anything is allocated.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
import textwrap
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

from ._validation import check_memory
from .datasets import RECORDING_SUFFIXES, load_recording
from .decomposition import CENTERINGS

# The variable names of the lab's recording, the defaults of --stimulus-key etc.
DEFAULT_KEYS = {"stimulus": "DN_stim", "spikes": "DN_spiketimes", "triggers": "DN_triggertimes"}
PACKAGE_DIR = Path(__file__).resolve().parent


class UsageError(Exception):
    """A mistake of the command's user: reported as one line on stderr, exit status 2."""


class Progress:
    """Progress lines on stderr with the time since the command started; silent when quiet."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.perf_counter() - self.start
            print(f"[{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)


def check_fit_args(args) -> None:
    """Every option of ``fit`` that can be checked without reading the recording."""
    path = Path(args.path)
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give the path of a .mat or .npz recording in it")
    if not path.is_file():
        raise UsageError(f"{path}: no such file; give the path of a .mat or .npz recording")
    if path.suffix.lower() not in RECORDING_SUFFIXES:
        raise UsageError(
            f"{path}: unsupported file type {path.suffix!r}; save the recording as .mat "
            "(MATLAB 5 or v7.3, scipy.io.savemat) or .npz (numpy.savez)"
        )
    if args.sta_resolution > args.sta_window:
        raise UsageError(
            f"--sta-resolution {args.sta_resolution} is larger than --sta-window "
            f"{args.sta_window}; choose a step smaller than the window"
        )


def read_recording(args):
    """``load_recording`` with the command's names; its errors as one-line usage errors."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's notes on odd MATLAB headers
            return load_recording(
                args.path,
                stimulus_key=args.stimulus_key,
                spike_key=args.spikes_key,
                trigger_key=args.triggers_key,
                frame_shape=args.frame_shape,
            )
    except ValueError as error:
        text = " ".join(str(error).split())
        for name, option in (
            ("stimulus_key", "--stimulus-key"),
            ("spike_key", "--spikes-key"),
            ("trigger_key", "--triggers-key"),
            ("frame_shape", "--frame-shape"),
        ):
            text = text.replace(f"{name}=", f"{option} ")
        if "is not a variable" in text:
            text += " Name the file's variables with --stimulus-key, --spikes-key, --triggers-key."
        if str(args.path) not in text:
            text = f"{args.path}: {text}"
        if "--" not in text and "write" not in text:
            text += " The file needs a movie, spike times and trigger times; see --help."
        raise UsageError(text) from None
    except (OSError, EOFError) as error:
        message = f"{args.path}: cannot read it ({error}); is it a .mat or .npz file?"
        raise UsageError(message) from None


def check_against_recording(args, recording) -> None:
    """The options that depend on the recording's size, memory included, before any work."""
    n_frames, n_pixels = recording.stimulus.shape
    n_bins = recording.trigger_times.size - 1
    if max(args.lags) >= n_frames:
        raise UsageError(
            f"--lags {max(args.lags)} is not smaller than the recording's {n_frames} frames; "
            "choose smaller lags"
        )
    # Bins k with a frame k + offset: 0 <= k < n_bins and 0 <= k + offset < n_frames.
    offset = args.frame_offset
    if min(n_bins, n_frames - offset) - max(0, -offset) < 2:
        raise UsageError(
            f"--frame-offset {offset} leaves fewer than 2 trigger intervals with a stimulus "
            f"frame ({n_bins} intervals, {n_frames} frames); choose an offset from "
            f"{-(n_bins - 2)} to {n_frames - 2} (0: interval k shows frame k)"
        )
    if list(args.lags) != [0] or args.penalty == "l1":
        # The lagged movie, the design's rows for the bins and a CV fold's copy of them.
        n_columns = len(args.lags) * n_pixels + args.drift
        _check_memory(
            8.0 * n_columns * (n_frames + 2 * n_bins),
            f"--lags {_lag_text(args.lags)} ({n_bins} bins x {n_columns} columns)",
            "choose fewer lags",
        )
    if args.smooth:
        # The evidence fit's dense design, its whitened copy, X' D X B and three
        # p x p matrices (posterior sd); p = lags x pixels.
        n_columns = len(args.lags) * n_pixels
        _check_memory(
            8.0 * n_columns * (3 * n_bins + 3 * n_columns),
            f"--smooth on --lags {_lag_text(args.lags)} ({n_bins} bins x {n_columns} columns)",
            "choose fewer lags",
        )
    if args.sta:
        n_taus = math.ceil(args.sta_window / args.sta_resolution - 1e-9)
        n_times = recording.trigger_times.size
        # As spike_triggered_average: 8 frames x delays and 8 pixels x delays arrays.
        _check_memory(
            8.0 * n_taus * (8.0 * n_times + 8.0 * n_pixels),
            f"--sta-window {args.sta_window:g} at --sta-resolution {args.sta_resolution:g} "
            f"({n_taus:.3g} delays x {n_times} frame times)",
            "choose a shorter --sta-window or a larger --sta-resolution",
        )


def _lag_text(lags) -> str:
    lags = list(lags)
    if len(lags) > 2 and lags == list(range(lags[0], lags[-1] + 1)):
        return f"{lags[0]}-{lags[-1]}"
    return ",".join(str(lag) for lag in lags)


def _check_memory(n_bytes: float, request: str, fix: str) -> None:
    """:func:`check_memory` as a usage error naming the option and its ``fix``."""
    try:
        check_memory(n_bytes, f"{request} for this recording")
    except ValueError as error:
        raise UsageError(f"{str(error).rstrip('.')}; {fix}") from None


def is_user_error(error: BaseException) -> bool:
    """A user's mistake, to report in one line: not a bug, whose traceback must show.

    Usage errors and missing or unreadable files are; a ``ValueError`` is when
    this package raised it (its validation names the argument), not numpy,
    scipy or scikit-learn inside a computation.
    """
    if isinstance(error, UsageError | FileNotFoundError | IsADirectoryError | PermissionError):
        return True
    if isinstance(error, NotADirectoryError):
        return True
    if isinstance(error, ValueError) and error.__traceback__ is not None:
        origin = Path(traceback.extract_tb(error.__traceback__)[-1].filename).resolve()
        return PACKAGE_DIR in origin.parents
    return False


def lag_list(text: str) -> tuple[int, ...]:
    """Parse ``"0,1,2"`` or ``"0-4"`` into checked lags."""
    from .preprocessing import check_lags

    try:
        if "-" in text.strip()[1:]:
            first, last = text.split("-", 1)
            values = list(range(int(first), int(last) + 1))
        else:
            values = [int(v) for v in text.split(",") if v.strip()]
        return tuple(int(v) for v in check_lags(values))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--lags {text!r}: {error}") from None


def float_list(text: str, *, positive: bool = False) -> tuple[float, ...]:
    """Parse ``"1,10,100"``: finite numbers, non-negative (or ``positive``)."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(not np.isfinite(v) or v < 0 or (positive and v == 0) for v in values):
        what = "positive" if positive else "non-negative"
        raise argparse.ArgumentTypeError(f"expected {what} numbers like 1,10,100; got {text!r}")
    return values


def positive_list(text: str) -> tuple[float, ...]:
    """Parse ``"0.01,0.1"``: finite positive numbers (L1 penalties)."""
    return float_list(text, positive=True)


positive_list.__name__ = "float"


def number(kind, low, *, strict=False):
    """An argparse type: a finite ``kind`` (int or float) at least (or above) ``low``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        ok = value is not None and np.isfinite(value) and (value > low if strict else value >= low)
        if not ok:
            bound = f"{'>' if strict else '>='} {low:g}"
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what} {bound}; got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def frame_shape(text: str) -> tuple[int, int]:
    """Parse ``"20x15"`` (rows x cols)."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        rows, cols = (int(p) for p in parts)
    except ValueError:
        rows = cols = 0
    if rows < 1 or cols < 1:
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLS like 20x15; got {text!r}")
    return rows, cols


# Help of every option of ``fit`` (defaults in parentheses).
FIT_HELP = {
    "path": "the recording, .mat (MATLAB 5) or .npz, with a stimulus movie (rows x cols x frames, "
    "or pixels x frames with --frame-shape), spike times (s) and frame-flip trigger times (s); "
    "e.g. ../shared/data/nds_cl_5_data.mat",
    "--stimulus-key": f"name of the stimulus movie in the file ({DEFAULT_KEYS['stimulus']})",
    "--spikes-key": f"name of the spike times in the file ({DEFAULT_KEYS['spikes']})",
    "--triggers-key": f"name of the frame-flip (trigger) times in the file "
    f"({DEFAULT_KEYS['triggers']})",
    "--frame-shape": "ROWSxCOLS of a frame, e.g. 20x15: needed when the stimulus is stored as "
    "pixels x frames, checked against a rows x cols x frames movie",
    "--alpha": "L2 penalty of the lag-0 fit, sklearn scaling (0)",
    "--frame-offset": "bin k pairs with frame k + offset (0: what the lab's data show)",
    "--lags": "lags (frames) of the joint space-time fit, e.g. 0,1,2,3,4 (default) or 0-4; "
    "0 alone skips it",
    "--lags-alpha": "L2 penalty of the joint fit (default: chosen by blocked CV over --alpha-grid)",
    "--alpha-grid": "alphas tried by the CV of the joint fit (1,10,100)",
    "--drift": "slow-drift regressors (Legendre polynomials of time) in the joint fit (6; 0: none)",
    "--center": "centring of the RF before its rank-1 SVD (none: the kernel as fitted; over_lags "
    "and both force the kernel to sum to 0, which makes any kernel look biphasic)",
    "--sta": "also compute the spike-time STA at sub-frame resolution and its SVD",
    "--sta-window": "STA delays from 0 to this, in s (1.0)",
    "--sta-resolution": "STA delay step in s (0.025)",
    "--penalty": "l1: also fit the L1 (lasso) model of the --lags over a path of alphas, choose "
    "alpha by blocked CV, and draw the lags x alphas grid and the CV curve",
    "--l1-alphas": "L1 penalties of --penalty l1, e.g. 0.01,0.03,0.1 (default: 20 log-spaced "
    "from alpha_max, the smallest penalty with an all-zero RF)",
    "--smooth": "also fit SmoothLNPRegressor on the --lags (smoothness prior chosen by the "
    "evidence), compare it with CV-alpha ridge on 5 blocked folds, draw its RF and z-map",
}


# argparse settings of every option of ``fit`` (help in FIT_HELP).
FIT_OPTIONS = {
    "path": {},
    "--stimulus-key": {"default": DEFAULT_KEYS["stimulus"], "metavar": "NAME"},
    "--spikes-key": {"default": DEFAULT_KEYS["spikes"], "metavar": "NAME"},
    "--triggers-key": {"default": DEFAULT_KEYS["triggers"], "metavar": "NAME"},
    "--frame-shape": {"type": frame_shape, "default": None, "metavar": "ROWSxCOLS"},
    "--alpha": {"type": number(float, 0), "default": 0.0},
    "--frame-offset": {"type": int, "default": 0},
    "--lags": {"type": lag_list, "default": (0, 1, 2, 3, 4)},
    "--lags-alpha": {"type": number(float, 0), "default": None},
    "--alpha-grid": {"type": float_list, "default": (1.0, 10.0, 100.0)},
    "--drift": {"type": number(int, 0), "default": 6},
    "--center": {"choices": CENTERINGS, "default": "none"},
    "--sta": {"action": "store_true"},
    "--sta-window": {"type": number(float, 0, strict=True), "default": 1.0},
    "--sta-resolution": {"type": number(float, 0, strict=True), "default": 0.025},
    "--penalty": {"choices": ("l2", "l1"), "default": "l2"},
    "--l1-alphas": {"type": positive_list, "default": None},
    "--smooth": {"action": "store_true"},
}


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line on stderr (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def document_subcommands(parser: argparse.ArgumentParser, sub) -> None:
    """Append every subcommand's options to the top-level ``--help``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = textwrap.fill(parser.description or "", width=79)
    parser.epilog = "\n\n".join(
        sub_parser.format_help().rstrip() for sub_parser in sub.choices.values()
    )


def show_warning_once(seen: set):
    """A ``warnings.showwarning``: each distinct message once, as one line on stderr."""

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if (category, text) not in seen:
            seen.add((category, text))
            print(f"warning: {text}", file=sys.stderr, flush=True)

    return show


@contextlib.contextmanager
def terminate_as_interrupt():
    """SIGTERM (``kill``) ends the run like Ctrl-C, so its partial output is removed."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
