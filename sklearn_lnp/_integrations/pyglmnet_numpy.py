"""The numpy aliases ``np.float`` and ``np.int``, lent to pyglmnet's module during a fit.

pyglmnet's ``pyglmnet.pyglmnet`` module calls ``np.float`` and ``np.int``,
which numpy removed in 1.24.  :func:`numpy_aliases_for` is the one place
where sklearn-lnp patches another library, for
``LassoLNPRegressor(solver="pyglmnet")``:

* only the global name ``np`` of the given module is rebound, to a module
  that forwards every attribute to numpy and adds ``float`` and ``int``;
  numpy itself is never modified, so ``np.float`` stays an
  ``AttributeError`` everywhere else (pyglmnet's other modules included);
* the original ``np`` is put back in a ``finally``, also when the fit raises;
* one lock serialises the blocks: fits from several threads run one at a
  time, and none restores the binding while another still uses the aliases.

Tested with pyglmnet 1.1 (:data:`TESTED_VERSION`).  A module without a
global ``np`` raises an ``ImportError`` naming the installed and the tested
versions.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import threading
import types
from collections.abc import Iterator

import numpy as np

TESTED_VERSION = "1.1"
_LOCK = threading.Lock()


class _NumpyWithAliases(types.ModuleType):
    """numpy seen through a module that also has the removed ``np.float``/``np.int``."""

    def __init__(self):
        super().__init__("numpy")
        self.float = float
        self.int = int

    def __getattr__(self, name):
        return getattr(np, name)


def _installed_version() -> str:
    try:
        return importlib.metadata.version("pyglmnet")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@contextlib.contextmanager
def numpy_aliases_for(module: types.ModuleType) -> Iterator[None]:
    """Within the block, ``module.np`` is numpy plus ``float``/``int`` aliases.

    Parameters
    ----------
    module : module
        pyglmnet's ``pyglmnet.pyglmnet``.

    Raises
    ------
    ImportError
        When ``module`` has no global ``np`` to rebind.
    """
    if not isinstance(getattr(module, "np", None), types.ModuleType):
        raise ImportError(
            f"solver='pyglmnet' lends numpy's removed np.float and np.int to {module.__name__}"
            f" through its global name 'np', which pyglmnet {_installed_version()} does not "
            f"have. It is tested with pyglmnet {TESTED_VERSION}: install that version "
            f'(pip install "pyglmnet=={TESTED_VERSION}") or use solver="prox-newton".'
        )
    with _LOCK:
        original = module.np
        module.np = _NumpyWithAliases()
        try:
            yield
        finally:
            module.np = original
