"""Read a chat completion reply as a probability for one of two choice labels.

With logprobs, the probability is P(first label) / (P(first) + P(second)) over the top
candidates of the first non-blank reply token, so a judge that is 60/40 unsure says 0.6
rather than a hard 1. Without them (or when neither label is among the candidates), the
reply text's first word decides: 1.0 or 0.0. Tokens and words match after stripping
spaces, case-insensitively (" A", "a" and "A" are all the label "A").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from engine.errors import EngineError

REPLY_EXCERPT = 200
_FIRST_WORD = re.compile(r"[^\W_]+")


class ReplyError(EngineError):
    """The endpoint answered, but not in a form the judge can read."""


@dataclass(frozen=True)
class Choice:
    prob: float  # probability of the first label
    source: str  # "logprobs" or "text"
    text: str  # the reply text, cut to REPLY_EXCERPT characters


def read_choice(body: Any, labels: tuple[str, str]) -> Choice:
    """The probability of ``labels[0]`` in a chat completion ``body`` (parsed JSON)."""
    choice = _first_choice(body)
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else None
    text = text if isinstance(text, str) else ""
    prob = prob_from_logprobs(choice.get("logprobs"), labels)
    if prob is not None:
        return Choice(prob, "logprobs", text[:REPLY_EXCERPT])
    prob = prob_from_text(text, labels)
    if prob is None:
        raise ReplyError(
            f"The judge replied {text[:80]!r}, which is neither {labels[0]!r} nor {labels[1]!r}.",
            "Check that the template asks for exactly one of the two choices, or try a "
            "stronger judge model.",
        )
    return Choice(prob, "text", text[:REPLY_EXCERPT])


def prob_from_logprobs(logprobs: Any, labels: tuple[str, str]) -> float | None:
    """P(labels[0]) normalised over the two labels, or None when the reply carries no
    usable logprobs (absent, empty, or neither label among the candidates)."""
    entry = _first_token_entry(logprobs)
    if entry is None:
        return None
    wanted = [label.strip().casefold() for label in labels]
    mass = [0.0, 0.0]
    seen: set[str] = set()
    # The sampled token is listed on its own and usually again among the top candidates.
    for candidate in [entry, *(entry.get("top_logprobs") or [])]:
        token, logprob = _token_and_logprob(candidate)
        if token is None or token in seen:
            continue
        seen.add(token)
        key = token.strip().casefold()
        if key in wanted:
            mass[wanted.index(key)] += math.exp(logprob)
    total = mass[0] + mass[1]
    return mass[0] / total if total > 0 else None


def prob_from_text(text: str, labels: tuple[str, str]) -> float | None:
    """1.0 or 0.0 from the reply's first word, or None when it is neither label."""
    match = _FIRST_WORD.search(text or "")
    word = match.group(0).casefold() if match else ""
    if word == labels[0].strip().casefold():
        return 1.0
    if word == labels[1].strip().casefold():
        return 0.0
    return None


def _first_choice(body: Any) -> dict:
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ReplyError(
            f"The endpoint's reply has no 'choices': {str(body)[:REPLY_EXCERPT]!r}.",
            "Check that the base URL points to an OpenAI-compatible chat completions API.",
        )
    return choices[0]


def _first_token_entry(logprobs: Any) -> dict | None:
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list):
        return None
    for entry in content:
        # A leading space or newline token says nothing about the choice.
        token = entry.get("token") if isinstance(entry, dict) else None
        if isinstance(token, str) and token.strip():
            return entry
    return None


def _token_and_logprob(candidate: Any) -> tuple[str | None, float]:
    if not isinstance(candidate, dict) or not isinstance(candidate.get("token"), str):
        return None, 0.0
    logprob = candidate.get("logprob")
    if isinstance(logprob, bool) or not isinstance(logprob, int | float) or math.isnan(logprob):
        return None, 0.0
    return candidate["token"], min(float(logprob), 0.0)  # a log-probability is never above 0
