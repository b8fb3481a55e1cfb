r"""Penalties on the receptive-field weights, as objects the solvers take.

Every estimator minimises the mean Poisson negative log-likelihood of
:mod:`sklearn_lnp._objective` plus one of these penalties on the weights
``W`` of shape (n_features, n_neurons) -- one column per neuron, the
intercepts never penalised.  Strengths are one ``alpha`` for all neurons or
one per neuron.

* :class:`L2`: ``alpha/2 ||w||^2`` -- smooth: value, gradient, its Hessian
  (``alpha I``) and its restriction to a line.
* :class:`Quadratic`: ``alpha/2 w' Q w`` with a symmetric positive
  semi-definite ``Q`` (smoothness, :func:`sklearn_lnp.penalties.smoothness_penalty`)
  -- smooth like :class:`L2`, its Hessian ``alpha Q``.
* :class:`L1`: ``alpha ||w||_1`` -- not smooth: value, proximal operator,
  KKT violation and ``alpha_max``.
* :class:`ElasticNet`: ``alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)``
  -- an L1 part and a smooth (L2) part, the methods of both.

A smooth solver (Newton, L-BFGS) needs ``value``, ``gradient``,
``add_to_hessian`` and ``line_terms``; the proximal Newton solver needs
``value``, ``thresholds`` (the L1 weight of each neuron),
``add_smooth_hessian`` (the Hessian of a separable smooth part, added to the
working-set Hessian), ``kkt_violation`` and ``change``.  A new penalty (a
quadratic form ``w' Q w``, the elastic net) implements the same methods and
plugs into the solvers unchanged.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._passes import column_dot

__all__ = [
    "L1",
    "L2",
    "ElasticNet",
    "Penalty",
    "Quadratic",
    "check_penalty_matrix",
    "l1_violation",
    "soft_threshold",
]


def _strengths(alpha, name: str = "alpha") -> np.ndarray:
    """``alpha`` as a float64 array of shape () or (n_neurons,); finite and >= 0."""
    if type(alpha) is float and 0.0 <= alpha < np.inf:  # the common case, without reductions
        return np.asarray(alpha)
    values = np.asarray(alpha, dtype=np.float64)
    if values.ndim > 1:
        raise ValueError(
            f"{name} must be a scalar or one value per neuron (1-d); got shape {values.shape}."
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{name} must be finite and non-negative; got {alpha!r}.")
    return values


def soft_threshold(U: np.ndarray, threshold) -> np.ndarray:
    """``sign(u) max(|u| - threshold, 0)`` elementwise (``threshold`` broadcast against ``U``)."""
    return np.sign(U) * np.maximum(np.abs(U) - threshold, 0.0)


def l1_violation(W: np.ndarray, G: np.ndarray, threshold) -> np.ndarray:
    """Distance of ``-G`` to the subdifferential of ``threshold * |W|``, elementwise.

    ``max(|g| - threshold, 0)`` where ``w == 0``, else ``|g + threshold sign(w)|``;
    ``threshold`` (non-negative) is broadcast against ``W`` (0 for an
    unpenalised coordinate: the violation is then ``|g|``).
    """
    return np.where(
        W == 0,
        np.maximum(np.abs(G) - threshold, 0.0),
        np.abs(G + threshold * np.sign(W)),
    )


class Penalty:
    """A penalty on the weights ``W`` (n_features, n_neurons), separable over neurons.

    Parameters
    ----------
    alpha : float or array-like of shape (n_neurons,)
        Strength, one for all neurons or one per neuron (finite, >= 0).

    Attributes
    ----------
    alpha : ndarray of shape () or (n_neurons,)
    smooth : bool
        Whether the penalty is differentiable (a smooth solver can take it).
    vanishes : bool
        Whether the penalty is 0 for every neuron and every ``W`` (each ``alpha`` is 0).
    """

    smooth = False
    # Whether the Hessian of a smooth penalty is ``alpha I`` (see L2).
    isotropic = False

    def __init__(self, alpha=0.0):
        self.alpha = _strengths(alpha)
        self.vanishes = not self.alpha.any()

    def __repr__(self) -> str:
        alpha = float(self.alpha) if self.alpha.ndim == 0 else self.alpha.tolist()
        return f"{type(self).__name__}(alpha={alpha!r})"

    def strengths(self, n_neurons: int) -> np.ndarray:
        """``alpha`` of every neuron, shape (n_neurons,).

        Raises
        ------
        ValueError
            When ``alpha`` is a vector of another length.
        """
        if self.alpha.ndim == 0:
            return np.full(n_neurons, float(self.alpha))
        if self.alpha.shape != (n_neurons,):
            raise ValueError(
                f"alpha must be a scalar or have one value per neuron ({n_neurons}); "
                f"got {self.alpha.shape[0]} values."
            )
        return self.alpha

    def subset(self, neurons) -> Penalty:
        """The same penalty for the neurons ``neurons`` (indices or a boolean mask)."""
        if self.alpha.ndim == 0:
            return self
        return type(self)(self.alpha[neurons])

    def _column_alpha(self, W: np.ndarray) -> np.ndarray:
        """``alpha`` broadcastable against the columns (neurons) of ``W``."""
        return self.alpha if self.alpha.ndim == 0 else self.strengths(W.shape[1])

    def _neuron_alpha(self, neuron: int) -> float:
        """``alpha`` of one neuron (the scalar ``alpha`` for every neuron)."""
        return float(self.alpha) if self.alpha.ndim == 0 else float(self.alpha[neuron])

    def value(self, W: np.ndarray) -> np.ndarray:
        """Penalty of each neuron, shape (n_neurons,)."""
        raise NotImplementedError


class L2(Penalty):
    r"""Ridge penalty ``alpha/2 ||w||^2`` per neuron (``PoissonRegressor``'s scaling).

    Examples
    --------
    >>> import numpy as np
    >>> penalty = L2(alpha=[1.0, 0.5])
    >>> W = np.array([[1.0, 2.0], [0.0, 2.0]])
    >>> penalty.value(W)
    array([0.5, 2. ])
    >>> penalty.gradient(W)
    array([[1., 1.],
           [0., 1.]])
    """

    smooth = True
    # The penalty's Hessian is ``alpha I``: solvers may use identities that
    # need it (the Woodbury form of Newton's step, see ``_solvers._newton``).
    isotropic = True

    def value(self, W: np.ndarray) -> np.ndarray:
        """``alpha/2 ||w_j||^2`` of each column; exactly 0 where ``alpha`` is 0, whatever ``W``.

        (``0 * ||w||^2`` would be NaN once ``||w||^2`` overflows.)
        """
        alpha = self._column_alpha(W)
        if alpha.ndim == 0:
            scalar = float(alpha)
            return 0.5 * scalar * column_dot(W, W) if scalar else np.zeros(W.shape[1])
        if np.all(alpha > 0):
            return 0.5 * alpha * column_dot(W, W)
        out = np.zeros(W.shape[1])
        on = alpha > 0
        if np.any(on):
            out[on] = 0.5 * alpha[on] * column_dot(W[:, on], W[:, on])
        return out

    def gradient(self, W: np.ndarray) -> np.ndarray:
        """``alpha_j w_j``, shape (n_features, n_neurons)."""
        return W * self._column_alpha(W)

    def add_to_hessian(self, hessian: np.ndarray, n_features: int, neuron: int = 0) -> None:
        """Add ``alpha_j I`` to the coefficient block of one neuron's Hessian, in place.

        Parameters
        ----------
        hessian : ndarray of shape (n_params, n_params)
            Coefficients first; an intercept row and column, if any, last
            (not penalised).
        n_features : int
        neuron : int
            Which neuron's ``alpha`` (ignored for a scalar ``alpha``).
        """
        alpha = self._neuron_alpha(neuron)
        if alpha:
            diagonal = np.einsum("ii->i", hessian[:n_features, :n_features])  # a view
            diagonal += alpha

    def line_terms(self, W: np.ndarray, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The penalty along ``W + t D``: ``pen(W + t D) - pen(W) = c1 t + c2 t^2 / 2``.

        Returns
        -------
        c1, c2 : ndarray of shape (n_neurons,)
            ``alpha w . d`` and ``alpha d . d`` per neuron.
        """
        if self.vanishes:
            return np.zeros(W.shape[1]), np.zeros(W.shape[1])
        alpha = self._column_alpha(W)
        c1 = alpha * column_dot(W, D)
        c2 = alpha * column_dot(D, D)
        return c1, c2


class L1(Penalty):
    r"""Lasso penalty ``alpha ||w||_1`` per neuron (glum's ``alpha`` with ``l1_ratio=1``).

    Optimality (KKT): with ``g`` the gradient of the smooth part,
    ``|g_j| <= alpha`` where ``w_j = 0`` and ``g_j = -alpha sign(w_j)``
    elsewhere.  :meth:`kkt_violation` is the distance of ``-g_j`` to the
    subdifferential of ``alpha |w_j|``, the solvers' stopping criterion.

    Examples
    --------
    >>> import numpy as np
    >>> penalty = L1(alpha=0.5)
    >>> W = np.array([[1.0], [0.0], [-0.2]])
    >>> penalty.value(W)
    array([0.6])
    >>> penalty.prox(W, step=1.0).ravel()
    array([ 0.5,  0. , -0. ])
    >>> penalty.kkt_violation(np.zeros((2, 1)), np.array([[0.7], [-0.1]])).ravel()
    array([0.2, 0. ])
    """

    def value(self, W: np.ndarray) -> np.ndarray:
        """``alpha ||w_j||_1`` of each column, shape (n_neurons,)."""
        return self._column_alpha(W) * np.abs(W).sum(axis=0)

    def thresholds(self, n_neurons: int) -> np.ndarray:
        """L1 weight of every neuron (the proximal threshold at unit step), shape (n_neurons,)."""
        return self.strengths(n_neurons)

    def add_smooth_hessian(self, hessian: np.ndarray, n_features: int, neuron: int = 0):
        """``hessian`` itself: the L1 penalty has no smooth part (see :class:`ElasticNet`)."""
        return hessian

    def prox(self, W: np.ndarray, step: float | np.ndarray = 1.0) -> np.ndarray:
        """Soft thresholding: ``argmin_v alpha ||v||_1 + ||v - W||^2 / (2 step)``."""
        return soft_threshold(W, np.asarray(step) * self._column_alpha(W))

    def kkt_violation(self, W: np.ndarray, G: np.ndarray) -> np.ndarray:
        """Violation of the optimality conditions per coefficient, shape of ``W``.

        Parameters
        ----------
        W : ndarray of shape (n_features, n_neurons)
        G : ndarray of shape (n_features, n_neurons)
            Gradient of the smooth part with respect to ``W``.

        Returns
        -------
        ndarray of shape (n_features, n_neurons)
            ``max(|g| - alpha, 0)`` where ``w == 0``, else ``|g + alpha sign(w)|``.
        """
        return l1_violation(W, G, self._column_alpha(W))

    def change(self, W: np.ndarray, W_new: np.ndarray) -> np.ndarray:
        """``pen(W_new) - pen(W)`` per neuron, summed coordinate by coordinate.

        Accurate to the size of the change itself (a line search compares it
        with decreases far below the penalty's value), unlike the difference
        of two norms.
        """
        return self._column_alpha(W) * np.sum(np.abs(W_new) - np.abs(W), axis=0)

    @staticmethod
    def alpha_max(gradient_at_zero: np.ndarray) -> np.ndarray:
        """Smallest ``alpha`` whose optimum has every weight at 0, per neuron.

        ``w = 0`` (with its optimal intercept) is optimal iff every gradient
        entry there is at most ``alpha`` in absolute value.

        Parameters
        ----------
        gradient_at_zero : ndarray of shape (n_features, n_neurons)
            Gradient of the smooth part at ``w = 0`` and the intercept-only
            optimum.

        Returns
        -------
        ndarray of shape (n_neurons,)
        """
        G = np.asarray(gradient_at_zero, dtype=np.float64)
        return np.max(np.abs(G), axis=0, initial=0.0)


# Symmetry tolerance of a penalty matrix, relative to its largest entry:
# matrices built in floating point (e.g. D' D) are symmetric to round-off.
SYMMETRY_RTOL = 1e-10
# Positive semi-definiteness tolerance: the Cholesky factorisation of
# ``Q + PSD_RTOL * max(diag Q) I`` must succeed, i.e. no eigenvalue of ``Q``
# below about ``-PSD_RTOL * max(diag Q)``.
PSD_RTOL = 1e-8


def _is_diagonally_dominant(Q) -> bool:
    """Sufficient PSD test (Gershgorin): ``q_ii >= sum_{j != i} |q_ij|`` for every row."""
    diagonal = np.asarray(Q.diagonal(), dtype=np.float64)
    off = np.asarray(abs(Q).sum(axis=1)).ravel() - np.abs(diagonal)
    scale = max(float(np.max(np.abs(diagonal), initial=0.0)), np.finfo(float).tiny)
    return bool(np.all(diagonal >= 0) and np.all(diagonal - off >= -1e-12 * scale))


def check_penalty_matrix(Q, n_features: int | None = None, name: str = "penalty_matrix"):
    """Validate a quadratic-penalty matrix: square, finite, symmetric, positive semi-definite.

    Parameters
    ----------
    Q : array-like or scipy.sparse matrix of shape (n_features, n_features)
    n_features : int, optional
        The number of weights ``Q`` must match.
    name : str
        The argument's name in error messages.

    Returns
    -------
    ndarray or scipy.sparse.csr_matrix of shape (n_features, n_features), float64
        ``(Q + Q') / 2``: exactly symmetric.

    Raises
    ------
    TypeError
        When ``Q`` is not numeric.
    ValueError
        When ``Q`` is not square (or does not match ``n_features``), has
        non-finite entries, is not symmetric to ``SYMMETRY_RTOL`` times its
        largest entry, or has an eigenvalue below ``-PSD_RTOL`` times its
        largest diagonal entry (checked by the Gershgorin bound when ``Q`` is
        diagonally dominant, otherwise by a Cholesky factorisation of
        ``Q + PSD_RTOL max(diag Q) I``, on a dense copy for a sparse ``Q``).
    """
    import scipy.linalg

    if sp.issparse(Q):
        if not np.issubdtype(Q.dtype, np.number) or np.issubdtype(Q.dtype, np.complexfloating):
            raise TypeError(f"{name} must be a real numeric matrix; got dtype {Q.dtype}.")
        Q = sp.csr_matrix(Q, dtype=np.float64)
        Q.sum_duplicates()
        values = Q.data
    else:
        try:
            Q = np.array(Q, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name} must be a real numeric (p, p) matrix; {error}") from None
        values = Q
    if Q.ndim != 2 or Q.shape[0] != Q.shape[1]:
        raise ValueError(f"{name} must be a square (p, p) matrix; got shape {Q.shape}.")
    if n_features is not None and Q.shape[0] != n_features:
        raise ValueError(
            f"{name} must have shape ({n_features}, {n_features}) to match the "
            f"{n_features} features of X; got shape {Q.shape}."
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must have finite entries only.")
    largest = float(np.max(np.abs(values), initial=0.0))
    asymmetry = Q - Q.T
    if sp.issparse(Q):
        asymmetry = float(abs(asymmetry).max()) if asymmetry.nnz else 0.0
    else:
        asymmetry = float(np.max(np.abs(asymmetry), initial=0.0))
    if asymmetry > SYMMETRY_RTOL * largest:
        raise ValueError(
            f"{name} must be symmetric: max |Q - Q'| = {asymmetry:.3g} exceeds "
            f"{SYMMETRY_RTOL:g} x max |Q| = {SYMMETRY_RTOL * largest:.3g}."
        )
    Q = 0.5 * (Q + Q.T)
    if sp.issparse(Q):
        Q = sp.csr_matrix(Q)
        Q.sum_duplicates()  # add_to_hessian adds its entries by index
    if Q.shape[0] and not _is_diagonally_dominant(Q):
        dense = Q.toarray() if sp.issparse(Q) else Q.copy()
        shift = PSD_RTOL * max(float(np.max(np.diagonal(dense))), np.finfo(float).tiny)
        dense[np.diag_indices_from(dense)] += shift
        try:
            scipy.linalg.cholesky(dense, lower=False, overwrite_a=True, check_finite=False)
        except np.linalg.LinAlgError:
            smallest = float(scipy.linalg.eigvalsh(Q.toarray() if sp.issparse(Q) else Q)[0])
            raise ValueError(
                f"{name} must be positive semi-definite: its smallest eigenvalue is "
                f"{smallest:.3g} (tolerance -{shift:.3g})."
            ) from None
    return Q


class Quadratic(Penalty):
    r"""Quadratic penalty ``alpha/2 w' Q w`` per neuron, ``Q`` symmetric positive semi-definite.

    ``Q = I`` is :class:`L2`.  A smoothness penalty (squared differences of
    neighbouring pixels and lags) comes from
    :func:`sklearn_lnp.penalties.smoothness_penalty`.  Gradient ``alpha Q w``,
    Hessian ``alpha Q``; a sparse ``Q`` makes the gradient cost ``nnz(Q)``
    per neuron.

    Parameters
    ----------
    alpha : float or array-like of shape (n_neurons,)
        Strength, one for all neurons or one per neuron.
    Q : array-like or scipy.sparse matrix of shape (n_features, n_features)
        Validated by :func:`check_penalty_matrix` (stored as ``(Q + Q')/2``,
        float64, CSR when sparse).
    name : str
        The argument's name in validation errors.

    Examples
    --------
    >>> import numpy as np
    >>> penalty = Quadratic(alpha=2.0, Q=[[1.0, -1.0], [-1.0, 1.0]])
    >>> W = np.array([[1.0, 2.0], [0.0, 2.0]])
    >>> penalty.value(W)              # alpha/2 (w1 - w2)^2 per column
    array([1., 0.])
    >>> penalty.gradient(W)
    array([[ 2.,  0.],
           [-2.,  0.]])
    """

    smooth = True
    isotropic = False

    def __init__(self, alpha=0.0, Q=None, *, name: str = "penalty_matrix", _checked=False):
        super().__init__(alpha)
        if Q is None:
            raise ValueError(
                f"{name} is required: a (p, p) symmetric positive semi-definite matrix."
            )
        self.Q = Q if _checked else check_penalty_matrix(Q, name=name)

    def __repr__(self) -> str:
        alpha = float(self.alpha) if self.alpha.ndim == 0 else self.alpha.tolist()
        kind = "sparse" if sp.issparse(self.Q) else "dense"
        return f"Quadratic(alpha={alpha!r}, Q=<{kind} {self.Q.shape[0]}x{self.Q.shape[1]}>)"

    def subset(self, neurons) -> Quadratic:
        """The same penalty (same ``Q``, not re-validated) for the neurons ``neurons``."""
        if self.alpha.ndim == 0:
            return self
        return Quadratic(self.alpha[neurons], self.Q, _checked=True)

    def _times(self, W: np.ndarray) -> np.ndarray:
        """``Q W`` as an ndarray of the shape of ``W``."""
        return np.asarray(self.Q @ W)

    def _active(self, W: np.ndarray) -> np.ndarray:
        """``alpha`` per column, shape (n_neurons,)."""
        return np.broadcast_to(self._column_alpha(W), (W.shape[1],))

    def value(self, W: np.ndarray) -> np.ndarray:
        """``alpha/2 w_j' Q w_j`` of each column; exactly 0 where ``alpha`` is 0."""
        alpha = self._active(W)
        out = np.zeros(W.shape[1])
        on = np.flatnonzero(alpha > 0)
        if on.size:
            part = W if on.size == W.shape[1] else W[:, on]
            out[on] = 0.5 * alpha[on] * column_dot(part, self._times(part))
        return out

    def gradient(self, W: np.ndarray) -> np.ndarray:
        """``alpha_j Q w_j``, shape (n_features, n_neurons)."""
        alpha = self._column_alpha(W)
        if self.vanishes:
            return np.zeros_like(W, dtype=np.float64)
        return self._times(W) * alpha

    def add_to_hessian(self, hessian: np.ndarray, n_features: int, neuron: int = 0) -> None:
        """Add ``alpha_j Q`` to the coefficient block of one neuron's Hessian, in place.

        Parameters
        ----------
        hessian : ndarray of shape (n_params, n_params)
            Coefficients first; an intercept row and column, if any, last
            (not penalised).
        n_features : int
        neuron : int
            Which neuron's ``alpha`` (ignored for a scalar ``alpha``).
        """
        alpha = self._neuron_alpha(neuron)
        if not alpha:
            return
        if sp.issparse(self.Q):
            coo = self.Q.tocoo()  # no duplicate entries (summed at validation)
            hessian[coo.row, coo.col] += alpha * coo.data
        else:
            hessian[:n_features, :n_features] += alpha * self.Q

    def line_terms(self, W: np.ndarray, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The penalty along ``W + t D``: ``pen(W + t D) - pen(W) = c1 t + c2 t^2 / 2``.

        Returns
        -------
        c1, c2 : ndarray of shape (n_neurons,)
            ``alpha d' Q w`` and ``alpha d' Q d`` per neuron.
        """
        alpha = self._column_alpha(W)
        if self.vanishes:
            return np.zeros(W.shape[1]), np.zeros(W.shape[1])
        QD = self._times(D)
        c1 = alpha * column_dot(W, QD)
        c2 = alpha * column_dot(D, QD)
        return c1, c2

    def change(self, W: np.ndarray, W_new: np.ndarray) -> np.ndarray:
        """``pen(W_new) - pen(W)`` per neuron as ``alpha/2 (W_new - W)' Q (W_new + W)``.

        Accurate to the size of the change (no difference of two large values).
        """
        alpha = self._column_alpha(W)
        if self.vanishes:
            return np.zeros(W.shape[1])
        return 0.5 * alpha * column_dot(W_new - W, self._times(W_new + W))

    def kkt_violation(self, W: np.ndarray, G: np.ndarray) -> np.ndarray:
        """``|G + alpha Q w|`` per coefficient, ``G`` the data term's gradient (shape of ``W``)."""
        return np.abs(G + self.gradient(W))


class ElasticNet(Penalty):
    r"""Elastic-net penalty ``alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)`` per neuron.

    glum's and scikit-learn's convention (``ElasticNet``,
    ``GeneralizedLinearRegressor(alpha, l1_ratio)``): an :class:`L1` part of
    strength ``alpha * l1_ratio`` plus an :class:`L2` part of strength
    ``alpha * (1 - l1_ratio)``, held as the attributes ``l1`` and ``l2``
    and used for everything (one definition of each part).  ``l1_ratio = 1``
    is the lasso; ``l1_ratio -> 0`` tends to ridge, which is refused here
    (the smooth solvers take :class:`L2`).

    Optimality (KKT): with ``g`` the gradient of the data term,
    ``g + alpha (1 - l1_ratio) w`` must lie in ``-alpha l1_ratio`` times the
    subdifferential of ``|w|``; :meth:`kkt_violation` is the distance to it.

    Parameters
    ----------
    alpha : float or array-like of shape (n_neurons,)
        Overall strength (finite, >= 0).
    l1_ratio : float or array-like of shape (n_neurons,), default=0.5
        Share of the L1 part, in (0, 1].

    Attributes
    ----------
    alpha, l1_ratio : ndarray of shape () or (n_neurons,)
    l1 : L1
        The L1 part, ``alpha * l1_ratio``.
    l2 : L2
        The smooth part, ``alpha * (1 - l1_ratio)``.

    Examples
    --------
    >>> import numpy as np
    >>> penalty = ElasticNet(alpha=2.0, l1_ratio=0.25)
    >>> W = np.array([[1.0], [0.0], [-2.0]])
    >>> penalty.value(W)  # 2 * (0.25 * 3 + 0.75 / 2 * 5)
    array([5.25])
    >>> penalty.prox(W, step=1.0).ravel()  # soft threshold at 0.5, then / (1 + 1.5)
    array([ 0.2,  0. , -0.6])
    >>> penalty.alpha_max(np.array([[0.3], [-0.1]]))  # 0.3 / 0.25
    array([1.2])
    """

    def __init__(self, alpha=0.0, l1_ratio=0.5):
        super().__init__(alpha)
        ratio = _strengths(l1_ratio, "l1_ratio")
        if np.any(ratio <= 0) or np.any(ratio > 1):
            raise ValueError(
                f"l1_ratio must be in (0, 1]; got {l1_ratio!r} (0 is the pure L2 penalty: "
                "use L2 and the smooth solvers)."
            )
        if ratio.ndim == 1 and self.alpha.ndim == 1 and ratio.shape != self.alpha.shape:
            raise ValueError(
                f"l1_ratio must be a scalar or have one value per neuron, as alpha "
                f"({self.alpha.shape[0]}); got {ratio.shape[0]} values."
            )
        self.l1_ratio = ratio
        self.l1 = L1(self.alpha * ratio)
        self.l2 = L2(self.alpha * (1.0 - ratio))

    def __repr__(self) -> str:
        def show(values):
            return float(values) if values.ndim == 0 else values.tolist()

        return f"ElasticNet(alpha={show(self.alpha)!r}, l1_ratio={show(self.l1_ratio)!r})"

    def strengths(self, n_neurons: int) -> np.ndarray:
        """``alpha`` of every neuron, shape (n_neurons,) (``l1_ratio``'s length checked too)."""
        self.l1.strengths(n_neurons)
        return super().strengths(n_neurons)

    def subset(self, neurons) -> ElasticNet:
        """The same penalty for the neurons ``neurons`` (indices or a boolean mask)."""
        if self.alpha.ndim == 0 and self.l1_ratio.ndim == 0:
            return self
        alpha = self.alpha if self.alpha.ndim == 0 else self.alpha[neurons]
        ratio = self.l1_ratio if self.l1_ratio.ndim == 0 else self.l1_ratio[neurons]
        return ElasticNet(alpha, ratio)

    def value(self, W: np.ndarray) -> np.ndarray:
        """Penalty of each column, shape (n_neurons,)."""
        return self.l1.value(W) + self.l2.value(W)

    def thresholds(self, n_neurons: int) -> np.ndarray:
        """``alpha l1_ratio`` of every neuron, shape (n_neurons,): the L1 part's weight."""
        return self.l1.strengths(n_neurons)

    def gradient(self, W: np.ndarray) -> np.ndarray:
        """Gradient of the smooth part, ``alpha_j (1 - l1_ratio_j) w_j``."""
        return self.l2.gradient(W)

    def add_to_hessian(self, hessian: np.ndarray, n_features: int, neuron: int = 0) -> None:
        """Add the smooth part's Hessian to one neuron's coefficient block, in place."""
        self.l2.add_to_hessian(hessian, n_features, neuron)

    def add_smooth_hessian(self, hessian: np.ndarray, n_features: int, neuron: int = 0):
        """``hessian`` plus ``alpha (1 - l1_ratio) I`` on its first ``n_features`` coordinates.

        A new array (``hessian`` is not modified, a solver may hold it); ``hessian``
        itself when the smooth part of neuron ``neuron`` is zero.  The smooth
        part is separable, so its Hessian on a working set is this diagonal.
        """
        strength = self.l2.alpha if self.l2.alpha.ndim == 0 else self.l2.alpha[neuron]
        if not strength:
            return hessian
        out = np.array(hessian, dtype=np.float64, copy=True)
        self.l2.add_to_hessian(out, n_features, neuron)
        return out

    def line_terms(self, W: np.ndarray, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The smooth part along ``W + t D`` (see :meth:`L2.line_terms`)."""
        return self.l2.line_terms(W, D)

    def prox(self, W: np.ndarray, step: float | np.ndarray = 1.0) -> np.ndarray:
        """``argmin_v pen(v) + ||v - W||^2 / (2 step)``: soft threshold, then shrink.

        ``soft_threshold(W, step alpha l1_ratio) / (1 + step alpha (1 - l1_ratio))``.
        """
        step = np.asarray(step, dtype=np.float64)
        return self.l1.prox(W, step) / (1.0 + step * self.l2._column_alpha(W))

    def kkt_violation(self, W: np.ndarray, G: np.ndarray) -> np.ndarray:
        """Violation of the optimality conditions per coefficient, shape of ``W``.

        Parameters
        ----------
        W : ndarray of shape (n_features, n_neurons)
        G : ndarray of shape (n_features, n_neurons)
            Gradient of the data term with respect to ``W`` (the smooth
            part's gradient is added here).

        Returns
        -------
        ndarray of shape (n_features, n_neurons)
            The L1 violation (:func:`l1_violation`) of ``G + alpha (1 - l1_ratio) W``
            at the threshold ``alpha l1_ratio``.
        """
        return self.l1.kkt_violation(W, G + self.l2.gradient(W))

    def change(self, W: np.ndarray, W_new: np.ndarray) -> np.ndarray:
        """``pen(W_new) - pen(W)`` per neuron, accurate to the size of the change.

        The L1 part coordinate by coordinate (:meth:`L1.change`), the smooth
        part from its restriction to the line (``c1 + c2 / 2`` at ``t = 1``).
        """
        c1, c2 = self.l2.line_terms(W, W_new - W)
        return self.l1.change(W, W_new) + c1 + 0.5 * c2

    def alpha_max(self, gradient_at_zero: np.ndarray) -> np.ndarray:
        """Smallest ``alpha`` whose optimum has every weight at 0, per neuron.

        ``w = 0`` is optimal iff every gradient entry there is at most
        ``alpha l1_ratio`` in absolute value (the smooth part's gradient
        vanishes at 0): :meth:`L1.alpha_max` divided by ``l1_ratio``.

        Parameters
        ----------
        gradient_at_zero : ndarray of shape (n_features, n_neurons)

        Returns
        -------
        ndarray of shape (n_neurons,)
        """
        return L1.alpha_max(gradient_at_zero) / self.l1_ratio
