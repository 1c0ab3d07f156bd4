"""The Train view with the online algorithms: their settings, the reward panel in place of
the label selection, per-algorithm project defaults, the memory fit of a rollout, and (end
to end, with a real worker) a GRPO run whose rewards and advantages show live."""

from __future__ import annotations

from PySide6.QtCore import Qt

from engine.losses.options import GRPO_LOSS_TYPES
from engine.rules.spec import RuleSpec
from tests.ui.conftest import make_project
from workbench.demo_project import build_demo_project
from workbench.judging.store import JudgeConfig, save_judge
from workbench.project import Project
from workbench.rules.store import add_rule
from workbench.training import runs
from workbench.training.config import TRAIN_DEFAULTS_KEY, load_config

RULES = [
    RuleSpec(name="format", kind="regex", params={"pattern": "x"}),
    RuleSpec(name="answer", kind="numeric", params={"extract": "last_number"}),
    RuleSpec(name="length", kind="length", params={"max": 10}, enabled=False),
]


def train_view(open_window, path, algorithm: str | None = None):
    view = open_window(path).show_view("Train")
    if algorithm is not None:
        view.form.algorithm.setCurrentIndex(view.form.algorithm.findData(algorithm))
    return view


def group_titles(form) -> list[str]:
    layout = form.groups_layout  # not findChildren: replaced boxes linger until deleted
    return [layout.itemAt(i).widget().title() for i in range(layout.count())]


def rewarded_project(path) -> tuple:
    """Three rules (one disabled), a judge and a checkpoint of a reward-model run."""
    make_project(path)
    project = Project.open(path)
    for rule in RULES:
        add_rule(project, rule)
    save_judge(project, JudgeConfig(name="strict", kind="local", path=str(path / "judge")))
    run_id = runs.create_run(
        project,
        algorithm="reward",
        config={},
        dataset={},
        dataset_hash="",
        model_id=None,
        parent_checkpoint_id=None,
        job_id=None,
        name="rm",
        max_steps=1,
    )
    runs.end_run(project, run_id, "done")
    checkpoint = runs.add_checkpoint(project, run_id, 1, path / "ckpt", {})
    project.close()
    return path, checkpoint


def test_grpo_shows_its_rollout_settings_and_the_reward_instead_of_labels(
    open_window, project_path, qtbot
):
    view = train_view(open_window, project_path, "grpo")
    form = view.form
    assert "Rollout" in group_titles(form) and "no value model" in form.about.text()
    assert {
        "num_generations",
        "max_completion_length",
        "temperature",
        "epsilon_high",
        "grpo_loss_type",
        "scale_rewards",
        "importance_sampling_level",
    } <= set(form.editors)
    assert not {"loss_type", "rpo_alpha", "label_smoothing", "vf_coef"} & set(form.editors)
    assert form.editors["grpo_loss_type"].combo.count() == len(GRPO_LOSS_TYPES)
    assert form.editors["epsilon_high"].value() is None  # unset: epsilon
    assert "epsilon_high" not in view.config()
    form.editors["epsilon_high"].set_value(0.28)
    assert view.config()["epsilon_high"] == 0.28
    view.tabs.setCurrentIndex(1)  # Data
    assert view.reward.isVisible() and view.prompt_counts.isVisible()
    assert not view.counts.isVisible() and not view.data.min_confidence.isVisible()
    assert view.config()["prompt_split"] == "train" and "sources" not in view.config()
    # The fit: 8 prompts x 8 generations at once, the longest train prompt (18 bytes) + 64.
    qtbot.waitUntil(lambda: view.fit.batch.value() == 64 and view.fit.seq_len.value() == 82)
    assert view.prompt_counts.train.text().startswith("300")
    form.algorithm.setCurrentIndex(form.algorithm.findData("ppo"))
    assert {"vf_coef", "lam", "kl_target", "whiten_advantages"} <= set(form.editors)
    assert form.editors["kl_target"].value() is None and "grpo_loss_type" not in form.editors
    form.algorithm.setCurrentIndex(form.algorithm.findData("dpo"))
    assert not view.reward.isVisible() and view.counts.isVisible()
    assert "prompt_split" not in view.config() and "sources" in view.config()


