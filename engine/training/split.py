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

    _partners: list[int] | None = field(default=None, repr=False, compare=False)

    def partner(self, i: int) -> int:
        """KTO's mismatched completion for example i: another prompt's completion (fixed,
        so the reference value of the mismatched pair can be cached)."""
        if self._partners is None:
            self._partners = mismatched_partners([e.prompt_ids for e in self.examples])
        return self._partners[i]

    def rows(self, indices: list[int]) -> list:
        return [self.examples[i] for i in indices]

    def reference_values(self, indices: list[int], device) -> torch.Tensor:
        """(B, 2) reference log-probs of ``examples[indices]``."""
        assert self.reference is not None, "reference log-probs are computed before training"
        rows = [self.reference[i] for i in indices]
        return torch.tensor(rows, dtype=torch.float32, device=device)


def mismatched_partners(prompts: list[list[int]], seed: int = 0) -> list[int]:
    """For each example, the index of an example with a *different* prompt, so that
    (prompt i, completion of partner(i)) is a mismatched pair (Ethayarajh et al. 2024,
    section 4.1; TRL shifts the completions of a shuffled batch by one).

    The examples arrive grouped by prompt (a prompt's pairs unpair into neighbours), so
    "the next example" would mostly be the same prompt's other answer: z0 then tracks the
    trained log-ratios themselves, falls below 0 and is clamped to 0 (on the demo, on 86% of
    the steps, eval z0 0.005, against 58% and 0.39 with true mismatches). Walking a seeded
    permutation instead and skipping same-prompt neighbours gives true mismatches. Only when
    every example shares one prompt is that impossible.
    """
    n = len(prompts)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    partners = [0] * n
    one_prompt = len({tuple(p) for p in prompts}) <= 1
    for position, i in enumerate(order):
        partner = order[(position + 1) % n]
        for step in range(1, 1 if one_prompt else n):
            candidate = order[(position + step) % n]
            if prompts[candidate] != prompts[i]:
                partner = candidate
                break
        partners[i] = partner
    return partners


def attach_reference(split: Split, values: list[float]) -> None:
    split.reference = [(values[2 * i], values[2 * i + 1]) for i in range(len(split.examples))]
