"""Figures of receptive fields and responses.

Every function takes arrays (or fitted estimators' attributes), draws on a
given ``ax`` (or a new figure) and returns the Matplotlib objects it made.
RF images use a diverging colormap centred at 0 with a colorbar.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import validate_params

from ._validation import POSITIVE, as_real_array

RF_CMAP = "RdBu_r"


def _values(values, name: str, ndim: tuple[int, ...], *, non_negative: bool = False):
    """``values`` as a float64 array of ``ndim`` dimensions, non-empty and finite.

    Refusals name ``name``: complex or non-numeric values (``as_real_array``),
    a wrong number of dimensions, no values, NaN or infinities (which would be
    drawn as blanks or clipped without a word), negative values when
    ``non_negative`` (counts and rates).
    """
    array = as_real_array(values, name)
    if array.ndim not in ndim:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, ndim))} dimensions; got shape {array.shape}."
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}): nothing to draw.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; found NaN or infinite values.")
    if non_negative and np.any(array < 0):
        raise ValueError(f"{name} must be non-negative; smallest value {array.min():g}.")
    return array


def _same_length(**arrays) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            "must have one value per bin each: got lengths "
            + ", ".join(f"{name}={n}" for name, n in lengths.items())
            + "."
        )


# Largest log-gain drawn: a gain exp(h) beyond 1e300 nears the float maximum,
# where matplotlib's drawing arithmetic overflows (h = 709) and exp itself
# (h > 709.8).
_MAX_LOG_GAIN = float(np.log(1e300))


def _history_gains(filters, ndim: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """History filters (log-rate change per spike) and their gains ``exp(filters)``.

    Refusals name ``filters``: those of :func:`_values`, and a log-gain above
    ``_MAX_LOG_GAIN`` (a gain beyond 1e300, not drawable).
    """
    h = _values(filters, "filters", ndim)
    top = float(h.max())
    if top > _MAX_LOG_GAIN:
        raise ValueError(
            f"filters holds a log-rate change of {top:.3g}: its gain exp(h) is beyond 1e300 "
            "and cannot be drawn (history filters are log-rate changes per spike, usually "
            "between -50 and 5)."
        )
    return h, np.exp(h)


def _symmetric_limit(values) -> float:
    vmax = float(np.max(np.abs(values)))
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

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_rf
    >>> rf = np.array([0.0, 0.5, -0.2, 0.1, 0.0, 0.0])
    >>> image = plot_rf(rf, (2, 3), title="RF")
    >>> image.get_clim(), image.get_cmap().name, image.colorbar.ax.get_ylabel()
    ((-0.5, 0.5), 'RdBu_r', 'weight (log rate per unit)')
    >>> [t.get_text() for t in image.axes.get_xticklabels()][1:-1]   # whole pixels
    ['0', '1', '2']
    """
    import matplotlib.pyplot as plt

    rf = _values(rf, "rf", (1, 2))
    if rf.ndim == 1:
        if frame_shape is None:
            raise ValueError("frame_shape is required to draw a flat rf.")
        rf = rf.reshape(frame_shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.6))
    vmax = _symmetric_limit(rf) if vmax is None else float(vmax)
    image = ax.imshow(rf, cmap=RF_CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest")
    _integer_pixel_ticks(ax)
    ax.set_xlabel("column (pixel)")
    ax.set_ylabel("row (pixel)")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=label, fraction=0.05, pad=0.04)
    return image


def _integer_pixel_ticks(ax) -> None:
    """Ticks of an image at whole pixels (0, 5, 10, not 0.0, 2.5)."""
    from matplotlib.ticker import MaxNLocator

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=5, integer=True, min_n_ticks=2))