def test_the_reward_panel_gives_the_reward_keys_and_round_trips_a_preset(
    open_window, tmp_path, qtbot
):
    path, checkpoint = rewarded_project(tmp_path / "p")
    view = train_view(open_window, path, "grpo")
    reward = view.reward
    qtbot.waitUntil(lambda: reward.choices is not None)
    checks = reward.rule_checks
    assert checks["format"].isChecked() and checks["answer"].isChecked()
    assert not checks["length"].isChecked() and not checks["length"].isEnabled()
    assert view.config()["reward_rules"] is True  # the enabled rules: follows the Rules view
    checks["format"].setChecked(False)
    reward.reward_model.setCurrentIndex(reward.reward_model.findData(checkpoint))
    reward.reward_model_weight.set_value(0.5)
    reward.judge.setCurrentIndex(reward.judge.findData("strict"))
    reward.judge_weight.set_value(2.0)
    view.form.editors["grpo_loss_type"].set_value("dr_grpo")
    view.form.editors["epsilon_high"].set_value(0.28)
    saved = view.config()
    assert {
        k: saved[k]
        for k in ("reward_rules", "reward_model", "reward_model_weight", "judge", "judge_weight")
    } == {
        "reward_rules": ["answer"],
        "reward_model": checkpoint,
        "reward_model_weight": 0.5,
        "judge": "strict",
        "judge_weight": 2.0,
    }
    assert view.launch_button.isEnabled(), view.problem.text()
    view.presets.save_preset("rl")
    qtbot.waitUntil(lambda: view.presets.presets.count() == 1)
    view.form.algorithm.setCurrentIndex(view.form.algorithm.findData("dpo"))
    reward.set_values({})
    view.presets.load_preset("rl")
    qtbot.waitUntil(lambda: view.form.current_algorithm() == "grpo")
    assert view.config() == saved and not checks["format"].isChecked()
    toml = tmp_path / "rl.toml"
    view.presets.export_file(toml)
    qtbot.waitUntil(toml.exists)
    assert load_config(toml).to_dict() == load_config(None, base=saved).to_dict()
    view.form.algorithm.setCurrentIndex(view.form.algorithm.findData("ppo"))
    reward.set_values({})
    view.presets.import_file(toml)
    qtbot.waitUntil(lambda: view.form.current_algorithm() == "grpo")
    assert view.config() == saved
    reward.set_values({"reward_rules": ["length"]})  # disabled in the Rules view
    assert not view.launch_button.isEnabled() and "disabled" in view.problem.text()
    assert checks["length"].isEnabled()  # so that it can be unticked


def test_without_a_reward_launch_is_disabled_with_the_reason(open_window, tmp_path, qtbot):
    path, _ = rewarded_project(tmp_path / "p")
    view = train_view(open_window, path, "rloo")
    reward = view.reward
    qtbot.waitUntil(lambda: reward.choices is not None)
    assert view.launch_button.isEnabled(), view.problem.text()
    for box in reward.rule_checks.values():
        box.setChecked(False)
    assert view.config()["reward_rules"] is False
    assert not view.launch_button.isEnabled()
    assert "needs a reward" in view.problem.text()
    reward.judge.setCurrentIndex(reward.judge.findData("strict"))
    assert view.launch_button.isEnabled() and view.problem.text() == ""


def test_switching_algorithm_applies_its_project_defaults_but_keeps_edits(
    open_window, project_path, qtbot
):
    project = Project.open(project_path)
    project.set_setting(
        TRAIN_DEFAULTS_KEY,
        {
            "beta": 1.0,
            "learning_rate": 5e-4,
            "max_steps": 300,
            "by_algorithm": {"grpo": {"beta": 0.0, "learning_rate": 1e-3, "num_generations": 4}},
        },
    )
    project.close()
    view = train_view(open_window, project_path)
    editors = view.form.editors
    qtbot.waitUntil(lambda: view.form.editors["beta"].value() == 1.0)
    editors["max_steps"].set_value(50)  # the user's: kept by every algorithm
    view.form.algorithm.setCurrentIndex(view.form.algorithm.findData("grpo"))
    editors = view.form.editors
    assert editors["beta"].value() == 0.0 and editors["learning_rate"].value() == 1e-3
    assert editors["num_generations"].value() == 4 and editors["max_steps"].value() == 50
    editors["learning_rate"].set_value(2e-3)
    view.form.algorithm.setCurrentIndex(view.form.algorithm.findData("dpo"))
    editors = view.form.editors
    assert editors["beta"].value() == 1.0 and editors["learning_rate"].value() == 2e-3
    view.form.algorithm.setCurrentIndex(view.form.algorithm.findData("rloo"))
    assert view.form.editors["beta"].value() == 1.0  # no rloo defaults: the project's flat ones
    assert view.config()["num_generations"] == 8


