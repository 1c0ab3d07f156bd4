"""Dropping what should not train a model: identical pairs, contradictions, repeats.

Labels that contradict each other (A beats B, and B beats A, for the same prompt and
texts; or one completion labelled both desirable and undesirable) are all dropped: a
user expects contradictory labels not to train the model, and keeping one would let
label order decide. Repeats of the same content are kept once, so labelling a pair twice
(or a prompt that appears twice in the project) does not weigh it double.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from engine.training.examples import PairExample, Prompt, UnpairedExample, content_key
from workbench.data.preference_data.candidates import PairCandidate, UnpairedCandidate


def prompt_key(prompt: Prompt) -> str:
    """The identity of a prompt's content: text, or messages whatever their key order."""
    return json.dumps(prompt, sort_keys=True, ensure_ascii=False)


@dataclass
class CleanPairs:
    usable: list[bool]  # per candidate: neither identical nor contradicted
    pairs: list[PairExample]  # the usable ones, each content once, in candidate order
    identical: int
    conflicts: int
    duplicates: int


def clean_pairs(candidates: list[PairCandidate]) -> CleanPairs:
    identical = [c.chosen == c.rejected for c in candidates]
    winners: dict[tuple, set[str]] = defaultdict(set)
    for c, same in zip(candidates, identical, strict=True):
        if not same:
            winners[_unordered(c)].add(c.chosen)
    contradicted = {k for k, texts in winners.items() if len(texts) > 1}
    usable = [
        not same and _unordered(c) not in contradicted
        for c, same in zip(candidates, identical, strict=True)
    ]
    pairs, seen, duplicates = [], set(), 0
    for c, ok in zip(candidates, usable, strict=True):
        if not ok:
            continue
        key = content_key(c.prompt, c.chosen, c.rejected)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        pairs.append(PairExample(key=key, prompt=c.prompt, chosen=c.chosen, rejected=c.rejected))
    conflicts = sum(
        1
        for c, same in zip(candidates, identical, strict=True)
        if not same and _unordered(c) in contradicted
    )
    return CleanPairs(usable, pairs, sum(identical), conflicts, duplicates)


def _unordered(c: PairCandidate) -> tuple:
    return prompt_key(c.prompt), frozenset((c.chosen, c.rejected))


@dataclass
class CleanUnpaired:
    examples: list[UnpairedExample]
    conflicts: int
    duplicates: int


def clean_unpaired(candidates: list[UnpairedCandidate]) -> CleanUnpaired:
    verdicts: dict[tuple[str, str], set[bool]] = defaultdict(set)
    for c in candidates:
        verdicts[prompt_key(c.prompt), c.completion].add(c.desirable)
    examples, seen, conflicts, duplicates = [], set(), 0, 0
    for c in candidates:
        if len(verdicts[prompt_key(c.prompt), c.completion]) > 1:
            conflicts += 1
            continue
        key = content_key(c.prompt, c.completion, "desirable" if c.desirable else "undesirable")
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        examples.append(
            UnpairedExample(
                key=key, prompt=c.prompt, completion=c.completion, desirable=c.desirable
            )
        )
    return CleanUnpaired(examples, conflicts, duplicates)
