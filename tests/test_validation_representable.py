"""``check_representable`` refuses ``X`` exactly when an entry exceeds ``MAX_ABS_X``.

Its usual path bounds ``|x|`` by a sum of squares (one BLAS read of ``X``)
and falls back to exact reductions when that bound is inconclusive; the
decision must be the exact one whatever the layout, the dtype and the values.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _problems import design_with_entries
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lnp._validation import MAX_ABS_X, check_representable

_SCALES = st.sampled_from(
    [0.0, 1.0, 1e40, 0.99 * MAX_ABS_X, MAX_ABS_X, 1.01 * MAX_ABS_X, 1e160, 1e300]
)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 6),
    p=st.integers(1, 5),
    scale=_SCALES,
    count=st.integers(0, 30),
    layout=st.sampled_from(["C", "F", "strided"]),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**16),
)
def test_refused_exactly_when_an_entry_exceeds_the_bound(n, p, scale, count, layout, dtype, seed):
    X = design_with_entries(n, p, scale, count, layout, dtype, seed)
    too_large = float(np.max(np.abs(X))) > MAX_ABS_X
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from an overflowing sum of squares
        if too_large:
            with pytest.raises(ValueError, match="X has an entry of absolute value"):
                check_representable(X, np.ones(n))
        else:
            check_representable(X, np.ones(n))
