"""TRL's preference dataset formats, one record at a time (pure functions).

Formats (TRL's names; "conversational" holds chat messages, "standard" plain text):
- `standard`: {"prompt": str, "chosen": str, "rejected": str}
- `conversational`: {"prompt": [messages], "chosen": [assistant message], "rejected": [...]}
- `standard-implicit`: {"chosen": prompt + chosen, "rejected": prompt + rejected}
- `conversational-implicit`: {"chosen": [prompt messages, assistant], "rejected": [...]}
- `unpaired`: {"prompt": str, "completion": str, "label": bool}
- `unpaired-conversational`: {"prompt": [messages], "completion": [assistant], "label": bool}

Reading tells the format from each record's fields as TRL does, so a file needs no
format name. An implicit prompt is found as TRL's `extract_prompt` finds it: the
longest common start of chosen and rejected, less a last space, which goes with the
completions ("The sky is" + " blue." / " green."). Like TRL, it does not cut back to a
word boundary: chosen and rejected that share their first letters leave those letters
in the prompt, and completions that start alike (both "The answer is ...") leave that
start in the prompt too; give the prompt explicitly where that matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.training.examples import PairExample, Prompt, UnpairedExample
from workbench.data.prompts import messages_problem, type_name

PAIR_FORMATS = ("standard", "conversational", "standard-implicit", "conversational-implicit")
UNPAIRED_FORMATS = ("unpaired", "unpaired-conversational")
FORMATS = PAIR_FORMATS + UNPAIRED_FORMATS


@dataclass(frozen=True)
class ParsedPair:
    prompt: Prompt
    chosen: str
    rejected: str


@dataclass(frozen=True)
class ParsedUnpaired:
    prompt: Prompt
    completion: str
    desirable: bool


# --- writing ---------------------------------------------------------------------------


def default_format(prompts: Sequence[Prompt], unpaired: bool = False) -> str:
    """Conversational when any prompt is a chat (text prompts become one user message)."""
    chat = any(isinstance(p, list) for p in prompts)
    if unpaired:
        return "unpaired-conversational" if chat else "unpaired"
    return "conversational" if chat else "standard"


def as_text(prompt: Prompt) -> str:
    """A prompt as plain text; a chat only when it is a single user message."""
    if isinstance(prompt, str):
        return prompt
    if len(prompt) == 1 and prompt[0].get("role") == "user":
        return prompt[0]["content"]
    raise ValueError(
        f"a prompt is a chat of {len(prompt)} messages, which a standard (text) format cannot "
        "hold; export in a conversational format"
    )


def as_messages(prompt: Prompt) -> list[dict[str, Any]]:
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def pair_row(example: PairExample, fmt: str) -> dict[str, Any]:
    if fmt == "standard":
        return {
            "prompt": as_text(example.prompt),
            "chosen": example.chosen,
            "rejected": example.rejected,
        }
    if fmt == "standard-implicit":
        prompt = as_text(example.prompt)
        return {"chosen": prompt + example.chosen, "rejected": prompt + example.rejected}
    messages = as_messages(example.prompt)
    if fmt == "conversational":
        return {
            "prompt": messages,
            "chosen": _assistant(example.chosen),
            "rejected": _assistant(example.rejected),
        }
    if fmt == "conversational-implicit":
        return {
            "chosen": messages + _assistant(example.chosen),
            "rejected": messages + _assistant(example.rejected),
        }
    raise ValueError(f"{fmt!r} is not a pair format; use one of {', '.join(PAIR_FORMATS)}")


def unpaired_row(example: UnpairedExample, fmt: str) -> dict[str, Any]:
    if fmt == "unpaired":
        return {
            "prompt": as_text(example.prompt),
            "completion": example.completion,
            "label": example.desirable,
        }
    if fmt == "unpaired-conversational":
        return {
            "prompt": as_messages(example.prompt),
            "completion": _assistant(example.completion),
            "label": example.desirable,
        }
    raise ValueError(f"{fmt!r} is not an unpaired format; use one of {', '.join(UNPAIRED_FORMATS)}")


# --- reading ---------------------------------------------------------------------------


def parse_row(raw: dict[str, Any]) -> ParsedPair | ParsedUnpaired | str:
    """One record of any format, or why it cannot be read (a sentence for the user)."""
    raw = {k: _without_nulls(v) for k, v in raw.items() if v is not None}
    if "chosen" in raw or "rejected" in raw:
        missing = [k for k in ("chosen", "rejected") if k not in raw]
        if missing:
            return (
                f"a preference pair needs both 'chosen' and 'rejected'; '{missing[0]}' is missing"
            )
        return _parse_pair(raw)
    if "completion" in raw or "label" in raw:
        return _parse_unpaired(raw)
    return (
        "expected 'chosen' and 'rejected' (a preference pair) or 'prompt', 'completion' "
        "and 'label' (an unpaired label)"
    )


def _without_nulls(value: Any) -> Any:
    """Parquet gives every message every key of its struct column, absent ones as null."""
    if isinstance(value, list):
        return [
            {k: v for k, v in m.items() if v is not None} if isinstance(m, dict) else m
            for m in value
        ]
    return value


def _parse_pair(raw: dict[str, Any]) -> ParsedPair | str:
    chosen, rejected = raw["chosen"], raw["rejected"]
    chat = isinstance(chosen, list)
    if isinstance(rejected, list) != chat:
        return "'chosen' and 'rejected' must both be text or both be lists of messages"
    # As TRL's maybe_extract_prompt: a prompt of the other kind than the completions
    # (text next to chats) is a label, and the prompt is the completions' common start.
    if "prompt" not in raw or isinstance(raw["prompt"], list) != chat:
        return _parse_implicit(chosen, rejected, chat)
    try:
        return ParsedPair(
            _prompt(raw["prompt"]),
            _completion(raw["chosen"], "chosen"),
            _completion(raw["rejected"], "rejected"),
        )
    except _Invalid as problem:
        return str(problem)


def _parse_implicit(chosen: Any, rejected: Any, chat: bool) -> ParsedPair | str:
    for name, value in (("chosen", chosen), ("rejected", rejected)):
        problem = messages_problem(value, name) if chat else _text_problem(value, name)
        if problem:
            return problem
    split = extract_prompt(chosen, rejected)
    if isinstance(split, str):
        return split
    try:
        return ParsedPair(
            _prompt(split[0]),
            _completion(split[1], "chosen"),
            _completion(split[2], "rejected"),
        )
    except _Invalid as problem:
        return f"after taking the shared start as the prompt: {problem}"


def extract_prompt(
    chosen: Sequence, rejected: Sequence
) -> tuple[Sequence, Sequence, Sequence] | str:
    """(prompt, chosen rest, rejected rest) as TRL's `extract_prompt` splits them, or why
    there is no prompt where TRL would return an empty or arbitrary one."""
    n = min(len(chosen), len(rejected))
    at = next((i for i in range(n) if chosen[i] != rejected[i]), None)
    if at is None:
        return (
            "'chosen' and 'rejected' are the same, or one is the start of the other, "
            "so the prompt cannot be told apart; give it in a 'prompt' field"
        )
    if at > 0 and chosen[at - 1] == " ":  # the space before a word goes with the completion
        at -= 1
    if at == 0:
        return (
            "'chosen' and 'rejected' share no leading prompt; give the prompt in a 'prompt' field"
        )
    return chosen[:at], chosen[at:], rejected[at:]


def _parse_unpaired(raw: dict[str, Any]) -> ParsedUnpaired | str:
    for key in ("prompt", "completion", "label"):
        if key not in raw:
            return f"an unpaired label needs 'prompt', 'completion' and 'label'; '{key}' is missing"
    if not isinstance(raw["label"], bool):
        return f"'label' must be true or false, not {type_name(raw['label'])}"
    if isinstance(raw["prompt"], list) != isinstance(raw["completion"], list):
        return "'prompt' and 'completion' must both be text or both be lists of messages"
    try:
        return ParsedUnpaired(
            _prompt(raw["prompt"]), _completion(raw["completion"], "completion"), raw["label"]
        )
    except _Invalid as problem:
        return str(problem)


class _Invalid(Exception):
    """A field that cannot be read; the message is a sentence for the user."""


def _text_problem(value: Any, name: str) -> str | None:
    if not isinstance(value, str):
        return f"'{name}' must be text or a list of messages, not {type_name(value)}"
    if not value.strip():
        return f"'{name}' is empty"
    return None


def _prompt(value: Any) -> Prompt:
    problem = (
        messages_problem(value, "prompt")
        if isinstance(value, list)
        else _text_problem(value, "prompt")
    )
    if problem:
        raise _Invalid(problem)
    return value


def _completion(value: Any, name: str) -> str:
    """A completion's text: a string, or a list holding one assistant message."""
    if not isinstance(value, list):
        problem = _text_problem(value, name)
        if problem:
            raise _Invalid(problem)
        return value
    if len(value) != 1 or not isinstance(value[0], dict) or value[0].get("role") != "assistant":
        raise _Invalid(f"'{name}' must be one assistant message, not {_describe(value)}")
    return _completion(value[0].get("content"), name)


def _describe(messages: list) -> str:
    roles = [m.get("role") if isinstance(m, dict) else type_name(m) for m in messages]
    return (
        f"{len(messages)} message(s) ({', '.join(map(str, roles))})"
        if messages
        else "an empty list"
    )
