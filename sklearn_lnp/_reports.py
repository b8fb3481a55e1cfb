"""JSON summaries and figures of the analyses, as the ``sklearn-lnp`` command writes them.

For each analysis of :mod:`sklearn_lnp.analysis`, ``*_report(result)``
returns ``(summary, figures, message)``: the JSON block of ``summary.json``
(plain numbers and lists), the figures drawn with :mod:`sklearn_lnp.plotting`
as ``{file name: Figure}`` for :func:`save_figures`, and the line the command
prints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .metrics import comparison_table
from .plotting import (
    plot_count_vs_rate,
    plot_counts_over_time,
    plot_cv_curve,
    plot_history_gain,
    plot_lasso_grid,
    plot_rf,
    plot_rf_lags,
    plot_space_time_separation,
    plot_sta_kernel,
    plot_sta_over_tau,
)

DPI = 110
# (JSON block, {file name: Figure}, printed line) of one analysis.
Report = tuple[dict, dict, str]
# Columns of the L1 grid figure over a default (long) path: this many spread over it.
N_GRID_COLUMNS = 6


def pyplot():
    """``matplotlib.pyplot`` on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# How each centring of the SVD is named in messages and figure titles.
CENTER_PHRASES = {
    "none": "not centred",
    "over_pixels": "each lag's mean over pixels removed",
    "over_lags": "centred over lags: kernel forced to sum to 0",
    "both": "double centred: kernel forced to sum to 0",
}


def save_figures(figures: dict, out: Path) -> list[str]:
    """Save ``{file name: Figure}`` as PNG in ``out``, close them; return the names."""
    plt = pyplot()
    for name, fig in figures.items():
        fig.savefig(Path(out) / name, dpi=DPI, bbox_inches="tight")
        plt.close(fig)
    return list(figures)


def demo_report(demo: Bunch, n_frames: int, seed: int) -> Report:
    model = demo.model
    message = (
        f"Fitted PoissonLNPRegressor in {demo.fit_seconds:.3f} s ({model.n_iter_} iterations, "
        f"solver {model.solver_}); correlation of true and fitted RF: {demo.rf_correlation:.3f}"
    )
    return _demo_summary(demo, n_frames, seed), _demo_figures(demo), message


def _demo_summary(demo: Bunch, n_frames: int, seed: int) -> dict:
    return {
        "example": "simulated textbook LNP neuron",
        "n_frames": n_frames,
        "seed": seed,
        "rf_correlation": demo.rf_correlation,
        "fit_seconds": demo.fit_seconds,
        "n_iter": int(demo.model.n_iter_),
        "solver": demo.model.solver_,
    }


def _demo_figures(demo: Bunch) -> dict:
    plt = pyplot()
    neuron, model = demo.neuron, demo.model
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.6))
    plot_rf(
        neuron.stimulus[0],
        neuron.frame_shape,
        ax=axes[0],
        title="stimulus frame 0",
        label="contrast",
    )
    plot_rf(neuron.rf, ax=axes[1], title="true RF (simulation)")
    title = f"fitted RF (r = {demo.rf_correlation:.2f})"
    plot_rf(model.coef_, neuron.frame_shape, ax=axes[2], title=title)
    fig.suptitle(
        f"Simulated LNP neuron, {neuron.counts.size} frames of {neuron.dt:g} s "
        "(r: correlation of the fitted and the true RF)"
    )
    fig.tight_layout()
    response, axes = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [3, 1]})
    times = np.arange(neuron.counts.size) * neuron.dt
    fitted = model.predict(neuron.stimulus, exposure=neuron.exposure)
    plot_counts_over_time(
        neuron.counts,
        neuron.rate,
        times=times,
        ax=axes[0],
        rate_label="true rate (simulation)",
        other_rates={"fitted model (in-sample)": fitted},
    )
    axes[0].set_title(f"Spike counts per {neuron.dt:g} s bin, {axes[0].get_title()}")
    plot_count_vs_rate(
        neuron.counts, fitted, ax=axes[1], xlabel="expected count per bin (fitted model)"
    )
    axes[1].set_title("all bins")
    response.tight_layout()
    return {"rf_true_vs_fitted.png": fig, "response.png": response}


