"""Exact resume from a checkpoint, and continuing from an adapter (init_adapter)."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import load_file

from engine.checkpoints import verify_checkpoint
from engine.errors import CheckpointError
from engine.training import run as training_run
from engine.training import train
from engine.training.state import load_training_state
from tests.engine.training.helpers import Recorder, adapter_layers, demo_data, fast_settings

ADAPTER = "adapter_model.safetensors"


def _weights(checkpoint):
    return load_file(str(checkpoint / ADAPTER))


def _identical(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("algorithm", ["dpo", "sft"])
def test_resume_is_exact(algorithm, demo_loaded, tmp_path, monkeypatch):
    data = demo_data(n_train=12, n_eval=4)
    # dropout > 0: the resumed run must restore the random generator to match
    settings = fast_settings(
        algorithm=algorithm, max_steps=6, checkpoint_every=3, seed=3, lora={"dropout": 0.3}
    )

    a = Recorder(tmp_path / "a")
    result_a = train(demo_loaded, data, settings, a.hooks)
    assert (result_a.status, result_a.step, a.saved_steps()) == ("done", 6, [3, 6])

    b = Recorder(tmp_path / "b", commands={3: {"stop"}})
    stopped = train(demo_loaded, data, settings, b.hooks)
    assert (stopped.status, stopped.step) == ("stopped", 3)
    assert stopped.checkpoint == b.checkpoint_dir(3) and b.saved_steps() == [3]  # saved once
    assert load_training_state(stopped.checkpoint)["step"] == 3
    assert _identical(_weights(stopped.checkpoint), _weights(a.checkpoint_dir(3)))

    torch.manual_seed(12345)  # the resumed run must not depend on the caller's generator
    b2 = Recorder(tmp_path / "b")
    resumed = train(demo_loaded, data, settings, b2.hooks, resume_from=stopped.checkpoint)
    assert (resumed.status, resumed.step, resumed.checkpoint) == ("done", 6, b.checkpoint_dir(6))
    assert [step for step, _ in b2.train_metrics()] == [4, 5, 6]
    assert verify_checkpoint(resumed.checkpoint) == []
    assert _identical(_weights(resumed.checkpoint), _weights(result_a.checkpoint))  # bit-identical
    a_losses = {step: m["loss"] for step, m in a.train_metrics()}
    assert all(m["loss"] == a_losses[step] for step, m in b2.train_metrics())
    if algorithm == "sft":  # a running total continues from the checkpoint's
        a_tokens = {step: m["num_tokens"] for step, m in a.train_metrics()}
        assert all(m["num_tokens"] == a_tokens[step] for step, m in b2.train_metrics())
    assert all(
        m["learning_rate"] == dict(a.train_metrics())[step]["learning_rate"]
        for step, m in b2.train_metrics()
    )
    assert resumed.eval_metrics == result_a.eval_metrics
    assert adapter_layers(demo_loaded.model) == []

    # The test can tell: without the generator state, the dropout masks differ.
    monkeypatch.setattr(training_run, "set_rng_state", lambda state: None)
    c = Recorder(tmp_path / "c")
    unrestored = train(demo_loaded, data, settings, c.hooks, resume_from=stopped.checkpoint)
    assert not _identical(_weights(unrestored.checkpoint), _weights(result_a.checkpoint))


def test_resume_from_something_else_is_an_error(demo_loaded, tmp_path):
    with pytest.raises(CheckpointError, match="cannot resume"):
        train(
            demo_loaded,
            demo_data(n_train=4),
            fast_settings(),
            Recorder(tmp_path / "r").hooks,
            resume_from=tmp_path,
        )
    assert adapter_layers(demo_loaded.model) == []


def test_init_adapter_is_the_start_and_the_reference(demo_loaded, tmp_path):
    data = demo_data(n_train=8, n_eval=4)
    settings = fast_settings(max_steps=3, learning_rate=2e-3, lora={"dropout": 0.0})
    first = Recorder(tmp_path / "first")
    start = train(demo_loaded, data, settings, first.hooks)
    assert adapter_layers(demo_loaded.model) == []

    second = Recorder(tmp_path / "second")
    result = train(
        demo_loaded,
        data,
        fast_settings(max_steps=2, lora={"dropout": 0.0}),
        second.hooks,
        init_adapter=start.checkpoint,
    )
    step_one = second.train_metrics()[0]
    assert step_one[0] == 1
    metrics = step_one[1]
    # policy == reference at the first step: DPO's loss is log 2 and nothing has moved
    assert metrics["loss"] == pytest.approx(math.log(2), abs=1e-6)
    assert metrics["rewards/margins"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["rewards/chosen"] == pytest.approx(0.0, abs=1e-6)
    # ...and the start is the trained adapter, not the base model: the same first batch
    # (same seed) has other log-probs than it had under the base model
    assert metrics["logps/chosen"] != pytest.approx(
        first.train_metrics()[0][1]["logps/chosen"], abs=1e-4
    )
    assert result.reference["namespace"] != start.reference["namespace"]
    assert result.status == "done" and verify_checkpoint(result.checkpoint) == []
    assert not (result.checkpoint / "reference").exists()  # the frozen copy is not saved
    trained = _weights(result.checkpoint)
    assert trained.keys() == _weights(start.checkpoint).keys()
    assert not _identical(trained, _weights(start.checkpoint))  # it trained further
    assert adapter_layers(demo_loaded.model) == []
    assert not hasattr(demo_loaded.model, "peft_config")
