"""``self.assert*(...)`` statements of a ``unittest.TestCase``, rewritten as the
comparison or truth test each one stands for."""

from __future__ import annotations

import ast

from .operands import Operand
from .raises_forms import RaisesForms
from .refusals import refusal
from .syntax import const, literal, tuple_of

# unittest.TestCase method -> (comparison op, number of value arguments)
UNITTEST = {
    "assertEqual": ("==", 2),
    "assertEquals": ("==", 2),
    "assertListEqual": ("==", 2),
    "assertTupleEqual": ("==", 2),
    "assertDictEqual": ("==", 2),
    "assertSetEqual": ("==", 2),
    "assertSequenceEqual": ("==", 2),
    "assertMultiLineEqual": ("==", 2),
    "assertNotEqual": ("!=", 2),
    "assertIn": ("in", 2),
    "assertNotIn": ("not in", 2),
    "assertGreater": (">", 2),
    "assertGreaterEqual": (">=", 2),
    "assertLess": ("<", 2),
    "assertLessEqual": ("<=", 2),
    "assertCountEqual": ("count_eq", 2),
    "assertAlmostEqual": ("almost", 2),
    "assertNotAlmostEqual": ("not almost", 2),
    "assertIs": ("is", 2),
    "assertIsNot": ("is not", 2),
    "assertIsNone": ("is", 1),
    "assertIsNotNone": ("is not", 1),
    "assertTrue": ("truth", 1),
    "assertFalse": ("not truth", 1),
    "assertIsInstance": ("isinstance", 2),
    "assertNotIsInstance": ("not isinstance", 2),
}
# unittest's own names for the value arguments, accepted as keywords
VALUE_KEYWORDS = ("first", "second", "expr", "obj", "member", "container", "cls")


def _negated(tree: Operand) -> Operand:
    parent, child = tree
    return ("not", parent), tuple_of(const("not"), child)


class UnittestForms(RaisesForms):
    def _unittest(self, stmt: ast.Expr, call: ast.Call) -> ast.stmt:
        method = call.func.attr  # type: ignore[attr-defined]
        if method in ("assertRaises", "assertRaisesRegex"):
            return self._raises_call(stmt, call)
        if method not in UNITTEST:
            raise refusal(self.src, stmt, f"self.{method} is not supported")
        op, n = UNITTEST[method]
        args, extra, keywords = self._unittest_arguments(stmt, call, n)
        if op in ("almost", "not almost"):
            tree = self._almost_equal(args, extra, keywords, stmt)
            return self._site(stmt, *(_negated(tree) if op == "not almost" else tree))
        if keywords:
            raise refusal(self.src, stmt, f"unsupported arguments to self.{method}")
        negate = op.startswith("not ") and op not in ("not in",)
        tree = self._unittest_tree(op[4:] if negate else op, args, n, stmt)
        return self._site(stmt, *(_negated(tree) if negate else tree))

    def _unittest_arguments(
        self, stmt: ast.Expr, call: ast.Call, n: int
    ) -> tuple[list[ast.expr], list[ast.expr], dict[str | None, ast.expr]]:
        """(the ``n`` values, the positional arguments after them, the other keywords);
        ``msg`` is dropped: the parent writes its own."""
        args = list(call.args)
        keywords = {kw.arg: kw.value for kw in call.keywords}
        for key in VALUE_KEYWORDS:
            if key in keywords:
                args.append(keywords.pop(key))
        keywords.pop("msg", None)
        extra, args = args[n:], args[:n]
        if len(args) != n:
            method = call.func.attr  # type: ignore[attr-defined]
            raise refusal(self.src, stmt, f"self.{method} needs {n} values")
        return args, extra, keywords

    def _almost_equal(
        self,
        args: list[ast.expr],
        extra: list[ast.expr],
        keywords: dict[str | None, ast.expr],
        stmt: ast.AST,
    ) -> Operand:
        """``assertAlmostEqual(a, b, places=7, delta=None)``, with unittest's defaults."""
        places_node = keywords.pop("places", extra[0] if extra else None)
        delta_node = keywords.pop("delta", None)
        places = literal(places_node)[1] if places_node is not None else 7
        delta = literal(delta_node)[1] if delta_node is not None else None
        return self._compare([f"almost:{places}:{delta}"], args, stmt)

    def _unittest_tree(self, base: str, args: list[ast.expr], n: int, stmt: ast.AST) -> Operand:
        if base == "truth":
            return self._node(args[0], stmt)
        if base == "isinstance":
            return self._isinstance(args[0], args[1], stmt)
        if base in ("is", "is not") and n == 1:  # assertIsNone(x) is assertIs(x, None)
            args.append(ast.Constant(value=None))
        return self._compare([base], args, stmt)
