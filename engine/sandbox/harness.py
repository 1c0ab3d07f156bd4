"""Trusted unit-test harness, executed inside the sandbox child (``runner.py`` calls
``main(args)`` after the limits are set and privileges dropped). Stdlib only; never
imported by the app.

Protocol: the app writes a fresh random secret into a pipe and passes its read end
(``secret_fd``) and the write end of a report pipe (``report_fd``). Before any
untrusted code runs, the harness reads the secret, closes that fd, keeps the secret
only in a closure, reads and parses both files, compiles the tests and captures every
C function it will need later. Then it executes the solution module, then the tests
statement by statement, counting each check: a top-level ``assert``, a top-level call
of a function named ``check*``, ``test*`` or ``assert*`` (HumanEval's ``check(candidate)``), and each
top-level ``def test_*()`` (called with no arguments after the module ran). At the end
(and only from the original process, never from a fork of it) it writes
``\\n SECRET PASSED TOTAL ERROR_HEX FAILURE_HEX,...\\n`` to the report fd and exits at
once. Strings travel hex-encoded and the line is built with C-level ``bytes``
formatting: after the solution ran, the harness calls no Python-level library code
that the solution could have monkeypatched (``json.dumps`` and friends).

Every ``assert L == R`` in the tests is rewritten to ``assert _aw_eq(L, R)``: values
made only of plain built-in types (int, float, str, list, dict, ...) compare as usual
(``1 == 1.0`` holds), but as soon as either side contains an object of any other type,
both sides must have exactly the same types all the way down and compare equal both
ways; so an "AlwaysEqual" object whose ``__eq__`` returns True is not equal to ``3``.
``assert_equal(actual, expected)`` is stricter still: exact types everywhere
(``assert_equal(1, 1.0)`` fails, as does ``assert_equal(True, 1)``).
"""

import ast
import builtins
import os
import sys
import types


