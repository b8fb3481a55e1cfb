"""
==================================================
Separate a space-time RF into a map and a kernel
==================================================

Is my neuron's receptive field one spatial map modulated by one temporal kernel? Fit
all lags jointly, then factor the pixels x lags RF with
:class:`~sklearn_lnp.SVDSeparator`: ``fit_method="svd"`` separates the joint fit,
``fit_method="bilinear"`` fits the rank-1 Poisson model itself (``n_pixels + n_lags``
parameters instead of ``n_pixels * n_lags``). Held-out bits per spike tell which
predicts better.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from sklearn_lnp import LagTransformer, PoissonLNPRegressor, SVDSeparator
from sklearn_lnp.datasets import make_separable_neuron
from sklearn_lnp.metrics import bits_per_spike
from sklearn_lnp.plotting import plot_space_time_separation

lags = range(6)
neuron = make_separable_neuron(
    3000, frame_shape=(12, 12), n_lags=6, spatial="dog", rf_norm=1.2, random_state=1
)
X = LagTransformer(lags=lags).fit_transform(neuron.stimulus)
y, exposure = neuron.counts, neuron.exposure
n_train = int(0.8 * len(y))
train, test = slice(0, n_train - max(lags)), slice(n_train, None)

# %%
# Joint fit, its SVD, and the rank-1 model fitted directly
# --------------------------------------------------------
joint = PoissonLNPRegressor(alpha=1e-3)
svd = SVDSeparator(PoissonLNPRegressor(alpha=1e-3), n_lags=6, frame_shape=(12, 12))
bilinear = SVDSeparator(
    PoissonLNPRegressor(alpha=1e-3), n_lags=6, frame_shape=(12, 12), fit_method="bilinear"
)
for name, model in [("joint", joint), ("SVD of joint", svd), ("bilinear", bilinear)]:
    model.fit(X[train], y[train], exposure=exposure[train])
    score = bits_per_spike(y[test], model.predict(X[test], exposure=exposure[test]))
    print(f"{name:>13}: held-out bits per spike {score:.3f}")

# %%
# The bilinear model's spatial map and temporal kernel, against the truth
r_space = abs(np.corrcoef(bilinear.spatial_.ravel(), neuron.spatial)[0, 1])
r_time = abs(np.corrcoef(bilinear.temporal_, neuron.temporal)[0, 1])
print(f"|r| with the true map: {r_space:.3f}, with the true kernel: {r_time:.3f}")
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), layout="constrained")
plot_space_time_separation(
    bilinear.spatial_,
    bilinear.temporal_,
    lags,
    frame_shape=(12, 12),
    axes=axes,
    title="bilinear fit",
)
plt.show()
