"""Issue 18, what is left: a criterion aware of the counts' scale; warnings that say what is true.

- Counts of 1e9 per bin: the lasso and the L2 fits reach the optimum of the
  same problem at counts of 1 (criterion ``max(tol, 1e-12 * mean count)``,
  above the gradient's round-off), without a ConvergenceWarning.
- The ConvergenceWarning mentions ``n_features >= n_samples`` and ``alpha=0``
  only when they hold.
- The separation (no-MLE) warning names the estimator that raises it and its fix.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_lnp import LassoLNPCV, LassoLNPRegressor, PoissonLNPRegressor
from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp._penalties import L1
from sklearn_lnp.linear_model import lasso_lnp_path

SCALE = 1e9


def _data(n=200, p=6):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p))
    y = rng.poisson(np.exp(0.3 * X[:, 0] + 0.2)).astype(float)
    return X, y


def _gradient(X, Y, coef, intercept):
    """Gradient of the mean negative log-likelihood w.r.t. the weights and intercept."""
    objective = PoissonObjective(X, Y)
    W = np.reshape(coef, (-1, X.shape[1])).T
    P = objective.join(W, np.reshape(intercept, -1))
    _, G, _ = objective.value_gradient(P)
    return G[: X.shape[1]], G[X.shape[1] :]


@pytest.mark.parametrize(
    "make",
    [
        lambda: LassoLNPRegressor(alpha=0.01 * SCALE),
        lambda: LassoLNPRegressor(alpha=1.0),
        lambda: PoissonLNPRegressor(alpha=0.01 * SCALE),
        lambda: PoissonLNPRegressor(),
        lambda: PoissonLNPRegressor(solver="lbfgs"),
        lambda: PoissonLNPRegressor(solver="newton-cholesky"),
    ],
    ids=["lasso", "lasso-tiny-alpha", "l2", "l2-alpha0", "l2-lbfgs", "l2-newton"],
)
@pytest.mark.parametrize("population", [False, True])
def test_huge_counts_converge_without_warning_at_the_scaled_optimum(make, population):
    X, y = _data()
    y_big = y * SCALE
    if population:
        y, y_big = np.column_stack([y, y]), np.column_stack([y_big, y_big])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        big = make().fit(X, y_big)
    # KKT relative to the scale: the gradient of counts x 1e9 is 1e9 times that
    # of the counts, so its size over the mean count is the scale-free violation
    G, g_b = _gradient(X, y_big, big.coef_, big.intercept_)
    W = np.reshape(big.coef_, (-1, X.shape[1])).T
    alpha = big.alpha
    if isinstance(big, LassoLNPRegressor):
        violation = L1(alpha).kkt_violation(W, G)
    else:
        violation = np.abs(G + alpha * W)
    mean_count = np.min(np.mean(np.reshape(y_big, (len(X), -1)), axis=0))
    assert np.max(violation) / mean_count <= 1e-12
    assert np.max(np.abs(g_b)) / mean_count <= 1e-12
    # the same optimum as counts x 1 with alpha / 1e9 (intercept + log 1e9)
    small = make().set_params(alpha=big.alpha / SCALE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # alpha ~ 0 with these counts
        small.fit(X, y)
    # both stop within tol of the optimum: coefficients agree to ~sqrt(tol)-level
    # differences amplified by the Hessian's conditioning (measured < 1e-6)
    np.testing.assert_allclose(big.coef_, small.coef_, atol=1e-5)
    np.testing.assert_allclose(
        big.intercept_, np.asarray(small.intercept_) + np.log(SCALE), rtol=1e-7
    )


def test_huge_counts_lasso_path_and_cv_converge_without_warning():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        path = lasso_lnp_path(X, y * SCALE, n_alphas=5)
        model = LassoLNPCV(alphas=5, cv=3).fit(X, y * SCALE)
    assert len(path.alphas) == 5
    assert model.alpha_ > 0 and model.optimality_ / np.mean(y * SCALE) <= 1e-12


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_tol_is_unchanged_for_ordinary_counts(scale):
    """Below a mean count of tol / 1e-12 the criterion is the absolute tol."""
    X, y = _data()
    y = y * scale
    model = PoissonLNPRegressor(solver="lbfgs").fit(X, y)
    G, g_b = _gradient(X, y, model.coef_, model.intercept_)
    assert max(np.max(np.abs(G)), np.max(np.abs(g_b))) <= model.tol
    lasso = LassoLNPRegressor(alpha=0.01 * scale).fit(X, y)
    assert lasso.optimality_ <= lasso.tol


# -- the ConvergenceWarning says only what is true ---------------------------------


def _convergence_message(model, X, y):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(X, y)
    messages = [str(w.message) for w in record if w.category is ConvergenceWarning]
    assert len(messages) == 1, [str(w.message) for w in record]
    return messages[0]


def test_convergence_warning_without_p_ge_n_does_not_mention_it():
    X, y = _data()
    message = _convergence_message(PoissonLNPRegressor(solver="lbfgs", max_iter=1), X, y)
    assert "stopped after" in message
    assert "n_features" not in message and ">= n_samples" not in message
    assert "alpha=0" in message  # alpha = 0: the MLE may not exist


def test_convergence_warning_with_p_ge_n_says_so():
    X, y = _data(n=20, p=30)
    message = _convergence_message(PoissonLNPRegressor(solver="lbfgs", max_iter=1), X, y)
    assert "n_features=30 >= n_samples=20" in message


def test_convergence_warning_with_alpha_does_not_blame_alpha():
    X, y = _data(n=20, p=30)
    message = _convergence_message(
        PoissonLNPRegressor(alpha=1e-3, solver="lbfgs", max_iter=1), X, y
    )
    assert "alpha > 0" not in message and "may not exist" not in message
    message = _convergence_message(LassoLNPRegressor(alpha=1e-3, max_iter=1), *_data())
    assert "may not exist" not in message


# -- the separation warning names its estimator and that estimator's fix -----------


def _separable():
    X, _ = _data()
    y = np.zeros(len(X))
    y[np.argmax(X[:, 0])] = 1.0  # an extreme point: a hyperplane separates it
    return X, y


def test_separation_warning_of_poisson_names_itself_and_l2_fix():
    X, y = _separable()
    with pytest.warns(UserWarning, match="does not exist") as record:
        PoissonLNPRegressor().fit(X, y)
    message = " ".join(str(w.message) for w in record)
    assert message.startswith("PoissonLNPRegressor:")
    assert "L2 penalty alpha > 0" in message and "With alpha=0" in message
    assert "alpha_max" not in message and "LassoLNPCV" not in message


def test_separation_warning_of_lasso_names_itself_and_l1_fix():
    X, y = _separable()
    with pytest.warns(UserWarning, match="does not exist") as record:
        LassoLNPRegressor(alpha=1e-9).fit(X, y)
    message = " ".join(str(w.message) for w in record if "does not exist" in str(w.message))
    assert message.startswith("LassoLNPRegressor:")
    assert "alpha_max / 100" in message and "LassoLNPCV" in message
    assert "L2" not in message
