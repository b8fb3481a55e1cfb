"""The shared simulated problems of tests/_problems.py are what they say.

Facts asserted: the same seed gives the same arrays; the weights, exposure
and sample weights have the stated support and ranges; the counts are
non-negative integers whose mean is the simulated rate (within 4 standard
errors on 20,000 bins); the separable neuron's counts are Poisson around
``exposure * exp(intercept + X @ coef)`` on its lagged design.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from _problems import lagged_separable_neuron, poisson_problem

from sklearn_lnp import LagTransformer


@pytest.mark.parametrize("n_neurons", [None, 3])
def test_poisson_problem_is_reproducible_and_as_stated(n_neurons):
    kwargs = {"seed": 3, "n_active": 4, "sample_weight": (0.2, 2.0), "n_neurons": n_neurons}
    a, b = poisson_problem(500, 10, **kwargs), poisson_problem(500, 10, **kwargs)
    for key in ("X", "y", "exposure", "sample_weight", "coef"):
        np.testing.assert_array_equal(a[key], b[key])  # same seed, same draws
    assert not np.array_equal(a.y, poisson_problem(500, 10, **{**kwargs, "seed": 4}).y)
    assert np.all(a.coef[4:] == 0) and np.all(a.coef[:4] != 0)
    assert a.y.shape == ((500,) if n_neurons is None else (500, n_neurons))
    assert np.all(a.y >= 0) and np.all(a.y == np.round(a.y))
    assert 0.5 <= a.exposure.min() and a.exposure.max() < 1.5
    assert 0.2 <= a.sample_weight.min() and a.sample_weight.max() < 2.0


def test_poisson_problem_counts_have_the_simulated_mean():
    p = poisson_problem(20_000, 5, seed=0, coef_scale=0.3, intercept=0.5, exposure=(0.5, 2.0))
    rate = p.exposure * np.exp(p.X @ p.coef + p.intercept)
    # sum(y) - sum(rate) has standard deviation sqrt(sum(rate)) for Poisson counts.
    assert abs(p.y.sum() - rate.sum()) < 4 * np.sqrt(rate.sum())


def test_poisson_problem_options():
    binary = poisson_problem(50, 6, design="binary", exposure=None, dtype=np.float32)
    assert set(np.unique(binary.X)) == {-1.0, 1.0} and binary.X.dtype == np.float32
    assert binary.exposure is None and binary.sample_weight is None
    sparse = poisson_problem(50, 6, sparsity=0.6, sparse=True)
    assert sp.issparse(sparse.X) and sparse.X.nnz < 50 * 6
    fixed = poisson_problem(50, 3, coef=[0.8, -0.6, 0.4], intercept=(-1.5, 0.0), n_neurons=None)
    np.testing.assert_array_equal(fixed.coef, [0.8, -0.6, 0.4])
    assert np.shape(fixed.intercept) == (1,) and -1.5 <= fixed.intercept[0] < 0.0
    with pytest.raises(ValueError, match="design"):
        poisson_problem(5, 2, design="uniform")


def test_lagged_separable_neuron():
    one_stream = lagged_separable_neuron(3000, (4, 4), seed=1, exposure_seed=2)
    two_streams = lagged_separable_neuron(3000, (4, 4), seed=1, exposure_seed=2, counts_seed=5)
    np.testing.assert_array_equal(one_stream.X, LagTransformer().fit_transform(one_stream.stimulus))
    np.testing.assert_array_equal(one_stream.exposure, two_streams.exposure)
    assert 0.15 <= one_stream.exposure.min() and one_stream.exposure.max() < 0.25
    assert not np.array_equal(one_stream.counts, two_streams.counts)
    for neuron in (one_stream, two_streams):
        rate = neuron.exposure * np.exp(neuron.intercept + neuron.X @ neuron.coef)
        assert abs(neuron.counts.sum() - rate.sum()) < 4 * np.sqrt(rate.sum())
