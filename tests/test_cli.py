"""The ``sklearn-lnp`` command: demo, fit of a real recording, help.

Facts asserted: the demo recovers the simulated RF (correlation > 0.9 at 2000
frames of the realistic neuron; measured 0.935 to 0.953 over seeds 0..19) and
writes its figures and a JSON summary that says so; ``fit`` on the lab's recording writes the RF
figure and a summary whose lag-0 peak is at row 12, col 4; ``--help`` exits 0
and documents every option of every command; a recording with other variable
names, or as ``.npz``, is fitted end to end and its RF found; every user error
is one line on stderr with exit status 2 and nothing written; progress goes
to stderr unless ``--quiet``, and each warning is printed once.
"""

from __future__ import annotations

import json

import matplotlib.image as mpimg
import numpy as np
import pytest

from sklearn_lnp import cli
from sklearn_lnp.cli import main
from sklearn_lnp.datasets import recording_from_counts, save_recording


def _assert_drawn_png(path):
    """A real image with something drawn on it (not one flat colour)."""
    assert path.is_file()
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert np.std(image[..., :3]) > 0.05


@pytest.mark.slow  # CLI demo: simulation, fit and figures
def test_demo_writes_figures_and_summary(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--n-frames", "2000"]) == 0
    out = tmp_path / "demo"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_frames"] == 2000
    assert summary["rf_correlation"] > 0.9
    for name in summary["figures"]:
        _assert_drawn_png(out / name)
    assert {"rf_true_vs_fitted.png", "response.png"} <= set(summary["figures"])
    printed = capsys.readouterr().out
    assert f"{summary['rf_correlation']:.3f}" in printed  # the recovery is printed
    assert str(out) in printed  # and where the files went


def test_options_without_a_command_run_the_demo(monkeypatch):
    seen = {}
    monkeypatch.setattr(cli, "run_demo", lambda args: seen.update(vars(args)))
    assert main(["--n-frames", "300", "--seed", "3", "--out", "somewhere"]) == 0
    assert (seen["n_frames"], seen["seed"], seen["out"]) == (300, 3, "somewhere")
    seen.clear()
    assert main([]) == 0
    assert seen["n_frames"] == 5000  # the documented default


def test_fit_real_recording(real_data_path, tmp_path, capsys):
    # The lag-0 fit is what this test checks; the joint lag fit is tested in
    # test_real_neuron_lags.py, so skip it here ("--lags 0").
    assert main(["fit", str(real_data_path), "--out", str(tmp_path), "--lags", "0"]) == 0
    printed = capsys.readouterr()
    # Outside spikes and unused frames are reported, once each, one line each.
    warning_lines = [line for line in printed.err.splitlines() if line.startswith("warning:")]
    assert any("7 at or after the last edge" in line for line in warning_lines)
    assert len(warning_lines) == len(set(warning_lines))
    assert "Reading" in printed.err  # progress on stderr
    out = tmp_path / real_data_path.stem
    _assert_drawn_png(out / "rf_lag0.png")
    summary = json.loads((out / "summary.json").read_text())
    lag0 = summary["lag0"]
    assert (lag0["peak_row"], lag0["peak_col"]) == (12, 4)
    assert lag0["peak_weight"] > 0  # ON-type
    assert summary["frame_shape"] == [20, 15]
    assert "row 12, col 4" in printed.out


# A toy cell: 900 frames of 4 x 5 pixels, the count of frame k Poisson with mean
# exp(0.8 x pixel (2, 3) of frame k), about 1.3 spikes per frame.
TOY_SHAPE, TOY_PIXEL = (4, 5), (2, 3)


def _toy_recording():
    rng = np.random.default_rng(0)
    stimulus = rng.choice([-1.0, 1.0], size=(901, 20))
    counts = rng.poisson(np.exp(0.8 * stimulus[:900, TOY_PIXEL[0] * 5 + TOY_PIXEL[1]]))
    return recording_from_counts(stimulus, counts, frame_shape=TOY_SHAPE, random_state=0)


@pytest.mark.slow  # 0.9 s per file type (measured in the fast loop at load ~3)
@pytest.mark.parametrize("suffix", [".mat", ".npz"])
def test_fit_a_recording_with_other_names(tmp_path, capsys, suffix):
    path = tmp_path / f"cell{suffix}"
    names = {"stimulus_key": "movie", "spike_key": "spikes", "trigger_key": "flips"}
    save_recording(path, _toy_recording(), **names)
    argv = ["fit", str(path), "--out", str(tmp_path / "out"), "--lags", "0-1", "--lags-alpha"]
    argv += ["1", "--stimulus-key", "movie", "--spikes-key", "spikes", "--triggers-key", "flips"]
    assert main([*argv, "--quiet"]) == 0
    printed = capsys.readouterr()
    # --quiet: no progress; only the (single-line, deduplicated) warning of the unused frame.
    assert all(line.startswith("warning:") for line in printed.err.splitlines())
    summary = json.loads((tmp_path / "out" / "cell" / "summary.json").read_text())
    assert summary["frame_shape"] == list(TOY_SHAPE)
    assert (summary["lag0"]["peak_row"], summary["lag0"]["peak_col"]) == TOY_PIXEL
    assert summary["n_bins"] == 900
    assert summary["lags"]["peaks"][0]["row"] == TOY_PIXEL[0]


def test_fit_a_pixels_by_frames_stimulus_with_frame_shape(tmp_path, capsys):
    recording = _toy_recording()
    path = tmp_path / "flat.npz"
    np.savez(
        path,
        DN_stim=recording.stimulus.T,  # pixels x frames
        DN_spiketimes=recording.spike_times,
        DN_triggertimes=recording.trigger_times,
    )
    out = tmp_path / "out"
    argv = ["fit", str(path), "--out", str(out), "--lags", "0", "--quiet"]
    assert main(argv) == 2  # the layout of the pixels is unknown without --frame-shape
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--frame-shape" in err
    assert not out.exists()
    assert main([*argv, "--frame-shape", "4x5"]) == 0
    summary = json.loads((out / "flat" / "summary.json").read_text())
    assert (summary["lag0"]["peak_row"], summary["lag0"]["peak_col"]) == TOY_PIXEL


@pytest.fixture
def toy_mat(tmp_path):
    path = tmp_path / "toy.mat"
    save_recording(path, _toy_recording())
    return path


@pytest.mark.parametrize(
    "argv, fix",
    [
        (["fit", "{missing}"], "no such file"),
        (["fit", "{text}"], ".mat"),
        (["fit", "{garbage}"], "savemat"),
        (["fit", "{toy}", "--stimulus-key", "movie"], "--stimulus-key"),
        (["fit", "{toy}", "--frame-shape", "3x3"], "--frame-shape"),
        (["fit", "{toy}", "--frame-shape", "big"], "ROWSxCOLS"),
        (["fit", "{toy}", "--alpha", "-1"], "--alpha"),
        (["fit", "{toy}", "--alpha", "nan"], "--alpha"),
        (["fit", "{toy}", "--drift", "-2"], "--drift"),
        (["fit", "{toy}", "--lags", "0-2000"], "--lags"),
        (["fit", "{toy}", "--lags", "x"], "--lags"),
        (["fit", "{toy}", "--sta-window", "0"], "--sta-window"),
        (["fit", "{toy}", "--sta", "--sta-resolution", "2"], "--sta-resolution"),
        (["fit", "{toy}", "--penalty", "l3"], "--penalty"),
        (["fit", "{toy}", "--center", "lab"], "--center"),
        (["fit", "{toy}", "--out", "{text}"], "--out"),
        (["demo", "--n-frames", "0"], "--n-frames"),
        (["fit"], "path"),
    ],
)
def test_user_errors_are_one_line_exit_2_and_write_nothing(tmp_path, toy_mat, capsys, argv, fix):
    text = tmp_path / "notes.txt"
    text.write_text("not a recording")
    garbage = tmp_path / "garbage.mat"
    garbage.write_bytes(bytes(range(256)) * 4)
    paths = {"missing": tmp_path / "nothing.mat", "text": text, "toy": toy_mat}
    paths["garbage"] = garbage
    argv = [a.format(**{k: str(v) for k, v in paths.items()}) for a in argv]
    out = tmp_path / "out"
    if "--out" not in argv:
        argv += ["--out", str(out)]
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own checks
        status = exit_.code
    assert status == 2
    printed = capsys.readouterr()
    lines = printed.err.strip().splitlines()
    # Progress lines (reading the file) may come first; the error is one last line.
    assert lines and "error:" in lines[-1] and fix in lines[-1]
    assert sum(": error:" in line for line in lines) == 1 and "Traceback" not in printed.err
    assert printed.out == ""
    assert not out.exists()


@pytest.mark.slow  # 2.0 s (measured in the fast loop at load ~3)
def test_progress_on_stderr_and_quiet(monkeypatch, tmp_path, capsys):
    assert main(["demo", "--n-frames", "300", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    assert "Simulating the textbook LNP neuron" in printed.err
    assert "Simulating" not in printed.out and "correlation" in printed.out
    argv = ["demo", "--n-frames", "300", "--out", str(tmp_path), "--quiet", "--overwrite"]
    assert main(argv) == 0  # replaces the earlier demo run
    assert capsys.readouterr().err == ""


def test_a_warning_is_printed_once_without_source_lines(monkeypatch, tmp_path, capsys):
    import warnings

    def warn_twice(args):
        for _ in range(2):
            warnings.warn("something odd\nover two lines", UserWarning, stacklevel=1)

    monkeypatch.setattr(cli, "run_demo", warn_twice)
    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().err == "warning: something odd over two lines\n"


@pytest.mark.parametrize(
    "argv, options",
    [
        (
            ["--help"],
            ["demo", "fit", "--n-frames", "--seed", "--alpha", "--frame-offset", "--out"],
        ),
        (["demo", "--help"], ["--n-frames", "--seed", "--out", "--verbose"]),
        (
            ["fit", "--help"],
            ["path", "--alpha", "--frame-offset", "--out", "--verbose", "--quiet", "--center"]
            + ["--stimulus-key", "--spikes-key", "--triggers-key", "--frame-shape", ".npz"],
        ),
    ],
)
def test_help_exits_zero_and_lists_options(argv, options, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in options:
        assert option in text


@pytest.mark.slow  # two runs with a joint CV, an L1 CV and the method table: ~10 s
def test_cross_validation_reports_each_fold_and_the_method_table_pairs_the_methods(
    tmp_path, toy_mat, capsys
):
    """Per-fold progress of the long CV steps on stderr (silenced by --quiet), and the
    method table: gains over the training rate with paired s.e. on stdout and in
    summary.json."""
    argv = ["fit", str(toy_mat), "--out", str(tmp_path), "--lags", "0-1", "--alpha-grid", "0.1,10"]
    argv += ["--penalty", "l1", "--l1-alphas", "0.1,0.01"]
    assert main(argv) == 0
    printed = capsys.readouterr()
    err = printed.err.splitlines()
    for fold in ("alpha 0.1, fold 3/5:", "alpha 10, fold 5/5:", "L1 fold 3/5:", "STA fold 2/5:"):
        assert any(fold in line for line in err), fold
    assert "fold 3/5" not in printed.out
    methods = json.loads((tmp_path / "toy" / "summary.json").read_text())["methods"]
    rows = {row["method"]: row for row in methods["methods"]}
    reference = rows[methods["reference"]]
    assert methods["reference"].startswith("L2, lags 0-1 jointly")
    assert reference["difference_to_reference"] == 0 and not reference["resolved"]
    assert len(rows) == 4 and methods["n_folds"] == 5 and "2 x" in methods["rule"]
    for row in rows.values():
        folds = np.array(row["fold_gains"])
        assert row["gain_bits_per_spike"] == pytest.approx(folds.mean())
        assert row["gain_se"] == pytest.approx(folds.std(ddof=1) / np.sqrt(5))
        differences = folds - np.array(reference["fold_gains"])
        assert row["difference_se"] == pytest.approx(differences.std(ddof=1) / np.sqrt(5))
        # the toy cell is driven by one pixel at lag 0: every model beats the constant rate
        assert row["gain_bits_per_spike"] > 0
    assert "| reference |" in printed.out and "Rule:" in printed.out
    assert main([*argv, "--quiet", "--overwrite"]) == 0
    assert not any("fold" in line for line in capsys.readouterr().err.splitlines())
