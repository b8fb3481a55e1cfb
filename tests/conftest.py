"""Shared fixtures: the lab's real recording, found beside the repository."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_PATH = REPO_ROOT.parent / "shared" / "data" / "nds_cl_5_data.mat"
# Doctests that run the command line end to end (simulation or toy recording, fits,
# figures): seconds each, so in the "slow" set with the tests that do the same.
SLOW_DOCTESTS = (
    "sklearn_lnp/cli.py::sklearn_lnp.cli.run_",
    "sklearn_lnp/cli.py::sklearn_lnp.cli.main",
    # three evidence optimisations and a ridge grid over folds
    "sklearn_lnp/analysis.py::sklearn_lnp.analysis.fit_smooth_lags",
)
REAL_DATA_SKIP_REASON = (
    f"real recording not found at {REAL_DATA_PATH} (the lab's nds_cl_5_data.mat is expected "
    "in ../shared/data/ beside the repository; it is never copied into the repo)"
)


@pytest.fixture(scope="session")
def real_data_path() -> Path:
    """Path of the real recording; skips the test, with the reason, when absent."""
    if not REAL_DATA_PATH.exists():
        pytest.skip(REAL_DATA_SKIP_REASON)
    return REAL_DATA_PATH


@pytest.fixture(scope="session")
def real_recording(real_data_path):
    """The loaded recording (Bunch of stimulus, frame_shape, spike and trigger times)."""
    from sklearn_lnp.datasets import load_recording

    return load_recording(real_data_path)


@pytest.fixture(scope="session")
def real_design(real_recording):
    """Lag-0 design of the real neuron: X (1488 x 300), counts, exposure (bin k <-> frame k)."""
    from sklearn_lnp.datasets import recording_design

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return recording_design(real_recording)


@pytest.fixture(scope="session")
def real_lagged_X(real_design):
    """The real neuron's stimulus on lags 0-4: 1488 bins x 1500 columns (pixel-major per lag)."""
    from sklearn_lnp import LagTransformer

    return LagTransformer(lags=range(5)).fit_transform(real_design.X)


def pytest_collection_modifyitems(config, items):
    """Mark the command-line doctests slow (``python -m pytest -m "not slow"`` skips them)."""
    for item in items:
        if item.nodeid.startswith(SLOW_DOCTESTS):
            item.add_marker(pytest.mark.slow)
