"""The export dialog on a trained checkpoint: a refused destination says why before any
job is queued; an Ollama export is queued as an export_model job and, once a worker has
run it, the dialog names the folder and the command that imports it. The Runs view's
Export button opens it for the selected run's latest checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workbench.train_helpers import labelled_demo
from ui.session import ProjectSession
from ui.views.common.export_dialog import ExportDialog
from workbench.cli import main
from workbench.jobs import queue as jobs
from workbench.jobs import worker_registry
from workbench.project import Project


class _NoModel:
    def describe(self):
        return None


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export-dialog") / "p"
    labelled_demo(folder, prompts=12).close()
    argv = ["train", str(folder), "--json"]
    for item in ("max_steps=2", "checkpoint_every=2", "eval_every=0", "samples_per_eval=0"):
        argv += ["--set", item]
    assert main(argv) == 0
    return folder


@pytest.fixture
def session(trained, qtbot):
    project = Project.open(trained)
    worker_id = worker_registry.register(project)  # a live worker: the window starts none
    shown = ProjectSession(trained)
    shown.start()  # the poller: job states reach the dialog, and it sees the live worker
    qtbot.waitUntil(lambda: shown.live_external_worker() is not None, timeout=10000)
    yield shown
    shown.close()
    worker_registry.update(project, worker_id, status="stopped")
    project.close()


def _export_jobs(path: Path) -> list[jobs.Job]:
    project = Project.open(path)
    try:
        return [j for j in jobs.list_jobs(project) if j.kind == "export_model"]
    finally:
        project.close()


def test_existing_folder_is_refused_before_queueing(session, trained, tmp_path, qtbot):
    dialog = ExportDialog(session, 1)
    qtbot.addWidget(dialog)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x.txt").write_text("x")
    dialog.folder.setText(str(taken))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: "already exists" in dialog.status.text(), timeout=10000)
    assert dialog.export_button.isEnabled()
    assert _export_jobs(trained) == []


def test_ollama_export_runs_and_names_the_import_command(session, trained, tmp_path, qtbot):
    from workbench.jobs.worker import Worker

    dialog = ExportDialog(session, 1)
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData("ollama"))
    assert [dialog.dtype.itemData(i) for i in range(dialog.dtype.count())] == [
        "default",
        "f16",
        "bf16",
        "f32",
        "q8_0",
    ]
    assert "ollama create" in dialog.note.text()
    out = tmp_path / "ollama"
    dialog.folder.setText(str(out))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: len(_export_jobs(trained)) == 1, timeout=10000)
    job = _export_jobs(trained)[0]
    assert job.params == {
        "checkpoint_id": 1,
        "format": "ollama",
        "out_dir": str(out),
        "dtype": None,
        "overwrite": False,
    }
    project = Project.open(trained)
    worker = Worker(project, session=_NoModel())
    try:
        assert worker.run(once=True) == 1
    finally:
        worker.close()
        project.close()
    qtbot.waitUntil(lambda: "Import it into Ollama" in dialog.status.text(), timeout=10000)
    assert str(out) in dialog.status.text()
    assert (out / "Modelfile").is_file()
    assert dialog.open_button.isVisibleTo(dialog)


def test_runs_view_export_button_opens_the_dialog(session, qtbot):
    from PySide6.QtWidgets import QApplication

    from ui.views.runs.view import RunsView

    view = RunsView(session)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.loaded and view.export.isEnabled(), timeout=10000)
    assert view.export.model_action.isEnabled()
    view.export.model_action.trigger()
    qtbot.waitUntil(
        lambda: any(isinstance(w, ExportDialog) for w in QApplication.topLevelWidgets()),
        timeout=5000,
    )
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, ExportDialog))
    assert dialog.checkpoint_id == 1
    dialog.close()


def test_lineage_checkpoint_menu_exports_that_checkpoint(session, qtbot):
    from ui.views.runs.view import RunsView

    view = RunsView(session)
    qtbot.addWidget(view)
    view.show()
    table = view.lineage.checkpoints
    qtbot.waitUntil(lambda: table.rowCount() > 0, timeout=10000)
    pos = table.visualItemRect(table.item(0, 0)).center()
    assert view.checkpoint_menu.checkpoint_at(pos) == int(table.item(0, 0).text())
    view.checkpoint_menu.open(view.checkpoint_menu.checkpoint_at(pos))
    dialog = view.checkpoint_menu.dialog
    assert isinstance(dialog, ExportDialog) and dialog.isVisible()
    assert dialog.checkpoint_id == int(table.item(0, 0).text())
    dialog.close()
