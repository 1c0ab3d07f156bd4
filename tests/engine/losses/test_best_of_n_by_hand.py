"""Best-of-N selection against hand-worked examples."""

from __future__ import annotations

import pytest
import torch

from engine.losses.best_of_n import select_best

NAN = float("nan")


def test_keeps_the_best_of_each_group():
    # Two prompts, four samples each.
    rewards = torch.tensor([0.1, 1.1, 0.0, 0.1, 0.0, 0.0, 0.1, 1.1])
    assert select_best(rewards, 4).tolist() == [False, True, False, False] + [
        False,
        False,
        False,
        True,
    ]


def test_ties_go_to_the_first_sampled():
    rewards = torch.tensor([1.1, 0.1, 1.1, 1.1])
    assert select_best(rewards, 4).tolist() == [True, False, False, False]
    assert select_best(rewards, 4, top_k=2).tolist() == [True, False, True, False]


def test_min_reward_drops_groups_whose_best_is_not_good_enough():
    rewards = torch.tensor([0.1, 0.0, 0.1, 0.1, 1.1, 0.1])
    keep = select_best(rewards, 3, min_reward=1.0)
    assert keep.tolist() == [False, False, False, False, True, False]


def test_top_k_with_min_reward_keeps_only_the_passing_ones():
    rewards = torch.tensor([1.1, 0.1, 1.0, 0.0])
    keep = select_best(rewards, 4, top_k=3, min_reward=1.0)
    assert keep.tolist() == [True, False, True, False]


def test_unscorable_completions_are_never_kept():
    rewards = torch.tensor([NAN, NAN, 0.5, NAN])
    assert select_best(rewards, 2).tolist() == [False, False, True, False]


def test_top_k_above_the_group_size_keeps_the_whole_group():
    assert select_best(torch.tensor([0.0, 1.0]), 2, top_k=5).tolist() == [True, True]


def test_rewards_that_do_not_split_into_groups_are_refused():
    with pytest.raises(ValueError, match="groups of 3"):
        select_best(torch.zeros(4), 3)
