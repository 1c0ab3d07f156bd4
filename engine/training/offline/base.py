"""What every offline method provides to the loop. The default is a method that learns
from preference pairs; KTO (single examples) and SFT (demonstrations) override the data
part. The loop hands ``encode`` the examples of the kind its spec's ``data`` names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from engine.training.config import TrainSettings
from engine.training.encode import TooLong, encode_pairs
from engine.training.objectives import Objective
from engine.training.split import Split

Sequence = tuple[list[int], list[int]]  # (prompt ids, completion ids)
GatherMean = Callable[[torch.Tensor], torch.Tensor]


class OfflineAlgorithm:
    # What the method trains on, and how to get some, as the error says when there is none.
    what = "preference pairs"
    where_to_get_them = "Label some completions first (Label view, an AI judge, or rules)."

    def __init__(self, settings: TrainSettings) -> None:
        self.s = settings

    def encode(self, tokenizer: Any, examples: list[Any]) -> tuple[list, list[TooLong]]:
        """(examples that fit max_length, those that do not) of ``examples``, the run's
        examples of the spec's data kind (here PairExample)."""
        return encode_pairs(tokenizer, examples, self.s.max_length)

    def reference_sequences(self, split: Split) -> list[Sequence]:
        """Two sequences per example whose reference log-probs the objective reads:
        (chosen, rejected)."""
        seqs = []
        for ex in split.examples:
            seqs += [(ex.prompt_ids, ex.chosen_ids), (ex.prompt_ids, ex.rejected_ids)]
        return seqs

    def data_notes(self, split: Split) -> list[str]:
        """Lines for the run's log about the train split (a warning with what to try), before
        training starts; none by default."""
        return []

    def objective(
        self,
        model: Any,
        split: Split,
        indices: list[int],
        *,
        pad_id: int,
        device: Any,
        gather_mean: GatherMean,
    ) -> Objective:
        """The loss and per-example statistics of ``split.examples[indices]``;
        ``gather_mean(x)`` averages a scalar over all processes."""
        raise NotImplementedError
