"""Legacy interface of the population objective, for the L1 solvers until they are ported.

The k-neuron data term is :class:`sklearn_lnp._objective.PoissonObjective`;
the smooth population fits are the lockstep solvers of
:mod:`sklearn_lnp._solvers` (``solve`` on a k-neuron objective).  The L1
population solver (:mod:`._population_lasso`) and ``LassoLNPRegressor``
still take this adapter: the same objective with an ``alpha`` attribute,
per-neuron single objectives of :mod:`sklearn_lnp._loss` (``neuron``) and
the former ``value_gradient(P, eta, cols)`` with the L2 term included.
"""

from __future__ import annotations

from .._loss import PoissonObjective as _SingleObjective
from .._objective import PoissonObjective
from .._penalties import L2

__all__ = ["PopulationObjective"]


class PopulationObjective(PoissonObjective):
    """The objectives of ``k`` neurons that share ``X``, with a common L2 ``alpha``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, k)
    exposure, sample_weight : ndarray of shape (n_samples,) or None
    alpha : float
    fit_intercept : bool
    """

    def __init__(self, X, Y, exposure=None, sample_weight=None, alpha=0.0, fit_intercept=True):
        super().__init__(X, Y, exposure, sample_weight, fit_intercept=fit_intercept)
        self.exposure = exposure
        self.sample_weight = sample_weight
        self.alpha = float(alpha)

    def neuron(self, j: int) -> _SingleObjective:
        """The single-neuron objective of column ``j`` (same data, no copy of ``X``)."""
        return _SingleObjective(
            self.X,
            self.Y[:, j],
            self.exposure,
            self.sample_weight,
            alpha=self.alpha,
            fit_intercept=self.fit_intercept,
        )

    def value_gradient(self, P, eta=None, cols=None, *, fast=False):
        """With ``cols``: values (k,) and gradients of those neurons, L2 term included.

        Without ``cols``: :meth:`PoissonObjective.value_gradient` (the data term).
        """
        if cols is None:
            return super().value_gradient(P, eta, fast=fast)
        values, G, _ = self.subset(cols).value_gradient(P, eta, fast=fast)
        penalty = L2(self.alpha)
        W = self.split(P)[0]
        G[: self.n_features] += penalty.gradient(W)
        return values + penalty.value(W), G
