"""Write the small Sphinx inventories in this folder (``*.inv``).

Where this site is built there is no network, so Sphinx's intersphinx cannot download
the ``objects.inv`` of Python, NumPy, SciPy, scikit-learn and Matplotlib, and no
installed package ships one. This script writes, for each project, an inventory of
only the targets these docs refer to. Each Python object is first imported from the
installed package (so a renamed or removed name fails here, not as a broken link), and
its address follows the project's published layout of generated API pages (for
example ``modules/generated/sklearn.linear_model.PoissonRegressor.html`` under
https://scikit-learn.org/stable/). Run it after adding a reference to another project::

    python docs/_intersphinx/make_inventories.py

and commit the ``.inv`` files; ``docs/conf.py`` reads them from here.
"""

from __future__ import annotations

import importlib
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _generated(prefix: str):
    """Address of an object on its own generated page, ``prefix + name + .html#name``."""
    return lambda name: f"{prefix}{name}.html#{name}"


# project -> (name, role, address or None for the project's generated-page layout)
TARGETS = {
    "python": [
        ("int", "py:class", "library/functions.html#int"),
        ("float", "py:class", "library/functions.html#float"),
        ("str", "py:class", "library/stdtypes.html#str"),
        ("bool", "py:class", "library/functions.html#bool"),
        ("dict", "py:class", "library/stdtypes.html#dict"),
        ("list", "py:class", "library/stdtypes.html#list"),
        ("tuple", "py:class", "library/stdtypes.html#tuple"),
        ("ValueError", "py:exception", "library/exceptions.html#ValueError"),
        ("ImportError", "py:exception", "library/exceptions.html#ImportError"),
        ("RuntimeError", "py:exception", "library/exceptions.html#RuntimeError"),
        ("UserWarning", "py:exception", "library/exceptions.html#UserWarning"),
        ("argparse.ArgumentParser", "py:class", "library/argparse.html#argparse.ArgumentParser"),
        # numpydoc's default links of parameter types (bool, None, callable, ...)
        ("None", "py:data", "library/constants.html#None"),
        ("True", "py:data", "library/constants.html#True"),
        ("False", "py:data", "library/constants.html#False"),
        ("callable", "py:function", "library/functions.html#callable"),
        ("bltin-boolean-values", "std:label", "library/stdtypes.html#boolean-type-bool"),
        ("iterable", "std:term", "glossary.html#term-iterable"),
        ("generator", "std:term", "glossary.html#term-generator"),
        ("sequence", "std:term", "glossary.html#term-sequence"),
        ("contextlib.contextmanager", "py:function", None),
    ],
    "numpy": [
        ("numpy.ndarray", "py:class", None),
        (
            "numpy.random.RandomState",
            "py:class",
            "reference/random/legacy.html#numpy.random.RandomState",
        ),
        (
            "numpy.random.default_rng",
            "py:function",
            "reference/random/generator.html#numpy.random.default_rng",
        ),
        ("numpy.linalg.svd", "py:function", None),
        ("numpy.float32", "py:class", "reference/arrays.scalars.html#numpy.float32"),
        ("numpy", "py:module", "reference/index.html#module-numpy"),
        ("numpy.inf", "py:data", "reference/constants.html#numpy.inf"),
        ("numpy.nan", "py:data", "reference/constants.html#numpy.nan"),
        ("array_like", "std:term", "glossary.html#term-array_like"),
        ("arrays.scalars", "std:label", "reference/arrays.scalars.html#arrays-scalars"),
    ],
    "scipy": [
        ("scipy.optimize.minimize", "py:function", None),
        ("scipy.io.loadmat", "py:function", None),
        ("scipy.special.eval_legendre", "py:function", None),
    ],
    "sklearn": [
        ("sklearn.pipeline.Pipeline", "py:class", None),
        ("sklearn.pipeline.make_pipeline", "py:function", None),
        ("sklearn.model_selection.GridSearchCV", "py:class", None),
        ("sklearn.model_selection.TimeSeriesSplit", "py:class", None),
        ("sklearn.model_selection.cross_val_score", "py:function", None),
        ("sklearn.model_selection.cross_validate", "py:function", None),
        ("sklearn.linear_model.PoissonRegressor", "py:class", None),
        ("sklearn.linear_model.Lasso", "py:class", None),
        ("sklearn.linear_model.LassoCV", "py:class", None),
        ("sklearn.base.BaseEstimator", "py:class", None),
        ("sklearn.utils.Bunch", "py:class", None),
        ("sklearn.set_config", "py:function", None),
        ("sklearn.exceptions.ConvergenceWarning", "py:class", None),
        ("sklearn.metrics.get_scorer", "py:function", None),
        ("sklearn.metrics.make_scorer", "py:function", None),
        ("metadata_routing", "std:label", "metadata_routing.html#metadata-routing"),
        # named by the docstrings of scikit-learn's methods that the estimators inherit
        # (set_fit_request, get_metadata_routing, set_output)
        ("sklearn.utils.metadata_routing.MetadataRequest", "py:class", None),
        ("meta-estimator", "std:term", "glossary.html#term-meta-estimator"),
        ("df_output_transform", "std:label", "auto_examples/miscellaneous/plot_set_output.html"),
        (
            "sphx_glr_auto_examples_miscellaneous_plot_set_output.py",
            "std:label",
            "auto_examples/miscellaneous/plot_set_output.html",
        ),
    ],
    "matplotlib": [
        (
            "matplotlib.axes.Axes",
            "py:class",
            "api/_as_gen/matplotlib.axes.Axes.html#matplotlib.axes.Axes",
        ),
        (
            "matplotlib.figure.Figure",
            "py:class",
            "api/_as_gen/matplotlib.figure.Figure.html#matplotlib.figure.Figure",
        ),
        ("matplotlib.pyplot.subplots", "py:function", None),
    ],
}

LAYOUT = {
    "python": lambda name: f"library/{name.split('.')[0]}.html#{name}",
    "numpy": _generated("reference/generated/"),
    "scipy": _generated("reference/generated/"),
    "sklearn": _generated("modules/generated/"),
    "matplotlib": _generated("api/_as_gen/"),
}

PROJECTS = {
    "python": ("Python", "3"),
    "numpy": ("NumPy", "stable"),
    "scipy": ("SciPy", "stable"),
    "sklearn": ("scikit-learn", "stable"),
    "matplotlib": ("Matplotlib", "stable"),
}


def _check_importable(name: str) -> None:
    if "." not in name:
        import builtins

        if not hasattr(builtins, name):
            raise LookupError(f"builtins.{name} does not exist")
        return
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return
    raise LookupError(f"{name} cannot be imported")


def write_inventory(key: str) -> Path:
    project, version = PROJECTS[key]
    lines = []
    for name, role, address in TARGETS[key]:
        if role.startswith("py:") and role != "py:module":
            _check_importable(name)
        if address is None:
            address = LAYOUT[key](name)
        display = "-"
        if role == "std:label":
            display = name.replace("_", " ").replace("-", " ")
        lines.append(f"{name} {role} 1 {address} {display}")
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = zlib.compress(("\n".join(sorted(lines)) + "\n").encode())
    path = HERE / f"{key}.inv"
    path.write_bytes(header.encode() + body)
    return path


if __name__ == "__main__":
    for key in TARGETS:
        print(write_inventory(key).relative_to(HERE.parents[1]))
