"""What a comparison shows: per entrant the pass rate of each rule with its 95% Wilson
interval, the mean reward and length; per prompt each entrant's answers and a verdict
against the baseline. Computed from the stored completions and scores, never generated."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.rules.spec import RuleSpec
from workbench.comparing.judged import win_rates
from workbench.comparing.matching import find_completions, scored_completions
from workbench.comparing.reward_scores import reward_source, stored_scores
from workbench.comparing.store import Comparison, Entry
from workbench.data.models import default_model
from workbench.data.prompts import get_prompt
from workbench.project import Project

# z of a two-sided 95% interval: the 97.5th percentile of the standard normal.
Z_95 = 1.959963984540054
# Rewards are sums of weighted floats; closer than this counts as equal.
REWARD_TOLERANCE = 1e-9
VERDICTS = ("improved", "regressed", "unchanged", "all-fail")


def wilson_interval(passed: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a pass rate `passed / n` (Wilson 1927, "Probable
    inference, the law of succession, and statistical inference"). Unlike the normal
    approximation it stays inside [0, 1] and is not empty at 0 or n passes. With no
    trials nothing is known: (0, 1)."""
    if n == 0:
        return (0.0, 1.0)
    p = passed / n
    z2 = z * z
    scale = 1 + z2 / n
    center = (p + z2 / (2 * n)) / scale
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / scale
    return (max(0.0, center - half), min(1.0, center + half))


def weighted_total(specs: Sequence[RuleSpec], scores: dict[str, tuple[float, bool]]) -> float:
    """The reward of one completion from its stored per-rule (score, passed), combined as
    engine.rules.combine does: a failed gate rule zeroes the non-gate rules."""
    enabled = [s for s in specs if s.enabled]
    gated = any(not scores[s.name][1] for s in enabled if s.gate)
    return float(sum(s.weight * scores[s.name][0] for s in enabled if s.gate or not gated))


@dataclass
class Answer:
    """One scored completion of one entrant to one prompt."""

    completion_id: int
    seed: int
    text: str
    num_tokens: int | None
    scores: dict[str, tuple[float, bool]]
    rule_reward: float  # the rules' weighted total: what the verdicts compare
    reward_model: float | None = None  # the comparison's reward model's score, once scored
    rewarded_by_model: bool = False  # whether `reward` is the reward model's

    @property
    def reward(self) -> float | None:
        """The reward shown: the reward model's score when the comparison has one."""
        return self.reward_model if self.rewarded_by_model else self.rule_reward

    def to_dict(self) -> dict[str, Any]:
        return {
            "completion_id": self.completion_id,
            "seed": self.seed,
            "text": self.text,
            "num_tokens": self.num_tokens,
            "passed": {rule: passed for rule, (_, passed) in self.scores.items()},
            "reward": self.reward,
            "rule_reward": self.rule_reward,
        }


@dataclass
class EntrantAnswers:
    entry: Entry
    by_prompt: dict[int, list[Answer]] = field(default_factory=dict)

    def all(self) -> list[Answer]:
        return [a for answers in self.by_prompt.values() for a in answers]


def collect(project: Project, comparison: Comparison) -> list[EntrantAnswers]:
    """Each entrant's scored answers, by prompt, in seed order."""
    names = [s.name for s in comparison.rules if s.enabled]
    collected = []
    for entry in comparison.entries:
        found = find_completions(
            project,
            entry.model_id,
            entry.checkpoint_id,
            comparison.prompt_ids,
            comparison.sampling,
            comparison.seeds,
        )
        scores = scored_completions(project, entry.evaluation_id)
        by_model = _reward_model_scores(project, comparison, [c.id for c in found.values()])
        answers = EntrantAnswers(entry)
        for (prompt_id, seed), completion in sorted(found.items()):
            own = scores.get(completion.id, {})
            if not all(name in own for name in names):
                continue  # not scored yet: a fill that was stopped
            kept = {name: own[name] for name in names}
            answers.by_prompt.setdefault(prompt_id, []).append(
                Answer(
                    completion.id,
                    seed,
                    completion.text,
                    completion.num_tokens,
                    kept,
                    weighted_total(comparison.rules, kept),
                    by_model.get(completion.id),
                    comparison.reward_model_id is not None,
                )
            )
        collected.append(answers)
    return collected


def _reward_model_scores(
    project: Project, comparison: Comparison, completion_ids: list[int]
) -> dict[int, float]:
    if comparison.reward_model_id is None:
        return {}
    return stored_scores(project, comparison.reward_model_id, completion_ids)