def plot_rf_significance(
    coef,
    coef_std,
    frame_shape=None,
    *,
    level=0.05,
    z=None,
    style="mask",
    ax=None,
    vmax=None,
    title=None,
    colorbar=True,
    label="weight (log rate per unit)",
):
    """Draw an RF with its non-significant pixels masked, or its significant ones outlined.

    A pixel is significant when ``|coef| >= z * coef_std``: its Gaussian
    (Laplace) interval excludes 0 at two-sided ``level``, with ``z`` the
    standard normal quantile ``1 - level / 2`` (1.96 for 0.05).  These are
    per-pixel tests, not corrected for the number of pixels.  ``coef_std``
    comes from ``PoissonLNPRegressor(compute_std=True).coef_std_`` (see
    :ref:`error_bars`).  For a space-time RF, draw one lag block at a time.

    Parameters
    ----------
    coef : array-like of shape (n_pixels,) or (rows, cols)
        Weights (log-rate change per unit of stimulus).
    coef_std : array-like of the shape of ``coef``
        Their posterior standard deviations (non-negative).
    frame_shape : tuple (rows, cols), optional
        Needed when ``coef`` is flat.
    level : float, default=0.05
        Two-sided significance level, in (0, 1).
    z : float, optional
        Threshold on ``|coef| / coef_std`` (positive); replaces ``level``.
    style : {"mask", "outline"}, default="mask"
        ``"mask"`` paints non-significant pixels grey (``"0.6"``);
        ``"outline"`` draws every pixel and a black outline around the
        significant ones.
    ax : matplotlib Axes, optional
    vmax : float, optional
        Colour limit; ``max |coef|`` by default (limits ``[-vmax, vmax]``).
    title : str, optional
        Default: what is drawn and the threshold.
    colorbar : bool, default=True
    label : str
        Colorbar label.

    Returns
    -------
    image : matplotlib.image.AxesImage
    significant : ndarray of bool of shape (rows, cols)

    Raises
    ------
    ValueError
        When the shapes differ, ``coef_std`` is negative or not finite,
        ``level`` is not in (0, 1), ``z`` is not positive, or ``style`` is
        unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_rf_significance
    >>> coef = np.array([0.0, 0.5, -0.2, 0.1, 0.0, -0.6])
    >>> std = np.full(6, 0.1)
    >>> image, significant = plot_rf_significance(coef, std, (2, 3))
    >>> significant.astype(int).tolist()
    [[0, 1, 1], [0, 0, 1]]
    >>> print(image.axes.get_title())
    RF, pixels with |w| / std < 1.96 masked
    (two-sided p >= 0.05 per pixel)
    """
    from matplotlib.collections import LineCollection
    from scipy.stats import norm

    coef = np.asarray(coef, dtype=float)
    coef_std = np.asarray(coef_std, dtype=float)
    if coef.shape != coef_std.shape:
        raise ValueError(
            f"coef_std must have the shape of coef {coef.shape}; got {coef_std.shape}."
        )
    if not np.all(np.isfinite(coef_std)) or np.any(coef_std < 0):
        raise ValueError("coef_std must be finite and non-negative (standard deviations).")
    if style not in ("mask", "outline"):
        raise ValueError(f"style must be 'mask' or 'outline'; got {style!r}.")
    if z is None:
        if not (isinstance(level, (int, float, np.floating)) and 0 < level < 1):
            raise ValueError(f"level must be a probability in (0, 1); got {level!r}.")
        z = float(norm.ppf(1.0 - level / 2.0))
        threshold = f"(two-sided p >= {level:g} per pixel)"
    else:
        if not (isinstance(z, (int, float, np.floating)) and np.isfinite(z) and z > 0):
            raise ValueError(f"z must be a positive number; got {z!r}.")
        z = float(z)
        threshold = f"(two-sided p >= {2 * norm.sf(z):.3g} per pixel)"
    if coef.ndim == 1:
        if frame_shape is None:
            raise ValueError("frame_shape is required to draw a flat coef.")
        coef, coef_std = coef.reshape(frame_shape), coef_std.reshape(frame_shape)
    significant = np.abs(coef) >= z * coef_std
    if title is None:
        drawn = "masked" if style == "mask" else "outside the outlines"
        title = f"RF, pixels with |w| / std < {z:.2f} {drawn}\n{threshold}"
    image = plot_rf(coef, ax=ax, vmax=vmax, title=title, colorbar=colorbar, label=label)
    if style == "mask":
        cmap = image.get_cmap().with_extremes(bad="0.6")
        image.set_cmap(cmap)
        image.set_data(np.ma.masked_array(coef, mask=~significant))
    else:
        padded = np.pad(significant, 1)
        segments = []
        for i, j in zip(*np.nonzero(significant), strict=True):
            top, left = i - 0.5, j - 0.5
            if not padded[i, j + 1]:  # row above
                segments.append([(left, top), (left + 1, top)])
            if not padded[i + 2, j + 1]:  # row below
                segments.append([(left, top + 1), (left + 1, top + 1)])
            if not padded[i + 1, j]:  # column to the left
                segments.append([(left, top), (left, top + 1)])
            if not padded[i + 1, j + 2]:  # column to the right
                segments.append([(left + 1, top), (left + 1, top + 1)])
        image.axes.add_collection(LineCollection(segments, colors="black", linewidths=1.5))
    return image, significant


