"""Expected exceptions: ``pytest.raises`` and ``assertRaises``/``assertRaisesRegex``,
as a context manager or a call. The harness's ``_aw_raises`` reports the class and
message of what was raised; the parent matches them against the names and pattern
it kept."""

from __future__ import annotations

import ast

from .boolean_trees import BooleanTrees
from .refusals import refusal
from .syntax import call_of, const, is_pytest_function, literal, name_of, thunk

RAISES = {"raises", "assertRaises", "assertRaisesRegex"}


class RaisesForms(BooleanTrees):
    def visit_With(self, node: ast.With) -> ast.stmt:
        if not any(self._raises_cm(i.context_expr) for i in node.items):
            self.generic_visit(node)
            return node
        if len(node.items) != 1:
            raise refusal(self.src, node, "put pytest.raises in its own with")
        item = node.items[0]
        call = item.context_expr
        assert isinstance(call, ast.Call)
        expected, match = self._expected_exceptions(call, node)
        site = self._new_site(node, ("raises", expected, match))
        item.context_expr = call_of("_aw_raises", const(site))
        node.body = [self.visit(s) for s in node.body]
        self.site_of[id(node)] = site
        return node

    def _raises_cm(self, expr: ast.expr) -> bool:
        if not isinstance(expr, ast.Call):
            return False
        func = expr.func
        if name_of(func) in ("assertRaises", "assertRaisesRegex") and self._is_self_assert(func):
            return True
        return is_pytest_function(func, "raises")

    def _raises_call(self, stmt: ast.Expr, call: ast.Call) -> ast.stmt:
        """``pytest.raises(E, f, *args)`` / ``self.assertRaises(E, f, *args)``."""
        func = call.func
        if not (self._is_self_assert(func) or name_of(getattr(func, "value", func)) == "pytest"):
            self.generic_visit(stmt)
            return stmt
        n = 2 if name_of(func) == "assertRaisesRegex" else 1  # (E, regex, f, *args)
        head = ast.Call(func=call.func, args=call.args[:n], keywords=[])
        expected, match = self._expected_exceptions(head, stmt)
        if len(call.args) <= n:
            raise refusal(self.src, stmt, f"use {name_of(func)} as a context manager")
        raising = ast.Call(func=call.args[n], args=call.args[n + 1 :], keywords=call.keywords)
        lazy = thunk(self.visit(raising))
        site = self._new_site(stmt, ("raises", expected, match))
        new = ast.copy_location(ast.Expr(value=call_of("_aw_raises_call", const(site), lazy)), stmt)
        self.site_of[id(new)] = site
        return new

    def _expected_exceptions(self, call: ast.Call, stmt: ast.AST) -> tuple[list[str], str | None]:
        """The expected class names and the message pattern, both as written."""
        target = call.args[0] if call.args else None
        names = target.elts if isinstance(target, ast.Tuple) else [target]
        expected = [name_of(n) for n in names if n is not None]
        if not expected or not all(expected):
            raise refusal(self.src, stmt, "name the expected exception class")
        match = None
        if name_of(call.func) == "assertRaisesRegex":
            ok, value = literal(call.args[1]) if len(call.args) > 1 else (False, None)
            if not ok or not isinstance(value, str):
                raise refusal(self.src, stmt, "assertRaisesRegex needs a literal")
            match = value
        for kw in call.keywords:
            ok, value = literal(kw.value)
            if kw.arg == "match" and ok and isinstance(value, str):
                match = value
            elif kw.arg != "msg":
                raise refusal(self.src, stmt, f"unsupported argument {kw.arg}=")
        return expected, match
