r"""Spatial x temporal factorisation of space-time receptive fields.

A space-time RF over ``n_lags`` lags and ``n_pixels`` pixels is held as the
pixels x lags matrix ``W`` (the lab's layout; from a lag-major coefficient
vector, ``W = coef.reshape(n_lags, n_pixels).T``, see
:func:`space_time_matrix`).  A *separable* RF is ``W = s u v^T``: a spatial map
``u`` times a temporal kernel ``v``.  :func:`separate_space_time` finds the
best rank-``k`` approximation by SVD.

Centring
--------
``center`` removes a mean before the SVD:

``"none"``
    Use ``W`` as fitted.
``"over_pixels"``
    The lab's ``W - W.mean(axis=0)``: each lag's map minus its mean over
    pixels.  Removes a pattern that is constant over pixels (a full-field
    response) and shifts the spatial map of a separable RF by a constant.
``"over_lags"``
    ``W - W.mean(axis=1, keepdims=True)``: each pixel minus its mean over
    lags.  Removes any *lag-independent* spatial pattern, and shifts the
    temporal kernel of a separable RF by a constant (its spatial map is
    unchanged).
``"both"``
    Both means removed (double centring).

Which recipe to use
-------------------
A slow drift of the firing rate makes every pixel whose mean happens to
follow the drift carry the same weight at every lag.  On the lab's recording
(``nds_cl_5_data.mat``: mean count per quarter 4.6, 4.1, 3.9, 2.3) this
lag-independent pattern dominates the joint 5-lag fit at ``alpha`` = 10-30:
with ``"none"`` or the lab's ``"over_pixels"`` the rank-1 spatial map peaks
at row 1, col 4 and the temporal kernel does not change sign.  Two remedies,
both recovering the RF at row 12, col 4 with a temporal kernel positive at
lag 0 and negative at lag 2:

1. model the drift: add :class:`~sklearn_lnp.preprocessing.SlowDriftFeatures`
   columns to the design (pass ``n_covariates`` to :class:`SVDSeparator`);
   the RF weights are then not contaminated and any centring works.  This
   is the recommended recipe, because it also fixes the weights themselves
   and the predictions;
2. centre with ``"over_lags"``, which removes the lag-independent pattern
   from the matrix after the fact (the default).

Sign rule
---------
An SVD component is defined up to a sign.  Every component is oriented so
that the entry of largest magnitude of its spatial vector is positive (the
first such entry on ties, magnitudes within a relative 1e-9 counting as
tied); the sign of the cell (ON/OFF) is then carried by
the temporal kernel: an ON cell has a positive kernel at its peak lag.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.utils import Bunch

__all__ = ["CENTERINGS", "separate_space_time", "space_time_matrix"]

CENTERINGS = ("none", "over_pixels", "over_lags", "both")
# A centred RF smaller than this fraction of the RF is rounding residue: "all zero".
_ZERO_RTOL = 1e-12


def space_time_matrix(coef, n_lags: int) -> np.ndarray:
    """Reshape lag-major coefficients into the pixels x lags matrix ``W``.

    Parameters
    ----------
    coef : array-like of shape (n_lags * n_pixels,)
        Lag-major weights, as fitted on a :class:`~sklearn_lnp.LagTransformer`
        design (block ``k`` holds lag ``lags[k]``).
    n_lags : int
        Number of lags.

    Returns
    -------
    ndarray of shape (n_pixels, n_lags)

    Raises
    ------
    ValueError
        When the length of ``coef`` is not a multiple of ``n_lags``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.decomposition import space_time_matrix
    >>> space_time_matrix(np.array([1.0, 2.0, 10.0, 20.0]), n_lags=2)
    array([[ 1., 10.],
           [ 2., 20.]])
    """
    coef = np.asarray(coef, dtype=np.float64)
    if coef.ndim != 1:
        raise ValueError(f"coef must be 1-d (lag-major weights); got shape {coef.shape}.")
    if isinstance(n_lags, bool) or not isinstance(n_lags, numbers.Integral) or n_lags < 1:
        raise ValueError(f"n_lags must be a positive integer; got {n_lags!r}.")
    if coef.size % n_lags:
        raise ValueError(
            f"coef has {coef.size} entries, which is not n_lags={n_lags} times a number of pixels."
        )
    return coef.reshape(n_lags, -1).T.copy()


def _center(W: np.ndarray, center: str) -> np.ndarray:
    if center not in CENTERINGS:
        raise ValueError(f"center must be one of {CENTERINGS}; got {center!r}.")
    centered = W.copy()
    if center in ("over_pixels", "both"):
        centered -= centered.mean(axis=0, keepdims=True)
    if center in ("over_lags", "both"):
        centered -= centered.mean(axis=1, keepdims=True)
    return centered


def _check_frame_shape(frame_shape, n_pixels: int):
    if frame_shape is None:
        return None
    try:
        shape = tuple(int(v) for v in frame_shape)
    except (TypeError, ValueError):
        raise ValueError(f"frame_shape must be (rows, cols); got {frame_shape!r}.") from None
    if len(shape) != 2 or min(shape) < 1 or shape[0] * shape[1] != n_pixels:
        raise ValueError(
            f"frame_shape {frame_shape!r} does not match the number of pixels {n_pixels} "
            "(rows * cols must equal it)."
        )
    return shape


def orient_components(spatial: np.ndarray, temporal: np.ndarray) -> None:
    """Flip, in place, each (spatial, temporal) pair by the documented sign rule.

    Parameters
    ----------
    spatial : ndarray of shape (rank, n_pixels)
    temporal : ndarray of shape (rank, n_lags)
    """
    for i in range(spatial.shape[0]):
        magnitude = np.abs(spatial[i])
        # First entry within rounding of the largest magnitude: ties stay well defined.
        peak = int(np.argmax(magnitude >= magnitude.max() * (1.0 - 1e-9)))
        if spatial[i, peak] < 0:
            spatial[i] *= -1.0
            temporal[i] *= -1.0


def separate_space_time(W, *, center="over_lags", rank=1, frame_shape=None) -> Bunch:
    """Best rank-``k`` spatial x temporal factorisation of a space-time RF (SVD).

    ``centered = sum_i singular_values[i] * outer(spatial[i], temporal[i])``
    over all components, after the centring of the module docstring.

    Parameters
    ----------
    W : array-like of shape (n_pixels, n_lags)
        Pixels x lags RF (see :func:`space_time_matrix` for lag-major ``coef``).
    center : {"over_lags", "over_pixels", "both", "none"}, default="over_lags"
        Mean removed before the SVD; ``"over_pixels"`` is the lab's
        ``W - W.mean(axis=0)``.  See the module docstring for which to use.
    rank : int, default=1
        Number of components kept (``1 <= rank <= min(n_pixels, n_lags)``).
    frame_shape : tuple (rows, cols), optional
        When given, ``spatial_maps`` holds the spatial components as images.

    Returns
    -------
    Bunch with
        ``spatial`` : ndarray of shape (rank, n_pixels)
            Unit-norm spatial components, oriented by the sign rule.
        ``temporal`` : ndarray of shape (rank, n_lags)
            Unit-norm temporal kernels (same sign convention).
        ``spatial_maps`` : ndarray of shape (rank, rows, cols) or None
        ``singular_values`` : ndarray of shape (min(n_pixels, n_lags),)
            All singular values of the centred matrix, decreasing.
        ``explained_variance_ratio`` : ndarray of shape (min(n_pixels, n_lags),)
            ``singular_values**2 / sum(singular_values**2)``: fraction of the
            centred matrix's squared Frobenius norm in each component.
        ``centered`` : ndarray of shape (n_pixels, n_lags)
            The centred matrix.
        ``low_rank`` : ndarray of shape (n_pixels, n_lags)
            Its rank-``rank`` approximation.
        ``offset`` : ndarray of shape (n_pixels, n_lags)
            ``W - centered``: what the centring removed.

    Raises
    ------
    ValueError
        When ``W`` is not a finite 2-d array, ``rank`` is out of range,
        ``center`` is unknown or ``frame_shape`` does not match the pixels.

    Warns
    -----
    UserWarning
        When the centred matrix is all zero (or below 1e-12 of ``W`` in
        Frobenius norm, i.e. rounding residue): its SVD is undefined, and the
        components and ratios are returned as zeros (not NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.decomposition import separate_space_time
    >>> u = np.array([0.0, 1.0, 2.0, 1.0])       # spatial profile
    >>> v = np.array([1.0, -0.5])                # biphasic temporal kernel
    >>> svd = separate_space_time(np.outer(u, v), center="none")
    >>> bool(np.allclose(svd.spatial[0], u / np.linalg.norm(u)))
    True
    >>> bool(np.allclose(svd.temporal[0], v / np.linalg.norm(v)))
    True
    >>> svd.explained_variance_ratio.round(6)
    array([1., 0.])
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or min(W.shape) < 1:
        raise ValueError(f"W must be a 2-d pixels x lags array; got shape {W.shape}.")
    if not np.all(np.isfinite(W)):
        raise ValueError("W must be finite; found NaN or infinite values.")
    n_pixels, n_lags = W.shape
    n_components = min(n_pixels, n_lags)
    if (
        isinstance(rank, bool)
        or not isinstance(rank, numbers.Integral)
        or not 1 <= rank <= n_components
    ):
        raise ValueError(
            f"rank must be an integer in [1, min(n_pixels, n_lags)] = [1, {n_components}]; "
            f"got {rank!r}."
        )
    shape = _check_frame_shape(frame_shape, n_pixels)
    centered = _center(W, center)
    scale = np.linalg.norm(W)
    if not np.linalg.norm(centered) > _ZERO_RTOL * scale:
        warnings.warn(
            f"separate_space_time: the space-time RF is all zero after centring "
            f"(center={center!r}); its SVD is undefined. Spatial and temporal components, "
            "singular values and variance ratios are returned as zeros.",
            UserWarning,
            stacklevel=2,
        )
        spatial = np.zeros((rank, n_pixels))
        temporal = np.zeros((rank, n_lags))
        singular_values = np.zeros(n_components)
        ratio = np.zeros(n_components)
    else:
        U, singular_values, Vt = np.linalg.svd(centered, full_matrices=False)
        spatial = U[:, :rank].T.copy()
        temporal = Vt[:rank].copy()
        orient_components(spatial, temporal)
        power = (singular_values / singular_values[0]) ** 2
        ratio = power / power.sum()
    low_rank = (spatial.T * singular_values[:rank]) @ temporal
    return Bunch(
        spatial=spatial,
        temporal=temporal,
        spatial_maps=None if shape is None else spatial.reshape(rank, *shape),
        singular_values=singular_values,
        explained_variance_ratio=ratio,
        centered=centered,
        low_rank=low_rank,
        offset=W - centered,
    )
