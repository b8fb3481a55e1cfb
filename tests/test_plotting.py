"""What the plotting functions draw (Agg backend): images, scales, colorbars, labels, data.

Each test renders a figure and inspects the Matplotlib objects it holds: the
number of axes, the array behind every image, colour limits symmetric about 0
on a diverging colormap (its middle, the colour of 0, is near white), one
colorbar with a label in units, axis labels with units, and lag or time titles.
"""

from __future__ import annotations

import matplotlib.pyplot as plt  # the Agg backend is set in conftest.py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_lnp import plotting
from sklearn_lnp.plotting import (
    RF_CMAP,
    plot_count_vs_rate,
    plot_counts_over_time,
    plot_rf,
    plot_rf_lags,
    plot_sta_kernel,
    plot_sta_over_tau,
)

# Matplotlib's diverging colormaps (https://matplotlib.org/stable/users/explain/colors/colormaps.html).
DIVERGING = {
    "PiYG", "PRGn", "BrBG", "PuOr", "RdGy", "RdBu", "RdYlBu", "RdYlGn", "Spectral",
    "coolwarm", "bwr", "seismic", "berlin", "managua", "vanimo",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_centred_diverging(image, vmax):
    """The image uses a diverging map with limits [-vmax, vmax] and a light colour for 0."""
    cmap = image.get_cmap()
    assert cmap.name.removesuffix("_r") in DIVERGING
    low, high = image.get_clim()
    assert low == pytest.approx(-vmax) and high == pytest.approx(vmax)
    # 0 sits in the middle of the map, whose colour is light (white-ish), and the
    # two ends differ: negative and positive weights get different hues.
    assert min(cmap(0.5)[:3]) > 0.85
    assert not np.allclose(cmap(0.0), cmap(1.0))


def colorbar_axes(fig, content_axes):
    return [ax for ax in fig.axes if ax not in list(content_axes)]


def has_unit(label: str) -> bool:
    """An axis label names its unit, e.g. 'time (s)', 'row (pixel)'."""
    return "(" in label and label.rstrip().endswith(")")


# -- plot_rf -------------------------------------------------------------------


def test_plot_rf_draws_the_map_centred_at_zero_with_a_colorbar():
    rf = np.zeros((4, 5))
    rf[2, 1], rf[0, 4] = 0.8, -0.3
    image = plot_rf(rf.ravel(), (4, 5), title="RF")
    ax = image.axes
    np.testing.assert_array_equal(image.get_array(), rf)
    assert_centred_diverging(image, 0.8)
    assert ax.get_title() == "RF"
    assert ax.get_xlabel() == "column (pixel)" and ax.get_ylabel() == "row (pixel)"
    # One colorbar, labelled with the unit of the weights.
    assert image.colorbar is not None
    assert colorbar_axes(ax.figure, [ax]) == [image.colorbar.ax]
    assert image.colorbar.ax.get_ylabel() == "weight (log rate per unit)"
    # Pixel (2, 1) is drawn at x = column 1, y = row 2: imshow, not transposed.
    assert image.get_extent() == pytest.approx([-0.5, 4.5, 3.5, -0.5])


def test_plot_rf_options_vmax_colorbar_label_and_given_axes():
    fig, ax = plt.subplots()
    image = plot_rf(np.array([[1.0, -2.0]]), ax=ax, vmax=5.0, colorbar=False)
    assert image.axes is ax and len(fig.axes) == 1 and image.colorbar is None
    assert_centred_diverging(image, 5.0)
    image = plot_rf(np.array([[0.5, -0.25]]), label="contrast")
    assert image.colorbar.ax.get_ylabel() == "contrast"
    # An all-zero map still gets a valid symmetric scale.
    assert plot_rf(np.zeros((2, 2))).get_clim() == (-1.0, 1.0)


def test_plot_rf_flat_without_frame_shape_names_the_argument():
    with pytest.raises(ValueError, match="frame_shape"):
        plot_rf(np.ones(6))


@settings(max_examples=25, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 6)),
        elements=st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False),
    )
)
def test_plot_rf_limits_are_symmetric_for_any_map(rf):
    image = plot_rf(rf, colorbar=False)
    vmax = float(np.abs(rf).max())
    expected = vmax if vmax > 0 else 1.0
    assert image.get_clim() == pytest.approx((-expected, expected))
    np.testing.assert_array_equal(image.get_array(), rf)
    plt.close("all")


