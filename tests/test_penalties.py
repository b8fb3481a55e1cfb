"""Penalties as objects: L2 derivatives and line terms, L1 prox, KKT and alpha_max.

Facts asserted:

* ``L2.gradient`` is the derivative of ``L2.value`` (finite differences) and
  ``add_to_hessian`` adds its second derivative;
* ``L2.line_terms`` give ``pen(W + t D) - pen(W)`` exactly (a quadratic);
* ``L1.prox`` solves its minimisation problem (subgradient optimality and
  no better point nearby), ``kkt_violation`` is 0 exactly at optima of
  ``g . w + alpha |w|``-type problems, ``alpha_max`` is the smallest alpha
  at which zero is optimal;
* per-neuron strengths broadcast, validate and subset.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_lnp._penalties import L1, L2, ElasticNet, Quadratic

moderate = st.floats(-10, 10, allow_nan=False)
strengths = arrays(np.float64, 3, elements=st.floats(0, 5, allow_nan=False))


@settings(max_examples=50, deadline=None)
@given(W=arrays(np.float64, (4, 3), elements=moderate), alpha=strengths)
def test_l2_gradient_is_derivative_of_value(W, alpha):
    penalty = L2(alpha)
    G = penalty.gradient(W)
    h = 1e-6
    for i in range(W.shape[0]):
        E = np.zeros_like(W)
        E[i] = h
        numeric = (penalty.value(W + E) - penalty.value(W - E)) / (2 * h)
        # a quadratic: central differences exact up to round-off of |value|
        np.testing.assert_allclose(G[i], numeric, rtol=1e-6, atol=1e-6 * (1 + np.abs(W).max()))


def test_l2_hessian_adds_alpha_on_the_coefficients_only():
    penalty = L2([0.5, 2.0])
    H = np.zeros((4, 4))
    penalty.add_to_hessian(H, 3, neuron=1)
    np.testing.assert_array_equal(H, np.diag([2.0, 2.0, 2.0, 0.0]))
    scalar = np.zeros((3, 3))
    L2(0.25).add_to_hessian(scalar, 3)
    np.testing.assert_array_equal(scalar, 0.25 * np.eye(3))


@settings(max_examples=50, deadline=None)
@given(
    W=arrays(np.float64, (4, 3), elements=moderate),
    D=arrays(np.float64, (4, 3), elements=moderate),
    alpha=strengths,
    t=st.floats(-3, 3, allow_nan=False),
)
def test_l2_line_terms_are_exact(W, D, alpha, t):
    penalty = L2(alpha)
    c1, c2 = penalty.line_terms(W, D)
    change = penalty.value(W + t * D) - penalty.value(W)
    # the two sides are the same quadratic summed in different orders
    scale = 1.0 + penalty.value(W) + penalty.value(W + t * D)
    assert np.all(np.abs(c1 * t + 0.5 * c2 * t * t - change) <= 1e-12 * scale)


def test_l2_value_is_zero_without_strength_even_when_w_overflows():
    W = np.full((2, 2), 1e200)
    np.testing.assert_array_equal(L2([0.0, 0.0]).value(W), [0.0, 0.0])
    c1, c2 = L2(0.0).line_terms(W, W)
    np.testing.assert_array_equal(c1, 0.0)
    np.testing.assert_array_equal(c2, 0.0)


@settings(max_examples=100, deadline=None)
@given(
    W=arrays(np.float64, (5, 3), elements=moderate),
    alpha=strengths,
    step=st.floats(0.01, 10),
)
def test_l1_prox_is_the_minimiser(W, alpha, step):
    """v = prox(W): 0 in (v - W) / step + alpha d|v| per entry, and no better point."""
    penalty = L1(alpha)
    V = penalty.prox(W, step)
    residual = (V - W) / step
    # subgradient: -residual = alpha sign(v) where v != 0, |residual| <= alpha at 0
    scale = 1e-12 * (1 + np.abs(W).max() / step)
    nonzero = V != 0
    expected = -np.broadcast_to(alpha, W.shape) * np.sign(V)
    np.testing.assert_allclose(residual[nonzero], expected[nonzero], rtol=0, atol=scale)
    assert np.all(np.abs(residual[~nonzero]) <= np.broadcast_to(alpha, W.shape)[~nonzero] + scale)

    def objective(U):
        return penalty.value(U) + ((U - W) ** 2).sum(axis=0) / (2 * step)

    rng = np.random.default_rng(0)
    for _ in range(5):
        nearby = V + rng.normal(scale=1e-3, size=V.shape)
        assert np.all(objective(V) <= objective(nearby) + 1e-12 * (1 + objective(V)))


def test_l1_kkt_violation_and_alpha_max():
    penalty = L1(np.array([0.5, 1.0]))
    W = np.array([[0.0, 2.0], [0.0, -1.0], [1.0, 0.0]])
    G = np.array([[0.7, -1.0], [-0.2, 1.0], [-0.5, 3.0]])
    expected = np.array(
        [
            [0.2, 0.0],  # zero weight, |g| - alpha
            [0.0, 0.0],  # g = alpha sign(w)
            [0.0, 2.0],  # w > 0: |g + alpha|;  w = 0: |g| - alpha
        ]
    )
    np.testing.assert_allclose(penalty.kkt_violation(W, G), expected, rtol=0, atol=1e-15)
    G0 = np.array([[0.3, -2.0], [-0.4, 0.5]])
    alpha_max = L1.alpha_max(G0)
    np.testing.assert_array_equal(alpha_max, [0.4, 2.0])
    # at alpha_max zero weights are optimal; just below they are not
    zero = np.zeros_like(G0)
    assert np.all(L1(alpha_max).kkt_violation(zero, G0) == 0)
    assert np.all(L1(alpha_max * (1 - 1e-9)).kkt_violation(zero, G0).max(axis=0) > 0)


def test_l1_change_is_the_difference_of_values():
    penalty = L1([1.0, 0.5])
    W = np.array([[1.0, -2.0], [0.0, 3.0]])
    V = np.array([[0.5, 0.0], [-1.0, 3.0]])
    np.testing.assert_allclose(
        penalty.change(W, V), penalty.value(V) - penalty.value(W), rtol=1e-15
    )


def test_strengths_validate_broadcast_and_subset():
    assert L2(0.3).strengths(3).tolist() == [0.3, 0.3, 0.3]
    per_neuron = L2([0.1, 0.2, 0.3])
    assert per_neuron.strengths(3).tolist() == [0.1, 0.2, 0.3]
    with pytest.raises(ValueError, match="one value per neuron"):
        per_neuron.strengths(2)
    assert per_neuron.subset([0, 2]).alpha.tolist() == [0.1, 0.3]
    assert isinstance(per_neuron.subset([1]), L2)
    with pytest.raises(ValueError, match="non-negative"):
        L1(-1.0)
    with pytest.raises(ValueError, match="scalar"):
        L2(np.ones((2, 2)))
    assert repr(L1(0.5)) == "L1(alpha=0.5)"


@pytest.mark.parametrize(
    "make",
    [
        L2,
        L1,
        lambda alpha: Quadratic(alpha, np.array([[2.0, -1.0], [-1.0, 2.0]])),
        lambda alpha: ElasticNet(alpha, 0.5),
    ],
    ids=["L2", "L1", "Quadratic", "ElasticNet"],
)
def test_vanishes_exactly_when_every_alpha_is_zero(make):
    """``vanishes``: the value is 0 for any W exactly when every strength is 0."""
    W = np.array([[1.5, -2.0], [0.5, 3.0]])
    for alpha, zero in ((0.0, True), ([0.0, 0.0], True), ([0.0, 0.3], False), (0.3, False)):
        penalty = make(alpha)
        assert penalty.vanishes is zero
        # zero strengths give exactly 0 (not a round-off-level value), others > 0.1
        assert bool(np.all(penalty.value(W) == 0.0)) is zero
