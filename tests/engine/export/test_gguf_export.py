"""GGUF export read back with gguf's own reader: the demo model (a Llama with one token
per character) and a tiny Qwen2 with a byte-level BPE tokenizer; refusals up front."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np
import pytest

import engine.demo as demo
from engine.export.formats import ExportCancelled, ExportError
from engine.export.gguf_file import write_gguf
from engine.export.gguf_support import plan_gguf
from engine.export.gguf_tensors import permute_rows
from tests.engine.export.tiny_models import QWEN2_TEMPLATE, build_family, build_qwen2


def _field(reader: gguf.GGUFReader, key: str):
    field = reader.get_field(key)
    assert field is not None, key
    return field.contents()


def _hf_shapes(folder: Path) -> dict[str, tuple[int, ...]]:
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), framework="pt") as handle:
        return {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory) -> Path:
    return build_qwen2(tmp_path_factory.mktemp("qwen2"))


@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16", "q8_0"])
def test_demo_model_reads_back(tmp_path, dtype):
    out = tmp_path / "demo.gguf"
    info = write_gguf(demo.DEMO_MODEL_DIR, out, dtype, name="demo")
    reader = gguf.GGUFReader(out)
    config = json.loads((demo.DEMO_MODEL_DIR / "config.json").read_text())
    tok_config = json.loads((demo.DEMO_MODEL_DIR / "tokenizer_config.json").read_text())

    assert _field(reader, "general.architecture") == "llama"
    assert _field(reader, "llama.block_count") == config["num_hidden_layers"]
    assert _field(reader, "llama.attention.head_count") == config["num_attention_heads"]
    assert _field(reader, "llama.context_length") == config["max_position_embeddings"]
    assert _field(reader, "tokenizer.ggml.model") == "gpt2"
    tokens = _field(reader, "tokenizer.ggml.tokens")
    assert len(tokens) == config["vocab_size"]
    # characters are stored byte-level encoded (space -> Ġ), special tokens as they are
    assert tokens[:6] == [
        "<|pad|>",
        "<|unk|>",
        "<|system|>",
        "<|user|>",
        "<|assistant|>",
        "<|end|>",
    ]
    assert "Ġ" in tokens and " " not in tokens
    assert _field(reader, "tokenizer.ggml.eos_token_id") == config["eos_token_id"]
    assert _field(reader, "tokenizer.ggml.add_bos_token") is False
    assert _field(reader, "tokenizer.chat_template") == tok_config["chat_template"]

    hf = _hf_shapes(demo.DEMO_MODEL_DIR)
    # tied embeddings: no output.weight, llama.cpp reuses token_embd
    assert len(reader.tensors) == len(hf) == info["tensors"]
    shapes = {t.name: tuple(int(d) for d in reversed(t.shape)) for t in reader.tensors}
    assert shapes["token_embd.weight"] == hf["model.embed_tokens.weight"]
    assert shapes["blk.3.attn_q.weight"] == hf["model.layers.3.self_attn.q_proj.weight"]
    assert shapes["blk.0.ffn_down.weight"] == hf["model.layers.0.mlp.down_proj.weight"]
    assert "output.weight" not in shapes
    types = {t.name: t.tensor_type for t in reader.tensors}
    expected = {
        "f32": gguf.GGMLQuantizationType.F32,
        "f16": gguf.GGMLQuantizationType.F16,
        "bf16": gguf.GGMLQuantizationType.BF16,
        "q8_0": gguf.GGMLQuantizationType.Q8_0,
    }[dtype]
    assert types["blk.0.attn_q.weight"] == expected
    assert types["blk.0.attn_norm.weight"] == gguf.GGMLQuantizationType.F32


def test_llama_query_rows_are_permuted_and_values_kept(tmp_path):
    """f32 round trip: the query matrix equals HF's with llama.cpp's RoPE permutation,
    every other matrix is unchanged."""
    from safetensors.numpy import load_file

    out = tmp_path / "demo.gguf"
    write_gguf(demo.DEMO_MODEL_DIR, out, "f32")
    tensors = {t.name: np.asarray(t.data) for t in gguf.GGUFReader(out).tensors}
    hf = load_file(str(demo.DEMO_MODEL_DIR / "model.safetensors"))
    q = hf["model.layers.1.self_attn.q_proj.weight"]
    assert np.array_equal(tensors["blk.1.attn_q.weight"], permute_rows(q, 4))
    assert not np.array_equal(tensors["blk.1.attn_q.weight"], q)
    assert np.array_equal(
        tensors["blk.1.attn_v.weight"], hf["model.layers.1.self_attn.v_proj.weight"]
    )


def test_tiny_qwen2_reads_back(tmp_path, qwen_dir):
    out = tmp_path / "qwen.gguf"
    write_gguf(qwen_dir, out, "f16")
    reader = gguf.GGUFReader(out)
    tok = json.loads((qwen_dir / "tokenizer.json").read_text())
    config = json.loads((qwen_dir / "config.json").read_text())

    assert _field(reader, "general.architecture") == "qwen2"
    assert _field(reader, "qwen2.attention.head_count_kv") == config["num_key_value_heads"]
    assert _field(reader, "tokenizer.ggml.model") == "gpt2"
    assert _field(reader, "tokenizer.ggml.pre") == "qwen2"
    assert len(_field(reader, "tokenizer.ggml.merges")) == len(tok["model"]["merges"])
    tokens = _field(reader, "tokenizer.ggml.tokens")
    assert len(tokens) == config["vocab_size"]
    im_end = tokens.index("<|im_end|>")
    assert _field(reader, "tokenizer.ggml.eos_token_id") == im_end
    types = _field(reader, "tokenizer.ggml.token_type")
    assert types[im_end] == gguf.TokenType.CONTROL
    assert _field(reader, "tokenizer.chat_template") == QWEN2_TEMPLATE

    hf = _hf_shapes(qwen_dir)
    assert len(reader.tensors) == len(hf)  # untied: output.weight is written
    shapes = {t.name: tuple(int(d) for d in reversed(t.shape)) for t in reader.tensors}
    assert shapes["blk.1.attn_k.bias"] == hf["model.layers.1.self_attn.k_proj.bias"]
    assert shapes["output.weight"] == hf["lm_head.weight"]


def test_unsupported_architecture_is_refused_up_front(tmp_path):
    folder = tmp_path / "gpt2"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["GPT2LMHeadModel"]}))
    with pytest.raises(ExportError, match="GPT2LMHeadModel"):
        plan_gguf(folder)


def test_unknown_bpe_split_pattern_is_refused(tmp_path, qwen_dir):
    import shutil

    folder = tmp_path / "odd"
    shutil.copytree(qwen_dir, folder)
    tok = json.loads((folder / "tokenizer.json").read_text())
    tok["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = r"\p{L}+|\s+"
    (folder / "tokenizer.json").write_text(json.dumps(tok))
    with pytest.raises(ExportError, match="pattern llama.cpp has no name for"):
        plan_gguf(folder)


def test_cancel_stops_between_tensors(tmp_path):
    with pytest.raises(ExportCancelled):
        write_gguf(demo.DEMO_MODEL_DIR, tmp_path / "x.gguf", "f16", should_stop=lambda: True)


@pytest.mark.parametrize(
    ("family", "arch", "extra_tensor"),
    [
        ("mistral", "llama", "blk.1.attn_k.weight"),
        ("qwen3", "qwen3", "blk.1.attn_q_norm.weight"),
        ("llama31", "llama", "rope_freqs.weight"),
    ],
)
def test_other_families_map_every_tensor(tmp_path, family, arch, extra_tensor):
    folder = build_family(tmp_path / family, family)
    out = tmp_path / f"{family}.gguf"
    write_gguf(folder, out, "f16")
    reader = gguf.GGUFReader(out)
    config = json.loads((folder / "config.json").read_text())
    assert _field(reader, "general.architecture") == arch
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    assert _field(reader, f"{arch}.attention.key_length") == head_dim
    names = {t.name for t in reader.tensors}
    assert extra_tensor in names
    hf = _hf_shapes(folder)
    assert len(names) == len(hf) + (extra_tensor == "rope_freqs.weight")
    if family == "llama31":
        factors = next(t for t in reader.tensors if t.name == "rope_freqs.weight")
        values = np.asarray(factors.data)
        # high frequencies unscaled, the lowest scaled by the full factor
        assert values[0] == 1.0 and values[-1] == pytest.approx(8.0)
