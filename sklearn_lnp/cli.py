"""The ``sklearn-lnp`` command.

``sklearn-lnp`` (or ``sklearn-lnp demo``) simulates the textbook LNP neuron,
fits it and writes figures; ``sklearn-lnp fit PATH`` (.mat or .npz) fits a
recording and writes the RF figure and a JSON summary; ``--lags`` adds the
joint space-time fit, ``--sta`` the spike-time STA at sub-frame resolution,
``--penalty l1`` the L1 fits over a path of penalties.  The analyses are the
functions of :mod:`sklearn_lnp.analysis`; their JSON blocks and figures come
from :mod:`sklearn_lnp._reports`.

Results go to stdout, progress of the long steps to stderr (``--quiet``
silences it), each warning once as one line on stderr.  A user error (a
missing file, a variable the file lacks, an option out of range) is one line
on stderr that names the fix, exit status 2, and nothing written: every
option is checked before any work and the output folder is made only after
the recording has been read.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

from . import _reports
from .analysis import (
    fit_l1_lags,
    fit_lags_jointly,
    fit_lags_separately,
    fit_simulated_neuron,
    spike_time_sta,
)
from .datasets import RECORDING_SUFFIXES, load_recording
from .decomposition import CENTERINGS

DEFAULT_OUT = Path("sklearn_lnp_output")
# The variable names of the lab's recording, the defaults of --stimulus-key etc.
DEFAULT_KEYS = {"stimulus": "DN_stim", "spikes": "DN_spiketimes", "triggers": "DN_triggertimes"}


class UsageError(Exception):
    """A mistake of the command's user: reported as one line on stderr, exit status 2."""


