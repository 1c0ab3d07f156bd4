"""Import and export of prompts: JSONL, CSV and Parquet, all-or-nothing imports with
every bad line reported, atomic exports that re-import to the same records.

Modules: `readers` (per-format record iterators), `validate` (raw record to
PromptRecord), `importer`, `exporter`, `errors` (LineError, ImportFailed, ...).
"""

from workbench.data.prompt_io.errors import (
    FORMATS,
    SUFFIXES,
    ExportCancelled,
    ImportCancelled,
    ImportFailed,
    LineError,
    PromptIOError,
)
from workbench.data.prompt_io.exporter import export_prompts
from workbench.data.prompt_io.importer import ImportReport, import_prompts

__all__ = [
    "FORMATS",
    "SUFFIXES",
    "ExportCancelled",
    "ImportCancelled",
    "ImportFailed",
    "ImportReport",
    "LineError",
    "PromptIOError",
    "export_prompts",
    "import_prompts",
]
