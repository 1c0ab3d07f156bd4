"""The SFT loss against hand-worked examples."""

from __future__ import annotations

import math

import pytest
import torch

from engine.losses.sft import sft_loss


def test_token_mean_over_completion_tokens_only():
    # Row 0: prompt token (logp -9, masked out), completion tokens -1 and -3.
    # Row 1: completion token -2, then padding (logp -7, masked out).
    logps = torch.tensor([[-9.0, -1.0, -3.0], [-2.0, -7.0, 0.0]])
    mask = torch.tensor([[0, 1, 1], [1, 0, 0]])
    out = sft_loss(logps, mask)
    # Token mean: (1 + 3 + 2) / 3 = 2; a mean of row means would be (2 + 2) / 2 = 2 too, so
    # the next test tells the two apart.
    assert out.loss.item() == pytest.approx(2.0)
    assert out.nll.tolist() == pytest.approx([2.0, 2.0])


def test_long_completions_weigh_by_their_tokens():
    logps = torch.tensor([[-1.0, -1.0, -1.0, -1.0], [-5.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 0, 0, 0]])
    out = sft_loss(logps, mask)
    assert out.loss.item() == pytest.approx((4 * 1.0 + 5.0) / 5)  # 1.8, not (1 + 5) / 2 = 3
    assert out.nll.tolist() == pytest.approx([1.0, 5.0])


def test_gradient_reaches_completion_tokens_only():
    logps = torch.tensor([[-0.5, -1.5, -2.0]], requires_grad=True)
    mask = torch.tensor([[0, 1, 1]])
    sft_loss(logps, mask).loss.backward()
    assert logps.grad[0].tolist() == pytest.approx([0.0, -0.5, -0.5])


def test_token_accuracy_and_empty_rows():
    logps = torch.tensor([[-0.1, -0.2, -0.3], [-1.0, -1.0, -1.0]])
    mask = torch.tensor([[1, 1, 1], [0, 0, 0]])
    correct = torch.tensor([[True, False, True], [True, True, True]])
    out = sft_loss(logps, mask, correct)
    assert out.token_accuracy[0].item() == pytest.approx(2 / 3)
    assert math.isnan(out.token_accuracy[1].item()) and math.isnan(out.nll[1].item())
    assert out.loss.item() == pytest.approx(0.2)


def test_a_batch_without_completion_tokens_gives_zero_not_nan():
    logps = torch.tensor([[-1.0, -2.0]], requires_grad=True)
    out = sft_loss(logps, torch.zeros(1, 2))
    assert out.loss.item() == 0.0
    out.loss.backward()
    assert logps.grad.abs().sum().item() == 0.0
