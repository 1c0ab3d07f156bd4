"""Per-format record readers: each yields (line or row, raw dict) for a record it could
parse, or (line or row, problem) for one it could not. An unreadable file raises
ImportFailed at once. pyarrow is imported only when a Parquet file is read."""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.data.prompt_io.errors import ImportFailed, LineError
from workbench.data.prompt_io.values import value_problem
from workbench.data.prompts import type_name

# Parquet key-value metadata that names the columns the exporter stored as JSON text
# (columns Arrow cannot hold natively, e.g. values of mixed types).
PARQUET_META_KEY = b"workbench"
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")
# A long prompt must not trip the csv module's default 128 KiB field limit.
_CSV_FIELD_LIMIT = 1 << 30


@dataclass
class Source:
    total: int  # records the file holds (non-blank lines, CSV records or Parquet rows)
    unit: str  # "line" or "row": what the numbers in items count
    items: Iterator[tuple[int, dict | str]]


def open_source(path: Path, fmt: str) -> Source:
    if fmt == "jsonl":
        source = _jsonl(path)
    elif fmt == "csv":
        source = _csv(path)
    else:
        source = _parquet(path)
    source.items = _storable(source.items)
    return source


def _storable(items: Iterator[tuple[int, dict | str]]) -> Iterator[tuple[int, dict | str]]:
    """Every format's records checked once for values no importer may store."""
    for where, item in items:
        problem = value_problem(item) if isinstance(item, dict) else None
        yield where, problem or item


def _fail(path: Path, message: str) -> ImportFailed:
    return ImportFailed([LineError(0, message)], path)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise _fail(path, f"file not found: {path}")
    if path.is_dir():
        raise _fail(path, f"{path} is a folder, not a file")


