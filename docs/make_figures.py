"""Regenerate the README's figures in ``docs/`` with the analyses of ``sklearn_lnp.analysis``.

Run from anywhere::

    python docs/make_figures.py                      # ../shared/data/nds_cl_5_data.mat
    python docs/make_figures.py path/to/recording.mat

It runs the analyses with the command's defaults and draws their figures as the
command does (``sklearn_lnp._reports``, PNG at 110 dpi), i.e. the figures of

    sklearn-lnp demo
    sklearn-lnp fit RECORDING --lags 0-4 --sta --penalty l1

under stable names in ``docs/``:

========================  ==========================================================
``docs/`` file            what it shows (command output)
========================  ==========================================================
``simulated_rf.png``      a stimulus frame, the true and the fitted RF of the
                          simulated neuron, 5000 frames (``demo/rf_true_vs_fitted.png``)
``real_rf_lags.png``      the real neuron's joint RF at lags 0..4 on one centred
                          scale, alpha by blocked CV, drift modelled (``rf_lags.png``)
``real_rf_svd.png``       its rank-1 SVD, not centred: spatial map and temporal
                          kernel (``rf_svd.png``)
``real_sta_fine.png``     the spike-time STA in 25 ms steps before the spike, 10 of
                          its 40 delays (``sta_fine.png``)
``real_sta_fine_svd.png`` the rank-1 SVD of that STA, not centred (``sta_fine_svd.png``)
``real_l1_grid.png``      L1 fits of lags 0..4 over the penalty path, rows lags,
                          columns alphas (a colour scale each), the CV choice
                          marked (``l1_grid.png``)
``real_l1_cv.png``        held-out bits per spike over the L1 penalty, 5 blocked
                          folds, the chosen alpha and the constant rate's score
                          marked (``l1_cv.png``)
========================  ==========================================================

The recording is never copied into the repository; without it the script
stops with a message (exit status 2) and writes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO_ROOT = DOCS.parent
DEFAULT_RECORDING = REPO_ROOT.parent / "shared" / "data" / "nds_cl_5_data.mat"

# file written by the command -> name in docs/
DOCS_NAMES = {
    "rf_true_vs_fitted.png": "simulated_rf.png",
    "rf_lags.png": "real_rf_lags.png",
    "rf_svd.png": "real_rf_svd.png",
    "sta_fine.png": "real_sta_fine.png",
    "sta_fine_svd.png": "real_sta_fine_svd.png",
    "l1_grid.png": "real_l1_grid.png",
    "l1_cv.png": "real_l1_cv.png",
}


def draw_figures(recording_path: Path) -> dict:
    """Run the demo and the analyses of ``recording_path``; their figures by command file name.

    Parameters
    ----------
    recording_path : Path
        The ``.mat`` recording (the lab's ``nds_cl_5_data.mat``).

    Returns
    -------
    dict of str to matplotlib.figure.Figure
    """
    from sklearn_lnp import _reports
    from sklearn_lnp.analysis import (
        fit_l1_lags,
        fit_lags_jointly,
        fit_simulated_neuron,
        spike_time_sta,
    )
    from sklearn_lnp.datasets import load_recording

    recording = load_recording(recording_path)
    figures = _reports.demo_report(fit_simulated_neuron(), 5000, 0)[1]
    figures.update(_reports.lags_report(fit_lags_jointly(recording))[1])
    figures.update(_reports.sta_report(spike_time_sta(recording), recording.frame_shape)[1])
    figures.update(_reports.l1_report(fit_l1_lags(recording), thin_grid=True)[1])
    return figures


def make_figures(recording: Path, docs: Path = DOCS) -> list[Path]:
    """Draw the figures of the demo and of ``recording``; save those the README shows.

    Parameters
    ----------
    recording : Path
        The ``.mat`` recording (the lab's ``nds_cl_5_data.mat``).
    docs : Path
        Folder the PNG files are written to.

    Returns
    -------
    list of Path
        The written files.
    """
    from sklearn_lnp import _reports

    figures = draw_figures(recording)
    shown = {DOCS_NAMES[name]: fig for name, fig in figures.items() if name in DOCS_NAMES}
    missing = set(DOCS_NAMES.values()) - set(shown)
    if missing:
        raise RuntimeError(f"the analyses drew no figure for {sorted(missing)}")
    written = [docs / name for name in _reports.save_figures(shown, docs)]
    _reports.pyplot().close("all")  # the figures the README does not show
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    recording = Path(argv[0]) if argv else DEFAULT_RECORDING
    if not recording.is_file():
        print(
            f"make_figures: recording not found at {recording}; pass its path, e.g. "
            "python docs/make_figures.py ../shared/data/nds_cl_5_data.mat",
            file=sys.stderr,
        )
        return 2
    for path in make_figures(recording):
        print(f"wrote {path.relative_to(REPO_ROOT)} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
