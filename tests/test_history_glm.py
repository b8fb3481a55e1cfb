"""The spike-history GLM analysis at sub-frame bins and its command option.

Facts asserted: the interpolating drift columns are tents that sum to
``scale``, hold constant outside the knots and reproduce any piecewise-linear
drift through the knots; the paired fold difference is the mean and standard
error of the differences; on a simulated recording whose neuron has a
refractory period, :func:`fit_history_glm` finds that history adds held-out
bits per spike (by more than 3 paired standard errors) and a history gain far
below 1 at the first lag, scores only interior blocks, and reaches the
optimum (gradient of the full fit below tol); ``sklearn-lnp fit
--history-bin-ms`` writes the comparison to summary.json and the gain figure;
bad values of the option are one-line usage errors naming it, before any work.
"""

from __future__ import annotations

import json

import matplotlib.image as mpimg
import numpy as np
import pytest
from sklearn.utils import Bunch

from sklearn_lnp.analysis import (
    fit_history_glm,
    interpolating_drift_regressors,
)
from sklearn_lnp.cli import main
from sklearn_lnp.datasets import recording_from_counts, save_recording
from sklearn_lnp.simulation import simulate_glm_spikes

SHAPE = (3, 4)
PIXEL = 6  # flat index of the pixel that drives the cell


def _refractory_recording(seed=0, n_frames=600, bin_width=0.005, rate=30.0):
    """A 3 x 4 pixel recording whose cell cannot fire within ~10 ms of a spike.

    Simulated at ``bin_width`` s (log rate ``log(rate) + 0.8 x pixel 6`` plus
    a history filter of -6 at lags 1-2 bins), each count spread uniformly
    inside its bin; frames last 0.18-0.25 s.
    """
    rng = np.random.default_rng(seed)
    stimulus = rng.choice([-1.0, 1.0], size=(n_frames + 1, SHAPE[0] * SHAPE[1]))
    triggers = np.r_[0.0, np.cumsum(rng.uniform(0.18, 0.25, n_frames))]
    starts = np.arange(0.0, triggers[-1] - bin_width, bin_width)
    frame = np.searchsorted(triggers, starts, side="right") - 1
    log_rate = np.log(rate) + 0.8 * stimulus[frame, PIXEL]
    counts = simulate_glm_spikes(log_rate, [-6.0, -6.0], exposure=bin_width, random_state=seed)[
        :, 0
    ].astype(int)
    spikes = np.repeat(starts, counts) + rng.uniform(0, bin_width, counts.sum())
    return Bunch(
        stimulus=stimulus,
        frame_shape=SHAPE,
        spike_times=np.sort(spikes),
        trigger_times=triggers,
    )


def _plain_recording(n_frames=60):
    """A 3 x 4 pixel recording of Poisson counts per frame (no numba simulation to compile)."""
    rng = np.random.default_rng(0)
    stimulus = rng.choice([-1.0, 1.0], size=(n_frames + 1, SHAPE[0] * SHAPE[1]))
    counts = rng.poisson(5.0 * np.exp(0.8 * stimulus[:n_frames, PIXEL]))
    return recording_from_counts(stimulus, counts, frame_shape=SHAPE, random_state=0)


def test_drift_tents_interpolate_and_never_extrapolate():
    knots = np.array([0.0, 2.0, 3.0, 7.0])
    times = np.linspace(-2.0, 9.0, 221)
    tents = interpolating_drift_regressors(times, knots, scale=3.0)
    assert tents.shape == (times.size, knots.size)
    np.testing.assert_allclose(tents.sum(axis=1), 3.0)  # a partition of unity, times scale
    assert tents.min() >= 0.0
    # Any drift through the knots is reproduced linearly between them, constant outside.
    values = np.array([0.5, -1.0, 2.0, 0.25])
    np.testing.assert_allclose(tents @ values / 3.0, np.interp(times, knots, values))
    np.testing.assert_allclose(tents[times <= 0.0] / 3.0, np.eye(4)[[0]].repeat(41, axis=0))
    with pytest.raises(ValueError, match="knots"):
        interpolating_drift_regressors(times, np.array([0.0, 0.0, 1.0]))