def _read_text(path: Path) -> str:
    _check_file(path)
    try:
        data = path.read_bytes()
    except PermissionError as exc:
        raise _fail(path, f"cannot read {path}: permission denied") from exc
    except OSError as exc:
        raise _fail(path, f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _fail(
            path,
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "save it as UTF-8 and import again",
        ) from exc


# --- JSON Lines -------------------------------------------------------------------------


class _NotJSON(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, standard JSON has no such
    numbers, and stored they would make the project's JSON unreadable to other tools."""


def _refuse_constant(name: str) -> Any:
    raise _NotJSON(f"invalid JSON: {name} is not a JSON number (write null or a number)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to inf without any NaN or Infinity
        raise _NotJSON(f"invalid JSON: {text[:20]} is too large for a number")
    return value


def _bounded_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # over Python's 4300-digit limit for int()
        raise _NotJSON(f"invalid JSON: a number of {len(text):,} digits") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in pairs:
        if key in record:
            raise _NotJSON(f"invalid JSON: the field '{key}' appears twice in one object")
        record[key] = value
    return record


def loads_strict(text: str) -> Any:
    """json.loads that refuses NaN, the infinities, numbers too large to hold and a field
    named twice (json would keep the last silently), raising ValueError."""
    return json.loads(
        text,
        parse_constant=_refuse_constant,
        parse_float=_finite_float,
        parse_int=_bounded_int,
        object_pairs_hook=_unique_keys,
    )


def _jsonl(path: Path) -> Source:
    lines = _read_text(path).split("\n")  # not splitlines(): U+2028 etc. may sit in strings
    total = sum(1 for line in lines if line.strip())

    def items() -> Iterator[tuple[int, dict | str]]:
        first = True
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            hint = ""
            if first and line.lstrip().startswith("["):
                hint = " (this looks like a JSON array; write one JSON object per line)"
            first = False
            try:
                value = loads_strict(line)
            except json.JSONDecodeError as exc:
                yield number, f"invalid JSON: {exc.msg} (column {exc.colno}){hint}"
                continue
            except _NotJSON as exc:
                yield number, str(exc)
                continue
            except RecursionError:
                yield number, "invalid JSON: nested too deeply"
                continue
            if not isinstance(value, dict):
                yield number, f"expected a JSON object, found {type_name(value)}{hint}"
                continue
            yield number, value

    return Source(total, "line", items())


# --- CSV --------------------------------------------------------------------------------


def parse_tags_cell(cell: str) -> Any:
    """A CSV tags cell: `a; b; c`, or a JSON list (used when a tag holds a `;`)."""
    if cell.lstrip().startswith("["):
        try:
            return loads_strict(cell)
        except (ValueError, RecursionError):
            pass
    return [tag.strip() for tag in cell.split(";") if tag.strip()]


def _csv_cell(name: str, cell: str) -> Any:
    if cell == "":
        return None  # an empty cell is a missing value
    if name == "tags":
        return parse_tags_cell(cell)
    if name in ("messages", "prompt") and cell.lstrip().startswith("["):
        try:
            value = loads_strict(cell)
        except (ValueError, RecursionError):
            return cell
        # A prompt cell is a chat only when it is a list of objects: "[1, 2] sorted is"
        # stays text. A messages cell that is any other JSON is reported by validation.
        if name == "messages" or (value and all(isinstance(m, dict) for m in value)):
            return value
    return cell


def _csv(path: Path) -> Source:
    text = _read_text(path)
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    # strict: an unterminated quote is an error, not a cell that swallows the rest
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    fatal: tuple[int, str] | None = None
    previous = 0  # reader.line_num after the previous record: a record starts one later
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            fatal = _csv_problem(text, previous + 1, exc)
            break
        start, previous = previous + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank line, or a row of empty cells
        if header is None:
            # a column without a name (a spreadsheet's stray column) is named by position
            header = [c.strip() or f"column{i + 1}" for i, c in enumerate(cells)]
            header_line = start
        else:
            rows.append((start, cells))
    if header is not None:
        seen: set[str] = set()
        for name in header:
            if name in seen:
                message = f"line {header_line}: the header names column {name!r} twice"
                raise ImportFailed([LineError(header_line, message)], path)
            seen.add(name)

    def items() -> Iterator[tuple[int, dict | str]]:
        columns = header or []  # no header means no rows either
        width = len(columns)
        for start, cells in rows:
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                yield (
                    start,
                    (
                        f"{len(cells)} cells but the header names {width} columns "
                        "(a comma in an unquoted cell?)"
                    ),
                )
                continue
            # a short row leaves its last columns missing
            n = min(width, len(cells))
            pairs = zip(columns[:n], cells[:n], strict=True)
            yield start, {name: _csv_cell(name, cell) for name, cell in pairs}
        if fatal:
            yield fatal[0], fatal[1]

    return Source(len(rows) + (1 if fatal else 0), "line", items())


def _csv_problem(text: str, start: int, exc: csv.Error) -> tuple[int, str]:
    """(line, message) for a record the csv module cannot read, starting at line `start`."""
    opened = _unclosed_quote(text, start)
    if opened is not None:
        return opened, 'unterminated quoted field: the " that opens it is never closed'
    return start, f"unreadable CSV: {exc}"


def _unclosed_quote(text: str, start: int) -> int | None:
    """The line of the quote that opens a field still open at the end of the text, reading
    from the start of line `start` as the csv module does (a "" inside quotes is a quote)."""
    at = 0
    for _ in range(start - 1):
        at = text.find("\n", at) + 1
        if at == 0:
            return None
    opened: int | None = None
    field_start = True
    i = at
    while i < len(text):
        char = text[i]
        if opened is None:
            if char == '"' and field_start:
                opened = i
            field_start = char in ",\r\n"
        elif char == '"':
            if text.startswith('""', i):
                i += 1
            else:
                opened, field_start = None, False
        i += 1
    if opened is None:
        return None
    return text.count("\n", 0, opened) + 1


# --- Parquet ----------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """Arrow's Python values made storable as JSON (dates, decimals, bytes, maps)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    return str(value)


def _parquet(path: Path) -> Source:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _check_file(path)
    try:
        parquet = pq.ParquetFile(path)
        total = parquet.metadata.num_rows
        meta = parquet.schema_arrow.metadata or {}
    except PermissionError as exc:
        raise _fail(path, f"cannot read {path}: permission denied") from exc
    except (OSError, pa.ArrowException) as exc:
        raise _fail(path, f"not a readable Parquet file: {exc}") from exc
    try:
        json_columns = set(json.loads(meta[PARQUET_META_KEY]).get("json_columns", []))
    except (KeyError, ValueError, AttributeError):
        json_columns = set()

    def convert(record: dict) -> dict:
        raw = {}
        for name, value in record.items():
            if _PANDAS_INDEX.fullmatch(name):
                continue
            if name in json_columns and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            raw[name] = _jsonable(value)
        return raw

    def items() -> Iterator[tuple[int, dict | str]]:
        row = 0
        try:
            for batch in parquet.iter_batches(batch_size=4096):
                for record in batch.to_pylist():
                    row += 1
                    yield row, convert(record)
        except (OSError, pa.ArrowException) as exc:
            yield row + 1, f"cannot read the rest of the file: {exc}"

    return Source(total, "row", items())
