"""What the machine does during a run: CPU use, resident memory, GPU utilisation.

Logged with every step's metrics under `system/`, so a run that slows down because the
machine is busy (or swaps, or leaves the GPU idle while it samples) shows why.
"""

from __future__ import annotations

import os
import time

import torch


def _rss_gb() -> float | None:
    """The resident set now (not the peak), from /proc; None where there is none."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**30


def _gpu_utilisation(device) -> float | None:
    """The GPU's busy percentage over the driver's last sample (needs NVML); None otherwise."""
    if not str(device).startswith("cuda") or not torch.cuda.is_available():
        return None
    try:
        return float(torch.cuda.utilization(torch.device(device)))
    except Exception:
        return None


class SystemMeter:
    """CPU use of this process between two readings, plus memory and GPU figures."""

    def __init__(self) -> None:
        self._last: tuple[float, float] | None = None  # (CPU seconds, wall seconds)

    def read(self, device) -> dict[str, float]:
        """The figures now; CPU use from the second reading on (it needs an interval)."""
        cpu, wall = time.process_time(), time.perf_counter()
        metrics: dict[str, float] = {}
        if self._last is not None and wall > self._last[1]:
            # 100 = one core busy for the whole interval; torch's threads can make it more.
            metrics["system/cpu_percent"] = 100.0 * (cpu - self._last[0]) / (wall - self._last[1])
        self._last = (cpu, wall)
        rss = _rss_gb()
        if rss is not None:
            metrics["system/rss_gb"] = rss
        gpu = _gpu_utilisation(device)
        if gpu is not None:
            metrics["system/gpu_percent"] = gpu
        return metrics
