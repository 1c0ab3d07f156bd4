"""What "auto" picks for ``base_dtype`` and ``gradient_checkpointing``, that an explicit
setting overrides it, and that a base held in bfloat16 trains LoRA weights in float32 and
is given back in its own dtype (on the tiny demo model)."""

from __future__ import annotations

import pytest
import torch

from engine.errors import SettingsError
from engine.training import memory_defaults
from engine.training.config import TrainSettings
from engine.training.memory_defaults import (
    LARGE_MODEL_PARAMETERS,
    cpu_computes_bf16,
    resolve_base_dtype,
    resolve_checkpointing,
)
from engine.training.policy import resolve_run_settings, trainable_policy
from tests.engine.training.helpers import fast_settings, load_demo

LARGE = 500_000_000  # about Qwen2.5-0.5B
SMALL = 1_000_000  # the demo model is smaller still


@pytest.fixture
def bf16_cpu(monkeypatch):
    monkeypatch.setattr(memory_defaults, "cpu_computes_bf16", lambda: True)


@pytest.fixture
def plain_cpu(monkeypatch):
    monkeypatch.setattr(memory_defaults, "cpu_computes_bf16", lambda: False)


def test_cpu_bf16_is_read_from_the_flags(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16 avx512bw\n")
    assert cpu_computes_bf16(info)
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n")
    assert not cpu_computes_bf16(info)
    assert not cpu_computes_bf16(tmp_path / "missing")


def test_auto_holds_a_large_model_in_bf16_on_a_bf16_cpu(bf16_cpu):
    assert resolve_base_dtype("auto", "cpu", LARGE) == "bfloat16"
    assert resolve_base_dtype("auto", "cpu", SMALL) == "float32"


def test_auto_keeps_float32_on_a_cpu_without_bf16(plain_cpu):
    assert resolve_base_dtype("auto", "cpu", LARGE) == "float32"


def test_an_explicit_base_dtype_wins(bf16_cpu):
    assert resolve_base_dtype("float32", "cpu", LARGE) == "float32"
    assert resolve_base_dtype("bfloat16", "cpu", SMALL) == "bfloat16"


def test_checkpointing_auto_by_size_and_explicit_choices():
    assert resolve_checkpointing("auto", LARGE_MODEL_PARAMETERS)
    assert not resolve_checkpointing("auto", SMALL)
    assert resolve_checkpointing("on", SMALL) and resolve_checkpointing(True, SMALL)
    assert not resolve_checkpointing("off", LARGE) and not resolve_checkpointing(False, LARGE)


def test_settings_default_to_auto_and_read_booleans():
    settings = TrainSettings()
    assert (settings.base_dtype, settings.gradient_checkpointing) == ("auto", "auto")
    # An older config's true/false is kept as it was stored, and read as on/off.
    assert (
        TrainSettings.from_dict({"gradient_checkpointing": False}).to_dict()[
            "gradient_checkpointing"
        ]
        is False
    )
    with pytest.raises(SettingsError, match="gradient_checkpointing"):
        TrainSettings.from_dict({"gradient_checkpointing": "yes"})
    with pytest.raises(SettingsError, match="base_dtype"):
        TrainSettings.from_dict({"base_dtype": "int8"})


def test_the_demo_model_stays_float32_without_checkpointing(demo_loaded, bf16_cpu):
    resolved = resolve_run_settings(TrainSettings(), demo_loaded.model, "cpu")
    assert (resolved.base_dtype, resolved.gradient_checkpointing) == ("float32", "off")


def test_auto_for_a_large_model_resolves_both(demo_loaded, bf16_cpu, monkeypatch):
    monkeypatch.setattr("engine.fit.LARGE_MODEL_PARAMETERS", 1)  # where is_large reads it
    resolved = resolve_run_settings(TrainSettings(), demo_loaded.model, "cpu")
    assert (resolved.base_dtype, resolved.gradient_checkpointing) == ("bfloat16", "on")
    overridden = TrainSettings(base_dtype="float32", gradient_checkpointing="off")
    kept = resolve_run_settings(overridden, demo_loaded.model, "cpu")
    assert (kept.base_dtype, kept.gradient_checkpointing) == ("float32", "off")
    older = resolve_run_settings(
        TrainSettings(gradient_checkpointing=False), demo_loaded.model, "cpu"
    )
    assert older.gradient_checkpointing == "off"


def test_a_bf16_base_trains_float32_lora_and_comes_back_bf16():
    model = load_demo("bfloat16").model
    settings = fast_settings(base_dtype="bfloat16", gradient_checkpointing="off")
    with trainable_policy(model, settings, None) as policy:
        trainable = {n: p for n, p in policy.named_parameters() if p.requires_grad}
        frozen = [p for p in policy.parameters() if not p.requires_grad]
        assert trainable and all("lora_" in n for n in trainable)
        assert all(p.dtype == torch.float32 for p in trainable.values())
        assert frozen and all(p.dtype == torch.bfloat16 for p in frozen)
        ids = torch.tensor([[1, 2, 3, 4]])
        logits = policy(input_ids=ids).logits
        logits.float().sum().backward()
        assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in trainable.values())
    assert all(p.dtype == torch.bfloat16 for p in model.parameters())
    assert not any("lora_" in n for n, _ in model.named_parameters())


def held_for_a_policy(model, base_dtype: str):
    """(the frozen weights' dtypes while the policy trains, whether every base weight came
    back bit for bit, the base's dtypes afterwards)."""
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    settings = fast_settings(base_dtype=base_dtype, gradient_checkpointing="off")
    with trainable_policy(model, settings, None) as policy:
        during = {p.dtype for p in policy.parameters() if not p.requires_grad}
    after = dict(model.named_parameters())
    exact = all(torch.equal(before[n], after[n]) for n in before)
    return during, exact, {p.dtype for p in after.values()}


def test_a_float32_base_is_never_rounded_to_a_narrower_base_dtype(demo_loaded):
    during, exact, _ = held_for_a_policy(demo_loaded.model, "bfloat16")
    assert during == {torch.float32} and exact


def test_a_bf16_base_held_in_float32_comes_back_bf16_exactly():
    during, exact, after = held_for_a_policy(load_demo("bfloat16").model, "float32")
    assert during == {torch.float32} and exact and after == {torch.bfloat16}


@pytest.mark.parametrize("algorithm", ["dpo", "grpo"])
def test_a_run_on_a_bf16_base_trains_and_gives_the_base_back(algorithm, tmp_path):
    from engine.training import train
    from engine.training.online.rewards import RewardSource, SourceScores
    from tests.engine.training.helpers import Recorder, demo_data
    from tests.engine.training.online.helpers import demo_prompts, online_settings

    loaded = load_demo("bfloat16")
    recorder = Recorder(tmp_path)
    if algorithm == "grpo":
        lengths = RewardSource("len", 1.0, lambda p, c, r: SourceScores([len(t) % 3 for t in c]))
        settings = online_settings("grpo", max_steps=1, base_dtype="bfloat16")
        result = train(loaded, demo_prompts(2, 2), settings, recorder.hooks, rewards=[lengths])
    else:
        settings = fast_settings(max_steps=1, batch_size=2, base_dtype="bfloat16")
        result = train(loaded, demo_data(n_train=4, n_eval=2), settings, recorder.hooks)
    assert result.status == "done"
    losses = [m["loss"] for _, m in recorder.metrics if "loss" in m]
    assert losses and all(torch.isfinite(torch.tensor(losses)))
    assert all(p.dtype == torch.bfloat16 for p in loaded.model.parameters())