def lag0_report(path: Path, lag0: Bunch, frame_offset: int, alpha: float) -> Report:
    """The binning of the recording and its lag-0 fit (``"lag0"``)."""
    summary = _recording_summary(path, lag0, frame_offset, alpha)
    fit = summary["lag0"]
    sign = "ON" if fit["peak_weight"] > 0 else "OFF"
    exposure = lag0.design.exposure
    message = (
        f"{summary['n_bins']} bins (frame durations {exposure.min():.4f}-{exposure.max():.4f} s), "
        f"{summary['n_spikes']} spikes; {summary['n_spikes_outside_triggers']} spikes outside "
        f"the triggers, {summary['n_unused_frames']} frames without a trigger interval.\n"
        f"Done in {fit['fit_seconds']:.3f} s ({fit['n_iter']} iterations, {fit['solver']}); "
        f"RF peak at row {fit['peak_row']}, col {fit['peak_col']} ({sign})."
    )
    return summary, _lag0_figures(lag0, Path(path).stem), message


def _recording_summary(path: Path, lag0: Bunch, frame_offset: int, alpha: float) -> dict:
    design, fit = lag0.design, lag0.fits[0]
    model, rf = fit.model, lag0.maps[0]
    row, col = lag0.peaks[0]
    return {
        "path": str(path),
        "frame_shape": list(design.frame_shape),
        "frame_offset": frame_offset,
        "n_bins": int(design.X.shape[0]),
        "n_spikes": int(design.counts.sum()),
        "n_spikes_outside_triggers": design.n_spikes_before + design.n_spikes_after,
        "n_unused_frames": design.n_unused_frames,
        "alpha": alpha,
        "lag0": {
            "peak_row": row,
            "peak_col": col,
            "peak_weight": float(rf[row, col]),
            "intercept": float(model.intercept_),
            "objective": float(model.objective_),
            "n_iter": int(model.n_iter_),
            "solver": model.solver_,
            "fit_seconds": fit.fit_seconds,
            "coef": model.coef_.tolist(),
        },
    }


def _lag0_figures(lag0: Bunch, name: str) -> dict:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 4.4))
    alpha = lag0.fits[0].alpha
    plot_rf(lag0.maps[0], ax=ax, title=f"{name}\nRF at lag 0 (L2 fit, α = {alpha:g})")
    fig.tight_layout()
    return {"rf_lag0.png": fig}


def _lag_peaks(result: Bunch) -> list[tuple[int, int, int, float]]:
    """(lag, row, col, weight) of each lag's map."""
    return [
        (int(lag), row, col, float(image[row, col]))
        for lag, image, (row, col) in zip(result.lags, result.maps, result.peaks, strict=True)
    ]


def lags_report(joint: Bunch) -> Report:
    summary = _lags_summary(joint)
    peaks = ", ".join(f"lag {p['lag']}: ({p['row']}, {p['col']}) {p['weight']:+.3f}"
                      for p in summary["peaks"])  # fmt: skip
    fit = joint.fit
    score = "" if fit.alphas is None else f"; CV bits/spike {fit.mean_cv_scores.max():+.4f}"
    message = f"Done in {joint.seconds:.1f} s, alpha={joint.alpha}{score}. Peaks {peaks}."
    if joint.separation is not None:
        svd = summary["svd"]
        message += (
            f"\nSVD ({CENTER_PHRASES[svd['center']]}): spatial peak row "
            f"{svd['spatial_peak_row']}, col {svd['spatial_peak_col']}; temporal kernel "
            f"{np.round(svd['temporal'], 2).tolist()} "
            f"({100 * svd['explained_variance_ratio'][0]:.0f} %)."
        )
    return summary, _lags_figures(joint), message


