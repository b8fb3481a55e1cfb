"""Warnings of sklearn-lnp that users may want to filter by name.

``ExposureWarning`` is issued when a model fitted with exposure (bin widths)
other than 1 predicts without it: the prediction is then the rate per unit of
exposure, not the expected count per bin.  Silence it by name when the rate is
what you want::

    import warnings
    from sklearn_lnp.exceptions import ExposureWarning

    warnings.filterwarnings("ignore", category=ExposureWarning)
"""

from __future__ import annotations

__all__ = ["ExposureWarning"]


class ExposureWarning(UserWarning):
    """A model fitted with exposure other than 1 predicted without it.

    Raised by ``predict`` (and so by scikit-learn's own scorers and
    ``cross_val_predict``, which call it without metadata) of every
    estimator of this package fitted with bin widths that are not all 1
    (uneven, or a constant other than 1).  The prediction it warns about is
    the rate per unit of exposure (e.g. spikes/s), not the expected count
    per bin; the message names the one-line fix.  ``score`` in the same
    situation raises a ``ValueError`` instead, since it would compare rates
    with counts.

    A subclass of ``UserWarning``: filters for ``UserWarning`` also catch it.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn_lnp import PoissonLNPRegressor
    >>> from sklearn_lnp.exceptions import ExposureWarning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> e = rng.uniform(0.1, 0.3, size=200)                  # bin widths (s)
    >>> y = rng.poisson(e * np.exp(2.0 + 0.5 * X[:, 0]))
    >>> model = PoissonLNPRegressor().fit(X, y, exposure=e)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     rate = model.predict(X)                           # spikes/s, not counts
    >>> caught[0].category is ExposureWarning
    True
    >>> counts = model.predict(X, exposure=e)                 # expected counts: silent
    """
