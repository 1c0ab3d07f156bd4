"""Runs outlive the window (issue 15), checked through the app offscreen: a run launched in a
window keeps training after the window closes choosing "keep running", a window opened
later attaches to its worker and streams it, and closing that one choosing "stop and save"
leaves a checkpoint and a stopped run; a worker killed mid-run (its whole process group,
as a power cut would) shows the run interrupted with Resume, which ends at exactly the
adapter of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.workbench.test_train_resume import ENV, adapter
from tests.workbench.train_helpers import labelled_demo
from ui.close_dialog import KEEP, STOP
from workbench.jobs import lanes
from workbench.jobs import queue as jobs
from workbench.jobs.worker_registry import pid_alive
from workbench.project import Project
from workbench.training.config import load_config
from workbench.training.runs import get_run, metric_series

SETTINGS = ["batch_size=4", "eval_every=0", "samples_per_eval=0", "lora.dropout=0.1"]
WAIT_MS = 300_000


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """The window's workers inherit this: the same arithmetic as the reference run's."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "1")


def demo(tmp_path, idle_exit_s: float = 600):
    project = labelled_demo(tmp_path / "demo", prompts=24)
    project.set_setting(lanes.IDLE_EXIT_SETTING, idle_exit_s)
    return project


def count(project: Project, sql: str, *args) -> int:
    return project.db.execute(sql, args).fetchone()[0]


def metric_rows(project: Project, run_id: int) -> int:
    return count(project, "SELECT COUNT(*) FROM metrics WHERE run_id = ?", run_id)


def run_status(project: Project, run_id: int) -> str | None:
    row = project.db.execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone()
    return row[0] if row else None


@pytest.mark.slow
def test_a_run_outlives_the_window_and_a_later_window_stops_and_saves_it(
    open_window, tmp_path, qtbot
):
    project = demo(tmp_path, idle_exit_s=3)
    config = load_config(None, [*SETTINGS, "max_steps=5000", "checkpoint_every=0"]).to_dict()
    first = open_window(project.path)
    first.show_view("Train")
    first.session.submit_job("train", {"config": config})
    qtbot.waitUntil(lambda: metric_rows(project, 1) > 0, timeout=WAIT_MS)
    pid = first.session.training_link.pid
    assert pid is not None and first.session.training_link.log_path.is_file()

    first.close_choice = KEEP
    first.close()
    before = metric_rows(project, 1)
    qtbot.waitUntil(lambda: metric_rows(project, 1) > before + 10, timeout=WAIT_MS)
    assert pid_alive(pid) and run_status(project, 1) == "running"

    second = open_window(project.path)
    train = second.show_view("Train")
    link = second.session.training_link
    qtbot.waitUntil(lambda: link.pid == pid and link.external, timeout=30_000)
    qtbot.waitUntil(lambda: "training busy with job 1" in second.status.worker.text())
    qtbot.waitUntil(lambda: train.monitor.run_id == 1, timeout=30_000)
    shown = train.monitor.progress["step"]
    qtbot.waitUntil(lambda: train.monitor.progress["step"] > shown + 5, timeout=WAIT_MS)
    assert "worker-" in link.log_text() or "training lane" in link.log_text()

    second.close_choice = STOP
    second.close()
    qtbot.waitUntil(lambda: run_status(project, 1) == "stopped", timeout=WAIT_MS)
    run = get_run(project, 1)
    checkpoints = [r[0] for r in project.db.execute("SELECT step FROM checkpoints")]
    assert checkpoints == [run.step] and 0 < run.step < 5000
    assert (project.runs_dir / "1" / "checkpoints" / f"step-{run.step}").is_dir()
    qtbot.waitUntil(lambda: not pid_alive(pid), timeout=60_000)  # idle, it exits by itself


@pytest.mark.slow
def test_a_killed_worker_shows_interrupted_and_resume_ends_at_the_same_adapter(
    open_window, tmp_path, qtbot
):
    project = demo(tmp_path)
    config = load_config(None, [*SETTINGS, "max_steps=30", "checkpoint_every=5"]).to_dict()
    jobs.submit(project, "train", {"config": config})
    whole = subprocess.run(
        [sys.executable, "-m", "workbench.jobs.worker", str(project.path), "--once"],
        env=ENV,
        capture_output=True,
        timeout=600,
    )
    assert whole.returncode == 0 and get_run(project, 1).status == "done"

    window = open_window(project.path)
    train = window.show_view("Train")
    window.session.submit_job("train", {"config": config})
    qtbot.waitUntil(
        lambda: count(project, "SELECT COUNT(*) FROM checkpoints WHERE run_id = 2") >= 1,
        timeout=WAIT_MS,
    )
    pid = window.session.training_link.pid
    os.killpg(pid, signal.SIGKILL)  # a power cut: the worker and everything it started
    qtbot.waitUntil(lambda: run_status(project, 2) == "interrupted", timeout=30_000)
    # The poller may see the dead pid first ("stopped unexpectedly"); the window that
    # started the worker then refines it with the exit status it saw.
    qtbot.waitUntil(
        lambda: "killed by SIGKILL" in (get_run(project, 2).error or ""), timeout=10_000
    )
    killed_at = get_run(project, 2)
    assert 0 < killed_at.step < 30, "the kill must land mid-run"
    assert "killed by SIGKILL" in killed_at.error and "memory" not in killed_at.error
    assert "Resume continues from its last checkpoint (step" in killed_at.error
    assert jobs.get(project, 2).status == "interrupted"

    qtbot.waitUntil(lambda: train.monitor.run_id == 2 and train.monitor.progress is not None)
    resume = train.monitor.controls.buttons["resume"]
    qtbot.waitUntil(resume.isEnabled, timeout=30_000)
    assert "interrupted" in train.monitor.state.text().lower()
    resume.click()
    qtbot.waitUntil(lambda: run_status(project, 2) == "done", timeout=WAIT_MS)

    a, b = adapter(project, 1, 30), adapter(project, 2, 30)
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a), "resumed adapter differs from the whole run's"
    losses = metric_series(project, 2, "loss")
    assert [step for step, _ in losses] == list(range(1, 31)), "a gap or a doubled stretch"
    assert losses == metric_series(project, 1, "loss")
