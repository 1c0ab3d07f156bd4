"""Steering a training run by its id from anywhere (the CLI, any window): pause, resume,
stop and save, checkpoint now, cancel, as a control row for the run's job, and whether the
worker has taken it (it does between two steps)."""

from __future__ import annotations

import time

from workbench.jobs import control, worker_registry
from workbench.project import Project
from workbench.training.runs import LIVE, RESUMABLE, get_run

COMMANDS = ("pause", "resume", "stop", "checkpoint", "cancel")


def request_for_run(project: Project, run_id: int, command: str) -> int:
    """Queue `command` for the run's job; returns the control row's id. A run that is not
    live (its worker died, or it ended) refuses with what to do instead."""
    if command not in COMMANDS:
        raise ValueError(f"Unknown run command {command!r}; expected one of {', '.join(COMMANDS)}.")
    worker_registry.reap_dead_workers(project)  # a killed worker's run shows interrupted
    run = get_run(project, run_id)
    if run.status in LIVE and run.job_id is not None:
        return control.request(project, run.job_id, command)
    if command == "resume" and run.status in RESUMABLE:
        raise ValueError(
            f"Run {run_id} is {run.status}; continue it from its last checkpoint with "
            f"`workbench train {project.path} --resume {run_id}` or Resume in the Train view."
        )
    raise ValueError(
        f"Run {run_id} is {run.status}, not running, so there is nothing to {command}."
    )


def acknowledged(project: Project, control_id: int) -> bool:
    row = project.db.execute("SELECT handled_at FROM control WHERE id = ?", [control_id]).fetchone()
    return row is not None and row[0] is not None


def wait_acknowledged(project: Project, control_id: int, timeout_s: float) -> bool:
    """True once the worker has taken the request (before its next step)."""
    deadline = time.monotonic() + timeout_s
    while not acknowledged(project, control_id):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True
