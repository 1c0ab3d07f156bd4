"""Math equivalence with math-verify, in sandbox children.

math-verify's timeouts use SIGALRM, which only works in a main thread (docs/architecture.md,
"Pitfalls"); the trainer calls rules from worker threads, so math-verify runs in a
child process's main thread instead. One child per batch reports each item as soon as
it is decided; if the child dies, or an item makes no progress within its budget
(something SIGALRM cannot interrupt, such as a long C-level big-integer operation),
the child is killed, the item in progress is retried alone in a fresh child (and, if
that fails too, scores None with the reason), and the items after it go on in
another fresh batch child."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .limits import Limits
from .pool import run_many
from .process import RawRun, run, verifier_sys_path

MATH_CHILD = Path(__file__).with_name("math_child.py")
STARTUP_S = 30.0  # importing math-verify and sympy on a busy machine
MEMORY_BYTES = 2 * 2**30


def _item_budget(timeout_s: float) -> float:
    """Parse gold, parse answer, verify: each may use the timeout; plus a margin."""
    return 3 * timeout_s + 1.0


def _run_batch(batch: list[tuple[int, str, str]], timeout_s: float) -> tuple[dict, str]:
    """Run one child on ``batch``; returns {index: (value, reason)} for the items it
    decided, and why it stopped early ("" when it did not)."""
    budget = _item_budget(timeout_s)
    wall = STARTUP_S + budget * len(batch)
    limits = Limits(
        wall_time_s=wall,
        cpu_time_s=math.ceil(wall) + 1,
        memory_bytes=MEMORY_BYTES,
        output_bytes=16 * 2**10,
    )
    raw: RawRun = run(
        MATH_CHILD,
        mode="entry",
        limits=limits,
        files={"items.json": json.dumps([list(item) for item in batch])},
        args={"items": "items.json", "timeout": max(1, math.ceil(timeout_s))},
        want_report=True,
        sys_path=verifier_sys_path(),
        stall_timeout_s=budget,
        first_stall_timeout_s=STARTUP_S,
    )
    decided, ready = {}, False
    for line in raw.report.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("ready"):
            ready = True
        elif "i" in msg:
            value = msg.get("v")
            decided[int(msg["i"])] = (value if value is None else bool(value), str(msg.get("r")))
    result = raw.result
    if len(decided) == len(batch):
        return decided, ""
    if result.timed_out:
        why = "timed out" if ready else "math-verify did not start in time"
    elif result.killed_by:
        why = f"verifier killed ({result.killed_by})"
    else:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        why = f"verifier crashed: {tail[:150]}"
    return decided, why


def math_equivalent(
    pairs: list[tuple[str, str]], timeout_s: float = 5.0
) -> list[tuple[bool | None, str]]:
    """``verify(parse(gold), parse(answer))`` for each (gold, answer) pair, gold first.

    Returns (True/False, reason) per pair, or (None, reason) when a side cannot be
    parsed, math-verify times out, or the verifier child fails on that item."""
    results: dict[int, tuple[bool | None, str]] = {}
    items = [(i, str(g), str(a)) for i, (g, a) in enumerate(pairs)]
    batches = [items] if items else []
    while batches:
        outcomes = run_many(_run_batch, [(b, timeout_s) for b in batches])
        next_round = []
        for batch, (decided, why) in zip(batches, outcomes, strict=True):
            results.update(decided)
            left = [item for item in batch if item[0] not in decided]
            if not left:
                continue
            if len(batch) == 1:
                results[left[0][0]] = (None, why or "verifier gave no answer")
                continue
            next_round.append(left[:1])  # the item in progress, alone
            if left[1:]:
                next_round.append(left[1:])
        batches = next_round
    return [results[i] for i in range(len(items))]
