"""Imports that leave out optional heavy modules a library would load for nothing."""

from __future__ import annotations

import importlib
import sys


def import_sqlite_utils_without_pandas() -> None:
    """Import sqlite_utils as if pandas were absent (its optional import sees an
    ImportError); pandas stays importable afterwards for anyone who needs it."""
    if "sqlite_utils" in sys.modules or "pandas" in sys.modules:
        return
    sys.modules["pandas"] = None  # type: ignore[assignment]  # makes `import pandas` fail
    try:
        importlib.import_module("sqlite_utils")
    finally:
        del sys.modules["pandas"]
