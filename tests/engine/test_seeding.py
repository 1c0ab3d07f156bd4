"""engine.seeding: the same seed gives the same draws, and the caller's generator is
given back as it was."""

import torch

from engine.seeding import seeded


def test_same_seed_same_draws_and_the_global_generator_is_restored():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    with seeded(7, "cpu"):
        first = torch.rand(4)
    assert torch.equal(torch.get_rng_state(), before)
    with seeded(7, torch.device("cpu")):
        second = torch.rand(4)
    with seeded(8, "cpu"):
        other = torch.rand(4)
    assert torch.equal(first, second) and not torch.equal(first, other)
    torch.manual_seed(7)
    assert torch.equal(torch.rand(4), first)  # seeded is torch.manual_seed inside the block
