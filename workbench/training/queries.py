"""What the Train view reads and writes, as plain functions of a project (no Qt): the
dataset counts a config would train on, the queue of train jobs and its order, the rows
of a run that arrived since the last poll, its progress and ETA, and presets.

Every function takes the project first, so the GUI runs them on its database thread
(`session.runner.call(fn, ...)`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from workbench.labels.comparisons import SOURCES
from workbench.project import Project
from workbench.training.config import RunConfig, load_config
from workbench.training.data import split_labels
from workbench.training.history import run_metric_rows

PRESETS_KEY = "train_presets"
ROW_LIMIT = 20000  # rows per poll; a long run's history arrives over a few polls
ETA_WINDOW = 50  # steps over which the step rate is measured


# Dataset ------------------------------------------------------------------------------
def dataset_counts(
    project: Project,
    sources=SOURCES,
    min_confidence: float | None = None,
    eval_fraction: float = 0.1,
    seed: int = 0,
) -> dict[str, Any]:
    """{"train": counts, "eval": counts, "held_out": bool}, split as a run splits it."""
    train, evaluation, held_out = split_labels(
        project, sources, min_confidence, eval_fraction, seed
    )
    return {"train": train.counts, "eval": evaluation.counts, "held_out": held_out}


# Queue --------------------------------------------------------------------------------
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


# A run's rows --------------------------------------------------------------------------
def logs_since(project: Project, run_id: int, after_id: int = 0):
    """(rows of (time, message), last log id)."""
    rows = project.db.execute(
        "SELECT id, time, message FROM run_logs WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?",
        [run_id, after_id, ROW_LIMIT],
    ).fetchall()
    last = rows[-1][0] if rows else after_id
    return [(r[1], r[2]) for r in rows], last


def samples_steps(project: Project, run_id: int) -> list[int]:
    return [
        r[0]
        for r in project.db.execute(
            "SELECT DISTINCT step FROM samples WHERE run_id = ? ORDER BY step", [run_id]
        )
    ]


def sample_rows(project: Project, run_id: int) -> int:
    """How many samples the run stored: an online run adds its eval answers to a step that
    already has sampled completions, so the step list alone misses them."""
    return project.db.execute("SELECT COUNT(*) FROM samples WHERE run_id = ?", [run_id]).fetchone()[
        0
    ]


def samples_at(project: Project, run_id: int, step: int) -> list[dict[str, Any]]:
    rows = project.db.execute(
        "SELECT prompt, completion, rewards, advantage FROM samples WHERE run_id = ? AND step = ? "
        "ORDER BY id",
        [run_id, step],
    ).fetchall()
    return [
        {"prompt": r[0], "completion": r[1], "rewards": json.loads(r[2] or "{}"), "advantage": r[3]}
        for r in rows
    ]


def run_progress(project: Project, run_id: int) -> dict[str, Any]:
    """The run's step, status and error, its job's state, checkpoints so far, and the
    step rate and ETA measured over the last ETA_WINDOW steps."""
    row = project.db.execute(
        "SELECT step, max_steps, started_at, ended_at, status, error, job_id, heartbeat, name, "
        "algorithm FROM runs WHERE id = ?",
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
    )
    progress = dict(zip(keys, row, strict=True))
    job = (
        project.db.execute(
            "SELECT status, message FROM jobs WHERE id = ?", [progress["job_id"]]
        ).fetchone()
        if progress["job_id"]
        else None
    )
    progress["job_status"], progress["job_message"] = job if job else (None, None)
    progress["checkpoints"] = project.db.execute(
        "SELECT COUNT(*) FROM checkpoints WHERE run_id = ?", [run_id]
    ).fetchone()[0]
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


def current_run(project: Project) -> int | None:
    """The newest running run, else the newest run; None in a project without runs."""
    row = project.db.execute(
        "SELECT id FROM runs ORDER BY status = 'running' DESC, id DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def run_update(
    project: Project, run_id: int | None, metrics_after: int, logs_after: int
) -> dict[str, Any] | None:
    """One poll of the run monitor in one database call: the run followed (`run_id`, or
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


def recent_runs(project: Project, limit: int = 30) -> list[tuple[int, str, str]]:
    """(id, name, status) of the newest runs."""
    return [
        tuple(r)
        for r in project.db.execute(
            "SELECT id, COALESCE(name, algorithm), status FROM runs ORDER BY id DESC LIMIT ?",
            [limit],
        )
    ]


def checkpoint_count(project: Project, run_id: int) -> int:
    return project.db.execute(
        "SELECT COUNT(*) FROM checkpoints WHERE run_id = ?", [run_id]
    ).fetchone()[0]


# Presets and config files -----------------------------------------------------------------
def list_presets(project: Project) -> list[str]:
    return sorted(project.setting(PRESETS_KEY, {}) or {})


def save_preset(project: Project, name: str, config: dict[str, Any]) -> None:
    name = name.strip()
    if not name:
        raise ValueError("A preset needs a name.")
    RunConfig.from_dict(config)  # a preset that cannot launch is refused now, not later
    presets = dict(project.setting(PRESETS_KEY, {}) or {})
    presets[name] = config
    project.set_setting(PRESETS_KEY, presets)


def load_preset(project: Project, name: str) -> dict[str, Any]:
    presets = project.setting(PRESETS_KEY, {}) or {}
    if name not in presets:
        raise KeyError(f"The project has no preset named {name!r}.")
    return presets[name]


def delete_preset(project: Project, name: str) -> None:
    presets = dict(project.setting(PRESETS_KEY, {}) or {})
    presets.pop(name, None)
    project.set_setting(PRESETS_KEY, presets)


def config_toml(config: dict[str, Any]) -> str:
    """The config as the TOML file `workbench train --config` reads: flat keys, then a
    [lora] table; unset (None) values are left out, so they keep their defaults."""
    flat = {k: v for k, v in config.items() if k != "lora" and v is not None}
    lines = [f"# Alignment Workbench run config, {time.strftime('%Y-%m-%d %H:%M')}"]
    lines += [f"{key} = {toml_value(value)}" for key, value in flat.items()]
    lora = {k: v for k, v in (config.get("lora") or {}).items() if v is not None}
    if lora:
        lines += ["", "[lora]"] + [f"{key} = {toml_value(value)}" for key, value in lora.items()]
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # 1e-05, inf and nan are TOML floats too
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"Cannot write {value!r} to a TOML config.")


def save_config_file(config: dict[str, Any], path: str | Path) -> Path:
    RunConfig.from_dict(config)
    path = Path(path)
    path.write_text(config_toml(config), encoding="utf-8")
    return path


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The file's config, validated, as the dictionary the form shows."""
    return load_config(path).to_dict()


# Where a run starts ---------------------------------------------------------------------
def start_choices(project: Project) -> dict[str, Any]:
    """The models a run can train and the checkpoints it can continue from (newest first)."""
    from workbench.data.models import default_model, list_models

    models = [(m.id, m.name) for m in list_models(project)]
    default = default_model(project).id if models else None
    rows = project.db.execute(
        "SELECT checkpoints.id, checkpoints.step, runs.id, runs.name, runs.algorithm "
        "FROM checkpoints JOIN runs ON runs.id = checkpoints.run_id "
        "ORDER BY checkpoints.id DESC LIMIT 200"
    ).fetchall()
    checkpoints = [
        (cid, f"#{cid}: run {rid} {name or algorithm}, step {step}")
        for cid, step, rid, name, algorithm in rows
    ]
    return {"models": models, "default_model": default, "checkpoints": checkpoints}
