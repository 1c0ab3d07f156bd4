"""Run model-generated code under unit tests; a pass counts only when the trusted
harness reports it with this check's secret (see ``harness.py`` for the protocol)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from .limits import DEFAULT_LIMITS, Limits, SandboxResult
from .process import RawRun, run

HARNESS = Path(__file__).with_name("harness.py")
SOLUTION_FILE = "solution.py"
TESTS_FILE = "tests.py"


@dataclass
class TestOutcome:
    """Verdict of one unit-test check. ``reason`` is short, for the GUI."""

    __test__ = False  # not a pytest class

    passed: bool
    tests_passed: int
    tests_total: int
    reason: str


@dataclass
class _Report:
    passed: int
    total: int
    error: str
    failures: list[str]


def _unhex(field: bytes) -> str:
    if field == b"-":
        return ""
    try:
        return bytes.fromhex(field.decode("ascii")).decode("utf-8", "replace")
    except ValueError:
        return "?"


def parse_report(data: bytes, secret: bytes) -> tuple[_Report | None, str]:
    """The signed report in ``data``, or None and why not. Exactly one line carrying
    the secret is accepted; anything else on the pipe is ignored."""
    count = data.count(secret)
    if count == 0:
        return None, "no harness report"
    if count > 1:
        return None, "more than one signed report (tampering)"
    start = data.index(secret)
    line = data[start:].split(b"\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) != 5 or not hmac.compare_digest(parts[0], secret):
        return None, "malformed harness report"
    try:
        passed, total = int(parts[1]), int(parts[2])
    except ValueError:
        return None, "malformed harness report"
    failures = [_unhex(f) for f in parts[4].split(b",")] if parts[4] != b"-" else []
    return _Report(passed, total, _unhex(parts[3]), failures), ""


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
    """Run ``test_code`` against ``solution_code`` in a sandbox child.

    The tests may use top-level ``assert`` statements, ``check(...)`` calls and
    ``def test_*()`` functions, and the helper ``assert_equal(actual, expected)`` that
    also demands identical types (defeats objects whose ``__eq__`` always returns
    True; plain ``assert a == b`` is hardened the same way for non-built-in types)."""
    return run_unit_tests_detailed(solution_code, test_code, limits)[0]


def run_unit_tests_detailed(
    solution_code: str, test_code: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[TestOutcome, RawRun, bool]:
    """``run_unit_tests`` plus the raw run and whether a signed report came back."""
    secret = secrets.token_hex(32).encode("ascii")
    raw = run(
        HARNESS,
        mode="entry",
        limits=limits,
        files={SOLUTION_FILE: solution_code, TESTS_FILE: test_code},
        args={"solution": SOLUTION_FILE, "tests": TESTS_FILE},
        secret=secret,
        want_report=True,
    )
    report, why = parse_report(raw.report, secret)
    if report is None:
        return TestOutcome(False, 0, 0, _no_report_reason(raw.result, why, limits)), raw, False
    ok = report.total > 0 and report.passed == report.total and not report.error
    if ok:
        outcome = TestOutcome(
            True, report.passed, report.total, f"passed {report.passed}/{report.total} tests"
        )
        return outcome, raw, True
    if report.error:
        reason = report.error
    else:
        reason = f"failed {report.total - report.passed}/{report.total}: " + "; ".join(
            report.failures[:2]
        )
    return TestOutcome(False, report.passed, report.total, reason[:300]), raw, True
