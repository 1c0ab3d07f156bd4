"""A run as it trains: its step, status, step rate and ETA, the log rows written since a
position, and one poll that gathers all that news about a run (with its metric rows and
sample steps) in a single database call."""

from __future__ import annotations

from typing import Any

from workbench.project import Project
from workbench.training.history import run_metric_rows
from workbench.training.run_phase import phase_fields
from workbench.training.samples import sample_rows, samples_steps

ROW_LIMIT = 20000  # rows per poll; a long run's history arrives over a few polls
ETA_WINDOW = 50  # steps over which the step rate is measured


def logs_since(project: Project, run_id: int, after_id: int = 0):
    """(rows of (time, message), last log id)."""
    rows = project.db.execute(
        "SELECT id, time, message FROM run_logs WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?",
        [run_id, after_id, ROW_LIMIT],
    ).fetchall()
    last = rows[-1][0] if rows else after_id
    return [(r[1], r[2]) for r in rows], last


def run_progress(project: Project, run_id: int) -> dict[str, Any]:
    """The run's step, status and error, its job's state, checkpoints so far, and the
    step rate and ETA measured over the last ETA_WINDOW steps."""
    row = project.db.execute(
        "SELECT step, max_steps, started_at, ended_at, status, error, job_id, heartbeat, name, "
        "algorithm, phase, phase_done, phase_total, phase_at, step_seconds, eta_s "
        "FROM runs WHERE id = ?",
        [run_id],
    ).fetchone()
    if row is None:
        raise KeyError(f"The project has no run {run_id}.")
    keys = (
        "step",
        "max_steps",
        "started_at",
        "ended_at",
        "status",
        "error",
        "job_id",
        "heartbeat",
        "name",
        "algorithm",
        "phase",
        "phase_done",
        "phase_total",
        "phase_at",
        "step_seconds",
        "eta_s",
    )
    progress = dict(zip(keys, row, strict=True))
    progress.update(phase_fields(progress))
    progress["run_id"] = run_id
    job = (
        project.db.execute(
            "SELECT status, message FROM jobs WHERE id = ?", [progress["job_id"]]
        ).fetchone()
        if progress["job_id"]
        else None
    )
    progress["job_status"], progress["job_message"] = job if job else (None, None)
    progress["checkpoints"] = checkpoint_count(project, run_id)
    if progress["step_seconds"]:  # smoothed by the recorder (workbench/training/step_timer.py)
        progress["rate"] = 1 / progress["step_seconds"]
    else:  # a run recorded before phases were: the rate over the last logged steps
        progress["rate"] = _step_rate(project, run_id, progress["step"])
        progress["eta_s"] = eta_seconds(progress["step"], progress["max_steps"], progress["rate"])
    return progress


def _step_rate(project: Project, run_id: int, step: int) -> float | None:
    row = project.db.execute(
        "SELECT MIN(step), MAX(step), MIN(time), MAX(time) FROM metrics WHERE run_id = ? "
        "AND step >= ?",
        [run_id, max(0, step - ETA_WINDOW)],
    ).fetchone()
    if row is None or row[0] is None or row[1] <= row[0] or row[3] <= row[2]:
        return None
    return (row[1] - row[0]) / (row[3] - row[2])


def eta_seconds(step: int, max_steps: int | None, rate: float | None) -> float | None:
    if not rate or not max_steps or step >= max_steps:
        return None
    return (max_steps - step) / rate


def checkpoint_count(project: Project, run_id: int) -> int:
    return project.db.execute(
        "SELECT COUNT(*) FROM checkpoints WHERE run_id = ?", [run_id]
    ).fetchone()[0]


def current_run(project: Project) -> int | None:
    """The newest running run, else the newest run; None in a project without runs."""
    row = project.db.execute(
        "SELECT id FROM runs ORDER BY status = 'running' DESC, id DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def recent_runs(project: Project, limit: int = 30) -> list[tuple[int, str, str]]:
    """(id, name, status) of the newest runs."""
    return [
        tuple(r)
        for r in project.db.execute(
            "SELECT id, COALESCE(name, algorithm), status FROM runs ORDER BY id DESC LIMIT ?",
            [limit],
        )
    ]


def run_update(
    project: Project, run_id: int | None, metrics_after: int, logs_after: int
) -> dict[str, Any] | None:
    """One poll of a run in one database call: the run followed (`run_id`, or
    `current_run` when None), its new metric and log rows, progress and sample steps."""
    run_id = current_run(project) if run_id is None else run_id
    if run_id is None:
        return None
    metrics, metrics_last = run_metric_rows(project, run_id, metrics_after)
    logs, logs_last = logs_since(project, run_id, logs_after)
    return {
        "run_id": run_id,
        "metrics": metrics,
        "metrics_last": metrics_last,
        "logs": logs,
        "logs_last": logs_last,
        "progress": run_progress(project, run_id),
        "sample_steps": samples_steps(project, run_id),
        "sample_rows": sample_rows(project, run_id),
    }
