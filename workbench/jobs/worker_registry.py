"""The `workers` table: who is running jobs for this project, and whether they are alive."""

from __future__ import annotations

import os
import socket
import time

from workbench.db.inserted import inserted_pk
from workbench.project import Project

HEARTBEAT_INTERVAL_S = 2.0
# A worker whose heartbeat is older than this is taken for dead (crashed, killed, OOM).
STALE_AFTER_S = 15.0


def register(project: Project, status: str = "idle") -> int:
    now = time.time()
    table = project.db.table("workers")
    table.insert(
        {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "status": status,
            "started_at": now,
            "heartbeat": now,
        }
    )
    return inserted_pk(table)


def update(project: Project, worker_id: int, **fields) -> None:
    fields["heartbeat"] = time.time()
    assignments = ", ".join(f"{key} = ?" for key in fields)
    project.db.execute(
        f"UPDATE workers SET {assignments} WHERE id = ?", [*fields.values(), worker_id]
    )


def live_workers(project: Project) -> list[dict]:
    cutoff = time.time() - STALE_AFTER_S
    return list(
        project.db.query(
            "SELECT * FROM workers WHERE status != 'stopped' AND heartbeat >= ? ORDER BY id",
            [cutoff],
        )
    )


def fail_orphaned_jobs(project: Project) -> list[int]:
    """Mark failed the running jobs whose worker stopped beating: the process died mid-job
    (a crash, an out-of-memory kill), so nobody will ever finish them."""
    cutoff = time.time() - STALE_AFTER_S
    with project.transaction() as conn:
        rows = conn.execute(
            "SELECT jobs.id FROM jobs LEFT JOIN workers ON workers.id = jobs.worker_id "
            "WHERE jobs.status = 'running' AND (workers.id IS NULL OR workers.status = 'stopped' "
            "OR workers.heartbeat < ?)",
            [cutoff],
        ).fetchall()
        for (job_id,) in rows:
            conn.execute(
                "UPDATE jobs SET status = 'failed', ended_at = ?, error = ? WHERE id = ?",
                [time.time(), ORPHANED, job_id],
            )
            # A training run of that job ends too; it can resume from its last checkpoint.
            conn.execute(
                "UPDATE runs SET status = 'failed', ended_at = ?, error = ? "
                "WHERE job_id = ? AND status = 'running'",
                [
                    time.time(),
                    ORPHANED + " A training run resumes from its last checkpoint.",
                    job_id,
                ],
            )
    return [r[0] for r in rows]


ORPHANED = (
    "The worker running this job stopped responding (it crashed or was killed, e.g. "
    "out of memory). Start the job again; lower the batch size if memory was short."
)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def reap_dead_local_workers(project: Project) -> list[int]:
    """Mark stopped the workers of this machine whose process no longer exists, without
    waiting for their heartbeat to go stale, and fail their jobs."""
    host = socket.gethostname()
    rows = project.db.execute(
        "SELECT id, pid FROM workers WHERE status != 'stopped' AND host = ?", [host]
    ).fetchall()
    for worker_id, pid in rows:
        if pid != os.getpid() and not _pid_alive(pid):
            project.db.execute("UPDATE workers SET status = 'stopped' WHERE id = ?", [worker_id])
    return fail_orphaned_jobs(project)


def mark_dead(project: Project, pid: int | None) -> list[int]:
    """Someone saw this worker process die (the window that started it): mark its row
    stopped so its jobs fail now rather than once its heartbeat goes stale. Returns the
    ids of the jobs failed that way."""
    if pid is not None:
        # Pids are reused over time: the newest row with this pid is the one that died.
        project.db.execute(
            "UPDATE workers SET status = 'stopped' WHERE id = "
            "(SELECT id FROM workers WHERE pid = ? ORDER BY id DESC LIMIT 1)",
            [pid],
        )
    return fail_orphaned_jobs(project)
