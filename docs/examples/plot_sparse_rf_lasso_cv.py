"""
=====================================================
A sparse receptive field with ``LassoLNPCV``
=====================================================

My neuron's RF covers a few pixels of a large frame: can an L1 penalty find them and
set the rest to exactly zero? :class:`~sklearn_lnp.LassoLNPCV` computes, on each
training fold, the whole path of L1 solutions from ``alpha_max`` (every weight zero)
down, with warm starts, scores each penalty on the held-out block, and refits at the
best one. The L1 ``alpha`` multiplies ``||w||_1`` added to the mean negative
log-likelihood per bin; its values are not comparable with the L2 ``alpha``.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from sklearn_lnp import BlockedTimeSeriesSplit, LassoLNPCV
from sklearn_lnp.datasets import make_lnp_neuron
from sklearn_lnp.metrics import bits_per_spike
from sklearn_lnp.plotting import plot_cv_curve, plot_rf

# A small RF (sigma 1 pixel) in a 16 x 16 frame: most pixels carry no weight.
neuron = make_lnp_neuron(
    2000, frame_shape=(16, 16), rf_center=(5, 10), rf_sigma=1.0, random_state=0
)
X, y, exposure = neuron.stimulus, neuron.counts, neuron.exposure
n_train = int(0.8 * len(y))

# %%
# Cross-validate the L1 path on the first 80 %, score the refit on the rest
# -------------------------------------------------------------------------
# One stimulus frame per bin here, so no lag crosses a block edge (``gap=0``).
model = LassoLNPCV(alphas=12, cv=BlockedTimeSeriesSplit(5, gap=0))
model.fit(X[:n_train], y[:n_train], exposure=exposure[:n_train])
held_out = bits_per_spike(y[n_train:], model.predict(X[n_train:], exposure=exposure[n_train:]))
true_support = np.abs(neuron.rf.ravel()) > 0.01 * np.abs(neuron.rf).max()
print(f"alpha_max = {model.alpha_max_:.3g}, chosen alpha = {model.alpha_:.3g}")
print(f"non-zero weights: {np.count_nonzero(model.coef_)} of {X.shape[1]}")
print(f"pixels with a true weight above 1 % of the peak: {true_support.sum()}")
print(f"held-out bits per spike: {held_out:.3f}")

# %%
# The cross-validation curve and the sparse RF
fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), layout="constrained")
plot_cv_curve(
    model.alphas_,
    np.nanmean(model.bits_per_spike_path_, axis=1),
    chosen=model.alpha_,
    ax=axes[0],
    xlabel="L1 penalty α",
)
plot_rf(model.coef_, neuron.frame_shape, ax=axes[1], title="L1 fit at the chosen α")
plt.show()
