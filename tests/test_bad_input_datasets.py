"""``load_recording`` on bad input: every failure says which file and what is wrong.

Facts asserted: a truncated, empty or garbage ``.mat`` or ``.npz`` file is a
``ValueError`` naming the file (scipy's OSError, IndexError and MatReadError
do not escape); a missing file is a ``FileNotFoundError`` and a folder an
``IsADirectoryError``, both naming the path; a ``pathlib.Path`` is accepted;
a MATLAB v7.3 (HDF5) file is read with h5py, axes in MATLAB's order, equal
to the same recording saved as MATLAB 5, and without h5py is a
``ValueError`` naming the extra to install; a missing variable names the
parameter that sets it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from sklearn_lnp.datasets import load_recording

ROWS, COLS, N_FRAMES = 4, 3, 10


def _variables():
    rng = np.random.default_rng(0)
    return {
        "DN_stim": rng.integers(0, 2, size=(ROWS, COLS, N_FRAMES)).astype(np.uint8),
        "DN_spiketimes": np.array([[0.05], [0.31], [0.33], [1.9]]),  # MATLAB columns
        "DN_triggertimes": np.linspace(0.0, 2.0, N_FRAMES + 1)[:, None],
    }


@pytest.fixture
def good_mat(tmp_path):
    path = tmp_path / "good.mat"
    savemat(path, _variables())
    return path


def _write_v73(path, variables, *, header=True):
    """A MATLAB v7.3-like file: HDF5 after a 512-byte MATLAB header, axes reversed."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w", userblock_size=512) as file:
        for name, value in variables.items():
            value = np.asarray(value)
            dataset = file.create_dataset(name, data=value.T)  # MATLAB is column-major
            dataset.attrs["MATLAB_class"] = np.bytes_(
                "uint8" if value.dtype == np.uint8 else "double"
            )
        file.create_group("#refs#")
    if header:
        text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Dec  3 2026 HDF5 schema"
        block = text.ljust(116, b" ") + b"\0" * 8 + b"\x00\x02IM"
        with open(path, "r+b") as file:
            file.write(block.ljust(512, b"\0"))
    return path


@pytest.mark.parametrize(
    "damage",
    ["half", "header_only", "empty", "garbage", "text"],
)
def test_unreadable_mat_is_a_value_error_naming_the_file(tmp_path, good_mat, damage):
    data = good_mat.read_bytes()
    contents = {
        "half": data[: len(data) // 2],
        "header_only": data[:100],
        "empty": b"",
        "garbage": bytes(range(256)) * 4,
        "text": b"spike times: 0.1 0.2 0.3\n",
    }[damage]
    path = tmp_path / f"{damage}.mat"
    path.write_bytes(contents)
    with pytest.raises(ValueError, match="not a readable") as info:
        load_recording(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("damage", ["half", "empty", "garbage"])
def test_unreadable_npz_is_a_value_error_naming_the_file(tmp_path, damage):
    good = tmp_path / "good.npz"
    np.savez(good, **_variables())
    data = good.read_bytes()
    contents = {"half": data[: len(data) // 2], "empty": b"", "garbage": bytes(range(256))}
    path = tmp_path / f"{damage}.npz"
    path.write_bytes(contents[damage])
    with pytest.raises(ValueError, match="not a readable .npz") as info:
        load_recording(path)
    assert str(path) in str(info.value)


def test_a_missing_file_is_file_not_found_naming_it(tmp_path):
    path = tmp_path / "nothing.mat"
    with pytest.raises(FileNotFoundError, match="no such file") as info:
        load_recording(path)
    assert str(path) in str(info.value)
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        load_recording(tmp_path / "nothing.npz")


@pytest.mark.parametrize("name", ["recordings", "looks_like.mat"])
def test_a_folder_is_a_directory_error_naming_it(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder") as info:
        load_recording(folder)
    assert str(folder) in str(info.value) and f"{folder}.mat" not in str(info.value)


def test_a_pathlib_path_is_accepted(good_mat):
    recording = load_recording(Path(good_mat))
    assert recording.stimulus.shape == (N_FRAMES, ROWS * COLS)


def test_a_v73_hdf5_file_is_read_like_matlab_5(tmp_path, good_mat):
    path = _write_v73(tmp_path / "v73.mat", _variables())
    expected, recording = load_recording(good_mat), load_recording(path)
    assert recording.frame_shape == (ROWS, COLS)
    np.testing.assert_array_equal(recording.stimulus, expected.stimulus)
    np.testing.assert_array_equal(recording.spike_times, expected.spike_times)
    np.testing.assert_array_equal(recording.trigger_times, expected.trigger_times)


def test_an_hdf5_file_without_the_matlab_header_is_read(tmp_path, good_mat):
    path = _write_v73(tmp_path / "plain.mat", _variables(), header=False)
    np.testing.assert_array_equal(load_recording(path).stimulus, load_recording(good_mat).stimulus)


def test_a_v73_file_without_h5py_names_the_extra(tmp_path, monkeypatch):
    path = _write_v73(tmp_path / "v73.mat", _variables())
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py raises ImportError
    with pytest.raises(ValueError, match=r"v7\.3 \(HDF5\).*h5py.*\.\[hdf5\]") as info:
        load_recording(path)
    assert str(path) in str(info.value)


def test_a_truncated_v73_file_is_a_value_error(tmp_path):
    path = _write_v73(tmp_path / "v73.mat", _variables())
    path.write_bytes(path.read_bytes()[:1200])
    with pytest.raises(ValueError, match=r"not a readable MATLAB v7\.3") as info:
        load_recording(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "missing, parameter",
    [
        ("DN_stim", "stimulus_key"),
        ("DN_spiketimes", "spike_key"),
        ("DN_triggertimes", "trigger_key"),
    ],
)
def test_a_missing_variable_names_the_parameter_to_set(tmp_path, missing, parameter):
    variables = _variables()
    variables[f"other_{missing}"] = variables.pop(missing)  # the wrong name
    path = tmp_path / "renamed.mat"
    savemat(path, variables)
    with pytest.raises(ValueError) as info:
        load_recording(path)
    message = str(info.value)
    assert f"{parameter}='{missing}'" in message and f"other_{missing}" in message
    assert f"pass {parameter}=NAME" in message
    v73 = _write_v73(tmp_path / "renamed73.mat", variables)
    with pytest.raises(ValueError, match=f"pass {parameter}=NAME"):
        load_recording(v73)
