import pickle

import pytest

from engine import device as dev
from engine.device import device_memory, pick_device, pick_dtype
from engine.errors import CheckpointError, EngineError, ModelLoadError, PromptTooLongError


def _no_accelerators(monkeypatch):
    monkeypatch.setattr(dev, "_cuda_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)


def test_auto_picks_cpu_without_accelerators(monkeypatch):
    _no_accelerators(monkeypatch)
    assert pick_device("auto") == "cpu"
    assert pick_device() == "cpu"
    assert pick_device("CPU") == "cpu"


def test_auto_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(dev, "_cuda_available", lambda: True)
    monkeypatch.setattr(dev, "_mps_available", lambda: True)
    assert pick_device("auto") == "cuda"
    monkeypatch.setattr(dev, "_cuda_available", lambda: False)
    assert pick_device("auto") == "mps"


def test_explicit_unavailable_device_raises(monkeypatch):
    _no_accelerators(monkeypatch)
    with pytest.raises(EngineError, match="CUDA"):
        pick_device("cuda")
    with pytest.raises(EngineError, match="MPS"):
        pick_device("mps")
    with pytest.raises(EngineError, match="Unknown device"):
        pick_device("tpu")


def test_real_machine_auto_device_is_valid():
    assert pick_device("auto") in {"cuda", "mps", "cpu"}


def test_dtype_choices(monkeypatch):
    assert pick_dtype("cpu") == "float32"
    assert pick_dtype("cpu", "auto") == "float32"
    assert pick_dtype("mps") == "float16"
    monkeypatch.setattr(dev, "_cuda_supports_bf16", lambda device: True)
    assert pick_dtype("cuda") == "bfloat16"
    monkeypatch.setattr(dev, "_cuda_supports_bf16", lambda device: False)
    assert pick_dtype("cuda") == "float16"
    with pytest.raises(EngineError, match="bfloat16"):
        pick_dtype("cuda", "bfloat16")
    assert pick_dtype("cpu", "bf16") == "bfloat16"
    assert pick_dtype("cpu", "float16") == "float16"
    with pytest.raises(EngineError, match="Unknown dtype"):
        pick_dtype("cpu", "float8")


def test_cpu_memory_is_plausible():
    total, available = device_memory("cpu")
    assert total > 64 * 1024 * 1024
    assert 0 < available <= total


def test_errors_carry_message_and_hint():
    err = ModelLoadError("The folder x does not exist.", "Pick another folder.")
    assert isinstance(err, EngineError) and isinstance(err, RuntimeError)
    assert str(err) == "The folder x does not exist. Pick another folder."
    assert err.message.startswith("The folder") and err.hint == "Pick another folder."
    assert str(CheckpointError("Broken.")) == "Broken."


def test_prompt_too_long_error_fields_and_pickle():
    err = PromptTooLongError(3, 120, 128, 16)
    assert (err.index, err.length, err.limit, err.max_new_tokens) == (3, 120, 128, 16)
    assert "Prompt 3" in str(err) and "128" in str(err)
    copy = pickle.loads(pickle.dumps(err))
    assert isinstance(copy, PromptTooLongError) and copy.index == 3 and str(copy) == str(err)
    again = pickle.loads(pickle.dumps(ModelLoadError("a", "b")))
    assert again.message == "a" and again.hint == "b"
