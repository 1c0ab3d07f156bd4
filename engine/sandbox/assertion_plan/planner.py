"""``plan_tests``: parse the test, drop what the child must not run, rewrite the rest and
lay out its units."""

from __future__ import annotations

import ast
import builtins

from .assertions import AssertionRewriter
from .parametrize import parametrized_calls
from .plan import Plan
from .units import PlanBuilder


def plan_tests(src: str, filename: str = "tests.py") -> Plan:
    """Rewrite ``src`` (raises SyntaxError, or PlanError for a form it cannot check)."""
    tree = ast.parse(src, filename)
    shadowed = _assigned_names(tree) & set(dir(builtins))
    rewriter = AssertionRewriter(src, shadowed, _pytest_names(tree))
    body = _child_statements(tree)
    # before the rewrite: the decorators name pytest, which the rewriter refuses elsewhere
    parametrized = {
        stmt.name: calls
        for stmt in body
        if isinstance(stmt, ast.FunctionDef)
        and (calls := parametrized_calls(stmt, src)) is not None
    }
    rewritten = [rewriter.visit(stmt) for stmt in body]
    builder = PlanBuilder(src, rewriter, rewritten)
    for old, new in zip(body, rewritten, strict=True):
        builder.add_statement(old, new)
    builder.add_test_functions(parametrized)
    builder.add_test_methods()
    return Plan(builder.steps, builder.units, rewriter.sites, rewriter.labels)


def _assigned_names(tree: ast.AST) -> set[str]:
    """Every name the test binds: a built-in it rebinds is no longer the built-in."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _pytest_names(tree: ast.AST) -> set[str]:
    """The names bound by ``import pytest`` and ``from pytest import ...``, anywhere."""
    return {
        (a.asname or a.name)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and (
            getattr(node, "module", None) == "pytest" or any(a.name == "pytest" for a in node.names)
        )
        for a in node.names
    }


def _child_statements(tree: ast.Module) -> list[ast.stmt]:
    """The module's statements for the child: no ``if __name__ == ...`` block and no
    pytest import (pytest is not in the child: its forms are rewritten)."""
    body: list[ast.stmt] = []
    for stmt in tree.body:
        if _is_main_guard(stmt):
            continue
        if isinstance(stmt, ast.Import):
            stmt.names = [a for a in stmt.names if a.name.split(".")[0] != "pytest"]
            if not stmt.names:
                continue
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "pytest":
            continue
        body.append(stmt)
    return body


def _is_main_guard(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.If)
        and isinstance(stmt.test, ast.Compare)
        and isinstance(stmt.test.left, ast.Name)
        and stmt.test.left.id == "__name__"
    )
