"""sklearn-lnp: receptive fields of neurons with linear-nonlinear-Poisson models.

The estimators follow scikit-learn's API and drop into ``Pipeline``,
``GridSearchCV`` and ``cross_val_score``.
"""

from .decomposition import SVDSeparator
from .linear_model import PoissonLNPRegressor
from .model_selection import BlockedTimeSeriesSplit
from .preprocessing import LagTransformer, SlowDriftFeatures
from .sta import STAEstimator

__version__ = "0.1.0"

__all__ = [
    "BlockedTimeSeriesSplit",
    "LagTransformer",
    "PoissonLNPRegressor",
    "SlowDriftFeatures",
    "SVDSeparator",
    "STAEstimator",
    "__version__",
]
