"""Turning an exception into the sentence a user sees (CLI, job error column, GUI)."""

from __future__ import annotations


def user_message(exc: BaseException) -> str:
    """The engine's errors and our ValueErrors already say what happened and what to do;
    a KeyError's text is its argument (str() would quote it); anything else gets its type."""
    from engine.errors import EngineError

    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, EngineError | ValueError | KeyError | FileNotFoundError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
