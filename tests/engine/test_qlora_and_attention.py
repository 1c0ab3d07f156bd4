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
from engine.training import precision
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
