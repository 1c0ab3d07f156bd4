"""Every online algorithm trains the demo model end to end on its arithmetic prompts:
the metrics TRL users know, samples with rewards and advantages, evaluation by the reward,
checkpoints; and a reward that cannot tell completions apart changes nothing."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import load_file

from engine.errors import EngineError
from engine.training import train
from engine.training.config import ONLINE_ALGORITHMS
from tests.engine.training.helpers import Recorder
from tests.engine.training.online.helpers import (
    answer_reward,
    constant_reward,
    demo_prompts,
    online_settings,
)

ROLLOUT_METRICS = (
    "reward",
    "reward_std",
    "frac_reward_zero_std",
    "rewards/answer/mean",
    "rewards/answer/std",
    "rewards/format/mean",
    "completions/mean_length",
    "completions/clipped_ratio",
    "train/generation_seconds",
    "train/training_seconds",
    "grad_norm",
    "learning_rate",
    "loss",
)
OWN_METRICS = {
    "grpo": ("clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "entropy"),
    "rloo": ("clip_ratio/region_mean", "entropy", "kl"),
    "ppo": (
        "policy/approxkl",
        "policy/clipfrac",
        "loss/value",
        "val/explained_variance",
        "kl",
        "objective/kl_coef",
        "entropy",
    ),
    "online_dpo": ("rewards/chosen", "rewards/margins", "logps/chosen"),
    "best_of_n": ("best_of_n/kept_fraction", "best_of_n/kept_reward_mean", "mean_token_accuracy"),
}


@pytest.mark.parametrize("algorithm", ONLINE_ALGORITHMS)
def test_each_algorithm_trains_and_reports(algorithm, demo_loaded, tmp_path):
    recorder = Recorder(tmp_path)
    dpo = algorithm == "online_dpo"
    # Online DPO learns only from pairs whose rewards differ: 8 prompts make a step of ties unlikely.
    settings = online_settings(
        algorithm, num_iterations=1 if dpo else 2, samples_per_eval=2, batch_size=8 if dpo else 2
    )
    result = train(demo_loaded, demo_prompts(), settings, recorder.hooks, rewards=answer_reward())
    assert result.status == "done" and result.step == 2
    steps = recorder.train_metrics()
    assert [s for s, _ in steps] == [1, 2]
    for _, metrics in steps:
        missing = set(ROLLOUT_METRICS + OWN_METRICS[algorithm]) - set(metrics)
        assert not missing, missing
        assert all(math.isfinite(v) for v in metrics.values())
        assert 0 <= metrics["rewards/answer/mean"] <= 1
    evaluation = recorder.eval_metrics()[-1][1]
    assert 0 <= evaluation["eval_rewards/answer/mean"] <= 1 and "eval_reward" in evaluation
    rollout_samples = [
        rows for step, rows in recorder.samples if rows[0].get("advantage") is not None
    ]
    group = settings.group_size()
    assert len(rollout_samples) == 2 and all(len(rows) == group for rows in rollout_samples)
    assert {"answer", "format", "total"} <= set(rollout_samples[0][0]["rewards"])
    assert recorder.saved_steps() == [2]
    assert not any("lora_" in name for name, _ in demo_loaded.model.named_modules())


def test_same_reward_for_every_completion_changes_no_weights(demo_loaded, tmp_path):
    recorder = Recorder(tmp_path)
    settings = online_settings("grpo", max_steps=2, checkpoint_every=1)
    train(demo_loaded, demo_prompts(), settings, recorder.hooks, rewards=constant_reward())
    for _, metrics in recorder.train_metrics():
        assert metrics["frac_reward_zero_std"] == 1.0 and metrics["reward_std"] == 0.0
    first, second = (
        load_file(str(path / "adapter_model.safetensors")) for _, path, _ in recorder.checkpoints
    )
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert all(not v.any() for k, v in second.items() if "lora_B" in k)  # still the zero init


def test_a_run_without_reward_is_refused(demo_loaded, tmp_path):
    with pytest.raises(EngineError, match="needs a reward"):
        train(
            demo_loaded,
            demo_prompts(),
            online_settings("grpo"),
            Recorder(tmp_path).hooks,
            rewards=[],
        )


def test_prompts_too_long_for_max_length_are_left_out(demo_loaded, tmp_path):
    recorder = Recorder(tmp_path)
    settings = online_settings("grpo", max_length=30, max_steps=1)  # prompt ~18 + 20 new tokens
    with pytest.raises(EngineError, match="too long"):
        train(demo_loaded, demo_prompts(), settings, recorder.hooks, rewards=answer_reward())
    assert recorder.prepared is None or recorder.prepared["train_prompts"] == 0


def test_best_of_n_trains_on_the_best_sample_of_each_prompt(demo_loaded, tmp_path):
    recorder = Recorder(tmp_path)
    settings = online_settings("best_of_n", max_steps=1, batch_size=2, num_generations=4)
    train(demo_loaded, demo_prompts(), settings, recorder.hooks, rewards=answer_reward())
    ((_, metrics),) = recorder.train_metrics()
    assert metrics["best_of_n/kept_fraction"] == 2 / 8  # one of the four of each prompt
    ((_, rows),) = [(step, rows) for step, rows in recorder.samples if step == 1]
    totals = [row["rewards"]["total"] for row in rows]
    kept = [row["advantage"] for row in rows]
    assert kept.count(1.0) == 1 and kept.count(0.0) == 3
    assert totals[kept.index(1.0)] == max(totals)  # the first of the best
    assert kept.index(1.0) == totals.index(max(totals))


def test_a_best_of_n_step_that_keeps_nothing_moves_no_weight(demo_loaded, tmp_path, monkeypatch):
    """Step 1 keeps every sample and learns; steps 2 and 3 keep none. A zero gradient
    would still move the weights by AdamW's momentum (and its weight decay): the update
    must be skipped."""
    from engine.training.online.algorithms import best_of_n

    real, calls = best_of_n.select_best, {"n": 0}

    def first_step_only(rewards, group_size, top_k=1, min_reward=None):
        calls["n"] += 1
        keep = real(rewards, group_size, top_k=group_size)
        return keep if calls["n"] == 1 else torch.zeros_like(keep)

    monkeypatch.setattr(best_of_n, "select_best", first_step_only)
    recorder = Recorder(tmp_path)
    settings = online_settings(
        "best_of_n", max_steps=3, checkpoint_every=1, weight_decay=0.1, lr_scheduler="constant"
    )
    train(demo_loaded, demo_prompts(), settings, recorder.hooks, rewards=answer_reward())
    assert recorder.saved_steps() == [1, 2, 3]
    first, second, third = (
        load_file(str(path / "adapter_model.safetensors")) for _, path, _ in recorder.checkpoints
    )
    assert any(v.any() for k, v in first.items() if "lora_B" in k)  # step 1 learned
    for later in (second, third):
        assert later.keys() == first.keys()
        assert all(torch.equal(first[k], later[k]) for k in first)
    metrics = dict(recorder.train_metrics())
    assert metrics[1]["best_of_n/kept_fraction"] == 1.0 and metrics[1]["loss"] > 0
    for step in (2, 3):
        assert metrics[step]["best_of_n/kept_fraction"] == 0.0
        assert metrics[step]["loss"] == 0.0 and "best_of_n/kept_reward_mean" not in metrics[step]
        assert metrics[step]["grad_norm"] == 0.0
