"""One raw record (a dict from any reader) to a PromptRecord, or the reason it is bad.

Field names (the first present one wins; the others of its kind go to metadata):
- the prompt: `messages`, then `prompt`, `text`, `question`. `messages`, or a `prompt`
  that is a list, is a chat (TRL's conversational format): a list of {role, content}
  with roles system / user / assistant and at least one user message;
- the reference answer: `reference`, then `answer`, `solution`, `ground_truth`; a
  string or a number (stored as text);
- TRL's SFT formats, whose answer becomes the reference (what SFT with sft_source
  "references" imitates) when no reference field is given: a `messages` chat whose last
  message is the assistant's is the prompt of the messages before it and the answer of
  that message (with a reference field, the answer is kept in metadata as
  `completion`); a `completion` (prompt-completion format), text or a list of one
  assistant message;
- `split`: a non-empty string (default: the import's default split);
- `tags`: a list of non-empty strings;
- every other field goes into metadata.
A null value (an empty CSV cell, a Parquet null) counts as a missing field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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

    messages, answer = _split_answer(prompt_key, messages)
    found = _find_reference(raw, answer)
    if isinstance(found, str):
        return found

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

    used = {prompt_key, "split", "tags", *found.fields}
    metadata = {k: v for k, v in raw.items() if k not in used and v is not None}
    if found.kept_answer is not None:
        metadata.setdefault("completion", found.kept_answer)
    return PromptRecord(
        text=text,
        messages=messages,
        split=split.strip(),
        reference=found.reference,
        tags=list(tags),
        metadata=metadata,
        source=source,
    )


class _Bad:
    def __init__(self, value: Any):
        self.type = type_name(value)


def _split_answer(
    prompt_key: str, messages: list[dict] | None
) -> tuple[list[dict] | None, str | None]:
    """(prompt messages, answer): a `messages` chat that ends with the assistant's message
    (TRL's conversational SFT format) is the prompt before it and that message's content.
    A validated chat has a user message, so the messages before the answer are not empty."""
    if prompt_key == "messages" and messages and messages[-1]["role"] == "assistant":
        return messages[:-1], messages[-1]["content"]
    return messages, None


@dataclass
class _Found:
    reference: str | None
    fields: tuple[str, ...]  # the raw fields it was read from
    kept_answer: str | None = None  # a chat's answer, when a reference field was given


def _find_reference(raw: dict, answer: str | None) -> _Found | str:
    """The reference: a reference field's, else the chat's answer, else a `completion`;
    or why the field that gives it is bad."""
    key = next((k for k in REFERENCE_FIELDS if raw.get(k) is not None), None)
    if key is not None:
        checked = _reference(raw[key])
        if isinstance(checked, _Bad):
            return f"'{key}' must be a string or a number, not {checked.type}"
        if checked is not None:
            return _Found(checked, (key,), answer)
    fields = (key,) if key else ()
    if answer is not None:
        return _Found(answer, fields)
    if raw.get("completion") is None:
        return _Found(None, fields)
    completion = _completion(raw["completion"])
    if isinstance(completion, _Bad):
        return (
            "'completion' must be a string or a list of one assistant message, "
            f"not {completion.type}"
        )
    return _Found(completion, (*fields, "completion"))


def _completion(value: Any) -> str | None | _Bad:
    """TRL's prompt-completion `completion`: text, or (conversational) one assistant message."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        message = value[0]
        content = message.get("content")
        if message.get("role") == "assistant" and isinstance(content, str) and content.strip():
            return content
    return _Bad(value)


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
