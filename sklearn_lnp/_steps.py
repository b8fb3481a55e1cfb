"""The optional analyses of ``sklearn-lnp fit``, one function per option.

Each step takes the parsed options, the recording, the fits kept for the
method table (``results``, filled by the steps whose fits it compares) and a
``progress`` callable (one line per long step or cross-validation fold), runs
one analysis of :mod:`sklearn_lnp.analysis` and returns its report
``(summary block, figures, message)`` from ``sklearn_lnp._reports``.
:data:`STEPS` lists them in the order the command runs them, with the test
of the options that asks for each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _reports
from .analysis import (
    compare_methods,
    fit_history_glm,
    fit_l1_lags,
    fit_lags_jointly,
    fit_smooth_lags,
    spike_time_sta,
)


def fit_options(args, progress: Callable[[str], None] | None = None) -> dict:
    """The options of a recording analysis: offset, verbosity and, if it takes one, progress."""
    options = {"frame_offset": args.frame_offset, "verbose": args.verbose}
    if progress is not None:  # the cross-validated analyses print a line per fold
        options["progress"] = progress
    return options


def run_lags(args, recording, results: dict, progress) -> _reports.Report:
    """The joint fit of ``--lags``: alpha ``--lags-alpha`` or by CV over ``--alpha-grid``."""
    alpha = args.alpha_grid if args.lags_alpha is None else args.lags_alpha
    what = f"alpha {alpha}"
    if np.ndim(alpha) > 0:
        n_fits = 5 * len(alpha) + 1
        what = f"alpha by 5-fold blocked CV over {list(alpha)} ({n_fits} fits, 20-60 s on 2 cores)"
    progress(f"Joint fit of lags {list(args.lags)} with {args.drift} drift regressors, {what} ...")
    results["joint"] = joint = fit_lags_jointly(
        recording,
        args.lags,
        alpha=alpha,
        n_drift=args.drift,
        center=args.center,
        **fit_options(args, progress),
    )
    return _reports.lags_report(joint)


def run_sta(args, recording, results: dict, progress) -> _reports.Report:
    """The spike-time STA at ``--sta-resolution`` steps up to ``--sta-window`` and its SVD."""
    progress(f"Spike-time STA: delays 0-{args.sta_window} s in {args.sta_resolution} s steps ...")
    sta = spike_time_sta(
        recording, window=args.sta_window, resolution=args.sta_resolution, center=args.center
    )
    return _reports.sta_report(sta, recording.frame_shape)


def run_l1(args, recording, results: dict, progress) -> _reports.Report:
    """L1 fits of ``--lags`` over ``--l1-alphas`` (or the default path), alpha by blocked CV."""
    alphas = 20 if args.l1_alphas is None else list(args.l1_alphas)
    n_alphas = alphas if isinstance(alphas, int) else len(alphas)
    progress(
        f"L1 fits of lags {list(args.lags)}: LassoLNPCV over {n_alphas} alphas, 5 "
        "blocked folds, then the path on all bins (about 15-60 s) ..."
    )
    results["l1"] = l1 = fit_l1_lags(
        recording, args.lags, alphas=alphas, **fit_options(args, progress)
    )
    return _reports.l1_report(l1, thin_grid=args.l1_alphas is None)


def run_history(args, recording, results: dict, progress) -> _reports.Report:
    """The spike-history GLM at ``--history-bin-ms`` bins, scored on interior blocks."""
    progress(f"Spike-history GLM at {args.history_bin_ms:g} ms bins, 8 held-out blocks ...")
    history = fit_history_glm(recording, bin_width=args.history_bin_ms / 1e3, **fit_options(args))
    return _reports.history_report(history)


def run_smooth(args, recording, results: dict, progress) -> _reports.Report:
    """``SmoothLNPRegressor`` of ``--lags`` against CV-alpha ridge on 5 blocked folds."""
    progress(f"SmoothLNPRegressor of lags {list(args.lags)} vs ridge, 5 folds + all (1-3 min) ...")
    smooth = fit_smooth_lags(recording, args.lags, **fit_options(args))
    return _reports.smooth_report(smooth)


#: (summary key, does ``args`` ask for it, the step), in the order they run.
STEPS = (
    ("lags", lambda args: list(args.lags) != [0], run_lags),
    ("sta", lambda args: args.sta, run_sta),
    ("l1", lambda args: args.penalty == "l1", run_l1),
    ("history", lambda args: args.history_bin_ms is not None, run_history),
    ("smooth", lambda args: args.smooth, run_smooth),
)


def method_table(args, recording, results: dict, progress) -> tuple[dict, str]:
    """Held-out gains of every fitted method on the same blocked folds, paired by fold."""
    progress("Method table: held-out gains of every method, paired by fold ...")
    methods = compare_methods(
        recording,
        args.lags,
        alpha=args.alpha,
        progress=progress,
        frame_offset=args.frame_offset,
        **results,
    )
    return _reports.methods_report(methods)
