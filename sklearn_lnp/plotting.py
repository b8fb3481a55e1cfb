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


def plot_sta_over_tau(
    sta,
    taus,
    frame_shape,
    *,
    taus_shown=None,
    n_panels=10,
    axes=None,
    title=None,
    label="STA (stimulus units)",
):
    """Draw a spike-triggered average at several delays, in a row, on a shared scale.

    Parameters
    ----------
    sta : array-like of shape (n_pixels, n_taus)
        STA (or its z-score) over delays, as returned by
        :func:`sklearn_lnp.spikes.spike_triggered_average`.
    taus : array-like of shape (n_taus,)
        Delays (s) of the columns of ``sta``.
    frame_shape : tuple (rows, cols)
    taus_shown : sequence of float, optional
        Delays (s) to draw; the nearest column of ``sta`` is shown for each.
        By default ``n_panels`` delays evenly spaced on the grid, from the
        first.
    n_panels : int, default=10
        Number of panels when ``taus_shown`` is not given.
    axes : sequence of matplotlib Axes, optional
        One per panel.
    title : str, optional
        Figure title.
    label : str
        Colorbar label (units of ``sta``).

    Returns
    -------
    fig : matplotlib Figure
    axes : list of Axes
    images : list of AxesImage
        One per panel; each titled with its delay in ms.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_sta_over_tau
    >>> sta = np.random.default_rng(0).normal(size=(6, 40))
    >>> fig, axes, images = plot_sta_over_tau(sta, 0.025 * np.arange(40), (2, 3), n_panels=4)
    >>> [ax.get_title() for ax in axes]
    ['τ = 0 ms', 'τ = 250 ms', 'τ = 500 ms', 'τ = 750 ms']
    """
    import matplotlib.pyplot as plt

    taus = np.asarray(taus, dtype=float)
    sta = np.asarray(sta, dtype=float)
    if sta.ndim != 2 or sta.shape[1] != taus.shape[0]:
        raise ValueError(
            f"sta must be pixels x taus with one column per tau ({taus.shape[0]}); "
            f"got shape {sta.shape}."
        )
    if taus_shown is None:
        step = max(1, int(np.ceil(taus.size / n_panels)))
        columns = np.arange(0, taus.size, step)
    else:
        shown = np.atleast_1d(np.asarray(taus_shown, dtype=float))
        columns = np.argmin(np.abs(taus[None, :] - shown[:, None]), axis=1)
    if axes is None:
        fig, axes = plt.subplots(
            1, columns.size, figsize=(1.9 * columns.size + 1.2, 3.0), squeeze=False
        )
        axes = list(axes[0])
    else:
        axes = list(axes)
        fig = axes[0].figure
    vmax = _symmetric_limit(sta[:, columns])
    images = []
    for ax, column in zip(axes, columns, strict=True):
        image = plot_rf(sta[:, column], frame_shape, ax=ax, vmax=vmax, colorbar=False)
        ax.set_title(f"τ = {1000 * taus[column]:.0f} ms")
        images.append(image)
    for ax in axes[1:]:
        ax.set_ylabel("")
        ax.tick_params(labelleft=False)
    fig.colorbar(images[0], ax=axes, label=label, shrink=0.8)
    if title is not None:
        fig.suptitle(title)
    return fig, axes, images


