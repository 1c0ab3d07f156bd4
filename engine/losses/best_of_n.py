"""Best-of-N fine-tuning (rejection sampling fine-tuning, expert iteration): sample N
completions per prompt, keep the best by the reward, and fine-tune on the kept ones with the
SFT loss. The selection, as a pure function.

RAFT: Dong et al. 2023, "RAFT: Reward rAnked FineTuning for Generative Foundation Model
Alignment", arXiv 2304.06767, section 3 (keep the top-k of each prompt's samples by reward).
Expert iteration / rejection sampling fine-tuning: Anthony et al. 2017, arXiv 1705.08439;
Yuan et al. 2023, "Scaling Relationship on Learning Mathematical Reasoning with Large Language
Models", arXiv 2308.01825 (keep only samples the verifier accepts: ``min_reward``).

This module imports torch; only the training worker imports it.
"""

from __future__ import annotations

import torch


def select_best(
    rewards: torch.Tensor,  # (N,) grouped by prompt: rows g*G .. g*G+G-1 are prompt g's; NaN = unscorable
    group_size: int,
    top_k: int = 1,
    min_reward: float | None = None,
) -> torch.Tensor:
    """(N,) bool: each group's ``top_k`` highest rewards, ties broken by sample order (the
    first sampled wins, so a seeded run selects the same rows again), and among those only the
    ones with reward >= ``min_reward`` when it is given. An unscorable (NaN) completion is never
    kept."""
    if rewards.numel() % group_size:
        raise ValueError(f"{rewards.numel()} rewards do not split into groups of {group_size}")
    groups = rewards.view(-1, group_size)  # (P, G)
    valid = ~torch.isnan(groups)
    ranked = torch.where(valid, groups, torch.full_like(groups, float("-inf")))
    # A stable descending sort keeps the sampling order among equal rewards.
    order = torch.sort(ranked, dim=1, descending=True, stable=True).indices  # (P, G)
    keep = torch.zeros_like(valid)
    keep.scatter_(1, order[:, : min(top_k, group_size)], True)
    keep &= valid
    if min_reward is not None:
        keep &= ranked >= min_reward
    return keep.view(-1)
