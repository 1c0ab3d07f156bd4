"""Combining rules into one reward.

Semantics (what the GUI explains next to the rule list):

- Only enabled rules are built and scored.
- ``total = Σ weight · score`` over the enabled rules,
- except that when any **gate** rule fails (``passed`` is false), the non-gate rules
  contribute 0 and ``gated`` is true. Gate rules always contribute their own weighted
  score, so a correct answer in the wrong format earns only the format rule's part
  (often 0) and a well-formatted wrong answer earns the format part.
- ``per_rule`` always holds every rule's own, ungated score and reason, so the user
  sees how a gated completion would have scored.
- ``max_total()`` is the largest total reachable: the sum of the positive weights
  (each score is at most 1); divide by it to normalise to [0, 1] when no weight is
  negative.

A rule that raises while scoring (a bug, not a bad completion) gives every item of
the batch 0 with the error as the reason: one broken rule must not stop a training
run, and the reason shows in the samples table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from engine.rules.base import Item, Rule, RuleParamError, RuleScore, as_item, fail
from engine.rules.registry import make_rule
from engine.rules.spec import RuleSpec


@dataclass(frozen=True)
class Combined:
    """The combined reward of one completion: ``total``, each rule's own score by rule
    name (ungated), and whether a gate rule failed."""

    total: float
    per_rule: dict[str, RuleScore]
    gated: bool


def check_names(specs: Iterable[RuleSpec]) -> None:
    """RuleParamError for an empty or duplicate rule name (disabled rules included:
    names are the keys of stored rewards)."""
    seen: set[str] = set()
    for spec in specs:
        if not spec.name or not spec.name.strip():
            raise RuleParamError("name", "every rule needs a name")
        if spec.name in seen:
            raise RuleParamError(
                "name", "two rules have this name; names must be unique", rule=spec.name
            )
        seen.add(spec.name)


class RuleSet:
    """The enabled rules of ``specs``, built once and scored together.

    ``count_tokens`` counts tokens for ``length`` rules in unit "tokens".
    """

    def __init__(
        self, specs: Sequence[RuleSpec], count_tokens: Callable[[str], int] | None = None
    ) -> None:
        check_names(specs)
        self.specs = [spec for spec in specs if spec.enabled]
        self.rules: dict[str, Rule] = {
            spec.name: make_rule(spec, count_tokens) for spec in self.specs
        }

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.specs]

    def max_total(self) -> float:
        return sum(max(spec.weight, 0.0) for spec in self.specs)

    def min_total(self) -> float:
        return sum(min(spec.weight, 0.0) for spec in self.specs)

    def score(
        self, completion: str, reference: str | None = None, prompt: str | None = None
    ) -> Combined:
        return self.score_batch([Item(completion, reference, prompt)])[0]

    def score_batch(self, items: Iterable[Item | tuple]) -> list[Combined]:
        """One ``Combined`` per item. Each rule scores the whole batch at once, so the
        sandboxed kinds run their items in parallel."""
        batch = [as_item(item) for item in items]
        scores = {name: self._run(name, rule, batch) for name, rule in self.rules.items()}
        return [
            self._combine({name: s[i] for name, s in scores.items()}) for i in range(len(batch))
        ]

    def _run(self, name: str, rule: Rule, items: list[Item]) -> list[RuleScore]:
        try:
            scores = rule.score_batch(items)
        except Exception as error:  # see the module docstring
            return [fail(f"rule error: {type(error).__name__}: {error}")] * len(items)
        if len(scores) != len(items):
            return [fail(f"rule error: {len(scores)} scores for {len(items)} items")] * len(items)
        return scores

    def _combine(self, per_rule: dict[str, RuleScore]) -> Combined:
        gates = [spec for spec in self.specs if spec.gate]
        gated = any(not per_rule[spec.name].passed for spec in gates)
        total = sum(
            spec.weight * per_rule[spec.name].score for spec in self.specs if spec.gate or not gated
        )
        return Combined(float(total), per_rule, gated)
