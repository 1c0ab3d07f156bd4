"""Operands of an assertion, split between parent and child.

Literals stay in the parent (the child holds a placeholder, so no code object there
contains an expected value), and the parent applies arithmetic and a few built-ins to
the plain values itself, so a solution that patches them in the child gains nothing.
What only the child can compute becomes a thunk whose value it reports.

Parent operands: ``("lit", value)`` kept by the parent, ``("known", None|bool)`` sent
to the child too (it decides short-circuits), ``("type", name)``, ``("val",)`` computed
by the child, ``("bin", op, left, right)``, ``("unary", op, inner)``,
``("fn", name, inner, extra)`` and ``("approx", inner, options)``. The child's tree
mirrors it: ``("h",)`` hidden, ``("k", value)``, ``("v", thunk)``, ``("f", *inner)``.
"""

from __future__ import annotations

import ast

from .guarded_logic import GuardedLogic
from .refusals import refusal
from .syntax import const, is_pytest_function, literal, thunk, tuple_of

# Not ``str``: tests apply it to exceptions.
PARENT_FUNCTIONS = {
    "len", "sorted", "set", "frozenset", "list", "tuple", "abs", "sum", "min", "max",
    "round", "int", "float", "bool", "dict", "any", "all", "type",
}  # fmt: skip
PARENT_BINOPS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**",
}  # fmt: skip
PARENT_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}
TYPE_NAMES = {"int", "float", "str", "bool", "list", "tuple", "dict", "set", "frozenset", "bytes"}

Operand = tuple[tuple, ast.expr]  # (parent operand, child operand)


class OperandTrees(GuardedLogic):
    def _builtin(self, func: ast.expr, names: tuple[str, ...]) -> bool:
        """``func`` is one of the built-ins ``names``, not a name the test rebound."""
        return isinstance(func, ast.Name) and func.id in names and func.id not in self.shadowed

    def _type_name(self, expr: ast.expr) -> bool:
        return isinstance(expr, ast.Name) and expr.id in TYPE_NAMES and expr.id not in self.shadowed

    def _operand_node(self, expr: ast.expr) -> Operand:
        if self._type_name(expr):  # `type(x) == int`: the parent knows its own types
            return ("type", expr.id), tuple_of(const("h"))  # type: ignore[attr-defined]
        ok, value = literal(expr)
        if ok:
            if value is None or type(value) is bool:
                return ("known", value), tuple_of(const("k"), const(value))
            return ("lit", value), tuple_of(const("h"))
        found = self._arithmetic_operand(expr) or self._call_operand(expr)
        if found is not None:
            return found
        return ("val",), tuple_of(const("v"), thunk(self.visit(expr)))

    def _arithmetic_operand(self, expr: ast.expr) -> Operand | None:
        if isinstance(expr, ast.BinOp) and type(expr.op) in PARENT_BINOPS:
            left_parent, left_child = self._operand_node(expr.left)
            right_parent, right_child = self._operand_node(expr.right)
            return ("bin", PARENT_BINOPS[type(expr.op)], left_parent, right_parent), tuple_of(
                const("f"), left_child, right_child
            )
        if isinstance(expr, ast.UnaryOp) and type(expr.op) in PARENT_UNARY:
            inner_parent, inner_child = self._operand_node(expr.operand)
            return ("unary", PARENT_UNARY[type(expr.op)], inner_parent), tuple_of(
                const("f"), inner_child
            )
        return None

    def _call_operand(self, expr: ast.expr) -> Operand | None:
        """``pytest.approx(...)`` or a built-in of ``PARENT_FUNCTIONS`` the parent can
        apply with the arguments as written; None for any other call."""
        if not isinstance(expr, ast.Call) or any(isinstance(a, ast.Starred) for a in expr.args):
            return None
        func = expr.func
        if is_pytest_function(func, "approx"):
            return self._approx(expr)
        if not (self._builtin(func, tuple(PARENT_FUNCTIONS)) and 1 <= len(expr.args) <= 2):
            return None
        name = func.id  # type: ignore[attr-defined]
        extra_ok = len(expr.args) == 1 or (name == "round" and literal(expr.args[1])[0])
        kw_ok = all(
            kw.arg == "reverse" and name == "sorted" and literal(kw.value)[0]
            for kw in expr.keywords
        )
        if not (extra_ok and kw_ok):
            return None
        inner_parent, inner_child = self._operand_node(expr.args[0])
        extra = {kw.arg: literal(kw.value)[1] for kw in expr.keywords}
        if len(expr.args) == 2:
            extra["ndigits"] = literal(expr.args[1])[1]
        return ("fn", name, inner_parent, extra), tuple_of(const("f"), inner_child)

    def _approx(self, call: ast.Call) -> Operand:
        if len(call.args) != 1:
            raise refusal(self.src, call, "approx takes one expected value")
        opts = {}
        for kw in call.keywords:
            ok, value = literal(kw.value)
            if kw.arg not in ("rel", "abs", "nan_ok") or not ok:
                raise refusal(self.src, call, f"approx({kw.arg}=) must be a literal")
            opts[kw.arg] = value
        inner_parent, inner_child = self._operand_node(call.args[0])
        return ("approx", inner_parent, opts), tuple_of(const("f"), inner_child)
