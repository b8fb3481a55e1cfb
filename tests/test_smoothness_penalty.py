"""``smoothness_penalty``: the layout of LagTransformer, a PSD Laplacian, the explicit sum.

Facts asserted:

* ``w' Q w`` equals ``space`` times the sum of squared differences between
  4-neighbouring pixels of every lag, plus ``time`` times the squared
  differences between neighbouring lags of every pixel, plus ``ridge ||w||^2``;
* every non-zero off-diagonal entry of ``Q`` couples two columns of
  :class:`~sklearn_lnp.LagTransformer`'s output that are neighbours (same lag
  and adjacent pixels of the row-major frame, or same pixel and adjacent lags);
* ``Q`` is symmetric positive semi-definite, its null space (ridge 0) is the
  constant vector, and a ridge makes it definite;
* bad arguments are refused by name.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lnp import LagTransformer
from sklearn_lnp.datasets import recording_from_counts
from sklearn_lnp.penalties import smoothness_penalty


def _explicit(w, frame_shape, n_lags, space, time, ridge):
    """The penalty written out with loops over the lags x rows x cols array."""
    rows, cols = frame_shape
    W = w.reshape(n_lags, rows, cols)
    total = 0.0
    for k in range(n_lags):
        for i in range(rows):
            for j in range(cols):
                if j + 1 < cols:
                    total += space * (W[k, i, j + 1] - W[k, i, j]) ** 2
                if i + 1 < rows:
                    total += space * (W[k, i + 1, j] - W[k, i, j]) ** 2
                if k + 1 < n_lags:
                    total += time * (W[k + 1, i, j] - W[k, i, j]) ** 2
    return total + ridge * float(w @ w)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 4),
    cols=st.integers(1, 4),
    n_lags=st.integers(1, 3),
    space=st.floats(0, 3),
    time=st.floats(0, 3),
    ridge=st.floats(0, 1),
    seed=st.integers(0, 2**16),
)
def test_quadratic_form_is_the_sum_of_squared_neighbour_differences(
    rows, cols, n_lags, space, time, ridge, seed
):
    Q = smoothness_penalty((rows, cols), n_lags, space=space, time=time, ridge=ridge)
    p = rows * cols * n_lags
    assert sp.isspmatrix_csr(Q) and Q.shape == (p, p) and Q.dtype == np.float64
    w = np.random.default_rng(seed).standard_normal(p)
    expected = _explicit(w, (rows, cols), n_lags, space, time, ridge)
    # the same sum of squares in two summation orders
    assert abs(float(w @ (Q @ w)) - expected) <= 1e-12 * (1.0 + expected)


def test_neighbours_in_lag_transformer_feature_names():
    rows, cols, n_lags = 3, 4, 3
    n_pixels = rows * cols
    names = LagTransformer(lags=range(n_lags)).fit(np.zeros((5, n_pixels))).get_feature_names_out()
    parsed = [tuple(int(v) for v in re.fullmatch(r"x(\d+)_lag(\d+)", n).groups()) for n in names]
    Q = smoothness_penalty((rows, cols), n_lags, space=1.0, time=2.0).tocoo()
    off = Q.row != Q.col
    assert (
        off.sum()
        == 2 * n_lags * (rows * (cols - 1) + cols * (rows - 1)) + 2 * (n_lags - 1) * n_pixels
    )
    for a, b, value in zip(Q.row[off], Q.col[off], Q.data[off], strict=True):
        (pixel_a, lag_a), (pixel_b, lag_b) = parsed[a], parsed[b]
        if lag_a == lag_b:
            (ia, ja), (ib, jb) = divmod(pixel_a, cols), divmod(pixel_b, cols)
            assert abs(ia - ib) + abs(ja - jb) == 1 and value == -1.0
        else:
            assert pixel_a == pixel_b and abs(lag_a - lag_b) == 1 and value == -2.0


def test_pixel_index_is_row_major_over_the_frame_as_in_recordings():
    """Column ``i * cols + j`` of a recording's stimulus is frame pixel (i, j)."""
    rows, cols = 2, 3
    frames = np.arange(4 * rows * cols, dtype=float).reshape(4, rows * cols)
    recording = recording_from_counts(frames, [1, 0, 2, 1], frame_shape=(rows, cols))
    movie = np.asarray(recording.stimulus).T.reshape(rows, cols, -1)
    for i in range(rows):
        for j in range(cols):
            np.testing.assert_array_equal(recording.stimulus[:, i * cols + j], movie[i, j])


def test_psd_with_the_constant_vector_as_null_space():
    Q = smoothness_penalty((3, 4), n_lags=3, space=1.0, time=0.5).toarray()
    np.testing.assert_array_equal(Q, Q.T)
    values, vectors = np.linalg.eigh(Q)
    scale = values[-1]
    assert values[0] >= -1e-12 * scale
    null = values <= 1e-10 * scale
    assert null.sum() == 1
    constant = np.full(Q.shape[0], 1.0 / np.sqrt(Q.shape[0]))
    np.testing.assert_allclose(np.abs(vectors[:, 0]), constant, atol=1e-10)
    definite = smoothness_penalty((3, 4), n_lags=3, space=1.0, time=0.5, ridge=0.1).toarray()
    assert np.linalg.eigvalsh(definite)[0] == pytest.approx(0.1, rel=1e-9)
    # space alone: one constant per lag in the null space
    assert (
        np.linalg.eigvalsh(smoothness_penalty((3, 4), 3, time=0.0).toarray()) < 1e-10
    ).sum() == 3


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(frame_shape=(3,)), ValueError, "frame_shape must be a pair"),
        (dict(frame_shape=(0, 3)), ValueError, "frame_shape must be a pair"),
        (dict(frame_shape=5), TypeError, "frame_shape must be a pair"),
        (dict(frame_shape=(2, 2), n_lags=0), ValueError, "n_lags must be at least 1"),
        (dict(frame_shape=(2, 2), n_lags=1.5), TypeError, "n_lags must be an integer"),
        (dict(frame_shape=(2, 2), space=-1.0), ValueError, "space must be finite and non-neg"),
        (dict(frame_shape=(2, 2), time=np.inf), ValueError, "time must be finite"),
        (dict(frame_shape=(2, 2), ridge="a"), TypeError, "ridge must be a real number"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        smoothness_penalty(**kwargs)
