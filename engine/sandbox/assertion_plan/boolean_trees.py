"""The boolean structure of an assertion, as a parent tree and a child tree.

``and``/``or``/``not``, chained comparisons, ``all()``/``any()`` over literals and
comprehensions, ``math.isclose``, ``isinstance`` and plain truthiness. The parent
evaluates the structure itself (``verdict.py``), so a solution cannot decide how the
pieces combine.
"""

from __future__ import annotations

import ast

from .operands import Operand, OperandTrees
from .refusals import refusal
from .syntax import CMP_OPS, const, literal, name_of, thunk, tuple_of

BUILTIN_TYPES = {
    "int", "float", "str", "bool", "list", "tuple", "dict", "set", "frozenset", "bytes",
    "complex", "type(None)",
}  # fmt: skip


class BooleanTrees(OperandTrees):
    def _node(self, expr: ast.expr, stmt: ast.AST) -> Operand:
        """(parent tree, child tree as an expression) for a boolean expression."""
        if isinstance(expr, ast.BoolOp):
            kind = "and" if isinstance(expr.op, ast.And) else "or"
            return self._joined(kind, expr.values, stmt)
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            parent, child = self._node(expr.operand, stmt)
            return ("not", parent), tuple_of(const("not"), child)
        if isinstance(expr, ast.Compare):
            ops = [CMP_OPS[type(op)] for op in expr.ops]
            return self._compare(ops, [expr.left, *expr.comparators], stmt)
        found = self._all_any(expr, stmt) or self._isclose(expr, stmt)
        if found is not None:
            return found
        if isinstance(expr, ast.Call) and self._builtin(expr.func, ("isinstance",)):
            if len(expr.args) == 2 and not expr.keywords:
                return self._isinstance(expr.args[0], expr.args[1], stmt)
        parent, child = self._operand_node(expr)
        return ("truth", parent), tuple_of(const("truth"), child)

    def _joined(self, kind: str, values: list[ast.expr], stmt: ast.AST) -> Operand:
        pairs = [self._node(v, stmt) for v in values]
        return (kind, [p for p, _ in pairs]), tuple_of(
            const(kind), tuple_of(*[c for _, c in pairs])
        )

    def _all_any(self, expr: ast.expr, stmt: ast.AST) -> Operand | None:
        """``all([a, b])`` is ``a and b``; over a comprehension the child runs the loop
        and reports each element's operands, the parent folds them."""
        if not (isinstance(expr, ast.Call) and self._builtin(expr.func, ("all", "any"))):
            return None
        kind = expr.func.id  # type: ignore[attr-defined]
        if len(expr.args) != 1 or expr.keywords:
            return None
        arg = expr.args[0]
        if isinstance(arg, (ast.List, ast.Tuple, ast.Set)):
            return self._joined("and" if kind == "all" else "or", arg.elts, stmt)
        if isinstance(arg, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
            parent, child = self._node(arg.elt, stmt)
            gen = ast.GeneratorExp(elt=child, generators=[self.visit(g) for g in arg.generators])
            return (kind, parent), tuple_of(const(kind), thunk(gen))
        return None

    def _isclose(self, expr: ast.expr, stmt: ast.AST) -> Operand | None:
        if not (isinstance(expr, ast.Call) and name_of(expr.func) == "isclose"):
            return None
        if len(expr.args) != 2:
            return None
        opts = {kw.arg: literal(kw.value) for kw in expr.keywords}
        if not all(k in ("rel_tol", "abs_tol") and ok for k, (ok, _) in opts.items()):
            return None
        rel = opts.get("rel_tol", (True, 1e-09))[1]
        tol = opts.get("abs_tol", (True, 0.0))[1]
        return self._compare([f"isclose:{rel}:{tol}"], list(expr.args), stmt)

    def _isinstance(self, value: ast.expr, types: ast.expr, stmt: ast.AST) -> Operand:
        elts = types.elts if isinstance(types, ast.Tuple) else [types]
        names = [e.id for e in elts if isinstance(e, ast.Name) and e.id in BUILTIN_TYPES]
        if len(names) != len(elts) or any(n in self.shadowed for n in names):
            # a class of the test or the solution: only the child can answer
            call = ast.Call(func=ast.Name(id="isinstance", ctx=ast.Load()), args=[value, types],
                            keywords=[])  # fmt: skip
            parent, child = self._operand_node(call)
            return ("truth", parent), tuple_of(const("truth"), child)
        parent, child = self._operand_node(value)
        return ("isinstance", parent, names), tuple_of(const("isinstance"), child)

    def _compare(self, ops: list[str], operands: list[ast.expr], stmt: ast.AST) -> Operand:
        for i, op in enumerate(ops):
            if op in ("is", "is not") and not any(
                self._identity_operand(o) for o in operands[i : i + 2]
            ):
                raise refusal(
                    self.src,
                    stmt,
                    "`is` is checked only against None, True, False or a built-in type; "
                    "compare values with ==",
                )
        pairs = [self._operand_node(o) for o in operands]
        parent = ("cmp", ops, [p for p, _ in pairs])
        return parent, tuple_of(
            const("cmp"), tuple_of(*map(const, ops)), tuple_of(*[c for _, c in pairs])
        )

    def _identity_operand(self, operand: ast.expr) -> bool:
        """An operand whose identity the parent knows: None, True, False, a type name."""
        return (
            isinstance(operand, ast.Constant)
            and operand.value in (None, True, False)
            and type(operand.value) in (type(None), bool)
            or self._type_name(operand)
        )
