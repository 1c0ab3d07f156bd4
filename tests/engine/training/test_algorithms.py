"""Every offline algorithm trains the demo model end to end: status, checkpoints, TRL
metric names, eval metrics, and a base model given back without adapter layers."""

from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from engine.checkpoints import read_manifest, verify_checkpoint
from engine.demo.task import demo_splits
from engine.errors import EngineError
from engine.training import train
from engine.training.config import OFFLINE_ALGORITHMS
from engine.training.examples import DemonstrationExample, content_key
from engine.training.hooks import TrainData
from engine.training.state import STATE_FILE, TRAINER_FILE
from tests.engine.training.helpers import (
    EXPECTED_METRICS,
    STEP_METRICS,
    TOTAL_METRICS,
    Recorder,
    adapter_layers,
    all_finite,
    demo_data,
    fast_settings,
)


def _assert_base_is_clean(loaded, trained_on: bool = True) -> None:
    assert adapter_layers(loaded.model) == []
    assert not hasattr(loaded.model, "peft_config")
    assert not loaded.model.training
    if trained_on:  # the policy was this model (not a reward model loaded beside it)
        assert not any(p.requires_grad for p in loaded.model.parameters())


@pytest.mark.parametrize("algorithm", OFFLINE_ALGORITHMS)
def test_algorithm_trains_and_checkpoints(algorithm, demo_loaded, tmp_path):
    assert set(EXPECTED_METRICS) == set(OFFLINE_ALGORITHMS)
    rec = Recorder(tmp_path)
    settings = fast_settings(algorithm=algorithm, max_steps=3, eval_every=2, checkpoint_every=2)
    result = train(demo_loaded, demo_data(n_train=16, n_eval=4), settings, rec.hooks)

    assert (result.status, result.step, result.world_size) == ("done", 3, 1)
    assert result.replicas_in_sync is None  # one process
    assert result.checkpoint == rec.checkpoint_dir(3)
    assert rec.saved_steps() == [2, 3]
    for step, path, manifest in rec.checkpoints:
        assert verify_checkpoint(path) == [], path
        assert (
            read_manifest(path)["metadata"]
            == {"step": step, "kind": "training"}
            == manifest["metadata"]
        )
        assert {
            "adapter_model.safetensors",
            "adapter_config.json",
            STATE_FILE,
            TRAINER_FILE,
        } <= set(manifest["files"])
        trainer_state = json.loads((path / TRAINER_FILE).read_text())
        assert trainer_state["step"] == step and trainer_state["algorithm"] == algorithm
        assert trainer_state["settings"] == settings.to_dict()
        weights = load_file(str(path / "adapter_model.safetensors"))
        assert weights and all(bool(torch.isfinite(w).all()) for w in weights.values())
    if algorithm == "reward":  # the score head is trained and saved with the adapter
        assert any("score" in key for key in weights)

    train_metrics = rec.train_metrics()
    assert [step for step, _ in train_metrics] == [1, 2, 3]
    for _, metrics in train_metrics:
        assert all_finite(metrics)
        assert set(EXPECTED_METRICS[algorithm]) | set(STEP_METRICS) <= set(metrics)
    assert result.train_metrics == train_metrics[-1][1]
    if algorithm == "sft":  # a token-mean NLL, and the tokens trained on so far
        assert result.train_metrics["loss"] > 0
        assert 0 <= result.train_metrics["mean_token_accuracy"] <= 1
        tokens = [m["num_tokens"] for _, m in train_metrics]
        assert 0 < tokens[0] < tokens[1] < tokens[2]
    elif algorithm != "reward":
        assert result.train_metrics["logps/chosen"] < 0
        assert 0 <= result.train_metrics["rewards/accuracies" if algorithm != "kto" else "loss"]
    else:
        assert 0 <= result.train_metrics["accuracy"] <= 1
    if algorithm != "sft":
        assert result.train_metrics["rewards/margins"] == pytest.approx(
            result.train_metrics["rewards/chosen"] - result.train_metrics["rewards/rejected"],
            abs=1e-6,
        )

    evals = rec.eval_metrics()
    assert [step for step, _ in evals] == [2, 3]
    for _, metrics in evals:
        assert metrics and all(key.startswith("eval_") for key in metrics)
        assert all_finite(metrics)
        evaluated = set(EXPECTED_METRICS[algorithm]) - set(TOTAL_METRICS)
        assert {f"eval_{name}" for name in evaluated} <= set(metrics)
    assert result.eval_metrics == evals[-1][1]

    n_train = 16
    assert (
        result.prepared
        == {
            "train_examples": n_train,
            "eval_examples": 4,
            "too_long": 0,
            "too_long_keys": [],
            "longest_too_long": 0,
        }
        == rec.prepared
    )
    if algorithm in ("dpo", "ipo", "kto"):
        assert result.reference["sequences"] == 2 * (n_train + 4)
    else:
        assert result.reference == {"needed": False}
    _assert_base_is_clean(demo_loaded, trained_on=algorithm != "reward")


