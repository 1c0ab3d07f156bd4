"""A user's own Python reward function, run in a sandbox child.

The file is copied into the child's private work directory and loaded there (so it
cannot import modules that lived next to it); the app's site-packages are importable.
``Limits.wall_time_s`` bounds the whole batch."""

from __future__ import annotations

import json
from pathlib import Path

from .limits import DEFAULT_LIMITS, Limits
from .process import run, verifier_sys_path

REWARD_CHILD = Path(__file__).with_name("reward_child.py")


def run_reward_function(
    source_path: Path, function_name: str, items: list[dict], limits: Limits = DEFAULT_LIMITS
) -> list[tuple[float | None, str]]:
    """Call ``function_name(prompt, completion, reference)`` from ``source_path`` for
    each item ({"prompt", "completion", "reference"}). The function returns a float or
    (float, reason). Returns (score, reason) per item; the score is None, with the
    reason, when the call raised, returned NaN/inf or a non-number, or the child
    crashed or timed out before reaching the item."""
    if not items:
        return []
    source = Path(source_path).read_text(encoding="utf-8")
    payload = [{k: item.get(k) for k in ("prompt", "completion", "reference")} for item in items]
    raw = run(
        REWARD_CHILD,
        mode="entry",
        limits=limits,
        files={"reward_fn.py": source, "items.json": json.dumps(payload)},
        args={"source": "reward_fn.py", "function": function_name, "items": "items.json"},
        want_report=True,
        sys_path=verifier_sys_path(),
    )
    results: dict[int, tuple[float | None, str]] = {}
    for line in raw.report.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "fatal" in msg:
            return [(None, str(msg["fatal"]))] * len(items)
        if "i" in msg:
            value = msg.get("v")
            results[int(msg["i"])] = (None if value is None else float(value), str(msg.get("r")))
    if len(results) < len(items):
        result = raw.result
        if result.timed_out:
            why = f"timed out after {limits.wall_time_s:g} s"
        elif result.killed_by:
            why = f"killed ({result.killed_by})"
        else:
            tail = (result.stderr.strip().splitlines() or [f"exit code {result.exit_code}"])[-1]
            why = f"crashed: {tail[:150]}"
        first = min(i for i in range(len(items)) if i not in results)
        results[first] = (None, why)
        for i in range(first + 1, len(items)):
            results.setdefault(i, (None, f"not run: item {first} {why}"))
    return [results[i] for i in range(len(items))]
