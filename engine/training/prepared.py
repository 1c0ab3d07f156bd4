"""A run's data ready for the loop: tokenized, too-long examples set aside and counted,
reference log-probs attached; and the objective of any subset of it. What differs between
the offline methods is their class's (the spec's implementation, engine.training.offline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from engine.errors import EngineError
from engine.training.config import TrainSettings
from engine.training.hooks import TrainData
from engine.training.implementation import implementation
from engine.training.objectives import Objective
from engine.training.offline.base import OfflineAlgorithm
from engine.training.split import Split


def offline_algorithm(settings: TrainSettings) -> OfflineAlgorithm:
    """The class of ``settings.algorithm``, for these settings."""
    return implementation(settings.algorithm)(settings)


def encode_split(tokenizer, settings: TrainSettings, data: TrainData, part: str) -> Split:
    """The "train" or "eval" part of the examples the algorithm's spec trains on."""
    examples = data.examples(settings.spec.data, part)
    kept, too_long = offline_algorithm(settings).encode(tokenizer, examples)
    return Split(kept, None, too_long)


def check_trainable(train: Split, settings: TrainSettings) -> None:
    if train.examples:
        return
    what = offline_algorithm(settings).what
    if train.too_long:
        raise EngineError(
            f"All {len(train.too_long)} {what} are longer than max_length "
            f"({settings.max_length} tokens), so there is nothing to train on.",
            "Raise max_length, or label shorter completions.",
        )
    raise EngineError(
        f"There are no {what} to train on.", offline_algorithm(settings).where_to_get_them
    )


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
    return offline_algorithm(settings).objective(
        model, split, indices, pad_id=pad_id, device=device, gather_mean=gather_mean
    )


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