def plot_rf_lags(
    coef,
    frame_shape,
    lags,
    *,
    frame_duration=None,
    axes=None,
    title=None,
    label="weight (log rate per unit)",
):
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
    label : str
        Colorbar label (units of ``coef``, e.g. ``"z-score"`` for a z-scored STA).

    Returns
    -------
    fig : matplotlib Figure
    axes : list of Axes
    images : list of AxesImage

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_rf_lags
    >>> coef = np.concatenate([np.eye(3).ravel(), -0.5 * np.eye(3).ravel()])  # lags 0 and 2
    >>> fig, axes, images = plot_rf_lags(coef, (3, 3), lags=[0, 2], frame_duration=0.2)
    >>> [ax.get_title() for ax in axes], images[1].get_clim()
    (['lag 0 (0 ms)', 'lag 2 (400 ms)'], (-1.0, 1.0))
    """
    import matplotlib.pyplot as plt

    from .preprocessing import check_lags

    lags = list(check_lags(lags))
    n_pixels = int(np.prod(frame_shape))
    coef = _values(coef, "coef", (1, 2))
    if coef.size != len(lags) * n_pixels:
        raise ValueError(
            f"coef must hold len(lags) * n_pixels = {len(lags)} * {n_pixels} weights "
            f"(lag-major); got shape {coef.shape}."
        )
    maps = coef.reshape(len(lags), n_pixels)
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
        panel_title = f"lag {lag}"
        if frame_duration is not None:
            panel_title += f" ({1000 * lag * frame_duration:.0f} ms)"
        ax.set_title(panel_title)
        images.append(image)
    for ax in axes[1:]:
        ax.set_ylabel("")
        ax.tick_params(labelleft=False)  # the first panel's rows hold for all
    fig.colorbar(images[0], ax=axes, label=label, shrink=0.8)
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
    >>> fig.get_suptitle()                            # which delays of the grid are drawn
    '4 of 40 delays shown (grid 0-975 ms in 25 ms steps)'
    """
    import matplotlib.pyplot as plt

    taus = _values(taus, "taus", (1,))
    sta = _values(sta, "sta", (2,))
    if sta.shape[1] != taus.shape[0]:
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
    if columns.size < taus.size:
        step = 1000 * float(np.median(np.diff(taus))) if taus.size > 1 else 0.0
        shown = (
            f"{columns.size} of {taus.size} delays shown "
            f"(grid {1000 * taus[0]:.0f}-{1000 * taus[-1]:.0f} ms in {step:.0f} ms steps)"
        )
        title = shown if title is None else f"{title}\n{shown}"
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

    spatial_map = _values(spatial_map, "spatial_map", (2,))
    taus = _values(taus, "taus", (1,))
    temporal = _values(temporal, "temporal", (1,))
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

    lags = _values(list(lags), "lags", (1,))
    spatial = _values(spatial, "spatial", (1, 2))
    temporal = _values(temporal, "temporal", (1,))
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


