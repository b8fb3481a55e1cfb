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


def count_scale(objective) -> float:
    """Scale of the stopping criterion: ``max(1, mean count)``, shape ().

    The gradient of the mean negative log-likelihood (and the KKT violation
    of a penalised fit) grows in proportion to the counts: counts ``c y``
    with penalty ``c alpha`` have the minimiser of ``y`` with ``alpha`` and
    ``c`` times its gradient, and the gradient's round-off grows with ``c``
    too (with counts of 1e9 an absolute 1e-8 is below it). Every estimator
    therefore stops at ``max|grad| <= tol * count_scale(objective)``: the
    same point for counts in any unit, and unchanged for mean counts up to 1.
    The mean count is weighted by the sample weights; for several neurons
    fitted together it is the smallest of theirs (the criterion is shared,
    and a smaller one is stricter).

    Parameters
    ----------
    objective : PoissonObjective
        Data term of ``k`` neurons.

    Returns
    -------
    float
    """
    means = np.sum(objective.weighted_Y, axis=0)
    return max(1.0, float(np.min(means, initial=np.inf)))


def warn_if_not_converged(
    result: SolverResult,
    tol: float,
    max_iter: int,
    *,
    shape: tuple[int, int] | None = None,
    alpha=None,
) -> None:
    """Raise a ``ConvergenceWarning`` that states the value reached.

    ``tol`` is the criterion the solver used (already scaled by
    :func:`count_scale`).  ``shape`` (``X.shape``) and ``alpha`` (the penalty
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
