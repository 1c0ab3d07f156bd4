"""The Hugging Face cache as users have it: several revisions of a model (refs, snapshots
sharing blobs), its size and architecture; a gated model whose weights were refused, a
sharded model missing a shard and a download cut short are reported and never loaded."""

from __future__ import annotations

import json

import pytest

from engine.errors import ModelLoadError
from engine.loading import load_model
from engine.model_source import ModelSpec, list_cached_models
from tests.engine.conftest import build_model_dir, make_fake_hf_cache, model_dir_files

CONFIG = json.dumps({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}).encode()


@pytest.fixture
def cache(tmp_path):
    cache = tmp_path / "hub"
    tiny = model_dir_files(build_model_dir(tmp_path / "tiny"))
    old = {**tiny, "README.md": b"old"}
    make_fake_hf_cache(cache, "acme/tiny", old, commit="1" * 40, ref=None)  # an older revision
    make_fake_hf_cache(cache, "acme/tiny", tiny, commit="2" * 40, ref="main")
    # Gated: the config and card came down, the weights were refused (401).
    make_fake_hf_cache(cache, "meta/gated", {"config.json": CONFIG, "README.md": b"licence"})
    # Sharded, one shard missing.
    index = {"weight_map": {"a": "model-1-of-2.safetensors", "b": "model-2-of-2.safetensors"}}
    make_fake_hf_cache(
        cache,
        "acme/sharded",
        {
            "config.json": CONFIG,
            "model.safetensors.index.json": json.dumps(index).encode(),
            "model-1-of-2.safetensors": b"0" * 64,
        },
    )
    # Cut short: the weights' blob is still ".incomplete".
    cut = make_fake_hf_cache(cache, "acme/cut", {"config.json": CONFIG})
    (cut.parent.parent / "blobs" / "abc123.incomplete").write_bytes(b"0" * 10)
    return cache


def test_models_are_listed_with_revisions_size_and_architecture(cache):
    models = {m.repo_id: m for m in list_cached_models(cache)}
    assert sorted(models) == ["acme/cut", "acme/sharded", "acme/tiny", "meta/gated"]
    tiny = models["acme/tiny"]
    assert tiny.problem is None and tiny.architecture == "LlamaForCausalLM"
    assert sorted(tiny.revisions) == ["1" * 40, "2" * 40]
    assert tiny.snapshot_dir is not None and tiny.snapshot_dir.name == "2" * 40  # main's
    blobs = cache / "models--acme--tiny" / "blobs"
    assert tiny.size_bytes == sum(p.stat().st_size for p in blobs.iterdir())  # shared once
    assert models["meta/gated"].architecture == "Qwen2ForCausalLM"


@pytest.mark.parametrize(
    ("repo_id", "why"),
    [
        ("meta/gated", "no weight files"),
        ("acme/sharded", "1 weight shard(s) are missing (model-2-of-2.safetensors)"),
        ("acme/cut", "still being downloaded"),
    ],
)
def test_gated_and_incomplete_snapshots_are_reported_not_loaded(cache, repo_id, why):
    model = next(m for m in list_cached_models(cache) if m.repo_id == repo_id)
    assert model.problem is not None and why in model.problem and "hf download" in model.problem
    with pytest.raises(ModelLoadError, match="incomplete"):
        load_model(ModelSpec(repo_id), "cpu", "float32", cache_dir=cache)


def test_a_complete_cached_model_loads(cache):
    loaded = load_model(ModelSpec("acme/tiny"), "cpu", "float32", cache_dir=cache)
    assert loaded.name == "acme/tiny"
