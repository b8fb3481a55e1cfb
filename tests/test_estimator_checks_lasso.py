"""scikit-learn's estimator checks for ``LassoLNPRegressor`` and ``LassoLNPCV`` (and elastic net).

Every check passes for the configurations below; ``EXPECTED_FAILED_CHECKS``
lists, with the reason, any check that cannot pass for a configuration.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_lnp import LassoLNPCV, LassoLNPRegressor
from sklearn_lnp.model_selection import BlockedTimeSeriesSplit

ESTIMATORS = [
    LassoLNPRegressor(),
    LassoLNPRegressor(alpha=0.01, fit_intercept=True, solver_options={"inner": "fista"}),
    # Small grid and folds without a gap: the checks fit data sets of ~20 rows.
    LassoLNPCV(alphas=4, cv=BlockedTimeSeriesSplit(3, gap=0)),
    # the elastic net: an ElasticNet penalty, and (l1_ratio, alpha) cross-validated
    LassoLNPRegressor(alpha=0.01, l1_ratio=0.5),
]
# every check cross-validates two l1_ratio values: ~4 s in all, outside the fast loop
SLOW_ESTIMATORS = [
    LassoLNPCV(alphas=3, l1_ratio=[0.5, 1.0], cv=BlockedTimeSeriesSplit(3, gap=0)),
]

EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "LassoLNPRegressor": {
        "check_regressor_multioutput": (
            "the check fits make_regression targets, which are negative, without applying "
            "the positive_only target tag: spike counts must be >= 0, so fit raises a "
            "ValueError. The same check on non-negative counts is "
            "tests/test_population.py::test_lasso_population_is_each_neurons_optimum."
        )
    },
    "LassoLNPCV": {
        "check_regressor_multioutput": (
            "the check fits make_regression targets, which are negative, without applying "
            "the positive_only target tag: spike counts must be >= 0, so fit raises a "
            "ValueError. The same check on non-negative counts is "
            "tests/test_lasso_cv_population.py::test_multioutput_check_on_counts."
        )
    },
}


def expected_failed_checks(estimator) -> dict[str, str]:
    """Checks that cannot pass for ``estimator``, each with its reason."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(SLOW_ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_cross_validated_l1_ratio(estimator, check):
    check(estimator)
