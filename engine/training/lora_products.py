"""LoRA's low-rank products on the CPU, laid out so that the BLAS sees wide matrices.

A LoRA layer adds ``scaling * B(A(x))`` with rank r (8, 16): PEFT computes it with
``F.linear``, whose forward ``x @ A.T`` and backward ``grad.T @ h`` (B's gradient) and
``grad @ B`` (h's) are matrix products with only r output columns. The CPU BLAS runs those
4-6x slower than the same products transposed (r output rows, thousands of columns): on
1,280 tokens of the demo model, B's gradient took 0.71 ms as ``grad.T @ h`` and 0.13 ms as
``(h.T @ grad).T``. The low-rank part of a LoRA layer was about a third of a GRPO update's
matrix time. ``LowRankProduct`` computes the same quantities, each product in its wide form,
and applies the scaling on the rank-r side (r values a token instead of o); the results
agree with PEFT's to float rounding, the sums running in another order.

Only plain LoRA layers (no DoRA or other variant, an ``nn.Linear`` base), in float32 without
autocast, on the CPU take this path; any other call runs PEFT's own forward.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import torch

from engine.lora import forwards_replaced
from engine.training.policy import recomputes_activations


class LowRankProduct(torch.autograd.Function):
    """``scaling * (x @ A.T) @ B.T`` for x (M, i), A (r, i), B (o, r) -> (M, o)."""

    @staticmethod
    def forward(ctx, x, a, b, scaling: float):
        h = (a @ x.T).T * scaling  # (M, r): (r, i) @ (i, M), r rows instead of r columns
        ctx.save_for_backward(x, a, b, h)
        ctx.scaling = scaling
        return h @ b.T  # (M, o): o columns, already wide

    @staticmethod
    def backward(ctx, grad):  # grad (M, o)
        x, a, b, h = ctx.saved_tensors
        scaling = ctx.scaling
        grad_h = (b.T @ grad.T).T  # (M, r) = grad @ B, as (r, o) @ (o, M)
        grad_b = (h.T @ grad).T if ctx.needs_input_grad[2] else None  # (o, r)
        grad_hx = grad_h * scaling  # (M, r) the gradient at x @ A.T
        grad_a = grad_hx.T @ x if ctx.needs_input_grad[1] else None  # (r, i)
        grad_x = grad_hx @ a if ctx.needs_input_grad[0] else None  # (M, i)
        return grad_x, grad_a, grad_b, None


def low_rank(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor, scaling: float) -> torch.Tensor:
    """``LowRankProduct`` over any leading dimensions of ``x`` (..., i) -> (..., o)."""
    flat = x.reshape(-1, x.shape[-1])  # (M, i)
    out = LowRankProduct.apply(flat, a, b, scaling)
    return out.reshape(*x.shape[:-1], b.shape[0])


def _wide_forward(layer: Any, peft_forward: Any) -> Any | None:
    """The replacement forward of one PEFT LoRA Linear, or None when it does not qualify."""
    from peft.tuners.lora import Linear as LoraLinear

    if type(layer) is not LoraLinear or type(layer.base_layer) is not torch.nn.Linear:
        return None
    if any(name in layer.lora_variant for name in layer.lora_A.keys()):
        return None

    def forward(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        plain = (
            not args
            and not kwargs
            and not layer.disable_adapters
            and not layer.merged
            and x.device.type == "cpu"
            and x.dtype == torch.float32
            and not torch.is_autocast_enabled("cpu")
        )
        if not plain:
            return peft_forward(x, *args, **kwargs)
        result = layer.base_layer(x)
        for name in layer.active_adapters:
            if name not in layer.lora_A.keys():
                continue
            a, b = layer.lora_A[name], layer.lora_B[name]
            if a.weight.dtype != torch.float32 or a.bias is not None or b.bias is not None:
                return peft_forward(x, *args, **kwargs)
            dropped = layer.lora_dropout[name](x)
            result = result + low_rank(dropped, a.weight, b.weight, layer.scaling[name])
        return result

    return forward


def wide_lora_products(model: Any) -> AbstractContextManager[int]:
    """Inside the block, the model's plain LoRA layers compute their low-rank part with
    ``LowRankProduct`` whenever a call qualifies (see the module's docstring); yields how
    many layers were swapped (none under activation checkpointing). A backward pass may run
    after the block: the graph keeps the products it recorded."""
    modules = () if recomputes_activations(model) else model.modules()
    return forwards_replaced(modules, lambda module: _wide_forward(module, module.forward))
