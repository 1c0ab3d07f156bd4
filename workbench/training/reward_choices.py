"""What an online run can be rewarded by: the project's rules (and which are enabled),
the checkpoints of its reward-model runs, its stored judges, and the prompts of each
split (how many, and how long the longest is)."""

from __future__ import annotations

from typing import Any

from workbench.data.prompts import split_counts
from workbench.judging.store import list_judges
from workbench.project import Project
from workbench.rules.store import list_rules


def reward_choices(project: Project) -> dict[str, Any]:
    """{"rules": [(name, enabled)], "reward_models": [(checkpoint id, label)] newest first,
    "judges": [name], "splits": {split: prompts}, "longest_prompt": {split: bytes}}."""
    return {
        "rules": [(spec.name, spec.enabled) for _, spec in list_rules(project)],
        "reward_models": reward_model_checkpoints(project),
        "judges": [judge.name for judge in list_judges(project)],
        "splits": split_counts(project),
        "longest_prompt": longest_prompts(project),
    }


def reward_model_checkpoints(project: Project) -> list[tuple[int, str]]:
    """Checkpoints of runs that trained a reward model (algorithm "reward"), each named
    with the model it was trained on: a reward model may sit on another base than the
    policy (a verifier)."""
    rows = project.db.execute(
        "SELECT checkpoints.id, checkpoints.step, runs.id, runs.name, models.name FROM checkpoints "
        "JOIN runs ON runs.id = checkpoints.run_id LEFT JOIN models ON models.id = runs.model_id "
        "WHERE runs.algorithm = 'reward' ORDER BY checkpoints.id DESC LIMIT 200"
    ).fetchall()
    return [
        (
            cid,
            f"#{cid}: run {rid} {name or 'reward model'}, step {step}"
            + (f" (on {base})" if base else ""),
        )
        for cid, step, rid, name, base in rows
    ]


def longest_prompts(project: Project) -> dict[str, int]:
    """The UTF-8 size of each split's longest prompt: a byte-level tokenizer never makes
    more tokens than bytes, so the memory estimate can bound a prompt without loading one."""
    rows = project.db.execute(
        "SELECT split, MAX(max(length(CAST(COALESCE(text, '') AS BLOB)), "
        "length(CAST(COALESCE(messages, '') AS BLOB)))) FROM prompts GROUP BY split"
    ).fetchall()
    return {split: int(size or 0) for split, size in rows}
