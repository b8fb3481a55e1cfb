"""Engine of the looping bad-input suite (``tests/test_bad_input_suite.py``).

A *spec* says how to call one public callable with valid arguments and what
kind each corruptible argument is; :func:`bad_values` derives the bad values
of each category from the valid one; :func:`check_outcome` runs one call
under a watchdog and says what was wrong with the outcome, or None.

Outcomes accepted:

- a ``ValueError`` or ``TypeError`` whose message names the argument (as a
  word: ``X`` does not match ``Xt``), wherever it was raised;
- for the categories that are not necessarily wrong (``huge``: a finite
  1e300, ``non_integer`` counts, ``column``: y of shape (n, 1)), a result;
- for a wrong category, a result only when the case is listed as accepted,
  with its reason, in the suite's table.

Never accepted: a numpy ``RuntimeWarning`` or ``ComplexWarning``, any other
exception (``IndexError``, ``FloatingPointError``, ``LinAlgError`` ... from
this package or from a dependency), or a call that outlives the watchdog.
"""

from __future__ import annotations

import re
import signal
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# Seconds one case may take before it counts as a hang: generous, the machine
# is shared (load up to ~10 on 2 cores); the slowest accepted case is a
# LassoLNPCV fit of 60 rows, well under a second alone.
WATCHDOG_SECONDS = 60.0

# The command's analysis steps: every one a bad option must be refused before.
ANALYSIS_STEPS = (
    "fit_lags_separately",
    "fit_lags_jointly",
    "spike_time_sta",
    "fit_l1_lags",
    "fit_history_glm",
    "fit_smooth_lags",
)


def patch_step(monkeypatch, name: str, value) -> None:
    """Replace an analysis step where the command calls it (``cli`` or ``_steps``)."""
    from sklearn_lnp import _steps, cli

    for module in (cli, _steps):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, value)


# Categories, by argument kind.  "refuse": the value is wrong and must be
# refused naming the argument (unless listed as accepted); "either": a named
# refusal or a result.
ARRAY_CATEGORIES = {
    "nan": "refuse",
    "inf": "refuse",
    "huge": "either",
    "complex": "refuse",
    "words": "refuse",
    "more_dims": "refuse",
    "fewer_dims": "refuse",
    "empty": "refuse",
}
LENGTH_CATEGORIES = {"short": "refuse"}  # one row fewer than the other arguments
COUNT_CATEGORIES = {"negative": "refuse", "non_integer": "either"}
TARGET_CATEGORIES = {"column": "either", "transposed": "refuse"}
EXPOSURE_CATEGORIES = {"zero": "refuse", "negative": "refuse"}
WEIGHT_CATEGORIES = {"negative": "refuse"}
SCALAR_CATEGORIES = {
    "nan": "refuse",
    "inf": "refuse",
    "huge": "either",
    "negative": "refuse",
    "complex": "refuse",
    "words": "refuse",
}

# What each kind of argument is, and the categories that apply to it.
KINDS = {
    # a design matrix or stimulus (any real numbers)
    "design": {**ARRAY_CATEGORIES, **LENGTH_CATEGORIES},
    # a matrix without a row count shared with other arguments
    "matrix": dict(ARRAY_CATEGORIES),
    # spike counts per bin, 1-d
    "counts": {**ARRAY_CATEGORIES, **LENGTH_CATEGORIES, **COUNT_CATEGORIES},
    # the target of an estimator: counts, also (n, 1) and a transposed population
    "target": {**ARRAY_CATEGORIES, **LENGTH_CATEGORIES, **COUNT_CATEGORIES, **TARGET_CATEGORIES},
    # bin widths (a scalar is valid: one width for every bin)
    "exposure": {
        **ARRAY_CATEGORIES,
        **LENGTH_CATEGORIES,
        **EXPOSURE_CATEGORIES,
        "fewer_dims": "either",
    },
    # sample weights (a scalar is valid: the same weight for every bin)
    "weights": {
        **ARRAY_CATEGORIES,
        **LENGTH_CATEGORIES,
        **WEIGHT_CATEGORIES,
        "fewer_dims": "either",
    },
    # predicted rates or counts (non-negative)
    "rates": {**ARRAY_CATEGORIES, **LENGTH_CATEGORIES, "negative": "refuse"},
    # sorted times (s)
    "times": {**ARRAY_CATEGORIES},
    # a positive number
    "positive": dict(SCALAR_CATEGORIES) | {"zero": "refuse"},
    # a non-negative number
    "nonnegative": dict(SCALAR_CATEGORIES),
    # a positive integer
    "count_int": dict(SCALAR_CATEGORIES) | {"zero": "refuse", "fraction": "refuse"},
}


