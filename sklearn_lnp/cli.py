"""The ``sklearn-lnp`` command.

``sklearn-lnp`` (or ``sklearn-lnp demo``) simulates the textbook LNP neuron, fits it and writes
figures; ``sklearn-lnp fit PATH`` (.mat or .npz) fits a recording, writes its RF figure and a JSON
summary; ``--lags`` adds the joint space-time fit, ``--sta`` the sub-frame spike-time STA,
``--penalty l1`` the L1 path, ``--smooth`` the evidence fit (each in :mod:`sklearn_lnp.analysis`).

Results go to stdout, progress to stderr (``--quiet`` silences it), each warning once as one
line on stderr.  A user error is one line on stderr naming the option or file to fix, exit status
2, nothing written (every option is checked before any work); a bug shows its traceback.  A run
goes at once to a new folder, ``--out``/<recording name> (``demo``), or replaces with
``--overwrite`` an earlier run of the same recording there, never anything else.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from . import _reports
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
from .analysis import (
    fit_l1_lags,
    fit_lags_jointly,
    fit_lags_separately,
    fit_simulated_neuron,
    fit_smooth_lags,
    spike_time_sta,
)

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

    Always the lag-0 fit at ``--alpha``; with ``--lags`` other than 0 the joint space-time fit
    and its SVD, with ``--sta`` the spike-time STA, with ``--penalty l1`` the L1 grid, with
    ``--smooth`` the evidence fit (:mod:`sklearn_lnp.analysis`).  Outputs go to
    ``out/<recording name>/``, written at once at the end (see ``sklearn_lnp._output``).
    Returns the JSON summary: the binning, the lag-0 fit (``"lag0"``), the ``"lags"``,
    ``"sta"``, ``"l1"`` and ``"smooth"`` blocks when requested and the ``figures`` written.

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
    lag0 = fit_lags_separately(recording, (0,), alpha=args.alpha, **_fit_options(args))
    summary, figures, message = _reports.lag0_report(path, lag0, args.frame_offset, args.alpha)
    summary["recording"] = str(path.resolve())
    _log(message)
    runs = {"lags": (list(args.lags) != [0], _run_lags), "sta": (args.sta, _run_sta),
            "l1": (args.penalty == "l1", _run_l1), "smooth": (args.smooth, _run_smooth)}
    with run:
        summary["figures"] = _reports.save_figures(figures, run.path)
        for key, run_analysis in [(key, run) for key, (wanted, run) in runs.items() if wanted]:
            block, figures, message = run_analysis(args, recording)
            _log(message)
            block["figures"] = _reports.save_figures(figures, run.path)
            summary[key] = block
            summary["figures"] += block["figures"]
        _finish(run, summary)
    return summary


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


def _run_smooth(args, recording) -> _reports.Report:
    _progress(f"SmoothLNPRegressor of lags {list(args.lags)} vs ridge, 5 folds + all (1-3 min) ...")
    return _reports.smooth_report(fit_smooth_lags(recording, args.lags, **_fit_options(args)))


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
    demo.add_argument(
        "--n-frames", type=number(int, 10), default=5000, help="frames to simulate (5000)"
    )
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
