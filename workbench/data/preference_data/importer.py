"""All-or-nothing import of preference data in TRL's formats, from JSONL or Parquet.

Every record is read and checked before anything is written; if any is bad, ImportFailed
names each bad line (JSONL) or row (Parquet) and nothing changes. Then, in one
transaction: a prompt already in the project (same text, or same messages) is used
again, any other is created; each distinct completion text of a prompt becomes one
completion (no model, settings {"imported_from": file name}); each pair becomes a
comparison "chosen beats rejected" (outcome `a`, completion_ids [chosen, rejected],
judge "import: <file name>"), each unpaired record a completion label.
A prompt or completion longer than the project's limit (prompt_io.limits) is a bad record.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from workbench.data.completions import CompletionRecord, add_completions
from workbench.data.preference_data.cleaning import prompt_key
from workbench.data.preference_data.files import file_type
from workbench.data.preference_data.labels import prompt_value
from workbench.data.preference_data.trl_formats import ParsedPair, ParsedUnpaired, parse_row
from workbench.data.prompt_io import readers
from workbench.data.prompt_io.errors import ImportCancelled, ImportFailed, LineError
from workbench.data.prompt_io.limits import max_chars, too_long
from workbench.data.prompt_io.progress import Ticker
from workbench.data.prompts import PromptRecord, add_prompts
from workbench.labels.comparisons import SOURCES, add_comparison
from workbench.labels.completion_labels import add_label
from workbench.project import Project

VALIDATE_SHARE = 0.5  # of the progress bar; writing takes the rest

Parsed = ParsedPair | ParsedUnpaired


@dataclass
class PairImportReport:
    pairs: int  # comparisons added
    unpaired: int  # completion labels added
    prompts_created: int
    prompts_reused: int  # prompts of the file already in the project
    completions: int  # completions added
    skipped_identical: int = 0  # pairs whose chosen and rejected are the same text
    warnings: list[str] = field(default_factory=list)


def import_preferences(
    project: Project,
    path: str | Path,
    *,
    source: str = "human",
    split: str = "train",
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PairImportReport:
    """Import every record of a file, or none (see the module doc).

    `source` is the labels' source (human, ai, rule); `split` that of new prompts.
    `progress(done, total)` counts records (reading takes done to total // 2, writing to
    total); when `cancelled()` turns True, ImportCancelled is raised and nothing is
    written. A pair whose chosen and rejected are the same text says nothing: it is
    skipped and counted, not an error."""
    path = Path(path)
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    if not isinstance(split, str) or not split.strip():
        raise ValueError("split must be a non-empty string")
    try:
        kind = file_type(path)
    except ValueError as exc:
        raise ImportFailed([LineError(0, str(exc))], path) from exc
    ticker = Ticker(
        progress,
        cancelled,
        lambda: ImportCancelled(f"import of {path.name} cancelled; nothing was imported"),
    )
    ticker.check()
    parsed = _read(path, kind, ticker, max_chars(project))
    ticker.check()
    with project.transaction() as conn:
        report = _write(project, conn, parsed, _Target(path, source, split.strip()), ticker)
    ticker.finish()
    return report


def _read(path: Path, kind: str, ticker: Ticker, limit: int) -> list[Parsed]:
    source = readers.open_source(path, kind)
    if source.total == 0:
        raise ImportFailed([LineError(0, f"{path.name} holds no records")], path)
    ticker.total = source.total
    parsed: list[Parsed] = []
    errors: list[LineError] = []
    for done, (where, item) in enumerate(source.items, 1):
        ticker.at(done * VALIDATE_SHARE)
        row = parse_row(item) if isinstance(item, dict) else item
        if not isinstance(row, str):
            row = _oversized(row, limit) or row
        if isinstance(row, str):
            errors.append(LineError(where, f"{source.unit} {where}: {row}"))
        else:
            parsed.append(row)
    if errors:
        raise ImportFailed(errors, path)
    return parsed


def _oversized(row: Parsed, limit: int) -> str | None:
    if isinstance(row, ParsedPair):
        texts = {"prompt": row.prompt, "chosen": row.chosen, "rejected": row.rejected}
    else:
        texts = {"prompt": row.prompt, "completion": row.completion}
    return too_long(texts, limit)


@dataclass(frozen=True)
class _Target:
    path: Path
    source: str
    split: str

    @property
    def judge(self) -> str:
        return f"import: {self.path.name}"


def _write(
    project: Project,
    conn: sqlite3.Connection,
    parsed: list[Parsed],
    target: _Target,
    ticker: Ticker,
) -> PairImportReport:
    kept = [p for p in parsed if not (isinstance(p, ParsedPair) and p.chosen == p.rejected)]
    prompt_ids, created = _prompt_ids(project, conn, [p.prompt for p in kept], target)
    completion_ids = _completion_ids(project, conn, kept, prompt_ids, target)
    pairs = unpaired = 0
    for i, item in enumerate(kept):
        ticker.at(ticker.total * (VALIDATE_SHARE + (1 - VALIDATE_SHARE) * i / len(kept)))
        key = prompt_key(item.prompt)
        if isinstance(item, ParsedPair):
            ids = [completion_ids[key, item.chosen], completion_ids[key, item.rejected]]
            add_comparison(project, prompt_ids[key], ids, "a", target.source, judge=target.judge)
            pairs += 1
        else:
            add_label(
                project,
                completion_ids[key, item.completion],
                item.desirable,
                target.source,
                judge=target.judge,
                conn=conn,
            )
            unpaired += 1
    skipped = len(parsed) - len(kept)
    warnings = (
        [f"{skipped} pair(s) with the same text chosen and rejected were skipped."]
        if skipped
        else []
    )
    return PairImportReport(
        pairs, unpaired, created, len(prompt_ids) - created, len(completion_ids), skipped, warnings
    )


def _prompt_ids(
    project: Project, conn: sqlite3.Connection, prompts: list, target: _Target
) -> tuple[dict[str, int], int]:
    """The id of each distinct prompt, found in the project or created; and how many
    were created. A prompt in the project twice resolves to its first row."""
    existing: dict[str, int] = {}
    for id_, text, messages in conn.execute("SELECT id, text, messages FROM prompts ORDER BY id"):
        existing.setdefault(prompt_key(prompt_value(text, messages)), id_)
    wanted = {prompt_key(p): p for p in prompts}
    ids = {key: existing[key] for key in wanted if key in existing}
    new = [key for key in wanted if key not in existing]
    records = [_prompt_record(wanted[key], target) for key in new]
    ids.update(zip(new, add_prompts(project, records, conn=conn), strict=True))
    return ids, len(new)


def _prompt_record(prompt, target: _Target) -> PromptRecord:
    text, messages = (prompt, None) if isinstance(prompt, str) else (None, prompt)
    return PromptRecord(
        text=text, messages=messages, split=target.split, source=str(target.path.resolve())
    )


def _completion_ids(
    project: Project,
    conn: sqlite3.Connection,
    items: list[Parsed],
    prompt_ids: dict[str, int],
    target: _Target,
) -> dict[tuple[str, str], int]:
    """One completion per distinct (prompt, text) of the file, so a completion in several
    pairs (A > B, A > C) is one row, as it would be had it been labelled in the app."""
    wanted: dict[tuple[str, str], None] = {}
    for item in items:
        texts = [item.chosen, item.rejected] if isinstance(item, ParsedPair) else [item.completion]
        wanted.update(dict.fromkeys((prompt_key(item.prompt), t) for t in texts))
    settings = {"imported_from": target.path.name}
    records = [
        CompletionRecord(prompt_id=prompt_ids[key], text=text, settings=settings)
        for key, text in wanted
    ]
    return dict(zip(wanted, add_completions(project, records, conn=conn), strict=True))
