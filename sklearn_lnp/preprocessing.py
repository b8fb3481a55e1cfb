r"""Transformers that build space-time designs: stimulus history, spike history, slow drift.

:class:`LagTransformer` turns a frames x pixels stimulus into the lagged design
of a space-time receptive field; :class:`SpikeHistoryTransformer` turns spike
counts into the history (and coupling) columns of a Poisson GLM;
:class:`RaisedCosineBasis` compresses many lags of either into a few smooth
temporal basis functions; :class:`SlowDriftFeatures` turns the time of each
bin into a few smooth regressors that absorb a slow firing-rate drift.

The full Poisson GLM
--------------------
Stimulus and counts side by side in one array, every neuron fitted on the
stimulus lags and every neuron's history (the coupled population GLM, one
lockstep multi-output fit)::

    design = ColumnTransformer([
        ("stimulus", LagTransformer(range(25), basis=RaisedCosineBasis(5)), stim_cols),
        ("history", SpikeHistoryTransformer(range(1, 51), basis=RaisedCosineBasis(8)),
         count_cols),
    ])
    glm = make_pipeline(design, PoissonLNPRegressor(alpha=1e-4))
    glm.fit(data, data[:, count_cols], poissonlnpregressor__exposure=widths)
    history = glm[0].named_transformers_["history"]
    filters = history.coef_to_lags(glm[-1].coef_[:, n_stim_columns:])

Sub-frame bins of a recording come from :func:`sklearn_lnp.datasets.subframe_design`;
spike trains of a GLM with history from
:func:`sklearn_lnp.simulation.simulate_glm_spikes`.

Cross-validation recipe
-----------------------
Both transformers learn nothing from the spike counts, so applying them to the
whole recording *before* splitting leaks no response into the test folds, and
it gives every row its true stimulus history.  This is the exact recipe::

    Xlag = LagTransformer(lags=range(5)).fit_transform(stimulus)
    cv = BlockedTimeSeriesSplit(n_splits=5, gap=4)   # gap >= largest lag
    GridSearchCV(PoissonLNPRegressor(), {"alpha": ...}, cv=cv).fit(Xlag, counts)

Lag-wise and joint fits
-----------------------
The lab's recipe, one model per lag, and the joint fit of all lags with
``alpha`` chosen on held-out blocks (bin widths routed as ``exposure``)::

    n = stimulus.shape[1]
    lag_wise = [PoissonLNPRegressor().fit(Xlag[:, k * n:(k + 1) * n], counts,
                                          exposure=widths) for k in range(5)]
    with sklearn.config_context(enable_metadata_routing=True):
        joint = GridSearchCV(
            PoissonLNPRegressor().set_fit_request(exposure=True),
            {"alpha": [1, 3, 10, 30, 100]},
            cv=BlockedTimeSeriesSplit(5, gap=4),
            scoring=sklearn_lnp.metrics.get_scorer("bits_per_spike"),
        ).fit(Xlag, counts, exposure=widths)

On the lab's recording the joint fit needs ``alpha`` ~10 (1500 columns for
~1500 bins) and then predicts held-out counts better than every lag-wise fit
(see ``benchmarks/real_neuron_lags.py``).  A slow drift of the firing rate
is best modelled by adding :class:`SlowDriftFeatures` columns.

Inside a ``Pipeline`` (``make_pipeline(LagTransformer(), PoissonLNPRegressor())``)
rows are lagged within the rows the pipeline receives: the first
``max(lags)`` rows of a test block get ``fill_value`` instead of their history,
and so do the rows just after a gap in a training set when the frame number of
each row is passed as ``frame_index`` (otherwise they would get the frames
before the gap).  With 5 folds of ~300 bins and lags 0..4 that concerns 4 rows
per block, about 1 % of the bins.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
)

from ._passes import is_dask_array as _is_dask
from ._validation import as_real_array, check_memory, validate_X

__all__ = [
    "LagTransformer",
    "RaisedCosineBasis",
    "SlowDriftFeatures",
    "SpikeHistoryTransformer",
    "basis_coef_to_lags",
    "check_lags",
]

_DTYPES = {"float64": np.float64, "float32": np.float32}
_INT64_MAX = int(np.iinfo(np.int64).max)


def check_lags(lags, name: str = "lags") -> np.ndarray:
    """Return ``lags`` as a 1-d int64 array after checking it.

    Parameters
    ----------
    lags : int or iterable of int
        Non-negative, distinct integer lags in frames.  A single int ``L``
        means the single lag ``L``.
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray of shape (n_lags,)
        The lags in the given order.

    Raises
    ------
    ValueError
        When ``lags`` is empty, not integer, negative, beyond the int64
        range or has duplicates.

    Examples
    --------
    >>> from sklearn_lnp.preprocessing import check_lags
    >>> check_lags(range(3))
    array([0, 1, 2])
    """
    if isinstance(lags, numbers.Integral) and not isinstance(lags, bool | np.bool_):
        lags = [lags]
    try:
        values = list(lags)
    except TypeError:
        raise ValueError(
            f"{name} must be an iterable of non-negative integers (frames); got {lags!r}."
        ) from None
    if not values:
        raise ValueError(f"{name} must hold at least one lag; got an empty sequence.")
    for value in values:
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
            raise ValueError(
                f"{name} must hold integers (lags in frames); got {value!r} of type "
                f"{type(value).__name__} in {lags!r}."
            )
        if int(value) > _INT64_MAX:
            raise ValueError(
                f"{name} must be at most 2**63 - 1 frames (int64); got {int(value)} in {lags!r}."
            )
    array = np.asarray([int(value) for value in values], dtype=np.int64)
    if np.any(array < 0):
        raise ValueError(
            f"{name} must be non-negative (row t uses past frames t - lag); got {array.tolist()}."
        )
    if np.unique(array).size != array.size:
        raise ValueError(f"{name} must not contain duplicates; got {array.tolist()}.")
    return array


def _check_frame_index(frame_index, n_samples: int) -> np.ndarray | None:
    if frame_index is None:
        return None
    raw = np.asarray(frame_index)
    if raw.dtype.kind in "iu" and raw.size and raw.max() > _INT64_MAX:
        raise ValueError(
            f"frame_index must hold frame numbers within the int64 range; got {raw.max()}."
        )
    if raw.dtype.kind not in "iu":
        if raw.dtype.kind == "b":
            raise ValueError("frame_index must hold integer frame numbers; got booleans.")
        frame_index = as_real_array(raw, "frame_index", "integer frame numbers")
    else:
        frame_index = raw
    if frame_index.shape != (n_samples,):
        raise ValueError(
            f"frame_index must be a 1-d array with one frame number per row, of length "
            f"{n_samples}; got shape {frame_index.shape}."
        )
    if frame_index.dtype.kind == "f":
        if not np.all(np.isfinite(frame_index)) or np.any(frame_index != np.round(frame_index)):
            raise ValueError("frame_index must hold integer frame numbers.")
        if np.any(np.abs(frame_index) >= 2.0**63):
            raise ValueError(
                "frame_index must hold frame numbers within the int64 range; got "
                f"{frame_index[np.argmax(np.abs(frame_index))]:g}."
            )
    frame_index = frame_index.astype(np.int64)
    if np.unique(frame_index).size != n_samples:
        raise ValueError("frame_index must not contain duplicates (one row per frame).")
    return frame_index


def _check_fill_value(fill_value) -> None:
    if not np.isfinite(fill_value):
        raise ValueError(
            f"fill_value must be finite; got {fill_value!r}: NaN or infinite entries in the "
            "design would make every fit fail (or silently give NaN). Use 0 (the mean of a "
            "contrast stimulus) or the stimulus mean."
        )


def _sort_frames(frame_index):
    if frame_index is None:
        return None
    order = np.argsort(frame_index)
    return frame_index, order, frame_index[order]


def _fill_lag_block(block, X, lag: int, fill_value, frames) -> None:
    """Write the frames at ``lag`` into ``block`` (rows of X, or found by frame number)."""
    n_samples = X.shape[0]
    if frames is None:
        lag = min(lag, n_samples)
        block[:lag] = fill_value
        block[lag:] = X[: n_samples - lag]
        return
    if not n_samples:
        return
    frame_index, order, sorted_frames = frames
    # Only rows with frame_index - lag >= the first frame can find their frame;
    # computing the difference for those rows alone keeps it within int64 (no
    # silent wrap-around).
    first = int(sorted_frames[0])
    block[:] = fill_value
    if lag > int(sorted_frames[-1]) - first:
        return
    rows = np.flatnonzero(frame_index >= first + lag)
    wanted = frame_index[rows] - lag
    position = np.minimum(np.searchsorted(sorted_frames, wanted), n_samples - 1)
    found = sorted_frames[position] == wanted
    block[rows[found]] = X[order[position[found]]]


def _lag_design(X, lags, fill_value, dtype, frames=None) -> np.ndarray:
    """Lag-major design ``[X(lag_0), X(lag_1), ...]`` of frames ``X`` (n_samples, n_pixels).

    Row ``t`` of block ``k`` is the frame ``lags[k]`` before frame ``t`` (by
    row, or by ``frames`` from :func:`_sort_frames`), ``fill_value`` where
    there is none.  Returns an array of shape (n_samples, n_lags * n_pixels).
    """
    n_samples, n_pixels = X.shape
    out = np.empty((n_samples, len(lags) * n_pixels), dtype=dtype)
    for k, lag in enumerate(lags):
        block = out[:, k * n_pixels : (k + 1) * n_pixels]
        _fill_lag_block(block, X, int(lag), fill_value, frames)
    return out


def _basis_design(X, lags, basis_matrix, fill_value, dtype, frames) -> np.ndarray:
    """Basis-major design ``sum_k B[k, j] * X(lag_k)``, one lag block at a time."""
    n_samples, n_columns = X.shape
    n_basis = basis_matrix.shape[1]
    out = np.zeros((n_samples, n_basis * n_columns), dtype=dtype)
    lagged = np.empty((n_samples, n_columns), dtype=dtype)
    for k, lag in enumerate(lags):
        weights = basis_matrix[k]
        if not np.any(weights):
            continue
        _fill_lag_block(lagged, X, int(lag), fill_value, frames)
        for j in np.flatnonzero(weights):
            out[:, j * n_columns : (j + 1) * n_columns] += weights[j] * lagged
    return out


def _check_basis(basis, lags: np.ndarray) -> np.ndarray | None:
    """Evaluate ``basis`` at ``lags``: (n_lags, n_basis) float64, or None."""
    if basis is None:
        return None
    matrix = np.asarray(basis.matrix(lags), dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != lags.size or not np.all(np.isfinite(matrix)):
        raise ValueError(
            f"basis.matrix(lags) must return a finite (n_lags, n_basis) array with n_lags = "
            f"{lags.size}; got shape {matrix.shape}."
        )
    return matrix


def _basis_names(names, n_basis: int, what: str) -> np.ndarray:
    return np.asarray([f"{name}_{what}{j}" for j in range(n_basis) for name in names], dtype=object)


def basis_coef_to_lags(coef, basis_matrix) -> np.ndarray:
    r"""Map weights on basis-major columns back to lag-major filters over the lags.

    A design built with a temporal basis ``B`` (n_lags x n_basis) has the
    columns ``sum_k B[k, j] x(t - lag_k)``; weights ``c`` (n_basis x
    n_columns, basis-major) on them are the filter ``w = B @ c`` over the lags
    (n_lags x n_columns), which this function returns flattened lag-major as
    :class:`LagTransformer` without a basis lays it out.  So
    ``space_time_matrix``, :class:`~sklearn_lnp.SVDSeparator`'s layout and the
    plots keep working in lag space.

    Parameters
    ----------
    coef : array-like of shape (n_basis * n_columns,) or (n_neurons, n_basis * n_columns)
        Weights (log-rate per unit of input) on the basis columns.
    basis_matrix : array-like of shape (n_lags, n_basis)
        The basis at the lags (``basis_matrix_`` of a fitted transformer).

    Returns
    -------
    ndarray of shape (n_lags * n_columns,) or (n_neurons, n_lags * n_columns)
        Lag-major filters: ``reshape(n_lags, n_columns)`` gives lags x columns.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.preprocessing import basis_coef_to_lags
    >>> B = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])   # 3 lags, 2 functions
    >>> basis_coef_to_lags([2.0, -2.0], B).tolist()           # one input column
    [2.0, 0.0, -2.0]
    """
    B = as_real_array(basis_matrix, "basis_matrix", "basis values")
    if B.ndim != 2 or B.size == 0:
        raise ValueError(
            f"basis_matrix must be 2-d and non-empty (n_lags, n_basis); got shape {B.shape}."
        )
    C = as_real_array(coef, "coef", "weights")
    flat = C.ndim == 1
    C = np.atleast_2d(C)
    n_lags, n_basis = B.shape
    if C.ndim != 2 or C.size == 0 or C.shape[1] % n_basis:
        raise ValueError(
            f"coef must have n_basis * n_columns entries per neuron with n_basis = {n_basis}; "
            f"got shape {np.shape(coef)}."
        )
    n_columns = C.shape[1] // n_basis
    W = np.einsum("kj,njp->nkp", B, C.reshape(C.shape[0], n_basis, n_columns))
    W = W.reshape(C.shape[0], n_lags * n_columns)
    return W[0] if flat else W


class _LaggedColumnsMixin:
    """Feature names and the map back to lags shared by the lagging transformers."""

    _lag_tag = "lag"
    _basis_tag = "basis"

    def get_feature_names_out(self, input_features=None):
        """Names ``"{column}_lag{L}"`` lag-major, or ``"{column}_basis{j}"`` with a basis.

        :class:`SpikeHistoryTransformer` writes ``hist`` and ``histbasis``
        instead of ``lag`` and ``basis``.

        Parameters
        ----------
        input_features : array-like of str, optional
            Input column (pixel or neuron) names; ``feature_names_in_`` or
            ``x0 ... x{n-1}`` by default.

        Returns
        -------
        ndarray of str of shape (n_lags * n_columns,) or (n_basis * n_columns,)
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        if self.basis_matrix_ is not None:
            return _basis_names(names, self.basis_matrix_.shape[1], self._basis_tag)
        return np.asarray(
            [f"{name}_{self._lag_tag}{lag}" for lag in self.lags_ for name in names], dtype=object
        )

    def coef_to_lags(self, coef) -> np.ndarray:
        """Fitted weights on this transformer's columns as filters over the lags.

        Parameters
        ----------
        coef : array-like of shape (n_out,) or (n_targets, n_out)
            Weights on the columns of ``transform`` (``n_out`` is
            ``n_basis * n_columns`` with a basis, ``n_lags * n_columns`` without).

        Returns
        -------
        ndarray of shape (n_lags * n_columns,) or (n_targets, n_lags * n_columns)
            Lag-major weights, as without a basis: ``reshape(n_lags, n_columns)``
            gives the lags x columns filter (log-rate change per unit of input,
            per spike for spike history; ``exp`` of it is the gain on the
            rate); see :func:`basis_coef_to_lags`.
        """
        check_is_fitted(self)
        if self.basis_matrix_ is None:
            return as_real_array(coef, "coef", "weights")
        return basis_coef_to_lags(coef, self.basis_matrix_)


