r"""Goodness of fit for Poisson spike-count predictions.

All functions take observed counts ``y_true`` and *expected counts*
``y_pred`` (``exposure * rate``, what ``predict`` returns with the same
``exposure``).  ``exposure`` is only needed to build the constant-rate null
model (rate ``sum(y) / sum(exposure)``) of :func:`d2_poisson_score` and
:func:`bits_per_spike`.

For cross-validation use the exposure-aware scorers, :func:`get_scorer`
(``"bits_per_spike"``, ``"d2_poisson"``, ``"poisson_log_likelihood"``,
``"neg_poisson_deviance"``) or :func:`make_lnp_scorer`, with metadata routing
enabled: they multiply the model's rate by the routed ``exposure``, which
scikit-learn's ``make_scorer`` cannot do.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
from scipy.special import gammaln, xlogy
from sklearn.utils.metadata_routing import UNCHANGED, MetadataRequest

from ._validation import check_counts, check_exposure


def _prepare(y_true, y_pred, sample_weight):
    y_true = check_counts(np.ravel(y_true), "y_true")
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_pred.shape != y_true.shape:
        raise ValueError(
            f"y_pred must have the shape of y_true {y_true.shape}; got {y_pred.shape}."
        )
    if not np.all(np.isfinite(y_pred)) or np.any(y_pred < 0):
        raise ValueError("y_pred (expected counts) must be finite and non-negative.")
    if sample_weight is None:
        sample_weight = np.ones_like(y_true)
    else:
        sample_weight = np.asarray(sample_weight, dtype=np.float64).ravel()
        if sample_weight.shape != y_true.shape:
            raise ValueError(
                f"sample_weight must have the shape of y_true {y_true.shape}; "
                f"got {sample_weight.shape}."
            )
    return y_true, y_pred, sample_weight


def _null_prediction(y_true, exposure, sample_weight):
    exposure = check_exposure(exposure, y_true.shape[0])
    if exposure is None:
        exposure = np.ones_like(y_true)
    rate = np.sum(sample_weight * y_true) / np.sum(sample_weight * exposure)
    return exposure * rate


def poisson_log_likelihood(y_true, y_pred, *, sample_weight=None) -> float:
    """Total Poisson log-likelihood ``sum_t s_t (y_t log mu_t - mu_t - log y_t!)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed counts.
    y_pred : array-like of shape (n_samples,)
        Expected counts ``mu_t``.
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float
        Log-likelihood in nats (``-inf`` if a count falls where ``mu = 0``).

    Examples
    --------
    >>> from sklearn_lnp.metrics import poisson_log_likelihood
    >>> # log P(0 | 1) + log P(2 | 2) = -1 + (2 log 2 - 2 - log 2!)
    >>> round(poisson_log_likelihood([0, 2], [1.0, 2.0]), 6)
    -2.306853
    """
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    with np.errstate(divide="ignore"):
        terms = xlogy(y_true, y_pred) - y_pred - gammaln(y_true + 1.0)
    return float(np.sum(sample_weight * terms))


def poisson_deviance(y_true, y_pred, *, sample_weight=None) -> float:
    """Total Poisson deviance ``2 sum_t s_t (y log(y / mu) - y + mu)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Observed and expected counts.
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float
        Non-negative deviance (nats, times two).

    Examples
    --------
    >>> from sklearn_lnp.metrics import poisson_deviance
    >>> poisson_deviance([0, 2], [1.0, 2.0])   # 2 * ((0 - 0 + 1) + (2 log 1 - 2 + 2))
    2.0
    """
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    with np.errstate(divide="ignore"):
        terms = xlogy(y_true, y_true) - xlogy(y_true, y_pred) - y_true + y_pred
    return float(2.0 * np.sum(sample_weight * terms))


def d2_poisson_score(y_true, y_pred, *, exposure=None, sample_weight=None) -> float:
    """Fraction of Poisson deviance explained, relative to a constant rate.

    ``1 - D(y, mu) / D(y, mu_0)`` with ``mu_0 = exposure * sum(y) / sum(exposure)``;
    equals scikit-learn's ``d2_tweedie_score(power=1)`` when ``exposure`` is None.

    Returns
    -------
    float
        At most 1; 0 for the constant-rate model; negative when worse.

    Examples
    --------
    >>> from sklearn_lnp.metrics import d2_poisson_score
    >>> counts = [0, 1, 3, 4]
    >>> d2_poisson_score(counts, counts), d2_poisson_score(counts, [2, 2, 2, 2])
    (1.0, 0.0)
    >>> round(d2_poisson_score(counts, [0.5, 1.0, 3.0, 3.5]), 3)
    0.838
    """
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    null = _null_prediction(y_true, exposure, sample_weight)
    dev_null = poisson_deviance(y_true, null, sample_weight=sample_weight)
    if dev_null == 0:
        return float("nan")
    return 1.0 - poisson_deviance(y_true, y_pred, sample_weight=sample_weight) / dev_null


def bits_per_spike(y_true, y_pred, *, exposure=None, sample_weight=None) -> float:
    """Log-likelihood gain over the constant-rate model, per spike, in bits.

    ``(LL(mu) - LL(mu_0)) / (sum(y) log 2)``, with ``mu_0`` the constant-rate
    prediction ``exposure * sum(y) / sum(exposure)``.

    Returns
    -------
    float
        Bits per spike; positive when the model predicts better than a
        constant rate.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.metrics import bits_per_spike
    >>> counts = np.array([0.0, 1.0, 3.0, 4.0])
    >>> float(bits_per_spike(counts, np.full(4, 2.0)))   # the constant rate itself
    0.0
    >>> round(float(bits_per_spike(counts, [0.5, 1.0, 3.0, 3.5])), 3)
    0.498
    >>> # Bins of unequal width: the null model is a constant rate per second.
    >>> widths = np.array([0.2, 0.2, 0.4, 0.4])
    >>> round(float(bits_per_spike(counts, 10.0 * widths, exposure=widths)), 3)
    -0.136
    """
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    null = _null_prediction(y_true, exposure, sample_weight)
    n_spikes = float(np.sum(sample_weight * y_true))
    if n_spikes == 0:
        raise ValueError("bits_per_spike needs at least one spike in y_true.")
    gain = poisson_log_likelihood(y_true, y_pred, sample_weight=sample_weight)
    gain -= poisson_log_likelihood(y_true, null, sample_weight=sample_weight)
    return gain / (n_spikes * np.log(2.0))


# -- scorers -------------------------------------------------------------------
#
# scikit-learn's ``make_scorer`` calls ``estimator.predict(X)`` without any
# metadata, i.e. without ``exposure``: for an LNP model that is the rate per
# unit of exposure (e.g. spikes/s), not the expected count per bin that these
# metrics take, so ``make_scorer(bits_per_spike)`` scores the wrong numbers
# whenever bins are not of unit width.  ``LNPScorer`` multiplies the
# prediction by the ``exposure`` it receives through metadata routing.


class LNPScorer:
    """A scorer for LNP models that accepts ``exposure`` through metadata routing.

    ``scorer(estimator, X, y, sample_weight=None, exposure=None)`` returns
    ``sign * score_func(y, exposure * estimator.predict(X), ...)``; the
    prediction of every model of this package is proportional to the
    exposure, so this is the expected count per bin.  ``exposure`` is also
    passed to ``score_func`` when it takes it (the constant-rate null model
    of :func:`bits_per_spike` and :func:`d2_poisson_score`).

    With ``sklearn.config_context(enable_metadata_routing=True)``,
    ``GridSearchCV`` and ``cross_validate`` route ``exposure`` (requested by
    default) and ``sample_weight`` (after ``set_score_request(sample_weight=True)``)
    to the scorer, split by fold.  Without routing, scikit-learn passes no
    metadata to scorers: the scorer then gets ``exposure=None`` and, if the
    model was fitted with bin widths, compares rates with counts; it warns
    when the mean prediction and mean count differ by more than 3x.

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_pred, *, sample_weight=None[, exposure=None])``
        with ``y_pred`` the expected counts.
    sign : {1, -1}, default=1
        -1 for losses, so that greater is better.
    name : str, optional
        Name shown by ``repr``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp import PoissonLNPRegressor
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> from sklearn_lnp.metrics import bits_per_spike, get_scorer
    >>> neuron = make_lnp_neuron(n_frames=1000, random_state=0)
    >>> e = np.random.default_rng(0).uniform(2, 8, size=1000)
    >>> model = PoissonLNPRegressor().fit(neuron.stimulus, neuron.counts, exposure=e)
    >>> scorer = get_scorer("bits_per_spike")
    >>> direct = bits_per_spike(neuron.counts, model.predict(neuron.stimulus, exposure=e),
    ...                         exposure=e)
    >>> bool(np.isclose(scorer(model, neuron.stimulus, neuron.counts, exposure=e), direct))
    True
    """

    def __init__(self, score_func, *, sign=1, name=None):
        if sign not in (1, -1):
            raise ValueError(f"sign must be 1 or -1; got {sign!r}.")
        self.score_func = score_func
        self.sign = sign
        self.name = name or getattr(score_func, "__name__", "score")
        self._requests = {"exposure": True, "sample_weight": None}

    def __repr__(self) -> str:
        return f"LNPScorer({self.name}, sign={self.sign})"

    def __call__(self, estimator, X, y_true, sample_weight=None, exposure=None) -> float:
        y_pred = np.asarray(estimator.predict(X), dtype=np.float64).ravel()
        exposure = check_exposure(exposure, y_pred.shape[0])
        if exposure is not None:
            y_pred = y_pred * exposure
        else:
            mean_count = float(np.mean(y_true))
            mean_pred = float(np.mean(y_pred))
            if mean_count > 0 and not 1 / 3 <= mean_pred / mean_count <= 3:
                warnings.warn(
                    f"{self!r}: the mean prediction ({mean_pred:.3g}) is "
                    f"{mean_pred / mean_count:.2g} times the mean count ({mean_count:.3g}) and "
                    "no exposure was given: if the model was fitted with bin widths, enable "
                    "metadata routing (sklearn.set_config(enable_metadata_routing=True)) so "
                    "that exposure reaches the scorer.",
                    UserWarning,
                    stacklevel=2,
                )
        kwargs = {"sample_weight": sample_weight}
        if "exposure" in inspect.signature(self.score_func).parameters:
            kwargs["exposure"] = exposure
        return self.sign * float(self.score_func(y_true, y_pred, **kwargs))

    def set_score_request(self, *, exposure=UNCHANGED, sample_weight=UNCHANGED):
        """Choose which metadata the scorer receives under metadata routing.

        Parameters
        ----------
        exposure, sample_weight : bool, None or str
            ``True``: requested; ``False``: not requested; ``None``: error if
            passed; a string: the alias to take it from.  ``exposure`` is
            requested by default, ``sample_weight`` is not.

        Returns
        -------
        self
        """
        for param, alias in (("exposure", exposure), ("sample_weight", sample_weight)):
            if alias is not UNCHANGED:
                self._requests[param] = alias
        return self

    def get_metadata_routing(self) -> MetadataRequest:
        """The metadata request of the scorer's ``score`` (its call).

        Returns
        -------
        MetadataRequest
        """
        request = MetadataRequest(owner=repr(self))
        for param, alias in self._requests.items():
            request.score.add_request(param=param, alias=alias)
        return request


def make_lnp_scorer(score_func, *, greater_is_better: bool = True) -> LNPScorer:
    """Make an exposure-aware scorer from a metric of expected counts.

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_pred, *, sample_weight=None[, exposure=None])``.
    greater_is_better : bool, default=True
        False for losses (the scorer then returns their negative).

    Returns
    -------
    LNPScorer

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp import PoissonLNPRegressor
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> from sklearn_lnp.metrics import make_lnp_scorer, poisson_deviance
    >>> neuron = make_lnp_neuron(n_frames=500, random_state=0)
    >>> X, y, e = neuron.stimulus, neuron.counts, neuron.exposure
    >>> model = PoissonLNPRegressor(alpha=0.01).fit(X, y, exposure=e)
    >>> scorer = make_lnp_scorer(poisson_deviance, greater_is_better=False)
    >>> deviance = poisson_deviance(y, model.predict(X, exposure=e))
    >>> bool(np.isclose(scorer(model, X, y, exposure=e), -deviance))   # negated: greater is better
    True
    """
    return LNPScorer(score_func, sign=1 if greater_is_better else -1)


def _mean_log_likelihood(y_true, y_pred, *, sample_weight=None) -> float:
    """Poisson log-likelihood per bin (nats), comparable across folds of any size."""
    total = poisson_log_likelihood(y_true, y_pred, sample_weight=sample_weight)
    weights = np.ones(np.size(y_true)) if sample_weight is None else np.asarray(sample_weight)
    return total / float(np.sum(weights))


_SCORERS = {
    "bits_per_spike": (bits_per_spike, 1),
    "d2_poisson": (d2_poisson_score, 1),
    "poisson_log_likelihood": (_mean_log_likelihood, 1),
    "neg_poisson_deviance": (poisson_deviance, -1),
}


def get_scorer_names() -> list[str]:
    """Names accepted by :func:`get_scorer`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from sklearn_lnp.metrics import get_scorer_names
    >>> get_scorer_names()
    ['bits_per_spike', 'd2_poisson', 'neg_poisson_deviance', 'poisson_log_likelihood']
    """
    return sorted(_SCORERS)


def get_scorer(name: str) -> LNPScorer:
    """A new exposure-aware scorer by name.

    ``"bits_per_spike"``, ``"d2_poisson"``, ``"poisson_log_likelihood"``
    (mean per bin, nats) and ``"neg_poisson_deviance"`` (total, negated).

    Parameters
    ----------
    name : str

    Returns
    -------
    LNPScorer
        A fresh object: changing its requests does not affect other calls.

    Raises
    ------
    ValueError
        For an unknown name.

    Examples
    --------
    Held-out bits per spike on contiguous folds, with the bin widths routed to
    ``fit`` and to the scorer and split per fold:

    >>> import numpy as np
    >>> import sklearn
    >>> from sklearn.model_selection import cross_validate
    >>> from sklearn_lnp import BlockedTimeSeriesSplit, PoissonLNPRegressor
    >>> from sklearn_lnp.datasets import make_lnp_neuron
    >>> from sklearn_lnp.metrics import get_scorer
    >>> neuron = make_lnp_neuron(n_frames=900, random_state=0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     model = PoissonLNPRegressor(alpha=0.01).set_fit_request(exposure=True)
    ...     scores = cross_validate(
    ...         model, neuron.stimulus, neuron.counts, cv=BlockedTimeSeriesSplit(3, gap=0),
    ...         scoring=get_scorer("bits_per_spike"), params={"exposure": neuron.exposure})
    >>> scores["test_score"].shape, bool(np.all(scores["test_score"] > 0))
    ((3,), True)
    """
    if name not in _SCORERS:
        raise ValueError(f"Unknown scorer {name!r}; choose one of {get_scorer_names()}.")
    func, sign = _SCORERS[name]
    return LNPScorer(func, sign=sign, name=name)
