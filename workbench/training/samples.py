"""The completions a run sampled while it trained: the steps that have some, how many
rows it stored, and the samples of one step with their rewards."""

from __future__ import annotations

import json
from typing import Any

from workbench.project import Project


def samples_steps(project: Project, run_id: int) -> list[int]:
    return [
        r[0]
        for r in project.db.execute(
            "SELECT DISTINCT step FROM samples WHERE run_id = ? ORDER BY step", [run_id]
        )
    ]


def sample_rows(project: Project, run_id: int) -> int:
    """How many samples the run stored: an online run adds its eval answers to a step that
    already has sampled completions, so the step list alone misses them."""
    return project.db.execute("SELECT COUNT(*) FROM samples WHERE run_id = ?", [run_id]).fetchone()[
        0
    ]


def samples_at(project: Project, run_id: int, step: int) -> list[dict[str, Any]]:
    rows = project.db.execute(
        "SELECT prompt, completion, rewards, advantage FROM samples WHERE run_id = ? AND step = ? "
        "ORDER BY id",
        [run_id, step],
    ).fetchall()
    return [
        {"prompt": r[0], "completion": r[1], "rewards": json.loads(r[2] or "{}"), "advantage": r[3]}
        for r in rows
    ]
