"""sklearn-lnp: receptive fields of neurons with linear-nonlinear-Poisson models.

The estimators follow scikit-learn's API and drop into ``Pipeline``,
``GridSearchCV`` and ``cross_val_score``.
"""

from .decomposition import SVDSeparator
from .linear_model import (
    LassoLNPCV,
    LassoLNPRegressor,
    PoissonLNPRegressor,
    SmoothLNPRegressor,
    lasso_lnp_path,
)
from .model_selection import BlockedTimeSeriesSplit
from .preprocessing import (
    LagTransformer,
    RaisedCosineBasis,
    SlowDriftFeatures,
    SpikeHistoryTransformer,
)
from .sta import STAEstimator

__version__ = "0.1.0"

__all__ = [
    "BlockedTimeSeriesSplit",
    "LagTransformer",
    "LassoLNPCV",
    "LassoLNPRegressor",
    "PoissonLNPRegressor",
    "RaisedCosineBasis",
    "SlowDriftFeatures",
    "SmoothLNPRegressor",
    "SpikeHistoryTransformer",
    "SVDSeparator",
    "STAEstimator",
    "__version__",
    "lasso_lnp_path",
]