# -- plot_rf_lags -----------------------------------------------------------------


@pytest.mark.slow
def test_plot_rf_lags_one_image_per_lag_on_one_scale_with_lag_and_time_titles():
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(3, 12))
    maps[2, 5] = -7.0  # the largest |weight| is at lag 2, negative
    fig, axes, images = plot_rf_lags(
        maps.ravel(), (3, 4), lags=[0, 1, 2], frame_duration=0.2, title="space-time RF"
    )
    assert len(axes) == 3 and len(images) == 3
    # One colorbar for the three panels, plus the three panels: 4 axes.
    assert len(fig.axes) == 4
    (cbar_ax,) = colorbar_axes(fig, axes)
    assert cbar_ax.get_ylabel() == "weight (log rate per unit)"
    for k, (ax, image) in enumerate(zip(axes, images, strict=True)):
        np.testing.assert_array_equal(image.get_array(), maps[k].reshape(3, 4))
        assert_centred_diverging(image, 7.0)  # shared scale from the largest |weight|
        assert ax.get_title() == f"lag {k} ({200 * k} ms)"
        assert ax.get_xlabel() == "column (pixel)"
    # Panels in one row, left to right in lag order.
    x0 = [ax.get_position().x0 for ax in axes]
    assert x0 == sorted(x0)
    assert axes[0].get_ylabel() == "row (pixel)" and axes[1].get_ylabel() == ""
    assert fig.get_suptitle() == "space-time RF"


def test_plot_rf_lags_accepts_lags_by_pixels_and_given_axes_without_durations():
    fig, given_axes = plt.subplots(1, 2)
    coef = np.arange(8.0).reshape(2, 4) - 3.0
    fig_out, axes, images = plot_rf_lags(coef, (2, 2), lags=[1, 3], axes=given_axes)
    assert fig_out is fig and axes == list(given_axes)
    assert [ax.get_title() for ax in axes] == ["lag 1", "lag 3"]
    np.testing.assert_array_equal(images[1].get_array(), [[1.0, 2.0], [3.0, 4.0]])
    assert_centred_diverging(images[0], 4.0)
    fig, axes, _ = plot_rf_lags(coef, (2, 2), lags=[0, 1], label="z-score")
    assert [ax.get_ylabel() for ax in colorbar_axes(fig, axes)] == ["z-score"]


# -- plot_sta_over_tau and plot_sta_kernel -------------------------------------------


def test_plot_sta_over_tau_panels_titled_in_ms_on_a_shared_centred_scale():
    taus = 0.025 * np.arange(40)
    sta = np.zeros((6, 40))
    sta[4, 4] = 3.0  # tau = 100 ms
    sta[4, 14] = -1.5  # tau = 350 ms: the opposite lobe
    fig, axes, images = plot_sta_over_tau(sta, taus, (2, 3), n_panels=4, label="z")
    # 40 delays, 4 panels: every 10th delay from the first.
    assert [ax.get_title() for ax in axes] == ["τ = 0 ms", "τ = 250 ms", "τ = 500 ms", "τ = 750 ms"]
    assert len(fig.axes) == 5
    vmax_shown = 1.0  # none of the drawn columns holds the two lobes: the all-zero fallback
    for image in images:
        assert_centred_diverging(image, vmax_shown)
    fig, axes, images = plot_sta_over_tau(sta, taus, (2, 3), taus_shown=[0.1, 0.35])
    np.testing.assert_array_equal(images[0].get_array(), sta[:, 4].reshape(2, 3))
    for image in images:
        assert_centred_diverging(image, 3.0)
    (cbar_ax,) = colorbar_axes(fig, axes)
    assert has_unit(cbar_ax.get_ylabel())


