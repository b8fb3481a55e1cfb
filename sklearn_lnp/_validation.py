"""Input checks shared by the estimators: counts, exposure, sample weights.

Every refusal is a ``ValueError`` that names the argument.  Arrays are read
as real numbers: complex values (whose imaginary part numpy would drop with
only a ``ComplexWarning``), strings and other non-numeric objects are
refused rather than converted.
"""

from __future__ import annotations

import numbers
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

# Parameter constraints for scikit-learn's validate_params (an
# InvalidParameterError, a ValueError naming the parameter).  Widths, scales
# and time constants are positive and finite: NaN, inf, 0 and negatives refused.
FLOAT_MAX = float(np.finfo(np.float64).max)
POSITIVE = Interval(Real, 0.0, FLOAT_MAX, closed="neither")
NON_NEGATIVE = Interval(Real, 0.0, FLOAT_MAX, closed="left")
COUNT = Interval(Integral, 1, None, closed="left")


def as_real_array(values, name: str, what: str = "real numbers") -> np.ndarray:
    """Return ``values`` as a float64 ndarray, refusing what is not a real number.

    Parameters
    ----------
    values : array-like
    name : str
        Argument name used in error messages.
    what : str
        What the values are, for the message (e.g. ``"spike counts"``).

    Returns
    -------
    ndarray of float64
        Any shape; NaN and infinities are left to the caller.

    Raises
    ------
    ValueError
        Naming ``name`` for complex values, strings, bytes, ``None`` or
        other objects that are not real numbers.

    Examples
    --------
    >>> from sklearn_lnp._validation import as_real_array
    >>> as_real_array([1, 2.5], "y")
    array([1. , 2.5])
    >>> as_real_array([0.2 + 1j], "y")
    Traceback (most recent call last):
    ...
    ValueError: y must hold real numbers; got complex values (dtype complex128).
    """
    array = np.asarray(values)
    kind = array.dtype.kind
    if kind in "biuf":
        return array.astype(np.float64, copy=False)
    if kind == "c":
        raise ValueError(f"{name} must hold {what}; got complex values (dtype {array.dtype}).")
    if kind in "USV":
        raise ValueError(f"{name} must hold {what}; got strings or bytes (dtype {array.dtype}).")
    if kind == "O":
        for value in array.flat:
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
                raise ValueError(
                    f"{name} must hold {what}; got {value!r} of type {type(value).__name__}."
                )
        return array.astype(np.float64)
    raise ValueError(f"{name} must hold {what}; got an array of dtype {array.dtype}.")


def check_real_input(values, name: str, *, check_objects: bool = False) -> None:
    """Refuse complex or non-numeric input naming ``name``, without converting it.

    For the inputs that scikit-learn's ``validate_data`` / ``check_array``
    convert next (dense, sparse, dask or pandas): their messages for complex
    data or words ("Complex data not supported", "could not convert string
    to float") do not name the argument.  ``None`` passes (optional inputs).

    Raises
    ------
    ValueError
        Naming ``name`` for complex values or strings and bytes (the message
        keeps scikit-learn's words "Complex data not supported" for complex
        data).  Object arrays are left to scikit-learn, which converts their
        numbers and raises a TypeError for other objects, unless
        ``check_objects`` (for targets: their every element must be a real
        number, as :func:`as_real_array` checks).
    """
    if values is None:
        return
    dtypes = getattr(values, "dtypes", None)  # a pandas DataFrame: one dtype per column
    dtype = getattr(values, "dtype", None)
    if dtypes is not None and dtype is None:
        kinds = {np.dtype(d).kind if isinstance(d, np.dtype) else "O" for d in np.ravel(dtypes)}
        if "c" in kinds:
            raise ValueError(
                f"{name} must hold real numbers: Complex data not supported (a complex column)."
            )
        return
    if dtype is None or not isinstance(dtype, np.dtype):
        if isinstance(values, numbers.Number | str | bytes | list | tuple):
            dtype = np.asarray(values).dtype
        else:
            return  # another container: left to scikit-learn (its message is prefixed)
    if dtype.kind == "c":
        raise ValueError(
            f"{name} must hold real numbers: Complex data not supported (got dtype {dtype})."
        )
    if dtype.kind in "USV":
        raise ValueError(f"{name} must hold real numbers; got strings or bytes (dtype {dtype}).")
    # object arrays are left to scikit-learn, which converts numbers and raises
    # a TypeError for other objects (its message gets the name from naming())
    if dtype.kind == "O" and check_objects:
        as_real_array(values, name)


