"""Continuing a run from its last checkpoint with changed settings (``workbench train
PROJECT --resume RUN --set key=value``, or Continue with new settings in the Runs view).

The continuation is a new run: the old one keeps its config, curves and checkpoints as
they were, and the new one's lineage names the checkpoint it continues
(``parent_checkpoint_id``) and the settings it changed (``history.lineage``). It trains
on the old run's dataset snapshot, from the checkpoint's exact state (adapter, optimizer
moments, step, random state), with the new learning rate, clipping, beta and so on
(``TrainingRun._apply_changed_settings``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.project import Project
from workbench.training import runs
from workbench.training.config import RunConfig, apply_override

if TYPE_CHECKING:
    from workbench.training.execution import Plan

# Settings a continuation cannot change: they decide the model, the adapter's shape or
# the data, which the checkpoint and the snapshot fix.
FIXED = (
    "algorithm",
    "model_id",
    "init_checkpoint",
    "lora",
    "sources",
    "min_confidence",
    "labels_since",
    "eval_fraction",
    "prompt_split",
)


def plan_continue(project: Project, run_id: int, assignments: list[str]) -> Plan:
    """The plan of a new run that continues ``run_id``'s last intact checkpoint with the
    ``key=value`` changes; ValueError when the run is live, has no checkpoint, or a
    change is not allowed."""
    # Imported here: the Runs view imports this module to check a continuation.
    from workbench.training.data import load_snapshot
    from workbench.training.execution import Plan, latest_intact_checkpoint, run_folder

    run = runs.get_run(project, run_id)
    if run.status in runs.LIVE:
        raise ValueError(f"Run {run_id} is {run.status}; stop it before continuing it.")
    folder = run_folder(project, run_id)
    checkpoint, step = latest_intact_checkpoint(folder / "checkpoints")
    if checkpoint is None:
        raise ValueError(
            f"Run {run_id} has no checkpoint to continue from (it wrote none before it "
            f"stopped at step {run.step}); start a new run with the changed settings: "
            "workbench train PROJECT --config FILE --set key=value."
        )
    config = changed_config(run.config, assignments, run.name, step)
    # The train job registers a checkpoint a kill left without its row before planning.
    rows = [r["id"] for r in runs.checkpoint_rows(project, run_id) if r["step"] == step]
    return Plan(
        config,
        load_snapshot(folder),
        run.dataset,
        run.dataset_hash or "",
        None,
        checkpoint,
        step,
        continues_checkpoint=rows[-1] if rows else None,
    )


def check_continuation(project: Project, run_id: int, assignments: list[str]) -> None:
    """ValueError naming what is wrong before a continuation is queued (the Runs view):
    a live run, no checkpoint row, a change it cannot make."""
    run = runs.get_run(project, run_id)
    if run.status in runs.LIVE:
        raise ValueError(f"Run {run_id} is {run.status}; stop it before continuing it.")
    rows = runs.checkpoint_rows(project, run_id)
    if not rows:
        raise ValueError(
            f"Run {run_id} has no checkpoint to continue from; start a new run with the "
            "changed settings in the Train view."
        )
    changed_config(run.config, assignments, run.name, rows[-1]["step"])


def changed_config(
    old: dict[str, Any], assignments: list[str], name: str | None, step: int
) -> RunConfig:
    """The run's config with the ``key=value`` changes, checked: ValueError for none, for
    one that the checkpoint fixes, or for max_steps not above the checkpoint's step."""
    if not assignments:
        raise ValueError("Say which settings to change with --set key=value.")
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in old.items()}
    data.pop("name", None)
    for assignment in assignments:
        apply_override(data, assignment)
    changed = sorted(k for k in data.keys() | old.keys() if data.get(k) != old.get(k))
    fixed = [k for k in changed if k in FIXED]
    if fixed:
        raise ValueError(
            f"A continuation cannot change {', '.join(fixed)}: the checkpoint and the dataset "
            "fix them. Start a new run for that."
        )
    data.setdefault("name", f"{name or 'run'} (continued from step {step})")
    config = RunConfig.from_dict(data)
    if config.train.max_steps <= step:
        raise ValueError(
            f"max_steps is {config.train.max_steps}, but the checkpoint is at step {step}; "
            f"set max_steps above {step}."
        )
    return config