class RaisedCosineBasis:
    r"""Raised-cosine temporal basis over lags, in log time (Pillow et al. 2008) or linear time.

    Lags ``t`` are mapped to a warped time ``u(t)``: ``log(t + log_offset)``
    (``log_time=True``), or ``t`` itself; then to ``x`` in ``[0, 1]`` over
    the lag range ``[min(lags), max(lags)]``.  Function ``j`` is the bump

    .. math:: b_j(x) = \tfrac12\,\bigl(1 + \cos(\pi (x - c_j) / (2 s))\bigr)
              \quad\text{for } |x - c_j| < 2 s, \text{ else } 0,

    with centres ``c_j = j s`` spaced ``s = 1 / (n_basis - 1)`` apart, so the
    first bump peaks at the smallest lag and the last at the largest.  Bumps
    overlap by half their width (Pillow's spacing of pi/2): their sum is 2
    between the second and the second-last centre and at least 1 everywhere
    on the lag range, so every lag is covered.  In log time the bumps are
    narrow at short lags (a refractory period of 1-2 bins) and wide at long
    ones (slow history or stimulus kernels), which is why a handful of them
    replace 25-50 lags.

    Parameters
    ----------
    n_basis : int
        Number of functions (columns); at least 1 and at most the number of
        lags it is evaluated at (more would not reduce the design and would
        make the columns linearly dependent).
    log_time : bool, default=True
        Log-time warping (Pillow et al. 2008); ``False`` spaces the bumps
        evenly over the lags.
    log_offset : float, default=1.0
        ``log_offset > 0`` in lags (bins): the warp is ``log(t + log_offset)``.
        Small values crowd the bumps at the shortest lags; large values make
        the warp almost linear.
    orthogonalize : bool, default=False
        Return an orthonormal basis of the same span (``B^T B = I``; the
        columns are no longer bumps, and their sum no longer has the bounds
        above).  The fitted filters over lags are the same in exact
        arithmetic; only the L2 penalty acts differently.

    References
    ----------
    Pillow, J. W., Shlens, J., Paninski, L., Sher, A., Litke, A. M.,
    Chichilnisky, E. J. & Simoncelli, E. P. (2008). Spatio-temporal
    correlations and visual signalling in a complete neuronal population.
    Nature 454, 995-999.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.preprocessing import RaisedCosineBasis
    >>> B = RaisedCosineBasis(4).matrix(range(1, 21))   # 20 history lags -> 4 columns
    >>> B.shape, bool(B.sum(axis=1).min() >= 1.0)
    ((20, 4), True)
    """

    def __init__(self, n_basis, *, log_time=True, log_offset=1.0, orthogonalize=False):
        self.n_basis = n_basis
        self.log_time = log_time
        self.log_offset = log_offset
        self.orthogonalize = orthogonalize

    def __repr__(self) -> str:
        return (
            f"RaisedCosineBasis({self.n_basis}, log_time={self.log_time}, "
            f"log_offset={self.log_offset}, orthogonalize={self.orthogonalize})"
        )

    def matrix(self, lags) -> np.ndarray:
        """The basis evaluated at ``lags``.

        Parameters
        ----------
        lags : iterable of int
            Distinct non-negative lags (bins), in any order.

        Returns
        -------
        ndarray of shape (n_lags, n_basis)
            Row ``k`` holds the functions at ``lags[k]``.

        Raises
        ------
        ValueError
            When ``n_basis`` is not a positive integer or exceeds the number
            of lags, or ``log_offset`` is not positive.
        """
        lags = check_lags(lags)
        n = self.n_basis
        if isinstance(n, bool | np.bool_) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n_basis must be a positive integer; got {n!r}.")
        if n > lags.size:
            raise ValueError(
                f"n_basis={n} is more than the {lags.size} lags it spans: the basis would be "
                "wider than the lag range (linearly dependent columns, no reduction). Use "
                f"n_basis <= {lags.size}, or no basis."
            )
        t = lags.astype(np.float64)
        if self.log_time:
            offset = self.log_offset
            if isinstance(offset, bool) or not isinstance(offset, numbers.Real) or not offset > 0:
                raise ValueError(f"log_offset must be a positive number of bins; got {offset!r}.")
            t = np.log(t + float(offset))
        span = t.max() - t.min()
        x = (t - t.min()) / span if span > 0 else np.zeros_like(t)
        spacing = 1.0 / max(n - 1, 1)
        distance = (x[:, None] - spacing * np.arange(n)[None, :]) / (2.0 * spacing)
        B = np.where(np.abs(distance) < 1.0, 0.5 * (1.0 + np.cos(np.pi * distance)), 0.0)
        if self.orthogonalize:
            B = np.linalg.qr(B)[0]
        return B


