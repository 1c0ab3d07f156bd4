"""The architecture matrix: for every family users bring (tests/engine/architecture_families.py),
a tiny random model built from its config with a trained byte-level BPE tokenizer and the
family's real chat template is loaded, estimated, sampled, trained by every offline and
online algorithm for 2 steps, checkpointed, resumed exactly, evaluated and exported."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import load_file

from engine.algorithms import registry
from engine.fit import estimate_fit
from engine.generation import SamplingSettings, generate
from engine.loading import LoadedModel, load_model
from engine.model_source import ModelSpec
from engine.training import train
from tests.engine.architecture_families import FAMILIES
from tests.engine.training.helpers import Recorder, adapter_layers, demo_data, fast_settings
from tests.engine.training.online.helpers import answer_reward, demo_prompts, online_settings

NAMES = [f.name for f in FAMILIES]
ADAPTER = "adapter_model.safetensors"


def _load(folder) -> LoadedModel:
    return load_model(ModelSpec(str(folder)), "cpu", "float32")


def _finite(metrics: dict[str, float]) -> bool:
    return all(math.isfinite(v) for v in metrics.values())


@pytest.mark.parametrize("name", NAMES)
def test_loads_estimates_and_generates(name, family_model_dir):
    folder = family_model_dir(name)
    loaded = _load(folder)
    # The estimate reads the safetensors headers: tied embeddings are stored once, as
    # parameters() counts them.
    estimate = estimate_fit(folder, dtype="float32", lora_rank=8, training=True)
    assert estimate.num_parameters == sum(p.numel() for p in loaded.model.parameters())
    assert estimate.total_bytes > estimate.weights_bytes > 0
    settings = SamplingSettings(max_new_tokens=5, temperature=1.0, seed=3)
    prompts = ["What is 2 + 3?", "What is 10 - 4?"]
    first = generate(loaded, prompts, settings, n=2)
    assert [len(rows) for rows in first] == [2, 2]
    assert all(
        0 < g.num_tokens <= 5 and g.finish_reason in ("stop", "length") for r in first for g in r
    )
    assert generate(loaded, prompts, settings, n=2) == first  # seeded


@pytest.mark.parametrize("name", NAMES)
def test_every_offline_algorithm_trains(name, family_model_dir, tmp_path):
    loaded = _load(family_model_dir(name))
    data = demo_data(n_train=4, n_eval=2)
    for algorithm in registry.offline_names():
        recorder = Recorder(tmp_path / algorithm)
        settings = fast_settings(algorithm=algorithm, max_steps=2, batch_size=2)
        result = train(loaded, data, settings, recorder.hooks)
        assert (result.status, result.step) == ("done", 2), algorithm
        steps = recorder.train_metrics()
        assert [s for s, _ in steps] == [1, 2] and all(_finite(m) for _, m in steps), algorithm
        assert recorder.eval_metrics(), algorithm  # evaluated at the end
        assert (result.checkpoint / ADAPTER).is_file()
        assert adapter_layers(loaded.model) == []  # the base is given back clean


@pytest.mark.parametrize("name", NAMES)
def test_every_online_algorithm_trains(name, family_model_dir, tmp_path):
    loaded = _load(family_model_dir(name))
    data = demo_prompts(n_train=4, n_eval=2)
    for algorithm in registry.online_names():
        recorder = Recorder(tmp_path / algorithm)
        settings = online_settings(
            algorithm, num_generations=2, max_completion_length=6, eval_prompts=2
        )
        result = train(loaded, data, settings, recorder.hooks, rewards=answer_reward())
        assert (result.status, result.step) == ("done", 2), algorithm
        steps = recorder.train_metrics()
        assert [s for s, _ in steps] == [1, 2] and all(_finite(m) for _, m in steps), algorithm
        assert any("eval_reward" in m for _, m in recorder.eval_metrics()), algorithm
        assert adapter_layers(loaded.model) == []


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_resume_and_export(name, family_model_dir, tmp_path):
    from engine.export.merge import merge_adapter

    folder = family_model_dir(name)
    loaded = _load(folder)
    data = demo_data(n_train=4, n_eval=2)
    settings = fast_settings(algorithm="dpo", max_steps=2, batch_size=2, checkpoint_every=1)
    whole = Recorder(tmp_path / "whole")
    done = train(loaded, data, settings, whole.hooks)
    stopped_rec = Recorder(tmp_path / "part", commands={1: {"stop"}})
    stopped = train(loaded, data, settings, stopped_rec.hooks)
    assert (stopped.status, stopped.step) == ("stopped", 1)
    resumed = train(
        loaded, data, settings, Recorder(tmp_path / "part").hooks, resume_from=stopped.checkpoint
    )
    assert (resumed.status, resumed.step) == ("done", 2)
    a, b = load_file(str(done.checkpoint / ADAPTER)), load_file(str(resumed.checkpoint / ADAPTER))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    # Exported: base + adapter merged into a plain folder that transformers loads alone and
    # that computes what the base with the adapter computes.
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out = tmp_path / "merged"
    out.mkdir()
    merge_adapter(folder, done.checkpoint, out, "f32")
    merged = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    base = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    adapted = PeftModel.from_pretrained(base, str(done.checkpoint)).eval()
    ids = torch.tensor([loaded.tokenizer("What is 2 + 3?")["input_ids"]])
    with torch.no_grad():
        torch.testing.assert_close(merged(ids).logits, adapted(ids).logits, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_log_probs_in_chunks_equal_the_full_logits(name, family_model_dir, monkeypatch):
    """The head runs on completion positions only, a few at a time, and gives the values
    and gradients of a log-softmax over the whole sequence's logits (Gemma 2's soft-capping,
    tied embeddings and GPT-2 included)."""
    from peft import LoraConfig, get_peft_model

    from engine.training import logprobs
    from engine.training.batching import pad_sequences

    loaded = _load(family_model_dir(name))
    torch.manual_seed(0)
    model = get_peft_model(loaded.model, LoraConfig(r=4, target_modules="all-linear"))
    for param_name, param in model.named_parameters():
        if "lora_B" in param_name:  # B starts at 0: make the adapter matter
            torch.nn.init.normal_(param, std=0.1)
    vocab = model.get_output_embeddings().weight.shape[0]
    monkeypatch.setattr(logprobs, "LOGIT_CHUNK_ELEMENTS", 3 * vocab)  # 3 positions a chunk
    batch = pad_sequences([[5, 6, 7, 8], [9, 10]], [[11, 12, 13], [14, 15, 16, 17, 18]], 0)
    rows: list[int] = []
    hook = model.get_output_embeddings().register_forward_hook(
        lambda m, i, o: rows.append(o.reshape(-1, o.shape[-1]).shape[0])
    )
    try:
        out = logprobs.completion_tokens(model, batch, temperature=0.7, entropy=True)
    finally:
        hook.remove()
    assert rows and max(rows) <= 3  # never the whole sequence's logits
    (out.logps.sum() + out.entropy.sum()).backward()
    chunked = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()

    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    full = torch.log_softmax(logits[:, :-1].float() / 0.7, -1)
    mask = batch.completion_mask[:, 1:].float()
    expected = full.gather(-1, batch.input_ids[:, 1:].unsqueeze(-1)).squeeze(-1) * mask
    entropy = -(full.exp() * full).sum(-1) * mask
    torch.testing.assert_close(out.logps, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out.entropy, entropy, atol=1e-4, rtol=1e-4)
    (expected.sum() + entropy.sum()).backward()
    assert chunked
    for n, p in model.named_parameters():
        if p.grad is not None:
            torch.testing.assert_close(chunked[n], p.grad, atol=1e-5, rtol=1e-4)