def plot_counts_over_time(
    counts,
    rate=None,
    *,
    times=None,
    ax=None,
    max_bins=200,
    rate_label="expected",
    other_rates=None,
):
    """Draw observed counts (and expected counts) over time, saying which part is shown.

    Counts and expected counts are drawn as steps that hold for their whole
    bin.  When only the first ``max_bins`` of more bins are drawn, the title
    says so (e.g. "first 20 s of 200 s").

    Parameters
    ----------
    counts : array-like of shape (n_bins,)
    rate : array-like of shape (n_bins,), optional
        Expected counts per bin.
    times : array-like of shape (n_bins,), optional
        Bin start times (s); bin index by default.
    ax : matplotlib Axes, optional
    max_bins : int, default=200
        Only the first ``max_bins`` bins are drawn, so single bins stay visible.
    rate_label : str, default="expected"
        Legend label of ``rate`` (say what it is: the simulation's true rate,
        a model's prediction, in- or out-of-sample).
    other_rates : dict of str to array-like, optional
        More expected counts to draw, by legend label.

    Returns
    -------
    lines : list of Line2D
        The counts, then ``rate`` and ``other_rates`` in order.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_counts_over_time
    >>> counts, expected = np.array([0.0, 3.0, 1.0, 2.0]), np.array([0.5, 2.5, 1.2, 1.8])
    >>> observed, predicted = plot_counts_over_time(counts, expected, times=0.2 * np.arange(4),
    ...                                             max_bins=2, rate_label="fitted model")
    >>> observed.get_ydata().tolist(), predicted.get_label(), predicted.axes.get_title()
    ([0.0, 3.0], 'fitted model', 'first 0.4 s of 0.8 s')
    """
    import matplotlib.pyplot as plt

    counts = _values(counts, "counts", (1,), non_negative=True)
    if rate is not None:
        rate = _values(rate, "rate", (1,), non_negative=True)
        _same_length(counts=counts, rate=rate)
    n_bins = counts.size
    counts = counts[:max_bins]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 2.5))
    x = np.arange(counts.size) if times is None else np.asarray(times, dtype=float)[:max_bins]
    lines = list(ax.step(x, counts, where="post", color="0.3", label="spike count"))
    rates = {} if rate is None else {rate_label: rate}
    rates.update(other_rates or {})
    for k, (name, values) in enumerate(rates.items()):
        values = np.asarray(values, dtype=float)[:max_bins]
        lines += ax.step(x, values, where="post", color=f"C{3 + k}", lw=1.2, label=name)
    ax.set_xlabel("time (s)" if times is not None else "time bin")
    ax.set_ylabel("spikes per bin")
    if n_bins > counts.size:
        if times is None:
            ax.set_title(f"first {counts.size} of {n_bins} bins")
        else:
            all_times = np.asarray(times, dtype=float)
            width = float(np.median(np.diff(all_times))) if all_times.size > 1 else 0.0
            shown, total = x[-1] + width - all_times[0], all_times[-1] + width - all_times[0]
            ax.set_title(f"first {shown:.3g} s of {total:.3g} s")
    ax.legend(loc="upper right", frameon=False)
    return lines


