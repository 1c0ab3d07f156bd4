"""Which models the lean decode loop covers. Others (and any device but the CPU and CUDA,
whose ``torch.multinomial`` the sampler reproduces) are sampled with transformers'
``generate()``, which knows every architecture's cache and masks."""

from __future__ import annotations

from typing import Any

# Decoder-only families whose forward takes (input_ids, attention_mask, position_ids,
# cache, logits_to_keep) over a plain DynamicCache: the loop is tested on each
# (tests/engine/test_lean_decoding.py).
LEAN_MODEL_TYPES = frozenset({"llama", "qwen2", "qwen3", "mistral"})


def base_model(model: Any) -> Any:
    """The transformers model under a PEFT wrapper (or the model itself)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def lean_decoding_supported(model: Any, device: Any) -> bool:
    config = getattr(base_model(model), "config", None)
    if config is None or getattr(config, "is_encoder_decoder", False):
        return False
    device_type = getattr(device, "type", str(device).split(":")[0])
    return getattr(config, "model_type", None) in LEAN_MODEL_TYPES and device_type in {
        "cpu",
        "cuda",
    }
