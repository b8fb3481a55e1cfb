r"""``SmoothLNPRegressor``: an LNP receptive field under a smoothness prior chosen by evidence.

Model and prior
---------------
Counts ``y_t ~ Poisson(mu_t)``, ``mu_t = e_t exp(x_t . w + b)`` (``e_t`` the
exposure, in the linear predictor only), and the prior ``w ~ N(0, C(theta))``
of :mod:`sklearn_lnp.priors` (ASD: a scale ``rho`` and a squared-exponential
length scale per axis: rows, columns, lags).  The intercept ``b`` has a flat
(improper, unit-density) prior: it is never penalised and is integrated out
with the weights in the Laplace approximation, which only adds the constant
``log(2 pi) / 2`` to the log evidence and its row and column to the
Hessian.

Whitened coordinates
--------------------
``C = U diag(s) U'`` with ``U`` the Kronecker product of the three axes'
eigenvectors (cheap: one small ``eigh`` per axis).  Eigenvalues below
``prune_tol * max(s)`` are dropped (Park & Pillow, 2011), leaving
``B = U_k diag(s_k)^(1/2)`` of shape (p, k), and ``w = B z`` with
``z ~ N(0, I_k)``.  With ``N = sum_t s_t`` (sample weights; ``n_samples``
without them) the negative log posterior divided by ``N`` is the package's
mean Poisson objective on the design ``X B`` plus ``L2(alpha=1/N)`` on ``z``:
one MAP fit is one :func:`~sklearn_lnp._solvers.solve` call, warm-started
from the previous fit's data gradient (``z0 = B' g``, exact at a fixed
``theta`` because ``z* = B' g*`` at the optimum).  ``X B`` is computed axis
by axis (``n p (n_lags + rows + cols)`` multiply-adds), never as ``X @ B``.

Laplace evidence (sum scale)
----------------------------
.. math::

    \log p(y \mid \theta) \approx \ell(w^*, b^*) - \tfrac12 \lVert z^* \rVert^2
    - \tfrac12 \log\det H + \tfrac12 \log 2\pi ,

``ell`` the Poisson log-likelihood (with ``-log y!``), ``H`` the Hessian of
the negative log posterior in ``(z, b)`` at the MAP, ``I + B' X' D X B``
bordered by the intercept (``D = diag(s_t mu_t)``).  This equals the
textbook ``log N(w*; 0, C) + p/2 log 2 pi - 1/2 log det(X'DX + C^-1)``
without ever inverting ``C``.

Gradient with respect to ``theta``
----------------------------------
With ``g = X' s (y - mu)`` (``= C^-1 w*`` at the MAP), ``A~`` the data
Hessian of ``w`` with the intercept eliminated (``X'DX - a a' / a0``,
``a = X' d``, ``a0 = sum d``), ``Sigma = B (I + B' A~ B)^-1 B'`` and
``h_t`` the leverage of bin ``t`` under ``H``,

.. math::

    \frac{\partial \log p}{\partial \theta_j} = \tfrac12 \bigl(
        g' C_j g - \operatorname{tr}(C_j \tilde A)
        + \operatorname{tr}(C_j \tilde A \Sigma \tilde A)
        - u' C_j g \bigr),

``C_j = dC / d theta_j``, ``u = (I + A~ C)^-1 r``, ``r = X' q - a sum(q) / a0``,
``q_t = s_t mu_t h_t``.  The last term is the change of ``log det H``
through the move of the MAP (exact, not the fixed-point approximation).
Every product with ``C_j`` is taken axis by axis; no ``p x p`` matrix is
formed.
"""

from __future__ import annotations

import numbers
import time
import warnings

import numpy as np
import scipy.linalg
import scipy.optimize
from scipy.special import gammaln
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval

from .._laplace import posterior_precision
from .._objective import PoissonObjective
from .._penalties import L2
from .._solvers import SmoothProblem, solve
from .._solvers._blas import single_threaded_blas
from .._validation import MAX_COUNT
from ..priors import _check_layout, asd_axis_kernels
from ._base import LNPBaseEstimator

