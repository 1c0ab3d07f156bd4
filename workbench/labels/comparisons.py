"""Preference labels: which completion of a prompt is better, by whom (human, ai, rule).

`completion_ids` is the order the completions were shown in (left first); outcome `a`
means the first one won, `b` the second. A human who disagrees with an automatic label
overrides it: the human label is added and the automatic one points at it through
`superseded_by`, so nothing is lost and datasets use only labels not superseded.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from workbench.db.inserted import inserted_pk
from workbench.project import Project

OUTCOMES = ("a", "b", "tie", "both_bad", "ranking")
SOURCES = ("human", "ai", "rule")


@dataclass
class Comparison:
    id: int
    prompt_id: int
    completion_ids: list[int]
    outcome: str
    ranking: list[int] | None
    source: str
    judge: str | None
    confidence: float | None
    superseded_by: int | None


def _validate(completion_ids: list[int], outcome: str, source: str, ranking) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    if len(completion_ids) < 2 or len(set(completion_ids)) != len(completion_ids):
        raise ValueError("a comparison needs at least two different completions")
    if outcome == "ranking" and sorted(ranking or []) != sorted(completion_ids):
        raise ValueError("a ranking must order exactly the completions shown")
    if outcome not in ("ranking", "both_bad") and len(completion_ids) != 2:
        raise ValueError("only a ranking (or all bad) compares more than two completions")


def add_comparison(
    project: Project,
    prompt_id: int,
    completion_ids: list[int],
    outcome: str,
    source: str,
    *,
    judge: str | None = None,
    confidence: float | None = None,
    seconds: float | None = None,
    note: str | None = None,
    ranking: list[int] | None = None,
) -> int:
    _validate(completion_ids, outcome, source, ranking)
    table = project.db.table("comparisons")
    table.insert(
        {
            "prompt_id": prompt_id,
            "completion_ids": json.dumps(completion_ids),
            "outcome": outcome,
            "ranking": json.dumps(ranking) if ranking is not None else None,
            "source": source,
            "judge": judge,
            "confidence": confidence,
            "seconds": seconds,
            "note": note,
            "created_at": time.time(),
        }
    )
    return inserted_pk(table)


def get_comparison(project: Project, comparison_id: int) -> Comparison:
    rows = list(project.db.query("SELECT * FROM comparisons WHERE id = ?", [comparison_id]))
    if not rows:
        raise KeyError(f"no comparison {comparison_id}")
    return _record(rows[0])


def _record(row: dict) -> Comparison:
    return Comparison(
        id=row["id"],
        prompt_id=row["prompt_id"],
        completion_ids=json.loads(row["completion_ids"]),
        outcome=row["outcome"],
        ranking=json.loads(row["ranking"]) if row["ranking"] else None,
        source=row["source"],
        judge=row["judge"],
        confidence=row["confidence"],
        superseded_by=row["superseded_by"],
    )


def override(
    project: Project,
    comparison_id: int,
    outcome: str,
    note: str | None = None,
    seconds: float | None = None,
    ranking: list[int] | None = None,
) -> int:
    """A human label replacing an automatic one, both kept; returns the new label's id."""
    old = get_comparison(project, comparison_id)
    with project.transaction() as conn:
        new_id = add_comparison(
            project,
            old.prompt_id,
            old.completion_ids,
            outcome,
            "human",
            note=note,
            seconds=seconds,
            ranking=ranking,
        )
        conn.execute(
            "UPDATE comparisons SET superseded_by = ? WHERE id = ?", [new_id, comparison_id]
        )
    return new_id


def active_comparisons(project: Project, source: str | None = None) -> list[Comparison]:
    where, args = "superseded_by IS NULL", []
    if source:
        where, args = where + " AND source = ?", [source]
    rows = project.db.query(f"SELECT * FROM comparisons WHERE {where} ORDER BY id", args)
    return [_record(r) for r in rows]


def labelled_pairs(project: Project, source: str) -> set[frozenset[int]]:
    """Completion pairs that already carry an active label from this source."""
    return {
        frozenset(c.completion_ids)
        for c in active_comparisons(project, source)
        if len(c.completion_ids) == 2
    }
