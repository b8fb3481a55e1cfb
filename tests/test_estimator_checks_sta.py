"""scikit-learn's estimator checks for every configuration of STAEstimator."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_lnp import STAEstimator

ESTIMATORS = [
    STAEstimator(),
    STAEstimator(nonlinearity="binned"),
    STAEstimator(whiten=True),
    STAEstimator(whiten=True, nonlinearity="binned", n_bins=4, pseudo_count=0.0),
]


def expected_failed_checks(estimator):
    """Checks that cannot pass, with the reason."""
    if estimator.nonlinearity == "binned":
        return {
            "check_non_transformer_estimators_n_iter": (
                "max_iter bounds the Newton fit of the exp nonlinearity only; the binned "
                "rates are closed-form, so there are no iterations and no n_iter_."
            )
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
