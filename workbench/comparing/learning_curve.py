"""Each run's pass rate by checkpoint step: the learning curve by checkpoint, read from the
stored evaluations (`workbench eval` and every comparison's entrants write one each).

Only evaluations of the same prompts are put on one curve: the same split and number of
prompts (a split's first N prompts), greedy. Of several evaluations of one checkpoint the
newest counts. A run's curve starts at step 0 with the model it started from (its base
model, or the checkpoint it continued) when that was evaluated on the same prompts.
"""

from __future__ import annotations

import json
from typing import Any

from workbench.project import Project


def _is_greedy(sampling: str) -> bool:
    settings = json.loads(sampling or "{}")
    return not settings.get("do_sample", False)


def _latest(project: Project, split: str | None, num_prompts: int) -> dict[Any, dict]:
    """{(model id, checkpoint id): the newest greedy summary} on these prompts."""
    rows = project.db.execute(
        "SELECT model_id, checkpoint_id, sampling, summary FROM evaluations "
        "WHERE split IS ? AND num_prompts = ? AND summary != '{}' ORDER BY id",
        [split, num_prompts],
    ).fetchall()
    latest: dict[Any, dict] = {}
    for model_id, checkpoint_id, sampling, summary in rows:
        if _is_greedy(sampling):
            latest[(model_id, checkpoint_id)] = json.loads(summary)
    return latest


def pass_rate_by_step(project: Project, split: str | None, num_prompts: int) -> dict[str, Any]:
    """{"rules": [...], "runs": [{"run_id", "name", "points": [{"step", "pass_rate"}]}]},
    each run's points by step; runs with no evaluated checkpoint are left out."""
    latest = _latest(project, split, num_prompts)
    rows = project.db.execute(
        "SELECT r.id, r.name, r.algorithm, r.model_id, r.parent_checkpoint_id, c.id, c.step "
        "FROM checkpoints c JOIN runs r ON r.id = c.run_id ORDER BY r.id, c.step"
    ).fetchall()
    runs: dict[int, dict[str, Any]] = {}
    rules: dict[str, None] = {}
    for run_id, name, algorithm, model_id, parent, checkpoint_id, step in rows:
        summary = next((s for (_, c), s in latest.items() if c == checkpoint_id), None)
        if summary is None:
            continue
        run = runs.setdefault(
            run_id,
            {"run_id": run_id, "name": name or f"run {run_id} ({algorithm})", "points": []},
        )
        if not run["points"]:
            start = latest.get((model_id, None)) if parent is None else None
            if parent is not None:
                start = next((s for (_, c), s in latest.items() if c == parent), None)
            if start is not None:
                run["points"].append({"step": 0, "pass_rate": start.get("pass_rate", {})})
        run["points"].append({"step": step, "pass_rate": summary.get("pass_rate", {})})
        rules.update(dict.fromkeys(summary.get("pass_rate", {})))
    return {"rules": list(rules), "runs": list(runs.values())}
