"""Sphinx helpers of the sklearn-lnp site (also imported by ``tests/test_docs_api.py``).

- :func:`public_api`: the public classes and functions, grouped by module, that the
  API reference must give a page each (the rule is in its docstring).
- ``.. sklearn-lnp-cli-help::``: the ``--help`` text of the command and of each
  sub-command, taken from ``sklearn_lnp.cli.build_parser()`` at build time.
- References to a public name by a shorter path (``sklearn_lnp.PoissonLNPRegressor``,
  or ``PoissonLNPRegressor`` alone in a docstring's "See Also") are resolved to its
  page in the API reference.
- After reading the sources, a public name without a page is a warning (an error
  under ``-W``), naming the name.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import re
from pathlib import Path

#: The public modules, in the order of the API reference.
PUBLIC_MODULES = (
    "sklearn_lnp.linear_model",
    "sklearn_lnp.priors",
    "sklearn_lnp.preprocessing",
    "sklearn_lnp.model_selection",
    "sklearn_lnp.decomposition",
    "sklearn_lnp.sta",
    "sklearn_lnp.spikes",
    "sklearn_lnp.metrics",
    "sklearn_lnp.datasets",
    "sklearn_lnp.subframe",
    "sklearn_lnp.simulation",
    "sklearn_lnp.plotting",
    "sklearn_lnp.parallel",
    "sklearn_lnp.analysis",
    "sklearn_lnp.cli",
)

API_FILE = Path(__file__).resolve().parents[1] / "api.rst"


def _is_class_or_function(obj) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj)


def public_api() -> dict[str, list[str]]:
    """Public classes and functions of each public module, ``{module: [names]}``.

    A module's public names are its ``__all__`` when it has one, else the names not
    starting with ``_`` bound to classes and functions defined in that module (so a
    name imported from another module is documented where it is defined). Constants
    are not listed. Every name of ``sklearn_lnp.__all__`` must be one of these objects
    (checked by :func:`top_level_homes`).
    """
    api = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        if hasattr(module, "__all__"):
            names = [n for n in module.__all__ if _is_class_or_function(getattr(module, n))]
        else:
            names = [
                name
                for name, obj in vars(module).items()
                if not name.startswith("_")
                and _is_class_or_function(obj)
                and obj.__module__ == module_name
            ]
        api[module_name] = sorted(names)
    return api


def top_level_homes() -> dict[str, str]:
    """``{name: documented full name}`` of each class or function in ``sklearn_lnp.__all__``.

    Raises ``LookupError`` naming a top-level name that no public module documents.
    """
    package = importlib.import_module("sklearn_lnp")
    documented = {}
    for module_name, names in public_api().items():
        module = importlib.import_module(module_name)
        for name in names:
            documented.setdefault(id(getattr(module, name)), f"{module_name}.{name}")
    homes = {}
    for name in package.__all__:
        obj = getattr(package, name)
        if not _is_class_or_function(obj):
            continue
        if id(obj) not in documented:
            raise LookupError(f"sklearn_lnp.{name} is in no public module's API")
        homes[name] = documented[id(obj)]
    return homes


def api_rst_entries(text: str | None = None) -> set[str]:
    """Full names listed in ``autosummary`` blocks of ``docs/api.rst``."""
    if text is None:
        text = API_FILE.read_text()
    entries = set()
    module = None
    in_block = False
    for line in text.splitlines():
        match = re.match(r"\.\. currentmodule:: (\S+)", line)
        if match:
            module = match.group(1)
            continue
        if line.startswith(".. autosummary::"):
            in_block = True
            continue
        if in_block:
            stripped = line.strip()
            if not stripped or stripped.startswith(":"):
                continue
            if not line.startswith((" ", "\t")):
                in_block = False
                continue
            entries.add(f"{module}.{stripped}")
    return entries


def missing_from_api_rst() -> list[str]:
    """Public names (full) that ``docs/api.rst`` does not list."""
    listed = api_rst_entries()
    return [
        f"{module}.{name}"
        for module, names in public_api().items()
        for name in names
        if f"{module}.{name}" not in listed
    ]


# ---------------------------------------------------------------------------
# Sphinx side


def _cli_help_blocks() -> list[tuple[str, str]]:
    from sklearn_lnp.cli import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "76"
    try:
        parser = build_parser()
        blocks = [("sklearn-lnp", parser.format_help())]
        if "usage: sklearn-lnp " in blocks[0][1].split("usage:", 2)[-1]:
            return blocks  # the main help already includes each command's help
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    blocks.append((f"sklearn-lnp {name}", sub.format_help()))
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return blocks


def _make_cli_directive():
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class CLIHelpDirective(SphinxDirective):
        has_content = False

        def run(self):
            result = []
            for title, text in _cli_help_blocks():
                section = nodes.section(ids=[nodes.make_id(f"cli-{title}")])
                section += nodes.title(text=f"``{title}``".strip("`"))
                section += nodes.literal_block(text, text, language="none")
                result.append(section)
            return result

    return CLIHelpDirective


_NAMES: dict[str, dict[str, str]] = {"homes": {}, "unique": {}}


def _resolve_short_names(app, env, node, contnode):
    """Resolve ``sklearn_lnp.Name`` and bare ``Name`` to the documented public object."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    homes = _NAMES["homes"]
    full = None
    if target.startswith("sklearn_lnp.") and target.count(".") == 1:
        full = homes.get(target.split(".", 1)[1])
    elif "." not in target:
        full = homes.get(target) or _NAMES["unique"].get(target)
    else:
        # module-qualified private path, e.g. sklearn_lnp.linear_model._poisson.X
        last = target.rsplit(".", 1)[1]
        if target.startswith("sklearn_lnp.") and "._" in target:
            full = _NAMES["unique"].get(last)
    if full is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node.get("refdoc"), app.builder, node.get("reftype"), full, node, contnode
    )