def test_plot_sta_kernel_map_and_kernel_against_tau_in_ms():
    taus = 0.025 * np.arange(8)
    spatial = np.array([[0.1, -0.9], [0.3, 0.2]])
    temporal = np.linspace(1.0, -0.5, 8)
    fig, image, line = plot_sta_kernel(spatial, temporal, taus, title="fine STA")
    assert len(fig.axes) == 3  # map, kernel, colorbar
    assert_centred_diverging(image, 0.9)
    np.testing.assert_array_equal(image.get_array(), spatial)
    np.testing.assert_allclose(line.get_xdata(), 1000 * taus)
    np.testing.assert_allclose(line.get_ydata(), temporal)
    assert "(ms)" in line.axes.get_xlabel() and has_unit(line.axes.get_ylabel())
    # A zero line is drawn as the reference of the kernel's sign.
    assert any(np.all(np.asarray(other.get_ydata()) == 0) for other in line.axes.get_lines())
    assert fig.get_suptitle() == "fine STA"


def test_plot_space_time_separation_map_and_kernel_over_lags_in_ms():
    from sklearn_lnp.plotting import plot_space_time_separation

    spatial = np.array([0.0, 0.6, -0.8, 0.0, 0.0, 0.0])
    temporal = np.array([0.8, 0.1, -0.5, -0.2, 0.0])
    fig, image, line = plot_space_time_separation(
        spatial, temporal, range(5), frame_shape=(2, 3), frame_duration=0.2, explained=0.83
    )
    assert len(fig.axes) == 3  # map, kernel, colorbar
    np.testing.assert_array_equal(image.get_array(), spatial.reshape(2, 3))
    assert_centred_diverging(image, 0.8)
    assert image.axes.get_title() == "spatial (83 % of RF)"
    assert has_unit(image.colorbar.ax.get_ylabel())
    np.testing.assert_allclose(line.get_xdata(), [0, 200, 400, 600, 800])
    np.testing.assert_allclose(line.get_ydata(), temporal)
    kernel_ax = line.axes
    assert kernel_ax.get_xlabel() == "time before the bin (ms)" and has_unit(kernel_ax.get_ylabel())
    ticks = [tick.get_text() for tick in kernel_ax.get_xticklabels()]
    assert ticks == [f"{200 * k}\nlag {k}" for k in range(5)]
    # Without frame durations the kernel is drawn against the lag in frames.
    _, _, line = plot_space_time_separation(spatial.reshape(2, 3), temporal, range(5))
    assert line.axes.get_xlabel() == "lag (frames)"
    np.testing.assert_allclose(line.get_xdata(), np.arange(5))
    with pytest.raises(ValueError, match="one entry per lag"):
        plot_space_time_separation(spatial, temporal[:3], range(5), frame_shape=(2, 3))


# -- regularisation: lasso grid and CV curve -------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("scale", ["column", "shared"])
def test_plot_lasso_grid_rows_lags_columns_alphas_each_scale_centred(scale):
    from sklearn_lnp.plotting import plot_lasso_grid

    rng = np.random.default_rng(2)
    lags, alphas = [0, 1, 2], [0.003, 0.01, 0.03, 0.1]
    coefs = rng.normal(size=(3, 4, 6)) * (rng.random((3, 4, 6)) < 0.5)
    coefs[1, 0, 3] = -4.0
    coefs[:, 2] *= 0.01  # a strongly penalised column: tiny weights
    coefs[:, -1] = 0.0  # the largest penalty zeroes every weight
    fig, axes, images = plot_lasso_grid(coefs, (2, 3), lags, alphas, frame_duration=0.2,
                                        scale=scale)  # fmt: skip
    assert axes.shape == (3, 4) and images.shape == (3, 4)
    bars = colorbar_axes(fig, axes.ravel())
    if scale == "shared":
        assert len(bars) == 1 and bars[0].get_ylabel() == "weight (log rate per unit)"
        limits = [4.0] * 4
    else:
        # One colorbar per penalty, so the small weights of a strong penalty are not
        # drawn pale on the scale of the weakest one; an all-zero column gets +-1.
        assert len(bars) == 4 and bars[0].get_xlabel() == "weight (log rate per unit)"
        limits = [4.0] + [float(np.abs(coefs[:, j]).max()) for j in (1, 2)] + [1.0]
        assert limits[2] < 0.05
    for i in range(3):
        for j in range(4):
            np.testing.assert_array_equal(images[i, j].get_array(), coefs[i, j].reshape(2, 3))
            assert_centred_diverging(images[i, j], limits[j])
            texts = [t.get_text() for t in axes[i, j].texts]
            assert texts == [f"{np.count_nonzero(coefs[i, j])} ≠ 0"]
    # Penalties on top of the columns, lags (and their time) at the start of the rows.
    assert [ax.get_title() for ax in axes[0]] == ["α = 0.003", "α = 0.01", "α = 0.03", "α = 0.1"]
    assert [ax.get_title() for ax in axes[1]] == [""] * 4
    assert [axes[i, 0].get_ylabel() for i in range(3)] == [
        f"lag {k} ({200 * k} ms)\nrow (pixel)" for k in range(3)
    ]
    assert axes[0, 1].get_ylabel() == "" and axes[2, 0].get_xlabel() == "column (pixel)"
    with pytest.raises(ValueError, match="n_lags, n_alphas, n_pixels"):
        plot_lasso_grid(coefs[:, :2], (2, 3), lags, alphas)
    with pytest.raises(ValueError, match="scale"):
        plot_lasso_grid(coefs, (2, 3), lags, alphas, scale="row")


