"""Product code (``movie_assets/``) uses third-party libraries through their public interfaces only.

A private name is one starting with ``_`` that is not a dunder (``__init__``). Violations:

- an import of a third-party module or name with a private segment
  (``from dagster._core.storage import tags``, ``import openpyxl.worksheet._write_only``);
- a private attribute read on a name imported from a third-party package (``dagster._check``,
  ``urllib3.connectionpool._something``);
- inside a class with a third-party base, ``self._name`` for a ``_name`` the class does not
  define itself (a call into the base's private interface);
- an override: a class of ``movie_assets`` defining a private name that a third-party class in
  its MRO also has (``DbtCliResource._cli_version``). Found by importing the modules, since
  only the MRO knows what a base defines; a class's own private helpers are fine.

Third-party means neither the standard library nor ``movie_assets``. :data:`ALLOWED` is empty:
an entry would need the upstream issue number and the measured cost of the public way.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import sys

import pytest

from movie_assets.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "movie_assets"
#: ``"<file>:<what>"`` entries tolerated, each with its upstream issue and measured cost. Empty.
ALLOWED: frozenset[str] = frozenset()


def is_private(name: str) -> bool:
    """True for ``_name`` and ``__name``, False for dunders such as ``__init__``."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_third_party(module: str) -> bool:
    """True for a module of neither the standard library nor ``movie_assets``."""
    top = module.split(".")[0]
    return bool(top) and top not in ("movie_assets", "__future__") and top not in sys.stdlib_module_names


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def own_private_names(sources: list[str]) -> set[str]:
    """Private names ``movie_assets`` defines: functions, methods, classes, class attributes
    and attributes it assigns on its own objects (``self._x = ...``; ``cell._x = ...`` on
    another library's object is a use of that library's private name)."""
    names: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _root_name(node.value) in ("self", "cls"):
                names.add(node.attr)
    return {name for name in names if is_private(name)}


def source_violations(source: str, where: str, own: set[str] = frozenset()) -> list[str]:
    """``"<where>:<line>: <what>"`` for each private import, private attribute of an imported
    third-party name, ``self._name`` reaching into a third-party base, and private attribute
    that is not one of ``own`` (:func:`own_private_names`) read on any object, in line order."""
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_third_party(alias.name):
                    imported.add(alias.asname or alias.name.split(".")[0])
                    if any(is_private(part) for part in alias.name.split(".")):
                        found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and is_third_party(node.module):
            if any(is_private(part) for part in node.module.split(".")):
                found.append((node.lineno, f"from {node.module} import ..."))
            for alias in node.names:
                imported.add(alias.asname or alias.name)
                if is_private(alias.name):
                    found.append((node.lineno, f"from {node.module} import {alias.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr) and _root_name(node.value) in imported:
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ClassDef) and any(_root_name(base) in imported for base in node.bases):
            in_class = {item.name for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}
            in_class |= {target.id for item in node.body if isinstance(item, ast.AnnAssign) and isinstance(target := item.target, ast.Name)}
            in_class |= {target.id for item in node.body if isinstance(item, ast.Assign) for target in item.targets if isinstance(target, ast.Name)}
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Attribute)
                    and is_private(inner.attr)
                    and inner.attr not in in_class
                    and isinstance(inner.value, ast.Name)
                    and inner.value.id in ("self", "cls")
                ):
                    found.append((inner.lineno, f"{node.name}: {ast.unparse(inner)} of a third-party base"))
    known = own | own_private_names([source])
    reported = {(line, what.split(": ")[-1].split(" ")[0]) for line, what in found}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr) and node.attr not in known:
            if (node.lineno, ast.unparse(node)) not in reported:
                found.append((node.lineno, f"{ast.unparse(node)}: not a name of movie_assets"))
    return [f"{where}:{line}: {what}" for line, what in sorted(set(found))]


def override_violations(module: object) -> list[str]:
    """``"<module>: <class>.<name> overrides <base>"`` for each private name a class defined in
    ``module`` shares with a third-party class in its MRO."""
    found = []
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ != module.__name__:
            continue
        third_party = [base for base in cls.__mro__[1:] if is_third_party(base.__module__)]
        for name, value in vars(cls).items():
            # Methods and properties the class's own source defines; not what class machinery
            # (abc, pydantic) stores under private names.
            defined = inspect.isfunction(value) or isinstance(value, (property, functools.cached_property, classmethod, staticmethod))
            if defined and is_private(name) and not name.startswith(f"_{cls.__name__}__"):
                owners = [base for base in third_party if name in vars(base)]
                if owners:
                    found.append(f"{module.__name__}: {cls.__name__}.{name} overrides {owners[0].__module__}.{owners[0].__qualname__}")
    return found


def product_modules() -> list[str]:
    """Every module of ``movie_assets`` by dotted name."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_the_source_check_finds_each_kind():
    source = (
        "import openpyxl.worksheet._write_only\n"
        "from dagster._core.storage.tags import PARTITION_NAME_TAG\n"
        "from urllib3 import _collections\n"
        "import dagster as dg\n"
        "from dagster_dbt import DbtCliResource\n"
        "x = dg._check\n"
        "class R(DbtCliResource):\n"
        "    _mine: int = 0\n"
        "    def helper(self):\n"
        "        return self._get_unique_target_path(), self._mine, self._own()\n"
        "    def _own(self): pass\n"
        "class Own:\n"
        "    def f(self): return self._anything\n"
        "import json\n"
        "y = json._default_decoder\n"
        "def style(cell, other):\n"
        "    cell._style = other._style\n"
    )
    assert [line.split(": ", 1)[1] for line in source_violations(source, "sample.py", {"_anything"})] == [
        "import openpyxl.worksheet._write_only",
        "from dagster._core.storage.tags import ...",
        "from urllib3 import _collections",
        "dg._check",
        "R: self._get_unique_target_path of a third-party base",
        "json._default_decoder: not a name of movie_assets",
        "cell._style: not a name of movie_assets",
        "other._style: not a name of movie_assets",
    ]


def test_the_override_check_finds_an_override_and_spares_own_helpers():
    import types

    from dagster_dbt import DbtCliResource

    module = types.ModuleType("movie_assets.sample")

    class Overrides(DbtCliResource):
        def _initialize_dbt_core_adapter(self, args):
            return None

    class OwnHelper(DbtCliResource):
        def _own_helper(self):
            return None

    for cls in (Overrides, OwnHelper):
        cls.__module__ = module.__name__
        setattr(module, cls.__name__, cls)
    found = override_violations(module)
    assert len(found) == 1 and "Overrides._initialize_dbt_core_adapter overrides dagster_dbt" in found[0]


def test_product_code_reads_no_private_third_party_name():
    sources = {path: path.read_text(encoding="utf-8") for path in sorted(PACKAGE.rglob("*.py"))}
    own = own_private_names(list(sources.values()))
    found = [line for path, source in sources.items() for line in source_violations(source, str(path.relative_to(REPO_ROOT)), own)]
    assert [line for line in found if line not in ALLOWED] == []


@pytest.mark.parametrize("name", product_modules())
def test_product_classes_override_no_private_third_party_member(name: str):
    assert [line for line in override_violations(importlib.import_module(name)) if line not in ALLOWED] == []
