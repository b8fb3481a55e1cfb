"""The ``sklearn-lnp`` command on bad input and on existing output: no silent loss.

Facts asserted.  Output: each run goes to a new folder ``--out``/<recording
name>, and one stdout line says where; an existing folder is refused (exit 2,
one line naming ``--out`` and ``--overwrite``) and left byte for byte as it
was; ``--overwrite`` replaces a folder holding an earlier run of the same
recording, so a rerun with fewer options leaves no stale figure beside a
summary that does not list it, but never replaces a folder with other files,
the results of a recording of the same name from another folder, or the
demo's; Ctrl-C (``KeyboardInterrupt`` in an analysis step) leaves nothing
partial, neither in the target nor beside it, and an earlier run intact.
Options: each of ``--lags-alpha -1``, ``--drift -1``, ``--l1-alphas 0``,
``--frame-offset 5000``, a float or non-dividing ``--frame-shape`` and a
request whose memory exceeds the machine's (``--sta-window 1e9``,
``--sta-resolution 1e-9``, ``--lags`` on a machine too small) is refused
before any work with the option named, one line on stderr, exit 2, nothing
written.  A ``ValueError`` of this package's validation is one line; any
other exception (a bug) propagates with its traceback.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from _bad_input import ANALYSIS_STEPS, patch_step

from sklearn_lnp.cli import main
from sklearn_lnp.datasets import recording_from_counts, save_recording

PIXEL = (2, 3)  # the toy cell's RF: pixel (row 2, col 3) of a 4 x 5 frame


def _toy_recording(n_frames=300):
    rng = np.random.default_rng(1)
    stimulus = rng.choice([-1.0, 1.0], size=(n_frames + 1, 20))
    counts = rng.poisson(np.exp(0.8 * stimulus[:n_frames, PIXEL[0] * 5 + PIXEL[1]]))
    return recording_from_counts(stimulus, counts, frame_shape=(4, 5), random_state=0)


@pytest.fixture
def cell(tmp_path):
    path = tmp_path / "data" / "cell.mat"
    path.parent.mkdir()
    save_recording(path, _toy_recording())
    return path


def _run(capsys, *argv):
    """Exit status, stdout, stderr of ``sklearn-lnp argv`` (argparse's exits included)."""
    try:
        status = main([*argv, "--quiet"])
    except SystemExit as exit_:
        status = exit_.code
    printed = capsys.readouterr()
    return status, printed.out, printed.err


def _snapshot(folder):
    """{relative path: bytes} of every file under ``folder``."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _assert_one_error_line(err, *words):
    """One error line (after any one-line warnings), holding ``words``."""
    lines = [line for line in err.strip().splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and ": error:" in lines[0] and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]


# -- where a run's output goes ---------------------------------------------------------


def test_a_run_says_where_its_output_went(tmp_path, cell, capsys):
    out = tmp_path / "out"
    status, stdout, _ = _run(capsys, "fit", str(cell), "--out", str(out), "--lags", "0")
    assert status == 0
    where = [line for line in stdout.splitlines() if line.startswith("Wrote")]
    assert where == [f"Wrote rf_lag0.png and summary.json to {out / 'cell'}/"]
    assert sorted(p.name for p in out.iterdir()) == ["cell"]  # nothing partial beside it
    summary = json.loads((out / "cell" / "summary.json").read_text())
    assert {p.name for p in (out / "cell").iterdir()} == {"summary.json", *summary["figures"]}


@pytest.mark.slow
def test_an_existing_output_folder_is_refused_and_kept(tmp_path, cell, capsys):
    out = tmp_path / "out"
    argv = ["fit", str(cell), "--out", str(out), "--lags", "0"]
    assert _run(capsys, *argv)[0] == 0
    before = _snapshot(out)
    status, stdout, err = _run(capsys, *argv, "--alpha", "1")
    assert status == 2 and stdout == ""
    _assert_one_error_line(err, "--out", "--overwrite", str(out / "cell"))
    assert _snapshot(out) == before


def test_a_summary_or_figure_in_the_target_is_never_replaced(tmp_path, cell, capsys):
    target = tmp_path / "out" / "cell"
    target.mkdir(parents=True)
    (target / "summary.json").write_text('{"mine": "hand-written notes"}')
    (target / "rf_lag0.png").write_bytes(b"my own figure")
    before = _snapshot(tmp_path / "out")
    for extra in ([], ["--overwrite"]):
        argv = ["fit", str(cell), "--out", str(tmp_path / "out"), "--lags", "0", *extra]
        status, _, err = _run(capsys, *argv)
        assert status == 2
        _assert_one_error_line(err, "--out")
        assert _snapshot(tmp_path / "out") == before


@pytest.mark.slow
def test_overwrite_replaces_an_earlier_run_without_stale_figures(tmp_path, cell, capsys):
    out = tmp_path / "out"
    argv = ["fit", str(cell), "--out", str(out), "--lags-alpha", "1", "--lags", "0-1"]
    assert _run(capsys, *argv)[0] == 0
    assert (out / "cell" / "rf_lags.png").is_file()
    # A rerun with fewer options: the joint fit's figures must not stay behind.
    status, stdout, _ = _run(capsys, "fit", str(cell), "--out", str(out), "--lags", "0",
                             "--overwrite")  # fmt: skip
    assert status == 0 and f"to {out / 'cell'}/" in stdout
    summary = json.loads((out / "cell" / "summary.json").read_text())
    assert summary["figures"] == ["rf_lag0.png"] and "lags" not in summary
    assert {p.name for p in (out / "cell").iterdir()} == {"summary.json", "rf_lag0.png"}
    assert sorted(p.name for p in out.iterdir()) == ["cell"]


def test_recordings_of_the_same_name_never_overwrite_each_other(tmp_path, cell, capsys):
    other = tmp_path / "other_day" / "cell.mat"
    other.parent.mkdir()
    save_recording(other, _toy_recording(n_frames=250))
    out = tmp_path / "out"
    assert _run(capsys, "fit", str(cell), "--out", str(out), "--lags", "0")[0] == 0
    before = _snapshot(out)
    for extra in ([], ["--overwrite"]):
        status, _, err = _run(capsys, "fit", str(other), "--out", str(out), "--lags", "0", *extra)
        assert status == 2
        _assert_one_error_line(err, "--out", str(out / "cell"))
        assert _snapshot(out) == before
    assert "another recording" not in err or str(cell) in err
    assert str(cell.resolve()) in err  # says whose results are there


@pytest.mark.slow
def test_the_demo_is_refused_and_overwritten_like_a_fit(tmp_path, capsys, monkeypatch):
    from sklearn_lnp import analysis

    def tiny(n_frames, **kwargs):
        return analysis.fit_simulated_neuron(300, **kwargs)

    patch_step(monkeypatch, "fit_simulated_neuron", tiny)
    out = tmp_path / "out"
    assert _run(capsys, "demo", "--out", str(out))[0] == 0
    before = _snapshot(out)
    status, _, err = _run(capsys, "demo", "--out", str(out), "--seed", "1")
    assert status == 2 and _snapshot(out) == before
    _assert_one_error_line(err, "--out", "--overwrite")
    status, stdout, _ = _run(capsys, "demo", "--out", str(out), "--seed", "1", "--overwrite")
    assert status == 0 and json.loads((out / "demo" / "summary.json").read_text())["seed"] == 1


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.slow
@pytest.mark.parametrize("step", ["fit_lags_jointly", "spike_time_sta"])
def test_ctrl_c_leaves_nothing_partial(tmp_path, cell, capsys, monkeypatch, step):
    patch_step(monkeypatch, step, _interrupt)
    out = tmp_path / "results" / "today"
    argv = ["fit", str(cell), "--out", str(out), "--lags-alpha", "1", "--lags", "0-1", "--sta"]
    status, _, err = _run(capsys, *argv)
    assert status == 130 and "interrupted" in err and "Traceback" not in err
    # The lag-0 figure was drawn before the interrupt, but nothing is left, not
    # even the folders made for the run.
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_ctrl_c_during_overwrite_keeps_the_earlier_run(tmp_path, cell, capsys, monkeypatch):
    out = tmp_path / "out"
    argv = ["fit", str(cell), "--out", str(out), "--lags", "0"]
    assert _run(capsys, *argv)[0] == 0
    before = _snapshot(out)
    patch_step(monkeypatch, "fit_lags_jointly", _interrupt)
    status, _, _ = _run(capsys, *argv[:-2], "--lags", "0-1", "--lags-alpha", "1", "--overwrite")
    assert status == 130
    assert _snapshot(out) == before and sorted(p.name for p in out.iterdir()) == ["cell"]


# -- every option checked before any work ---------------------------------------------


@pytest.fixture
def no_work(monkeypatch):
    """Make any analysis step fail the test: refusals must come before any work."""

    def work(*args, **kwargs):
        raise AssertionError("an analysis ran before the options were checked")

    for step in ANALYSIS_STEPS:
        patch_step(monkeypatch, step, work)


@pytest.mark.parametrize(
    "options, named",
    [
        (["--lags-alpha", "-1"], "--lags-alpha"),
        (["--drift", "-1"], "--drift"),
        (["--penalty", "l1", "--l1-alphas", "0"], "--l1-alphas"),
        (["--penalty", "l1", "--l1-alphas", "0.1,0"], "--l1-alphas"),
        (["--frame-offset", "5000"], "--frame-offset"),
        (["--frame-offset", "-5000"], "--frame-offset"),
        (["--lags", "0-100000"], "--lags"),
        (["--sta", "--sta-window", "1e9"], "--sta-window"),
        (["--sta", "--sta-resolution", "1e-9"], "--sta-resolution"),
        (["--frame-shape", "4.5x5"], "--frame-shape"),
        (["--frame-shape", "2x10"], "--frame-shape"),
    ],
)
def test_options_are_refused_before_any_work(tmp_path, cell, capsys, no_work, options, named):
    out = tmp_path / "out"
    start = time.perf_counter()
    status, stdout, err = _run(capsys, "fit", str(cell), "--out", str(out), *options)
    assert time.perf_counter() - start < 10  # refused up front, not after a MemoryError
    assert status == 2 and stdout == ""
    _assert_one_error_line(err, named)
    assert not out.exists()


@pytest.mark.parametrize(
    "options", [["--sta", "--sta-window", "1e9"], ["--sta-resolution", "1e-9", "--sta"]]
)
def test_memory_refusal_says_how_much_is_needed_and_available(tmp_path, cell, capsys, options):
    status, _, err = _run(capsys, "fit", str(cell), "--out", str(tmp_path / "out"), *options)
    assert status == 2
    _assert_one_error_line(err, "would need", "more than this machine has")


def test_lags_too_large_for_the_machine_are_refused(tmp_path, cell, capsys, no_work, monkeypatch):
    # 300 bins x (200 lags x 20 pixels + 6) columns: about 29 MiB, here more than "the machine".
    monkeypatch.setattr("sklearn_lnp._validation.physical_memory", lambda: 2**20)
    status, _, err = _run(capsys, "fit", str(cell), "--out", str(tmp_path / "out"),
                          "--lags", "0-199")  # fmt: skip
    assert status == 2
    _assert_one_error_line(err, "--lags 0-199", "would need", "1 MiB")


@pytest.mark.parametrize(
    "options, named",
    [
        (["--lags", "0-199"], "--lags 0-199"),
        (["--penalty", "l1", "--lags", "0,1"], "--lags 0,1"),
        (["--sta", "--lags", "0"], "--sta-window"),
    ],
)
def test_requests_beyond_the_available_memory_are_refused_before_any_work(
    tmp_path, cell, capsys, no_work, monkeypatch, options, named
):
    """Compared with the memory available now, not the machine's total: refused, naming
    the option, the estimate and the available memory, before any analysis runs."""
    monkeypatch.setattr("sklearn_lnp._validation.physical_memory", lambda: 2**40)
    monkeypatch.setattr("sklearn_lnp._validation.available_memory", lambda: 2**10)
    status, _, err = _run(capsys, "fit", str(cell), "--out", str(tmp_path / "out"), *options)
    assert status == 2
    _assert_one_error_line(err, named, "would need", "available (1 KiB of 1 TiB)")
    assert not (tmp_path / "out").exists()


def test_available_memory_is_at_most_the_physical_memory():
    from sklearn_lnp._validation import available_memory, physical_memory

    available, total = available_memory(), physical_memory()
    if total is not None:
        assert available is not None and 0 < available <= total


def test_a_frame_shape_that_does_not_divide_a_flat_stimulus(tmp_path, capsys, no_work):
    recording = _toy_recording()
    path = tmp_path / "flat.npz"
    np.savez(path, DN_stim=recording.stimulus.T, DN_spiketimes=recording.spike_times,
             DN_triggertimes=recording.trigger_times)  # fmt: skip
    status, _, err = _run(capsys, "fit", str(path), "--out", str(tmp_path / "out"),
                          "--frame-shape", "3x7")  # fmt: skip
    assert status == 2
    _assert_one_error_line(err, "--frame-shape", "20")


@pytest.mark.parametrize("name", ["folder.mat", "folder"])
def test_a_folder_as_recording_is_one_line(tmp_path, capsys, name):
    (tmp_path / name).mkdir()
    status, _, err = _run(capsys, "fit", str(tmp_path / name), "--out", str(tmp_path / "out"))
    assert status == 2
    _assert_one_error_line(err, str(tmp_path / name), "folder")


# -- user errors are one line, bugs keep their traceback ----------------------------------


def test_a_validation_error_inside_an_analysis_is_one_line(tmp_path, cell, capsys):
    # 5-fold blocked CV with a gap of 299 lags leaves no training bins: the
    # package's own ValueError, reported in one line.
    argv = ["fit", str(cell), "--out", str(tmp_path / "out"), "--lags", "0-299"]
    status, _, err = _run(capsys, *argv)
    assert status == 2
    _assert_one_error_line(err, "gap")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bug", [ZeroDivisionError, lambda: np.zeros(3).reshape(2, 2)])
def test_a_bug_keeps_its_traceback(tmp_path, cell, monkeypatch, bug):
    def broken(*args, **kwargs):
        if isinstance(bug, type):
            raise bug("a bug")
        bug()  # numpy's ValueError: not a user error

    patch_step(monkeypatch, "fit_lags_separately", broken)
    with pytest.raises((ZeroDivisionError, ValueError)):
        main(["fit", str(cell), "--out", str(tmp_path / "out"), "--lags", "0", "--quiet"])
    assert not (tmp_path / "out").exists()


def test_a_kill_leaves_nothing_partial(tmp_path, cell, capsys, monkeypatch):
    import os
    import signal

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the signal arrives here
        raise AssertionError("SIGTERM did not stop the run")

    patch_step(monkeypatch, "fit_lags_jointly", killed)
    previous = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "out"
    status, _, err = _run(capsys, "fit", str(cell), "--out", str(out), "--lags", "0-1")
    assert status == 130 and "interrupted" in err
    assert not out.exists()
    assert signal.getsignal(signal.SIGTERM) == previous  # the handler is the caller's again


def test_available_memory_reading_is_reused_for_a_second(monkeypatch):
    """/proc/meminfo is read at most once a second; the physical bound applies every time."""
    import io

    from sklearn_lnp import _validation

    now = [1000.0]
    reads = []

    def meminfo(path, *args, **kwargs):
        reads.append(path)
        return io.StringIO(f"MemTotal: 99 kB\nMemAvailable: {len(reads)} kB\n")

    monkeypatch.setattr(_validation.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(_validation, "_last_reading", [-float("inf"), None])
    monkeypatch.setattr(_validation, "open", meminfo, raising=False)
    monkeypatch.setattr(_validation, "physical_memory", lambda: 2**40)
    assert _validation.available_memory() == 1024 and reads == ["/proc/meminfo"]
    now[0] += 0.9
    assert _validation.available_memory() == 1024 and len(reads) == 1  # reused
    monkeypatch.setattr(_validation, "physical_memory", lambda: 512)
    assert _validation.available_memory() == 512  # never more than the physical memory
    now[0] += 0.2
    monkeypatch.setattr(_validation, "physical_memory", lambda: 2**40)
    assert _validation.available_memory() == 2048 and len(reads) == 2  # read afresh
