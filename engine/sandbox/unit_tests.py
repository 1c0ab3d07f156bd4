"""Run model-generated code under unit tests. The app rewrites the test into checks
(``assertion_plan/``), the child computes the operands (``harness.py``) and the app decides
every check from their values (``verdict.py``): no line the child writes can say "pass"."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .assertion_plan import MAX_PROGRAM_BYTES, Plan, PlanError, plan_tests
from .limits import DEFAULT_LIMITS, Limits, SandboxResult
from .process import HARNESS, RawRun, run
from .verdict import Malformed, judge

SOLUTION_FILE = "solution.py"
NO_TESTS = "no tests found (top-level assert, check(...), def test_* or a unittest.TestCase)"


@dataclass
class TestOutcome:
    """Verdict of one unit-test check. ``reason`` is short, for the GUI."""

    __test__ = False  # not a pytest class

    passed: bool
    tests_passed: int
    tests_total: int
    reason: str


def _no_report_reason(result: SandboxResult, why: str, limits: Limits) -> str:
    if result.killed_by == "timeout":
        return f"timed out after {limits.wall_time_s:g} s ({why})"
    if result.killed_by == "cpu":
        return f"CPU time limit of {limits.cpu_time_s} s ({why})"
    if result.killed_by == "output":
        return f"output limit exceeded ({why})"
    if result.killed_by == "memory":
        return f"memory limit ({why})"
    if result.killed_by:
        return f"killed by {result.killed_by} ({why})"
    tail = result.stderr.strip().splitlines()[-1:] or [""]
    detail = f": {tail[0][:120]}" if tail[0] and result.exit_code else ""
    return f"exited with code {result.exit_code} before the harness reported ({why}){detail}"


def run_unit_tests(
    solution_code: str, test_code: str, limits: Limits = DEFAULT_LIMITS
) -> TestOutcome:
    """Run ``test_code`` (trusted) against ``solution_code`` (untrusted) in a sandbox child.

    The tests may use top-level ``assert`` statements, ``check(...)`` calls, ``def
    test_*()`` functions, ``unittest.TestCase`` classes, ``pytest.approx`` and
    ``pytest.raises``, and ``assert_equal(actual, expected)`` (identical types too). A
    check passes only when the values the solution produced are plain data and compare
    as the test says, judged by this process (see ``verdict.py``)."""
    return run_unit_tests_detailed(solution_code, test_code, limits)[0]


def _not_run(reason: str, total: int = 0) -> tuple[TestOutcome, RawRun, bool]:
    empty = SandboxResult(None, "", "", False, None, 0.0, False)
    return TestOutcome(False, 0, total, reason), RawRun(empty), False


def _program(plan: Plan) -> bytes:
    return json.dumps({"steps": plan.steps}).encode("utf-8")


def run_unit_tests_detailed(
    solution_code: str, test_code: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[TestOutcome, RawRun, bool]:
    """``run_unit_tests`` plus the raw run and whether a complete, well-formed report
    came back (the harness reached its last line)."""
    try:
        plan = plan_tests(test_code)
    except SyntaxError as exc:
        return _not_run(f"the tests do not compile: {exc.msg} (line {exc.lineno})")
    except PlanError as exc:
        return _not_run(f"the tests cannot be checked: {exc}")
    except (RecursionError, MemoryError, ValueError) as exc:
        return _not_run(f"the tests cannot be checked: {type(exc).__name__}")
    if not plan.units:
        return _not_run(NO_TESTS)
    program = _program(plan)
    total = len(plan.units)
    if len(program) > MAX_PROGRAM_BYTES:
        return _not_run(f"the tests are too large ({len(program) >> 10} KiB)", total)
    raw = run(
        HARNESS,
        mode="entry",
        limits=limits,
        files={SOLUTION_FILE: solution_code},
        args={"solution": SOLUTION_FILE},
        program=program,
        want_report=True,
    )
    try:
        verdict = judge(plan, raw.report)
    except Malformed as exc:
        reason = f"the report stream was tampered with ({exc}); nothing counts"
        return TestOutcome(False, 0, total, reason), raw, False
    if not verdict.complete:
        reason = _no_report_reason(raw.result, "no harness report", limits)
        return TestOutcome(False, verdict.passed, total, reason), raw, False
    if verdict.fatal:
        return TestOutcome(False, verdict.passed, total, verdict.fatal[:300]), raw, True
    if verdict.passed == total:
        return TestOutcome(True, total, total, f"passed {total}/{total} tests"), raw, True
    reason = f"failed {total - verdict.passed}/{total}: " + "; ".join(verdict.failures[:2])
    return TestOutcome(False, verdict.passed, total, reason[:300]), raw, True
