"""One sentence about each engine worker lane, from two sources: the process this window
started or attached to (if any) and the `workers` rows the poller reads (which also show a
worker started from the command line or by another window); and one for both lanes."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ui.poller import WorkerRow
from workbench.jobs.lanes import ANY
from workbench.jobs.worker_registry import STALE_AFTER_S


@dataclass(frozen=True)
class WorkerStatus:
    state: (
        str  # not_started | starting | idle | busy | not_responding | stopping | stopped | crashed
    )
    text: str
    job_id: int | None = None
    device: str | None = None
    loaded_model: str | None = None
    external: bool = False  # a worker this window did not start


def describe(
    process: str, pid: int | None, exit_note: str, rows: list[WorkerRow], dead_pids: set[int]
) -> WorkerStatus:
    """`process` is the WorkerLink state: none, starting, running, stopping, stopped, crashed."""
    ours = process in ("starting", "running", "stopping")
    if ours:
        row = next((r for r in rows if r.pid == pid), None)
    else:
        row = next((r for r in rows if r.alive and r.pid not in dead_pids), None)
    if process == "stopping":
        return WorkerStatus("stopping", "stopping…")
    if row is not None and row.alive:
        extra = {"device": row.device, "loaded_model": row.loaded_model, "external": not ours}
        where = f" on {row.device}" if row.device else ""
        if row.status == "busy" and row.current_job_id is not None:
            return WorkerStatus(
                "busy", f"busy with job {row.current_job_id}{where}", row.current_job_id, **extra
            )
        return WorkerStatus("idle", f"idle{where}", **extra)
    if ours and row is not None:
        return WorkerStatus(
            "not_responding", f"not responding (no heartbeat for {STALE_AFTER_S:.0f} s)"
        )
    if ours:
        return WorkerStatus("starting", "starting…")
    if process == "crashed":
        return WorkerStatus("crashed", f"crashed ({exit_note})" if exit_note else "crashed")
    if process == "stopped":
        return WorkerStatus("stopped", "stopped")
    return WorkerStatus("not_started", "not started")


def waiting_message(status: WorkerStatus) -> tuple[str, bool]:
    """What a view says while its job waits for the worker; True when it is a problem."""
    if status.state in ("starting", "not_started", "stopped"):
        return "Starting the worker; loading the engine takes a few seconds…", False
    if status.state == "crashed":
        return "The worker crashed before it took the job: restart it from the banner.", True
    return f"Waiting for the worker ({status.text})…", False


def lane_rows(rows: list[WorkerRow], lane: str) -> list[WorkerRow]:
    """The worker rows that serve `lane`: its own, and workers started for any job."""
    return [r for r in rows if r.lane in (lane, ANY)]


def combine(training: WorkerStatus, interactive: WorkerStatus) -> WorkerStatus:
    """The status bar's sentence: which lane runs what."""
    if training.state == "not_started":
        return interactive
    if interactive.state == "not_started" and training.state != "crashed":
        return replace(training, text=f"training {training.text}")
    text = f"training {training.text} · interactive {interactive.text}"
    state = next(
        (
            s
            for s in ("crashed", "not_responding", "busy")
            if s in (training.state, interactive.state)
        ),
        interactive.state,
    )
    return replace(interactive, state=state, text=text)
