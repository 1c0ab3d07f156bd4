"""Rater consistency: a small share of pairs a human already labelled is shown again with
the sides swapped, and the answer is compared with the first one.

Answers go to `consistency_checks`, never to `comparisons`: a second label of the same
pair would be counted twice in training.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from workbench.db.inserted import inserted_pk
from workbench.labels.comparisons import get_comparison
from workbench.project import Project

SHARE_SETTING = "label_recheck_share"
DEFAULT_SHARE = 0.05
PAIR_OUTCOMES = ("a", "b", "tie", "both_bad")


@dataclass(frozen=True)
class Agreement:
    agreed: int
    total: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.agreed / self.total if self.total else None


def recheck_share(project: Project) -> float:
    return float(project.setting(SHARE_SETTING, DEFAULT_SHARE))


def set_recheck_share(project: Project, share: float) -> float:
    if not 0.0 <= share <= 1.0:
        raise ValueError(
            f"the share of pairs shown again must be between 0 and 100%, not {share:.0%}"
        )
    project.set_setting(SHARE_SETTING, share)
    return share


def verdict(ids: list[int], outcome: str) -> int | str:
    """What a pair label says, whatever the side order: the winner's id, or tie / both_bad."""
    if outcome == "a":
        return ids[0]
    if outcome == "b":
        return ids[1]
    return outcome


def eligible(project: Project, in_scope: set[int], exclude: set[int]) -> list[int]:
    """Active human pair labels whose completions are both in scope, not in `exclude`."""
    rows = project.db.execute(
        "SELECT id, completion_ids FROM comparisons WHERE source = 'human' "
        "AND superseded_by IS NULL AND outcome IN ('a', 'b', 'tie', 'both_bad') ORDER BY id"
    ).fetchall()
    return [
        comparison_id
        for comparison_id, ids in rows
        if comparison_id not in exclude and set(json.loads(ids)) <= in_scope
    ]


def record_check(
    project: Project,
    comparison_id: int,
    shown: list[int],
    outcome: str,
    seconds: float | None = None,
    note: str | None = None,
) -> tuple[int, bool]:
    """Store the answer to a re-shown pair; returns its id and whether it agrees."""
    if outcome not in PAIR_OUTCOMES:
        raise ValueError(
            f"a pair's answer must be one of {', '.join(PAIR_OUTCOMES)}, not {outcome!r}"
        )
    original = get_comparison(project, comparison_id)
    if sorted(shown) != sorted(original.completion_ids):
        raise ValueError(f"label {comparison_id} did not compare completions {shown}")
    agrees = verdict(shown, outcome) == verdict(original.completion_ids, original.outcome)
    table = project.db.table("consistency_checks")
    table.insert(
        {
            "comparison_id": comparison_id,
            "outcome_as_shown": outcome,
            "completion_ids": json.dumps(shown),
            "agrees": int(agrees),
            "seconds": seconds,
            "note": note,
            "created_at": time.time(),
        }
    )
    return inserted_pk(table), agrees


def delete_check(project: Project, check_id: int) -> None:
    project.db.execute("DELETE FROM consistency_checks WHERE id = ?", [check_id])


def agreement(project: Project) -> Agreement:
    """How often the rater's second answer matched their first, over all re-shown pairs
    whose first label is still active."""
    agreed, total = project.db.execute(
        "SELECT COALESCE(SUM(k.agrees), 0), COUNT(*) FROM consistency_checks k "
        "JOIN comparisons c ON c.id = k.comparison_id WHERE c.superseded_by IS NULL"
    ).fetchone()
    return Agreement(int(agreed), int(total))
