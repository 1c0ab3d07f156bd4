"""The merged model equals base + adapter (float32, 1e-4), loads with transformers alone
and stops at the chat template's end of turn; the exported adapter loads with peft on
its base, and as a model of its own through the engine's loader."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from engine.export.adapter import export_adapter
from engine.export.adapter_folder import adapter_base_problem, is_adapter_folder, relative_base
from engine.export.merge import merge_adapter
from tests.engine.conftest import build_model_dir
from tests.engine.export.tiny_models import build_adapter, build_qwen2

PROMPTS = ["abc 12+7=?", "hello there"]


def _logits(model, tokenizer) -> torch.Tensor:
    batch = tokenizer(PROMPTS, return_tensors="pt", padding=True)
    with torch.no_grad():
        return model(**batch).logits


def _base_plus_adapter(base_dir: Path, adapter_dir: Path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    return PeftModel.from_pretrained(base, adapter_dir).eval()


@pytest.fixture(scope="module")
def llama_pair(tmp_path_factory):
    base = build_model_dir(tmp_path_factory.mktemp("base"))
    return base, build_adapter(base, tmp_path_factory.mktemp("adapter"))


@pytest.mark.parametrize("family", ["llama", "qwen2"])
def test_merged_logits_equal_base_plus_adapter(tmp_path, llama_pair, family):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if family == "llama":
        base, adapter = llama_pair
    else:
        base = build_qwen2(tmp_path / "qwen")
        adapter = build_adapter(base, tmp_path / "qwen-adapter")
    out = tmp_path / "merged"
    out.mkdir()
    info = merge_adapter(base, adapter, out, "f32")

    tokenizer = AutoTokenizer.from_pretrained(out)
    tokenizer.padding_side = "left"
    merged = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    reference = _base_plus_adapter(base, adapter)
    expected = _logits(reference, tokenizer)
    got = _logits(merged, tokenizer)
    assert torch.allclose(got, expected, atol=1e-4, rtol=0)
    # the adapter really changes the model, so equality above is not trivial
    with reference.disable_adapter():
        assert not torch.allclose(_logits(reference, tokenizer), expected, atol=1e-2)
    assert sorted(p.name for p in out.glob("*.safetensors")) == ["model.safetensors"]
    assert tokenizer.chat_template
    generation = json.loads((out / "generation_config.json").read_text())
    stops = info["eos_token_ids"]
    assert generation["eos_token_id"] == (stops[0] if len(stops) == 1 else stops)
    end_of_turn = "<|end|>" if family == "llama" else "<|im_end|>"
    assert tokenizer.convert_tokens_to_ids(end_of_turn) in info["eos_token_ids"]


def test_merged_bf16_is_saved_in_bf16(tmp_path, llama_pair):
    base, adapter = llama_pair
    out = tmp_path / "merged"
    out.mkdir()
    merge_adapter(base, adapter, out, "bf16")
    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), framework="pt") as handle:
        name = next(iter(handle.keys()))
        assert handle.get_tensor(name).dtype == torch.bfloat16


def test_exported_adapter_loads_with_peft_on_its_base(tmp_path, llama_pair):
    from transformers import AutoTokenizer

    base, checkpoint = llama_pair
    out = tmp_path / "exports" / "adapter"
    out.mkdir(parents=True)
    export_adapter(checkpoint, out, relative_base(base, out), "# card\n")
    config = json.loads((out / "adapter_config.json").read_text())
    assert not Path(config["base_model_name_or_path"]).is_absolute()
    assert (out / "README.md").read_text() == "# card\n"
    assert is_adapter_folder(out) and adapter_base_problem(out) is None

    from peft import AutoPeftModelForCausalLM

    # peft resolves the base itself from the config (relative to the working folder,
    # so run it from the export folder, as a user would after `cd`)
    cwd = os.getcwd()
    os.chdir(out)
    try:
        loaded = AutoPeftModelForCausalLM.from_pretrained(".", dtype=torch.float32).eval()
    finally:
        os.chdir(cwd)
    tokenizer = AutoTokenizer.from_pretrained(base)
    tokenizer.padding_side = "left"
    expected = _logits(_base_plus_adapter(base, checkpoint), tokenizer)
    assert torch.allclose(_logits(loaded, tokenizer), expected, atol=1e-5)


def test_adapter_folder_loads_as_a_model(tmp_path, llama_pair):
    """What "Add model…" stores for an adapter folder loads as base + adapter."""
    from engine.loading import load_model
    from engine.model_source import ModelSpec

    base, checkpoint = llama_pair
    out = tmp_path / "adapter"
    out.mkdir()
    export_adapter(checkpoint, out, relative_base(base, out), "# card\n")
    loaded = load_model(ModelSpec(path=str(out)), device="cpu", dtype="float32")
    expected = _logits(_base_plus_adapter(base, checkpoint), loaded.tokenizer)
    assert torch.allclose(_logits(loaded.model, loaded.tokenizer), expected, atol=1e-4)
    assert loaded.source_dir == out


def test_adapter_whose_base_is_gone_is_explained(tmp_path, llama_pair):
    _, checkpoint = llama_pair
    out = tmp_path / "adapter"
    out.mkdir()
    export_adapter(checkpoint, out, str(tmp_path / "nowhere"), "# card\n")
    assert "is not there" in (adapter_base_problem(out) or "")
