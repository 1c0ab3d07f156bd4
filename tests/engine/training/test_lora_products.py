"""LoRA's low-rank part computed with wide matrix products: the same outputs and gradients
as PEFT's layers (to float rounding), and PEFT's own forward wherever the call does not
qualify (adapter disabled, autocast, a non-float32 input)."""

from __future__ import annotations

import pytest
import torch

from engine.training.lora_products import low_rank, wide_lora_products
from tests.engine.training.helpers import lora_demo


def _lora_model(dropout: float = 0.0):
    return lora_demo(r=4, alpha=12, dropout=dropout)  # scaling 3: not a power of two


def _loss_and_grads(model, ids: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model.zero_grad()
    logits = model(input_ids=ids).logits  # (N, T, V)
    loss = torch.log_softmax(logits, -1)[..., 7].mean()
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters() if p.requires_grad]


def test_low_rank_product_matches_two_linears_forward_and_backward():
    torch.manual_seed(1)
    x = torch.randn(3, 50, 24, requires_grad=True)
    a = torch.randn(4, 24, requires_grad=True)
    b = torch.randn(40, 4, requires_grad=True)
    grad = torch.randn(3, 50, 40)
    plain = torch.nn.functional.linear(torch.nn.functional.linear(x, a), b) * 1.5
    wide = low_rank(x, a, b, 1.5)
    torch.testing.assert_close(wide, plain, rtol=1e-5, atol=1e-5)
    expected = torch.autograd.grad(plain, (x, a, b), grad)
    got = torch.autograd.grad(wide, (x, a, b), grad)
    for e, g in zip(expected, got, strict=True):
        assert e.abs().max() > 0.1  # real gradients
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-4)


def _error(grads: list[torch.Tensor], truth: list[torch.Tensor]) -> float:
    """The largest relative error (by norm) of any parameter's gradient against ``truth``."""
    return max(float((g.double() - t).norm() / t.norm()) for g, t in zip(grads, truth, strict=True))


def test_a_model_inside_the_block_gives_peft_s_loss_and_gradients():
    """Both sums round differently, so both are held against float64: the wide products'
    error is rounding, of the size of PEFT's own."""
    import copy

    model = _lora_model()
    model.train()
    ids = torch.randint(6, 100, (4, 30), generator=torch.Generator().manual_seed(2))
    _, truth = _loss_and_grads(copy.deepcopy(model).double(), ids)
    loss, grads = _loss_and_grads(model, ids)
    with wide_lora_products(model) as swapped:
        assert swapped == 4 * 7  # every linear layer of the four blocks
        inside_loss, inside_grads = _loss_and_grads(model, ids)
    torch.testing.assert_close(inside_loss, loss, rtol=1e-6, atol=1e-6)
    peft_error, wide_error = _error(grads, truth), _error(inside_grads, truth)
    assert peft_error < 1e-3
    assert wide_error < 3 * max(peft_error, 1e-6)
    assert not any("forward" in vars(m) for m in model.modules())  # PEFT's forward is back


def test_a_backward_after_the_block_still_goes_through_the_wide_products(monkeypatch):
    from engine.training import lora_products

    model = _lora_model()
    calls = {"backward": 0}
    real = lora_products.LowRankProduct.backward

    def counting(ctx, grad):
        calls["backward"] += 1
        return real(ctx, grad)

    monkeypatch.setattr(lora_products.LowRankProduct, "backward", staticmethod(counting))
    ids = torch.randint(6, 100, (2, 12), generator=torch.Generator().manual_seed(3))
    with wide_lora_products(model):
        loss = model(input_ids=ids).logits.float().mean()
    loss.backward()
    assert calls["backward"] == 4 * 7


@pytest.mark.parametrize("case", ["disabled-adapter", "autocast", "bfloat16-input"])
def test_calls_that_do_not_qualify_run_peft_s_forward(case, monkeypatch):
    from engine.training import lora_products

    model = _lora_model()
    model.eval()
    used = {"wide": 0}
    real = lora_products.low_rank

    def counting(*args):
        used["wide"] += 1
        return real(*args)

    monkeypatch.setattr(lora_products, "low_rank", counting)
    ids = torch.randint(6, 100, (2, 12), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        if case == "disabled-adapter":
            with model.disable_adapter():
                expected = model(input_ids=ids).logits
            with wide_lora_products(model), model.disable_adapter():
                got = model(input_ids=ids).logits
            torch.testing.assert_close(got, expected)
        elif case == "autocast":
            with wide_lora_products(model), torch.autocast("cpu", dtype=torch.bfloat16):
                model(input_ids=ids)
        else:
            model.to(torch.bfloat16)
            with wide_lora_products(model):
                model(input_ids=ids)
    assert used["wide"] == 0


def test_lora_dropout_is_applied_in_training_and_not_in_eval():
    model = _lora_model(dropout=0.5)
    ids = torch.randint(6, 100, (2, 16), generator=torch.Generator().manual_seed(5))
    model.eval()
    with torch.no_grad():
        expected = model(input_ids=ids).logits
        with wide_lora_products(model):
            torch.testing.assert_close(model(input_ids=ids).logits, expected, rtol=1e-4, atol=1e-4)
    model.train()
    with torch.no_grad(), wide_lora_products(model):
        torch.manual_seed(6)
        first = model(input_ids=ids).logits
        torch.manual_seed(7)
        second = model(input_ids=ids).logits
    assert not torch.allclose(first, second)  # dropout drew different masks
