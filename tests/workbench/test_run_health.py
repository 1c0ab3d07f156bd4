"""Run health checks: each speaks on the failure it names, stays quiet on a healthy run, and
the recorder writes each warning once to the run's log."""

from __future__ import annotations

from workbench.training.health import (
    SAMPLE_REWARD,
    HealthContext,
    HealthMonitor,
    check_run,
    context_for,
    warnings_in_log,
)

DPO = HealthContext("dpo")
KTO = HealthContext("kto", kl_expected=True)


def curve(values):
    return [(step + 1, v) for step, v in enumerate(values)]


def codes(history, ctx=DPO):
    return [w.code for w in check_run(history, ctx)]


def healthy_history():
    return {
        "loss": curve([0.7 - 0.002 * i for i in range(60)]),
        "logps/chosen": curve([-1.2 + 0.001 * i for i in range(60)]),
        "kl": curve([0.0] * 5 + [0.05 + 0.001 * i for i in range(55)]),
        "eval_reward": curve([0.4, 0.5, 0.48, 0.55]),
        "eval_rewards/format/mean": curve([1.0, 0.99, 1.0, 0.98]),
        "frac_reward_zero_std": curve([0.4] * 20),
    }


def test_a_healthy_run_gets_no_warning():
    assert codes(healthy_history(), KTO) == []


def test_chosen_logps_falling_fast_is_said_with_advice():
    history = {"logps/chosen": curve([-1.0 - 0.05 * i for i in range(40)])}
    (warning,) = check_run(history, DPO)
    assert warning.code == "chosen_logps_falling" and warning.step == 40
    assert "rpo_alpha" in warning.advice and "SimPO" in warning.advice
    # A small drift is not a warning.
    assert codes({"logps/chosen": curve([-1.0 - 0.005 * i for i in range(40)])}) == []
    # Too early to tell.
    assert codes({"logps/chosen": curve([-1.0 - 0.5 * i for i in range(10)])}) == []


def test_eval_falling_twice_in_a_row():
    assert codes({"eval_reward": curve([0.6, 0.5, 0.4])}) == ["eval_falling"]
    assert codes({"eval_reward": curve([0.6, 0.5, 0.55, 0.4])}) == []  # one fall, then a rise
    assert codes({SAMPLE_REWARD: curve([0.9, 0.7, 0.3])}) == ["eval_falling"]
    assert codes({"eval_reward": curve([0.6, 0.599, 0.598])}) == []  # noise, not a fall


def test_kl_stuck_at_zero_only_where_a_kl_should_move():
    history = {"kl": curve([0.0] * 40)}
    (warning,) = check_run(history, KTO)
    assert warning.code == "kl_stuck_at_zero" and "batch_size" in warning.advice
    assert codes(history, HealthContext("grpo", kl_expected=False)) == []
    mostly_moving = {"kl": curve([0.0] * 5 + [0.0, 0.1] * 20)}
    assert codes(mostly_moving, KTO) == []
    # The demo's KTO with matched "mismatched" pairs: z0 was 0 on 86% of the steps.
    nearly_always = {"kl": curve([0.0] * 5 + ([0.0] * 6 + [0.1]) * 6)}
    assert codes(nearly_always, KTO) == ["kl_stuck_at_zero"]


def test_context_reads_beta_and_the_algorithm_default():
    assert context_for("kto", {}).kl_expected  # KTO's default beta 0.1
    assert not context_for("grpo", {}).kl_expected  # GRPO's default beta 0: no KL term
    assert context_for("grpo", {"beta": 0.04}).kl_expected
    assert not context_for("dpo", {"beta": 0.1}).kl_expected  # DPO logs no kl


def test_rewards_without_variance():
    (warning,) = check_run({"frac_reward_zero_std": curve([0.9] * 12)}, DPO)
    assert warning.code == "rewards_without_variance" and "num_generations" in warning.advice
    assert codes({"frac_reward_zero_std": curve([0.9] * 5)}) == []


def test_format_collapse_names_the_rule():
    (warning,) = check_run({"eval_rewards/format/mean": curve([0.99, 0.8, 0.3])}, DPO)
    assert warning.code == "rule_collapse" and "'format'" in warning.message
    # A rule that rarely passed (the answer) falling is eval_falling's business.
    assert codes({"eval_rewards/answer/mean": curve([0.4, 0.1])}) == []
    assert codes({"eval_samples/format": curve([1.0, 0.25])}) == ["rule_collapse"]


def test_flat_loss_from_the_start():
    assert codes({"loss": curve([0.6931] * 25)}) == ["flat_loss"]
    assert codes({"loss": curve([0.6931] * 10)}) == []


def test_monitor_says_each_warning_once_and_log_lines_round_trip():
    monitor = HealthMonitor(DPO)
    said = []
    for step in range(1, 41):
        monitor.add(step, {"logps/chosen": -1.0 - 0.05 * step, "loss": 0.5})
        said += [w.line() for w in monitor.new_warnings()]
    assert len(said) == 2  # the falling log-prob and the flat loss, once each
    shown = warnings_in_log(["1000 training examples", *said])
    assert len(shown) == 2 and all("Try:" in line for line in shown)


def test_monitor_judges_eval_samples_only_when_there_are_enough():
    monitor = HealthMonitor(DPO)
    for step, total in ((50, 1.0), (100, 0.5), (150, 0.1)):
        monitor.add_samples(step, {"format": [1.0] * 4}, [total] * 4)
    assert monitor.new_warnings() == []
    for step, total in ((50, 1.0), (100, 0.5), (150, 0.1)):
        monitor.add_samples(step, {"format": [1.0] * 8}, [total] * 8)
    assert [w.code for w in monitor.new_warnings()] == ["eval_falling"]
