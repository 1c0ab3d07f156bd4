"""Warnings before launch: small data for the steps asked, small eval sets, odd rates."""

from workbench.training.launch_warnings import launch_warnings

BASE = {"batch_size": 4, "gradient_accumulation_steps": 1, "max_steps": 300, "learning_rate": 5e-4}


def test_the_issue_case_eight_pairs_three_held_out_for_300_steps():
    warnings = launch_warnings(BASE, 5, 3, unit="pairs")
    assert len(warnings) == 3
    small, epochs, small_eval = warnings
    assert "Only 5 training pairs for 4 a step" in small and "at least 16" in small
    assert "240 passes" in epochs and "about 25" in epochs
    assert "eval set has 3 pairs" in small_eval and "33 points" in small_eval


def test_a_healthy_run_has_no_warning():
    assert launch_warnings(BASE, 854, 94, unit="pairs") == []
    assert launch_warnings({**BASE, "max_steps": 100}, 500, 200, unit="prompts") == []


def test_gradient_accumulation_counts_in_the_examples_per_step():
    config = {**BASE, "gradient_accumulation_steps": 8, "max_steps": 10}
    assert any("for 32 a step" in w for w in launch_warnings(config, 100, 50))


def test_no_eval_set_is_not_a_small_one():
    assert launch_warnings(BASE, 854, 0) == []


def test_learning_rates_far_from_the_usual_range_for_the_model_size():
    assert "high for LoRA" in launch_warnings({**BASE, "learning_rate": 0.05}, 854, 94)[0]
    assert "barely move" in launch_warnings({**BASE, "learning_rate": 1e-8}, 854, 94)[0]
    large = launch_warnings({**BASE, "learning_rate": 5e-3}, 854, 94, model_parameters=7 * 10**9)
    assert "high for a model this size" in large[0]
    assert launch_warnings({**BASE, "learning_rate": 5e-3}, 854, 94, model_parameters=10**6) == []
