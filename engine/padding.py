"""Batches of prompts for a causal model that continues each of them, and the cut of what it
sampled at the end token: shared by generation, the online rollouts and the judge's
next-token probabilities.

Prompts are left-padded, so that every row's next token follows the last column. torch is
imported inside the functions (``engine.generation`` is imported at the application's
start).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def pad_token_id(tokenizer: Any) -> int:
    """The id that fills the padding: the tokenizer's pad token, else 0.

    Padded positions are masked out of attention, so any id gives the same outputs;
    ``engine.loading`` always sets a pad token, and 0 covers tokenizers built elsewhere."""
    pad = tokenizer.pad_token_id
    return 0 if pad is None else int(pad)


def left_pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask) of the rows, both (N, T) long on the CPU, T the longest
    row's length: each row's tokens at the right end, ``pad_id`` and mask 0 before them."""
    import torch

    width = max(len(row) for row in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
        attention[i, width - len(row) :] = 1
    return input_ids, attention


def real_positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """(N, T) position ids that count real tokens only (0 on the padding), so that a
    left-padded row reads exactly as it would alone."""
    return (attention_mask.cumsum(-1) - 1).clamp(min=0)


def cut_at_end(tokens: list[int], end_ids: Collection[int], limit: int) -> tuple[list[int], bool]:
    """(kept, truncated) of one row of sampled tokens: up to and including its first end
    token; without one, its first ``limit`` tokens, and truncated is True."""
    stop_at = next((k for k, t in enumerate(tokens) if t in end_ids), None)
    if stop_at is None:
        return tokens[:limit], True
    return tokens[: stop_at + 1], False
