"""Token- and sequence-level statistics that GRPO and RLOO log under TRL's names.

A per-token quantity is ``(B, T)``; a per-sequence one (GSPO's sequence-level ratio, RLOO's
ratio) is ``(B, 1)``, which counts once per sequence instead of once per token.
"""

from __future__ import annotations

import torch


def token_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over completion tokens of ``x (B, T)``, or over sequences when ``x`` is ``(B, 1)``
    (TRL's ``global_masked_mean`` on one process). Detached, 0-dim.

    Across processes TRL sums numerators and counts before dividing: for a token-weighted
    global value, all-reduce ``x * mask`` sums and mask counts rather than averaging this.
    """
    x = x.detach().float()
    if x.shape[1] == 1:
        return x.sum() / max(x.shape[0], 1)
    return (x * mask).sum() / mask.sum().clamp(min=1)


def _sequence_means(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-sequence mean ``(B,)``; NaN for an empty sequence, so nanmin/nanmax skip it."""
    if x.shape[1] == 1:
        return x.squeeze(1)
    return (x * mask).sum(-1) / mask.sum(-1)


def _nan_reduce(x: torch.Tensor, reduce) -> torch.Tensor:
    kept = x[~torch.isnan(x)]
    return reduce(kept) if kept.numel() else torch.tensor(float("nan"), device=x.device)


def clip_ratio_stats(
    ratio: torch.Tensor,  # (B, T) per-token or (B, 1) per-sequence importance ratio
    advantages: torch.Tensor,  # (B, 1) or (B, T)
    mask: torch.Tensor,  # (B, T) 0/1
    epsilon_low: float,
    epsilon_high: float,
) -> dict[str, torch.Tensor]:
    """How often the PPO-style clip is active, as TRL's GRPO and RLOO log it (0-dim tensors).

    A ratio counts as clipped only where the clip removes the gradient: below ``1 - eps_low``
    with a negative advantage, above ``1 + eps_high`` with a positive one.
    ``clip_ratio/low_mean``, ``high_mean``, ``region_mean``: fraction of tokens (or sequences);
    ``clip_ratio/low_min``, ``high_max``: min / max over sequences of the per-sequence fraction
    (across processes, reduce these with min / max).
    """
    with torch.no_grad():
        low = ((ratio < 1 - epsilon_low) & (advantages < 0)).float()
        high = ((ratio > 1 + epsilon_high) & (advantages > 0)).float()
        region = torch.maximum(low, high)
        return {
            "clip_ratio/low_mean": token_mean(low, mask),
            "clip_ratio/low_min": _nan_reduce(_sequence_means(low, mask), torch.min),
            "clip_ratio/high_mean": token_mean(high, mask),
            "clip_ratio/high_max": _nan_reduce(_sequence_means(high, mask), torch.max),
            "clip_ratio/region_mean": token_mean(region, mask),
        }
