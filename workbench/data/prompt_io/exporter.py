"""Export of prompts to JSONL, CSV or Parquet, written atomically, in the shape the
importer reads back to the same records.

Every format writes one record per prompt with the fields `prompt` (text), `split`,
`reference` (when set), `tags` (when any) and each metadata key as a field of its own, so
the file also reads naturally in other tools (pandas, spreadsheets, TRL's standard
prompt-only format). Chats go under `prompt` when every exported prompt is a chat (TRL's
conversational format), else under `messages`. Per format:
- JSONL: one JSON object per line, UTF-8.
- CSV: UTF-8 with a header; `messages` as a JSON list; tags joined by `;` (a JSON list
  when a tag holds a `;` or surrounding spaces); string metadata as is, other metadata
  values as JSON text. CSV has no types, so non-string metadata (numbers, lists, ...)
  come back from a CSV as their JSON text; JSONL and Parquet keep them exactly.
- Parquet: native Arrow columns where a column's values survive Arrow unchanged, else
  (mixed types, objects with differing keys, ...) JSON text, with those columns named in
  the file's key-value metadata (`workbench`) so the importer decodes them.
A null or empty value reads back as a missing field, so metadata keys whose value is
null are not preserved.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.atomic_write import write_atomically
from workbench.data import prompts
from workbench.data.prompt_io.errors import ExportCancelled, resolve_format
from workbench.data.prompt_io.progress import Ticker
from workbench.data.prompt_io.readers import PARQUET_META_KEY, parse_tags_cell
from workbench.project import Project

BASE_COLUMNS = ("prompt", "messages", "split", "reference", "tags")


def export_prompts(
    project: Project,
    path: str | Path,
    fmt: str | None = None,
    split: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Write the project's prompts (one split, or all) to `path`; returns how many.

    The file is written next to `path` under a temporary name and renamed over it at the
    end, so `path` never holds a partial export. `progress(done, total)` counts prompts
    (about 100 calls); when `cancelled()` turns True, ExportCancelled is raised and `path`
    is left as it was. Raises ValueError for an unknown format.
    """
    path = Path(path)
    fmt = resolve_format(path, fmt)
    writer: Callable[[Path, list[dict], Ticker], None] = {
        "jsonl": _write_jsonl,
        "csv": _write_csv,
        "parquet": _write_parquet,
    }[fmt]
    ticker = Ticker(
        progress,
        cancelled,
        lambda: ExportCancelled(f"export to {path.name} cancelled; nothing was written"),
    )
    ticker.check()
    records = prompts.list_prompts(project, split=split, limit=None)
    # All chats: written under `prompt`, TRL's conversational prompt-only format. Mixed
    # with text prompts: under `messages`, so that each column keeps one type.
    chat_key = "prompt" if all(r.messages is not None for r in records) else "messages"
    rows = [flat_row(r, chat_key) for r in records]
    ticker.total = len(rows)

    def write(tmp: Path) -> None:
        writer(tmp, rows, ticker)
        ticker.check()

    write_atomically(path, write)
    ticker.finish()
    return len(rows)


def flat_row(record: prompts.PromptRecord, chat_key: str = "messages") -> dict[str, Any]:
    """The exported fields of one prompt, in the order they are written.

    Metadata keys named like a field of lower priority (e.g. `question` next to `prompt`,
    or `answer` next to `reference`, as an import leaves them) read back as metadata."""
    row: dict[str, Any] = {}
    if record.messages is not None:
        # `messages` outranks a `prompt` that an import left in the metadata
        row["messages" if "prompt" in record.metadata else chat_key] = record.messages
    else:
        row["prompt"] = record.text
    row["split"] = record.split
    if record.reference is not None:
        row["reference"] = record.reference
    if record.tags:
        row["tags"] = list(record.tags)
    for key, value in record.metadata.items():
        row.setdefault(key, value)
    return row


def _columns(rows: list[dict]) -> list[str]:
    names = {name: None for name in ("prompt", "split")}
    for row in rows:
        names.update(dict.fromkeys(row))
    base = [n for n in BASE_COLUMNS if n in names]
    return base + [n for n in names if n not in BASE_COLUMNS]


def _write_jsonl(path: Path, rows: list[dict], ticker: Ticker) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for i, row in enumerate(rows):
            ticker.at(i)
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")


def _tags_cell(tags: list[str]) -> str:
    joined = "; ".join(tags)
    if parse_tags_cell(joined) == tags:
        return joined
    return json.dumps(tags, ensure_ascii=False)


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "tags" and isinstance(value, list) and all(isinstance(t, str) for t in value):
        return _tags_cell(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _write_csv(path: Path, rows: list[dict], ticker: Ticker) -> None:
    columns = _columns(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for i, row in enumerate(rows):
            ticker.at(i)
            writer.writerow([_csv_cell(name, row.get(name)) for name in columns])


def _same(a: Any, b: Any) -> bool:
    """Equal with types: 1 and 1.0 and True differ, key order does not matter."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _write_parquet(path: Path, rows: list[dict], ticker: Ticker) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays, names, json_columns = [], [], []
    columns = _columns(rows)
    for n, name in enumerate(columns):
        ticker.at(len(rows) * n / len(columns))  # columns are built one by one
        values = [row.get(name) for row in rows]
        array = None
        try:
            array = pa.array(values)
            if not _same(array.to_pylist(), values):
                array = None
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            array = None
        if array is None:
            json_columns.append(name)
            array = pa.array(
                [None if v is None else json.dumps(v, ensure_ascii=False) for v in values],
                type=pa.string(),
            )
        elif name in ("prompt", "split", "reference") and pa.types.is_null(array.type):
            array = array.cast(pa.string())
        arrays.append(array)
        names.append(name)
    meta = {PARQUET_META_KEY: json.dumps({"json_columns": json_columns}).encode()}
    table = pa.Table.from_arrays(arrays, names=names).replace_schema_metadata(meta)
    pq.write_table(table, path)
