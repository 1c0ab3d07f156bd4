"""Parity of engine.losses.rloo with TRL 1.16's RLOOTrainer, driven through TRL's own code.

TRL's ``_generate_and_score_completions`` turns a canned rollout into the training batch
(truncation mask, old sequence log-probs, KL-penalised leave-one-out advantages) and
``_compute_loss`` computes the loss and metrics; we compute the same with our functions from the
same tensors and compare the batch, loss, gradient and every metric (see trl_standins.py).
"""

from __future__ import annotations

import itertools

import pytest
import torch

from engine.losses.masked import mask_truncated_completions
from engine.losses.rloo import rloo_advantages, rloo_loss, rloo_sequence_kl

pytest.importorskip("trl")

from trl.trainer.rloo_trainer import RLOOTrainer

from tests.engine.losses.trl_standins import (
    assert_close,
    last_metrics,
    leaf,
    make_rollout,
    prompts_for,
    trl_self,
)

PROMPTS, T = 4, 6
METRICS = (
    "reward",
    "reward_std",
    "frac_reward_zero_std",
    "entropy",
    "clip_ratio/low_mean",
    "clip_ratio/low_min",
    "clip_ratio/high_mean",
    "clip_ratio/high_max",
    "clip_ratio/region_mean",
)


def _config(**overrides):
    config = dict(
        group_size=4,
        beta=0.05,
        normalize=False,
        eps_high=None,
        clip_range=None,
        mask_truncated=True,
        seed=0,
        unscorable=(),
    )
    return config | overrides


def _run_trl(rollout, c):
    g = c["group_size"]
    self = trl_self(
        rollout,
        g,
        args={},
        _generate=lambda prompts: (
            rollout.prompt_ids,
            rollout.completion_ids,
            ["c"] * len(rollout.completion_ids),
        ),
        beta=c["beta"],
        normalize_advantages=c["normalize"],
        reward_clip_range=c["clip_range"],
        mask_truncated_completions=c["mask_truncated"],
        chat_template_kwargs={},
        epsilon_low=0.2,
        epsilon_high=c["eps_high"] or 0.2,
    )
    batch = RLOOTrainer._generate_and_score_completions(self, prompts_for(rollout))
    logps = leaf(rollout.logps)
    self.forward[self.model] = (logps, rollout.entropies)
    loss = RLOOTrainer._compute_loss(self, self.model, batch)
    loss.backward()
    return batch, loss.detach(), logps.grad, last_metrics(self)


def _run_ours(rollout, c):
    mask = rollout.completion_mask()
    if c["mask_truncated"]:
        mask = mask_truncated_completions(mask, rollout.is_truncated)
    seq_kl, kl_metric = rloo_sequence_kl(rollout.old_logps, rollout.ref_logps, mask)
    advantages, metrics = rloo_advantages(
        rollout.rewards,
        c["group_size"],
        sequence_kl=seq_kl,
        beta=c["beta"],
        normalize=c["normalize"],
        reward_clip_range=c["clip_range"],
    )
    logps = leaf(rollout.logps)
    loss, stats = rloo_loss(
        logps,
        advantages,
        mask,
        old_logps=rollout.old_logps,
        epsilon=0.2,
        epsilon_high=c["eps_high"],
        entropies=rollout.entropies,
    )
    loss.backward()
    return mask, advantages, loss.detach(), logps.grad, metrics | stats | {"kl": kl_metric}


def _check(c):
    rollout = make_rollout(PROMPTS, c["group_size"], T, seed=c["seed"])
    rollout.rewards[list(c["unscorable"])] = float("nan")
    batch, trl_loss, trl_grad, trl_metrics = _run_trl(rollout, c)
    mask, advantages, loss, grad, metrics = _run_ours(rollout, c)
    assert torch.equal(mask, batch["completion_mask"])
    assert_close("old_logps", (rollout.old_logps * mask).sum(1), batch["old_logps"])
    assert_close("advantages", advantages, batch["advantages"])
    assert_close("loss", loss, trl_loss)
    assert_close("grad", grad, trl_grad)
    expected = METRICS + (("kl",) if c["beta"] else ())
    assert set(expected) <= set(trl_metrics)
    for name in expected:
        assert_close(name, metrics[name], trl_metrics[name])
    return metrics


@pytest.mark.parametrize(
    ("beta", "normalize", "eps_high", "group_size"),
    list(itertools.product((0.0, 0.05), (False, True), (None, 0.28), (2, 4))),
)
def test_loss_advantages_and_metrics_match_trl(beta, normalize, eps_high, group_size):
    _check(_config(beta=beta, normalize=normalize, eps_high=eps_high, group_size=group_size))


@pytest.mark.parametrize("clip_range", [(0.2, 0.7), None])
@pytest.mark.parametrize("mask_truncated", [False, True])
def test_reward_clipping_and_truncation_match_trl(clip_range, mask_truncated):
    _check(_config(clip_range=clip_range, mask_truncated=mask_truncated, seed=1))


@pytest.mark.parametrize("normalize", [False, True])
def test_unscorable_completions_match_trl(normalize):
    """Group 1 keeps a single scorable completion: its baseline is 0/0, its advantage 0."""
    _check(_config(normalize=normalize, unscorable=(2, 4, 5, 6)))


def test_batch_exercises_both_clip_branches():
    """Guards the parity tests: the canned rollout must clip on both sides."""
    metrics = _check(_config(eps_high=0.28))
    assert metrics["clip_ratio/low_mean"] > 0 and metrics["clip_ratio/high_mean"] > 0


def test_leave_one_out_baseline_by_hand():
    """Group (1, 2, 3, 6): baselines (11/3, 10/3, 3, 2) -> advantages (-8/3, -4/3, 0, 4)."""
    advantages, stats = rloo_advantages(torch.tensor([1.0, 2.0, 3.0, 6.0]), 4, beta=0.0)
    assert_close("advantages", advantages, torch.tensor([-8 / 3, -4 / 3, 0.0, 4.0]))
    assert_close("reward", stats["reward"], 3.0)
