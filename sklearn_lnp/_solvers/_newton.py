"""Newton-Cholesky for the smooth (L2) objective, in the primal or the dual form, per neuron.

Each neuron needs its own Hessian (one weighted Gram matrix per step), so
the neurons of a population are solved one after the other; the dual form's
kernel ``X X'`` is the same for all of them and is computed once.

Primal form (``n_samples`` larger than about ``1.5 n_features``, or
``alpha == 0``): each iteration costs one weighted Gram matrix ``X' D X``
(``dsyrk``, with the intercept border from the same read of ``X``) and one
Cholesky factorisation of size ``n_params``.

Dual (Woodbury) form (``alpha > 0`` and ``n_samples`` up to about
``1.5 n_features``): with ``S = D^{1/2}`` and the kernel ``K = X X'``
computed once (the solver keeps ``X w`` itself, updated along each step),

.. math::

    (X' D X + \\alpha I)^{-1} = \\alpha^{-1}
        \\bigl(I - X' S (\\alpha I + S K S)^{-1} S X\\bigr),

so each iteration factorises an ``n_samples`` matrix instead of forming and
factorising an ``n_features`` one; the unpenalised intercept is eliminated
by its Schur complement.  ``X @ g`` and ``X @ d`` come from ``K`` (no pass).

Either way the step is found on the line (one ``O(n_samples)`` evaluation per
trial, see :mod:`._line_search`), and the full Newton step, accepted near the
optimum, costs one read of ``X`` for its direction and gradient together.

Chord steps: near the optimum the Hessian changes by the order of the step,
so a direction from the Hessian already factorised (a chord step) still
contracts ``max|grad|`` fast, for one read of ``X`` instead of a Gram matrix
(or the dual system) and its factorisation.  After a full step, the next
step is a chord step when the contraction it predicts (a multiple of the
last Newton step's, or the last chord step's own) reaches ``tol`` for less
than a Newton step costs (:func:`._costs.chord_is_cheaper`); a chord step
that finds no decrease is retried with a fresh Hessian.  The stopping
criterion is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, get_blas_funcs

from ._blas import cholesky_factor, cholesky_solve
from ._costs import chord_is_cheaper, l2_strength, use_dual
from ._line_search import search_one, search_unscaled, take_step
from ._result import SolverResult
from ._smooth import SmoothProblem

# Predicted contraction of max|grad| per chord step, relative to that of the
# full Newton step before it: a chord step contracts less, since the Hessian
# has changed by the order of that step (an upper bound of the ratios seen on
# the simulated space-time fits).
_CHORD_CONTRACTION = 3.0

(_DSYMV,) = get_blas_funcs(("symv",), dtype=np.float64)


def _newton_direction(hess: np.ndarray, grad: np.ndarray):
    """Solve ``hess @ d = -grad`` from the upper triangle of ``hess``.

    Adds a growing ridge if ``hess`` is numerically singular (possible with
    ``alpha == 0`` and ``n_features >= n_samples``); falls back to ``-grad``.

    Returns
    -------
    direction : ndarray of shape (n_params,)
    factor : ndarray of shape (n_params, n_params) or None
        Upper Cholesky factor of the (ridged) ``hess`` the direction solves,
        for later directions from the same matrix; None for ``-grad``.
    """
    diagonal = np.diag(hess).copy()
    scale = max(float(np.max(np.abs(diagonal))), np.finfo(float).tiny)
    jitter = 0.0
    for _ in range(12):
        try:
            matrix = hess.copy(order="F")
            if jitter:
                np.fill_diagonal(matrix, diagonal + jitter)
            factor = cholesky_factor(matrix, lower=False)
            direction = cholesky_solve(factor, -grad, lower=False)
            if np.all(np.isfinite(direction)):
                return direction, factor
        except LinAlgError:
            pass
        jitter = scale * 1e-12 if jitter == 0.0 else jitter * 100.0
    return -grad, None


@dataclass
class _DualFactor:
    """The dual form's Hessian at one point: what its Newton directions share."""

    delta: np.ndarray  # per-sample Hessian weights s d2mu, (n_samples,)
    s: np.ndarray  # sqrt(delta)
    factor: np.ndarray  # upper Cholesky factor of alpha I + S K S
    sx_border: np.ndarray  # s * (X @ (X' delta)), the scaled intercept border
    m_border: np.ndarray  # (alpha I + S K S)^-1 sx_border
    schur: float  # Schur complement of the (unpenalised) intercept


