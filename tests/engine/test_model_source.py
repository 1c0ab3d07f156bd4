from pathlib import Path

import pytest

from engine.errors import ModelLoadError
from engine.model_source import ModelSpec, list_cached_models, looks_like_repo_id, resolve
from tests.engine.conftest import make_fake_hf_cache

CONFIG = b'{"model_type": "llama"}'


def test_local_folder_resolves_to_itself(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    resolved = resolve(ModelSpec(str(folder)))
    assert resolved.kind == "local"
    assert resolved.local_dir == folder.resolve()
    assert resolved.repo_id is None


def test_missing_path_error_names_path_and_what_to_do(tmp_path):
    missing = tmp_path / "nowhere" / "model"
    with pytest.raises(ModelLoadError) as info:
        resolve(ModelSpec(str(missing)), cache_dir=tmp_path / "cache")
    text = str(info.value)
    assert str(missing) in text
    assert "does not exist" in text
    assert info.value.hint and "Check the path" in info.value.hint


def test_file_is_not_a_model_folder(tmp_path):
    file = tmp_path / "weights.gguf"
    file.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="is a file"):
        resolve(ModelSpec(str(file)))


def test_unknown_hub_id_offline_explains(tmp_path):
    with pytest.raises(ModelLoadError) as info:
        resolve(ModelSpec("org/not-cached"), offline=True, cache_dir=tmp_path)
    text = str(info.value)
    assert "org/not-cached" in text and "does not exist" in text and "cache" in text


def test_unknown_hub_id_online_is_hub(tmp_path):
    resolved = resolve(ModelSpec("org/not-cached"), offline=False, cache_dir=tmp_path)
    assert (resolved.kind, resolved.local_dir, resolved.repo_id) == ("hub", None, "org/not-cached")


def test_repo_id_heuristic():
    assert looks_like_repo_id("gpt2")
    assert looks_like_repo_id("Qwen/Qwen2.5-0.5B-Instruct")
    for path in ["./model", "/abs/model", "~/model", "a/b/c", "../x", "C:\\models\\x", "org/"]:
        assert not looks_like_repo_id(path), path


def test_fake_cache_listed_and_resolved_offline(tmp_path):
    cache = tmp_path / "hub"
    snap = make_fake_hf_cache(
        cache,
        "acme/tiny-chat",
        {"config.json": CONFIG, "model.safetensors": b"0" * 100},
        commit="1" * 40,
    )
    make_fake_hf_cache(
        cache,
        "acme/old-bin",
        {"config.json": CONFIG, "pytorch_model.bin": b"1" * 50},
        commit="2" * 40,
    )
    # A dataset in the same cache is not a model.
    (cache / "datasets--acme--data" / "snapshots" / ("3" * 40)).mkdir(parents=True)

    models = list_cached_models(cache)
    assert [m.repo_id for m in models] == ["acme/old-bin", "acme/tiny-chat"]
    chat = models[1]
    assert chat.revisions == ["1" * 40]
    assert chat.snapshot_dir == snap
    assert chat.has_safetensors is True
    assert chat.size_bytes == len(CONFIG) + 100
    assert models[0].has_safetensors is False

    resolved = resolve(ModelSpec("acme/tiny-chat"), offline=True, cache_dir=cache)
    assert resolved.kind == "cache"
    assert resolved.repo_id == "acme/tiny-chat"
    assert Path(resolved.local_dir) == snap
    assert (resolved.local_dir / "config.json").read_bytes() == CONFIG

    # An explicit commit resolves too; an unknown revision does not.
    by_commit = resolve(ModelSpec("acme/tiny-chat", revision="1" * 40), cache_dir=cache)
    assert by_commit.local_dir == snap
    with pytest.raises(ModelLoadError, match="revision"):
        resolve(ModelSpec("acme/tiny-chat", revision="dev"), cache_dir=cache)


def test_cache_from_environment(tmp_path, monkeypatch):
    cache = tmp_path / "envcache"
    snap = make_fake_hf_cache(cache, "acme/env-model", {"config.json": CONFIG})
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert [m.repo_id for m in list_cached_models()] == ["acme/env-model"]
    assert resolve(ModelSpec("acme/env-model")).local_dir == snap


def test_missing_or_broken_cache_lists_nothing(tmp_path):
    assert list_cached_models(tmp_path / "no-such-cache") == []
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    assert list_cached_models(not_a_dir) == []
    assert list_cached_models(tmp_path) == []  # empty folder


def test_spec_dict_round_trip():
    spec = ModelSpec("org/name", revision="main", trust_remote_code=True, allow_pickle=False)
    assert ModelSpec.from_dict(spec.to_dict()) == spec
