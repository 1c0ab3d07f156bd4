"""Unpaired labels: one completion judged desirable (thumbs-up) or not, by whom (human,
ai, rule). They are the data of KTO, which needs no pairs.

As with comparisons, a human who disagrees with an automatic label adds a label of
their own and the old one points at it through `superseded_by`: nothing is lost, and
datasets use only labels not superseded.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from workbench.db.inserted import inserted_rowid
from workbench.labels.comparisons import SOURCES
from workbench.project import Project


@dataclass
class CompletionLabel:
    id: int
    completion_id: int
    desirable: bool
    source: str
    judge: str | None
    confidence: float | None
    note: str | None
    superseded_by: int | None


_COLUMNS = "id, completion_id, desirable, source, judge, confidence, note, superseded_by"
_INSERT = (
    "INSERT INTO completion_labels (completion_id, desirable, source, judge, confidence, note, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def add_label(
    project: Project,
    completion_id: int,
    desirable: bool,
    source: str,
    *,
    judge: str | None = None,
    confidence: float | None = None,
    note: str | None = None,
    conn: sqlite3.Connection | None = None,
) -> int:
    """Store one label (inside `conn`'s open transaction when given); returns its id.

    Raises ValueError for an unknown source or a completion that does not exist."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    if not isinstance(desirable, bool):
        raise ValueError(f"desirable must be true or false, not {desirable!r}")
    values = [completion_id, int(desirable), source, judge, confidence, note, time.time()]
    try:
        cursor = (conn or project.db.conn).execute(_INSERT, values)
    except sqlite3.IntegrityError as exc:
        raise ValueError(f"no completion {completion_id} to label") from exc
    return inserted_rowid(cursor)


def _record(row) -> CompletionLabel:
    id_, completion_id, desirable, source, judge, confidence, note, superseded_by = row
    return CompletionLabel(
        id_, completion_id, bool(desirable), source, judge, confidence, note, superseded_by
    )


def get_label(project: Project, label_id: int) -> CompletionLabel:
    row = project.db.execute(
        f"SELECT {_COLUMNS} FROM completion_labels WHERE id = ?", [label_id]
    ).fetchone()
    if row is None:
        raise KeyError(f"no completion label {label_id}")
    return _record(row)


def override_label(
    project: Project, label_id: int, desirable: bool, note: str | None = None
) -> int:
    """A human label replacing another one, both kept; returns the new label's id."""
    old = get_label(project, label_id)
    with project.transaction() as conn:
        new_id = add_label(project, old.completion_id, desirable, "human", note=note, conn=conn)
        conn.execute(
            "UPDATE completion_labels SET superseded_by = ? WHERE id = ?", [new_id, label_id]
        )
    return new_id


def active_labels(project: Project, source: str | None = None) -> list[CompletionLabel]:
    """Labels not superseded, in id order, of one source or all."""
    where, args = "superseded_by IS NULL", []
    if source:
        where, args = where + " AND source = ?", [source]
    rows = project.db.execute(
        f"SELECT {_COLUMNS} FROM completion_labels WHERE {where} ORDER BY id", args
    ).fetchall()
    return [_record(r) for r in rows]
