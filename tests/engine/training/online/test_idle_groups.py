"""GRPO leaves the groups whose rewards are all equal out of its forward and backward pass
when they cannot change the update (on-policy, beta 0): the same loss, the same gradients
and the same statistics as running every row, in less work."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from engine.training.online.algorithms import grpo
from engine.training.online.algorithms.grpo import GRPO, GroupBatch
from engine.training.online.forward import rollout_batch
from engine.training.online.shared_prompt import grouped_rows
from tests.engine.training.helpers import lora_demo
from tests.engine.training.online.helpers import (
    grouped_example,
    online_settings,
    trainable_grads,
)

# Group 0 all wrong, group 1 mixed, group 2 all 0.1 (whose mean is not exactly 0.1 in float).
REWARDS = [0.0, 0.0, 0.0, 1.1, 0.0, 0.1, 0.1, 0.1, 0.1]


def _algorithm(model, **overrides) -> GRPO:
    settings = online_settings(
        "grpo", num_generations=3, beta=0.0, grpo_loss_type="dapo", **overrides
    )
    run = SimpleNamespace(
        ddp_model=model,
        device=torch.device("cpu"),
        pad_id=0,
        accelerator=SimpleNamespace(process_index=0, num_processes=1),
    )
    return GRPO(settings, run)


def _batch(shared: bool) -> GroupBatch:
    prompts, completions, g = grouped_example()
    sequences, mask = rollout_batch(prompts, completions, 0, "cpu")
    rewards = torch.tensor(REWARDS)
    grouped = grouped_rows(prompts, completions, g, 0, "cpu") if shared else None
    return GroupBatch(sequences, mask, rewards, None, None, grouped=grouped)


def _update(model, algorithm: GRPO, batch: GroupBatch, *, skip: bool):
    model.zero_grad()
    if not skip:
        algorithm.rows_to_run = lambda b: None  # type: ignore[method-assign]
    algorithm.finalize([batch])
    objective = algorithm.objective(batch)
    objective.loss.backward()
    return objective, trainable_grads(model).clone()


@pytest.mark.parametrize("shared", [True, False], ids=["shared-prompt", "full-rows"])
def test_equal_reward_groups_are_not_run_and_the_update_is_the_same(shared, monkeypatch):
    model = lora_demo(r=4, alpha=8)
    model.train()
    batch = _batch(shared)
    ran: list[int] = []
    passes = {True: "grouped_token_outputs", False: "token_outputs"}
    real = getattr(grpo, passes[shared])

    def counting(model, rows, **kwargs):
        ran.append(int((rows.completion_ids if shared else rows.input_ids).shape[0]))
        return real(model, rows, **kwargs)

    monkeypatch.setattr(grpo, passes[shared], counting)
    algorithm = _algorithm(model)
    assert algorithm.rows_to_run(batch).tolist() == [3, 4, 5]  # only the mixed group
    every, every_grads = _update(model, _algorithm(model), batch, skip=False)
    kept, kept_grads = _update(model, algorithm, batch, skip=True)
    assert ran == [9, 3]
    assert float(kept.loss.detach()) == pytest.approx(float(every.loss.detach()), abs=1e-7)
    assert every_grads.abs().max() > 0.01  # a real update to compare
    # Batches of 9 and 3 rows sum in another order: float32 rounding, relative to the
    # gradient's size (measured up to 1e-5 of it), where a group left out wrongly would
    # differ by the size of the gradient itself.
    scale = float(every_grads.abs().max())
    torch.testing.assert_close(kept_grads, every_grads, atol=1e-4 * scale, rtol=1e-5)
    for name in ("clip_ratio/region_mean", "clip_ratio/low_mean"):
        assert float(kept.stats[name]) == float(every.stats[name])
    # The entropy is reported over the rows that ran (the mixed group's).
    rows = torch.tensor([3, 4, 5])
    torch.testing.assert_close(
        kept.stats["entropy"],
        kept.stats["entropy"].new_tensor(float(_entropy_of(model, batch, rows))),
        atol=1e-5,
        rtol=1e-5,
    )


def _entropy_of(model, batch: GroupBatch, rows: torch.Tensor) -> float:
    from engine.losses.policy_stats import token_mean
    from engine.training.online.forward import token_outputs

    with torch.no_grad():
        out = token_outputs(model, batch.sequences, entropy=True)
    assert out.entropy is not None
    return float(token_mean(out.entropy[rows], batch.mask[rows]))


def test_every_row_runs_off_policy_with_a_kl_term_or_when_no_group_varies():
    model = lora_demo(r=4, alpha=8)
    batch = _batch(shared=True)
    algorithm = _algorithm(model)
    off_policy = GroupBatch(batch.sequences, batch.mask, batch.rewards, batch.mask * 0, None)
    assert algorithm.rows_to_run(off_policy) is None  # the ratio is not 1 there
    with_kl = GroupBatch(batch.sequences, batch.mask, batch.rewards, None, batch.mask * 0)
    assert algorithm.rows_to_run(with_kl) is None  # the KL term has a gradient there
    flat = GroupBatch(batch.sequences, batch.mask, torch.zeros(9), None, None)
    assert algorithm.rows_to_run(flat) is None  # AdamW still steps every weight
    varied = GroupBatch(batch.sequences, batch.mask, torch.arange(9.0), None, None)
    assert algorithm.rows_to_run(varied) is None  # nothing to leave out
