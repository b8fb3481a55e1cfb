"""The example of the user guide's GLM page runs and shows what it says."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "glm.rst"


@pytest.mark.slow  # a 60,000-bin simulation and fit: ~2 s
def test_glm_page_example():
    result = doctest.testfile(
        str(PAGE), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert result.attempted > 0 and result.failed == 0
