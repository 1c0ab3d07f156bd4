"""python_tests and python_function, run in the real sandbox."""

from __future__ import annotations

import time

import pytest

from engine.rules import RuleSpec, make_reward_fn
from engine.rules.python_tests import extract_code
from tests.engine.rules.conftest import build

TESTS = (
    "def test_small():\n    assert add(1, 2) == 3\n\ndef test_zero():\n    assert add(0, 0) == 0\n"
)

CODE_TABLE = [
    # completion, params, score, passed, reason fragment
    ("def add(a, b):\n    return a + b\n", {}, 1.0, True, "2/2 tests passed"),
    (
        "Here:\n```python\ndef add(a, b):\n    return a + b\n```\nDone.",
        {},
        1.0,
        True,
        "2/2 tests passed",
    ),
    ("def add(a, b):\n    return a * b\n", {}, 0.0, False, "test_small"),
    ("def add(a, b):\n    return a * b\n", {"partial_credit": True}, 0.5, False, "1/2"),
    ("def add(a, b) return a + b", {}, 0.0, False, "does not compile"),
    ("def add(a, b) return a + b", {"partial_credit": True}, 0.0, False, "does not compile"),
    # Exiting "successfully" before the tests run earns nothing.
    ("import sys\nsys.exit(0)\n", {}, 0.0, False, "SystemExit"),
    ("import os\nos._exit(0)\n", {}, 0.0, False, "before the harness reported"),
    ("def add(a, b):\n    import os\n    os._exit(0)\n", {}, 0.0, False, "harness reported"),
    ("no code at all, sorry", {}, 0.0, False, "compile"),
    ("   ", {}, 0.0, False, "no code found"),
]


@pytest.mark.parametrize("completion, params, value, passed, reason", CODE_TABLE)
def test_python_tests(sandbox_ready, completion, params, value, passed, reason):
    result = build("python_tests", tests=TESTS, **params).score(completion)
    assert result.score == pytest.approx(value), result
    assert result.passed is passed
    assert reason in result.reason


def test_python_tests_timeout_and_batch_order(sandbox_ready):
    rule = build("python_tests", tests=TESTS, timeout_s=2.0)
    good, bad = "def add(a, b):\n    return a + b\n", "def add(a, b):\n    return 0\n"
    start = time.monotonic()
    results = rule.score_batch([(good,), ("while True:\n    pass\n",), (bad,), (good,)])
    assert time.monotonic() - start < 30
    assert [r.passed for r in results] == [True, False, False, True]
    assert "timed out" in results[1].reason or "CPU" in results[1].reason


def test_python_tests_from_reference(sandbox_ready):
    rule = build("python_tests", tests_from_reference=True)
    code = "```python\ndef double(x):\n    return 2 * x\n```"
    assert rule.score(code, "assert double(4) == 8\nassert double(0) == 0").reason == (
        "2/2 tests passed"
    )
    assert not rule.score(code, "assert double(4) == 9").passed
    assert rule.score(code, None).reason == "no reference tests"


@pytest.mark.parametrize(
    "completion, code",
    [
        ("def f(): pass", "def f(): pass"),
        ("x\n```python\na = 1\n```\ny\n```python\nb = 2\n```\n", "b = 2\n"),
        ("```py\nc = 3\n```", "c = 3\n"),
        ("```\nd = 4\n```", "d = 4\n"),
        ("```bash\nls\n```\n```python\ne = 5\n```", "e = 5\n"),
    ],
)
def test_extract_code(completion, code):
    assert extract_code(completion) == code


REWARD_FILE = """
def reward(prompt, completion, reference):
    return 1.0 if completion.strip() == reference else 0.25

def scaled(prompt, completion, reference):
    return len(completion)

def broken(prompt, completion, reference):
    raise ValueError("bad input")

def nothing(prompt, completion, reference):
    return None

def slow(prompt, completion, reference):
    while True:
        pass

def picky(prompt, completion, reference):
    while completion == "stall":
        pass
    return 1.0
"""


@pytest.fixture
def reward_file(tmp_path):
    path = tmp_path / "my_reward.py"
    path.write_text(REWARD_FILE)
    return path


FUNCTION_TABLE = [
    # function, completion, reference, score, passed, reason fragment
    ("reward", "42", "42", 1.0, True, ""),
    ("reward", "41", "42", 0.25, False, ""),
    ("scaled", "abc", None, 1.0, True, "clipped to 1"),
    ("scaled", "", None, 0.0, False, ""),
    ("broken", "x", None, 0.0, False, "bad input"),
    ("nothing", "x", None, 0.0, False, ""),
]


@pytest.mark.parametrize("function, completion, reference, value, passed, reason", FUNCTION_TABLE)
def test_python_function(
    sandbox_ready, reward_file, function, completion, reference, value, passed, reason
):
    rule = build("python_function", path=str(reward_file), function=function)
    result = rule.score(completion, reference)
    assert result.score == pytest.approx(value), result
    assert result.passed is passed
    assert reason in result.reason and result.reason


def test_python_function_timeout_and_threshold(sandbox_ready, reward_file):
    slow = build("python_function", path=str(reward_file), function="slow", timeout_s=1.0)
    start = time.monotonic()
    assert slow.score("x").score == 0.0
    assert time.monotonic() - start < 30
    strict = build("python_function", path=str(reward_file), pass_threshold=0.2)
    assert strict.score("41", "42").passed  # 0.25 >= 0.2


def test_python_function_one_slow_call_costs_only_its_own_score(sandbox_ready, reward_file):
    rule = build("python_function", path=str(reward_file), function="picky", timeout_s=0.5)
    results = rule.score_batch([("a",), ("stall",), ("b",), ("c",)])
    assert [r.score for r in results] == [1.0, 0.0, 1.0, 1.0]
    assert "timed out" in results[1].reason


def test_python_function_stops_waiting_when_every_call_hangs(
    sandbox_ready, reward_file, monkeypatch
):
    """A function that times out on everything (say, a loop at the top of its file)
    must not cost a timeout per completion: after 3 stops the batch is skipped."""
    calls = []

    def hanging(path, function, items, limits):
        calls.append(len(items))
        return [(None, "timed out after 1 s")] + [(None, "not run: item 0 timed out")] * (
            len(items) - 1
        )

    monkeypatch.setattr(sandbox_ready, "run_reward_function", hanging)
    results = build("python_function", path=str(reward_file)).score_batch([("x",)] * 40)
    assert [r.score for r in results] == [0.0] * 40
    assert len(calls) <= 3 + 16  # 3 stops, plus rounds already running on other threads
    assert sum(r.reason.startswith("skipped") for r in results) >= 40 - len(calls)


def test_reward_fn_with_sandboxed_kinds(sandbox_ready, reward_file):
    specs = [
        RuleSpec("tests", "python_tests", {"tests": TESTS}, weight=2.0),
        RuleSpec("mine", "python_function", {"path": str(reward_file)}, weight=1.0),
        RuleSpec("math", "math", {}, weight=1.0),
    ]
    reward = make_reward_fn(specs)
    good = "def add(a, b):\n    return a + b\n"
    batch = reward(
        ["p", "p", "p"],
        [good, "def add(a, b):\n    return 0\n", "0.5"],
        [good.strip(), "1/2", "1/2"],
    )
    assert batch.per_rule["tests"] == [1.0, 0.0, 0.0]
    assert batch.per_rule["mine"] == [1.0, 0.25, 0.25]
    assert batch.per_rule["math"] == [0.0, 0.0, 1.0]
    assert batch.total == pytest.approx([3.0, 0.25, 1.25])
