"""Turning an exception into the sentence a user sees (CLI, job error column, GUI)."""

from __future__ import annotations

from pathlib import Path


def user_message(exc: BaseException, place: str | Path | None = None) -> str:
    """The engine's errors and our ValueErrors already say what happened and what to do;
    a KeyError's text is its argument (str() would quote it); anything else gets its type.
    With ``place`` (the project folder), a full disk there is named whatever error it
    caused (an I/O error, SQLite's, torch's)."""
    from engine.disk_space import as_disk_full
    from engine.errors import EngineError

    full = as_disk_full(exc, place) if place is not None else None
    if full is not None:
        return str(full)
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, EngineError | ValueError | KeyError | FileNotFoundError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
