"""GRPO: group-relative advantages and the clipped surrogate loss, as pure functions.

GRPO: Shao et al. 2024, "DeepSeekMath", arXiv 2402.03300, section 4.1.
Variants, named as TRL 1.16's ``GRPOConfig`` names them:

- reward scaling ``"group"`` (the paper), ``"batch"`` (PPO-Lite, Liu et al. 2025,
  arXiv 2508.08221) or ``"none"`` (Dr. GRPO, Liu et al. 2025, arXiv 2503.20783);
- loss aggregation ``"grpo"`` (per-sequence token mean, then batch mean), ``"bnpo"`` (mean over
  the local batch's tokens), ``"dr_grpo"`` (divide by batch size * max_completion_length,
  Dr. GRPO) and ``"dapo"`` (sum over tokens / global token count, Yu et al. 2025,
  arXiv 2503.14476, which also gives clip-higher: ``epsilon_high > epsilon``);
- importance ratio per token or per sequence (GSPO, Zheng et al. 2025, arXiv 2507.18071);
- an optional k3 KL to the reference with weight ``beta``, multiplied by the importance ratio
  when ``kl_bias_correction`` (TRL's ``use_bias_correction_kl``, default on; DeepSeek-V3.2,
  arXiv 2512.02556).

Parity with TRL 1.16 is checked in ``tests/engine/losses/test_grpo_parity.py``.
"""

from __future__ import annotations

import torch

from engine.losses.group_stats import frac_zero_std, nanstd, reward_stats
from engine.losses.kl import kl_k3
from engine.losses.options import GRPO_LOSS_TYPES, IMPORTANCE_SAMPLING_LEVELS, SCALE_REWARDS
from engine.losses.policy_stats import clip_ratio_stats, token_mean

STD_EPS = 1e-4  # TRL adds this to the std, so an all-equal group gets zero advantages, not NaN


