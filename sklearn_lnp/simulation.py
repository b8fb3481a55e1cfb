r"""Simulated spike trains of Poisson GLMs with spike history and coupling.

In a GLM with history, the expected count of neuron ``j`` in bin ``t`` is

.. math:: \mu_{tj} = e_t \exp\Bigl(d_{tj} + \sum_{k=1}^{K} \sum_i h_{k i j}\, y_{t-k, i}\Bigr),

where ``d`` is the stimulus drive (plus baseline), ``e`` the exposure (bin
width) and ``h`` the history (``i = j``) and coupling (``i != j``) filters.
Each bin depends on the spikes just drawn, so the simulation is sequential.
:func:`simulate_glm_spikes` runs it in a compiled (numba) loop that adds
each spike's filters to the future log-rates when it is drawn: the cost is
``n_samples * n_neurons`` draws plus ``n_spikes * n_lags * n_neurons``
updates.  The conventions match :class:`~sklearn_lnp.SpikeHistoryTransformer`
with ``lags=range(1, K + 1)``: filter row ``k`` acts at lag ``k + 1``.
"""

from __future__ import annotations

import numbers

import numpy as np
from numba import njit
from sklearn.utils import check_random_state

from ._validation import as_real_array

__all__ = ["simulate_glm_spikes"]


@njit(cache=True)
def _simulate(log_rate, exposure, filters, max_mean_count, seed):  # pragma: no cover - compiled
    # numba's own generator (per thread), seeded here: the draws depend only on seed.
    np.random.seed(seed)  # noqa: NPY002
    n_samples, n_neurons = log_rate.shape
    n_lags = filters.shape[0]
    eta = log_rate.copy()
    counts = np.zeros((n_samples, n_neurons))
    log_bound = np.log(max_mean_count)
    for t in range(n_samples):
        log_exposure = np.log(exposure[t])
        for j in range(n_neurons):
            log_mu = eta[t, j] + log_exposure
            if log_mu > log_bound:
                return counts, t, j, log_mu
            counts[t, j] = np.random.poisson(np.exp(log_mu))  # noqa: NPY002
        for i in range(n_neurons):
            c = counts[t, i]
            if c == 0.0:
                continue
            stop = min(n_lags, n_samples - 1 - t)
            for k in range(stop):
                for j in range(n_neurons):
                    eta[t + 1 + k, j] += c * filters[k, i, j]
    return counts, -1, -1, 0.0


def _format_exp(log_value: float) -> str:
    """``exp(log_value)`` for a message, written as a power of 10 beyond the float range."""
    if log_value < np.log(np.finfo(np.float64).max):
        return f"{np.exp(log_value):.3g}"
    return f"10**{log_value / np.log(10.0):.4g}"


