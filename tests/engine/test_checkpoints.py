import hashlib
import json

import pytest

from engine.checkpoints import (
    FORMAT_VERSION,
    MANIFEST,
    read_manifest,
    save_adapter_checkpoint,
    verify_checkpoint,
    write_checkpoint,
)
from engine.errors import CheckpointError


def writer(files):
    def write(tmp):
        for name, data in files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    return write


FILES = {
    "adapter_model.safetensors": b"weights" * 100,
    "optimizer/state.pt": b"opt",
    "rng.json": b"{}",
}


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


def test_manifest_lists_hashes_sizes_and_metadata(tmp_path):
    dest = tmp_path / "runs" / "r1" / "checkpoints" / "step-10"
    manifest = write_checkpoint(dest, writer(FILES), {"step": 10, "run": "r1"})
    assert dest.is_dir()
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["metadata"] == {"step": 10, "run": "r1"}
    assert manifest["created"].endswith("+00:00")
    assert set(manifest["files"]) == set(FILES)
    for name, data in FILES.items():
        assert manifest["files"][name] == {
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
        assert (dest / name).read_bytes() == data
    assert read_manifest(dest) == manifest
    assert json.loads((dest / MANIFEST).read_text()) == manifest
    assert verify_checkpoint(dest) == []
    assert leftovers(dest.parent) == []


def test_failure_leaves_nothing(tmp_path):
    dest = tmp_path / "step-5"

    def failing(tmp):
        (tmp / "half.safetensors").write_bytes(b"partial")
        raise OSError("disk full")

    with pytest.raises(CheckpointError, match="disk full") as info:
        write_checkpoint(dest, failing, {"step": 5})
    assert isinstance(info.value.__cause__, OSError)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


def test_unserialisable_metadata_leaves_nothing(tmp_path):
    with pytest.raises(CheckpointError, match="JSON"):
        write_checkpoint(tmp_path / "c", writer(FILES), {"bad": object()})
    assert list(tmp_path.iterdir()) == []


def test_interrupt_also_cleans_up(tmp_path):
    def interrupted(tmp):
        (tmp / "a").write_bytes(b"a")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_checkpoint(tmp_path / "c", interrupted, {})
    assert list(tmp_path.iterdir()) == []


def test_existing_destination_is_refused(tmp_path):
    dest = tmp_path / "step-1"
    write_checkpoint(dest, writer({"a": b"1"}), {})
    with pytest.raises(CheckpointError, match="already exists"):
        write_checkpoint(dest, writer({"a": b"2"}), {})
    assert (dest / "a").read_bytes() == b"1"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="already exists"):
        write_checkpoint(empty, writer({"a": b"2"}), {})
    assert leftovers(tmp_path) == []


def test_verify_detects_tampering(tmp_path):
    dest = tmp_path / "ck"
    write_checkpoint(dest, writer(FILES), {})
    (dest / "rng.json").write_bytes(b"[]")  # same size, different content
    (dest / "optimizer" / "state.pt").unlink()
    (dest / "extra.txt").write_text("x")
    problems = verify_checkpoint(dest)
    assert any("Hash mismatch" in p and "rng.json" in p for p in problems)
    assert any("Missing file" in p and "optimizer/state.pt" in p for p in problems)
    assert any("Unexpected file" in p and "extra.txt" in p for p in problems)
    assert len(problems) == 3
    (dest / "adapter_model.safetensors").write_bytes(b"short")
    assert any("Size mismatch" in p for p in verify_checkpoint(dest))


def test_missing_or_broken_manifest(tmp_path):
    folder = tmp_path / "no-manifest"
    folder.mkdir()
    with pytest.raises(CheckpointError, match="manifest.json"):
        read_manifest(folder)
    assert verify_checkpoint(folder) and "manifest.json" in verify_checkpoint(folder)[0]
    (folder / MANIFEST).write_text("{oops")
    with pytest.raises(CheckpointError, match="unreadable"):
        read_manifest(folder)
    assert verify_checkpoint(tmp_path / "absent") != []


def test_writer_may_not_write_the_manifest(tmp_path):
    with pytest.raises(CheckpointError, match="reserved"):
        write_checkpoint(tmp_path / "c", writer({MANIFEST: b"{}"}), {})
    assert list(tmp_path.iterdir()) == []


def test_adapter_checkpoint_round_trip(tmp_path):
    import torch
    from transformers import LlamaForCausalLM

    from engine.lora import LoraSettings, attach_lora, load_adapter
    from tests.engine.conftest import tiny_config

    torch.manual_seed(0)
    peft_model = attach_lora(LlamaForCausalLM(tiny_config(52)), LoraSettings(r=2))
    dest = tmp_path / "step-3"
    manifest = save_adapter_checkpoint(peft_model, dest, {"step": 3})
    assert "adapter_model.safetensors" in manifest["files"]
    assert "adapter_config.json" in manifest["files"]
    assert verify_checkpoint(dest) == []
    torch.manual_seed(0)
    reloaded = load_adapter(LlamaForCausalLM(tiny_config(52)), dest)
    assert any("lora_A" in n for n, _ in reloaded.named_parameters())
