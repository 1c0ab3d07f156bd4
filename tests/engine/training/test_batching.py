"""batching: padded pair/unpaired/KL batches with their masks, and StepSchedule as a pure
function of (step, micro, rank)."""

from __future__ import annotations

import random

import pytest
import torch

from engine.training.batching import (
    StepSchedule,
    epoch_order,
    kl_batch,
    pad_sequences,
    pair_batch,
    unpaired_batch,
)
from engine.training.encode import EncodedPair, EncodedUnpaired

PAD = 0


def _pairs():
    return [
        EncodedPair("a", [11, 12, 13], [21, 2], [31, 32, 33, 2]),
        EncodedPair("b", [14], [22, 23, 24, 25, 2], [34, 2]),
    ]


def _row(batch, i):
    return [int(x) for x in batch.input_ids[i]]


def test_pair_batch_puts_chosen_rows_first_with_right_masks():
    pairs = _pairs()
    batch = pair_batch(pairs, PAD)
    assert batch.input_ids.shape == (4, 7)  # widest: three prompt + four rejected tokens
    assert batch.input_ids.dtype == torch.long
    expected = [p.prompt_ids + p.chosen_ids for p in pairs] + [
        p.prompt_ids + p.rejected_ids for p in pairs
    ]
    for i, tokens in enumerate(expected):
        assert _row(batch, i) == tokens + [PAD] * (7 - len(tokens))  # right padding
    prompt_lengths = [3, 1, 3, 1]
    for i, (tokens, start) in enumerate(zip(expected, prompt_lengths, strict=True)):
        assert batch.attention_mask[i].tolist() == [1] * len(tokens) + [0] * (7 - len(tokens))
        completion = [0] * start + [1] * (len(tokens) - start) + [0] * (7 - len(tokens))
        assert batch.completion_mask[i].tolist() == completion
    # the completion mask marks exactly the completion tokens, never padding or prompt
    assert int(batch.completion_mask.sum()) == sum(
        len(p.chosen_ids) + len(p.rejected_ids) for p in pairs
    )
    assert bool((batch.completion_mask <= batch.attention_mask).all())


def test_pad_id_fills_only_padding():
    batch = pad_sequences([[5, 6], [7]], [[8], [9, 10, 11]], pad_id=99)
    assert _row(batch, 0) == [5, 6, 8, 99]
    assert _row(batch, 1) == [7, 9, 10, 11]


def test_unpaired_and_kl_batches():
    examples = [
        EncodedUnpaired("a", [11, 12], [21, 2], True),
        EncodedUnpaired("b", [13], [22, 23, 24, 2], False),
    ]
    batch = unpaired_batch(examples, PAD)
    assert _row(batch, 0) == [11, 12, 21, 2, PAD]
    assert _row(batch, 1) == [13, 22, 23, 24, 2]
    partners = examples[1:] + examples[:1]
    kl = kl_batch(examples, partners, PAD)  # each prompt with its partner's completion
    assert _row(kl, 0) == [11, 12, 22, 23, 24, 2]
    assert _row(kl, 1) == [13, 21, 2, PAD, PAD, PAD]
    assert kl.completion_mask[1].tolist() == [0, 1, 1, 0, 0, 0]


def test_batch_to_keeps_values():
    batch = pair_batch(_pairs(), PAD)
    moved = batch.to("cpu")
    for name in ("input_ids", "attention_mask", "completion_mask"):
        assert torch.equal(getattr(moved, name), getattr(batch, name))


@pytest.mark.parametrize(("n", "batch_size", "accumulation"), [(12, 3, 2), (10, 3, 1), (7, 4, 3)])
def test_schedule_is_a_pure_function(n, batch_size, accumulation):
    keys = [
        (step, micro, rank)
        for step in range(8)
        for micro in range(accumulation)
        for rank in range(2)
    ]
    reference = {}
    for key in keys:  # in order, on one object
        reference[key] = StepSchedule(n, batch_size, accumulation, 2, seed=5).indices(*key)
    shuffled = keys[:]
    random.Random(1).shuffle(shuffled)
    schedule = StepSchedule(n, batch_size, accumulation, 2, seed=5)
    for key in shuffled:  # any order, on one object (its epoch cache must not matter)
        assert schedule.indices(*key) == reference[key], key
    for key in keys:
        assert schedule.indices(*key) == reference[key], key
    fresh = StepSchedule(n, batch_size, accumulation, 2, seed=5)
    assert fresh.indices(7, accumulation - 1, 1) == reference[(7, accumulation - 1, 1)]


@pytest.mark.parametrize(("n", "batch_size", "accumulation"), [(12, 3, 2), (10, 3, 1), (5, 2, 2)])
def test_schedule_covers_every_example_once_per_epoch(n, batch_size, accumulation):
    schedule = StepSchedule(n, batch_size, accumulation, 1, seed=3)
    stream = [
        i
        for step in range(10)
        for micro in range(accumulation)
        for i in schedule.indices(step, micro, 0)
    ]
    epochs = [stream[e * n : (e + 1) * n] for e in range(len(stream) // n)]
    assert len(epochs) >= 3
    for order in epochs:
        assert sorted(order) == list(range(n))
    assert epochs[0] == epoch_order(n, 3, 0)
    assert epochs[0] != epochs[1]  # a new order every epoch (12!/10!/5! permutations)
    assert schedule.epoch(n) == pytest.approx(batch_size * accumulation)


def test_seed_changes_the_order():
    a = StepSchedule(50, 5, 1, 1, seed=0).indices(0, 0, 0)
    b = StepSchedule(50, 5, 1, 1, seed=1).indices(0, 0, 0)
    assert a != b


def test_ranks_take_disjoint_slices_of_one_stream():
    n, batch_size, accumulation = 24, 3, 2
    two = StepSchedule(n, batch_size, accumulation, 2, seed=7)
    one = StepSchedule(n, batch_size * 2, accumulation, 1, seed=7)  # the same global stream
    for step in range(6):
        seen = []
        for micro in range(accumulation):
            rank0, rank1 = two.indices(step, micro, 0), two.indices(step, micro, 1)
            assert len(rank0) == len(rank1) == batch_size
            assert rank0 + rank1 == one.indices(step, micro, 0)
            seen += rank0 + rank1
        assert len(set(seen)) == len(seen) == 2 * batch_size * accumulation  # disjoint in a step
    assert two.epoch(2) == pytest.approx(2 * accumulation * batch_size * 2 / n)


def test_schedule_needs_examples():
    with pytest.raises(ValueError):
        StepSchedule(0, 4, 1, 1, seed=0)
