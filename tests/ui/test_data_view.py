"""The Data view: lazy paging, split filter, search, import (good and bad files), export."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QMessageBox

from ui.views.common.prompt_table import PAGE_SIZE
from ui.views.data.import_dialogs import ImportErrorsDialog
from workbench.data.prompts import count_prompts
from workbench.project import Project


def data_view(open_window, path, qtbot):
    window = open_window(path)
    view = window.show_view("Data")
    qtbot.waitUntil(lambda: view.model.ready and len(view.splits) == 2)
    return view


def test_lists_prompts_a_page_at_a_time(open_window, project_path, qtbot):
    view = data_view(open_window, project_path, qtbot)
    model = view.model
    assert model.total == 451
    assert len(model.rows) == PAGE_SIZE  # not all 451 at once
    assert model.canFetchMore()
    model.fetchMore()
    qtbot.waitUntil(lambda: len(model.rows) == 2 * PAGE_SIZE)
    assert model.data(model.index(0, 2)) == "What is 0 + 0?"
    assert model.data(model.index(0, 3)) == "0"
    assert "451 prompts" in view.status.text()


def test_filters_by_split_and_search(open_window, project_path, qtbot):
    view = data_view(open_window, project_path, qtbot)
    assert view.split_combo.itemText(1) == "eval (151)"
    view.set_split("eval")
    qtbot.waitUntil(lambda: view.model.ready and view.model.total == 151)
    assert {r.split for r in view.model.rows} == {"eval"}
    view.search.setText("NEEDLE")  # case-insensitive, debounced
    qtbot.waitUntil(lambda: view.model.ready and view.model.total == 1, timeout=3000)
    assert view.model.rows[0].text == "Find the needle here"
    view.set_split(None)
    view.search.setText("haystack")  # references are searched too
    qtbot.waitUntil(lambda: view.model.ready and view.model.search == "haystack")
    assert view.model.total == 1
    view.table.selectRow(0)
    assert "Find the needle here" in view.details.toPlainText()


def test_importing_a_file_with_bad_lines_lists_them_and_changes_nothing(
    open_window, project_path, tmp_path, qtbot
):
    view = data_view(open_window, project_path, qtbot)
    bad = tmp_path / "bad.jsonl"
    lines = [
        json.dumps({"prompt": "fine"}),
        "{not json",
        json.dumps({"prompt": ""}),
        json.dumps({"prompt": "also fine", "split": "eval"}),
        json.dumps({"no_prompt_here": 1}),
    ]
    bad.write_text("\n".join(lines) + "\n")
    task = view.start_import(str(bad))
    with qtbot.waitSignal(task.failed, timeout=15000):
        pass
    dialog = view.transfer.last_dialog
    assert isinstance(dialog, ImportErrorsDialog) and dialog.isVisible()
    shown_lines = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert shown_lines == ["2", "3", "5"]
    assert all(dialog.table.item(r, 1).text() for r in range(3))
    assert "Nothing was imported" in dialog.headline.text()
    project = Project.open(project_path)
    try:
        assert count_prompts(project) == 451
    finally:
        project.close()


def test_importing_a_good_file_adds_prompts_and_refreshes(
    open_window, project_path, tmp_path, qtbot
):
    view = data_view(open_window, project_path, qtbot)
    good = tmp_path / "good.csv"
    good.write_text("prompt,split,reference\nHello?,test,hi\nBye?,,bye\n")
    task = view.start_import(str(good), default_split="train")
    with qtbot.waitSignal(task.succeeded, timeout=15000):
        pass
    box = view.transfer.last_dialog
    assert isinstance(box, QMessageBox) and "Imported 2 prompts" in box.text()
    qtbot.waitUntil(lambda: view.splits.get("test") == 1 and view.model.total == 453)


def test_export_writes_the_chosen_split(open_window, project_path, tmp_path, qtbot):
    view = data_view(open_window, project_path, qtbot)
    out = tmp_path / "eval.jsonl"
    task = view.start_export(str(out), "eval")
    with qtbot.waitSignal(task.succeeded, timeout=15000):
        pass
    assert len(out.read_text().splitlines()) == 151
    assert "Exported 151 prompts" in view.transfer.last_dialog.text()
