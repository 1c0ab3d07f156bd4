"""Worker lanes: training runs in one worker, short interactive jobs (candidates, the
playground, a judge, a rules dry run, an evaluation, a comparison) in another beside it,
so the window stays useful while a run trains (docs/architecture.md, "Processes")."""

from __future__ import annotations

TRAINING = "training"
INTERACTIVE = "interactive"
ANY = "any"  # a worker started by hand (`workbench worker`) takes every kind
LANES = (TRAINING, INTERACTIVE, ANY)

TRAINING_KINDS = frozenset({"train"})

# Project settings (Project.setting): seconds a window-started worker waits with nothing to
# do before it exits; whether two training runs may share one machine's device.
IDLE_EXIT_SETTING = "worker_idle_exit_s"
DEFAULT_IDLE_EXIT_S = 600.0
PARALLEL_TRAINING_SETTING = "allow_parallel_training"


def lane_of(kind: str) -> str:
    return TRAINING if kind in TRAINING_KINDS else INTERACTIVE


def serves(worker_lane: str, kind: str) -> bool:
    return worker_lane == ANY or worker_lane == lane_of(kind)


def kinds_sql(lane: str) -> tuple[str, list[str]]:
    """A WHERE fragment on jobs.kind for the jobs a worker of `lane` may claim."""
    if lane == ANY:
        return "1", []
    marks = ",".join("?" * len(TRAINING_KINDS))
    negate = "" if lane == TRAINING else "NOT "
    return f"kind {negate}IN ({marks})", sorted(TRAINING_KINDS)
