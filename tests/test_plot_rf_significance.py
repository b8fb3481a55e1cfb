"""``plot_rf_significance``: which pixels are drawn, masked or outlined, and how.

Facts asserted: a pixel is kept exactly when ``|coef| >= z coef_std`` with
``z`` the two-sided normal quantile of ``level`` (or the given ``z``); the
map keeps the RF's values on a diverging colormap centred at 0 with a
labelled colorbar and pixel axes; masked pixels are painted the grey "bad"
colour; outlines trace the boundary of the significant region; the title
states what is drawn and the threshold; bad arguments are named.
"""

from __future__ import annotations

import matplotlib.pyplot as plt  # the Agg backend is set in conftest.py
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from scipy.stats import norm
from test_plotting import assert_centred_diverging, colorbar_axes

from sklearn_lnp import PoissonLNPRegressor
from sklearn_lnp.datasets import make_lnp_neuron
from sklearn_lnp.plotting import plot_rf_significance


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _rf():
    coef = np.array([[0.0, 0.5, -0.2], [0.1, 0.0, -0.6]])
    std = np.array([[0.1, 0.1, 0.1], [0.04, 0.1, 0.5]])
    return coef, std


def test_mask_hides_exactly_the_non_significant_pixels():
    coef, std = _rf()
    image, significant = plot_rf_significance(coef.ravel(), std.ravel(), (2, 3))
    expected = np.abs(coef) >= norm.ppf(0.975) * std  # z = 1.96
    np.testing.assert_array_equal(significant, expected)
    data = image.get_array()
    np.testing.assert_array_equal(np.ma.getmaskarray(data), ~expected)
    np.testing.assert_array_equal(data.data, coef)
    assert_centred_diverging(image, 0.6)
    assert image.get_cmap().get_bad() == pytest.approx(to_rgba("0.6"))
    ax = image.axes
    assert ax.get_xlabel() == "column (pixel)" and ax.get_ylabel() == "row (pixel)"
    assert colorbar_axes(ax.figure, [ax]) == [image.colorbar.ax]
    assert image.colorbar.ax.get_ylabel() == "weight (log rate per unit)"
    assert ax.get_title() == (
        "RF, pixels with |w| / std < 1.96 masked\n(two-sided p >= 0.05 per pixel)"
    )


def test_outline_traces_the_boundary_of_the_significant_region():
    coef = np.zeros((3, 4))
    coef[1, 1:3] = 1.0  # two adjacent significant pixels
    image, significant = plot_rf_significance(coef, np.full((3, 4), 0.1), style="outline", z=3)
    assert significant.sum() == 2
    assert not np.ma.is_masked(image.get_array())
    (lines,) = [c for c in image.axes.collections if isinstance(c, LineCollection)]
    segments = {tuple(map(tuple, np.round(s, 6))) for s in lines.get_segments()}
    # a 1 x 2 block: 2 + 2 horizontal edges and 2 vertical ones, none between the pixels
    expected = {
        ((0.5, 0.5), (1.5, 0.5)), ((1.5, 0.5), (2.5, 0.5)),
        ((0.5, 1.5), (1.5, 1.5)), ((1.5, 1.5), (2.5, 1.5)),
        ((0.5, 0.5), (0.5, 1.5)), ((2.5, 0.5), (2.5, 1.5)),
    }  # fmt: skip
    assert segments == expected
    assert "outside the outlines" in image.axes.get_title()
    assert "p >= 0.0027" in image.axes.get_title()  # two-sided p of z = 3


def test_levels_order_the_significant_sets():
    coef, std = _rf()
    strict = plot_rf_significance(coef, std, level=0.001, colorbar=False)[1]
    loose = plot_rf_significance(coef, std, level=0.2, colorbar=False)[1]
    assert np.all(loose[strict]) and loose.sum() >= strict.sum()


def test_draws_a_fitted_rf_with_its_error_bars():
    neuron = make_lnp_neuron(n_frames=3000, frame_shape=(8, 8), random_state=0)
    model = PoissonLNPRegressor(alpha=1e-3, compute_std=True).fit(
        neuron.stimulus, neuron.counts, exposure=neuron.exposure
    )
    fig, ax = plt.subplots()
    image, significant = plot_rf_significance(model.coef_, model.coef_std_, (8, 8), ax=ax)
    assert image.axes is ax
    # the simulated RF's peak pixel is significant
    assert significant.ravel()[np.argmax(np.abs(neuron.rf.ravel()))]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(coef_std=np.ones(5)), "coef_std must have the shape of coef"),
        (dict(coef_std=-np.ones(6)), "coef_std must be finite and non-negative"),
        (dict(level=1.5), r"level must be a probability in \(0, 1\)"),
        (dict(z=0.0), "z must be a positive number"),
        (dict(style="hatch"), "style must be 'mask' or 'outline'"),
        (dict(frame_shape=None), "frame_shape is required"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    arguments = dict(coef=np.ones(6), coef_std=np.ones(6), frame_shape=(2, 3)) | kwargs
    with pytest.raises(ValueError, match=match):
        plot_rf_significance(**arguments)