def _setup_names(app, config):
    homes = top_level_homes()
    unique = {}
    counts = {}
    for module, names in public_api().items():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
            unique[name] = f"{module}.{name}"
    _NAMES["homes"] = homes
    _NAMES["unique"] = {n: f for n, f in unique.items() if counts[n] == 1}


_FIELD = re.compile(r"^(\s*[\w, *]+ : )(.+)$")
_ABS = re.compile(r"(?<![\w`|])\|(\w+)\|(?![\w`|])")
_TRAILING_UNDERSCORE = re.compile(r"(\w)_(?=[\s,)\]]|$)")


def _escape_attribute_shapes(app, what, name, obj, options, lines):
    """Escape a trailing ``_`` in the type of a numpydoc field, ``|x|`` (an absolute
    value) in prose, and join ``a .. b`` in the summary.

    ``coef_ : ndarray of shape (n_features_in_,)`` would otherwise make docutils read
    ``n_features_in_`` as a hyperlink reference. Runs before numpydoc; the source
    docstrings are not changed.
    """
    for i, line in enumerate(lines):
        # "largest |weight|" means an absolute value, not a docutils substitution
        parts = re.split(r"(``[^`]*``)", line)
        parts[::2] = [_ABS.sub(r"\\|\1\\|", part) for part in parts[::2]]
        lines[i] = "".join(parts)
    if lines:
        # autosummary cuts the summary at ". ", which splits ``0 .. n - 1``
        lines[0] = re.sub(r"``[^`]*``", lambda m: m.group(0).replace(" .. ", ".."), lines[0])
    for i, line in enumerate(lines):
        match = _FIELD.match(line)
        if match and "`" not in match.group(2):
            lines[i] = match.group(1) + _TRAILING_UNDERSCORE.sub(r"\1\\_", match.group(2))


def _check_pages(app, env):
    """Warn (an error under -W) for each public name without an API page."""
    from sphinx.util import logging

    logger = logging.getLogger("sklearn_lnp_docs")
    objects = env.get_domain("py").objects
    for module, names in public_api().items():
        for name in names:
            full = f"{module}.{name}"
            if full not in objects:
                logger.warning(
                    "public name %s has no page in the API reference: add it to docs/api.rst",
                    full,
                    location="api",
                )
    for module in public_api():
        if module not in objects:
            logger.warning("public module %s has no section in docs/api.rst", module)


def setup(app):
    app.add_directive("sklearn-lnp-cli-help", _make_cli_directive())
    app.connect("config-inited", _setup_names)
    app.connect("missing-reference", _resolve_short_names)
    app.connect("autodoc-process-docstring", _escape_attribute_shapes, priority=400)
    app.connect("env-check-consistency", _check_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
