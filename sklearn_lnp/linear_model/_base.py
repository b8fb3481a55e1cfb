"""What the LNP regressors share: validation of ``X``, ``y``, ``exposure`` and
``sample_weight``, prediction of expected counts, and the D^2 score."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    validate_data,
)

from .._loss import safe_exp
from .._validation import check_counts, check_exposure
from ..metrics import d2_poisson_score

_ACCEPT_SPARSE = ("csr", "csc")
_DTYPES = (np.float64, np.float32)


def _check_same_n_samples(X, y) -> None:
    """Raise a ValueError naming ``X`` and ``y`` when their lengths differ.

    (scikit-learn's own message, "inconsistent numbers of samples", names
    neither.)  Inputs without a length are left to ``validate_data``.
    """
    try:
        n_X, n_y = _num_samples(X), _num_samples(y)
    except TypeError:
        return
    if n_X != n_y:
        raise ValueError(
            "X and y must have the same number of samples (one row of X per count "
            f"in y); got X with {n_X} rows and y with {n_y} counts."
        )


class LNPRegressorMixin(RegressorMixin):
    """Prediction and scoring for estimators of ``mu = exposure * exp(X w + b)``.

    Subclasses set ``coef_`` (n_features,) and ``intercept_`` (float).
    """

    def _validate_fit_data(self, X, y, sample_weight, exposure):
        _check_same_n_samples(X, y)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=_ACCEPT_SPARSE,
            dtype=_DTYPES,
            y_numeric=True,
            reset=True,
        )
        y = check_counts(y, "y")
        exposure = check_exposure(exposure, X.shape[0])
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        if np.sum(sample_weight * y) <= 0:
            raise ValueError(
                "y (spike counts) has no spikes where sample_weight > 0: the maximum-"
                "likelihood rate is 0 and its log (the intercept) is -inf. Fit a neuron "
                "with at least one spike."
            )
        return X, y, sample_weight, exposure

    def _decision(self, X):
        """Linear predictor ``X @ coef_ + intercept_`` (without exposure)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES, reset=False)
        return X, np.asarray(X @ self.coef_, dtype=np.float64) + self.intercept_

    def predict(self, X, exposure=None):
        """Expected spike counts ``exposure * exp(X @ coef_ + intercept_)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        exposure : array-like of shape (n_samples,) or float, optional
            Bin widths; 1 when omitted (then the prediction is the rate per
            unit of exposure).

        Returns
        -------
        ndarray of shape (n_samples,)
            Expected counts (non-negative).
        """
        X, eta = self._decision(X)
        exposure = check_exposure(exposure, X.shape[0])
        rate = safe_exp(eta)[0]
        return rate if exposure is None else exposure * rate

    def score(self, X, y, sample_weight=None, exposure=None):
        """D^2: fraction of Poisson deviance explained (1 is perfect, 0 a constant rate).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Observed counts.
        sample_weight : array-like of shape (n_samples,), optional
        exposure : array-like of shape (n_samples,), optional
            Bin widths, used both for the prediction and for the
            constant-rate null model.

        Returns
        -------
        float
        """
        y_pred = self.predict(X, exposure=exposure)
        return d2_poisson_score(y, y_pred, exposure=exposure, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        tags.input_tags.sparse = True
        return tags


class LNPBaseEstimator(LNPRegressorMixin, BaseEstimator):
    """Base class of the linear LNP regressors."""
