"""Rollouts through the lean decode loop: a seeded GRPO run learns exactly what it learned
when rollouts went through generate() (the previous implementation), the sampling
log-probs it keeps are the old policy's log-probs the ratio needs, and DAPO's dynamic
sampling replaces the groups without reward variance and counts them."""

from __future__ import annotations

import pytest
import torch

from engine.training import train
from engine.training.online import dynamic_sampling, rollout
from engine.training.online.algorithms import grpo
from engine.training.online.rewards import Rewards
from engine.training.online.rollout import Rollouts
from tests.engine.training.helpers import Recorder
from tests.engine.training.online.helpers import (
    answer_reward,
    constant_reward,
    demo_prompts,
    online_settings,
)


def _fresh_demo():
    from engine.demo import DEMO_MODEL_DIR
    from engine.loading import load_model
    from engine.model_source import ModelSpec

    return load_model(ModelSpec(path=str(DEMO_MODEL_DIR)), "cpu", "float32")


def _curve(tmp_path, monkeypatch, *, lean: bool) -> list[dict[str, float]]:
    calls = {"lean": 0}
    decode = rollout.decode

    def counting_decode(*args, **kwargs):
        calls["lean"] += 1
        return decode(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(rollout, "decode", counting_decode)
        if not lean:
            patch.setattr(rollout, "lean_decoding_supported", lambda model, device: False)
        recorder = Recorder(tmp_path / ("lean" if lean else "generate"))
        settings = online_settings(
            "grpo", max_steps=4, batch_size=4, num_generations=4, learning_rate=5e-3
        )
        torch.manual_seed(0)
        result = train(
            _fresh_demo(), demo_prompts(), settings, recorder.hooks, rewards=answer_reward()
        )
    assert result.status == "done"
    assert (calls["lean"] > 0) == lean  # the run went through the path it says
    return [m for _, m in recorder.train_metrics()]


def test_a_seeded_grpo_run_learns_what_it_learned_with_generate(tmp_path, monkeypatch):
    lean = _curve(tmp_path, monkeypatch, lean=True)
    before = _curve(tmp_path, monkeypatch, lean=False)
    assert [m["reward"] for m in lean] == [m["reward"] for m in before]
    assert [m["completions/mean_length"] for m in lean] == [
        m["completions/mean_length"] for m in before
    ]
    assert len({m["reward"] for m in lean}) > 1  # the curve moves: it is a real comparison
    for a, b in zip(lean, before, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-5)


def test_sampling_log_probs_are_the_old_policys(demo_loaded, tmp_path, monkeypatch):
    checked = []
    prepare = grpo.GRPO.prepare

    def prepare_and_compare(self, rollouts, rewards):
        batch = prepare(self, rollouts, rewards)
        assert rollouts.logprobs is not None  # the lean loop kept them
        scored = self.score(batch.sequences).logps  # what a second forward pass would give
        on = batch.mask.bool()
        torch.testing.assert_close(batch.old_logps[on], scored[on], atol=1e-4, rtol=1e-4)
        assert not batch.old_logps[~on].any()
        checked.append(int(on.sum()))
        return batch

    monkeypatch.setattr(grpo.GRPO, "prepare", prepare_and_compare)
    settings = online_settings("grpo", num_iterations=2, max_steps=1)
    train(demo_loaded, demo_prompts(), settings, Recorder(tmp_path).hooks, rewards=answer_reward())
    assert checked and all(n > 0 for n in checked)


# --- dynamic sampling -----------------------------------------------------------------


def _rollouts(tag: str, groups: int, g: int = 2) -> Rollouts:
    from engine.training.examples import PromptExample

    n = groups * g
    return Rollouts(
        examples=[PromptExample(f"{tag}{i}", None) for i in range(groups)],
        prompt_ids=[[1]] * n,
        completion_ids=[[i] for i in range(n)],
        texts=[f"{tag}{i // g}.{i % g}" for i in range(n)],
        truncated=[False] * n,
        group_size=g,
    )


def _rewards(totals: list[float]) -> Rewards:
    return Rewards(total=totals, parts={"r": list(totals)}, failures={"r": 1})


class FakeSampler:
    def __init__(self, rounds: list[tuple[Rollouts, Rewards]]):
        self.rounds, self.seen = list(rounds), []

    def sample_prompts(self, indices, seed):
        self.seen.append((tuple(indices), seed))
        return self.rounds[len(self.seen) - 1][0]

    def reward(self, rollouts):
        return next(w for r, w in self.rounds if r is rollouts)


def test_groups_without_reward_variance_are_replaced_and_counted():
    first = (_rollouts("a", 2), _rewards([1.0, 1.0, 0.0, 1.0]))  # a0 flat, a1 informative
    more = (_rollouts("b", 2), _rewards([0.0, 0.0, 1.0, 0.5]))  # b0 flat, b1 informative
    sampler = FakeSampler([more])
    done = dynamic_sampling.refill(sampler, *first, num_prompts=10, seed=0, step=3, micro=0, rank=0)
    assert [e.prompt for e in done.rollouts.examples] == ["a1", "b1"]
    assert done.rollouts.texts == ["a1.0", "a1.1", "b1.0", "b1.1"]
    assert done.rewards.total == [0.0, 1.0, 1.0, 0.5] == done.rewards.parts["r"]
    assert done.rewards.failures == {"r": 2}
    assert (done.dropped, done.extra_rounds, done.unfilled) == (2, 1, 0)
    assert len(sampler.seen[0][0]) == 2 and all(0 <= i < 10 for i in sampler.seen[0][0])
    again = dynamic_sampling.refill(
        FakeSampler([more]), *first, num_prompts=10, seed=0, step=3, micro=0, rank=0
    )
    assert again.rollouts.texts == done.rollouts.texts  # seeded: a resumed run draws the same


def test_a_batch_that_stays_flat_keeps_its_size_after_the_last_round():
    flat = [(_rollouts(t, 2), _rewards([1.0] * 4)) for t in "abcd"]
    done = dynamic_sampling.refill(
        FakeSampler(flat[1:]), *flat[0], num_prompts=10, seed=0, step=0, micro=0, rank=0
    )
    assert done.extra_rounds == dynamic_sampling.MAX_EXTRA_ROUNDS
    assert (done.dropped, done.unfilled) == (8, 2)
    assert [e.prompt for e in done.rollouts.examples] == ["a0", "a1"]


def test_dynamic_sampling_in_a_run_reports_its_counts(demo_loaded, tmp_path):
    recorder = Recorder(tmp_path)
    settings = online_settings("grpo", max_steps=1, dynamic_sampling=True)
    train(demo_loaded, demo_prompts(), settings, recorder.hooks, rewards=constant_reward())
    (_, metrics), *_ = recorder.train_metrics()
    rounds = dynamic_sampling.MAX_EXTRA_ROUNDS
    assert metrics["dynamic_sampling/extra_rounds"] == rounds
    assert metrics["dynamic_sampling/dropped_groups"] == 2 * (1 + rounds)
    assert metrics["dynamic_sampling/unfilled_groups"] == 2
    assert metrics["frac_reward_zero_std"] == 1.0


def test_both_paths_sample_what_the_settings_say_not_the_models_generation_config(
    demo_loaded, monkeypatch
):
    """A model's generation_config (top-k 3, a repetition penalty) and the library's
    defaults (top-k 50) must not leak into rollouts whose settings say top-k 0."""
    model = demo_loaded.model
    model.generation_config.top_k = 3
    model.generation_config.repetition_penalty = 3.0
    from engine.generation import encode_prompts, stop_token_ids

    data = demo_prompts(n_train=4)
    ids = encode_prompts(demo_loaded.tokenizer, [e.prompt for e in data.train_prompts])
    settings = online_settings("grpo", num_generations=8, temperature=3.0)
    call = dict(seed=5, eos_ids=stop_token_ids(demo_loaded), device="cpu")
    args = (model, demo_loaded.tokenizer, data.train_prompts, ids, settings)
    lean = rollout.sample(*args, **call)
    monkeypatch.setattr(rollout, "lean_decoding_supported", lambda model, device: False)
    generated = rollout.sample(*args, **call)
    assert lean.completion_ids == generated.completion_ids
    # At temperature 3 the demo model's top 3 tokens cannot be all it samples.
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids[0]])).logits[0, -1]
    top3 = set(logits.topk(3).indices.tolist())
    assert any(row[0] not in top3 for row in lean.completion_ids)
