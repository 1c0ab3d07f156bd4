"""Trusted, parent-side rewrite of a unit test into checks whose verdict the parent computes.

The test is the user's (trusted); the solution is not. ``plan_tests`` parses the test and
rewrites every assertion it finds into ``_aw_check(SITE, TREE)``: ``TREE`` holds thunks
(``lambda: EXPR``) for the operands the child must compute, and nothing of the operands
the parent can compute itself. Literal operands (``5``, ``[1, 2]``, ``'Hello'``) never reach
the child: the parent keeps them in ``Plan.sites``, so a solution cannot read the expected
values from the test's code objects. The child sends back each computed operand as plain
data and the parent compares (``verdict.py``).

Understood forms: ``assert`` with comparisons (chained too) combined by ``and``/``or``/
``not``, ``all()``/``any()`` over literals and comprehensions, ``isinstance`` with built-in
types, truthiness of plain values, ``is``/``is not`` against None/True/False,
``pytest.approx``, ``pytest.raises`` and ``assertRaises`` (as a context manager or a call),
``assert_equal(actual, expected)`` (identical types), and the ``unittest.TestCase``
assertions in ``UNITTEST``. Anything else that asserts raises ``PlanError`` with the line,
so a test the checker cannot understand fails loudly instead of passing.

Units (what ``tests_passed``/``tests_total`` count): each top-level statement that holds
an assertion, each top-level call of a function named ``check*``/``test*``/``assert*``,
each top-level ``def test*()`` (called after the module ran) and each ``test*`` method of a
``TestCase`` class.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from typing import Any

CMP_OPS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}
# Built-ins the parent applies itself to an operand's plain value (a solution that
# patches them in the child gains nothing). Not ``str``: tests apply it to exceptions.
PARENT_FUNCTIONS = {
    "len", "sorted", "set", "frozenset", "list", "tuple", "abs", "sum", "min", "max",
    "round", "int", "float", "bool", "dict", "any", "all", "type",
}  # fmt: skip
# Arithmetic on operands is done by the parent too: ``f(x) - 5 == 0`` runs no method of
# what ``f`` returned.
PARENT_BINOPS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**",
}  # fmt: skip
PARENT_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}
BUILTIN_TYPES = {
    "int", "float", "str", "bool", "list", "tuple", "dict", "set", "frozenset", "bytes",
    "complex", "type(None)",
}  # fmt: skip
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
RAISES = {"raises", "assertRaises", "assertRaisesRegex"}
TYPE_NAMES = {"int", "float", "str", "bool", "list", "tuple", "dict", "set", "frozenset", "bytes"}
MAX_PROGRAM_BYTES = (1 << 20) - 8192  # fits a pipe grown to pipe-max-size (1 MiB)


class PlanError(ValueError):
    """The test uses a form the checker cannot verify (the message names the line)."""


@dataclass
class Unit:
    label: str
    must_sites: set[int] = field(default_factory=set)
    any_sites: bool = False  # some assertion can run in this unit: at least one must report
    top_assert: bool = False  # a bare top-level ``assert`` (its message says "(got X)")


@dataclass
class Plan:
    steps: list[dict]  # for the child, in order: {"src"|"call"|"method", "unit"}
    units: list[Unit]
    sites: dict[int, tuple]  # site id -> parent-side node tree
    site_labels: dict[int, str]


def _label(src: str, node: ast.AST, limit: int = 100) -> str:
    text = (ast.get_source_segment(src, node) or "").split("\n")[0].strip()
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"line {getattr(node, 'lineno', 0)}: {text}"


def _literal(node: ast.expr) -> tuple[bool, object]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _name(node: ast.expr) -> str:
    """``a.b.C`` -> ``"C"``; ``C`` -> ``"C"``; else ``""``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _lambda(expr: ast.expr) -> ast.Lambda:
    args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
    return ast.Lambda(args=args, body=expr)


def _tuple(*items: ast.expr) -> ast.Tuple:
    return ast.Tuple(elts=list(items), ctx=ast.Load())


def _const(value: Any) -> ast.Constant:
    return ast.Constant(value=value)


