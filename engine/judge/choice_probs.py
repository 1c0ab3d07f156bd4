"""The probability a causal LM gives to the first of two answer labels ("A" vs "B", "yes" vs
"no") as the very next token after a prompt: one batched forward pass, no generation.

Reading the next-token distribution instead of sampling a reply makes the verdict a
calibrated probability, costs one forward pass, and never fails to parse. torch is
imported inside the functions.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError
from engine.generation import encode_prompts, max_positions
from engine.judge.base import STOPPED, ProgressFn, StopFn
from engine.padding import left_pad, pad_token_id, real_positions

if TYPE_CHECKING:
    from engine.loading import LoadedModel


def choice_token_ids(tokenizer: Any, labels: Sequence[str], what: str) -> tuple[int, int]:
    """The first token id of each of two labels; EngineError unless they are two labels
    whose first tokens are known to the tokenizer and differ."""
    labels = tuple(labels)
    if len(labels) != 2 or not all(isinstance(label, str) and label for label in labels):
        raise EngineError(
            f"The judge's {what} must be two non-empty labels, not {labels!r}.",
            'Give two labels such as ["A", "B"] or ["yes", "no"].',
        )
    ids = []
    for label in labels:
        encoded = tokenizer(label, add_special_tokens=False)["input_ids"]
        unknown = getattr(tokenizer, "unk_token_id", None)
        if not encoded or (unknown is not None and encoded[0] == unknown):
            raise EngineError(
                f"The judge's label {label!r} ({what}) is not a token this judge model knows.",
                "Pick labels the model's tokenizer can write, e.g. the ones in its judge.json.",
            )
        ids.append(int(encoded[0]))
    if ids[0] == ids[1]:
        raise EngineError(
            f"The judge's labels {labels[0]!r} and {labels[1]!r} ({what}) begin with the same "
            "token, so the judge's first token cannot tell them apart.",
            "Pick labels whose first characters differ, such as A and B.",
        )
    return ids[0], ids[1]


@dataclass
class RowOutcome:
    """Per item: the probability of the first label in each of its rows, or an error."""

    probs: list[float] | None
    tokens: int
    error: str | None = None


def too_long_message(what: str, length: int, limit: int, model_name: str) -> str:
    return EngineError(
        f"The judge's input for this {what} is {length} tokens long, but {model_name} reads "
        f"at most {limit}; it was not judged (inputs are never truncated).",
        "Use a judge model with a longer context, a shorter template, or shorter completions.",
    ).user_message


def first_label_probs(
    loaded: LoadedModel,
    rows: Sequence[Sequence[str]],
    label_ids: tuple[int, int],
    *,
    what: str,
    batch_size: int,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[RowOutcome]:
    """For each item (a group of rendered judge inputs), P(first label) in each input, as
    the softmax over the two labels' first-token logits after the chat-templated input.

    An item with an input longer than the model's context gets an error; items left when
    ``should_stop()`` turns True (asked before each batch) get the error STOPPED.
    ``progress(items_done, items_total)`` follows each batch.
    """
    encoded = [encode_prompts(loaded.tokenizer, list(group)) for group in rows]
    limit = max_positions(loaded.model)
    outcomes = [
        RowOutcome(probs=None, tokens=max((len(ids) for ids in g), default=0)) for g in encoded
    ]
    flat: list[tuple[int, list[int]]] = []
    for index, group in enumerate(encoded):
        if limit is not None and outcomes[index].tokens > limit:
            outcomes[index].error = too_long_message(
                what, outcomes[index].tokens, limit, loaded.name
            )
        else:
            outcomes[index].probs = []
            flat.extend((index, ids) for ids in group)
    _run_batches(loaded, flat, outcomes, label_ids, batch_size, progress, should_stop)
    return outcomes


def _run_batches(loaded, flat, outcomes, label_ids, batch_size, progress, should_stop) -> None:
    total = len(outcomes)
    errors = sum(o.error is not None for o in outcomes)
    last_row = {index: position for position, (index, _) in enumerate(flat)}
    ends = sorted(last_row.values())
    done_rows = 0
    with _EvalMode(loaded.model):
        for start in range(0, len(flat), batch_size):
            if should_stop is not None and should_stop():
                break
            batch = flat[start : start + batch_size]
            probs = _batch_probs(loaded, [ids for _, ids in batch], label_ids)
            for (index, _), p in zip(batch, probs, strict=True):
                outcomes[index].probs.append(p)
            done_rows = start + len(batch)
            if progress is not None:
                progress(errors + bisect_left(ends, done_rows), total)
    for index, position in last_row.items():
        if position >= done_rows:
            outcomes[index].probs, outcomes[index].error = None, STOPPED
    if not flat and progress is not None:
        progress(total, total)


def _batch_probs(
    loaded: LoadedModel, seqs: list[list[int]], label_ids: tuple[int, int]
) -> list[float]:
    import torch

    input_ids, attention = left_pad(seqs, pad_token_id(loaded.tokenizer))
    positions = real_positions(attention)
    device = torch.device(loaded.device)
    inputs = {
        "input_ids": input_ids.to(device),
        "attention_mask": attention.to(device),
        "position_ids": positions.to(device),
        "use_cache": False,
    }
    try:
        with torch.inference_mode():
            logits = _last_logits(loaded.model, inputs)
    except torch.cuda.OutOfMemoryError:
        raise EngineError(
            f"The judge ran out of accelerator memory on a batch of {len(seqs)} inputs of up "
            f"to {input_ids.shape[1]} tokens.",
            "Lower the judge's batch size, or use a smaller judge model.",
        ) from None
    pair = logits[:, list(label_ids)].float()
    return torch.softmax(pair, dim=-1)[:, 0].tolist()


def _last_logits(model, inputs: dict):
    # Only the last position's logits are needed; asking for them alone saves a
    # (batch x length x vocabulary) tensor. Models too old for logits_to_keep refuse it.
    try:
        out = model(**inputs, logits_to_keep=1)
    except TypeError:
        out = model(**inputs)
    return out.logits[:, -1, :]


class _EvalMode:
    """Eval mode for the call (no dropout), the model's own mode restored afterwards."""

    def __init__(self, model) -> None:
        self.model = model
        self.was_training = bool(getattr(model, "training", False))

    def __enter__(self):
        self.model.eval()
        return self.model

    def __exit__(self, *exc):
        if self.was_training:
            self.model.train()
        return False
