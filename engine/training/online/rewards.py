"""The reward of online RL: weighted sources (the project's rules, a trained reward
model, an AI judge), each scoring a batch of completions, combined into one number per
completion, with each source's own values kept for the ``rewards/<name>/...`` curves.

Plain Python (no torch): the application builds the sources, the loop calls them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from engine.training.examples import Prompt


@dataclass
class SourceScores:
    """A source's reward per completion (None: it could not score that one, e.g. a judge
    error; it then counts 0 and is reported), and named parts for the charts."""

    values: list[float | None]
    parts: dict[str, list[float]] = field(default_factory=dict)


ScoreFn = Callable[[Sequence[Prompt], Sequence[str], Sequence[str | None]], SourceScores]


@dataclass(frozen=True)
class RewardSource:
    name: str
    weight: float
    score: ScoreFn


@dataclass
class Rewards:
    total: list[float]  # (N,) the weighted sum the advantages are computed from
    parts: dict[str, list[float]]  # curve name -> (N,) values
    failures: dict[str, int]  # source name -> completions it could not score


def combine(
    sources: Sequence[RewardSource],
    prompts: Sequence[Prompt],
    completions: Sequence[str],
    references: Sequence[str | None],
) -> Rewards:
    total = [0.0] * len(completions)
    parts: dict[str, list[float]] = {}
    failures: dict[str, int] = {}
    for source in sources:
        scored = source.score(prompts, completions, references)
        if len(scored.values) != len(completions):
            raise ValueError(
                f"reward source {source.name} gave {len(scored.values)} values for "
                f"{len(completions)} completions"
            )
        # A NaN or infinite reward would poison every advantage of its batch: it counts as
        # unscored (0) and is reported, like a judge's error.
        usable = [v if v is not None and math.isfinite(v) else None for v in scored.values]
        values = [0.0 if v is None else float(v) for v in usable]
        failures[source.name] = usable.count(None)
        total = [t + source.weight * v for t, v in zip(total, values, strict=True)]
        if scored.parts:
            parts.update(scored.parts)
        else:
            parts[source.name] = values
    return Rewards(total, parts, failures)


def rules_source(
    specs,
    count_tokens: Callable[[str], int] | None = None,
    weight: float = 1.0,
    name: str = "rules",
) -> RewardSource:
    """The rules of ``engine.rules`` (gated, weighted sum); each rule is its own curve.
    At weight 0 they only watch: their curves are reported, the reward is unchanged."""
    from engine.rules.reward import make_reward_fn

    reward_fn = make_reward_fn(specs, count_tokens=count_tokens)

    def score(prompts, completions, references) -> SourceScores:
        batch = reward_fn(list(prompts), list(completions), list(references))
        return SourceScores(list(batch.total), {n: list(v) for n, v in batch.per_rule.items()})

    return RewardSource(name, weight, score)


def judge_source(judge, weight: float = 1.0) -> RewardSource:
    """An AI judge's pointwise score (0-1) per completion; a failed judgement is None."""
    from engine.judge.base import PointItem

    def score(prompts, completions, references) -> SourceScores:
        results = judge.score([PointItem(p, c) for p, c in zip(prompts, completions, strict=True)])
        return SourceScores([r.value if r.ok else None for r in results])

    return RewardSource("judge", weight, score)