def test_dpo_learns_the_preference(demo_loaded, tmp_path):
    rec = Recorder(tmp_path)
    settings = fast_settings(max_steps=15, learning_rate=2e-3, checkpoint_every=0)
    result = train(demo_loaded, demo_data(n_train=32, n_eval=8), settings, rec.hooks)
    losses = [m["loss"] for _, m in rec.train_metrics()]
    assert len(losses) == 15
    assert losses[0] == pytest.approx(math.log(2), abs=1e-3)  # the policy starts as the reference
    assert result.train_metrics["loss"] < math.log(2)
    assert sum(losses[-3:]) / 3 < math.log(2) - 0.01
    assert result.train_metrics["rewards/margins"] > 0
    assert result.eval_metrics["eval_rewards/margins"] > 0


def test_sft_learns_the_demonstrations(demo_loaded, tmp_path):
    """Demonstrations in a format the demo model never writes (the bare number, where it
    says "The answer is N."): their NLL starts high and falls, on train and eval alike."""

    def bare(split: str, n: int) -> list[DemonstrationExample]:
        return [
            DemonstrationExample(content_key(p.question, str(p.answer)), p.question, str(p.answer))
            for p in demo_splits()[split][:n]
        ]

    rec = Recorder(tmp_path)
    settings = fast_settings(algorithm="sft", max_steps=15, learning_rate=2e-3, eval_every=5)
    data = TrainData(train_demonstrations=bare("train", 32), eval_demonstrations=bare("eval", 8))
    train(demo_loaded, data, settings, rec.hooks)
    losses = [m["loss"] for _, m in rec.train_metrics()]
    evals = {step: m["eval_loss"] for step, m in rec.eval_metrics()}
    assert len(losses) == 15 and sorted(evals) == [5, 10, 15]
    assert losses[0] > 10  # the model puts little probability on the bare number
    assert sum(losses[-3:]) / 3 < losses[0] - 2
    assert evals[15] < evals[10] < evals[5] - 0.5


def test_same_settings_give_the_same_run(demo_loaded, tmp_path):
    """The seed covers the data order, the LoRA initialisation and the dropout."""

    def run(name: str, seed: int):
        torch.manual_seed(1000 + len(name))  # whatever the caller's generator holds
        result = train(
            demo_loaded,
            demo_data(),
            fast_settings(seed=seed, lora={"dropout": 0.2}),
            Recorder(tmp_path / name).hooks,
        )
        return load_file(str(result.checkpoint / "adapter_model.safetensors"))

    a, b, other = run("a", 0), run("bb", 0), run("c", 1)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], other[k]) for k in a)


