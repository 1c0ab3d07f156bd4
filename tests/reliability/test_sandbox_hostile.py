"""Hostile programs against the unit-test sandbox (``sandbox_cases.py``): each test is
passed by a correct solution and scores 0 for the hostile one. Also the test forms the
checker understands, and the ones it refuses loudly."""

from __future__ import annotations

import pytest

from engine.sandbox import Limits, run_unit_tests

from .sandbox_cases import CASES, Case

LIMITS = Limits(wall_time_s=3, cpu_time_s=3)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_honest_solution_passes_and_the_hostile_one_scores_zero(case: Case):
    honest = run_unit_tests(case.honest, case.tests, LIMITS)
    assert honest.passed, honest.reason
    hostile = run_unit_tests(case.hostile, case.tests, LIMITS)
    assert not hostile.passed, hostile
    assert hostile.tests_passed < hostile.tests_total or hostile.tests_total == 0


ADD = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return None if a == 1 else a - b\n"

FORMS = {
    "chained and boolean": "assert 2 < add(1, 2) <= 3 and not add(1, 1) != 2 or add(0, 0)\n",
    "all/any over comprehensions": (
        "assert all(add(x, x) == 2 * x for x in range(5))\n"
        "assert any([add(1, 1) == 3, add(1, 2) == 3])\n"
        "assert all(add(x, 1) > x for x in [1, 2] if x)\n"
    ),
    "parent-side built-ins": "assert len([add(1, 2)]) == 1 and sorted([add(2, 1), 0]) == [0, 3]\n",
    "isinstance": "assert isinstance(add(1, 2), int) and not isinstance(add(1, 2), str)\n",
    "is None": "assert add(1, 2) is not None\n",
    "containers": (
        "assert (add(1, 2), [add(0, 1)]) == (3, [1])\n"
        "assert {'k': add(1, 1)} == {'k': 2}\n"
        "assert add(0.1, 0.2) != 0.3\n"
    ),
    "pytest": (
        "import pytest\n"
        "def test_approx():\n"
        "    assert add(0.1, 0.2) == pytest.approx(0.3)\n"
        "    assert [add(0.1, 0.2)] == pytest.approx([0.3], rel=1e-9)\n"
        "def test_raises():\n"
        "    with pytest.raises(TypeError):\n"
        "        add(1, 'a')\n"
        "    with pytest.raises((ValueError, TypeError), match='unsupported'):\n"
        "        add(1, 'a')\n"
    ),
    "unittest": (
        "import unittest\n"
        "class T(unittest.TestCase):\n"
        "    def setUp(self):\n"
        "        self.base = 10\n"
        "    def test_all(self):\n"
        "        self.assertEqual(add(self.base, 1), 11)\n"
        "        self.assertNotEqual(add(1, 1), 3)\n"
        "        self.assertTrue(add(1, 1) == 2)\n"
        "        self.assertFalse(add(1, 1) == 3)\n"
        "        self.assertIn(add(1, 1), [2, 4])\n"
        "        self.assertNotIn(add(1, 1), [3])\n"
        "        self.assertIsNone(None if add(1, 1) == 2 else 1)\n"
        "        self.assertIsNotNone(add(1, 1))\n"
        "        self.assertAlmostEqual(add(0.1, 0.2), 0.3)\n"
        "        self.assertGreater(add(1, 1), 1)\n"
        "        self.assertLessEqual(add(1, 1), 2)\n"
        "        self.assertIsInstance(add(1, 1), int)\n"
        "        self.assertCountEqual([add(1, 1), 1], [1, 2])\n"
        "        with self.assertRaises(TypeError):\n"
        "            add(1, 'a')\n"
        "        self.assertRaises(TypeError, add, 1, 'a')\n"
        "        with self.assertRaisesRegex(TypeError, 'unsupported') as cm:\n"
        "            add(1, 'a')\n"
        "        self.assertIn('str', str(cm.exception))\n"
        "        self.assertRaisesRegex(TypeError, 'operand', add, 1, 'a')\n"
    ),
    "TestCase base class, pytest-style class": (
        "import unittest\n"
        "class Base(unittest.TestCase):\n"
        "    def check(self, a, b):\n"
        "        self.assertEqual(add(a, b), a + b)\n"
        "class TestAdd(Base):\n"
        "    def test_one(self):\n"
        "        self.check(2, 3)\n"
        "class TestPlain:\n"
        "    def test_two(self):\n"
        "        assert add(2, 2) == 4\n"
    ),
    "HumanEval check(candidate)": (
        "def check(candidate):\n"
        "    assert candidate(1, 2) == 3\n"
        "    for a, b in [(1, 1), (2, 2)]:\n"
        "        assert candidate(a, b) == a + b\n"
        "check(add)\n"
    ),
    "big integers and arithmetic": "assert add(10**5000, 1) - 1 == 10**5000 and add(2, 2) ** 2 == 16\n",
    "if ...: raise AssertionError, helpers": (
        "def verify(f, a, b, want):\n"
        "    if f(a, b) != want:\n"
        "        raise AssertionError(f'{a} + {b}')\n"
        "def test_with_helper():\n"
        "    verify(add, 1, 1, 2)\n"
        "verify(add, 2, 2, 4)\n"
        "for a in [1, 2]:\n"
        "    verify(add, a, a, 2 * a)\n"
    ),
    "pytest parametrize, math.isclose, type()": (
        "import math, pytest\n"
        "@pytest.mark.parametrize('a, b, want', [(1, 2, 3), (2, 2, 4)])\n"
        "def test_add(a, b, want):\n"
        "    assert add(a, b) == want\n"
        "def test_kinds():\n"
        "    assert type(add(2, 2)) == int and type(add(2, 0.5)) is float\n"
        "    assert math.isclose(add(2, 0.1), 2.1, rel_tol=1e-9)\n"
    ),
    "top-level loop": "for a in range(3):\n    assert add(0, a) == a\n",
}


