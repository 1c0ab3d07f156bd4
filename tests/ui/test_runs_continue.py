"""The Runs view's "Continue with new settings…": a stopped run's continuation is checked,
then queued as the train job `workbench train --resume RUN --set ...` would run."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.workbench.train_helpers import labelled_demo
from ui.session import ProjectSession
from ui.views.runs.view import RunsView
from workbench.cli import main
from workbench.jobs import queue as jobs
from workbench.jobs import worker_registry
from workbench.project import Project


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("continue") / "p"
    labelled_demo(folder, prompts=12).close()
    argv = ["train", str(folder), "--json"]
    for item in ("max_steps=2", "checkpoint_every=2", "eval_every=0", "samples_per_eval=0"):
        argv += ["--set", item]
    assert main(argv) == 0
    project = Project.open(folder)
    project.db.execute(  # as if stopped at step 2 of 4
        "UPDATE runs SET status = 'stopped', max_steps = 4, "
        "config = json_set(config, '$.max_steps', 4) WHERE id = 1"
    )
    project.close()
    return folder


@pytest.fixture
def view(stopped_run, qtbot):
    project = Project.open(stopped_run)
    project.db.execute("DELETE FROM jobs WHERE kind = 'train' AND status = 'queued'")
    worker_id = worker_registry.register(project)  # a live worker: the view starts none
    session = ProjectSession(stopped_run)
    shown = RunsView(session)
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitUntil(lambda: shown.loaded and shown.continue_run.isEnabled(), timeout=10000)
    yield shown
    session.close()
    worker_registry.update(project, worker_id, status="stopped")
    project.close()


def _queued(path: Path) -> list[dict]:
    project = Project.open(path)
    try:
        return [j.params for j in jobs.list_jobs(project) if j.status == "queued"]
    finally:
        project.close()


def _continue_with(view: RunsView, qtbot, text: str) -> None:
    view.continue_run.click()
    qtbot.waitUntil(lambda: view.continue_run.dialog is not None, timeout=5000)
    dialog = view.continue_run.dialog
    assert dialog.edit.toPlainText().startswith("learning_rate=")  # a quarter of the run's
    dialog.edit.setPlainText(text)
    dialog.accept()


def test_a_continuation_is_queued_with_the_changed_settings(view, stopped_run, qtbot):
    _continue_with(view, qtbot, "learning_rate=1e-5\nmax_grad_norm=0.5\n")
    wanted = {"continue_run_id": 1, "set": ["learning_rate=1e-5", "max_grad_norm=0.5"]}
    qtbot.waitUntil(lambda: wanted in _queued(stopped_run), timeout=5000)


def test_a_change_the_checkpoint_fixes_is_refused_before_queueing(view, stopped_run, qtbot):
    _continue_with(view, qtbot, "lora.r=32")
    qtbot.waitUntil(lambda: view.continue_run.last_message is not None, timeout=5000)
    message: QMessageBox = view.continue_run.last_message
    assert "cannot change lora" in message.text()
    assert not [p for p in _queued(stopped_run) if "continue_run_id" in p]
