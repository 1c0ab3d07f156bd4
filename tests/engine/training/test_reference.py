"""reference: log-probs under the frozen reference (adapter disabled), cached on disk by
namespace, and a second run that computes nothing."""

from __future__ import annotations

import json

import pytest
import torch

from engine.demo import DEMO_MODEL_DIR
from engine.lora import LoraSettings, attach_lora, strip_adapters
from engine.training import train
from engine.training.batching import pad_sequences
from engine.training.logprobs import sequence_logps
from engine.training.reference import (
    ReferenceCache,
    compute_reference,
    reference_namespace,
    sequence_key,
)
from tests.engine.training.helpers import Recorder, adapter_layers, demo_data, fast_settings

SEQUENCES = [
    ([1, 10, 11], [20, 21, 2]),
    ([1, 12], [22, 2]),
    ([1, 13, 14, 15], [23, 24, 25, 2]),
    ([1, 10, 11], [26, 2]),
    ([1, 12], [22, 2]),
]  # the last repeats the second


def _one_by_one(model, sequences) -> list[float]:
    with torch.no_grad():
        return [
            float(sequence_logps(model, pad_sequences([p], [c], pad_id=0)).sums[0])
            for p, c in sequences
        ]


@pytest.fixture
def adapted(loaded_tiny):
    """The tiny model with a LoRA adapter whose B matrices are not zero (so it matters),
    and the base model's log-probs of SEQUENCES taken before attaching it."""
    base = loaded_tiny.model
    base_logps = _one_by_one(base, SEQUENCES)
    generator = torch.Generator().manual_seed(0)
    peft = attach_lora(base, LoraSettings(r=4, dropout=0.0))
    with torch.no_grad():
        for name, param in peft.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
    yield peft, base_logps
    strip_adapters(base)


def test_reference_is_the_base_model_with_the_adapter_disabled(adapted):
    peft, base_logps = adapted
    adapted_logps = _one_by_one(peft, SEQUENCES)
    assert max(abs(a - b) for a, b in zip(adapted_logps, base_logps, strict=True)) > 1e-2
    peft.train()
    done = []
    values = compute_reference(
        peft,
        SEQUENCES,
        ReferenceCache(None, "x"),
        pad_id=0,
        batch_size=2,
        device="cpu",
        progress=lambda d, t: done.append((d, t)),
    )
    assert values == pytest.approx(base_logps, abs=1e-5)
    assert values[1] == values[4]  # the same sequence once
    assert done == [(1, 2), (2, 2)]  # four distinct sequences in batches of two
    assert peft.training  # its mode is given back
    assert _one_by_one(peft, SEQUENCES) == pytest.approx(
        adapted_logps, abs=1e-6
    )  # adapter re-enabled


def test_stopping_returns_none(adapted):
    peft, _ = adapted
    cache = ReferenceCache(None, "x")
    assert (
        compute_reference(
            peft, SEQUENCES, cache, pad_id=0, batch_size=2, device="cpu", should_stop=lambda: True
        )
        is None
    )
    assert cache.values == {}


def test_cache_saved_and_reloaded_gives_identical_values(adapted, tmp_path):
    peft, _ = adapted
    cache = ReferenceCache(tmp_path, "ns")
    first = compute_reference(peft, SEQUENCES, cache, pad_id=0, batch_size=3, device="cpu")
    assert set(cache.values) == {sequence_key(p, c) for p, c in SEQUENCES}
    cache.save()
    assert (tmp_path / "ns.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["ns.json"]  # no temporary file left
    reloaded = ReferenceCache(tmp_path, "ns")
    assert reloaded.values == cache.values
    calls = []
    again = compute_reference(
        peft,
        SEQUENCES,
        reloaded,
        pad_id=0,
        batch_size=3,
        device="cpu",
        progress=lambda d, t: calls.append(t),
    )
    assert again == first  # bit-identical
    assert calls == []  # nothing computed
    more = SEQUENCES + [([1, 16], [27, 28, 2])]
    compute_reference(
        peft,
        more,
        reloaded,
        pad_id=0,
        batch_size=3,
        device="cpu",
        progress=lambda d, t: calls.append(t),
    )
    assert calls == [1]  # only the new sequence


def test_other_namespace_misses(tmp_path):
    namespace = reference_namespace(DEMO_MODEL_DIR, None, "float32", "cpu")
    assert namespace == reference_namespace(DEMO_MODEL_DIR, None, "float32", "cpu")
    others = {
        reference_namespace(DEMO_MODEL_DIR, None, "bfloat16", "cpu"),
        reference_namespace(DEMO_MODEL_DIR, None, "float32", "cuda"),
    }
    assert namespace not in others and len(others) == 2
    assert reference_namespace(DEMO_MODEL_DIR, None, "float32", "cuda:0") == reference_namespace(
        DEMO_MODEL_DIR, None, "float32", "cuda:1"
    )  # device type only
    cache = ReferenceCache(tmp_path, namespace)
    cache.values = {"k": -1.5}
    cache.save()
    assert ReferenceCache(tmp_path, namespace).values == {"k": -1.5}
    for other in others:
        assert ReferenceCache(tmp_path, other).values == {}


def test_adapter_changes_the_namespace(tmp_path):
    (tmp_path / "adapter_model.safetensors").write_bytes(b"x" * 10)
    (tmp_path / "adapter_config.json").write_text("{}")
    with_adapter = reference_namespace(DEMO_MODEL_DIR, tmp_path, "float32", "cpu")
    assert with_adapter != reference_namespace(DEMO_MODEL_DIR, None, "float32", "cpu")


def test_damaged_cache_is_ignored(tmp_path):
    (tmp_path / "ns.json").write_text("{not json")
    assert ReferenceCache(tmp_path, "ns").values == {}
    (tmp_path / "ns.json").write_text(json.dumps([1, 2]))
    assert ReferenceCache(tmp_path, "ns").values == {}


def test_second_run_takes_every_reference_value_from_the_cache(demo_loaded, tmp_path):
    data = demo_data(n_train=8, n_eval=4)
    settings = fast_settings(max_steps=2)
    cache_dir = tmp_path / "refcache"
    first = Recorder(tmp_path / "a", reference_cache_dir=cache_dir)
    result_a = train(demo_loaded, data, settings, first.hooks)
    sequences = 2 * (8 + 4)
    assert result_a.reference["needed"] is True
    assert result_a.reference["sequences"] == sequences
    assert result_a.reference["cached"] == 0 and result_a.reference["computed"] == sequences
    cache_file = cache_dir / f"{result_a.reference['namespace']}.json"
    assert len(json.loads(cache_file.read_text())) == sequences

    second = Recorder(tmp_path / "b", reference_cache_dir=cache_dir)
    result_b = train(demo_loaded, data, settings, second.hooks)
    assert result_b.reference["cached"] == result_b.reference["sequences"] == sequences
    assert result_b.reference["computed"] == 0
    assert result_b.reference["namespace"] == result_a.reference["namespace"]
    # the same reference values (and the same seeded run): identical metrics
    assert second.train_metrics()[0][1]["loss"] == first.train_metrics()[0][1]["loss"]
    assert result_b.eval_metrics == result_a.eval_metrics
    assert adapter_layers(demo_loaded.model) == []


def test_methods_without_reference_compute_none(demo_loaded, tmp_path):
    result = train(
        demo_loaded,
        demo_data(n_train=8),
        fast_settings(algorithm="simpo", max_steps=1),
        Recorder(tmp_path, reference_cache_dir=tmp_path / "cache").hooks,
    )
    assert result.reference == {"needed": False}
    assert not (tmp_path / "cache").exists()