_LOG_2PI = float(np.log(2.0 * np.pi))
_AXES = ("rows", "cols", "lags")


def _kron_apply(mats, V: np.ndarray, sizes) -> np.ndarray:
    """``kron(mats[0], mats[1], mats[2]) @ V`` axis by axis, for ``V`` of shape (p, m).

    Three (batched) matrix products on reshaped views, ``p m (n_lags + rows +
    cols)`` multiply-adds, no transposed copies.
    """
    n_lag, n_row, n_col = sizes
    m = V.shape[1]
    T = mats[0] @ np.ascontiguousarray(V).reshape(n_lag, -1)
    T = np.matmul(mats[1], T.reshape(n_lag, n_row, n_col * m))
    T = np.matmul(mats[2], T.reshape(n_lag * n_row, n_col, m))
    return T.reshape(V.shape[0], m)


class _LaplaceEvidence:
    """The Laplace log evidence of the ASD-prior Poisson model and its gradient.

    Hyperparameters are ``log_theta = [log rho, log l_axis for each active axis]``
    (an axis is active when it has more than one element).  Keeps the last MAP
    for warm starts and counts the MAP fits.

    Parameters
    ----------
    X : ndarray of shape (n_samples, p), float64
    y, exposure, sample_weight : ndarrays of shape (n_samples,) (exposure may be None)
    frame_shape, n_lags : layout; ``p = n_lags * rows * cols``
    fit_intercept : bool
    prune_tol : float
    tol, max_iter : MAP solver's stopping rule
    """

    def __init__(
        self, X, y, exposure, sample_weight, frame_shape, n_lags, *,
        fit_intercept=True, prune_tol=1e-10, tol=1e-8, max_iter=1000,
    ):  # fmt: skip
        self.X = X
        self.y = y
        self.exposure = exposure
        self.sample_weight = sample_weight
        self.sizes = (n_lags, frame_shape[0], frame_shape[1])
        self.frame_shape = frame_shape
        self.fit_intercept = fit_intercept
        self.prune_tol = prune_tol
        self.tol = tol
        self.max_iter = max_iter
        self.n_total = float(np.sum(sample_weight))
        self.log_factorial = float(sample_weight @ gammaln(y + 1.0))
        # axis order of length_scales (rows, cols, lags) -> Kronecker position
        self.active = [
            axis
            for axis, size in zip((0, 1, 2), self.sizes[1:] + self.sizes[:1], strict=True)
            if size > 1
        ]
        self.n_map_fits = 0
        self.last_map = None
        self.failed_map = None
        # X as (p, n) for the axis-by-axis products X @ kron(...)
        self._Xt = np.ascontiguousarray(X.T)

    # -- hyperparameters ---------------------------------------------------
    def unpack(self, log_theta) -> tuple[float, np.ndarray]:
        """``rho`` and the three length scales (rows, cols, lags; 1 where inactive)."""
        log_theta = np.asarray(log_theta, dtype=np.float64)
        scales = np.ones(3)
        scales[self.active] = np.exp(log_theta[1:])
        return float(np.exp(log_theta[0])), scales

    def _factors(self, scales):
        """Axis kernels (lag, row, col order), their derivatives by log length scale."""
        kernels = asd_axis_kernels(self.frame_shape, self.sizes[0], scales)
        derivatives = []
        for kernel, scale in zip(kernels, (scales[2], scales[0], scales[1]), strict=True):
            steps = np.arange(kernel.shape[0], dtype=np.float64)
            derivatives.append(kernel * ((steps[:, None] - steps[None, :]) / scale) ** 2)
        return kernels, derivatives

    # -- the MAP in whitened coordinates -------------------------------------
    def basis(self, rho, scales):
        """Eigenbasis of ``C``: axis eigenvectors, kept indices and their eigenvalues."""
        kernels, _ = self._factors(scales)
        values, vectors = zip(*(np.linalg.eigh(k) for k in kernels), strict=True)
        values = [np.maximum(v, 0.0) for v in values]
        s = rho * np.kron(np.kron(values[0], values[1]), values[2])
        keep = np.flatnonzero(s > self.prune_tol * s.max())
        return list(vectors), keep, s[keep]

    def map_fit(self, rho, scales):
        """MAP of ``(z, b)`` at ``theta``; returns a dict of what the evidence needs."""
        vectors, keep, s = self.basis(rho, scales)
        root = np.sqrt(s)
        transposed = [v.T for v in vectors]
        XU = _kron_apply(transposed, self._Xt, self.sizes).T  # X @ kron(U)
        Xb = np.ascontiguousarray(XU[:, keep]) * root
        objective = PoissonObjective(
            Xb, self.y, self.exposure, self.sample_weight, fit_intercept=self.fit_intercept
        )
        penalty = L2(1.0 / self.n_total)
        P0 = objective.initial_params()
        if self.last_map is not None:
            # Warm starts from the previous MAP: z = B' g (exact at an unchanged
            # theta) and the projection of w on the new basis; the best of
            # these and the cold start by objective value (one pass each).
            w_prev, g_prev, b_prev = self.last_map
            starts = [P0]
            for v, scale in ((g_prev, root), (w_prev, 1.0 / root)):
                z0 = scale * _kron_apply(transposed, v[:, None], self.sizes)[keep, 0]
                starts.append(objective.join(z0[:, None], b_prev))
            problem = SmoothProblem(objective, penalty)
            with np.errstate(over="ignore"):
                values = [problem.evaluate(start)[0][0] for start in starts]
            P0 = starts[int(np.nanargmin(values))]
        (result,) = solve(objective, penalty, P0, tol=self.tol, max_iter=self.max_iter)
        self.n_map_fits += 1
        if not result.converged:
            self.failed_map = result
        P = result.params[:, None]
        eta = objective.linear_predictor(P)
        z, b = objective.split(P)
        hessian = posterior_precision(objective, penalty, P)
        chol = scipy.linalg.cholesky(hessian, lower=True)
        full = np.zeros(int(np.prod(self.sizes)))
        full[keep] = root * z[:, 0]
        w = _kron_apply(vectors, full[:, None], self.sizes)[:, 0]
        # data gradient of the log-likelihood w.r.t. w (sum scale): X' s (y - mu)
        g = -self.n_total * (self._Xt @ objective.gradient_weights(eta)[:, 0])
        b = float(b[0]) if self.fit_intercept else 0.0
        self.last_map = (w, g, b)
        log_evidence = (
            -self.n_total * result.objective
            - self.log_factorial
            - np.sum(np.log(np.diag(chol)))
            + (0.5 * _LOG_2PI if self.fit_intercept else 0.0)
        )
        return {
            "result": result, "objective": objective, "eta": eta, "Xb": Xb, "chol": chol,
            "hessian": hessian, "vectors": vectors, "keep": keep, "root": root, "w": w,
            "b": b, "g": g, "log_evidence": float(log_evidence), "rho": rho, "scales": scales,
        }  # fmt: skip

    # -- value and gradient --------------------------------------------------
    def gradient(self, fit) -> np.ndarray:
        """Gradient of the log evidence w.r.t. ``log_theta`` at a :meth:`map_fit`."""
        objective, eta, Xb, chol = fit["objective"], fit["eta"], fit["Xb"], fit["chol"]
        vectors, keep, root, g = fit["vectors"], fit["keep"], fit["root"], fit["g"]
        rho, scales = fit["rho"], fit["scales"]
        sizes, Xt = self.sizes, self._Xt
        k = Xb.shape[1]
        d = self.n_total * objective.hessian_weights(eta)[:, 0]
        # leverage of each bin under the full Hessian (intercept included)
        design = np.column_stack([Xb, np.ones(Xb.shape[0])]) if self.fit_intercept else Xb
        h = np.einsum(
            "ij,ij->j", *(2 * [scipy.linalg.solve_triangular(chol, design.T, lower=True)])
        )
        q = d * h
        a = Xt @ d
        Vx = Xt @ (d[:, None] * Xb)  # X' D X B, (p, k)
        r = Xt @ q
        Hz = fit["hessian"][:k, :k]
        if self.fit_intercept:
            a0 = float(d.sum())
            border = Xb.T @ d
            r = r - a * (q.sum() / a0)
            Vx = Vx - np.outer(a, border / a0)
            Hz = Hz - np.outer(border, border) / a0
        factor = scipy.linalg.cho_factor(Hz, lower=True)
        transposed = [v.T for v in vectors]

        def b_transpose(v):  # B' v for v of shape (p, m)
            return root[:, None] * _kron_apply(transposed, v, sizes)[keep]

        u = r - Vx @ scipy.linalg.cho_solve(factor, b_transpose(r[:, None])[:, 0])
        M = scipy.linalg.cho_solve(factor, Vx.T).T  # A~ B H_z^-1, (p, k)
        kernels, derivatives = self._factors(scales)
        # parameters: log rho, then log length scale of each active axis (rows, cols, lags)
        position = {0: 1, 1: 2, 2: 0}  # length_scales axis -> Kronecker factor
        factor_sets = [list(kernels)]
        for axis in self.active:
            mats = list(kernels)
            mats[position[axis]] = derivatives[position[axis]]
            factor_sets.append(mats)
        grad = np.empty(len(factor_sets))
        for j, mats in enumerate(factor_sets):
            dCg = rho * _kron_apply(mats, g[:, None], sizes)[:, 0]
            XdC = rho * _kron_apply(mats, Xt, sizes)  # (X dC)', (p, n)
            trace_A = float(np.einsum("pn,pn->n", XdC, Xt) @ d)
            if self.fit_intercept:
                trace_A -= float(a @ (rho * _kron_apply(mats, a[:, None], sizes)[:, 0])) / a0
            trace_AsA = float(np.sum((rho * _kron_apply(mats, Vx, sizes)) * M))
            grad[j] = 0.5 * (g @ dCg - trace_A + trace_AsA - u @ dCg)
        return grad

    def coef_std(self, fit) -> np.ndarray:
        """Laplace posterior standard deviation of each weight, shape (p,)."""
        chol = fit["chol"]
        vectors, keep, root = fit["vectors"], fit["keep"], fit["root"]
        p = int(np.prod(self.sizes))
        # E = [B'; 0] (the intercept row zero): Cov(w) = E' H^-1 E, and with
        # H = L L' its diagonal is the column sums of (L^-1 E)**2
        E = np.zeros((chol.shape[0], p))
        E[: keep.size] = (
            root[:, None] * _kron_apply([v.T for v in vectors], np.eye(p), self.sizes)[keep]
        )
        R = scipy.linalg.solve_triangular(chol, E, lower=True, overwrite_b=True)
        return np.sqrt(np.einsum("kp,kp->p", R, R))


