"""The examples an offline run trains on, as plain data (no torch).

The application builds them from the project's labels; the engine tokenizes them. A
prompt is plain text or a list of chat messages ``{"role", "content"}``; a completion is
the assistant's text that follows it. ``key`` is stable across runs for the same labelled
content, so cached reference log-probabilities can be found again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

Prompt = str | list[dict[str, Any]]


@dataclass(frozen=True)
class PairExample:
    """One preference: ``chosen`` is better than ``rejected`` for ``prompt``."""

    key: str
    prompt: Prompt
    chosen: str
    rejected: str
    margin: float | None = None  # optional required reward margin (reward model only)


@dataclass(frozen=True)
class UnpairedExample:
    """One completion labelled desirable or undesirable (KTO)."""

    key: str
    prompt: Prompt
    completion: str
    desirable: bool


@dataclass(frozen=True)
class DemonstrationExample:
    """A completion to imitate for ``prompt`` (SFT): a reference answer, or a completion
    the labels chose."""

    key: str
    prompt: Prompt
    completion: str


@dataclass(frozen=True)
class PromptExample:
    """A prompt online RL samples completions for; ``reference`` is the known answer the
    rules may check against."""

    prompt: Prompt
    reference: str | None = None
    prompt_id: int | None = None


def content_key(prompt: Prompt, *completions: str) -> str:
    """A short stable key for the content of an example (sha256 of its canonical JSON)."""
    text = json.dumps([prompt, list(completions)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def examples_hash(
    examples: list[PairExample] | list[UnpairedExample] | list[DemonstrationExample],
) -> str:
    """sha256 over the examples in order: the dataset's identity for caches and runs."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(
            json.dumps(asdict(example), sort_keys=True, ensure_ascii=False).encode("utf-8")
        )
        digest.update(b"\n")
    return digest.hexdigest()
