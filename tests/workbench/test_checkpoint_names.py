"""Checkpoints are named the same way in every list."""

from workbench.training.checkpoint_names import checkpoint_label


def test_named_and_unnamed_runs():
    assert checkpoint_label(12, 300, 3, "beta sweep a") == "beta sweep a · step 300 (#12)"
    assert checkpoint_label(12, 300, 3, None, "dpo") == "run 3 dpo · step 300 (#12)"
    assert checkpoint_label(7, None, 2) == "run 2 (#7)"
