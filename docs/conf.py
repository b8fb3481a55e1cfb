"""Sphinx configuration of the sklearn-lnp documentation site.

Build (from the repository root, no network needed)::

    pip install -e ".[docs]" && sphinx-build -W --keep-going -b html docs docs/_build/html

See ``docs/README.md`` for what is checked and for the intersphinx decision.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the tree this conf.py belongs to, not whichever copy is installed.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import sklearn_lnp  # noqa: E402

project = "sklearn-lnp"
author = "the sklearn-lnp developers"
copyright = "the sklearn-lnp developers, BSD-3-Clause"
version = release = sklearn_lnp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sklearn_lnp_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "README.md",
    "examples/*",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.md5",
    "auto_examples/*.json",
    "sg_execution_times.rst",
    "**.ipynb_checkpoints",
]

# Every cross-reference must resolve: an unknown target is a warning, an error with -W.
nitpicky = True
# Private modules have no page: public docstrings must not refer to them. An exception
# would be listed here one target at a time, so that any other broken reference
# still fails the build.
nitpick_ignore: list[tuple[str, str]] = []

# -- API reference ------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # types are in the numpydoc "Parameters" sections
autodoc_default_options = {"members": False}
autoclass_content = "class"
add_module_names = False

numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Types in "Parameters"/"Attributes" are rendered as text (escaped, so that a shape
# such as ``(n_features_in_,)`` is not read as a hyperlink target) and not linked.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"

# -- Cross-references to Python, NumPy, SciPy, scikit-learn, Matplotlib ------------
# Their inventories cannot be downloaded where this site is built (no network), and no
# installed package ships one. docs/_intersphinx/ holds small inventories, written by
# docs/_intersphinx/make_inventories.py, of only the targets these docs reference,
# each checked to exist in the installed package; links point to the projects'
# published pages. See docs/README.md.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", str(DOCS / "_intersphinx" / "python.inv")),
    "numpy": ("https://numpy.org/doc/stable/", str(DOCS / "_intersphinx" / "numpy.inv")),
    "scipy": (
        "https://docs.scipy.org/doc/scipy/",
        str(DOCS / "_intersphinx" / "scipy.inv"),
    ),
    "sklearn": (
        "https://scikit-learn.org/stable/",
        str(DOCS / "_intersphinx" / "sklearn.inv"),
    ),
    "matplotlib": (
        "https://matplotlib.org/stable/",
        str(DOCS / "_intersphinx" / "matplotlib.inv"),
    ),
}
intersphinx_timeout = 1

# -- Gallery ------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "abort_on_example_error": False,  # run all, then fail the build naming each
    "only_warn_on_example_error": False,
    "doc_module": ("sklearn_lnp",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_lnp": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "show_memory": False,
    "write_computation_times": False,
    "within_subsection_order": "FileNameSortKey",
    "capture_repr": (),  # print() what matters; no repr of a cell's last expression
}
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")

# -- Markdown (the benchmark tables are included from benchmarks/results/*.md) -------
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 0
suppress_warnings = ["myst.header"]  # included tables start below the page's own title

# -- HTML ---------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-lnp {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "show_prev_next": False,
    "navigation_with_keys": False,
    # no "on this page" column on gallery pages: their code gets the width
    "secondary_sidebar_items": {
        "[!a]*": ["page-toc"],  # every page outside auto_examples/ and api
        "user_guide/**": ["page-toc"],
        "api": ["page-toc"],
        "generated/*": ["page-toc"],
        "auto_examples/*": [],
    },
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "auto_examples/index": []}
html_show_sourcelink = False
html_copy_source = False