class _Progress:
    """Progress lines on stderr with the time since the command started; silent when quiet."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.perf_counter() - self.start
            print(f"[{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)


_progress = _Progress(quiet=True)


def _log(message: str) -> None:
    """A result line, on stdout."""
    print(message, flush=True)


def _write_summary(summary: dict, out: Path, figures: str) -> None:
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    _log(f"Wrote {figures} and summary.json to {out}/")


def run_demo(args) -> dict:
    """Simulate, fit and draw the textbook neuron; write ``out/demo/``; return the summary.

    ``args`` holds ``n_frames``, ``seed``, ``out`` and ``verbose``.  The
    summary has ``rf_correlation`` (true vs fitted RF), ``fit_seconds``,
    ``n_iter``, ``solver`` and the ``figures`` written (see :func:`main`).
    """
    out = Path(args.out) / "demo"
    _check_out(Path(args.out))
    _progress(f"Simulating the textbook LNP neuron ({args.n_frames} frames, seed {args.seed}) "
              "and fitting it ...")  # fmt: skip
    demo = fit_simulated_neuron(args.n_frames, random_state=args.seed, verbose=args.verbose)
    out.mkdir(parents=True, exist_ok=True)
    summary, figures, message = _reports.demo_report(demo, args.n_frames, args.seed)
    _log(message)
    _progress("Drawing the figures ...")
    summary["figures"] = _reports.save_figures(figures, out)
    _write_summary(summary, out, "figures")
    return summary


def run_fit(args) -> dict:
    """Fit a real recording; write each analysis's figures and ``summary.json``.

    Always the lag-0 fit at ``--alpha``; with ``--lags`` other than 0 the
    joint space-time fit and its SVD, with ``--sta`` the spike-time STA, with
    ``--penalty l1`` the L1 grid (:mod:`sklearn_lnp.analysis`).  Outputs go
    to ``out/<recording name>/``.  Returns the JSON summary: the binning, the
    lag-0 fit (``"lag0"``), the ``"lags"``, ``"sta"`` and ``"l1"`` blocks when
    requested and the ``figures`` written.

    Examples
    --------
    A toy recording in the lab's format whose cell fires more when pixel
    (row 1, col 2) of a 3 x 4 frame is on:

    >>> import contextlib, io, tempfile
    >>> import numpy as np
    >>> from scipy.io import savemat
    >>> from sklearn_lnp.cli import build_parser, run_fit
    >>> rng = np.random.default_rng(0)
    >>> movie = rng.integers(0, 2, size=(3, 4, 601)).astype(np.uint8)   # rows x cols x frames
    >>> triggers = np.cumsum(np.r_[0.0, rng.uniform(0.18, 0.25, size=600)])   # s
    >>> counts = rng.poisson(np.where(movie[1, 2, :600] == 1, 3.0, 1.0))
    >>> spikes = np.sort(np.concatenate(
    ...     [rng.uniform(triggers[k], triggers[k + 1], n) for k, n in enumerate(counts)]))
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = f"{folder.name}/toy.mat"
    >>> savemat(path, {"DN_stim": movie, "DN_spiketimes": spikes[:, None],
    ...                "DN_triggertimes": triggers[:, None]})
    >>> args = build_parser().parse_args(["fit", path, "--lags", "0-1", "--lags-alpha", "1",
    ...                                   "--sta", "--sta-window", "0.5", "--out", folder.name])
    >>> with contextlib.redirect_stdout(io.StringIO()):
    ...     summary = run_fit(args)
    >>> summary["n_bins"], summary["lag0"]["peak_row"], summary["lag0"]["peak_col"]
    (600, 1, 2)
    >>> summary["figures"]
    ['rf_lag0.png', 'rf_lags.png', 'rf_svd.png', 'sta_fine.png', 'sta_fine_svd.png']
    >>> folder.cleanup()
    """
    _check_fit_args(args)
    path = Path(args.path)
    out = Path(args.out) / path.stem
    _progress(f"Reading {path} ...")
    recording = _read_recording(args)
    _check_against_recording(args, recording)
    out.mkdir(parents=True, exist_ok=True)
    _progress(f"Fitting PoissonLNPRegressor(alpha={args.alpha}) at lag 0 ...")
    lag0 = fit_lags_separately(recording, (0,), alpha=args.alpha, **_fit_options(args))
    summary, figures, message = _reports.lag0_report(path, lag0, args.frame_offset, args.alpha)
    _log(message)
    summary["figures"] = _reports.save_figures(figures, out)
    requested = {"lags": list(args.lags) != [0], "sta": args.sta, "l1": args.penalty == "l1"}
    for key, run in (("lags", _run_lags), ("sta", _run_sta), ("l1", _run_l1)):
        if requested[key]:
            block, figures, message = run(args, recording)
            _log(message)
            block["figures"] = _reports.save_figures(figures, out)
            summary[key] = block
            summary["figures"] += block["figures"]
    _write_summary(summary, out, ", ".join(summary["figures"]))
    return summary


def _check_out(out: Path) -> None:
    """The output folder can be made: no part of its path is an existing file."""
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                raise UsageError(f"--out {out}: {folder} is a file, not a folder; choose another "
                                 "--out")  # fmt: skip
            return


def _check_fit_args(args) -> None:
    """Every option of ``fit`` that can be checked without reading the recording."""
    path = Path(args.path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file; give the path of a .mat or .npz recording")
    if path.suffix.lower() not in RECORDING_SUFFIXES:
        raise UsageError(
            f"{path}: unsupported file type {path.suffix!r}; save the recording as .mat "
            "(MATLAB 5, scipy.io.savemat) or .npz (numpy.savez)"
        )
    _check_out(Path(args.out) / path.stem)
    if args.sta_resolution > args.sta_window:
        raise UsageError(
            f"--sta-resolution {args.sta_resolution} is larger than --sta-window "
            f"{args.sta_window}; choose a step smaller than the window"
        )


def _read_recording(args):
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


def _check_against_recording(args, recording) -> None:
    n_frames = recording.stimulus.shape[0]
    if max(args.lags) >= n_frames:
        raise UsageError(
            f"--lags {max(args.lags)} is not smaller than the recording's {n_frames} frames; "
            "choose smaller lags"
        )


def _fit_options(args) -> dict:
    return {"frame_offset": args.frame_offset, "verbose": args.verbose}


def _run_lags(args, recording) -> _reports.Report:
    """The joint fit of ``--lags``: alpha ``--lags-alpha`` or by CV over ``--alpha-grid``."""
    alpha = args.alpha_grid if args.lags_alpha is None else args.lags_alpha
    what = f"alpha {alpha}"
    if np.ndim(alpha) > 0:
        n_fits = 5 * len(alpha) + 1
        what = f"alpha by 5-fold blocked CV over {list(alpha)} ({n_fits} fits, 20-60 s on 2 cores)"
    _progress(f"Joint fit of lags {list(args.lags)} with {args.drift} drift regressors, {what} ...")
    joint = fit_lags_jointly(
        recording,
        args.lags,
        alpha=alpha,
        n_drift=args.drift,
        center=args.center,
        **_fit_options(args),
    )
    return _reports.lags_report(joint)


def _run_sta(args, recording) -> _reports.Report:
    """The spike-time STA at ``--sta-resolution`` steps up to ``--sta-window`` and its SVD."""
    _progress(f"Spike-time STA: delays 0-{args.sta_window} s in {args.sta_resolution} s steps ...")
    sta = spike_time_sta(
        recording, window=args.sta_window, resolution=args.sta_resolution, center=args.center
    )
    return _reports.sta_report(sta, recording.frame_shape)


def _run_l1(args, recording) -> _reports.Report:
    """L1 fits of ``--lags`` over ``--l1-alphas`` (or the default path), alpha by blocked CV."""
    alphas = 20 if args.l1_alphas is None else list(args.l1_alphas)
    _progress(
        f"L1 fits of lags {list(args.lags)}: LassoLNPCV over "
        f"{alphas if isinstance(alphas, int) else len(alphas)} alphas, 5 blocked folds, "
        "then the path on all bins (about 15-60 s) ..."
    )
    l1 = fit_l1_lags(recording, args.lags, alphas=alphas, **_fit_options(args))
    return _reports.l1_report(l1, thin_grid=args.l1_alphas is None)


def _lag_list(text: str) -> tuple[int, ...]:
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


def _float_list(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(not np.isfinite(v) or v < 0 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected non-negative numbers like 1,10,100; got {text!r}"
        )
    return values


def _number(kind, low, *, strict=False):
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


def _frame_shape(text: str) -> tuple[int, int]:
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
}


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line on stderr (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``sklearn-lnp`` (subcommands ``demo`` and ``fit``).

    Returns
    -------
    argparse.ArgumentParser
        Its ``--help`` lists every subcommand's options.

    Examples
    --------
    >>> from sklearn_lnp.cli import build_parser
    >>> args = build_parser().parse_args(["fit", "recording.mat", "--lags", "0-4", "--sta"])
    >>> args.command, args.lags, args.sta, args.drift, args.alpha_grid, args.stimulus_key
    ('fit', (0, 1, 2, 3, 4), True, 6, (1.0, 10.0, 100.0), 'DN_stim')
    """
    parser = _Parser(
        prog="sklearn-lnp",
        description=(
            "Estimate neurons' receptive fields with linear-nonlinear-Poisson models. "
            "Without a command, runs the built-in simulated example."
        ),
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    demo = sub.add_parser("demo", help="simulate the textbook LNP neuron, fit it, draw figures")
    demo.add_argument(
        "--n-frames", type=_number(int, 10), default=5000, help="frames to simulate (5000)"
    )
    demo.add_argument("--seed", type=_number(int, 0), default=0, help="random seed (0)")
    fit = sub.add_parser("fit", help="fit a recording (.mat or .npz: movie, spikes, triggers)")
    options = {
        "path": {},
        "--stimulus-key": {"default": DEFAULT_KEYS["stimulus"], "metavar": "NAME"},
        "--spikes-key": {"default": DEFAULT_KEYS["spikes"], "metavar": "NAME"},
        "--triggers-key": {"default": DEFAULT_KEYS["triggers"], "metavar": "NAME"},
        "--frame-shape": {"type": _frame_shape, "default": None, "metavar": "ROWSxCOLS"},
        "--alpha": {"type": _number(float, 0), "default": 0.0},
        "--frame-offset": {"type": int, "default": 0},
        "--lags": {"type": _lag_list, "default": (0, 1, 2, 3, 4)},
        "--lags-alpha": {"type": _number(float, 0), "default": None},
        "--alpha-grid": {"type": _float_list, "default": (1.0, 10.0, 100.0)},
        "--drift": {"type": _number(int, 0), "default": 6},
        "--center": {"choices": CENTERINGS, "default": "none"},
        "--sta": {"action": "store_true"},
        "--sta-window": {"type": _number(float, 0, strict=True), "default": 1.0},
        "--sta-resolution": {"type": _number(float, 0, strict=True), "default": 0.025},
        "--penalty": {"choices": ("l2", "l1"), "default": "l2"},
        "--l1-alphas": {"type": _float_list, "default": None},
    }
    for name, settings in options.items():
        fit.add_argument(name, help=FIT_HELP[name], **settings)
    for sub_parser in (demo, fit):
        sub_parser.add_argument(
            "--out", default=str(DEFAULT_OUT), help=f"output folder ({DEFAULT_OUT})"
        )
        sub_parser.add_argument(
            "-q", "--quiet", action="store_true", help="no progress lines on stderr"
        )
        sub_parser.add_argument("-v", "--verbose", action="count", default=0, help="solver log")
    _document_subcommands(parser, sub)
    return parser


def _document_subcommands(parser: argparse.ArgumentParser, sub) -> None:
    """Append every subcommand's options to the top-level ``--help``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = textwrap.fill(parser.description or "", width=79)
    parser.epilog = "\n\n".join(
        sub_parser.format_help().rstrip() for sub_parser in sub.choices.values()
    )


def _show_warning_once(seen: set):
    """A ``warnings.showwarning``: each distinct message once, as one line on stderr."""

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if (category, text) not in seen:
            seen.add((category, text))
            print(f"warning: {text}", file=sys.stderr, flush=True)

    return show


def main(argv=None) -> int:
    """Entry point of the ``sklearn-lnp`` command.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` by default).  No command, or
        options without one, run the ``demo``.

    Returns
    -------
    int
        Exit status: 0, or 2 after a usage error (one line on stderr, nothing written).

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_lnp.cli import main
    >>> folder = tempfile.TemporaryDirectory()
    >>> main(["--n-frames", "2000", "--out", folder.name, "--quiet"])  # doctest: +ELLIPSIS
    Fitted PoissonLNPRegressor in ... s (...); correlation of true and fitted RF: 0.9...
    Wrote figures and summary.json to .../demo/
    0
    >>> folder.cleanup()
    """
    global _progress
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["demo", *argv]  # options without a command are the demo's
    args = parser.parse_args(argv)
    _progress = _Progress(quiet=args.quiet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = _show_warning_once(set())
            if args.command == "fit":
                run_fit(args)
            else:
                run_demo(args)
    except UsageError as error:
        print(f"sklearn-lnp {args.command}: error: {error}", file=sys.stderr, flush=True)
        return 2
    finally:
        _progress = _Progress(quiet=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