class _Rewriter(ast.NodeTransformer):
    """Turns every assertion into ``_aw_check(SITE, CHILD_TREE)``; records the parent tree."""

    def __init__(self, src: str, shadowed: set[str]):
        self.src, self.shadowed = src, shadowed
        self.sites: dict[int, tuple] = {}
        self.labels: dict[int, str] = {}
        self.in_testcase = 0
        self.site_of: dict[int, int] = {}  # id(original statement) -> site

    # ----- where assertions live ------------------------------------------------------
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

    def visit_Expr(self, node: ast.Expr) -> ast.stmt:
        call = node.value
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Name) and func.id == "assert_equal":
                if len(call.args) != 2 or call.keywords:
                    raise PlanError(f"{_label(self.src, node)}: assert_equal takes two values")
                return self._site(node, *self._compare(["==="], call.args, node))
            if self._is_self_assert(func):
                return self._unittest(node, call)
            if _name(func) in RAISES and call.args:
                return self._raises_call(node, call)
        self.generic_visit(node)
        return node

    def visit_With(self, node: ast.With) -> ast.stmt:
        raising = [i for i in node.items if self._raises_cm(i.context_expr)]
        if not raising:
            self.generic_visit(node)
            return node
        if len(node.items) != 1:
            raise PlanError(f"{_label(self.src, node)}: put pytest.raises in its own with")
        item = node.items[0]
        call = item.context_expr
        assert isinstance(call, ast.Call)
        expected, match = self._expected_exceptions(call, node)
        site = self._new_site(node, ("raises", expected, match))
        item.context_expr = ast.Call(
            func=ast.Name(id="_aw_raises", ctx=ast.Load()), args=[_const(site)], keywords=[]
        )
        node.body = [self.visit(s) for s in node.body]
        self.site_of[id(node)] = site
        return node

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id in ("pytest", "approx", "raises") and node.id in self.pytest_names:
            raise PlanError(
                f"{_label(self.src, node)}: `{node.id}` here is not supported "
                "(only pytest.approx in a comparison and pytest.raises as a context manager)"
            )
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        if self._is_self_assert(node) and node.attr not in RAISES:
            raise PlanError(f"{_label(self.src, node)}: call self.{node.attr}(...) as a statement")
        self.generic_visit(node)
        return node

    pytest_names: set[str] = set()
    case_classes: set[str] = set()  # TestCase subclasses seen so far (bases of later ones)

    # ----- comparisons and truth tests outside assertions (the child's own logic) ---------
    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        """``a == b`` in the test's own code (``if f(x) == y: n += 1``) becomes
        ``_aw_cmp(ops, a, b)``, which refuses operands that are not plain data, so an
        object that overrides ``__eq__`` cannot steer the test's logic."""
        self.generic_visit(node)
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return node
        ops = _tuple(*[_const(CMP_OPS[type(op)]) for op in node.ops])
        call = ast.Call(func=ast.Name(id="_aw_cmp", ctx=ast.Load()),
                        args=[ops, node.left, *node.comparators], keywords=[])  # fmt: skip
        return ast.copy_location(call, node)

    def _truth(self, expr: ast.expr) -> ast.expr:
        call = ast.Call(func=ast.Name(id="_aw_truth", ctx=ast.Load()), args=[expr], keywords=[])
        return ast.copy_location(call, expr)

    def visit_If(self, node: ast.If) -> ast.stmt:
        if _fails_when(node):  # ``if cond: raise AssertionError(...)`` is ``assert not cond``
            check = ast.Assert(test=ast.UnaryOp(op=ast.Not(), operand=node.test), msg=None)
            return self.visit_Assert(ast.copy_location(check, node))
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

    def _plain(self, expr: ast.expr) -> ast.expr:
        if _literal(expr)[0]:
            return expr
        call = ast.Call(func=ast.Name(id="_aw_plain", ctx=ast.Load()), args=[expr], keywords=[])
        return ast.copy_location(call, expr)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            node.operand = self._truth(node.operand)
        else:  # -x, +x, ~x on a returned object would run its own __neg__...
            node.operand = self._plain(node.operand)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.BinOp:
        """Arithmetic in the test runs on plain copies: an object whose ``__sub__``
        returns 0 cannot make ``f(x) - y == 0`` hold."""
        self.generic_visit(node)
        node.left, node.right = self._plain(node.left), self._plain(node.right)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.generic_visit(node)
        node.ifs = [self._truth(cond) for cond in node.ifs]
        return node

    # ----- helpers -----------------------------------------------------------------------
    def _is_self_assert(self, func: ast.expr) -> bool:
        return (
            self.in_testcase > 0
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "self"
            and func.attr.startswith("assert")
        )

    def _raises_cm(self, expr: ast.expr) -> bool:
        if not isinstance(expr, ast.Call):
            return False
        func = expr.func
        if _name(func) in ("assertRaises", "assertRaisesRegex") and self._is_self_assert(func):
            return True
        return _name(func) == "raises" and (
            isinstance(func, ast.Name) or _name(getattr(func, "value", func)) == "pytest"
        )

    def _new_site(self, stmt: ast.AST, parent: tuple) -> int:
        site = len(self.sites)
        self.sites[site] = parent
        self.labels[site] = _label(self.src, stmt)
        return site

    def _site(self, stmt: ast.stmt, parent: tuple, child: ast.expr) -> ast.stmt:
        site = self._new_site(stmt, parent)
        call = ast.Call(
            func=ast.Name(id="_aw_check", ctx=ast.Load()), args=[_const(site), child], keywords=[]
        )
        new = ast.copy_location(ast.Expr(value=call), stmt)
        self.site_of[id(new)] = site
        return new

    def _expected_exceptions(self, call: ast.Call, stmt: ast.AST) -> tuple[list[str], str | None]:
        target = call.args[0] if call.args else None
        names = target.elts if isinstance(target, ast.Tuple) else [target]
        expected = [_name(n) for n in names if n is not None]
        if not expected or not all(expected):
            raise PlanError(f"{_label(self.src, stmt)}: name the expected exception class")
        match = None
        if _name(call.func) == "assertRaisesRegex":
            ok, value = _literal(call.args[1]) if len(call.args) > 1 else (False, None)
            if not ok or not isinstance(value, str):
                raise PlanError(f"{_label(self.src, stmt)}: assertRaisesRegex needs a literal")
            match = value
        for kw in call.keywords:
            ok, value = _literal(kw.value)
            if kw.arg == "match" and ok and isinstance(value, str):
                match = value
            elif kw.arg != "msg":
                raise PlanError(f"{_label(self.src, stmt)}: unsupported argument {kw.arg}=")
        return expected, match

    def _raises_call(self, stmt: ast.Expr, call: ast.Call) -> ast.stmt:
        func = call.func
        if not (self._is_self_assert(func) or _name(getattr(func, "value", func)) == "pytest"):
            self.generic_visit(stmt)
            return stmt
        n = 2 if _name(func) == "assertRaisesRegex" else 1  # (E, regex, f, *args)
        head = ast.Call(func=call.func, args=call.args[:n], keywords=[])
        expected, match = self._expected_exceptions(head, stmt)
        if len(call.args) <= n:
            raise PlanError(f"{_label(self.src, stmt)}: use {_name(func)} as a context manager")
        thunk = _lambda(
            self.visit(ast.Call(func=call.args[n], args=call.args[n + 1 :], keywords=call.keywords))
        )
        site = self._new_site(stmt, ("raises", expected, match))
        body = ast.Call(func=ast.Name(id="_aw_raises_call", ctx=ast.Load()),
                        args=[_const(site), thunk], keywords=[])  # fmt: skip
        new = ast.copy_location(ast.Expr(value=body), stmt)
        self.site_of[id(new)] = site
        return new

    def _unittest(self, stmt: ast.Expr, call: ast.Call) -> ast.stmt:
        method = call.func.attr  # type: ignore[attr-defined]
        if method in ("assertRaises", "assertRaisesRegex"):
            return self._raises_call(stmt, call)
        if method not in UNITTEST:
            raise PlanError(f"{_label(self.src, stmt)}: self.{method} is not supported")
        op, n = UNITTEST[method]
        args = list(call.args)
        keywords = {kw.arg: kw.value for kw in call.keywords}
        for key in ("first", "second", "expr", "obj", "member", "container", "cls"):
            if key in keywords:
                args.append(keywords.pop(key))
        keywords.pop("msg", None)
        extra = args[n:]
        args = args[:n]
        if len(args) != n:
            raise PlanError(f"{_label(self.src, stmt)}: self.{method} needs {n} values")
        if op in ("almost", "not almost"):
            places_node = keywords.pop("places", extra[0] if extra else None)
            delta_node = keywords.pop("delta", None)
            places = _literal(places_node)[1] if places_node is not None else 7
            delta = _literal(delta_node)[1] if delta_node is not None else None
            parent, child = self._compare([f"almost:{places}:{delta}"], args, stmt)
            if op == "not almost":
                parent, child = ("not", parent), _tuple(_const("not"), child)
            return self._site(stmt, parent, child)
        if keywords:
            raise PlanError(f"{_label(self.src, stmt)}: unsupported arguments to self.{method}")
        negate = op.startswith("not ") and op not in ("not in",)
        base = op[4:] if negate else op
        if base == "truth":
            parent, child = self._node(args[0], stmt)
        elif base == "isinstance":
            parent, child = self._isinstance(args[0], args[1], stmt)
        elif base == "is" or base == "is not":
            if n == 1:
                args.append(ast.Constant(value=None))
            parent, child = self._compare([base], args, stmt)
        else:
            parent, child = self._compare([base], args, stmt)
        if negate:
            parent, child = ("not", parent), _tuple(_const("not"), child)
        return self._site(stmt, parent, child)

    # ----- expression trees ------------------------------------------------------------
    def _node(self, expr: ast.expr, stmt: ast.AST) -> tuple[tuple, ast.expr]:
        """(parent tree, child tree as an expression) for a boolean expression."""
        if isinstance(expr, ast.BoolOp):
            kind = "and" if isinstance(expr.op, ast.And) else "or"
            pairs = [self._node(v, stmt) for v in expr.values]
            return (kind, [p for p, _ in pairs]), _tuple(
                _const(kind), _tuple(*[c for _, c in pairs])
            )
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            parent, child = self._node(expr.operand, stmt)
            return ("not", parent), _tuple(_const("not"), child)
        if isinstance(expr, ast.Compare):
            ops = [CMP_OPS[type(op)] for op in expr.ops]
            return self._compare(ops, [expr.left, *expr.comparators], stmt)
        if isinstance(expr, ast.Call) and self._builtin(expr.func, ("all", "any")):
            kind = expr.func.id  # type: ignore[attr-defined]
            if len(expr.args) == 1 and not expr.keywords:
                arg = expr.args[0]
                if isinstance(arg, (ast.List, ast.Tuple, ast.Set)):
                    pairs = [self._node(e, stmt) for e in arg.elts]
                    joined = "and" if kind == "all" else "or"
                    return (joined, [p for p, _ in pairs]), _tuple(
                        _const(joined), _tuple(*[c for _, c in pairs])
                    )
                if isinstance(arg, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
                    parent, child = self._node(arg.elt, stmt)
                    gen = ast.GeneratorExp(
                        elt=child, generators=[self.visit(g) for g in arg.generators]
                    )
                    return (kind, parent), _tuple(_const(kind), _lambda(gen))
        if isinstance(expr, ast.Call) and _name(expr.func) == "isclose" and len(expr.args) == 2:
            opts = {kw.arg: _literal(kw.value) for kw in expr.keywords}
            if all(k in ("rel_tol", "abs_tol") and ok for k, (ok, _) in opts.items()):
                rel = opts.get("rel_tol", (True, 1e-09))[1]
                tol = opts.get("abs_tol", (True, 0.0))[1]
                return self._compare([f"isclose:{rel}:{tol}"], list(expr.args), stmt)
        if isinstance(expr, ast.Call) and self._builtin(expr.func, ("isinstance",)):
            if len(expr.args) == 2 and not expr.keywords:
                return self._isinstance(expr.args[0], expr.args[1], stmt)
        parent, child = self._operand_node(expr)
        return ("truth", parent), _tuple(_const("truth"), child)

    def _builtin(self, func: ast.expr, names: tuple[str, ...]) -> bool:
        return isinstance(func, ast.Name) and func.id in names and func.id not in self.shadowed

    def _isinstance(self, value: ast.expr, types: ast.expr, stmt: ast.AST):
        elts = types.elts if isinstance(types, ast.Tuple) else [types]
        names = [e.id for e in elts if isinstance(e, ast.Name) and e.id in BUILTIN_TYPES]
        if len(names) != len(elts) or any(n in self.shadowed for n in names):
            # a class of the test or the solution: only the child can answer
            call = ast.Call(func=ast.Name(id="isinstance", ctx=ast.Load()), args=[value, types],
                            keywords=[])  # fmt: skip
            parent, child = self._operand_node(call)
            return ("truth", parent), _tuple(_const("truth"), child)
        parent, child = self._operand_node(value)
        return ("isinstance", parent, names), _tuple(_const("isinstance"), child)

    def _compare(self, ops: list[str], operands: list[ast.expr], stmt: ast.AST):
        for i, op in enumerate(ops):
            if op in ("is", "is not"):
                pair = operands[i : i + 2]
                if not any(isinstance(o, ast.Constant) and o.value in (None, True, False)
                           and type(o.value) in (type(None), bool) or self._type_name(o)
                           for o in pair):  # fmt: skip
                    raise PlanError(
                        f"{_label(self.src, stmt)}: `is` is checked only against None, True, "
                        "False or a built-in type; compare values with =="
                    )
        pairs = [self._operand_node(o) for o in operands]
        parent = ("cmp", ops, [p for p, _ in pairs])
        return parent, _tuple(
            _const("cmp"), _tuple(*map(_const, ops)), _tuple(*[c for _, c in pairs])
        )

    def _type_name(self, expr: ast.expr) -> bool:
        return isinstance(expr, ast.Name) and expr.id in TYPE_NAMES and expr.id not in self.shadowed

    def _operand_node(self, expr: ast.expr):
        """(parent operand, child operand). Parent operands: ("lit", value) kept by the
        parent, ("val",) computed by the child, ("fn", name, args, extra), ("approx", ...)."""
        if self._type_name(expr):  # `type(x) == int`: the parent knows its own types
            return ("type", expr.id), _tuple(_const("h"))  # type: ignore[attr-defined]
        ok, value = _literal(expr)
        if ok:
            if value is None or type(value) is bool:
                return ("known", value), _tuple(_const("k"), _const(value))
            return ("lit", value), _tuple(_const("h"))
        if isinstance(expr, ast.BinOp) and type(expr.op) in PARENT_BINOPS:
            left_parent, left_child = self._operand_node(expr.left)
            right_parent, right_child = self._operand_node(expr.right)
            return ("bin", PARENT_BINOPS[type(expr.op)], left_parent, right_parent), _tuple(
                _const("f"), left_child, right_child
            )
        if isinstance(expr, ast.UnaryOp) and type(expr.op) in PARENT_UNARY:
            inner_parent, inner_child = self._operand_node(expr.operand)
            return ("unary", PARENT_UNARY[type(expr.op)], inner_parent), _tuple(
                _const("f"), inner_child
            )
        if isinstance(expr, ast.Call) and not any(isinstance(a, ast.Starred) for a in expr.args):
            func = expr.func
            if _name(func) == "approx" and (
                isinstance(func, ast.Name) or _name(getattr(func, "value", func)) == "pytest"
            ):
                return self._approx(expr)
            if self._builtin(func, tuple(PARENT_FUNCTIONS)) and 1 <= len(expr.args) <= 2:
                name = func.id  # type: ignore[attr-defined]
                extra_ok = len(expr.args) == 1 or (name == "round" and _literal(expr.args[1])[0])
                kw_ok = all(
                    kw.arg == "reverse" and name == "sorted" and _literal(kw.value)[0]
                    for kw in expr.keywords
                )
                if extra_ok and kw_ok:
                    inner_parent, inner_child = self._operand_node(expr.args[0])
                    extra = {kw.arg: _literal(kw.value)[1] for kw in expr.keywords}
                    if len(expr.args) == 2:
                        extra["ndigits"] = _literal(expr.args[1])[1]
                    return ("fn", name, inner_parent, extra), _tuple(_const("f"), inner_child)
        return ("val",), _tuple(_const("v"), _lambda(self.visit(expr)))

    def _approx(self, call: ast.Call):
        if len(call.args) != 1:
            raise PlanError(f"{_label(self.src, call)}: approx takes one expected value")
        opts = {}
        for kw in call.keywords:
            ok, value = _literal(kw.value)
            if kw.arg not in ("rel", "abs", "nan_ok") or not ok:
                raise PlanError(f"{_label(self.src, call)}: approx({kw.arg}=) must be a literal")
            opts[kw.arg] = value
        inner_parent, inner_child = self._operand_node(call.args[0])
        return ("approx", inner_parent, opts), _tuple(_const("f"), inner_child)


def _assigned_names(tree: ast.AST) -> set[str]:
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


def _stops(stmt: ast.stmt) -> bool:
    """True when ``stmt`` may leave the enclosing block early."""
    todo: list[ast.AST] = [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Return, ast.Raise, ast.Break, ast.Continue)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return False


def _literal_nonempty(iterable: ast.expr) -> bool:
    if isinstance(iterable, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return bool(getattr(iterable, "elts", None) or getattr(iterable, "keys", None))
    if isinstance(iterable, ast.Call) and _name(iterable.func) == "range" and iterable.args:
        values = [_literal(a) for a in iterable.args]
        ints = [v for ok, v in values if ok and type(v) is int]
        if len(ints) == len(values) <= 3:
            return len(range(*ints)) > 0
    return False


def _must_sites(body: list[ast.stmt], site_of: dict[int, int]) -> set[int]:
    """Sites that run whenever ``body`` runs to its end without an exception."""
    found: set[int] = set()
    for stmt in body:
        if id(stmt) in site_of:
            found.add(site_of[id(stmt)])
            continue
        if isinstance(stmt, ast.With):
            found |= _must_sites(stmt.body, site_of)
        elif isinstance(stmt, ast.For) and _literal_nonempty(stmt.iter) and not stmt.orelse:
            if not any(_stops(s) for s in stmt.body):
                found |= _must_sites(stmt.body, site_of)
        if _stops(stmt):
            break
    return found


def _fails_when(node: ast.If) -> bool:
    """``if cond: raise AssertionError(...)`` / ``self.fail(...)``, with no else."""
    if node.orelse or len(node.body) != 1:
        return False
    stmt = node.body[0]
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return _name(exc) in ("AssertionError", "Exception")
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr == "fail"
        and _name(stmt.value.func.value) == "self"
    )


def _has_site(
    nodes: list[ast.stmt], site_of: dict[int, int], with_sites: frozenset[str] = frozenset()
) -> bool:
    """Whether an assertion can run in ``nodes``, directly or through a call of a
    test-defined function in ``with_sites``."""
    for stmt in nodes:
        for n in ast.walk(stmt):
            if id(n) in site_of:
                return True
            if isinstance(n, ast.Call) and _name(n.func) in with_sites:
                return True
    return False


def _functions_with_sites(functions: dict[str, ast.FunctionDef], site_of: dict[int, int]):
    """Top-level test functions from which an assertion can run (calls followed)."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, fn in functions.items():
            if name not in found and _has_site(fn.body, site_of, frozenset(found)):
                found.add(name)
                changed = True
    return frozenset(found)


def plan_tests(src: str, filename: str = "tests.py") -> Plan:
    """Rewrite ``src`` (raises SyntaxError, or PlanError for a form it cannot check)."""
    tree = ast.parse(src, filename)
    shadowed = _assigned_names(tree) & set(dir(builtins))
    rewriter = _Rewriter(src, shadowed)
    rewriter.case_classes = set()
    rewriter.pytest_names = {
        (a.asname or a.name)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and (
            getattr(node, "module", None) == "pytest" or any(a.name == "pytest" for a in node.names)
        )
        for a in node.names
    }
    body: list[ast.stmt] = []
    for stmt in tree.body:
        if _is_main_guard(stmt):
            continue
        if isinstance(stmt, ast.Import):  # pytest is not in the child: its forms are rewritten
            stmt.names = [a for a in stmt.names if a.name.split(".")[0] != "pytest"]
            if not stmt.names:
                continue
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "pytest":
            continue
        body.append(stmt)
    parametrized = {
        stmt.name: calls
        for stmt in body
        if isinstance(stmt, ast.FunctionDef) and (calls := _parametrize(stmt, src)) is not None
    }
    rewritten = [rewriter.visit(stmt) for stmt in body]
    site_of = rewriter.site_of
    functions = {s.name: s for s in rewritten if isinstance(s, ast.FunctionDef)}
    asserting = _functions_with_sites(functions, site_of)
    methods = {
        item.name: item
        for cls in rewritten
        if isinstance(cls, ast.ClassDef)
        for item in cls.body
        if isinstance(item, ast.FunctionDef)
    }
    asserting_methods = _functions_with_sites(methods, site_of) | asserting

    steps: list[dict] = []
    units: list[Unit] = []
    test_functions: list[str] = []
    cases: list[tuple[str, ast.FunctionDef, bool]] = []
    for old, new in zip(body, rewritten, strict=True):
        src_new = ast.unparse(ast.fix_missing_locations(ast.Module(body=[new], type_ignores=[])))
        label = _label(src, new)
        unit = None
        called_name = (
            new.value.func.id
            if isinstance(new, ast.Expr)
            and isinstance(new.value, ast.Call)
            and isinstance(new.value.func, ast.Name)
            else ""
        )
        if called_name.startswith(("check", "test", "assert")) or called_name in asserting:
            called = functions.get(called_name)
            unit = Unit(label)
            if called is not None:
                unit.must_sites = _must_sites(called.body, site_of)
                unit.any_sites = called_name in asserting
        elif not isinstance(new, (ast.FunctionDef, ast.ClassDef)) and _has_site(
            [new], site_of, asserting
        ):
            unit = Unit(label, _must_sites([new], site_of), True, isinstance(old, ast.Assert))
        if unit is not None:
            units.append(unit)
        # the child gets the line only: a label quotes the source, expected values included
        where = f"line {new.lineno}"
        steps.append({"src": src_new, "label": where, "unit": len(units) - 1 if unit else None})
        if isinstance(new, ast.FunctionDef) and new.name.startswith("test"):
            if new.name not in test_functions:
                test_functions.append(new.name)
        plain_class = (
            isinstance(new, ast.ClassDef)
            and new.name.startswith("Test")
            and all(_name(b) == "object" for b in new.bases)
        )  # pytest collects the test_* methods of a Test* class too
        if isinstance(new, ast.ClassDef) and (new.name in rewriter.case_classes or plain_class):
            for item in new.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                    cases.append((new.name, item, plain_class))
    for name in test_functions:
        fn = functions[name]
        for i, call in enumerate(parametrized.get(name) or [None]):
            label = name if call is None else f"{name}[{i}]"
            units.append(Unit(label, _must_sites(fn.body, site_of), name in asserting))
            if call is None:
                steps.append({"call": name, "label": name, "unit": len(units) - 1})
            else:
                # the parameter values run in the child like the rest of the test's code
                call_src = ast.unparse(ast.fix_missing_locations(rewriter.visit(call)))
                steps.append({"src": call_src, "label": label, "unit": len(units) - 1})
    for cls, method, plain_class in cases:
        label = f"{cls}.{method.name}"
        units.append(
            Unit(
                label,
                _must_sites(method.body, site_of),
                _has_site(method.body, site_of, asserting_methods),
            )
        )
        steps.append(
            {"method": [cls, method.name, plain_class], "label": label, "unit": len(units) - 1}
        )
    return Plan(steps, units, rewriter.sites, rewriter.labels)


def _parametrize(fn: ast.FunctionDef, src: str) -> list[ast.Call] | None:
    """The calls of ``@pytest.mark.parametrize``'d ``fn`` (its decorators removed), or
    None when it has none. Stacked decorators multiply, as in pytest."""
    sets: list[list[ast.keyword]] | None = None
    kept = []
    for dec in fn.decorator_list:
        if not (isinstance(dec, ast.Call) and _name(dec.func) == "parametrize"):
            kept.append(dec)
            continue
        if len(dec.args) != 2 or dec.keywords:
            raise PlanError(f"{_label(src, dec)}: parametrize(names, values) only")
        ok, spec = _literal(dec.args[0])
        names: list[str] = []
        if ok and isinstance(spec, str):
            names = [n.strip() for n in spec.split(",") if n.strip()]
        elif ok and isinstance(spec, (list, tuple)) and all(isinstance(n, str) for n in spec):
            names = list(spec)
        values = dec.args[1]
        if not names or not isinstance(values, (ast.List, ast.Tuple)):
            raise PlanError(f"{_label(src, dec)}: parametrize needs literal names and a list")
        rows = []
        for row in values.elts:
            items = [row] if len(names) == 1 else getattr(row, "elts", None)
            if items is None or len(items) != len(names):
                raise PlanError(f"{_label(src, row)}: one value per name in {names}")
            rows.append([ast.keyword(arg=n, value=v) for n, v in zip(names, items, strict=True)])
        sets = rows if sets is None else [a + b for a in sets for b in rows]
    if sets is None:
        return None
    fn.decorator_list = kept
    func = ast.Name(id=fn.name, ctx=ast.Load())
    return [ast.Call(func=func, args=[], keywords=kws) for kws in sets]


def _is_testcase(node: ast.ClassDef, known: set[str]) -> bool:
    return any(_name(b).endswith("TestCase") or _name(b) in known for b in node.bases)


def _is_main_guard(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.If)
        and isinstance(stmt.test, ast.Compare)
        and isinstance(stmt.test.left, ast.Name)
        and stmt.test.left.id == "__name__"
    )
