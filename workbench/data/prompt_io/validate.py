"""One raw record (a dict from any reader) to a PromptRecord, or the reason it is bad.

Field names (the first present one wins; the others of its kind go to metadata):
- the prompt: `messages`, then `prompt`, `text`, `question`. `messages`, or a `prompt`
  that is a list, is a chat (TRL's conversational format): a list of {role, content}
  with roles system / user / assistant and at least one user message;
- the reference answer: `reference`, then `answer`, `solution`, `ground_truth`; a
  string or a number (stored as text);
- `split`: a non-empty string (default: the import's default split);
- `tags`: a list of non-empty strings;
- every other field goes into metadata.
A null value (an empty CSV cell, a Parquet null) counts as a missing field.
"""

from __future__ import annotations

import math
from typing import Any

from workbench.data.prompts import PromptRecord, messages_problem, type_name

PROMPT_FIELDS = ("messages", "prompt", "text", "question")
REFERENCE_FIELDS = ("reference", "answer", "solution", "ground_truth")
RESERVED = frozenset((*PROMPT_FIELDS, *REFERENCE_FIELDS, "split", "tags"))


def to_record(raw: dict, default_split: str, source: str | None = None) -> PromptRecord | str:
    prompt_key = next((k for k in PROMPT_FIELDS if raw.get(k) is not None), None)
    if prompt_key is None:
        empty = [k for k in PROMPT_FIELDS if k in raw]
        if empty:
            return f"the prompt is empty ('{empty[0]}' has no value)"
        return "no prompt: expected a 'prompt', 'text', 'question' or 'messages' field"
    value = raw[prompt_key]
    text = messages = None
    if prompt_key == "messages" or (prompt_key == "prompt" and isinstance(value, list)):
        problem = messages_problem(value, prompt_key)
        if problem:
            return problem
        messages = value
    elif isinstance(value, str):
        if not value.strip():
            return f"the prompt is empty ('{prompt_key}' is blank)"
        text = value
    else:
        wanted = "a string or a list of messages" if prompt_key == "prompt" else "a string"
        return f"'{prompt_key}' must be {wanted}, not {type_name(value)}"

    reference_key = next((k for k in REFERENCE_FIELDS if raw.get(k) is not None), None)
    reference: str | None = None
    if reference_key is not None:
        checked = _reference(raw[reference_key])
        if isinstance(checked, _Bad):
            return f"'{reference_key}' must be a string or a number, not {checked.type}"
        reference = checked

    split = raw.get("split")
    if split is None:
        split = default_split
    elif not isinstance(split, str):
        return f"'split' must be a string, not {type_name(split)}"
    elif not split.strip():
        return "'split' is blank"

    tags = raw.get("tags")
    if tags is None:
        tags = []
    elif not isinstance(tags, list):
        return f"'tags' must be a list of strings, not {type_name(tags)}"
    else:
        for i, tag in enumerate(tags):
            if not isinstance(tag, str):
                return f"'tags' must be a list of strings; item {i + 1} is {type_name(tag)}"
            if not tag.strip():
                return f"'tags' item {i + 1} is blank"

    used = {prompt_key, reference_key, "split", "tags"}
    metadata = {k: v for k, v in raw.items() if k not in used and v is not None}
    return PromptRecord(
        text=text,
        messages=messages,
        split=split.strip(),
        reference=reference,
        tags=list(tags),
        metadata=metadata,
        source=source,
    )


class _Bad:
    def __init__(self, value: Any):
        self.type = type_name(value)


def _reference(value: Any) -> str | None | _Bad:
    if isinstance(value, bool):
        return _Bad(value)
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None  # a float column's missing value
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return _Bad(value)
