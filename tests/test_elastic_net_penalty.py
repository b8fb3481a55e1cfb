"""The ``ElasticNet`` penalty object: its parts, prox, KKT violation and ``alpha_max``.

Facts asserted:

* the value is ``alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)``, the
  sum of its ``L1`` and ``L2`` parts; at ``l1_ratio = 1`` every method is
  the ``L1`` penalty's;
* ``gradient`` is the derivative of the smooth part (finite differences),
  ``add_smooth_hessian`` adds its second derivative to a copy and leaves the
  given Hessian alone; ``change`` is ``value(W_new) - value(W)``;
* ``prox`` solves its minimisation problem: the subgradient optimality of
  its point is 0 (``kkt_violation``) and no nearby point is better;
* ``alpha_max`` is the smallest alpha at which ``w = 0`` satisfies the KKT
  conditions;
* per-neuron ``alpha`` and ``l1_ratio`` broadcast, validate and subset.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_lnp._penalties import L1, L2, ElasticNet

moderate = st.floats(-10, 10, allow_nan=False)
strengths = arrays(np.float64, 3, elements=st.floats(0, 5, allow_nan=False))
ratios = arrays(np.float64, 3, elements=st.floats(0.01, 1.0, allow_nan=False))


@settings(max_examples=50, deadline=None)
@given(W=arrays(np.float64, (4, 3), elements=moderate), alpha=strengths, ratio=ratios)
def test_value_is_the_sum_of_the_two_parts(W, alpha, ratio):
    penalty = ElasticNet(alpha, ratio)
    expected = alpha * (ratio * np.abs(W).sum(axis=0) + (1 - ratio) / 2 * (W**2).sum(axis=0))
    # sums of up to 8 terms of size <= 5 * 100: round-off relative to the largest term
    np.testing.assert_allclose(penalty.value(W), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(penalty.thresholds(3), alpha * ratio)


@settings(max_examples=50, deadline=None)
@given(W=arrays(np.float64, (4, 3), elements=moderate), alpha=strengths, ratio=ratios)
def test_gradient_is_the_derivative_of_the_smooth_part(W, alpha, ratio):
    penalty = ElasticNet(alpha, ratio)
    G = penalty.gradient(W)
    h = 1e-6
    for i in range(W.shape[0]):
        E = np.zeros_like(W)
        E[i] = h
        numeric = (penalty.l2.value(W + E) - penalty.l2.value(W - E)) / (2 * h)
        # a quadratic: central differences exact up to round-off of |value| / h
        np.testing.assert_allclose(G[i], numeric, rtol=1e-6, atol=1e-6 * (1 + np.abs(W).max()))


def test_smooth_hessian_is_added_to_a_copy():
    penalty = ElasticNet([1.0, 2.0], [0.5, 0.25])
    hessian = np.arange(16.0).reshape(4, 4)
    kept = hessian.copy()
    out = penalty.add_smooth_hessian(hessian, 3, neuron=1)  # intercept row 3 not penalised
    np.testing.assert_array_equal(hessian, kept)
    np.testing.assert_array_equal(out - kept, np.diag([1.5, 1.5, 1.5, 0.0]))
    # no smooth part: the very array (nothing to add, nothing copied)
    assert ElasticNet(1.0, 1.0).add_smooth_hessian(hessian, 3) is hessian
    assert L1(1.0).add_smooth_hessian(hessian, 3) is hessian


@settings(max_examples=50, deadline=None)
@given(
    W=arrays(np.float64, (5, 3), elements=moderate),
    D=arrays(np.float64, (5, 3), elements=moderate),
    alpha=strengths,
    ratio=ratios,
)
@pytest.mark.slow
def test_change_is_the_difference_of_values(W, D, alpha, ratio):
    penalty = ElasticNet(alpha, ratio)
    expected = penalty.value(W + D) - penalty.value(W)
    scale = float(np.max(1 + penalty.value(W + D) + penalty.value(W)))
    np.testing.assert_allclose(penalty.change(W, W + D), expected, rtol=0, atol=1e-12 * scale)


@settings(max_examples=50, deadline=None)
@given(
    W=arrays(np.float64, (5, 3), elements=moderate),
    alpha=strengths,
    ratio=ratios,
    step=st.floats(0.01, 10),
)
def test_prox_solves_its_problem(W, alpha, ratio, step):
    penalty = ElasticNet(alpha, ratio)
    V = penalty.prox(W, step)
    # optimality of v: (v - w) / step is the gradient of the quadratic term,
    # which must cancel the penalty's subgradient
    violation = penalty.kkt_violation(V, (V - W) / step)
    assert np.max(violation) <= 1e-9 * (1 + np.abs(W).max() / step)

    def objective(U):
        return penalty.value(U) + ((U - W) ** 2).sum(axis=0) / (2 * step)

    rng = np.random.default_rng(0)
    for _ in range(20):
        U = V + 1e-3 * rng.standard_normal(V.shape)
        assert np.all(objective(U) >= objective(V) - 1e-12 * (1 + objective(V)))


@settings(max_examples=50, deadline=None)
@given(
    W=arrays(np.float64, (4, 2), elements=moderate), G=arrays(np.float64, (4, 2), elements=moderate)
)
def test_l1_ratio_one_is_the_lasso(W, G):
    lasso, net = L1([0.3, 2.0]), ElasticNet([0.3, 2.0], 1.0)
    np.testing.assert_array_equal(net.value(W), lasso.value(W))
    np.testing.assert_array_equal(net.prox(W, 0.7), lasso.prox(W, 0.7))
    np.testing.assert_array_equal(net.kkt_violation(W, G), lasso.kkt_violation(W, G))
    np.testing.assert_array_equal(net.change(W, G), lasso.change(W, G))
    np.testing.assert_array_equal(net.alpha_max(G), L1.alpha_max(G))


@settings(max_examples=50, deadline=None)
@given(G=arrays(np.float64, (6, 2), elements=moderate), ratio=st.floats(0.01, 1.0))
def test_alpha_max_is_where_zero_becomes_optimal(G, ratio):
    top = ElasticNet(1.0, ratio).alpha_max(G)
    zero = np.zeros_like(G)
    # the smooth part's gradient vanishes at 0: the L1 test at alpha * l1_ratio
    assert np.all(ElasticNet(top, ratio).kkt_violation(zero, G) <= 1e-12 * (1 + np.abs(G).max()))
    smaller = top * (1 - 1e-6)
    # (a subnormal alpha_max, e.g. from G of 5e-324, has no smaller neighbour that close)
    if np.all(top > 0) and np.all(smaller < top):
        below = ElasticNet(smaller, ratio).kkt_violation(zero, G)
        assert np.all(np.max(below, axis=0) > 0)


def test_per_neuron_strengths_subset_and_repr():
    penalty = ElasticNet(2.0, [0.5, 1.0, 0.25])
    np.testing.assert_array_equal(penalty.strengths(3), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(penalty.thresholds(3), [1.0, 2.0, 0.5])
    sub = penalty.subset([2])
    assert isinstance(sub, ElasticNet)
    np.testing.assert_array_equal(sub.l1_ratio, [0.25])
    W = np.ones((2, 3))
    np.testing.assert_array_equal(sub.value(W[:, 2:]), penalty.value(W)[2:])
    assert repr(penalty) == "ElasticNet(alpha=2.0, l1_ratio=[0.5, 1.0, 0.25])"
    assert isinstance(penalty.l2, L2)
    with pytest.raises(ValueError, match="one value per neuron"):
        penalty.strengths(2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"l1_ratio": 0.0}, r"l1_ratio must be in \(0, 1\].*pure L2"),
        ({"l1_ratio": 1.5}, r"l1_ratio must be in \(0, 1\]"),
        ({"l1_ratio": np.nan}, "l1_ratio must be finite"),
        ({"l1_ratio": [[0.5]]}, "l1_ratio must be a scalar or one value per neuron"),
        ({"alpha": [1.0, 2.0], "l1_ratio": [0.5, 0.5, 0.5]}, "one value per neuron, as alpha"),
        ({"alpha": -1.0}, "alpha must be finite and non-negative"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ElasticNet(**{"alpha": 1.0, **kwargs})
