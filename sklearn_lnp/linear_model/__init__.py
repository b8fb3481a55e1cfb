"""Linear LNP regressors: thin estimators over the loss and the solvers."""

from ._lasso import LassoLNPRegressor, lasso_lnp_path
from ._lasso_cv import LassoLNPCV
from ._poisson import PoissonLNPRegressor

__all__ = ["LassoLNPCV", "LassoLNPRegressor", "PoissonLNPRegressor", "lasso_lnp_path"]
