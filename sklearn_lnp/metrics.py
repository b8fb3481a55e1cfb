r"""Goodness of fit for Poisson spike-count predictions.

All functions take observed counts ``y_true`` and *expected counts*
``y_pred`` (``exposure * rate``, what ``predict`` returns with the same
``exposure``).  ``exposure`` is only needed to build the constant-rate null
model (rate ``sum(y) / sum(exposure)``) of :func:`d2_poisson_score` and
:func:`bits_per_spike`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, xlogy

from ._validation import check_counts, check_exposure


def _prepare(y_true, y_pred, sample_weight):
    y_true = check_counts(np.ravel(y_true), "y_true")
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_pred.shape != y_true.shape:
        raise ValueError(
            f"y_pred must have the shape of y_true {y_true.shape}; got {y_pred.shape}."
        )
    if not np.all(np.isfinite(y_pred)) or np.any(y_pred < 0):
        raise ValueError("y_pred (expected counts) must be finite and non-negative.")
    if sample_weight is None:
        sample_weight = np.ones_like(y_true)
    else:
        sample_weight = np.asarray(sample_weight, dtype=np.float64).ravel()
        if sample_weight.shape != y_true.shape:
            raise ValueError(
                f"sample_weight must have the shape of y_true {y_true.shape}; "
                f"got {sample_weight.shape}."
            )
    return y_true, y_pred, sample_weight


def _null_prediction(y_true, exposure, sample_weight):
    exposure = check_exposure(exposure, y_true.shape[0])
    if exposure is None:
        exposure = np.ones_like(y_true)
    rate = np.sum(sample_weight * y_true) / np.sum(sample_weight * exposure)
    return exposure * rate


def poisson_log_likelihood(y_true, y_pred, *, sample_weight=None) -> float:
    """Total Poisson log-likelihood ``sum_t s_t (y_t log mu_t - mu_t - log y_t!)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed counts.
    y_pred : array-like of shape (n_samples,)
        Expected counts ``mu_t``.
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float
        Log-likelihood in nats (``-inf`` if a count falls where ``mu = 0``).
    """
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    with np.errstate(divide="ignore"):
        terms = xlogy(y_true, y_pred) - y_pred - gammaln(y_true + 1.0)
    return float(np.sum(sample_weight * terms))


def poisson_deviance(y_true, y_pred, *, sample_weight=None) -> float:
    """Total Poisson deviance ``2 sum_t s_t (y log(y / mu) - y + mu)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Observed and expected counts.
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float
        Non-negative deviance (nats, times two).
    """
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    with np.errstate(divide="ignore"):
        terms = xlogy(y_true, y_true) - xlogy(y_true, y_pred) - y_true + y_pred
    return float(2.0 * np.sum(sample_weight * terms))


def d2_poisson_score(y_true, y_pred, *, exposure=None, sample_weight=None) -> float:
    """Fraction of Poisson deviance explained, relative to a constant rate.

    ``1 - D(y, mu) / D(y, mu_0)`` with ``mu_0 = exposure * sum(y) / sum(exposure)``;
    equals scikit-learn's ``d2_tweedie_score(power=1)`` when ``exposure`` is None.

    Returns
    -------
    float
        At most 1; 0 for the constant-rate model; negative when worse.
    """
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    null = _null_prediction(y_true, exposure, sample_weight)
    dev_null = poisson_deviance(y_true, null, sample_weight=sample_weight)
    if dev_null == 0:
        return float("nan")
    return 1.0 - poisson_deviance(y_true, y_pred, sample_weight=sample_weight) / dev_null


def bits_per_spike(y_true, y_pred, *, exposure=None, sample_weight=None) -> float:
    """Log-likelihood gain over the constant-rate model, per spike, in bits.

    ``(LL(mu) - LL(mu_0)) / (sum(y) log 2)``, with ``mu_0`` the constant-rate
    prediction ``exposure * sum(y) / sum(exposure)``.

    Returns
    -------
    float
        Bits per spike; positive when the model predicts better than a
        constant rate.
    """
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    null = _null_prediction(y_true, exposure, sample_weight)
    n_spikes = float(np.sum(sample_weight * y_true))
    if n_spikes == 0:
        raise ValueError("bits_per_spike needs at least one spike in y_true.")
    gain = poisson_log_likelihood(y_true, y_pred, sample_weight=sample_weight)
    gain -= poisson_log_likelihood(y_true, null, sample_weight=sample_weight)
    return gain / (n_spikes * np.log(2.0))
