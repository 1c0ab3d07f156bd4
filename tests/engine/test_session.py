import pytest

from engine.errors import CheckpointError, EngineError
from engine.generation import SamplingSettings, generate
from engine.model_source import ModelSpec
from engine.session import ModelSession


def logits(loaded, text="abc 12"):
    import torch

    ids = torch.tensor([loaded.tokenizer(text)["input_ids"]])
    with torch.no_grad():
        return loaded.model(input_ids=ids).logits


def make_adapter(tiny_model_dir, out_dir):
    """Train-free adapter: random LoRA B weights so the outputs really change."""
    import torch

    from engine.loading import load_model
    from engine.lora import LoraSettings, attach_lora, save_adapter

    loaded = load_model(ModelSpec(str(tiny_model_dir)), device="cpu")
    peft_model = attach_lora(loaded.model, LoraSettings(r=4, dropout=0.0))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=gen))
    save_adapter(peft_model, out_dir)
    return out_dir


def test_get_reuses_the_same_model(tiny_model_dir):
    session = ModelSession()
    assert session.describe() == {"name": None, "device": None, "dtype": None}
    first = session.get(ModelSpec(str(tiny_model_dir)), device="cpu", dtype="float32")
    again = session.get(ModelSpec(str(tiny_model_dir)), device="cpu", dtype="auto")
    assert again is first
    assert session.describe() == {"name": tiny_model_dir.name, "device": "cpu", "dtype": "float32"}

    other = session.get(ModelSpec(str(tiny_model_dir)), device="cpu", dtype="bfloat16")
    assert other is not first and other.dtype == "bfloat16"
    assert session.loaded is other

    session.unload()
    assert session.loaded is None
    assert session.describe()["name"] is None


def test_different_spec_loads_anew(tiny_model_dir, tiny_base_model_dir):
    session = ModelSession()
    a = session.get(ModelSpec(str(tiny_model_dir)), device="cpu")
    b = session.get(ModelSpec(str(tiny_base_model_dir)), device="cpu")
    assert b is not a and b.source_dir == tiny_base_model_dir.resolve()
    c = session.get(ModelSpec(str(tiny_base_model_dir), allow_pickle=True), device="cpu")
    assert c is not b


def test_with_adapter_applies_and_restores(tiny_model_dir, tmp_path):
    import torch

    adapter = make_adapter(tiny_model_dir, tmp_path / "adapter")
    session = ModelSession()
    base = session.get(ModelSpec(str(tiny_model_dir)), device="cpu")
    base_model = base.model
    before = logits(base)

    with session.with_adapter(adapter) as tuned:
        assert tuned.model is not base_model
        assert tuned.tokenizer is base.tokenizer
        assert not tuned.model.training
        with_adapter = logits(tuned)
        assert not torch.allclose(with_adapter, before)
        with pytest.raises(EngineError):
            session.get(ModelSpec(str(tiny_model_dir)), device="cpu")

    assert session.get(ModelSpec(str(tiny_model_dir)), device="cpu") is base
    assert base.model is base_model
    assert not any("lora_" in name for name, _ in base.model.named_modules())
    assert torch.equal(logits(base), before)

    # A second time gives the same adapted outputs (the adapter did not leak or stack),
    # and generation runs on the adapted model.
    settings = SamplingSettings(max_new_tokens=4, do_sample=False)
    with session.with_adapter(adapter) as tuned:
        assert torch.equal(logits(tuned), with_adapter)
        assert len(generate(tuned, ["abc"], settings)[0]) == 1
    with session.with_adapter(None) as bare:
        assert bare is base
    assert torch.equal(logits(base), before)


def test_with_adapter_restores_after_an_error(tiny_model_dir, tmp_path):
    import torch

    adapter = make_adapter(tiny_model_dir, tmp_path / "adapter")
    session = ModelSession()
    base = session.get(ModelSpec(str(tiny_model_dir)), device="cpu")
    before = logits(base)
    with pytest.raises(RuntimeError, match="job failed"):
        with session.with_adapter(adapter):
            raise RuntimeError("job failed")
    assert torch.equal(logits(base), before)
    with pytest.raises(CheckpointError):
        with session.with_adapter(tmp_path / "missing"):
            pass
    assert torch.equal(logits(base), before)


def test_with_adapter_needs_a_model(tmp_path):
    with pytest.raises(EngineError, match="No model is loaded"):
        with ModelSession().with_adapter(tmp_path):
            pass
