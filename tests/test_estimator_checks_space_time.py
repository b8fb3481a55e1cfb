"""scikit-learn's estimator checks for LagTransformer, SlowDriftFeatures and SVDSeparator."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_lnp import LagTransformer, PoissonLNPRegressor, SlowDriftFeatures, SVDSeparator

# The checks draw X with 1 to 10 columns, so SVDSeparator is checked with one lag
# (every column is a pixel); several lags are tested in tests/test_decomposition.py.
# With one lag, centring over lags would remove the whole RF, so center="none".
ESTIMATORS = [
    LagTransformer(),
    LagTransformer(lags=[2, 0], fill_value=-1.0, dtype="float32"),
    SVDSeparator(n_lags=1, center="none"),
    SVDSeparator(PoissonLNPRegressor(alpha=0.1), n_lags=1, center="over_pixels"),
    SVDSeparator(n_lags=1, fit_method="bilinear"),
    SlowDriftFeatures(),
    SlowDriftFeatures(n_basis=2, time_range=(-10.0, 10.0), scale=1.0),
]

_ORDER = (
    "row t of the lagged design holds the frames t - L: the output depends on the order "
    "and on the presence of the previous rows by definition."
)


def expected_failed_checks(estimator):
    """Checks that cannot pass, with the reason."""
    if isinstance(estimator, LagTransformer):
        return {
            "check_methods_sample_order_invariance": _ORDER,
            "check_methods_subset_invariance": _ORDER,
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
