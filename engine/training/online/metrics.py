"""The logged quantities of a batch of rollouts, under TRL's names (GRPOTrainer's
``reward``, ``reward_std``, ``frac_reward_zero_std``, ``rewards/<name>/mean``,
``completions/*``), from the whole step's rollouts gathered over every process."""

from __future__ import annotations

import math
import statistics


def _std(values: list[float]) -> float:
    # TRL uses torch.std, the unbiased (n - 1) estimate.
    return statistics.stdev(values) if len(values) > 1 else 0.0


def reward_metrics(
    totals: list[float], group_size: int, parts: dict[str, list[float]], prefix: str = ""
) -> dict[str, float]:
    """``totals``: every completion's reward, groups of ``group_size`` consecutive rows."""
    groups = [totals[i : i + group_size] for i in range(0, len(totals), group_size)]
    stds = [_std(g) for g in groups]
    out = {
        f"{prefix}reward": statistics.fmean(totals),
        f"{prefix}reward_std": statistics.fmean(stds),
    }
    if group_size > 1:
        out[f"{prefix}frac_reward_zero_std"] = sum(
            math.isclose(s, 0.0, abs_tol=1e-8) for s in stds
        ) / len(stds)
    for name, values in parts.items():
        out[f"{prefix}rewards/{name}/mean"] = statistics.fmean(values)
        out[f"{prefix}rewards/{name}/std"] = _std(values)
    return out


def completion_metrics(
    lengths: list[int], truncated: list[bool], prefix: str = ""
) -> dict[str, float]:
    terminated = [n for n, cut in zip(lengths, truncated, strict=True) if not cut]
    out = {
        f"{prefix}completions/mean_length": statistics.fmean(lengths),
        f"{prefix}completions/min_length": float(min(lengths)),
        f"{prefix}completions/max_length": float(max(lengths)),
        f"{prefix}completions/clipped_ratio": sum(truncated) / len(truncated),
    }
    if terminated:
        out[f"{prefix}completions/mean_terminated_length"] = statistics.fmean(terminated)
        out[f"{prefix}completions/min_terminated_length"] = float(min(terminated))
        out[f"{prefix}completions/max_terminated_length"] = float(max(terminated))
    return out
