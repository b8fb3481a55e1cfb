"""The ``sklearn-lnp`` command.

``sklearn-lnp`` (or ``sklearn-lnp demo``) simulates the textbook LNP neuron,
fits it and writes figures; ``sklearn-lnp fit PATH.mat`` fits a real
recording and writes the RF figure and a JSON summary; ``--sta`` adds the
spike-time STA at sub-frame resolution and its SVD (two figures).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path("sklearn_lnp_output")


def _log(message: str) -> None:
    print(message, flush=True)


def _figure_module():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def run_demo(args) -> dict:
    """Simulate, fit and draw the textbook neuron; return the summary.

    Parameters
    ----------
    args : argparse.Namespace
        From ``build_parser().parse_args(["demo", ...])``: ``n_frames``,
        ``seed``, ``out`` (the figures and ``summary.json`` go to
        ``out/demo/``) and ``verbose``.

    Returns
    -------
    dict
        The JSON summary: ``rf_correlation`` (true vs fitted RF),
        ``fit_seconds``, ``n_iter``, ``solver`` and the ``figures`` written.

    Examples
    --------
    >>> import contextlib, io, tempfile
    >>> from sklearn_lnp.cli import build_parser, run_demo
    >>> folder = tempfile.TemporaryDirectory()
    >>> args = build_parser().parse_args(["demo", "--n-frames", "500", "--out", folder.name])
    >>> with contextlib.redirect_stdout(io.StringIO()):
    ...     summary = run_demo(args)
    >>> summary["figures"], bool(summary["rf_correlation"] > 0.9)
    (['rf_true_vs_fitted.png', 'response.png'], True)
    >>> folder.cleanup()
    """
    from . import PoissonLNPRegressor
    from .datasets import make_lnp_neuron
    from .plotting import plot_count_vs_rate, plot_counts_over_time, plot_rf

    out = Path(args.out) / "demo"
    out.mkdir(parents=True, exist_ok=True)
    _log(f"Simulating the textbook LNP neuron: {args.n_frames} frames, seed {args.seed}.")
    neuron = make_lnp_neuron(args.n_frames, random_state=args.seed)
    start = time.perf_counter()
    model = PoissonLNPRegressor(fit_intercept=False, verbose=args.verbose).fit(
        neuron.stimulus, neuron.counts, exposure=neuron.exposure
    )
    elapsed = time.perf_counter() - start
    recovery = float(np.corrcoef(model.coef_, neuron.rf.ravel())[0, 1])
    _log(
        f"Fitted PoissonLNPRegressor in {elapsed:.3f} s ({model.n_iter_} iterations, "
        f"solver {model.solver_}); correlation of true and fitted RF: {recovery:.3f}"
    )
    plt = _figure_module()
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    plot_rf(
        neuron.stimulus[0],
        neuron.frame_shape,
        ax=axes[0],
        title="stimulus frame 0",
        label="contrast",
    )
    plot_rf(neuron.rf, ax=axes[1], title="true RF")
    plot_rf(model.coef_, neuron.frame_shape, ax=axes[2], title=f"fitted RF (r = {recovery:.2f})")
    fig.tight_layout()
    fig.savefig(out / "rf_true_vs_fitted.png", dpi=110)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2), gridspec_kw={"width_ratios": [3, 1]})
    times = np.arange(neuron.counts.size) * neuron.dt
    plot_counts_over_time(neuron.counts, neuron.rate, times=times, ax=axes[0])
    plot_count_vs_rate(neuron.counts, neuron.rate, ax=axes[1])
    fig.tight_layout()
    fig.savefig(out / "response.png", dpi=110)
    plt.close("all")
    summary = {
        "example": "simulated textbook LNP neuron",
        "n_frames": args.n_frames,
        "seed": args.seed,
        "rf_correlation": recovery,
        "fit_seconds": elapsed,
        "n_iter": int(model.n_iter_),
        "solver": model.solver_,
        "figures": ["rf_true_vs_fitted.png", "response.png"],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    _log(f"Wrote figures and summary.json to {out}/")
    return summary


def run_fit(args) -> dict:
    """Fit a real recording at lag 0; write the RF figure and the JSON summary.

    With ``--lags`` other than 0 it adds the joint space-time fit
    (:func:`run_lags`), with ``--sta`` the spike-time STA (:func:`run_sta`).

    Parameters
    ----------
    args : argparse.Namespace
        From ``build_parser().parse_args(["fit", PATH, ...])``.  Outputs go to
        ``out/<recording name>/``.

    Returns
    -------
    dict
        The JSON summary: the binning (bins, spikes, what was left out), the
        lag-0 fit (``"lag0"``: RF peak row and column, weights, fit time in
        s), the ``"lags"`` and ``"sta"`` blocks when requested, and the
        ``figures`` written.

    Examples
    --------
    A toy recording in the lab's format whose cell fires more when pixel
    (row 1, col 2) of a 3 x 4 frame is on:

    >>> import contextlib, io, tempfile
    >>> import numpy as np
    >>> from scipy.io import savemat
    >>> from sklearn_lnp.cli import build_parser, run_fit
    >>> rng = np.random.default_rng(0)
    >>> movie = rng.integers(0, 2, size=(3, 4, 600)).astype(np.uint8)   # rows x cols x frames
    >>> triggers = np.concatenate([[0.0], np.cumsum(rng.uniform(0.18, 0.25, size=600))])
    >>> counts = rng.poisson(np.where(movie[1, 2] == 1, 3.0, 1.0))
    >>> spikes = np.sort(np.concatenate(
    ...     [rng.uniform(triggers[k], triggers[k + 1], n) for k, n in enumerate(counts)]))
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = f"{folder.name}/toy.mat"
    >>> savemat(path, {"DN_stim": movie, "DN_spiketimes": spikes[:, None],
    ...                "DN_triggertimes": triggers[:, None]})
    >>> args = build_parser().parse_args(["fit", path, "--lags", "0", "--out", folder.name])
    >>> with contextlib.redirect_stdout(io.StringIO()):
    ...     summary = run_fit(args)
    >>> summary["n_bins"], summary["lag0"]["peak_row"], summary["lag0"]["peak_col"]
    (600, 1, 2)
    >>> summary["figures"]
    ['rf_lag0.png']
    >>> folder.cleanup()
    """
    from . import PoissonLNPRegressor
    from .datasets import load_recording, recording_design
    from .plotting import plot_rf

    path = Path(args.path)
    out = Path(args.out) / path.stem
    out.mkdir(parents=True, exist_ok=True)
    _log(f"Loading {path}")
    recording = load_recording(path)
    design = recording_design(recording, frame_offset=args.frame_offset)
    n_bins = design.X.shape[0]
    _log(
        f"{n_bins} bins (frame durations {design.exposure.min():.4f}-"
        f"{design.exposure.max():.4f} s), {int(design.counts.sum())} spikes; "
        f"{design.n_spikes_before + design.n_spikes_after} spikes outside the triggers, "
        f"{design.n_unused_frames} frames without a trigger interval."
    )
    _log(f"Fitting PoissonLNPRegressor(alpha={args.alpha}) at lag 0 ...")
    start = time.perf_counter()
    model = PoissonLNPRegressor(alpha=args.alpha, verbose=args.verbose).fit(
        design.X, design.counts, exposure=design.exposure
    )
    elapsed = time.perf_counter() - start
    rf = model.coef_.reshape(design.frame_shape)
    peak = np.unravel_index(int(np.argmax(np.abs(rf))), rf.shape)
    _log(
        f"Done in {elapsed:.3f} s ({model.n_iter_} iterations, {model.solver_}); "
        f"RF peak at row {peak[0]}, col {peak[1]} ({'ON' if rf[peak] > 0 else 'OFF'})."
    )
    plt = _figure_module()
    fig, ax = plt.subplots(figsize=(3.6, 4.0))
    plot_rf(rf, ax=ax, title=f"{path.stem}: RF at lag 0")
    fig.tight_layout()
    fig.savefig(out / "rf_lag0.png", dpi=110)
    plt.close(fig)
    summary = {
        "path": str(path),
        "frame_shape": list(design.frame_shape),
        "frame_offset": args.frame_offset,
        "n_bins": n_bins,
        "n_spikes": int(design.counts.sum()),
        "n_spikes_outside_triggers": design.n_spikes_before + design.n_spikes_after,
        "n_unused_frames": design.n_unused_frames,
        "alpha": args.alpha,
        "lag0": {
            "peak_row": int(peak[0]),
            "peak_col": int(peak[1]),
            "peak_weight": float(rf[peak]),
            "intercept": float(model.intercept_),
            "objective": float(model.objective_),
            "n_iter": int(model.n_iter_),
            "solver": model.solver_,
            "fit_seconds": elapsed,
            "coef": model.coef_.tolist(),
        },
        "figures": ["rf_lag0.png"],
    }
    lags = getattr(args, "lags", None)
    if lags is not None and list(lags) != [0]:
        summary["lags"] = run_lags(args, recording, design, out)
        summary["figures"] += summary["lags"]["figures"]
    if getattr(args, "sta", False):
        summary["sta"] = run_sta(args, recording, out)
        summary["figures"] += summary["sta"]["figures"]
    if getattr(args, "penalty", "l2") == "l1":
        summary["l1"] = run_l1(args, design, out)
        summary["figures"] += summary["l1"]["figures"]
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    _log(f"Wrote {', '.join(summary['figures'])} and summary.json to {out}/")
    return summary


def _cv_alpha_path(X, y, exposure, alphas, gap: int) -> dict:
    """Mean held-out bits per spike of each alpha over 5 contiguous blocks.

    The same folds and scorer as ``GridSearchCV(..., cv=BlockedTimeSeriesSplit(5,
    gap=gap), scoring=get_scorer("bits_per_spike"))``, but each fold's fits run
    from the largest alpha down, warm-started from the previous solution.
    """
    from . import BlockedTimeSeriesSplit, PoissonLNPRegressor
    from .metrics import get_scorer

    scorer = get_scorer("bits_per_spike")
    scores = {str(alpha): [] for alpha in alphas}
    for train, test in BlockedTimeSeriesSplit(5, gap=gap).split(X):
        model = PoissonLNPRegressor(solver="lbfgs", warm_start=True)
        for alpha in sorted(alphas, reverse=True):
            model.set_params(alpha=alpha).fit(X[train], y[train], exposure=exposure[train])
            scores[str(alpha)].append(scorer(model, X[test], y[test], exposure=exposure[test]))
    return {alpha: float(np.mean(values)) for alpha, values in scores.items()}


def _peak(image: np.ndarray) -> tuple[int, int]:
    row, col = np.unravel_index(int(np.argmax(np.abs(image))), image.shape)
    return int(row), int(col)


def run_lags(args, recording, design, out: Path) -> dict:
    """Joint space-time fit over ``args.lags`` with the slow drift modelled; SVD; figures.

    The whole movie is lagged once (every bin gets its true stimulus history),
    ``--drift`` Legendre polynomials of time absorb the firing-rate drift, and
    ``alpha`` is chosen by cross-validation over ``--alpha-grid`` on 5
    contiguous blocks with a gap of the largest lag (held-out bits per spike;
    see :func:`_cv_alpha_path`), unless ``--lags-alpha`` fixes it.  The RF is
    then split into a spatial map and a temporal kernel by SVD (centred over
    lags; see :mod:`sklearn_lnp.decomposition`).  Returns the ``"lags"`` part of the
    JSON summary.

    Parameters
    ----------
    args : argparse.Namespace
        The ``fit`` options: ``lags``, ``lags_alpha``, ``alpha_grid``, ``drift``.
    recording : Bunch
        As returned by :func:`~sklearn_lnp.datasets.load_recording`.
    design : Bunch
        Its :func:`~sklearn_lnp.datasets.recording_design` (bins and exposures).
    out : Path
        Folder of ``rf_lags.png`` and ``rf_svd.png``.

    Returns
    -------
    dict
        ``alpha``, its CV scores, the peak of every lag's map (row, col,
        weight in log rate per unit), the SVD (``"svd"``), ``fit_seconds``,
        the lag-major ``coef`` and the ``figures`` written.

    Examples
    --------
    >>> import contextlib, io, tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from sklearn_lnp.cli import build_parser, run_lags
    >>> from sklearn_lnp.datasets import recording_design
    >>> rng = np.random.default_rng(0)
    >>> stimulus = rng.choice([-1.0, 1.0], size=(600, 12))     # 600 frames of 3 x 4 pixels
    >>> triggers = np.concatenate([[0.0], np.cumsum(rng.uniform(0.18, 0.25, size=600))])
    >>> counts = rng.poisson(np.exp(0.8 * stimulus[:, 6]))     # pixel (1, 2) at lag 0
    >>> spikes = np.sort(np.concatenate(
    ...     [rng.uniform(triggers[k], triggers[k + 1], n) for k, n in enumerate(counts)]))
    >>> recording = Bunch(stimulus=stimulus, frame_shape=(3, 4), spike_times=spikes,
    ...                   trigger_times=triggers)
    >>> folder = tempfile.TemporaryDirectory()
    >>> args = build_parser().parse_args(
    ...     ["fit", "toy.mat", "--lags", "0-2", "--lags-alpha", "1", "--out", folder.name])
    >>> with contextlib.redirect_stdout(io.StringIO()):
    ...     result = run_lags(args, recording, recording_design(recording), Path(folder.name))
    >>> result["peaks"][0]["row"], result["peaks"][0]["col"], result["figures"]
    (1, 2, ['rf_lags.png', 'rf_svd.png'])
    >>> folder.cleanup()
    """
    from . import LagTransformer, PoissonLNPRegressor, SlowDriftFeatures
    from .decomposition import separate_space_time, space_time_matrix
    from .plotting import plot_rf_lags, plot_space_time_separation

    lags = [int(lag) for lag in args.lags]
    n_pixels = recording.stimulus.shape[1]
    frame_shape = design.frame_shape
    lagged = LagTransformer(lags=lags).fit_transform(recording.stimulus)[design.frame_index]
    exposure, counts = design.exposure, design.counts
    columns = [lagged]
    if args.drift:
        times = (np.cumsum(exposure) - exposure / 2).reshape(-1, 1)
        columns.append(SlowDriftFeatures(n_basis=args.drift).fit_transform(times))
    X = np.hstack(columns)
    start = time.perf_counter()
    cv_scores = {}
    if args.lags_alpha is None:
        grid = sorted(float(a) for a in args.alpha_grid)
        _log(
            f"Joint fit of lags {lags} ({X.shape[1]} columns, {args.drift} drift regressors): "
            f"alpha by 5-fold blocked CV over {grid} ..."
        )
        cv_scores = _cv_alpha_path(X, counts, exposure, grid, max(lags))
        alpha = max(grid, key=lambda a: cv_scores[str(a)])
        model = PoissonLNPRegressor(alpha=alpha, solver="lbfgs")
        model.fit(X, counts, exposure=exposure)
    else:
        alpha = float(args.lags_alpha)
        _log(f"Joint fit of lags {lags} ({X.shape[1]} columns) at alpha={alpha} ...")
        model = PoissonLNPRegressor(alpha=alpha, solver="lbfgs").fit(X, counts, exposure=exposure)
    elapsed = time.perf_counter() - start
    rf = model.coef_[: len(lags) * n_pixels]
    maps = rf.reshape(len(lags), *frame_shape)
    peaks = []
    for lag, image in zip(lags, maps, strict=True):
        row, col = _peak(image)
        peaks.append({"lag": lag, "row": row, "col": col, "weight": float(image[row, col])})
    described = ", ".join(
        f"lag {p['lag']}: ({p['row']}, {p['col']}) {p['weight']:+.3f}" for p in peaks
    )
    cv_text = f"; CV bits/spike {cv_scores[str(alpha)]:+.4f}" if cv_scores else ""
    _log(f"Done in {elapsed:.1f} s, alpha={alpha}{cv_text}. Peaks {described}.")
    frame_duration = float(np.mean(exposure))
    plt = _figure_module()
    fig, _, _ = plot_rf_lags(
        rf,
        frame_shape,
        lags,
        frame_duration=frame_duration,
        title=f"Joint space-time RF (alpha={alpha:g}, drift modelled)",
    )
    fig.savefig(out / "rf_lags.png", dpi=110, bbox_inches="tight")
    figures = ["rf_lags.png"]
    result = {
        "lags": lags,
        "alpha": alpha,
        "alpha_grid": None if args.lags_alpha is not None else [float(a) for a in args.alpha_grid],
        "cv_bits_per_spike": cv_scores,
        "n_drift_regressors": int(args.drift),
        "frame_duration_s": frame_duration,
        "peaks": peaks,
        "intercept": float(model.intercept_),
        "fit_seconds": elapsed,
        "coef": rf.tolist(),
    }
    if len(lags) > 1:
        svd = separate_space_time(
            space_time_matrix(rf, len(lags)), center="over_lags", frame_shape=frame_shape
        )
        spatial, temporal = svd.spatial_maps[0], svd.temporal[0]
        row, col = _peak(spatial)
        _log(
            f"SVD (centred over lags): spatial peak row {row}, col {col}; temporal kernel "
            f"{np.round(temporal, 2).tolist()} ({100 * svd.explained_variance_ratio[0]:.0f} %)."
        )
        fig, _, _ = plot_space_time_separation(
            spatial,
            temporal,
            lags,
            frame_duration=frame_duration,
            explained=float(svd.explained_variance_ratio[0]),
            title="Rank-1 SVD of the joint RF (centred over lags)",
        )
        fig.tight_layout()
        fig.savefig(out / "rf_svd.png", dpi=110)
        figures.append("rf_svd.png")
        result["svd"] = {
            "center": "over_lags",
            "spatial_peak_row": row,
            "spatial_peak_col": col,
            "spatial": svd.spatial[0].tolist(),
            "temporal": temporal.tolist(),
            "singular_values": svd.singular_values.tolist(),
            "explained_variance_ratio": svd.explained_variance_ratio.tolist(),
        }
    plt.close("all")
    result["figures"] = figures
    return result


def run_sta(args, recording, out: Path) -> dict:
    """Spike-time STA at sub-frame resolution and its SVD; write two figures.

    Frame ``k`` is taken to be on screen from trigger ``k`` to trigger
    ``k + 1`` (what the lab's data show; ``--frame-offset`` does not apply).
    Returns the ``"sta"`` part of the JSON summary.

    Parameters
    ----------
    args : argparse.Namespace
        The ``fit`` options ``sta_window`` and ``sta_resolution`` (s).
    recording : Bunch
        As returned by :func:`~sklearn_lnp.datasets.load_recording`.
    out : Path
        Folder of ``sta_fine.png`` and ``sta_fine_svd.png``.

    Returns
    -------
    dict
        The delays (s), spikes per delay, the peak of the z-scored STA (row,
        col, delay in s, z), its opposite lobe, the SVD and the ``figures``.

    Examples
    --------
    >>> import contextlib, io, tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from sklearn_lnp.cli import build_parser, run_sta
    >>> rng = np.random.default_rng(0)
    >>> stimulus = rng.choice([-1.0, 1.0], size=(601, 12))     # 3 x 4 pixels
    >>> triggers = np.concatenate([[0.0], np.cumsum(rng.uniform(0.18, 0.25, size=600))])
    >>> counts = rng.poisson(np.exp(0.8 * stimulus[:600, 6]))  # pixel (1, 2), same frame
    >>> spikes = np.sort(np.concatenate(
    ...     [rng.uniform(triggers[k], triggers[k + 1], n) for k, n in enumerate(counts)]))
    >>> recording = Bunch(stimulus=stimulus, frame_shape=(3, 4), spike_times=spikes,
    ...                   trigger_times=triggers)
    >>> folder = tempfile.TemporaryDirectory()
    >>> args = build_parser().parse_args(["fit", "toy.mat", "--sta", "--sta-window", "0.5"])
    >>> with contextlib.redirect_stdout(io.StringIO()):
    ...     result = run_sta(args, recording, Path(folder.name))
    >>> result["peak"]["row"], result["peak"]["col"], len(result["taus_s"])
    (1, 2, 20)
    >>> folder.cleanup()
    """
    from .decomposition import separate_space_time
    from .plotting import plot_sta_kernel, plot_sta_over_tau
    from .spikes import spike_triggered_average

    _log(
        f"Spike-time STA: delays 0-{1000 * args.sta_window:.0f} ms in "
        f"{1000 * args.sta_resolution:g} ms steps ..."
    )
    start = time.perf_counter()
    result = spike_triggered_average(
        recording.spike_times,
        recording.trigger_times,
        recording.stimulus,
        window=args.sta_window,
        resolution=args.sta_resolution,
        warn=False,
    )
    elapsed = time.perf_counter() - start
    frame_shape = recording.frame_shape
    taus = result.taus
    pixel, column = np.unravel_index(int(np.argmax(np.abs(result.zscore))), result.zscore.shape)
    trace = result.zscore[pixel]
    opposite = int(np.argmin(np.sign(trace[column]) * trace))
    svd = separate_space_time(result.sta, center="over_lags", frame_shape=frame_shape)
    spatial, temporal = svd.spatial_maps[0], svd.temporal[0]
    spatial_peak = np.unravel_index(int(np.argmax(np.abs(spatial))), spatial.shape)
    kernel_peak = int(np.argmax(np.abs(temporal)))
    row, col = divmod(int(pixel), frame_shape[1])
    _log(
        f"Done in {elapsed:.3f} s ({result.n_spikes[0]} spikes at tau = 0). Peak |z| = "
        f"{abs(trace[column]):.1f} at row {row}, col {col}, tau = {1000 * taus[column]:.0f} ms; "
        f"opposite lobe z = {trace[opposite]:.1f} at {1000 * taus[opposite]:.0f} ms. SVD "
        f"(centred over taus): spatial peak row {spatial_peak[0]}, col {spatial_peak[1]}, "
        f"kernel peak at {1000 * taus[kernel_peak]:.0f} ms."
    )
    plt = _figure_module()
    fig, _, _ = plot_sta_over_tau(
        result.sta, taus, frame_shape, title="Spike-triggered average before the spike"
    )
    fig.savefig(out / "sta_fine.png", dpi=110, bbox_inches="tight")
    fig, _, _ = plot_sta_kernel(
        spatial, temporal, taus, title="Rank-1 SVD of the fine STA (centred over taus)"
    )
    fig.tight_layout()
    fig.savefig(out / "sta_fine_svd.png", dpi=110)
    plt.close("all")
    return {
        "window_s": [float(taus[0]), float(args.sta_window)],
        "resolution_s": float(args.sta_resolution),
        "taus_s": taus.tolist(),
        "n_spikes_per_tau": result.n_spikes.tolist(),
        "n_spikes_outside_triggers": result.n_spikes_before + result.n_spikes_after,
        "n_unused_frames": result.n_unused_frames,
        "seconds": elapsed,
        "peak": {
            "row": row,
            "col": col,
            "tau_s": float(taus[column]),
            "zscore": float(trace[column]),
        },
        "opposite_lobe": {"tau_s": float(taus[opposite]), "zscore": float(trace[opposite])},
        "svd": {
            "center": "over_lags",
            "spatial_peak_row": int(spatial_peak[0]),
            "spatial_peak_col": int(spatial_peak[1]),
            "temporal_peak_tau_s": float(taus[kernel_peak]),
            "temporal": temporal.tolist(),
            "explained_variance_ratio": svd.explained_variance_ratio[:3].tolist(),
        },
        "figures": ["sta_fine.png", "sta_fine_svd.png"],
    }


def run_l1(args, design, out: Path) -> dict:
    """L1 (lasso) fits of the joint space-time model over a path; CV; grid and CV figures.

    The design holds the frames at ``args.lags`` (:class:`LagTransformer`).
    :class:`LassoLNPCV` chooses alpha by held-out bits per spike over 5
    blocked folds (gap = the largest lag) on ``args.l1_alphas`` or the
    default 20-alpha path; the exact path on all bins then gives the lags x
    alphas grid (``l1_grid.png``: rows lags, columns alphas, one diverging
    colour scale centred at 0, the CV choice marked) and ``l1_cv.png`` (mean
    held-out bits per spike +- s.e.m. over folds, the chosen alpha marked).

    Parameters
    ----------
    args : argparse.Namespace
        ``lags``, ``l1_alphas`` (None: default path), ``verbose``.
    design : Bunch
        From :func:`~sklearn_lnp.datasets.recording_design`.
    out : Path
        Output folder.

    Returns
    -------
    dict
        The ``"l1"`` block of the JSON summary: lags, the alpha grid, ``alpha_max``,
        the chosen ``alpha`` (CV), per-alpha mean held-out bits per spike and
        non-zeros, the CV time in s, the refit (non-zeros, KKT violation, peak
        per lag), the grid's alphas and the figures.

    Examples
    --------
    >>> import contextlib, io, tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from sklearn_lnp.cli import build_parser, run_l1
    >>> from sklearn_lnp.datasets import recording_design
    >>> rng = np.random.default_rng(0)
    >>> stimulus = rng.choice([-1.0, 1.0], size=(600, 12))     # 600 frames of 3 x 4 pixels
    >>> triggers = np.concatenate([[0.0], np.cumsum(rng.uniform(0.18, 0.25, size=600))])
    >>> counts = rng.poisson(np.exp(0.8 * stimulus[:, 6]))     # pixel (1, 2) at lag 0
    >>> spikes = np.sort(np.concatenate(
    ...     [rng.uniform(triggers[k], triggers[k + 1], n) for k, n in enumerate(counts)]))
    >>> recording = Bunch(stimulus=stimulus, frame_shape=(3, 4), spike_times=spikes,
    ...                   trigger_times=triggers)
    >>> folder = tempfile.TemporaryDirectory()
    >>> args = build_parser().parse_args(["fit", "toy.mat", "--lags", "0-1", "--penalty", "l1",
    ...                                   "--l1-alphas", "0.3,0.1,0.03,0.01"])
    >>> with contextlib.redirect_stdout(io.StringIO()):
    ...     result = run_l1(args, recording_design(recording), Path(folder.name))
    >>> lag0 = result["refit"]["peaks"][0]
    >>> lag0["peak_row"], lag0["peak_col"], result["figures"]
    (1, 2, ['l1_grid.png', 'l1_cv.png'])
    >>> bool(result["refit"]["kkt_violation"] <= 1e-8)
    True
    >>> folder.cleanup()
    """
    from . import BlockedTimeSeriesSplit, LagTransformer, LassoLNPCV, lasso_lnp_path
    from .plotting import plot_cv_curve, plot_lasso_grid

    lags = list(getattr(args, "lags", None) or (0,))
    X = LagTransformer(lags=lags).fit_transform(design.X)
    y, exposure = design.counts, design.exposure
    alphas = 20 if args.l1_alphas is None else list(args.l1_alphas)
    _log(
        f"L1: LassoLNPCV over {alphas if isinstance(alphas, int) else len(alphas)} alphas, "
        f"lags {lags} ({X.shape[1]} columns), 5 blocked folds (gap {max(lags)}) ..."
    )
    start = time.perf_counter()
    cv = LassoLNPCV(
        alphas=alphas,
        cv=BlockedTimeSeriesSplit(5, gap=max(lags)),
        scoring="bits_per_spike",
        verbose=args.verbose,
    ).fit(X, y, exposure=exposure)
    cv_seconds = time.perf_counter() - start
    path = lasso_lnp_path(X, y, exposure=exposure, alphas=cv.alphas_)
    n = path.alphas.size
    if args.l1_alphas is None and n > 6:
        # Six columns spread over the grid (alpha_max, all zeros, left out), and the CV choice.
        columns = sorted(set(np.linspace(1, n - 1, 6).round().astype(int)) | {cv.best_index_})
    else:
        columns = list(range(n))
    n_pixels = int(np.prod(design.frame_shape))
    coefs = path.coefs[:, columns].T.reshape(len(columns), len(lags), n_pixels)
    frame_duration = float(np.mean(exposure))
    mean_bits = np.nanmean(cv.bits_per_spike_path_, axis=1)
    _log(
        f"CV in {cv_seconds:.1f} s: alpha = {cv.alpha_:.4g} ({cv.alpha_ / cv.alpha_max_:.3f} "
        f"alpha_max), {cv.n_nonzero_} non-zero weights, held-out bits/spike "
        f"{mean_bits[cv.best_index_]:.4f}."
    )
    plt = _figure_module()
    fig, axes, _ = plot_lasso_grid(
        coefs.transpose(1, 0, 2),
        design.frame_shape,
        lags,
        path.alphas[columns],
        frame_duration=frame_duration,
        title="L1 (lasso) LNP fits of all lags at once; columns: alpha",
    )
    chosen_column = columns.index(cv.best_index_)
    axes[0, chosen_column].set_title(axes[0, chosen_column].get_title() + " (CV)", color="C3")
    fig.savefig(out / "l1_grid.png", dpi=110)
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    plot_cv_curve(
        cv.alphas_,
        cv.bits_per_spike_path_,
        chosen=cv.alpha_,
        ax=ax,
        xlabel="L1 penalty α (mean negative log-likelihood scaling)",
    )
    ax.set_title(f"L1 fits, lags {lags[0]}-{lags[-1]}: 5-fold blocked CV")
    fig.tight_layout()
    fig.savefig(out / "l1_cv.png", dpi=110)
    plt.close("all")
    maps = cv.coef_.reshape(len(lags), *design.frame_shape)
    peaks = []
    for lag, image in zip(lags, maps, strict=True):
        row, col = _peak(image)
        peaks.append(
            {
                "lag": int(lag),
                "peak_row": row,
                "peak_col": col,
                "peak_weight": float(image[row, col]),
                "n_nonzero": int(np.count_nonzero(image)),
            }
        )
    return {
        "lags": [int(lag) for lag in lags],
        "alphas": cv.alphas_.tolist(),
        "alpha_max": float(cv.alpha_max_),
        "alpha": float(cv.alpha_),
        "cv_scoring": "bits_per_spike",
        "cv_mean_bits_per_spike": mean_bits.tolist(),
        "cv_n_nonzero_mean": cv.n_nonzero_path_.mean(axis=1).tolist(),
        "cv_seconds": cv_seconds,
        "refit": {
            "n_nonzero": int(cv.n_nonzero_),
            "kkt_violation": float(cv.optimality_),
            "intercept": float(cv.intercept_),
            "peaks": peaks,
            "coef": cv.coef_.tolist(),
        },
        "grid_alphas": path.alphas[columns].tolist(),
        "figures": ["l1_grid.png", "l1_cv.png"],
    }


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
    fit.add_argument("path", help="the .mat recording, e.g. ../shared/data/nds_cl_5_data.mat")
    fit.add_argument("--alpha", type=float, default=0.0, help="L2 penalty, sklearn scaling (0)")
    fit.add_argument(
        "--frame-offset",
        type=int,
        default=0,
        help="bin k pairs with frame k + offset (0: what the lab's data show)",
    )
    fit.add_argument(
        "--lags",
        type=_lag_list,
        default=(0, 1, 2, 3, 4),
        help="lags (frames) of the joint space-time fit, e.g. 0,1,2,3,4 (default) or 0-4; "
        "0 alone skips it",
    )
    fit.add_argument(
        "--lags-alpha",
        type=float,
        default=None,
        help="L2 penalty of the joint fit (default: chosen by blocked CV over --alpha-grid)",
    )
    fit.add_argument(
        "--alpha-grid",
        type=_float_list,
        default=(1.0, 10.0, 100.0),
        help="alphas tried by the CV of the joint fit (1,10,100)",
    )
    fit.add_argument(
        "--drift",
        type=int,
        default=6,
        help="slow-drift regressors (Legendre polynomials of time) in the joint fit (6; 0: none)",
    )
    fit.add_argument(
        "--sta",
        action="store_true",
        help="also compute the spike-time STA at sub-frame resolution and its SVD",
    )
    fit.add_argument(
        "--sta-window", type=float, default=1.0, help="STA delays from 0 to this, in s (1.0)"
    )
    fit.add_argument(
        "--sta-resolution", type=float, default=0.025, help="STA delay step in s (0.025)"
    )
    fit.add_argument(
        "--penalty",
        choices=("l2", "l1"),
        default="l2",
        help="l1: also fit the L1 (lasso) model of the --lags over a path of alphas, choose "
        "alpha by blocked CV, and draw the lags x alphas grid and the CV curve",
    )
    fit.add_argument(
        "--l1-alphas",
        type=_float_list,
        default=None,
        help="L1 penalties of --penalty l1, e.g. 0.01,0.03,0.1 (default: 20 log-spaced from "
        "alpha_max, the smallest penalty with an all-zero RF)",
    )
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
