"""RLOO: REINFORCE with a leave-one-out baseline, as pure functions.

Ahmadian et al. 2024, "Back to Basics: Revisiting REINFORCE Style Optimization for Learning from
Human Feedback in LLMs", arXiv 2402.14740 (baseline: Kool et al. 2019). Written to do exactly
what TRL 1.16's ``RLOOTrainer`` does:

- the KL to the reference is a *reward penalty*, per sequence: the k1 log-ratio of the sampling
  policy (old log-probs) to the reference, summed over completion tokens, times ``beta``;
- each completion's baseline is the mean reward of the other completions of its prompt;
- optional whitening of the advantages over the batch;
- a PPO-style clipped loss on the *sequence* log-ratio (summed, not averaged, over tokens),
  averaged over sequences.

Parity with TRL 1.16 is checked in ``tests/engine/losses/test_rloo_parity.py``.
"""

from __future__ import annotations

import torch

from engine.losses.group_stats import frac_zero_std, group_std, nanstd, reward_stats
from engine.losses.kl import kl_k1
from engine.losses.policy_stats import clip_ratio_stats, token_mean

STD_EPS = 1e-4  # TRL's, in the advantage whitening


def rloo_sequence_kl(
    old_logps: torch.Tensor,  # (B, T) sampling-time log-probs
    ref_logps: torch.Tensor,  # (B, T)
    completion_mask: torch.Tensor,  # (B, T) 0/1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sequence k1 KL ``(B,)`` (sum over completion tokens of old - ref, can be negative)
    and TRL's ``kl`` metric: the mean per-token KL over completion tokens (0-dim)."""
    per_token = kl_k1(old_logps, ref_logps) * completion_mask  # (B, T)
    metric = per_token.sum() / completion_mask.sum().clamp(min=1).float()
    return per_token.sum(-1), metric.detach()


def rloo_advantages(
    rewards: torch.Tensor,  # (N,) grouped by prompt, NaN = unscorable
    group_size: int,
    *,
    sequence_kl: torch.Tensor | None = None,  # (N,) from rloo_sequence_kl
    beta: float = 0.05,
    normalize: bool = False,
    reward_clip_range: tuple[float, float] | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``A_i = r'_i - mean_{j != i} r'_j`` over the group, with ``r' = clip(r) - beta * KL_i``.

    With ``normalize``, ``A <- (A - mean A) / (std A + 1e-4)`` over all N (gather first in a
    multi-process run). Unscorable completions, and groups with one scorable completion, get 0.

    Returns ``(advantages (N,), stats)``: ``reward`` and ``reward_std`` of the raw ``rewards``,
    and ``frac_reward_zero_std`` of the clipped, KL-penalised rewards (as TRL logs them).
    """
    penalised = rewards
    if reward_clip_range is not None:
        penalised = penalised.clamp(min=reward_clip_range[0], max=reward_clip_range[1])
    if sequence_kl is not None and beta != 0.0:
        penalised = penalised - beta * sequence_kl
    stats = reward_stats(rewards, group_size)
    stats["frac_reward_zero_std"] = frac_zero_std(group_std(penalised.detach(), group_size))

    advantages = penalised - _leave_one_out_baselines(penalised, group_size)  # (N,)
    if normalize:
        advantages = (advantages - torch.nanmean(advantages)) / (nanstd(advantages) + STD_EPS)
    return torch.nan_to_num(advantages, nan=0.0), stats


def _leave_one_out_baselines(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """Mean of the other scorable rewards of the group ``(N,)``; NaN where none is left, and
    equal to the reward itself when ``group_size == 1`` (zero advantage, as TRL)."""
    if group_size == 1:
        return rewards
    grouped = rewards.view(-1, group_size)  # (P, G)
    scorable = (~torch.isnan(grouped)).sum(dim=1, keepdim=True)  # (P, 1)
    total = torch.nansum(grouped, dim=1, keepdim=True)  # (P, 1)
    return ((total - grouped) / (scorable - 1)).view(-1)


def rloo_loss(
    logps: torch.Tensor,  # (B, T) per-token log-probs of the sampled tokens, with gradient
    advantages: torch.Tensor,  # (B,)
    completion_mask: torch.Tensor,  # (B, T) 0/1
    old_logps: torch.Tensor | None = None,  # (B, T) at sampling; None: on-policy
    *,
    epsilon: float = 0.2,
    epsilon_high: float | None = None,
    entropies: torch.Tensor | None = None,  # (B, T), for the stats only
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``mean_i -min(w_i A_i, clip(w_i, 1-eps, 1+eps_high) A_i)`` with the sequence ratio
    ``w_i = exp(sum_t logps - sum_t old_logps)`` over completion tokens.

    Returns ``(loss, stats)``: scalar loss (not divided by accumulation steps) and detached
    0-dim ``clip_ratio/low_mean``, ``low_min``, ``high_mean``, ``high_max``, ``region_mean``
    (fractions of sequences), plus ``entropy`` (mean over completion tokens) if given.
    """
    eps_high = epsilon if epsilon_high is None else epsilon_high
    old = logps.detach() if old_logps is None else old_logps
    seq_logps = (logps * completion_mask).sum(1)  # (B,)
    seq_old = (old * completion_mask).sum(1)  # (B,)
    ratio = torch.exp(seq_logps - seq_old)  # (B,)
    clipped = torch.clamp(ratio, 1 - epsilon, 1 + eps_high)
    loss = -torch.min(ratio * advantages, clipped * advantages).mean()

    stats = clip_ratio_stats(
        ratio.unsqueeze(1), advantages.unsqueeze(1), completion_mask, epsilon, eps_high
    )
    if entropies is not None:
        stats["entropy"] = token_mean(entropies, completion_mask)
    return loss, stats