def _lags_summary(joint: Bunch) -> dict:
    fit = joint.fit
    scores = {} if fit.alphas is None else dict(zip(fit.alphas, fit.mean_cv_scores, strict=True))
    summary = {
        "lags": joint.lags.tolist(),
        "alpha": joint.alpha,
        "alpha_grid": None if fit.alphas is None else fit.alphas.tolist(),
        "cv_bits_per_spike": {str(float(a)): float(s) for a, s in scores.items()},
        "cv_constant_rate_bits_per_spike": None
        if fit.baseline_cv_scores is None
        else float(fit.baseline_cv_scores.mean()),
        "n_drift_regressors": joint.n_drift,
        "frame_duration_s": joint.frame_duration,
        "peaks": [
            {"lag": lag, "row": row, "col": col, "weight": weight}
            for lag, row, col, weight in _lag_peaks(joint)
        ],
        "intercept": float(fit.model.intercept_),
        "fit_seconds": joint.seconds,
        "coef": joint.coef.tolist(),
    }
    separation = joint.separation
    if separation is not None:
        summary["svd"] = {
            "center": separation.center,
            "spatial_peak_row": separation.peak[0],
            "spatial_peak_col": separation.peak[1],
            "spatial": separation.spatial.tolist(),
            "temporal": separation.temporal.tolist(),
            "singular_values": separation.singular_values.tolist(),
            "explained_variance_ratio": separation.explained_variance_ratio.tolist(),
        }
    return summary


def _lags_figures(joint: Bunch) -> dict:
    frame_shape, lags = joint.design.frame_shape, joint.lags.tolist()
    title = f"Joint space-time RF (alpha={joint.alpha:g}, drift modelled)"
    fig, _, _ = plot_rf_lags(
        joint.coef, frame_shape, lags, frame_duration=joint.frame_duration, title=title
    )
    figures = {"rf_lags.png": fig}
    separation = joint.separation
    if separation is not None:
        fig, _, _ = plot_space_time_separation(
            separation.spatial_map,
            separation.temporal,
            lags,
            frame_duration=joint.frame_duration,
            explained=float(separation.explained_variance_ratio[0]),
            title=f"Rank-1 SVD of the joint RF ({CENTER_PHRASES[separation.center]})",
        )
        fig.tight_layout()
        figures["rf_svd.png"] = fig
    return figures


def sta_report(sta: Bunch, frame_shape) -> Report:
    summary = _sta_summary(sta)
    peak, opposite, svd = summary["peak"], summary["opposite_lobe"], summary["svd"]
    message = (
        f"Done in {sta.seconds:.3f} s ({summary['n_spikes_per_tau'][0]} spikes at tau = 0). "
        f"Peak |z| = {abs(peak['zscore']):.1f} at row {peak['row']}, col {peak['col']}, "
        f"tau = {1000 * peak['tau_s']:.0f} ms; opposite lobe z = {opposite['zscore']:.1f} at "
        f"{1000 * opposite['tau_s']:.0f} ms. SVD ({CENTER_PHRASES[svd['center']]}): spatial "
        f"peak row {svd['spatial_peak_row']}, col {svd['spatial_peak_col']}, kernel peak at "
        f"{1000 * svd['temporal_peak_tau_s']:.0f} ms."
    )
    return summary, _sta_figures(sta, frame_shape), message


def _sta_summary(sta: Bunch) -> dict:
    taus, separation = sta.taus, sta.separation
    return {
        "window_s": [float(taus[0]), float(sta.window)],
        "resolution_s": float(sta.resolution),
        "taus_s": taus.tolist(),
        "n_spikes_per_tau": sta.sta.n_spikes.tolist(),
        "n_spikes_outside_triggers": sta.sta.n_spikes_before + sta.sta.n_spikes_after,
        "n_unused_frames": sta.sta.n_unused_frames,
        "seconds": sta.seconds,
        "peak": {
            "row": sta.peak[0],
            "col": sta.peak[1],
            "tau_s": float(taus[sta.peak_tau]),
            "zscore": sta.peak_zscore,
        },
        "opposite_lobe": {"tau_s": float(taus[sta.opposite_tau]), "zscore": sta.opposite_zscore},
        "svd": {
            "center": separation.center,
            "spatial_peak_row": separation.peak[0],
            "spatial_peak_col": separation.peak[1],
            "temporal_peak_tau_s": float(taus[separation.temporal_peak]),
            "temporal": separation.temporal.tolist(),
            "explained_variance_ratio": separation.explained_variance_ratio[:3].tolist(),
        },
    }


