"""The training forward pass of a group's completions with their prompt computed once.

GRPO and RLOO train on ``G`` completions of each prompt. Scored as ``G`` full rows (as TRL
does), every prompt token goes through the model ``G`` times, and on short completions the
prompt is most of the work. Here each prompt is run once (P rows, left-padded), its KV
cache is repeated for its ``G`` rows, and only the completions run on top of it. The
repeat is part of the autograd graph, so the gradient that reaches the prompt's keys and
values is the sum over its group: the same loss and gradient as the full rows (in exact
arithmetic; float sums may differ in the last bits), in about ``(Lp + G * Lc) / (G *
(Lp + Lc))`` of the work. The log-probs and entropies come back in the frame of
``forward.rollout_batch`` (column t predicts token t + 1 of the right-padded row), so the
losses do not know which pass made them.

The model families are those of the lean decode loop (``engine.decoding.support``), which
take a ``DynamicCache`` and position ids; one process only (DDP's hooks expect one forward
per backward) and no gradient checkpointing (transformers turns the cache off with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.checkpoint import checkpoint

from engine.decoding.support import lean_decoding_supported
from engine.fit import LOGIT_CHUNK_ELEMENTS
from engine.padding import left_pad
from engine.training.logprobs import _chunk_stats, _head_input, _logit_transform, _unwrap
from engine.training.online.forward import TokenOutputs
from engine.training.policy import recomputes_activations


@dataclass
class GroupedRows:
    """A micro-batch laid out for the shared-prompt pass: row i continues prompt i // G."""

    prompt_ids: torch.Tensor  # (P, Lp) left-padded
    prompt_mask: torch.Tensor  # (P, Lp) 1 on real tokens
    completion_ids: torch.Tensor  # (N, Lc) right-padded, N = P * G
    completion_mask: torch.Tensor  # (N, Lc) 1 on completion tokens
    columns: torch.Tensor  # (N, Lc) column of each completion token in the (N, T-1) frame
    width: int  # T - 1 of forward.rollout_batch
    group_size: int


