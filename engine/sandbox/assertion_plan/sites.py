"""The rewriter's base layer: the state every layer shares and the numbering of sites.

A site is one assertion of the test. The child's code calls ``_aw_check(SITE, TREE)``
there; the parent keeps the site's own tree (with the literal operands) under the same
number, so the two can be matched when the report comes back.
"""

from __future__ import annotations

import ast

from .syntax import call_of, const, label


class SiteBook(ast.NodeTransformer):
    def __init__(self, src: str, shadowed: set[str], pytest_names: set[str]):
        self.src, self.shadowed = src, shadowed
        self.pytest_names = pytest_names  # what the test imported from or as pytest
        self.sites: dict[int, tuple] = {}
        self.labels: dict[int, str] = {}
        self.in_testcase = 0
        self.case_classes: set[str] = set()  # TestCase subclasses seen so far (bases of later ones)
        self.site_of: dict[int, int] = {}  # id(rewritten statement) -> site

    def _new_site(self, stmt: ast.AST, parent: tuple) -> int:
        site = len(self.sites)
        self.sites[site] = parent
        self.labels[site] = label(self.src, stmt)
        return site

    def _site(self, stmt: ast.stmt, parent: tuple, child: ast.expr) -> ast.stmt:
        """``_aw_check(SITE, child)`` in place of ``stmt``, ``parent`` kept under SITE."""
        site = self._new_site(stmt, parent)
        new = ast.copy_location(ast.Expr(value=call_of("_aw_check", const(site), child)), stmt)
        self.site_of[id(new)] = site
        return new

    def _is_self_assert(self, func: ast.expr) -> bool:
        """``self.assert*`` inside a ``TestCase`` (elsewhere ``self`` is not a test case)."""
        return (
            self.in_testcase > 0
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "self"
            and func.attr.startswith("assert")
        )
