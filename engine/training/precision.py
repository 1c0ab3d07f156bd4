"""The training precision: an autocast context for the forward passes and, for fp16, the
loss scaler that keeps small gradients from underflowing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import torch

from engine.device import pick_dtype
from engine.errors import EngineError
from engine.training.config import TrainSettings

Autocast = Callable[[], AbstractContextManager[Any]]


def autocast_and_scaler(
    settings: TrainSettings, device: str
) -> tuple[Autocast, torch.amp.GradScaler | None]:
    """(autocast context factory, GradScaler or None) for the chosen precision."""
    precision = settings.precision
    if precision == "auto":
        precision = (
            "bf16" if device.startswith("cuda") and pick_dtype(device) == "bfloat16" else "fp32"
        )
    if precision == "fp32":
        return contextlib.nullcontext, None
    if precision == "fp16" and not device.startswith("cuda"):
        raise EngineError("fp16 training needs a CUDA GPU.", 'Use precision = "bf16" or "fp32".')
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    device_type = device.split(":")[0]
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    return (lambda: torch.autocast(device_type=device_type, dtype=dtype)), scaler