def grouped_rows(
    prompt_ids: list[list[int]],
    completion_ids: list[list[int]],
    group_size: int,
    pad_id: int,
    device,
) -> GroupedRows | None:
    """The layout, or None when the rows are not whole groups of one prompt each."""
    n, g = len(prompt_ids), group_size
    if g < 2 or n == 0 or n % g:
        return None
    prompts = [prompt_ids[i] for i in range(0, n, g)]
    if any(prompt_ids[i] != prompts[i // g] for i in range(n)):
        return None
    p_ids, p_mask = left_pad(prompts, pad_id)
    lc = max(1, max(len(c) for c in completion_ids))
    c_ids = torch.full((n, lc), pad_id, dtype=torch.long)
    c_mask = torch.zeros((n, lc), dtype=torch.long)
    for i, c in enumerate(completion_ids):
        c_ids[i, : len(c)] = torch.tensor(c, dtype=torch.long)
        c_mask[i, : len(c)] = 1
    lengths = torch.tensor([len(p) for p in prompt_ids], dtype=torch.long)  # (N,)
    columns = lengths[:, None] - 1 + torch.arange(lc)[None, :]  # (N, Lc)
    width = max(len(p) + len(c) for p, c in zip(prompt_ids, completion_ids, strict=True)) - 1
    return GroupedRows(
        p_ids.to(device),
        p_mask.to(device),
        c_ids.to(device),
        c_mask.to(device),
        columns.to(device),
        width,
        g,
    )


def select_groups(rows: GroupedRows, kept: torch.Tensor) -> GroupedRows:
    """The layout of rows ``kept`` (K,), whole groups in order; the frame keeps its width."""
    g = rows.group_size
    groups = kept.view(-1, g)[:, 0] // g  # (K/G,) the groups the rows belong to
    return GroupedRows(
        rows.prompt_ids.index_select(0, groups),
        rows.prompt_mask.index_select(0, groups),
        rows.completion_ids.index_select(0, kept),
        rows.completion_mask.index_select(0, kept),
        rows.columns.index_select(0, kept),
        rows.width,
        g,
    )


def shared_prompt_supported(model: Any, device: Any, num_processes: int) -> bool:
    if num_processes != 1 or recomputes_activations(model):
        return False
    return lean_decoding_supported(_unwrap(model), device)


def grouped_token_outputs(
    model: Any, rows: GroupedRows, *, temperature: float = 1.0, entropy: bool = False
) -> TokenOutputs:
    """Log-probs (at ``temperature``) and optional entropies of the completion tokens,
    (N, T-1) in the frame of ``forward.rollout_batch``; 0 off the completions."""
    from transformers import DynamicCache

    g = rows.group_size
    p_positions = (rows.prompt_mask.cumsum(-1) - 1).clamp(min=0)  # (P, Lp) real positions
    cache = DynamicCache(config=getattr(_unwrap(model), "config", None))
    with _head_input(model) as captured:
        model(
            input_ids=rows.prompt_ids,
            attention_mask=rows.prompt_mask,
            position_ids=p_positions,
            cache=cache,
            use_cache=True,
        )
        last_prompt = captured["hidden"][:, -1:].repeat_interleave(g, 0)  # (N, 1, H)
        cache.batch_repeat_interleave(g)  # on the graph: the group's gradients add up
        mask = rows.prompt_mask.repeat_interleave(g, 0)  # (N, Lp)
        start = mask.sum(-1, keepdim=True)  # (N, 1) each row's first completion position
        c_positions = start + torch.arange(rows.completion_ids.shape[1], device=start.device)
        model(
            input_ids=rows.completion_ids,
            attention_mask=torch.cat([mask, rows.completion_mask], dim=-1),
            position_ids=c_positions,
            cache=cache,
            use_cache=True,
        )
        completion_hidden = captured["hidden"]  # (N, Lc, H)
    # Column j predicts completion token j: the prompt's last state, then the completion's.
    hidden = torch.cat([last_prompt, completion_hidden[:, :-1]], dim=1)  # (N, Lc, H)
    keep = rows.completion_mask.bool()  # (N, Lc)
    logps, ent = _head_stats(model, hidden[keep], rows.completion_ids[keep], temperature, entropy)
    n = rows.completion_ids.shape[0]
    index = (torch.arange(n, device=keep.device)[:, None].expand_as(keep)[keep], rows.columns[keep])

    def frame(values: torch.Tensor) -> torch.Tensor:  # (M,) -> (N, T-1)
        out = torch.zeros((n, rows.width), dtype=torch.float32, device=values.device)
        return out.index_put(index, values.float())

    return TokenOutputs(frame(logps), frame(ent) if ent is not None else None, None)


def _head_stats(
    model: Any, picked: torch.Tensor, labels: torch.Tensor, temperature: float, entropy: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(M,) log-probs and entropies of ``picked`` (M, H) hidden states for ``labels`` (M,),
    the head in chunks recomputed in the backward pass (as ``completion_tokens`` does)."""
    head = _unwrap(model).get_output_embeddings()
    stats = _chunk_stats(head, _logit_transform(model), temperature, entropy, False)
    size = max(1, LOGIT_CHUNK_ELEMENTS // int(head.weight.shape[0]))
    recompute = torch.is_grad_enabled() and picked.requires_grad
    parts = []
    for at in range(0, picked.shape[0], size):
        chunk = (picked[at : at + size], labels[at : at + size])
        parts.append(checkpoint(stats, *chunk, use_reentrant=False) if recompute else stats(*chunk))
    if not parts:  # no completion token: still on the graph, zero gradients
        empty = picked.sum(-1)
        return empty, empty if entropy else None
    logps = torch.cat([p[0] for p in parts])
    return logps, torch.cat([p[1] for p in parts]) if entropy else None
