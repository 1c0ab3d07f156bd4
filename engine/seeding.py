"""Sampling under a seed of its own: torch's generator is seeded for one block and given
back as it was, so that sampling is reproducible and training's dropout is unaffected.
torch is imported inside the function (``engine.generation`` is imported at the
application's start)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def seeded(seed: int, device: Any) -> Iterator[None]:
    """Torch's generator seeded with ``seed`` inside the block; the CPU's state and, on a
    CUDA ``device``, that GPU's are restored afterwards."""
    import torch

    device = torch.device(device)
    devices: list[int] = []
    if device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