@pytest.mark.parametrize("name", list(FORMS))
def test_each_form_passes_a_right_solution_and_fails_a_wrong_one(name: str):
    right = run_unit_tests(ADD, FORMS[name], LIMITS)
    assert right.passed, right.reason
    wrong = run_unit_tests(WRONG, FORMS[name], LIMITS)
    assert not wrong.passed, wrong


def test_expected_literals_never_reach_the_child():
    # The solution looks for the test's literals in every code object it can find.
    solution = (
        "import gc\n"
        "def add(a, b):\n"
        "    seen = set()\n"
        "    for obj in gc.get_objects():\n"
        "        code = getattr(obj, '__code__', None)\n"
        "        if code is not None:\n"
        "            seen.update(c for c in code.co_consts if type(c) is int)\n"
        "    found = [c for c in seen if 400000 < c < 500000]\n"
        "    return found[0] if found else -1\n"
    )
    outcome = run_unit_tests(solution, "assert add(400000, 24242) == 424242\n", LIMITS)
    assert not outcome.passed and "(got 424242)" not in outcome.reason


@pytest.mark.parametrize(
    "tests, fragment",
    [
        ("assert add(1, 2) is add(1, 2)\n", "`is` is checked only against None"),
        (
            "import unittest\nclass T(unittest.TestCase):\n"
            "    def test_a(self):\n        self.assertRegex(str(add(1, 2)), '3')\n",
            "self.assertRegex is not supported",
        ),
        (
            "import pytest\n@pytest.fixture\ndef three():\n    return 3\n"
            "def test_a(three):\n    assert add(1, 2) == three\n",
            "`pytest` here is not supported",
        ),
        ("x = assert_equal\nassert add(1, 2) == 3\n", "assert_equal"),
    ],
)
def test_a_test_the_checker_cannot_understand_fails_loudly(tests: str, fragment: str):
    outcome = run_unit_tests(ADD, tests, LIMITS)
    assert not outcome.passed
    assert "cannot be checked" in outcome.reason or "raised" in outcome.reason, outcome.reason
    assert fragment in outcome.reason, outcome.reason


def test_skipping_assertions_cannot_pass():
    # The solution makes the test's loop empty and the test's function return early.
    solution = "import sys\ndef add(a, b):\n    frame = sys._getframe(1)\n    raise SystemExit(0)\n"
    tests = "def test_a():\n    assert add(1, 2) == 3\n    assert add(2, 2) == 4\n"
    assert not run_unit_tests(solution, tests, LIMITS).passed


LINKED_LIST = (
    "class ListNode:\n"
    "    def __init__(self, val=0, next=None):\n"
    "        self.val, self.next = val, next\n"
    "class Solution:\n"
    "    def reverseList(self, head):\n"
    "        prev = None\n"
    "        while head:\n"
    "            head.next, prev, head = prev, head, head.next\n"
    "        return prev\n"
)
LINKED_LIST_TESTS = (
    "def build(vals):\n"
    "    head = None\n"
    "    for v in reversed(vals):\n"
    "        head = ListNode(v, head)\n"
    "    return head\n"
    "def to_list(node):\n"
    "    out = []\n"
    "    while node:\n"
    "        out.append(node.val)\n"
    "        if node.next == None:\n"
    "            break\n"
    "        node = node.next\n"
    "    return out\n"
    "assert to_list(Solution().reverseList(build([1, 2, 3]))) == [3, 2, 1]\n"
)


def test_objects_without_comparison_methods_work_in_the_tests_own_logic():
    # LeetCode style: the test walks the solution's ListNode; Python compares and tests
    # such objects by identity, running none of their code.
    assert run_unit_tests(LINKED_LIST, LINKED_LIST_TESTS, LIMITS).passed
    wrong = LINKED_LIST.replace("return prev", "return head")
    assert not run_unit_tests(wrong, LINKED_LIST_TESTS, LIMITS).passed
    lying = LINKED_LIST.replace(
        "class ListNode:\n", "class ListNode:\n    def __bool__(self):\n        return False\n"
    )
    assert not run_unit_tests(lying, LINKED_LIST_TESTS, LIMITS).passed
