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
scikit-learn's ``make_scorer`` cannot do.  :func:`compare_held_out` compares
several methods' held-out scores on the same folds, with paired standard errors.

Input checks and edge cases
---------------------------
Every metric (and so every ``score`` and scorer) validates its input once,
raising a ``ValueError`` that names the argument: ``y_true`` must hold
finite non-negative real counts, ``y_pred`` finite non-negative expected
counts, ``sample_weight`` finite non-negative weights, one per sample, not
all zero (a negative weight would turn a loss into a gain); complex values
and strings are refused, not converted.  Terms are computed without
cancellation, so the deviance is never negative and D^2 never exceeds 1,
also for counts near 1e300; a total beyond the float64 range (about
1.8e308) is refused naming the inputs, except the true infinities of a
count where the prediction is 0.  For ``y`` without spikes (all zero,
e.g. a silent neuron or test fold), D^2 is NaN (undefined: the
constant-rate model is exact) and :func:`bits_per_spike` raises a
``ValueError``; the log-likelihood and the deviance stay defined.
"""

from __future__ import annotations

import inspect
import numbers
import warnings

import numpy as np
from scipy.special import gammaln, xlogy
from sklearn.utils import Bunch
from sklearn.utils.metadata_routing import UNCHANGED, MetadataRequest

from ._validation import (
    as_real_array,
    check_counts,
    check_exposure,
    check_sample_weight,
    check_target_ndim,
)
from .exceptions import ExposureWarning

_MAX = np.finfo(np.float64).max


_RECIPE = (
    "sklearn.set_config(enable_metadata_routing=True); "
    "model.set_fit_request(exposure=True)  # then pass exposure=e to fit/GridSearchCV"
)


def _exposure_fix(method: str) -> str:
    """The one-line fix named by the exposure errors and warnings of ``method``."""
    direct = {
        "predict": "model.predict(X, exposure=e)",
        "score": "model.score(X, y, exposure=e)",
        "scorer": "scorer(model, X, y, exposure=e)",
    }[method]
    return f"call {direct}, or in a search/cross-validation: {_RECIPE}"


def _final_step(estimator):
    """The last step of a pipeline (recursively), else ``estimator`` itself."""
    while hasattr(estimator, "_final_estimator"):
        estimator = estimator._final_estimator
    return estimator


def _prepare(y_true, y_pred, sample_weight):
    # 1-d, or 2-d (bins x neurons) read in the same order for both; a 3-d
    # array is refused rather than flattened
    check_target_ndim(y_true, "y_true")
    check_target_ndim(y_pred, "y_pred")
    y_true = check_counts(np.ravel(as_real_array(y_true, "y_true", "spike counts")), "y_true")
    y_pred = as_real_array(y_pred, "y_pred", "expected counts (real numbers)").ravel()
    if y_pred.shape != y_true.shape:
        raise ValueError(
            f"y_pred must have the shape of y_true {y_true.shape}; got {y_pred.shape}."
        )
    if not np.all(np.isfinite(y_pred)):
        raise ValueError("y_pred (expected counts) must be finite; found NaN or infinite values.")
    n_negative = int(np.sum(y_pred < 0))
    if n_negative:
        raise ValueError(
            f"y_pred (expected counts) must be non-negative; found {n_negative} negative "
            f"values (smallest {y_pred.min():g})."
        )
    sample_weight = check_sample_weight(sample_weight, y_true.shape[0])
    return y_true, y_pred, sample_weight


def _unit_deviance(y, mu):
    """``y log(y / mu) - y + mu`` per sample: >= 0, accurate, never NaN.

    Near ``mu = y`` the plain formula cancels (two large terms whose
    difference is tiny, even negative after rounding); it is computed as
    ``y (d - log1p(d))`` with ``d = mu / y - 1``.  Elsewhere the plain formula
    is accurate.  Values are clipped at 0 (each is >= 0 exactly).  The result
    is ``inf`` where ``mu = 0 < y`` (and where it exceeds the float64 range).
    """
    out = np.array(mu, dtype=np.float64)  # y = 0: mu
    positive = y > 0
    yp, mp = y[positive], mu[positive]
    with np.errstate(divide="ignore", over="ignore"):
        ratio = mp / yp
        near = (ratio > 0.5) & (ratio < 2.0)
        d = ratio[near] - 1.0
        plain = yp * (np.log(yp) - np.log(mp)) - yp + mp
        plain[near] = yp[near] * (d - np.log1p(d))
    out[positive] = np.maximum(plain, 0.0)
    return out


def _log_factorial_gap(y):
    """``y log y - y - log(y!)``, about ``-log(sqrt(2 pi y))``: finite for any finite y >= 0.

    The log-likelihood is ``-unit_deviance + this``; both terms stay in the
    float64 range for any finite counts, unlike ``y log mu`` and ``log(y!)``.
    """
    y = np.asarray(y, dtype=np.float64)
    out = np.empty_like(y)
    small = y < 1e8
    ys = y[small]
    out[small] = xlogy(ys, ys) - ys - gammaln(ys + 1.0)
    yl = y[~small]
    # Stirling's series: log(y!) = y log y - y + log(2 pi y) / 2 + 1 / (12 y) - ...
    out[~small] = -0.5 * (np.log(2.0 * np.pi) + np.log(yl)) - (1.0 / 12.0) / yl
    return out


def _total(weights, terms, what: str, y_true, y_pred, sample_weight, limit=_MAX) -> float:
    """``sum(weights * terms)`` over the samples of positive weight.

    An infinite term where ``y_pred = 0 < y_true`` is a true infinity (the
    count is impossible under the prediction): the total is then infinite.
    Any other total beyond the float64 range raises a ValueError naming the
    inputs.
    """
    used = weights > 0
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(weights[used] * terms[used])
    if np.isfinite(total) and abs(total) <= limit:
        return float(total)
    impossible = (y_pred == 0) & (y_true > 0) & used
    if np.any(impossible):
        # Every term has the sign of the impossible one (deviance terms are
        # >= 0, log-likelihood terms <= 0), so the total is that infinity.
        return float(np.sign(terms[impossible][0]) * np.inf)
    raise ValueError(
        f"the {what} cannot be represented in float64 (it exceeds {limit:.3g}): "
        f"y_true (largest {y_true.max():g}), y_pred (largest {y_pred.max():g}) or "
        f"sample_weight (largest {sample_weight.max():g}) is too large."
    )


def _null_prediction(y_true, exposure, sample_weight):
    exposure = check_exposure(exposure, y_true.shape[0])
    if exposure is None:
        exposure = np.ones_like(y_true)
    # Only the ratios of the weights matter here: scaled to at most 1.
    weights = sample_weight / sample_weight.max()
    with np.errstate(over="ignore", invalid="ignore"):
        spikes = np.sum(weights * y_true)
        time = np.sum(weights * exposure)
        null = exposure * (spikes / time)
    if not (np.isfinite(spikes) and np.isfinite(time) and np.all(np.isfinite(null))):
        raise ValueError(
            "the constant-rate prediction sum(y_true) / sum(exposure) * exposure cannot be "
            f"represented in float64: y_true (largest {y_true.max():g}) or exposure (largest "
            f"{exposure.max():g}) is too large."
        )
    return null


def _null_of(null, y_true, exposure, sample_weight):
    """The null prediction of :func:`bits_per_spike` for its ``null`` argument."""
    if isinstance(null, str) and null == "test":
        return _null_prediction(y_true, exposure, sample_weight)
    if (
        isinstance(null, str | bool | np.bool_)
        or not isinstance(null, numbers.Real)
        or not (np.isfinite(null) and null > 0)
    ):
        raise ValueError(
            "null must be 'test' or a positive finite rate per unit of exposure (e.g. the "
            f"training rate, model.null_rate_); got {null!r}. ('train' is for the scorer: "
            "get_scorer('bits_per_spike', null='train').)"
        )
    exposure = check_exposure(exposure, y_true.shape[0])
    return float(null) * (np.ones_like(y_true) if exposure is None else exposure)


def _deviance(y_true, y_pred, sample_weight) -> float:
    terms = _unit_deviance(y_true, y_pred)
    # Half of the deviance must stay below half the float64 maximum.
    return 2.0 * _total(
        sample_weight, terms, "Poisson deviance", y_true, y_pred, sample_weight, limit=_MAX / 2
    )


def _log_likelihood(y_true, y_pred, sample_weight) -> float:
    terms = _log_factorial_gap(y_true) - _unit_deviance(y_true, y_pred)
    return _total(sample_weight, terms, "log-likelihood", y_true, y_pred, sample_weight)


def poisson_log_likelihood(y_true, y_pred, *, sample_weight=None) -> float:
    """Total Poisson log-likelihood ``sum_t s_t (y_t log mu_t - mu_t - log y_t!)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed counts.
    y_pred : array-like of shape (n_samples,)
        Expected counts ``mu_t``.
    sample_weight : array-like of shape (n_samples,), optional
        Finite, non-negative weights, not all zero.

    Returns
    -------
    float
        Log-likelihood in nats (``-inf`` if a count falls where ``mu = 0``).

    Raises
    ------
    ValueError
        Naming the argument: counts that are negative, NaN, infinite,
        complex or not numbers; ``y_pred`` negative or not finite;
        ``sample_weight`` of the wrong shape, negative, not finite or all
        zero; or a total beyond the float64 range (about 1.8e308).

    Examples
    --------
    >>> from sklearn_lnp.metrics import poisson_log_likelihood
    >>> # log P(0 | 1) + log P(2 | 2) = -1 + (2 log 2 - 2 - log 2!)
    >>> round(poisson_log_likelihood([0, 2], [1.0, 2.0]), 6)
    -2.306853
    """
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    return _log_likelihood(y_true, y_pred, sample_weight)


def poisson_deviance(y_true, y_pred, *, sample_weight=None) -> float:
    """Total Poisson deviance ``2 sum_t s_t (y log(y / mu) - y + mu)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Observed and expected counts.
    sample_weight : array-like of shape (n_samples,), optional
        Finite, non-negative weights, not all zero.

    Returns
    -------
    float
        Non-negative deviance (nats, times two); ``inf`` if a count falls
        where ``mu = 0``.  Each term is computed without cancellation, so
        the deviance is never negative, also for counts near 1e300.

    Raises
    ------
    ValueError
        As :func:`poisson_log_likelihood`.

    Examples
    --------
    >>> from sklearn_lnp.metrics import poisson_deviance
    >>> poisson_deviance([0, 2], [1.0, 2.0])   # 2 * ((0 - 0 + 1) + (2 log 1 - 2 + 2))
    2.0
    """
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    return _deviance(y_true, y_pred, sample_weight)


def d2_poisson_score(y_true, y_pred, *, exposure=None, sample_weight=None) -> float:
    """Fraction of Poisson deviance explained, relative to a constant rate.

    ``1 - D(y, mu) / D(y, mu_0)`` with ``mu_0 = exposure * sum(y) / sum(exposure)``;
    equals scikit-learn's ``d2_tweedie_score(power=1)`` when ``exposure`` is None.

    Returns
    -------
    float
        At most 1 (for any valid input: both deviances are computed
        non-negative); 0 for the constant-rate model; negative when worse
        (``-inf`` when a count falls where ``mu = 0``, or when the
        deviance ratio exceeds the float64 range).  NaN when D^2 is
        undefined: the constant-rate model already fits exactly, i.e. ``y``
        is proportional to the exposure (to float64 precision: null
        deviance below ``1e-24`` times the spike count).  This includes
        ``y`` all zero (no spikes), which is what the estimators' ``score``
        returns for a neuron without spikes.

    Raises
    ------
    ValueError
        As :func:`poisson_log_likelihood`.

    Examples
    --------
    >>> from sklearn_lnp.metrics import d2_poisson_score
    >>> counts = [0, 1, 3, 4]
    >>> d2_poisson_score(counts, counts), d2_poisson_score(counts, [2, 2, 2, 2])
    (1.0, 0.0)
    >>> round(d2_poisson_score(counts, [0.5, 1.0, 3.0, 3.5]), 3)
    0.838
    >>> d2_poisson_score([0, 0, 0], [0.1, 0.2, 0.3])    # no spikes: undefined
    nan
    """
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    # D^2 does not change when every weight is multiplied by the same number.
    sample_weight = sample_weight / sample_weight.max()
    null = _null_prediction(y_true, exposure, sample_weight)
    dev_null = _deviance(y_true, null, sample_weight)
    with np.errstate(over="ignore"):
        n_spikes = float(sample_weight @ y_true)  # finite: the null prediction is
    if dev_null <= 1e-24 * n_spikes:
        # Zero up to rounding: y is (to float64 precision) proportional to the
        # exposure, so no model can explain any deviance.
        return float("nan")
    dev = _deviance(y_true, y_pred, sample_weight)
    with np.errstate(over="ignore"):
        ratio = dev / dev_null
    return float(1.0 - ratio)


def bits_per_spike(y_true, y_pred, *, exposure=None, sample_weight=None, null="test") -> float:
    """Log-likelihood gain over the constant-rate model, per spike, in bits.

    ``(LL(mu) - LL(mu_0)) / (sum(y) log 2)``, with ``mu_0`` the constant-rate
    prediction ``exposure * sum(y) / sum(exposure)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Observed and expected counts.
    exposure : array-like of shape (n_samples,) or float, optional
        Bin widths of the null model (1 when omitted).
    sample_weight : array-like of shape (n_samples,), optional
    null : "test" or float, default="test"
        The null model's rate per unit of exposure. ``"test"``: the block's
        own mean rate ``sum(y) / sum(exposure)`` (the best constant in
        hindsight: held-out values are then mostly negative for weak models).
        A float, e.g. the training rate (the fitted ``null_rate_`` of this
        package's models): ``mu_0 = exposure * null``, so a held-out value
        is the gain over the constant model one could have fitted, and a
        model predicting that constant scores exactly 0.  The scorer takes
        ``null="train"`` to read ``null_rate_`` from the fitted model
        (``get_scorer("bits_per_spike", null="train")``).

    Returns
    -------
    float
        Bits per spike; positive when the model predicts better than a
        constant rate (``-inf`` when a count falls where ``mu = 0``).

    Raises
    ------
    ValueError
        When ``y_true`` has no spike (where ``sample_weight > 0``): the gain
        per spike of zero spikes is undefined.  Otherwise as
        :func:`poisson_log_likelihood`.

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
    # Bits per spike do not change when every weight is multiplied by the same number.
    sample_weight = sample_weight / sample_weight.max()
    with np.errstate(over="ignore"):
        n_spikes = float(sample_weight @ y_true)
    if not np.isfinite(n_spikes):
        raise ValueError(
            f"the spike total of y_true (largest count {y_true.max():g}) cannot be represented "
            "in float64 (it exceeds 1.8e308)."
        )
    if n_spikes == 0:
        raise ValueError(
            "bits_per_spike needs at least one spike in y_true (where sample_weight > 0): "
            "bits per spike of zero spikes are undefined. Use d2_poisson_score or "
            "poisson_log_likelihood instead."
        )
    null = _null_of(null, y_true, exposure, sample_weight)
    # LL(mu) - LL(mu_0) = (D(mu_0) - D(mu)) / 2: the log-factorial terms cancel.
    model = _total(
        sample_weight,
        _unit_deviance(y_true, y_pred),
        "log-likelihood",
        y_true,
        y_pred,
        sample_weight,
    )
    constant = _total(
        sample_weight, _unit_deviance(y_true, null), "log-likelihood", y_true, null, sample_weight
    )
    with np.errstate(over="ignore"):
        return float((constant - model) / (n_spikes * np.log(2.0)))


# -- comparing methods on the same folds ----------------------------------------

#: The rule by which :func:`compare_held_out` calls a difference resolved.
RESOLVED_RULE = (
    "a difference to the reference is resolved when |mean of the per-fold differences| > "
    "{n_se:g} x its paired standard error (s.d. of the per-fold differences / sqrt(n_folds))"
)


def _fold_scores(values, what: str) -> np.ndarray:
    scores = as_real_array(values, what, "held-out scores, one per fold")
    if scores.ndim != 1:
        raise ValueError(f"{what} must be 1-d (one score per fold); got shape {scores.shape}.")
    if not np.all(np.isfinite(scores)):
        raise ValueError(
            f"{what} must be finite; got {scores.tolist()} (a fold without spikes has no "
            "bits per spike: leave that fold out of every method)."
        )
    return scores


def compare_held_out(scores, *, reference: str, baseline=None, n_se: float = 2.0) -> Bunch:
    """Paired comparison of several methods' held-out scores on the same folds.

    Each method's per-fold held-out bits per spike are its gain over the
    constant rate of the training blocks (:func:`bits_per_spike` with
    ``null=`` the training rate, e.g. ``get_scorer("bits_per_spike",
    null="train")``).  Folds differ in difficulty (a block where the rate
    drifts costs every method alike), so methods are compared *pairwise per
    fold*: the difference of a method to ``reference`` is the mean of the
    per-fold differences, with the paired standard error ``sd / sqrt(n_folds)``
    of those differences (``sd`` with ``n_folds - 1`` degrees of freedom).  A
    difference is *resolved* when ``|difference| > n_se * se``; otherwise the
    folds do not tell the two methods apart, whichever mean is larger.

    All methods must be scored on the same folds (the same
    ``BlockedTimeSeriesSplit`` of the same bins), else the pairing is void.

    Parameters
    ----------
    scores : mapping of str to array-like of shape (n_folds,)
        Held-out bits per spike of each method, fold by fold, with the
        training rate as null (gains).  With ``baseline``: the scores with
        the test block's own rate as null (the default of
        :func:`bits_per_spike`), from which ``baseline`` is subtracted.
    reference : str
        The method (a key of ``scores``) the others are compared with.
    baseline : array-like of shape (n_folds,), optional
        Held-out bits per spike of the constant rate of the training blocks
        scored against each test block's own rate
        (:func:`~sklearn_lnp.analysis.constant_rate_cv_scores`): subtracted
        from every method's scores to give their gains.  The gains are then
        exactly those of ``null="train"``.
    n_se : float, default=2.0
        A difference is resolved when it exceeds ``n_se`` standard errors.

    Returns
    -------
    Bunch
        ``names`` (list of the n_methods keys, in order); ``reference``;
        ``n_folds``; ``fold_gains`` (n_methods, n_folds) bits per spike;
        ``gain`` and ``gain_se`` (n_methods,): the mean gain over the
        constant training rate and its standard error over folds;
        ``difference`` and ``difference_se`` (n_methods,): the mean paired
        difference to ``reference`` and its standard error (0 and 0 for the
        reference itself); ``resolved`` (n_methods,) bool; ``n_se``;
        ``rule``, the sentence stating the rule.

    Raises
    ------
    ValueError
        Naming the method whose scores are not 1-d and finite or differ in
        number of folds; ``reference`` not among ``scores``; fewer than 2
        folds; ``n_se`` not positive.

    See Also
    --------
    comparison_table : the result as a Markdown table.

    Examples
    --------
    Three methods on five folds; the last fold is hard for every method:

    >>> from sklearn_lnp.metrics import compare_held_out
    >>> result = compare_held_out(
    ...     {"A": [0.03, 0.02, 0.03, 0.04, -0.50],
    ...      "B": [0.05, 0.04, 0.05, 0.06, -0.48],     # A + 0.02 on every fold
    ...      "C": [0.04, 0.01, 0.05, 0.03, -0.49]},
    ...     reference="A")
    >>> result.difference.round(3).tolist(), result.difference_se.round(3).tolist()
    ([0.0, 0.02, 0.004], [0.0, 0.0, 0.006])
    >>> result.resolved.tolist()
    [False, True, False]
    >>> result.gain_se.round(3).tolist()     # the hard fold dominates each method's spread
    [0.106, 0.106, 0.105]
    """
    if not hasattr(scores, "items") or not len(scores):
        raise ValueError(
            "scores must be a non-empty mapping of method name to its per-fold held-out "
            f"scores; got {type(scores).__name__}."
        )
    names = list(scores)
    if reference not in scores:
        raise ValueError(f"reference must be one of the methods {names}; got {reference!r}.")
    if isinstance(n_se, bool) or not isinstance(n_se, numbers.Real) or not n_se > 0:
        raise ValueError(f"n_se must be a positive number of standard errors; got {n_se!r}.")
    gains = [_fold_scores(scores[name], f"scores[{name!r}]") for name in names]
    n_folds = gains[0].size
    for name, gain in zip(names, gains, strict=True):
        if gain.size != n_folds:
            raise ValueError(
                f"scores[{name!r}] has {gain.size} folds, scores[{names[0]!r}] {n_folds}: "
                "every method must be scored on the same folds."
            )
    if n_folds < 2:
        raise ValueError(f"a standard error over folds needs at least 2 folds; got {n_folds}.")
    fold_gains = np.vstack(gains)
    if baseline is not None:
        baseline = _fold_scores(baseline, "baseline")
        if baseline.size != n_folds:
            raise ValueError(
                f"baseline has {baseline.size} folds, the scores {n_folds}: it must be the "
                "constant rate's score on the same folds."
            )
        fold_gains = fold_gains - baseline
    differences = fold_gains - fold_gains[names.index(reference)]

    def standard_error(values):
        return np.std(values, axis=1, ddof=1) / np.sqrt(n_folds)

    difference, difference_se = differences.mean(axis=1), standard_error(differences)
    return Bunch(
        names=names,
        reference=reference,
        n_folds=n_folds,
        fold_gains=fold_gains,
        gain=fold_gains.mean(axis=1),
        gain_se=standard_error(fold_gains),
        difference=difference,
        difference_se=difference_se,
        resolved=np.abs(difference) > n_se * difference_se,
        n_se=float(n_se),
        rule=RESOLVED_RULE.format(n_se=n_se),
    )


def comparison_table(comparison: Bunch, *, extra_columns=None, decimals: int = 3) -> str:
    """A :func:`compare_held_out` result as a Markdown table, one row per method.

    Columns: the method, its mean gain over the constant training rate ± its
    standard error, the paired difference to the reference (the row marked
    "reference") ± its standard error, and whether that difference is
    resolved, then ``extra_columns``.

    Parameters
    ----------
    comparison : Bunch
        As returned by :func:`compare_held_out`.
    extra_columns : mapping of str to mapping of str to str, optional
        ``{column title: {method name: text}}``, e.g. fit times; a method
        missing from a column gets an empty cell.
    decimals : int, default=3
        Decimals of the bits per spike.

    Returns
    -------
    str
        The table, lines separated by newlines.

    Examples
    --------
    >>> from sklearn_lnp.metrics import compare_held_out, comparison_table
    >>> result = compare_held_out({"A": [0.01, 0.03, 0.02], "B": [0.03, 0.05, 0.05]},
    ...                           reference="A")
    >>> print(comparison_table(result))    # doctest: +NORMALIZE_WHITESPACE
    | method | gain (bits/spike) ± s.e. | difference to the reference ± s.e. | resolved (> 2 s.e.) |
    | --- | ---: | ---: | :---: |
    | A | +0.020 ± 0.006 | reference | |
    | B | +0.043 ± 0.007 | +0.023 ± 0.003 | yes |
    """
    extra_columns = dict(extra_columns or {})
    header = [
        "method",
        "gain (bits/spike) ± s.e.",
        "difference to the reference ± s.e.",
        f"resolved (> {comparison.n_se:g} s.e.)",
        *extra_columns,
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "| --- | ---: | ---: | :---: |" + " ---: |" * len(extra_columns),
    ]
    for k, name in enumerate(comparison.names):
        gain = f"{comparison.gain[k]:+.{decimals}f} ± {comparison.gain_se[k]:.{decimals}f}"
        if name == comparison.reference:
            difference, resolved = "reference", ""
        else:
            difference = (
                f"{comparison.difference[k]:+.{decimals}f} ± "
                f"{comparison.difference_se[k]:.{decimals}f}"
            )
            resolved = "yes" if comparison.resolved[k] else "no"
        cells = [name, gain, difference, resolved]
        cells += [column.get(name, "") for column in extra_columns.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
    null : None, "train" or float, optional
        Passed to a ``score_func`` taking ``null`` (:func:`bits_per_spike`):
        ``"train"`` reads the fitted model's ``null_rate_`` (its training
        mean rate per unit of exposure, the intercept-only fit), a float is
        used as given, None keeps ``score_func``'s default (the test block's
        own rate).

    A model fitted with exposure other than 1 and scored without it raises
    a ValueError naming the fix, as ``model.score`` does.

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

    def __init__(self, score_func, *, sign=1, name=None, null=None):
        _check_score_func(score_func)
        if null is not None and "null" not in _parameters(score_func):
            raise ValueError(f"null= needs a score_func taking null; {score_func!r} does not.")
        if null is not None and not (isinstance(null, str) and null == "train"):
            _null_of(null, np.zeros(1), None, np.ones(1))  # validates a rate
        self.null = null
        if isinstance(sign, bool) or sign not in (1, -1):
            raise ValueError(f"sign must be 1 or -1; got {sign!r}.")
        self.score_func = score_func
        self.sign = sign
        self.name = name or getattr(score_func, "__name__", "score")
        self._requests = {"exposure": True, "sample_weight": None}

    def __repr__(self) -> str:
        return f"LNPScorer({self.name}, sign={self.sign})"

    def __call__(self, estimator, X, y_true, sample_weight=None, exposure=None) -> float:
        final = _final_step(estimator)
        if exposure is None and getattr(final, "exposure_required_", False):
            raise ValueError(
                f"{self!r}: {type(final).__name__} was fitted with exposure (bin widths) "
                "other than 1 but the scorer got none: it would compare rates with counts. "
                f"Fix: {_exposure_fix('scorer')}"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExposureWarning)  # multiplied by exposure below
            y_pred = np.asarray(estimator.predict(X), dtype=np.float64).ravel()
        exposure = check_exposure(exposure, y_pred.shape[0])
        if exposure is not None:
            y_pred = y_pred * exposure
        else:
            try:
                counts = as_real_array(y_true, "y_true")
            except ValueError:  # score_func names the problem
                counts = np.zeros(1)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                mean_count = float(np.mean(counts))
                mean_pred = float(np.mean(y_pred))
                ratio = mean_pred / mean_count if mean_count > 0 else 1.0
            if np.isfinite(ratio) and not 1 / 3 <= ratio <= 3:
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
        if "exposure" in _parameters(self.score_func):
            kwargs["exposure"] = exposure
        if self.null is not None:
            kwargs["null"] = self.null
            if isinstance(self.null, str):  # "train"
                rate = getattr(final, "null_rate_", None)
                if rate is None or np.size(rate) != 1:
                    raise ValueError(
                        f"{self!r} with null='train' needs a fitted single-neuron model with "
                        f"null_rate_ (its training rate); {type(final).__name__} has "
                        f"{rate!r}. Pass null=<rate> instead."
                    )
                kwargs["null"] = float(np.ravel(rate)[0])
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


