"""The package's structure (docs/architecture.md): small modules, no import cycle, layers."""

from __future__ import annotations

import ast
import importlib
import re
import types
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rpde_publisher"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` that runs, at any depth (functions too): all but the bodies
    of ``if TYPE_CHECKING:`` blocks, which name types and import nothing at run time."""
    nodes: list[ast.AST] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return nodes


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules ``name`` imports when it runs, at any depth of its code."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            # "from . import x" names module x; "from .x import y" names x (y an attribute)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("rpde_publisher"):
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_no_import_cycle_counting_imports_inside_functions() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_over_the_size_limit() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in _modules().items()
    }
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}


def test_database_rules_live_in_backends() -> None:
    outside = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in PACKAGE.rglob("*.py")
        if "backends" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "dialect.name" in line
    ]
    assert outside == []


def test_the_layers_below_the_views_import_no_flask() -> None:
    web = {"rpde_publisher", "rpde_publisher.extension", "rpde_publisher.views"}
    offenders = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        flask = any(
            (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "flask")
            or (
                isinstance(node, ast.Import)
                and any(alias.name.split(".")[0] == "flask" for alias in node.names)
            )
            for node in ast.walk(tree)
        )
        if flask and name in LOWER_LAYERS:
            offenders.append(name)
    assert offenders == []
    assert web.isdisjoint(LOWER_LAYERS)


#: The read and write paths below the Flask views (docs/architecture.md).
LOWER_LAYERS = {
    "rpde_publisher.cursor",
    "rpde_publisher.query",
    "rpde_publisher.page",
    "rpde_publisher.rendering",
    "rpde_publisher.tables",
    "rpde_publisher.backends",
    "rpde_publisher.backends.base",
    "rpde_publisher.backends.postgresql",
    "rpde_publisher.backends.sqlite",
    "rpde_publisher.backends.mysql",
    "rpde_publisher.store",
    "rpde_publisher.lifecycle",
    "rpde_publisher.embedding",
}


@pytest.mark.parametrize("name", sorted(n for n in _modules() if "._" not in n))
def test_every_public_module_declares_its_public_names(name: str) -> None:
    module = importlib.import_module(name)
    names = getattr(module, "__all__", None)
    assert isinstance(names, list | tuple), f"{name} has no __all__"
    missing = [n for n in names if not hasattr(module, n)]
    assert missing == []


ROOT = PACKAGE.parent
#: ``from rpde_publisher.x import y`` as the docs and the example app write it.
_IMPORT = re.compile(r"from (rpde_publisher[\w.]*) import (\([^)]*\)|[\w, ]+)")


def _imported_by_users() -> set[tuple[str, str]]:
    texts = [path.read_text(encoding="utf-8") for path in (ROOT / "docs").glob("*.md")]
    texts.append((ROOT / "README.md").read_text(encoding="utf-8"))
    texts += [path.read_text(encoding="utf-8") for path in (ROOT / "example_app").rglob("*.py")]
    found = set()
    for text in texts:
        for module, names in _IMPORT.findall(text):
            # "models as oa" imports models: the alias is the importer's own name.
            for name in re.split(r"[,\s()]+", re.sub(r"\s+as\s+\w+", "", names)):
                if name:
                    found.add((module, name))
    return found


def test_what_the_docs_and_example_app_import_is_public_and_documented() -> None:
    api = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    imported = _imported_by_users()
    assert ("rpde_publisher", "RPDE") in imported and len(imported) > 10
    private, undocumented = [], []
    for module_name, name in sorted(imported):
        module = importlib.import_module(module_name)
        if isinstance(getattr(module, name, None), types.ModuleType):
            continue  # "from rpde_publisher import tracking": the module itself
        if name not in getattr(module, "__all__", ()):
            private.append(f"{module_name}.{name}")
        documented = (
            f"{module_name}.{name}" in api
            or (module_name == "rpde_publisher" and f":: {name}" in api)
            or (f"automodule:: {module_name}" in api and re.search(rf"\b{name}\b", api))
        )
        if not documented:
            undocumented.append(f"{module_name}.{name}")
    assert private == []
    assert undocumented == []
