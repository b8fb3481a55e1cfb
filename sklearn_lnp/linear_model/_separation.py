"""Whether an unpenalised Poisson fit has a maximum-likelihood estimate at all.

Under complete separation (a direction along which the likelihood keeps
increasing) the coefficients of a nearly unpenalised fit grow without bound;
the estimators warn about it after fitting (:func:`warn_if_no_mle`).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

# ``alpha / alpha_max`` below which a fit with ``n_features >= n_samples``
# is warned about: the fit is then nearly unpenalised.
TINY_ALPHA_RATIO = 1e-4


def separating_direction(X, y, sample_weight, fit_intercept: bool) -> bool:
    """Whether the unpenalised Poisson MLE of counts ``y`` on ``X`` does not exist.

    It does not iff some direction ``d`` (weights, and the intercept when
    fitted) has ``z = X d + d_b <= 0`` on every bin with weight, ``z = 0``
    where ``y > 0`` and ``z < 0`` somewhere (e.g. one spike in a bin that a
    hyperplane separates from all the others): along ``d`` the rates of the
    zero-count bins go to 0, the spike bins' stay, and the likelihood keeps
    growing as ``|w| -> inf``.  Decided by one linear programme (HiGHS):
    maximise ``-sum z`` subject to ``-1 <= z <= 0`` on zero-count bins and
    ``z = 0`` on spike bins; the optimum is 0 iff the MLE exists.
    """
    from scipy.optimize import linprog

    keep = np.asarray(sample_weight) > 0
    X = X[keep] if hasattr(X, "tocsr") else np.asarray(X)[keep]
    y = np.asarray(y)[keep]
    if fit_intercept:
        X = (
            sp.hstack([X, np.ones((X.shape[0], 1))], format="csr")
            if sp.issparse(X)
            else np.hstack([X, np.ones((X.shape[0], 1))])
        )
    spikes = y > 0
    if np.all(spikes):
        return False
    A_zero, A_spike = X[~spikes], X[spikes]
    n_zero = A_zero.shape[0]
    # variables d (free); z = A_zero d in [-1, 0]: -A_zero d <= 1 and A_zero d <= 0
    A_ub = sp.vstack([A_zero, -A_zero]) if sp.issparse(X) else np.vstack([A_zero, -A_zero])
    b_ub = np.concatenate([np.zeros(n_zero), np.ones(n_zero)])
    result = linprog(
        c=np.asarray(A_zero.sum(axis=0)).ravel(),  # minimise sum z = maximise -sum z
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A_spike if A_spike.shape[0] else None,
        b_eq=np.zeros(A_spike.shape[0]) if A_spike.shape[0] else None,
        bounds=(None, None),
        method="highs",
    )
    # a separating direction scales to z = -1 on some bin: optimum <= -1
    return bool(result.status == 0 and result.fun < -0.5)


_LP_MAX_CELLS = 2_000_000
# Along a separating direction the fitted log-rate of (some) weighted bins
# without spikes runs off below that of the typical bin; a fit whose empty
# bins all stay within this many units of log-rate of the median bin (a
# factor e^10 ~ 2e4 in rate) is not near such a direction.
_SEPARATION_LOG_GAP = 10.0


def _may_separate(X, y, sample_weight, params, n_features: int) -> bool:
    """Whether a fit looks like a run along a separating direction (screen before the LP).

    True when some weighted bin without spikes has a fitted linear predictor
    more than ``_SEPARATION_LOG_GAP`` below the median bin's.
    """
    eta = np.asarray(X @ params[:n_features], dtype=np.float64).ravel()
    empty = (np.asarray(y) == 0) & (np.asarray(sample_weight) > 0)
    if not np.any(empty):
        return False
    return bool(np.min(eta[empty]) < np.median(eta) - _SEPARATION_LOG_GAP)


def warn_if_no_mle(
    estimator, X, Y, sample_weight, fitted, alphas, tops, params, *, fix=None
) -> None:
    """UserWarning naming the neurons whose fit is nearly unpenalised and whose MLE does not exist.

    The warning names the estimator's class and ends with ``fix``, the
    estimator's own remedy (a sentence; by default, to use a larger ``alpha``).

    Checked (one linear programme per neuron, :func:`separating_direction`)
    only for ``alpha < TINY_ALPHA_RATIO * alpha_max`` (``alpha = 0``
    included) and ``n_samples > n_features`` (``p >= n`` has its own
    warning): there the converged optimum has coefficients that grow
    without bound as ``alpha -> 0``.  A dask design, or one of more than
    ``_LP_MAX_CELLS`` entries (the programme takes about 2 s at 1488 x 300),
    is not checked.  The programme runs only for a neuron whose fit
    (``params``, shape (n_params, len(fitted)): coefficients, then the
    intercept when fitted) passes :func:`_may_separate`, a screen of one
    ``X @ w``.
    """
    from .._passes import is_dask_array

    if is_dask_array(X) or X.shape[1] >= X.shape[0] or X.shape[0] * X.shape[1] > _LP_MAX_CELLS:
        return
    alphas, tops = np.broadcast_arrays(np.asarray(alphas, float), np.asarray(tops, float))
    tiny = [i for i in range(len(fitted)) if alphas[i] < TINY_ALPHA_RATIO * tops[i]]
    n_features = X.shape[1]
    bad = [
        int(fitted[i])
        for i in tiny
        if _may_separate(X, Y[:, fitted[i]], sample_weight, params[:, i], n_features)
        and separating_direction(X, Y[:, fitted[i]], sample_weight, estimator.fit_intercept)
    ]
    if not bad:
        return
    where = "" if Y.shape[1] == 1 else f" for y columns {bad}"
    strength = (
        "With alpha=0" if np.all(alphas == 0) else "With alpha this small relative to alpha_max"
    )
    warnings.warn(
        f"{type(estimator).__name__}: the unpenalised maximum-likelihood fit does not "
        f"exist{where}: a hyperplane separates the bins with spikes from (some of) the "
        "others, so the likelihood keeps growing as the weights go to infinity (complete "
        f"separation). {strength} the coefficients are huge and meaningless. "
        f"{fix or 'Use a larger alpha.'}",
        UserWarning,
        stacklevel=3,
    )
