"""Linear LNP regressors: thin estimators over the loss and the solvers."""

from ._lasso import LassoLNPRegressor, lasso_lnp_path
from ._lasso_cv import LassoLNPCV
from ._poisson import PoissonLNPRegressor
from ._smooth import SmoothLNPRegressor

__all__ = [
    "LassoLNPCV",
    "LassoLNPRegressor",
    "PoissonLNPRegressor",
    "SmoothLNPRegressor",
    "lasso_lnp_path",
]
