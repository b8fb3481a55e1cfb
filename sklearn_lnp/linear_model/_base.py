"""What the LNP regressors share: validation of ``X``, ``y``, ``exposure`` and
``sample_weight``, prediction of expected counts, and the D^2 score."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import (
    _num_samples,
    check_is_fitted,
    validate_data,
)

from .._objective import safe_exp
from .._passes import is_dask_array as _is_dask
from .._validation import (
    check_counts,
    check_counts_representable,
    check_exposure,
    check_finite_representable,
    check_real_input,
    check_target_ndim,
    fit_sample_weight,
    naming,
    validate_X,
)
from ..exceptions import ExposureWarning
from ..metrics import _exposure_fix, d2_poisson_score

_ACCEPT_SPARSE = ("csr", "csc")
_DTYPES = (np.float64, np.float32)


def check_population_finite(y) -> None:
    """Raise a ValueError naming the neurons (columns) of a 2-d ``y`` with NaN or inf."""
    if hasattr(y, "iloc") or hasattr(y, "to_numpy"):
        names = list(getattr(y, "columns", []))
        values = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    else:
        names = []
        try:
            values = np.asarray(y)
        except (TypeError, ValueError):
            return
    if values.ndim != 2 or values.dtype.kind not in "fc":
        return
    bad = np.flatnonzero(~np.all(np.isfinite(values), axis=0))
    if bad.size:
        label = [names[j] for j in bad] if len(names) == values.shape[1] else bad.tolist()
        raise ValueError(
            f"y (spike counts, one column per neuron) must be finite; neuron column(s) "
            f"{label} contain NaN or infinite values."
        )


def check_population_counts(y, sample_weight, fit_intercept: bool) -> np.ndarray:
    """Return the columns of a 2-d ``y`` without spikes (where ``sample_weight > 0``).

    Their maximum-likelihood fit is the intercept-only model with rate 0
    (``coef = 0``, ``intercept = -inf``); a ``UserWarning`` names them.
    Without an intercept there is no such model: ValueError naming them.
    """
    silent = np.flatnonzero(sample_weight @ y <= 0)
    if silent.size and not fit_intercept:
        raise ValueError(
            f"y columns {silent.tolist()} (neurons) have no spikes where sample_weight > 0: "
            "with fit_intercept=False their maximum-likelihood model does not exist. "
            "Drop these neurons or fit an intercept."
        )
    if silent.size:
        warnings.warn(
            f"y columns {silent.tolist()} (neurons) have no spikes where sample_weight > 0: "
            "they get the intercept-only model with rate 0 (coef_ row 0, intercept_ -inf, "
            "predictions 0).",
            UserWarning,
            stacklevel=4,
        )
    return silent


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


def _returned_unchanged(X, y, multi_output: bool) -> bool:
    """Whether ``validate_data`` of a fit would accept ``X`` and ``y`` and return them as they are.

    True for plain numpy arrays only: ``X`` 2-d float64 or float32 (native
    byte order) with at least one row and column, ``y`` of a numeric dtype,
    1-d and finite, or 2-d with at least one column when ``multi_output``
    (its finiteness is checked before, by :func:`check_population_finite`).
    Such inputs skip ``validate_data``, whose checks of dataframe types
    cost more than a small fit's iterations; every other input goes
    through it.
    """
    if type(X) is not np.ndarray or type(y) is not np.ndarray:
        return False
    if X.ndim != 2 or min(X.shape) < 1 or X.dtype not in _DTYPES:
        return False
    if y.dtype.kind not in "iuf" or not y.dtype.isnative:
        return False
    if y.ndim == 2:
        return multi_output and y.shape[1] >= 1
    return y.ndim == 1 and (y.dtype.kind != "f" or bool(np.isfinite(y).all()))


def record_exposure(estimator, y, sample_weight, exposure) -> None:
    """Set ``exposure_required_`` and ``null_rate_`` of ``estimator`` from its training data.

    ``exposure_required_`` is True when the bin widths of the fit were not 1
    everywhere (uneven, or a constant other than 1): the model's rate is then
    per unit of that exposure, and counts need it at predict and score
    (:func:`check_exposure_given`).  ``null_rate_`` is the training rate per
    unit of exposure, ``sum(s y) / sum(s e)`` (per column for a 2-d ``y``).
    """
    weights = np.ones(np.shape(y)[0]) if sample_weight is None else np.asarray(sample_weight)
    estimator.exposure_required_ = bool(exposure is not None and np.any(exposure != 1.0))
    time = float(np.sum(weights * (1.0 if exposure is None else exposure)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rate = (weights @ y) / time
    estimator.null_rate_ = float(rate) if np.ndim(rate) == 0 else np.asarray(rate, dtype=float)


def check_exposure_given(estimator, method: str, exposure) -> None:
    """The exposure rule of ``predict`` and ``score`` of every LNP estimator.

    For a model fitted with exposure other than 1 (``exposure_required_``),
    ``predict`` without exposure warns (:class:`~sklearn_lnp.exceptions.ExposureWarning`)
    and ``score`` without it raises a ValueError, each naming the one-line fix.
    A model fitted without exposure, or with exposure 1, is silent.

    Parameters
    ----------
    estimator : fitted estimator
    method : {"predict", "score"}
    exposure : array-like or None
        What the method received.
    """
    if exposure is not None or not getattr(estimator, "exposure_required_", False):
        return
    name = type(estimator).__name__
    if method == "score":
        raise ValueError(
            f"{name} was fitted with exposure (bin widths) other than 1 but score got none: "
            f"it would compare rates with counts. Fix: {_exposure_fix('score')}"
        )
    warnings.warn(
        f"{name} was fitted with exposure (bin widths) other than 1 but predict got none: "
        "returning the rate per unit of exposure, not expected counts. "
        f"Fix: {_exposure_fix('predict')}",
        ExposureWarning,
        stacklevel=3,
    )


class LNPRegressorMixin(RegressorMixin):
    """Prediction and scoring for estimators of ``mu = exposure * exp(X w + b)``.

    With bins of unequal width, cross-validate with metadata routing (the
    shortest recipe; ``score`` requests ``exposure`` by default)::

        sklearn.set_config(enable_metadata_routing=True)
        model = make_pipeline(LagTransformer(lags=range(5)),
                              PoissonLNPRegressor().set_fit_request(exposure=True))
        GridSearchCV(model, {"poissonlnpregressor__alpha": [1, 10, 100]}).fit(X, y, exposure=e)

    A model fitted with exposure other than 1 (uneven bin widths, or a
    constant other than 1) records it (``exposure_required_ = True``):
    ``score`` without exposure then raises a ValueError and ``predict``
    without it warns (:class:`~sklearn_lnp.exceptions.ExposureWarning`),
    each naming the fix.  ``null_rate_`` is the training rate per unit of exposure (the
    intercept-only fit), the null of ``get_scorer("bits_per_spike",
    null="train")``.

    Subclasses set ``coef_`` (n_features,) and ``intercept_`` (float).
    """

    def _validate_fit_data(
        self, X, y, sample_weight, exposure, *, multi_output=False, count_limit=True
    ):
        """Validated ``X, y, sample_weight, exposure``.

        With ``multi_output=True`` a 2-d ``y`` (one column per neuron) is
        kept 2-d: non-finite values raise a ValueError naming the columns,
        and columns without spikes are left to the caller (see
        :func:`check_population_counts`).  ``X`` is finite with
        ``|X| <= MAX_ABS_X``, and with ``count_limit`` the counts are at most
        ``MAX_COUNT`` (:func:`~sklearn_lnp._validation.check_representable`);
        an in-memory ``X`` is read once for both (one sum of squares).
        """
        check_real_input(X, "X")
        check_real_input(y, "y", check_objects=True)
        check_target_ndim(y)
        _check_same_n_samples(X, y)
        if multi_output:
            check_population_finite(y)
        if _is_dask(X):
            validated = self._validate_dask_fit_data(X, y, sample_weight, exposure, multi_output)
            if count_limit:
                check_counts_representable(validated[1])
            return validated
        if _returned_unchanged(X, y, multi_output):
            # what validate_data(reset=True) records for arrays without feature names
            self.n_features_in_ = X.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:
            with naming("X", "y"):
                # X's finiteness is checked below together with its magnitude
                X, y = validate_data(
                    self,
                    X,
                    y,
                    accept_sparse=_ACCEPT_SPARSE,
                    dtype=_DTYPES,
                    y_numeric=True,
                    multi_output=multi_output,
                    reset=True,
                    ensure_all_finite=False,
                )
        check_finite_representable(X, type(self).__name__)
        y = check_counts(y, "y")
        if count_limit:
            check_counts_representable(y)
        exposure = check_exposure(exposure, X.shape[0])
        sample_weight = fit_sample_weight(sample_weight, X.shape[0])
        record_exposure(self, y, sample_weight, exposure)
        if y.ndim == 2:
            return X, y, sample_weight, exposure
        if np.sum(sample_weight * y) <= 0:
            raise ValueError(
                "y (spike counts) has no spikes where sample_weight > 0: the maximum-"
                "likelihood rate is 0 and its log (the intercept) is -inf. Fit a neuron "
                "with at least one spike."
            )
        return X, y, sample_weight, exposure

    def _validate_dask_fit_data(self, X, y, sample_weight, exposure, multi_output):
        """:meth:`_validate_fit_data` for a chunked dask design (never loaded whole).

        ``X`` is checked by :func:`sklearn_lnp._passes._dask.check_dask_design` (rows in
        chunks, finite: one blockwise pass); ``y``, ``sample_weight`` and
        ``exposure`` are in-memory vectors as usual.
        """
        from .._passes._dask import check_dask_design

        X = check_dask_design(X)
        self.n_features_in_ = X.shape[1]
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        y = check_counts(y, "y")
        if y.ndim == 2 and (not multi_output or y.shape[1] == 0):
            raise ValueError(
                f"y must be 1-d (one count per bin); got shape {y.shape}."
                if not multi_output
                else f"y must have at least one column (neuron); got shape {y.shape}."
            )
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-d or 2-d (bins x neurons); got shape {y.shape}.")
        exposure = check_exposure(exposure, X.shape[0])
        sample_weight = fit_sample_weight(sample_weight, y.shape[0])
        if y.ndim == 1 and np.sum(sample_weight * y) <= 0:
            raise ValueError(
                "y (spike counts) has no spikes where sample_weight > 0: the maximum-"
                "likelihood rate is 0 and its log (the intercept) is -inf. Fit a neuron "
                "with at least one spike."
            )
        record_exposure(self, y, sample_weight, exposure)
        return X, y, sample_weight, exposure

    def _decision(self, X):
        """Linear predictor ``X @ coef_ + intercept_`` (without exposure)."""
        check_is_fitted(self)
        if _is_dask(X):  # blockwise, the result (n_samples values) in memory
            from .._passes._dask import check_dask_design, matvec

            X = check_dask_design(X, check_finite=False)
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
            coef = self.coef_.T if np.ndim(self.coef_) == 2 else self.coef_
            return X, matvec(X, coef) + self.intercept_
        X = validate_X(self, X, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES, reset=False)
        coef = self.coef_.T if np.ndim(self.coef_) == 2 else self.coef_
        return X, np.asarray(X @ coef, dtype=np.float64) + self.intercept_

    # With metadata routing on, ``score`` asks for ``exposure`` unless told
    # otherwise: ``set_fit_request(exposure=True)`` alone then scores counts.
    __metadata_request__score = {"exposure": True}

    def predict(self, X, exposure=None):
        """Expected spike counts ``exposure * exp(X @ coef_ + intercept_)``.

        Pass the bin widths: ``model.predict(X, exposure=e)``.  For a model
        fitted with exposure other than 1, ``predict(X)`` without it warns (an
        :class:`~sklearn_lnp.exceptions.ExposureWarning` naming this fix) and
        returns the rate per unit of exposure, not counts; scikit-learn's own
        scorers (e.g. ``"neg_mean_poisson_deviance"``) and ``cross_val_predict``
        call it so and warn the same way.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        exposure : array-like of shape (n_samples,) or float, optional
            Bin widths; 1 when omitted (then the prediction is the rate per
            unit of exposure).

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_neurons)
            Expected counts (non-negative); one column per neuron for a
            model fitted to several neurons.
        """
        check_exposure_given(self, "predict", exposure)
        return self._predict(X, exposure)

    def _predict(self, X, exposure):
        X, eta = self._decision(X)
        exposure = check_exposure(exposure, X.shape[0])
        rate = safe_exp(eta)[0]
        if exposure is None:
            return rate
        return exposure[:, None] * rate if rate.ndim == 2 else exposure * rate

    def score(self, X, y, sample_weight=None, exposure=None):
        """D^2: fraction of Poisson deviance explained (1 is perfect, 0 a constant rate).

        Pass the bin widths: ``model.score(X, y, exposure=e)``; in
        ``GridSearchCV``/``cross_validate``::

            sklearn.set_config(enable_metadata_routing=True)
            model.set_fit_request(exposure=True)  # score requests exposure by default
            GridSearchCV(model, grid).fit(X, y, exposure=e)

        For a model fitted with exposure other than 1, ``score`` without it
        raises a ValueError naming this fix (inside a search with the default
        ``error_score=nan`` scikit-learn turns it into a "Scoring failed"
        warning carrying the message and a NaN score; ``error_score="raise"``
        keeps the error).  Fitted without exposure (or with exposure 1) it is optional.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_neurons)
            Observed counts, in the layout of ``y`` at fit: a model fitted to
            a 2-d ``y`` (a population, even of one neuron, shape (n, 1))
            takes exactly shape (n_samples, n_neurons), else a ValueError.
        sample_weight : array-like of shape (n_samples,), optional
        exposure : array-like of shape (n_samples,), optional
            Bin widths, used both for the prediction and for the
            constant-rate null model.

        Returns
        -------
        float
        """
        check_exposure_given(self, "score", exposure)
        check_real_input(y, "y", check_objects=True)
        check_target_ndim(y)
        y_pred = self.predict(X, exposure=exposure)
        if y_pred.ndim == 2:  # several neurons: the mean of their D^2
            y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=np.float64)
            if y.shape != y_pred.shape:
                # never reshaped: a transposed or flattened y would pair counts
                # with the wrong bins and neurons
                raise ValueError(
                    f"y must have shape (n_samples, n_neurons) = {y_pred.shape} for a model "
                    f"fitted to {y_pred.shape[1]} neuron(s) (a 2-d y at fit, even (n, 1)); "
                    f"got y of shape {y.shape}."
                )
            scores = np.array(
                [
                    d2_poisson_score(
                        y[:, j], y_pred[:, j], exposure=exposure, sample_weight=sample_weight
                    )
                    for j in range(y_pred.shape[1])
                ]
            )
            # D^2 is undefined (NaN) for a neuron without spikes: left out.
            defined = scores[np.isfinite(scores)]
            return float(defined.mean()) if defined.size else float("nan")
        return d2_poisson_score(y, y_pred, exposure=exposure, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        tags.input_tags.sparse = True
        return tags


class LNPBaseEstimator(LNPRegressorMixin, BaseEstimator):
    """Base class of the linear LNP regressors."""
