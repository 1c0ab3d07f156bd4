"""The `workers` table: who is running jobs for this project, and whether they are alive."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from workbench.db.inserted import inserted_pk
from workbench.jobs.exit_reason import UNEXPECTED, explain_exit, read_log_tail
from workbench.jobs.lanes import ANY
from workbench.project import Project

HEARTBEAT_INTERVAL_S = 2.0
# A worker whose heartbeat is older than this is taken for dead (crashed, killed, OOM).
STALE_AFTER_S = 15.0


def register(
    project: Project, status: str = "idle", lane: str = ANY, log_path: str | None = None
) -> int:
    now = time.time()
    table = project.db.table("workers")
    table.insert(
        {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "status": status,
            "lane": lane,
            "log_path": log_path,
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


def interrupt_orphaned_jobs(project: Project) -> list[int]:
    """Mark interrupted the running jobs whose worker is gone (stopped, or silent for
    STALE_AFTER_S): the process died mid-job, so nobody will finish them. Their training
    runs become interrupted too, with the worker's exit reason and the step they resume
    from; returns the ids of the jobs interrupted.

    A silent worker whose process still runs on this machine is left alone: the machine
    slept (a closed laptop lid) or the worker is busy, and it beats again; the window shows
    it as not responding meanwhile."""
    now = time.time()
    found = project.db.execute(
        "SELECT jobs.id, workers.status, workers.exit_reason, workers.heartbeat, workers.host, "
        "workers.pid FROM jobs LEFT JOIN workers ON workers.id = jobs.worker_id "
        "WHERE jobs.status = 'running' AND (workers.id IS NULL OR workers.status = 'stopped' "
        "OR workers.heartbeat < ?)",
        [now - STALE_AFTER_S],
    ).fetchall()
    host = socket.gethostname()
    orphans = [
        (job_id, reason or (UNEXPECTED if status in (None, "stopped") else STALE_REASON))
        for job_id, status, reason, _beat, where, pid in found
        if status in (None, "stopped") or not (where == host and _running_elsewhere_here(pid))
    ]
    interrupted: list[int] = []
    if not orphans:
        return interrupted  # the usual case: no write lock taken
    with project.transaction() as conn:
        for job_id, reason in orphans:
            if not conn.execute(
                "UPDATE jobs SET status = 'interrupted', ended_at = ?, error = ? "
                "WHERE id = ? AND status = 'running'",
                [now, f"Interrupted: {reason}.", job_id],
            ).rowcount:
                continue  # it ended meanwhile
            interrupted.append(job_id)
            for run_id, step in conn.execute(
                "SELECT r.id, (SELECT MAX(step) FROM checkpoints c WHERE c.run_id = r.id) "
                "FROM runs r WHERE r.job_id = ? AND r.status IN ('running', 'paused')",
                [job_id],
            ).fetchall():
                conn.execute(
                    "UPDATE runs SET status = 'interrupted', ended_at = ?, error = ? WHERE id = ?",
                    [now, interrupted_text(reason, step), run_id],
                )
    return interrupted


def _running_elsewhere_here(pid: int) -> bool:
    """Another process of this machine that is still a worker (not a reused pid). This
    process's own rows are not: it knows it is not beating for them."""
    if pid == os.getpid() or not pid_alive(pid):
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # no /proc (macOS): trust the pid
        return True
    return b"worker" in command or b"workbench" in command


STALE_REASON = f"the worker stopped responding (no heartbeat for {STALE_AFTER_S:.0f} s)"


def interrupted_text(reason: str, checkpoint_step: int | None) -> str:
    where = (
        f"from its last checkpoint (step {checkpoint_step})"
        if checkpoint_step
        else "from the start (no checkpoint was saved)"
    )
    return f"Interrupted: {reason}. Resume continues {where}."


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """An exited child its parent has not waited for yet (e.g. a worker that the window
    started and stopped watching) still answers kill(pid, 0), but is dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS), or just gone
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def reap_dead_workers(project: Project) -> list[int]:
    """Mark stopped the workers of this machine whose process no longer exists (without
    waiting for their heartbeat to go stale), with the reason their log gives, and
    interrupt their jobs and runs; the jobs of silent workers elsewhere too."""
    host = socket.gethostname()
    rows = project.db.execute(
        "SELECT id, pid, log_path FROM workers WHERE status != 'stopped' AND host = ?", [host]
    ).fetchall()
    for worker_id, pid, log_path in rows:
        if pid != os.getpid() and not pid_alive(pid):
            reason = explain_exit(None, read_log_tail(_absolute(project, log_path)))
            _mark_stopped(project, worker_id, reason)
    return interrupt_orphaned_jobs(project)


def mark_dead(project: Project, pid: int | None, returncode: int | None = None) -> list[int]:
    """Someone saw this worker process die (the window that started it, with its exit
    status): mark its row stopped with the reason so its jobs are interrupted now rather
    than once its heartbeat goes stale. Returns the ids of the jobs interrupted."""
    if pid is not None:
        # Pids are reused over time: the newest row with this pid is the one that died.
        row = project.db.execute(
            "SELECT id, log_path FROM workers WHERE pid = ? ORDER BY id DESC LIMIT 1", [pid]
        ).fetchone()
        if row is not None:
            reason = explain_exit(returncode, read_log_tail(_absolute(project, row[1])))
            project.db.execute(
                "UPDATE workers SET status = 'stopped', exit_reason = ? WHERE id = ?",
                [reason, row[0]],
            )
            _refine(project, row[0], reason)
    return interrupt_orphaned_jobs(project)


def _refine(project: Project, worker_id: int, reason: str) -> None:
    """A reaper that saw only the dead pid may have interrupted the worker's jobs first,
    with less to go on; the exit status seen by its parent says more."""
    if reason == UNEXPECTED:
        return
    with project.transaction() as conn:
        for (job_id,) in conn.execute(
            "SELECT id FROM jobs WHERE worker_id = ? AND status = 'interrupted' AND error = ?",
            [worker_id, f"Interrupted: {UNEXPECTED}."],
        ).fetchall():
            conn.execute(
                "UPDATE jobs SET error = ? WHERE id = ?", [f"Interrupted: {reason}.", job_id]
            )
            for run_id, step in conn.execute(
                "SELECT r.id, (SELECT MAX(step) FROM checkpoints c WHERE c.run_id = r.id) "
                "FROM runs r WHERE r.job_id = ? AND r.status = 'interrupted'",
                [job_id],
            ).fetchall():
                conn.execute(
                    "UPDATE runs SET error = ? WHERE id = ?",
                    [interrupted_text(reason, step), run_id],
                )


def _mark_stopped(project: Project, worker_id: int, reason: str) -> None:
    project.db.execute(
        "UPDATE workers SET status = 'stopped', exit_reason = COALESCE(exit_reason, ?) "
        "WHERE id = ?",
        [reason, worker_id],
    )


def _absolute(project: Project, log_path: str | None) -> Path | None:
    return None if not log_path else project.path / log_path
