"""The history of a project's runs: every run with its key results, a run's metric rows
in increments, the config difference of two runs, and a run's lineage (labels -> dataset
snapshot -> run -> checkpoints). Reading only; no Qt."""

from __future__ import annotations

import json
from typing import Any

from workbench.data.prompts import PromptRecord
from workbench.project import Project
from workbench.training import runs
from workbench.training.checkpoint_names import checkpoint_label
from workbench.training.health import WARNING_PREFIX, warnings_in_log
from workbench.training.run_phase import phase_fields

METRIC_BATCH = 20000  # rows per call; a longer history comes in several calls
LABELS_SHOWN = 200
PROMPT_CHARS = 80

OVERVIEW_SQL = """
SELECT r.id, r.name, r.status, r.algorithm, r.model_id, m.name AS model_name, r.step,
       r.max_steps, r.created_at, r.started_at, r.ended_at, r.heartbeat, r.error, r.summary,
       r.parent_checkpoint_id, r.dataset_hash, r.sweep_id, r.phase, r.phase_done,
       r.phase_total, r.phase_at, r.step_seconds, r.eta_s, r.tags, r.note,
       (SELECT c.id FROM checkpoints c WHERE c.run_id = r.id ORDER BY c.step DESC, c.id DESC
        LIMIT 1) AS last_checkpoint_id
FROM runs r LEFT JOIN models m ON m.id = r.model_id
ORDER BY r.id DESC LIMIT ?"""

LAST_LOSS_SQL = """
SELECT run_id, value FROM metrics WHERE id IN (
    SELECT MAX(id) FROM metrics WHERE name = 'loss' AND value IS NOT NULL GROUP BY run_id)"""

WARNINGS_SQL = "SELECT run_id, message FROM run_logs WHERE message LIKE ? ORDER BY id"


def runs_overview(project: Project, limit: int = 500) -> list[dict[str, Any]]:
    """One dict per run, newest first: status, algorithm, base model, times, step and the
    key results (from the summary once it ended; the last logged loss while it runs)."""
    last_loss = dict(project.db.execute(LAST_LOSS_SQL).fetchall())
    warnings: dict[int, list[str]] = {}
    for run_id, message in project.db.execute(WARNINGS_SQL, [WARNING_PREFIX + "%"]):
        warnings.setdefault(run_id, []).extend(warnings_in_log([message]))
    rows = []
    for row in project.db.query(OVERVIEW_SQL, [limit]):
        summary = json.loads(row.pop("summary") or "{}")
        row["duration"] = _duration(row)
        row.update(phase_fields(row))  # what a live run is doing, its ETA
        row["tags"] = json.loads(row["tags"] or "[]")
        row.update(key_results(summary, last_loss.get(row["id"])))
        row["warnings"] = warnings.get(row["id"], [])  # run health (training/health.py)
        rows.append(row)
    return rows


def _duration(row: dict[str, Any]) -> float | None:
    start = row["started_at"]
    end = row["ended_at"] or row["heartbeat"]
    return max(0.0, end - start) if start is not None and end is not None else None


def key_results(summary: dict[str, Any], last_loss: float | None = None) -> dict[str, Any]:
    train = summary.get("train") or {}
    evaluation = summary.get("eval") or {}
    accuracy = evaluation.get("eval_rewards/accuracies", evaluation.get("eval_accuracy"))
    prepared = summary.get("prepared") or {}
    return {
        "train_loss": train.get("loss", last_loss),
        "eval_loss": evaluation.get("eval_loss"),
        "eval_accuracy": accuracy,
        "checkpoint_id": summary.get("checkpoint_id"),
        # How many examples the figures come from (offline: examples; online: prompts).
        "train_examples": prepared.get("train_examples", prepared.get("train_prompts")),
        "eval_examples": prepared.get("eval_examples", prepared.get("eval_prompts")),
    }


def run_metric_rows(
    project: Project, run_id: int, after_id: int = 0, limit: int = METRIC_BATCH
) -> tuple[list[tuple[int, float, str, float | None]], int]:
    """(rows (step, time, name, value) with metric id > after_id, the last id read); pass
    the id back as after_id to get only what was written since."""
    found = project.db.execute(
        "SELECT id, step, time, name, value FROM metrics WHERE run_id = ? AND id > ? "
        "ORDER BY id LIMIT ?",
        [run_id, after_id, limit],
    ).fetchall()
    last = found[-1][0] if found else after_id
    return [(step, time, name, value) for _id, step, time, name, value in found], last


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables (``lora``) as dotted keys: ``lora.r``."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_diff(project: Project, run_a: int, run_b: int) -> list[tuple[str, Any, Any]]:
    """(key, value in a, value in b) for every config key whose values differ, sorted;
    a key one run lacks has None on that side."""
    a = flatten(runs.get_run(project, run_a).config)
    b = flatten(runs.get_run(project, run_b).config)
    return [
        (key, a.get(key), b.get(key))
        for key in sorted(a.keys() | b.keys())
        if a.get(key) != b.get(key)
    ]


