"""Working sets and their Hessians (``sklearn_lnp._solvers._working_set``).

Facts asserted:

* the working set is the support plus the largest violators, at most
  ``size`` features (the support always in), sorted;
* an extended Hessian (held rows kept, rows of new columns computed with the
  held weights) equals the Hessian computed afresh on the new working set
  with those weights, dense and sparse; with fewer than half of the columns
  held there is no extension;
* made from row blocks of the whole dense design (``design=``, no copy of
  the working-set columns), fresh and extended Hessians equal those made
  from the gathered columns, float64 and float32 designs;
* float32 products (large, well-determined Hessians only) agree with
  float64 to float32 round-off, with an exact diagonal, and fall back to
  float64 for values outside float32's range;
* the reuse rule: first step of a warm start, a growing working set right
  after a fresh Hessian, chord steps while the violation falls 10-fold (at
  most 3 steps).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_lnp._passes._memory import weighted_gram
from sklearn_lnp._solvers._working_set import (
    CHORD_MAX_AGE,
    WorkingSetHessian,
    _new_rows,
    choose_working_set,
    single_precision,
)


def test_working_set_is_support_plus_largest_violators():
    coef = np.array([0.0, 1.0, 0.0, 0.0, -2.0, 0.0])
    violation = np.array([0.5, 0.0, 0.1, 0.9, 0.0, 0.0])
    np.testing.assert_array_equal(choose_working_set(coef, violation, 4), [0, 1, 3, 4])
    np.testing.assert_array_equal(choose_working_set(coef, violation, 1), [1, 4])


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_extension_equals_a_fresh_hessian(sparse, fit_intercept):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 12))
    if sparse:
        X[np.abs(X) < 0.8] = 0.0
        X = sp.csc_matrix(X)
    d = rng.uniform(0.1, 1.0, 200) / 200
    held = WorkingSetHessian(fit_intercept)
    held.compute(np.array([1, 3, 4, 7]), X[:, [1, 3, 4, 7]], d)
    ws = np.array([1, 2, 3, 4, 7, 9])
    extended = held.extend(ws, X[:, ws])
    fresh = WorkingSetHessian(fit_intercept).compute(ws, X[:, ws], d)
    # the same products, summed in another order
    np.testing.assert_allclose(extended, fresh, rtol=1e-12, atol=1e-15)
    assert held.age == 1 and not held.fresh and held.n_grams == 1
    assert held.extend(np.array([1, 2, 5, 6, 8]), X[:, [1, 2, 5, 6, 8]]) is None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_row_blocks_of_the_design_equal_gathered_columns(dtype, fit_intercept):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 20)).astype(dtype)
    d = rng.uniform(0.1, 1.0, 300) / 300
    X64 = X.astype(np.float64)  # the float32 values, exactly
    held_ws, ws = np.array([2, 5, 6, 11, 17]), np.array([0, 2, 5, 6, 9, 11, 17])
    by_rows, gathered = WorkingSetHessian(fit_intercept), WorkingSetHessian(fit_intercept)
    # the same products, summed in another order (row blocks, dsyrk vs gemm)
    close = {"rtol": 1e-12, "atol": 1e-15}
    np.testing.assert_allclose(
        by_rows.compute(held_ws, None, d, design=X),
        gathered.compute(held_ws, X64[:, held_ws], d),
        **close,
    )
    np.testing.assert_allclose(
        by_rows.extend(ws, design=X), gathered.extend(ws, X64[:, ws]), **close
    )
    fresh = WorkingSetHessian(fit_intercept).compute(ws, X64[:, ws], d)
    np.testing.assert_allclose(by_rows.extend(ws, design=X), fresh, **close)
    # a chord step on the held columns: the held matrix itself
    np.testing.assert_array_equal(by_rows.extend(held_ws), by_rows.hess)


def test_reuse_rule():
    hessian = WorkingSetHessian()
    ws = np.array([0, 1])
    assert not hessian.reusable(ws, first_step=True, violation=1.0, previous=np.inf)
    hessian.compute(ws, np.ones((5, 2)), np.full(5, 0.2))
    hessian.start()  # a new solve from the held Hessian's point
    assert hessian.reusable(ws, first_step=True, violation=1.0, previous=np.inf)
    assert not hessian.reusable(ws, first_step=False, violation=1.0, previous=5.0)
    assert hessian.reusable(ws, first_step=False, violation=0.1, previous=5.0)  # chord
    hessian.fresh = True
    assert hessian.reusable(np.array([0, 1, 2]), first_step=False, violation=1.0, previous=5.0)
    hessian.fresh, hessian.age = False, CHORD_MAX_AGE
    assert not hessian.reusable(ws, first_step=False, violation=0.1, previous=5.0)


@pytest.mark.parametrize("scale", [1.0, 1e25, 1e-30])
def test_single_precision_products_agree_or_fall_back(scale):
    # float32 products of the Gram matrix and of an extension's new rows:
    # within float32 round-off of the float64 ones, their diagonal exact; a
    # design outside float32's range (squares overflow at 1e25, underflow at
    # 1e-30) is detected by the diagonal check and computed in float64
    # (pytest turns a RuntimeWarning of the overflow into an error).
    rng = np.random.default_rng(2)
    X = rng.standard_normal((500, 30)) * scale
    d = rng.uniform(0.1, 1.0, 500) / 500
    columns = np.array([0, 3, 4, 8, 12, 20, 29])
    exact, border = weighted_gram(X, d, border=True, columns=columns)
    single, single_border = weighted_gram(X, d, border=True, columns=columns, single=True)
    np.testing.assert_array_equal(single_border, border)
    np.testing.assert_allclose(np.diag(single), np.diag(exact), rtol=1e-13)
    # float32 products: relative errors of order 1e-7 of the diagonal's scale
    np.testing.assert_allclose(single, exact, rtol=0, atol=1e-5 * np.abs(exact).max())
    new = np.array([1, 4])
    cross, new_border = _new_rows(X, columns, new, d)
    cross32, new_border32 = _new_rows(X, columns, new, d, single=True)
    np.testing.assert_allclose(cross, exact[new], rtol=1e-12, atol=1e-15 * np.abs(exact).max())
    np.testing.assert_allclose(new_border, border[new], rtol=1e-12)
    np.testing.assert_array_equal(new_border32, new_border)
    np.testing.assert_allclose(cross32, cross, rtol=0, atol=1e-5 * np.abs(exact).max())
    np.testing.assert_allclose(cross32[[0, 1], new], cross[[0, 1], new], rtol=1e-13)


def test_single_precision_only_for_large_well_determined_hessians():
    assert single_precision(20_000, 1291)  # the simulated L1 problem's final working set
    assert not single_precision(1488, 1200)  # the real neuron: n_samples ~ n_features
    assert not single_precision(20_000, 100)  # a small Gram matrix: not worth it
