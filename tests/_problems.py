"""Simulated Poisson problems shared by the tests: plain functions of a seed.

Every function draws from its own ``np.random.default_rng(seed)`` in a fixed
order, so a test (a hypothesis test included) gets the same problem for the
same arguments on any machine.

* :func:`poisson_problem`: a design ``X`` (Gaussian or +-1), weights (all,
  the first ``n_active``, or given), exposure and sample weights, and
  Poisson counts ``y ~ Poisson(rate_scale * exposure * exp(X @ w + b))``, for
  one neuron or a population (``n_neurons``).  The arguments reproduce the
  ``make_problem`` / ``make_data`` / ``_problem`` / ``_population`` copies of
  the solver tests (draws in the order X, sparsity mask, weights, intercepts,
  exposure, counts, sample weights).
* :func:`lagged_separable_neuron`: the separable space-time neuron of
  :func:`sklearn_lnp.datasets.make_separable_neuron` seen through lags 0-4,
  with bins of unequal width.
* :func:`design_with_entries`: a small uniform design with ``count`` entries
  set to +-``value``, in a chosen dtype and memory layout (for the checks of
  non-finite and unrepresentable entries).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from sklearn_lnp import LagTransformer
from sklearn_lnp.datasets import make_separable_neuron


def poisson_problem(
    n_samples,
    n_features,
    *,
    seed=0,
    design="normal",
    x_scale=1.0,
    sparsity=None,
    n_neurons=None,
    n_active=None,
    coef_scale=0.4,
    per_sqrt_features=False,
    coef=None,
    intercept=0.3,
    exposure=(0.5, 1.5),
    sample_weight=None,
    rate_scale=1.0,
    dtype=np.float64,
    sparse=False,
):
    """A simulated Poisson regression problem (one neuron, or ``n_neurons``).

    Parameters
    ----------
    n_samples, n_features : int
    seed : int
        Seed of the one generator every array is drawn from.
    design : {"normal", "binary"}
        ``X`` standard normal (times ``x_scale``) or +-1 white noise.
    sparsity : float, optional
        Fraction of the entries of ``X`` set to 0 (mask drawn after ``X``).
    n_neurons : int, optional
        A population: weights of shape (n_features, n_neurons), counts of
        shape (n_samples, n_neurons).  None: one neuron.
    n_active : int, optional
        Only the first ``n_active`` weights are non-zero (drawn); None: all.
    coef_scale : float
        The drawn weights are ``standard_normal * coef_scale``.
    per_sqrt_features : bool
        Divide the drawn weights by ``sqrt(n_features)`` (a rate of the same
        spread for any number of features).
    coef : array-like, optional
        Fixed weights (nothing drawn for them).
    intercept : float or (low, high)
        The log baseline rate; a pair draws one per neuron, uniform in it.
    exposure : (low, high) or None
        Bin widths uniform in [low, high), or None (no exposure: all ones).
    sample_weight : (low, high) or None
        Sample weights uniform in [low, high), drawn after the counts.
    rate_scale : float
        Factor of the rate (the expected count is
        ``rate_scale * exposure * exp(X @ w + b)``).
    dtype : numpy dtype
        dtype of the returned ``X`` (the counts use the float64 design).
    sparse : bool
        Return ``X`` as a CSR matrix.

    Returns
    -------
    Bunch
        ``X``, ``y``, ``exposure`` (None when not drawn), ``sample_weight``
        (None when not drawn), ``coef``, ``intercept``.
    """
    rng = np.random.default_rng(seed)
    if design == "normal":
        X = rng.standard_normal((n_samples, n_features))
        if x_scale != 1.0:
            X = X * x_scale
    elif design == "binary":
        X = rng.choice([-1.0, 1.0], size=(n_samples, n_features))
    else:
        raise ValueError(f"design must be 'normal' or 'binary'; got {design!r}")
    if sparsity is not None:
        X[rng.random((n_samples, n_features)) < sparsity] = 0.0
    shape = (n_features,) if n_neurons is None else (n_features, n_neurons)
    if coef is not None:
        w = np.asarray(coef, dtype=np.float64)
    else:
        drawn = rng.standard_normal(shape if n_active is None else (n_active,) + shape[1:])
        drawn = drawn * coef_scale
        if per_sqrt_features:
            drawn = drawn / np.sqrt(n_features)
        if n_active is None:
            w = drawn
        else:
            w = np.zeros(shape)
            w[:n_active] = drawn
    if np.ndim(intercept) == 0:
        b = intercept
    else:
        b = rng.uniform(intercept[0], intercept[1], 1 if n_neurons is None else n_neurons)
    e = None if exposure is None else rng.uniform(exposure[0], exposure[1], n_samples)
    scale = 1.0 if e is None else e
    if n_neurons is not None and e is not None:
        scale = e[:, None]
    eta = X.astype(np.float64) @ w + b
    y = rng.poisson(rate_scale * scale * np.exp(eta)).astype(np.float64)
    s = (
        None
        if sample_weight is None
        else rng.uniform(sample_weight[0], sample_weight[1], n_samples)
    )
    X = X.astype(dtype, copy=False)
    if sparse:
        X = sp.csr_matrix(X)
    return Bunch(X=X, y=y, exposure=e, sample_weight=s, coef=w, intercept=b)


def lagged_separable_neuron(
    n_bins, frame_shape, *, seed=0, exposure=(0.15, 0.25), exposure_seed=0, counts_seed=None
):
    """A separable space-time neuron on lags 0-4, with bins of unequal width.

    The neuron (+-1 checkerboard, rank-1 RF, intercept) is
    ``make_separable_neuron(n_bins, frame_shape=frame_shape, random_state=seed)``;
    ``X`` is its stimulus through ``LagTransformer(lags=range(5))``.  The
    exposure is drawn uniform in ``exposure`` from
    ``default_rng(exposure_seed)``, and the counts
    ``Poisson(exposure * exp(intercept + X @ coef))`` from
    ``default_rng(counts_seed)``, or, when ``counts_seed`` is None, from the
    exposure's generator after the exposure.

    Returns
    -------
    Bunch
        That of ``make_separable_neuron`` with ``X``, and ``exposure`` and
        ``counts`` replaced by the unequal bins and their counts.
    """
    neuron = make_separable_neuron(n_bins, frame_shape=frame_shape, random_state=seed)
    neuron.X = LagTransformer(lags=range(5)).fit_transform(neuron.stimulus)
    rng = np.random.default_rng(exposure_seed)
    neuron.exposure = rng.uniform(exposure[0], exposure[1], size=n_bins)
    if counts_seed is not None:
        rng = np.random.default_rng(counts_seed)
    rate = neuron.exposure * np.exp(neuron.intercept + neuron.X @ neuron.coef)
    neuron.counts = rng.poisson(rate).astype(float)
    return neuron


def design_with_entries(n, p, value, count, layout, dtype, seed):
    """An ``(n, p)`` uniform(-1, 1) design with ``count`` entries set to ``+-value``.

    The entries are drawn in a ``(n, 2 p)`` array, then ``dtype`` is applied
    (float32 turns values beyond its range into inf), then the layout:
    ``"C"`` and ``"F"`` contiguous copies of the first ``p`` columns,
    ``"strided"`` every second column (a non-contiguous view), ``"csr"`` a
    sparse copy of the first ``p`` columns.
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 2 * p))
    flat = X.reshape(-1)
    flat[rng.integers(0, flat.size, count)] = value * rng.choice([-1.0, 1.0], count)
    with np.errstate(over="ignore"):
        X = X.astype(dtype)
    if layout == "C":
        return X[:, :p].copy()
    if layout == "F":
        return np.asfortranarray(X[:, :p])
    if layout == "strided":
        return X[:, ::2]
    if layout == "csr":
        return sp.csr_matrix(X[:, :p])
    raise ValueError(f"layout must be 'C', 'F', 'strided' or 'csr'; got {layout!r}.")
