"""What every solver returns, and how it reports that it stopped short."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning


@dataclass
class SolverResult:
    """Outcome of a solver run for one neuron.

    The smooth solvers (:func:`sklearn_lnp._solvers.solve`) return a list of
    these, one per neuron (column of ``P``); the L1 solvers return one.

    Attributes
    ----------
    params : ndarray of shape (n_params,)
        Coefficients followed by the intercept (when fitted).
    objective : float
        Objective value at ``params``.
    optimality : float
        The stopping criterion at ``params``: the largest absolute entry of
        the gradient for smooth problems, the largest KKT violation for L1.
    n_iter : int
        Iterations taken (outer iterations for Newton-type solvers).
    converged : bool
        Whether ``optimality <= tol`` was reached.
    solver : str
        Name of the solver (or solvers, ``"lbfgs+newton-cholesky"``) used.
    n_passes : int
        Passes over ``X`` used; for several neurons fitted together, the
        passes of the whole run so far, shared by its neurons.
    n_grams : int
        Weighted Gram matrices (Hessians) and kernels computed, likewise.
    """

    params: np.ndarray
    objective: float
    optimality: float
    n_iter: int
    converged: bool
    solver: str
    n_passes: int = 0
    n_grams: int = 0

    @classmethod
    def of_smooth_fit(
        cls, objective, P, values, grad_max, n_iter, tol: float, solver: str, neuron: int = 0
    ) -> SolverResult:
        """The result of neuron ``neuron`` of a smooth solver at ``P``.

        ``P`` has shape (n_params, k) and ``values`` shape (k,); ``grad_max``
        and ``n_iter`` are that neuron's.  Passes and Gram matrices are the
        objective's counts so far.
        """
        return cls(
            params=P[:, neuron].copy(),
            objective=float(values[neuron]),
            optimality=float(grad_max),
            n_iter=int(n_iter),
            converged=bool(grad_max <= tol),
            solver=solver,
            n_passes=objective.n_passes,
            n_grams=objective.n_grams,
        )


# Relative size, to the mean count, of the smallest gradient entries (and KKT
# violations) the stopping criterion asks for: above the gradient's round-off,
# which grows in proportion to the counts (about 1e-14 x the mean count at
# the optimum, for every solver; see ``stopping_tol``).
ROUNDOFF_RELATIVE = 1e-12


def stopping_tol(tol: float, objective) -> float:
    """The stopping criterion the solvers use: ``max(tol, 1e-12 * mean count)``.

    The gradient of the mean negative log-likelihood (and the KKT violation
    of a penalised fit) grows in proportion to the counts, and so does its
    round-off: with counts of 1e9 per bin an absolute ``tol = 1e-8`` lies
    below it and no solver could reach it.  The criterion is therefore never
    below ``ROUNDOFF_RELATIVE`` times the (sample-weighted) mean count; for
    mean counts up to ``tol / ROUNDOFF_RELATIVE`` (1e4 at the default
    ``tol``) it is ``tol`` itself.  For several neurons fitted together the
    smallest neuron's mean count is used (the criterion is shared; the
    smaller one is stricter).

    Parameters
    ----------
    tol : float
        The estimator's ``tol``.
    objective : PoissonObjective
        Data term of the ``k`` neurons fitted.

    Returns
    -------
    float
    """
    means = np.sum(objective.weighted_Y, axis=0)
    smallest = float(np.min(means)) if means.size else 0.0
    return max(float(tol), ROUNDOFF_RELATIVE * smallest)


def warn_if_not_converged(
    result: SolverResult,
    tol: float,
    max_iter: int,
    *,
    shape: tuple[int, int] | None = None,
    alpha=None,
) -> None:
    """Raise a ``ConvergenceWarning`` that states the value reached.

    ``tol`` is the criterion the solver used (:func:`stopping_tol`).
    ``shape`` (``X.shape``) and ``alpha`` (the penalty
    strength) select the advice: the remark that the maximum-likelihood
    estimate may not exist is made only when it applies (``alpha == 0``, and
    ``n_features >= n_samples`` when the shape is given).
    """
    if result.converged:
        return
    advice = "Increase max_iter or loosen tol."
    unpenalised = alpha is not None and np.all(np.asarray(alpha, dtype=float) == 0)
    if unpenalised and shape is not None and shape[1] >= shape[0]:
        advice = (
            "Increase max_iter, loosen tol, or add regularisation (alpha > 0): with "
            f"n_features={shape[1]} >= n_samples={shape[0]} and alpha=0 the "
            "maximum-likelihood estimate may not exist."
        )
    elif unpenalised:
        advice = (
            "Increase max_iter, loosen tol, or add regularisation (alpha > 0): with alpha=0 "
            "the maximum-likelihood estimate may not exist."
        )
    warnings.warn(
        f"Solver {result.solver!r} stopped after {result.n_iter} iterations "
        f"(max_iter={max_iter}) at optimality {result.optimality:.3g} > tol={tol:.3g}, "
        f"objective {result.objective:.12g}. {advice}",
        ConvergenceWarning,
        stacklevel=3,
    )
