import json

import pytest

from engine.errors import ModelLoadError
from engine.fit import estimate_fit, format_bytes, read_tensor_shapes
from tests.engine.conftest import tiny_config

GiB = 1024**3


@pytest.fixture(scope="module")
def model_and_dir(tmp_path_factory):
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_config(50))
    folder = tmp_path_factory.mktemp("fit-model")
    model.save_pretrained(folder)
    return model, folder


def test_weights_are_params_times_dtype_size(model_and_dir):
    model, folder = model_and_dir
    params = sum(p.numel() for p in model.parameters())
    fp32 = estimate_fit(folder, dtype="float32")
    bf16 = estimate_fit(folder, dtype="bfloat16")
    assert fp32.num_parameters == params
    assert fp32.weights_bytes == params * 4
    assert bf16.weights_bytes == params * 2
    assert fp32.optimizer_bytes == fp32.adapter_bytes == fp32.gradient_bytes == 0
    assert fp32.total_bytes == (
        fp32.weights_bytes
        + fp32.adapter_bytes
        + fp32.optimizer_bytes
        + fp32.gradient_bytes
        + fp32.activations_bytes
        + fp32.kv_cache_bytes
    )


def test_config_fallback_matches_header_count(model_and_dir, tmp_path):
    model, folder = model_and_dir
    (tmp_path / "config.json").write_text((folder / "config.json").read_text())
    from_config = estimate_fit(tmp_path)
    assert from_config.num_parameters == sum(p.numel() for p in model.parameters())


def test_sharded_index_is_read(model_and_dir, tmp_path):
    from safetensors.torch import save_file

    model, folder = model_and_dir
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    names = sorted(state)
    half = len(names) // 2
    shards = {
        "model-00001-of-00002.safetensors": names[:half],
        "model-00002-of-00002.safetensors": names[half:],
    }
    weight_map = {}
    for shard, keys in shards.items():
        save_file({k: state[k] for k in keys}, str(tmp_path / shard))
        weight_map.update({k: shard for k in keys})
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    (tmp_path / "config.json").write_text((folder / "config.json").read_text())
    shapes = read_tensor_shapes(tmp_path)
    assert set(shapes) == set(names)
    assert estimate_fit(tmp_path).num_parameters == estimate_fit(folder).num_parameters


def test_lora_adapter_count_matches_peft(model_and_dir):
    import torch
    from transformers import LlamaForCausalLM

    from engine.lora import LoraSettings, attach_lora
    from tests.engine.conftest import tiny_config as cfg

    _, folder = model_and_dir
    torch.manual_seed(0)
    peft_model = attach_lora(LlamaForCausalLM(cfg(50)), LoraSettings(r=4))
    lora_params = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    est = estimate_fit(folder, lora_rank=4, training=True)
    assert est.trainable_parameters == lora_params
    assert est.adapter_bytes == lora_params * 4
    # Adam: two float32 states per trainable parameter; float32 gradients.
    assert est.optimizer_bytes == lora_params * 8
    assert est.gradient_bytes == lora_params * 4


def test_training_adds_optimizer_and_full_finetune_costs_more(model_and_dir):
    _, folder = model_and_dir
    infer = estimate_fit(folder, seq_len=64)
    lora = estimate_fit(folder, seq_len=64, lora_rank=8, training=True)
    full = estimate_fit(folder, seq_len=64, training=True)
    assert lora.total_bytes > infer.total_bytes
    assert lora.optimizer_bytes > 0 and lora.adapter_bytes > 0
    assert full.trainable_parameters == full.num_parameters
    assert full.optimizer_bytes == full.num_parameters * 8
    assert full.total_bytes > lora.total_bytes


