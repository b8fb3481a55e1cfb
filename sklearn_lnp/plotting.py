"""Figures of receptive fields and responses.

Every function takes arrays (or fitted estimators' attributes), draws on a
given ``ax`` (or a new figure) and returns the Matplotlib objects it made.
RF images use a diverging colormap centred at 0 with a colorbar.
"""

from __future__ import annotations

import numpy as np

RF_CMAP = "RdBu_r"


def _symmetric_limit(*arrays) -> float:
    vmax = max(float(np.max(np.abs(a))) for a in arrays)
    return vmax if vmax > 0 else 1.0


def plot_rf(
    rf,
    frame_shape=None,
    *,
    ax=None,
    vmax=None,
    title=None,
    colorbar=True,
    label="weight (log rate per unit)",
):
    """Draw one receptive field as an image centred at 0.

    Parameters
    ----------
    rf : array-like of shape (n_pixels,) or (rows, cols)
        Weights (log-rate change per unit of stimulus).
    frame_shape : tuple (rows, cols), optional
        Needed when ``rf`` is flat.
    ax : matplotlib Axes, optional
    vmax : float, optional
        Colour limit; ``max |rf|`` by default (limits are ``[-vmax, vmax]``).
    title : str, optional
    colorbar : bool, default=True
    label : str
        Colorbar label.

    Returns
    -------
    image : matplotlib.image.AxesImage
    """
    import matplotlib.pyplot as plt

    rf = np.asarray(rf, dtype=float)
    if rf.ndim == 1:
        if frame_shape is None:
            raise ValueError("frame_shape is required to draw a flat rf.")
        rf = rf.reshape(frame_shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.6))
    vmax = _symmetric_limit(rf) if vmax is None else float(vmax)
    image = ax.imshow(rf, cmap=RF_CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest")
    ax.set_xlabel("column (pixel)")
    ax.set_ylabel("row (pixel)")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=label)
    return image


def plot_rf_lags(coef, frame_shape, lags, *, frame_duration=None, axes=None, title=None):
    """Draw a space-time RF as one image per lag, in a row, on a shared scale.

    Parameters
    ----------
    coef : array-like of shape (n_lags * n_pixels,) or (n_lags, n_pixels)
        Lag-major weights: the first ``n_pixels`` entries are lag ``lags[0]``.
    frame_shape : tuple (rows, cols)
    lags : sequence of int
        Lag of each block, in frames.
    frame_duration : float, optional
        Mean frame duration (s); adds the lag in ms to each title.
    axes : sequence of matplotlib Axes, optional
        One per lag.
    title : str, optional
        Figure title.

    Returns
    -------
    fig : matplotlib Figure
    axes : list of Axes
    images : list of AxesImage
    """
    import matplotlib.pyplot as plt

    lags = list(lags)
    n_pixels = int(np.prod(frame_shape))
    maps = np.asarray(coef, dtype=float).reshape(len(lags), n_pixels)
    if axes is None:
        fig, axes = plt.subplots(1, len(lags), figsize=(2.3 * len(lags) + 1.0, 3.2), squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(axes)
        fig = axes[0].figure
    vmax = _symmetric_limit(maps)
    images = []
    for ax, lag, weights in zip(axes, lags, maps, strict=True):
        image = plot_rf(weights, frame_shape, ax=ax, vmax=vmax, colorbar=False)
        label = f"lag {lag}"
        if frame_duration is not None:
            label += f" ({1000 * lag * frame_duration:.0f} ms)"
        ax.set_title(label)
        images.append(image)
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.colorbar(images[0], ax=axes, label="weight (log rate per unit)", shrink=0.8)
    if title is not None:
        fig.suptitle(title)
    return fig, axes, images


def plot_counts_over_time(counts, rate=None, *, times=None, ax=None, max_bins=200):
    """Draw observed counts (and the expected counts) over time.

    Parameters
    ----------
    counts : array-like of shape (n_bins,)
    rate : array-like of shape (n_bins,), optional
        Expected counts per bin.
    times : array-like of shape (n_bins,), optional
        Bin times (s); bin index by default.
    ax : matplotlib Axes, optional
    max_bins : int, default=200
        Only the first ``max_bins`` bins are drawn, so single bins stay visible.

    Returns
    -------
    lines : list of Line2D
    """
    import matplotlib.pyplot as plt

    counts = np.asarray(counts, dtype=float)[:max_bins]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 2.5))
    x = np.arange(counts.size) if times is None else np.asarray(times, dtype=float)[:max_bins]
    lines = list(ax.step(x, counts, where="post", color="0.3", label="spike count"))
    if rate is not None:
        lines += ax.plot(x, np.asarray(rate, dtype=float)[:max_bins], color="C3", label="expected")
    ax.set_xlabel("time (s)" if times is not None else "time bin")
    ax.set_ylabel("spikes per bin")
    ax.legend(loc="upper right", frameon=False)
    return lines


def plot_count_vs_rate(counts, rate, *, ax=None):
    """Scatter observed counts against expected counts, with the identity line.

    Parameters
    ----------
    counts, rate : array-like of shape (n_bins,)
    ax : matplotlib Axes, optional

    Returns
    -------
    collection : PathCollection
    """
    import matplotlib.pyplot as plt

    counts = np.asarray(counts, dtype=float)
    rate = np.asarray(rate, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 3.5))
    jitter = np.random.default_rng(0).uniform(-0.2, 0.2, size=counts.shape)
    collection = ax.scatter(rate, counts + jitter, s=4, alpha=0.4, color="0.2")
    top = max(float(rate.max()), float(counts.max()))
    ax.plot([0, top], [0, top], color="C3", lw=1)
    ax.set_xlabel("expected count per bin")
    ax.set_ylabel("observed count (jittered)")
    return collection
