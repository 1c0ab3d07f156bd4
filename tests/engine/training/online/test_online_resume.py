"""An online run stopped from the control table saves a checkpoint and ends as stopped;
resumed, it continues the step count and samples and learns exactly what the
uninterrupted run did (PPO's value head and KL coefficient included)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from engine.training import train
from engine.training.online.value_head import VALUE_HEAD_FILE
from engine.training.state import read_trainer_state
from tests.engine.training.helpers import Recorder
from tests.engine.training.online.helpers import answer_reward, demo_prompts, online_settings


def _same_files(a, b, name: str) -> bool:
    first, second = load_file(str(a / name)), load_file(str(b / name))
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


@pytest.mark.parametrize("algorithm", ["grpo", "ppo", "best_of_n"])
def test_stop_then_resume_matches_an_uninterrupted_run(algorithm, demo_loaded, tmp_path):
    settings = online_settings(
        algorithm,
        max_steps=4,
        num_iterations=2,
        seed=5,
        lora={"dropout": 0.2},
        kl_target=1.0 if algorithm == "ppo" else None,
    )
    data = demo_prompts()
    whole = Recorder(tmp_path / "whole")
    done = train(demo_loaded, data, settings, whole.hooks, rewards=answer_reward())

    part = Recorder(tmp_path / "part", commands={2: {"stop"}})
    stopped = train(demo_loaded, data, settings, part.hooks, rewards=answer_reward())
    assert (stopped.status, stopped.step, part.saved_steps()) == ("stopped", 2, [2])

    torch.manual_seed(999)  # the resumed run must not depend on the caller's generator
    rest = Recorder(tmp_path / "part")
    resumed = train(
        demo_loaded,
        data,
        settings,
        rest.hooks,
        rewards=answer_reward(),
        resume_from=stopped.checkpoint,
    )
    assert (resumed.status, resumed.step) == ("done", 4)
    assert [step for step, _ in rest.train_metrics()] == [3, 4]
    assert _same_files(resumed.checkpoint, done.checkpoint, "adapter_model.safetensors")
    expected = dict(whole.train_metrics())
    for step, metrics in rest.train_metrics():
        assert metrics["loss"] == expected[step]["loss"]
        assert metrics["reward"] == expected[step]["reward"]
    if algorithm == "ppo":
        heads = [
            torch.load(c / VALUE_HEAD_FILE, weights_only=True)
            for c in (resumed.checkpoint, done.checkpoint)
        ]
        assert all(torch.equal(heads[0][k], heads[1][k]) for k in heads[0])
        assert (
            read_trainer_state(resumed.checkpoint)["kl_coef"]
            == read_trainer_state(done.checkpoint)["kl_coef"]
            != settings.resolved_beta()
        )


def test_nan_loss_stops_the_run_before_the_update(demo_loaded, tmp_path, monkeypatch):
    from engine.errors import EngineError
    from engine.training.online.algorithms import grpo

    real = grpo.grpo_loss
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        loss, stats = real(*args, **kwargs)
        return (loss * float("nan") if calls["n"] >= 2 else loss), stats

    monkeypatch.setattr(grpo, "grpo_loss", poisoned)
    recorder = Recorder(tmp_path)
    settings = online_settings("grpo", max_steps=3, checkpoint_every=1)
    with pytest.raises(EngineError, match="At step 2 the loss became NaN"):
        train(demo_loaded, demo_prompts(), settings, recorder.hooks, rewards=answer_reward())
    assert recorder.saved_steps() == [1]
