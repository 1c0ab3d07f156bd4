"""The phases a run reports through ``TrainHooks.on_phase``: the reference pass counted in
batches, each step's sampling, scoring and training (online) or training (offline) with
its number, evaluations counted as they go, and checkpoints."""

from __future__ import annotations

import dataclasses

from engine.training import train
from engine.training.phases import (
    CHECKPOINTING,
    EVALUATING,
    PHASES,
    REFERENCE,
    SAMPLING,
    SCORING,
    TRAINING,
)
from tests.engine.training.helpers import Recorder, demo_data, fast_settings
from tests.engine.training.online.helpers import answer_reward, demo_prompts, online_settings


def phases_of(recorder: Recorder) -> tuple[list[tuple[str, int, int]], object]:
    seen: list[tuple[str, int, int]] = []
    hooks = dataclasses.replace(
        recorder.hooks, on_phase=lambda phase, done, total: seen.append((phase, done, total))
    )
    return seen, hooks


def test_an_offline_run_reports_its_reference_pass_steps_evaluations_and_checkpoints(
    demo_loaded, tmp_path
):
    seen, hooks = phases_of(Recorder(tmp_path))
    settings = fast_settings(algorithm="dpo", max_steps=4, eval_every=2, checkpoint_every=2)
    result = train(demo_loaded, demo_data(n_train=8, n_eval=4), settings, hooks)
    assert result.status == "done"
    assert {phase for phase, _, _ in seen} <= set(PHASES)
    reference = [(d, t) for p, d, t in seen if p == REFERENCE]
    assert reference[0][0] == 0 and reference[-1][0] == reference[-1][1] > 0
    assert [d for p, d, t in seen if p == TRAINING] == [1, 2, 3, 4]
    assert all(t == 4 for p, _, t in seen if p == TRAINING)
    evaluating = [i for i, (p, _, _) in enumerate(seen) if p == EVALUATING]
    training = [i for i, (p, _, _) in enumerate(seen) if p == TRAINING]
    assert evaluating and training[1] < evaluating[0] < training[2]  # after step 2
    assert [d for p, d, _ in seen if p == CHECKPOINTING] == [2, 4]
    first = seen.index(next(s for s in seen if s[0] == TRAINING))
    assert all(p == REFERENCE for p, _, _ in seen[:first])  # nothing else before step 1


def test_an_online_step_samples_then_scores_then_trains(demo_loaded, tmp_path):
    seen, hooks = phases_of(Recorder(tmp_path))
    settings = online_settings("grpo", num_iterations=1, batch_size=2)
    train(demo_loaded, demo_prompts(), settings, hooks, rewards=answer_reward())
    steps = [(p, d) for p, d, _ in seen if p in (SAMPLING, SCORING, TRAINING)]
    assert steps == [
        (SAMPLING, 1),
        (SCORING, 1),
        (TRAINING, 1),
        (SAMPLING, 2),
        (SCORING, 2),
        (TRAINING, 2),
    ]
    evaluated = [(d, t) for p, d, t in seen if p == EVALUATING and t]
    assert evaluated and all(0 <= d < t for d, t in evaluated)
    assert REFERENCE not in {p for p, _, _ in seen}
