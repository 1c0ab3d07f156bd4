"""Where an exported checkpoint came from, read from the project for its model card:
base model, algorithm and settings, dataset counts by source and hash, the run's final
metrics and the latest evaluation pass rates of the checkpoint."""

from __future__ import annotations

import json
from typing import Any

from workbench.exporting.request import CheckpointSource
from workbench.project import Project


def final_metrics(project: Project, run_id: int) -> dict[str, float]:
    """Each metric's value at its last logged step."""
    rows = project.db.execute(
        "SELECT name, value FROM metrics WHERE id IN "
        "(SELECT MAX(id) FROM metrics WHERE run_id = ? GROUP BY name) ORDER BY name",
        [run_id],
    ).fetchall()
    return {name: value for name, value in rows if value is not None}


def latest_evaluations(project: Project, checkpoint_id: int) -> list[dict[str, Any]]:
    """The newest evaluation of the checkpoint on each split."""
    rows = project.db.execute(
        "SELECT split, num_prompts, summary FROM evaluations WHERE id IN "
        "(SELECT MAX(id) FROM evaluations WHERE checkpoint_id = ? GROUP BY split) "
        "ORDER BY split",
        [checkpoint_id],
    ).fetchall()
    out = []
    for split, num_prompts, summary in rows:
        data = json.loads(summary or "{}")
        out.append({"split": split, "num_prompts": num_prompts, "pass_rate": data.get("pass_rate")})
    return out


def _dataset(source: CheckpointSource) -> dict[str, Any]:
    """Labels by source (the snapshot's, counted once: every split is cut from the same
    labels) and the examples of each split by kind."""
    by_source: dict[str, int] = {}
    counts: dict[str, dict[str, int]] = {}
    for split, part in (source.run.dataset or {}).items():
        part_counts = part.get("counts") if isinstance(part, dict) else None
        if not isinstance(part_counts, dict):
            continue
        for name, value in (part_counts.get("by_source") or {}).items():
            by_source[name] = max(by_source.get(name, 0), int(value))
        kinds = ("pairs", "unpaired", "demonstrations", "prompts")
        counts[split] = {k: int(part_counts[k]) for k in kinds if part_counts.get(k)}
    return {"by_source": by_source, "counts": counts, "hash": source.run.dataset_hash}


def card_info(
    project: Project, source: CheckpointSource, base_reference: str, hub_id: str | None
) -> dict[str, Any]:
    run = source.run
    return {
        "name": f"{source.model.name} · run {run.id} ({run.name or run.algorithm}) step {source.step}",
        "base_model": f"{source.model.name} ({base_reference})",
        "base_model_id": hub_id,
        "algorithm": run.algorithm,
        "run_id": run.id,
        "step": source.step,
        "settings": run.config,
        "dataset": _dataset(source),
        "metrics": final_metrics(project, run.id),
        "evaluations": latest_evaluations(project, source.checkpoint_id),
    }
