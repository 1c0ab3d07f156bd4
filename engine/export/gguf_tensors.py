"""The weights of a Hugging Face folder as GGUF tensors: names mapped with gguf's
TensorNameMap, query/key rows permuted for llama.cpp's RoPE layout where it needs them,
and each tensor stored in the chosen type (llama.cpp's convert_hf_to_gguf.py rules)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gguf
import numpy as np

from engine.export.formats import ExportError
from engine.export.gguf_support import GgufPlan, rope_settings

FILE_TYPES = {
    "f32": gguf.LlamaFileType.ALL_F32,
    "f16": gguf.LlamaFileType.MOSTLY_F16,
    "bf16": gguf.LlamaFileType.MOSTLY_BF16,
    "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
}


def permute_rows(weights: np.ndarray, n_head: int) -> np.ndarray:
    """Hugging Face's rotate-half RoPE layout to llama.cpp's interleaved one: within each
    head, the first and second halves of the rows are interleaved (as convert_hf_to_gguf's
    LlamaModel.permute). weights: (n_head * head_dim, ...) -> same shape."""
    shape = weights.shape
    return (
        weights.reshape(n_head, 2, shape[0] // n_head // 2, *shape[1:])
        .swapaxes(1, 2)
        .reshape(shape)
    )


def llama3_rope_factors(config: dict[str, Any]) -> np.ndarray:
    """The per-frequency factors of Llama 3.1's RoPE scaling (rope_freqs.weight), computed
    as transformers' _compute_llama3_parameters does. Returns (head_dim // 2,) float32."""
    rope = rope_settings(config)
    dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    freqs = 1.0 / (rope["rope_theta"] ** (np.arange(0, dim, 2, dtype=np.float64) / dim))
    factor = rope.get("factor", 8.0)
    low, high = rope.get("low_freq_factor", 1.0), rope.get("high_freq_factor", 4.0)
    old_context = rope.get("original_max_position_embeddings", 8192)
    low_wavelen, high_wavelen = old_context / low, old_context / high
    factors = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(factor)
        else:
            smooth = (old_context / wavelen - low) / (high - low)
            factors.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.asarray(factors, dtype=np.float32)


def _stored(data: np.ndarray, dtype: str) -> tuple[np.ndarray, gguf.GGMLQuantizationType]:
    """Norms, biases and other vectors stay f32, as llama.cpp's converter keeps them; a
    matrix whose rows do not split into q8_0 blocks falls back to f16."""
    if dtype == "f32" or data.ndim <= 1:
        return data.astype(np.float32), gguf.GGMLQuantizationType.F32
    if dtype == "q8_0":
        if data.shape[-1] % gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType.Q8_0][0] == 0:
            qtype = gguf.GGMLQuantizationType.Q8_0
            return gguf.quants.quantize(data.astype(np.float32), qtype), qtype
        return data.astype(np.float16), gguf.GGMLQuantizationType.F16
    if dtype == "bf16":
        qtype = gguf.GGMLQuantizationType.BF16
        return gguf.quants.quantize(data.astype(np.float32), qtype), qtype
    return data.astype(np.float16), gguf.GGMLQuantizationType.F16


def _hf_tensors(folder: Path) -> Iterator[tuple[str, np.ndarray]]:
    from safetensors import safe_open

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise ExportError(f"{folder} holds no *.safetensors weights to convert.")
    for path in files:
        with safe_open(str(path), framework="pt") as handle:
            for name in handle.keys():
                yield name, handle.get_tensor(name).float().numpy()


def count_tensors(folder: Path) -> int:
    from safetensors import safe_open

    total = 0
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as handle:
            total += len(list(handle.keys()))
    return total


def gguf_tensors(
    folder: Path, plan: GgufPlan, config: dict[str, Any]
) -> Iterator[tuple[str, np.ndarray]]:
    """(GGUF name, float32 array) for each weight of ``folder``, in file order."""
    arch = next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == plan.architecture)
    names = gguf.get_tensor_name_map(arch, config["num_hidden_layers"])
    n_head = config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads") or n_head
    tied = config.get("tie_word_embeddings", False)
    if plan.rope_type == "llama3":
        yield (
            gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.ROPE_FREQS] + ".weight",
            llama3_rope_factors(config),
        )
    for hf_name, data in _hf_tensors(folder):
        if hf_name == "lm_head.weight" and tied:
            continue  # llama.cpp reuses token_embd for a tied output
        if hf_name.endswith("rotary_emb.inv_freq"):
            continue
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise ExportError(
                f"GGUF export does not know where the tensor {hf_name} of a "
                f"{plan.hf_architecture} goes.",
                "Export the merged model and convert it with llama.cpp's convert_hf_to_gguf.py.",
            )
        if plan.permute_qk and hf_name.endswith(("q_proj.weight", "q_proj.bias")):
            data = permute_rows(data, n_head)
        elif plan.permute_qk and hf_name.endswith(("k_proj.weight", "k_proj.bias")):
            data = permute_rows(data, n_kv)
        yield name, data


def stored_tensor(name: str, data: np.ndarray, dtype: str):
    """(array to write, its GGML type); the RoPE factors always stay f32."""
    if name.startswith("rope_freqs"):
        return data.astype(np.float32), gguf.GGMLQuantizationType.F32
    return _stored(data, dtype)
