"""Refusals of scikit-learn's validation, as this package calls it, name the argument."""

import numpy as np
import pytest

from sklearn_lnp import PoissonLNPRegressor
from sklearn_lnp._validation import check_real_input, check_target_ndim, naming


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = rng.poisson(np.exp(0.3 * X[:, 0])).astype(float)
    return X, y


def test_naming_prefixes_the_argument_and_keeps_scikit_learns_text():
    with pytest.raises(ValueError, match=r"^X: Expected 2D array"):
        with naming("X"):
            raise ValueError("Expected 2D array, got 1D array instead")
    # a message that already names an argument of the call is left alone
    with pytest.raises(ValueError, match=r"^Input y contains NaN\.$"):
        with naming("X", "y"):
            raise ValueError("Input y contains NaN.")
    with pytest.raises(TypeError, match=r"^sample_weight: "):
        with naming("sample_weight"):
            raise TypeError("float() argument must be a string or a real number")


@pytest.mark.parametrize("value", [np.array([0.2 + 1j, 1.0]), [0.2 + 1j], 1j])
def test_complex_input_is_refused_by_name_without_complex_warning(value):
    # numpy would keep 0.2 of 0.2+1j with only a ComplexWarning
    with pytest.raises(ValueError, match=r"^counts must hold real numbers: Complex data"):
        check_real_input(value, "counts")


def test_target_of_three_dimensions_is_refused_not_flattened():
    X, y = _data()
    with pytest.raises(ValueError, match=r"^y must be 1-d .* got 3 dimensions"):
        check_target_ndim(y[:, None, None])
    with pytest.raises(ValueError, match=r"\by\b.*3 dimensions"):
        PoissonLNPRegressor().fit(X, y[:, None, None])


@pytest.mark.parametrize(
    "corrupt, argument",
    [
        (lambda X, y: (X[:, 0], y), "X"),  # 1-d X
        (lambda X, y: (X + 1j, y), "X"),
        (lambda X, y: (np.full(X.shape, "spike", dtype=object), y), "X"),
        (lambda X, y: (X, y + 1j), "y"),
        (lambda X, y: (X, np.full(y.shape, "spike", dtype=object)), "y"),
    ],
)
def test_fit_refusals_name_the_argument(corrupt, argument):
    X, y = corrupt(*_data())
    with pytest.raises(
        (ValueError, TypeError), match=rf"(?<![A-Za-z0-9_]){argument}(?![A-Za-z0-9_])"
    ):
        PoissonLNPRegressor().fit(X, y)


def test_scalar_sample_weight_is_one_weight_for_every_bin():
    # scikit-learn's convention, kept by fit_sample_weight: equal weights
    # leave the maximum-likelihood fit unchanged
    X, y = _data()
    plain = PoissonLNPRegressor(alpha=0.0, tol=1e-10).fit(X, y)
    weighted = PoissonLNPRegressor(alpha=0.0, tol=1e-10).fit(X, y, sample_weight=3.0)
    np.testing.assert_allclose(weighted.coef_, plain.coef_, rtol=1e-6, atol=1e-8)
