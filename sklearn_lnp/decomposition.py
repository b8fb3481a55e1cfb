r"""Spatial x temporal factorisation of space-time receptive fields.

A space-time RF over ``n_lags`` lags and ``n_pixels`` pixels is held as the
pixels x lags matrix ``W`` (the lab's layout; from a lag-major coefficient
vector, ``W = coef.reshape(n_lags, n_pixels).T``, see
:func:`space_time_matrix`).  A *separable* RF is ``W = s u v^T``: a spatial map
``u`` times a temporal kernel ``v``.  :func:`separate_space_time` finds the
best rank-``k`` approximation by SVD.

Centring
--------
``center`` removes a mean before the SVD, and each choice changes what the
SVD returns:

``"none"`` (default)
    Use ``W`` as fitted.  The temporal kernel of a separable RF ``s u v^T``
    comes back as ``v`` itself (monophasic, biphasic or delayed), and the
    spatial map as ``u``.  The recommended choice, with a slow drift of the
    firing rate modelled by regressors in the design (see below).
``"over_pixels"``
    The lab's ``W - W.mean(axis=0)``: each lag's map minus its mean over
    pixels.  Removes a pattern that is constant over pixels (a full-field
    response) and shifts the spatial map of a separable RF by a constant
    (``u - mean(u)``); the kernel is unchanged for a localised RF.  It does
    not remove a lag-independent pattern.
``"over_lags"``
    ``W - W.mean(axis=1, keepdims=True)``: each pixel minus its mean over
    lags.  Removes any *lag-independent* spatial pattern, but replaces the
    kernel ``v`` by ``v - mean(v)``, which **sums to zero by construction**:
    a monophasic kernel [0.83, 0.50, 0.25, 0.08, 0] comes back as
    [0.73, 0.25, -0.11, -0.36, -0.51] (cosine 0.67 with the truth) and a
    delayed one gets negative lobes on both sides.  It can invent a
    biphasic kernel; use it only to look at a fit whose drift was not
    modelled, and do not read the kernel's sign change from it.
``"both"``
    Both means removed (double centring); the kernel sums to zero as with
    ``"over_lags"``.

Which recipe to use
-------------------
A slow drift of the firing rate makes every pixel whose mean happens to
follow the drift carry the same weight at every lag.  On the lab's recording
(``nds_cl_5_data.mat``: mean count per quarter 4.6, 4.1, 3.9, 2.3) this
lag-independent pattern dominates a joint 5-lag fit without drift
regressors: with ``"none"`` the rank-1 map then peaks at row 10, col 4 with
a kernel of one sign, and with the lab's ``"over_pixels"`` at row 1, col 4.
The remedy is to model the drift: add
:class:`~sklearn_lnp.preprocessing.SlowDriftFeatures` columns to the design
(pass ``n_covariates`` to :class:`SVDSeparator`), which keeps the pattern out
of the RF weights and the predictions; the uncentred SVD (the default) then
finds the RF at row 12, col 4 and a kernel positive at lag 0 and negative at
lag 2.  Or fit the rank-1 model directly (``fit_method="bilinear"``, which
does not centre).  ``"over_lags"`` also hides the pattern, but at the price
of the kernel's shape described above.

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
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import validate_data

from ._bilinear import fit_low_rank
from ._objective import safe_exp
from ._validation import (
    as_real_array,
    check_counts,
    check_exposure,
    check_real_input,
    check_target_ndim,
    fit_sample_weight,
    naming,
)
from .linear_model._base import LNPRegressorMixin, _check_same_n_samples, record_exposure

__all__ = ["CENTERINGS", "SVDSeparator", "separate_space_time", "space_time_matrix"]

#: The values of ``center`` (see the module docstring for which to use).
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
    coef = as_real_array(coef, "coef", "weights (real numbers)")
    if coef.ndim != 1 or coef.size == 0:
        raise ValueError(
            f"coef must be 1-d and non-empty (lag-major weights); got shape {coef.shape}."
        )
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

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.decomposition import orient_components
    >>> spatial, temporal = np.array([[0.1, -0.9, 0.3]]), np.array([[-0.8, 0.6]])
    >>> orient_components(spatial, temporal)      # largest |spatial| entry made positive
    >>> spatial.tolist(), temporal.tolist()
    ([[-0.1, 0.9, -0.3]], [[0.8, -0.6]])
    """
    for i in range(spatial.shape[0]):
        magnitude = np.abs(spatial[i])
        # First entry within rounding of the largest magnitude: ties stay well defined.
        peak = int(np.argmax(magnitude >= magnitude.max() * (1.0 - 1e-9)))
        if spatial[i, peak] < 0:
            spatial[i] *= -1.0
            temporal[i] *= -1.0


