"""Compiled kernels of one neuron's ``gradient_along``: see ``_objective._along_kernels``.

Module-level functions, so that numba's on-disk cache holds ``along_sweep``
with the ``along_rows`` it calls (a function made inside another function
and calling a second such one is compiled again in every process).
Imported on first use only: ``import sklearn_lnp`` does not import numba.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._objective import ETA_CLIP, ETA_MAX


@njit(cache=True, nogil=True)
def along_rows(u, shift, factor, eta, z, new_eta, mu, weights, weighted_y, r):
    """One row block; see :func:`sklearn_lnp._objective._along_kernels`."""
    # (compiled: not traced by coverage)
    plain = True
    for i in range(u.shape[0]):
        zi = u[i] + shift
        z[i] = zi
        e = eta[i] + factor * zi
        new_eta[i] = e
        if not e <= ETA_MAX:  # also NaN
            plain = False
    if not plain:
        return False
    for i in range(u.shape[0]):
        m = math.exp(new_eta[i])
        mu[i] = m
        r[i] = m * weights[i] - weighted_y[i]
    return True


@njit(cache=True, nogil=True)
def along_sweep(X, v, rows, shift, factor, eta, z, new_eta, mu, weights, weighted_y, r, out, sums):
    """The whole sweep in row blocks; see :func:`sklearn_lnp._objective._along_kernels`."""
    # (compiled: not traced by coverage)
    weighted_mu = 0.0
    weighted_eta = 0.0
    lowest = 0.0
    for start in range(0, X.shape[0], rows):
        stop = min(start + rows, X.shape[0])
        block = X[start:stop]
        r_block = r[start:stop]
        if not along_rows(
            np.dot(block, v),
            shift,
            factor,
            eta[start:stop],
            z[start:stop],
            new_eta[start:stop],
            mu[start:stop],
            weights[start:stop],
            weighted_y[start:stop],
            r_block,
        ):
            return False
        out += np.dot(r_block.astype(X.dtype), block)
        for i in range(start, stop):
            weighted_mu += weights[i] * mu[i]
            weighted_eta += weighted_y[i] * new_eta[i]
            lowest = min(lowest, new_eta[i])
    sums[0] = weighted_mu
    sums[1] = weighted_eta
    return lowest >= -ETA_CLIP
