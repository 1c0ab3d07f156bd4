"""A training dataset built from the project's labels: preference pairs (DPO, SimPO,
ORPO, reward models) and unpaired examples (KTO), with counts for the user and a small
snapshot of the label ids for the run that trains on it.

Rules: only active labels (not superseded); a ranking of N gives its N*(N-1)/2 pairs; a
tie gives no pair; both-bad gives two undesirable unpaired examples; every pair also
gives its chosen completion as desirable and its rejected one as undesirable, so KTO
trains on pairwise labels too. Identical, contradictory and repeated examples are
dropped and counted (see `cleaning`). The order follows the label ids, so the same labels
always give the same dataset and the same hash.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.training.examples import PairExample, Prompt, UnpairedExample, examples_hash
from workbench.data.preference_data.candidates import (
    PairCandidate,
    UnpairedCandidate,
    unpaired_from_pair,
    winner_loser_ids,
)
from workbench.data.preference_data.cleaning import clean_pairs, clean_unpaired, prompt_key
from workbench.data.preference_data.labels import LabelRows, load_label_rows
from workbench.labels.comparisons import SOURCES, Comparison
from workbench.project import Project

SPLITS = (None, "train", "eval")


@dataclass
class LabelDataset:
    pairs: list[PairExample]
    unpaired: list[UnpairedExample]
    counts: dict[str, Any]
    snapshot: dict[str, Any]  # JSON-able, small: label ids and the filters, no texts
    hash: str


@dataclass(frozen=True)
class Selection:
    """Which labels a dataset takes: by source, by confidence, by the prompt's split, and
    by when they were made (`since`, a Unix time: the labels gathered since a run)."""

    sources: tuple[str, ...] = SOURCES
    min_confidence: float | None = None
    split: str | None = None
    since: float | None = None

    def __post_init__(self):
        unknown = [s for s in self.sources if s not in SOURCES]
        if unknown or not self.sources:
            raise ValueError(
                f"sources must be some of {', '.join(SOURCES)}, not {unknown or 'none'}"
            )
        if self.split not in SPLITS:
            raise ValueError(f"split must be 'train', 'eval' or None, not {self.split!r}")

    def admits(self, source: str, confidence: float | None, made: float | None = None) -> bool:
        # A label without a confidence (a human's) always passes the threshold.
        if source not in self.sources:
            return False
        if self.since is not None and (made is None or made < self.since):
            return False
        return (
            self.min_confidence is None or confidence is None or confidence >= self.min_confidence
        )

    def admits_split(self, split: str) -> bool:
        # "train" is everything not held out for evaluation (a user's own split names too).
        if self.split is None:
            return True
        return (split == "eval") == (self.split == "eval")


@dataclass
class _Walk:
    """What the labels give before cleaning, in label order."""

    pairs: list[PairCandidate] = field(default_factory=list)
    # per comparison, in order: an index into `pairs`, or a both-bad unpaired example
    events: list[int | UnpairedCandidate] = field(default_factory=list)
    labelled: list[UnpairedCandidate] = field(default_factory=list)  # completion labels
    counts: Counter = field(default_factory=Counter)
    by_source: Counter = field(default_factory=Counter)
    comparison_ids: list[int] = field(default_factory=list)
    label_ids: list[int] = field(default_factory=list)


def build_dataset(
    project: Project,
    *,
    sources: Iterable[str] = SOURCES,
    min_confidence: float | None = None,
    split: str | None = None,
    since: float | None = None,
) -> LabelDataset:
    """The dataset of the project's active labels that pass the filters (see module doc).

    `split="train"` keeps examples whose prompt is not in the "eval" split, `"eval"`
    those whose prompt is; None keeps all. `since` (a Unix time) keeps only the labels
    made from then on. Raises ValueError for an unknown source or split.
    """
    sources = (sources,) if isinstance(sources, str) else tuple(dict.fromkeys(sources))
    selection = Selection(sources, min_confidence, split, since)
    walk = _walk(load_label_rows(project), selection)
    pairs = clean_pairs(walk.pairs)
    unpaired = clean_unpaired(_unpaired_candidates(walk, pairs.usable))
    counts = {
        "pairs": len(pairs.pairs),
        "unpaired": len(unpaired.examples),
        "ties": walk.counts["ties"],
        "both_bad": walk.counts["both_bad"],
        "duplicates": pairs.duplicates,
        "identical": pairs.identical,
        "conflicts": pairs.conflicts,
        "unpaired_duplicates": unpaired.duplicates,
        "unpaired_conflicts": unpaired.conflicts,
        "filtered_out": walk.counts["filtered_out"],
        "by_source": {s: walk.by_source[s] for s in selection.sources},
        "prompts": count_prompts(pairs.pairs, unpaired.examples),
    }
    snapshot = {
        "comparison_ids": walk.comparison_ids,
        "completion_label_ids": walk.label_ids,
        "sources": list(selection.sources),
        "min_confidence": min_confidence,
        "split": split,
        "since": since,
        "counts": dict(counts),
    }
    return LabelDataset(
        pairs.pairs,
        unpaired.examples,
        counts,
        snapshot,
        dataset_hash(pairs.pairs, unpaired.examples),
    )


def _walk(rows: LabelRows, selection: Selection) -> _Walk:
    walk = _Walk()
    for comparison in rows.comparisons:
        prompt = rows.prompts[comparison.prompt_id]
        made = rows.comparison_times.get(comparison.id)
        if _take(walk, selection, prompt.split, comparison.source, comparison.confidence, made):
            walk.comparison_ids.append(comparison.id)
            _add_comparison(walk, comparison, prompt.value, rows)
    for label in rows.labels:
        completion = rows.completions[label.completion_id]
        prompt = rows.prompts[completion.prompt_id]
        made = rows.label_times.get(label.id)
        if _take(walk, selection, prompt.split, label.source, label.confidence, made):
            walk.label_ids.append(label.id)
            walk.labelled.append(UnpairedCandidate(prompt.value, completion.text, label.desirable))
    return walk


def _take(
    walk: _Walk,
    selection: Selection,
    split: str,
    source: str,
    confidence: float | None,
    made: float | None,
) -> bool:
    """Whether a label is used, counting it by source or as filtered out. Labels of the
    other split are not counted: they belong to the other dataset, not filtered away."""
    if not selection.admits_split(split):
        return False
    if not selection.admits(source, confidence, made):
        walk.counts["filtered_out"] += 1
        return False
    walk.by_source[source] += 1
    return True


_COUNTED = {"tie": "ties", "both_bad": "both_bad"}


def _add_comparison(walk: _Walk, comparison: Comparison, prompt: Prompt, rows: LabelRows) -> None:
    text = {i: rows.completions[i].text for i in comparison.completion_ids}
    if comparison.outcome in _COUNTED:
        walk.counts[_COUNTED[comparison.outcome]] += 1
    if comparison.outcome == "both_bad":
        walk.events += [
            UnpairedCandidate(prompt, text[i], False) for i in comparison.completion_ids
        ]
    for winner, loser in winner_loser_ids(comparison):
        walk.events.append(len(walk.pairs))
        walk.pairs.append(PairCandidate(comparison.id, prompt, text[winner], text[loser]))


def _unpaired_candidates(walk: _Walk, usable: list[bool]) -> list[UnpairedCandidate]:
    """Both-bad examples and those of usable pairs in label order, then completion labels."""
    out: list[UnpairedCandidate] = []
    for event in walk.events:
        if isinstance(event, UnpairedCandidate):
            out.append(event)
        elif usable[event]:
            out += unpaired_from_pair(walk.pairs[event])
    return out + walk.labelled


def count_prompts(pairs: list[PairExample], unpaired: list[UnpairedExample]) -> int:
    examples: list[PairExample | UnpairedExample] = [*pairs, *unpaired]
    return len({prompt_key(e.prompt) for e in examples})


def dataset_hash(pairs: list[PairExample], unpaired: list[UnpairedExample]) -> str:
    """One hash for both parts: a run trains on either, and either may change."""
    both = f"pairs {examples_hash(pairs)}\nunpaired {examples_hash(unpaired)}\n"
    return hashlib.sha256(both.encode("ascii")).hexdigest()