def main(args):  # one linear procedure is easier to audit than many
    # --- capture what is needed later, before any untrusted code exists -------------
    getpid, write, exit_now = os.getpid, os.write, os._exit
    out, err = sys.stdout, sys.stderr
    b_type, b_len, b_repr, b_str, b_id, b_zip = type, len, repr, str, id, zip
    b_exec, b_all = exec, all
    safe_builtins = dict(builtins.__dict__)  # the tests see this copy, not the module

    secret = b""
    while True:
        chunk = os.read(args["secret_fd"], 256)
        if not chunk:
            break
        secret += chunk
    os.close(args["secret_fd"])
    reporter = _make_reporter(
        secret, args["report_fd"], getpid(), getpid, write, exit_now, (out, err), b_str, os.fstat
    )
    del secret

    with open(args["solution"], encoding="utf-8") as f:
        solution_src = f.read()
    with open(args["tests"], encoding="utf-8") as f:
        tests_src = f.read()

    def text(value, limit=160):
        try:
            s = b_str(value)
        except BaseException:
            return "?"
        return s if b_len(s) <= limit else s[: limit - 3] + "..."

    def describe(exc):
        try:
            name = b_str(b_type(exc).__name__)
        except BaseException:
            name = "exception"
        message = text(exc)
        return f"{name}: {message}" if message else name

    # --- plan the tests ----------------------------------------------------------
    try:
        tree = ast.parse(tests_src, args["tests"])
    except SyntaxError as exc:
        reporter(0, 0, f"the tests do not compile: {describe(exc)}", [])
    tree = _EqRewriter().visit(tree)
    ast.fix_missing_locations(tree)
    plan, test_functions = [], []
    for stmt in tree.body:
        label = (ast.get_source_segment(tests_src, stmt) or "").split("\n")[0].strip()
        label = f"line {stmt.lineno}: {text(label, 100)}"
        is_test = isinstance(stmt, ast.Assert) or (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name)
            and stmt.value.func.id.startswith(("check", "test", "assert"))
        )
        code = compile(ast.Module(body=[stmt], type_ignores=[]), args["tests"], "exec")
        plan.append((is_test, label, code))
        if isinstance(stmt, ast.FunctionDef) and stmt.name.startswith("test"):
            if stmt.name not in test_functions:
                test_functions.append(stmt.name)
    total = sum(1 for is_test, _, _ in plan if is_test) + b_len(test_functions)
    if total == 0:
        reporter(0, 0, "no tests found (top-level assert, check(...) or def test_*)", [])
    try:
        solution_code = compile(solution_src, args["solution"], "exec")
    except BaseException as exc:
        reporter(0, total, f"the solution does not compile: {describe(exc)}", [])

    # --- equality helpers (closures over captured built-ins) ---------------------
    plain_scalars = {int, float, complex, bool, str, bytes, b_type(None)}
    last_left: list[object] = []

    def plain(x, depth=0):
        t = b_type(x)
        if t in plain_scalars:
            return True
        if depth > 50:
            return False
        if t is list or t is tuple or t is set or t is frozenset:
            return b_all(plain(v, depth + 1) for v in x)
        if t is dict:
            return b_all(plain(k, depth + 1) and plain(v, depth + 1) for k, v in x.items())
        return False

    def strict(a, b, depth=0):
        t = b_type(a)
        if t is not b_type(b) or depth > 50:
            return False
        if t in plain_scalars:
            return (a == b) is True
        if t is list or t is tuple:
            return b_len(a) == b_len(b) and b_all(strict(x, y, depth + 1) for x, y in b_zip(a, b))
        if t is dict and plain(a) and plain(b):
            return b_len(a) == b_len(b) and b_all(
                k in a and strict(a[k], v, depth + 1) for k, v in b.items()
            )
        if (t is set or t is frozenset) and plain(a) and plain(b):
            return (a == b) is True and sorted(map(b_id, map(b_type, a))) == sorted(
                map(b_id, map(b_type, b))
            )
        return (a == b) is True and (b == a) is True

    def aw_eq(left, right):
        ok = ((left == right) is True) if plain(left) and plain(right) else strict(left, right)
        if not ok:
            last_left[:] = [left]
        return ok

    def assert_equal(actual, expected, msg=None):
        """Fail unless ``actual`` and ``expected`` have exactly the same types (all the
        way down) and compare equal both ways."""
        if not strict(actual, expected):
            last_left[:] = [actual]
            raise AssertionError(msg or "assert_equal: values or types differ")

    # --- run the solution, then the tests ----------------------------------------
    module = types.ModuleType("solution")
    module.__file__ = args["solution"]
    sys.modules["solution"] = module
    try:
        b_exec(solution_code, module.__dict__)
    except BaseException as exc:
        reporter(0, total, f"the solution raised {describe(exc)} before the tests", [])

    namespace = dict(module.__dict__)
    namespace.update(
        __name__="__tests__",
        __builtins__=safe_builtins,
        solution=module,
        assert_equal=assert_equal,
        _aw_eq=aw_eq,
    )
    passed, failures = 0, []

    def failed(label, exc):
        if b_type(exc) is AssertionError:
            message = f"{label} failed"
            detail = text(exc, 100)
            if detail:
                message += f": {detail}"
            if last_left:
                try:
                    message += f" (got {text(b_repr(last_left[0]), 80)})"
                except BaseException:
                    pass
        else:
            message = f"{label} raised {describe(exc)}"
        failures.append(message)

    for is_test, label, code in plan:
        last_left[:] = []
        try:
            b_exec(code, namespace)
        except BaseException as exc:
            if not is_test:
                reporter(
                    passed, total, f"the tests' setup ({label}) raised {describe(exc)}", failures
                )
            failed(label, exc)
            continue
        if is_test:
            passed += 1
    for name in test_functions:
        last_left[:] = []
        try:
            namespace[name]()
        except BaseException as exc:
            failed(name, exc)
            continue
        passed += 1
    reporter(passed, total, "", failures)


def _make_reporter(secret, fd, me, getpid, write, exit_now, streams, b_str, fstat):
    """The only holder of the secret: writes one signed line and ends the process."""
    first = fstat(fd)
    pipe = (first.st_dev, first.st_ino)

    def report(passed, total, error, failures):
        for stream in streams:
            try:
                stream.flush()
            except BaseException:
                pass
        if getpid() != me:  # a fork of the harness never reports
            exit_now(1)
        try:
            now = fstat(fd)
            if (now.st_dev, now.st_ino) != pipe:  # the report fd was re-pointed
                exit_now(1)
            fields = [b_str(f).encode("utf-8", "replace").hex().encode() for f in failures[:20]]
            line = b"\n%s %d %d %s %s\n" % (
                secret,
                passed,
                total,
                b_str(error).encode("utf-8", "replace").hex().encode() or b"-",
                b",".join(fields) or b"-",
            )
            while line:
                line = line[write(fd, line) :]
        except BaseException:
            exit_now(1)
        exit_now(0)

    return report


class _EqRewriter(ast.NodeTransformer):
    """``assert L == R`` becomes ``assert _aw_eq(L, R)`` (anywhere in the tests)."""

    def visit_Assert(self, node):
        self.generic_visit(node)
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            node.test = ast.copy_location(
                ast.Call(
                    func=ast.Name(id="_aw_eq", ctx=ast.Load()),
                    args=[test.left, test.comparators[0]],
                    keywords=[],
                ),
                test,
            )
        return node
