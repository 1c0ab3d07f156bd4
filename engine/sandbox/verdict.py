"""The trusted parent's verdict on a unit-test run, from the operand values the child sent.

The child (``harness.py``) writes one JSON list per line to the report pipe:

* ``["s", UNIT]`` a unit starts; ``["u", UNIT, null | "Exc: message"]`` it ended;
* ``["c", SITE, TRACE]`` an assertion ran: ``TRACE`` mirrors the site's tree from
  ``assertion_plan/`` and carries the values of the operands only the child could compute;
* ``["x", MESSAGE]`` the solution or the tests' setup failed; ``["end"]`` the last line.

Values are tagged plain data (``None``, ``true``/``false``, ``["i", "1f"]``, ``["f", "0.1"]``,
``["s", "text"]`` (ints in hexadecimal), ``["b", HEX]``, ``["c", RE, IM]``, ``["l"|"t"|"set"|"fz", [...]]``,
``["d", [[K, V], ...]]``); ``["E", why]`` is a value the child could not compute or that
was not plain data, ``["-"]`` one it skipped by short-circuit. The parent accepts only a
stream with exactly the units of the plan, in order, each ending once, then ``end``; it
decodes every value strictly and evaluates every comparison itself (with the literal
operands it never sent). Anything else is a failure: missing lines (``os._exit``, a
killed process), extra lines (a forger writing to the pipe), unknown sites, bad shapes.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .assertion_plan import Plan

MAX_DEPTH = 100
_HEX = re.compile(r"-?[0-9a-f]+")


class Malformed(ValueError):
    """The report stream is not one the trusted harness writes."""


class _Fail(Exception):
    """This check failed; the message says why (for the reason shown to the user)."""


_SKIP = ["-"]


def decode(v: Any, depth: int = 0) -> Any:
    """Tagged JSON -> a plain Python value (exact built-in types only)."""
    if depth > MAX_DEPTH:
        raise Malformed("value nested too deeply")
    if v is None or v is True or v is False:
        return v
    if not isinstance(v, list) or not v or not isinstance(v[0], str):
        raise Malformed(f"bad value {str(v)[:40]}")
    tag, rest = v[0], v[1:]
    if tag == "E":
        raise _Fail(str(rest[0])[:200] if rest else "error")
    if tag == "-":
        raise Malformed("a needed value was skipped")
    if len(rest) != (2 if tag == "c" else 1):
        raise Malformed(f"bad {tag} value")
    try:
        return _scalar_or_container(tag, rest, depth)
    except (ValueError, OverflowError):
        raise Malformed(f"bad {tag} value") from None


def _scalar_or_container(tag: str, rest: list, depth: int) -> Any:
    x = rest[0]
    if tag == "i" and type(x) is str and _HEX.fullmatch(x):
        return int(x, 16)
    if tag == "f" and type(x) is str and len(x) < 40:
        return float(x)
    if tag == "s" and type(x) is str:
        return x
    if tag == "b" and type(x) is str:
        return bytes.fromhex(x)
    if tag == "c" and all(type(p) is str and len(p) < 40 for p in rest):
        return complex(float(rest[0]), float(rest[1]))
    if tag in ("l", "t", "set", "fz") and type(x) is list:
        items = [decode(i, depth + 1) for i in x]
        try:
            return {"l": list, "t": tuple, "set": set, "fz": frozenset}[tag](items)
        except TypeError:
            raise Malformed("unhashable set element") from None
    if tag == "d" and type(x) is list:
        out = {}
        for pair in x:
            if type(pair) is not list or len(pair) != 2:
                raise Malformed("bad dict item")
            key = decode(pair[0], depth + 1)
            try:
                out[key] = decode(pair[1], depth + 1)
            except TypeError:
                raise Malformed("unhashable dict key") from None
        return out
    raise Malformed(f"bad {tag} value")


def _text(value: Any, limit: int = 80) -> str:
    if type(value) is int and value.bit_length() > 256:
        return f"<an int of {value.bit_length()} bits>"
    try:
        s = repr(value)
    except Exception:  # e.g. an int inside a container too long to print in decimal
        s = f"<a {type(value).__name__} too large to show>"
    return s if len(s) <= limit else s[: limit - 3] + "..."


# ----- comparisons the parent makes ----------------------------------------------------
def strict_equal(a: Any, b: Any) -> bool:
    """Equal with exactly the same types all the way down (``assert_equal``)."""
    t = type(a)
    if t is not type(b):
        return False
    if t in (list, tuple):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    if t is dict:
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if t in (set, frozenset):
        return a == b and sorted(type(x).__name__ for x in a) == sorted(type(x).__name__ for x in b)
    return bool(a == b)


def _count_equal(a: Any, b: Any) -> bool:
    left, right = list(a), list(b)
    if len(left) != len(right):
        return False
    for item in left:
        for i, other in enumerate(right):
            if item == other:
                del right[i]
                break
        else:
            return False
    return True


@dataclass
class Approx:
    """``pytest.approx`` evaluated in the parent (same defaults: rel 1e-6, abs 1e-12)."""

    expected: Any
    rel: float = 1e-6
    abs: float = 1e-12
    nan_ok: bool = False

    def matches(self, actual: Any, expected: Any | None = None) -> bool:
        e = self.expected if expected is None else expected
        if type(e) in (list, tuple) and type(actual) in (list, tuple):
            return len(e) == len(actual) and all(
                self.matches(a, x) for a, x in zip(actual, e, strict=True)
            )
        if type(e) is dict and type(actual) is dict:
            return e.keys() == actual.keys() and all(self.matches(actual[k], e[k]) for k in e)
        numbers = (int, float)
        if type(e) in numbers and type(actual) in numbers:
            if math.isnan(e) or math.isnan(actual):
                return self.nan_ok and math.isnan(e) and math.isnan(actual)
            if math.isinf(e) or math.isinf(actual):
                return e == actual
            return abs(actual - e) <= max(self.rel * abs(e), self.abs)
        return bool(actual == e)


def _almost(spec: str) -> Callable[[Any, Any], Any]:
    _, places, delta = spec.split(":")

    def almost(a: Any, b: Any) -> bool:
        if a == b:
            return True
        diff = abs(a - b)
        if delta != "None":
            return bool(diff <= float(delta))
        return round(diff, int(places)) == 0

    return almost


def _isclose(spec: str) -> Callable[[Any, Any], bool]:
    _, rel, tol = spec.split(":")

    def isclose(a: Any, b: Any) -> bool:
        return math.isclose(a, b, rel_tol=float(rel), abs_tol=float(tol))

    return isclose


def _in(a: Any, b: Any) -> bool:
    if isinstance(b, Approx):
        raise _Fail("approx on the right of `in`")
    return a in b


OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": _in,
    "not in": lambda a, b: not _in(a, b),
    "is": operator.is_,
    "is not": operator.is_not,
    "===": strict_equal,
    "count_eq": _count_equal,
}


def _compare(op: str, a: Any, b: Any) -> bool:
    for x, y in ((a, b), (b, a)):
        if isinstance(y, Approx) and op in ("==", "!="):
            return y.matches(x) == (op == "==")
    fn: Callable[[Any, Any], Any] | None
    if op.startswith("isclose:"):
        fn = _isclose(op)
    else:
        fn = _almost(op) if op.startswith("almost:") else OPS.get(op)
    if fn is None:
        raise Malformed(f"unknown comparison {op}")
    try:
        return bool(fn(a, b))
    except _Fail:
        raise
    except Exception as exc:
        raise _Fail(f"comparing raised {type(exc).__name__}: {exc}"[:160]) from None


PARENT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "sorted": sorted,
    "set": set,
    "frozenset": frozenset,
    "list": list,
    "tuple": tuple,
    "abs": abs,
    "sum": sum,
    "min": min,
    "max": max,
    "round": round,
    "int": int,
    "float": float,
    "bool": bool,
    "dict": dict,
    "any": any,
    "all": all,
    "type": type,
}
BUILTIN_TYPES = {
    "int": int, "float": float, "str": str, "bool": bool, "list": list, "tuple": tuple,
    "dict": dict, "set": set, "frozenset": frozenset, "bytes": bytes, "complex": complex,
}  # fmt: skip


# ----- evaluating one site -------------------------------------------------------------
class _Values:
    """The child's values for one leaf, consumed in the plan's depth-first order."""

    def __init__(self, raw: Any):
        if type(raw) is not list:
            raise Malformed("bad leaf")
        self.raw, self.i = raw, 0
        self.got: tuple[Any] | None = None

    def next(self) -> Any:
        if self.i >= len(self.raw):
            raise Malformed("too few values")
        v = self.raw[self.i]
        self.i += 1
        value = decode(v)
        if self.got is None:
            self.got = (value,)
        return value

    def done(self) -> None:
        if self.i != len(self.raw):
            raise Malformed("too many values")


MAX_RESULT = 10**7  # items or digits the parent will build from the child's values
BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}
UNARY: dict[str, Callable[[Any], Any]] = {
    "-": operator.neg,
    "+": operator.pos,
    "~": operator.invert,
}


def _size(x: Any) -> int:
    if type(x) is int:
        return x.bit_length() // 3 + 1
    if type(x) in (str, bytes, list, tuple):
        return len(x)
    return 1


def _binop(op: str, a: Any, b: Any) -> Any:
    """``a op b`` on plain values, refusing results the child could make huge
    (``"x" * 10**12``, ``9 ** 10**9``)."""
    if op == "*" and _size(a) * _size(b) > MAX_RESULT:
        raise _Fail("result too large")
    if op == "**" and type(b) is int and abs(b) * _size(a) > MAX_RESULT:
        raise _Fail("result too large")
    if op == "%" and type(a) in (str, bytes) and _size(b) > MAX_RESULT:
        raise _Fail("result too large")
    return BINOPS[op](a, b)


def _operand(node: tuple, values: _Values) -> Any:
    kind = node[0]
    if kind in ("lit", "known"):
        return node[1]
    if kind == "type":
        return BUILTIN_TYPES[node[1]]
    if kind == "val":
        return values.next()
    if kind == "approx":
        opts = node[2]
        return Approx(_operand(node[1], values), opts.get("rel", 1e-6), opts.get("abs", 1e-12),
                      opts.get("nan_ok", False))  # fmt: skip
    if kind in ("bin", "unary"):
        args = [_operand(n, values) for n in node[2:]]
        try:
            return _binop(node[1], *args) if kind == "bin" else UNARY[node[1]](args[0])
        except _Fail:
            raise
        except Exception as exc:
            raise _Fail(f"{node[1]} raised {type(exc).__name__}: {exc}"[:160]) from None
    if kind == "fn":
        inner = _operand(node[2], values)
        try:
            return PARENT_FUNCTIONS[node[1]](inner, **node[3])
        except Exception as exc:
            raise _Fail(f"{node[1]}() raised {type(exc).__name__}: {exc}"[:160]) from None
    raise Malformed(f"unknown operand {kind}")


def _leaf_values(trace: Any, kind: str) -> list:
    if type(trace) is not list or len(trace) != 2 or trace[0] != kind:
        raise Malformed(f"expected a {kind} trace")
    return trace[1]


def evaluate(node: tuple, trace: Any) -> tuple[bool, str]:
    """(passed, why not) for one node of a site's tree against the child's trace."""
    kind = node[0]
    if trace == _SKIP:
        raise Malformed("a needed check was skipped")
    if kind in ("and", "or"):
        subs = _leaf_values(trace, kind)
        if type(subs) is not list or len(subs) != len(node[1]):
            raise Malformed("bad and/or trace")
        for sub_node, sub in zip(node[1], subs, strict=True):
            ok, why = evaluate(sub_node, sub)
            if ok != (kind == "and"):
                return ok, why
        return kind == "and", ""
    if kind == "not":
        ok, why = evaluate(node[1], _leaf_values(trace, "not"))
        return not ok, "" if ok is False else (why or "the negated check held")
    if kind in ("all", "any"):
        if type(trace) is not list or len(trace) != 3 or trace[0] != kind:
            raise Malformed("bad all/any trace")
        subs, error = trace[1], trace[2]
        if type(subs) is not list:
            raise Malformed("bad all/any trace")
        for sub in subs:
            ok, why = evaluate(node[1], sub)
            if ok != (kind == "all"):
                return ok, why
        if error is not None:
            raise _Fail(f"(iterating raised {str(error)[:120]})")
        return kind == "all", "" if kind == "all" else "(no item held)"
    values = _Values(_leaf_values(trace, kind))
    try:
        if kind == "cmp":
            ops, operands = node[1], node[2]
            got: Any = None
            for i, op in enumerate(ops):
                if i == 0:
                    left = _operand(operands[0], values)
                right = _operand(operands[i + 1], values)
                got = values.got
                if not _compare(op, left, right):
                    values.i = len(values.raw)  # the rest was evaluated eagerly; not needed
                    shown = got[0] if got is not None else left
                    return False, f"(got {_text(shown)})"
                left = right
        elif kind == "truth":
            value = _operand(node[1], values)
            if not value:
                return False, f"(got {_text(value)})"
        elif kind == "isinstance":
            value = _operand(node[1], values)
            if not isinstance(
                value, tuple(BUILTIN_TYPES[n] for n in node[2] if n in BUILTIN_TYPES)
            ):
                return False, f"(got {type(value).__name__} {_text(value)})"
        else:
            raise Malformed(f"unknown check {kind}")
        values.done()
    except _Fail as exc:
        raise _Fail(f"({exc})") from None
    return True, ""


def evaluate_site(node: tuple, trace: Any) -> tuple[bool, str]:
    """(passed, why not) for one assertion. An operand that raised or was not plain data
    fails the whole assertion (as an exception in Python would), even under ``not``."""
    try:
        if node[0] == "raises":
            return evaluate_raises(node, trace)
        return evaluate(node, trace)
    except _Fail as exc:
        return False, str(exc)


def evaluate_raises(node: tuple, trace: Any) -> tuple[bool, str]:
    if type(trace) is not list or len(trace) != 3 or trace[0] != "r":
        raise Malformed("bad raises trace")
    names, message = trace[1], trace[2]
    if names is None:
        return False, f"(did not raise {' or '.join(node[1])})"
    if type(names) is not list or not all(type(n) is str for n in names):
        raise Malformed("bad raises trace")
    if not set(node[1]) & set(names):
        return False, f"(raised {names[0] if names else '?'}, not {' or '.join(node[1])})"
    if node[2] is not None and not re.search(node[2], str(message)):
        return False, f"(message {_text(message)} does not match {node[2]!r})"
    return True, ""


# ----- the whole stream ------------------------------------------------------------------
@dataclass
class Verdict:
    complete: bool  # the stream ended with "end" (the harness reached its last line)
    passed: int
    total: int
    fatal: str
    failures: list[str]


def _records(data: bytes) -> list[list]:
    """The complete lines of the stream as records (a cut-off last line is dropped: the
    stream then has no ``end`` and earns no verdict)."""
    out = []
    for line in data.split(b"\n")[:-1]:
        if not line:
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            raise Malformed("a line that is not JSON") from None
        if type(rec) is not list or not rec or type(rec[0]) is not str:
            raise Malformed("a line that is not a record")
        out.append(rec)
    return out


def judge(plan: Plan, data: bytes) -> Verdict:
    """The verdict from the report stream (raises Malformed on a stream the trusted
    harness would not write)."""
    records = _records(data)
    n = len(plan.units)
    results: list[str | None] = []  # per finished unit: None passed, else why not
    fatal, ended, current = "", False, None
    checks: list[tuple[int, bool, str]] = []
    setup_failures: list[str] = []
    for rec in records:
        if ended:
            raise Malformed("data after the end")
        kind = rec[0]
        if kind == "s":
            if len(rec) != 2 or current is not None or rec[1] != len(results) or fatal:
                raise Malformed("a unit out of order")
            current, checks = rec[1], []
        elif kind == "c":
            if len(rec) != 3 or type(rec[1]) is not int or rec[1] not in plan.sites:
                raise Malformed("an unknown check")
            node = plan.sites[rec[1]]
            try:
                ok, why = evaluate_site(node, rec[2])
            except Malformed:
                raise
            except Exception as exc:  # never crash on the child's values: the check fails
                ok, why = False, f"(could not be judged: {type(exc).__name__})"
            if current is None:
                if not ok:
                    setup_failures.append(f"{plan.site_labels[rec[1]]} failed {why}".strip())
            else:
                checks.append((rec[1], ok, why))
        elif kind == "u":
            if len(rec) != 3 or rec[1] != current or not (rec[2] is None or type(rec[2]) is str):
                raise Malformed("a unit ended out of order")
            results.append(_unit_result(plan, current, checks, rec[2]))
            current = None
        elif kind == "x":
            if len(rec) != 2 or type(rec[1]) is not str or current is not None or fatal:
                raise Malformed("a misplaced error")
            fatal = rec[1][:300]
        elif kind == "end":
            if len(rec) != 1 or current is not None or (not fatal and len(results) != n):
                raise Malformed("the end before every unit ran")
            ended = True
        else:
            raise Malformed(f"unknown record {kind[:20]}")
    if ended and setup_failures and not fatal:
        fatal = f"the tests' setup failed: {setup_failures[0]}"
    passed = sum(1 for r in results if r is None)
    return Verdict(ended, passed, n, fatal, [r for r in results if r is not None])


def _unit_result(plan: Plan, k: int, checks: list, status: str | None) -> str | None:
    unit = plan.units[k]
    for site, ok, why in checks:
        if not ok:
            if unit.top_assert:
                return f"{unit.label} failed {why}".strip()
            return f"{unit.label} failed: {plan.site_labels[site]} {why}".strip()
    if status is not None:
        return f"{unit.label} raised {status}"
    reported = {site for site, _, _ in checks}
    missing = unit.must_sites - reported
    if missing:
        return f"{unit.label} failed: {plan.site_labels[min(missing)]} never reported"
    if unit.any_sites and not checks:
        return f"{unit.label} failed: no assertion ran"
    return None