def test_options_accumulation_logging_checkpointing_and_samples(demo_loaded, tmp_path):
    rec = Recorder(tmp_path)
    settings = fast_settings(
        max_steps=3,
        batch_size=2,
        gradient_accumulation_steps=2,
        logging_every=2,
        gradient_checkpointing=True,
        eval_every=2,
        eval_batches=1,
        samples_per_eval=2,
        sample_max_new_tokens=6,
        lr_scheduler="linear",
        warmup_ratio=0.0,
        rpo_alpha=1.0,
        lora={"target_modules": ["q_proj", "v_proj"]},
    )
    result = train(
        demo_loaded, demo_data(n_train=8, n_eval=4, sample_prompts=3), settings, rec.hooks
    )
    assert result.status == "done"
    train_metrics = dict(rec.train_metrics())
    assert sorted(train_metrics) == [2, 3]  # every 2nd step, and the last
    assert train_metrics[2]["epoch"] == pytest.approx(2 * 2 * 2 / 8)
    assert train_metrics[2]["learning_rate"] == pytest.approx(
        settings.learning_rate / 3
    )  # linear decay
    assert "nll_loss" in train_metrics[3] and all_finite(train_metrics[3])
    assert [step for step, _ in rec.samples] == [2, 3]
    for _, samples in rec.samples:
        assert len(samples) == 2  # samples_per_eval of the three prompts
        for sample in samples:
            assert isinstance(sample["completion"], str) and 1 <= sample["num_tokens"] <= 6
    modules = {
        key.split(".lora_")[0].rsplit(".", 1)[-1]
        for key in load_file(str(result.checkpoint / "adapter_model.safetensors"))
    }
    assert modules == {"q_proj", "v_proj"}
    _assert_base_is_clean(demo_loaded)
    assert not demo_loaded.model.is_gradient_checkpointing


def test_too_long_examples_are_counted_and_left_out(demo_loaded, tmp_path):
    data = demo_data(n_train=8, n_eval=4)
    data.train_pairs[0] = data.train_pairs[0].__class__(
        "long", "What is 1 + 1?", "The answer is " + "2" * 60 + ".", "The answer is 3."
    )
    result = train(
        demo_loaded, data, fast_settings(max_steps=1, max_length=40), Recorder(tmp_path).hooks
    )
    assert result.prepared["train_examples"] == 7
    assert result.prepared["too_long"] == 1 and result.prepared["too_long_keys"] == ["long"]
    assert result.prepared["longest_too_long"] > 40


def test_nothing_to_train_on(demo_loaded, tmp_path):
    with pytest.raises(EngineError, match="longer than max_length"):
        train(
            demo_loaded, demo_data(n_train=4), fast_settings(max_length=5), Recorder(tmp_path).hooks
        )
    with pytest.raises(EngineError, match="no preference pairs"):
        train(demo_loaded, demo_data(n_train=0), fast_settings(), Recorder(tmp_path).hooks)
    _assert_base_is_clean(demo_loaded, trained_on=False)


def test_fp16_on_cpu_is_refused(demo_loaded, tmp_path):
    with pytest.raises(EngineError, match="fp16"):
        train(
            demo_loaded,
            demo_data(n_train=4),
            fast_settings(precision="fp16"),
            Recorder(tmp_path).hooks,
        )
    _assert_base_is_clean(demo_loaded)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("precision", "dtype"), [("bf16", torch.bfloat16), ("auto", torch.float32)]
)
def test_cpu_precision_runs_under_autocast(precision, dtype, demo_loaded, tmp_path):
    seen = []
    head = demo_loaded.model.get_output_embeddings()
    handle = head.register_forward_hook(
        lambda module, args, out: seen.append(out.dtype) if torch.is_grad_enabled() else None
    )
    try:
        rec = Recorder(tmp_path)
        result = train(
            demo_loaded,
            demo_data(n_train=8),
            fast_settings(precision=precision, max_steps=2),
            rec.hooks,
        )
    finally:
        handle.remove()
    assert result.status == "done"
    assert seen and set(seen) == {dtype}  # the training forwards
    assert all(math.isfinite(m["loss"]) for _, m in rec.train_metrics())
    assert math.isfinite(result.eval_metrics["eval_loss"])