def _names(message: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


@contextmanager
def naming(name: str, *others: str) -> Iterator[None]:
    """Prefix ``name`` to a ValueError/TypeError raised inside that names no argument.

    Wrap the scikit-learn validation this package calls (``validate_data``,
    ``check_array``, ``_check_sample_weight``): its messages ("Expected 2D
    array", "Found array with 0 sample(s)", "Input contains NaN") often do
    not say which argument is wrong.  The exception keeps its type and
    scikit-learn's text after the prefix; a message that already names
    ``name`` or one of ``others`` (arguments validated in the same call) is
    left unchanged.
    """
    try:
        yield
    except (ValueError, TypeError) as error:
        message = str(error)
        if any(_names(message, n) for n in (name, *others)):
            raise
        raise type(error)(f"{name}: {message}") from error


def check_target_ndim(y, name: str = "y") -> None:
    """Refuse a ``y`` that is neither 1-d nor 2-d (bins x neurons), naming ``name``.

    A 3-d ``y`` of shape (n, 1, 1) would otherwise be flattened to a
    population of one without a message; a scalar has no bins.
    """
    if y is None:
        return  # scikit-learn says that y is required
    # np.asarray, not np.ndim: array-likes that only define __array__
    shape = y.shape if hasattr(y, "ndim") else np.asarray(y).shape
    if len(shape) not in (1, 2):
        raise ValueError(
            f"{name} must be 1-d (one count per bin) or 2-d (bins x neurons); got "
            f"{len(shape)} dimensions (shape {shape})."
        )


def fit_sample_weight(sample_weight, n_samples: int, name: str = "sample_weight") -> np.ndarray:
    """``sample_weight`` of a fit or score as float64 of shape (n_samples,), named when refused.

    ``None`` gives unit weights and a scalar the same weight for every
    sample (scikit-learn's ``_check_sample_weight``, whose refusals of NaN,
    negative values, wrong dims or length get ``name`` prefixed when they do
    not say it).
    """
    from sklearn.utils.validation import _check_sample_weight

    if sample_weight is None:
        return np.ones(n_samples)
    check_real_input(sample_weight, name)
    with naming(name):
        return _check_sample_weight(
            sample_weight, np.empty((n_samples, 0)), dtype=np.float64, ensure_non_negative=True
        )


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine, or None when unknown."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


# The last reading of /proc/meminfo's MemAvailable: [time.monotonic(), bytes or None].
_last_reading: list = [-float("inf"), None]
# Seconds for which a reading is reused: reading /proc/meminfo costs more
# than many of the small designs whose size is checked against it.
_READING_AGE = 1.0


def _mem_available() -> int | None:
    """Linux's ``MemAvailable`` in bytes (read at most once a second), or None."""
    now = time.monotonic()
    if now - _last_reading[0] >= _READING_AGE:
        available = None
        try:
            with open("/proc/meminfo", encoding="ascii") as meminfo:
                for line in meminfo:
                    if line.startswith("MemAvailable:"):
                        available = int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            available = None
        _last_reading[:] = [now, available]
    return _last_reading[1]


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now, or None when unknown.

    Linux's ``MemAvailable`` (free memory plus what the kernel can reclaim
    without swapping; read at most once a second), else the free pages;
    never more than :func:`physical_memory`.
    """
    total = physical_memory()
    available = _mem_available()
    if available is None:
        try:
            available = int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_AVPHYS_PAGES"))
        except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
            available = None
    if available is None or total is None:
        return total if available is None else available
    return min(available, total)


def check_memory(n_bytes: float, request: str) -> None:
    """Raise a ValueError when ``n_bytes`` exceed the memory available on this machine.

    ``request`` names the arguments that set the size, for the message, which
    gives the estimate and the available memory (:func:`available_memory`).
    """
    available = available_memory()
    if available is not None and not n_bytes <= available:
        total = physical_memory()
        of_total = "" if total is None else f" of {_format_bytes(total)}"
        raise ValueError(
            f"{request} would need {_format_bytes(n_bytes)} of memory, more than this "
            f"machine has available ({_format_bytes(available)}{of_total})."
        )


def _format_bytes(n_bytes: float) -> str:
    for unit, size in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30)):
        if n_bytes >= size:
            return f"{n_bytes / size:.3g} {unit}"
    if n_bytes >= 2**20:
        return f"{n_bytes / 2**20:.3g} MiB"
    if n_bytes >= 2**10:
        return f"{n_bytes / 2**10:.3g} KiB"
    return f"{n_bytes:.0f} bytes"


def check_counts(y, name: str = "y") -> np.ndarray:
    """Return ``y`` as float64 after checking that it holds valid counts.

    Counts must be finite and non-negative.  Non-integer values are accepted:
    the Poisson loss extends to them (as in scikit-learn's PoissonRegressor).

    Raises
    ------
    ValueError
        Naming ``name`` when values are NaN, infinite, negative, complex or
        not numbers (e.g. strings).
    """
    y = as_real_array(y, name, "spike counts (real numbers)")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name} (spike counts) must be finite; found NaN or infinite values.")
    n_negative = int(np.sum(y < 0))
    if n_negative:
        raise ValueError(
            f"{name} (spike counts) must be non-negative; found {n_negative} negative values "
            f"(smallest {y.min():g})."
        )
    return y


def check_exposure(exposure, n_samples: int, name: str = "exposure") -> np.ndarray | None:
    """Return ``exposure`` as a float64 vector of length ``n_samples`` (or None).

    A scalar is broadcast to every sample.

    Raises
    ------
    ValueError
        Naming ``name`` when it is not 1-d of length ``n_samples``, or has
        non-finite or non-positive values.
    """
    if exposure is None:
        return None
    if isinstance(exposure, numbers.Real) and not isinstance(exposure, bool):
        exposure = np.full(n_samples, float(exposure))
    exposure = as_real_array(exposure, name, "bin widths (real numbers)")
    if exposure.ndim != 1 or exposure.shape[0] != n_samples:
        raise ValueError(
            f"{name} must be a 1-d array with one bin width per sample, of length "
            f"n_samples={n_samples}; got shape {exposure.shape}."
        )
    if not np.all(np.isfinite(exposure)):
        raise ValueError(f"{name} must be finite; found NaN or infinite values.")
    n_bad = int(np.sum(exposure <= 0))
    if n_bad:
        raise ValueError(
            f"{name} (bin widths) must be strictly positive; found {n_bad} values <= 0 "
            f"(smallest {exposure.min():g})."
        )
    return exposure


def check_non_negative_scalar(value, name: str) -> float:
    """Return ``value`` as float, or raise a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number >= 0; got {value!r}.")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
    return value


def check_sample_weight(sample_weight, n_samples: int, name: str = "sample_weight") -> np.ndarray:
    """Return ``sample_weight`` as a float64 vector of length ``n_samples``.

    ``None`` gives unit weights.  Weights must be real, finite and
    non-negative, with a positive sum: a negative weight would turn a loss
    into a gain (a negative deviance), NaN would make every total NaN, and
    all-zero weights leave nothing to measure.

    Raises
    ------
    ValueError
        Naming ``name``: wrong shape, complex or non-numeric, NaN or
        infinite, negative, all zero, or a sum that overflows float64.

    Examples
    --------
    >>> from sklearn_lnp._validation import check_sample_weight
    >>> check_sample_weight(None, 2)
    array([1., 1.])
    >>> check_sample_weight([1.0, -0.5], 2)
    Traceback (most recent call last):
    ...
    ValueError: sample_weight must be non-negative; found 1 negative values (smallest -0.5).
    """
    if sample_weight is None:
        return np.ones(n_samples)
    weights = as_real_array(sample_weight, name, "weights (real numbers)")
    if weights.ndim == 0:
        raise ValueError(
            f"{name} must be a 1-d array with one weight per sample, of length "
            f"n_samples={n_samples}; got a scalar ({sample_weight!r})."
        )
    weights = weights.ravel() if weights.ndim == 2 and 1 in weights.shape else weights
    if weights.shape != (n_samples,):
        raise ValueError(
            f"{name} must be a 1-d array with one weight per sample, of length "
            f"n_samples={n_samples}; got shape {weights.shape}."
        )
    if not np.all(np.isfinite(weights)):
        n_bad = int(np.sum(~np.isfinite(weights)))
        raise ValueError(f"{name} must be finite; found {n_bad} NaN or infinite values.")
    n_negative = int(np.sum(weights < 0))
    if n_negative:
        raise ValueError(
            f"{name} must be non-negative; found {n_negative} negative values "
            f"(smallest {weights.min():g})."
        )
    if n_samples and not np.any(weights > 0):
        raise ValueError(
            f"{name} is zero everywhere: no sample counts, so there is nothing to score. "
            "Give at least one sample a positive weight."
        )
    # The largest weight is at most the sum; the sum of n values below
    # max / n cannot overflow.
    if n_samples and weights.max() > np.finfo(np.float64).max / n_samples:
        raise ValueError(
            f"{name} is too large: its sum overflows float64 (largest weight "
            f"{weights.max():g} for {n_samples} samples); rescale the weights (only their "
            "ratios matter for D^2 and bits per spike)."
        )
    return weights


# Largest |X| entry and largest count the estimators accept.  Counts are
# integers, exact in float64 up to 2**53; beyond that they are not counts, and
# the Poisson gradient ``x_tj (mu_t - y_t)`` no longer resolves the KKT
# tolerance.  ``|X| <= 1e50`` keeps the Hessian terms ``mu_t x_tj x_tk``
# (1e100 * counts * rows) far inside float64; no stimulus comes near it.
# Larger values are refused, naming the argument, instead of overflowing.
MAX_ABS_X = 1e50
MAX_COUNT = 2.0**53


# Elements per BLAS call of _sum_of_squares: scipy's BLAS takes 32-bit lengths.
_DOT_CHUNK = 2**30


def _sum_of_squares(v: np.ndarray) -> float:
    """``v @ v`` for a contiguous 1-d float32 or float64 ``v``; inf or nan when it overflows.

    Summed in ``v``'s dtype per chunk of ``_DOT_CHUNK`` elements, then in
    float64 (no warning on overflow).  The product goes through scipy's BLAS,
    the library of the solvers' factorisations and Gram matrices, not
    numpy's: numpy links a second OpenBLAS whose worker threads, once woken
    by a product this long, keep spinning after it and compete with scipy's
    for the cores through the small factorisations of a fit that follows.
    """
    from scipy.linalg.blas import get_blas_funcs

    dot = get_blas_funcs("dot", (v,))
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, v.size, _DOT_CHUNK):
            part = v[start : start + _DOT_CHUNK]
            total += float(dot(part, part))
    return total