def test_plot_cv_curve_mean_and_standard_error_over_folds_with_the_chosen_alpha():
    from sklearn_lnp.plotting import plot_cv_curve

    alphas = np.array([1.0, 0.1, 0.01, 0.001])  # given in decreasing order, as a path
    scores = np.array([[0.0, 0.0, 0.0], [0.02, 0.04, 0.03], [0.01, 0.05, 0.0], [-0.1, 0.0, -0.2]])
    line, band, marker = plot_cv_curve(alphas, scores, chosen=0.1)
    ax = line.axes
    # Drawn from small to large alpha on a log axis, the mean over folds.
    np.testing.assert_allclose(line.get_xdata(), alphas[::-1])
    np.testing.assert_allclose(line.get_ydata(), scores[::-1].mean(axis=1))
    assert ax.get_xscale() == "log"
    # The band spans mean +- s.e.m. at every alpha.
    sem = scores[::-1].std(axis=1, ddof=1) / np.sqrt(3)
    vertices = band.get_paths()[0].vertices
    for alpha, mean, half in zip(alphas[::-1], scores[::-1].mean(axis=1), sem, strict=True):
        at = vertices[np.isclose(vertices[:, 0], alpha), 1]
        assert at.min() == pytest.approx(mean - half) and at.max() == pytest.approx(mean + half)
    np.testing.assert_allclose(marker.get_xdata(), [0.1, 0.1])
    assert "chosen α = 0.1" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert has_unit(ax.get_xlabel()) and ax.get_ylabel() == "held-out bits per spike"
    # 1-d scores: no band; no choice: no marker and no legend.
    line, band, marker = plot_cv_curve(alphas, scores.mean(axis=1))
    assert band is None and marker is None and line.axes.get_legend() is None
    with pytest.raises(ValueError, match="n_alphas"):
        plot_cv_curve(alphas, scores[:2])
    with pytest.raises(ValueError, match="positive"):
        plot_cv_curve(-alphas, scores)


def test_plot_cv_curve_draws_the_constant_rate_baseline():
    from sklearn_lnp.plotting import plot_cv_curve

    alphas = np.array([0.1, 0.01])
    scores = np.array([[-0.10, -0.14], [-0.12, -0.16]])
    baseline = np.array([-0.15, -0.17])  # per fold: their mean is drawn
    line, _, _ = plot_cv_curve(alphas, scores, baseline=baseline)
    ax = line.axes
    (level,) = [h for h in ax.get_lines() if h.get_label().startswith("constant rate")]
    np.testing.assert_allclose(level.get_ydata(), [-0.16, -0.16])
    assert "constant rate of the training blocks (no stimulus)" in [
        t.get_text() for t in ax.get_legend().get_texts()
    ]


def test_plot_rf_ticks_are_whole_pixels():
    image = plot_rf(np.zeros((20, 15)))
    ax = image.axes
    ax.figure.canvas.draw()
    for ticks, size in ((ax.get_xticks(), 15), (ax.get_yticks(), 20)):
        shown = ticks[(ticks >= -0.5) & (ticks <= size - 0.5)]
        assert shown.size >= 2 and np.all(shown == np.round(shown))
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert all("." not in text for text in labels)  # "5", not "5.0" or "2.5"


