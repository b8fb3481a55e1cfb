"""
===============================================================
Choose the penalty by blocked cross-validation of a time series
===============================================================

How strongly should I penalise a space-time receptive field, and how well does it
predict data it has not seen? Lag the whole stimulus once, then let
:class:`~sklearn.model_selection.GridSearchCV` try penalties on contiguous blocks of
the recording: :class:`~sklearn_lnp.BlockedTimeSeriesSplit` leaves ``gap`` bins out on
each side of every test block, and ``gap`` must be at least the largest lag, so that no
training row shares a stimulus frame with a test row. The bin widths (``exposure``) are
routed to ``fit`` and to the scorer with scikit-learn's metadata routing.
"""

# %%
# A neuron whose RF spans 4 frames, and its lagged design
# -------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.model_selection import GridSearchCV

from sklearn_lnp import BlockedTimeSeriesSplit, LagTransformer, PoissonLNPRegressor
from sklearn_lnp.datasets import make_separable_neuron
from sklearn_lnp.metrics import bits_per_spike, get_scorer
from sklearn_lnp.plotting import plot_cv_curve, plot_rf_lags

lags = range(4)
neuron = make_separable_neuron(1600, frame_shape=(8, 8), n_lags=4, random_state=0)
X = LagTransformer(lags=lags).fit_transform(neuron.stimulus)  # lag-major columns
y, exposure = neuron.counts, neuron.exposure
print(f"design: {X.shape[0]} bins x {X.shape[1]} weights, {y.sum():.0f} spikes")

# %%
# Hold out the last fifth; cross-validate on the rest
# ---------------------------------------------------
# The held-out block is separated from the training part by ``max(lags)`` bins too.
n_test = len(y) // 5
train, test = slice(0, len(y) - n_test - max(lags)), slice(len(y) - n_test, None)
alphas = np.logspace(-2, 1, 4)
with sklearn.config_context(enable_metadata_routing=True):
    search = GridSearchCV(
        PoissonLNPRegressor().set_fit_request(exposure=True),
        {"alpha": alphas},
        cv=BlockedTimeSeriesSplit(5, gap=max(lags)),
        scoring=get_scorer("bits_per_spike"),
    )
    search.fit(X[train], y[train], exposure=exposure[train])

best = search.best_estimator_
predicted = best.predict(X[test], exposure=exposure[test])
print(f"chosen alpha: {search.best_params_['alpha']:.2g}")
print(f"cross-validated bits per spike: {search.best_score_:.3f}")
print(f"held-out bits per spike (last fifth): {bits_per_spike(y[test], predicted):.3f}")

# %%
# The cross-validation curve and the RF at the chosen penalty
fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
plot_cv_curve(
    alphas,
    search.cv_results_["mean_test_score"],
    chosen=search.best_params_["alpha"],
    ax=ax,
)
plot_rf_lags(best.coef_, neuron.frame_shape, lags, title="RF at the chosen alpha")
plt.show()
