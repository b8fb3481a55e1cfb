r"""Penalty matrices for :class:`~sklearn_lnp.PoissonLNPRegressor` ``(penalty_matrix=Q)``.

A quadratic penalty ``alpha/2 w' Q w`` with ``Q`` symmetric positive
semi-definite generalises the ridge (``Q = I``).  :func:`smoothness_penalty`
builds the ``Q`` of a receptive field that is smooth in space and in time:
squared differences between neighbouring pixels and between neighbouring
lags, in the feature layout of :class:`~sklearn_lnp.LagTransformer`.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = ["smoothness_penalty"]


def _path_laplacian(n: int) -> sp.csr_matrix:
    """``D' D`` with ``D`` the (n - 1, n) first-difference matrix: a path graph's Laplacian."""
    if n < 2:
        return sp.csr_matrix((n, n))
    D = sp.diags([-np.ones(n - 1), np.ones(n - 1)], [0, 1], shape=(n - 1, n), format="csr")
    return (D.T @ D).tocsr()


def _non_negative(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}.")
    value = float(value)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be finite and non-negative; got {value!r}.")
    return value


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be at least 1; got {value!r}.")
    return int(value)


def smoothness_penalty(
    frame_shape,
    n_lags: int = 1,
    *,
    space: float = 1.0,
    time: float = 1.0,
    ridge: float = 0.0,
) -> sp.csr_matrix:
    r"""Penalty matrix of squared differences between neighbouring pixels and lags.

    For weights ``w`` laid out like the columns of
    :class:`~sklearn_lnp.LagTransformer` (lag-major: block ``k`` of
    ``n_pixels = rows * cols`` columns holds lag ``k``; within a block pixel
    ``(i, j)`` of the frame is column ``i * cols + j``, row-major as in
    :func:`sklearn_lnp.datasets.load_recording`),

    .. math::

        w^\top Q w = \text{space} \sum_{k} \sum_{a \sim b} (w_{k,a} - w_{k,b})^2
        + \text{time} \sum_{k} \sum_{a} (w_{k+1,a} - w_{k,a})^2
        + \text{ridge} \lVert w \rVert^2 ,

    with ``a ~ b`` the pairs of 4-neighbouring pixels (same row, adjacent
    columns, or same column, adjacent rows).  ``Q`` is a weighted graph
    Laplacian (plus ``ridge I``): symmetric, positive semi-definite and
    diagonally dominant.  With ``space > 0``, ``time > 0`` (or ``n_lags = 1``)
    and ``ridge = 0`` its null space is the constant vector, so an
    unpenalised intercept-like offset of all weights is left free; ``ridge >
    0`` makes it definite.

    Parameters
    ----------
    frame_shape : tuple of int (rows, cols)
        Shape of one stimulus frame, in pixels.
    n_lags : int, default=1
        Number of lags (consecutive lags are neighbours in time).
    space : float, default=1.0
        Weight of the spatial differences (non-negative).
    time : float, default=1.0
        Weight of the temporal differences (non-negative).
    ridge : float, default=0.0
        Weight of ``||w||^2`` (non-negative).

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_lags * rows * cols, n_lags * rows * cols)
        Pass it as ``PoissonLNPRegressor(alpha=..., penalty_matrix=Q)``: the
        penalty is then ``alpha/2 w' Q w``.

    Raises
    ------
    TypeError, ValueError
        When ``frame_shape`` is not two positive integers, ``n_lags`` not a
        positive integer, or a strength is negative or not finite.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.penalties import smoothness_penalty
    >>> Q = smoothness_penalty((1, 3), n_lags=2, space=1.0, time=2.0)
    >>> Q.shape
    (6, 6)
    >>> w = np.array([0.0, 1.0, 3.0,    # lag 0: pixels 0, 1, 2
    ...               0.0, 1.0, 2.0])   # lag 1
    >>> float(w @ Q @ w)   # space: 1 + 4 + 1 + 1; time: 2 * (0 + 0 + 1)
    9.0
    """
    try:
        shape = tuple(frame_shape)
    except TypeError:
        raise TypeError(
            f"frame_shape must be a pair of positive integers (rows, cols); got {frame_shape!r}."
        ) from None
    if len(shape) != 2 or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in shape
    ):
        raise ValueError(
            f"frame_shape must be a pair of positive integers (rows, cols); got {frame_shape!r}."
        )
    rows, cols = (int(v) for v in shape)
    n_lags = _positive_int(n_lags, "n_lags")
    space = _non_negative(space, "space")
    time = _non_negative(time, "time")
    ridge = _non_negative(ridge, "ridge")
    n_pixels = rows * cols
    p = n_lags * n_pixels
    Q = sp.csr_matrix((p, p))
    if space:
        pixels = sp.kron(_path_laplacian(rows), sp.identity(cols)) + sp.kron(
            sp.identity(rows), _path_laplacian(cols)
        )
        Q = Q + space * sp.kron(sp.identity(n_lags), pixels)
    if time:
        Q = Q + time * sp.kron(_path_laplacian(n_lags), sp.identity(n_pixels))
    if ridge:
        Q = Q + ridge * sp.identity(p)
    Q = sp.csr_matrix(Q, dtype=np.float64)
    Q.eliminate_zeros()
    Q.sort_indices()
    return Q
