r"""Gaussian smoothness priors over space-time receptive fields.

The receptive field ``w`` of a lagged design (the columns of
:class:`~sklearn_lnp.LagTransformer`: lag-major blocks of ``n_pixels``
columns, pixels row-major over ``frame_shape``) gets the prior
``w ~ N(0, C)`` of automatic smoothness determination (ASD; Sahani & Linden,
NIPS 2003):

.. math::

    C_{ij} = \rho \exp\Bigl(-\frac{(r_i - r_j)^2}{2 l_r^2}
                            -\frac{(c_i - c_j)^2}{2 l_c^2}
                            -\frac{(\tau_i - \tau_j)^2}{2 l_\tau^2}\Bigr),

``r, c`` the pixel's row and column, ``tau`` the lag (all in grid steps:
pixels and frames), ``rho`` the prior variance of one weight (log-rate per
unit of stimulus, squared) and ``l_r, l_c, l_tau`` one length scale per
axis.  A length scale in frames converts to seconds by multiplying by the
frame duration.  ``C`` is a Kronecker product
``rho * K_lag (x) K_row (x) K_col`` of one small kernel per axis, so its
eigenvectors are Kronecker products of the axes' eigenvectors and it is
never needed as a dense matrix by the estimator
(:class:`~sklearn_lnp.linear_model.SmoothLNPRegressor`); :func:`asd_covariance`
builds it for inspection and tests.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils._param_validation import validate_params

from ._validation import COUNT, POSITIVE, as_real_array

__all__ = ["asd_axis_kernels", "asd_covariance", "squared_exponential_kernel"]


def _check_layout(frame_shape, n_lags) -> tuple[tuple[int, int], int]:
    """``frame_shape`` as two positive ints and ``n_lags`` as a positive int, or a ValueError."""
    try:
        shape = tuple(frame_shape)
    except TypeError:
        shape = None
    if (
        shape is None
        or len(shape) != 2
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape)
        or min(shape) < 1
    ):
        raise ValueError(
            f"frame_shape must be two positive integers (rows, cols); got {frame_shape!r}."
        )
    if not isinstance(n_lags, numbers.Integral) or isinstance(n_lags, bool) or n_lags < 1:
        raise ValueError(f"n_lags must be a positive integer; got {n_lags!r}.")
    return (int(shape[0]), int(shape[1])), int(n_lags)


def _check_positive(values, name: str, size: int) -> np.ndarray:
    values = as_real_array(values, name, "positive numbers").reshape(-1)
    if values.size != size or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"{name} must be {size} finite positive number(s); got {values!r}.")
    return values


@validate_params({"n": [COUNT], "length_scale": [POSITIVE]}, prefer_skip_nested_validation=True)
def squared_exponential_kernel(n: int, length_scale: float) -> np.ndarray:
    """Squared-exponential correlation of ``n`` points one step apart.

    Parameters
    ----------
    n : int
        Number of grid points (pixels along one axis, or lags).
    length_scale : float
        Length scale in grid steps (positive).

    Returns
    -------
    ndarray of shape (n, n)
        ``exp(-(i - j)**2 / (2 length_scale**2))``: 1 on the diagonal.

    Examples
    --------
    >>> from sklearn_lnp.priors import squared_exponential_kernel
    >>> squared_exponential_kernel(3, 1.0).round(3)
    array([[1.   , 0.607, 0.135],
           [0.607, 1.   , 0.607],
           [0.135, 0.607, 1.   ]])
    """
    steps = np.arange(n, dtype=np.float64)
    distance = steps[:, None] - steps[None, :]
    # For a tiny length scale (distance / length_scale)**2 exceeds the float
    # range: inf, whose exp(-inf) = 0 is the correlation's exact limit.
    with np.errstate(over="ignore"):
        return np.exp(-0.5 * (distance / float(length_scale)) ** 2)


def asd_axis_kernels(frame_shape, n_lags: int, length_scales) -> list[np.ndarray]:
    """The three factors of the ASD prior correlation, in Kronecker order.

    Parameters
    ----------
    frame_shape : tuple of int (rows, cols)
    n_lags : int
    length_scales : array-like of 3 floats
        Length scales along rows and columns (pixels) and lags (frames).

    Returns
    -------
    list of ndarray
        ``[K_lag (n_lags, n_lags), K_row (rows, rows), K_col (cols, cols)]``;
        the correlation of the lag-major features is
        ``np.kron(np.kron(K_lag, K_row), K_col)``.
    """
    (rows, cols), n_lags = _check_layout(frame_shape, n_lags)
    scales = _check_positive(length_scales, "length_scales", 3)
    return [
        squared_exponential_kernel(n_lags, scales[2]),
        squared_exponential_kernel(rows, scales[0]),
        squared_exponential_kernel(cols, scales[1]),
    ]


@validate_params({"scale": [POSITIVE]}, prefer_skip_nested_validation=True)
def asd_covariance(frame_shape, n_lags: int, scale: float, length_scales) -> np.ndarray:
    """Dense ASD prior covariance of a lagged receptive field.

    Parameters
    ----------
    frame_shape : tuple of int (rows, cols)
        Pixels of one frame.
    n_lags : int
        Lags (blocks of ``rows * cols`` features, lag-major as
        :class:`~sklearn_lnp.LagTransformer` writes them).
    scale : float
        Prior variance ``rho`` of one weight (positive; squared log-rate per
        unit of stimulus).
    length_scales : array-like of 3 floats
        ``(l_row, l_col, l_lag)`` in pixels, pixels and frames (positive).

    Returns
    -------
    ndarray of shape (n_lags * rows * cols, n_lags * rows * cols)
        ``C``; feature ``lag * rows * cols + row * cols + col``.

    Examples
    --------
    >>> from sklearn_lnp.priors import asd_covariance
    >>> C = asd_covariance((2, 3), 2, scale=0.5, length_scales=(1.0, 1.0, 1.0))
    >>> C.shape, float(C[0, 0]), bool(C[0, 1] > C[0, 2] > 0)
    ((12, 12), 0.5, True)
    """
    k_lag, k_row, k_col = asd_axis_kernels(frame_shape, n_lags, length_scales)
    return float(scale) * np.kron(np.kron(k_lag, k_row), k_col)
