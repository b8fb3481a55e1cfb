"""
=============================================
Fit a receptive field with unequal bin widths
=============================================

How do I estimate a neuron's receptive field (RF) when my time bins are not all the
same length? Pass each bin's width as ``exposure``: the model's expected count in bin
``t`` is ``exposure_t * exp(x_t . w + b)``, so a longer bin expects proportionally
more spikes and the fitted ``exp(b)`` is a rate in spikes per second.
"""

# %%
# A simulated neuron with jittered frame durations
# ------------------------------------------------
# :func:`~sklearn_lnp.datasets.make_lnp_neuron` simulates the textbook neuron with
# equal bins; here we redraw its counts with frame durations between 0.17 and 0.27 s,
# like the lab's recording.
import matplotlib.pyplot as plt
import numpy as np

from sklearn_lnp import PoissonLNPRegressor
from sklearn_lnp.datasets import make_lnp_neuron
from sklearn_lnp.metrics import bits_per_spike
from sklearn_lnp.plotting import plot_rf

rng = np.random.default_rng(0)
neuron = make_lnp_neuron(n_frames=3000, frame_shape=(15, 15), random_state=0)
X = neuron.stimulus
exposure = rng.uniform(0.17, 0.27, size=len(X))  # seconds per bin
baseline = 8.0  # spikes per second for a blank stimulus
rate = exposure * baseline * np.exp(X @ neuron.rf.ravel())
counts = rng.poisson(rate).astype(float)

# %%
# Fit on the first 80 % of the recording, score on the last 20 %
# ---------------------------------------------------------------
# Held-out data are a contiguous block at the end: time series are not shuffled.
n_train = int(0.8 * len(X))
model = PoissonLNPRegressor(alpha=1e-3)
model.fit(X[:n_train], counts[:n_train], exposure=exposure[:n_train])

predicted = model.predict(X[n_train:], exposure=exposure[n_train:])
print(f"baseline rate exp(b): {np.exp(model.intercept_):.2f} spikes/s (true {baseline})")
print(f"held-out bits per spike: {bits_per_spike(counts[n_train:], predicted):.3f}")
r = np.corrcoef(model.coef_, neuron.rf.ravel())[0, 1]
print(f"correlation of the fitted with the true RF: {r:.3f}")

# %%
# The true and the fitted RF, on centred colour scales
fig, axes = plt.subplots(1, 2, figsize=(7, 3.2), layout="constrained")
plot_rf(neuron.rf, ax=axes[0], title="true RF")
plot_rf(model.coef_, neuron.frame_shape, ax=axes[1], title="fitted RF")
plt.show()
