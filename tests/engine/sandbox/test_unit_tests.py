from __future__ import annotations

import pytest

from engine.sandbox import Limits, TestOutcome, run_unit_tests
from engine.sandbox.assertion_plan import plan_tests
from engine.sandbox.verdict import Malformed, judge

ADD = "def add(a, b):\n    return a + b\n"
TESTS = (
    "assert add(1, 2) == 3\n"
    "assert_equal(add(2, 2), 4)\n"
    "def test_negative():\n"
    "    assert add(-1, 1) == 0\n"
)


def test_a_correct_solution_passes():
    outcome = run_unit_tests(ADD, TESTS)
    assert outcome == TestOutcome(True, 3, 3, "passed 3/3 tests")


def test_a_wrong_solution_fails_naming_the_failed_test():
    outcome = run_unit_tests("def add(a, b):\n    return a - b\n", TESTS)
    assert not outcome.passed
    assert (outcome.tests_passed, outcome.tests_total) == (0, 3)
    assert "line 1: assert add(1, 2) == 3 failed (got -1)" in outcome.reason
    assert "failed 3/3" in outcome.reason


def test_test_functions_are_named_in_the_reason():
    outcome = run_unit_tests("def add(a, b):\n    return a + b + (a < 0)\n", TESTS)
    assert (outcome.passed, outcome.tests_passed) == (False, 2)
    assert "test_negative failed" in outcome.reason


def test_humaneval_style_check_call_counts():
    tests = "def check(candidate):\n    assert candidate(1, 2) == 3\n\ncheck(add)\n"
    assert run_unit_tests(ADD, tests).passed
    outcome = run_unit_tests("def add(a, b):\n    return a * b\n", tests + "check(add)\n")
    assert (outcome.passed, outcome.tests_passed, outcome.tests_total) == (False, 0, 2)
    assert (
        "check(add) raised" not in outcome.reason and "line 4: check(add) failed" in outcome.reason
    )


ALWAYS_EQUAL = (
    "class AlwaysEqual:\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "    def __ne__(self, other):\n"
    "        return False\n"
    "    __hash__ = object.__hash__\n"
    "def add(a, b):\n"
    "    return AlwaysEqual()\n"
)


def test_always_equal_is_caught_by_assert_equal():
    outcome = run_unit_tests(ALWAYS_EQUAL, "assert_equal(add(1, 2), 3)\n")
    assert not outcome.passed and "assert_equal" in outcome.reason


def test_always_equal_is_caught_by_plain_assert_too():
    outcome = run_unit_tests(ALWAYS_EQUAL, "assert add(1, 2) == 3\nassert [add(1, 2)] == [3]\n")
    assert (outcome.passed, outcome.tests_passed) == (False, 0)


def test_always_equal_subclass_of_int_is_caught():
    solution = (
        "class Sneaky(int):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    __hash__ = int.__hash__\n"
        "def add(a, b):\n"
        "    return Sneaky(0)\n"
    )
    assert not run_unit_tests(solution, "assert add(1, 2) == 3\n").passed
    assert not run_unit_tests(solution, "assert_equal(add(1, 2), 3)\n").passed


def test_plain_values_compare_as_python_does():
    solution = "def half(x):\n    return x / 2\n"
    assert run_unit_tests(solution, "assert half(4) == 2\nassert [half(2)] == [1]\n").passed
    outcome = run_unit_tests(solution, "assert_equal(half(4), 2)\n")  # 2.0 is not 2 there
    assert not outcome.passed


def test_no_tests_is_not_a_pass():
    outcome = run_unit_tests(ADD, "x = add(1, 2)\n")
    assert not outcome.passed and "no tests" in outcome.reason


def test_syntax_errors_are_reported():
    assert "does not compile" in run_unit_tests("def add(a, b) return", TESTS).reason
    assert "do not compile" in run_unit_tests(ADD, "assert (").reason


def test_solution_exception_is_reported():
    outcome = run_unit_tests("raise ValueError('nope')\n", TESTS)
    assert not outcome.passed and "ValueError: nope" in outcome.reason


def test_solution_output_and_helper_imports_work():
    solution = "import math, collections, json\nprint('hello')\ndef add(a, b):\n    return math.fsum([a, b])\n"
    assert run_unit_tests(solution, "assert add(1, 2) == 3\n", Limits(wall_time_s=10)).passed


def test_the_judge_accepts_exactly_the_planned_stream():
    plan = plan_tests("assert add(1, 2) == 3\n")
    good = b'["s",0]\n["c",0,["cmp",[["i","3"]]]]\n["u",0,null]\n["end"]\n'
    verdict = judge(plan, good)
    assert verdict.complete and (verdict.passed, verdict.total) == (1, 1)
    wrong = judge(plan, good.replace(b'["i","3"]', b'["i","4"]'))
    assert wrong.passed == 0 and "(got 4)" in wrong.failures[0]
    assert not judge(plan, good[: good.index(b'["end"]')]).complete  # truncated: no verdict
    missing_check = b'["s",0]\n["u",0,null]\n["end"]\n'
    assert judge(plan, missing_check).passed == 0
    assert "never reported" in judge(plan, missing_check).failures[0]
    for forged in (
        good + good,  # a second stream after the first
        b"PASSED\n" + good,
        b'["s",0]\n["c",7,["cmp",[["i",3]]]]\n["u",0,null]\n["end"]\n',  # unknown check
        b'["end"]\n',  # the end before the unit
    ):
        with pytest.raises(Malformed):
            judge(plan, forged)
