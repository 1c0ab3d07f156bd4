"""The Runs view on real runs made with `workbench train`: the table with status and key
results, overlaid curves, the config diff, the lineage, a run started in a terminal that
streams into an open view, and a view opened later that loads a whole curve."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workbench.train_helpers import labelled_demo
from ui.session import ProjectSession
from ui.views.runs.table import COLUMNS
from ui.views.runs.view import RunsView
from workbench.cli import main
from workbench.project import Project

ROOT = Path(__file__).resolve().parents[2]
TINY = ["batch_size=4", "eval_every=2", "checkpoint_every=2", "samples_per_eval=0"]


def train(project_dir: Path, *settings: str) -> None:
    argv = ["train", str(project_dir), "--json"]
    for item in [*TINY, *settings]:
        argv += ["--set", item]
    assert main(argv) == 0


@pytest.fixture(scope="module")
def runs_project(tmp_path_factory) -> Path:
    """Two finished runs: #1 (2 steps) and #2 (4 steps from #1's checkpoint, other settings)."""
    folder = tmp_path_factory.mktemp("runs-view") / "p"
    labelled_demo(folder, prompts=12).close()
    train(folder, "max_steps=2", "name=first")
    train(
        folder,
        "max_steps=4",
        "learning_rate=1e-4",
        "lora.dropout=0.1",
        "init_checkpoint=1",
        "name=second",
    )
    return folder


@pytest.fixture
def open_view(qtbot):
    """`open_view(path)` -> a shown RunsView on its own session, closed after the test."""
    sessions = []

    def _open(path: Path) -> RunsView:
        session = ProjectSession(path)
        sessions.append(session)
        view = RunsView(session)
        qtbot.addWidget(view)
        view.resize(1200, 800)
        view.show()
        qtbot.waitUntil(lambda: view.loaded, timeout=10000)
        return view

    yield _open
    for session in sessions:
        session.close()


def cell(view: RunsView, run_id: int, column: str) -> str:
    row = view.model.position(run_id)
    return view.model.index(row, COLUMNS.index(column)).data()


def metric_count(path: Path, run_id: int, name: str) -> int:
    project = Project.open(path)
    try:
        return project.db.execute(
            "SELECT COUNT(*) FROM metrics WHERE run_id = ? AND name = ?", [run_id, name]
        ).fetchone()[0]
    finally:
        project.close()


def test_finished_runs_appear_with_status_and_key_results(open_view, runs_project):
    view = open_view(runs_project)
    assert view.model.rowCount() == 2
    for run_id, steps in ((1, "2 / 2"), (2, "4 / 4")):
        assert cell(view, run_id, "Status") == "done"
        assert cell(view, run_id, "Algorithm") == "dpo"
        assert cell(view, run_id, "Base model") == "workbench-demo-arith"
        assert cell(view, run_id, "Steps") == steps
        for column in ("Train loss", "Eval loss", "Eval acc.", "Ckpt.", "Duration"):
            assert cell(view, run_id, column) != "–", column
    assert cell(view, 2, "Name") == "second"
    # Newest first, and the newest run is selected so the charts show something at once.
    assert view.proxy.index(0, 0).data() == "2"
    assert view.selected_ids() == [2]


def test_selecting_two_runs_overlays_their_curves_and_diffs_their_configs(
    open_view, runs_project, qtbot
):
    view = open_view(runs_project)
    view.select_runs([1, 2])
    assert view.selected_ids() == [1, 2]
    qtbot.waitUntil(
        lambda: view.charts.point_count(1, "loss") == 2 and view.charts.point_count(2, "loss") == 4,
        timeout=10000,
    )
    assert view.charts.point_count(2, "eval_loss") == 2
    assert "loss" in view.charts.chart_names()
    assert view.model.colors.keys() == {1, 2}

    qtbot.waitUntil(lambda: view.diff.diff is not None, timeout=10000)
    keys = {key for key, _a, _b in view.diff.diff}
    assert {"max_steps", "learning_rate", "lora.dropout", "init_checkpoint", "name"} <= keys
    assert "batch_size" not in keys
    table = view.diff.table
    shown = {
        table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
        for r in range(table.rowCount())
    }
    assert shown["lora.dropout"] == ("0.05", "0.1")
    assert shown["init_checkpoint"] == ("(unset)", "1")
    assert "differ" in view.diff.note.text()

    view.select_runs([2])  # deselecting a run takes its curves away
    qtbot.waitUntil(lambda: view.charts.point_count(1, "loss") == 0)
    assert view.charts.point_count(2, "loss") == 4


