"""The reward function online RL calls: lists in, per-completion rewards out.

``make_reward_fn(specs)`` builds the rules once; each call scores one batch of
completions, every rule over the whole batch (sandboxed kinds in parallel), and
combines them as ``engine.rules.combine`` describes. ``per_rule`` holds each rule's own
(ungated) scores, as TRL logs one curve per reward function; ``total`` is the gated sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.rules.base import Item
from engine.rules.combine import RuleSet
from engine.rules.spec import RuleSpec


@dataclass(frozen=True)
class RewardBatch:
    """Rewards of one batch, every list in the order of the completions given.

    ``total``: the combined reward; ``per_rule`` / ``reasons`` / ``passed``: by rule
    name, each rule's score, reason and verdict; ``gated``: whether a gate rule failed.
    """

    total: list[float]
    per_rule: dict[str, list[float]]
    reasons: dict[str, list[str]]
    passed: dict[str, list[bool]]
    gated: list[bool]


class RewardFn:
    """Callable: ``reward_fn(prompts, completions, references) -> RewardBatch``."""

    def __init__(
        self, specs: Sequence[RuleSpec], count_tokens: Callable[[str], int] | None = None
    ) -> None:
        self.rule_set = RuleSet(specs, count_tokens=count_tokens)

    @property
    def names(self) -> list[str]:
        return self.rule_set.names

    def max_total(self) -> float:
        return self.rule_set.max_total()

    def __call__(
        self,
        prompts: Sequence[str],
        completions: Sequence[str],
        references: Sequence[str | None] | None = None,
    ) -> RewardBatch:
        if references is None:
            references = [None] * len(completions)
        if not len(prompts) == len(completions) == len(references):
            raise ValueError(
                f"prompts, completions and references differ in length "
                f"({len(prompts)}, {len(completions)}, {len(references)})"
            )
        items = [Item(c, r, p) for p, c, r in zip(prompts, completions, references, strict=True)]
        combined = self.rule_set.score_batch(items)
        names = self.names
        return RewardBatch(
            total=[c.total for c in combined],
            per_rule={n: [c.per_rule[n].score for c in combined] for n in names},
            reasons={n: [c.per_rule[n].reason for c in combined] for n in names},
            passed={n: [c.per_rule[n].passed for c in combined] for n in names},
            gated=[c.gated for c in combined],
        )


def make_reward_fn(
    specs: Sequence[RuleSpec], count_tokens: Callable[[str], int] | None = None
) -> RewardFn:
    """Build the rules of ``specs`` (enabled ones) into a reward function; raises
    ``RuleParamError`` for an invalid rule before any training starts."""
    return RewardFn(specs, count_tokens=count_tokens)
