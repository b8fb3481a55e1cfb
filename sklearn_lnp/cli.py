"""The ``sklearn-lnp`` command.

``sklearn-lnp`` (or ``sklearn-lnp demo``) simulates the textbook LNP neuron,
fits it and writes figures; ``sklearn-lnp fit PATH.mat`` fits a real
recording and writes the RF figure and a JSON summary; ``--lags`` adds the
joint space-time fit, ``--sta`` the spike-time STA at sub-frame resolution,
``--penalty l1`` the L1 fits over a path of penalties.  The analyses are the
functions of :mod:`sklearn_lnp.analysis`; their JSON blocks and figures come
from :mod:`sklearn_lnp._reports`.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
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
from .datasets import load_recording

DEFAULT_OUT = Path("sklearn_lnp_output")


def _log(message: str) -> None:
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
    out.mkdir(parents=True, exist_ok=True)
    _log(f"Simulating the textbook LNP neuron: {args.n_frames} frames, seed {args.seed}.")
    demo = fit_simulated_neuron(args.n_frames, random_state=args.seed, verbose=args.verbose)
    summary, figures, message = _reports.demo_report(demo, args.n_frames, args.seed)
    _log(message)
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
    path = Path(args.path)
    out = Path(args.out) / path.stem
    out.mkdir(parents=True, exist_ok=True)
    _log(f"Loading {path}\nFitting PoissonLNPRegressor(alpha={args.alpha}) at lag 0 ...")
    recording = load_recording(path)
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


def _fit_options(args) -> dict:
    return {"frame_offset": args.frame_offset, "verbose": args.verbose}


def _run_lags(args, recording) -> _reports.Report:
    """The joint fit of ``--lags``: alpha ``--lags-alpha`` or by CV over ``--alpha-grid``."""
    alpha = args.alpha_grid if args.lags_alpha is None else args.lags_alpha
    _log(f"Joint fit of lags {list(args.lags)}, {args.drift} drift regressors, alpha {alpha} ...")
    joint = fit_lags_jointly(
        recording, args.lags, alpha=alpha, n_drift=args.drift, **_fit_options(args)
    )
    return _reports.lags_report(joint)


def _run_sta(args, recording) -> _reports.Report:
    """The spike-time STA at ``--sta-resolution`` steps up to ``--sta-window`` and its SVD."""
    _log(f"Spike-time STA: delays 0-{args.sta_window} s in {args.sta_resolution} s steps ...")
    sta = spike_time_sta(recording, window=args.sta_window, resolution=args.sta_resolution)
    return _reports.sta_report(sta, recording.frame_shape)


def _run_l1(args, recording) -> _reports.Report:
    """L1 fits of ``--lags`` over ``--l1-alphas`` (or the default path), alpha by blocked CV."""
    alphas = 20 if args.l1_alphas is None else list(args.l1_alphas)
    _log(f"L1: LassoLNPCV of lags {list(args.lags)} over alphas {alphas}, 5 blocked folds ...")
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


# Help of every option of ``fit`` (defaults in parentheses).
FIT_HELP = {
    "path": "the .mat recording, e.g. ../shared/data/nds_cl_5_data.mat",
    "--alpha": "L2 penalty of the lag-0 fit, sklearn scaling (0)",
    "--frame-offset": "bin k pairs with frame k + offset (0: what the lab's data show)",
    "--lags": "lags (frames) of the joint space-time fit, e.g. 0,1,2,3,4 (default) or 0-4; "
    "0 alone skips it",
    "--lags-alpha": "L2 penalty of the joint fit (default: chosen by blocked CV over --alpha-grid)",
    "--alpha-grid": "alphas tried by the CV of the joint fit (1,10,100)",
    "--drift": "slow-drift regressors (Legendre polynomials of time) in the joint fit (6; 0: none)",
    "--sta": "also compute the spike-time STA at sub-frame resolution and its SVD",
    "--sta-window": "STA delays from 0 to this, in s (1.0)",
    "--sta-resolution": "STA delay step in s (0.025)",
    "--penalty": "l1: also fit the L1 (lasso) model of the --lags over a path of alphas, choose "
    "alpha by blocked CV, and draw the lags x alphas grid and the CV curve",
    "--l1-alphas": "L1 penalties of --penalty l1, e.g. 0.01,0.03,0.1 (default: 20 log-spaced "
    "from alpha_max, the smallest penalty with an all-zero RF)",
}


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
    >>> args.command, args.lags, args.sta, args.drift, args.alpha_grid
    ('fit', (0, 1, 2, 3, 4), True, 6, (1.0, 10.0, 100.0))
    """
    parser = argparse.ArgumentParser(
        prog="sklearn-lnp",
        description=(
            "Estimate neurons' receptive fields with linear-nonlinear-Poisson models. "
            "Without a command, runs the built-in simulated example."
        ),
    )
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="simulate the textbook LNP neuron, fit it, draw figures")
    demo.add_argument("--n-frames", type=int, default=2000, help="frames to simulate (2000)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (0)")
    fit = sub.add_parser("fit", help="fit a real recording (.mat with spikes, triggers, movie)")
    options = {
        "path": {},
        "--alpha": {"type": float, "default": 0.0},
        "--frame-offset": {"type": int, "default": 0},
        "--lags": {"type": _lag_list, "default": (0, 1, 2, 3, 4)},
        "--lags-alpha": {"type": float, "default": None},
        "--alpha-grid": {"type": _float_list, "default": (1.0, 10.0, 100.0)},
        "--drift": {"type": int, "default": 6},
        "--sta": {"action": "store_true"},
        "--sta-window": {"type": float, "default": 1.0},
        "--sta-resolution": {"type": float, "default": 0.025},
        "--penalty": {"choices": ("l2", "l1"), "default": "l2"},
        "--l1-alphas": {"type": _float_list, "default": None},
    }
    for name, settings in options.items():
        fit.add_argument(name, help=FIT_HELP[name], **settings)
    for sub_parser in (demo, fit):
        sub_parser.add_argument(
            "--out", default=str(DEFAULT_OUT), help=f"output folder ({DEFAULT_OUT})"
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
        Exit status (0).

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_lnp.cli import main
    >>> folder = tempfile.TemporaryDirectory()
    >>> main(["--n-frames", "500", "--out", folder.name])  # doctest: +ELLIPSIS
    Simulating the textbook LNP neuron: 500 frames, seed 0.
    Fitted PoissonLNPRegressor in ... s (...); correlation of true and fitted RF: 0.9...
    Wrote figures and summary.json to .../demo/
    0
    >>> folder.cleanup()
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["demo", *argv]  # options without a command are the demo's
    args = parser.parse_args(argv)
    if args.command == "fit":
        run_fit(args)
    else:
        run_demo(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
