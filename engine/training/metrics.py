"""Turning per-example statistics into the logged metrics, across micro-batches and processes."""

from __future__ import annotations

import math
import resource
import sys

import torch

from engine.training import distributed as dist


def reduce_stats(accelerator, stats: list[dict[str, torch.Tensor]]) -> dict[str, float]:
    """Mean of each statistic over every example of every micro-batch and process, NaN
    entries (a statistic that does not apply to an example) left out."""
    local: dict[str, list[float]] = {}
    for part in stats:
        for name, tensor in part.items():
            local.setdefault(name, []).extend(tensor.detach().float().cpu().flatten().tolist())
    merged: dict[str, list[float]] = {}
    for part in dist.gather_lists(accelerator, [local]):
        for name, values in part.items():
            merged.setdefault(name, []).extend(values)
    out = {}
    for name, values in merged.items():
        finite = [v for v in values if not math.isnan(v)]
        if finite:
            out[name] = sum(finite) / len(finite)
        elif name == "loss":
            out[name] = float("nan")
    if "rewards/margins" not in out and "rewards/chosen" in out and "rewards/rejected" in out:
        # KTO's examples are unpaired: TRL logs the margin as the difference of the means.
        out["rewards/margins"] = out["rewards/chosen"] - out["rewards/rejected"]
    return out


def memory_gb(device) -> float:
    """Peak memory of this process so far: the accelerator's allocations on a GPU, the
    resident set on a CPU."""
    device = str(device)
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.max_memory_allocated(torch.device(device)) / 2**30
    if device == "mps" and hasattr(torch, "mps"):
        return torch.mps.current_allocated_memory() / 2**30
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**30 if sys.platform == "darwin" else peak / 2**20
