"""The smooth problem the L2 solvers minimise: a data term plus a smooth penalty, per neuron.

``F_j(P_j) = L_j(P_j) + pen_j(W_j)``: the Poisson data term of
:class:`sklearn_lnp._objective.PoissonObjective` and a smooth penalty of
:mod:`sklearn_lnp._penalties` (``L2``), for the ``k`` neurons of the
objective.  :class:`SmoothProblem` only adds the penalty to what the
objective computes; it reads ``X`` through the objective alone.
"""

from __future__ import annotations

import numpy as np

from .._penalties import L2


class SmoothProblem:
    """``objective + penalty`` for ``k`` neurons; every array has one column per neuron.

    Parameters
    ----------
    objective : PoissonObjective
    penalty : Penalty or None
        A smooth penalty (``value``, ``gradient``, ``line_terms``,
        ``add_to_hessian``); None is ``L2(0)``.
    """

    def __init__(self, objective, penalty=None):
        penalty = L2(0.0) if penalty is None else penalty
        if not penalty.smooth:
            raise ValueError(f"the smooth solvers need a smooth penalty, got {penalty!r}.")
        penalty.strengths(objective.n_neurons)  # validates the number of strengths
        self.objective = objective
        self.penalty = penalty

    @property
    def n_neurons(self) -> int:
        return self.objective.n_neurons

    def subset(self, neurons) -> SmoothProblem:
        """The problem of some neurons (indices): same ``X`` and pass counters."""
        neurons = np.asarray(neurons)
        return SmoothProblem(self.objective.subset(neurons), self.penalty.subset(neurons))

    def _add_penalty(self, P, values, G):
        if self.penalty.vanishes:  # nothing to add
            return values, G
        W = self.objective.split(P)[0]
        values = values + self.penalty.value(W)
        G[: self.objective.n_features] += self.penalty.gradient(W)
        return values, G

    def evaluate(self, P, eta=None, *, fast=False, scratch=False):
        """Values (k,), gradients (n_params, k) and ``eta`` at ``P`` (see ``value_gradient``)."""
        values, G, eta = self.objective.value_gradient(P, eta, fast=fast, scratch=scratch)
        values, G = self._add_penalty(P, values, G)
        return values, G, eta

    def terms(self, P, D):
        """The penalty's ``line_terms`` along ``D`` from ``P``."""
        split = self.objective.split
        return self.penalty.line_terms(split(P)[0], split(D)[0])

    def along(self, P, eta, D, step=1.0, *, fast=False):
        """Restriction along ``D`` and the point ``P + step D`` with one read of ``X``.

        Returns
        -------
        line, values, G, eta_new, P_new
        """
        line, values, G, new_eta = self.objective.gradient_along(
            eta, D, step, terms=lambda: self.terms(P, D), fast=fast
        )
        new_P = P + D if isinstance(step, float) and step == 1.0 else P + D * step
        values, G = self._add_penalty(new_P, values, G)
        return line, values, G, new_eta, new_P

    def restriction(self, P, eta, D, *, fast=False):
        """The restriction along ``D`` (one read of ``X`` for ``Z = X D``)."""
        Z = self.objective.direction_predictor(D, fast=fast)
        return self.objective.line_restriction(eta, Z, self.terms(P, D))

    def hessian(self, eta, neuron: int = 0, *, symmetric: bool = True):
        """Hessian of ``F_neuron`` (n_params, n_params): one Gram plus the penalty's."""
        objective = self.objective
        hess = objective.hessian(eta, neuron, symmetric=symmetric)
        self.penalty.add_to_hessian(hess, objective.n_features, neuron)
        return hess