def test_lineage_lists_the_labels_and_the_checkpoints(open_view, runs_project, qtbot):
    view = open_view(runs_project)
    view.tabs.setCurrentWidget(view.lineage)
    view.select_runs([2])
    lineage = view.lineage
    qtbot.waitUntil(lambda: lineage.result is not None and lineage.run_id == 2, timeout=10000)
    assert lineage.labels.rowCount() == 12
    assert {lineage.labels.item(r, 3).text() for r in range(12)} == {"rule"}
    assert lineage.labels.item(0, 2).text() == "a"
    assert [lineage.checkpoints.item(r, 1).text() for r in range(2)] == ["2", "4"]
    text = lineage.summary.text()
    assert "checkpoint #1" in text and "pairs" in text
    assert lineage.result["dataset"]["hash"][:16] in text


def test_a_view_opened_after_a_run_loads_its_whole_curve(open_view, runs_project, qtbot):
    view = open_view(runs_project)
    view.select_runs([2])
    stored = metric_count(runs_project, 2, "loss")
    qtbot.waitUntil(lambda: view.charts.point_count(2, "loss") == stored, timeout=10000)
    assert stored == 4


def start_cli_run(path: Path, steps: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "workbench.cli", "train", str(path), "--json"]
    for item in [
        "batch_size=4",
        "eval_every=10",
        "checkpoint_every=0",
        "samples_per_eval=0",
        f"max_steps={steps}",
        "name=terminal",
    ]:
        command += ["--set", item]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_a_run_started_in_a_terminal_appears_and_streams(open_view, runs_project, tmp_path, qtbot):
    path = tmp_path / "live"
    shutil.copytree(runs_project, path)
    view = open_view(path)
    process = start_cli_run(path, steps=300)
    try:
        qtbot.waitUntil(lambda: view.model.row_of(3) is not None, timeout=90000)
        assert cell(view, 3, "Name") == "terminal"
        view.select_runs([3])
        qtbot.waitUntil(lambda: view.charts.point_count(3, "loss") > 0, timeout=90000)
        first = view.charts.point_count(3, "loss")
        qtbot.waitUntil(lambda: view.charts.point_count(3, "loss") > first, timeout=90000)
        assert view.model.row_of(3)["status"] == "running"
        assert cell(view, 3, "Status") == "running"

        # A window opened mid-run loads the history, then goes on with it.
        grown = view.charts.point_count(3, "loss")
        later = open_view(path)
        later.select_runs([3])
        qtbot.waitUntil(lambda: later.charts.point_count(3, "loss") >= grown, timeout=30000)
        reached = later.charts.point_count(3, "loss")
        qtbot.waitUntil(lambda: later.charts.point_count(3, "loss") > reached, timeout=90000)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_metric_cells_say_how_many_examples_and_a_tiny_eval_set_is_greyed(open_view, runs_project):
    from PySide6.QtCore import Qt

    from ui.style import MUTED

    view = open_view(runs_project)
    model = view.model
    row = model.position(2)
    column = COLUMNS.index("Eval acc.")
    tip = model.data(model.index(row, column), Qt.ItemDataRole.ToolTipRole)
    count = model.row_of(2)["eval_examples"]
    assert f"over {count:,} eval examples" in tip
    colour = model.data(model.index(row, column), Qt.ItemDataRole.ForegroundRole)
    if count < 20:
        assert "fewer than 20" in tip and colour.name() == MUTED
    else:
        assert colour is None
    train_tip = model.data(
        model.index(row, COLUMNS.index("Train loss")), Qt.ItemDataRole.ToolTipRole
    )
    assert "training examples" in train_tip
