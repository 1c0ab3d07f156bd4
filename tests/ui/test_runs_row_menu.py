"""The Runs table's context menu: Rename…, Tags…, Note…, Open folder, Export model…,
Compare with base, Resume and Delete… on a run's row, each doing what
`workbench runs PROJECT rename|tag|note|delete` does; a live run cannot be deleted."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QInputDialog, QMessageBox

from tests.ui.conftest import make_project
from ui.views.common.export_dialog import ExportDialog
from ui.views.runs.table import COLUMNS
from workbench.comparing.choices import EntrantChoice
from workbench.jobs import queue as jobs
from workbench.jobs import worker_registry
from workbench.project import Project
from workbench.training import runs

MENU = [
    "Rename…",
    "Tags…",
    "Note…",
    "Open folder",
    "Export model…",
    "Compare with base",
    "Resume",
    "Copy",
    "",
    "Delete…",
]


def add_run(project: Project, name: str, status: str, checkpoint: bool = True) -> int:
    run_id = runs.create_run(
        project,
        algorithm="dpo",
        config={},
        dataset={},
        dataset_hash="h",
        model_id=project.setting("default_model_id"),
        parent_checkpoint_id=None,
        job_id=None,
        name=name,
        max_steps=4,
    )
    runs.record_metrics(project, run_id, 2, {"loss": 0.5})
    if checkpoint:
        folder = project.runs_dir / str(run_id) / "checkpoints" / "step-2"
        folder.mkdir(parents=True)
        (folder / "adapter_config.json").write_text("{}")
        runs.add_checkpoint(project, run_id, 2, folder, {})
    if status != "running":
        runs.end_run(project, run_id, status)
    return run_id


@pytest.fixture
def runs_window(open_window, tmp_path, qtbot):
    path = make_project(tmp_path / "p", train=4, eval_=2)
    project = Project.open(path)
    done = add_run(project, "finished", "done")
    stopped = add_run(project, "stopped one", "stopped")
    live = add_run(project, "training", "running", checkpoint=False)
    worker_id = worker_registry.register(project)  # a live worker: the window starts none
    window = open_window(path)
    view = window.show_view("Runs")
    qtbot.waitUntil(lambda: view.loaded and view.model.row_of(live) is not None, timeout=10000)
    yield window, view, project, (done, stopped, live)
    worker_registry.update(project, worker_id, status="stopped")
    project.close()


def action(view, run_id: int, text: str):
    menu = view.row_menu.menu_for(run_id)
    return next(a for a in menu.actions() if a.text() == text)


def name_cell(view, run_id: int) -> str:
    return view.model.index(view.model.position(run_id), COLUMNS.index("Name")).data()


def test_the_menu_offers_what_the_run_allows(runs_window):
    _, view, _, (done, stopped, live) = runs_window
    menu = view.row_menu.menu_for(done)
    assert [a.text() for a in menu.actions()] == MENU
    assert not action(view, done, "Resume").isEnabled()
    assert action(view, stopped, "Resume").isEnabled()
    assert action(view, done, "Delete…").isEnabled()
    assert not action(view, live, "Delete…").isEnabled()
    assert "stop it first" in action(view, live, "Delete…").toolTip()
    assert not action(view, live, "Export model…").isEnabled()  # no checkpoint yet
    assert not action(view, live, "Compare with base").isEnabled()


def test_rename_tags_and_note_from_the_menu(runs_window, qtbot):
    _, view, project, (done, _, _) = runs_window
    action(view, done, "Rename…").trigger()
    dialog = view.row_menu.dialog
    assert isinstance(dialog, QInputDialog) and dialog.textValue() == "finished"
    dialog.setTextValue("baseline")
    dialog.accept()
    qtbot.waitUntil(lambda: name_cell(view, done) == "baseline", timeout=5000)
    assert runs.get_run(project, done).name == "baseline"

    action(view, done, "Tags…").trigger()
    view.row_menu.dialog.setTextValue("best, lr 1e-4")
    view.row_menu.dialog.accept()
    qtbot.waitUntil(lambda: name_cell(view, done) == "baseline #best #lr 1e-4", timeout=5000)

    action(view, done, "Note…").trigger()
    view.row_menu.dialog.setTextValue("beta too low?")
    view.row_menu.dialog.accept()
    qtbot.waitUntil(lambda: view.model.row_of(done)["note"] == "beta too low?", timeout=5000)
    assert "Note: beta too low?" in view.model.index(
        view.model.position(done), COLUMNS.index("Name")
    ).data(3)  # ToolTipRole

    action(view, done, "Rename…").trigger()
    view.row_menu.dialog.setTextValue("   ")
    view.row_menu.dialog.accept()
    qtbot.waitUntil(lambda: "not empty" in view.notice.text(), timeout=5000)
    assert runs.get_run(project, done).name == "baseline"


def test_open_folder_and_export(runs_window, monkeypatch):
    _, view, project, (done, _, _) = runs_window
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    action(view, done, "Open folder").trigger()
    assert [Path(p) for p in opened] == [project.runs_dir / str(done)]
    action(view, done, "Export model…").trigger()
    dialog = view.row_menu.dialog
    assert isinstance(dialog, ExportDialog)
    dialog.reject()


def test_compare_with_base_preselects_the_checkpoint_against_the_base(runs_window, qtbot):
    window, view, project, (done, _, _) = runs_window
    checkpoint_id = runs.checkpoint_rows(project, done)[-1]["id"]
    action(view, done, "Compare with base").trigger()
    compare = window.views["Compare"]
    assert window.stack.currentWidget() is compare

    def picked():
        setup = compare.setup
        if not setup.options:
            return None
        baseline = setup.options[setup.baseline.currentIndex()].choice
        return baseline, [o.choice for o in setup.picked_others()]

    qtbot.waitUntil(
        lambda: picked() == (EntrantChoice(), [EntrantChoice(checkpoint_id=checkpoint_id)]),
        timeout=10000,
    )


def test_resume_queues_the_runs_resumption(runs_window, qtbot):
    _, view, project, (_, stopped, _) = runs_window
    action(view, stopped, "Resume").trigger()

    def queued():
        return [j.params for j in jobs.list_jobs(project) if j.kind == "train"]

    qtbot.waitUntil(lambda: {"resume_run_id": stopped} in queued(), timeout=5000)


def test_delete_asks_with_what_goes_and_removes_the_run(runs_window, qtbot):
    _, view, project, (done, _, _) = runs_window
    view.select_runs([done])  # charted and traced in the lineage tab
    qtbot.waitUntil(lambda: view.lineage.result is not None, timeout=5000)
    action(view, done, "Delete…").trigger()
    qtbot.waitUntil(lambda: isinstance(view.row_menu.dialog, QMessageBox), timeout=5000)
    box = view.row_menu.dialog
    assert "1 checkpoint" in box.text() and "1 metric value" in box.text()
    assert str(project.runs_dir / str(done)) in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert runs.get_run(project, done)  # kept

    action(view, done, "Delete…").trigger()
    qtbot.waitUntil(lambda: view.row_menu.dialog is not box, timeout=5000)
    delete = next(b for b in view.row_menu.dialog.buttons() if b.text() == "Delete")
    delete.click()
    qtbot.waitUntil(lambda: view.model.row_of(done) is None, timeout=5000)
    assert view.selected_ids() == [] and view.lineage.run_id is None
    assert "Deleted run" in view.notice.text()
    assert not (project.runs_dir / str(done)).exists()
    with pytest.raises(KeyError):
        runs.get_run(project, done)
