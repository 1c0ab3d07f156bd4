"""Completions: what a model (base or checkpoint) wrote for a prompt, with the sampling
settings and seed that reproduce it (docs/architecture.md, "The project folder and database")."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.db.inserted import inserted_rowid
from workbench.project import Project


@dataclass
class CompletionRecord:
    prompt_id: int
    text: str
    model_id: int | None = None
    checkpoint_id: int | None = None
    job_id: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    num_tokens: int | None = None
    finish_reason: str | None = None  # stop | length
    id: int | None = None


_COLUMNS = (
    "id, prompt_id, text, model_id, checkpoint_id, job_id, settings, seed, num_tokens, "
    "finish_reason"
)


def _from_row(row: Sequence) -> CompletionRecord:
    (
        id_,
        prompt_id,
        text,
        model_id,
        checkpoint_id,
        job_id,
        settings,
        seed,
        num_tokens,
        finish_reason,
    ) = row
    return CompletionRecord(
        prompt_id=prompt_id,
        text=text,
        model_id=model_id,
        checkpoint_id=checkpoint_id,
        job_id=job_id,
        settings=json.loads(settings),
        seed=seed,
        num_tokens=num_tokens,
        finish_reason=finish_reason,
        id=id_,
    )


def add_completions(
    project: Project,
    records: Iterable[CompletionRecord],
    conn: sqlite3.Connection | None = None,
) -> list[int]:
    """Insert completions in one transaction (or inside `conn`'s open one); returns ids.

    A completion whose prompt, model, checkpoint or job does not exist raises ValueError
    and, without `conn`, writes nothing.
    """
    records = list(records)
    for i, r in enumerate(records):
        if not isinstance(r.text, str):
            raise ValueError(
                f"completion {i + 1}: text must be a string, not {type(r.text).__name__}"
            )
    if conn is None:
        with project.transaction() as own:
            return _insert(own, records)
    return _insert(conn, records)


def _insert(conn: sqlite3.Connection, records: list[CompletionRecord]) -> list[int]:
    now = time.time()
    sql = (
        "INSERT INTO completions (prompt_id, text, model_id, checkpoint_id, job_id, settings, "
        "seed, num_tokens, finish_reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    ids = []
    for i, r in enumerate(records):
        try:
            cursor = conn.execute(
                sql,
                [
                    r.prompt_id,
                    r.text,
                    r.model_id,
                    r.checkpoint_id,
                    r.job_id,
                    json.dumps(r.settings),
                    r.seed,
                    r.num_tokens,
                    r.finish_reason,
                    now,
                ],
            )
        except sqlite3.IntegrityError as exc:
            raise ValueError(
                f"completion {i + 1} (prompt {r.prompt_id}, model {r.model_id}, checkpoint "
                f"{r.checkpoint_id}, job {r.job_id}) refers to a row that does not exist: {exc}"
            ) from exc
        ids.append(inserted_rowid(cursor))
    return ids


def _where(**filters: int | None) -> tuple[str, list]:
    clauses, params = [], []
    for column, value in filters.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params


def get_completion(project: Project, id: int) -> CompletionRecord:
    row = project.db.execute(f"SELECT {_COLUMNS} FROM completions WHERE id = ?", [id]).fetchone()
    if row is None:
        raise KeyError(f"no completion {id}")
    return _from_row(row)


def list_completions(
    project: Project,
    prompt_id: int | None = None,
    job_id: int | None = None,
    checkpoint_id: int | None = None,
    model_id: int | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[CompletionRecord]:
    """Completions in id order, filtered by whichever ids are given; `limit=None` for all."""
    where, params = _where(
        prompt_id=prompt_id, job_id=job_id, checkpoint_id=checkpoint_id, model_id=model_id
    )
    rows = project.db.execute(
        f"SELECT {_COLUMNS} FROM completions{where} ORDER BY id LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset],
    ).fetchall()
    return [_from_row(r) for r in rows]


def count_completions(
    project: Project,
    prompt_id: int | None = None,
    job_id: int | None = None,
    checkpoint_id: int | None = None,
    model_id: int | None = None,
) -> int:
    where, params = _where(
        prompt_id=prompt_id, job_id=job_id, checkpoint_id=checkpoint_id, model_id=model_id
    )
    return project.db.execute(f"SELECT count(*) FROM completions{where}", params).fetchone()[0]
