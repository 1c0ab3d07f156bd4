"""What an import reports: bad records by line, an unreadable file, a cancellation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SUFFIXES = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}
FORMATS = ("jsonl", "csv", "parquet")
SHOWN_ERRORS = 20


@dataclass(frozen=True)
class LineError:
    """A bad record. `line` is the physical line (JSONL, CSV) or the row (Parquet),
    1-based; 0 means the file as a whole. `message` starts with where ("line 7: ...",
    "row 7: ...") so it reads on its own."""

    line: int
    message: str

    def __str__(self) -> str:
        return self.message


class PromptIOError(Exception):
    """Base of the errors an import or export raises for the user to read."""


class ImportFailed(PromptIOError):
    """Nothing was imported: the file could not be read, or some records are bad."""

    def __init__(self, errors: list[LineError], path: str | Path):
        self.errors = list(errors)
        self.path = Path(path)
        super().__init__(str(self))

    def __str__(self) -> str:
        if len(self.errors) == 1 and self.errors[0].line == 0:
            return f"Cannot import {self.path.name}: {self.errors[0].message}"
        n = len(self.errors)
        head = (
            f"Nothing was imported from {self.path.name}: "
            f"{n} bad record{'s' if n != 1 else ''}. Fix them and import again."
        )
        lines = [head, *(f"  {e.message}" for e in self.errors[:SHOWN_ERRORS])]
        if n > SHOWN_ERRORS:
            lines.append(f"  ... and {n - SHOWN_ERRORS} more")
        return "\n".join(lines)


class ImportCancelled(PromptIOError):
    """The user cancelled the import; nothing was written."""


class ExportCancelled(PromptIOError):
    """The user cancelled the export; the target file was left as it was."""


def resolve_format(path: Path, fmt: str | None) -> str:
    """The format named by `fmt`, or else by the file's suffix; ValueError if neither."""
    accepted = ", ".join(SUFFIXES)
    if fmt is not None:
        name = fmt.lower().lstrip(".")
        name = "jsonl" if name == "json" else name
        if name not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return name
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise ValueError(
            f"cannot tell the format of {path.name!r} from its suffix; "
            f"accepted suffixes are {accepted}"
        )
    return found