class _DualSystem:
    """Newton directions from the kernel ``K = X X'`` (Woodbury identity), any neuron."""

    def __init__(self, objective):
        # the upper triangle, in Fortran order: read by symmetric BLAS and potrf
        self.kernel = np.asfortranarray(objective.kernel(symmetric=False))

    def factorize(self, objective, alpha: float, eta) -> _DualFactor:
        """Factorise the dual system at ``eta`` of shape (n_samples,) (no pass over ``X``)."""
        kernel = self.kernel
        delta = objective.hessian_weights(eta)
        s = np.sqrt(delta)
        x_border = _DSYMV(1.0, kernel, delta, lower=0)
        system = kernel * s[:, None]  # Fortran-ordered like the kernel
        system *= s[None, :]
        diagonal = np.einsum("ii->i", system)  # a view
        diagonal += alpha
        factor = cholesky_factor(system, lower=False)
        sx_border = s * x_border
        m_border = cholesky_solve(factor, sx_border, lower=False)
        border_border = float(delta @ x_border - sx_border @ m_border) / alpha
        schur = max(float(delta.sum() - border_border), np.finfo(float).tiny)
        return _DualFactor(delta, s, factor, sx_border, m_border, schur)

    def direction(self, problem: SmoothProblem, alpha: float, hessian: _DualFactor, eta, xw, grad):
        """Newton direction and its ``z = X dw + db`` for a one-neuron problem.

        Parameters
        ----------
        problem : SmoothProblem
        alpha : float
            The problem's L2 strength (positive).
        hessian : _DualFactor
            :meth:`factorize` at this point (a Newton step) or at an earlier
            one (a chord step: the direction of that Hessian).
        eta : ndarray of shape (n_samples,)
            Linear predictor at the current point.
        xw : ndarray of shape (n_samples,)
            ``X @ w`` at the current point (the solver keeps it).
        grad : ndarray of shape (n_params,)

        Returns
        -------
        direction : ndarray of shape (n_params,)
        z : ndarray of shape (n_samples,)
            One pass over ``X`` (``X.T c``).
        """
        objective = problem.objective
        kernel = self.kernel
        delta, s = hessian.delta, hessian.s
        residual = objective.gradient_weights(eta)
        x_grad = _DSYMV(1.0, kernel, residual, beta=alpha, y=xw, lower=0)  # X @ grad_w
        m_grad = cholesky_solve(hessian.factor, s * x_grad, lower=False)
        if objective.fit_intercept:
            # Schur complement of the (unpenalised) intercept.
            border_grad = (delta @ x_grad - hessian.sx_border @ m_grad) / alpha
            d_intercept = (border_grad - grad[-1]) / hessian.schur
        else:
            d_intercept = 0.0
        c = d_intercept * delta - s * (m_grad + d_intercept * hessian.m_border)
        p = objective.n_features
        direction = np.empty(objective.n_params)
        direction[:p] = -(grad[:p] + objective.rmatvec(c[:, None])[:, 0]) / alpha
        if objective.fit_intercept:
            direction[-1] = d_intercept
        z = -(x_grad + _DSYMV(1.0, kernel, c, lower=0)) / alpha + d_intercept
        return direction, z


def newton_cholesky(
    problem: SmoothProblem,
    P,
    *,
    tol,
    max_iter,
    verbose=0,
    solver_name="newton-cholesky",
    dual=None,
    evaluated=None,
):
    """Minimise every neuron's objective by damped Newton steps, one neuron after the other.

    Neuron ``j`` stops when ``max |grad_j| <= tol`` (the documented
    criterion), or after ``max_iter`` iterations, or when no decrease can be
    found along the Newton direction nor the gradient (round-off floor);
    ``converged`` says which.

    Parameters
    ----------
    problem : SmoothProblem
    P : ndarray of shape (n_params, k)
        Starting points.
    tol : float
        Tolerance on the largest absolute gradient entry.
    max_iter : int
        Maximum number of Newton iterations per neuron.
    verbose : int
        Print one line per iteration when positive.
    solver_name : str
        Name reported in the results.
    dual : bool or None
        Force the dual (True) or primal (False) form; by default chosen per
        neuron by :func:`use_dual`.
    evaluated : tuple or None
        ``problem.evaluate(P)`` when the caller has it: values (k,),
        gradients (n_params, k) and ``eta`` (n_samples, k) at ``P`` (saves
        a read of ``X``).

    Returns
    -------
    list of SolverResult
        One per neuron; ``n_passes`` and ``n_grams`` count the whole run so far.
    """
    P = np.array(P, dtype=np.float64)
    k = P.shape[1]
    kernel: list = []  # the dual system, shared by the neurons

    def system():
        if not kernel:
            kernel.append(_DualSystem(problem.objective))
        return kernel[0]

    def start(j):
        if evaluated is None:
            return None
        values, G, eta = evaluated
        return values[[j]], G[:, [j]], eta[:, [j]]

    return [
        _newton_one(
            problem if k == 1 else problem.subset([j]),
            P[:, [j]],
            tol=tol,
            max_iter=max_iter,
            verbose=verbose,
            solver_name=solver_name,
            dual=dual,
            system=system,
            evaluated=start(j),
        )
        for j in range(k)
    ]