def test_plot_sta_over_tau_says_which_delays_are_drawn():
    sta = np.random.default_rng(0).normal(size=(6, 40))
    taus = 0.025 * np.arange(40)
    fig, axes, _ = plot_sta_over_tau(sta, taus, (2, 3), title="STA")
    assert len(axes) == 10
    assert fig.get_suptitle() == "STA\n10 of 40 delays shown (grid 0-975 ms in 25 ms steps)"
    fig, axes, _ = plot_sta_over_tau(sta[:, :4], taus[:4], (2, 3), title="STA")
    assert fig.get_suptitle() == "STA"  # all delays drawn: nothing to say


# -- responses -----------------------------------------------------------------------


def test_plot_counts_over_time_draws_counts_and_expected_counts_in_seconds():
    counts = np.array([0.0, 2.0, 1.0, 4.0, 0.0])
    rate = np.array([0.5, 1.5, 1.0, 3.0, 0.2])
    times = 0.2 * np.arange(5)
    lines = plot_counts_over_time(counts, rate, times=times)
    assert len(lines) == 2
    observed, expected = lines
    np.testing.assert_array_equal(observed.get_ydata(), counts)
    np.testing.assert_allclose(observed.get_xdata(), times)
    assert observed.get_drawstyle() == "steps-post"  # a count holds for its whole bin
    np.testing.assert_array_equal(expected.get_ydata(), rate)
    assert expected.get_drawstyle() == "steps-post"  # aligned with the counts' bins
    ax = observed.axes
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "spikes per bin"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["spike count", "expected"]
    assert ax.get_title() == ""  # every bin drawn


def test_plot_counts_over_time_names_each_rate_and_the_part_shown():
    counts = np.arange(2000.0) % 7
    times = 0.1 * np.arange(2000)
    lines = plot_counts_over_time(
        counts,
        counts + 0.5,
        times=times,
        rate_label="true rate (simulation)",
        other_rates={"fitted model": counts + 0.2},
    )
    ax = lines[0].axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "spike count",
        "true rate (simulation)",
        "fitted model",
    ]
    assert ax.get_title() == "first 20 s of 200 s"
    assert all(line.get_xdata().size == 200 for line in lines)


def test_plot_counts_over_time_without_times_or_rate_and_truncated():
    lines = plot_counts_over_time(np.arange(500.0), max_bins=100)
    assert len(lines) == 1
    np.testing.assert_array_equal(lines[0].get_xdata(), np.arange(100))
    assert lines[0].axes.get_xlabel() == "time bin"


def test_plot_count_vs_rate_scatters_counts_against_expected_with_identity():
    rng = np.random.default_rng(1)
    rate = rng.uniform(0.5, 6.0, size=300)
    counts = rng.poisson(rate).astype(float)
    collection = plot_count_vs_rate(counts, rate)
    offsets = collection.get_offsets()
    np.testing.assert_allclose(offsets[:, 0], rate)
    # Counts are jittered by less than 0.25 so that integers stay distinguishable.
    assert np.all(np.abs(offsets[:, 1] - counts) <= 0.2)
    assert np.std(offsets[:, 1] - counts) > 0.05
    ax = collection.axes
    (identity,) = ax.get_lines()
    top = max(rate.max(), counts.max())
    np.testing.assert_allclose(identity.get_xydata(), [[0, 0], [top, top]])
    assert ax.get_xlabel() == "expected count per bin"
    assert ax.get_ylabel().startswith("observed count")
    collection = plot_count_vs_rate(counts, rate, xlabel="expected count (fitted model)")
    assert collection.axes.get_xlabel() == "expected count (fitted model)"


def test_every_public_plotting_function_has_a_drawing_test():
    """Every ``plot_*`` function is drawn by some test (here or beside its feature)."""
    import inspect
    from pathlib import Path

    public = {
        name
        for name, obj in vars(plotting).items()
        if inspect.isfunction(obj)
        and name.startswith("plot_")
        and obj.__module__ == plotting.__name__
    }
    here = Path(__file__)
    sources = here.read_text(encoding="utf-8").split("def test_every_public")[0]
    sources += "".join(
        path.read_text(encoding="utf-8") for path in here.parent.glob("test_*.py") if path != here
    )
    untested = sorted(name for name in public if f"{name}(" not in sources)
    assert not untested, f"plotting functions that no test draws: {untested}"
    assert RF_CMAP.removesuffix("_r") in DIVERGING
