r"""Laplace approximation of the posterior of one neuron's weights at a penalised optimum.

The penalised objective of the estimators is a *mean*:
``F(w, b) = L(w, b) + pen(w)`` with ``L`` the sample-weighted mean Poisson
negative log-likelihood (weights normalised to sum to one, see
:mod:`sklearn_lnp._objective`).  Read as a negative log posterior, the data
term counts every bin once (sample weights as frequency weights), so the
total negative log posterior is ``S F`` with ``S = sum_t s_t`` (the number
of bins without weights) -- the penalty ``S alpha/2 w' Q w`` is a Gaussian
prior of precision ``S alpha Q`` on ``w`` and a flat prior on ``b``.  Around
the optimum ``(w*, b*)`` the posterior is approximately Gaussian with
precision

.. math::

    \Lambda = S \nabla^2 F = \sum_t s_t \mu_t \tilde x_t \tilde x_t^\top
        + S \alpha \begin{pmatrix} Q & 0 \\ 0 & 0 \end{pmatrix},
    \qquad \tilde x_t = (x_t, 1),

(the log link makes the data Hessian depend on the counts only through the
fitted rates ``mu_t = e_t exp(x_t w* + b*)``) and covariance
``Lambda^{-1}``.  With ``alpha = 0`` this is the inverse Fisher information
of the maximum-likelihood estimate, whose square-rooted diagonal is the
standard errors of a Poisson GLM (statsmodels' ``bse``).

Cost: one weighted Gram matrix (``n p^2 / 2`` multiply-adds, one read of
``X``) for the precision and one Cholesky factorisation and inversion
(``~p^3 / 2``) for the covariance.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ._solvers import SmoothProblem

__all__ = ["PosteriorNotDefiniteError", "posterior_covariance", "posterior_precision"]

# The precision is declared singular when a squared pivot of its Cholesky
# factor is below this times its diagonal entry (the variable is, to 1e-13,
# a combination of the previous ones: its variance would be round-off).
_RCOND = 1e-13


class PosteriorNotDefiniteError(ValueError):
    """The posterior precision is not (numerically) positive definite.

    Happens without a penalty (``alpha = 0``) when the maximum-likelihood
    estimate does not exist or is not unique: ``n_features >= n_samples``,
    collinear features, or separation (a feature that is non-zero only in
    bins without spikes), and with a penalty matrix whose null space the
    data do not determine.
    """


def posterior_precision(objective, penalty, P, neuron: int = 0) -> np.ndarray:
    """Hessian of the total negative log posterior of one neuron at ``P``.

    Parameters
    ----------
    objective : PoissonObjective
        Data term of ``k`` neurons (counts are not used: only the rates at
        ``P``, the exposure and the sample weights enter).
    penalty : Penalty or None
        Smooth penalty (``L2``, ``Quadratic``) with one strength or ``k``;
        None is no penalty.
    P : ndarray of shape (n_params, k) or (n_params,)
        Parameters (coefficients, then the intercept when the objective
        fits one), normally the optimum.
    neuron : int, default=0
        Column of ``P`` (and of the objective's counts and strengths).

    Returns
    -------
    ndarray of shape (n_params, n_params)
        ``S`` times the Hessian of the penalised mean objective, ``S`` the
        sum of the sample weights (``objective.total_weight``); coefficients
        first, the (unpenalised) intercept last.  One weighted Gram matrix:
        one read of ``X``.
    """
    P = np.asarray(P, dtype=np.float64)
    P = P[:, None] if P.ndim == 1 else P
    if not 0 <= neuron < P.shape[1]:
        raise ValueError(f"neuron must be in [0, {P.shape[1]}); got {neuron}.")
    problem = SmoothProblem(objective, penalty)
    if P.shape[1] > 1:
        problem = problem.subset([neuron])
    column = P[:, [neuron]]
    eta = problem.objective.linear_predictor(column)
    precision = problem.hessian(eta, 0, symmetric=True)
    precision *= objective.total_weight
    return np.ascontiguousarray(precision)


def posterior_covariance(precision: np.ndarray) -> np.ndarray:
    """Inverse of a posterior precision by its Cholesky factorisation.

    Parameters
    ----------
    precision : ndarray of shape (n_params, n_params)
        Symmetric positive definite (from :func:`posterior_precision`).

    Returns
    -------
    ndarray of shape (n_params, n_params)
        The covariance, exactly symmetric.

    Raises
    ------
    PosteriorNotDefiniteError
        When ``precision`` is not positive definite, or so ill-conditioned
        (a squared Cholesky pivot below ``1e-13`` times its diagonal entry)
        that its inverse would be round-off.
    """
    precision = np.asarray(precision, dtype=np.float64)
    n = precision.shape[0]
    if n == 0:
        return np.zeros((0, 0))
    message = (
        "the posterior precision (Hessian of the negative log posterior) is not positive "
        "definite{detail}: the weights are not determined by the data and the penalty "
        "(alpha = 0 with n_features >= n_samples, collinear features or complete "
        "separation). Use alpha > 0."
    )
    try:
        factor = scipy.linalg.cholesky(precision, lower=False, check_finite=True)
    except (np.linalg.LinAlgError, ValueError):
        raise PosteriorNotDefiniteError(message.format(detail="")) from None
    # pivot_i^2 / precision_ii: the share of parameter i's curvature not
    # explained by the parameters before it (1 / condition of a scaled matrix)
    ratios = np.diagonal(factor) ** 2 / np.diagonal(precision)
    smallest = float(np.min(ratios))
    if not smallest > _RCOND:
        detail = f" (relative Cholesky pivot {smallest:.3g}, below {_RCOND:g})"
        raise PosteriorNotDefiniteError(message.format(detail=detail))
    inverse_factor = scipy.linalg.solve_triangular(factor, np.eye(n), lower=False)
    covariance = inverse_factor @ inverse_factor.T
    return 0.5 * (covariance + covariance.T)