def _sta_figures(sta: Bunch, frame_shape) -> dict:
    title = f"Spike-triggered average τ before the spike ({int(sta.sta.n_spikes[0])} spikes)"
    fig, _, _ = plot_sta_over_tau(sta.sta.sta, sta.taus, frame_shape, title=title)
    kernel, _, _ = plot_sta_kernel(
        sta.separation.spatial_map,
        sta.separation.temporal,
        sta.taus,
        title=f"Rank-1 SVD of the fine STA ({CENTER_PHRASES[sta.separation.center]})",
    )
    kernel.tight_layout()
    return {"sta_fine.png": fig, "sta_fine_svd.png": kernel}


def l1_report(l1: Bunch, *, thin_grid: bool) -> Report:
    """The L1 block; ``thin_grid``: the grid figure shows a few alphas of a long path."""
    columns = _l1_grid_columns(l1, thin=thin_grid)
    summary = _l1_summary(l1, columns)
    message = (
        f"CV in {l1.cv_seconds:.1f} s: alpha = {l1.alpha:.4g} "
        f"({l1.alpha / summary['alpha_max']:.3f} alpha_max), "
        f"{summary['refit']['n_nonzero']} non-zero weights, held-out bits/spike "
        f"{l1.mean_cv_scores[l1.cv.best_index_]:.4f}."
    )
    return summary, _l1_figures(l1, columns), message


def _l1_grid_columns(l1: Bunch, *, thin: bool) -> list[int]:
    """Alphas (indices into the path) shown in the grid figure.

    ``thin``: a few spread over a long path (alpha_max itself, all zeros, is
    left out) and the CV choice; otherwise every alpha.
    """
    n = l1.alphas.size
    if not thin or n <= N_GRID_COLUMNS:
        return list(range(n))
    spread = np.linspace(1, n - 1, N_GRID_COLUMNS).round().astype(int)
    return sorted(set(spread.tolist()) | {int(l1.cv.best_index_)})


def _l1_summary(l1: Bunch, columns: list[int]) -> dict:
    cv = l1.cv
    peaks = [
        {
            "lag": lag,
            "peak_row": row,
            "peak_col": col,
            "peak_weight": weight,
            "n_nonzero": int(np.count_nonzero(image)),
        }
        for (lag, row, col, weight), image in zip(_lag_peaks(l1), l1.maps, strict=True)
    ]
    return {
        "lags": l1.lags.tolist(),
        "alphas": cv.alphas_.tolist(),
        "alpha_max": float(cv.alpha_max_),
        "alpha": l1.alpha,
        "cv_scoring": "bits_per_spike",
        "cv_mean_bits_per_spike": l1.mean_cv_scores.tolist(),
        "cv_constant_rate_bits_per_spike": float(l1.baseline_cv_scores.mean()),
        "cv_n_nonzero_mean": cv.n_nonzero_path_.mean(axis=1).tolist(),
        "cv_seconds": l1.cv_seconds,
        "refit": {
            "n_nonzero": int(cv.n_nonzero_),
            "kkt_violation": float(cv.optimality_),
            "intercept": float(cv.intercept_),
            "peaks": peaks,
            "coef": cv.coef_.tolist(),
        },
        "grid_alphas": l1.alphas[columns].tolist(),
    }


