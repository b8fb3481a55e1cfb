r"""L1-penalised fits of many neurons sharing one design, in lockstep.

Each neuron ``j`` minimises its own ``f_j + alpha_j ||w_j||_1`` (``f_j`` its
:class:`~sklearn_lnp._loss.PoissonObjective`; the neurons share ``X``,
exposure and sample weights), by the single-neuron proximal Newton
iterations of :func:`~sklearn_lnp._solvers._prox_newton.prox_newton_steps`:
its own working set, working-set Hessian, subproblem and line search.  What
the neurons share is the full-length passes over ``X`` each outer step
needs.  Every step of every neuron starts with the gradient at its new point
(``X.T @ r``, one pass over ``X``, for the KKT test and the choice of the
next working set), and a step whose Hessian was reused from a previous step
needs the direction's ``X @ d`` (another pass).  For a sparse receptive
field these passes dominate a single fit: the Hessian is only that of a few
tens of working-set columns.

Here all unfinished neurons take their outer step together; their requests
for passes (yielded by the generator of each neuron) are collected and
answered with one matrix-matrix product per kind for all of them:

* ``X.T @ R`` (``R`` the ``(n_samples, k)`` residuals) for the gradients;
* ``X @ D`` for the direction predictors, and ``X @ W`` for the initial
  linear predictors of warm-started neurons;
* the working-set columns ``X[:, ws_j]`` (for the Hessians) are gathered
  from one column-major copy of ``X`` (:func:`~sklearn_lnp._passes.column_major`,
  made once per fit): on a row-major design a gather of a few tens of
  columns reads most of ``X``'s cache lines, about a pass per neuron and
  step; from the copy it is a contiguous copy of those columns.  The copy
  costs the memory of ``X`` once more (none for a design already in
  Fortran order or CSC, a dask array, or a single neuron).

All products go through :mod:`sklearn_lnp._passes`, so float32, sparse and
chunked dask designs work as for one neuron.  Each neuron stops on its own
criterion (largest KKT violation ``<= tol``) and leaves the lockstep; the
result of every neuron is the single-neuron solver's, up to the round-off of
the product (a GEMM column instead of a GEMV).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._passes import column_major, gather_columns, rmatvec
from ._population import PopulationObjective
from ._prox_newton import (
    COLUMNS,
    GRADIENT,
    PREDICTOR,
    WS_MIN_SIZE,
    prox_newton_steps,
    single_threaded_blas,
)
from ._result import SolverResult

__all__ = ["PopulationLassoResult", "check_population_alpha", "population_prox_newton"]


@dataclass
class PopulationLassoResult:
    """Outcome of :func:`population_prox_newton`.

    Attributes
    ----------
    results : list of SolverResult
        One per neuron (column of ``P``).  ``n_passes`` counts the passes
        over ``X`` the neuron took part in (a shared product counts once for
        every neuron in it), the same count as its single-neuron fit.
    n_rounds : int
        Lockstep rounds: the initial gradients, then one outer step of every
        unfinished neuron per round.
    n_passes : int
        Passes over ``X`` actually made: matrix-matrix products, each one read
        of ``X`` for all the neurons in it.
    """

    results: list[SolverResult]
    n_rounds: int
    n_passes: int


def check_population_alpha(alpha, n_neurons: int) -> np.ndarray:
    """L1 penalties of ``n_neurons`` neurons from a scalar or a vector.

    Parameters
    ----------
    alpha : float or array-like of shape (n_neurons,)
        Non-negative, finite.
    n_neurons : int

    Returns
    -------
    ndarray of shape (n_neurons,)

    Raises
    ------
    ValueError
        When ``alpha`` is neither a scalar nor of length ``n_neurons``, or
        holds a negative or non-finite value.
    """
    values = np.asarray(alpha, dtype=np.float64)
    if values.ndim == 0:
        values = np.full(n_neurons, float(values))
    elif values.shape != (n_neurons,):
        raise ValueError(
            f"alpha must be a scalar or have one penalty per neuron ({n_neurons}); "
            f"got shape {values.shape}."
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"alpha must be finite and non-negative; got {alpha!r}.")
    return values


def population_prox_newton(
    objective: PopulationObjective,
    P,
    alpha,
    *,
    tol: float = 1e-8,
    max_iter: int = 100,
    verbose: int = 0,
    inner: str = "cd",
    ws_min_size: int = WS_MIN_SIZE,
) -> PopulationLassoResult:
    """Minimise ``f_j + alpha_j ||w_j||_1`` for every neuron ``j``, in lockstep.

    Parameters
    ----------
    objective : PopulationObjective
        The neurons' smooth parts (its ``alpha`` is an L2 penalty, usually 0).
    P : ndarray of shape (n_params, n_neurons)
        Starting points, one column per neuron (coefficients, then the
        intercept); warm starts.
    alpha : float or ndarray of shape (n_neurons,)
        L1 penalty, one for all neurons or one per neuron.
    tol, max_iter, inner, ws_min_size :
        As :func:`~sklearn_lnp._solvers._prox_newton.prox_newton_lasso`,
        per neuron (``max_iter`` outer steps each).
    verbose : int, default=0
        One line per round when positive; each neuron's step lines too when
        greater than 1.

    Returns
    -------
    PopulationLassoResult

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp._solvers._population import PopulationObjective
    >>> rng = np.random.default_rng(0)
    >>> X = rng.choice([-1.0, 1.0], size=(2000, 40))
    >>> W = np.zeros((40, 3))
    >>> W[:3] = 0.4
    >>> Y = rng.poisson(np.exp(X @ W - 1.0)).astype(float)
    >>> objective = PopulationObjective(X, Y)
    >>> fit = population_prox_newton(objective, objective.initial_params(), [0.01, 0.02, 0.05])
    >>> [bool(r.converged) for r in fit.results]
    [True, True, True]
    >>> fit.n_rounds == 1 + max(r.n_iter for r in fit.results)  # lockstep outer steps
    True
    """
    with single_threaded_blas():
        return _population_prox_newton(
            objective,
            P,
            alpha,
            tol=tol,
            max_iter=max_iter,
            verbose=verbose,
            inner=inner,
            ws_min_size=ws_min_size,
        )


def _population_prox_newton(objective, P, alpha, *, verbose, **options):
    P = np.array(P, dtype=np.float64)
    k = P.shape[1]
    alphas = check_population_alpha(alpha, k)
    neurons = [objective.neuron(j) for j in range(k)]
    # Many neurons at once: their working-set columns are released between
    # steps (gathered again from the column-major copy where reused), so the
    # memory is that of one neuron's columns, not of all.
    steps = [
        prox_newton_steps(
            neurons[j],
            P[:, j],
            alphas[j],
            verbose=max(verbose - 1, 0),
            hold_columns=k == 1,
            **options,
        )
        for j in range(k)
    ]
    requests = {j: next(steps[j]) for j in range(k)}
    results: list[SolverResult | None] = [None] * k
    passes_before = objective.n_passes

    def advance(j, answer):
        try:
            requests[j] = steps[j].send(answer)
        except StopIteration as stop:
            del requests[j]
            results[j] = stop.value

    n_rounds = 0
    by_columns = None  # column-major copy of X, made at the first request
    while requests:
        n_rounds += 1
        # Within a step, a neuron may ask for its working-set columns (for a
        # fresh or extended Hessian) or, when it reuses a Hessian without
        # them, for X @ d; then it asks for the gradient at its new point.
        while any(request[0] != GRADIENT for request in requests.values()):
            for j in [j for j, request in requests.items() if request[0] == COLUMNS]:
                if by_columns is None:
                    # the copy costs about as much as one neuron's gathers
                    by_columns = column_major(objective.X) if k > 1 else objective.X
                advance(j, gather_columns(by_columns, requests[j][1]))
            wanting = [j for j, request in requests.items() if request[0] == PREDICTOR]
            if wanting:
                Z = _shared_predictors(
                    objective, neurons, [requests[j][1] for j in wanting], wanting
                )
                for column, j in enumerate(wanting):
                    advance(j, np.ascontiguousarray(Z[:, column]))
        wanting = list(requests)
        if wanting:
            answers = _shared_gradients(objective, neurons, [requests[j] for j in wanting], wanting)
            for j, answer in zip(wanting, answers, strict=True):
                advance(j, answer)
        if verbose:
            print(
                f"[population-prox-newton] round {n_rounds:3d}: {len(requests)}/{k} neurons "
                f"unfinished, {objective.n_passes - passes_before} passes over X so far"
            )
    for result in results:
        result.solver = "population-prox-newton"
    return PopulationLassoResult(
        results=results, n_rounds=n_rounds, n_passes=objective.n_passes - passes_before
    )


def _shared_predictors(objective, neurons, directions, columns):
    """``X @ dw + db`` of several neurons' directions: one pass (``X @ D``)."""
    Z = objective.direction_predictor(np.column_stack(directions))
    for j in columns:
        neurons[j].n_passes += 1
    return Z


