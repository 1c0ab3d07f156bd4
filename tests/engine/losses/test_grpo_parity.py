"""Parity of engine.losses.grpo with TRL 1.16's GRPOTrainer, driven through TRL's own code.

For each configuration, TRL's ``_generate_and_score_completions`` turns a canned rollout into
the training batch (truncation mask, advantages, token count) and ``_compute_loss`` computes
the loss and logs the metrics; we compute the same from the same tensors with our functions
and compare the batch, the loss, its gradient and every metric (see trl_standins.py).
"""

from __future__ import annotations

import itertools

import pytest
import torch

from engine.losses.grpo import grpo_advantages, grpo_loss
from engine.losses.masked import mask_truncated_completions

pytest.importorskip("trl")

from trl.trainer.grpo_trainer import GRPOTrainer

from tests.engine.losses.trl_standins import (
    assert_close,
    last_metrics,
    leaf,
    make_rollout,
    prompts_for,
    trl_self,
)

PROMPTS, G, T = 3, 4, 7
METRICS = (
    "reward",
    "reward_std",
    "frac_reward_zero_std",
    "clip_ratio/low_mean",
    "clip_ratio/low_min",
    "clip_ratio/high_mean",
    "clip_ratio/high_max",
    "clip_ratio/region_mean",
    "entropy",
)


def _config(**overrides):
    config = dict(
        loss_type="dapo",
        level="token",
        beta=0.0,
        scale="group",
        eps_high=0.28,
        iterations=2,
        mask_truncated=True,
        bias_correction=True,
        seed=0,
        unscorable=(),
    )
    return config | overrides


def _run_trl(rollout, c):
    """TRL's batch, loss, gradient w.r.t. the current log-probs, and metrics."""
    self = trl_self(
        rollout,
        G,
        args=dict(use_bias_correction_kl=c["bias_correction"], delta=None),
        loss_type=c["loss_type"],
        importance_sampling_level=c["level"],
        beta=c["beta"],
        scale_rewards=c["scale"],
        epsilon_low=0.2,
        epsilon_high=c["eps_high"] or 0.2,
        num_iterations=c["iterations"],
        mask_truncated_completions=c["mask_truncated"],
        multi_objective_aggregation="sum_then_normalize",
        max_completion_length=T + 3,
        top_entropy_quantile=1.0,
        off_policy_mask_threshold=None,
        _entropy_bonus_enabled=False,
    )
    batch = GRPOTrainer._generate_and_score_completions(self, prompts_for(rollout))
    logps = leaf(rollout.logps)
    self.forward[self.model] = (logps, rollout.entropies)
    loss = GRPOTrainer._compute_loss(self, self.model, batch)
    loss.backward()
    return batch, loss.detach(), logps.grad, last_metrics(self)


def _run_ours(rollout, c):
    mask = rollout.completion_mask()
    if c["mask_truncated"]:
        mask = mask_truncated_completions(mask, rollout.is_truncated)
    advantages, reward_metrics = grpo_advantages(rollout.rewards, G, scale_rewards=c["scale"])
    logps = leaf(rollout.logps)
    loss, stats = grpo_loss(
        logps,
        advantages,
        mask,
        old_logps=rollout.old_logps if c["iterations"] > 1 else None,
        ref_logps=rollout.ref_logps if c["beta"] else None,
        loss_type=c["loss_type"],
        epsilon=0.2,
        epsilon_high=c["eps_high"],
        beta=c["beta"],
        importance_sampling_level=c["level"],
        kl_bias_correction=c["bias_correction"],
        max_completion_length=T + 3,
        entropies=rollout.entropies,
    )
    loss.backward()
    return mask, advantages, loss.detach(), logps.grad, reward_metrics | stats


def _check(c):
    rollout = make_rollout(PROMPTS, G, T, seed=c["seed"])
    rollout.rewards[list(c["unscorable"])] = float("nan")
    batch, trl_loss, trl_grad, trl_metrics = _run_trl(rollout, c)
    mask, advantages, loss, grad, metrics = _run_ours(rollout, c)
    assert torch.equal(mask, batch["completion_mask"])
    assert mask.sum() == batch["num_items_in_batch"]
    assert_close("advantages", advantages, batch["advantages"])
    assert_close("loss", loss, trl_loss)
    assert_close("grad", grad, trl_grad)
    expected = METRICS + (("kl",) if c["beta"] else ())
    assert set(expected) <= set(trl_metrics)
    for name in expected:
        assert_close(name, metrics[name], trl_metrics[name])
    return loss, metrics


@pytest.mark.parametrize(
    ("loss_type", "level", "beta", "scale"),
    list(
        itertools.product(
            ("grpo", "bnpo", "dr_grpo", "dapo"),
            ("token", "sequence"),
            (0.0, 0.04),
            ("group", "batch", "none"),
        )
    ),
)
def test_loss_advantages_and_metrics_match_trl(loss_type, level, beta, scale):
    _check(_config(loss_type=loss_type, level=level, beta=beta, scale=scale))


