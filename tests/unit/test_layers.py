"""Layers point one way: no module of ``movie_assets`` imports from a layer above its own, and
the product imports nothing from the repository's tools (``tests/``, ``bench/``, ``scripts/``).

The layers, lowest first (README, "Layout"), are :data:`LAYERS`. A module may import from its
own layer and the ones below. Every import counts: at module level, inside a function (the
lazy imports that keep ``import movie_assets.definitions`` cheap) and under
``TYPE_CHECKING``, since each is a dependency a reader must follow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from movie_assets.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "movie_assets"

#: Lowest first. Entries are modules or packages (a package covers everything in it).
LAYERS: tuple[tuple[str, ...], ...] = (
    # Shared vocabulary: configuration, folders, atomic files, run tags, partitions.
    (
        "movie_assets",
        "movie_assets.settings",
        "movie_assets.paths",
        "movie_assets.atomic_write",
        "movie_assets.acceptance",
        "movie_assets.run_tags",
        "movie_assets.partitions",
    ),
    # Storage: the lake, the build file, table metadata, the legacy-file upgrade.
    ("movie_assets.warehouse",),
    # Sources: bronze from TMDB and from the providers' deliveries.
    ("movie_assets.tmdb", "movie_assets.providers"),
    # silver and gold, built by dbt.
    ("movie_assets.transform",),
    # Outputs read from gold: published snapshots and the dashboard, the files people open.
    ("movie_assets.serving", "movie_assets.reports"),
    # Jobs, schedules, alerts, freshness, the service and run summaries.
    ("movie_assets.automation",),
    # The one Definitions.
    ("movie_assets.definitions",),
    # Entry points built on the Definitions.
    ("movie_assets.cli",),
)

#: Top-level names of the repository's tools; ``support`` is ``tests/support`` on ``sys.path``.
TOOL_MODULES = ("tests", "bench", "scripts", "support", "conftest", "graph")


def module_name(path: Path) -> str:
    """``movie_assets/tmdb/client.py`` -> ``movie_assets.tmdb.client``; a package's
    ``__init__.py`` is the package."""
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int | None:
    """Index in :data:`LAYERS` of the most specific entry that covers ``module``; None if none
    does. The bare ``movie_assets`` entry covers only the package's ``__init__``."""
    best: tuple[int, int] | None = None
    for index, entries in enumerate(LAYERS):
        for entry in entries:
            covers = module == entry or (entry != "movie_assets" and module.startswith(entry + "."))
            if covers and (best is None or len(entry) > best[0]):
                best = (len(entry), index)
    return None if best is None else best[1]


def imported_modules(module: str, tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, module)`` for each import in ``tree``, by line; ``from package import name`` counts as
    ``package.name`` when that is a module of ``movie_assets``. Relative imports are resolved
    against ``module``."""
    found: list[tuple[int, str]] = []
    is_package = MODULES[module].name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if candidate in MODULES else base))
    return sorted(found)


def upward_imports(module: str, source: str) -> list[str]:
    """The imports in ``source`` (the text of ``module``) from a layer above ``module``'s, as
    ``"line N: target (layer i) above module (layer j)"``."""
    own = layer_of(module)
    problems = []
    for line, target in imported_modules(module, ast.parse(source)):
        if not target.startswith("movie_assets"):
            continue
        theirs = layer_of(target)
        if theirs is not None and theirs > own:
            problems.append(f"line {line}: {target} (layer {theirs}) above {module} (layer {own})")
    return problems


def test_every_module_has_a_layer():
    assert [name for name in MODULES if layer_of(name) is None] == []


def test_layers_do_not_overlap():
    entries = [entry for layer in LAYERS for entry in layer]
    assert len(entries) == len(set(entries))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_from_a_layer_above(module: str):
    assert upward_imports(module, MODULES[module].read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_the_product_imports_no_tool(module: str):
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    tools = [f"line {line}: {target}" for line, target in imported_modules(module, tree) if target.split(".")[0] in TOOL_MODULES]
    assert tools == []


def test_an_upward_import_is_found_wherever_it_is():
    """The check itself: imports at module level, inside a function, under TYPE_CHECKING and
    relative ones are all seen; imports from the same or a lower layer pass."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from movie_assets.settings import Settings\n"
        "from movie_assets.warehouse.lake import Lake\n"
        "from movie_assets.serving.publish import publish_snapshot\n"
        "if TYPE_CHECKING:\n"
        "    import movie_assets.automation.jobs\n"
        "def build():\n"
        "    from movie_assets import definitions\n"
        "    from ..transform import project\n"
    )
    assert upward_imports("movie_assets.warehouse.duckdb_resource", source) == [
        "line 4: movie_assets.serving.publish (layer 4) above movie_assets.warehouse.duckdb_resource (layer 1)",
        "line 6: movie_assets.automation.jobs (layer 5) above movie_assets.warehouse.duckdb_resource (layer 1)",
        "line 8: movie_assets.definitions (layer 6) above movie_assets.warehouse.duckdb_resource (layer 1)",
        "line 9: movie_assets.transform.project (layer 3) above movie_assets.warehouse.duckdb_resource (layer 1)",
    ]
