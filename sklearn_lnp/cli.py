"""The ``sklearn-lnp`` command.

``sklearn-lnp`` (or ``sklearn-lnp demo``) simulates the textbook LNP neuron, fits it and writes
figures; ``sklearn-lnp fit PATH`` (.mat or .npz) fits a recording and writes the RF figure and a
JSON summary; ``--lags`` adds the joint space-time fit, ``--sta`` the spike-time STA at sub-frame
resolution, ``--penalty l1`` the L1 fits over a path of penalties, ``--history-bin-ms`` the
spike-history GLM at sub-frame bins, ``--smooth`` the evidence fit (each an analysis of
:mod:`sklearn_lnp.analysis`, callable from Python; the steps are in ``sklearn_lnp._steps``).

Results go to stdout, progress to stderr (``--quiet`` silences it), each
warning once as one line on stderr.  A user error is one line on stderr that
names the option or file to fix, exit status 2, nothing written: every option
is checked before any work; a bug still shows its traceback.  A run is
written at once to a new folder, ``--out``/<recording name> (``demo``), or
replaces with ``--overwrite`` an earlier run of the same recording there,
never anything else (``sklearn_lnp._output``).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from . import _reports, _steps
from ._command import (
    FIT_HELP,
    FIT_OPTIONS,
    Parser,
    Progress,
    UsageError,
    check_against_recording,
    check_fit_args,
    document_subcommands,
    is_user_error,
    number,
    read_recording,
    show_warning_once,
    terminate_as_interrupt,
)
from ._output import SUMMARY, RunFolder
from .analysis import fit_lags_separately, fit_simulated_neuron

DEFAULT_OUT = Path("sklearn_lnp_output")
__all__ = ["UsageError", "build_parser", "main", "run_demo", "run_fit"]

_progress = Progress(quiet=True)


def _log(message: str) -> None:  # a result line, on stdout
    print(message, flush=True)


def _finish(run: RunFolder, summary: dict) -> None:
    """Write ``summary.json``, move the run to its folder, and say where it went (stdout)."""
    (run.path / SUMMARY).write_text(json.dumps(summary, indent=2))
    out = run.commit()
    _log(f"Wrote {', '.join(summary['figures'])} and {SUMMARY} to {out}/")


def run_demo(args) -> dict:
    """Simulate, fit and draw the textbook neuron; write ``out/demo/``; return the summary.

    ``args`` holds ``n_frames``, ``seed``, ``out``, ``overwrite``, ``verbose``.  The summary
    has ``rf_correlation``, ``fit_seconds``, ``n_iter``, ``solver``, ``figures``.
    """
    run = RunFolder(Path(args.out) / "demo", overwrite=args.overwrite)
    run.check()
    _progress(f"Simulating the textbook LNP neuron ({args.n_frames} frames, seed {args.seed}) "
              "and fitting it ...")  # fmt: skip
    demo = fit_simulated_neuron(args.n_frames, random_state=args.seed, verbose=args.verbose)
    summary, figures, message = _reports.demo_report(demo, args.n_frames, args.seed)
    _log(message)
    _progress("Drawing the figures ...")
    with run:
        summary["figures"] = _reports.save_figures(figures, run.path)
        _finish(run, summary)
    return summary


def run_fit(args) -> dict:
    """Fit a real recording; write each analysis's figures and ``summary.json``.

    Always the lag-0 fit at ``--alpha``; with ``--lags`` other than 0 the
    joint space-time fit and its SVD, with ``--sta`` the spike-time STA, with
    ``--penalty l1`` the L1 grid, with
    ``--history-bin-ms`` the history GLM, with ``--smooth`` the evidence fit.  Outputs go
    to ``out/<recording name>/``, written at once at the end (see
    ``sklearn_lnp._output``).  Returns the JSON summary: the binning, the
    lag-0 fit (``"lag0"``), the ``"lags"``, ``"sta"``, ``"l1"``, ``"history"`` and
    ``"smooth"`` blocks when requested, the method table (``"methods"``) when
    ``--lags`` or ``--penalty l1`` fitted methods to compare, and the ``figures`` written.

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
    check_fit_args(args)
    path = Path(args.path)
    run = RunFolder(Path(args.out) / path.stem, overwrite=args.overwrite, recording=path)
    run.check()
    _progress(f"Reading {path} ...")
    recording = read_recording(args)
    check_against_recording(args, recording)
    _progress(f"Fitting PoissonLNPRegressor(alpha={args.alpha}) at lag 0 ...")
    options = _steps.fit_options(args, _progress)
    lag0 = fit_lags_separately(recording, (0,), alpha=args.alpha, **options)
    summary, figures, message = _reports.lag0_report(path, lag0, args.frame_offset, args.alpha)
    summary["recording"] = str(path.resolve())
    _log(message)
    results = {}  # the joint and L1 fits, for the method table
    with run:
        summary["figures"] = _reports.save_figures(figures, run.path)
        for key, wanted, step in _steps.STEPS:
            if wanted(args):
                block, figures, message = step(args, recording, results, _progress)
                _log(message)
                block["figures"] = _reports.save_figures(figures, run.path)
                summary[key] = block
                summary["figures"] += block["figures"]
        if results:  # the same blocked folds for every method
            summary["methods"], message = _steps.method_table(args, recording, results, _progress)
            _log(message)
        _finish(run, summary)
    return summary


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
    parser = Parser(
        prog="sklearn-lnp",
        description=(
            "Estimate neurons' receptive fields with linear-nonlinear-Poisson models. "
            "Without a command, runs the built-in simulated example."
        ),
    )
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    demo = sub.add_parser("demo", help="simulate the textbook LNP neuron, fit it, draw figures")
    demo.add_argument("--n-frames", type=number(int, 10), default=5000,
                      help="frames to simulate (5000)")  # fmt: skip
    demo.add_argument("--seed", type=number(int, 0), default=0, help="random seed (0)")
    fit = sub.add_parser("fit", help="fit a recording (.mat or .npz: movie, spikes, triggers)")
    for name, settings in FIT_OPTIONS.items():
        fit.add_argument(name, help=FIT_HELP[name], **settings)
    for sub_parser in (demo, fit):
        help_out = f"results go to OUT/<recording name>/, a new folder ({DEFAULT_OUT})"
        sub_parser.add_argument("--out", default=str(DEFAULT_OUT), help=help_out)
        help_overwrite = "replace OUT/<name>/ if it holds an earlier run of the same recording"
        sub_parser.add_argument("--overwrite", action="store_true", help=help_overwrite)
        sub_parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
        sub_parser.add_argument("-v", "--verbose", action="count", default=0, help="solver log")
    document_subcommands(parser, sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``sklearn-lnp`` command.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` by default); none, or options alone, run ``demo``.

    Returns
    -------
    int
        Exit status: 0; 2 after a user error (one line on stderr, nothing
        written); 130 after Ctrl-C (nothing written).  A bug raises.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_lnp.cli import main
    >>> folder = tempfile.TemporaryDirectory()
    >>> main(["--n-frames", "2000", "--out", folder.name, "--quiet"])  # doctest: +ELLIPSIS
    Fitted PoissonLNPRegressor in ... s (...); correlation of true and fitted RF: 0.9...
    Wrote rf_true_vs_fitted.png, response.png and summary.json to .../demo/
    0
    >>> folder.cleanup()
    """
    global _progress
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["demo", *argv]  # options without a command are the demo's
    args = parser.parse_args(argv)
    _progress = Progress(quiet=args.quiet)
    try:
        with warnings.catch_warnings(), terminate_as_interrupt():
            warnings.simplefilter("always")
            warnings.showwarning = show_warning_once(set())
            if args.command == "fit":
                run_fit(args)
            else:
                run_demo(args)
    except KeyboardInterrupt:
        print(f"sklearn-lnp {args.command}: interrupted; nothing written", file=sys.stderr)
        return 130
    except Exception as error:
        if not is_user_error(error):
            raise  # a bug: its traceback
        text = " ".join(str(error).split())
        print(f"sklearn-lnp {args.command}: error: {text}", file=sys.stderr, flush=True)
        return 2
    finally:
        _progress = Progress(quiet=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