def separate_space_time(W, *, center="none", rank=1, frame_shape=None) -> Bunch:
    """Best rank-``k`` spatial x temporal factorisation of a space-time RF (SVD).

    ``centered = sum_i singular_values[i] * outer(spatial[i], temporal[i])``
    over all components, after the centring of the module docstring.

    Parameters
    ----------
    W : array-like of shape (n_pixels, n_lags)
        Pixels x lags RF (see :func:`space_time_matrix` for lag-major ``coef``).
    center : {"none", "over_pixels", "over_lags", "both"}, default="none"
        Mean removed before the SVD: ``"none"`` keeps the kernel as fitted;
        ``"over_pixels"`` (the lab's ``W - W.mean(axis=0)``) shifts the
        spatial map by a constant; ``"over_lags"`` and ``"both"`` make every
        temporal kernel sum to zero (a monophasic kernel turns biphasic).
        See the module docstring for which to use.
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
            The spatial components as images (None without ``frame_shape``).
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
        When the centred matrix is all zero (or its entries below 1e-12 of
        the largest entry of ``W``, i.e. rounding residue): its SVD is undefined, and the
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
    W = as_real_array(W, "W", "weights (real numbers)")
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
    if not np.abs(centered).max() > _ZERO_RTOL * np.abs(W).max():
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


class SVDSeparator(LNPRegressorMixin, MetaEstimatorMixin, BaseEstimator):
    """Separable (rank-``k``) space-time LNP model: a spatial map times a temporal kernel.

    ``X`` is a lag-major design (:class:`~sklearn_lnp.LagTransformer`),
    optionally followed by ``n_covariates`` extra columns (e.g.
    :class:`~sklearn_lnp.SlowDriftFeatures`) whose coefficients stay free.

    ``fit_method="svd"`` (the lab's recipe, done exactly): fit ``estimator``
    (unconstrained, all lags at once), reshape its ``coef_`` into the pixels
    x lags matrix ``W``, centre it (``center``, see the module docstring) and
    keep the rank-``rank`` part of its SVD.  The model then predicts with that
    low-rank RF, the estimator's covariate coefficients and an intercept
    refitted to it in closed form (``b = log(sum s y / sum s e exp(X w))``,
    the exact Poisson optimum of ``b`` for fixed ``w``); what the centring
    removed is not part of the prediction.

    ``fit_method="bilinear"``: fit the rank-``rank`` model
    ``mu = exposure * exp(sum_L v_L (X_L u) + b)`` itself, by alternating
    exact Poisson fits of the spatial and temporal parts with the same
    objective and ``alpha`` as ``estimator``: with the temporal kernels
    fixed, the spatial maps, covariate coefficients and intercept are one
    Poisson regression, and likewise the other way round, so the objective
    never increases.  It starts from the SVD of the spike-triggered average.
    It needs far fewer bins than the unconstrained fit: ``n_pixels +
    n_lags`` parameters per component instead of ``n_pixels * n_lags``.
    ``center`` is not used (the fitted RF is exactly of rank ``rank``).

    Parameters
    ----------
    estimator : regressor with ``coef_``, default=None
        A Poisson regressor with log link (``PoissonLNPRegressor()`` when
        None).  ``"svd"`` fits it; ``"bilinear"`` reads its ``alpha``,
        ``fit_intercept``, ``solver``, ``tol`` and ``max_iter`` for the
        sub-problems.
    n_lags : int, default=5
        Number of lags of the design.
    frame_shape : tuple (rows, cols), optional
        Frame shape; ``spatial_`` is returned as an image when given.
    center : {"none", "over_pixels", "over_lags", "both"}, default="none"
        Centring before the SVD (``"svd"`` only).  ``"none"`` keeps the
        fitted kernel's shape (model a rate drift with ``n_covariates``
        columns instead); ``"over_pixels"`` is the lab's
        ``W - W.mean(axis=0)`` and shifts the spatial map by a constant;
        ``"over_lags"`` and ``"both"`` force the temporal kernel to sum to
        zero, so a monophasic kernel comes back biphasic.
    rank : int, default=1
        Number of spatial x temporal components.
    fit_method : {"svd", "bilinear"}, default="svd"
    n_covariates : int, default=0
        Trailing columns of ``X`` that are not part of the RF.
    tol : float, default=1e-7
        ``"bilinear"``: stop when the largest gradient entry of the objective
        is at most ``tol``.
    max_iter : int, default=200
        ``"bilinear"``: maximum alternations.

    Attributes
    ----------
    estimator_ : estimator
        The fitted inner estimator (``"svd"`` only).
    spatial_ : ndarray of shape (n_pixels,) or frame_shape
        Leading unit-norm spatial component, oriented by the sign rule (its
        largest-magnitude entry positive).
    temporal_ : ndarray of shape (n_lags,)
        Leading unit-norm temporal kernel (positive at the peak lag for an ON cell).
    spatial_components_ : ndarray of shape (rank, n_pixels)
    temporal_components_ : ndarray of shape (rank, n_lags)
    singular_values_ : ndarray of shape (min(n_pixels, n_lags),)
        Singular values of the centred (``"svd"``) or fitted (``"bilinear"``) RF.
    explained_variance_ratio_ : ndarray of shape (min(n_pixels, n_lags),)
        Fraction of the squared Frobenius norm in each component.
    rf_ : ndarray of shape (n_pixels, n_lags)
        The rank-``rank`` RF used for prediction.
    coef_ : ndarray of shape (n_features_in_,)
        Lag-major ``rf_`` followed by the covariate coefficients.
    intercept_ : float
    n_iter_ : int
        Alternations (``"bilinear"``) or the inner estimator's ``n_iter_``.
    optimality_ : float
        ``"bilinear"``: largest gradient entry of the objective at the solution.
    objective_ : float
        ``"bilinear"``: the penalised objective (that of ``estimator``) at the solution.
    exposure_required_ : bool
        True when fitted with exposure other than 1: ``predict`` without
        exposure then warns and ``score`` without it raises (as for
        :class:`~sklearn_lnp.PoissonLNPRegressor`).
    null_rate_ : float
        Training rate per unit of exposure (spikes / exposure).
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn_lnp import LagTransformer, SVDSeparator
    >>> from sklearn_lnp.datasets import make_separable_neuron
    >>> neuron = make_separable_neuron(n_frames=3000, frame_shape=(8, 8), random_state=0)
    >>> X = LagTransformer(lags=range(5)).fit_transform(neuron.stimulus)
    >>> model = SVDSeparator(n_lags=5, frame_shape=(8, 8), fit_method="bilinear")
    >>> model = model.fit(X, neuron.counts, exposure=neuron.exposure)
    >>> import numpy as np
    >>> bool(np.corrcoef(model.temporal_, neuron.temporal)[0, 1] > 0.95)
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "n_lags": [Interval(numbers.Integral, 1, None, closed="left")],
        "frame_shape": [None, tuple, list],
        "center": [StrOptions(set(CENTERINGS))],
        "rank": [Interval(numbers.Integral, 1, None, closed="left")],
        "fit_method": [StrOptions({"svd", "bilinear"})],
        "n_covariates": [Interval(numbers.Integral, 0, None, closed="left")],
        "tol": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        estimator=None,
        *,
        n_lags=5,
        frame_shape=None,
        center="none",
        rank=1,
        fit_method="svd",
        n_covariates=0,
        tol=1e-7,
        max_iter=200,
    ):
        self.estimator = estimator
        self.n_lags = n_lags
        self.frame_shape = frame_shape
        self.center = center
        self.rank = rank
        self.fit_method = fit_method
        self.n_covariates = n_covariates
        self.tol = tol
        self.max_iter = max_iter

    def _get_estimator(self):
        if self.estimator is None:
            from .linear_model import PoissonLNPRegressor

            return PoissonLNPRegressor()
        return self.estimator

    def _layout(self, n_features: int) -> int:
        """Number of pixels; raises when ``n_features`` does not fit the layout."""
        n_rf = n_features - self.n_covariates
        if n_rf < self.n_lags or n_rf % self.n_lags:
            raise ValueError(
                f"X has {n_features} features: with n_covariates={self.n_covariates} that "
                f"leaves {n_rf} RF columns, which is not n_lags={self.n_lags} times a number "
                "of pixels."
            )
        n_pixels = n_rf // self.n_lags
        _check_frame_shape(self.frame_shape, n_pixels)
        if self.rank > min(n_pixels, self.n_lags):
            raise ValueError(
                f"rank={self.rank} exceeds min(n_pixels, n_lags) = {min(n_pixels, self.n_lags)}."
            )
        return n_pixels

    def fit(self, X, y, **fit_params):
        """Fit the separable model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_lags * n_pixels + n_covariates)
            Lag-major design, then covariates.
        y : array-like of shape (n_samples,)
            Spike counts.
        **fit_params : dict
            ``sample_weight`` and ``exposure`` (bin widths).  Without metadata
            routing they are passed to the inner estimator (and used by the
            bilinear fit).  With routing enabled, they reach the inner
            estimator as it requests them, e.g.
            ``SVDSeparator(PoissonLNPRegressor().set_fit_request(exposure=True))``,
            and the bilinear fit uses what the inner estimator receives.

        Returns
        -------
        self
        """
        self._validate_params()
        if _routing_enabled():
            routed = process_routing(self, "fit", **fit_params)
            inner_params = dict(routed.estimator.fit)
        else:
            inner_params = dict(fit_params)
        check_real_input(X, "X")
        check_real_input(y, "y", check_objects=True)
        check_target_ndim(y)
        _check_same_n_samples(X, y)
        with naming("X", "y"):
            # X's finiteness is checked below together with its magnitude
            X, y = validate_data(
                self,
                X,
                y,
                accept_sparse=("csr", "csc"),
                dtype=(np.float64, np.float32),
                y_numeric=True,
                reset=True,
                ensure_all_finite=False,
            )
        y = check_counts(y, "y")
        # finite |X| <= 1e50 and counts <= 2**53, as the L1 fits: beyond them the
        # Poisson gradient and Hessian overflow float64 (ValueError naming X or y)
        from ._validation import check_counts_representable, check_finite_representable

        check_finite_representable(X, type(self).__name__)
        check_counts_representable(y)
        n_pixels = self._layout(X.shape[1])
        shape = _check_frame_shape(self.frame_shape, n_pixels)
        if self.fit_method == "svd":
            self._fit_svd(X, y, inner_params, n_pixels)
        else:
            self._fit_bilinear(X, y, inner_params, n_pixels)
        if self.fit_method == "svd":
            svd = self._svd
            del self._svd
        else:
            svd = separate_space_time(self.rf_, center="none", rank=self.rank)
        self.spatial_components_ = svd.spatial
        self.temporal_components_ = svd.temporal
        self.singular_values_ = svd.singular_values
        self.explained_variance_ratio_ = svd.explained_variance_ratio
        self.spatial_ = svd.spatial[0] if shape is None else svd.spatial[0].reshape(shape)
        self.temporal_ = svd.temporal[0]
        self.coef_ = np.concatenate([self.rf_.T.ravel(), self._covariate_coef])
        del self._covariate_coef
        if self.fit_method == "svd":
            self.intercept_ = self._refit_intercept(X, y, inner_params)
        # the exposure the fit used (the inner estimator's, under routing)
        sample_weight = inner_params.get("sample_weight")
        record_exposure(
            self,
            y,
            None if sample_weight is None else fit_sample_weight(sample_weight, X.shape[0]),
            check_exposure(inner_params.get("exposure"), X.shape[0]),
        )
        return self

    def _fit_svd(self, X, y, inner_params, n_pixels):
        estimator = clone(self._get_estimator())
        estimator.fit(X, y, **inner_params)
        coef = getattr(estimator, "coef_", None)
        if coef is None:
            raise ValueError(
                f"The inner estimator {type(estimator).__name__} has no coef_ after fit; "
                "SVDSeparator needs a linear (log-link Poisson) regressor."
            )
        coef = np.asarray(coef, dtype=np.float64).ravel()
        if coef.size != X.shape[1]:
            raise ValueError(
                f"The inner estimator's coef_ has {coef.size} entries; expected n_lags * "
                f"n_pixels + n_covariates = {self.n_lags} * {n_pixels} + {self.n_covariates}."
            )
        n_rf = n_pixels * self.n_lags
        self._svd = separate_space_time(
            space_time_matrix(coef[:n_rf], self.n_lags), center=self.center, rank=self.rank
        )
        self.rf_ = self._svd.low_rank
        self._covariate_coef = coef[n_rf:]
        self.estimator_ = estimator
        self.n_iter_ = getattr(estimator, "n_iter_", None)

    def _fit_bilinear(self, X, y, inner_params, n_pixels):
        unknown = set(inner_params) - {"sample_weight", "exposure"}
        if unknown:
            raise ValueError(
                f"fit_method='bilinear' accepts only sample_weight and exposure as fit "
                f"parameters; got {sorted(unknown)}."
            )
        exposure = check_exposure(inner_params.get("exposure"), X.shape[0])
        sample_weight = inner_params.get("sample_weight")
        if sample_weight is not None:
            sample_weight = fit_sample_weight(sample_weight, X.shape[0])
        weights = np.ones_like(y) if sample_weight is None else sample_weight
        if np.sum(weights * y) <= 0:
            raise ValueError(
                "y (spike counts) has no spikes where sample_weight > 0: the maximum-"
                "likelihood rate is 0 and its log (the intercept) is -inf."
            )
        settings = self._get_estimator().get_params()
        fit = fit_low_rank(
            X,
            y,
            n_lags=self.n_lags,
            n_pixels=n_pixels,
            n_covariates=self.n_covariates,
            rank=self.rank,
            exposure=exposure,
            sample_weight=sample_weight,
            alpha=float(settings.get("alpha", 0.0)),
            fit_intercept=bool(settings.get("fit_intercept", True)),
            solver=settings.get("solver", "auto"),
            inner_tol=float(settings.get("tol", 1e-8)),
            inner_max_iter=int(settings.get("max_iter", 1000)),
            tol=self.tol,
            max_iter=self.max_iter,
        )
        if not fit.converged:
            warnings.warn(
                f"SVDSeparator(fit_method='bilinear') stopped after {fit.n_iter} alternations "
                f"(max_iter={self.max_iter}) at optimality {fit.optimality:.3g} > "
                f"tol={self.tol:.3g}, objective {fit.objective:.12g}. Increase max_iter or "
                "loosen tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.rf_ = fit.W
        self._covariate_coef = fit.covariate_coef
        self.intercept_ = fit.intercept
        self.n_iter_ = fit.n_iter
        self.optimality_ = fit.optimality
        self.objective_ = fit.objective

    def _refit_intercept(self, X, y, inner_params):
        fit_intercept = getattr(self.estimator_, "fit_intercept", True)
        if not fit_intercept:
            return 0.0
        eta = np.asarray(X @ self.coef_, dtype=np.float64).ravel()
        exposure = check_exposure(inner_params.get("exposure"), X.shape[0])
        sample_weight = inner_params.get("sample_weight")
        weights = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, float)
        expected = safe_exp(eta - eta.max())[0]
        if exposure is not None:
            expected = expected * exposure
        return float(np.log(np.sum(weights * y) / np.sum(weights * expected)) - eta.max())

    def get_metadata_routing(self):
        """Routing: ``fit`` metadata go to the inner estimator as it requests them.

        Returns
        -------
        MetadataRouter
        """
        return (
            MetadataRouter(owner=self.__class__.__name__)
            .add_self_request(self)
            .add(
                estimator=self._get_estimator(),
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._get_estimator())
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.target_tags.positive_only = True
        return tags
