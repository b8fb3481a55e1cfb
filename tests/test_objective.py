"""The Poisson data term for k neurons: value, gradient, Hessian, line restriction, overflow.

Facts asserted:

* the value equals the formula of the module docstring, computed here
  independently with numpy (sample-weighted mean of ``mu - y log mu``,
  ``mu = exposure * exp(X w + b)``), for every neuron (column);
* the gradient and Hessian are the derivatives of that value (finite
  differences), for every combination of exposure, sample weights,
  intercept, float32/float64 and sparse designs;
* the k-neuron objective equals the k single-neuron objectives;
* the fused ``gradient_along`` equals ``value_gradient`` at the moved point,
  and the line restriction's decrease equals the difference of objectives;
* a float32 design gives the float64 objective of the same numbers to ~1e-12;
* no ``RuntimeWarning`` and finite values for any finite linear predictor.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import approx_fprime

from sklearn_lnp._objective import ETA_MAX, PoissonObjective, safe_exp
from sklearn_lnp._passes import sweep_reads
from sklearn_lnp._penalties import L2


def make_problem(n=60, p=5, k=1, *, seed=0, dtype=np.float64, sparse=False):
    """Small Poisson problem with unequal exposure and integer counts; ``y`` 1-d for k = 1."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random((n, p)) < 0.6] = 0.0
    W = rng.standard_normal((p, k)) * 0.4
    exposure = rng.uniform(0.5, 2.0, n)
    Y = rng.poisson(exposure[:, None] * np.exp(X @ W + 0.3)).astype(np.float64)
    sample_weight = rng.uniform(0.0, 3.0, n)
    X = X.astype(dtype)
    if sparse:
        X = sp.csr_matrix(X)
    return X, (Y[:, 0] if k == 1 else Y), exposure, sample_weight


def reference_values(X, Y, exposure, sample_weight, fit_intercept, P):
    """The documented data term of every column, written out directly in float64."""
    X = X.toarray() if sp.issparse(X) else X
    X = np.asarray(X, dtype=np.float64)
    Y = Y.reshape(X.shape[0], -1)
    n = Y.shape[0]
    W, b = (P[:-1], P[-1]) if fit_intercept else (P, 0.0)
    exposure = np.ones(n) if exposure is None else exposure
    s = np.ones(n) if sample_weight is None else sample_weight
    log_mu = X @ W + b + np.log(exposure)[:, None]
    terms = np.exp(log_mu) - Y * log_mu
    return s @ terms / s.sum()


CASES = list(
    itertools.product(
        [False, True],  # exposure
        [False, True],  # sample_weight
        [True, False],  # fit_intercept
        ["float64", "float32", "sparse"],  # design
        [1, 3],  # neurons
    )
)


def _build(case, seed=0):
    use_exposure, use_weight, fit_intercept, design, k = case
    dtype = np.float32 if design == "float32" else np.float64
    X, Y, exposure, sample_weight = make_problem(
        k=k, seed=seed, dtype=dtype, sparse=design == "sparse"
    )
    exposure = exposure if use_exposure else None
    sample_weight = sample_weight if use_weight else None
    objective = PoissonObjective(X, Y, exposure, sample_weight, fit_intercept=fit_intercept)
    rng = np.random.default_rng(seed + 1)
    P = rng.standard_normal((objective.n_params, k)) * 0.3
    return objective, P, (X, Y, exposure, sample_weight, fit_intercept)