def _newton_one(problem, P, *, tol, max_iter, verbose, solver_name, dual, system, evaluated):
    """Damped Newton on a one-neuron problem from ``P`` of shape (n_params, 1).

    After a full step, the next direction is a chord step (the last
    factorised Hessian's, no new Gram matrix or factorisation) when the
    predicted chord steps reach ``tol`` for less than a Newton step
    (:func:`._costs.chord_is_cheaper`).
    """
    objective = problem.objective
    values, G, eta = problem.evaluate(P) if evaluated is None else evaluated
    grad_max = float(np.abs(G).max())
    if dual is None:
        dual = use_dual(problem)
    alpha = l2_strength(problem)
    xw = None  # X @ w, kept by the dual form
    hessian = None  # the last factorised Hessian (dual form) or its factor (primal)
    chord = False
    n_iter = 0
    while grad_max > tol and n_iter < max_iter:
        step = 0.0
        if dual:
            if xw is None:
                W = objective.split(P)[0]
                xw = objective.direction_predictor(objective.join(W))[:, 0] if np.any(W) else 0.0
                xw = np.broadcast_to(xw, eta.shape[:1]).copy()
            if not chord:
                hessian = system().factorize(objective, alpha, eta[:, 0])
            direction, z = system().direction(problem, alpha, hessian, eta[:, 0], xw, G[:, 0])
            D = direction[:, None]
            line = objective.line_restriction(eta, z[:, None], problem.terms(P, D))
            if line.slope[0] < 0.0:
                step = search_one(line, 1.0, curvature=0.9)
            if step > 0.0:
                new_P = P + step * D
                new_eta = line.eta_at(step)
                new_values, new_G, new_eta = problem.evaluate(new_P, new_eta, scratch=True)
                new_xw = xw + step * (z - (direction[-1] if objective.fit_intercept else 0.0))
        else:
            if chord:
                direction = cholesky_solve(hessian, -G[:, 0], lower=False)
            else:
                hess = problem.hessian(eta, 0, symmetric=False)
                direction, hessian = _newton_direction(hess, G[:, 0])
            steps, new_P, new_values, new_G, new_eta = take_step(
                problem, P, eta, direction[:, None], values, G
            )
            step = float(steps[0])
        n_iter += 1
        if step == 0.0 and chord:
            chord = False  # a fresh Hessian next
            continue
        if step == 0.0:
            # Not a descent direction (singular Hessian) or round-off floor:
            # one try along the gradient, then give up.
            steps, new_P, new_values, new_G, new_eta = search_unscaled(problem, P, eta, -G)
            step = float(steps[0])
            new_xw = None
            hessian = None  # no chord step after a gradient step
        if verbose:
            print(
                f"[newton{'-dual' if dual else ''}] iter {n_iter:3d}  "
                f"objective {values[0]:.15g}  max|grad| {grad_max:.3e}  step {step:.3g}"
                + ("  (chord)" if chord else "")
            )
        if step == 0.0:
            break
        P, values, G, eta = new_P, new_values, new_G, new_eta
        if dual:
            xw = new_xw
        new_grad_max = float(np.abs(G).max())
        # per chord step: as observed after one, else predicted from the Newton step's
        contraction = new_grad_max / grad_max * (1.0 if chord else _CHORD_CONTRACTION)
        chord = (
            hessian is not None
            and step == 1.0
            and new_grad_max > tol
            and chord_is_cheaper(problem, dual, contraction, new_grad_max, tol)
        )
        grad_max = new_grad_max
    return SolverResult.of_smooth_fit(objective, P, values, grad_max, n_iter, tol, solver_name)
