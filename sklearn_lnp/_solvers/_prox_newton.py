r"""Proximal Newton with working sets for L1-penalised Poisson fits of ``k`` neurons.

Problem
-------
Every neuron ``j`` (column of ``P``) minimises

.. math::

    F_j(w_j, b_j) = f_j(w_j, b_j) + \alpha_j \lVert w_j \rVert_1

where ``f_j`` is its data term (:class:`~sklearn_lnp._objective.PoissonObjective`,
the sample-weighted mean Poisson negative log-likelihood; the neurons share
``X``, exposure and sample weights) and the penalty is an
:class:`~sklearn_lnp._penalties.L1` object, one ``alpha_j`` per neuron (or an
:class:`~sklearn_lnp._penalties.ElasticNet`, which adds
``alpha_j (1 - l1_ratio_j)/2 ||w_j||^2`` and weighs the L1 norm by
``alpha_j l1_ratio_j``); the intercept is not penalised.  ``k = 1`` is an ordinary single fit.

The solver uses of the penalty: ``thresholds(k)`` (the L1 weights of the
subproblem), ``add_smooth_hessian`` (the Hessian of a separable smooth part,
e.g. the L2 part of an :class:`~sklearn_lnp._penalties.ElasticNet`, added to
the working-set Hessian; nothing for :class:`~sklearn_lnp._penalties.L1`),
``kkt_violation`` (the stopping test, given the data term's gradient),
``change`` (the decrease and the line search) and ``value`` (the reported
objective), all per neuron.  The smooth part is quadratic, so the subproblem
(data term's quadratic model plus the penalty) holds it exactly: its
linear term is the data term's alone.

Optimality and the stopping criterion
-------------------------------------
A neuron stops when its largest KKT violation (the distance of ``-g`` to the
subdifferential of the penalty, ``|g_b|`` for the intercept;
:meth:`~sklearn_lnp._penalties.L1.kkt_violation`) is at most ``tol``.  With
the default ``tol = 1e-8`` the point is the optimum up to round-off for every
practical purpose (on the real neuron: glum's optimum at
``gradient_tol=1e-10`` has the same objective to 1e-12).

Algorithm
---------
All running neurons take their outer step together, in *rounds*; each neuron
has its own working set, Hessian, subproblem, line search and stopping test,
and leaves the lockstep when done.  What the neurons share are the passes
over ``X``:

1. one ``X.T @ R`` per round for the gradients of every running neuron (the
   KKT test and the next working sets);
2. each neuron's working set: its support plus its most violating zero
   coefficients, at most ``max(ws_min_size, 2 |support|)`` features
   (:func:`~._working_set.choose_working_set`);
3. its Hessian on the working-set columns and intercept
   (:class:`~._working_set.WorkingSetHessian`: computed afresh, or reused and
   extended by the rows of new columns).  On a dense in-memory design with a
   working set of at least one column in 3 it is made from row blocks of
   ``X`` whose working-set columns are gathered in cache (no copy of
   ``X[:, ws]``, which would cost more reads of ``X`` than it saves, see
   ``_in_row_blocks``), with float32 products for large, well-determined Hessians
   (:func:`~._working_set.single_precision`); otherwise from the gathered
   columns: for ``k > 1`` from one column-major copy of ``X``
   (:func:`~sklearn_lnp._passes.column_major`, made at the first gather: on a
   row-major design a gather of a few tens of columns reads most of ``X``'s
   cache lines), released after the step, so the memory is that of one
   neuron's columns;
4. the quadratic model plus the L1 term minimised on the working set
   (:func:`~._quadratic_lasso.solve_quadratic_lasso`);
5. the direction's linear predictor from the gathered columns, or, for the
   neurons whose Hessian was made or reused without gathering, from one
   ``X @ D``;
6. Armijo backtracking on ``F_j`` along the line, each neuron with its own
   step, on the objective's restriction to the line (no pass over ``X``).

Along a path (:func:`~sklearn_lnp.lasso_lnp_path`, ``LassoLNPCV``) the caller
keeps each neuron's :class:`~._working_set.WorkingSetHessian` and the linear
predictors from one alpha to the next: the first step of the next alpha
reuses the last Hessian, and the warm start costs no ``X @ W``.  BLAS runs
single-threaded inside the solver (:func:`~._blas.single_threaded_blas`).

Near the optimum the support stops changing and step 4 is an exact Newton
step on the support: the outer iterations converge quadratically.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._passes import column_major, gather_columns
from ._blas import single_threaded_blas
from ._quadratic_lasso import solve_quadratic_lasso
from ._result import SolverResult
from ._working_set import WS_MIN_SIZE, WorkingSetHessian, choose_working_set

__all__ = ["ProxNewtonFit", "inner_budget", "max_kkt_violation", "penalised_value", "prox_newton"]

_ARMIJO = 1e-4
_MAX_HALVINGS = 40
# Samples x neurons of one block of line searches (float64: 512 KiB per array).
_LINE_BLOCK = 65536
# Work of one subproblem (flops): its sweeps (``m**2`` each on a working set
# of ``m`` features) and its Cholesky face steps (``m**3 / 3`` each) are
# capped so that one outer step has a bounded cost.  A
# well-posed subproblem needs a few tens of sweeps and a few factorisations;
# a nearly singular one (tiny alpha with ``n_features >= n_samples``) could
# take 20000 sweeps at every outer step.  The capped subproblem's point still
# decreases the quadratic model: the outer step stays a descent step.
_SWEEP_FLOPS = 5e7
_FACE_FLOPS = 2e9


def inner_budget(m: int) -> tuple[int, int]:
    """``(max_sweeps, max_factorisations)`` of a subproblem on ``m`` coordinates."""
    m = max(int(m), 1)
    sweeps = int(np.clip(_SWEEP_FLOPS / m**2, 100, 20000))
    faces = int(np.clip(3 * _FACE_FLOPS / m**3, 2, 64))
    return sweeps, faces


@dataclass
class ProxNewtonFit:
    """Outcome of :func:`prox_newton` for ``k`` neurons.

    Attributes
    ----------
    params : ndarray of shape (n_params, k)
        Solutions, one column per neuron (coefficients, then the intercept).
    eta : ndarray of shape (n_samples, k)
        Linear predictors at ``params`` (a warm start's, along a path).
    data_value : ndarray of shape (k,)
        Data terms at ``params``.
    gradient : ndarray of shape (n_params, k)
        Gradients of the data terms at ``params``.
    hessians : list of WorkingSetHessian
        Each neuron's last working-set Hessian.
    objective : ndarray of shape (k,)
        ``F_j`` at the solution.
    optimality : ndarray of shape (k,)
        Largest KKT violation at the solution.
    n_iter : ndarray of shape (k,)
        Proximal Newton steps of each neuron.
    converged : ndarray of shape (k,)
        ``optimality <= tol``.
    n_passes : ndarray of shape (k,)
        Passes over ``X`` each neuron took part in (a shared product counts
        once for every neuron in it): the passes of its fit alone.
    n_grams : ndarray of shape (k,)
        Working-set Gram matrices computed for each neuron.
    n_rounds : int
        Lockstep rounds: the initial gradients, then one step of every
        running neuron per round.
    n_shared_passes : int
        Passes over ``X`` made: matrix-matrix products, each one read of ``X``
        for all neurons in it.
    n_sweeps : ndarray of shape (k,)
        Inner sweeps (coordinate descent or FISTA) of each neuron, in all;
        at most :func:`inner_budget` per step.
    """

    params: np.ndarray
    eta: np.ndarray
    data_value: np.ndarray
    gradient: np.ndarray
    hessians: list
    objective: np.ndarray
    optimality: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    n_passes: np.ndarray
    n_grams: np.ndarray
    n_rounds: int
    n_shared_passes: int
    n_sweeps: np.ndarray | None = None

    solver = "prox-newton"

    def result(self, j: int = 0) -> SolverResult:
        """Neuron ``j``'s outcome as a :class:`SolverResult`."""
        return SolverResult(
            params=self.params[:, j].copy(),
            objective=float(self.objective[j]),
            optimality=float(self.optimality[j]),
            n_iter=int(self.n_iter[j]),
            converged=bool(self.converged[j]),
            solver=self.solver,
            n_passes=int(self.n_passes[j]),
            n_grams=int(self.n_grams[j]),
        )


def max_kkt_violation(penalty, P, G, n_features: int):
    """Largest KKT violation of each neuron (intercept included), and the per-weight ones.

    Parameters
    ----------
    penalty : L1 or ElasticNet
        The penalty of the ``k`` neurons.
    P : ndarray of shape (n_params, k)
    G : ndarray of shape (n_params, k)
        Gradients of the data terms at ``P``.
    n_features : int
        Rows of ``P`` that are weights (an intercept row, if any, follows).

    Returns
    -------
    largest : ndarray of shape (k,)
    violation : ndarray of shape (n_features, k)
    """
    violation = penalty.kkt_violation(P[:n_features], G[:n_features])
    largest = np.max(violation, axis=0, initial=0.0)
    if P.shape[0] > n_features:  # the unpenalised intercept: |g_b|
        largest = np.maximum(largest, np.abs(G[n_features]))
    return largest, violation


def penalised_value(objective, penalty, P, eta=None) -> np.ndarray:
    """``F_j = f_j + penalty_j`` of each neuron at ``P`` (one pass without ``eta``), shape (k,)."""
    return objective.value(P, eta) + penalty.value(P[: objective.n_features])


def prox_newton(
    objective,
    penalty,
    P,
    *,
    tol: float = 1e-8,
    max_iter: int = 100,
    verbose: int = 0,
    inner: str = "cd",
    ws_min_size: int = WS_MIN_SIZE,
    previous: ProxNewtonFit | None = None,
    start: tuple | None = None,
) -> ProxNewtonFit:
    """Minimise ``f_j + penalty_j`` for every neuron ``j``, in lockstep rounds.

    Parameters
    ----------
    objective : PoissonObjective
        The ``k`` neurons' data terms on a shared design (fastest for
        ``k > 1`` with counts ``Y`` in Fortran order: the solver keeps each
        neuron's linear predictor as a contiguous column).
    penalty : L1 or ElasticNet
        One strength for all neurons or one per neuron.
    P : ndarray of shape (n_params, k) or None
        Starting points (warm starts), one column per neuron; None: the
        solution of ``previous``.
    tol : float, default=1e-8
        Stop a neuron when its largest KKT violation is at most ``tol``.
    max_iter : int, default=100
        Proximal Newton steps per neuron.
    verbose : int, default=0
        One line per round when positive (``k > 1``); one line per neuron and
        step when greater than 1, or positive for ``k = 1``.
    inner : {"cd", "fista"}, default="cd"
        Iterative method of the quadratic subproblem.
    ws_min_size : int, default=10
        Smallest working set.
    previous : ProxNewtonFit, optional
        The fit of the same neurons at the previous alpha of a path, to
        start from (``P`` None): its linear predictors and gradients are
        reused (no pass over ``X`` before the first step) and so are its
        working-set Hessians (module docstring).
    start : tuple, optional
        ``(values, G, eta)`` of ``objective.value_gradient(P)``, when the
        caller has evaluated ``P`` already (e.g. the null model for
        ``alpha_max``): the solver then makes no pass before its first step.

    Returns
    -------
    ProxNewtonFit
    """
    with single_threaded_blas():
        return _Lockstep(
            objective,
            penalty,
            P,
            tol=tol,
            max_iter=max_iter,
            verbose=verbose,
            inner=inner,
            ws_min_size=ws_min_size,
            previous=previous,
        ).run(previous, start)


class _Lockstep:
    """State of a :func:`prox_newton` run: every neuron's point, gradient and working set."""

    def __init__(
        self, objective, penalty, P, *, tol, max_iter, verbose, inner, ws_min_size, previous
    ):
        self.objective = objective
        self.P = np.array(previous.params if P is None else P, dtype=np.float64)
        self.p, k = objective.n_features, self.P.shape[1]
        self.k = k
        self.alpha = penalty.thresholds(k)
        self.penalty = penalty
        self.tol, self.max_iter, self.verbose = tol, max_iter, verbose
        self.inner, self.ws_min_size = inner, ws_min_size
        if previous is None:
            self.hessians = [WorkingSetHessian(objective.fit_intercept) for _ in range(k)]
        else:
            self.hessians = previous.hessians
        for hessian in self.hessians:
            hessian.start()
        self.grams_before = np.array([h.n_grams for h in self.hessians])
        self.value = np.zeros(k)
        self.G = np.zeros_like(self.P)
        self.optimality = np.full(k, np.inf)
        self.last_violation = np.full(k, np.inf)
        self.n_iter = np.zeros(k, dtype=int)
        self.converged = np.zeros(k, dtype=bool)
        self.n_passes = np.zeros(k, dtype=int)
        self.n_sweeps = np.zeros(k, dtype=int)
        self.n_shared_passes = 0
        self.columns = [None] * k  # (ws, X[:, ws]) gathered at a neuron's last step
        self.by_columns = None  # column-major copy of X, made at the first gather (k > 1)

    # -- passes over X, shared by the neurons ``cols`` ---------------------
    def _count(self, cols, before: int) -> None:
        """Charge the passes made since ``before`` to every neuron in ``cols``."""
        made = self.objective.n_passes - before
        self.n_passes[cols] += made
        self.n_shared_passes += made

    def _neurons(self, cols):
        """The objective of the neurons ``cols`` (all of them without a copy)."""
        return self.objective if len(cols) == self.k else self.objective.subset(cols)

    def _gradients(self, cols, E=None) -> None:
        """Values, gradients and linear predictors of neurons ``cols`` at their points.

        One ``X.T @ R`` when their linear predictors ``E`` are given; else
        one fused read of ``X`` (none for ``X @ W`` when ``W`` is zero).
        """
        before = self.objective.n_passes
        # E is a copy of the columns of self.E (fancy indexing): scratch
        values, G, eta = self._neurons(cols).value_gradient(
            self.P[:, cols], E, scratch=E is not None and E is not self.E
        )
        self._count(cols, before)
        self.value[cols] = values
        self.G[:, cols] = G
        self.E[:, cols] = eta

    def _gather(self, ws):
        if self.k == 1:
            return gather_columns(self.objective.X, ws)
        if self.by_columns is None:
            self.by_columns = column_major(self.objective.X)
        return gather_columns(self.by_columns, ws)

    # -- the run -----------------------------------------------------------
    def run(self, previous, start=None) -> ProxNewtonFit:
        k, p = self.k, self.p
        everyone = np.arange(k)
        if previous is not None and np.array_equal(previous.params, self.P):
            self.E = np.array(previous.eta, order="F")
            self.value[:] = previous.data_value
            self.G[:] = previous.gradient
        elif start is not None:
            self.value[:], self.G[:] = start[0], start[1]
            self.E = np.array(start[2], order="F")
        else:
            # one contiguous column per neuron: the per-neuron updates of a step
            self.E = np.empty((self.objective.n_samples, k), order="F")
            self._gradients(everyone)
        running = everyone
        n_rounds = 1
        for step in range(1, self.max_iter + 1):
            running = self._test(running)
            if not running.size:
                break
            n_rounds += 1
            moved = self._step(running)
            if moved.size:
                self._gradients(moved, self.E[:, moved])
            self.n_iter[running] = step
            running = moved
            if self.verbose and k > 1:
                print(
                    f"[prox-newton] round {n_rounds:3d}: {running.size}/{k} neurons "
                    f"running, {self.n_shared_passes} passes over X so far",
                    flush=True,
                )
        if running.size:  # max_iter steps: the test at the last point
            self._test(running)
        values = self.value + self.penalty.value(self.P[:p])
        return ProxNewtonFit(
            params=self.P,
            eta=self.E,
            data_value=self.value,
            gradient=self.G,
            hessians=self.hessians,
            objective=values,
            optimality=self.optimality,
            n_iter=self.n_iter,
            converged=self.converged,
            n_passes=self.n_passes,
            n_grams=np.array([h.n_grams for h in self.hessians]) - self.grams_before,
            n_rounds=n_rounds,
            n_shared_passes=self.n_shared_passes,
            n_sweeps=self.n_sweeps,
        )

    def _test(self, running) -> np.ndarray:
        """KKT test of the neurons ``running``; those that must take another step."""
        largest, violation = max_kkt_violation(
            self.penalty.subset(running), self.P[:, running], self.G[:, running], self.p
        )
        self.optimality[running] = largest
        self.converged[running] = largest <= self.tol
        self.violation = dict(zip(running.tolist(), violation.T, strict=True))
        return running[~self.converged[running]]

    def _step(self, running) -> np.ndarray:
        """One proximal Newton step of every neuron in ``running``; those that moved."""
        p, fit_intercept = self.p, self.objective.fit_intercept
        directions = np.zeros((self.P.shape[0], running.size), order="F")
        Z = np.empty((self.E.shape[0], running.size), order="F")
        decrease = np.empty(running.size)
        need_predictor = []
        indices = []
        for i, j in enumerate(running):
            coef = self.P[:p, j]
            violation = self.violation[j]
            largest = self.optimality[j]
            ws = choose_working_set(
                coef, violation, max(self.ws_min_size, 2 * int(np.count_nonzero(coef)))
            )
            idx = np.append(ws, p) if fit_intercept else ws
            hess, X_ws = self._hessian(j, ws, largest)
            self.last_violation[j] = largest
            w0 = self.P[idx, j]
            grad = self.G[idx, j]
            lin = grad - hess @ w0
            # the penalty's smooth part (quadratic) enters the model exactly
            hess = self.penalty.add_smooth_hessian(hess, ws.size, j)
            thresholds = np.full(idx.size, self.alpha[j])
            if fit_intercept:
                thresholds[-1] = 0.0
            # Forcing sequence: loose far from the optimum, exact near it.
            inner_tol = max(0.1 * self.tol, min(0.1, largest) * largest)
            max_sweeps, max_faces = inner_budget(idx.size)
            z, info = solve_quadratic_lasso(
                hess,
                lin,
                thresholds,
                w0,
                tol=inner_tol,
                inner=self.inner,
                max_sweeps=max_sweeps,
                max_factorisations=max_faces,
            )
            self.n_sweeps[j] += info["sweeps"]
            direction = z - w0
            directions[idx, i] = direction
            decrease[i] = float(grad @ direction) + float(
                self.penalty.subset([j]).change(w0[: ws.size, None], z[: ws.size, None])[0]
            )
            if X_ws is not None:
                Z[:, i] = np.asarray(X_ws @ direction[: ws.size], dtype=np.float64).ravel()
                if fit_intercept:
                    Z[:, i] += direction[-1]
            else:
                need_predictor.append(i)
            indices.append((idx, ws.size, info))
            if self.k > 1 and self.columns[j] is not None:
                # release the columns; gathered again where reused
                self.columns[j] = (self.columns[j][0], None)
        if need_predictor:
            before = self.objective.n_passes
            Z[:, need_predictor] = self.objective.direction_predictor(directions[:, need_predictor])
            self._count(running[need_predictor], before)
        steps = self._line_search(running, directions, Z, decrease)
        moved = []
        for i, j in enumerate(running):
            idx, n_ws, info = indices[i]
            if self.verbose > (1 if self.k > 1 else 0):
                total = self.value[j] + self.penalty.subset([j]).value(self.P[:p, j : j + 1])[0]
                print(
                    f"[prox-newton] neuron {j} iter {self.n_iter[j] + 1:3d}  objective "
                    f"{total:.15g}"
                    f"  kkt {self.optimality[j]:.3e}  ws {n_ws:4d}  nnz "
                    f"{np.count_nonzero(self.P[:p, j]):4d}  inner {info['sweeps']:5d} sweeps "
                    f"{info['factorisations']:2d} chol  step {steps[i]:.3g}",
                    flush=True,
                )
            if steps[i] > 0:
                self.P[idx, j] += steps[i] * directions[idx, i]
                self.E[:, j] += steps[i] * Z[:, i]
                moved.append(j)
        return np.asarray(moved, dtype=np.intp)

    def _hessian(self, j, ws, largest):
        """Neuron ``j``'s Hessian on ``ws`` and ``X[:, ws]`` (None when not gathered)."""
        cache = self.hessians[j]
        if self._in_row_blocks(ws):
            self.columns[j] = None
            design = self.objective.X
            hess = None
            if cache.reusable(
                ws,
                first_step=self.n_iter[j] == 0,
                violation=largest,
                previous=self.last_violation[j],
            ):
                hess = cache.extend(ws, design=design)
            if hess is None:
                weights = self.objective.hessian_weights(self.E[:, j : j + 1])[:, 0]
                hess = cache.compute(ws, None, weights, design=design)
            return hess, None
        held_ws, X_ws = self.columns[j] if self.columns[j] is not None else (None, None)
        held = held_ws is not None and np.array_equal(held_ws, ws)
        hess = None
        if cache.reusable(
            ws, first_step=self.n_iter[j] == 0, violation=largest, previous=self.last_violation[j]
        ):
            common = cache.held_columns(ws)
            if common is not None and not np.all(common) and (not held or X_ws is None):
                # new columns: gathered once, for their rows of the Hessian
                # and for the direction's linear predictor
                X_ws, held = self._gather(ws), True
            hess = cache.extend(ws, X_ws if held else None)
        if hess is None:
            if not held or X_ws is None:
                X_ws, held = self._gather(ws), True
            weights = self.objective.hessian_weights(self.E[:, j : j + 1])[:, 0]
            hess = cache.compute(ws, X_ws, weights)
        if held and X_ws is None:
            X_ws = self._gather(ws)
        if held:
            self.columns[j] = (ws, X_ws)
        return hess, (X_ws if held else None)

    def _in_row_blocks(self, ws) -> bool:
        """Whether the Hessian on ``ws`` is made from row blocks of ``X``, without a gather.

        For a dense in-memory design once the working set has at least one
        column in 3.  Counted in reads of ``X``: a step without a gather
        reads ``X`` twice (the Hessian's row blocks, and ``X @ D`` for the
        direction's linear predictor); a gather reads it once (from a
        row-major ``X`` every cache line holds working-set columns once
        they are more than one in 8) and writes the copy ``X[:, ws]``,
        which the Hessian and ``X_ws @ d`` then read: ``1 + 3 |ws| / p``
        reads against 2, so the gather pays below ``p / 3`` columns (and
        keeps the copy, a third of ``X`` at most, for the next steps).
        """
        return isinstance(self.objective.X, np.ndarray) and 3 * ws.size >= self.p

    def _line_search(self, running, D, Z, decrease) -> np.ndarray:
        """Armijo backtracking of every neuron in ``running``; accepted steps (0: none).

        The restrictions to the lines are evaluated for a few neurons at a
        time (about ``_LINE_BLOCK`` samples x neurons), so that each block's
        columns stay in cache through the evaluations of a trial step.
        """
        steps = np.ones(running.size)
        block = max(1, _LINE_BLOCK // max(self.E.shape[0], 1))
        for start in range(0, running.size, block):
            part = np.arange(start, min(start + block, running.size))
            steps[part] = self._backtrack(running[part], D[:, part], Z[:, part], decrease[part])
        return steps

    def _backtrack(self, cols, D, Z, decrease) -> np.ndarray:
        """Armijo backtracking of the neurons ``cols`` along ``D`` (``Z = X D``)."""
        p = self.p
        line = self._neurons(cols).line_restriction(self.E[:, cols], Z)
        W0 = self.P[:p, cols]
        steps = np.ones(cols.size)
        accepted = np.zeros(cols.size, dtype=bool)
        for _ in range(_MAX_HALVINGS):
            trying = np.flatnonzero(~accepted)
            if not trying.size:
                break
            every = trying.size == cols.size  # no gather of the columns
            change, _, _ = line(steps[trying], None if every else trying, second=False)
            moved = W0[:, trying] + steps[trying] * D[:p, trying]
            change = change + self.penalty.subset(cols[trying]).change(W0[:, trying], moved)
            ok = np.isfinite(change) & (change <= _ARMIJO * steps[trying] * decrease[trying])
            accepted[trying[ok]] = True
            steps[trying[~ok]] *= 0.5
        return np.where(accepted, steps, 0.0)
