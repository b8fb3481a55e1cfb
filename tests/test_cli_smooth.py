"""``sklearn-lnp fit --smooth``: the evidence-optimised smoothness prior from the command."""

from __future__ import annotations

import json

import matplotlib.image as mpimg
import numpy as np
import pytest

from sklearn_lnp import _command
from sklearn_lnp.cli import build_parser, main
from sklearn_lnp.datasets import recording_from_counts, save_recording

SHAPE, PIXEL = (4, 5), (1, 2)


@pytest.fixture
def toy_mat(tmp_path):
    """900 bins of a cell driven by pixel (1, 2) of a 4 x 5 frame."""
    rng = np.random.default_rng(0)
    stimulus = rng.choice([-1.0, 1.0], size=(901, 20))
    counts = rng.poisson(np.exp(0.8 * stimulus[:900, PIXEL[0] * SHAPE[1] + PIXEL[1]]))
    path = tmp_path / "toy.mat"
    save_recording(path, recording_from_counts(stimulus, counts, frame_shape=SHAPE, random_state=0))
    return path


def test_smooth_option_is_off_by_default_and_documented(capsys):
    assert build_parser().parse_args(["fit", "x.mat"]).smooth is False
    assert build_parser().parse_args(["fit", "x.mat", "--smooth"]).smooth is True
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fit", "--help"])
    assert "--smooth" in capsys.readouterr().out


def test_smooth_memory_is_checked_before_any_work(monkeypatch, tmp_path, toy_mat, capsys):
    def refuse(n_bytes, request):
        if "--smooth" in request:
            raise ValueError(f"{request} needs {n_bytes:.0f} bytes, more than this machine has.")

    monkeypatch.setattr(_command, "check_memory", refuse)
    out = tmp_path / "out"
    argv = ["fit", str(toy_mat), "--lags", "0-1", "--smooth", "--out", str(out), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "--smooth on --lags 0,1" in err[-1] and "choose fewer lags" in err[-1]
    assert not out.exists()


@pytest.mark.slow  # five evidence fits on folds, one on all bins, and a ridge grid
def test_fit_with_smooth_writes_its_block_and_figures(tmp_path, toy_mat, capsys):
    out = tmp_path / "out"
    argv = ["fit", str(toy_mat), "--lags", "0-1", "--lags-alpha", "1", "--smooth"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "toy" / "summary.json").read_text())
    block = summary["smooth"]
    assert (block["peaks"][0]["row"], block["peaks"][0]["col"]) == PIXEL
    assert len(block["cv_bits_per_spike_smooth"]) == len(block["cv_bits_per_spike_ridge"]) == 5
    assert np.isfinite(block["difference_paired_se"]) and block["n_map_fits"] > 0
    assert len(block["coef"]) == len(block["coef_std"]) == 2 * 20
    for name in ("rf_smooth.png", "rf_smooth_z.png"):
        assert name in summary["figures"]
        image = mpimg.imread(out / "toy" / name)
        assert image.ndim == 3 and np.std(image[..., :3]) > 0.05
    assert "SmoothLNPRegressor: length scales" in capsys.readouterr().out
