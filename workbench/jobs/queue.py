"""Jobs: the queue between whoever asks for engine work (GUI, CLI) and the worker."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from workbench.db.inserted import inserted_pk
from workbench.project import Project

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")


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


def claim_next(project: Project, worker_id: int) -> Job | None:
    """Atomically move the oldest highest-priority queued job to running for this worker."""
    now = time.time()
    with project.transaction() as conn:
        row = conn.execute(
            "SELECT id FROM jobs WHERE status = 'queued' ORDER BY priority DESC, id LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        conn.execute(
            "UPDATE jobs SET status = 'running', worker_id = ?, started_at = ?, heartbeat = ? "
            "WHERE id = ?",
            [worker_id, now, now, row[0]],
        )
    return get(project, row[0])


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
