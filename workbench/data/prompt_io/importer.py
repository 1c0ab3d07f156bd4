"""All-or-nothing import of prompts from JSONL, CSV or Parquet."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from workbench.data import prompts
from workbench.data.prompt_io import readers
from workbench.data.prompt_io.errors import (
    ImportCancelled,
    ImportFailed,
    LineError,
    resolve_format,
)
from workbench.data.prompt_io.limits import max_chars, too_long
from workbench.data.prompt_io.progress import CALLS as PROGRESS_CALLS
from workbench.data.prompt_io.progress import Ticker
from workbench.data.prompt_io.validate import to_record
from workbench.project import Project

VALIDATE_SHARE = 0.5  # of the progress bar; the insert takes the rest
INSERT_CHUNK = 2000  # rows written between two looks at `cancelled`
EXAMPLES = 5  # duplicate lines named in a warning


@dataclass
class ImportReport:
    imported: int
    by_split: dict[str, int]
    warnings: list[str] = field(default_factory=list)


def import_prompts(
    project: Project,
    path: str | Path,
    fmt: str | None = None,
    default_split: str = "train",
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportReport:
    """Read, validate and insert every prompt of a file, or none of them.

    Every record is validated before anything is written; if any is bad, ImportFailed
    lists each bad line (JSONL, CSV: the physical line where the record starts) or row
    (Parquet, 1-based). A file that cannot be read or holds no records raises
    ImportFailed with line 0. A prompt, reference or answer longer than the project's
    limit (`limits.max_chars`) is a bad record. The records are then inserted in one
    transaction.

    `progress(done, total)` counts records: it runs about 100 times while
    records are validated and written (validation takes done to total // 2, the insert
    to total), and once with (total, total) after the commit. `cancelled()` is checked
    as often, and before the insert; when it returns True, ImportCancelled is raised and
    nothing is written (an insert under way is rolled back).

    Duplicates, of prompts already in the project or of earlier records of the same file
    (same text, or same messages; split, reference and tags are not compared), are
    imported anyway and counted in the report's warnings. Skipping them would make the
    result depend on what the project happens to hold, break "N records in, N prompts
    out" and the export/import round trip, and lose records that differ only in their
    reference, split or metadata; a repeat is often deliberate (the same question in two
    splits to measure a leak, or weighting). The warning names the first repeated lines
    so the user can fix the file and re-import.
    """
    path = Path(path)
    if not isinstance(default_split, str) or not default_split.strip():
        raise ValueError("default_split must be a non-empty string")
    try:
        fmt = resolve_format(path, fmt)
    except ValueError as exc:
        raise ImportFailed([LineError(0, str(exc))], path) from exc
    ticker = Ticker(
        progress,
        cancelled,
        lambda: ImportCancelled(f"import of {path.name} cancelled; nothing was imported"),
    )

    ticker.check()
    source = readers.open_source(path, fmt)
    total = source.total
    if total == 0:
        raise ImportFailed([LineError(0, f"{path.name} holds no prompts")], path)
    ticker.total = total

    records: list[prompts.PromptRecord] = []
    lines: list[int] = []
    errors: list[LineError] = []
    src = str(path.resolve())
    limit = max_chars(project)
    for done, (where, item) in enumerate(source.items, 1):
        ticker.at(done * VALIDATE_SHARE)
        record = to_record(item, default_split, src) if isinstance(item, dict) else item
        if not isinstance(record, str):
            record = _oversized(record, limit) or record
        if isinstance(record, str):
            errors.append(LineError(where, f"{source.unit} {where}: {record}"))
        else:
            records.append(record)
            lines.append(where)
    if errors:
        raise ImportFailed(errors, path)

    warnings = _duplicate_warnings(project, records, lines, source.unit)
    ticker.check()
    chunk = max(1, min(INSERT_CHUNK, total // PROGRESS_CALLS))
    with project.transaction() as conn:
        for start in range(0, len(records), chunk):
            ticker.at(total * VALIDATE_SHARE + start * (1 - VALIDATE_SHARE))
            prompts.add_prompts(project, records[start : start + chunk], conn=conn)
    ticker.finish()
    return ImportReport(
        imported=len(records),
        by_split=dict(Counter(r.split for r in records)),
        warnings=warnings,
    )


def _oversized(record: prompts.PromptRecord, limit: int) -> str | None:
    answer = record.metadata.get("completion")
    return too_long(
        {
            "prompt" if record.text is not None else "messages": record.text or record.messages,
            "reference": record.reference,
            "completion": answer if isinstance(answer, str) else None,
            # the other fields together, so a huge extra column cannot slip in as metadata
            "the other fields": json.dumps(
                {k: v for k, v in record.metadata.items() if k != "completion"}, ensure_ascii=False
            ),
        },
        limit,
    )


def _duplicate_warnings(
    project: Project, records: list[prompts.PromptRecord], lines: list[int], unit: str
) -> list[str]:
    existing = prompts.existing_keys(project)
    first_seen: dict[tuple[str, str], int] = {}
    in_file: list[str] = []
    in_project: list[int] = []
    for record, line in zip(records, lines, strict=True):
        key = record.key
        if key in existing:
            in_project.append(line)
        if key in first_seen:
            in_file.append(f"{unit} {line} repeats {unit} {first_seen[key]}")
        else:
            first_seen[key] = line
    warnings = []
    if in_file:
        shown = ", ".join(in_file[:EXAMPLES]) + (", ..." if len(in_file) > EXAMPLES else "")
        warnings.append(
            f"{len(in_file)} prompt{_s(in_file)} of the file "
            f"repeat{'' if _s(in_file) else 's'} an earlier one ({shown}); imported anyway."
        )
    if in_project:
        shown = ", ".join(str(n) for n in in_project[:EXAMPLES])
        shown += ", ..." if len(in_project) > EXAMPLES else ""
        warnings.append(
            f"{len(in_project)} prompt{_s(in_project)} already in the project "
            f"({unit}s {shown}); imported anyway."
        )
    return warnings


def _s(items: list) -> str:
    return "s" if len(items) != 1 else ""