def bad_values(kind: str, valid) -> dict[str, object]:
    """``{category: bad value}`` for an argument of ``kind`` whose valid value is ``valid``."""
    categories = KINDS[kind]
    if kind in ("positive", "nonnegative", "count_int"):
        scalar = {
            "nan": float("nan"),
            "inf": float("inf"),
            "huge": 1e300,
            "negative": -abs(float(valid)) - 1.0,
            "complex": complex(valid, 1.0),
            "words": "one",
            "zero": 0,
            "fraction": float(valid) + 0.5,
        }
        return {c: scalar[c] for c in categories}
    valid = np.asarray(valid)
    out = {}
    for category in categories:
        value = np.array(valid, dtype=float if valid.dtype.kind != "c" else complex, copy=True)
        first = (0,) * value.ndim
        if category == "nan":
            value[first] = np.nan
        elif category == "inf":
            value[first] = np.inf
        elif category == "huge":
            value[first] = 1e300
        elif category == "negative":
            value[first] = -1.0
        elif category == "zero":
            value[first] = 0.0
        elif category == "non_integer":
            value = value + 0.5
        elif category == "complex":
            value = value + 1j
        elif category == "words":
            value = np.full(value.shape, "spike", dtype=object)
        elif category == "more_dims":
            # (n, 1) is a valid population of one where 2-d is allowed: go to 3-d
            value = value[:, None, None] if value.ndim == 1 else value[..., None]
        elif category == "fewer_dims":
            value = value.reshape(-1)[0] if value.ndim == 1 else value.reshape(-1)
        elif category == "empty":
            value = value[:0]
        elif category == "short":
            value = value[:-1]
        elif category == "column":
            value = value.reshape(len(value), 1) if value.ndim == 1 else value
        elif category == "transposed":
            value = np.column_stack([value, value, value]).T if value.ndim == 1 else value.T
        out[category] = value
    return out


@dataclass
class Spec:
    """How to call one public callable.

    ``call(**arguments)`` runs it; ``valid()`` returns fresh valid arguments;
    ``kinds`` maps each corruptible argument to its kind (:data:`KINDS`);
    ``names`` gives, per argument, the words a message may use for it
    (default: the argument's name).
    """

    call: Callable
    valid: Callable[[], dict]
    kinds: dict[str, str]
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    slow: bool = False

    def words(self, argument: str, category: str = "") -> tuple[str, ...]:
        own = self.names.get(argument, (argument,))
        if category == "short":
            # a length mismatch is between arguments: naming any of them is enough
            return own + tuple(w for a in self.kinds for w in self.names.get(a, (a,)))
        return own


class Hang(Exception):
    """Raised by the watchdog's alarm."""


def _alarm(signum, frame):
    raise Hang(f"still running after {WATCHDOG_SECONDS:g} s")


def _names_argument(message: str, words) -> bool:
    edge = "A-Za-z0-9_"
    return any(re.search(rf"(?<![{edge}]){re.escape(w)}(?![{edge}])", message) for w in words)


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename}:{last.lineno} in {last.name}"


def run_with_watchdog(function: Callable[[], object]):
    """``(result, exception or None, warnings)`` of ``function()``; :class:`Hang` past the bound."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, WATCHDOG_SECONDS)
    result = error = None
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            try:
                result = function()
            except Hang:
                raise
            except Exception as exc:  # noqa: BLE001 - judged by the caller
                error = exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return result, error, list(record)


def run_case(spec: Spec, argument: str, value):
    """Run ``spec`` with ``argument`` set to ``value``: (exception or None, warnings)."""
    arguments = spec.valid()
    arguments[argument] = value
    _, error, record = run_with_watchdog(lambda: spec.call(**arguments))
    return error, record


def check_outcome(spec: Spec, argument: str, category: str, value, expected: str) -> str | None:
    """What is wrong with calling ``spec`` with a bad ``argument``, or None.

    ``expected`` is ``"refuse"`` (a named refusal is required) or
    ``"either"`` (a named refusal or a result).
    """
    try:
        error, record = run_case(spec, argument, value)
    except Hang as hang:
        return f"hang: {hang}"
    numeric = [
        w
        for w in record
        if issubclass(w.category, RuntimeWarning) or w.category.__name__ == "ComplexWarning"
    ]
    if numeric:
        w = numeric[0]
        return f"{w.category.__name__} at {w.filename}:{w.lineno}: {w.message}"
    if error is None:
        if expected == "refuse":
            return "accepted without a refusal"
        return None
    if not isinstance(error, ValueError | TypeError):
        return f"{type(error).__name__} from {_where(error)}: {error}"
    message = str(error)
    words = spec.words(argument, category)
    if not _names_argument(message, words):
        return (
            f"{type(error).__name__} from {_where(error)} does not name "
            f"{' or '.join(words)}: {message}"
        )
    return None
