"""From one label to the examples it stands for, before any cleaning (pure functions).

A comparison's `completion_ids` are in the order shown: outcome `a` means the first
won, `b` the second. A ranking (best first) of N completions says N*(N-1)/2 things: each
completion beats every one ranked below it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from engine.training.examples import Prompt
from workbench.labels.comparisons import Comparison


@dataclass(frozen=True)
class PairCandidate:
    comparison_id: int
    prompt: Prompt
    chosen: str
    rejected: str


@dataclass(frozen=True)
class UnpairedCandidate:
    prompt: Prompt
    completion: str
    desirable: bool


def winner_loser_ids(comparison: Comparison) -> list[tuple[int, int]]:
    """(winner, loser) completion ids, in the order the label states them; none for a
    tie or both-bad."""
    ids = comparison.completion_ids
    if comparison.outcome == "a":
        return [(ids[0], ids[1])]
    if comparison.outcome == "b":
        return [(ids[1], ids[0])]
    if comparison.outcome == "ranking":
        return list(itertools.combinations(comparison.ranking or [], 2))
    return []


def unpaired_from_pair(pair: PairCandidate) -> list[UnpairedCandidate]:
    """A pair seen by KTO: the chosen completion desirable, the rejected one not."""
    return [
        UnpairedCandidate(pair.prompt, pair.chosen, True),
        UnpairedCandidate(pair.prompt, pair.rejected, False),
    ]
