import pytest

from engine.errors import CheckpointError, SettingsError
from engine.lora import (
    ADAPTER_CONFIG,
    ADAPTER_WEIGHTS,
    LoraSettings,
    attach_lora,
    load_adapter,
    save_adapter,
)


def fresh_model(seed=0):
    import torch
    from transformers import LlamaForCausalLM

    from tests.engine.conftest import tiny_config

    torch.manual_seed(seed)
    return LlamaForCausalLM(tiny_config(52)).eval()


def logits(model, ids):
    import torch

    with torch.no_grad():
        return model(input_ids=ids).logits


def perturb_lora(peft_model, seed=1):
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.5)


def has_lora_layers(model):
    return any("lora_" in name for name, _ in model.named_modules())


@pytest.fixture
def ids():
    import torch

    return torch.tensor([[4, 5, 6, 7, 8, 9], [10, 11, 12, 13, 14, 15]])


def test_settings_validate_and_round_trip():
    s = LoraSettings(
        r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"], use_rslora=True
    )
    s.validate()
    assert LoraSettings.from_dict(s.to_dict()) == s
    assert LoraSettings.from_dict({"r": 2, "unknown": 1}).r == 2
    for bad in [
        dict(r=0),
        dict(alpha=0),
        dict(dropout=1.0),
        dict(dropout=-0.1),
        dict(target_modules=[]),
        dict(target_modules=""),
        dict(target_modules=["q_proj", ""]),
    ]:
        with pytest.raises(SettingsError):
            LoraSettings(**bad).validate()


def test_attach_makes_only_the_adapter_trainable():
    model = fresh_model()
    peft_model = attach_lora(model, LoraSettings(r=4, dropout=0.0))
    trainable = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    targeted = {n.split(".")[-4] for n in trainable if n.endswith("lora_A.default.weight")}
    assert targeted == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    only_q = attach_lora(fresh_model(), LoraSettings(r=2, target_modules=["q_proj"]))
    assert {n.split(".")[-4] for n, p in only_q.named_parameters() if p.requires_grad} == {"q_proj"}


def test_attach_with_unknown_target_is_a_settings_error():
    with pytest.raises(SettingsError, match="target"):
        attach_lora(fresh_model(), LoraSettings(target_modules=["no_such_layer"]))


def test_save_load_round_trip_gives_identical_logits(tmp_path, ids):
    import torch

    base_logits = logits(fresh_model(), ids)
    peft_model = attach_lora(fresh_model(), LoraSettings(r=4, dropout=0.0))
    perturb_lora(peft_model)
    peft_model.eval()
    trained_logits = logits(peft_model, ids)
    assert not torch.allclose(trained_logits, base_logits)

    save_adapter(peft_model, tmp_path / "adapter")
    assert (tmp_path / "adapter" / ADAPTER_CONFIG).is_file()
    assert (tmp_path / "adapter" / ADAPTER_WEIGHTS).is_file()
    assert not list((tmp_path / "adapter").glob("*.bin"))

    reloaded = load_adapter(fresh_model(), tmp_path / "adapter")
    assert torch.equal(logits(reloaded, ids), trained_logits)
    assert not any(p.requires_grad for p in reloaded.parameters())
    trainable = load_adapter(fresh_model(), tmp_path / "adapter", trainable=True)
    assert any(p.requires_grad for n, p in trainable.named_parameters() if "lora_" in n)


def test_missing_or_corrupt_adapter_is_a_checkpoint_error(tmp_path, ids):

    with pytest.raises(CheckpointError, match="does not exist"):
        load_adapter(fresh_model(), tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match=ADAPTER_CONFIG):
        load_adapter(fresh_model(), tmp_path / "empty")

    peft_model = attach_lora(fresh_model(), LoraSettings(r=4))
    save_adapter(peft_model, tmp_path / "good")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / ADAPTER_CONFIG).write_bytes((tmp_path / "good" / ADAPTER_CONFIG).read_bytes())
    (corrupt / ADAPTER_WEIGHTS).write_bytes(
        (tmp_path / "good" / ADAPTER_WEIGHTS).read_bytes()[:100]
    )
    with pytest.raises(CheckpointError, match="corrupt"):
        load_adapter(fresh_model(), corrupt)


def test_mismatched_adapter_leaves_the_base_clean(tmp_path, ids):
    import torch
    from transformers import LlamaForCausalLM

    from tests.engine.conftest import tiny_config

    torch.manual_seed(0)
    wider = LlamaForCausalLM(tiny_config(52, hidden_size=48, intermediate_size=96))
    save_adapter(attach_lora(wider, LoraSettings(r=4)), tmp_path / "wider")

    model = fresh_model()
    before = logits(model, ids)
    with pytest.raises(CheckpointError, match="could not be loaded"):
        load_adapter(model, tmp_path / "wider")
    assert not has_lora_layers(model)
    assert not hasattr(model, "peft_config")
    assert torch.equal(logits(model, ids), before)
