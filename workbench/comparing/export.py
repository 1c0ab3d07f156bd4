"""Writing a comparison's per-prompt rows to a file: CSV (one column group per entrant, for a
spreadsheet) or JSONL (one row as `figures(..., rows=True)` gives it per line). Both are
written atomically, so an interrupted export never leaves half a file."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.atomic_write import write_atomically

FORMATS = ("csv", "jsonl")
# Between the answers of one entrant to one prompt (one per seed) in a CSV cell.
ANSWER_SEPARATOR = "\n---\n"


def export_format(path: Path) -> str:
    """ "csv" or "jsonl" from the file's suffix; ValueError naming the suffixes otherwise."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"Export to a .csv or .jsonl file, not {Path(path).name!r}.")
    return suffix


def _pass_counts(answers: list[dict], rule: str) -> str:
    """ "k/n": how many of the entrant's answers pass `rule`."""
    passed = sum(bool(a["passed"].get(rule)) for a in answers)
    return f"{passed}/{len(answers)}"


def csv_header(labels: Sequence[str], rules: Sequence[str]) -> list[str]:
    header = ["prompt_id", "prompt", "reference"]
    for label in labels:
        header += [f"{label}: answer", f"{label}: reward", f"{label}: length", f"{label}: verdict"]
        header += [f"{label}: passes {rule}" for rule in rules]
    return header


def csv_row(row: dict[str, Any], rules: Sequence[str]) -> list[Any]:
    line: list[Any] = [row["prompt_id"], row["prompt"], row["reference"]]
    for cell in row["entrants"]:
        answers = cell["answers"]
        line += [
            ANSWER_SEPARATOR.join(a["text"] for a in answers),
            "" if cell["reward"] is None else cell["reward"],
            "" if cell["length_tokens"] is None else cell["length_tokens"],
            cell["verdict"] or "",
        ]
        line += [_pass_counts(answers, rule) for rule in rules]
    return line


def export_rows(path: Path, result: dict[str, Any], rows: Sequence[dict[str, Any]]) -> int:
    """Write `rows` (a subset of `result["rows"]`, e.g. those a filter shows) of the
    comparison `result` (what `figures` returns) to `path`; how many rows were written."""
    fmt = export_format(path)
    labels = [model["label"] for model in result["models"]]
    rules = list(result["rules"])

    def write_csv(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(csv_header(labels, rules))
            writer.writerows(csv_row(row, rules) for row in rows)

    def write_jsonl(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as handle:
            for row in rows:
                line = {"comparison_id": result["comparison_id"], **row}
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")

    write_atomically(Path(path), write_csv if fmt == "csv" else write_jsonl)
    return len(rows)