def simulate_glm_spikes(
    log_rate,
    history_filters,
    *,
    exposure=1.0,
    max_mean_count: float = 10.0,
    random_state=None,
) -> np.ndarray:
    """Draw spike counts from a Poisson GLM with history and coupling filters.

    Parameters
    ----------
    log_rate : array-like of shape (n_samples,) or (n_samples, n_neurons)
        Stimulus drive plus baseline: log of the expected count per unit of
        exposure (e.g. log spikes/s when ``exposure`` is the bin width in s),
        before any history.
    history_filters : array-like of shape (n_lags,), (n_lags, n_neurons) or (n_lags, n, n)
        Log-rate change per past spike; row ``k`` acts at lag ``k + 1`` bins.
        1-d: the same self-history for every neuron; 2-d: one self-history
        per neuron (no coupling); 3-d, ``n = n_neurons``: ``[k, i, j]`` is the effect of neuron
        ``i``'s spike on neuron ``j`` (diagonal: history, off-diagonal:
        coupling).
    exposure : float or array-like of shape (n_samples,), default=1.0
        Positive bin widths (or any positive exposure) multiplying the rate.
    max_mean_count : float, default=10.0
        Largest expected count per bin allowed.  Positive history or coupling
        filters can feed back into a runaway rate; the simulation stops with
        a ``ValueError`` naming the bin when the expected count exceeds this
        bound.  (At 1 ms bins, 10 is a rate of 10 kHz, beyond any neuron.)
    random_state : int, RandomState instance or None, default=None
        Seed of the draws: the same seed gives the same spikes.

    Returns
    -------
    ndarray of shape (n_samples, n_neurons)
        float64 counts (2-d also for one neuron).

    Raises
    ------
    ValueError
        On inconsistent shapes, non-finite values, non-positive exposure or
        ``max_mean_count``, or when the expected count exceeds
        ``max_mean_count``: from ``log_rate`` and ``exposure`` alone (checked
        before drawing) or from a runaway history.

    Examples
    --------
    A neuron firing 50 spikes/s in 1 ms bins with an absolute refractory
    period of 2 ms: no two spikes are closer than 3 bins.

    >>> import numpy as np
    >>> from sklearn_lnp.simulation import simulate_glm_spikes
    >>> counts = simulate_glm_spikes(np.full(20000, np.log(50.0)), [-30.0, -30.0],
    ...                              exposure=0.001, random_state=0)
    >>> counts.shape, bool(np.diff(np.flatnonzero(counts[:, 0])).min() >= 3)
    ((20000, 1), True)
    """
    drive = as_real_array(log_rate, "log_rate", "log-rates")
    if drive.ndim == 1:
        drive = drive[:, None]
    if drive.ndim != 2 or drive.size == 0 or not np.all(np.isfinite(drive)):
        raise ValueError(
            f"log_rate must be a finite, non-empty 1-d or 2-d (n_samples, n_neurons) array; "
            f"got shape {drive.shape}."
        )
    n_samples, n_neurons = drive.shape
    h = as_real_array(history_filters, "history_filters", "log-rate changes per spike")
    if h.ndim == 1:
        h = np.einsum("k,ij->kij", h, np.eye(n_neurons))
    elif h.ndim == 2:
        if h.shape[1] != n_neurons:
            raise ValueError(
                f"history_filters of shape (n_lags, n_neurons) must have {n_neurons} columns "
                f"(one per neuron of log_rate); got shape {h.shape}."
            )
        h = np.einsum("kj,ij->kij", h, np.eye(n_neurons))
    if h.ndim != 3 or h.shape[1:] != (n_neurons, n_neurons) or h.shape[0] < 1:
        raise ValueError(
            f"history_filters must have shape (n_lags,), (n_lags, {n_neurons}) or "
            f"(n_lags, {n_neurons}, {n_neurons}); got {np.shape(history_filters)}."
        )
    if not np.all(np.isfinite(h)):
        raise ValueError("history_filters must be finite.")
    e = as_real_array(exposure, "exposure", "bin widths")
    e = np.broadcast_to(e, (n_samples,)) if e.ndim == 0 else e
    if e.shape != (n_samples,) or not np.all(np.isfinite(e)) or np.any(e <= 0):
        raise ValueError(
            f"exposure must be positive and finite, a scalar or of shape ({n_samples},); got "
            f"shape {np.shape(exposure)}."
        )
    if (
        isinstance(max_mean_count, bool)
        or not isinstance(max_mean_count, numbers.Real)
        or not 0 < max_mean_count < np.inf
    ):
        raise ValueError(
            f"max_mean_count must be a positive finite number; got {max_mean_count!r}."
        )
    # Before any spike the log expected count is log_rate + log(exposure).
    log_mu0 = drive + np.log(e)[:, None]
    t, j = np.unravel_index(np.argmax(log_mu0), log_mu0.shape)
    if log_mu0[t, j] > np.log(max_mean_count):
        raise ValueError(
            f"log_rate and exposure give neuron {j} in bin {t} an expected count of "
            f"{_format_exp(log_mu0[t, j])} before any history, above "
            f"max_mean_count={max_mean_count}: lower log_rate or exposure, or raise "
            "max_mean_count."
        )
    seed = int(check_random_state(random_state).randint(0, 2**31 - 1))
    counts, t, j, log_mu = _simulate(
        np.ascontiguousarray(drive, dtype=np.float64),
        np.ascontiguousarray(e, dtype=np.float64),
        np.ascontiguousarray(h, dtype=np.float64),
        float(max_mean_count),
        seed,
    )
    if t >= 0:
        raise ValueError(
            f"The expected count of neuron {j} in bin {t} is {_format_exp(log_mu)}, above "
            f"max_mean_count={max_mean_count}: the history_filters (or log_rate) drive a runaway "
            "rate (positive feedback of spikes on the rate). Make the history and coupling "
            "filters less excitatory, lower log_rate, or raise max_mean_count."
        )
    return counts
