"""Control between steps (checkpoint, stop, cancel) and the NaN guard."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from engine.checkpoints import verify_checkpoint
from engine.training import train
from engine.training.hooks import NonFiniteError
from engine.training.offline import dpo as objectives
from engine.training.state import load_training_state
from tests.engine.training.helpers import Recorder, adapter_layers, demo_data, fast_settings


class _NanGradient(torch.autograd.Function):
    """Identity forward, NaN backward: a finite loss whose gradient is not."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * float("nan")


def _tensors_finite(value) -> bool:
    if isinstance(value, torch.Tensor):
        return not value.is_floating_point() or bool(torch.isfinite(value).all())
    if isinstance(value, dict):
        return all(_tensors_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_tensors_finite(v) for v in value)
    return True


@pytest.mark.parametrize("broken", ["loss", "gradient"])
def test_nan_guard_stops_before_the_update(broken, demo_loaded, tmp_path, monkeypatch):
    real, calls = objectives.dpo_loss, []

    def dpo_loss(*args, **kwargs):
        losses, chosen, rejected = real(*args, **kwargs)
        calls.append(1)
        if len(calls) >= 3:  # the third training step on
            losses = losses + float("nan") if broken == "loss" else _NanGradient.apply(losses)
        return losses, chosen, rejected

    monkeypatch.setattr(objectives, "dpo_loss", dpo_loss)
    rec = Recorder(tmp_path)
    with pytest.raises(NonFiniteError) as exc:
        train(
            demo_loaded,
            demo_data(n_train=8),
            fast_settings(max_steps=6, checkpoint_every=2),
            rec.hooks,
        )
    assert "At step 3 " in exc.value.message and f"the {broken} became" in exc.value.message
    assert len(calls) == 3
    assert rec.saved_steps() == [2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-2"]  # nothing later, no temporary
    checkpoint = rec.checkpoint_dir(2)
    assert verify_checkpoint(checkpoint) == []
    weights = load_file(str(checkpoint / "adapter_model.safetensors"))
    assert weights and all(bool(torch.isfinite(w).all()) for w in weights.values())
    state = load_training_state(checkpoint)
    assert state["step"] == 2 and _tensors_finite(state["optimizer"])
    assert [step for step, _ in rec.train_metrics()] == [1, 2]
    assert adapter_layers(demo_loaded.model) == []


def test_checkpoint_command_saves_and_goes_on(demo_loaded, tmp_path):
    rec = Recorder(tmp_path, commands={2: {"checkpoint"}})
    result = train(demo_loaded, demo_data(n_train=8), fast_settings(max_steps=4), rec.hooks)
    assert (result.status, result.step) == ("done", 4)
    assert rec.saved_steps() == [3, 4]  # the step after the command, then the end
    assert all(verify_checkpoint(path) == [] for _, path, _ in rec.checkpoints)
    assert load_training_state(rec.checkpoint_dir(3))["step"] == 3
    assert [step for step, _ in rec.train_metrics()] == [1, 2, 3, 4]


def test_checkpoint_command_on_a_scheduled_step_saves_once(demo_loaded, tmp_path):
    rec = Recorder(tmp_path, commands={1: {"checkpoint"}, 2: {"checkpoint"}})
    result = train(
        demo_loaded, demo_data(n_train=8), fast_settings(max_steps=3, checkpoint_every=2), rec.hooks
    )
    assert result.status == "done"
    assert rec.saved_steps() == [2, 3]


def test_cancel_ends_without_saving(demo_loaded, tmp_path):
    rec = Recorder(tmp_path, commands={2: {"cancel"}})
    result = train(demo_loaded, demo_data(n_train=8), fast_settings(max_steps=5), rec.hooks)
    assert (result.status, result.step, result.checkpoint) == ("cancelled", 2, None)
    assert rec.saved_steps() == []
    assert not any(tmp_path.iterdir())
    assert [step for step, _ in rec.train_metrics()] == [1, 2]
    assert adapter_layers(demo_loaded.model) == []


def test_cancel_reports_the_last_checkpoint(demo_loaded, tmp_path):
    rec = Recorder(tmp_path, commands={3: {"cancel"}})
    result = train(
        demo_loaded, demo_data(n_train=8), fast_settings(max_steps=5, checkpoint_every=2), rec.hooks
    )
    assert (result.status, result.step, result.checkpoint) == (
        "cancelled",
        3,
        rec.checkpoint_dir(2),
    )
    assert rec.saved_steps() == [2]


def test_stop_saves_a_checkpoint_at_that_step(demo_loaded, tmp_path):
    rec = Recorder(tmp_path, commands={2: {"stop"}})
    result = train(
        demo_loaded, demo_data(n_train=8, n_eval=4), fast_settings(max_steps=5), rec.hooks
    )
    assert (result.status, result.step, result.checkpoint) == ("stopped", 2, rec.checkpoint_dir(2))
    assert rec.saved_steps() == [2]
    assert verify_checkpoint(result.checkpoint) == []
    assert load_training_state(result.checkpoint)["step"] == 2
    assert rec.eval_metrics() == []  # a stopped run is not evaluated
    assert adapter_layers(demo_loaded.model) == []


@pytest.mark.parametrize("command", ["stop", "cancel"])
def test_stop_while_computing_the_reference_cancels(command, demo_loaded, tmp_path):
    rec = Recorder(tmp_path, commands={0: {command}})
    result = train(demo_loaded, demo_data(n_train=8), fast_settings(), rec.hooks)
    assert (result.status, result.step, result.checkpoint) == ("cancelled", 0, None)
    assert rec.metrics == [] and rec.checkpoints == []
    assert adapter_layers(demo_loaded.model) == []
