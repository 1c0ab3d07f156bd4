"""Small AST readers and builders shared by the rewriting layers."""

from __future__ import annotations

import ast
from typing import Any

# Spelling of each comparison in the parent tree and in ``_aw_cmp`` calls.
CMP_OPS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}


def label(src: str, node: ast.AST, limit: int = 100) -> str:
    """``"line N: SOURCE"``, the first line of ``node``'s source cut to ``limit``."""
    text = (ast.get_source_segment(src, node) or "").split("\n")[0].strip()
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"line {getattr(node, 'lineno', 0)}: {text}"


def literal(node: ast.expr) -> tuple[bool, object]:
    """``(True, value)`` when ``node`` is a literal the parent can evaluate itself."""
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def name_of(node: ast.expr) -> str:
    """``a.b.C`` -> ``"C"``; ``C`` -> ``"C"``; else ``""``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def thunk(expr: ast.expr) -> ast.Lambda:
    """``lambda: expr``: the child evaluates it when the harness asks, inside the check."""
    args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
    return ast.Lambda(args=args, body=expr)


def tuple_of(*items: ast.expr) -> ast.Tuple:
    return ast.Tuple(elts=list(items), ctx=ast.Load())


def const(value: Any) -> ast.Constant:
    return ast.Constant(value=value)


def call_of(function: str, *args: ast.expr) -> ast.Call:
    """``function(*args)`` for one of the harness's ``_aw_*`` names."""
    return ast.Call(func=ast.Name(id=function, ctx=ast.Load()), args=list(args), keywords=[])


def is_pytest_function(func: ast.expr, name: str) -> bool:
    """``name`` or ``pytest.name`` (any module spelled ``...pytest``)."""
    return name_of(func) == name and (
        isinstance(func, ast.Name) or name_of(getattr(func, "value", func)) == "pytest"
    )
