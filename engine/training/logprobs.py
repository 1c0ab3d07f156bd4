"""Per-token and per-sequence log-probabilities of the completion tokens under a causal LM,
without the logits of the whole vocabulary over the whole sequence.

A real model's vocabulary is 32k-256k tokens: the float32 logits of a batch of 2 x 512
tokens over Qwen2.5's 151,936 are 622 MB, and their gradient as much again. So the forward
pass stops before the language-model head (a pre-hook on the head captures its input, the
final hidden states, and hands the head an empty slice), the head is applied only to the
completion positions, and in chunks of at most ``LOGIT_CHUNK_ELEMENTS`` logits, each chunk
recomputed in the backward pass rather than kept (the fused "linear + log-softmax" of
Liger's kernels and TRL's chunked NLL, in plain torch).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.checkpoint import checkpoint

from engine.fit import LOGIT_CHUNK_ELEMENTS
from engine.training.batching import SequenceBatch

# LOGIT_CHUNK_ELEMENTS (float32: 64 MiB) is ~110 positions of a 151,936 vocabulary; the fit
# estimate counts it.


@dataclass
class SequenceLogps:
    sums: torch.Tensor  # (N,) summed log-prob of each row's completion tokens
    counts: torch.Tensor  # (N,) number of completion tokens per row (float)

    @property
    def means(self) -> torch.Tensor:  # (N,) length-averaged, as SimPO, ORPO and IPO use
        return self.sums / self.counts.clamp_min(1)


def token_logps(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log softmax(logits)[label] per position, one row at a time.

    logits (N, T, V), labels (N, T) -> (N, T) float32. Row by row so the float32 copy
    of the logits is (T, V), not (N, T, V): the vocabulary of a real model is ~150k.
    """
    rows = []
    for row_logits, row_labels in zip(logits, labels, strict=True):
        row = row_logits.float()  # (T, V)
        picked = row.gather(-1, row_labels.unsqueeze(-1)).squeeze(-1)  # (T,)
        rows.append(picked - torch.logsumexp(row, dim=-1))
    return torch.stack(rows)


@dataclass
class CompletionTokens:
    """What the head says about each completion token, in the shifted frame (column t
    predicts token t + 1); 0 (False) off the completion."""

    logps: torch.Tensor  # (N, T-1) float32 log-prob of each next token at the temperature
    mask: torch.Tensor  # (N, T-1) float32, 1 on completion tokens
    entropy: torch.Tensor | None  # (N, T-1) entropy of each next-token distribution
    correct: torch.Tensor | None  # (N, T-1) bool: the likeliest token is the next one
    hidden: torch.Tensor  # (N, T, H) the final hidden states (the head's input)


def _unwrap(model) -> Any:
    # DistributedDataParallel keeps the model in .module; PeftModel and the transformers
    # model answer get_output_embeddings themselves.
    return getattr(model, "module", model)


@contextmanager
def _head_input(model) -> Iterator[dict[str, torch.Tensor]]:
    """While open, a forward pass through ``model`` hands its head an empty slice and
    leaves the head's input in the yielded dict under "hidden"."""
    captured: dict[str, torch.Tensor] = {}

    def hook(module, args):
        captured["hidden"] = args[0]
        return (args[0][:, :0],) + tuple(args[1:])

    handle = _unwrap(model).get_output_embeddings().register_forward_pre_hook(hook)
    try:
        yield captured
    finally:
        handle.remove()


def _logit_transform(model):
    """What the model's forward does to the head's output: Gemma 2's final soft-capping,
    Cohere's logit scale, Granite's logit divisor; None for the plain head."""
    config: Any = getattr(_unwrap(model), "config", None)
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    cap = getattr(text, "final_logit_softcapping", None)
    scale = getattr(text, "logit_scale", None)
    divisor = getattr(text, "logits_scaling", None)
    if not (cap or scale or divisor):
        return None

    def transform(logits: torch.Tensor) -> torch.Tensor:
        if scale:
            logits = logits * scale
        if divisor:
            logits = logits / divisor
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return logits

    return transform


