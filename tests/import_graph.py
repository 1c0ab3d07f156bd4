"""The import graph of engine/, workbench/ and ui/, read from the source with `ast` (nothing
is imported): which of our modules each module imports, anywhere in its file or only when
the module itself is imported (outside functions and `if TYPE_CHECKING:`).

`from pkg import name` is an import of `pkg.name` when that is a submodule, else of `pkg`.
The implicit import of a module's parent packages is left out: a package whose `__init__`
imports its own submodules would otherwise form a circle with each of them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOTS = ("engine", "workbench", "ui")

ImportNode = ast.Import | ast.ImportFrom


def module_files(repo: Path = REPO) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the root packages."""
    found = {}
    for root in ROOTS:
        for path in sorted((repo / root).rglob("*.py")):
            parts = path.relative_to(repo).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def known(name: str, modules: dict[str, Path]) -> str | None:
    """`name` itself when it is one of our modules, else its longest prefix that is."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _from_base(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    """The absolute module a `from ... import` names, relative levels resolved."""
    if not node.level:
        return node.module or ""
    package = module if is_package else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _is_type_checking(test: ast.expr) -> bool:
    """`TYPE_CHECKING` or `typing.TYPE_CHECKING`."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_on_import(nodes: list) -> Iterator[ImportNode]:
    """The import statements that run when the module is imported: not those in function
    bodies (they run when called) nor under `if TYPE_CHECKING:` (they never run)."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _run_on_import(node.orelse)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                yield from _run_on_import(getattr(node, field, []))


def imports_of(
    module: str, path: Path, modules: dict[str, Path], on_import_only: bool = False
) -> set[str]:
    """The modules of ours (`modules`) that `module` imports: all of them, or with
    `on_import_only` those imported when `module` itself is imported."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    nodes = _run_on_import(tree.body) if on_import_only else ast.walk(tree)
    found: set[str | None] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {known(alias.name, modules) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(module, node, is_package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else known(base, modules))
    return {target for target in found if target is not None and target != module}


def import_graph(repo: Path = REPO, on_import_only: bool = False) -> dict[str, set[str]]:
    modules = module_files(repo)
    return {
        module: imports_of(module, path, modules, on_import_only)
        for module, path in modules.items()
    }
