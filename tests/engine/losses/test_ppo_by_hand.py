"""PPO pieces against numbers worked out by hand (TRL 1.16 has no PPO trainer to drive).

Each expected value is derived in the comment above it, so a reader can redo the arithmetic.
"""

from __future__ import annotations

import math

import pytest
import torch

from engine.losses.kl import AdaptiveKLController, FixedKLController, kl_k1, kl_k3
from engine.losses.masked import masked_whiten
from engine.losses.ppo import entropy_from_logits, explained_variance, gae, ppo_token_rewards
from engine.losses.ppo_loss import ppo_loss

ATOL = 1e-6


def _close(ours, expected, atol=ATOL):
    ours = torch.as_tensor(ours, dtype=torch.float64)
    expected = torch.as_tensor(expected, dtype=torch.float64)
    assert torch.allclose(ours, expected, rtol=0, atol=atol), f"{ours} != {expected}"


def test_gae_1x3_gamma_09_lambda_08():
    # r = (0, 0, 1), V = (0.5, 0.6, 0.7), gamma * lambda = 0.72:
    # t=2: delta = 1 - 0.7 = 0.3                     A2 = 0.3
    # t=1: delta = 0.9 * 0.7 - 0.6 = 0.03            A1 = 0.03 + 0.72 * 0.3 = 0.246
    # t=0: delta = 0.9 * 0.6 - 0.5 = 0.04            A0 = 0.04 + 0.72 * 0.246 = 0.21712
    # returns = A + V = (0.71712, 0.846, 1.0)
    rewards, values = torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[0.5, 0.6, 0.7]])
    advantages, returns = gae(rewards, values, torch.ones(1, 3), gamma=0.9, lam=0.8, whiten=False)
    _close(advantages, [[0.21712, 0.246, 0.3]])
    _close(returns, [[0.71712, 0.846, 1.0]])


def test_gae_stops_at_right_padding_and_skips_masked_tokens():
    # Row 0, padded after two tokens (garbage behind the mask):
    # t=1: delta = 1.0 - 0.4 = 0.6 (nothing after the last token)   A1 = 0.6
    # t=0: delta = 0.2 + 0.9 * 0.4 - 0.3 = 0.26                        A0 = 0.26 + 0.72 * 0.6 = 0.692
    # Row 1, token 1 masked out: token 0 links to token 2.
    # t=2: delta = 1 - 0.7 = 0.3                                       A2 = 0.3
    # t=0: delta = 0.9 * 0.7 - 0.5 = 0.13                              A0 = 0.13 + 0.72 * 0.3 = 0.346
    rewards = torch.tensor([[0.2, 1.0, 9.0], [0.0, 7.0, 1.0]])
    values = torch.tensor([[0.3, 0.4, 5.0], [0.5, 9.0, 0.7]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 1]])
    advantages, returns = gae(rewards, values, mask, gamma=0.9, lam=0.8, whiten=False)
    _close(advantages, [[0.692, 0.6, 0.0], [0.346, 0.0, 0.3]])
    _close(returns, [[0.992, 1.0, 0.0], [0.846, 0.0, 1.0]])


def test_gae_whitening_is_over_the_mask_and_leaves_returns_alone():
    # Unwhitened A = (1, 2, 3 | padding): mean 2, unbiased var 1 -> (-1, 0, 1, 0).
    # With gamma = lambda = 1 and V = 0, A_t is the sum of the rewards from t on.
    rewards = torch.tensor([[-1.0, -1.0, 3.0, 5.0]])
    mask = torch.tensor([[1, 1, 1, 0]])
    advantages, returns = gae(rewards, torch.zeros(1, 4), mask, gamma=1.0, lam=1.0)
    _close(advantages, [[-1.0, 0.0, 1.0, 0.0]], atol=1e-5)
    _close(returns, [[1.0, 2.0, 3.0, 0.0]])


def test_masked_whiten_uses_only_masked_statistics():
    # Over (1, 2, 3): mean 2, unbiased var 1; the masked 100 maps to (100 - 2) / 1.
    x, mask = torch.tensor([1.0, 2.0, 3.0, 100.0]), torch.tensor([1, 1, 1, 0])
    _close(masked_whiten(x, mask), [-1.0, 0.0, 1.0, 98.0], atol=1e-5)
    _close(masked_whiten(x, mask, shift_mean=False), [1.0, 2.0, 3.0, 100.0], atol=1e-5)


