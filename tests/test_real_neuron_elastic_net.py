"""The elastic net on the lab's real neuron (lags 0-4, 1488 bins x 1500 columns, per-bin exposure).

Skipped, with the reason, when ``../shared/data/nds_cl_5_data.mat`` is absent.

Facts asserted:

* the fit satisfies the elastic-net optimality (KKT) conditions to 1e-8,
  with the gradient computed here in plain numpy;
* it is glum's optimum with the same ``alpha`` and ``l1_ratio`` and the log
  exposure as offset: both solutions evaluated with our objective agree to
  1e-10 relative (glum's ``gradient_tol=1e-10`` reaches it: measured gaps of
  ~5e-16 relative at ``l1_ratio`` 0.5 and 0.2).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sklearn_lnp import LassoLNPRegressor, lasso_lnp_path
from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp._penalties import ElasticNet
from sklearn_lnp._solvers._prox_newton import penalised_value


@pytest.fixture(scope="module")
def lagged(real_design, real_lagged_X):
    return real_lagged_X, real_design.counts, real_design.exposure


def numpy_kkt(X, y, e, coef, intercept, alpha, l1_ratio):
    mu = e * np.exp(X @ coef + intercept)
    r = (mu - y) / len(y)
    g = X.T @ r + alpha * (1 - l1_ratio) * coef
    t = alpha * l1_ratio
    v = np.where(coef == 0, np.maximum(np.abs(g) - t, 0), np.abs(g + t * np.sign(coef)))
    return max(v.max(), abs(r.sum()))


def fit(X, y, e, l1_ratio, fraction):
    """The fit at ``fraction * alpha_max`` of this ``l1_ratio``."""
    top = lasso_lnp_path(X, y, exposure=e, n_alphas=1, l1_ratio=l1_ratio).alpha_max
    alpha = fraction * top
    return alpha, LassoLNPRegressor(alpha=alpha, l1_ratio=l1_ratio).fit(X, y, exposure=e)


def test_kkt_with_exposure(lagged):
    X, y, e = lagged
    alpha, model = fit(X, y, e, 0.5, 0.1)
    assert model.n_nonzero_ > 100  # a dense fit: the L2 part keeps correlated pixels
    assert model.optimality_ <= 1e-8
    assert numpy_kkt(X, y, e, model.coef_, model.intercept_, alpha, 0.5) <= 1e-8


@pytest.mark.slow  # glum's IRLS-CD on the 1500-column design (1-2 s of CPU per fit)
@pytest.mark.parametrize("l1_ratio", [0.5, 0.2])
def test_same_optimum_as_glum_with_offset(lagged, l1_ratio):
    glum = pytest.importorskip("glum", reason="glum is not installed (test extra)")
    X, y, e = lagged
    alpha, ours = fit(X, y, e, l1_ratio, 0.1)
    # glum minimises deviance / (2 sum s) + alpha l1_ratio |w|_1
    # + alpha (1 - l1_ratio)/2 |w|^2 (sample weights normalised to sum 1):
    # half the Poisson deviance per bin is our mean negative log-likelihood
    # plus a constant, so alpha and l1_ratio are the same numbers.
    ref = glum.GeneralizedLinearRegressor(
        family="poisson", alpha=alpha, l1_ratio=l1_ratio, solver="irls-cd", gradient_tol=1e-10
    )
    # one thread: glum's OpenMP loops crawl when the machine's cores are busy
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # glum's line-search warnings
        ref.fit(X, y, offset=np.log(e))
    objective = PoissonObjective(X, y, e)
    params = np.append(ref.coef_, ref.intercept_)[:, None]
    theirs = float(penalised_value(objective, ElasticNet(alpha, l1_ratio), params)[0])
    assert ours.optimality_ <= 1e-8
    assert abs(theirs - ours.objective_) <= 1e-10 * abs(ours.objective_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
