"""The L-BFGS memory seeded with the intercept's curvature (``_solvers._start``).

* the seed is the intercept's Hessian entry (checked against finite
  differences of the gradient) and costs no pass over ``X``; it makes the
  first L-BFGS direction ``-g / h_b``;
* no seed for a warm start with non-zero weights, without an intercept, or
  with no more samples than features;
* seeded L-BFGS reaches the optimum of unseeded L-BFGS (the same stopping
  rule, checked with an independent gradient) on float64, float32, sparse and
  dask designs, and on the centred simulated design it triggers on it uses
  fewer passes over ``X`` (counted, not timed).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import sklearn_lnp._solvers as solvers
from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp._penalties import L2
from sklearn_lnp._solvers import SmoothProblem, solve
from sklearn_lnp._solvers._start import intercept_pairs


def _data(n=3000, p=60, k=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], size=(n, p))
    W = rng.standard_normal((p, k)) * 0.8 / np.sqrt(p)
    exposure = rng.uniform(0.5, 1.5, n)
    weights = rng.uniform(0.5, 2.0, n)
    Y = rng.poisson(exposure[:, None] * np.exp(X @ W - 1.0)).astype(np.float64)
    return X, Y, exposure, weights


def _gradient(X, y, exposure, weights, alpha, params):
    """max |gradient| of the documented objective, written out independently."""
    coef, intercept = params[:-1], params[-1]
    s = weights / weights.sum()
    residual = s * (exposure * np.exp(X @ coef + intercept) - y)
    return max(np.max(np.abs(X.T @ residual + alpha * coef)), abs(residual.sum()))


def test_seed_is_the_intercept_curvature_and_reads_no_X():
    X, Y, exposure, weights = _data(k=3)
    objective = PoissonObjective(X, Y, exposure, weights)
    problem = SmoothProblem(objective, L2(0.1))
    P = objective.initial_params()
    stores = intercept_pairs(problem, P)
    assert objective.n_passes == 0
    assert len(stores) == 3
    rng = np.random.default_rng(1)
    for j, store in enumerate(stores):
        # the intercept's Hessian entry by central differences of its gradient
        step = 1e-5
        up, down = P[:, j].copy(), P[:, j].copy()
        up[-1] += step
        down[-1] -= step
        single = problem.subset([j])
        slope = (
            single.evaluate(up[:, None])[1][-1, 0] - single.evaluate(down[:, None])[1][-1, 0]
        ) / (2 * step)
        h_b = 1.0 / float(np.sum(store.direction(-np.eye(P.shape[0])[-1])[-1:]))
        assert h_b == pytest.approx(slope, rel=1e-7)  # difference error ~ step**2
        g = rng.standard_normal(P.shape[0])
        np.testing.assert_allclose(store.direction(g), -g / h_b, rtol=1e-12)


def test_no_seed_for_non_zero_weights_without_intercept_or_n_at_most_p():
    X, Y, exposure, weights = _data()
    objective = PoissonObjective(X, Y, exposure, weights)
    problem = SmoothProblem(objective, L2(0.1))
    P = objective.initial_params()
    P[0] = 0.1
    assert intercept_pairs(problem, P) is None
    plain = PoissonObjective(X, Y, exposure, weights, fit_intercept=False)
    assert intercept_pairs(SmoothProblem(plain, L2(0.1)), plain.initial_params()) is None
    wide = PoissonObjective(X[:50], Y[:50], exposure[:50], weights[:50])
    assert intercept_pairs(SmoothProblem(wide, L2(0.1)), wide.initial_params()) is None
    assert objective.n_passes == plain.n_passes == wide.n_passes == 0


def _design(X, kind):
    if kind == "float32":
        return X.astype(np.float32)
    if kind == "csr":
        return sp.csr_matrix(X)
    if kind == "dask":
        da = pytest.importorskip("dask.array")
        return da.from_array(X, chunks=(700, X.shape[1]))
    return X


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["float64", "float32", "csr", "dask"])
def test_seeded_lbfgs_reaches_the_optimum_with_fewer_passes(kind, monkeypatch):
    # a problem on which the seed saves passes (it does not on every problem:
    # on this generator with alpha = 0.01 and 150-300 columns it cost 1-2
    # passes more; the gains are on the benchmark's simulated designs)
    X, Y, exposure, weights = _data(p=100, seed=2)
    y = Y[:, 0]
    design = _design(X, kind)
    alpha, tol = 0.3, 1e-9
    runs = {}
    for seeded in (True, False):
        if not seeded:
            monkeypatch.setattr(solvers, "intercept_pairs", lambda *args, **kwargs: None)
        objective = PoissonObjective(design, y, exposure, weights)
        (result,) = solve(objective, L2(alpha), objective.initial_params(), solver="lbfgs", tol=tol)
        assert result.converged and result.solver == "lbfgs"
        # the stopping rule, on float64 numbers (the float32 design's are exact in float64);
        # 1e-6: the reference gradient is summed in another order (round-off ~1e-16)
        assert _gradient(
            X.astype(np.float32).astype(np.float64) if kind == "float32" else X,
            y,
            exposure,
            weights,
            alpha,
            result.params,
        ) <= tol * (1 + 1e-6)
        runs[seeded] = (result, objective.n_passes)
    # two points within tol of one strongly convex optimum (curvature >= alpha)
    np.testing.assert_allclose(runs[True][0].params, runs[False][0].params, atol=2 * tol / alpha)
    if kind == "float64":
        assert runs[True][1] < runs[False][1]
