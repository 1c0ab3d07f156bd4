"""Training runs as the project records them: the run row (config, dataset snapshot,
status, step), its metrics, samples, log lines and checkpoints. Only the process that
owns the run (rank 0) calls the writing functions."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.db.inserted import inserted_pk
from workbench.project import Project

# paused: held between two steps with its model loaded; interrupted: its worker died (killed,
# crashed, out of memory), and it resumes from its last checkpoint.
STATUSES = ("queued", "running", "paused", "done", "stopped", "cancelled", "failed", "interrupted")
LIVE = ("running", "paused")
RESUMABLE = ("stopped", "failed", "interrupted")


@dataclass
class Run:
    id: int
    name: str | None
    algorithm: str
    config: dict[str, Any]
    dataset: dict[str, Any]
    dataset_hash: str | None
    model_id: int | None
    parent_checkpoint_id: int | None
    job_id: int | None
    status: str
    step: int
    max_steps: int | None
    error: str | None
    summary: dict[str, Any]
    created_at: float
    started_at: float | None
    ended_at: float | None


def _record(row: dict) -> Run:
    return Run(
        id=row["id"],
        name=row["name"],
        algorithm=row["algorithm"],
        config=json.loads(row["config"] or "{}"),
        dataset=json.loads(row["dataset"] or "{}"),
        dataset_hash=row["dataset_hash"],
        model_id=row["model_id"],
        parent_checkpoint_id=row["parent_checkpoint_id"],
        job_id=row["job_id"],
        status=row["status"],
        step=row["step"],
        max_steps=row["max_steps"],
        error=row["error"],
        summary=json.loads(row["summary"] or "{}"),
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
    )


def create_run(
    project: Project,
    *,
    algorithm: str,
    config: dict,
    dataset: dict,
    dataset_hash: str,
    model_id: int | None,
    parent_checkpoint_id: int | None,
    job_id: int | None,
    name: str | None,
    max_steps: int,
) -> int:
    now = time.time()
    table = project.db.table("runs")
    table.insert(
        {
            "name": name,
            "algorithm": algorithm,
            "config": json.dumps(config),
            "dataset": json.dumps(dataset),
            "dataset_hash": dataset_hash,
            "model_id": model_id,
            "parent_checkpoint_id": parent_checkpoint_id,
            "job_id": job_id,
            "status": "running",
            "heartbeat": now,
            "created_at": now,
            "started_at": now,
            "max_steps": max_steps,
        }
    )
    return inserted_pk(table)


def get_run(project: Project, run_id: int) -> Run:
    rows = list(project.db.query("SELECT * FROM runs WHERE id = ?", [run_id]))
    if not rows:
        raise KeyError(f"The project has no run {run_id}.")
    return _record(rows[0])


def list_runs(project: Project, limit: int = 200) -> list[Run]:
    rows = project.db.query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit])
    return [_record(r) for r in rows]


def update_run(project: Project, run_id: int, **fields: Any) -> None:
    for key in ("summary", "config", "dataset"):
        if key in fields and not isinstance(fields[key], str):
            fields[key] = json.dumps(fields[key], allow_nan=False)
    project.db.table("runs").update(run_id, {**fields, "heartbeat": time.time()})


def end_run(
    project: Project,
    run_id: int,
    status: str,
    *,
    error: str | None = None,
    summary: dict | None = None,
) -> None:
    fields: dict[str, Any] = {"status": status, "ended_at": time.time(), "error": error}
    fields.update(phase=None, phase_done=0, phase_total=0, eta_s=None)  # nothing in progress
    if summary is not None:
        fields["summary"] = finite(summary)
    update_run(project, run_id, **fields)


def finite(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def record_metrics(project: Project, run_id: int, step: int, metrics: dict[str, float]) -> None:
    """One row per metric; a non-finite value is stored as NULL, so a chart shows a gap
    rather than a lie. The run's step moves on in the same transaction."""
    now = time.time()
    rows = [
        (run_id, step, name, value if math.isfinite(value) else None, now)
        for name, value in metrics.items()
    ]
    with project.transaction() as conn:
        conn.executemany(
            "INSERT INTO metrics (run_id, step, name, value, time) VALUES (?, ?, ?, ?, ?)", rows
        )
        conn.execute(
            "UPDATE runs SET step = MAX(step, ?), heartbeat = ? WHERE id = ?", [step, now, run_id]
        )


def record_samples(project: Project, run_id: int, step: int, samples: list[dict]) -> None:
    now = time.time()
    rows = [
        (
            run_id,
            step,
            s["prompt"],
            s["completion"],
            json.dumps(finite(s.get("rewards", {}))),
            s.get("advantage"),
            now,
        )
        for s in samples
    ]
    with project.transaction() as conn:
        conn.executemany(
            "INSERT INTO samples (run_id, step, prompt, completion, rewards, advantage, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def log(project: Project, run_id: int, message: str) -> None:
    project.db.table("run_logs").insert({"run_id": run_id, "time": time.time(), "message": message})


def add_checkpoint(project: Project, run_id: int, step: int, path: Path, manifest: dict) -> int:
    try:
        stored = str(Path(path).relative_to(project.path))
    except ValueError:
        stored = str(path)
    table = project.db.table("checkpoints")
    table.insert(
        {
            "run_id": run_id,
            "step": step,
            "path": stored,
            "manifest": json.dumps(finite(manifest)),
            "created_at": time.time(),
        }
    )
    return inserted_pk(table)


def checkpoint_rows(project: Project, run_id: int) -> list[dict]:
    return list(
        project.db.query(
            "SELECT id, step, path FROM checkpoints WHERE run_id = ? ORDER BY step", [run_id]
        )
    )


def forget_after(project: Project, run_id: int, step: int) -> None:
    """A resumed run continues from ``step``: rows a killed process wrote after its last
    checkpoint are removed, so the curves continue without a doubled stretch."""
    with project.transaction() as conn:
        conn.execute("DELETE FROM metrics WHERE run_id = ? AND step > ?", [run_id, step])
        conn.execute("DELETE FROM samples WHERE run_id = ? AND step > ?", [run_id, step])
        conn.execute("UPDATE runs SET step = ? WHERE id = ?", [step, run_id])


def metric_series(project: Project, run_id: int, name: str) -> list[tuple[int, float | None]]:
    return [
        (r[0], r[1])
        for r in project.db.execute(
            "SELECT step, value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step, id",
            [run_id, name],
        ).fetchall()
    ]
