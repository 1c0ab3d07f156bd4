import json

import pytest

from engine.errors import ModelLoadError
from engine.loading import LoadedModel, load_model
from engine.model_source import ModelSpec
from tests.engine.conftest import build_model_dir, make_fake_hf_cache, model_dir_files


def test_load_tiny_model_ready_for_batched_generation(tiny_model_dir):
    import torch

    loaded = load_model(ModelSpec(str(tiny_model_dir)), device="cpu", dtype="float32")
    assert isinstance(loaded, LoadedModel)
    assert (loaded.device, loaded.dtype) == ("cpu", "float32")
    assert loaded.name == tiny_model_dir.name
    assert loaded.source_dir == tiny_model_dir.resolve()
    assert loaded.model.training is False
    assert next(loaded.model.parameters()).dtype == torch.float32
    assert loaded.tokenizer.padding_side == "left"
    assert loaded.tokenizer.pad_token == "<pad>"


def test_dtype_is_applied(tiny_model_dir):
    import torch

    loaded = load_model(ModelSpec(str(tiny_model_dir)), device="cpu", dtype="bfloat16")
    assert loaded.dtype == "bfloat16"
    assert next(loaded.model.parameters()).dtype == torch.bfloat16


def test_pad_token_reuses_eos(tmp_path):
    folder = build_model_dir(tmp_path / "m", pad=False)
    loaded = load_model(ModelSpec(str(folder)), device="cpu")
    assert loaded.tokenizer.pad_token == loaded.tokenizer.eos_token == "</s>"


def test_pickle_only_weights_refused_unless_allowed(tmp_path):
    folder = build_model_dir(tmp_path / "pickled", pickle_only=True)
    assert not list(folder.glob("*.safetensors"))
    with pytest.raises(ModelLoadError) as info:
        load_model(ModelSpec(str(folder)), device="cpu")
    text = str(info.value)
    assert "pickle" in text and "pytorch_model.bin" in text and "Allow pickle" in text
    loaded = load_model(ModelSpec(str(folder), allow_pickle=True), device="cpu")
    assert loaded.model.training is False


def test_remote_code_model_needs_trust(tmp_path):
    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "config.json").write_text(
        json.dumps(
            {
                "model_type": "acme_custom_lm",
                "auto_map": {
                    "AutoConfig": "configuration_acme.AcmeConfig",
                    "AutoModelForCausalLM": "modeling_acme.AcmeForCausalLM",
                },
            }
        )
    )
    (folder / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelLoadError) as info:
        load_model(ModelSpec(str(folder)), device="cpu")
    assert "own Python code" in str(info.value) and "trust remote code" in str(info.value)


def test_folder_without_weights_or_config(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(ModelSpec(str(empty)), device="cpu")
    (empty / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ModelLoadError, match="No model weights"):
        load_model(ModelSpec(str(empty)), device="cpu")


def test_broken_files_give_model_load_error_with_path(tiny_model_dir, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    for name, data in model_dir_files(tiny_model_dir).items():
        (folder / name).write_bytes(data)
    (folder / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ModelLoadError) as info:
        load_model(ModelSpec(str(folder)), device="cpu")
    assert str(folder) in str(info.value)
    assert info.value.hint


def test_missing_path(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(ModelSpec(str(tmp_path / "nope")), device="cpu")


def test_loads_from_fake_hf_cache(tiny_model_dir, tmp_path):
    cache = tmp_path / "hub"
    make_fake_hf_cache(cache, "acme/tiny", model_dir_files(tiny_model_dir))
    loaded = load_model(ModelSpec("acme/tiny"), device="cpu", cache_dir=cache)
    assert loaded.name == "acme/tiny"
    assert loaded.source_dir.parent.name == "snapshots"


def test_hub_download_skips_pickle_and_code(tiny_model_dir, tmp_path, monkeypatch):
    import huggingface_hub

    calls = []

    def fake_snapshot_download(repo_id, **kwargs):
        calls.append((repo_id, kwargs))
        if kwargs.get("local_files_only"):
            raise huggingface_hub.errors.LocalEntryNotFoundError("not cached")
        return str(tiny_model_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    loaded = load_model(ModelSpec("acme/remote"), device="cpu", offline=False, cache_dir=tmp_path)
    assert loaded.name == "acme/remote"
    download = [kw for _, kw in calls if not kw.get("local_files_only")]
    assert len(download) == 1
    assert "*.bin" in download[0]["ignore_patterns"] and "*.py" in download[0]["ignore_patterns"]


def test_hub_download_failure_is_a_model_load_error(tmp_path, monkeypatch):
    import huggingface_hub

    def offline(repo_id, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(ModelLoadError, match="Could not download 'acme/remote'"):
        load_model(ModelSpec("acme/remote"), device="cpu", offline=False, cache_dir=tmp_path)
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(ModelSpec("acme/remote"), device="cpu", offline=True, cache_dir=tmp_path)
