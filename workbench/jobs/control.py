"""Control requests (pause, resume, stop, checkpoint now, ...) as rows the worker reads
between steps, so the GUI, the CLI and a second window all steer a job the same way."""

from __future__ import annotations

import time

from workbench.db.inserted import inserted_pk
from workbench.project import Project

COMMANDS = ("pause", "resume", "stop", "checkpoint", "sample", "cancel")


def request(project: Project, job_id: int, command: str) -> int:
    if command not in COMMANDS:
        raise ValueError(f"unknown control command {command!r}; expected one of {COMMANDS}")
    table = project.db.table("control")
    table.insert({"job_id": job_id, "command": command, "created_at": time.time()})
    return inserted_pk(table)


def take_pending(project: Project, job_id: int) -> list[str]:
    """Return the unhandled commands for a job, oldest first, and mark them handled."""
    now = time.time()
    with project.transaction() as conn:
        rows = conn.execute(
            "SELECT id, command FROM control WHERE job_id = ? AND handled_at IS NULL ORDER BY id",
            [job_id],
        ).fetchall()
        if rows:
            conn.execute(
                f"UPDATE control SET handled_at = ? WHERE id IN ({','.join('?' * len(rows))})",
                [now, *[r[0] for r in rows]],
            )
    return [r[1] for r in rows]