class SmoothLNPRegressor(LNPBaseEstimator):
    r"""LNP receptive field with a smoothness prior chosen by the Laplace evidence (ASD).

    The weights of a lagged design (columns as
    :class:`~sklearn_lnp.LagTransformer` writes them: lag-major blocks of
    ``rows * cols`` pixels, row-major) get the Gaussian prior
    ``w ~ N(0, C)`` of :func:`sklearn_lnp.priors.asd_covariance`: variance
    ``prior_scale`` per weight and a squared-exponential correlation with
    one length scale along rows, columns (pixels) and lags (frames).  Counts
    are Poisson with ``mu_t = exposure_t * exp(x_t . w + b)``; the exposure
    enters the linear predictor only, as in every estimator of the package.
    The hyperparameters maximise the Laplace approximation of the log
    evidence ``log p(y | theta)`` (sum-scale likelihood, no cross-validation),
    and ``coef_`` is the MAP at them: the minimiser of the mean negative
    log-likelihood plus ``w' C^-1 w / (2 N)`` (``N`` the number of bins, or
    the sum of the sample weights).  The intercept has a flat prior (it is
    not penalised and is integrated out with the weights, which adds a
    constant).  See the docstring of ``sklearn_lnp.linear_model._smooth`` for the formulas
    and the user guide's page on smoothness priors.

    Cost: each evaluation of the evidence is one MAP fit (a ridge problem on
    the whitened design ``X B`` of ``k <= p`` columns, warm-started, by the
    package's solvers), one Cholesky factorisation of the ``(k + 1) x (k + 1)``
    Hessian, and for the gradient products ``X' D X B`` and the leverages
    (``O(n p k)``); a long length scale prunes ``k`` far below ``p``.  The
    hyperparameters are found by L-BFGS-B over their logarithms within the
    bounds, with the analytic gradient.

    One neuron at a time: a ``y`` of several columns is refused (fit each
    column).

    Parameters
    ----------
    frame_shape : tuple of int (rows, cols) or None, default=None
        Pixels of one stimulus frame; ``n_features`` must equal
        ``n_lags * rows * cols``.  None: a one-dimensional stimulus (one
        row of ``n_features / n_lags`` pixels).
    n_lags : int, default=1
        Lag blocks in the design.
    fit_intercept : bool, default=True
        Whether to fit the log baseline rate ``b`` (flat prior).
    length_scale_bounds : tuple of float, default=(0.25, 25.0)
        Bounds of every length scale, in grid steps (pixels; frames for the
        lags).  Positive, lower < upper.
    prior_scale_bounds : tuple of float, default=(1e-8, 1e4)
        Bounds of the prior variance of one weight (squared log-rate per
        unit of stimulus).  Positive, lower < upper.
    prune_tol : float, default=1e-10
        Eigenvalues of ``C`` below ``prune_tol`` times the largest are
        dropped (their directions have zero prior variance).
    tol : float, default=1e-8
        MAP stopping criterion: largest absolute gradient entry of the mean
        objective.
    max_iter : int, default=100
        Iterations of the evidence optimiser (L-BFGS-B); the MAP solver takes
        up to 1000 per fit.
    verbose : int, default=0
        Print the hyperparameters and log evidence at each evaluation.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        MAP receptive field (log-rate change per unit of each feature).
    intercept_ : float
        Log baseline rate per unit of exposure.
    coef_std_ : ndarray of shape (n_features,)
        Laplace posterior standard deviation of each weight (the square
        root of the diagonal of the inverse Hessian of the negative log
        posterior, intercept integrated); ``coef_ / coef_std_`` is a z-map.
    prior_scale_ : float
        Chosen prior variance of one weight.
    length_scales_ : ndarray of shape (3,)
        Chosen length scales along rows and columns (pixels) and lags
        (frames; multiply by the frame duration for seconds); NaN for an
        axis of one element.
    log_evidence_ : float
        Laplace log evidence (nats) at the chosen hyperparameters.
    n_map_fits_ : int
        MAP fits (evidence evaluations) the optimisation took.
    n_iter_ : int
        Iterations of the evidence optimiser.
    frame_shape_ : tuple of int
        The layout used (``frame_shape``, or ``(1, n_features / n_lags)``).
    n_components_ : int
        Eigen-directions of the prior kept at the optimum (``k``).
    fit_seconds_ : float
        Wall time of ``fit`` (s).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp import LagTransformer, SmoothLNPRegressor
    >>> from sklearn_lnp.datasets import make_separable_neuron
    >>> neuron = make_separable_neuron(800, frame_shape=(6, 5), n_lags=2, random_state=0)
    >>> X = LagTransformer(lags=range(2)).fit_transform(neuron.stimulus)
    >>> model = SmoothLNPRegressor((6, 5), n_lags=2).fit(X, neuron.counts,
    ...                                                  exposure=neuron.exposure)
    >>> bool(np.corrcoef(model.coef_, neuron.coef)[0, 1] > 0.9)
    True
    """

    _parameter_constraints = {
        "frame_shape": [None, "array-like"],
        "n_lags": [Interval(numbers.Integral, 1, None, closed="left")],
        "fit_intercept": ["boolean"],
        "length_scale_bounds": ["array-like"],
        "prior_scale_bounds": ["array-like"],
        "prune_tol": [Interval(numbers.Real, 0.0, 1.0, closed="left")],
        "tol": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        frame_shape=None,
        n_lags=1,
        *,
        fit_intercept=True,
        length_scale_bounds=(0.25, 25.0),
        prior_scale_bounds=(1e-8, 1e4),
        prune_tol=1e-10,
        tol=1e-8,
        max_iter=100,
        verbose=0,
    ):
        self.frame_shape = frame_shape
        self.n_lags = n_lags
        self.fit_intercept = fit_intercept
        self.length_scale_bounds = length_scale_bounds
        self.prior_scale_bounds = prior_scale_bounds
        self.prune_tol = prune_tol
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose

    @staticmethod
    def _check_bounds(bounds, name: str) -> tuple[float, float]:
        try:
            low, high = (float(v) for v in bounds)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be two numbers (lower, upper); got {bounds!r}."
            ) from None
        if not (np.isfinite(low) and np.isfinite(high) and 0 < low < high):
            raise ValueError(
                f"{name} must be finite, positive and non-empty (0 < lower < upper); "
                f"got {bounds!r}."
            )
        return low, high

    def _layout(self, n_features: int) -> tuple[tuple[int, int], int]:
        """``(frame_shape, n_lags)`` checked against ``n_features``; None is one row of pixels."""
        if self.frame_shape is None:
            _check_layout((1, 1), self.n_lags)
            if n_features % self.n_lags:
                raise ValueError(
                    f"n_lags={self.n_lags!r} must divide the number of features (X has "
                    f"{n_features} columns) when frame_shape is None."
                )
            return (1, n_features // self.n_lags), int(self.n_lags)
        frame_shape, n_lags = _check_layout(self.frame_shape, self.n_lags)
        p = n_lags * frame_shape[0] * frame_shape[1]
        if n_features != p:
            raise ValueError(
                f"frame_shape={tuple(self.frame_shape)!r} and n_lags={self.n_lags!r} give "
                f"{p} features (n_lags * rows * cols), but X has {n_features} columns."
            )
        return frame_shape, n_lags

    def _evidence_problem(self, X, y, sample_weight, exposure) -> _LaplaceEvidence:
        """Validated layout and the evidence of the data (used by fit and the tests)."""
        frame_shape, n_lags = self._layout(X.shape[1])
        X = X.toarray() if hasattr(X, "toarray") else X
        X = np.asarray(X, dtype=np.float64)
        return _LaplaceEvidence(
            X, y, exposure, sample_weight, frame_shape, n_lags,
            fit_intercept=self.fit_intercept, prune_tol=self.prune_tol, tol=self.tol,
        )  # fmt: skip

    def fit(self, X, y, sample_weight=None, exposure=None):
        """Choose the prior's hyperparameters by evidence and fit the MAP receptive field.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Lagged stimulus design (``n_lags * rows * cols`` columns,
            lag-major); a sparse matrix is made dense.
        y : array-like of shape (n_samples,)
            Spike counts per bin.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights (frequency weights in the evidence: their sum, a
            number of bins, is at most 2**53).
        exposure : array-like of shape (n_samples,) or float, optional
            Bin widths (positive).  Route it with
            ``set_fit_request(exposure=True)`` under metadata routing.

        Returns
        -------
        self
        """
        self._validate_params()
        scale_bounds = self._check_bounds(self.prior_scale_bounds, "prior_scale_bounds")
        length_bounds = self._check_bounds(self.length_scale_bounds, "length_scale_bounds")
        if self.frame_shape is not None:
            _check_layout(self.frame_shape, self.n_lags)
        shape = getattr(y, "shape", None)
        if shape is not None and len(shape) == 2 and shape[1] != 1:
            raise ValueError(
                "SmoothLNPRegressor fits one neuron: y must be 1-d (one count per bin); "
                f"got shape {tuple(shape)}. Fit each column separately."
            )
        start = time.perf_counter()
        X, y, sample_weight, exposure = self._validate_fit_data(X, y, sample_weight, exposure)
        total_weight = float(np.sum(sample_weight))
        if not total_weight <= MAX_COUNT:
            # Frequency weights count bins in the evidence: a total beyond
            # 2**53 bins is not a count, and overflows the posterior precision.
            raise ValueError(
                f"sample_weight sums to {total_weight:.3g} > 2**53: in the evidence the "
                "weights count bins (frequency weights), so their total must be a number "
                "of bins; rescale sample_weight (e.g. divide by its mean)."
            )
        evidence = self._evidence_problem(X, y, sample_weight, exposure)
        n_active = len(evidence.active)
        # Start: length scale 1 step on every axis, and a prior that lets the
        # linear predictor vary by about 0.3 (sd) over the stimulus ensemble.
        second_moment = float(np.mean(evidence.X**2)) or 1.0
        rho0 = 0.1 / (X.shape[1] * second_moment)
        x0 = np.r_[np.log(np.clip(rho0, *scale_bounds)), np.zeros(n_active)]
        x0[1:] = np.clip(x0[1:], *np.log(length_bounds))
        bounds = [tuple(np.log(scale_bounds))] + [tuple(np.log(length_bounds))] * n_active
        cache = {}

        def negative_log_evidence(log_theta):
            rho, scales = evidence.unpack(log_theta)
            fit = evidence.map_fit(rho, scales)
            grad = evidence.gradient(fit)
            cache["fit"] = fit
            if self.verbose:
                print(
                    f"SmoothLNPRegressor: rho={rho:.4g} length_scales={scales.round(4).tolist()} "
                    f"log evidence={fit['log_evidence']:.6f} k={fit['keep'].size}"
                )
            return -fit["log_evidence"], -grad

        # Many small factorisations and products: multi-threaded BLAS mostly
        # spins threads that compete for busy cores (see single_threaded_blas).
        with np.errstate(over="ignore", under="ignore"), single_threaded_blas():
            result = scipy.optimize.minimize(
                negative_log_evidence,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": self.max_iter, "gtol": 1e-5},
            )
            rho, scales = evidence.unpack(result.x)
            fit = cache.get("fit")
            if fit is None or fit["rho"] != rho or not np.array_equal(fit["scales"], scales):
                fit = evidence.map_fit(rho, scales)
            coef_std = evidence.coef_std(fit)
        if not result.success:
            warnings.warn(
                f"The evidence optimisation (L-BFGS-B) stopped after {result.nit} iterations "
                f"(max_iter={self.max_iter}) without converging: {result.message} "
                f"Reached log evidence {fit['log_evidence']:.6f} at prior_scale={rho:.4g}, "
                f"length_scales={scales.round(4).tolist()} (rows, cols, lags). "
                "Increase max_iter or widen the bounds.",
                ConvergenceWarning,
                stacklevel=2,
            )
        if evidence.failed_map is not None and not fit["result"].converged:
            res = fit["result"]
            warnings.warn(
                f"The MAP fit stopped after {res.n_iter} iterations at optimality "
                f"{res.optimality:.3g} > tol={self.tol:.3g}.",
                ConvergenceWarning,
                stacklevel=2,
            )
        length_scales = scales.copy()
        inactive = [axis for axis in range(3) if axis not in evidence.active]
        length_scales[inactive] = np.nan
        self.frame_shape_ = evidence.frame_shape
        self.coef_ = fit["w"]
        self.intercept_ = float(fit["b"])
        self.coef_std_ = coef_std
        self.prior_scale_ = float(rho)
        self.length_scales_ = length_scales
        self.log_evidence_ = float(fit["log_evidence"])
        self.n_map_fits_ = int(evidence.n_map_fits)
        self.n_iter_ = int(result.nit)
        self.n_components_ = int(fit["keep"].size)
        self.fit_seconds_ = time.perf_counter() - start
        return self