def _shared_gradients(objective, neurons, requests, columns):
    """``(value, grad)`` of each ``(GRADIENT, params, eta)`` request: one pass (``X.T @ R``).

    Linear predictors not given are computed first, with one ``X @ W`` for
    the neurons with non-zero coefficients (none for the others).  Every
    neuron's cache is left at its point, as
    :meth:`~sklearn_lnp._loss.PoissonObjective.loss_gradient_at` leaves it.
    """
    p = objective.n_features
    etas = [eta for _, _, eta in requests]
    unknown = [i for i, (_, params, eta) in enumerate(requests) if eta is None]
    moving = [i for i in unknown if np.any(requests[i][1][:p])]
    if moving:
        E = objective.linear_predictor(np.column_stack([requests[i][1] for i in moving]))
        for column, i in enumerate(moving):
            etas[i] = np.ascontiguousarray(E[:, column])
            neurons[columns[i]].n_passes += 1
    for i in unknown:
        if etas[i] is None:  # zero coefficients: eta from the intercept, no pass
            etas[i] = neurons[columns[i]].linear_predictor(requests[i][1])
    R = np.empty((objective.Y.shape[0], len(requests)))
    for i, ((_, params, _), eta) in enumerate(zip(requests, etas, strict=True)):
        neuron = neurons[columns[i]]
        _, _, dmu, _ = neuron._evaluate(params, eta)
        np.multiply(neuron.weights, dmu, out=R[:, i])
        R[:, i] -= neuron.weighted_y
    G = rmatvec(objective.X, R)
    objective.n_passes += 1
    answers = []
    for i, (_, params, _) in enumerate(requests):
        neuron = neurons[columns[i]]
        neuron.n_passes += 1
        answers.append(neuron._finish_gradient(params, G[:, i], R[:, i]))
    return answers