def _bounded_by_sum_of_squares(values) -> bool:
    """Whether one BLAS read shows every entry finite and ``|x| <= MAX_ABS_X``.

    ``|x| <= sqrt(sum x^2)``: a sum of squares below ``MAX_ABS_X**2`` settles
    both (a finite float32 sum does: sqrt of the float32 maximum is below
    ``MAX_ABS_X``); a non-finite or larger one (an inf or nan entry, or
    entries large enough to overflow the sum) settles nothing.  False for
    layouts BLAS cannot read as one vector.
    """
    return (
        values.dtype in (np.float32, np.float64)
        and (values.flags.c_contiguous or values.flags.f_contiguous)
        and _sum_of_squares(values.ravel(order="K")) <= MAX_ABS_X**2
    )


def _check_X_representable(X) -> None:
    """ValueError naming ``X`` when an entry exceeds ``MAX_ABS_X`` (:func:`check_representable`)."""
    from ._passes import is_dask_array

    if is_dask_array(X):
        return
    values = X.data if hasattr(X, "tocsr") else np.asarray(X)
    largest = 0.0
    if not _bounded_by_sum_of_squares(values):  # otherwise two exact reductions
        largest = max(float(np.max(values, initial=0.0)), -float(np.min(values, initial=0.0)))
    if largest > MAX_ABS_X:
        raise ValueError(
            f"X has an entry of absolute value {largest:.3g} > {MAX_ABS_X:.0e}: the "
            "Poisson Hessian (squares of X times the rate) would overflow float64. "
            "Rescale X (e.g. StandardScaler)."
        )


