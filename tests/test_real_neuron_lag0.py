"""The lab's real neuron at lag 0 (skipped, with the reason, without the data).

Facts asserted (see ``../shared/data/README.md``): the fitted lag-0 RF is
ON-type and peaks at row 12, col 4 of the 20 x 15 frame; the fit reaches the
exact optimum (objective within 1e-8 relative of scikit-learn's
Newton-Cholesky at tol 1e-12, with the exposure mapping); and pairing
interval k with frame k gives a stronger RF than the course template's
pairing with frame k + 1.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import PoissonRegressor

from sklearn_lnp import PoissonLNPRegressor
from sklearn_lnp._objective import PoissonObjective
from sklearn_lnp.datasets import recording_design

RF_CENTER = (12, 4)  # row, col (0-based) of the 20 x 15 frame


@pytest.fixture(scope="module")
def lag0_fit(real_design):
    model = PoissonLNPRegressor()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning, no RuntimeWarning
        model.fit(real_design.X, real_design.counts, exposure=real_design.exposure)
    return model


def test_design_of_the_recording(real_design):
    assert real_design.X.shape == (1488, 300)
    assert real_design.frame_shape == (20, 15)
    assert real_design.counts.sum() == 5493  # 7 of 5500 spikes follow the last trigger
    assert real_design.n_spikes_after == 7
    assert 0.16 < real_design.exposure.min() < real_design.exposure.max() < 0.27


def test_lag0_rf_is_on_and_centred_at_row_12_col_4(lag0_fit, real_design):
    rf = lag0_fit.coef_.reshape(real_design.frame_shape)
    peak = np.unravel_index(np.argmax(rf), rf.shape)
    assert tuple(int(i) for i in peak) == RF_CENTER
    # ON-type: the largest weight in absolute value is positive.
    assert rf[peak] == np.max(np.abs(rf)) > 0
    # The intercept is a plausible log rate: exp(b) ~ 17 spikes/s (the mean rate).
    assert 5.0 < np.exp(lag0_fit.intercept_) < 50.0


def test_lag0_objective_matches_exact_newton_reference(lag0_fit, real_design):
    """Within 1e-8 (relative) of sklearn's Newton-Cholesky at tol 1e-12.

    sklearn has no offset: it is fitted on rates y / exposure with sample
    weights exposure, and alpha_sk = alpha * n / sum(exposure) (= 0 here);
    see tests/test_poisson_regressor.py for the derivation.  Both parameter
    vectors are evaluated with the same objective.
    """
    X, y, exposure = real_design.X, real_design.counts, real_design.exposure
    reference = PoissonRegressor(alpha=0.0, solver="newton-cholesky", tol=1e-12, max_iter=100)
    reference.fit(X, y / exposure, sample_weight=exposure)
    objective = PoissonObjective(X, y, exposure)
    best = objective.value(np.append(reference.coef_, reference.intercept_)[:, None])[0]
    ours = objective.value(np.append(lag0_fit.coef_, lag0_fit.intercept_)[:, None])[0]
    assert lag0_fit.objective_ == pytest.approx(ours, rel=1e-14)
    assert abs(ours - best) <= 1e-8 * abs(best)
    assert lag0_fit.optimality_ <= lag0_fit.tol


def test_newton_cholesky_reaches_the_same_optimum(lag0_fit, real_design):
    newton = PoissonLNPRegressor(solver="newton-cholesky", tol=1e-10).fit(
        real_design.X, real_design.counts, exposure=real_design.exposure
    )
    assert newton.optimality_ <= 1e-10
    assert abs(newton.objective_ - lag0_fit.objective_) <= 1e-8 * abs(newton.objective_)


def test_interval_k_with_frame_k_gives_the_stronger_rf(lag0_fit, real_recording):
    """The data README: interval k <-> frame k, not the template's frame k + 1.

    Measured: peak weight 0.091 at (12, 4) with frame_offset=0, against a
    largest |weight| of 0.043 (at another pixel) with frame_offset=1.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unused frames, outside spikes
        shifted = recording_design(real_recording, frame_offset=1)
    model = PoissonLNPRegressor().fit(shifted.X, shifted.counts, exposure=shifted.exposure)
    peak_aligned = np.max(lag0_fit.coef_)
    assert peak_aligned > 1.5 * np.max(np.abs(model.coef_))
    center = np.ravel_multi_index(RF_CENTER, shifted.frame_shape)
    assert model.coef_[center] < 0.5 * peak_aligned
