"""Sweeps and run health in the window: a sweep run with `workbench sweep --now` shows in
the Runs view's Sweeps tab as a table and a chart with the best run marked, its runs can be
selected in one click, its best checkpoint is offered in the Compare view; the Train view's
sweep dialog checks every point before queuing; a run's warnings show in the Runs table."""

from __future__ import annotations

import json
from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from tests.workbench.train_helpers import labelled_demo
from ui.session import ProjectSession
from ui.views.runs.table import COLUMNS
from ui.views.runs.view import RunsView
from ui.views.train.sweep_dialog import SweepDialog, sweepable
from workbench.cli import main
from workbench.project import Project
from workbench.training import runs
from workbench.training.health import WARNING_PREFIX

TINY = ["batch_size=4", "eval_every=2", "checkpoint_every=2", "max_steps=2"]


@pytest.fixture(scope="module")
def sweep_project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sweep-view") / "p"
    labelled_demo(folder, prompts=12, eval_prompts=8).close()
    argv = ["sweep", str(folder), "--grid", "beta=0.5,1.0", "--now", "--json"]
    for item in [*TINY, "samples_per_eval=8", "sample_max_new_tokens=8"]:
        argv += ["--set", item]
    assert main(argv) == 0
    return folder


@pytest.fixture
def view(qtbot, sweep_project):
    session = ProjectSession(sweep_project)
    runs_view = RunsView(session)
    qtbot.addWidget(runs_view)
    runs_view.resize(1200, 800)
    runs_view.show()
    qtbot.waitUntil(lambda: runs_view.loaded, timeout=10000)
    yield runs_view
    session.close()


def test_the_sweeps_tab_shows_the_table_chart_and_selects_the_runs(view, qtbot):
    view.tabs.setCurrentWidget(view.sweeps)
    panel = view.sweeps
    qtbot.waitUntil(lambda: panel.shown is not None, timeout=10000)
    table = panel.table
    assert table.rowCount() == 2
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[:3] == ["beta", "Run", "Status"]
    assert "answer pass rate" in headers and "format pass rate" in headers
    assert [table.item(r, 0).text() for r in range(2)] == ["0.5", "1.0"]
    assert "best on 'answer'" in panel.status.text()
    (bars,) = [i for i in panel.chart.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert len(bars.opts["height"]) == 2 and all(0 <= h <= 1 for h in bars.opts["height"])
    panel.select.click()
    assert sorted(view.selected_ids()) == [1, 2]


def test_a_runs_warnings_show_in_the_runs_table(view, qtbot, sweep_project):
    project = Project.open(sweep_project)
    runs.log(project, 1, f"{WARNING_PREFIX}The loss is flat. Try: a larger learning_rate.")
    project.close()
    column = COLUMNS.index("Health")

    def health(run_id: int):
        return view.model.index(view.model.position(run_id), column)

    qtbot.waitUntil(lambda: health(1).data() == "⚠ 1 warning", timeout=10000)
    assert "larger learning_rate" in health(1).data(Qt.ItemDataRole.ToolTipRole)
    assert health(2).data() == ""


def test_the_compare_view_offers_the_best_of_each_sweep(sweep_project):
    from ui.views.compare.reads import entrant_options

    project = Project.open(sweep_project)
    labels = [o.label for o in entrant_options(project)]
    project.close()
    best = [label for label in labels if label.startswith("best of sweep 1: beta=")]
    assert len(best) == 1


def test_the_sweep_dialog_checks_every_point(qtbot):
    config = {"algorithm": "dpo", "beta": 1.0, "learning_rate": 5e-4, "seed": 0, "name": None}
    assert sweepable(config)[:3] == ["beta", "learning_rate", "seed"]
    dialog = SweepDialog(config)
    qtbot.addWidget(dialog)
    dialog.values[0].setText("0.1, -1")
    dialog._accept()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "beta=-1" in dialog.problem.text()
    dialog.values[0].setText("0.1, 0.5")
    dialog.settings[1].setCurrentText("learning_rate")
    dialog.values[1].setText("5e-4, 1e-3")
    dialog._accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.grid() == {"beta": [0.1, 0.5], "learning_rate": [5e-4, 1e-3]}


def test_the_train_view_queues_a_sweep(open_window, project_path, qtbot, monkeypatch):
    window = open_window(project_path)
    view = window.show_view("Train")

    def accept_a_grid(dialog):
        dialog.values[0].setText("0.5, 1.0")
        dialog._accept()
        return dialog.result()

    monkeypatch.setattr(SweepDialog, "exec", accept_a_grid)
    qtbot.waitUntil(lambda: view.sweep_button.isEnabled())
    view.open_sweep()
    qtbot.waitUntil(lambda: "runs queued" in view.problem.text(), timeout=10000)
    project = Project.open(project_path)
    params = [
        json.loads(p)
        for (p,) in project.db.execute("SELECT params FROM jobs WHERE kind = 'train' ORDER BY id")
    ]
    project.close()
    assert [p["config"]["beta"] for p in params] == [0.5, 1.0]
    assert len({p["sweep_id"] for p in params}) == 1
