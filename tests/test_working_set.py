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
* the reuse rule: first step of a warm start, a growing working set right
  after a fresh Hessian, chord steps while the violation falls 10-fold (at
  most 3 steps).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_lnp._solvers._working_set import (
    CHORD_MAX_AGE,
    WorkingSetHessian,
    choose_working_set,
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
