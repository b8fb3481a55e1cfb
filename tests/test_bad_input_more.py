"""Issue 18, more bad input: items 4, 5, 7 and 16/18."""

import warnings

import numpy as np
import pytest

from sklearn_lnp import PoissonLNPRegressor


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = rng.poisson(np.exp(0.3 * X[:, 0] + 0.2)).astype(float)
    return X, y


# item 7: complete separation with one spike and n > p


def test_poisson_alpha0_complete_separation_warns():
    X, _ = _data()
    y = np.zeros(len(X))
    y[np.argmax(X[:, 0])] = 1.0  # an extreme point: a hyperplane separates it
    with pytest.warns(UserWarning, match="does not exist"):
        PoissonLNPRegressor().fit(X, y)


def test_poisson_alpha0_complete_separation_names_neuron():
    X, y = _data()
    one = np.zeros(len(X))
    one[np.argmax(X[:, 0])] = 1.0
    with pytest.warns(UserWarning, match=r"y columns \[1\]"):
        PoissonLNPRegressor().fit(X, np.column_stack([y, one]))


def test_poisson_no_separation_warning_when_mle_exists_or_penalised():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PoissonLNPRegressor().fit(X, y)
    one = np.zeros(len(X))
    one[np.argmax(X[:, 0])] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PoissonLNPRegressor(alpha=1.0).fit(X, one)


# items 16/18: values beyond float64's reach refused naming the argument


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("population", [False, True])
def test_poisson_huge_value_refused_naming_argument(where, population):
    X, y = _data()
    if where == "X":
        X[5, 2] = 1e300
    else:
        y[5] = 1e300
    if population:
        y = np.column_stack([y, y])
    with pytest.raises(ValueError, match=rf"^{where} "):
        PoissonLNPRegressor().fit(X, y)
