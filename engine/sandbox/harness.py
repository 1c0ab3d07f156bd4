"""Trusted unit-test harness, executed inside the sandbox child (``runner.py`` calls
``main(args)`` after the limits are set and privileges dropped). Stdlib only; never
imported by the app.

It decides nothing. The app rewrote the test (``assertion_plan/``) and sends the rewritten
steps through a pipe (``program_fd``) that is read and closed before the solution runs;
the test file is never on the child's disk. The harness runs the solution, then the
steps, and for every assertion writes the values of the operands it computed, as plain
data, to the report pipe (``report_fd``); the app compares them with the literals it kept
(``verdict.py``). A solution that writes to that pipe itself, patches this harness or
exits early gains nothing: the app accepts only the exact stream of checks the plan
expects, and a passing check needs the right values.

Values are read by value: exact built-in types, or subclasses of them read through the
base type's own slots (``int.__int__``, ``dict.items``...), so a returned object's
``__eq__``, ``__bool__``, ``__iter__``... are never called. Anything else is "not plain
data" and fails its check. The test's own comparisons and truth tests (``if f(x) == y:``)
go through ``_aw_cmp``/``_aw_truth``, which apply the same rule.
"""

import builtins
import json
import operator
import os
import sys
import types

NOT_PLAIN = "not plain data"
MAX_ITEMS = 1_000_000
MAX_DEPTH = 100
SKIP = ["-"]


class _NotPlain(Exception):
    pass


_HIDDEN = object()  # a literal the app kept: the child cannot decide that comparison


def _copier():
    """``plain(x)``: an exact-type copy of ``x`` read through the base types' slots."""
    scalars = (
        (bool, None),
        (int, int.__int__),
        (float, float.__float__),
        (str, str.__str__),
        (bytes, bytes.__bytes__),
        (complex, complex.__complex__),
    )
    b_isinstance, b_type, b_range = isinstance, type, range
    list_get, list_len, tuple_get, tuple_len = (
        list.__getitem__,
        list.__len__,
        tuple.__getitem__,
        tuple.__len__,
    )
    dict_items, set_iter, fz_iter = dict.items, set.__iter__, frozenset.__iter__

    def plain(x, budget, depth=0, allow_types=False):
        t = b_type(x)
        if x is None or t is bool:
            return x
        if allow_types and t is type:
            return x
        budget[0] -= 1
        if budget[0] < 0:
            raise _NotPlain("value too large")
        if depth > MAX_DEPTH:
            raise _NotPlain("value nested too deeply")
        for base, read in scalars:
            if t is base:
                return x
            if read is not None and b_isinstance(x, base):
                return read(x)
        if b_isinstance(x, list):
            return [plain(list_get(x, i), budget, depth + 1) for i in b_range(list_len(x))]
        if b_isinstance(x, tuple):
            return tuple(plain(tuple_get(x, i), budget, depth + 1) for i in b_range(tuple_len(x)))
        if b_isinstance(x, dict):
            return {
                plain(k, budget, depth + 1): plain(v, budget, depth + 1) for k, v in dict_items(x)
            }
        if b_isinstance(x, frozenset):
            return frozenset(plain(v, budget, depth + 1) for v in fz_iter(x))
        if b_isinstance(x, set):
            return {plain(v, budget, depth + 1) for v in set_iter(x)}
        raise _NotPlain(f"{NOT_PLAIN}: {t.__name__}")

    def enc(x):
        t = b_type(x)
        if x is None or t is bool:
            return x
        if t is int:  # hexadecimal: no limit on the number of digits
            return ["i", int.__format__(x, "x")]
        if t is float:
            return ["f", float.__repr__(x)]
        if t is str:
            return ["s", x]
        if t is bytes:
            return ["b", bytes.hex(x)]
        if t is complex:
            return ["c", float.__repr__(x.real), float.__repr__(x.imag)]
        if t is list or t is tuple:
            return ["l" if t is list else "t", [enc(v) for v in x]]
        if t is set or t is frozenset:
            return ["set" if t is set else "fz", [enc(v) for v in x]]
        if t is dict:
            return ["d", [[enc(k), enc(v)] for k, v in x.items()]]
        raise _NotPlain(f"{NOT_PLAIN}: {t.__name__}")

    return plain, enc


