"""Regenerate the README's figures in ``docs/`` with the ``sklearn-lnp`` command.

Run from anywhere::

    python docs/make_figures.py                      # ../shared/data/nds_cl_5_data.mat
    python docs/make_figures.py path/to/recording.mat

It runs the command's own code (``sklearn_lnp.cli.main``), exactly as

    sklearn-lnp demo --out TMP
    sklearn-lnp fit RECORDING --lags 0-4 --sta --penalty l1 --out TMP

in a temporary folder, and copies the figures the README shows into ``docs/``
under stable names (PNG at the command's 110 dpi):

========================  ==========================================================
``docs/`` file            what it shows (command output)
========================  ==========================================================
``simulated_rf.png``      a stimulus frame, the true and the fitted RF of the
                          textbook neuron (``demo/rf_true_vs_fitted.png``)
``real_rf_lags.png``      the real neuron's joint RF at lags 0..4 on one centred
                          scale, alpha by blocked CV, drift modelled (``rf_lags.png``)
``real_rf_svd.png``       its rank-1 SVD: spatial map and temporal kernel, centred
                          over lags (``rf_svd.png``)
``real_sta_fine.png``     the spike-time STA in 25 ms steps before the spike
                          (``sta_fine.png``)
``real_sta_fine_svd.png`` the rank-1 SVD of that STA (``sta_fine_svd.png``)
``real_l1_grid.png``      L1 fits of lags 0..4 over the penalty path, rows lags,
                          columns alphas, the CV choice marked (``l1_grid.png``)
``real_l1_cv.png``        held-out bits per spike over the L1 penalty, 5 blocked
                          folds, the chosen alpha marked (``l1_cv.png``)
========================  ==========================================================

The recording is never copied into the repository; without it the script
stops with a message (exit status 2) and writes nothing.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO_ROOT = DOCS.parent
DEFAULT_RECORDING = REPO_ROOT.parent / "shared" / "data" / "nds_cl_5_data.mat"

# (sub-folder of the command's output, file written by the command, name in docs/)
DEMO_FIGURES = [("demo", "rf_true_vs_fitted.png", "simulated_rf.png")]
FIT_FIGURES = [
    ("rf_lags.png", "real_rf_lags.png"),
    ("rf_svd.png", "real_rf_svd.png"),
    ("sta_fine.png", "real_sta_fine.png"),
    ("sta_fine_svd.png", "real_sta_fine_svd.png"),
    ("l1_grid.png", "real_l1_grid.png"),
    ("l1_cv.png", "real_l1_cv.png"),
]


def make_figures(recording: Path, docs: Path = DOCS) -> list[Path]:
    """Run the command on the built-in example and on ``recording``; copy the figures.

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
    from sklearn_lnp.cli import main

    written = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        main(["demo", "--out", str(out)])
        options = ["--lags", "0-4", "--sta", "--penalty", "l1", "--out", str(out)]
        main(["fit", str(recording), *options])
        copies = [(out / folder / name, target) for folder, name, target in DEMO_FIGURES]
        copies += [(out / recording.stem / name, target) for name, target in FIT_FIGURES]
        for source, target in copies:
            if not source.is_file():
                raise FileNotFoundError(f"the command did not write {source.name}")
            written.append(Path(shutil.copyfile(source, docs / target)))
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