def _l1_figures(l1: Bunch, columns: list[int]) -> dict:
    plt = pyplot()
    cv, lags = l1.cv, l1.lags.tolist()
    grid, axes, _ = plot_lasso_grid(
        l1.path_coefs[:, columns],
        l1.design.frame_shape,
        lags,
        l1.alphas[columns],
        frame_duration=l1.frame_duration,
        title="L1 (lasso) fits of all lags at once on all bins; columns: penalty α, "
        "each with its own colour scale",
    )
    chosen = axes[0, columns.index(int(cv.best_index_))]
    chosen.set_title(chosen.get_title() + " (CV)", color="C3")
    curve, ax = plt.subplots(figsize=(5.0, 3.4))
    plot_cv_curve(
        cv.alphas_,
        cv.bits_per_spike_path_,
        chosen=cv.alpha_,
        ax=ax,
        xlabel="L1 penalty α (mean negative log-likelihood scaling)",
        baseline=l1.baseline_cv_scores,
    )
    n_folds = cv.bits_per_spike_path_.shape[1]
    ax.set_title(f"L1 fits, lags {lags[0]}-{lags[-1]}: {n_folds}-fold blocked CV")
    curve.tight_layout()
    return {"l1_grid.png": grid, "l1_cv.png": curve}


def methods_report(methods: Bunch) -> tuple[dict, str]:
    """The method table (``"methods"``): held-out gains on the same folds, paired differences.

    Returns the JSON block (per method: the mean gain over the constant rate
    of the training blocks and its s.e., the paired difference to the
    reference and its s.e., whether it is resolved, the per-fold gains) and
    the printed lines: the Markdown table and the rule.
    """
    comparison = methods.comparison
    rows = [
        {
            "method": name,
            "gain_bits_per_spike": float(comparison.gain[k]),
            "gain_se": float(comparison.gain_se[k]),
            "difference_to_reference": float(comparison.difference[k]),
            "difference_se": float(comparison.difference_se[k]),
            "resolved": bool(comparison.resolved[k]),
            "fold_gains": comparison.fold_gains[k].tolist(),
        }
        for k, name in enumerate(comparison.names)
    ]
    summary = {
        "scoring": "held-out bits per spike over the constant rate of the training blocks",
        "n_folds": comparison.n_folds,
        "gap": methods.gap,
        "fold_rates_spikes_per_s": methods.fold_rates.tolist(),
        "reference": comparison.reference,
        "rule": comparison.rule,
        "methods": rows,
    }
    message = (
        f"Held-out gain over the constant rate of the training blocks ({comparison.n_folds} "
        f"blocked folds, gap {methods.gap}; rates of the test blocks "
        f"{np.round(methods.fold_rates, 1).tolist()} spikes/s), paired by fold:\n"
        f"{comparison_table(comparison)}\n"
        f"Rule: {comparison.rule}. Methods whose difference is not resolved are not told "
        "apart by these folds. (CV) rows: the chosen penalty's scores on the folds that "
        "chose it."
    )
    return summary, message


def history_report(history: Bunch) -> Report:
    """The spike-history GLM block of ``--history-bin-ms`` (``analysis.fit_history_glm``)."""
    summary = _history_summary(history)
    mean, se = history.differences["history"]
    mean_d, se_d = history.differences["history_given_drift"]
    peak = int(np.argmax(history.history_gain))
    message = (
        f"Done in {history.seconds:.1f} s ({history.n_bins} bins of "
        f"{1000 * history.bin_width:g} ms). Held-out bits/spike over "
        f"{history.scores['stimulus'].size} interior blocks: stimulus "
        f"{history.mean_scores['stimulus']:+.3f}, stimulus + history "
        f"{history.mean_scores['stimulus_history']:+.3f}; history adds {mean:+.3f} +- {se:.3f} "
        f"(paired s.e.), {mean_d:+.3f} +- {se_d:.3f} with drift terms. Gain "
        f"{history.history_gain[0]:.2f} at {history.history_lag_ms[0]:g} ms, peak "
        f"{history.history_gain[peak]:.2f} at {history.history_lag_ms[peak]:g} ms."
    )
    return summary, _history_figures(history), message


def _history_summary(history: Bunch) -> dict:
    return {
        "bin_width_s": history.bin_width,
        "n_bins": history.n_bins,
        "n_spikes": history.n_spikes,
        "alpha": history.alpha,
        "pixels": np.asarray(history.pixels).tolist(),
        "n_columns": history.n_columns,
        "block_rates_hz": history.block_rates.tolist(),
        "null": "train",
        "bits_per_spike": {name: s.tolist() for name, s in history.scores.items()},
        "mean_bits_per_spike": history.mean_scores,
        "differences": {
            name: {"mean": mean, "paired_se": se}
            for name, (mean, se) in history.differences.items()
        },
        "history_lag_ms": history.history_lag_ms.tolist(),
        "history_gain": history.history_gain.tolist(),
        "seconds": history.seconds,
    }


