"""The Train view: the form per algorithm, validation before launch, presets and config
files, dataset counts, the queue, and (end to end, with a real worker) a live run that
is stopped and saved from the view."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import Qt

from tests.workbench.train_helpers import labelled_demo, metric_names
from workbench.demo_project import build_demo_project
from workbench.jobs import queue as jobs
from workbench.project import Project
from workbench.training.config import load_config
from workbench.training.progress import run_progress
from workbench.training.runs import get_run


def train_view(open_window, path):
    window = open_window(path)
    view = window.show_view("Train")
    return window, view


def test_form_shows_only_the_algorithms_settings(open_window, project_path, qtbot):
    _, view = train_view(open_window, project_path)
    form = view.form
    assert form.current_algorithm() == "dpo"
    assert "loss_type" in form.editors and "desirable_weight" not in form.editors
    form.algorithm.setCurrentIndex(form.algorithm.findData("kto"))
    assert "desirable_weight" in form.editors and "loss_type" not in form.editors
    assert "raise it when" in form.editors["desirable_weight"].toolTip()  # the engine help
    form.algorithm.setCurrentIndex(form.algorithm.findData("reward"))
    assert {"use_margin", "center_rewards_coefficient"} <= set(form.editors)
    assert "beta" not in form.editors and "lora.r" in form.editors
    assert view.config()["algorithm"] == "reward"


def test_a_bad_value_disables_launch_with_the_message(open_window, project_path, qtbot):
    _, view = train_view(open_window, project_path)
    assert view.launch_button.isEnabled()
    view.form.editors["batch_size"].set_value(0)
    assert not view.launch_button.isEnabled()
    assert "batch_size" in view.problem.text()
    view.form.editors["batch_size"].set_value(4)
    assert view.launch_button.isEnabled() and view.problem.text() == ""
    for box in view.data.sources.values():
        box.setChecked(False)
    assert not view.launch_button.isEnabled() and "sources" in view.problem.text()


def test_an_older_configs_true_false_checkpointing_shows_as_on_off(open_window, project_path):
    _, view = train_view(open_window, project_path)
    editor = view.form.editors["gradient_checkpointing"]
    assert editor.value() == "auto"
    view.form.set_config({"algorithm": "dpo", "gradient_checkpointing": True})
    assert view.form.editors["gradient_checkpointing"].value() == "on"
    view.form.set_config({"algorithm": "dpo", "gradient_checkpointing": False})
    assert view.config()["gradient_checkpointing"] == "off"


def test_presets_and_config_files_round_trip(open_window, project_path, qtbot, tmp_path):
    _, view = train_view(open_window, project_path)
    qtbot.waitUntil(lambda: view.start.model.count() > 0)  # the project's models have loaded
    form = view.form
    form.algorithm.setCurrentIndex(form.algorithm.findData("kto"))
    form.editors["desirable_weight"].set_value(2.5)
    form.editors["lora.r"].set_value(4)
    view.data.name.setText("strong kto")
    saved = view.config()
    view.presets.save_preset("kto")
    qtbot.waitUntil(lambda: view.presets.presets.count() == 1)
    form.algorithm.setCurrentIndex(form.algorithm.findData("dpo"))
    view.presets.load_preset("kto")
    qtbot.waitUntil(lambda: form.current_algorithm() == "kto")
    assert view.config() == saved and form.editors["desirable_weight"].value() == 2.5

    path = tmp_path / "run.toml"
    view.presets.export_file(path)
    qtbot.waitUntil(path.exists)
    assert load_config(path).to_dict() == load_config(None, base=saved).to_dict()
    form.algorithm.setCurrentIndex(form.algorithm.findData("ipo"))
    view.presets.import_file(path)
    qtbot.waitUntil(lambda: form.current_algorithm() == "kto")
    assert view.config()["lora"]["r"] == 4 and view.data.name.text() == "strong kto"


def test_dataset_counts_of_a_labelled_project(open_window, tmp_path, qtbot):
    labelled_demo(tmp_path / "demo", prompts=12, eval_prompts=3).close()
    _, view = train_view(open_window, tmp_path / "demo")
    view.tabs.setCurrentIndex(1)
    counts = view.counts
    qtbot.waitUntil(lambda: counts.counts is not None, timeout=10000)
    assert counts.cells[("pairs", "train")].text() == "12"
    assert counts.cells[("pairs", "eval")].text() == "3"
    assert counts.cells[("by_source", "train")].text() == "rule 12"
    view.data.sources["rule"].setChecked(False)
    qtbot.waitUntil(lambda: counts.cells[("pairs", "train")].text() == "0", timeout=10000)


def test_the_queue_lists_and_reorders_train_jobs(open_window, project_path, qtbot):
    project = Project.open(project_path)
    ids = [jobs.submit(project, "train", {"config": {"name": f"q{i}"}}) for i in range(2)]
    project.close()
    _, view = train_view(open_window, project_path)
    queue = view.queue
    qtbot.waitUntil(lambda: len(queue.rows) == 2)
    queue.table.selectRow(1)
    assert queue.up.isEnabled() and not queue.down.isEnabled()
    qtbot.mouseClick(queue.up, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: [r["job_id"] for r in queue.rows] == ids[::-1])
    assert queue.table.item(0, 1).text() == "q1"


# End to end, with a real worker -----------------------------------------------------------
E2E = {
    "batch_size": 4,
    "max_steps": 2000,
    "eval_every": 0,
    "checkpoint_every": 0,
    "samples_per_eval": 0,
}


def test_a_dpo_run_launched_from_the_view_shows_live_and_stops_with_a_checkpoint(
    open_window, tmp_path, qtbot
):
    labelled_demo(tmp_path / "demo", prompts=16).close()
    window, view = train_view(open_window, tmp_path / "demo")
    qtbot.waitUntil(lambda: view.form.editors["beta"].value() == 1.0)  # the demo's defaults
    for name, value in E2E.items():
        view.form.editors[name].set_value(value)
    assert view.launch_button.isEnabled(), view.problem.text()
    qtbot.mouseClick(view.launch_button, Qt.MouseButton.LeftButton)
    monitor = view.monitor
    qtbot.waitUntil(
        lambda: (
            monitor.run_id is not None and monitor.charts.point_count(monitor.run_id, "loss") >= 2
        ),
        timeout=120000,
    )
    run_id = monitor.run_id
    assert "loss" in " ".join(monitor.charts.chart_names()).lower()
    controls = monitor.controls
    for command, done in (
        ("pause", "Paused at step"),
        ("resume", "Resumed at step"),
        ("checkpoint", "Checkpoint saved"),
    ):
        qtbot.waitUntil(controls.buttons[command].isEnabled, timeout=10000)
        qtbot.mouseClick(controls.buttons[command], Qt.MouseButton.LeftButton)
        assert "requested" in controls.status.text()
        qtbot.waitUntil(lambda done=done: done in controls.status.text(), timeout=20000)
    stop = controls.buttons["stop"]
    qtbot.waitUntil(stop.isEnabled)
    qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    assert "requested" in monitor.controls.status.text()
    qtbot.waitUntil(
        lambda: monitor.progress and monitor.progress["status"] == "stopped", timeout=60000
    )
    assert "Stopped at step" in monitor.controls.status.text()
    project = Project.open(tmp_path / "demo")
    progress = run_progress(project, run_id)
    assert progress["status"] == "stopped" and progress["checkpoints"] >= 1
    assert progress["step"] < 2000
    project.close()


SFT = {
    "max_steps": 2,
    "batch_size": 4,
    "eval_every": 0,
    "checkpoint_every": 0,
    "eval_batches": 1,
    "samples_per_eval": 1,
    "sample_max_new_tokens": 8,
}


def test_an_sft_run_on_the_demo_references_launched_from_the_view(open_window, tmp_path, qtbot):
    build_demo_project(tmp_path / "demo").close()  # prompts with references, no labels
    _, view = train_view(open_window, tmp_path / "demo")
    form = view.form
    qtbot.waitUntil(lambda: form.editors["beta"].value() == 1.0)  # the demo's defaults
    form.algorithm.setCurrentIndex(form.algorithm.findData("sft"))
    assert "beta" not in form.editors and form.editors["sft_source"].value() == "references"
    assert form.editors["completion_template"].value() == "The answer is {reference}."
    view.tabs.setCurrentIndex(1)
    counts = view.counts
    qtbot.waitUntil(
        lambda: counts.counts is not None and "demonstrations" in counts.counts["train"],
        timeout=10000,
    )
    demonstrations = counts.counts["train"]["demonstrations"]
    assert demonstrations > 0
    assert counts.cells[("demonstrations", "train")].text() == str(demonstrations)
    assert not counts.cells[("demonstrations", "train")].isHidden()
    for name, value in SFT.items():
        form.editors[name].set_value(value)
    assert view.launch_button.isEnabled(), view.problem.text()
    qtbot.mouseClick(view.launch_button, Qt.MouseButton.LeftButton)
    monitor = view.monitor
    qtbot.waitUntil(
        lambda: monitor.progress is not None and monitor.progress["status"] == "done",
        timeout=90000,
    )
    assert monitor.charts.point_count(monitor.run_id, "loss") == 2
    project = Project.open(tmp_path / "demo")
    run = get_run(project, monitor.run_id)
    assert (run.algorithm, run.step) == ("sft", 2)
    assert run.dataset["counts"]["train"]["demonstrations"] == demonstrations
    assert {"loss", "mean_token_accuracy", "num_tokens", "eval_loss"} <= metric_names(
        project, run.id
    )
    project.close()
    form.algorithm.setCurrentIndex(form.algorithm.findData("dpo"))  # back to the labels' rows
    qtbot.waitUntil(lambda: "demonstrations" not in counts.counts["train"], timeout=10000)
    assert counts.cells[("demonstrations", "train")].isHidden()


def test_a_run_from_the_command_line_shows_live_in_the_window(open_window, tmp_path, qtbot):
    labelled_demo(tmp_path / "demo", prompts=16).close()
    window, view = train_view(open_window, tmp_path / "demo")
    sets = [f"{k}={v}" for k, v in {**E2E, "max_steps": 40}.items()]
    argv = [sys.executable, "-m", "workbench.cli", "train", str(tmp_path / "demo")]
    for item in sets:
        argv += ["--set", item]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        monitor = view.monitor
        qtbot.waitUntil(
            lambda: (
                monitor.run_id is not None
                and monitor.charts.point_count(monitor.run_id, "loss") >= 2
            ),
            timeout=120000,
        )
        assert process.poll() is None or process.returncode == 0
    finally:
        process.wait(timeout=120)
    assert process.returncode == 0, process.stderr.read().decode()[-2000:]


def test_a_run_can_start_from_a_checkpoint_chosen_in_the_view(open_window, tmp_path, qtbot):
    from workbench.cli import main

    labelled_demo(tmp_path / "p", prompts=8).close()
    assert (
        main(
            [
                "train",
                str(tmp_path / "p"),
                "--set",
                "max_steps=2",
                "--set",
                "batch_size=4",
                "--set",
                "eval_every=0",
                "--set",
                "checkpoint_every=0",
                "--json",
            ]
        )
        == 0
    )
    checkpoint_id = (
        Project.open(tmp_path / "p").db.execute("SELECT MAX(id) FROM checkpoints").fetchone()[0]
    )
    _, view = train_view(open_window, tmp_path / "p")
    qtbot.waitUntil(lambda: view.start.checkpoint.count() == 2)
    assert view.start.model.currentText() == "workbench-demo-arith"
    assert "model_id" in view.config() and "init_checkpoint" not in view.config()
    view.start.checkpoint.setCurrentIndex(view.start.checkpoint.findData(checkpoint_id))
    config = view.validate()
    assert config is not None and config.init_checkpoint == checkpoint_id


def test_small_data_for_the_steps_asked_is_warned_not_blocked(open_window, tmp_path, qtbot):
    labelled_demo(tmp_path / "demo", prompts=8, eval_prompts=3).close()
    _, view = train_view(open_window, tmp_path / "demo")
    view.tabs.setCurrentIndex(1)
    counts = view.counts
    qtbot.waitUntil(lambda: counts.counts is not None, timeout=10000)
    qtbot.waitUntil(lambda: counts.warnings.isVisibleTo(view), timeout=10000)
    text = counts.warnings.text()
    assert "passes over the data" in text and "The eval set has" in text
    assert view.launch_button.isEnabled()  # a warning, not a block
    view.form.editors["max_steps"].set_value(2)
    qtbot.waitUntil(lambda: "passes over the data" not in counts.warnings.text(), timeout=10000)