@pytest.mark.slow  # 17 fits on 26,000 bins: ~4 s of CPU
def test_history_adds_bits_on_a_refractory_neuron():
    recording = _refractory_recording()
    result = fit_history_glm(
        recording, bin_width=0.005, n_pixels=2, n_blocks=6, stimulus_window=0.1
    )
    assert set(result.scores) == {
        "stimulus",
        "stimulus_history",
        "stimulus_drift",
        "stimulus_history_drift",
    }
    assert all(s.shape == (4,) for s in result.scores.values())  # interior blocks only
    assert PIXEL in result.pixels  # chosen by the STA
    mean, se = result.differences["history"]
    assert mean > 3 * se and mean > 0
    mean, se = result.differences["history_given_drift"]
    assert mean > 3 * se and mean > 0
    # Refractoriness: a spike 5 ms ago all but silences the cell (true gain exp(-6) at
    # 5-10 ms and 1 after; the smooth log-time basis spreads the dip over its first bumps).
    assert result.history_gain[0] < 0.5
    assert result.history_lag_ms[0] == pytest.approx(5.0)
    # The full fit is at the optimum: largest gradient entry at most tol.
    assert result.model.optimality_ <= result.model.tol
    n = result.n_columns
    assert result.model.coef_.size == n["stimulus"] + n["history"] + n["drift"]


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"bin_width": 0.0}, "bin_width"),
        ({"bin_width": 0.5}, "bin_width"),
        ({"n_blocks": 3}, "n_blocks"),
        ({"history_window": 0.001}, "history_window"),
        ({"pixels": [0, 99]}, "pixels"),
        ({"pixels": [0.5]}, "pixels"),
    ],
)
def test_history_glm_refuses_bad_arguments_by_name(kwargs, name):
    recording = _plain_recording()
    with pytest.raises(ValueError, match=name):
        fit_history_glm(recording, **{"bin_width": 0.005, **kwargs})


@pytest.mark.slow  # 33 fits of the command's defaults on 4,400 bins
def test_command_writes_the_history_comparison_and_figure(tmp_path, capsys):
    path = tmp_path / "refractory.npz"
    save_recording(path, _refractory_recording(n_frames=200, bin_width=0.01))
    argv = ["fit", str(path), "--out", str(tmp_path / "out"), "--lags", "0"]
    assert main([*argv, "--history-bin-ms", "10", "--quiet"]) == 0
    out = tmp_path / "out" / "refractory"
    summary = json.loads((out / "summary.json").read_text())
    history = summary["history"]
    assert history["bin_width_s"] == pytest.approx(0.01)
    assert history["null"] == "train"
    scores = history["bits_per_spike"]
    assert len(scores["stimulus"]) == 8  # the interior blocks of 10
    diff = np.subtract(scores["stimulus_history"], scores["stimulus"])
    paired = history["differences"]["history"]
    assert paired["mean"] == pytest.approx(diff.mean())
    assert paired["paired_se"] == pytest.approx(diff.std(ddof=1) / np.sqrt(diff.size))
    assert paired["mean"] > 3 * paired["paired_se"]
    assert history["history_gain"][0] < 0.5  # refractory (true exp(-6), smoothed by the basis)
    assert "history_gain.png" in summary["figures"]
    image = mpimg.imread(out / "history_gain.png")
    assert image.shape[0] > 100 and np.std(image[..., :3]) > 0.05
    assert "history adds" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, fix",
    [("0", "--history-bin-ms"), ("-2", "--history-bin-ms"), ("60", "--history-bin-ms"),
     ("x", "--history-bin-ms")],
)  # fmt: skip
def test_command_refuses_bad_history_bins_before_any_work(tmp_path, capsys, value, fix):
    path = tmp_path / "refractory.npz"
    save_recording(path, _plain_recording())
    out = tmp_path / "out"
    argv = ["fit", str(path), "--out", str(out), "--lags", "0", "--history-bin-ms", value]
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own checks
        status = exit_.code
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "error:" in err[-1] and fix in err[-1]
    assert not out.exists()


def test_command_refuses_a_history_bin_wider_than_a_frame(tmp_path, capsys):
    recording = _plain_recording()
    recording.trigger_times = recording.trigger_times.copy()
    recording.trigger_times[5] = recording.trigger_times[4] + 0.02  # one 20 ms frame
    path = tmp_path / "short_frame.npz"
    save_recording(path, recording)
    argv = ["fit", str(path), "--out", str(tmp_path / "out"), "--history-bin-ms", "30"]
    assert main([*argv, "--lags", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--history-bin-ms 30" in err and "shortest frame interval" in err


def test_without_drift_only_the_two_models_are_fitted():
    recording = _plain_recording(n_frames=80)
    result = fit_history_glm(
        recording, bin_width=0.005, n_pixels=1, n_blocks=4, stimulus_window=0.05, drift=False
    )
    assert list(result.scores) == ["stimulus", "stimulus_history"]
    assert list(result.differences) == ["history"]
    n = result.n_columns
    assert result.model.coef_.size == n["stimulus"] + n["history"]  # no drift columns
