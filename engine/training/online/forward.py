"""One forward pass over rollouts: per-token log-probs of the sampled tokens, the policy's
entropy at each position and, for PPO, the value head's estimate, all aligned so that
column t describes the prediction of token t + 1 (the causal shift)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.training.batching import SequenceBatch, pad_sequences
from engine.training.logprobs import completion_tokens


@dataclass
class TokenOutputs:
    logps: torch.Tensor  # (N, T-1) log-prob of each next token
    entropy: torch.Tensor | None  # (N, T-1) entropy of each next-token distribution
    values: torch.Tensor | None  # (N, T-1) value estimate of the state before each token


def rollout_batch(
    prompt_ids: list[list[int]], completion_ids: list[list[int]], pad_id: int, device
) -> tuple[SequenceBatch, torch.Tensor]:
    """The right-padded batch and its completion mask (N, T-1) in the shifted frame."""
    batch = pad_sequences(prompt_ids, completion_ids, pad_id).to(device)
    return batch, batch.completion_mask[:, 1:].float()


def token_outputs(
    model, batch: SequenceBatch, *, entropy: bool = False, value_head=None, temperature: float = 1.0
) -> TokenOutputs:
    """Log-probs (at the sampling temperature, as TRL's GRPO scores them) and optional
    entropy and values. The head runs on the completion positions only, in chunks
    (engine.training.logprobs.completion_tokens): 0 elsewhere."""
    out = completion_tokens(model, batch, temperature=temperature, entropy=entropy)
    values = None
    if value_head is not None:
        values = value_head(out.hidden[:, :-1]).squeeze(-1).float()  # (N, T-1)
    return TokenOutputs(out.logps, out.entropy, values)
