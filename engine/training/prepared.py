"""A run's data ready for the loop: tokenized, too-long examples set aside and counted,
reference log-probs attached; and the objective of any subset of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from engine.errors import EngineError
from engine.training.batching import kl_batch, pair_batch, unpaired_batch
from engine.training.config import TrainSettings
from engine.training.encode import encode_pairs, encode_unpaired
from engine.training.examples import PairExample, UnpairedExample
from engine.training.objectives import (
    Objective,
    PairReference,
    UnpairedReference,
    dpo_objective,
    kto_objective,
    orpo_objective,
    reward_objective,
    simpo_objective,
)


@dataclass
class Split:
    examples: list  # EncodedPair or EncodedUnpaired
    reference: list[tuple[float, float]] | None = None  # per example, see reference_sequences
    too_long: list = field(default_factory=list)

    def partner(self, i: int) -> int:
        """KTO's mismatched completion for example i: the next example's (fixed, so the
        reference value of the mismatched pair can be cached)."""
        return (i + 1) % len(self.examples)


def encode_split(
    tokenizer, settings: TrainSettings, pairs: list[PairExample], unpaired: list[UnpairedExample]
) -> Split:
    if settings.algorithm == "kto":
        kept, too_long = encode_unpaired(tokenizer, unpaired, settings.max_length)
    else:
        kept, too_long = encode_pairs(tokenizer, pairs, settings.max_length)
    return Split(kept, None, too_long)


def check_trainable(train: Split, settings: TrainSettings) -> None:
    if train.examples:
        return
    what = "desirable/undesirable examples" if settings.algorithm == "kto" else "preference pairs"
    if train.too_long:
        raise EngineError(
            f"All {len(train.too_long)} {what} are longer than max_length "
            f"({settings.max_length} tokens), so there is nothing to train on.",
            "Raise max_length, or label shorter completions.",
        )
    raise EngineError(
        f"There are no {what} to train on.",
        "Label some completions first (Label view, an AI judge, or rules).",
    )


def reference_sequences(split: Split, kto: bool) -> list[tuple[list[int], list[int]]]:
    """Two sequences per example: (chosen, rejected), or KTO's (completion, mismatched)."""
    seqs = []
    for i, ex in enumerate(split.examples):
        if kto:
            partner = split.examples[split.partner(i)]
            seqs += [(ex.prompt_ids, ex.completion_ids), (ex.prompt_ids, partner.completion_ids)]
        else:
            seqs += [(ex.prompt_ids, ex.chosen_ids), (ex.prompt_ids, ex.rejected_ids)]
    return seqs


def attach_reference(split: Split, values: list[float]) -> None:
    split.reference = [(values[2 * i], values[2 * i + 1]) for i in range(len(split.examples))]


def split_objective(
    model,
    split: Split,
    indices: list[int],
    settings: TrainSettings,
    *,
    pad_id: int,
    device,
    gather_mean: Callable[[torch.Tensor], torch.Tensor],
) -> Objective:
    """The objective of ``split.examples[indices]`` under ``settings.algorithm``."""
    rows = [split.examples[i] for i in indices]
    algorithm = settings.algorithm
    if algorithm == "kto":
        partners = [split.examples[split.partner(i)] for i in indices]
        ref = _reference(split, indices, device)
        desirable = torch.tensor([r.desirable for r in rows], device=device)
        return kto_objective(
            model,
            unpaired_batch(rows, pad_id).to(device),
            kl_batch(rows, partners, pad_id).to(device),
            desirable,
            UnpairedReference(ref[:, 0], ref[:, 1]),
            settings,
            gather_mean,
        )
    batch = pair_batch(rows, pad_id).to(device)
    if algorithm in ("dpo", "ipo"):
        ref = _reference(split, indices, device)
        return dpo_objective(model, batch, PairReference(ref[:, 0], ref[:, 1]), settings)
    if algorithm == "simpo":
        return simpo_objective(model, batch, settings)
    if algorithm == "orpo":
        return orpo_objective(model, batch, settings)
    margin = torch.tensor([r.margin or 0.0 for r in rows], device=device)
    return reward_objective(model, batch, margin, settings)


def _reference(split: Split, indices: list[int], device) -> torch.Tensor:
    assert split.reference is not None, "reference log-probs are computed before training"
    return torch.tensor([split.reference[i] for i in indices], dtype=torch.float32, device=device)


def counts(train: Split, evaluation: Split) -> dict[str, Any]:
    return {
        "train_examples": len(train.examples),
        "eval_examples": len(evaluation.examples),
        "too_long": len(train.too_long) + len(evaluation.too_long),
        "too_long_keys": [t.key for t in train.too_long + evaluation.too_long][:100],
        "longest_too_long": max(
            (t.tokens for t in train.too_long + evaluation.too_long), default=0
        ),
    }
