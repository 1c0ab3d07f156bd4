"""Jobs: the queue between whoever asks for engine work (GUI, CLI) and the worker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.db.inserted import inserted_pk
from workbench.jobs import lanes
from workbench.project import Project

ACTIVE = ("queued", "running")
# interrupted: its worker died mid-job (killed, crashed); a training run of it can resume.
FINISHED = ("done", "failed", "cancelled", "interrupted")


@dataclass
class Job:
    id: int
    kind: str
    params: dict[str, Any]
    status: str
    progress_done: int
    progress_total: int
    message: str | None
    result: Any
    error: str | None
    traceback: str | None

    @classmethod
    def from_row(cls, row: dict) -> Job:
        return cls(
            id=row["id"],
            kind=row["kind"],
            params=json.loads(row["params"] or "{}"),
            status=row["status"],
            progress_done=row["progress_done"],
            progress_total=row["progress_total"],
            message=row["message"],
            result=json.loads(row["result"]) if row["result"] else None,
            error=row["error"],
            traceback=row["traceback"],
        )


def _insert(project: Project, kind: str, params: dict[str, Any], **fields) -> int:
    table = project.db.table("jobs")
    table.insert({"kind": kind, "params": json.dumps(params), "created_at": time.time(), **fields})
    return inserted_pk(table)


def submit(project: Project, kind: str, params: dict[str, Any], priority: int = 0) -> int:
    return _insert(project, kind, params, status="queued", priority=priority)


def get(project: Project, job_id: int) -> Job:
    rows = list(project.db.query("SELECT * FROM jobs WHERE id = ?", [job_id]))
    if not rows:
        raise KeyError(f"no job {job_id}")
    return Job.from_row(rows[0])


def claim_next(
    project: Project,
    worker_id: int,
    lane: str = lanes.ANY,
    admit: Callable[[str, dict[str, Any]], str | None] | None = None,
) -> Job | None:
    """Atomically move the oldest highest-priority queued job of this worker's lane to
    running. `admit(kind, params)` may hold a job back with a reason (a GPU too small for
    it beside a training run); a training job waits while another trains on this machine,
    unless the project allows parallel training. A held-back job shows its reason."""
    where, args = lanes.kinds_sql(lane)
    candidates = project.db.execute(
        f"SELECT id, kind, params, message FROM jobs WHERE status = 'queued' AND {where} "
        "ORDER BY priority DESC, id LIMIT 20",
        args,
    ).fetchall()
    parallel = bool(project.setting(lanes.PARALLEL_TRAINING_SETTING, False))
    for job_id, kind, params, message in candidates:
        reason = admit(kind, json.loads(params or "{}")) if admit is not None else None
        if reason is None and _claim(project, job_id, kind, worker_id, parallel):
            return get(project, job_id)
        if reason is None and kind in lanes.TRAINING_KINDS:
            reason = _training_wait_reason(project, worker_id)
        if reason and reason != message:
            project.db.execute(
                "UPDATE jobs SET message = ? WHERE id = ? AND status = 'queued'", [reason, job_id]
            )
    return None


# A training job on this machine, run by a live worker: a second one waits for it.
_TRAINING_HERE = (
    "SELECT j.id, r.id FROM jobs j JOIN workers w ON w.id = j.worker_id "
    "LEFT JOIN runs r ON r.job_id = j.id WHERE j.kind IN ({kinds}) AND j.status = 'running' "
    "AND w.status != 'stopped' AND w.host = (SELECT host FROM workers WHERE id = ?) LIMIT 1"
).format(kinds=",".join(f"'{k}'" for k in sorted(lanes.TRAINING_KINDS)))


def _claim(project: Project, job_id: int, kind: str, worker_id: int, parallel: bool) -> bool:
    now = time.time()
    with project.transaction() as conn:
        if kind in lanes.TRAINING_KINDS and not parallel:
            if conn.execute(_TRAINING_HERE, [worker_id]).fetchone() is not None:
                return False
        return (
            conn.execute(
                "UPDATE jobs SET status = 'running', worker_id = ?, started_at = ?, "
                "heartbeat = ?, message = NULL WHERE id = ? AND status = 'queued'",
                [worker_id, now, now, job_id],
            ).rowcount
            == 1
        )


def _training_wait_reason(project: Project, worker_id: int) -> str | None:
    row = project.db.execute(_TRAINING_HERE, [worker_id]).fetchone()
    if row is None:
        return None
    what = f"run {row[1]}" if row[1] is not None else f"job {row[0]}"
    return (
        f"waits for {what}: one training run at a time on this machine "
        f"(the project setting {lanes.PARALLEL_TRAINING_SETTING} allows two)"
    )


def report_progress(
    project: Project, job_id: int, done: int, total: int, message: str = ""
) -> None:
    project.db.execute(
        "UPDATE jobs SET progress_done = ?, progress_total = ?, message = ?, heartbeat = ? "
        "WHERE id = ?",
        [done, total, message, time.time(), job_id],
    )


def finish(project: Project, job_id: int, result: Any, status: str = "done") -> None:
    project.db.execute(
        "UPDATE jobs SET status = ?, result = ?, ended_at = ? WHERE id = ?",
        [status, json.dumps(result), time.time(), job_id],
    )


def fail(project: Project, job_id: int, error: str, traceback_text: str = "") -> None:
    project.db.execute(
        "UPDATE jobs SET status = 'failed', error = ?, traceback = ?, ended_at = ? WHERE id = ?",
        [error, traceback_text, time.time(), job_id],
    )


def cancel(project: Project, job_id: int) -> None:
    """Cancel a queued job at once; a running one is asked to stop through the control table."""
    from workbench.jobs import control

    with project.transaction() as conn:
        updated = conn.execute(
            "UPDATE jobs SET status = 'cancelled', ended_at = ? WHERE id = ? AND status = 'queued'",
            [time.time(), job_id],
        ).rowcount
    if not updated:
        control.request(project, job_id, "cancel")


def shown_status(job: Job) -> str:
    """The status a person reads: a running job held between steps is paused."""
    return "paused" if job.status == "running" and job.message == "paused" else job.status


def list_jobs(project: Project, limit: int = 200) -> list[Job]:
    rows = project.db.query("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", [limit])
    return [Job.from_row(r) for r in rows]


def submit_claimed(project: Project, kind: str, params: dict[str, Any], worker_id: int) -> int:
    """A job that starts running at once in the caller's process (the command line), so no
    separate worker can claim it first."""
    now = time.time()
    return _insert(
        project, kind, params, status="running", worker_id=worker_id, started_at=now, heartbeat=now
    )
