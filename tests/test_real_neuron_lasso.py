"""The L1-penalised LNP model on the lab's real neuron (lags 0-4, per-bin exposure).

Skipped, with the reason, when ``../shared/data/nds_cl_5_data.mat`` is absent.

Facts asserted:

* at several alphas along the path the solution satisfies the L1 optimality
  (KKT) conditions to 1e-8, with the gradient computed here in plain numpy;
* it is the optimum glum finds with the exposure as an offset (objective
  within 1e-9) and, without exposure, the optimum skglm finds;
* pyglmnet (when installed) cannot take the per-bin exposure: the backend
  reports its gap to the optimum with a ``ConvergenceWarning`` naming the
  cause; without exposure it converges to our optimum (gap < 1e-9);
* cross-validation over blocked time-series folds chooses an interior alpha;
  the fit there is sparse, peaks ON at row 12, col 4 at lag 0 and has its
  opposite-sign lobe at lag 2 within one pixel of that place;
* on the same folds its held-out bits per spike beat the lab's unpenalised
  lag-0 fit and the joint L2 fit at its own best alpha.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from _lasso_reference import PoissonObjective, l1_objective
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_validate

from sklearn_lnp import (
    LassoLNPCV,
    LassoLNPRegressor,
    PoissonLNPRegressor,
    lasso_lnp_path,
)
from sklearn_lnp.linear_model._pyglmnet import pyglmnet_available
from sklearn_lnp.metrics import get_scorer
from sklearn_lnp.model_selection import BlockedTimeSeriesSplit

RF_ROW, RF_COL = 12, 4


@pytest.fixture(scope="module")
def lagged(real_design, real_lagged_X):
    return real_lagged_X, real_design.counts, real_design.exposure, real_design.frame_shape


@pytest.fixture(scope="module")
def top(lagged):
    X, y, e, _ = lagged
    return lasso_lnp_path(X, y, exposure=e, n_alphas=1).alpha_max


def numpy_kkt(X, y, e, coef, intercept, alpha):
    mu = e * np.exp(X @ coef + intercept)
    r = (mu - y) / len(y)
    g = X.T @ r
    zero = coef == 0
    v = np.where(zero, np.maximum(np.abs(g) - alpha, 0), np.abs(g + alpha * np.sign(coef)))
    return max(v.max(), abs(r.sum()))


@pytest.mark.slow  # 0.9 s (measured in the fast loop at load ~3)
def test_kkt_along_the_path(lagged, top):
    X, y, e, _ = lagged
    path = lasso_lnp_path(X, y, exposure=e, alphas=top * np.array([0.5, 0.2, 0.1, 0.04]))
    assert np.all(path.n_nonzero > 0)
    assert path.n_nonzero[-1] > 300  # a dense point of the path too
    for k, alpha in enumerate(path.alphas):
        assert numpy_kkt(X, y, e, path.coefs[:, k], path.intercepts[k], alpha) <= 1e-8


@pytest.mark.slow  # glum's IRLS-CD on the 1500-column design
def test_same_optimum_as_glum_with_offset(lagged, top):
    glum = pytest.importorskip("glum", reason="glum is not installed (test extra)")
    X, y, e, _ = lagged
    alpha = 0.1 * top
    ours = LassoLNPRegressor(alpha=alpha).fit(X, y, exposure=e)
    ref = glum.GeneralizedLinearRegressor(
        family="poisson", alpha=alpha, l1_ratio=1.0, solver="irls-cd", gradient_tol=1e-10
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # glum's line-search warnings
        ref.fit(X, y, offset=np.log(e))
    obj = PoissonObjective(X, y, e)
    theirs = l1_objective(obj, np.append(ref.coef_, ref.intercept_), alpha)
    assert -1e-12 <= theirs - ours.objective_ <= 1e-9
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


@pytest.mark.slow  # skglm's numba solvers compile on first use (~20-30 s)
def test_same_optimum_as_skglm_without_exposure(lagged, top):
    skglm = pytest.importorskip("skglm", reason="skglm is not installed (bench extra)")
    from skglm.datafits import Poisson
    from skglm.penalties import L1
    from skglm.solvers import ProxNewton

    X, y, _, _ = lagged
    alpha = 0.2 * top
    ours = LassoLNPRegressor(alpha=alpha).fit(X, y)
    ref = skglm.GeneralizedLinearEstimator(
        datafit=Poisson(), penalty=L1(alpha), solver=ProxNewton(tol=1e-10, fit_intercept=True)
    ).fit(X, y)
    obj = PoissonObjective(X, y, None)
    theirs = l1_objective(obj, np.append(ref.coef_, ref.intercept_), alpha)
    assert abs(theirs - ours.objective_) <= 1e-9
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)


@pytest.mark.skipif(not pyglmnet_available(), reason="pyglmnet is not installed (optional extra)")
def test_pyglmnet_reaches_the_optimum_only_without_exposure(lagged):
    X, y, e, _ = lagged
    X0 = X[:, : X.shape[1] // 5]  # lag 0: pyglmnet's iterations cost O(p^3)
    alpha = 0.1 * lasso_lnp_path(X0, y, exposure=e, n_alphas=1).alpha_max
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with_exposure = LassoLNPRegressor(alpha=alpha, solver="pyglmnet").fit(X0, y, exposure=e)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert any("NOT the optimum" in m and "no offset" in m for m in messages)
    report = with_exposure.backend_report_
    assert report["gap"] > 1e-4 and report["kkt_violation"] > 1e-4
    assert report["optimum_kkt_violation"] <= 1e-8
    # Without exposure the problem is one pyglmnet can express: with the
    # backend's reg_lambda = alpha * learning_rate it converges to our optimum.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = LassoLNPRegressor(
            alpha=alpha, solver="pyglmnet", solver_options={"tol": 1e-12, "max_iter": 5000}
        ).fit(X0, y)
    # The gap is measured against our exact optimum: >= 0 up to round-off.
    assert -1e-12 <= plain.backend_report_["gap"] < 1e-9
    assert plain.n_nonzero_ == plain.backend_report_["n_nonzero_optimum"]


@pytest.fixture(scope="module")
def cross_validated(lagged):
    X, y, e, _ = lagged
    return LassoLNPCV(alphas=8, eps=0.1, scoring="bits_per_spike").fit(X, y, exposure=e)


@pytest.mark.slow  # LassoLNPCV on the recording's 1500 columns
def test_cv_choice_and_rf(lagged, cross_validated):
    _, _, _, frame_shape = lagged
    cv = cross_validated
    assert 0 < cv.best_index_ < len(cv.alphas_) - 1
    assert 0 < cv.n_nonzero_ < cv.coef_.size // 4
    maps = cv.coef_.reshape(5, *frame_shape)
    peak = np.unravel_index(np.argmax(np.abs(maps[0])), frame_shape)
    assert peak == (RF_ROW, RF_COL) and maps[0][peak] > 0
    near = maps[2, RF_ROW - 1 : RF_ROW + 2, RF_COL - 1 : RF_COL + 2]
    assert near.min() < 0
    assert near.min() == pytest.approx(maps[2].min())  # lag 2's strongest weight


@pytest.mark.slow  # blocked CV of the L1, L2 and lag-0 fits
def test_held_out_bits_beat_unpenalised_and_l2(lagged, cross_validated):
    X, y, e, _ = lagged
    folds = BlockedTimeSeriesSplit(5, gap=4)
    lasso_bits = np.mean(cross_validated.bits_per_spike_path_[cross_validated.best_index_])
    scorer = get_scorer("bits_per_spike")
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lag0 = cross_validate(
            PoissonLNPRegressor().set_fit_request(exposure=True),
            X[:, : X.shape[1] // 5],
            y,
            cv=folds,
            scoring=scorer,
            params={"exposure": e},
        )["test_score"].mean()
        l2 = GridSearchCV(
            PoissonLNPRegressor().set_fit_request(exposure=True),
            {"alpha": [1.0, 2.0, 5.0, 10.0, 20.0]},
            cv=folds,
            scoring=scorer,
        ).fit(X, y, exposure=e)
    assert 1.0 < l2.best_params_["alpha"] < 20.0  # interior: the L2 grid is wide enough
    assert lasso_bits > lag0
    assert lasso_bits > l2.best_score_


@pytest.mark.slow  # CLI run on the recording: L1 path CV and figures
def test_cli_penalty_l1(real_data_path, tmp_path, top):
    """``sklearn-lnp fit PATH --penalty l1`` writes the grid and CV figures and the JSON block."""
    import json

    from sklearn_lnp.cli import main

    alphas = ",".join(f"{f * top:.6g}" for f in (0.5, 0.3, 0.2, 0.12, 0.07))
    main(
        ["fit", str(real_data_path), "--alpha-grid", "10", "--penalty", "l1"]
        + ["--l1-alphas", alphas, "--out", str(tmp_path)]
    )
    folder = tmp_path / real_data_path.stem
    summary = json.loads((folder / "summary.json").read_text())
    block = summary["l1"]
    assert {"l1_grid.png", "l1_cv.png"} <= set(summary["figures"])
    assert all((folder / name).stat().st_size > 0 for name in ("l1_grid.png", "l1_cv.png"))
    assert len(block["grid_alphas"]) == 5 and block["lags"] == [0, 1, 2, 3, 4]
    assert block["alphas"][0] > block["alpha"] > block["alphas"][-1]  # interior choice
    lag0, lag2 = block["refit"]["peaks"][0], block["refit"]["peaks"][2]
    assert (lag0["peak_row"], lag0["peak_col"]) == (RF_ROW, RF_COL) and lag0["peak_weight"] > 0
    assert lag2["peak_weight"] < 0
    assert abs(lag2["peak_row"] - RF_ROW) <= 1 and abs(lag2["peak_col"] - RF_COL) <= 1
    assert block["refit"]["kkt_violation"] <= 1e-8
