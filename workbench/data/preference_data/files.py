"""Which file types preference data is read from and written to."""

from __future__ import annotations

from pathlib import Path

# CSV is left out: TRL's conversational formats hold lists of messages, which a CSV cell
# can only carry as JSON text that other tools would not read back as messages.
FILE_TYPES = {".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}


def file_type(path: Path) -> str:
    """The file type named by the suffix (jsonl or parquet); ValueError for any other."""
    found = FILE_TYPES.get(path.suffix.lower())
    if found is None:
        raise ValueError(f"cannot tell the file type of {path.name!r}; name it .jsonl or .parquet")
    return found
