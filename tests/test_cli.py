"""The ``sklearn-lnp`` command: demo, fit of a real recording, help.

Facts asserted: the demo recovers the simulated RF (correlation > 0.95 at
800 frames; measured 0.973 to 0.980 over seeds 0..19) and writes its figures
and a JSON summary that says so; ``fit`` on the lab's recording writes the RF
figure and a summary whose lag-0 peak is at row 12, col 4; ``--help`` exits 0
and documents every option of every command.
"""

from __future__ import annotations

import json

import matplotlib.image as mpimg
import numpy as np
import pytest
from scipy.io import savemat

from sklearn_lnp import cli
from sklearn_lnp.cli import main


def _assert_drawn_png(path):
    """A real image with something drawn on it (not one flat colour)."""
    assert path.is_file()
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert np.std(image[..., :3]) > 0.05


@pytest.mark.slow  # CLI demo: simulation, fit and figures
def test_demo_writes_figures_and_summary(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--n-frames", "800"]) == 0
    out = tmp_path / "demo"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_frames"] == 800
    assert summary["rf_correlation"] > 0.95
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
    assert seen["n_frames"] == 2000  # the documented default


def test_fit_real_recording(real_data_path, tmp_path, capsys):
    with pytest.warns(UserWarning) as record:  # outside spikes and unused frames are reported
        # The lag-0 fit is what this test checks; the joint lag fit is tested in
        # test_real_neuron_lags.py, so skip it here ("--lags 0").
        assert main(["fit", str(real_data_path), "--out", str(tmp_path), "--lags", "0"]) == 0
    messages = " ".join(str(w.message) for w in record)
    assert "7 at or after the last edge" in messages
    out = tmp_path / real_data_path.stem
    _assert_drawn_png(out / "rf_lag0.png")
    summary = json.loads((out / "summary.json").read_text())
    lag0 = summary["lag0"]
    assert (lag0["peak_row"], lag0["peak_col"]) == (12, 4)
    assert lag0["peak_weight"] > 0  # ON-type
    assert summary["frame_shape"] == [20, 15]
    assert "row 12, col 4" in capsys.readouterr().out


def test_fit_reports_a_bad_file(tmp_path):
    path = tmp_path / "bad.mat"
    savemat(path, {"DN_spiketimes": np.array([[0.1]]), "DN_triggertimes": np.array([[0.0]])})
    with pytest.raises(ValueError, match="DN_stim"):
        main(["fit", str(path), "--out", str(tmp_path)])


@pytest.mark.parametrize(
    "argv, options",
    [
        (
            ["--help"],
            ["demo", "fit", "--n-frames", "--seed", "--alpha", "--frame-offset", "--out"],
        ),
        (["demo", "--help"], ["--n-frames", "--seed", "--out", "--verbose"]),
        (["fit", "--help"], ["path", "--alpha", "--frame-offset", "--out", "--verbose"]),
    ],
)
def test_help_exits_zero_and_lists_options(argv, options, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in options:
        assert option in text