def main(args):  # one linear procedure is easier to audit than many
    # --- capture what is needed later, before any untrusted code exists -------------
    getpid, write, exit_now, fstat = os.getpid, os.write, os._exit, os.fstat
    out, err = sys.stdout, sys.stderr
    b_type, b_len, b_str, b_exec, b_getattr = type, len, str, exec, getattr
    b_base_exc, b_assertion = BaseException, AssertionError
    dumps = json.JSONEncoder(ensure_ascii=True, check_circular=False, allow_nan=False,
                             separators=(",", ":")).encode  # fmt: skip
    safe_builtins = dict(builtins.__dict__)  # the tests see this copy, not the module
    plain, enc = _copier()
    ops = {
        "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge, "in": lambda a, b: a in b,
        "not in": lambda a, b: a not in b, "is": operator.is_, "is not": operator.is_not,
    }  # fmt: skip
    me, report_fd = getpid(), args["report_fd"]
    first = fstat(report_fd)
    pipe = (first.st_dev, first.st_ino)

    chunks = []
    while True:
        chunk = os.read(args["program_fd"], 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(args["program_fd"])
    program = json.loads(b"".join(chunks))

    def emit(record):
        if getpid() != me:  # a fork of the harness never reports
            exit_now(1)
        try:
            now = fstat(report_fd)
            if (now.st_dev, now.st_ino) != pipe:  # the report fd was re-pointed
                exit_now(1)
            line = dumps(record).encode("ascii") + b"\n"
            while line:
                line = line[write(report_fd, line) :]
        except b_base_exc:
            exit_now(1)

    def finish(fatal=None):
        for stream in (out, err):
            try:
                stream.flush()
            except b_base_exc:
                pass
        if fatal is not None:
            emit(["x", fatal])
        emit(["end"])
        exit_now(0)

    def text(value, limit=160):
        try:
            s = b_str(value)
        except b_base_exc:
            return "?"
        return s if b_len(s) <= limit else s[: limit - 3] + "..."

    def describe(exc):
        try:
            name = b_str(b_type(exc).__name__)
        except b_base_exc:
            name = "exception"
        message = text(exc)
        return f"{name}: {message}" if message else name

    # --- the tests' child-side helpers ----------------------------------------------
    def value(thunk):
        """(encoded value, plain copy) of ``thunk()``; (["E", why], None) on failure."""
        try:
            x = thunk()
        except b_base_exc as exc:
            return ["E", f"raised {describe(exc)}"], _HIDDEN
        try:
            copy = plain(x, [MAX_ITEMS])
            return enc(copy), copy
        except _NotPlain as exc:
            return ["E", text(exc)], _HIDDEN
        except b_base_exc as exc:
            return ["E", f"{NOT_PLAIN} ({describe(exc)})"], _HIDDEN

    def operand(node, vals, state):
        kind = node[0]
        if kind == "v":
            if state["failed"]:
                vals.append(SKIP)
                return _HIDDEN
            encoded, copy = value(node[1])
            vals.append(encoded)
            if copy is _HIDDEN:
                state["failed"] = True
            return copy
        if kind == "k":
            return node[1]
        state["decidable"] = False
        if kind == "f":  # the parent applies a function or an operator to these
            for inner in node[1:]:
                operand(inner, vals, state)
        return _HIDDEN

    def leaf(kind, operands):
        vals: list = []
        state = {"failed": False, "decidable": True}
        copies = [operand(o, vals, state) for o in operands]
        if state["failed"]:
            return [kind, vals], False
        if not state["decidable"]:
            return [kind, vals], None
        return [kind, vals], copies

    def ev(node):
        kind = node[0]
        if kind == "and" or kind == "or":
            want, traces, unknown, subs = kind == "and", [], False, node[1]
            for i, sub in enumerate(subs):
                trace, decided = ev(sub)
                traces.append(trace)
                if decided is None:
                    unknown = True
                elif decided != want:
                    traces.extend([SKIP] * (b_len(subs) - i - 1))
                    return [kind, traces], decided
            return [kind, traces], None if unknown else want
        if kind == "not":
            trace, decided = ev(node[1])
            return ["not", trace], None if decided is None else not decided
        if kind == "all" or kind == "any":
            want, traces, unknown, error = kind == "all", [], False, None
            try:
                for sub in node[1]():
                    trace, decided = ev(sub)
                    traces.append(trace)
                    if decided is None:
                        unknown = True
                    elif decided != want:
                        return [kind, traces, None], decided
                    if b_len(traces) > MAX_ITEMS // 10:
                        error = "too many items"
                        break
            except b_base_exc as exc:
                error = describe(exc)
            if error is not None:
                return [kind, traces, error], False
            return [kind, traces, None], None if unknown else want
        if kind == "cmp":
            trace, copies = leaf("cmp", node[2])
            if copies is None or copies is False:
                return trace, copies
            for op in node[1]:
                if op not in ops:  # approximate and strict forms: only the app decides
                    return trace, None
            try:
                for i, op in enumerate(node[1]):
                    if not ops[op](copies[i], copies[i + 1]):
                        return trace, False
            except b_base_exc:
                return trace, False
            return trace, True
        if kind == "truth" or kind == "isinstance":
            trace, copies = leaf(kind, [node[1]])
            if kind == "truth" and copies not in (None, False):
                return trace, bool(copies[0])
            return trace, None if copies is None else False if copies is False else None
        raise ValueError(f"unknown check {kind}")

    def aw_check(site, tree):
        trace, decided = ev(tree)
        emit(["c", site, trace])
        if decided is False:
            raise b_assertion(f"check {site} failed")

    def raised(site, exc_type, exc):
        try:
            names = [b_str(c.__name__) for c in exc_type.__mro__]
        except b_base_exc:
            names = ["?"]
        emit(["c", site, ["r", names, text(exc)]])

    class Raises:
        def __init__(self, site):
            self.site, self.value, self.exception, self.type = site, None, None, None

        def __enter__(self):
            return self

        def __exit__(self, exc_type, exc, tb):
            if exc_type is None:
                emit(["c", self.site, ["r", None, None]])
                raise b_assertion("did not raise")
            raised(self.site, exc_type, exc)
            self.value = self.exception = exc
            self.type = exc_type
            return True

    def aw_raises_call(site, thunk):
        try:
            thunk()
        except b_base_exc as exc:
            raised(site, b_type(exc), exc)
            return
        emit(["c", site, ["r", None, None]])
        raise b_assertion("did not raise")

    mro_of, dict_of = type.__dict__["__mro__"].__get__, type.__dict__["__dict__"].__get__

    def bare(x, names):
        """True when no class of ``x`` defines any of ``names``: Python then compares or
        tests it by identity and runs none of its code (a linked-list node of the
        solution in ``while node:`` or ``node == None``)."""
        try:
            for klass in mro_of(b_type(x)):
                if klass is not object and any(n in dict_of(klass) for n in names):
                    return False
        except b_base_exc:
            return False
        return True

    def aw_cmp(names, *operands):
        copies, by_identity = [], set()
        for j, x in enumerate(operands):
            try:
                copies.append(plain(x, [MAX_ITEMS], allow_types=True))
            except _NotPlain as exc:
                copies.append(exc)
                if bare(x, ("__eq__", "__ne__")):
                    copies[j] = x
                    by_identity.add(j)
        for i, op in enumerate(names):
            a, b = copies[i], copies[i + 1]
            if op in ("is", "is not"):
                a, b = operands[i], operands[i + 1]
            else:
                for j, c in ((i, a), (i + 1, b)):
                    if b_type(c) is _NotPlain or (j in by_identity and op not in ("==", "!=")):
                        raise TypeError(f"comparison ({op}) with a value that is not plain data")
            if not ops[op](a, b):
                return False
        return True

    def aw_plain(x):
        try:
            return plain(x, [MAX_ITEMS], allow_types=True)
        except _NotPlain as exc:
            raise TypeError(f"arithmetic on a value that is {text(exc)}") from None

    def aw_truth(x):
        try:
            return bool(plain(x, [MAX_ITEMS], allow_types=True))
        except _NotPlain as exc:
            if bare(x, ("__bool__", "__len__")):
                return True
            raise TypeError(f"truth test of a value that is {text(exc)}") from None

    # --- compile everything before any untrusted code runs -------------------------
    steps = []
    for step in program["steps"]:
        code = compile(step["src"], "<tests>", "exec") if "src" in step else None
        steps.append((step, code))
    try:
        with open(args["solution"], encoding="utf-8") as f:
            solution_src = f.read()
        solution_code = compile(solution_src, args["solution"], "exec")
    except b_base_exc as exc:
        finish(f"the solution does not compile: {describe(exc)}")

    # --- run the solution, then the tests ----------------------------------------
    module = types.ModuleType("solution")
    module.__file__ = args["solution"]
    sys.modules["solution"] = module
    try:
        b_exec(solution_code, module.__dict__)
    except b_base_exc as exc:
        finish(f"the solution raised {describe(exc)} before the tests")

    namespace = dict(module.__dict__)
    namespace.update(
        __name__="__tests__",
        __builtins__=safe_builtins,
        solution=module,
        _aw_check=aw_check,
        _aw_raises=Raises,
        _aw_raises_call=aw_raises_call,
        _aw_cmp=aw_cmp,
        _aw_truth=aw_truth,
        _aw_plain=aw_plain,
    )
    set_up = set()
    for step, code in steps:
        unit = step["unit"]
        if unit is not None:
            emit(["s", unit])
        try:
            if code is not None:
                b_exec(code, namespace)
            elif "call" in step:
                namespace[step["call"]]()
            else:
                cls_name, method, plain_class = step["method"]
                cls = namespace[cls_name]
                if plain_class:  # a pytest-style class: a fresh instance per test
                    b_getattr(cls(), method)()
                else:
                    if cls_name not in set_up:
                        set_up.add(cls_name)
                        cls.setUpClass()
                    case = cls(method)
                    case.setUp()
                    try:
                        b_getattr(case, method)()
                    finally:
                        case.tearDown()
        except b_base_exc as exc:
            if unit is None:
                finish(f"the tests' setup ({step['label']}) raised {describe(exc)}")
            emit(["u", unit, describe(exc)])
            continue
        if unit is not None:
            emit(["u", unit, None])
    finish()
