"""The documentation's API reference lists every public class and function.

"Public" is the rule of ``docs/_ext/sklearn_lnp_docs.public_api``: the classes and
functions of each public module's ``__all__`` (or, without one, those defined in it and
not starting with ``_``); every class or function of ``sklearn_lnp.__all__`` must be one
of them. The Sphinx build checks the same on the built pages (``docs/README.md``); this
test needs no Sphinx.
"""

from __future__ import annotations

import sys

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "docs" / "_ext"))

import sklearn_lnp_docs  # noqa: E402


def test_every_public_name_has_an_api_entry():
    missing = sklearn_lnp_docs.missing_from_api_rst()
    assert not missing, f"add to docs/api.rst (an autosummary block of its module): {missing}"


def test_every_top_level_name_is_documented_in_a_public_module():
    homes = sklearn_lnp_docs.top_level_homes()
    listed = sklearn_lnp_docs.api_rst_entries()
    assert set(homes.values()) <= listed
    assert "PoissonLNPRegressor" in homes


def test_api_rst_lists_only_public_names():
    public = {
        f"{module}.{name}"
        for module, names in sklearn_lnp_docs.public_api().items()
        for name in names
    }
    stale = sorted(sklearn_lnp_docs.api_rst_entries() - public)
    assert not stale, f"docs/api.rst lists names that are not public: {stale}"


def test_the_check_sees_a_missing_name():
    text = sklearn_lnp_docs.API_FILE.read_text()
    without = text.replace("   PoissonLNPRegressor\n", "")
    assert "sklearn_lnp.linear_model.PoissonLNPRegressor" not in (
        sklearn_lnp_docs.api_rst_entries(without)
    )


def test_every_public_module_is_in_the_api_reference():
    # A module of the package whose name does not start with "_" is public: the
    # API reference (and its every-name check) must cover it.
    import pkgutil

    import sklearn_lnp

    public = {
        f"sklearn_lnp.{info.name}"
        for info in pkgutil.iter_modules(sklearn_lnp.__path__)
        if not info.name.startswith("_")
    }
    assert public <= set(sklearn_lnp_docs.PUBLIC_MODULES), public - set(
        sklearn_lnp_docs.PUBLIC_MODULES
    )
