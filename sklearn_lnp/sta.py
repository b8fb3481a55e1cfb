r"""``STAEstimator``: the spike-triggered average as a full LN model.

The spike-triggered average (STA) is the count-weighted mean of the stimulus
rows minus the mean stimulus.  With counts ``y_t``, exposures (bin widths)
``e_t``, sample weights ``s_t``, ``C = sum_t s_t y_t`` spikes and
``E = sum_t s_t e_t``, it is

.. math::

    \mathrm{STA} = \frac{1}{C} \sum_t r_t x_t, \qquad
    r_t = s_t \Bigl(y_t - e_t \frac{C}{E}\Bigr),

the stimulus weighted by the spikes minus those of a constant rate.  The
mean subtracted is the exposure-weighted mean stimulus (each frame counted
for as long as it was shown).  ``X.T @ r`` is also minus the gradient of the
Poisson log-likelihood at the constant-rate model, so the STA is the
direction in which the likelihood of an LNP model rises fastest from that
model.  For a white (uncorrelated) stimulus it points along the receptive
field of an LNP neuron; for a correlated stimulus, whitening with the
stimulus covariance (``whiten=True``) corrects it.

A nonlinearity fitted to the filter output ``z_t = x_t . filter`` makes it a
model of the counts, ``mu_t = e_t f(z_t)``, with ``predict`` and ``score`` as
the other LNP regressors.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._objective import PoissonObjective
from ._passes import matvec, rmatvec, row_blocks, weighted_gram
from ._passes._memory import _MATVEC_BLOCK_BYTES
from ._solvers import solve, warn_if_not_converged
from ._validation import check_exposure, validate_X
from .linear_model._base import _ACCEPT_SPARSE, _DTYPES, LNPRegressorMixin

# Largest condition number (1-norm, LAPACK's estimate) of the ridged stimulus
# covariance that whitening accepts.  Beyond it the covariance is numerically
# singular for this purpose: the whitened filter can carry relative errors of
# cond * 2.2e-16 >= 2e-4 from rounding alone, and the sampling noise of the STA
# is amplified by up to that factor along the weakest stimulus direction.
_MAX_CONDITION = 1e12


def _weighted_quantile_edges(
    z: np.ndarray, weights: np.ndarray, n_bins: int, tie: float
) -> np.ndarray:
    """Inner bin edges that split the weighted mass of ``z`` into ``n_bins`` parts.

    Edge ``k`` is the smallest ``z`` whose cumulative weight reaches
    ``k / n_bins`` of the total (so weight 2 equals a repeated sample).
    Edges closer than ``tie`` (ties in ``z``) are merged.
    """
    keep = weights > 0
    z, weights = z[keep], weights[keep]
    order = np.argsort(z, kind="stable")
    z, cumulative = z[order], np.cumsum(weights[order])
    levels = cumulative[-1] * np.arange(1, n_bins) / n_bins
    index = np.minimum(np.searchsorted(cumulative, levels, side="left"), z.size - 1)
    edges = np.unique(z[index])
    return edges[np.append(True, np.diff(edges) > tie)]


def _weighted_square_sums(X, weights: np.ndarray) -> np.ndarray:
    """``sum_t weights_t X_tj^2`` per column, in float64, without squaring all of ``X`` at once."""
    if sp.issparse(X):
        return np.asarray(X.multiply(X).T @ weights, dtype=np.float64).ravel()
    sums = np.zeros(X.shape[1])
    for rows in row_blocks(X.shape[0], X.shape[1], _MATVEC_BLOCK_BYTES):
        block = X[rows].astype(np.float64)
        sums += (block * block).T @ weights[rows]
    return sums


class STAEstimator(LNPRegressorMixin, BaseEstimator):
    r"""Spike-triggered average with a fitted output nonlinearity.

    ``fit`` computes the STA of the counts (see :mod:`sklearn_lnp.sta`),
    optionally whitens it, and fits the nonlinearity ``f`` of
    ``mu = exposure * f(X @ filter_)``.  It takes any design: frames x
    pixels, or the lag-major lagged design of
    :class:`~sklearn_lnp.LagTransformer`, and ``coef_`` has that layout.

    Parameters
    ----------
    nonlinearity : {"exp", "binned"}, default="exp"
        ``"exp"``: ``f(z) = exp(scale_ * z + intercept_)``, ``scale_`` and
        ``intercept_`` fitted by Poisson maximum likelihood (with exposure
        and sample weights) on the 1-d filter output; the model is then an
        LNP model like :class:`~sklearn_lnp.PoissonLNPRegressor` with
        ``coef_ = scale_ * filter_``.  ``"binned"``: a non-parametric rate
        per bin of the filter output (see ``n_bins`` and ``pseudo_count``),
        linearly interpolated between bin centres.
    whiten : bool, default=False
        Use ``filter_ = (Cov + ridge * mean variance * I)^{-1} sta_``, with
        ``Cov`` the exposure-weighted stimulus covariance, instead of the
        STA itself.  Needed for correlated stimuli; for white noise it only
        adds estimation noise.
    ridge : float, default=0.1
        Added to the diagonal of the covariance before whitening, as a
        fraction of the mean stimulus variance ``trace(Cov) / n_features``
        (so it does not depend on the stimulus units).  Only used with
        ``whiten=True``.  ``fit`` raises a ``ValueError`` naming ``ridge``
        when ``Cov + ridge * mean variance * I`` is singular or numerically
        singular: its condition number (LAPACK's 1-norm estimate) above
        ``1e12``, as for duplicated or nearly collinear stimulus columns or
        ``n_features >= n_samples`` with ``ridge=0``.  A ``ridge`` > 0 bounds
        the condition number by about ``1 + n_features / ridge``.
    n_bins : int, default=10
        Bins of the filter output for ``nonlinearity="binned"``: quantiles
        of the (sample- and exposure-weighted) training filter output, so
        each bin holds about the same share of the recording.  Ties merge
        bins; ``n_bins_`` is the number used.  10 keeps about 150 frames per
        bin for a lab-sized recording of 1500 frames.
    pseudo_count : float, default=1.0
        For ``"binned"``: the rate of bin ``k`` is
        ``(spikes_k + pseudo_count) / (exposure_k + pseudo_count / rate)``,
        with ``rate`` the mean rate: a bin with no spikes gets a small
        positive rate instead of 0 (which would make held-out spikes
        impossible).  0 gives the per-bin maximum-likelihood rate.
    tol : float, default=1e-8
        For ``"exp"``: the fit of scale and offset stops when the largest
        absolute gradient entry of the mean Poisson negative log-likelihood
        (with the filter output standardised) is at most ``tol``.
    max_iter : int, default=100
        Maximum Newton iterations of the ``"exp"`` fit.

    Attributes
    ----------
    sta_ : ndarray of shape (n_features,)
        The spike-triggered average (stimulus units).
    zscore_ : ndarray of shape (n_features,)
        ``sta_`` over its standard deviation under the null hypothesis
        that the counts do not depend on a white stimulus:
        ``(X.T @ r)_j / (sd_j sqrt(sum_t r_t^2 / s_t))`` (``sd_j`` the
        exposure-weighted standard deviation of feature ``j``, ``r`` as in
        the module docstring), i.e. ``sqrt(sum (c - mean c)^2) / sum c``
        times the pixel s.d. for unit weights and exposures.  0 for
        constant features.  Meaningful for white stimuli only.
    filter_ : ndarray of shape (n_features,)
        The filter the nonlinearity acts on: ``sta_``, or its whitened
        version.
    coef_ : ndarray of shape (n_features,)
        ``"exp"``: ``scale_ * filter_``, the receptive field in log-rate
        per unit stimulus, comparable with ``PoissonLNPRegressor.coef_``.
        ``"binned"``: ``filter_``.
    intercept_ : float
        ``"exp"`` only: log rate per unit exposure at zero filter output.
    scale_ : float
        ``"exp"`` only: the fitted gain of the filter output.
    n_iter_, optimality_ : int, float
        ``"exp"`` only: Newton iterations and the final largest gradient
        entry.
    bin_edges_ : ndarray of shape (n_bins_ - 1,)
        ``"binned"`` only: inner edges of the filter-output bins (a value
        equal to an edge belongs to the lower bin).
    bin_centers_ : ndarray of shape (n_bins_,)
        ``"binned"`` only: weighted mean filter output in each bin.
    bin_rates_ : ndarray of shape (n_bins_,)
        ``"binned"`` only: rate per unit exposure in each bin.
    n_bins_ : int
        ``"binned"`` only: bins used.
    n_spikes_ : float
        (Weighted) number of spikes the STA averages.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string column names.

    See Also
    --------
    sklearn_lnp.spikes.spike_triggered_average : STA from spike times at
        sub-frame resolution.
    sklearn_lnp.PoissonLNPRegressor : maximum-likelihood LNP fit.

    Notes
    -----
    ``predict(X, exposure)`` is ``exposure * f(X @ filter_)``.  For
    ``"binned"``, ``f`` is ``np.interp`` of ``bin_rates_`` at
    ``bin_centers_``: linear between centres and constant beyond the outer
    ones.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp import STAEstimator
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> neuron = make_lnp_neuron(n_frames=5000, random_state=0)
    >>> sta = STAEstimator().fit(neuron.stimulus, neuron.counts, exposure=neuron.exposure)
    >>> bool(np.corrcoef(sta.coef_, neuron.rf.ravel())[0, 1] > 0.9)
    True
    >>> int(np.argmax(sta.zscore_)) == int(np.argmax(neuron.rf))
    True
    >>> sta.predict(neuron.stimulus[:2], exposure=neuron.exposure[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        "nonlinearity": [StrOptions({"exp", "binned"})],
        "whiten": ["boolean"],
        "ridge": [Interval(numbers.Real, 0.0, None, closed="left")],
        "n_bins": [Interval(numbers.Integral, 1, None, closed="left")],
        "pseudo_count": [Interval(numbers.Real, 0.0, None, closed="left")],
        "tol": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        nonlinearity="exp",
        whiten=False,
        ridge=0.1,
        n_bins=10,
        pseudo_count=1.0,
        tol=1e-8,
        max_iter=100,
    ):
        self.nonlinearity = nonlinearity
        self.whiten = whiten
        self.ridge = ridge
        self.n_bins = n_bins
        self.pseudo_count = pseudo_count
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X, y, sample_weight=None, exposure=None):
        """Compute the STA and fit the nonlinearity.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Stimulus design, float64 or float32 (used without a copy).
        y : array-like of shape (n_samples,)
            Spike counts per bin (non-negative, at least one spike).
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights (frequency weights: weight 2 counts a bin
            twice).
        exposure : array-like of shape (n_samples,) or float, optional
            Bin widths (s); 1 when omitted.  Route it through a ``Pipeline``
            with ``set_fit_request(exposure=True)``.

        Returns
        -------
        self
        """
        self._validate_params()
        # |X| <= 1e50 (beyond it the stimulus moments overflow float64); counts
        # <= 2**53 for the exp nonlinearity, whose Newton fit is a Poisson fit
        # (the binned rates are ratios of sums and take any finite count)
        X, y, sample_weight, exposure = self._validate_fit_data(
            X, y, sample_weight, exposure, count_limit=self.nonlinearity == "exp"
        )
        bin_widths = np.ones(X.shape[0]) if exposure is None else exposure
        spikes = float(sample_weight @ y)
        time_weight = sample_weight * bin_widths
        mean_rate = spikes / float(time_weight.sum())
        residual = sample_weight * y - mean_rate * time_weight
        projection = rmatvec(X, residual)
        self.sta_ = projection / spikes
        self.n_spikes_ = spikes

        share = time_weight / time_weight.sum()
        mean = rmatvec(X, share)
        variance = np.clip(_weighted_square_sums(X, share) - mean * mean, 0.0, None)
        positive = sample_weight > 0
        # sqrt(sum r^2 / s), scaled by max |r| so that counts near 1e300 do not overflow.
        r_max = float(np.max(np.abs(residual[positive]), initial=0.0)) or 1.0
        r_scaled = residual[positive] / r_max
        null_sd = np.sqrt(variance) * (
            r_max * np.sqrt(np.sum(r_scaled * r_scaled / sample_weight[positive]))
        )
        self.zscore_ = np.divide(
            projection, null_sd, out=np.zeros_like(projection), where=null_sd > 0
        )

        if not np.any(self.sta_):
            warnings.warn(
                "STAEstimator: the spike-triggered average is exactly zero (the counts are "
                "proportional to the exposure, or every feature is constant); the model is "
                "the constant mean rate.",
                UserWarning,
                stacklevel=2,
            )
            self.filter_ = self.sta_.copy()
        elif self.whiten:
            self.filter_ = self._whitened(X, share, mean)
        else:
            self.filter_ = self.sta_.copy()

        z = matvec(X, self.filter_)
        for name in (
            "scale_",
            "intercept_",
            "n_iter_",
            "optimality_",
            "bin_edges_",
            "bin_centers_",
            "bin_rates_",
            "n_bins_",
        ):
            # Attributes of the nonlinearity of an earlier fit, if it differed.
            self.__dict__.pop(name, None)
        if self.nonlinearity == "exp":
            self._fit_exp(z, y, sample_weight, exposure, share, mean_rate)
            self.coef_ = self.scale_ * self.filter_
        else:
            self._fit_binned(z, y, sample_weight, time_weight, mean_rate)
            self.coef_ = self.filter_.copy()
        return self

    def _whitened(self, X, share, mean):
        """``(Cov + ridge * trace(Cov) / p * I)^{-1} sta_`` with the exposure-weighted Cov."""
        covariance = weighted_gram(X, share) - np.outer(mean, mean)
        scale = np.trace(covariance) / covariance.shape[0]
        covariance[np.diag_indices_from(covariance)] += self.ridge * scale
        try:
            factor = np.linalg.cholesky(covariance)
        except np.linalg.LinAlgError as error:
            raise ValueError(
                f"The stimulus covariance plus ridge={self.ridge:g} times its mean variance "
                "is not positive definite; increase ridge (it must be > 0 when features are "
                "collinear or n_features >= n_samples)."
            ) from error
        # Cholesky succeeds on a singular matrix that rounding made barely
        # positive definite: check the condition number as well.
        norm = float(np.max(np.sum(np.abs(covariance), axis=0)))
        rcond, info = lapack.dpocon(factor, norm, uplo="L")
        if info != 0 or not rcond * _MAX_CONDITION >= 1.0:
            condition = f"{1.0 / rcond:.2g}" if rcond > 0 else "infinite"
            raise ValueError(
                f"The stimulus covariance plus ridge={self.ridge:g} times its mean variance "
                f"is numerically singular (condition number ~{condition} > "
                f"{_MAX_CONDITION:.0e}): stimulus columns are duplicated or nearly collinear. "
                "Whitening would amplify rounding and noise by that factor; increase ridge "
                "(ridge > 0, e.g. the default 0.1)."
            )
        inner = np.linalg.solve(factor, self.sta_)
        return np.linalg.solve(factor.T, inner)

    def _fit_exp(self, z, y, sample_weight, exposure, share, mean_rate):
        """Poisson ML of ``scale_`` and ``intercept_`` in ``exposure * exp(scale z + b)``."""
        z_mean = float(share @ z)
        z_sd = float(np.sqrt(share @ (z - z_mean) ** 2))
        if not z_sd > 1e-12 * max(1.0, abs(z_mean)):
            self.scale_ = 0.0
            self.intercept_ = float(np.log(mean_rate))
            self.n_iter_ = 0
            self.optimality_ = 0.0
            return
        standard = ((z - z_mean) / z_sd)[:, None]
        objective = PoissonObjective(standard, y, exposure, sample_weight, fit_intercept=True)
        (result,) = solve(
            objective,
            None,
            objective.initial_params(),
            solver="newton-cholesky",
            tol=self.tol,
            max_iter=self.max_iter,
        )
        if not (np.all(np.isfinite(result.params)) and np.isfinite(result.objective)):
            raise FloatingPointError(
                "The fit of the exponential nonlinearity produced non-finite parameters: "
                "the spikes are perfectly separated by the filter output."
            )
        warn_if_not_converged(result, self.tol, self.max_iter)
        gain, offset = objective.split(result.params)
        self.scale_ = float(gain[0]) / z_sd
        self.intercept_ = float(offset) - self.scale_ * z_mean
        self.n_iter_ = result.n_iter
        self.optimality_ = result.optimality

    def _fit_binned(self, z, y, sample_weight, time_weight, mean_rate):
        """Rate per quantile bin of ``z``, shrunk toward the mean rate by ``pseudo_count``."""
        # Filter outputs of identical rows can differ in the last bits (BLAS
        # sums in different orders); values within ``tie`` count as equal.
        tie = 1e-10 * float(np.max(np.abs(z)))
        edges = _weighted_quantile_edges(z, time_weight, self.n_bins, tie)
        index = np.searchsorted(edges + tie, z, side="left")
        n_edges = edges.size + 1
        spikes = np.bincount(index, weights=sample_weight * y, minlength=n_edges)
        time = np.bincount(index, weights=time_weight, minlength=n_edges)
        z_sum = np.bincount(index, weights=time_weight * z, minlength=n_edges)
        used = time > 0
        # An edge is kept only between bins that both hold data.
        self.bin_edges_ = edges[used[1:] & used[:-1]] if edges.size else edges
        self.bin_centers_ = z_sum[used] / time[used]
        self.bin_rates_ = (spikes[used] + self.pseudo_count) / (
            time[used] + self.pseudo_count / mean_rate
        )
        self.n_bins_ = int(np.sum(used))

    def _filter_output(self, X):
        check_is_fitted(self)
        X = validate_X(self, X, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES, reset=False)
        return X, matvec(X, self.filter_)

    def _predict(self, X, exposure):
        """``exposure * f(X @ filter_)``; the exposure rule is :meth:`predict`'s."""
        if hasattr(self, "scale_"):
            return super()._predict(X, exposure)
        X, z = self._filter_output(X)
        exposure = check_exposure(exposure, X.shape[0])
        rate = np.interp(z, self.bin_centers_, self.bin_rates_)
        return rate if exposure is None else exposure * rate
