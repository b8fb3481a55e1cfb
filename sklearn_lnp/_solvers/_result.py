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


def warn_if_not_converged(result: SolverResult, tol: float, max_iter: int) -> None:
    """Raise a ``ConvergenceWarning`` that states the value reached."""
    if not result.converged:
        warnings.warn(
            f"Solver {result.solver!r} stopped after {result.n_iter} iterations "
            f"(max_iter={max_iter}) at optimality {result.optimality:.3g} > tol={tol:.3g}, "
            f"objective {result.objective:.12g}. Increase max_iter, loosen tol, or "
            "add regularisation (alpha > 0): with n_features >= n_samples and "
            "alpha=0 the maximum-likelihood estimate may not exist.",
            ConvergenceWarning,
            stacklevel=3,
        )
