"""Token ids for training examples: the prompt exactly as generation encodes it (chat
template with the generation prompt when the model has one), then the completion as the
template writes the assistant's turn, up to and including its end-of-turn token (the
eos token without a template), so the model learns to stop where generation stops.

Examples longer than the limit are returned separately, never truncated: a pair cut
short could keep the prompt and lose the very tokens that made one completion better.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.generation import encode_prompts
from engine.tokens import completion_token_ids, end_token_ids
from engine.training.examples import DemonstrationExample, PairExample, UnpairedExample


@dataclass(frozen=True)
class EncodedPair:
    key: str
    prompt_ids: list[int]
    chosen_ids: list[int]
    rejected_ids: list[int]
    margin: float | None = None


@dataclass(frozen=True)
class EncodedUnpaired:
    key: str
    prompt_ids: list[int]
    completion_ids: list[int]
    desirable: bool


@dataclass(frozen=True)
class EncodedDemonstration:
    key: str
    prompt_ids: list[int]
    completion_ids: list[int]


@dataclass(frozen=True)
class TooLong:
    key: str
    tokens: int  # prompt + longest completion
    limit: int


def completion_ids(
    tokenizer: Any, text: str, prompt: str | list[dict] = "", ends: list[int] | None = None
) -> list[int]:
    """``text``'s ids as the answer to ``prompt`` (see engine.tokens.completion_token_ids)."""
    return completion_token_ids(tokenizer, prompt, text, ends)


def encode_pairs(
    tokenizer: Any, examples: list[PairExample], max_length: int
) -> tuple[list[EncodedPair], list[TooLong]]:
    prompts = encode_prompts(tokenizer, [e.prompt for e in examples])
    ends = end_token_ids(tokenizer)
    kept, too_long = [], []
    for example, prompt_ids in zip(examples, prompts, strict=True):
        chosen = completion_ids(tokenizer, example.chosen, example.prompt, ends)
        rejected = completion_ids(tokenizer, example.rejected, example.prompt, ends)
        tokens = len(prompt_ids) + max(len(chosen), len(rejected))
        if tokens > max_length:
            too_long.append(TooLong(example.key, tokens, max_length))
        else:
            kept.append(EncodedPair(example.key, prompt_ids, chosen, rejected, example.margin))
    return kept, too_long


def encode_unpaired(
    tokenizer: Any, examples: list[UnpairedExample], max_length: int
) -> tuple[list[EncodedUnpaired], list[TooLong]]:
    return _encode_single(
        tokenizer,
        examples,
        max_length,
        lambda e, prompt_ids, completion: EncodedUnpaired(
            e.key, prompt_ids, completion, e.desirable
        ),
    )


def encode_demonstrations(
    tokenizer: Any, examples: list[DemonstrationExample], max_length: int
) -> tuple[list[EncodedDemonstration], list[TooLong]]:
    return _encode_single(
        tokenizer,
        examples,
        max_length,
        lambda e, prompt_ids, completion: EncodedDemonstration(e.key, prompt_ids, completion),
    )


def _encode_single(tokenizer: Any, examples: list, max_length: int, make: Callable) -> tuple:
    """Examples of one completion each: (``make(example, prompt ids, completion ids)`` of
    those that fit ``max_length``, the too-long ones)."""
    prompts = encode_prompts(tokenizer, [e.prompt for e in examples])
    ends = end_token_ids(tokenizer)
    kept, too_long = [], []
    for example, prompt_ids in zip(examples, prompts, strict=True):
        completion = completion_ids(tokenizer, example.completion, example.prompt, ends)
        tokens = len(prompt_ids) + len(completion)
        if tokens > max_length:
            too_long.append(TooLong(example.key, tokens, max_length))
        else:
            kept.append(make(example, prompt_ids, completion))
    return kept, too_long
