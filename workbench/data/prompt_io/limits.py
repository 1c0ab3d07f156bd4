"""How long an imported text may be: a project setting, so one stray 64 MiB cell cannot
bloat the database and every view that shows it, while a project with genuinely long
documents can raise it."""

from __future__ import annotations

from typing import Any

from workbench.project import Project

MAX_CHARS_SETTING = "import_max_chars"
DEFAULT_MAX_CHARS = 256 * 1024  # characters of one prompt, completion, reference or chat


def max_chars(project: Project) -> int:
    """The project's limit on the characters of one imported field."""
    value = project.setting(MAX_CHARS_SETTING, DEFAULT_MAX_CHARS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return DEFAULT_MAX_CHARS  # a hand-edited setting that makes no sense
    return value


def set_max_chars(project: Project, limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"the import limit must be a positive number of characters, not {limit!r}")
    project.set_setting(MAX_CHARS_SETTING, limit)
    return limit


def length(value: Any) -> int:
    """Characters of a text, or of a chat's message contents together."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        contents = (m.get("content") for m in value if isinstance(m, dict))
        return sum(len(c) for c in contents if isinstance(c, str))
    return 0


def too_long(fields: dict[str, Any], limit: int) -> str | None:
    """Why the first field over `limit` is refused, or None when every one fits."""
    for name, value in fields.items():
        size = length(value)
        if size > limit:
            return (
                f"'{name}' is {size:,} characters, over the project's limit of {limit:,}; "
                f"shorten it, or raise the limit with --max-chars N "
                f"(the project setting '{MAX_CHARS_SETTING}')"
            )
    return None
