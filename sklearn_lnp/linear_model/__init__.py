"""Linear LNP regressors: thin estimators over the loss and the solvers."""

from ._poisson import PoissonLNPRegressor

__all__ = ["PoissonLNPRegressor"]
