"""What a run stopped by NaN says about continuing: the command that continues it from its
last checkpoint with changed settings (workbench/training/continuation.py), or that there
is no checkpoint to continue from."""

from __future__ import annotations

import shlex

from engine.training.hooks import NonFiniteError
from workbench.project import Project
from workbench.training import runs


def continue_hint(exc: NonFiniteError, project: Project, run_id: int) -> NonFiniteError:
    """``exc`` with the way to continue added to its hint."""
    run = runs.get_run(project, run_id)
    lr = float((run.config or {}).get("learning_rate") or 0)
    if runs.checkpoint_rows(project, run_id):
        setting = f"learning_rate={lr / 4:g}" if lr else "learning_rate=..."
        how = (
            f"Continue with: workbench train {shlex.quote(str(project.path))} --resume {run_id} "
            f"--set {setting} (or Continue with new settings in the Runs view)."
        )
    else:
        how = "Run again with: workbench train PROJECT --config FILE --set learning_rate=..."
    return NonFiniteError(exc.message, f"{exc.hint} {how}" if exc.hint else how)