class LagTransformer(_LaggedColumnsMixin, TransformerMixin, BaseEstimator):
    r"""Lagged (space-time) design matrix from a frames x pixels stimulus.

    For each lag ``L`` in ``lags``, row ``t`` of the output holds frame
    ``t - L`` of the input.  The columns are **lag-major**: block ``k``
    (columns ``k * n_pixels`` to ``(k + 1) * n_pixels - 1``) holds the frames
    at lag ``lags[k]``, so a coefficient vector reshapes to a lags x pixels
    array with ``coef.reshape(n_lags, n_pixels)`` and to the lab's pixels x
    lags matrix ``W`` with ``coef.reshape(n_lags, n_pixels).T``.

    The output keeps ``n_samples``: the ``max(lags)`` first rows have no
    history for the larger lags, and those entries are set to ``fill_value``
    (0 by default, the mean of a +-1 contrast stimulus, i.e. "no stimulus
    information").  The transformer learns nothing from the data, so it can
    be applied to the whole recording before cross-validation; see the
    module docstring for the cross-validation recipe and
    :class:`~sklearn_lnp.model_selection.BlockedTimeSeriesSplit`.

    Memory: the output has ``n_samples * n_lags * n_pixels`` entries; for
    100,000 frames x 1500 columns (300 pixels at 5 lags) that is 600 MB in
    float32 (``dtype="float32"``) and 1.2 GB in float64.  The estimators of
    this package use a float32 design without copying it.

    Parameters
    ----------
    lags : iterable of int, default=(0, 1, 2, 3, 4)
        Non-negative, distinct lags in frames; blocks appear in this order.
    fill_value : float, default=0.0
        Value of the entries that would come from before the first frame
        (or from frames not among the rows, see ``frame_index``).  Must be
        finite (NaN or inf raise a ``ValueError`` in ``fit`` and
        ``transform``).
    dtype : {"float64", "float32"} or None, default=None
        Output dtype; ``None`` keeps float32 input as float32 and makes
        everything else float64.
    basis : RaisedCosineBasis or None, default=None
        Temporal basis over ``lags``.  With a basis of ``n_basis`` functions
        ``B`` (``basis.matrix(lags)``, n_lags x n_basis) the output has
        ``n_basis * n_pixels`` columns, basis-major: block ``j`` holds
        ``sum_k B[k, j] * (frames at lag lags[k])``, the stimulus filtered by
        basis function ``j``.  It is built one lag at a time (never the full
        lagged design).  Map fitted weights back to filters over lags with
        :meth:`coef_to_lags`.  Not supported for dask input.

    Attributes
    ----------
    lags_ : ndarray of shape (n_lags,)
        The validated lags.
    basis_matrix_ : ndarray of shape (n_lags, n_basis) or None
        The basis evaluated at ``lags_`` (``None`` without a basis).
    n_features_in_ : int
        Number of pixels (input columns).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string column names.

    See Also
    --------
    sklearn_lnp.model_selection.BlockedTimeSeriesSplit : contiguous folds with a gap.
    sklearn_lnp.decomposition.SVDSeparator : spatial x temporal factorisation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp import LagTransformer
    >>> frames = np.arange(8.0).reshape(4, 2)     # 4 frames of 2 pixels
    >>> lagger = LagTransformer(lags=[0, 1])
    >>> lagger.fit_transform(frames)
    array([[0., 1., 0., 0.],
           [2., 3., 0., 1.],
           [4., 5., 2., 3.],
           [6., 7., 4., 5.]])
    >>> lagger.get_feature_names_out().tolist()
    ['x0_lag0', 'x1_lag0', 'x0_lag1', 'x1_lag1']
    """

    _parameter_constraints = {
        "lags": ["array-like", Interval(numbers.Integral, 0, None, closed="left")],
        "fill_value": [numbers.Real],
        "dtype": [None, StrOptions(set(_DTYPES))],
        "basis": [None, HasMethods(["matrix"])],
    }

    def __init__(self, lags=(0, 1, 2, 3, 4), *, fill_value=0.0, dtype=None, basis=None):
        self.lags = lags
        self.fill_value = fill_value
        self.dtype = dtype
        self.basis = basis

    def fit(self, X, y=None):
        """Validate ``lags`` and record the number of pixels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels)
            Stimulus frames, one row per time bin in temporal order.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._fit(X)
        return self

    def _fit(self, X):
        """Validate the parameters and ``X``, record its width; return ``X`` validated."""
        self._validate_params()
        _check_fill_value(self.fill_value)
        self.lags_ = check_lags(self.lags)
        self.basis_matrix_ = _check_basis(self.basis, self.lags_)
        if _is_dask(X):  # lazy: nothing of X is computed
            if X.ndim != 2:
                raise ValueError(f"X must be 2-d (frames x pixels); got {X.ndim}-d.")
            self.n_features_in_ = X.shape[1]
            return X
        return validate_X(self, X, dtype=(np.float64, np.float32), reset=True)

    def _output_dtype(self, X):
        if self.dtype is not None:
            return _DTYPES[self.dtype]
        return np.float32 if X.dtype == np.float32 else np.float64

    def transform(self, X, frame_index=None):
        """Build the lagged design.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels)
            Stimulus frames in temporal order.
        frame_index : array-like of int of shape (n_samples,), optional
            Frame number of each row.  When given, row ``t`` at lag ``L``
            takes the row whose frame number is ``frame_index[t] - L`` and
            ``fill_value`` when that frame is not among the rows (e.g. the
            rows after the gap of a cross-validation training set).  When
            omitted, rows are taken as consecutive frames.  With metadata
            routing enabled, request it with
            ``set_transform_request(frame_index=True)``.

        Returns
        -------
        ndarray of shape (n_samples, n_lags * n_pixels)
            Lag-major design; a lazy ``dask.array`` (rows chunked like ``X``,
            one column chunk) when ``X`` is a dask array: each chunk of rows
            is built from the same rows of ``X`` and the ``max(lags)`` rows
            before them, only when that chunk is computed.
        """
        check_is_fitted(self)
        _check_fill_value(self.fill_value)
        if _is_dask(X):
            if self.basis_matrix_ is not None:
                raise ValueError(
                    "basis is not supported with a dask stimulus: build the basis design from a "
                    "NumPy array (it has only n_basis * n_pixels columns, so it usually fits in "
                    "memory), or pass basis=None for the lazy full-lag design."
                )
            if frame_index is not None:
                raise ValueError(
                    "frame_index is not supported with a dask stimulus: the lazy design "
                    "takes consecutive rows as consecutive frames."
                )
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X must be 2-d with {self.n_features_in_} pixels (columns) as in fit; "
                    f"got shape {X.shape}."
                )
            from ._passes._dask import lag_design

            dtype = self._output_dtype(X) if X.dtype.kind == "f" else np.dtype(np.float64)
            return lag_design(X.astype(dtype), self.lags_, self.fill_value, dtype)
        X = validate_X(self, X, dtype=(np.float64, np.float32), reset=False)
        return self._design(X, frame_index)

    def _design(self, X: np.ndarray, frame_index) -> np.ndarray:
        """The lagged design of validated frames ``X`` (see :meth:`transform`)."""
        n_samples, n_pixels = X.shape
        frame_index = _check_frame_index(frame_index, n_samples)
        dtype = np.dtype(self._output_dtype(X))
        n_blocks = self.lags_.size if self.basis_matrix_ is None else self.basis_matrix_.shape[1]
        # With a basis, one lag block is built at a time (the extra block).
        extra = 0 if self.basis_matrix_ is None else 1
        check_memory(
            float(n_samples) * (n_blocks + extra) * n_pixels * dtype.itemsize,
            f"LagTransformer with {self.lags_.size} lags and {n_blocks} output blocks: the "
            f"design of {n_samples} x {n_pixels} frames ({n_samples} x {n_blocks * n_pixels}, "
            f"{dtype.name})",
        )
        frames = _sort_frames(frame_index)
        if self.basis_matrix_ is not None:
            return _basis_design(X, self.lags_, self.basis_matrix_, self.fill_value, dtype, frames)
        return _lag_design(X, self.lags_, self.fill_value, dtype, frames)

    def fit_transform(self, X, y=None, frame_index=None):
        """Fit and transform; see :meth:`transform`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels)
        y : None
            Ignored.
        frame_index : array-like of int of shape (n_samples,), optional
            See :meth:`transform`.

        Returns
        -------
        ndarray of shape (n_samples, n_lags * n_pixels)
        """
        X = self._fit(X)
        if _is_dask(X):
            return self.transform(X, frame_index=frame_index)
        return self._design(X, frame_index)  # X validated once

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.dtype is None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        else:
            tags.transformer_tags.preserves_dtype = [self.dtype]
        return tags


class SlowDriftFeatures(TransformerMixin, BaseEstimator):
    r"""Smooth functions of time that absorb a slow drift of the firing rate.

    Transforms a column holding the time of each bin (seconds or frame
    number) into ``n_basis`` Legendre polynomials of degrees
    ``1 .. n_basis`` of the time mapped to ``[-1, 1]`` over ``time_range``,
    each multiplied by ``scale``.  The constant is left out (the intercept
    models it).  Several columns are expanded one after the other.  Stack
    these columns beside the lagged stimulus (``numpy.hstack`` or a
    ``ColumnTransformer``) and the fitted receptive field no longer absorbs
    the drift: pixels whose mean happens to follow the rate no longer carry
    a lag-independent pattern.  With :class:`~sklearn_lnp.SVDSeparator`,
    pass the number of these columns as ``n_covariates``.

    ``scale`` makes the L2 penalty of the regressor act weakly on the drift
    coefficients: a drift of ``d`` log-rate units costs ``alpha/2 (d/scale)^2``.
    On the lab's recording (5 lags, 1506 columns), the fitted drift with the
    default 30 is about 12 % smaller than unpenalised at ``alpha=10`` and 45 %
    smaller at ``alpha=100`` (measured against ``scale=300``); a larger
    scale penalises it less but makes the problem worse conditioned (slower
    L-BFGS).  The RF weights are freed of the drift pattern already at 30.

    Parameters
    ----------
    n_basis : int, default=6
        Number of polynomials (degrees 1 to ``n_basis``).  On the lab's
        recording, whose rate falls from ~4.9 to ~0.4 spikes per bin in the
        last twelfth, 6 polynomials follow the rate per twelfth of the
        recording to within 0.15 spikes per bin; 4 miss it by up to 0.4.
    time_range : tuple of float (start, stop) or None, default=None
        Interval mapped to ``[-1, 1]`` (every column); the range of each
        column seen by ``fit`` when ``None``.  Pass the recording's span so
        that every fold of a cross-validation uses the same basis.
    scale : float, default=30.0
        Multiplier of every output column.

    Notes
    -----
    Outside the fitted time range (``time_range_``), ``transform`` holds
    the drift constant: a time before ``start`` gets the features of
    ``start``, a time after ``stop`` those of ``stop`` (the polynomials are
    not extrapolated: degree-6 polynomials grow like ``u**6`` and would
    predict rates off by orders of magnitude a little past the ends).  A
    ``UserWarning`` says how many times were outside; pass ``time_range``
    spanning the whole recording (or fit on all its times) to avoid it.
    Any finite times are accepted, also near the float64 limits (the
    mapping to ``[-1, 1]`` never overflows).

    Attributes
    ----------
    time_range_ : ndarray of shape (n_features_in_, 2)
        The interval used for each column.
    n_features_in_ : int
        Number of time columns (usually 1).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.preprocessing import SlowDriftFeatures
    >>> t = np.arange(5.0).reshape(-1, 1)
    >>> SlowDriftFeatures(n_basis=2, scale=1.0).fit_transform(t)
    array([[-1.   ,  1.   ],
           [-0.5  , -0.125],
           [ 0.   , -0.5  ],
           [ 0.5  , -0.125],
           [ 1.   ,  1.   ]])
    """

    _parameter_constraints = {
        "n_basis": [Interval(numbers.Integral, 1, None, closed="left")],
        "time_range": [None, tuple, list],
        "scale": [Interval(numbers.Real, 0.0, None, closed="neither")],
    }

    def __init__(self, n_basis=6, *, time_range=None, scale=30.0):
        self.n_basis = n_basis
        self.time_range = time_range
        self.scale = scale

    def fit(self, X, y=None):
        """Record the time range of each column.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_columns)
            Time of each bin (usually one column).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._validate_params()
        X = validate_X(self, X, dtype=np.float64, reset=True)
        if self.time_range is None:
            start, stop = X.min(axis=0), X.max(axis=0)
        else:
            if len(self.time_range) != 2:
                raise ValueError(f"time_range must be (start, stop); got {self.time_range!r}.")
            for position, value in zip(("start", "stop"), self.time_range, strict=True):
                if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
                    raise ValueError(
                        f"time_range must be (start, stop) with real numbers; {position} is "
                        f"{value!r} of type {type(value).__name__}."
                    )
            start = np.full(X.shape[1], float(self.time_range[0]))
            stop = np.full(X.shape[1], float(self.time_range[1]))
        finite = np.all(np.isfinite(start)) and np.all(np.isfinite(stop))
        # (Compared in quarters, as transform maps them.)
        if not (finite and np.all(0.25 * stop > 0.25 * start)):
            raise ValueError(
                "time_range must be finite with stop > start for every column; got "
                f"start={start.tolist()}, stop={stop.tolist()}. With time_range=None, fit needs "
                f"at least two different times per column (n_samples = {X.shape[0]})."
            )
        self.time_range_ = np.column_stack([start, stop])
        return self

    def transform(self, X):
        """Return the scaled Legendre polynomials of the mapped times.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_columns)

        Returns
        -------
        ndarray of shape (n_samples, n_columns * n_basis)
            Column-major: the ``n_basis`` polynomials of the first column first.
            Times outside ``time_range_`` get the features of its nearest
            end (with a ``UserWarning``; see the class Notes).
        """
        check_is_fitted(self)
        X = validate_X(self, X, dtype=np.float64, reset=False)
        # legvander builds n_basis + 1 float64 columns per time column.
        check_memory(
            8.0 * X.size * (self.n_basis + 1) * 2,
            f"SlowDriftFeatures with n_basis={self.n_basis} on {X.size} times",
        )
        start, stop = self.time_range_[:, 0], self.time_range_[:, 1]
        outside = (X < start) | (X > stop)
        if np.any(outside):
            warnings.warn(
                f"SlowDriftFeatures: {int(outside.sum())} of {X.size} times lie outside the "
                f"fitted time_range_ {self.time_range_.tolist()}; they get the drift features "
                "of the nearest end (held constant, not extrapolated). Pass time_range "
                "spanning the whole recording to avoid this.",
                UserWarning,
                stacklevel=2,
            )
        # u = ((X - start) - (stop - X)) / (stop - start), computed on quarters
        # (exact: a power of two) so that no difference overflows for finite times.
        q, q_start, q_stop = 0.25 * np.clip(X, start, stop), 0.25 * start, 0.25 * stop
        u = np.clip(((q - q_start) - (q_stop - q)) / (q_stop - q_start), -1.0, 1.0)
        basis = np.polynomial.legendre.legvander(u, self.n_basis)[:, :, 1:]
        return self.scale * basis.reshape(X.shape[0], -1)

    def get_feature_names_out(self, input_features=None):
        """Names ``"{column}_drift{k}"`` for the degrees ``k = 1 .. n_basis``.

        Parameters
        ----------
        input_features : array-like of str, optional

        Returns
        -------
        ndarray of str of shape (n_columns * n_basis,)
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        return np.asarray(
            [f"{name}_drift{k}" for name in names for k in range(1, self.n_basis + 1)],
            dtype=object,
        )


class SpikeHistoryTransformer(_LaggedColumnsMixin, TransformerMixin, BaseEstimator):
    r"""Past spike counts of one or more neurons: the history and coupling terms of a GLM.

    Row ``t`` of the output holds the counts of bin ``t - L`` for every lag
    ``L`` in ``lags``, lag-major as :class:`LagTransformer` (block ``k``
    holds all neurons at lag ``lags[k]``).  Rows before the first bin get 0
    (no spikes).  Only lags >= 1 are allowed: lag 0 is the count being
    predicted, so it would leak the target into the design.

    Beside the lagged stimulus, a neuron's own history gives the
    refractoriness and bursting of a Poisson GLM (Pillow et al. 2008);
    the other neurons' histories give its coupling filters.  With stimulus
    and counts side by side in one array::

        glm = make_pipeline(
            ColumnTransformer([
                ("stimulus", LagTransformer(range(5)), stimulus_columns),
                ("history", SpikeHistoryTransformer(range(1, 21)), count_columns),
            ]),
            PoissonLNPRegressor(alpha=1e-3),
        )
        glm.fit(np.hstack([stimulus, counts]), counts)   # coupled population GLM

    Fitting all neurons (``y`` of shape (n_samples, n_neurons)) on every
    neuron's history is the coupled population GLM, solved for all neurons
    in lockstep.  Inside cross-validation the first ``max(lags)`` rows of a
    test block get 0 instead of their (true) history; transforming the
    whole recording before splitting gives every row its true history and
    leaks nothing (the history of bin ``t`` holds only earlier bins).

    Parameters
    ----------
    lags : iterable of int, default=tuple(range(1, 21))
        Distinct lags (bins), each >= 1 (the default: 1 to 20 bins).
    basis : RaisedCosineBasis or None, default=None
        Temporal basis over ``lags``: the output then has ``n_basis *
        n_neurons`` columns, basis-major (block ``j`` holds every neuron's
        counts filtered by basis function ``j``); see :class:`LagTransformer`
        and :meth:`coef_to_lags`.

    Attributes
    ----------
    lags_ : ndarray of shape (n_lags,)
    basis_matrix_ : ndarray of shape (n_lags, n_basis) or None
    n_features_in_ : int
        Number of neurons (count columns).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.preprocessing import SpikeHistoryTransformer
    >>> counts = np.array([[1, 0], [0, 2], [3, 0]])          # 3 bins x 2 neurons
    >>> history = SpikeHistoryTransformer(lags=[1, 2])
    >>> history.fit_transform(counts)
    array([[0., 0., 0., 0.],
           [1., 0., 0., 0.],
           [0., 2., 1., 0.]])
    >>> history.get_feature_names_out().tolist()
    ['x0_hist1', 'x1_hist1', 'x0_hist2', 'x1_hist2']
    """

    _lag_tag = "hist"
    _basis_tag = "histbasis"

    _parameter_constraints = {
        # Lags < 1 are refused in fit with a message saying why (target leak).
        "lags": ["array-like", Interval(numbers.Integral, None, None, closed="neither")],
        "basis": [None, HasMethods(["matrix"])],
    }

    def __init__(self, lags=tuple(range(1, 21)), *, basis=None):
        self.lags = lags
        self.basis = basis

    def _check_lags(self) -> np.ndarray:
        if isinstance(self.lags, numbers.Integral) and not isinstance(self.lags, bool | np.bool_):
            if self.lags < 1:
                raise ValueError(self._leak_message([int(self.lags)]))
        elif isinstance(self.lags, Iterable):
            values = list(self.lags)
            small = [v for v in values if isinstance(v, numbers.Real) and v < 1]
            if small:
                raise ValueError(self._leak_message(values))
        return check_lags(self.lags, "lags")

    @staticmethod
    def _leak_message(values) -> str:
        return (
            f"lags must all be >= 1 for spike history; got {list(values)}. Lag 0 is the count "
            "being predicted (it would leak the target into the design) and negative lags are "
            "future spikes."
        )

    @staticmethod
    def _check_counts(X) -> None:
        if not np.all(np.isfinite(X)) or np.any(X < 0) or np.any(X != np.round(X)):
            raise ValueError(
                "X (the spike counts of the history columns) must hold non-negative integers "
                "(spikes per bin); found negative, non-integer or non-finite values."
            )

    def fit(self, X, y=None):
        """Validate ``lags`` and the counts, record the number of neurons.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_neurons)
            Spike counts per bin, in temporal order.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._validate_params()
        self.lags_ = self._check_lags()
        self.basis_matrix_ = _check_basis(self.basis, self.lags_)
        X = validate_X(self, X, dtype=np.float64, reset=True)
        self._check_counts(X)
        return self

    def transform(self, X):
        """Build the history design.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_neurons)
            Spike counts per bin, in temporal order.

        Returns
        -------
        ndarray of shape (n_samples, n_lags * n_neurons) or (n_samples, n_basis * n_neurons)
            float64; lag-major without a basis, basis-major with one.
        """
        check_is_fitted(self)
        X = validate_X(self, X, dtype=np.float64, reset=False)
        self._check_counts(X)
        n_samples, n_neurons = X.shape
        n_blocks = self.lags_.size if self.basis_matrix_ is None else self.basis_matrix_.shape[1]
        check_memory(
            8.0 * n_samples * (n_blocks + 1) * n_neurons,
            f"SpikeHistoryTransformer with {self.lags_.size} lags and {n_blocks} output blocks "
            f"on {n_samples} x {n_neurons} counts",
        )
        if self.basis_matrix_ is not None:
            return _basis_design(X, self.lags_, self.basis_matrix_, 0.0, np.float64, None)
        out = np.empty((n_samples, n_blocks * n_neurons))
        for k, lag in enumerate(self.lags_):
            _fill_lag_block(out[:, k * n_neurons : (k + 1) * n_neurons], X, int(lag), 0.0, None)
        return out