def test_kv_cache_and_activations_scale(model_and_dir):
    _, folder = model_and_dir
    a = estimate_fit(folder, batch_size=1, seq_len=100)
    b = estimate_fit(folder, batch_size=2, seq_len=100)
    c = estimate_fit(folder, batch_size=1, seq_len=200)
    # 2 (k, v) * layers 2 * kv_heads 1 * head_dim 16 * seq * batch * 4 bytes
    assert a.kv_cache_bytes == 2 * 2 * 1 * 16 * 100 * 1 * 4
    assert b.kv_cache_bytes == 2 * a.kv_cache_bytes == c.kv_cache_bytes
    assert b.activations_bytes > a.activations_bytes


def test_training_activations_never_hold_the_whole_sequences_logits(model_and_dir):
    _, folder = model_and_dir
    kwargs = dict(lora_rank=8, training=True, batch_size=4, seq_len=512)
    plain = estimate_fit(folder, **kwargs)
    checkpointed = estimate_fit(folder, gradient_checkpointing=True, **kwargs)
    # 2 layers: checkpointing keeps each layer's input and one layer's working set.
    assert checkpointed.activations_bytes < plain.activations_bytes


def test_training_logits_are_one_chunk_whatever_the_vocabulary(tmp_path):
    from engine.fit import LOGIT_CHUNK_ELEMENTS

    sizes = {}
    for vocab in (32_000, 256_000):
        folder = tmp_path / str(vocab)
        folder.mkdir()
        config = {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2}
        config.update(num_attention_heads=2, intermediate_size=128, vocab_size=vocab)
        (folder / "config.json").write_text(json.dumps(config))
        estimate = estimate_fit(folder, lora_rank=8, training=True, batch_size=4, seq_len=512)
        sizes[vocab] = estimate.activations_bytes
    # 4 x 512 positions x 256k float32 logits would be 2 GiB (twice with the gradient);
    # the head runs on one chunk of positions at a time.
    assert sizes[256_000] == sizes[32_000]
    assert sizes[256_000] < 2 * LOGIT_CHUNK_ELEMENTS * 4 + 4 * 512 * 2 * 10**4 * 4


def test_fits_flag_and_summary(model_and_dir):
    _, folder = model_and_dir
    unknown = estimate_fit(folder)
    assert unknown.fits is None and unknown.available_bytes is None
    assert "unknown" in unknown.summary()
    need = unknown.total_bytes
    yes = estimate_fit(folder, available_bytes=need)
    no = estimate_fit(folder, available_bytes=need - 1)
    assert yes.fits is True and no.fits is False
    big = estimate_fit(folder, available_bytes=int(15.6 * GiB))
    assert big.summary().startswith("needs ~") and big.summary().endswith("of 15.6 GiB available")
    assert "does not fit" in no.summary()


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(int(1.2 * GiB)) == "1.2 GiB"


def test_folder_without_model_raises(tmp_path):
    with pytest.raises(ModelLoadError, match="neither config.json nor safetensors"):
        estimate_fit(tmp_path)
    with pytest.raises(ValueError, match="dtype"):
        (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 8}))
        estimate_fit(tmp_path, dtype="float7")


def test_corrupt_header_raises(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"\x05\x00")
    with pytest.raises(ModelLoadError, match="safetensors"):
        estimate_fit(tmp_path)


def test_a_wider_stored_load_is_a_term_of_the_total(tmp_path):
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_config(4000))  # the embeddings most of the weights
    folder = tmp_path / "wide-vocab"
    model.save_pretrained(folder)
    largest = max(p.numel() for p in model.parameters()) * 4  # stored float32
    # One short row: the run's own parts stay below the moment the largest float32 tensor
    # is read beside the bfloat16 weights, so that moment is the peak.
    bf16 = estimate_fit(folder, dtype="bfloat16", batch_size=1, seq_len=16)
    parts = (
        bf16.weights_bytes
        + bf16.adapter_bytes
        + bf16.optimizer_bytes
        + bf16.gradient_bytes
        + bf16.activations_bytes
        + bf16.kv_cache_bytes
    )
    assert bf16.loading_bytes == max(0, bf16.weights_bytes + largest - parts) > 0
    assert bf16.total_bytes == parts + bf16.loading_bytes
    assert estimate_fit(folder, dtype="float32").loading_bytes == 0  # stored as it loads
