"""The test's own logic outside assertions, hardened: its comparisons, truth tests and
arithmetic run on plain data only.

The test runs in the solution's interpreter, so an object the solution returns could
steer ``if f(x) == y: n += 1`` through its ``__eq__``, ``__bool__`` or ``__sub__``. The
harness's ``_aw_cmp``, ``_aw_truth`` and ``_aw_plain`` refuse such objects.
"""

from __future__ import annotations

import ast

from .sites import SiteBook
from .syntax import CMP_OPS, call_of, const, literal, tuple_of


class GuardedLogic(SiteBook):
    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        """``a == b`` becomes ``_aw_cmp(ops, a, b)``; identity tests run no method of
        their operands and stay as they are."""
        self.generic_visit(node)
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return node
        ops = tuple_of(*[const(CMP_OPS[type(op)]) for op in node.ops])
        return ast.copy_location(call_of("_aw_cmp", ops, node.left, *node.comparators), node)

    def _truth(self, expr: ast.expr) -> ast.expr:
        return ast.copy_location(call_of("_aw_truth", expr), expr)

    def _plain(self, expr: ast.expr) -> ast.expr:
        if literal(expr)[0]:
            return expr
        return ast.copy_location(call_of("_aw_plain", expr), expr)

    def visit_If(self, node: ast.If) -> ast.stmt:
        self.generic_visit(node)
        node.test = self._truth(node.test)
        return node

    def visit_While(self, node: ast.While) -> ast.While:
        self.generic_visit(node)
        node.test = self._truth(node.test)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.IfExp:
        self.generic_visit(node)
        node.test = self._truth(node.test)
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            node.operand = self._truth(node.operand)
        else:  # -x, +x, ~x on a returned object would run its own __neg__...
            node.operand = self._plain(node.operand)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.BinOp:
        """On plain copies: an object whose ``__sub__`` returns 0 cannot make
        ``f(x) - y == 0`` hold."""
        self.generic_visit(node)
        node.left, node.right = self._plain(node.left), self._plain(node.right)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.generic_visit(node)
        node.ifs = [self._truth(cond) for cond in node.ifs]
        return node
