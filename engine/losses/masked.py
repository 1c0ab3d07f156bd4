"""Masked reductions over completion tokens, shared by the online-RL losses.

A mask is a 0/1 tensor ``(B, T)`` marking the completion tokens that count; padding, and whole
completions dropped by ``mask_truncated_completions``, are 0. This module imports torch; only the
training worker imports it.
"""

from __future__ import annotations

import torch


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over the positions where ``mask`` is 1; 0 (not NaN) when the mask is empty,
    so a batch of fully masked completions contributes no gradient instead of poisoning it."""
    return (x * mask).sum() / mask.sum().clamp(min=1)


def masked_var(x: torch.Tensor, mask: torch.Tensor, unbiased: bool = True) -> torch.Tensor:
    """Variance of ``x`` over the masked positions, with Bessel's correction when ``unbiased``
    (as TRL's ``masked_var``); a single position has variance 0."""
    centered = x - masked_mean(x, mask)
    variance = masked_mean(centered**2, mask)
    if not unbiased:
        return variance
    count = mask.sum().to(variance.dtype)
    # torch.where rather than `if count > 1` keeps this free of a device sync.
    correction = torch.where(count > 1, count / (count - 1).clamp(min=1), torch.ones_like(count))
    return variance * correction


def masked_whiten(x: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True) -> torch.Tensor:
    """``(x - mean) / sqrt(var + 1e-8)`` with masked statistics (TRL's ``masked_whiten``).

    With ``shift_mean=False`` the mean is added back, so only the scale changes.
    Values at masked-out positions are transformed too; multiply by the mask to zero them.
    """
    mean, var = masked_mean(x, mask), masked_var(x, mask)
    whitened = (x - mean) * torch.rsqrt(var + 1e-8)
    return whitened if shift_mean else whitened + mean


def mask_truncated_completions(
    completion_mask: torch.Tensor,  # (B, T) 0/1
    is_truncated: torch.Tensor,  # (B,) bool: hit the length limit without an end token
) -> torch.Tensor:
    """Zero the whole mask of every truncated completion (DAPO's overlong filtering, Yu et al.
    2025, arXiv 2503.14476; TRL's ``mask_truncated_completions``): a cut-off answer's reward says
    little about its tokens, so it should neither be rewarded nor penalised. Returns ``(B, T)``
    in the dtype of ``completion_mask``.

    TRL calls a completion truncated when its last token is neither an end token nor padding.
    """
    keep = (~is_truncated.to(torch.bool)).to(completion_mask.dtype)  # (B,)
    return completion_mask * keep.unsqueeze(1)
