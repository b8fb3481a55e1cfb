"""The examples of the user guide's error-bar page run and print what it says."""

from __future__ import annotations

import doctest
from pathlib import Path

import matplotlib.pyplot as plt  # the Agg backend is set in conftest.py

PAGE = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "error_bars.rst"


def test_error_bars_page_examples():
    try:
        result = doctest.testfile(
            str(PAGE), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
        )
    finally:
        plt.close("all")
    assert result.attempted > 0 and result.failed == 0
