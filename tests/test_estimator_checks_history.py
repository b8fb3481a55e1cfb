"""scikit-learn's estimator checks for LagTransformer(basis=) and SpikeHistoryTransformer."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_lnp import LagTransformer, RaisedCosineBasis, SpikeHistoryTransformer

ESTIMATORS = [
    LagTransformer(lags=range(4), basis=RaisedCosineBasis(2)),
    LagTransformer(lags=[3, 0, 1], basis=RaisedCosineBasis(3, log_time=False), dtype="float32"),
    SpikeHistoryTransformer(lags=[1, 2]),
]

_ORDER = (
    "row t of the lagged design holds the rows t - L: the output depends on the order and on "
    "the presence of the previous rows by definition."
)


_COUNTS = (
    "the check draws X as random (negative, non-integer) floats; spike history refuses what "
    "is not a count, by design (tests/test_spike_history.py)."
)
_NOT_COUNTS = (
    "fit_score_takes_y estimators_overwrite_params dont_overwrite_parameters "
    "estimators_fit_returns_self readonly_memmap_input n_features_in_after_fitting "
    "positive_only_tag_during_fit estimators_dtypes dtype_object pipeline_consistency "
    "estimators_nan_inf estimators_pickle f_contiguous_array_estimator "
    "transformer_data_not_an_array transformer_general transformer_preserve_dtypes "
    "fit2d_1sample fit2d_1feature dict_unchanged fit_idempotent fit_check_is_fitted "
    "n_features_in fit2d_predict1d"
).split()


def expected_failed_checks(estimator):
    """Checks that cannot pass, with the reason."""
    failing = {
        "check_methods_sample_order_invariance": _ORDER,
        "check_methods_subset_invariance": _ORDER,
    }
    if isinstance(estimator, SpikeHistoryTransformer):
        failing |= {f"check_{name}": _COUNTS for name in _NOT_COUNTS}
    return failing


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
