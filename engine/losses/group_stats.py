"""Statistics of rewards grouped by prompt, as GRPO and RLOO log them.

Rewards come as ``(N,)`` with the ``group_size`` completions of each prompt adjacent
(``[p0 g0, p0 g1, ..., p1 g0, ...]``), N a multiple of ``group_size``. A NaN reward marks an
unscorable completion: it is left out of every statistic (TRL does the same).
In a multi-process run, gather the rewards of all processes first (TRL does): a group's
completions may be spread over processes.
"""

from __future__ import annotations

import torch


def nanstd(x: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Standard deviation ignoring NaNs, with Bessel's correction (TRL's ``nanstd``);
    NaN where fewer than two values are present."""
    mean = torch.nanmean(x, dim=dim, keepdim=True)
    variance = torch.nanmean((x - mean) ** 2, dim=dim, keepdim=True)
    count = (~torch.isnan(x)).sum(dim=dim, keepdim=True)
    correction = torch.where(
        count > 1, count / (count - 1), torch.full_like(variance, float("nan"))
    )
    std = torch.sqrt(variance * correction)
    return std.squeeze() if dim is None else std.squeeze(dim)


def group_std(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """Per-group standard deviation ``(N // group_size,)``; zeros when ``group_size == 1``
    (TRL's convention, so a single completion per prompt counts as a zero-std group)."""
    grouped = rewards.view(-1, group_size)  # (P, G)
    if group_size == 1:
        return torch.zeros(grouped.shape[0], dtype=rewards.dtype, device=rewards.device)
    return nanstd(grouped, dim=1)


def frac_zero_std(std: torch.Tensor) -> torch.Tensor:
    """Fraction of entries of ``std`` that are (close to) zero: the share of groups whose
    completions all got the same reward, which give no learning signal."""
    return torch.isclose(std, torch.zeros_like(std)).float().mean()


def reward_stats(rewards: torch.Tensor, group_size: int) -> dict[str, torch.Tensor]:
    """TRL's reward metrics for ``(N,)`` rewards, as 0-dim tensors:

    - ``reward``: mean reward; ``reward_std``: standard deviation over the whole batch;
    - ``frac_reward_zero_std``: fraction of groups whose rewards are all equal.
    """
    rewards = rewards.detach().float()
    return {
        "reward": torch.nanmean(rewards),
        "reward_std": nanstd(rewards),
        "frac_reward_zero_std": frac_zero_std(group_std(rewards, group_size)),
    }