def test_token_rewards_put_the_score_on_the_last_token():
    # kl_coef 0.1. Row 0: -0.1 * (0.1, -0.2, 0.3) = (-0.01, 0.02, -0.03), + 2 at t=2.
    # Row 1 (last token masked): (-0.05, -0.04), score -1 at t=1; nothing behind the mask.
    # objective/kl = mean(0.2, 0.9) = 0.55; non_score = mean(-0.02, -0.09) = -0.055;
    # scores = mean(2, -1) = 0.5; rlhf_reward = 0.5 - 0.055 = 0.445.
    kl = torch.tensor([[0.1, -0.2, 0.3], [0.5, 0.4, 9.0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    rewards, stats = ppo_token_rewards(torch.tensor([2.0, -1.0]), kl, mask, kl_coef=0.1)
    _close(rewards, [[-0.01, 0.02, 1.97], [-0.05, -1.04, 0.0]])
    _close(stats["objective/kl"], 0.55)
    _close(stats["objective/non_score_reward"], -0.055)
    _close(stats["objective/scores"], 0.5)
    _close(stats["objective/rlhf_reward"], 0.445)


def _ppo_example(**kwargs):
    """Three completion tokens and a padded fourth full of values that must not count.

    Ratios w = (1.5, 0.5, 1.1), advantages (1, 1, -2), cliprange 0.2:
    t0: max(-1.5, -1.2) = -1.2 (clipped); t1: max(-0.5, -0.8) = -0.5; t2: max(2.2, 2.2) = 2.2.
    loss/policy = (-1.2 - 0.5 + 2.2) / 3 = 1/6; policy/clipfrac = 1/3.
    Values V = (1.5, 0.1, 1.0), V_old = (1, 0, 2), returns R = (2, 0, 2), cliprange_value 0.2:
    t0: clip(V) = 1.2, max(0.25, 0.64) = 0.64 (clipped); t1: 0.01; t2: clip(V) = 1.8,
    max(1.0, 0.04) = 1.0. loss/value = 0.5 * 1.65 / 3 = 0.275; val/clipfrac = 1/3.
    """
    logps = torch.tensor([[math.log(1.5), math.log(0.5), math.log(1.1), 5.0]], requires_grad=True)
    values = torch.tensor([[1.5, 0.1, 1.0, 100.0]], requires_grad=True)
    loss, stats = ppo_loss(
        logps,
        torch.zeros(1, 4),
        torch.tensor([[1.0, 1.0, -2.0, 100.0]]),
        values,
        old_values=torch.tensor([[1.0, 0.0, 2.0, 0.0]]),
        returns=torch.tensor([[2.0, 0.0, 2.0, 0.0]]),
        mask=torch.tensor([[1, 1, 1, 0]]),
        cliprange=0.2,
        cliprange_value=0.2,
        vf_coef=0.1,
        **kwargs,
    )
    loss.backward()
    return loss, stats, logps.grad, values.grad


def test_ppo_loss_and_stats_by_hand():
    # loss = 1/6 + 0.1 * 0.275 = 0.1941667
    # approxkl = 0.5 * (ln(1.5)^2 + ln(0.5)^2 + ln(1.1)^2) / 3
    #          = 0.5 * (0.1644019 + 0.4804530 + 0.0090840) / 3 = 0.1089898
    # explained variance of V_old (1, 0, 2) for R (2, 0, 2): Var(R - V_old) = Var(1, 0, 0) = 1/3,
    # Var(R) = 4/3 (both unbiased) -> 1 - (1/3) / (4/3) = 0.75
    loss, stats, _, _ = _ppo_example()
    _close(loss, 1 / 6 + 0.0275)
    _close(stats["loss/policy"], 1 / 6)
    _close(stats["loss/value"], 0.275)
    _close(stats["policy/clipfrac"], 1 / 3)
    _close(stats["val/clipfrac"], 1 / 3)
    _close(stats["policy/approxkl"], 0.1089898)
    _close(stats["val/explained_variance"], 0.75)
    assert "entropy" not in stats


def test_ppo_gradients_vanish_where_clipped_and_behind_the_mask():
    # d loss/policy / d logp_t = -A_t w_t / 3 where unclipped: t0 clipped -> 0,
    # t1: -0.5 / 3, t2: 2.2 / 3; the padded token 0.
    # d (0.1 * loss/value) / d V_t = 0.1 * 0.5 / 3 * 2 (V_t - R_t) on the active branch:
    # t0: the clipped branch is flat -> 0; t1: 2 * 0.1 -> 0.0033333; t2: 2 * (-1) -> -0.0333333.
    _, _, logps_grad, values_grad = _ppo_example()
    _close(logps_grad, [[0.0, -0.5 / 3, 2.2 / 3, 0.0]])
    _close(values_grad, [[0.0, 0.1 * 0.5 / 3 * 0.2, 0.1 * 0.5 / 3 * -2.0, 0.0]])


def test_entropy_bonus_lowers_the_loss_by_coef_times_mean_entropy():
    # Mean masked entropy (1 + 2 + 3) / 3 = 2; 0.1941667 - 0.01 * 2 = 0.1741667.
    loss, stats, _, _ = _ppo_example(
        entropies=torch.tensor([[1.0, 2.0, 3.0, 50.0]]), entropy_coef=0.01
    )
    _close(loss, 1 / 6 + 0.0275 - 0.02)
    _close(stats["entropy"], 2.0)
    with pytest.raises(ValueError, match="entropies"):
        _ppo_example(entropy_coef=0.01)


def test_explained_variance_extremes():
    returns, mask = torch.tensor([[1.0, 2.0, 4.0]]), torch.ones(1, 3)
    _close(explained_variance(returns, returns, mask), 1.0)  # perfect value head
    _close(explained_variance(torch.full((1, 3), 7.0), returns, mask), 0.0)  # constant
    assert explained_variance(returns, torch.ones(1, 3), mask).isnan()  # constant returns


def test_entropy_from_logits_by_hand_and_against_trl():
    # p = (1/4, 3/4): H = 0.25 ln 4 + 0.75 ln(4/3) = 0.3465736 + 0.2157616 = 0.5623351;
    # uniform over 4: ln 4 = 1.3862944.
    logits = torch.tensor(
        [[[0.0, math.log(3.0), -math.inf, -math.inf], [0.0, 0.0, 0.0, 0.0]]], requires_grad=True
    )
    entropy = entropy_from_logits(logits)
    _close(entropy, [[0.5623351, 1.3862944]])
    entropy.sum().backward()  # an entropy bonus must not turn masked vocabulary into NaN
    assert torch.isfinite(logits.grad).all()
    trl_utils = pytest.importorskip("trl.trainer.utils")
    random_logits = torch.randn(2, 5, 11, generator=torch.Generator().manual_seed(0))
    _close(entropy_from_logits(random_logits), trl_utils.entropy_from_logits(random_logits))


def test_kl_estimators_by_hand():
    # logp = -1, ref = -2: k1 = 1; k3 = e^(-1) - (-1) - 1 = 0.3678794. Equal log-probs: 0.
    logps, ref = torch.tensor([[-1.0, -0.5]]), torch.tensor([[-2.0, -0.5]])
    _close(kl_k1(logps, ref), [[1.0, 0.0]])
    _close(kl_k3(logps, ref), [[0.3678794, 0.0]])


def test_adaptive_kl_controller_by_hand():
    # KL 9 against target 6: error clip(9/6 - 1, +-0.2) = 0.2, 256 samples over horizon 10000:
    # 0.2 * (1 + 0.2 * 256 / 10000) = 0.201024.
    # Then KL 5.7: error 5.7/6 - 1 = -0.05, 100 samples: 0.201024 * (1 - 0.05 * 0.01) = 0.2009235.
    controller = AdaptiveKLController(value=0.2, target=6.0, horizon=10000.0)
    raised = controller.update(current_kl=9.0, n_steps=256)
    _close(raised.value, 0.201024)
    _close(raised.update(current_kl=5.7, n_steps=100).value, 0.201024 * 0.9995)
    assert controller.value == 0.2  # frozen: update returns a new controller


def test_fixed_kl_controller_keeps_its_value():
    controller = FixedKLController(value=0.05)
    assert controller.update(current_kl=100.0, n_steps=64).value == 0.05
