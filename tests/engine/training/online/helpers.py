"""Builders of the online-RL tests: demo prompts with their answers, fast settings, and
reward sources whose behaviour a test controls."""

from __future__ import annotations

from typing import Any

import torch

from engine.demo.task import demo_splits
from engine.rules.spec import RuleSpec
from engine.training.config import TrainSettings
from engine.training.examples import PromptExample
from engine.training.hooks import TrainData
from engine.training.online.rewards import RewardSource, SourceScores, rules_source

ANSWER_RULES = [
    RuleSpec(
        name="format",
        kind="regex",
        weight=0.1,
        gate=True,
        params={"pattern": r"The answer is -?\d+\.", "mode": "fullmatch"},
    ),
    RuleSpec(name="answer", kind="numeric", weight=1.0, params={"extract": "last_number"}),
]


def demo_prompts(n_train: int = 16, n_eval: int = 8) -> TrainData:
    splits = demo_splits()
    train = [
        PromptExample(p.question, str(p.answer), i) for i, p in enumerate(splits["train"][:n_train])
    ]
    evaluation = [PromptExample(p.question, str(p.answer)) for p in splits["eval"][:n_eval]]
    return TrainData(train_prompts=train, eval_prompts=evaluation)


def online_settings(algorithm: str, **overrides: Any) -> TrainSettings:
    values: dict[str, Any] = dict(
        algorithm=algorithm,
        max_steps=2,
        batch_size=2,
        num_generations=4,
        max_completion_length=20,
        learning_rate=1e-3,
        eval_every=0,
        checkpoint_every=0,
        samples_per_eval=0,
        samples_per_step=1,
        eval_prompts=8,
    )
    values.update(overrides)
    return TrainSettings.from_dict(values)


def answer_reward() -> list[RewardSource]:
    return [rules_source(ANSWER_RULES)]


def constant_reward(value: float = 1.0) -> list[RewardSource]:
    return [RewardSource("constant", 1.0, lambda p, c, r: SourceScores([value] * len(c)))]


def grouped_example(g: int = 3) -> tuple[list[list[int]], list[list[int]], int]:
    """Rows of three prompts of different lengths, each repeated for a group of ``g``, with
    random completions of 1-8 tokens: (prompt ids per row, completion ids per row, g)."""
    prompts = [[2, 7, 8, 9], [2, 11, 12, 13, 14, 15, 16], [2, 20]]  # different lengths
    generator = torch.Generator().manual_seed(1)
    completions = [
        torch.randint(6, 100, (int(n),), generator=generator).tolist()
        for n in torch.randint(1, 9, (len(prompts) * g,), generator=generator)
    ]
    return [p for p in prompts for _ in range(g)], completions, g


def trainable_grads(model):
    """Every trainable parameter's gradient, flattened into one tensor."""
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.requires_grad])