def _parameters(func) -> dict:
    try:
        return dict(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return {}


def _check_score_func(score_func) -> None:
    """Raise a ValueError naming ``score_func`` unless it is a callable taking ``sample_weight``."""
    if not callable(score_func):
        hint = " (a scorer name: use get_scorer(name))" if isinstance(score_func, str) else ""
        raise ValueError(
            "score_func must be a callable score_func(y_true, y_pred, *, sample_weight=None"
            f"[, exposure=None]); got {score_func!r} of type {type(score_func).__name__}{hint}."
        )
    try:
        parameters = inspect.signature(score_func).parameters
    except (TypeError, ValueError):  # builtins without a signature: taken as they are
        return
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    if "sample_weight" not in parameters and not takes_kwargs:
        raise ValueError(
            f"score_func {getattr(score_func, '__name__', score_func)!r} must take a "
            "sample_weight keyword (the scorer passes sample_weight=None or the routed "
            f"weights); its parameters are {list(parameters)}."
        )


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

    Raises
    ------
    ValueError
        Naming ``score_func`` when it is not callable (e.g. a scorer name,
        for which :func:`get_scorer` is meant) or takes no ``sample_weight``
        keyword, and ``greater_is_better`` when it is not a bool.  Raised
        here, not at the first call inside a cross-validation.

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
    if not isinstance(greater_is_better, bool | np.bool_):
        raise ValueError(f"greater_is_better must be True or False; got {greater_is_better!r}.")
    return LNPScorer(score_func, sign=1 if greater_is_better else -1)


def _mean_log_likelihood(y_true, y_pred, *, sample_weight=None) -> float:
    """Poisson log-likelihood per bin (nats), comparable across folds of any size."""
    y_true, y_pred, sample_weight = _prepare(y_true, y_pred, sample_weight)
    # The weighted mean does not change when the weights are scaled.
    weights = sample_weight / sample_weight.max()
    return _log_likelihood(y_true, y_pred, weights) / float(np.sum(weights))


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


def get_scorer(name: str, *, null=None) -> LNPScorer:
    """A new exposure-aware scorer by name.

    ``"bits_per_spike"``, ``"d2_poisson"``, ``"poisson_log_likelihood"``
    (mean per bin, nats) and ``"neg_poisson_deviance"`` (total, negated).

    Parameters
    ----------
    name : str
    null : None, "train" or float, optional
        Only for ``"bits_per_spike"``: the null model's rate. ``"train"``:
        the fitted model's training rate ``null_rate_`` (held-out values are
        then the gain over the constant one could have fitted, positive for
        a useful model); a float: that rate per unit of exposure; None: the
        test block's own rate (the default of :func:`bits_per_spike`).

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
    return LNPScorer(func, sign=sign, name=name, null=null)
