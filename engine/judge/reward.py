"""A judge as a reward for online RL: plain callables over batches of prompts and texts.

A failed judgement gives None, never a made-up number: the trainer decides what a
missing reward means (drop the sample, or count it as zero).
"""

from __future__ import annotations

from collections.abc import Callable

from engine.errors import EngineError
from engine.judge.base import Judge, PairItem, PointItem, Prompt

PointReward = Callable[[list[Prompt], list[str]], list[float | None]]
PairPreference = Callable[[list[Prompt], list[str], list[str]], list[float | None]]


def _same_lengths(*lists: list) -> None:
    sizes = [len(items) for items in lists]
    if len(set(sizes)) > 1:
        raise EngineError(
            f"The judge was given lists of different lengths {sizes}.",
            "Pass one prompt per completion (this is a bug in the caller).",
        )


def pointwise_reward(judge: Judge) -> PointReward:
    """reward(prompts, completions) -> the judge's score of each completion, in [0, 1]."""

    def reward(prompts: list[Prompt], completions: list[str]) -> list[float | None]:
        _same_lengths(prompts, completions)
        scores = judge.score([PointItem(p, c) for p, c in zip(prompts, completions, strict=True)])
        return [s.value if s.ok else None for s in scores]

    return reward


def pair_preference(judge: Judge) -> PairPreference:
    """preference(prompts, firsts, seconds) -> P(first is better) for each pair."""

    def preference(
        prompts: list[Prompt], firsts: list[str], seconds: list[str]
    ) -> list[float | None]:
        _same_lengths(prompts, firsts, seconds)
        items = [PairItem(p, a, b) for p, a, b in zip(prompts, firsts, seconds, strict=True)]
        return [v.prob_first if v.ok else None for v in judge.compare(items)]

    return preference
