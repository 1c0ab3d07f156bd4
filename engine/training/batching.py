"""Padded tensors from encoded examples, and which examples each step trains on.

Rows are right-padded: a causal model then sees every real token at its natural
position, and the completion mask marks the tokens whose log-probabilities count.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.training.encode import EncodedPair, EncodedUnpaired


@dataclass
class SequenceBatch:
    input_ids: torch.Tensor  # (N, T) long
    attention_mask: torch.Tensor  # (N, T) long, 1 on real tokens
    completion_mask: torch.Tensor  # (N, T) long, 1 on completion tokens

    def to(self, device) -> SequenceBatch:
        return SequenceBatch(
            self.input_ids.to(device),
            self.attention_mask.to(device),
            self.completion_mask.to(device),
        )


def select_rows(batch: SequenceBatch, rows: torch.Tensor) -> SequenceBatch:
    """Rows ``rows`` (K,) of ``batch``, same width."""
    return SequenceBatch(
        batch.input_ids.index_select(0, rows),
        batch.attention_mask.index_select(0, rows),
        batch.completion_mask.index_select(0, rows),
    )


def pad_sequences(
    prompts: list[list[int]], completions: list[list[int]], pad_id: int
) -> SequenceBatch:
    width = max(len(p) + len(c) for p, c in zip(prompts, completions, strict=True))
    n = len(prompts)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    attention = torch.zeros((n, width), dtype=torch.long)
    completion = torch.zeros((n, width), dtype=torch.long)
    for i, (p, c) in enumerate(zip(prompts, completions, strict=True)):
        input_ids[i, : len(p) + len(c)] = torch.tensor(p + c, dtype=torch.long)
        attention[i, : len(p) + len(c)] = 1
        completion[i, len(p) : len(p) + len(c)] = 1
    return SequenceBatch(input_ids, attention, completion)


def pair_batch(pairs: list[EncodedPair], pad_id: int) -> SequenceBatch:
    """All chosen rows first, then all rejected rows: (2B, T), so one forward serves both."""
    prompts = [p.prompt_ids for p in pairs] * 2
    completions = [p.chosen_ids for p in pairs] + [p.rejected_ids for p in pairs]
    return pad_sequences(prompts, completions, pad_id)


def unpaired_batch(examples: list[EncodedUnpaired], pad_id: int) -> SequenceBatch:
    return pad_sequences(
        [e.prompt_ids for e in examples], [e.completion_ids for e in examples], pad_id
    )


def kl_batch(
    examples: list[EncodedUnpaired], partners: list[EncodedUnpaired], pad_id: int
) -> SequenceBatch:
    """KTO's mismatched pairs: each prompt with another example's completion (Ethayarajh
    et al. 2024, section 4.1), the sample from which the reference point z0 is estimated."""
    return pad_sequences(
        [e.prompt_ids for e in examples], [p.completion_ids for p in partners], pad_id
    )


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator).tolist()


class StepSchedule:
    """Which example indices a rank trains on at (step, micro-batch).

    The data is an endless stream of seeded per-epoch permutations; global micro-batch g
    covers stream positions [g*G, (g+1)*G) with G = batch_size * world_size, and rank r
    takes its own slice. A function of (step, micro, rank) only, so a resumed run trains
    on exactly the examples the uninterrupted run would have.
    """

    def __init__(self, n: int, batch_size: int, accumulation: int, world_size: int, seed: int):
        if n < 1:
            raise ValueError("no examples to train on")
        self.n, self.batch_size, self.accumulation = n, batch_size, accumulation
        self.world_size, self.seed = world_size, seed
        self._orders: dict[int, list[int]] = {}

    def _at(self, position: int) -> int:
        epoch, offset = divmod(position, self.n)
        if epoch not in self._orders:
            if len(self._orders) > 1:  # positions only move forward; keep the last epoch
                self._orders = {max(self._orders): self._orders[max(self._orders)]}
            self._orders[epoch] = epoch_order(self.n, self.seed, epoch)
        return self._orders[epoch][offset]

    def indices(self, step: int, micro: int, rank: int) -> list[int]:
        g = step * self.accumulation + micro
        start = g * self.batch_size * self.world_size + rank * self.batch_size
        return [self._at(p) for p in range(start, start + self.batch_size)]

    def epoch(self, steps_done: int) -> float:
        return steps_done * self.accumulation * self.batch_size * self.world_size / self.n
