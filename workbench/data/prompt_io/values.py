"""Values no importer may store, whatever the file format: a number that is not finite
(a Parquet NaN, JSON's 1e999), text with a lone surrogate (SQLite cannot encode it, so
the insert would fail after validation said yes) or a NUL character (the mark of a
binary file read as text)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

_MAX_DEPTH = 64  # deeper than any real record; stops a walk of a hostile one early


def value_problem(raw: dict[str, Any]) -> str | None:
    """Why one of the record's values cannot be stored, naming its field; None if all can."""
    for name, value in raw.items():
        problem = _problem(value, 0)
        if problem:
            return f"'{name}' {problem}"
    return None


def _problem(value: Any, depth: int) -> str | None:
    if depth > _MAX_DEPTH:
        return "is nested too deeply"
    if isinstance(value, float) and not math.isfinite(value):
        return f"holds {value}, which is not a JSON number (write null or a number)"
    if isinstance(value, str):
        return _text_problem(value)
    children: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list | tuple):
        children = enumerate(value)
    else:
        return None
    for key, child in children:
        problem = (_text_problem(key) if isinstance(key, str) else None) or _problem(
            child, depth + 1
        )
        if problem:
            return problem
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character (is this a binary file?); remove it and import again"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone UTF-16 surrogate (such as \\ud800), which is not text; fix it"
    return None