def plot_sta_kernel(spatial_map, temporal, taus, *, axes=None, title=None):
    """Draw a separated fine STA: the spatial map and the temporal kernel over tau.

    Parameters
    ----------
    spatial_map : array-like of shape (rows, cols)
        Spatial component (e.g. ``separate_space_time(...).spatial_maps[0]``).
    temporal : array-like of shape (n_taus,)
        Temporal kernel (unit-norm SVD component, dimensionless).
    taus : array-like of shape (n_taus,)
        Delays (s) of the kernel's entries.
    axes : pair of matplotlib Axes, optional
        For the map and the kernel.
    title : str, optional
        Figure title.

    Returns
    -------
    fig : matplotlib Figure
    image : AxesImage
        The spatial map (diverging colormap centred at 0, with a colorbar).
    line : Line2D
        The kernel against tau in ms.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_sta_kernel
    >>> taus = 0.025 * np.arange(40)
    >>> fig, image, line = plot_sta_kernel(np.eye(3), np.sin(8 * taus), taus)
    >>> round(float(line.get_xdata()[-1]), 6)
    975.0
    """
    import matplotlib.pyplot as plt

    taus = np.asarray(taus, dtype=float)
    temporal = np.asarray(temporal, dtype=float)
    if temporal.shape != taus.shape:
        raise ValueError(
            f"temporal must have one entry per tau ({taus.shape[0]}); got shape {temporal.shape}."
        )
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.4), gridspec_kw={"width_ratios": [1, 1.4]})
    fig = axes[0].figure
    image = plot_rf(spatial_map, ax=axes[0], title="spatial", label="weight (unit norm)")
    (line,) = axes[1].plot(1000 * taus, temporal, marker="o", ms=3, color="0.2")
    axes[1].axhline(0.0, color="0.6", lw=0.8)
    axes[1].set_xlabel("τ: time before the spike (ms)")
    axes[1].set_ylabel("temporal kernel (unit norm)")
    axes[1].set_title("temporal")
    if title is not None:
        fig.suptitle(title)
    return fig, image, line


def plot_space_time_separation(
    spatial,
    temporal,
    lags,
    *,
    frame_shape=None,
    frame_duration=None,
    explained=None,
    axes=None,
    title=None,
):
    """Draw a space-time RF separated by SVD: the spatial map and the temporal kernel.

    Parameters
    ----------
    spatial : array-like of shape (n_pixels,) or (rows, cols)
        Spatial component (``SVDSeparator.spatial_``, unit norm).
    temporal : array-like of shape (n_lags,)
        Temporal kernel (``SVDSeparator.temporal_``, unit norm).
    lags : sequence of int
        Lag of each kernel entry, in frames.
    frame_shape : tuple (rows, cols), optional
        Needed when ``spatial`` is flat.
    frame_duration : float, optional
        Mean frame duration (s); the kernel's time axis is then in ms
        (lag x frame duration), with the lags in the tick labels.
    explained : float, optional
        Fraction of the RF's squared norm in this component, shown in the title.
    axes : pair of matplotlib Axes, optional
        For the map and the kernel.
    title : str, optional
        Figure title.

    Returns
    -------
    fig : matplotlib Figure
    image : AxesImage
        The spatial map (diverging colormap centred at 0, with a colorbar).
    line : Line2D
        The temporal kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_space_time_separation
    >>> fig, image, line = plot_space_time_separation(
    ...     np.eye(3), [0.9, 0.1, -0.4], [0, 1, 2], frame_duration=0.2)
    >>> line.get_xdata().tolist()
    [0.0, 200.0, 400.0]
    """
    import matplotlib.pyplot as plt

    lags = np.asarray(list(lags), dtype=float)
    temporal = np.asarray(temporal, dtype=float)
    if temporal.shape != lags.shape:
        raise ValueError(
            f"temporal must have one entry per lag ({lags.shape[0]}); got shape {temporal.shape}."
        )
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.6), gridspec_kw={"width_ratios": [1, 1.3]})
    fig = axes[0].figure
    spatial_title = "spatial" if explained is None else f"spatial ({100 * explained:.0f} % of RF)"
    image = plot_rf(
        spatial, frame_shape, ax=axes[0], title=spatial_title, label="weight (unit norm)"
    )
    if frame_duration is None:
        x = lags
        axes[1].set_xlabel("lag (frames)")
    else:
        x = 1000.0 * lags * float(frame_duration)
        axes[1].set_xlabel("time before the bin (ms)")
        axes[1].set_xticks(x, [f"{t:.0f}\nlag {lag:.0f}" for t, lag in zip(x, lags, strict=True)])
    (line,) = axes[1].plot(x, temporal, marker="o", color="0.2")
    axes[1].axhline(0.0, color="0.6", lw=0.8)
    axes[1].set_ylabel("temporal kernel (unit norm)")
    axes[1].set_title("temporal")
    if title is not None:
        fig.suptitle(title)
    return fig, image, line


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
