"""A model stored in float32 and loaded in bfloat16 on the CPU is read tensor by tensor
(engine/cast_on_read.py): the same weights as the float32 load cast, tied weights still
tied, its generation config and name kept; a model stored in the dtype it loads in, or
sharded oddly, keeps transformers' own loading."""

from __future__ import annotations

import json

import pytest
import torch

from engine import cast_on_read
from engine.cast_on_read import stored_wider, weight_files
from engine.loading import load_model
from engine.model_source import ModelSpec
from tests.engine.architecture_families import FAMILIES
from tests.engine.conftest import build_model_dir


def _load(folder, dtype):
    return load_model(ModelSpec(str(folder)), "cpu", dtype)


def test_a_float32_model_loads_in_bf16_with_the_weights_cast(tiny_model_dir, monkeypatch):
    calls = []
    real = cast_on_read.load_cast_on_read
    monkeypatch.setattr("engine.loading.load_cast_on_read", lambda *a: calls.append(a) or real(*a))
    narrow = _load(tiny_model_dir, "bfloat16").model
    wide = _load(tiny_model_dir, "float32").model
    assert len(calls) == 1  # only the narrowing load reads tensor by tensor
    assert all(p.dtype == torch.bfloat16 for p in narrow.parameters())
    expected = wide.state_dict()
    for name, value in narrow.state_dict().items():
        assert torch.equal(value, expected[name].to(torch.bfloat16)), name
    assert narrow.name_or_path == str(tiny_model_dir)
    assert narrow.generation_config.eos_token_id == wide.generation_config.eos_token_id


def test_tied_embeddings_stay_tied(tmp_path):
    folder = build_model_dir(tmp_path / "tied", tie_word_embeddings=True)
    model = _load(folder, "bfloat16").model
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()


def test_which_folders_are_read_tensor_by_tensor(tiny_model_dir, tmp_path):
    files = weight_files(tiny_model_dir)
    assert files == [tiny_model_dir / "model.safetensors"]
    assert stored_wider(files, "bfloat16")
    assert not stored_wider(files, "float32")
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    (sharded / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"a": "model-1.safetensors", "b": "model-2.safetensors"}})
    )
    assert weight_files(sharded) == [
        sharded / "model-1.safetensors",
        sharded / "model-2.safetensors",
    ]
    assert weight_files(tmp_path) is None  # e.g. only consolidated.safetensors: transformers'


@pytest.mark.parametrize("name", [f.name for f in FAMILIES])
def test_every_family_reads_the_same_weights(name, family_model_dir):
    folder = family_model_dir(name)
    assert stored_wider(weight_files(folder), "bfloat16")  # so the narrow load reads by pread
    narrow, wide = _load(folder, "bfloat16").model, _load(folder, "float32").model
    expected = wide.state_dict()
    assert narrow.state_dict().keys() == expected.keys()
    for key, value in narrow.state_dict().items():
        assert torch.equal(value, expected[key].to(value.dtype)), key


@pytest.mark.parametrize("error", [TypeError, AttributeError, KeyError])
def test_an_older_library_falls_back_to_the_mapped_load(tiny_model_dir, monkeypatch, error):
    def unsupported(*_args):
        raise error("backend")  # e.g. safe_open(backend=...) before safetensors 0.8

    monkeypatch.setattr("engine.loading.load_cast_on_read", unsupported)
    narrow = _load(tiny_model_dir, "bfloat16").model
    wide = _load(tiny_model_dir, "float32").model
    assert all(p.dtype == torch.bfloat16 for p in narrow.parameters())
    expected = wide.state_dict()
    for name, value in narrow.state_dict().items():
        assert torch.equal(value, expected[name].to(torch.bfloat16)), name
