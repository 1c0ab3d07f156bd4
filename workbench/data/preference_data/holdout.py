"""An evaluation set carved out of a dataset by prompt, for projects whose labels are
all on training prompts.

Whole prompts move, with all their examples: a prompt with examples on both sides
would let the eval loss reward memorising it. Which prompts move depends only on the
seed and the prompt's content, not on label order, so the same labels give the same
split, and a prompt that was held out mostly stays held out as labels are added.
"""

from __future__ import annotations

import hashlib

from engine.training.examples import PairExample, UnpairedExample
from workbench.data.preference_data.cleaning import prompt_key
from workbench.data.preference_data.dataset import LabelDataset, count_prompts, dataset_hash


def hold_out(
    dataset: LabelDataset, fraction: float, seed: int = 0
) -> tuple[LabelDataset, LabelDataset]:
    """(train, eval): about `fraction` of the dataset's prompts, at least one and never
    all of them (a dataset of fewer than two prompts gives an empty eval set).

    The parts keep the label counts of the whole build (ties, duplicates, ...) and get
    their own pairs, unpaired, prompts counts, snapshot entry `hold_out` and hash."""
    if not 0 < fraction < 1:
        raise ValueError(f"the held-out fraction must be between 0 and 1, not {fraction}")
    examples: list[PairExample | UnpairedExample] = [*dataset.pairs, *dataset.unpaired]
    prompts = {prompt_key(e.prompt) for e in examples}
    ranked = sorted(prompts, key=lambda p: hashlib.sha256(f"{seed}\n{p}".encode()).hexdigest())
    n = len(ranked)
    held = set(ranked[: min(n - 1, max(1, round(fraction * n)))]) if n >= 2 else set()
    parts = []
    for name, in_part in (
        ("train", lambda e: prompt_key(e.prompt) not in held),
        ("eval", lambda e: prompt_key(e.prompt) in held),
    ):
        pairs = [e for e in dataset.pairs if in_part(e)]
        unpaired = [e for e in dataset.unpaired if in_part(e)]
        counts = {
            **dataset.counts,
            "pairs": len(pairs),
            "unpaired": len(unpaired),
            "prompts": count_prompts(pairs, unpaired),
        }
        snapshot = {
            **dataset.snapshot,
            "counts": counts,
            "hold_out": {"fraction": fraction, "seed": seed, "part": name},
        }
        parts.append(LabelDataset(pairs, unpaired, counts, snapshot, dataset_hash(pairs, unpaired)))
    return parts[0], parts[1]
