"""Hostile programs against the unit-test sandbox: each case is a trusted test, a correct
solution (which must pass, so the case proves the test is checkable) and a hostile one
(which must score 0). Shared by ``test_sandbox_hostile.py`` and the table in
``engine/sandbox/README.md``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    tests: str
    honest: str
    hostile: str


ADD = "def solve(a, b):\n    return a + b\n"
ADD_TESTS = "assert solve(2, 3) == 5 and solve(-1, 1) == 0\n"

ALWAYS_EQUAL = (
    "class AlwaysEqual:\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "    def __ne__(self, other):\n"
    "        return False\n"
    "    def __lt__(self, other):\n"
    "        return True\n"
    "    __le__ = __gt__ = __ge__ = __lt__\n"
    "    def __bool__(self):\n"
    "        return True\n"
    "    def __hash__(self):\n"
    "        return 5\n"
    "    def __len__(self):\n"
    "        return 3\n"
    "    def __iter__(self):\n"
    "        return iter([AlwaysEqual(), AlwaysEqual(), AlwaysEqual()])\n"
    "    def __contains__(self, item):\n"
    "        return True\n"
    "    def __sub__(self, other):\n"
    "        return 0\n"
    "    __rsub__ = __sub__\n"
    "    def __float__(self):\n"
    "        return 0.0\n"
    "    def __index__(self):\n"
    "        return 0\n"
    "    def __abs__(self):\n"
    "        return 0\n"
    "def solve(*args, **kwargs):\n"
    "    return AlwaysEqual()\n"
)

UNITTEST_TESTS = (
    "import unittest\n"
    "class TestSolve(unittest.TestCase):\n"
    "    def test_add(self):\n"
    "        self.assertEqual(solve(2, 3), 5)\n"
    "        self.assertNotEqual(solve(2, 2), 5)\n"
    "    def test_more(self):\n"
    "        self.assertTrue(solve(1, 1) == 2)\n"
    "        self.assertIn(solve(1, 2), [3, 4])\n"
    "        self.assertAlmostEqual(solve(0.1, 0.2), 0.3)\n"
    "        self.assertGreater(solve(1, 1), 1)\n"
    "if __name__ == '__main__':\n"
    "    unittest.main()\n"
)

GC_REPORTER = (
    "import gc\n"
    "def solve(a, b):\n"
    "    return 0\n"
    "def _forge():\n"
    "    for obj in gc.get_objects():\n"
    "        if callable(obj) and getattr(obj, '__name__', '') in (\n"
    "            'report', 'reporter', 'emit', 'send', '_send', 'finish', 'done'):\n"
    "            for args in ((1, 1, '', []), (['u', 0, 'ok'],), ()):\n"
    "                try:\n"
    "                    obj(*args)\n"
    "                except BaseException:\n"
    "                    pass\n"
    "_forge()\n"
)

FRAME_WALK = (
    "import sys\n"
    "def solve(a, b):\n"
    "    f = sys._getframe(1)\n"
    "    while f is not None:\n"
    "        for name, value in list(f.f_locals.items()):\n"
    "            if name == 'passed' and isinstance(value, int):\n"
    "                f.f_locals[name] = value + 1\n"
    "            if callable(value) and name in ('reporter', 'report', 'emit'):\n"
    "                try:\n"
    "                    value(1, 1, '', [])\n"
    "                except BaseException:\n"
    "                    pass\n"
    "        f = f.f_back\n"
    "    return 0\n"
)

# Reads the expected value from the test's own code object in the caller's frame.
READ_CALLER_CONSTANTS = (
    "import sys\n"
    "def solve(a, b):\n"
    "    f = sys._getframe(1)\n"
    "    while f is not None:\n"
    "        consts = [c for c in f.f_code.co_consts if type(c) is int and c not in (a, b)]\n"
    "        if consts:\n"
    "            return consts[0]\n"
    "        f = f.f_back\n"
    "    return 0\n"
)

READ_TEST_FILE = (
    "import os, re\n"
    "def solve(a, b):\n"
    "    for root in ('.', os.environ.get('HOME', '.'), '/tmp'):\n"
    "        for dirpath, _dirs, files in os.walk(root):\n"
    "            for name in files:\n"
    "                try:\n"
    "                    text = open(os.path.join(dirpath, name)).read()\n"
    "                except OSError:\n"
    "                    continue\n"
    "                m = re.search(rf'solve\\({a}, {b}\\) == (-?\\d+)', text)\n"
    "                if m:\n"
    "                    return int(m.group(1))\n"
    "    return 0\n"
)

PATCH_HARNESS_NAMESPACE = (
    "import gc, builtins\n"
    "def solve(a, b):\n"
    "    for obj in gc.get_objects():\n"
    "        if type(obj) is dict:\n"
    "            for key in list(obj):\n"
    "                if type(key) is str and key.startswith('_aw'):\n"
    "                    obj[key] = lambda *a, **k: True\n"
    "    builtins.all = builtins.any = lambda *a: True\n"
    "    return 0\n"
)

FORGE_FDS = (
    "import os, json\n"
    "def solve(a, b):\n"
    "    lines = ['PASSED', json.dumps({'passed': 2, 'total': 2}), '[\"u\", 0, \"ok\"]',\n"
    "             '[\"end\"]', '0' * 64 + ' 1 1 - -']\n"
    "    for fd in range(1, 64):\n"
    "        for line in lines:\n"
    "            try:\n"
    "                os.write(fd, ('\\n' + line + '\\n').encode())\n"
    "            except OSError:\n"
    "                pass\n"
    "    return 0\n"
)

CTYPES_WRITE = (
    "import ctypes\n"
    "libc = ctypes.CDLL(None)\n"
    "def solve(a, b):\n"
    "    for fd in range(3, 64):\n"
    '        for line in (b\'\\n["u", 0, "ok"]\\n["end"]\\n\', b\'\\nPASSED 1 1\\n\'):\n'
    "            libc.write(fd, line, len(line))\n"
    "    libc._exit(0)\n"
)

SIGNAL_HANDLER = (
    "import os, signal\n"
    "def _bye(*_):\n"
    "    os._exit(0)\n"
    "signal.signal(signal.SIGALRM, _bye)\n"
    "signal.setitimer(signal.ITIMER_REAL, 0.001)\n"
    "def solve(a, b):\n"
    "    while True:\n"
    "        pass\n"
)

THREAD_OUTLIVES = (
    "import os, threading, time\n"
    "def _spam():\n"
    "    while True:\n"
    "        for fd in range(3, 32):\n"
    "            try:\n"
    "                os.write(fd, b'\\n[\"end\"]\\n')\n"
    "            except OSError:\n"
    "                pass\n"
    "        time.sleep(0.001)\n"
    "threading.Thread(target=_spam, daemon=False).start()\n"
    "def solve(a, b):\n"
    "    return 0\n"
)

SYS_MODULES = (
    "import sys, types\n"
    "fake = types.ModuleType('json')\n"
    "fake.dumps = lambda *a, **k: '[\"end\"]'\n"
    "fake.loads = lambda *a, **k: {}\n"
    "for name in list(sys.modules):\n"
    "    if name in ('json', 'unittest', 'ast', 'math', 're', 'os'):\n"
    "        sys.modules[name] = fake\n"
    "def solve(a, b):\n"
    "    return 0\n"
)

IMPORT_HARNESS = (
    "import sys\n"
    "def solve(a, b):\n"
    "    for name in ('harness', 'engine.sandbox.harness', 'engine.sandbox.verdict', 'runner'):\n"
    "        try:\n"
    "            __import__(name)\n"
    "        except BaseException:\n"
    "            pass\n"
    "    for mod in list(sys.modules.values()):\n"
    "        for attr in ('main', 'report', 'emit'):\n"
    "            fn = getattr(mod, attr, None)\n"
    "            if callable(fn) and getattr(mod, '__name__', '') not in ('__main__',):\n"
    "                pass\n"
    "    return 0\n"
)

INT_SUBCLASS = (
    "class Sneaky(int):\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "    def __ne__(self, other):\n"
    "        return False\n"
    "    __hash__ = int.__hash__\n"
    "def solve(a, b):\n"
    "    return Sneaky(0)\n"
)

STR_SUBCLASS = (
    "class Sneaky(str):\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "    __hash__ = str.__hash__\n"
    "def greet(name):\n"
    "    return Sneaky('')\n"
)

LIST_SUBCLASS = (
    "class Sneaky(list):\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "    def __ne__(self, other):\n"
    "        return False\n"
    "def pair(a, b):\n"
    "    return Sneaky()\n"
)

ALTERNATING_BOOL = (
    "class Flip:\n"
    "    n = 0\n"
    "    def __bool__(self):\n"
    "        Flip.n += 1\n"
    "        return Flip.n % 2 == 1\n"
    "def is_even(n):\n"
    "    return Flip() if n != 3 else Flip()\n"
    "Flip.n = 0\n"
)

# Knows the report protocol: writes a well-formed stream (guessing the values) to every
# pipe it holds, then leaves before the real harness can write.
PROTOCOL_FORGER = (
    "import os, stat\n"
    "def solve(a, b):\n"
    '    guess = \'["cmp",[["i","0"]]]\'\n'
    "    stream = ('[\"s\",0]\\n[\"c\",0,[\"and\",[' + guess + ',' + guess + ']]]\\n'\n"
    '              \'["u",0,null]\\n["end"]\\n\')\n'
    "    for fd in range(3, 64):\n"
    "        try:\n"
    "            if stat.S_ISFIFO(os.fstat(fd).st_mode):\n"
    "                os.write(fd, stream.encode())\n"
    "        except OSError:\n"
    "            pass\n"
    "    os._exit(0)\n"
)

# Replaces every harness helper it finds in the tests' namespace by the identity and
# returns an object whose arithmetic always gives 0.
PATCH_PLAIN = (
    ALWAYS_EQUAL + "import gc\n"
    "for obj in gc.get_objects():\n"
    "    if type(obj) is dict:\n"
    "        for key in [k for k in obj if type(k) is str and k.startswith('_aw')]:\n"
    "            obj[key] = (lambda *a, **k: a[-1] if a else None)\n"
)

RAISE_SYSTEMEXIT = "def solve(a, b):\n    raise SystemExit(0)\n"
RAISE_KEYBOARD = "def solve(a, b):\n    raise KeyboardInterrupt\n"
RAISE_BASE = "class Escape(BaseException):\n    pass\ndef solve(a, b):\n    raise Escape('out')\n"
OS_EXIT_IN_TEST = "import os\ndef solve(a, b):\n    os._exit(0)\n"
KILL_PARENT_GROUP = (
    "import os, signal\n"
    "def solve(a, b):\n"
    "    for pid in (os.getppid(), 1):\n"
    "        try:\n"
    "            os.kill(pid, signal.SIGKILL)\n"
    "        except OSError:\n"
    "            pass\n"
    "    return 0\n"
)
FORK_BOMB = "import os\nwhile True:\n    os.fork()\n"
MEMORY_BOMB = "x = bytearray(10 * 2**30)\ndef solve(a, b):\n    return 0\n"
INFINITE_LOOP = "def solve(a, b):\n    while True:\n        pass\n"
PATCH_BUILTINS = (
    "import builtins\n"
    "builtins.all = builtins.any = lambda *a, **k: True\n"
    "builtins.isinstance = lambda *a: True\n"
    "builtins.len = lambda x: 3\n"
    "builtins.AssertionError = type('Nothing', (Exception,), {})\n"
    "def solve(a, b):\n"
    "    return 0\n"
)

CASES = [
    Case("__eq__ always True, `A == B and C == D`", ADD_TESTS, ADD, ALWAYS_EQUAL),
    Case("__ne__ always False, `not x != y`", "assert not solve(2, 3) != 5\n", ADD, ALWAYS_EQUAL),
    Case("__eq__, `all([x == y])`", "assert all([solve(2, 3) == 5])\n", ADD, ALWAYS_EQUAL),
    Case(
        "__eq__, `all(... for ...)`",
        "assert all(solve(a, b) == c for a, b, c in [(2, 3, 5), (1, 1, 2)])\n",
        ADD,
        ALWAYS_EQUAL,
    ),
    Case("__eq__, literal on the left `5 == x`", "assert 5 == solve(2, 3)\n", ADD, ALWAYS_EQUAL),
    Case("__lt__/__gt__, chained `4 < x < 6`", "assert 4 < solve(2, 3) < 6\n", ADD, ALWAYS_EQUAL),
    Case("__bool__ always True, `assert x`", "assert solve(2, 3)\n", ADD, ALWAYS_EQUAL),
    Case("__sub__ returns 0, `x - y == 0`", "assert solve(2, 3) - 5 == 0\n", ADD, ALWAYS_EQUAL),
    Case("__hash__+__eq__, `x in {5}`", "assert solve(2, 3) in {5}\n", ADD, ALWAYS_EQUAL),
    Case("__len__, `len(x) == 3`", "assert len(solve([1], [2, 3])) == 3\n", ADD, ALWAYS_EQUAL),
    Case(
        "__iter__ of always-equal items, unpacking",
        "a, b, c = solve([1], [2, 3])\nassert a == 1 and b == 2 and c == 3\n",
        ADD,
        ALWAYS_EQUAL,
    ),
    Case(
        "__float__/__sub__/__abs__, `abs(x - y) < eps`",
        "assert abs(solve(2, 3) - 5) < 1e-9\n",
        ADD,
        ALWAYS_EQUAL,
    ),
    Case(
        "__index__, `[..][x]`", "assert [0, 0, 0, 0, 0, 7][solve(2, 3)] == 7\n", ADD, ALWAYS_EQUAL
    ),
    Case("__eq__, unittest.TestCase assertions", UNITTEST_TESTS, ADD, ALWAYS_EQUAL),
    Case(
        "__eq__, pytest.approx",
        "import pytest\nassert solve(0.1, 0.2) == pytest.approx(0.3)\n",
        ADD,
        ALWAYS_EQUAL,
    ),
    Case(
        "__bool__ alternates, `assert f(4)` / `assert not f(3)`",
        "assert is_even(4)\nassert not is_even(3)\n",
        "def is_even(n):\n    return n % 2 == 0\n",
        ALTERNATING_BOOL,
    ),
    Case("int subclass with __eq__", ADD_TESTS, ADD, INT_SUBCLASS),
    Case(
        "str subclass with __eq__",
        "assert greet('Ann') == 'Hello, Ann!'\n",
        "def greet(name):\n    return f'Hello, {name}!'\n",
        STR_SUBCLASS,
    ),
    Case(
        "list subclass with __eq__",
        "assert pair(1, 2) == [1, 2]\n",
        "def pair(a, b):\n    return [a, b]\n",
        LIST_SUBCLASS,
    ),
    Case("reporter found through gc", ADD_TESTS, ADD, GC_REPORTER),
    Case("frame walking (counter, reporter)", ADD_TESTS, ADD, FRAME_WALK),
    Case(
        "reads expected values from the caller's code",
        "assert solve(2, 3) == 5\n",
        ADD,
        READ_CALLER_CONSTANTS,
    ),
    Case("reads the test file", "assert solve(2, 3) == 5\n", ADD, READ_TEST_FILE),
    Case("patches the harness namespace and builtins", ADD_TESTS, ADD, PATCH_HARNESS_NAMESPACE),
    Case(
        "monkeypatches builtins",
        "assert all(solve(x, x) == 2 * x for x in range(3)) and len([solve(1, 1)]) == 1\n",
        ADD,
        PATCH_BUILTINS,
    ),
    Case(
        "patches the helpers of an `if ...: raise` test",
        "def verify(f):\n    if f(2, 3) != 5:\n        raise AssertionError('wrong')\nverify(solve)\n",
        ADD,
        PATCH_HARNESS_NAMESPACE,
    ),
    Case(
        "counts passes itself: `sum(f(x) == y for ...)`",
        "cases = [(2, 3, 5), (1, 1, 2)]\n"
        "ok = sum(1 for a, b, c in cases if solve(a, b) == c)\n"
        "assert ok == 2\n",
        ADD,
        ALWAYS_EQUAL,
    ),
    Case("forged verdicts on every fd", ADD_TESTS, ADD, FORGE_FDS),
    Case("forges a well-formed report stream", ADD_TESTS, ADD, PROTOCOL_FORGER),
    Case(
        "patches the harness helpers, __sub__ returns 0",
        "assert solve(2, 3) - 5 == 0 and -solve(1, 1) == -2\n",
        ADD,
        PATCH_PLAIN,
    ),
    Case("ctypes write to fds and _exit", ADD_TESTS, ADD, CTYPES_WRITE),
    Case("signal handler exits mid-test", ADD_TESTS, ADD, SIGNAL_HANDLER),
    Case("thread outlives the test, spamming fds", ADD_TESTS, ADD, THREAD_OUTLIVES),
    Case("sys.modules tampering", ADD_TESTS, ADD, SYS_MODULES),
    Case("imports the harness", ADD_TESTS, ADD, IMPORT_HARNESS),
    Case("raises SystemExit inside the test", ADD_TESTS, ADD, RAISE_SYSTEMEXIT),
    Case("raises KeyboardInterrupt inside the test", ADD_TESTS, ADD, RAISE_KEYBOARD),
    Case("raises a BaseException subclass", ADD_TESTS, ADD, RAISE_BASE),
    Case("os._exit(0) inside the test", ADD_TESTS, ADD, OS_EXIT_IN_TEST),
    Case("kills its parent / init", ADD_TESTS, ADD, KILL_PARENT_GROUP),
    Case("fork bomb", ADD_TESTS, ADD, FORK_BOMB),
    Case("memory bomb", ADD_TESTS, ADD, MEMORY_BOMB),
    Case("infinite loop", ADD_TESTS, ADD, INFINITE_LOOP),
]
