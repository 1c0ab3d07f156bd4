"""``@pytest.mark.parametrize``: one call, and one unit, per case. The child has no pytest,
so the decorators are taken off and the cases become ordinary calls."""

from __future__ import annotations

import ast

from .refusals import refusal
from .syntax import literal, name_of


def parametrized_calls(fn: ast.FunctionDef, src: str) -> list[ast.Call] | None:
    """The calls of ``@pytest.mark.parametrize``'d ``fn`` (its decorators removed), or
    None when it has none. Stacked decorators multiply, as in pytest."""
    sets: list[list[ast.keyword]] | None = None
    kept = []
    for dec in fn.decorator_list:
        if not (isinstance(dec, ast.Call) and name_of(dec.func) == "parametrize"):
            kept.append(dec)
            continue
        rows = _case_keywords(dec, src)
        sets = rows if sets is None else [a + b for a in sets for b in rows]
    if sets is None:
        return None
    fn.decorator_list = kept
    func = ast.Name(id=fn.name, ctx=ast.Load())
    return [ast.Call(func=func, args=[], keywords=kws) for kws in sets]


def _case_keywords(dec: ast.Call, src: str) -> list[list[ast.keyword]]:
    """One ``name=value`` list per case of one ``parametrize(names, values)``."""
    if len(dec.args) != 2 or dec.keywords:
        raise refusal(src, dec, "parametrize(names, values) only")
    names = _argument_names(dec.args[0])
    values = dec.args[1]
    if not names or not isinstance(values, (ast.List, ast.Tuple)):
        raise refusal(src, dec, "parametrize needs literal names and a list")
    rows = []
    for row in values.elts:
        items = [row] if len(names) == 1 else getattr(row, "elts", None)
        if items is None or len(items) != len(names):
            raise refusal(src, row, f"one value per name in {names}")
        rows.append([ast.keyword(arg=n, value=v) for n, v in zip(names, items, strict=True)])
    return rows


def _argument_names(node: ast.expr) -> list[str]:
    """``"a, b"`` or ``["a", "b"]`` -> ``["a", "b"]``; ``[]`` for anything else."""
    ok, spec = literal(node)
    if ok and isinstance(spec, str):
        return [n.strip() for n in spec.split(",") if n.strip()]
    if ok and isinstance(spec, (list, tuple)) and all(isinstance(n, str) for n in spec):
        return list(spec)
    return []