def _history_figures(history: Bunch) -> dict:
    plt = pyplot()
    fig, (gain_ax, score_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    plot_history_gain(
        history.history_filter,
        history.bin_width,
        lags=np.round(history.history_lag_ms / (1000 * history.bin_width)).astype(int),
        ax=gain_ax,
        title=f"Spike-history gain exp(h) at {1000 * history.bin_width:g} ms bins",
    )
    folds = np.arange(1, history.scores["stimulus"].size + 1)
    for name, scores in history.scores.items():
        score_ax.plot(folds, scores, "o-", label=name.replace("_", " + "))
    score_ax.axhline(0.0, color="0.5", lw=0.8, ls=":")
    score_ax.set_xlabel("held-out interior block")
    score_ax.set_ylabel("bits per spike (vs training rate)")
    score_ax.set_title("Held-out bits per spike per block")
    score_ax.legend(fontsize=7)
    fig.tight_layout()
    return {"history_gain.png": fig}


def smooth_report(smooth: Bunch) -> Report:
    """The ``--smooth`` block: the evidence fit, its held-out comparison with ridge, figures."""
    summary = {
        "lags": smooth.lags.tolist(),
        "length_scales_rows_cols_px": [float(v) for v in smooth.length_scales[:2]],
        "length_scale_lags_frames": float(smooth.length_scales[2]),
        "length_scale_lags_ms": smooth.length_scale_ms,
        "prior_scale": smooth.prior_scale,
        "log_evidence": smooth.log_evidence,
        "n_map_fits": smooth.n_map_fits,
        "fit_seconds": smooth.fit_seconds,
        "cv_bits_per_spike_smooth": smooth.smooth_scores.tolist(),
        "cv_bits_per_spike_ridge": smooth.ridge_scores.tolist(),
        "ridge_alpha": smooth.ridge_alpha,
        "difference_bits_per_spike": smooth.difference,
        "difference_paired_se": smooth.difference_se,
        "peaks": [
            {"lag": int(lag), "row": int(r), "col": int(c)}
            for lag, (r, c) in zip(smooth.lags, smooth.peaks, strict=True)
        ],
        "coef": smooth.coef.tolist(),
        "coef_std": smooth.coef_std.tolist(),
    }
    scales = smooth.length_scales
    message = (
        f"SmoothLNPRegressor: length scales {scales[0]:.2f} x {scales[1]:.2f} px, "
        f"{scales[2]:.2f} frames ({smooth.length_scale_ms:.0f} ms), {smooth.n_map_fits} MAP "
        f"fits, {smooth.fit_seconds:.1f} s. Held-out bits/spike {smooth.smooth_scores.mean():+.4f}"
        f" vs ridge (alpha {smooth.ridge_alpha:g}) {smooth.ridge_scores.mean():+.4f}: "
        f"difference {smooth.difference:+.4f} +- {smooth.difference_se:.4f} (paired SE)."
    )
    lags, duration = smooth.lags.tolist(), smooth.frame_duration
    title = (
        f"SmoothLNPRegressor RF (ASD prior by evidence; length scales {scales[0]:.1f} x "
        f"{scales[1]:.1f} px, {smooth.length_scale_ms:.0f} ms)"
    )
    fig, _, _ = plot_rf_lags(smooth.coef, smooth.frame_shape, lags, frame_duration=duration,
                             title=title)  # fmt: skip
    z = smooth.coef / smooth.coef_std
    zfig, _, _ = plot_rf_lags(
        z, smooth.frame_shape, lags, frame_duration=duration, label="z = coef / posterior sd",
        title="SmoothLNPRegressor RF in posterior standard deviations (Laplace)",
    )  # fmt: skip
    return summary, {"rf_smooth.png": fig, "rf_smooth_z.png": zfig}, message