def _chunk_stats(head, transform, temperature: float, entropy: bool, correct: bool):
    def stats(hidden: torch.Tensor, labels: torch.Tensor):  # (C, H), (C,)
        logits = head(hidden)
        if transform is not None:
            logits = transform(logits)
        logits = logits.float()  # (C, V)
        if temperature != 1.0:
            logits = logits / temperature
        norm = torch.logsumexp(logits, dim=-1)  # (C,)
        logps = logits.gather(-1, labels.unsqueeze(-1)).squeeze(-1) - norm
        ent = norm - (torch.softmax(logits, dim=-1) * logits).sum(-1) if entropy else None
        hit = (logits.detach().argmax(-1) == labels) if correct else None
        return logps, ent, hit

    return stats


def completion_tokens(
    model,
    batch: SequenceBatch,
    *,
    temperature: float = 1.0,
    entropy: bool = False,
    correct: bool = False,
    **forward_kwargs: Any,
) -> CompletionTokens:
    """One forward pass of ``batch``; the head only on the completion positions, in chunks
    of at most LOGIT_CHUNK_ELEMENTS logits, each recomputed in the backward pass."""
    with _head_input(model) as captured:
        model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, **forward_kwargs)
    hidden = captured["hidden"]  # (N, T, H)
    mask = batch.completion_mask[:, 1:].bool()  # (N, T-1)
    picked = hidden[:, :-1][mask]  # (M, H)
    labels = batch.input_ids[:, 1:][mask]  # (M,)
    head = _unwrap(model).get_output_embeddings()
    stats = _chunk_stats(head, _logit_transform(model), temperature, entropy, correct)
    size = max(1, LOGIT_CHUNK_ELEMENTS // int(head.weight.shape[0]))
    recompute = torch.is_grad_enabled() and picked.requires_grad
    parts = []
    for start in range(0, picked.shape[0], size):
        chunk = (picked[start : start + size], labels[start : start + size])
        parts.append(checkpoint(stats, *chunk, use_reentrant=False) if recompute else stats(*chunk))

    def scatter(index: int, dtype: torch.dtype) -> torch.Tensor:
        flat = [p[index] for p in parts]
        # No completion token at all: an empty result still on the graph, so that a loss
        # made of it backpropagates (zero gradients) like any other.
        values = torch.cat(flat) if flat else picked.sum(-1)
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_scatter(
            mask, values.to(dtype)
        )

    return CompletionTokens(
        logps=scatter(0, torch.float32),
        mask=mask.float(),
        entropy=scatter(1, torch.float32) if entropy else None,
        correct=scatter(2, torch.bool) if correct else None,
        hidden=hidden,
    )


def sequence_logps(model, batch: SequenceBatch) -> SequenceLogps:
    """Forward ``batch`` through ``model`` and sum the completion tokens' log-probs.

    Token t is predicted by the logits at t-1, hence the shift by one.
    """
    out = completion_tokens(model, batch)
    return SequenceLogps(sums=out.logps.sum(-1), counts=out.mask.sum(-1))  # (N,), (N,)


@dataclass
class TokenPredictions:
    logps: torch.Tensor  # (N, T-1) float32 log-prob of each next token (temperature 1)
    correct: torch.Tensor  # (N, T-1) bool: the argmax is that token
    mask: torch.Tensor  # (N, T-1) float32, 1 on completion tokens


def token_predictions(model, batch: SequenceBatch) -> TokenPredictions:
    """Each completion token's log-prob and whether the model's likeliest token is it,
    in the shifted frame (column t predicts token t + 1)."""
    out = completion_tokens(model, batch, correct=True)
    assert out.correct is not None
    return TokenPredictions(out.logps, out.correct, out.mask)


def sequence_rewards(model, batch: SequenceBatch) -> torch.Tensor:
    """A sequence-classification model's scalar score per row, (N,) float32."""
    return (
        model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits[:, 0].float()
    )
