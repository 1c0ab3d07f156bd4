"""Where a new run (or a generation) can start: the project's base models, its default
one, and the checkpoints of its runs, newest first."""

from __future__ import annotations

from typing import Any

from workbench.data.models import default_model, list_models
from workbench.project import Project
from workbench.training.checkpoint_names import checkpoint_label

CHECKPOINTS_LISTED = 200


def start_choices(project: Project) -> dict[str, Any]:
    """The models a run can train and the checkpoints it can continue from (newest first)."""
    models = [(m.id, m.name) for m in list_models(project)]
    default = default_model(project).id if models else None
    rows = project.db.execute(
        "SELECT checkpoints.id, checkpoints.step, runs.id, runs.name, runs.algorithm "
        "FROM checkpoints JOIN runs ON runs.id = checkpoints.run_id "
        "ORDER BY checkpoints.id DESC LIMIT ?",
        [CHECKPOINTS_LISTED],
    ).fetchall()
    checkpoints = [
        (cid, checkpoint_label(cid, step, rid, name, algorithm))
        for cid, step, rid, name, algorithm in rows
    ]
    return {"models": models, "default_model": default, "checkpoints": checkpoints}
