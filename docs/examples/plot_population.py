"""
=====================================================
Receptive fields of a population of neurons
=====================================================

I recorded many neurons with the same stimulus: can I fit all their receptive fields at
once? Pass the counts as a matrix, one column per neuron. Each neuron gets exactly the
optimum of its own fit (same objective, same tolerance), but the design is read once
per iteration for all neurons together.
"""

# %%
# Six simulated neurons, one stimulus
# -----------------------------------
import matplotlib.pyplot as plt
import numpy as np

from sklearn_lnp import PoissonLNPRegressor
from sklearn_lnp.datasets import gaussian_rf
from sklearn_lnp.metrics import bits_per_spike
from sklearn_lnp.plotting import plot_rf

rng = np.random.default_rng(0)
frame_shape = (12, 12)
centres = [(3, 3), (3, 8), (6, 6), (8, 2), (9, 9), (5, 10)]
rfs = np.array([0.4 * gaussian_rf(frame_shape, c, sigma=1.5).ravel() for c in centres])
rfs[1] *= -1  # an OFF cell
X = rng.choice([-1.0, 1.0], size=(3000, rfs.shape[1]))
exposure = np.full(len(X), 0.1)  # 100 ms bins
rates = exposure[:, None] * 20.0 * np.exp(X @ rfs.T)  # (n_bins, n_neurons)
Y = rng.poisson(rates).astype(float)
print(f"Y: {Y.shape[0]} bins x {Y.shape[1]} neurons; spikes per neuron: {Y.sum(0).astype(int)}")

# %%
# One fit for all neurons, scored per neuron on the last fifth
# ------------------------------------------------------------
n_train = int(0.8 * len(X))
model = PoissonLNPRegressor(alpha=1e-3).fit(X[:n_train], Y[:n_train], exposure=exposure[:n_train])
print("coef_:", model.coef_.shape, " intercept_:", model.intercept_.shape)
predicted = model.predict(X[n_train:], exposure=exposure[n_train:])
for j in range(Y.shape[1]):
    score = bits_per_spike(Y[n_train:, j], predicted[:, j])
    r = np.corrcoef(model.coef_[j], rfs[j])[0, 1]
    print(f"neuron {j}: held-out bits per spike {score:.3f}, r with the true RF {r:.3f}")

# %%
# One RF per row of ``coef_``
fig, axes = plt.subplots(2, 3, figsize=(8, 5), layout="constrained")
for j, ax in enumerate(axes.ravel()):
    plot_rf(model.coef_[j], frame_shape, ax=ax, title=f"neuron {j}", colorbar=False)
plt.show()
