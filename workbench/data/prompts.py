"""Prompts: the rows a model is sampled on, plain text or chat messages, with a split,
an optional reference answer, tags and free-form metadata (docs/architecture.md, "The project folder and database")."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.db.inserted import inserted_rowid
from workbench.project import Project

ROLES = ("system", "user", "assistant")


class PromptInUseError(ValueError):
    """Prompts that completions or comparisons still refer to cannot be deleted."""


@dataclass
class PromptRecord:
    text: str | None = None
    messages: list[dict] | None = None
    split: str = "train"
    reference: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    id: int | None = None

    @property
    def display_text(self) -> str:
        """The text, or for a chat the content of its last user message."""
        if self.text is not None:
            return self.text
        for message in reversed(self.messages or []):
            if message.get("role") == "user":
                return str(message.get("content", ""))
        return ""

    @property
    def engine_input(self) -> str | list[dict]:
        """What a model is given: the chat messages, or else the plain text."""
        if self.messages:
            return self.messages
        assert self.text is not None, "a stored prompt has its text or its messages"
        return self.text

    @property
    def key(self) -> tuple[str, str]:
        """Identity of the prompt itself (not its split, reference or tags), for duplicates."""
        if self.text is not None:
            return ("text", self.text)
        return ("messages", json.dumps(self.messages, sort_keys=True, ensure_ascii=False))


def type_name(value: Any) -> str:
    """How a value is called in a message to the user (JSON's vocabulary)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def messages_problem(messages: Any, name: str = "messages") -> str | None:
    """Why `messages` is not a valid chat prompt, or None when it is."""
    if not isinstance(messages, list):
        return f"'{name}' must be a list of {{role, content}} objects, not {type_name(messages)}"
    if not messages:
        return f"'{name}' is an empty list of messages"
    for i, message in enumerate(messages):
        where = f"{name}[{i}]"
        if not isinstance(message, dict):
            return f"{where} must be an object with 'role' and 'content', not {type_name(message)}"
        role = message.get("role")
        if not isinstance(role, str):
            return f"{where}: 'role' must be a string (system, user or assistant), not {type_name(role)}"
        if role not in ROLES:
            return f"{where}: role {role!r} is not one of system, user, assistant"
        content = message.get("content")
        if not isinstance(content, str):
            return f"{where}: 'content' must be a string, not {type_name(content)}"
        if not content.strip():
            return f"{where}: 'content' is empty"
    if not any(m["role"] == "user" for m in messages):
        return f"'{name}' has no user message"
    return None


def record_problem(record: PromptRecord) -> str | None:
    """Why a record cannot be stored, or None when it can."""
    if (record.text is None) == (record.messages is None):
        return "a prompt needs exactly one of text or messages"
    if record.text is not None:
        if not isinstance(record.text, str):
            return f"text must be a string, not {type_name(record.text)}"
        if not record.text.strip():
            return "text is empty"
    else:
        problem = messages_problem(record.messages)
        if problem:
            return problem
    if not isinstance(record.split, str) or not record.split.strip():
        return "split must be a non-empty string"
    if record.reference is not None and not isinstance(record.reference, str):
        return f"reference must be a string, not {type_name(record.reference)}"
    if not isinstance(record.tags, list) or not all(isinstance(t, str) for t in record.tags):
        return "tags must be a list of strings"
    if not isinstance(record.metadata, dict):
        return f"metadata must be an object, not {type_name(record.metadata)}"
    return None


def _from_row(row: Sequence) -> PromptRecord:
    id_, text, messages, split, reference, tags, metadata, source = row
    return PromptRecord(
        text=text,
        messages=json.loads(messages) if messages is not None else None,
        split=split,
        reference=reference,
        tags=json.loads(tags),
        metadata=json.loads(metadata),
        source=source,
        id=id_,
    )


_COLUMNS = "id, text, messages, split, reference, tags, metadata, source"


def add_prompts(
    project: Project, records: Iterable[PromptRecord], conn: sqlite3.Connection | None = None
) -> list[int]:
    """Insert records and return their new ids, in order.

    With `conn` (a connection inside an open `project.transaction()`) the rows join that
    transaction; without it they are written in a transaction of their own, all or none.
    Raises ValueError, writing nothing, when a record is not valid (see `record_problem`).
    """
    records = list(records)
    for i, record in enumerate(records):
        problem = record_problem(record)
        if problem:
            raise ValueError(f"prompt {i + 1} of {len(records)}: {problem}")
    if conn is None:
        with project.transaction() as own:
            return _insert(own, records)
    return _insert(conn, records)


def _insert(conn: sqlite3.Connection, records: list[PromptRecord]) -> list[int]:
    now = time.time()
    sql = (
        "INSERT INTO prompts (text, messages, split, reference, tags, metadata, source, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )
    ids = []
    for r in records:
        cursor = conn.execute(
            sql,
            [
                r.text,
                json.dumps(r.messages, ensure_ascii=False) if r.messages is not None else None,
                r.split.strip(),
                r.reference,
                json.dumps(r.tags, ensure_ascii=False),
                json.dumps(r.metadata, ensure_ascii=False),
                r.source,
                now,
            ],
        )
        ids.append(inserted_rowid(cursor))
    return ids


def get_prompt(project: Project, id: int) -> PromptRecord:
    row = project.db.execute(f"SELECT {_COLUMNS} FROM prompts WHERE id = ?", [id]).fetchone()
    if row is None:
        raise KeyError(f"no prompt {id}")
    return _from_row(row)


def _icontains(haystack: str | None, needle: str) -> bool:
    return haystack is not None and needle in haystack.casefold()


def _where(project: Project, split: str | None, search: str | None) -> tuple[str, dict]:
    clauses, params = [], {}
    if split is not None:
        clauses.append("split = :split")
        params["split"] = split
    if search:
        # Case-insensitive for all of Unicode (SQLite's lower() and LIKE fold ASCII only);
        # in chats only the message contents are searched, not the JSON keys or roles.
        project.db.conn.create_function("wb_icontains", 2, _icontains, deterministic=True)
        clauses.append(
            "(wb_icontains(text, :q) OR wb_icontains(reference, :q) OR EXISTS ("
            "SELECT 1 FROM json_each(prompts.messages) AS m "
            "WHERE wb_icontains(json_extract(m.value, '$.content'), :q)))"
        )
        params["q"] = search.casefold()
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params


def list_prompts(
    project: Project,
    split: str | None = None,
    search: str | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[PromptRecord]:
    """Prompts in id order; `search` is a case-insensitive substring of the text, the
    reference or any message's content. `limit=None` returns all."""
    where, params = _where(project, split, search)
    params.update(limit=-1 if limit is None else limit, offset=offset)
    rows = project.db.execute(
        f"SELECT {_COLUMNS} FROM prompts{where} ORDER BY id LIMIT :limit OFFSET :offset", params
    ).fetchall()
    return [_from_row(r) for r in rows]


def count_prompts(project: Project, split: str | None = None, search: str | None = None) -> int:
    where, params = _where(project, split, search)
    return project.db.execute(f"SELECT count(*) FROM prompts{where}", params).fetchone()[0]


def split_counts(project: Project) -> dict[str, int]:
    rows = project.db.execute(
        "SELECT split, count(*) FROM prompts GROUP BY split ORDER BY split"
    ).fetchall()
    return {split: n for split, n in rows}


def prompt_ids(project: Project, split: str | None = None) -> list[int]:
    where, params = _where(project, split, None)
    return [r[0] for r in project.db.execute(f"SELECT id FROM prompts{where} ORDER BY id", params)]


def existing_keys(project: Project) -> set[tuple[str, str]]:
    """The `PromptRecord.key` of every prompt in the project (for duplicate warnings)."""
    keys = set()
    for text, messages in project.db.execute("SELECT text, messages FROM prompts"):
        if text is not None:
            keys.add(("text", text))
        else:
            keys.add(
                ("messages", json.dumps(json.loads(messages), sort_keys=True, ensure_ascii=False))
            )
    return keys


def delete_prompts(project: Project, ids: Iterable[int]) -> int:
    """Delete prompts; returns how many existed and were deleted.

    Refuses (PromptInUseError, nothing deleted) when completions or comparisons refer to
    any of them: those are the user's labels and samples, and docs/architecture.md asks for every
    checkpoint traceable to the labels that made it, so they are never removed as a side
    effect. Delete the completions and comparisons first if that is really meant.
    """
    ids = sorted({int(i) for i in ids})
    if not ids:
        return 0
    wanted = json.dumps(ids)
    with project.transaction() as conn:
        problems = []
        for table in ("completions", "comparisons"):
            rows = conn.execute(
                f"SELECT prompt_id, count(*) FROM {table} "
                "WHERE prompt_id IN (SELECT value FROM json_each(?)) "
                "GROUP BY prompt_id ORDER BY prompt_id",
                [wanted],
            ).fetchall()
            if rows:
                shown = ", ".join(str(r[0]) for r in rows[:10])
                more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
                problems.append(
                    f"{sum(r[1] for r in rows)} {table} refer to prompt(s) {shown}{more}"
                )
        if problems:
            raise PromptInUseError(
                "Cannot delete: "
                + "; ".join(problems)
                + ". Delete those first; nothing was deleted."
            )
        return conn.execute(
            "DELETE FROM prompts WHERE id IN (SELECT value FROM json_each(?))", [wanted]
        ).rowcount