def plot_count_vs_rate(counts, rate, *, ax=None, xlabel="expected count per bin"):
    """Scatter observed counts against expected counts, with the identity line.

    Parameters
    ----------
    counts, rate : array-like of shape (n_bins,)
    ax : matplotlib Axes, optional
    xlabel : str, default="expected count per bin"
        Say whose expectation it is (the simulation's, a fitted model's).

    Returns
    -------
    collection : PathCollection

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_count_vs_rate
    >>> collection = plot_count_vs_rate(np.array([0.0, 2.0, 5.0]), np.array([0.4, 2.2, 4.1]))
    >>> collection.get_offsets()[:, 0].tolist()       # expected counts on the x axis
    [0.4, 2.2, 4.1]
    """
    import matplotlib.pyplot as plt

    counts = _values(counts, "counts", (1,), non_negative=True)
    rate = _values(rate, "rate", (1,), non_negative=True)
    _same_length(counts=counts, rate=rate)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 3.5))
    jitter = np.random.default_rng(0).uniform(-0.2, 0.2, size=counts.shape)
    collection = ax.scatter(rate, counts + jitter, s=4, alpha=0.4, color="0.2")
    top = max(float(rate.max()), float(counts.max()))
    ax.plot([0, top], [0, top], color="C3", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("observed count (jittered)")
    return collection


def plot_lasso_grid(
    coefs,
    frame_shape,
    lags,
    alphas,
    *,
    frame_duration=None,
    axes=None,
    title=None,
    label="weight (log rate per unit)",
    scale="column",
):
    """Draw receptive fields over a lags x penalties grid, each scale centred at 0.

    Rows are lags, columns penalties (the lab's figure of L1 fits); each panel
    is titled with its penalty (top row) and notes how many of its weights are
    non-zero.  With ``scale="column"`` every penalty has its own colour scale
    and colorbar (weights shrink by orders of magnitude along the path, so one
    shared scale leaves the strongly penalised columns pale); ``"shared"``
    puts all panels on one scale.

    Parameters
    ----------
    coefs : array-like of shape (n_lags, n_alphas, n_pixels)
        ``coefs[i, j]`` is the RF fitted at lag ``lags[i]`` with penalty
        ``alphas[j]`` (e.g. ``lasso_lnp_path(...).coefs.T`` of each lag).
    frame_shape : tuple (rows, cols)
    lags : sequence of int
        Lag of each row, in frames.
    alphas : sequence of float
        Penalty of each column.
    frame_duration : float, optional
        Mean frame duration (s); adds the lag in ms to the row labels.
    axes : array of matplotlib Axes of shape (n_lags, n_alphas), optional
    title : str, optional
        Figure title.
    label : str
        Colorbar label (units of the weights).
    scale : {"column", "shared"}, default="column"
        One colour scale (and colorbar) per penalty, or one for all panels.

    Returns
    -------
    fig : matplotlib Figure
    axes : ndarray of Axes of shape (n_lags, n_alphas)
    images : ndarray of AxesImage of shape (n_lags, n_alphas)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_lasso_grid
    >>> coefs = np.zeros((2, 3, 6))
    >>> coefs[0, :, 4] = [0.5, 0.2, 0.0]        # shrinks to zero as alpha grows
    >>> fig, axes, images = plot_lasso_grid(coefs, (2, 3), lags=[0, 1], alphas=[0.01, 0.03, 0.1])
    >>> axes.shape, [ax.get_title() for ax in axes[0]]
    ((2, 3), ['α = 0.01', 'α = 0.03', 'α = 0.1'])
    >>> images[0, 0].get_clim(), images[0, 1].get_clim()   # a scale per column
    ((-0.5, 0.5), (-0.2, 0.2))
    """
    import matplotlib.pyplot as plt

    lags = list(lags)
    alphas = [float(a) for a in _values(alphas, "alphas", (1,))]
    n_pixels = int(np.prod(frame_shape))
    coefs = _values(coefs, "coefs", (3,))
    if coefs.shape != (len(lags), len(alphas), n_pixels):
        raise ValueError(
            f"coefs must have shape (n_lags, n_alphas, n_pixels) = ({len(lags)}, {len(alphas)}, "
            f"{n_pixels}); got {coefs.shape}."
        )
    if axes is None:
        fig, axes = plt.subplots(
            len(lags),
            len(alphas),
            figsize=(1.9 * len(alphas) + 1.4, 2.2 * len(lags) + 0.4),
            squeeze=False,
        )
    else:
        axes = np.asarray(axes, dtype=object).reshape(len(lags), len(alphas))
        fig = axes[0, 0].figure
    if scale not in ("column", "shared"):
        raise ValueError(f"scale must be 'column' or 'shared'; got {scale!r}.")
    if scale == "shared":
        limits = [_symmetric_limit(coefs)] * len(alphas)
    else:
        limits = [_symmetric_limit(coefs[:, j]) for j in range(len(alphas))]
    images = np.empty((len(lags), len(alphas)), dtype=object)
    for i, lag in enumerate(lags):
        for j, alpha in enumerate(alphas):
            ax = axes[i, j]
            images[i, j] = plot_rf(coefs[i, j], frame_shape, ax=ax, vmax=limits[j], colorbar=False)
            nonzero = int(np.count_nonzero(coefs[i, j]))
            ax.text(0.03, 0.03, f"{nonzero} ≠ 0", transform=ax.transAxes, fontsize=7, color="0.2")
            ax.set_title(f"α = {alpha:.3g}" if i == 0 else "")
            ax.set_xlabel("column (pixel)" if i == len(lags) - 1 else "")
            ax.tick_params(labelleft=j == 0, labelbottom=i == len(lags) - 1)
            if j == 0:
                row = f"lag {lag}"
                if frame_duration is not None:
                    row += f" ({1000 * lag * frame_duration:.0f} ms)"
                ax.set_ylabel(f"{row}\nrow (pixel)")
            else:
                ax.set_ylabel("")
    if scale == "shared":
        fig.colorbar(images[0, 0], ax=axes.ravel().tolist(), label=label, shrink=0.8)
    else:
        for j in range(len(alphas)):
            bar = fig.colorbar(
                images[-1, j],
                ax=axes[:, j].tolist(),
                location="bottom",
                shrink=0.9,
                pad=0.06,
                aspect=12,
            )
            bar.ax.tick_params(labelsize=7, rotation=45)
            bar.set_label(label if j == 0 else "", fontsize=8)
    if title is not None:
        fig.suptitle(title)
    return fig, axes, images


def plot_cv_curve(
    alphas,
    scores,
    *,
    chosen=None,
    ax=None,
    xlabel="penalty α (scikit-learn scaling)",
    ylabel="held-out bits per spike",
    label=None,
    baseline=None,
    baseline_label="constant rate of the training blocks (no stimulus)",
):
    """Draw a cross-validation curve over penalties, with the chosen penalty marked.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        Penalties (positive; drawn on a log axis).
    scores : array-like of shape (n_alphas,) or (n_alphas, n_folds)
        Held-out score per penalty, or per penalty and fold: then the mean
        over folds is drawn with a band of one standard error of the mean.
    chosen : float, optional
        Chosen penalty (e.g. ``LassoLNPCV.alpha_`` or
        ``GridSearchCV.best_params_``): marked with a vertical line and a
        dot on the curve at the grid value nearest to it.
    ax : matplotlib Axes, optional
    xlabel, ylabel : str
        Axis labels (``ylabel`` names the score and its unit).
    label : str, optional
        Legend label of the curve (to draw several curves on one ``ax``).
    baseline : float or array-like of shape (n_folds,), optional
        Held-out score of a model without stimulus (per fold: their mean is
        drawn), as a horizontal line: a penalty helps only above it.
    baseline_label : str
        Its legend label.

    Returns
    -------
    line : Line2D
        The (mean) score against the penalty.
    band : PolyCollection or None
        Mean +- standard error over folds (2-d ``scores`` only).
    marker : Line2D or None
        The vertical line at ``chosen``.

    The horizontal baseline line, when drawn, is ``ax.get_lines()`` labelled
    ``baseline_label``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_cv_curve
    >>> alphas = np.logspace(-3, 0, 4)
    >>> scores = np.array([[0.01, 0.02], [0.03, 0.04], [0.02, 0.02], [0.0, 0.0]])
    >>> line, band, marker = plot_cv_curve(alphas, scores, chosen=0.01)
    >>> line.get_ydata().round(3).tolist(), float(marker.get_xdata()[0])
    ([0.015, 0.035, 0.02, 0.0], 0.01)
    """
    import matplotlib.pyplot as plt

    alphas = _values(alphas, "alphas", (1,))
    scores = _values(scores, "scores", (1, 2))
    if scores.shape[:1] != alphas.shape:
        raise ValueError(
            f"scores must have shape (n_alphas,) or (n_alphas, n_folds) with n_alphas = "
            f"{alphas.size}; got {scores.shape}."
        )
    if not np.all((alphas > 0) & (alphas <= 1e100)):
        # matplotlib's log-axis transform overflows for values near 1e300.
        raise ValueError(
            "alphas must be positive and at most 1e100 (they are drawn on a log axis); got "
            f"range [{alphas.min():.3g}, {alphas.max():.3g}]."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.2))
    order = np.argsort(alphas)
    alphas, scores = alphas[order], scores[order]
    band = None
    if scores.ndim == 2:
        mean = np.nanmean(scores, axis=1)
        n_folds = np.sum(np.isfinite(scores), axis=1)
        sem = np.nanstd(scores, axis=1, ddof=1) / np.sqrt(n_folds) if scores.shape[1] > 1 else 0
        band = ax.fill_between(alphas, mean - sem, mean + sem, color="C0", alpha=0.2, lw=0)
    else:
        mean = scores
    (line,) = ax.plot(alphas, mean, marker="o", ms=4, color="C0", label=label)
    ax.set_xscale("log")
    marker = None
    if chosen is not None:
        chosen = float(chosen)
        nearest = int(np.argmin(np.abs(np.log(alphas) - np.log(chosen))))
        marker = ax.axvline(chosen, color="C3", lw=1, ls="--", label=f"chosen α = {chosen:.3g}")
        ax.plot(alphas[nearest], mean[nearest], marker="o", ms=7, color="C3")
    if baseline is not None:
        level = float(np.nanmean(np.asarray(baseline, dtype=float)))
        ax.axhline(level, color="0.4", lw=1, ls=":", label=baseline_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if chosen is not None or label is not None or baseline is not None:
        ax.legend(frameon=False, fontsize=8)
    return line, band, marker


@validate_params({"bin_width": [POSITIVE]}, prefer_skip_nested_validation=True)
def plot_history_gain(filters, bin_width, *, lags=None, labels=None, ax=None, title=None):
    """Draw spike-history filters as a multiplicative gain on the rate over time in ms.

    Parameters
    ----------
    filters : array-like of shape (n_lags,) or (n_lags, n_filters)
        History filters over lags (log-rate change per past spike, e.g.
        ``SpikeHistoryTransformer.coef_to_lags(coef).reshape(n_lags, n_neurons)``).
    bin_width : float
        Bin width in s.
    lags : array-like of int of shape (n_lags,), optional
        Lags in bins; ``1 .. n_lags`` by default.
    labels : list of str, optional
        One legend label per filter.
    ax : matplotlib Axes, optional
    title : str, optional
        Default: "Spike-history gain exp(h) after a spike".

    Returns
    -------
    lines : list of matplotlib.lines.Line2D
        One line per filter (the dotted gain-1 reference line is not included).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_history_gain
    >>> lines = plot_history_gain(-3 * np.exp(-np.arange(10) / 2), 0.001)
    >>> lines[0].axes.get_xlabel(), lines[0].axes.get_ylabel()
    ('time since spike (ms)', 'gain on the firing rate, exp(h)')
    """
    import matplotlib.pyplot as plt

    h, gains = _history_gains(filters, (1, 2))
    if h.ndim == 1:
        h, gains = h[:, None], gains[:, None]
    lags = np.arange(1, h.shape[0] + 1) if lags is None else np.asarray(lags)
    if lags.shape != (h.shape[0],):
        raise ValueError(f"lags must have one entry per filter row ({h.shape[0]}).")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.2))
    times = 1000.0 * float(bin_width) * lags
    lines = []
    for i in range(h.shape[1]):
        label = None if labels is None else labels[i]
        (line,) = ax.plot(times, gains[:, i], marker="o", ms=3, label=label)
        lines.append(line)
    ax.axhline(1.0, color="0.5", lw=1, ls=":")
    ax.set_xlabel("time since spike (ms)")
    ax.set_ylabel("gain on the firing rate, exp(h)")
    ax.set_title(title if title is not None else "Spike-history gain exp(h) after a spike")
    if labels is not None:
        ax.legend(frameon=False, fontsize=8)
    return lines


