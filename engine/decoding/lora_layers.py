"""LoRA layers without PEFT's per-call bookkeeping while decoding.

A PEFT ``lora.Linear`` checks its arguments, its merge and adapter state and walks its
adapters on every call, and calls four modules; on a small model, decoding spends more
time there than in the matrix products. While the adapters and weights stay as they are
(one decode loop), each plain LoRA layer's forward is swapped for a closure that does the
same operations in the same order (``base(x) + B(A(x)) * scaling``, dropout being the
identity in eval mode), so the outputs are bit for bit PEFT's. Layers in any other state
(merged, disabled, a DoRA or other variant, a non-Linear base) keep PEFT's forward.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import torch
import torch.nn.functional as F

from engine.lora import forwards_replaced


def _plain_lora_forward(layer: Any) -> Callable[..., torch.Tensor] | None:
    """The closure for one PEFT LoRA Linear, or None when it is not in the plain state."""
    from peft.tuners.lora import Linear as LoraLinear

    if type(layer) is not LoraLinear or layer.merged or layer.disable_adapters:
        return None
    base = layer.base_layer
    if type(base) is not torch.nn.Linear or layer.training:
        return None
    adapters: list[tuple[Any, Any, Any, Any, float]] = []
    for name in layer.active_adapters:
        if name not in layer.lora_A.keys():
            continue
        if name in layer.lora_variant or type(layer.lora_A[name]) is not torch.nn.Linear:
            return None
        a, b = layer.lora_A[name], layer.lora_B[name]
        adapters.append((a.weight, a.bias, b.weight, b.bias, layer.scaling[name]))
    weight, bias = base.weight, base.bias
    casts = getattr(layer, "cast_input_dtype_enabled", True)

    def forward(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        result = F.linear(x, weight, bias)
        dtype = result.dtype
        for a_w, a_b, b_w, b_b, scaling in adapters:
            if casts and x.dtype != a_w.dtype:
                x = x.to(dtype=a_w.dtype)
            result = result + F.linear(F.linear(x, a_w, a_b), b_w, b_b) * scaling
        return result.to(dtype)

    return forward


def lean_lora_layers(model: Any) -> AbstractContextManager[int]:
    """Inside the block, the model's plain LoRA layers (eval mode) run the closure above;
    yields how many were swapped. Their own forward is back afterwards."""
    return forwards_replaced(model.modules(), _plain_lora_forward)
