"""The queue of train jobs: which run next, in the order the worker claims them, and
moving a queued train job before or after another."""

from __future__ import annotations

import json
from typing import Any

from workbench.project import Project


def _claim_order(conn, kind: str | None = None) -> list[int]:
    """Queued job ids in the order the worker claims them (jobs.claim_next)."""
    where = "status = 'queued'" + (" AND kind = ?" if kind else "")
    rows = conn.execute(
        f"SELECT id FROM jobs WHERE {where} ORDER BY priority DESC, id", [kind] if kind else []
    ).fetchall()
    return [r[0] for r in rows]


def train_queue(project: Project) -> list[dict[str, Any]]:
    """Running then queued train jobs, in the order they run: job id, status, position
    (1 = next; 0 = running), run id (once the run exists), name and algorithm."""
    db = project.db
    running = [
        r[0]
        for r in db.execute(
            "SELECT id FROM jobs WHERE kind = 'train' AND status = 'running' ORDER BY id"
        ).fetchall()
    ]
    queued = _claim_order(db, "train")
    out = []
    for position, job_id in [(0, j) for j in running] + list(enumerate(queued, 1)):
        out.append(
            {
                "job_id": job_id,
                "position": position,
                "status": "running" if position == 0 else "queued",
                **_job_run(db, job_id),
            }
        )
    return out


def _job_run(db, job_id: int) -> dict[str, Any]:
    params, message = db.execute(
        "SELECT params, message FROM jobs WHERE id = ?", [job_id]
    ).fetchone()
    params = json.loads(params or "{}")
    config = params.get("config") or {}
    run = db.execute(
        "SELECT id, name, algorithm FROM runs WHERE job_id = ? ORDER BY id DESC LIMIT 1", [job_id]
    ).fetchone()
    resume = params.get("resume_run_id")
    if run is None and resume is not None:
        run = db.execute("SELECT id, name, algorithm FROM runs WHERE id = ?", [resume]).fetchone()
    return {
        "run_id": run[0] if run else None,
        "name": (run[1] if run else None) or config.get("name") or "",
        "algorithm": (run[2] if run else None) or config.get("algorithm", "dpo"),
        "message": message or "",
    }


def move_job(project: Project, job_id: int, up: bool) -> bool:
    """Swap a queued train job with the queued train job before (up) or after it.

    The worker claims by (priority DESC, id), so the new order of all queued jobs is
    written back as descending priorities. False when it cannot move."""
    with project.transaction() as conn:
        trains = _claim_order(conn, "train")
        if job_id not in trains:
            return False
        i = trains.index(job_id)
        j = i - 1 if up else i + 1
        if not 0 <= j < len(trains):
            return False
        order = _claim_order(conn)
        a, b = order.index(trains[i]), order.index(trains[j])
        order[a], order[b] = order[b], order[a]
        conn.executemany(
            "UPDATE jobs SET priority = ? WHERE id = ?",
            [(len(order) - k, jid) for k, jid in enumerate(order)],
        )
    return True
