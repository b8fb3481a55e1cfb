"""Code that depends on undocumented parts of other libraries, kept in one place.

* :mod:`.joblib_dask`: joblib's private Dask backend and scikit-learn's
  private cross-validation helpers, used by :mod:`sklearn_lnp.parallel`;
* :mod:`.pyglmnet_numpy`: the ``np`` alias swapped inside pyglmnet's module
  for ``LassoLNPRegressor(solver="pyglmnet")``.

Each module states the versions it is tested with and raises an error naming
the installed and the tested versions when the internals it needs are gone.
Importing this package imports none of those libraries.
"""
