"""Input checks shared by the estimators: counts, exposure, sample weights."""

from __future__ import annotations

import numbers

import numpy as np


def check_counts(y, name: str = "y") -> np.ndarray:
    """Return ``y`` as float64 after checking that it holds valid counts.

    Counts must be finite and non-negative.  Non-integer values are accepted:
    the Poisson loss extends to them (as in scikit-learn's PoissonRegressor).

    Raises
    ------
    ValueError
        Naming ``name`` when values are NaN, infinite or negative.
    """
    y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name} (spike counts) must be finite; found NaN or infinite values.")
    n_negative = int(np.sum(y < 0))
    if n_negative:
        raise ValueError(
            f"{name} (spike counts) must be non-negative; found {n_negative} negative values "
            f"(smallest {y.min():g})."
        )
    return y


def check_exposure(exposure, n_samples: int, name: str = "exposure") -> np.ndarray | None:
    """Return ``exposure`` as a float64 vector of length ``n_samples`` (or None).

    A scalar is broadcast to every sample.

    Raises
    ------
    ValueError
        Naming ``name`` when it is not 1-d of length ``n_samples``, or has
        non-finite or non-positive values.
    """
    if exposure is None:
        return None
    if isinstance(exposure, numbers.Real) and not isinstance(exposure, bool):
        exposure = np.full(n_samples, float(exposure))
    exposure = np.asarray(exposure, dtype=np.float64)
    if exposure.ndim != 1 or exposure.shape[0] != n_samples:
        raise ValueError(
            f"{name} must be a 1-d array with one bin width per sample, of length "
            f"n_samples={n_samples}; got shape {exposure.shape}."
        )
    if not np.all(np.isfinite(exposure)):
        raise ValueError(f"{name} must be finite; found NaN or infinite values.")
    n_bad = int(np.sum(exposure <= 0))
    if n_bad:
        raise ValueError(
            f"{name} (bin widths) must be strictly positive; found {n_bad} values <= 0 "
            f"(smallest {exposure.min():g})."
        )
    return exposure


def check_non_negative_scalar(value, name: str) -> float:
    """Return ``value`` as float, or raise a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number >= 0; got {value!r}.")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
    return value
