"""Finding the answer inside a completion: shared by the answer-checking kinds.

Each function returns the extracted text, or None when the thing looked for is not
there (the caller turns that into a reason such as "tag <answer> missing").
"""

from __future__ import annotations

import re

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
# ```python / ```py fences (any case), then the code up to the closing fence.
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)

DEFAULT_MARKER = "The answer is"


def answer_tag(text: str) -> str | None:
    """The content of the last ``<answer>…</answer>`` (models restate; the last counts)."""
    found = _ANSWER_TAG.findall(text)
    return found[-1] if found else None


def after_marker(text: str, marker: str) -> str | None:
    """The rest of the line after the last occurrence of ``marker``."""
    at = text.rfind(marker)
    if at < 0:
        return None
    return text[at + len(marker) :].split("\n", 1)[0]


def last_line(text: str) -> str:
    """The last non-blank line ('' for a blank text)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{…}`` (or ``\\fbox{…}``), braces balanced."""
    starts = [m.end() for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text)]
    for start in reversed(starts):
        depth = 1
        for i in range(start, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    return text[start:i]
        # Unbalanced: try an earlier box.
    return None


def fenced_block(text: str, languages: tuple[str, ...]) -> str | None:
    """The last fenced block whose language is one of ``languages`` (lower case), else
    the last fence without a language, else None."""
    blocks = _FENCE.findall(text)
    for lang, body in reversed(blocks):
        if lang.lower() in languages:
            return body
    for lang, body in reversed(blocks):
        if not lang:
            return body
    return None


def extract_answer(text: str, how: str, marker: str = DEFAULT_MARKER) -> tuple[str | None, str]:
    """(answer text or None, reason when None) for ``how`` in whole / last_line /
    answer_tag / after_marker / boxed."""
    if how == "whole":
        return text, ""
    if how == "last_line":
        return last_line(text), ""
    if how == "answer_tag":
        found = answer_tag(text)
        return found, "" if found is not None else "tag <answer> missing"
    if how == "after_marker":
        found = after_marker(text, marker)
        return found, "" if found is not None else f"marker {marker!r} not found"
    if how == "boxed":
        found = boxed(text)
        return found, "" if found is not None else "no \\boxed{} found"
    raise ValueError(f"unknown extraction {how!r}")
