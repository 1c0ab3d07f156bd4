"""Every online algorithm trains the demo model end to end on its arithmetic prompts:
the metrics TRL users know, samples with rewards and advantages, evaluation by the reward,
checkpoints; and a reward that cannot tell completions apart changes nothing."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import load_file

from engine.errors import EngineError
from engine.training.config import ONLINE_ALGORITHMS
from engine.training.loop import train
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
