"""Scoring completions with the project's rules, and what the scores add up to."""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

from engine.rules.reward import RewardBatch, make_reward_fn
from engine.rules.spec import RuleSpec
from workbench.project import Project


def score_rows(
    specs: list[RuleSpec],
    rows: Sequence[dict[str, Any]],
    count_tokens: Callable[[str], int] | None = None,
) -> RewardBatch:
    """Rows carry `prompt`, `text` (the completion) and `reference`."""
    reward_fn = make_reward_fn(specs, count_tokens=count_tokens)
    return reward_fn(
        [row["prompt"] for row in rows],
        [row["text"] for row in rows],
        [row.get("reference") for row in rows],
    )


def store_scores(
    project: Project,
    completion_ids: Sequence[int],
    batch: RewardBatch,
    evaluation_id: int | None = None,
    conn: sqlite3.Connection | None = None,
) -> None:
    """Store each rule's score of each completion; inside `conn`'s open transaction when
    given (so that completions and their scores land together), else in one of its own."""
    now = time.time()
    records = [
        {
            "completion_id": completion_id,
            "evaluation_id": evaluation_id,
            "rule": rule,
            "score": batch.per_rule[rule][i],
            "passed": int(batch.passed[rule][i]),
            "reason": batch.reasons[rule][i],
            "created_at": now,
        }
        for rule in batch.per_rule
        for i, completion_id in enumerate(completion_ids)
    ]
    if conn is not None:
        conn.executemany(
            "INSERT INTO completion_scores (completion_id, evaluation_id, rule, score, passed, "
            "reason, created_at) VALUES (:completion_id, :evaluation_id, :rule, :score, "
            ":passed, :reason, :created_at)",
            records,
        )
        return
    with project.transaction():
        project.db.table("completion_scores").insert_all(records)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def summarize(batch: RewardBatch, num_tokens: Sequence[int] | None = None) -> dict[str, Any]:
    """Pass rate and mean score per rule, mean total reward; the figures `eval` prints."""
    summary: dict[str, Any] = {
        "count": len(batch.total),
        "mean_reward": _mean(batch.total),
        "pass_rate": {
            rule: _mean([float(p) for p in passed]) for rule, passed in batch.passed.items()
        },
        "mean_score": {rule: _mean(scores) for rule, scores in batch.per_rule.items()},
    }
    if num_tokens:
        summary["mean_length_tokens"] = _mean([float(n) for n in num_tokens])
    return summary
