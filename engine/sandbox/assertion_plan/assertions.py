"""The rewriter as a whole: where assertions live in a test and what becomes a site.

Every assertion becomes ``_aw_check(SITE, CHILD_TREE)``: ``assert``, ``assert_equal``,
``self.assert*`` in a ``TestCase``, the raising forms, and ``if cond: raise
AssertionError(...)`` / ``self.fail(...)``. pytest and ``self.assert*`` used any other
way are refused, since the child has no pytest and a ``self.assert*`` the rewriter did
not see would decide in the child.
"""

from __future__ import annotations

import ast

from .raises_forms import RAISES
from .refusals import refusal
from .syntax import name_of
from .unittest_forms import UnittestForms


class AssertionRewriter(UnittestForms):
    """Turns every assertion into ``_aw_check(SITE, CHILD_TREE)``; records the parent tree."""

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        is_case = _is_testcase(node, self.case_classes)
        if is_case:
            self.case_classes.add(node.name)
        self.in_testcase += is_case
        self.generic_visit(node)
        self.in_testcase -= is_case
        return node

    def visit_Assert(self, node: ast.Assert) -> ast.stmt:
        parent, child = self._node(node.test, node)
        return self._site(node, parent, child)

    def visit_If(self, node: ast.If) -> ast.stmt:
        if _fails_when(node):  # ``if cond: raise AssertionError(...)`` is ``assert not cond``
            check = ast.Assert(test=ast.UnaryOp(op=ast.Not(), operand=node.test), msg=None)
            return self.visit_Assert(ast.copy_location(check, node))
        return super().visit_If(node)

    def visit_Expr(self, node: ast.Expr) -> ast.stmt:
        call = node.value
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Name) and func.id == "assert_equal":
                if len(call.args) != 2 or call.keywords:
                    raise refusal(self.src, node, "assert_equal takes two values")
                return self._site(node, *self._compare(["==="], call.args, node))
            if self._is_self_assert(func):
                return self._unittest(node, call)
            if name_of(func) in RAISES and call.args:
                return self._raises_call(node, call)
        self.generic_visit(node)
        return node

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id in ("pytest", "approx", "raises") and node.id in self.pytest_names:
            raise refusal(
                self.src,
                node,
                f"`{node.id}` here is not supported "
                "(only pytest.approx in a comparison and pytest.raises as a context manager)",
            )
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        if self._is_self_assert(node) and node.attr not in RAISES:
            raise refusal(self.src, node, f"call self.{node.attr}(...) as a statement")
        self.generic_visit(node)
        return node


def _is_testcase(node: ast.ClassDef, known: set[str]) -> bool:
    return any(name_of(b).endswith("TestCase") or name_of(b) in known for b in node.bases)


def _fails_when(node: ast.If) -> bool:
    """``if cond: raise AssertionError(...)`` / ``self.fail(...)``, with no else."""
    if node.orelse or len(node.body) != 1:
        return False
    stmt = node.body[0]
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return name_of(exc) in ("AssertionError", "Exception")
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr == "fail"
        and name_of(stmt.value.func.value) == "self"
    )
