"""The lean decode loop (see the package's docstring).

Per step it does one forward pass of the running rows with the KV cache, draws their
tokens on the device (``TokenSampler``) and writes them into preallocated (N, max_new)
buffers; the only per-step host work is reading which rows just ended, so that they leave
the batch (their rows of the cache are dropped) and cost nothing more. LoRA layers run
without PEFT's per-call bookkeeping (``lora_layers``), with the same arithmetic.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from engine.decoding.lora_layers import lean_lora_layers
from engine.decoding.sampler import Sampling, TokenSampler
from engine.padding import left_pad


@dataclass
class Decoded:
    """Row ``i`` continues prompt ``rows[i]`` of the call."""

    tokens: list[list[int]]  # (N,) sampled ids, up to and including the end token
    logprobs: list[list[float]] | None  # (N,) each sampled token's log-prob (TokenSampler)
    truncated: list[bool]  # (N,) reached max_new_tokens without an end token


def decode(
    model: Any,
    prompts: Sequence[Sequence[int]],
    rows: Sequence[int],
    *,
    max_new_tokens: int,
    sampling: Sampling,
    stop_ids: Collection[int],
    pad_id: int,
    device: Any,
    logprobs: bool = True,
) -> Decoded:
    """Continue ``prompts`` (token ids, each prefilled once) into ``len(rows)`` rows, row i
    continuing ``prompts[rows[i]]``; the caller seeds the generator and puts the model in
    eval mode. Rows must be grouped by prompt in order (``rows`` non-decreasing), as
    ``generate()`` lays a repeated prompt out, for the same tokens under the same seed.
    Without ``logprobs``, ``Decoded.logprobs`` is None."""
    from transformers import DynamicCache

    device = torch.device(device)
    n, row_prompt = len(rows), torch.tensor(list(rows), dtype=torch.long, device=device)
    input_ids, attention = left_pad(prompts, pad_id)
    input_ids, attention = input_ids.to(device), attention.to(device)
    positions = (attention.cumsum(-1) - 1).masked_fill(attention == 0, 0)  # generate()'s
    config = getattr(model, "config", None)
    cache = DynamicCache(config=config)
    with torch.inference_mode(), lean_lora_layers(model):
        out = model(
            input_ids=input_ids,
            attention_mask=attention,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        logits = out.logits[:, -1].index_select(0, row_prompt)  # (N, V)
        cache = out.cache if getattr(out, "cache", None) is not None else cache
        cache.batch_select_indices(row_prompt)  # one prefill per prompt, shared by its rows
        attention = attention.index_select(0, row_prompt)  # (N, L)
        last_position = positions[:, -1].index_select(0, row_prompt)  # (N,)
        return _steps(
            model, cache, logits, attention, last_position, n, max_new_tokens,
            TokenSampler(sampling), stop_ids, pad_id, device, logprobs,
        )  # fmt: skip


def _steps(
    model: Any,
    cache: Any,
    logits: torch.Tensor,
    attention: torch.Tensor,
    last_position: torch.Tensor,
    n: int,
    max_new_tokens: int,
    sampler: TokenSampler,
    stop_ids: Collection[int],
    pad_id: int,
    device: torch.device,
    keep_logprobs: bool,
) -> Decoded:
    tokens = torch.full((n, max_new_tokens), pad_id, dtype=torch.long, device=device)
    logps = torch.zeros((n, max_new_tokens), dtype=torch.float32, device=device)
    lengths = torch.full((n,), max_new_tokens, dtype=torch.long, device=device)
    stops = torch.tensor(sorted(stop_ids), dtype=torch.long, device=device)
    running = torch.arange(n, device=device)  # (A,) rows still sampling
    for t in range(max_new_tokens):
        chosen, chosen_logps = sampler.choose(logits, running, n, logprobs=keep_logprobs)
        tokens[running, t] = chosen  # (A,)
        if chosen_logps is not None:
            logps[running, t] = chosen_logps
        ended = torch.isin(chosen, stops)  # (A,)
        if t == max_new_tokens - 1:
            lengths[running[ended]] = t + 1
            break
        if bool(ended.any()):  # the one host sync of a step
            lengths[running[ended]] = t + 1
            keep = (~ended).nonzero().squeeze(-1)  # (A',)
            if len(keep) == 0:
                break
            running, chosen = running[keep], chosen[keep]
            cache.batch_select_indices(keep)
            attention, last_position = attention[keep], last_position[keep]
        attention = torch.cat([attention, attention.new_ones((len(running), 1))], dim=-1)
        last_position = last_position + 1
        out = model(
            input_ids=chosen[:, None],
            attention_mask=attention,
            position_ids=last_position[:, None],
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        logits = out.logits[:, -1]
    ended_at, sampled = lengths.tolist(), tokens.tolist()
    return Decoded(
        tokens=[row[:k] for row, k in zip(sampled, ended_at, strict=True)],
        logprobs=[row[:k] for row, k in zip(logps.tolist(), ended_at, strict=True)]
        if keep_logprobs
        else None,
        truncated=[row[k - 1] not in stop_ids for row, k in zip(sampled, ended_at, strict=True)],
    )