def lineage(project: Project, run_id: int, limit: int = LABELS_SHOWN) -> dict[str, Any]:
    """Back from the run to its dataset snapshot and the labels in it; forward to its
    checkpoints; and the checkpoint it started from, if any."""
    run = runs.get_run(project, run_id)
    snapshot = run.dataset or {}
    parts = [snapshot.get(part) or {} for part in ("train", "eval")]
    comparison_ids = _unique(i for part in parts for i in part.get("comparison_ids", []))
    label_ids = _unique(i for part in parts for i in part.get("completion_label_ids", []))
    return {
        "run": {"id": run.id, "name": run.name, "algorithm": run.algorithm, "status": run.status},
        "dataset": {
            "hash": run.dataset_hash,
            "held_out": bool(snapshot.get("held_out")),
            "counts": snapshot.get("counts", {}),
            "filters": _filters(parts),
        },
        "labels": _comparisons(project, comparison_ids[:limit]),
        "labels_total": len(comparison_ids),
        "answers_from": answers_from(project, comparison_ids),
        "unpaired_labels": _completion_labels(project, label_ids[:limit]),
        "unpaired_total": len(label_ids),
        "checkpoints": _checkpoints(project, run_id),
        "parent_checkpoint": _parent(project, run.parent_checkpoint_id),
        "changed_settings": changed_settings(project, run),
    }


def changed_settings(project: Project, run: runs.Run) -> list[tuple[str, Any, Any]]:
    """(key, parent run's value, this run's value) for a run that continues another run's
    checkpoint with changed settings (workbench/training/continuation.py); else []."""
    parent = _parent(project, run.parent_checkpoint_id)
    if parent is None or parent["run_id"] is None or parent["run_id"] == run.id:
        return []
    if run.config.get("init_checkpoint") == run.parent_checkpoint_id:
        return []  # a new run from a checkpoint's adapter, not a continuation
    return [d for d in config_diff(project, parent["run_id"], run.id) if d[0] != "name"]


def answers_from(project: Project, comparison_ids: list[int]) -> list[dict[str, Any]]:
    """Whose answers the run learned from: per writer of the compared completions (a
    checkpoint, a base model, or neither for imported text), how many, most first."""
    if not comparison_ids:
        return []
    rows = project.db.execute(
        "SELECT c.checkpoint_id, c.model_id, k.step, r.id, r.name, m.name, count(*) "
        "FROM comparisons l JOIN json_each(l.completion_ids) j "
        "JOIN completions c ON c.id = j.value "
        "LEFT JOIN checkpoints k ON k.id = c.checkpoint_id LEFT JOIN runs r ON r.id = k.run_id "
        "LEFT JOIN models m ON m.id = c.model_id "
        "WHERE l.id IN (SELECT value FROM json_each(?)) "
        "GROUP BY c.checkpoint_id, c.model_id ORDER BY count(*) DESC, c.checkpoint_id",
        [json.dumps(comparison_ids)],
    ).fetchall()
    out = []
    for checkpoint_id, model_id, step, run_id, run_name, model_name, n in rows:
        if checkpoint_id is not None:
            label = checkpoint_label(checkpoint_id, step, run_id, run_name)
        elif model_id is not None:
            label = f"base model {model_name}"
        else:
            label = "imported or typed-in answers"
        out.append(
            {"checkpoint_id": checkpoint_id, "model_id": model_id, "label": label, "answers": n}
        )
    return out


def _unique(ids) -> list[int]:
    return sorted(set(ids))


def _filters(parts: list[dict[str, Any]]) -> dict[str, Any]:
    first = next((p for p in parts if p), {})
    return {"sources": first.get("sources"), "min_confidence": first.get("min_confidence")}


def _placeholders(ids: list[int]) -> str:
    return ",".join("?" * len(ids))


def short(text: str | None, chars: int = PROMPT_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _prompt_text(text: str | None, messages: str | None) -> str:
    record = PromptRecord(text=text, messages=json.loads(messages) if messages else None)
    return short(record.display_text)


def _comparisons(project: Project, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = project.db.execute(
        "SELECT c.id, p.text, p.messages, c.outcome, c.source, c.judge, c.confidence, "
        "c.superseded_by FROM comparisons c JOIN prompts p ON p.id = c.prompt_id "
        f"WHERE c.id IN ({_placeholders(ids)}) ORDER BY c.id",
        ids,
    ).fetchall()
    return [
        {
            "id": r[0],
            "prompt": _prompt_text(r[1], r[2]),
            "outcome": r[3],
            "source": r[4],
            "judge": r[5],
            "confidence": r[6],
            "superseded_by": r[7],
        }
        for r in rows
    ]


def _completion_labels(project: Project, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = project.db.execute(
        "SELECT l.id, p.text, p.messages, l.desirable, l.source, l.judge, l.confidence, "
        "l.superseded_by FROM completion_labels l JOIN completions c ON c.id = l.completion_id "
        "JOIN prompts p ON p.id = c.prompt_id "
        f"WHERE l.id IN ({_placeholders(ids)}) ORDER BY l.id",
        ids,
    ).fetchall()
    return [
        {
            "id": r[0],
            "prompt": _prompt_text(r[1], r[2]),
            "outcome": "desirable" if r[3] else "undesirable",
            "source": r[4],
            "judge": r[5],
            "confidence": r[6],
            "superseded_by": r[7],
        }
        for r in rows
    ]


def _checkpoints(project: Project, run_id: int) -> list[tuple[int, int, str, float]]:
    return [
        tuple(r)
        for r in project.db.execute(
            "SELECT id, step, path, created_at FROM checkpoints WHERE run_id = ? ORDER BY step, id",
            [run_id],
        ).fetchall()
    ]


def _parent(project: Project, checkpoint_id: int | None) -> dict[str, Any] | None:
    if checkpoint_id is None:
        return None
    row = project.db.execute(
        "SELECT c.id, c.run_id, c.step, c.path, r.name FROM checkpoints c "
        "LEFT JOIN runs r ON r.id = c.run_id WHERE c.id = ?",
        [checkpoint_id],
    ).fetchone()
    if row is None:
        return {"id": checkpoint_id, "run_id": None, "step": None, "path": None, "run_name": None}
    return {"id": row[0], "run_id": row[1], "step": row[2], "path": row[3], "run_name": row[4]}
