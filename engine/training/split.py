"""One split of an offline run's data, encoded: the examples that fit max_length, those
set aside as too long, and (for the methods with a reference) each example's two
reference log-probs."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class Split:
    examples: list  # EncodedPair or EncodedUnpaired
    reference: list[tuple[float, float]] | None = None  # per example, see reference_sequences
    too_long: list = field(default_factory=list)

    def partner(self, i: int) -> int:
        """KTO's mismatched completion for example i: the next example's (fixed, so the
        reference value of the mismatched pair can be cached)."""
        return (i + 1) % len(self.examples)

    def rows(self, indices: list[int]) -> list:
        return [self.examples[i] for i in indices]

    def reference_values(self, indices: list[int], device) -> torch.Tensor:
        """(B, 2) reference log-probs of ``examples[indices]``."""
        assert self.reference is not None, "reference log-probs are computed before training"
        rows = [self.reference[i] for i in indices]
        return torch.tensor(rows, dtype=torch.float32, device=device)


def attach_reference(split: Split, values: list[float]) -> None:
    split.reference = [(values[2 * i], values[2 * i + 1]) for i in range(len(split.examples))]
