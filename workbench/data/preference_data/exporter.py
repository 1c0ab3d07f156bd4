"""Writing a dataset in one of TRL's formats, as JSONL or Parquet, atomically: the file
is written under a temporary name beside the target and renamed over it at the end, so
the target never holds a partial export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.atomic_write import write_atomically
from workbench.data.preference_data.dataset import LabelDataset
from workbench.data.preference_data.files import file_type
from workbench.data.preference_data.trl_formats import (
    FORMATS,
    UNPAIRED_FORMATS,
    default_format,
    pair_row,
    unpaired_row,
)
from workbench.data.prompt_io.errors import ExportCancelled
from workbench.data.prompt_io.progress import Ticker


def export_dataset(
    dataset: LabelDataset,
    path: str | Path,
    fmt: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[str, int]:
    """Write the dataset's pairs (pair formats) or unpaired examples (unpaired formats)
    to `path` (.jsonl or .parquet); returns (format, records written).

    `fmt=None` picks `standard`, or `conversational` when a prompt is a chat. Raises
    ValueError for an unknown format or file type, or a chat that a text format cannot
    hold; ExportCancelled when `cancelled()` turns True (`path` left as it was)."""
    path = Path(path)
    kind = file_type(path)
    if fmt is None:
        fmt = default_format([e.prompt for e in dataset.pairs])
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    ticker = Ticker(
        progress,
        cancelled,
        lambda: ExportCancelled(f"export to {path.name} cancelled; nothing was written"),
    )
    if fmt in UNPAIRED_FORMATS:
        rows = [unpaired_row(e, fmt) for e in dataset.unpaired]
    else:
        rows = [pair_row(e, fmt) for e in dataset.pairs]
    ticker.total = len(rows)
    writer = _write_jsonl if kind == "jsonl" else _write_parquet
    write_atomically(path, lambda tmp: writer(tmp, rows, ticker))
    ticker.finish()
    return fmt, len(rows)


def _write_jsonl(path: Path, rows: list[dict[str, Any]], ticker: Ticker) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for i, row in enumerate(rows):
            ticker.at(i)
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")
    ticker.check()


def _write_parquet(path: Path, rows: list[dict[str, Any]], ticker: Ticker) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ticker.check()
    # Every row of a format has the same fields and types, so Arrow infers one schema
    # (messages as lists of {role, content} structs), the columns TRL's loaders expect.
    pq.write_table(pa.Table.from_pylist(rows), path)
    ticker.check()
