"""Supervised fine-tuning: the negative log-likelihood of demonstration completions, counted on
completion tokens only (TRL's ``completion_only_loss``), as a pure function.

Completion-only SFT: Ouyang et al. 2022, "Training language models to follow instructions with
human feedback" (InstructGPT), arXiv 2203.02155, section 3.5 (the SFT stage); the prompt's
tokens are context, not targets, so the model is not taught to write prompts.

The loss is the mean over every completion token of the batch (a token mean, as TRL's
``SFTTrainer``), not a mean of per-sequence means: long and short demonstrations weigh by their
tokens. This module imports torch; only the training worker imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SFTOutput:
    loss: torch.Tensor  # () token-mean NLL over the batch's completion tokens
    nll: torch.Tensor  # (B,) per-sequence mean NLL (NaN for a sequence with no completion token)
    token_accuracy: torch.Tensor  # (B,) share of completion tokens the argmax predicts


def sft_loss(
    token_logps: torch.Tensor,  # (B, T) log p(target token) at each position
    mask: torch.Tensor,  # (B, T) 1 on completion tokens, 0 on prompt tokens and padding
    correct: torch.Tensor | None = None,  # (B, T) bool: argmax == target, for the accuracy
) -> SFTOutput:
    """``L = -sum(mask * logp) / sum(mask)``; 0 (not NaN) for a batch with no completion token,
    so an empty micro-batch adds no gradient instead of poisoning it."""
    mask = mask.to(token_logps.dtype)
    tokens = mask.sum(dim=1)  # (B,)
    loss = -(token_logps * mask).sum() / mask.sum().clamp(min=1)
    nan = torch.full_like(tokens, float("nan"))
    nll = torch.where(tokens > 0, -(token_logps * mask).sum(dim=1) / tokens.clamp(min=1), nan)
    if correct is None:
        accuracy = nan
    else:
        hits = (correct.to(mask.dtype) * mask).sum(dim=1)
        accuracy = torch.where(tokens > 0, hits / tokens.clamp(min=1), nan)
    return SFTOutput(loss, nll.detach(), accuracy.detach())
