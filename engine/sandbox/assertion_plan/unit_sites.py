"""Which assertion sites a unit must report, and whether it can report any.

A unit whose straight-line path holds an assertion passes only when that assertion
reported (``Unit.must_sites``): a solution that ends the unit early (``os._exit``, a
patched function that returns) must not pass it by saying nothing. Only paths that
surely run count; a loop over a non-empty literal does, a branch does not.
"""

from __future__ import annotations

import ast

from .syntax import literal, name_of


def stops(stmt: ast.stmt) -> bool:
    """True when ``stmt`` may leave the enclosing block early."""
    todo: list[ast.AST] = [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Return, ast.Raise, ast.Break, ast.Continue)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return False


def literal_nonempty(iterable: ast.expr) -> bool:
    if isinstance(iterable, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return bool(getattr(iterable, "elts", None) or getattr(iterable, "keys", None))
    if isinstance(iterable, ast.Call) and name_of(iterable.func) == "range" and iterable.args:
        values = [literal(a) for a in iterable.args]
        ints = [v for ok, v in values if ok and type(v) is int]
        if len(ints) == len(values) <= 3:
            return len(range(*ints)) > 0
    return False


def must_sites(body: list[ast.stmt], site_of: dict[int, int]) -> set[int]:
    """Sites that run whenever ``body`` runs to its end without an exception."""
    found: set[int] = set()
    for stmt in body:
        if id(stmt) in site_of:
            found.add(site_of[id(stmt)])
            continue
        if isinstance(stmt, ast.With):
            found |= must_sites(stmt.body, site_of)
        elif isinstance(stmt, ast.For) and literal_nonempty(stmt.iter) and not stmt.orelse:
            if not any(stops(s) for s in stmt.body):
                found |= must_sites(stmt.body, site_of)
        if stops(stmt):
            break
    return found


def has_site(
    nodes: list[ast.stmt], site_of: dict[int, int], with_sites: frozenset[str] = frozenset()
) -> bool:
    """Whether an assertion can run in ``nodes``, directly or through a call of a
    test-defined function in ``with_sites``."""
    for stmt in nodes:
        for n in ast.walk(stmt):
            if id(n) in site_of:
                return True
            if isinstance(n, ast.Call) and name_of(n.func) in with_sites:
                return True
    return False


def functions_with_sites(
    functions: dict[str, ast.FunctionDef], site_of: dict[int, int]
) -> frozenset[str]:
    """Test functions from which an assertion can run (calls followed)."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, fn in functions.items():
            if name not in found and has_site(fn.body, site_of, frozenset(found)):
                found.add(name)
                changed = True
    return frozenset(found)
