"""DAPO's dynamic sampling (Yu et al. 2025, arXiv 2503.14476, section 3.2): a group whose
completions all got the same reward has zero advantage and teaches nothing, so it is
dropped and other prompts are sampled in its place, a whole micro-batch of prompts per
extra round, until the micro-batch is full again or ``MAX_EXTRA_ROUNDS`` rounds were
drawn. Groups still missing then are filled with dropped ones, so every micro-batch keeps
its size; the counts go to the step's metrics."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Protocol

import torch

from engine.training.online.rewards import Rewards
from engine.training.online.rollout import Rollouts, rollout_seed

MAX_EXTRA_ROUNDS = 3


class Sampler(Protocol):
    def sample_prompts(self, indices: list[int], seed: int) -> Rollouts: ...

    def reward(self, rollouts: Rollouts) -> Rewards: ...


@dataclass
class Refilled:
    rollouts: Rollouts
    rewards: Rewards
    dropped: int  # groups without reward variance, sampled and left out
    extra_rounds: int  # micro-batches of prompts sampled in their place
    unfilled: int  # dropped groups kept because no replacement turned up


def informative_groups(rewards: Rewards, group_size: int) -> list[bool]:
    """(P,) whether each group's rewards differ (by more than 1e-8, as the metrics'
    ``frac_reward_zero_std`` counts)."""
    totals = rewards.total
    groups = [totals[i : i + group_size] for i in range(0, len(totals), group_size)]
    return [len(g) > 1 and not math.isclose(statistics.stdev(g), 0.0, abs_tol=1e-8) for g in groups]


def refill(
    sampler: Sampler,
    rollouts: Rollouts,
    rewards: Rewards,
    *,
    num_prompts: int,
    seed: int,
    step: int,
    micro: int,
    rank: int,
) -> Refilled:
    """The micro-batch with its zero-variance groups replaced (see the module docstring);
    replacement prompts are drawn from ``num_prompts`` under a seed of (seed, step, micro,
    rank, round), so a resumed run draws the same ones."""
    g, size = rollouts.group_size, len(rollouts.examples)
    parts = [(rollouts, rewards)]
    keep = [(0, i) for i, ok in enumerate(informative_groups(rewards, g)) if ok]
    dropped, rounds = size - len(keep), 0
    while len(keep) < size and rounds < MAX_EXTRA_ROUNDS:
        rounds += 1
        round_seed = rollout_seed(seed, step, micro, rank) + rounds * 1_000_033
        generator = torch.Generator().manual_seed(round_seed)
        indices = torch.randperm(num_prompts, generator=generator)[:size].tolist()
        more = sampler.sample_prompts(indices, round_seed)
        more_rewards = sampler.reward(more)
        flags = informative_groups(more_rewards, g)
        dropped += flags.count(False)
        parts.append((more, more_rewards))
        keep += [(len(parts) - 1, i) for i, ok in enumerate(flags) if ok]
    keep = keep[:size]
    unfilled = size - len(keep)
    if unfilled:  # the first dropped groups, so the micro-batch keeps its size
        first = informative_groups(rewards, g)
        keep += [(0, i) for i, ok in enumerate(first) if not ok][:unfilled]
    merged, merged_rewards = _take(parts, keep)
    return Refilled(merged, merged_rewards, dropped, rounds, unfilled)


def _take(parts: list[tuple[Rollouts, Rewards]], keep: list[tuple[int, int]]):
    g = parts[0][0].group_size
    rows = [(k, i * g + j) for k, i in keep for j in range(g)]
    with_logps = all(r.logprobs is not None for r, _ in parts)
    merged = Rollouts(
        examples=[parts[k][0].examples[i] for k, i in keep],
        prompt_ids=[parts[k][0].prompt_ids[r] for k, r in rows],
        completion_ids=[parts[k][0].completion_ids[r] for k, r in rows],
        texts=[parts[k][0].texts[r] for k, r in rows],
        truncated=[parts[k][0].truncated[r] for k, r in rows],
        group_size=g,
        logprobs=[parts[k][0].logprobs[r] for k, r in rows] if with_logps else None,  # type: ignore[index]
    )
    names = list(parts[0][1].parts)
    failures: dict[str, int] = {}
    for _, w in parts:
        for name, count in w.failures.items():
            failures[name] = failures.get(name, 0) + count
    rewards = Rewards(
        total=[parts[k][1].total[r] for k, r in rows],
        parts={name: [parts[k][1].parts[name][r] for k, r in rows] for name in names},
        failures=failures,
    )
    return merged, rewards