@pytest.mark.parametrize("eps_high", [None, 0.28])
@pytest.mark.parametrize("iterations", [1, 2])
@pytest.mark.parametrize("loss_type", ["grpo", "dapo"])
def test_clip_higher_and_on_policy_ratio_match_trl(eps_high, iterations, loss_type):
    _check(_config(eps_high=eps_high, iterations=iterations, loss_type=loss_type, beta=0.04))


@pytest.mark.parametrize("level", ["token", "sequence"])
def test_kl_without_bias_correction_matches_trl(level):
    _check(_config(beta=0.04, bias_correction=False, level=level))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_without_truncation_masking_matches_trl(seed):
    _check(_config(mask_truncated=False, seed=seed, beta=0.04))


def test_on_policy_clip_ratios_are_zero():
    _, metrics = _check(_config(iterations=1))
    assert metrics["clip_ratio/region_mean"] == 0.0


def test_multi_iteration_batch_has_clipped_tokens_on_both_sides():
    """Guards the other parity tests: the canned rollout must exercise both clip branches."""
    _, metrics = _check(_config(iterations=2))
    assert metrics["clip_ratio/low_mean"] > 0 and metrics["clip_ratio/high_mean"] > 0


@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_unscorable_completions_match_trl(scale):
    """A NaN reward (every rule abstained) is left out of the group mean and std and gets
    advantage 0; in group 2 only one completion is left scorable."""
    _check(_config(scale=scale, unscorable=(5, 8, 9, 10)))


def test_batch_scaling_with_a_gathered_std_matches_the_whole_batch():
    """Two processes holding whole groups each, given the std of all rewards, get the
    advantages that one process gets from the whole batch."""
    rewards = make_rollout(4, G, T, seed=4).rewards
    whole, _ = grpo_advantages(rewards, G, scale_rewards="batch")
    std = rewards.std()
    halves = [
        grpo_advantages(part, G, scale_rewards="batch", batch_std=std)[0]
        for part in rewards.chunk(2)
    ]
    assert_close("advantages", torch.cat(halves), whole)
    local, _ = grpo_advantages(rewards[: 2 * G], G, scale_rewards="batch")
    assert not torch.allclose(local, whole[: 2 * G])  # the local std really differs


def test_dapo_micro_batch_with_the_generation_token_count_matches_trl():
    """Generation batch split into two accumulation steps: TRL divides each micro-batch's
    token sum by the *generation batch's* token count; so do we, given that count."""
    rollout = make_rollout(PROMPTS, G, T, seed=5)
    self = trl_self(
        rollout,
        G,
        args=dict(
            use_bias_correction_kl=True,
            delta=None,
            gradient_accumulation_steps=2,
            steps_per_generation=2,
        ),
        loss_type="dapo",
        importance_sampling_level="token",
        beta=0.0,
        scale_rewards="group",
        epsilon_low=0.2,
        epsilon_high=0.28,
        num_iterations=1,
        mask_truncated_completions=True,
        multi_objective_aggregation="sum_then_normalize",
        max_completion_length=T,
        top_entropy_quantile=1.0,
        off_policy_mask_threshold=None,
        _entropy_bonus_enabled=False,
        current_gradient_accumulation_steps=2,
    )
    batch = GRPOTrainer._generate_and_score_completions(self, prompts_for(rollout))
    half = slice(0, PROMPTS * G // 2)
    micro = {k: v[half] if v.dim() else v for k, v in batch.items()}
    self.forward[self.model] = (rollout.logps[half], rollout.entropies[half])
    trl_loss = GRPOTrainer._compute_loss(self, self.model, micro)
    loss, _ = grpo_loss(
        rollout.logps[half],
        micro["advantages"],
        micro["completion_mask"],
        epsilon_high=0.28,
        num_items_in_batch=batch["num_items_in_batch"],
    )
    assert_close("loss", loss, trl_loss)
    local, _ = grpo_loss(
        rollout.logps[half], micro["advantages"], micro["completion_mask"], epsilon_high=0.28
    )
    assert not torch.allclose(local, loss)  # the default (local count) is a different scale


def test_invalid_settings_are_refused():
    logps, mask, adv = torch.zeros(2, 3), torch.ones(2, 3), torch.ones(2)
    with pytest.raises(ValueError, match="max_completion_length"):
        grpo_loss(logps, adv, mask, loss_type="dr_grpo")
    with pytest.raises(ValueError, match="ref_logps"):
        grpo_loss(logps, adv, mask, beta=0.1)
    with pytest.raises(ValueError, match="loss_type"):
        grpo_loss(logps, adv, mask, loss_type="sapo")
    with pytest.raises(ValueError, match="scale_rewards"):
        grpo_advantages(torch.ones(4), 2, scale_rewards="max")
