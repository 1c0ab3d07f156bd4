"""What one micro-batch's objective is made of, for every algorithm: the scalar loss to
back-propagate and ``stats``, tensors of shape (B,) whose means (NaN entries ignored) are
the logged metrics, under TRL's names; and the pieces the pairwise methods share. Each
method's objective is its class's (engine.training.offline, .online.algorithms).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from engine.training.logprobs import SequenceLogps


@dataclass
class Objective:
    loss: torch.Tensor  # scalar
    stats: dict[str, torch.Tensor]  # name -> (B,) per-example values
    # name -> () count of this micro-batch (SFT's tokens), summed over the run: the loop
    # logs the running total, as TRL's ``num_tokens``.
    totals: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class PairReference:
    chosen: torch.Tensor  # (B,) reference summed log-probs of the chosen completions
    rejected: torch.Tensor  # (B,)


@dataclass
class UnpairedReference:
    logps: torch.Tensor  # (B,) reference summed log-probs of the completions
    kl_logps: torch.Tensor  # (B,) reference log-probs of the mismatched (prompt, completion)


def split_pair(logps: SequenceLogps) -> tuple[SequenceLogps, SequenceLogps]:
    """Rows are [chosen..., rejected...] (see batching.pair_batch)."""
    sums_c, sums_r = logps.sums.chunk(2)
    counts_c, counts_r = logps.counts.chunk(2)
    return SequenceLogps(sums_c, counts_c), SequenceLogps(sums_r, counts_r)


def paired_stats(chosen_rewards, rejected_rewards, chosen_logps, rejected_logps) -> dict:
    return {
        "rewards/chosen": chosen_rewards.detach(),
        "rewards/rejected": rejected_rewards.detach(),
        "rewards/margins": (chosen_rewards - rejected_rewards).detach(),
        "rewards/accuracies": (chosen_rewards > rejected_rewards).float(),
        "logps/chosen": chosen_logps.detach(),
        "logps/rejected": rejected_logps.detach(),
    }
