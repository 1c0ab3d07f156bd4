"""A project's records as files for a spreadsheet or a script: a stored comparison's rows,
the arena battles, a run's metrics (one row per step, one column per metric) and its
samples. CSV or JSONL by the file's suffix, each written atomically."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from workbench.atomic_write import write_atomically
from workbench.comparing.export import export_format, export_rows
from workbench.project import Project

BATTLE_COLUMNS = (
    "id",
    "model_a",
    "model_b",
    "winner",
    "source",
    "judge",
    "prompt_id",
    "prompt",
    "completion_a",
    "completion_b",
    "checkpoint_a_id",
    "checkpoint_b_id",
    "created_at",
)
SAMPLE_COLUMNS = ("run_id", "step", "prompt", "completion", "rewards", "advantage", "created_at")


def write_records(path: Path, columns: Sequence[str], records: Iterable[dict[str, Any]]) -> int:
    """``records`` (dicts with ``columns``) to a .csv or .jsonl file; how many were written.
    In CSV a dict or list value is written as JSON."""
    fmt = export_format(path)
    count = 0

    def write(tmp: Path) -> None:
        nonlocal count
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle) if fmt == "csv" else None
            if writer is not None:
                writer.writerow(columns)
            for record in records:
                if writer is not None:
                    writer.writerow([_cell(record.get(c)) for c in columns])
                else:
                    line = {c: record.get(c) for c in columns}
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                count += 1

    write_atomically(Path(path), write)
    return count


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def export_comparison(project: Project, comparison_id: int, path: Path) -> int:
    from workbench.comparing.figures import figures
    from workbench.comparing.store import load

    result = figures(project, load(project, comparison_id), rows=True)
    return export_rows(Path(path), result, result["rows"])


def battle_records(project: Project) -> list[dict[str, Any]]:
    rows = project.db.query(
        "SELECT b.*, COALESCE(p.text, p.messages) AS prompt, ca.text AS completion_a, cb.text AS completion_b "
        "FROM arena_battles b LEFT JOIN prompts p ON p.id = b.prompt_id "
        "LEFT JOIN completions ca ON ca.id = b.completion_a_id "
        "LEFT JOIN completions cb ON cb.id = b.completion_b_id ORDER BY b.id"
    )
    return [dict(row) for row in rows]


def export_battles(project: Project, path: Path) -> int:
    return write_records(path, BATTLE_COLUMNS, battle_records(project))


def _require_run(project: Project, run_id: int) -> None:
    if project.db.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone() is None:
        raise ValueError(f"The project has no run {run_id}; `workbench runs` lists them.")


def metric_table(project: Project, run_id: int) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows): step, time, then every metric by name; the last value logged at a
    step wins, as the charts show it."""
    _require_run(project, run_id)
    by_step: dict[int, dict[str, Any]] = {}
    names: dict[str, None] = {}
    for step, name, value, time in project.db.execute(
        "SELECT step, name, value, time FROM metrics WHERE run_id = ? ORDER BY id", [run_id]
    ):
        row = by_step.setdefault(step, {"step": step})
        row[name], row["time"] = value, time
        names.setdefault(name)
    return ["step", "time", *names], [by_step[s] for s in sorted(by_step)]


def export_metrics(project: Project, run_id: int, path: Path) -> int:
    columns, rows = metric_table(project, run_id)
    return write_records(path, columns, rows)


def sample_records(project: Project, run_id: int) -> list[dict[str, Any]]:
    _require_run(project, run_id)
    rows = project.db.query("SELECT * FROM samples WHERE run_id = ? ORDER BY id", [run_id])
    return [{**dict(r), "rewards": json.loads(r["rewards"] or "{}")} for r in rows]


def export_samples(project: Project, run_id: int, path: Path) -> int:
    return write_records(path, SAMPLE_COLUMNS, sample_records(project, run_id))
