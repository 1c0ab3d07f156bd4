"""Units (what ``tests_passed``/``tests_total`` count) and the child's steps that run them.

In the order the child runs them: each top-level statement (a unit when it holds an
assertion or calls a function named ``check*``/``test*``/``assert*`` or one that
asserts), then each top-level ``def test*()`` (once per parametrized case), then each
``test*`` method of a ``TestCase`` class or of a plain ``Test*`` class.
"""

from __future__ import annotations

import ast

from .assertions import AssertionRewriter
from .plan import Unit
from .syntax import label, name_of
from .unit_sites import functions_with_sites, has_site, must_sites


def _unparse(node: ast.AST) -> str:
    return ast.unparse(ast.fix_missing_locations(node))


def _called_name(stmt: ast.stmt) -> str:
    """``f`` for a statement that is a bare call ``f(...)``, else ``""``."""
    if (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Name)
    ):
        return stmt.value.func.id
    return ""


def _is_plain_test_class(node: ast.ClassDef) -> bool:
    """pytest collects the ``test_*`` methods of a ``Test*`` class too."""
    return node.name.startswith("Test") and all(name_of(b) == "object" for b in node.bases)


class PlanBuilder:
    def __init__(self, src: str, rewriter: AssertionRewriter, rewritten: list[ast.stmt]):
        self.src, self.rewriter, self.site_of = src, rewriter, rewriter.site_of
        self.steps: list[dict] = []
        self.units: list[Unit] = []
        self.functions = {s.name: s for s in rewritten if isinstance(s, ast.FunctionDef)}
        self.asserting = functions_with_sites(self.functions, self.site_of)
        methods = {
            item.name: item
            for cls in rewritten
            if isinstance(cls, ast.ClassDef)
            for item in cls.body
            if isinstance(item, ast.FunctionDef)
        }
        self.asserting_methods = functions_with_sites(methods, self.site_of) | self.asserting
        self.test_functions: list[str] = []
        self.cases: list[tuple[str, ast.FunctionDef, bool]] = []

    def _add(self, unit: Unit) -> int:
        self.units.append(unit)
        return len(self.units) - 1

    def add_statement(self, old: ast.stmt, new: ast.stmt) -> None:
        """``new``, the rewritten ``old``, as a step of the child's module code."""
        src_new = _unparse(ast.Module(body=[new], type_ignores=[]))
        unit = self._statement_unit(old, new)
        k = self._add(unit) if unit is not None else None
        # the child gets the line only: a label quotes the source, expected values included
        self.steps.append({"src": src_new, "label": f"line {new.lineno}", "unit": k})
        self._collect_tests(new)

    def _statement_unit(self, old: ast.stmt, new: ast.stmt) -> Unit | None:
        where = label(self.src, new)
        called_name = _called_name(new)
        if called_name.startswith(("check", "test", "assert")) or called_name in self.asserting:
            unit = Unit(where)
            called = self.functions.get(called_name)
            if called is not None:
                unit.must_sites = must_sites(called.body, self.site_of)
                unit.any_sites = called_name in self.asserting
            return unit
        if not isinstance(new, (ast.FunctionDef, ast.ClassDef)) and has_site(
            [new], self.site_of, self.asserting
        ):
            return Unit(where, must_sites([new], self.site_of), True, isinstance(old, ast.Assert))
        return None

    def _collect_tests(self, new: ast.stmt) -> None:
        """Remember the test functions and methods ``new`` defines, run after the module."""
        if isinstance(new, ast.FunctionDef) and new.name.startswith("test"):
            if new.name not in self.test_functions:
                self.test_functions.append(new.name)
        if not isinstance(new, ast.ClassDef):
            return
        plain_class = _is_plain_test_class(new)
        if new.name in self.rewriter.case_classes or plain_class:
            for item in new.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                    self.cases.append((new.name, item, plain_class))

    def add_test_functions(self, parametrized: dict[str, list[ast.Call]]) -> None:
        for name in self.test_functions:
            fn = self.functions[name]
            for i, call in enumerate(parametrized.get(name) or [None]):
                where = name if call is None else f"{name}[{i}]"
                unit = Unit(where, must_sites(fn.body, self.site_of), name in self.asserting)
                k = self._add(unit)
                if call is None:
                    self.steps.append({"call": name, "label": where, "unit": k})
                else:
                    # the parameter values run in the child like the rest of the test's code
                    call_src = _unparse(self.rewriter.visit(call))
                    self.steps.append({"src": call_src, "label": where, "unit": k})

    def add_test_methods(self) -> None:
        for cls, method, plain_class in self.cases:
            where = f"{cls}.{method.name}"
            can_report = has_site(method.body, self.site_of, self.asserting_methods)
            k = self._add(Unit(where, must_sites(method.body, self.site_of), can_report))
            self.steps.append(
                {"method": [cls, method.name, plain_class], "label": where, "unit": k}
            )
