"""The training pass that runs each prompt once for its group: the same log-probs,
entropies and gradients as the full rows, and a seeded GRPO run learns what it learned
with the full rows (the previous implementation)."""

from __future__ import annotations

import pytest
import torch

from engine.training import train
from engine.training.online.algorithms import grpo
from engine.training.online.forward import rollout_batch, token_outputs
from engine.training.online.shared_prompt import (
    grouped_rows,
    grouped_token_outputs,
    shared_prompt_supported,
)
from tests.engine.training.helpers import Recorder, lora_demo
from tests.engine.training.online.helpers import (
    answer_reward,
    demo_prompts,
    grouped_example,
    online_settings,
    trainable_grads,
)


def test_grouped_pass_gives_the_full_rows_log_probs_entropies_and_gradients():
    model = lora_demo(r=4, alpha=8)
    model.train()
    prompts, completions, g = grouped_example()
    batch, mask = rollout_batch(prompts, completions, 0, "cpu")
    full = token_outputs(model, batch, entropy=True, temperature=0.7)
    ((full.logps * mask).sum() + (full.entropy * mask).sum()).backward()
    full_grads = trainable_grads(model).clone()
    model.zero_grad()
    rows = grouped_rows(prompts, completions, g, 0, "cpu")
    assert rows is not None and rows.prompt_ids.shape[0] == 3  # each prompt once
    shared = grouped_token_outputs(model, rows, entropy=True, temperature=0.7)
    assert shared.logps.shape == full.logps.shape
    ((shared.logps * mask).sum() + (shared.entropy * mask).sum()).backward()
    torch.testing.assert_close(shared.logps, full.logps * mask, atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(shared.entropy, full.entropy * mask, atol=1e-4, rtol=1e-5)
    assert not shared.logps[mask == 0].any()  # nothing off the completions
    torch.testing.assert_close(trainable_grads(model), full_grads, atol=1e-3, rtol=1e-4)
    assert full_grads.abs().max() > 1  # the gradients are real, not all zero


def test_rows_that_are_not_whole_groups_of_one_prompt_take_the_full_pass():
    prompts, completions, g = grouped_example()
    assert grouped_rows(prompts, completions, 1, 0, "cpu") is None  # no group to share
    assert grouped_rows(prompts[:-1], completions[:-1], g, 0, "cpu") is None  # a group cut
    mixed = [prompts[0], prompts[3], *prompts[2:]]  # a group with two prompts
    assert grouped_rows(mixed, completions, g, 0, "cpu") is None


def test_several_processes_or_gradient_checkpointing_take_the_full_pass():
    model = lora_demo(r=4, alpha=8)
    assert shared_prompt_supported(model, torch.device("cpu"), 1)
    assert not shared_prompt_supported(model, torch.device("cpu"), 2)  # DDP: one forward
    model.gradient_checkpointing_enable()
    assert not shared_prompt_supported(model, torch.device("cpu"), 1)


def _curve(tmp_path, monkeypatch, *, shared: bool) -> list[dict[str, float]]:
    calls = {"shared": 0}
    grouped = grpo.grouped_token_outputs

    def counting(*args, **kwargs):
        calls["shared"] += 1
        return grouped(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(grpo, "grouped_token_outputs", counting)
        if not shared:
            patch.setattr(grpo, "shared_prompt_supported", lambda *a: False)
        from engine.demo import DEMO_MODEL_DIR
        from engine.loading import load_model
        from engine.model_source import ModelSpec

        loaded = load_model(ModelSpec(path=str(DEMO_MODEL_DIR)), "cpu", "float32")
        recorder = Recorder(tmp_path / ("shared" if shared else "full"))
        # No LoRA dropout: with it, a prompt run once draws one dropout mask for its group
        # (the same expected gradient, another draw), and the runs could not be compared.
        settings = online_settings(
            "grpo",
            max_steps=4,
            batch_size=4,
            num_generations=4,
            learning_rate=5e-3,
            lora={"dropout": 0.0},
        )
        torch.manual_seed(0)
        result = train(loaded, demo_prompts(), settings, recorder.hooks, rewards=answer_reward())
    assert result.status == "done"
    assert (calls["shared"] > 0) == shared  # the run went through the pass it says
    return [m for _, m in recorder.train_metrics()]


def test_a_seeded_grpo_run_learns_what_it_learned_with_full_rows(tmp_path, monkeypatch):
    """The same loss and gradient up to float rounding: the first updates, made from the
    same weights, sample and learn the same; later, Adam can turn last-bit differences of
    near-zero gradients into different steps, so the curves may part (as TRL's and ours)."""
    shared = _curve(tmp_path, monkeypatch, shared=True)
    full = _curve(tmp_path, monkeypatch, shared=False)
    assert [m["reward"] for m in shared[:2]] == [m["reward"] for m in full[:2]]
    assert [m["completions/mean_length"] for m in shared[:2]] == [
        m["completions/mean_length"] for m in full[:2]
    ]
    assert shared[0]["reward"] != shared[1]["reward"]  # different samples: a real comparison
    for a, b in zip(shared[:2], full[:2], strict=True):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-5)
    # The first gradient comes from the same weights; Adam's first update already turns
    # rounding of near-zero components into a full learning-rate step (hence step 1 only).
    assert shared[0]["grad_norm"] == pytest.approx(full[0]["grad_norm"], rel=1e-4)
