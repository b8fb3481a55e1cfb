"""Cross-validation for time series of stimulus frames and spike counts.

Bins of a recording are not exchangeable: neighbouring bins share stimulus
history (through the lags of a space-time design) and slow changes of the
neuron's state.  :class:`BlockedTimeSeriesSplit` keeps every test fold a
contiguous block and leaves out ``gap`` bins on each side of it, so that no
training row shares a lagged frame with a test row.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils.validation import _num_samples

__all__ = ["BlockedTimeSeriesSplit"]


def _n_samples(X, y=None, groups=None) -> int:
    """Number of rows of ``X``, after checking that ``y`` and ``groups`` have as many.

    Raises a ValueError naming the argument (scikit-learn's messages name
    neither: "Found input variables with inconsistent numbers of samples").
    """
    sizes = {}
    for name, value in (("X", X), ("y", y), ("groups", groups)):
        if value is None and name != "X":
            continue
        try:
            sizes[name] = _num_samples(value)
        except TypeError:
            raise ValueError(
                f"BlockedTimeSeriesSplit: {name} must be an array-like with one row per time "
                f"bin; got {type(value).__name__} {value!r:.80}."
            ) from None
    for name in ("y", "groups"):
        if name in sizes and sizes[name] != sizes["X"]:
            raise ValueError(
                f"BlockedTimeSeriesSplit: {name} has {sizes[name]} rows but X has "
                f"{sizes['X']}: the fold indices of X would be out of range for {name} (or "
                f"leave rows of {name} out). Pass X and {name} of the same recording."
            )
    return sizes["X"]


def _check_split_params(n_splits, gap) -> tuple[int, int]:
    for name, value, low in (("n_splits", n_splits, 2), ("gap", gap, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(
                f"BlockedTimeSeriesSplit: {name} must be an integer >= {low}; got {value!r}."
            )
    return int(n_splits), int(gap)


class BlockedTimeSeriesSplit(BaseCrossValidator):
    """K-fold cross-validation with contiguous test blocks and a gap around them.

    The ``n_samples`` rows (time bins, in temporal order) are cut into
    ``n_splits`` contiguous blocks of sizes differing by at most one.  Fold
    ``k`` tests on block ``k`` and trains on every other row except the
    ``gap`` rows just before and just after the block.  Every row is tested
    exactly once.

    Use ``gap >= max(lags)`` with a lagged design
    (:class:`~sklearn_lnp.LagTransformer`): a test row at time ``t`` then uses
    frames ``t - max(lags) .. t``, none of which appears in a training row.
    The recipe is to lag the whole stimulus first (the lagging learns nothing
    from the counts) and cross-validate the regressor on the lagged design::

        Xlag = LagTransformer(lags=range(5)).fit_transform(stimulus)
        search = GridSearchCV(PoissonLNPRegressor(), {"alpha": np.logspace(-1, 2, 7)},
                              cv=BlockedTimeSeriesSplit(5, gap=4))

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (at least 2).
    gap : int, default=4
        Rows left out of the training set on each side of the test block
        (4 = the largest default lag of ``LagTransformer``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lnp.model_selection import BlockedTimeSeriesSplit
    >>> cv = BlockedTimeSeriesSplit(n_splits=3, gap=1)
    >>> for train, test in cv.split(np.zeros((9, 1))):
    ...     print(train, test)
    [4 5 6 7 8] [0 1 2]
    [0 1 7 8] [3 4 5]
    [0 1 2 3 4] [6 7 8]
    """

    def __init__(self, n_splits=5, *, gap=4):
        self.n_splits = n_splits
        self.gap = gap

    def _blocks(self, n_samples: int):
        n_splits, gap = _check_split_params(self.n_splits, self.gap)
        if n_splits > n_samples:
            raise ValueError(
                f"BlockedTimeSeriesSplit: n_splits={n_splits} cannot be greater than the number "
                f"of samples {n_samples} (rows of X)."
            )
        edges = np.linspace(0, n_samples, n_splits + 1).round().astype(int)
        for k in range(n_splits):
            start, stop = int(edges[k]), int(edges[k + 1])
            n_train = max(start - gap, 0) + max(n_samples - stop - gap, 0)
            if n_train == 0:
                raise ValueError(
                    f"gap={gap} leaves no training rows for fold {k} of {n_splits} with "
                    f"{n_samples} samples; use a smaller gap or more samples."
                )
            yield start, stop, gap

    def _iter_test_indices(self, X=None, y=None, groups=None):
        n_samples = _n_samples(X, y, groups)
        for start, stop, _ in self._blocks(n_samples):
            yield np.arange(start, stop)

    def split(self, X, y=None, groups=None):
        """Generate train and test indices of each fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows in temporal order.
        y : array-like of shape (n_samples,), optional
            Not used, but checked to have as many rows as ``X``.
        groups : array-like of shape (n_samples,), optional
            Not used, but checked to have as many rows as ``X``.

        Yields
        ------
        train : ndarray
            Indices of the training rows (both sides of the test block,
            without the gaps).
        test : ndarray
            Indices of the contiguous test block.

        Raises
        ------
        ValueError
            Naming the argument: ``X`` without rows (e.g. a scalar), ``y``
            or ``groups`` of another length than ``X`` (their rows would
            not match the fold indices), ``n_splits`` above the number of
            rows, or a ``gap`` that leaves a fold without training rows.
        """
        n_samples = _n_samples(X, y, groups)
        indices = np.arange(n_samples)
        for start, stop, gap in self._blocks(n_samples):
            train = np.concatenate(
                (indices[: max(start - gap, 0)], indices[min(stop + gap, n_samples) :])
            )
            yield train, indices[start:stop]

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds.

        Parameters
        ----------
        X, y, groups : ignored

        Returns
        -------
        int
        """
        return _check_split_params(self.n_splits, self.gap)[0]
