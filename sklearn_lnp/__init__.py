"""sklearn-lnp: receptive fields of neurons with linear-nonlinear-Poisson models.

The estimators follow scikit-learn's API and drop into ``Pipeline``,
``GridSearchCV`` and ``cross_val_score``.
"""

from .linear_model import PoissonLNPRegressor

__version__ = "0.1.0"

__all__ = ["PoissonLNPRegressor", "__version__"]
