"""The simulated space-time RF neurons of the sample-efficiency benchmark.

``make_separable_neuron`` on the lab's layout (20 x 15 pixels, 5 lags) with
Gaussian and difference-of-Gaussians maps, monophasic and biphasic kernels,
binary and Gaussian white noise: shapes, the returned truth, the firing rate
(the closed-form ensemble mean against the simulated one, and realistic
values), seeding and refusal of unknown options.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sklearn_lnp import LagTransformer
from sklearn_lnp.datasets import biphasic_kernel, make_separable_neuron, monophasic_kernel

SHAPE = (20, 15)
N_LAGS = 5
CASES = list(
    itertools.product(("gaussian", "dog"), ("biphasic", "monophasic"), ("binary", "gaussian"))
)


@pytest.mark.slow
@pytest.mark.parametrize(("spatial", "temporal", "noise"), CASES)
def test_shapes_truth_and_rate_formula(spatial, temporal, noise):
    neuron = make_separable_neuron(
        3000, frame_shape=SHAPE, n_lags=N_LAGS, spatial=spatial, temporal=temporal,
        noise=noise, rf_sigma=2.0, random_state=0,
    )  # fmt: skip
    n_pixels = SHAPE[0] * SHAPE[1]
    assert neuron.stimulus.shape == (3000, n_pixels)
    assert neuron.counts.shape == neuron.rate.shape == neuron.exposure.shape == (3000,)
    assert neuron.rf.shape == (n_pixels, N_LAGS)
    assert neuron.coef.shape == (n_pixels * N_LAGS,)
    np.testing.assert_array_equal(neuron.exposure, neuron.dt)
    # the truth: a rank-one RF of the stated norm, lag-major in coef
    np.testing.assert_allclose(np.linalg.norm(neuron.rf), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(neuron.coef, neuron.rf.T.ravel())
    np.testing.assert_allclose(neuron.rf, np.outer(neuron.spatial, neuron.temporal), rtol=1e-12)
    kernel = biphasic_kernel(N_LAGS) if temporal == "biphasic" else monophasic_kernel(N_LAGS)
    np.testing.assert_allclose(neuron.temporal, kernel, rtol=1e-12)
    # the rate is the LNP model of the lagged design with exposure = bin width
    X = LagTransformer(lags=range(N_LAGS)).fit_transform(neuron.stimulus)
    np.testing.assert_allclose(
        neuron.rate, neuron.dt * np.exp(neuron.intercept + X @ neuron.coef), rtol=1e-12
    )
    if noise == "binary":
        assert set(np.unique(neuron.stimulus)) == {-1.0, 1.0}
    else:
        # 900,000 standard normal draws: sd of the mean 1e-3, of the variance 1.5e-3
        assert abs(neuron.stimulus.mean()) < 6e-3 and abs(neuron.stimulus.var() - 1) < 1e-2


@pytest.mark.slow  # 1.6-1.9 s per case (measured in the fast loop at load ~3)
@pytest.mark.parametrize(("spatial", "noise"), [("gaussian", "binary"), ("dog", "gaussian")])
def test_mean_rate_is_realistic_and_matches_the_simulation(spatial, noise):
    neuron = make_separable_neuron(
        20_000, frame_shape=SHAPE, n_lags=N_LAGS, spatial=spatial, noise=noise, rf_sigma=2.0,
        random_state=1,
    )  # fmt: skip
    # The lab's neuron fires 17 spikes/s; the defaults are meant to be in that range.
    assert 10.0 <= neuron.mean_rate <= 30.0
    rate = neuron.rate[N_LAGS - 1 :] / neuron.dt  # spikes/s once every lag sees a frame
    # The rate is log-normal-like with sd/mean about sqrt(e - 1) ~ 1.3 for ||w|| = 1; the
    # bins are correlated over 5 lags, so the standard error of the mean is taken from
    # 5-bin block means.  6 standard errors.
    blocks = rate[: rate.size // 5 * 5].reshape(-1, 5).mean(axis=1)
    se = blocks.std() / np.sqrt(blocks.size)
    assert abs(rate.mean() - neuron.mean_rate) < 6 * se
    counts = neuron.counts[N_LAGS - 1 :]
    assert abs(counts.mean() / neuron.dt - neuron.mean_rate) < 6 * np.sqrt(
        se**2 + neuron.mean_rate / (counts.size * neuron.dt)
    )


def test_same_seed_same_neuron_and_binary_draws_unchanged_by_the_options():
    a = make_separable_neuron(500, frame_shape=SHAPE, random_state=3)
    b = make_separable_neuron(500, frame_shape=SHAPE, temporal="monophasic", random_state=3)
    c = make_separable_neuron(500, frame_shape=SHAPE, random_state=3)
    np.testing.assert_array_equal(a.stimulus, b.stimulus)  # the kernel does not draw
    np.testing.assert_array_equal(a.counts, c.counts)


def test_kernels_have_unit_norm_and_their_shapes():
    mono = monophasic_kernel(8, peak=2.0)
    bi = biphasic_kernel(8)
    np.testing.assert_allclose([np.linalg.norm(mono), np.linalg.norm(bi)], 1.0, rtol=1e-12)
    assert np.all(mono > 0) and np.argmax(mono) in (1, 2)  # frame centres 1.5 and 2.5
    assert bi[0] > 0 and bi.min() < 0  # one sign change


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"noise": "uniform"}, "'noise' parameter of make_separable_neuron must be a str among"),
        ({"temporal": "triphasic"}, "temporal must be 'biphasic', 'monophasic' or an array"),
    ],
)
def test_unknown_options_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_separable_neuron(10, **kwargs)


@pytest.mark.parametrize("peak", [0.0, -1.0, np.nan])
def test_monophasic_kernel_refuses_a_non_positive_peak(peak):
    with pytest.raises(ValueError, match=r"'peak' parameter .* in the range \(0\.0, "):
        monophasic_kernel(5, peak=peak)