# End to end, with a real worker -----------------------------------------------------------
GRPO = {
    "max_steps": 2,
    "batch_size": 2,
    "num_generations": 4,
    "max_completion_length": 20,
    "num_iterations": 1,
    "eval_every": 0,
    "checkpoint_every": 0,
    "eval_prompts": 4,
    "samples_per_eval": 2,
    "samples_per_step": 1,
}


def test_a_grpo_run_shows_rewards_and_advantages(open_window, tmp_path, qtbot):
    build_demo_project(tmp_path / "demo").close()
    view = train_view(open_window, tmp_path / "demo")
    qtbot.waitUntil(lambda: view.form.editors["beta"].value() == 1.0)  # the demo's defaults
    view.form.algorithm.setCurrentIndex(view.form.algorithm.findData("grpo"))
    assert view.form.editors["beta"].value() != 1.0  # not DPO's tuned beta
    for name, value in GRPO.items():
        view.form.editors[name].set_value(value)
    qtbot.waitUntil(lambda: view.reward.choices is not None)
    assert view.launch_button.isEnabled(), view.problem.text()
    qtbot.mouseClick(view.launch_button, Qt.MouseButton.LeftButton)
    monitor = view.monitor
    qtbot.waitUntil(
        lambda: (
            monitor.progress is not None
            and monitor.progress["status"] == "done"
            and monitor.charts.point_count(monitor.run_id, "eval_reward") == 1
        ),
        timeout=90000,
    )
    reward_chart = monitor.charts.chart("reward")
    assert {"reward", "rewards/answer/mean", "eval_rewards/answer/mean"} <= {
        metric for _, metric in reward_chart.curves
    }
    assert monitor.charts.point_count(monitor.run_id, "reward") == 2
    browser = monitor.samples
    qtbot.waitUntil(lambda: browser.steps == [1, 2] and len(browser.samples) == 4 + 2)
    table = browser.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[-2:] == ["Total", "Advantage"] and {"format", "answer"} <= set(headers)
    column = [table.item(r, len(headers) - 1).text() for r in range(table.rowCount())]
    assert column[4:] == ["greedy eval"] * 2  # the eval answers, after the sampled group
    advantages = [float(text) for text in column[:4]]
    assert advantages == sorted(advantages, reverse=True)
    assert table.rowSpan(0, 0) == 4 and table.item(0, 0).text()  # one prompt, four samples


def test_a_best_of_n_run_shows_which_samples_it_kept(open_window, tmp_path, qtbot):
    build_demo_project(tmp_path / "demo").close()
    view = train_view(open_window, tmp_path / "demo")
    qtbot.waitUntil(lambda: view.form.editors["beta"].value() == 1.0)  # the demo's defaults
    view.form.algorithm.setCurrentIndex(view.form.algorithm.findData("best_of_n"))
    form = view.form
    assert {"best_of_n_top_k", "best_of_n_min_reward", "num_generations"} <= set(form.editors)
    assert not {"beta", "epsilon", "grpo_loss_type"} & set(form.editors)
    for name, value in {**GRPO, "best_of_n_min_reward": None}.items():
        form.editors[name].set_value(value)
    qtbot.waitUntil(lambda: view.reward.choices is not None)
    assert view.launch_button.isEnabled(), view.problem.text()
    qtbot.mouseClick(view.launch_button, Qt.MouseButton.LeftButton)
    monitor = view.monitor
    qtbot.waitUntil(
        lambda: (
            monitor.progress is not None
            and monitor.progress["status"] == "done"
            and monitor.charts.point_count(monitor.run_id, "eval_reward") == 1
        ),
        timeout=90000,
    )
    assert monitor.charts.point_count(monitor.run_id, "best_of_n/kept_fraction") == 2
    browser = monitor.samples
    qtbot.waitUntil(lambda: browser.steps == [1, 2] and len(browser.samples) == 4 + 2)
    table = browser.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[-2:] == ["Total", "Advantage"]
    kept = [float(table.item(r, len(headers) - 1).text()) for r in range(4)]
    totals = [float(table.item(r, len(headers) - 2).text()) for r in range(4)]
    assert kept.count(1.0) == 1 and kept.count(0.0) == 3  # the best of the prompt's four
    assert totals[kept.index(1.0)] == max(totals)