@validate_params({"bin_width": [POSITIVE]}, prefer_skip_nested_validation=True)
def plot_coupling_filters(filters, bin_width, *, names=None, axes=None, title=None):
    """Draw a population's history and coupling filters as gains, one panel per pair.

    Panel ``(j, i)`` (row = target, column = source) shows how a spike of
    neuron ``i`` multiplies the rate of neuron ``j`` over the following ms;
    the diagonal holds each neuron's own history.

    Parameters
    ----------
    filters : array-like of shape (n_lags, n_neurons, n_neurons)
        ``[k, i, j]``: log-rate change of neuron ``j`` at lag ``k + 1`` bins
        after a spike of neuron ``i`` (the layout of
        :func:`~sklearn_lnp.simulation.simulate_glm_spikes`).
    bin_width : float
        Bin width in s.
    names : list of str, optional
        Neuron names; ``"neuron 0" ...`` by default.
    axes : array of matplotlib Axes of shape (n_neurons, n_neurons), optional
    title : str, optional
        Figure title; default "Coupling filters: gain on the target's rate after a
        source spike".

    Returns
    -------
    axes : ndarray of matplotlib Axes of shape (n_neurons, n_neurons)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.plotting import plot_coupling_filters
    >>> axes = plot_coupling_filters(np.zeros((5, 2, 2)), 0.001)
    >>> axes[1, 0].get_title()
    'neuron 0 → neuron 1'
    """
    import matplotlib.pyplot as plt

    h, gains = _history_gains(filters, (3,))
    if h.shape[1] != h.shape[2]:
        raise ValueError(f"filters must have shape (n_lags, n_neurons, n_neurons); got {h.shape}.")
    n_lags, n = h.shape[0], h.shape[1]
    names = [f"neuron {i}" for i in range(n)] if names is None else list(names)
    if axes is None:
        fig, axes = plt.subplots(n, n, figsize=(2.2 * n, 1.8 * n), sharex=True, squeeze=False)
    axes = np.asarray(axes).reshape(n, n)
    times = 1000.0 * float(bin_width) * np.arange(1, n_lags + 1)
    top = max(1.5, float(gains.max()) * 1.05)
    for j in range(n):
        for i in range(n):
            ax = axes[j, i]
            ax.plot(times, gains[:, i, j], color="C0" if i == j else "C1")
            ax.axhline(1.0, color="0.5", lw=1, ls=":")
            ax.set_ylim(0, top)
            ax.set_title(f"{names[i]} → {names[j]}", fontsize=8)
            if j == n - 1:
                ax.set_xlabel("time since source spike (ms)", fontsize=8)
            if i == 0:
                ax.set_ylabel("gain exp(h)", fontsize=8)
    axes[0, 0].figure.suptitle(
        title
        if title is not None
        else "Coupling filters: gain on the target's rate after a source spike"
    )
    return axes