def _mean(values: Sequence[float | None]) -> float | None:
    """The mean of the values known (None: not scored yet), None when none is."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def verdict(baseline: list[Answer], answers: list[Answer]) -> str | None:
    """improved / regressed / unchanged by the mean total reward on one prompt, or
    all-fail when no answer of either passes any rule; None when one has no answer yet."""
    if not baseline or not answers:
        return None
    if not any(passed for a in [*baseline, *answers] for _, passed in a.scores.values()):
        return "all-fail"
    base = _mean([a.rule_reward for a in baseline]) or 0.0
    own = _mean([a.rule_reward for a in answers]) or 0.0
    if own > base + REWARD_TOLERANCE:
        return "improved"
    if own < base - REWARD_TOLERANCE:
        return "regressed"
    return "unchanged"


def entrant_figures(
    comparison: Comparison,
    answers: EntrantAnswers,
    baseline: EntrantAnswers,
    default_model_id: int | None,
) -> dict[str, Any]:
    scored = answers.all()
    n = len(scored)
    rules = [s.name for s in comparison.rules if s.enabled]
    passes = {rule: sum(a.scores[rule][1] for a in scored) for rule in rules}
    lengths = [float(a.num_tokens) for a in scored if a.num_tokens is not None]
    figures: dict[str, Any] = {
        "id": answers.entry.cli_id(default_model_id),
        "label": answers.entry.label,
        "model_id": answers.entry.model_id,
        "checkpoint_id": answers.entry.checkpoint_id,
        "evaluation_id": answers.entry.evaluation_id,
        "n": n,
        "expected": len(comparison.prompt_ids) * comparison.seeds,
        "pass_rate": {rule: (passes[rule] / n if n else None) for rule in rules},
        "pass_rate_ci": {rule: list(wilson_interval(passes[rule], n)) for rule in rules},
        "mean_score": {rule: _mean([a.scores[rule][0] for a in scored]) for rule in rules},
        "mean_reward": _mean([a.reward for a in scored]),
        "mean_rule_reward": _mean([a.rule_reward for a in scored]),
        "mean_length_tokens": _mean(lengths),
    }
    if answers is not baseline:
        counts = dict.fromkeys(VERDICTS, 0)
        for prompt_id in comparison.prompt_ids:
            found = verdict(
                baseline.by_prompt.get(prompt_id, []), answers.by_prompt.get(prompt_id, [])
            )
            if found is not None:
                counts[found] += 1
        figures["verdicts"] = counts
    return figures


def prompt_rows(
    project: Project, comparison: Comparison, collected: list[EntrantAnswers]
) -> list[dict[str, Any]]:
    """One row per prompt: each entrant's answers, mean reward and length, and verdict."""
    baseline = collected[0]
    rows = []
    for prompt_id in comparison.prompt_ids:
        prompt = get_prompt(project, prompt_id)
        cells = []
        base_reward = _mean([a.reward for a in baseline.by_prompt.get(prompt_id, [])])
        for answers in collected:
            own = answers.by_prompt.get(prompt_id, [])
            lengths = [float(a.num_tokens) for a in own if a.num_tokens is not None]
            reward = _mean([a.reward for a in own])
            cells.append(
                {
                    "label": answers.entry.label,
                    "answers": [a.to_dict() for a in own],
                    "reward": reward,
                    "reward_delta": None
                    if answers is baseline or reward is None or base_reward is None
                    else reward - base_reward,
                    "length_tokens": _mean(lengths),
                    "verdict": None
                    if answers is baseline
                    else verdict(baseline.by_prompt.get(prompt_id, []), own),
                }
            )
        rows.append(
            {
                "prompt_id": prompt_id,
                "prompt": prompt.display_text,
                "reference": prompt.reference,
                "entrants": cells,
            }
        )
    return rows


def rows_of(project: Project, comparison: Comparison, start: int, stop: int) -> list[dict]:
    """The rows (as `figures(rows=True)` gives them) of prompts start..stop-1 alone: a long
    comparison can be read a slice at a time, each read short."""
    part = dataclasses.replace(comparison, prompt_ids=comparison.prompt_ids[start:stop])
    return prompt_rows(project, part, collect(project, part))


def figures(project: Project, comparison: Comparison, rows: bool = False) -> dict[str, Any]:
    """The comparison's figures per entrant (baseline first), and per prompt with `rows`."""
    collected = collect(project, comparison)
    try:
        default_model_id: int | None = default_model(project).id
    except KeyError:
        default_model_id = None
    result: dict[str, Any] = {
        "comparison_id": comparison.id,
        "name": comparison.name,
        "prompt_set": comparison.prompt_set,
        "prompts": len(comparison.prompt_ids),
        "greedy": comparison.greedy,
        "seeds": comparison.seeds,
        "sampling": comparison.sampling,
        "rules": [s.name for s in comparison.rules if s.enabled],
        "reward": reward_source(project, comparison),
        "models": [
            entrant_figures(comparison, answers, collected[0], default_model_id)
            for answers in collected
        ],
    }
    for position, judged in win_rates(project, comparison).items():
        result["models"][position]["win_rate_vs_baseline"] = judged["win_rate"]
        result["models"][position]["judged_vs_baseline"] = judged["judged"]
    if rows:
        result["rows"] = prompt_rows(project, comparison, collected)
    return result
