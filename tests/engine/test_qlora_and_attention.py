"""QLoRA and GPU precision: 4-bit loading refused with what to do off CUDA (or without
bitsandbytes), sdpa attention by default, bf16 autocast by default on a GPU that has it,
and the fit estimate of 4-bit weights."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from engine.errors import EngineError
from engine.fit import estimate_fit
from engine.loading import attention_implementation, load_model, quantization_config
from engine.model_source import ModelSpec
from engine.training import precision, qlora
from engine.training.config import TrainSettings


def test_4bit_loading_is_refused_off_cuda(tiny_model_dir):
    with pytest.raises(EngineError, match="needs a CUDA GPU") as caught:
        load_model(ModelSpec(str(tiny_model_dir)), "cpu", "float32", quantization="4bit")
    assert "Turn 4-bit loading off" in str(caught.value)
    with pytest.raises(EngineError, match="Unknown quantization"):
        quantization_config("3bit", "cuda")
    assert quantization_config(None, "cpu") is None


@pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is not None, reason="installed")
def test_4bit_loading_without_bitsandbytes_says_what_to_install():
    with pytest.raises(EngineError, match="pip install bitsandbytes"):
        quantization_config("4bit", "cuda:0")


def test_sdpa_is_the_default_attention(tiny_model_dir):
    assert attention_implementation("cpu", "float32") == "sdpa"
    assert attention_implementation("cuda", "float32") == "sdpa"  # flash-attention: half only
    loaded = load_model(ModelSpec(str(tiny_model_dir)), "cpu", "float32")
    assert loaded.model.config._attn_implementation == "sdpa"


def test_auto_precision_is_bf16_autocast_on_a_gpu_that_has_it(monkeypatch):
    settings = TrainSettings.from_dict({"precision": "auto"})
    monkeypatch.setattr(precision, "pick_dtype", lambda device: "bfloat16")
    autocast, scaler = precision.autocast_and_scaler(settings, "cuda:0")
    context = autocast()
    assert isinstance(context, torch.autocast) and context.fast_dtype == torch.bfloat16
    assert scaler is None
    monkeypatch.setattr(precision, "pick_dtype", lambda device: "float16")  # no bf16 (T4)
    autocast, scaler = precision.autocast_and_scaler(settings, "cuda:0")
    assert not isinstance(autocast(), torch.autocast)
    cpu_autocast, _ = precision.autocast_and_scaler(settings, "cpu")
    assert not isinstance(cpu_autocast(), torch.autocast)


def test_fit_knows_4bit_weights(tiny_model_dir):
    full = estimate_fit(tiny_model_dir, dtype="bfloat16", lora_rank=8, training=True)
    quantized = estimate_fit(
        tiny_model_dir, dtype="bfloat16", lora_rank=8, training=True, quantization="4bit"
    )
    assert quantized.weights_bytes < full.weights_bytes
    assert quantized.adapter_bytes == full.adapter_bytes  # the adapter stays float32
    with pytest.raises(ValueError, match="quantization"):
        estimate_fit(tiny_model_dir, quantization="8bit")


@pytest.mark.parametrize(
    "option", [{"load_in_4bit": True}, {"optim": "paged_adamw_8bit"}], ids=["4bit", "paged"]
)
def test_qlora_run_options_are_refused_off_cuda_before_the_model_loads(option):
    from workbench.training.config import RunConfig
    from workbench.training.execution import _load_base

    class NoLoading:
        def get(self, *args, **kwargs):
            raise AssertionError("the model was loaded")

    config = RunConfig.from_dict({**option, "device": "cpu"})
    with pytest.raises(EngineError, match="needs a CUDA GPU") as caught:
        _load_base(NoLoading(), ModelSpec("unused"), "unused", config, "cpu")
    assert "Turn it off" in str(caught.value.hint)
    with pytest.raises(EngineError, match="needs a CUDA GPU"):  # the engine's own entry too
        qlora.check_options(config.train, "cpu")


@pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is not None, reason="installed")
def test_qlora_run_options_on_cuda_without_bitsandbytes_say_what_to_install():
    settings = TrainSettings.from_dict({"load_in_4bit": True, "optim": "paged_adamw_8bit"})
    with pytest.raises(EngineError, match="load_in_4bit and optim = paged_adamw_8bit needs"):
        qlora.check_options(settings, "cuda:0")
    assert qlora.quantization(settings) == "4bit"
    assert qlora.quantization(TrainSettings.from_dict({})) is None
    with pytest.raises(Exception, match="optim must be one of"):
        TrainSettings.from_dict({"optim": "adamw_9bit"})


def test_a_4bit_base_is_prepared_by_peft_for_lora_training(tiny_model_dir, monkeypatch):
    import peft

    calls = []

    def prepare(model, **kwargs):
        calls.append(kwargs)
        return model

    monkeypatch.setattr(peft, "prepare_model_for_kbit_training", prepare)
    model = load_model(ModelSpec(str(tiny_model_dir)), "cpu", "float32").model
    settings = TrainSettings.from_dict({"gradient_checkpointing": True})
    assert qlora.prepare_quantized(model, settings) is model and calls == []  # not 4-bit
    model.is_loaded_in_4bit = True
    qlora.prepare_quantized(model, settings)
    assert calls == [
        {
            "use_gradient_checkpointing": True,
            "gradient_checkpointing_kwargs": {"use_reentrant": False},
        }
    ]
    optimizer = qlora.make_optimizer([torch.nn.Parameter(torch.ones(2))], settings, "cpu")
    assert isinstance(optimizer, torch.optim.AdamW)


def test_flash_attention_is_used_on_cuda_in_half_precision_when_installed(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "flash_attn" else real(name, *a),
    )
    assert attention_implementation("cuda:0", "bfloat16") == "flash_attention_2"
    assert attention_implementation("cuda:0", "float32") == "sdpa"
    assert attention_implementation("cpu", "bfloat16") == "sdpa"
