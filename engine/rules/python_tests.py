"""``python_tests``: the code in the completion passes the user's unit tests.

The code is untrusted (a model wrote it), so it runs in the sandbox
(``engine.sandbox.run_unit_tests``): a fresh child with time, memory and process
limits, no network and a root of its own. The app, not the child, decides each
check from the operand values the child sends back as plain data (the expected
literals never leave the app), so code that exits early, fakes output, patches the
harness or returns objects that compare equal to anything earns nothing. The sandbox
is imported only when scoring; a batch runs in parallel through ``run_many``.
"""

from __future__ import annotations

import math

from engine.rules.base import ParamInfo, Rule, RuleParamError, RuleScore, as_item, fail
from engine.rules.extract import fenced_block

_CODE_FENCES = ("python", "py", "python3")


def extract_code(completion: str) -> str:
    """The last ```python fenced block (an unlabelled fence also counts), else the text."""
    block = fenced_block(completion, _CODE_FENCES)
    return block if block is not None else completion


def check_syntax(param: str, code: str, what: str) -> None:
    """RuleParamError for code that does not compile (compiling runs nothing)."""
    try:
        compile(code, f"<{what}>", "exec")
    except SyntaxError as error:
        raise RuleParamError(param, f"syntax error on line {error.lineno}: {error.msg}") from None


class PythonTestsRule(Rule):
    kind = "python_tests"
    title = "Python unit tests"
    description = (
        "Runs the Python code in the completion (the last ```python block, else the whole "
        "text) against your unit tests, in an isolated process with time and memory "
        "limits. Passes when every test passes; with 'partial credit' the score is the "
        "fraction of tests passed. Tests run after the completion's code, in the same "
        "namespace: top-level assert statements, def test_*() functions, unittest "
        "TestCase methods, or calls such as HumanEval's check(candidate) each count as "
        "one test. Every comparison is judged outside the code's process, on plain values "
        "(numbers, strings, lists, dicts...); a test form that cannot be judged fails."
    )
    PARAMS = [
        ParamInfo(
            "tests",
            "text",
            "",
            "The test code, e.g. 'assert add(2, 3) == 5' or a def test_add() function; "
            "each top-level assert, test_* function or check*(...) call counts as one "
            "test. Leave empty when the tests come from each row's reference.",
        ),
        ParamInfo(
            "tests_from_reference",
            "bool",
            False,
            "Use each row's reference as its test code (datasets such as MBPP or "
            "HumanEval ship tests per problem) instead of 'tests'.",
        ),
        ParamInfo(
            "partial_credit",
            "bool",
            False,
            "Score the fraction of tests passed instead of all-or-nothing. Gives RL a "
            "denser signal, but rewards code that is only partly right.",
        ),
        ParamInfo(
            "timeout_s",
            "float",
            5.0,
            "Seconds (wall clock, and CPU) the code and tests may take per completion; "
            "slower runs fail.",
            minimum=0.5,
            maximum=120.0,
        ),
        ParamInfo(
            "memory_mb",
            "int",
            512,
            "Memory limit of the process running the code, in MiB.",
            minimum=64,
            maximum=16384,
        ),
        ParamInfo(
            "disk_mb",
            "int",
            64,
            "Writable space of the process running the code (its folder, /dev/shm), in "
            "MiB; a completion that fills it fails alone, the disk is never touched.",
            minimum=1,
            maximum=4096,
        ),
    ]

    @classmethod
    def check_params(cls, params):
        if not params["tests_from_reference"]:
            if not params["tests"].strip():
                raise RuleParamError("tests", "write test code, or turn on tests_from_reference")
            check_syntax("tests", params["tests"], "tests")
        return params

    def _limits(self):
        from engine.sandbox import Limits

        seconds = self.params["timeout_s"]
        return Limits(
            wall_time_s=seconds,
            cpu_time_s=math.ceil(seconds),
            memory_bytes=self.params["memory_mb"] * 2**20,
            writable_bytes=self.params.get("disk_mb", 64) * 2**20,
        )

    def score(self, completion, reference=None, prompt=None) -> RuleScore:
        return self.score_batch([(completion, reference, prompt)])[0]

    def score_batch(self, items) -> list[RuleScore]:
        results: list[RuleScore | None] = []
        jobs = []
        limits = None
        for item in map(as_item, items):
            tests = item.reference if self.params["tests_from_reference"] else self.params["tests"]
            code = extract_code(item.completion)
            if not tests or not tests.strip():
                results.append(fail("no reference tests"))
            elif not code.strip():
                results.append(fail("no code found"))
            else:
                if limits is None:
                    limits = self._limits()
                jobs.append((code, tests, limits))
                results.append(None)
        if jobs:
            from engine.sandbox import run_many, run_unit_tests

            outcomes = iter(run_many(run_unit_tests, jobs))
            for i, result in enumerate(results):
                if result is None:
                    results[i] = self._to_score(next(outcomes))
        return results  # type: ignore[return-value]

    def _to_score(self, outcome) -> RuleScore:
        if isinstance(outcome, BaseException):  # the sandbox itself failed on this item
            return fail(f"sandbox error: {outcome}")
        done, total = outcome.tests_passed, outcome.tests_total
        count = f"{done}/{total} tests passed"
        if outcome.passed:
            return RuleScore(1.0, True, count)
        value = done / total if self.params["partial_credit"] and total else 0.0
        reason = outcome.reason or count
        if total and f"/{total}" not in reason:  # the sandbox's reason lacks the count
            reason = f"{count}; {reason}"
        return RuleScore(value, False, reason)