def check_counts_representable(y) -> None:
    """ValueError naming ``y`` when a count exceeds ``MAX_COUNT`` (:func:`check_representable`)."""
    top = float(np.max(np.asarray(y), initial=0.0))
    if top > MAX_COUNT:
        raise ValueError(
            f"y (spike counts) has a count of {top:.3g} > 2**53 (the largest integer "
            "exact in float64): the Poisson gradient cannot be resolved to the tolerance "
            "and overflows for larger values. Counts that large are not spike counts; "
            "check the data."
        )


def check_representable(X, y) -> None:
    """ValueError naming ``X`` or ``y`` when a value is beyond what the solvers can represent.

    ``|X| <= MAX_ABS_X`` and ``y <= MAX_COUNT`` (see the constants); a dask
    ``X`` is not read here (its blocks are checked finite when loaded).
    """
    _check_X_representable(X)
    check_counts_representable(y)


def check_finite_representable(X, estimator_name: str | None = None) -> None:
    """ValueError naming ``X`` unless every entry is finite and ``|x| <= MAX_ABS_X``.

    The check scikit-learn's validation makes (finite ``X``, its messages)
    and :func:`check_representable`'s bound on ``X``, in one read of an
    in-memory ``X`` when both hold (one sum of squares, instead of
    scikit-learn's sum and then the sum of squares).  A dask ``X`` is not
    read here.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Validated design (float32 or float64).
    estimator_name : str or None
        Named in scikit-learn's message for non-finite values.
    """
    from sklearn.utils import assert_all_finite

    from ._passes import is_dask_array

    if is_dask_array(X):
        return
    values = X.data if hasattr(X, "tocsr") else np.asarray(X)
    if _bounded_by_sum_of_squares(values):
        return
    # (scikit-learn's first sum of +inf and -inf entries is nan: no warning)
    with naming("X"), np.errstate(over="ignore", invalid="ignore"):
        assert_all_finite(values, estimator_name=estimator_name, input_name="X")
    _check_X_representable(X)


def validate_X(estimator, X, **kwargs):
    """scikit-learn's ``validate_data(estimator, X, **kwargs)``, with refusals naming ``X``.

    Complex and non-numeric input is refused first (:func:`check_real_input`)
    and scikit-learn's messages that name no argument get ``X`` prefixed
    (:func:`naming`).
    """
    from sklearn.utils.validation import validate_data

    check_real_input(X, "X")
    with naming("X"):
        return validate_data(estimator, X, **kwargs)