def _case_id(case):
    use_exposure, use_weight, fit_intercept, design, k = case
    return (
        f"{'exp' if use_exposure else 'noexp'}-{'sw' if use_weight else 'nosw'}-"
        f"{'int' if fit_intercept else 'noint'}-{design}-k{k}"
    )


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_value_matches_documented_formula(case):
    objective, P, data = _build(case)
    expected = reference_values(*data, P)
    # float64 sums in a different order than numpy's: 1e-12 relative
    np.testing.assert_allclose(objective.value(P), expected, rtol=1e-12)
    values, G, eta = objective.value_gradient(P)
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    assert G.shape == (objective.n_params, objective.n_neurons)
    assert eta.shape == (objective.n_samples, objective.n_neurons)
    again, G_again, _ = objective.value_gradient(P, eta)
    np.testing.assert_allclose(again, values, rtol=1e-14)
    np.testing.assert_allclose(G_again, G, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_gradient_matches_finite_differences(case):
    objective, P, _ = _build(case)
    _, G, _ = objective.value_gradient(P)
    for j in range(objective.n_neurons):

        def value(column, j=j):
            Q = P.copy()
            Q[:, j] = column
            return objective.value(Q)[j]

        # forward differences with step 1e-7: accurate to ~1e-7 |Hessian|
        numeric = approx_fprime(P[:, j], value, 1e-7)
        np.testing.assert_allclose(G[:, j], numeric, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_hessian_matches_finite_differences_of_gradient(case):
    objective, P, _ = _build(case)
    eta = objective.linear_predictor(P)
    for j in range(objective.n_neurons):
        hess = objective.hessian(eta, j)
        assert hess.shape == (objective.n_params, objective.n_params)
        np.testing.assert_array_equal(hess, hess.T)

        def gradient(column, j=j):
            Q = P.copy()
            Q[:, j] = column
            return objective.value_gradient(Q)[1][:, j]

        numeric = approx_fprime(P[:, j], gradient, 1e-7)
        np.testing.assert_allclose(hess, numeric, rtol=1e-4, atol=1e-5)
        # convex: positive semi-definite up to round-off
        assert np.linalg.eigvalsh(hess).min() >= -1e-12 * np.abs(hess).max()
    np.testing.assert_allclose(
        objective.hessian_weights(eta),
        objective.weights[:, None] * np.exp(eta),
        rtol=1e-15,
    )


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_neurons_equal_single_objectives(fit_intercept):
    """Column j of a k-neuron objective is the objective of neuron j alone.

    Matrix-matrix and matrix-vector products sum in different orders:
    values to 1e-12 relative.
    """
    X, Y, exposure, sample_weight = make_problem(n=300, p=20, k=4, seed=2)
    together = PoissonObjective(X, Y, exposure, sample_weight, fit_intercept=fit_intercept)
    P = np.random.default_rng(0).standard_normal((together.n_params, 4)) * 0.1
    values, G, eta = together.value_gradient(P)
    for j in range(4):
        alone = PoissonObjective(X, Y[:, j], exposure, sample_weight, fit_intercept=fit_intercept)
        value, grad, _ = alone.value_gradient(P[:, [j]])
        assert value[0] == pytest.approx(values[j], rel=1e-12)
        np.testing.assert_allclose(grad[:, 0], G[:, j], rtol=1e-10, atol=1e-13)
        view = together.subset([j])
        np.testing.assert_allclose(view.value(P[:, [j]]), value, rtol=1e-12)
        np.testing.assert_allclose(
            alone.hessian(eta, j), alone.hessian(alone.linear_predictor(P[:, [j]])), rtol=1e-12
        )
    # a subset shares X and the pass counters
    view = together.subset([1, 3])
    assert view.X is together.X and view.n_neurons == 2
    before = together.n_passes
    view.linear_predictor(P[:, [1, 3]])
    assert together.n_passes == before + 1


def test_constant_exposure_is_an_intercept_shift():
    """Exposure enters only the linear predictor: exposure c == intercept + log c."""
    X, Y, _, sample_weight = make_problem(k=2)
    c = 0.37
    with_exposure = PoissonObjective(X, Y, np.full(X.shape[0], c), sample_weight)
    plain = PoissonObjective(X, Y, None, sample_weight)
    P = np.random.default_rng(1).standard_normal((plain.n_params, 2)) * 0.2
    shifted = P.copy()
    shifted[-1] += np.log(c)
    a, Ga, _ = with_exposure.value_gradient(P)
    b, Gb, _ = plain.value_gradient(shifted)
    np.testing.assert_allclose(a, b, rtol=1e-13)
    np.testing.assert_allclose(Ga, Gb, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("design", ["float64", "float32", "sparse"])
def test_gradient_along_equals_fresh_evaluation(k, design):
    X, Y, exposure, sample_weight = make_problem(
        n=200,
        p=8,
        k=k,
        seed=4,
        dtype=np.float32 if design == "float32" else np.float64,
        sparse=design == "sparse",
    )
    objective = PoissonObjective(X, Y, exposure, sample_weight)
    rng = np.random.default_rng(5)
    P = rng.standard_normal((objective.n_params, k)) * 0.1
    D = rng.standard_normal((objective.n_params, k)) * 0.05
    steps = np.linspace(0.5, 1.5, k)
    _, _, eta = objective.value_gradient(P)
    before = objective.n_passes
    line, values, G, new_eta = objective.gradient_along(eta, D, steps)
    assert objective.n_passes - before == sweep_reads(X)
    fresh_values, fresh_G, fresh_eta = objective.value_gradient(P + D * steps)
    np.testing.assert_allclose(values, fresh_values, rtol=1e-12)
    np.testing.assert_allclose(G, fresh_G, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(new_eta, fresh_eta, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(line.eta_at(steps), new_eta, rtol=0, atol=1e-14)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("peak", [5.0, ETA_MAX + 3.0])
def test_gradient_along_one_neuron_equals_its_column_of_two(
    fit_intercept, peak, order, monkeypatch
):
    """One neuron's vector sweep computes what the k-neuron array code does.

    Row blocks of 40 samples (a C-ordered design goes to BLAS block by
    block, an F-ordered one is converted block by block).  With ``peak``
    beyond ``ETA_MAX`` one sample needs the continuation of ``exp``: the
    one-neuron sweep then reads ``X`` again with the general row code, and
    neither warns.
    """
    from sklearn_lnp._passes import _memory

    monkeypatch.setattr(_memory, "_SWEEP_WHOLE_BYTES", 0)
    monkeypatch.setattr(_memory, "_SWEEP_BLOCK_BYTES", 8 * 6 * 40)
    monkeypatch.setattr(_memory, "_SWEEP_MATRIX_BLOCK_BYTES", 8 * 6 * 40)
    monkeypatch.setattr(_memory, "_SWEEP_MATRIX_WHOLE_BYTES", 0)
    X, Y, exposure, sample_weight = make_problem(n=200, p=6, k=2, seed=8)
    X = np.asarray(X, order=order)
    rng = np.random.default_rng(9)
    two = PoissonObjective(X, Y, exposure, sample_weight, fit_intercept=fit_intercept)
    one = PoissonObjective(X, Y[:, :1], exposure, sample_weight, fit_intercept=fit_intercept)
    P = rng.standard_normal((two.n_params, 2)) * 0.1
    D = rng.standard_normal((two.n_params, 2)) * 0.05
    _, _, eta = two.value_gradient(P)
    eta[77] = peak - 0.3 * (X[77] @ D[: X.shape[1]] + (D[-1] if fit_intercept else 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        line2, values2, G2, eta2 = two.gradient_along(eta, D, 0.3)
        line1, values1, G1, eta1 = one.gradient_along(eta[:, :1].copy(), D[:, :1], 0.3)
    assert (eta2[77, 0] > ETA_MAX) == (peak > ETA_MAX)
    assert one.n_passes == (2 if peak > ETA_MAX else 1)
    # X D by gemv (one neuron) and gemm (two) sum in different orders
    np.testing.assert_allclose(line1.Z, line2.Z[:, :1], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(eta1, eta2[:, :1], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(values1, values2[:1], rtol=1e-13)
    np.testing.assert_allclose(G1, G2[:, :1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("step", [1.0, 0.7])
@pytest.mark.parametrize(
    "dtype, fast, rtol", [(np.float64, False, 1e-14), (np.float32, True, 1e-6)]
)
def test_one_neuron_sweep_is_the_general_row_code(
    dtype, fast, rtol, step, fit_intercept, monkeypatch
):
    """The vector rows of a one-neuron line step compute what the general rows do.

    Same blocks (of 30 rows), same products, the same operations on each
    entry: the results agree to round-off.  (BLAS may take a different
    kernel for an output vector of another alignment, which sums in
    another order: ~1e-16 in float64, ~1e-7 relative with single-precision
    products, hence ``rtol``.)  Both read ``X`` once.
    """
    from sklearn_lnp._passes import _memory

    monkeypatch.setattr(_memory, "_SWEEP_WHOLE_BYTES", 0)
    monkeypatch.setattr(_memory, "_SWEEP_BLOCK_BYTES", 8 * 6 * 30)
    monkeypatch.setattr(_memory, "_FAST_BLOCK_BYTES", 8 * 6 * 30)
    X, Y, exposure, sample_weight = make_problem(n=200, p=6, k=1, seed=10, dtype=dtype)
    vector = PoissonObjective(X, Y, exposure, sample_weight, fit_intercept=fit_intercept)
    general = PoissonObjective(X, Y, exposure, sample_weight, fit_intercept=fit_intercept)
    monkeypatch.setattr(general, "_along_one", lambda *args: None)
    rng = np.random.default_rng(11)
    P = rng.standard_normal((vector.n_params, 1)) * 0.1
    D = rng.standard_normal((vector.n_params, 1)) * 0.05
    _, _, eta = general.value_gradient(P)
    general.n_passes = 0
    _, values_v, G_v, eta_v = vector.gradient_along(eta, D, step, fast=fast)
    line, values_g, G_g, eta_g = general.gradient_along(eta, D, step, fast=fast)
    assert vector.n_passes == general.n_passes == 1
    np.testing.assert_allclose(eta_v, eta_g, rtol=rtol, atol=rtol * 1e-3)
    np.testing.assert_allclose(values_v, values_g, rtol=rtol)
    np.testing.assert_allclose(G_v, G_g, rtol=rtol, atol=rtol * 1e-3)
    np.testing.assert_allclose(line.eta_at(step), eta_g, rtol=1e-12, atol=1e-14)


def test_dask_and_in_memory_line_steps_agree():
    """A dask design's one-neuron line step equals the in-memory one to round-off.

    The same arithmetic per row; dask sums its chunks' products in another
    order, hence tolerances of a few ulps.
    """
    da = pytest.importorskip("dask.array")
    X, Y, exposure, sample_weight = make_problem(n=200, p=6, k=1, seed=12)
    memory = PoissonObjective(X, Y, exposure, sample_weight)
    chunked = PoissonObjective(da.from_array(X, chunks=(50, -1)), Y, exposure, sample_weight)
    rng = np.random.default_rng(13)
    P = rng.standard_normal((memory.n_params, 1)) * 0.1
    D = rng.standard_normal((memory.n_params, 1)) * 0.05
    _, _, eta = memory.value_gradient(P)
    _, values_m, G_m, eta_m = memory.gradient_along(eta, D, 0.6)
    _, values_c, G_c, eta_c = chunked.gradient_along(eta, D, 0.6)
    np.testing.assert_allclose(eta_m, eta_c, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(values_m, values_c, rtol=1e-13)
    np.testing.assert_allclose(G_m, G_c, rtol=1e-12, atol=1e-15)


@pytest.mark.slow
def test_l2_fits_do_not_load_numba(tmp_path):
    """L2 fits, of an in-memory or a dask design, never import numba.

    numba (about 0.4 s and 100 MiB of resident memory on first use) is
    loaded by the lasso's coordinate descent only.  Run in a fresh
    interpreter: numba may already be loaded in this one.
    """
    import subprocess
    import sys

    script = tmp_path / "fit.py"
    script.write_text(
        "import sys\n"
        "import numpy as np\n"
        "import dask.array as da\n"
        "from sklearn_lnp import PoissonLNPRegressor\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.standard_normal((2000, 200))\n"
        "y = rng.poisson(np.exp(0.2 * X[:, 0] - 1.0)).astype(float)\n"
        "PoissonLNPRegressor(alpha=1e-3).fit(da.from_array(X, chunks=(500, -1)), y)\n"
        "assert 'numba' not in sys.modules, 'dask'\n"
        "PoissonLNPRegressor(alpha=1e-3).fit(X, y)\n"
        "PoissonLNPRegressor(alpha=1e-3).fit(X.astype(np.float32), y)\n"
        "assert 'numba' not in sys.modules, 'in memory'\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("k", [1, 3])
def test_line_restriction_is_the_objective_along_the_line(k):
    """phi(t) = F(P + t D) - F(P) (penalty included), phi' and phi'' its derivatives."""
    X, Y, exposure, sample_weight = make_problem(n=200, p=8, k=k, seed=6)
    objective = PoissonObjective(X, Y, exposure, sample_weight)
    penalty = L2(np.linspace(0.1, 0.5, k))
    rng = np.random.default_rng(7)
    P = rng.standard_normal((objective.n_params, k)) * 0.1
    D = rng.standard_normal((objective.n_params, k)) * 0.1
    _, G, eta = objective.value_gradient(P)
    W, dW = objective.split(P)[0], objective.split(D)[0]
    line = objective.line_restriction(
        eta, objective.direction_predictor(D), penalty.line_terms(W, dW)
    )

    def total(t):
        Q = P + t * D
        return objective.value(Q) + penalty.value(objective.split(Q)[0])

    slope = np.einsum("ij,ij->j", G, D) + np.einsum("ij,ij->j", penalty.gradient(W), dW)
    np.testing.assert_allclose(line.slope, slope, rtol=1e-12)
    for t in (0.3, 1.0, 2.5):
        value, first, second = line(np.full(k, t))
        # a difference of O(1) objectives: 1e-13 absolute
        np.testing.assert_allclose(value, total(t) - total(0.0), rtol=0, atol=1e-13)
        h = 1e-6
        np.testing.assert_allclose(first, (total(t + h) - total(t - h)) / (2 * h), rtol=1e-6)
        numeric = (line(np.full(k, t + h))[1] - line(np.full(k, t - h))[1]) / (2 * h)
        np.testing.assert_allclose(second, numeric, rtol=1e-6)
    # one column at a time gives the same numbers
    value, first, _ = line(np.array([0.7]), np.array([k - 1]), second=False)
    np.testing.assert_allclose(value, line(np.full(k, 0.7))[0][k - 1 :], rtol=1e-14)


def test_line_restriction_terms_may_be_deferred_and_columns_are_views():
    """Callable terms (evaluated on first use) and all-column indices give the same numbers."""
    X, Y, exposure, sample_weight = make_problem(n=150, p=6, k=3, seed=9)
    objective = PoissonObjective(X, Y, exposure, sample_weight)
    penalty = L2([0.2, 0.0, 1.0])
    rng = np.random.default_rng(10)
    P = rng.standard_normal((objective.n_params, 3)) * 0.1
    D = rng.standard_normal((objective.n_params, 3)) * 0.1
    eta = objective.linear_predictor(P)
    Z = objective.direction_predictor(D)
    W, dW = objective.split(P)[0], objective.split(D)[0]
    calls = []

    def deferred():
        calls.append(1)
        return penalty.line_terms(W, dW)

    eager = objective.line_restriction(eta, Z, penalty.line_terms(W, dW))
    lazy = objective.line_restriction(eta, Z, deferred)
    assert not calls
    t = np.array([0.5, 1.0, 2.0])
    for a, b in zip(eager(t), lazy(t, np.arange(3)), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(calls) == 1
    np.testing.assert_array_equal(lazy.eta_at(t, np.arange(3)), eta + Z * t)
    np.testing.assert_array_equal(lazy.eta_at(t[1:], np.array([1, 2])), (eta + Z * t)[:, 1:])
    # one column: the single-column dot gives the einsum's numbers
    terms = penalty.subset([2]).line_terms(W[:, 2:], dW[:, 2:])
    single = objective.subset([2]).line_restriction(eta[:, 2:], Z[:, 2:], lambda: terms)
    for a, b in zip(single(t[2:]), eager(t[2:], np.array([2])), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-17)


def test_vectorised_line_search_equals_searches_one_neuron_at_a_time():
    """Neurons that finish early leave the search; the others' steps are unchanged.

    ``search_one`` (one column, on its vectors) takes the same steps; an
    ascent direction gets none.
    """
    from sklearn_lnp._solvers._line_search import line_search, search_one

    X, Y, exposure, sample_weight = make_problem(n=300, p=6, k=5, seed=11)
    objective = PoissonObjective(X, Y, exposure, sample_weight)
    P = objective.initial_params()
    _, G, eta = objective.value_gradient(P)
    # steps of very different quality: some accepted at once, some searched long
    D = -G * np.array([1.0, 30.0, 1e-3, 300.0, -1.0])
    line = objective.line_restriction(eta, objective.direction_predictor(D))
    for curvature in (0.1, 0.9):
        together = line_search(line, 1.0, curvature=curvature)
        alone = [line_search(line, 1.0, np.array([j]), curvature=curvature)[0] for j in range(5)]
        one = [search_one(line, 1.0, j, curvature) for j in range(5)]
        np.testing.assert_allclose(together, alone, rtol=1e-12)  # one column: dot, not einsum
        np.testing.assert_array_equal(alone, one)
        assert np.all(together[:4] > 0) and together[4] == 0.0
        for j in range(4):
            # sufficient decrease, and |phi'| within the bound unless the step
            # is short of the minimiser (phi' < 0: kept, not extended)
            value, first, _ = line.at(one[j], j)
            slope = float(line.slope[j])
            assert value <= 1e-4 * one[j] * slope
            assert abs(first) <= curvature * abs(slope) or first < 0


def test_one_column_at_a_step_is_that_column_of_the_vectorised_restriction():
    """``line.at(t, j)`` (Python floats) is column ``j`` of ``line(t)``, on both branches.

    The plain branch (``expm1``) and the continuation of ``exp`` (a step far
    along a large ``Z``); one-column reductions are BLAS dots where the
    vectorised ones are einsums, so equal to round-off (rtol 1e-13).
    """
    X, Y, exposure, sample_weight = make_problem(n=250, p=7, k=3, seed=12)
    objective = PoissonObjective(X, Y, exposure, sample_weight)
    penalty = L2([0.0, 0.3, 2.0])
    P = objective.initial_params()
    _, G, eta = objective.value_gradient(P)
    D = -G * np.array([1.0, 5.0, 0.2])
    W, dW = objective.split(P)[0], objective.split(D)[0]
    line = objective.line_restriction(
        eta, objective.direction_predictor(D), penalty.line_terms(W, dW)
    )
    top = np.abs(line.Z).max()
    for t in (0.0, 0.3, 1.0, -0.5, 2.5 * ETA_MAX / top):
        value, first, second = line(t)
        for j in range(3):
            one = line.at(t, j)
            assert all(isinstance(x, float) for x in one)
            np.testing.assert_allclose(one, (value[j], first[j], second[j]), rtol=1e-13)
            assert line.at(t, j, second=False)[2] is None
    # the last step takes the continuation of exp: finite, and phi grows
    assert (
        np.isfinite(line.at(2.5 * ETA_MAX / top, 1)[0]) and line.at(2.5 * ETA_MAX / top, 1)[0] > 0
    )


def test_weights_of_one_neuron_are_its_column_of_the_population_weights():
    X, Y, exposure, sample_weight = make_problem(n=120, p=5, k=2, seed=14)
    objective = PoissonObjective(X, Y, exposure, sample_weight)
    one = objective.subset([1])
    eta = objective.linear_predictor(objective.initial_params() + 0.1)
    eta[3, 1] = ETA_MAX + 5.0  # the continuation of exp on one sample
    np.testing.assert_array_equal(
        one.gradient_weights(eta[:, 1]), objective.gradient_weights(eta)[:, 1]
    )
    np.testing.assert_array_equal(
        one.hessian_weights(eta[:, 1]), objective.hessian_weights(eta)[:, 1]
    )
    # and they are the gradient: X.T r is G[:p]
    _, G, _ = one.value_gradient(objective.initial_params()[:, [1]] + 0.1)
    r = one.gradient_weights(one.linear_predictor(objective.initial_params()[:, [1]] + 0.1)[:, 0])
    np.testing.assert_allclose(X.T @ r, G[:-1, 0], rtol=1e-12, atol=1e-12)


def test_line_restriction_resolves_decreases_below_round_off_of_the_objective():
    """expm1: a decrease of ~1e-20 is computed with its own relative accuracy."""
    X, Y, exposure, _ = make_problem(n=200, p=8, seed=8)
    objective = PoissonObjective(X, Y, exposure)
    P = objective.initial_params()
    _, G, eta = objective.value_gradient(P)
    D = -G * 1e-10
    line = objective.line_restriction(eta, objective.direction_predictor(D))
    value = line(1.0)[0]
    # quadratic model: phi(1) = slope + curvature / 2, both known accurately
    model = line.slope + 0.5 * line.curvature0
    assert value[0] < 0
    np.testing.assert_allclose(value, model, rtol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_equals_dense(fit_intercept):
    Xs, Y, exposure, sample_weight = make_problem(sparse=True, k=2)
    dense = PoissonObjective(Xs.toarray(), Y, exposure, sample_weight, fit_intercept=fit_intercept)
    P = np.linspace(-0.5, 0.5, dense.n_params * 2).reshape(-1, 2)
    values, G, eta = dense.value_gradient(P)
    for X in (Xs, sp.csc_matrix(Xs)):
        sparse = PoissonObjective(X, Y, exposure, sample_weight, fit_intercept=fit_intercept)
        sparse_values, sparse_G, _ = sparse.value_gradient(P)
        np.testing.assert_allclose(sparse_values, values, rtol=1e-14)
        np.testing.assert_allclose(sparse_G, G, rtol=1e-12)
        np.testing.assert_allclose(sparse.hessian(eta, 1), dense.hessian(eta, 1), rtol=1e-12)


def test_float32_design_gives_float64_objective():
    """float32 X is accumulated in float64: same numbers, same objective to ~1e-12.

    The design spans several row blocks of the products, so that every block
    is converted and summed; single-precision (``fast``) products are within
    ~1e-6 relative.
    """
    rng = np.random.default_rng(3)
    n, p = 6000, 60
    X32 = rng.standard_normal((n, p)).astype(np.float32)
    X64 = X32.astype(np.float64)  # exactly the same numbers
    Y = rng.poisson(np.exp(X64 @ (rng.standard_normal((p, 2)) * 0.1))).astype(np.float64)
    exposure = rng.uniform(0.1, 0.3, n)
    P = rng.standard_normal((p + 1, 2)) * 0.1
    obj32 = PoissonObjective(X32, Y, exposure)
    obj64 = PoissonObjective(X64, Y, exposure)
    v32, g32, eta = obj32.value_gradient(P)
    v64, g64, _ = obj64.value_gradient(P)
    np.testing.assert_allclose(v32, v64, rtol=1e-12)
    np.testing.assert_allclose(g32, g64, rtol=1e-10, atol=1e-13 * np.abs(g64).max())
    np.testing.assert_allclose(obj32.hessian(eta, 1), obj64.hessian(eta, 1), rtol=1e-10, atol=1e-13)
    fast_values, fast_G, _ = obj32.value_gradient(P, fast=True)
    np.testing.assert_allclose(fast_values, v64, rtol=1e-5)
    np.testing.assert_allclose(fast_G, g64, rtol=0, atol=1e-5 * np.abs(g64).max())
    assert obj32.X is X32  # used as given, not converted


def test_zero_sample_weight_equals_dropping_rows_and_scale_invariance():
    X, Y, exposure, sample_weight = make_problem(k=2)
    sample_weight[::3] = 0.0
    keep = sample_weight > 0
    full = PoissonObjective(X, Y, exposure, sample_weight)
    sub = PoissonObjective(X[keep], Y[keep], exposure[keep], sample_weight[keep])
    scaled = PoissonObjective(X, Y, exposure, 7.5 * sample_weight)
    P = np.linspace(-0.3, 0.4, full.n_params * 2).reshape(-1, 2)
    values, G, _ = full.value_gradient(P)
    sub_values, sub_G, _ = sub.value_gradient(P)
    np.testing.assert_allclose(values, sub_values, rtol=1e-13)
    np.testing.assert_allclose(G, sub_G, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(scaled.value(P), values, rtol=1e-14)


@pytest.mark.parametrize("use_exposure", [False, True])
@pytest.mark.parametrize("use_weight", [False, True])
def test_initial_params_is_intercept_only_optimum(use_exposure, use_weight):
    X, Y, exposure, sample_weight = make_problem(k=3)
    objective = PoissonObjective(
        X, Y, exposure if use_exposure else None, sample_weight if use_weight else None
    )
    P = objective.initial_params()
    assert P.shape == (objective.n_params, 3)
    assert np.all(P[:-1] == 0)
    # d F / d b = sum_t s_t (mu_t - y_t) / sum s = 0 at the best constant rate.
    assert np.all(np.abs(objective.value_gradient(P)[1][-1]) < 1e-14)
    no_intercept = PoissonObjective(X, Y, fit_intercept=False)
    assert np.all(no_intercept.initial_params() == 0)
    assert no_intercept.initial_params().shape == (X.shape[1], 3)


def test_split_join_and_pass_counts():
    X, Y, _, _ = make_problem(p=3, k=2)
    with_b = PoissonObjective(X, Y)
    P = np.arange(8.0).reshape(4, 2)
    W, b = with_b.split(P)
    assert W.tolist() == [[0, 1], [2, 3], [4, 5]] and b.tolist() == [6, 7]
    np.testing.assert_array_equal(with_b.join(W, b), P)
    without_b = PoissonObjective(X, Y, fit_intercept=False)
    W, b = without_b.split(P[:3])
    assert W.shape == (3, 2) and b.tolist() == [0, 0]
    # passes: the fused gradient reads X once (twice when swept whole), a
    # gradient at a known eta once, and zero weights need no X @ W
    _, _, eta = with_b.value_gradient(P)
    assert with_b.n_passes == sweep_reads(X)
    with_b.value_gradient(P, eta)
    assert with_b.n_passes == sweep_reads(X) + 1
    with_b.value_gradient(with_b.initial_params())
    assert with_b.n_passes == sweep_reads(X) + 2
    with_b.hessian(eta, 0)
    assert with_b.n_grams == 1


# -- overflow safety ----------------------------------------------------------

finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(eta=arrays(np.float64, st.integers(1, 20), elements=finite_floats))
def test_safe_exp_finite_and_silent_for_any_finite_input(eta):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, first, second = safe_exp(eta)
    for out in (value, first, second):
        assert out.shape == eta.shape
        assert np.all(np.isfinite(out))
        assert np.all(out >= 0)
    # Exactly exp below the threshold; convex, increasing continuation above.
    below = eta <= ETA_MAX
    np.testing.assert_array_equal(value[below], np.exp(eta[below]))
    assert np.all(value[~below] >= np.exp(ETA_MAX))
    assert np.all(first[~below] >= np.exp(ETA_MAX))


def test_safe_exp_continuation_is_c2_at_threshold():
    """Value, slope and curvature are continuous at ETA_MAX (Taylor continuation)."""
    h = 1e-9
    lo = safe_exp(np.array([ETA_MAX - h]))
    hi = safe_exp(np.array([ETA_MAX + h]))
    for a, b in zip(lo, hi, strict=True):
        assert b[0] == pytest.approx(a[0], rel=1e-7)
    eta = np.array([ETA_MAX + 3.0])
    step = 1e-6
    numeric = (safe_exp(eta + step)[0] - safe_exp(eta - step)[0]) / (2 * step)
    assert safe_exp(eta)[1][0] == pytest.approx(numeric[0], rel=1e-6)


@settings(max_examples=150, deadline=None)
@given(
    X=arrays(np.float64, (8, 3), elements=st.floats(-10, 10)),
    P=arrays(np.float64, (4, 2), elements=st.floats(-1e300, 1e300)),
    D=arrays(np.float64, (4, 2), elements=st.floats(-1e3, 1e3)),
    Y=arrays(np.float64, (8, 2), elements=st.floats(0, 1e6)),
    log_exposure=arrays(np.float64, 8, elements=st.floats(-30, 30)),
    use_weight=st.booleans(),
)
@pytest.mark.slow
def test_objective_finite_and_silent_for_huge_and_tiny_linear_predictors(
    X, P, D, Y, log_exposure, use_weight
):
    """Any finite parameters: linear predictors from -1e302 to 1e302, no warning."""
    sample_weight = np.linspace(0.5, 2.0, 8) if use_weight else None
    objective = PoissonObjective(X, Y, np.exp(log_exposure), sample_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values, G, eta = objective.value_gradient(P)
        hess = objective.hessian(eta, 1)
        line, moved, G_moved, _ = objective.gradient_along(eta, D, 1.0)
        phi = line(np.ones(2))
    for out in (values, G, hess, moved, G_moved, *phi):
        assert np.all(np.isfinite(out))


@pytest.mark.parametrize("k", [1, 3])
def test_dask_design_equals_in_memory(k):
    """Row-chunked dask design: the same passes per chunk, same numbers to round-off."""
    da = pytest.importorskip("dask.array")
    X, Y, exposure, sample_weight = make_problem(n=3000, p=20, k=k, seed=9)
    memory = PoissonObjective(X, Y, exposure, sample_weight)
    chunked = PoissonObjective(da.from_array(X, chunks=(700, 20)), Y, exposure, sample_weight)
    rng = np.random.default_rng(10)
    P = rng.standard_normal((memory.n_params, k)) * 0.05
    D = rng.standard_normal((memory.n_params, k)) * 0.01
    values, G, eta = memory.value_gradient(P)
    chunk_values, chunk_G, _ = chunked.value_gradient(P)
    # chunk partial sums are added in another order: 1e-13 relative
    np.testing.assert_allclose(chunk_values, values, rtol=1e-13)
    np.testing.assert_allclose(chunk_G, G, rtol=1e-10, atol=1e-14)
    _, moved, G_moved, _ = memory.gradient_along(eta, D)
    _, chunk_moved, chunk_G_moved, _ = chunked.gradient_along(eta, D)
    np.testing.assert_allclose(chunk_moved, moved, rtol=1e-13)
    np.testing.assert_allclose(chunk_G_moved, G_moved, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(chunked.hessian(eta, k - 1), memory.hessian(eta, k - 1), rtol=1e-12)