def grpo_advantages(
    rewards: torch.Tensor,  # (N,) grouped by prompt, NaN = unscorable
    group_size: int,
    scale_rewards: str = "group",
    batch_std: torch.Tensor | float | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``A_i = (r_i - mean(group)) / (std + 1e-4)``; the mean is always the group's.

    ``scale_rewards``: ``"group"`` divides by the group's std, ``"batch"`` by the std of all N
    rewards (pass ``batch_std`` to use a std gathered over processes instead), ``"none"`` does
    not divide. Unscorable (NaN) completions get advantage 0.

    Returns ``(advantages (N,), stats)``; stats are ``reward_stats``'s, except that with
    ``"batch"`` ``frac_reward_zero_std`` is 1.0 when the batch std is 0 and 0.0 otherwise (TRL
    logs whether the std *used for scaling* is zero).
    """
    if scale_rewards not in SCALE_REWARDS:
        raise ValueError(f"scale_rewards must be one of {SCALE_REWARDS}, not {scale_rewards!r}")
    grouped = rewards.view(-1, group_size)  # (P, G)
    group_mean = torch.nanmean(grouped, dim=1).repeat_interleave(group_size)  # (N,)
    advantages = rewards - group_mean  # (N,)
    stats = reward_stats(rewards, group_size)
    if scale_rewards == "batch":
        std = _batch_std(rewards, batch_std)  # (N,) one value repeated
        stats["frac_reward_zero_std"] = frac_zero_std(std)
    elif group_size > 1:
        std = nanstd(grouped, dim=1).repeat_interleave(group_size)  # (N,)
    else:
        std = torch.zeros_like(rewards)
    if scale_rewards != "none":
        advantages = advantages / (std + STD_EPS)
    return torch.nan_to_num(advantages, nan=0.0), stats


def _batch_std(rewards: torch.Tensor, batch_std: torch.Tensor | float | None) -> torch.Tensor:
    if batch_std is not None:
        return torch.as_tensor(batch_std, dtype=rewards.dtype, device=rewards.device).expand_as(
            rewards
        )
    if rewards.numel() > 1:
        return nanstd(rewards).expand_as(rewards)
    return torch.zeros_like(rewards)


def grpo_loss(
    logps: torch.Tensor,  # (B, T) per-token log-probs of the sampled tokens, with gradient
    advantages: torch.Tensor,  # (B,) or (B, T)
    completion_mask: torch.Tensor,  # (B, T) 0/1: tokens that count in the loss
    old_logps: torch.Tensor | None = None,  # (B, T) at sampling; None: on-policy
    ref_logps: torch.Tensor | None = None,  # (B, T) under the reference; needed if beta != 0
    *,
    loss_type: str = "dapo",
    epsilon: float = 0.2,
    epsilon_high: float | None = None,
    beta: float = 0.0,
    importance_sampling_level: str = "token",
    kl_bias_correction: bool = True,
    max_completion_length: int | None = None,
    num_items_in_batch: torch.Tensor | float | None = None,
    entropies: torch.Tensor | None = None,  # (B, T) per-token entropy, for the stats only
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The GRPO surrogate ``-min(w A, clip(w, 1-eps, 1+eps_high) A) + beta * KL`` aggregated
    by ``loss_type``; ``w = exp(logps - old_logps)`` per token, or for
    ``importance_sampling_level="sequence"`` the exp of the masked mean log-ratio (GSPO).

    ``old_logps=None`` means the batch is on-policy (one iteration per generation): the old
    log-probs are ``logps.detach()``, so ``w == 1`` but still carries the gradient.
    ``dr_grpo`` needs ``max_completion_length``. ``dapo`` divides by ``num_items_in_batch``,
    by default this batch's token count; to match TRL pass the generation batch's token count
    summed over processes / number of processes * grad-accumulation steps / steps per
    generation (then do not divide the loss by accumulation steps; the other types: do).

    Returns ``(loss, stats)``: ``loss`` is a scalar; ``stats`` holds detached 0-dim tensors
    ``clip_ratio/low_mean``, ``clip_ratio/low_min``, ``clip_ratio/high_mean``,
    ``clip_ratio/high_max``, ``clip_ratio/region_mean``, plus ``kl`` (mean per-token KL term,
    as weighted in the loss) when ``ref_logps`` is given and ``entropy`` when ``entropies`` is.
    """
    _check_grpo_args(loss_type, importance_sampling_level, beta, ref_logps, max_completion_length)
    eps_high = epsilon if epsilon_high is None else epsilon_high
    mask = completion_mask.float()  # float32 even under bf16: token counts must stay exact
    if advantages.dim() == 1:
        advantages = advantages.unsqueeze(1)  # (B, 1)
    old = logps.detach() if old_logps is None else old_logps
    ratio = torch.exp(_log_importance_weights(logps - old, mask, importance_sampling_level))

    clipped = torch.clamp(ratio, 1 - epsilon, 1 + eps_high)
    per_token_loss = -torch.min(ratio * advantages, clipped * advantages)  # (B, T) or (B, 1)
    per_token_kl = None
    if ref_logps is not None:
        per_token_kl = kl_k3(logps, ref_logps)  # (B, T)
        if kl_bias_correction:
            per_token_kl = per_token_kl * ratio
        if beta != 0.0:
            per_token_loss = per_token_loss + beta * per_token_kl  # (B, T)
    loss = _aggregate(per_token_loss, mask, loss_type, max_completion_length, num_items_in_batch)

    stats = clip_ratio_stats(ratio, advantages, mask, epsilon, eps_high)
    if per_token_kl is not None:
        stats["kl"] = token_mean(per_token_kl, mask)
    if entropies is not None:
        stats["entropy"] = token_mean(entropies, mask)
    return loss, stats


def _check_grpo_args(loss_type, level, beta, ref_logps, max_completion_length) -> None:
    if loss_type not in GRPO_LOSS_TYPES:
        raise ValueError(f"loss_type must be one of {GRPO_LOSS_TYPES}, not {loss_type!r}")
    if level not in IMPORTANCE_SAMPLING_LEVELS:
        raise ValueError(f"importance_sampling_level must be one of {IMPORTANCE_SAMPLING_LEVELS}")
    if beta != 0.0 and ref_logps is None:
        raise ValueError("beta != 0 needs ref_logps")
    if loss_type == "dr_grpo" and not max_completion_length:
        raise ValueError("loss_type 'dr_grpo' needs max_completion_length")


def _log_importance_weights(log_ratio: torch.Tensor, mask: torch.Tensor, level: str):
    """``(B, T)`` per token, or GSPO's length-normalised sequence log-ratio ``(B, 1)``."""
    if level == "token":
        return log_ratio
    return ((log_ratio * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).unsqueeze(-1)


def _aggregate(per_token_loss, mask, loss_type, max_completion_length, num_items_in_batch):
    """Reduce ``(B, T)`` (or ``(B, 1)``, broadcast over the mask) to the scalar loss."""
    masked = per_token_loss * mask  # (B, T)
    if loss_type == "grpo":
        return (masked.sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    if loss_type == "bnpo":
        return masked.sum() / mask.sum().clamp(min=1.0)
    if loss_type == "dr_grpo":
        return masked.sum() / (per_token_loss.size(0) * max_completion_length)
    count = mask.sum() if num_items_in_batch is None else num_items_in_batch
    count = torch.as_tensor(count, dtype=masked.dtype, device=masked.device)
    return masked.sum() / count.clamp(min=1.0)
