"""math_equivalent, run_reward_function and run_many."""

from __future__ import annotations

import os
import threading
import time

import pytest

from engine.sandbox import (
    Limits,
    math_check,
    math_equivalent,
    process,
    run_many,
    run_python,
    run_reward_function,
)


def test_math_equivalent_answers():
    pairs = [
        ("1/2", "0.5"),
        ("42", "42.0"),
        ("\\frac{1}{3}", "0.33"),
        ("7", "the answer is banana"),
        ("1", "$9^{9^{9^{9}}}$"),  # math-verify's own SIGALRM timeout fires in the child
        ("$x^2$", "$x \\cdot x$"),
    ]
    results = math_equivalent(pairs, timeout_s=1)
    assert results[0] == (True, "equivalent")
    assert results[1] == (True, "equivalent")
    assert results[2] == (False, "not equivalent")
    assert results[3][0] in (None, False)
    assert results[4] == (None, "timed out")
    assert results[5][0] is True


FAKE_CHILD = """
import json, os


def main(args):
    with open(args["items"]) as f:
        items = json.load(f)
    os.write(args["report_fd"], b'{"ready": true}\\n')
    for index, gold, answer in items:
        if gold == "HANG":
            while True:  # like a C-level computation that SIGALRM cannot interrupt
                pass
        line = {"i": index, "v": gold == answer, "r": "fake"}
        os.write(args["report_fd"], (json.dumps(line) + "\\n").encode())
"""


def test_math_batch_with_a_stuck_item_still_answers_the_others(tmp_path, monkeypatch):
    child = tmp_path / "fake_math_child.py"
    child.write_text(FAKE_CHILD)
    monkeypatch.setattr(math_check, "MATH_CHILD", child)
    started = time.monotonic()
    results = math_equivalent([("1", "1"), ("HANG", "x"), ("2", "3"), ("4", "4")], timeout_s=0.1)
    assert results == [(True, "fake"), (None, "timed out"), (False, "fake"), (True, "fake")]
    assert time.monotonic() - started < 15


def test_math_equivalent_empty():
    assert math_equivalent([]) == []


REWARD = """
import math


def reward(prompt, completion, reference):
    if completion == "raise":
        raise ValueError("boom")
    if completion == "nan":
        return math.nan
    if completion == "text":
        return "yes"
    if completion == "loop":
        while True:
            pass
    return float(completion == reference), "exact match" if completion == reference else "differs"
"""


def test_reward_function(tmp_path):
    source = tmp_path / "my_reward.py"
    source.write_text(REWARD)
    completions = ["a", "b", "raise", "nan", "text", "loop", "a"]
    items = [{"prompt": "p", "completion": c, "reference": "a"} for c in completions]
    results = run_reward_function(source, "reward", items, Limits(wall_time_s=2))
    assert results[0] == (1.0, "exact match")
    assert results[1] == (0.0, "differs")
    assert results[2] == (None, "raised ValueError: boom")
    assert results[3][0] is None and "nan" in results[3][1]
    assert results[4][0] is None and "str" in results[4][1]
    assert results[5] == (None, "timed out after 2 s")
    assert results[6][0] is None and results[6][1].startswith("not run")


def test_reward_function_missing_or_broken(tmp_path):
    source = tmp_path / "broken.py"
    source.write_text("def reward(:\n")
    item = {"prompt": "p", "completion": "c", "reference": "r"}
    [(score, reason)] = run_reward_function(source, "reward", [item])
    assert score is None and "SyntaxError" in reason
    source.write_text("x = 1\n")
    assert run_reward_function(source, "reward", [item])[0][0] is None


def test_run_many_runs_children_concurrently_but_at_most_cpu_count():
    process.reset_peak()
    code = "import time\nt = time.process_time() + 0.3\nwhile time.process_time() < t:\n    pass\nprint('done')\n"
    jobs = [(code,)] * 6
    results = run_many(run_python, jobs, max_workers=8)
    assert [r.stdout for r in results] == ["done\n"] * 6
    _, peak = process.concurrency()
    cpus = os.cpu_count() or 1
    assert peak <= cpus
    if cpus >= 2:
        assert peak >= 2


def test_run_many_keeps_order_and_reraises():
    assert run_many(lambda x, y: x * y, [(1, 2), (3, 4), (5, 6)]) == [2, 12, 30]

    def boom(x):
        raise RuntimeError(x)

    with pytest.raises(RuntimeError):
        run_many(boom, [(1,), (2,)])


def test_math_check_works_from_a_worker_thread():
    """The pitfall: math-verify's SIGALRM timeout is off outside a main thread. Here
    the caller is a worker thread; the check still times out (it runs in a child)."""
    box = []
    thread = threading.Thread(target=lambda: box.append(math_equivalent([("1", "$9^{9^{9}}$")], 1)))
    thread.start()
    thread.join(60)
    assert box == [[(None, "timed out")]]
