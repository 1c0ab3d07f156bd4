"""Help: the keyboard shortcuts, read from the window's actions, and README's sections."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence

from ui.help_docs import sections
from ui.help_shortcuts import ShortcutsDialog, collect_shortcuts
from workbench.project import Project


def test_the_shortcut_list_follows_the_actions(open_window, tmp_path, qtbot):
    Project.create(tmp_path / "p").close()
    window = open_window(tmp_path / "p")
    rows = collect_shortcuts(window)
    listed = {(row.where, row.what): row.keys for row in rows}
    native = QKeySequence.SequenceFormat.NativeText
    view_menu = {what: keys for (where, what), keys in listed.items() if where == "View menu"}
    for action in window.view_actions:  # every view's key, as the menu has it
        assert view_menu[action.text()] == action.shortcut().toString(native)
    assert ("Label", "Undo the last label") in listed  # a view's own keys, with their view
    assert any(row.what.startswith("Left better") for row in rows)
    # Change a key: the list follows.
    window.view_actions[0].setShortcut(QKeySequence("Ctrl+Shift+0"))
    again = {(r.where, r.what): r.keys for r in collect_shortcuts(window)}
    assert again[("View menu", window.view_actions[0].text())] == QKeySequence(
        "Ctrl+Shift+0"
    ).toString(native)
    dialog = ShortcutsDialog(window)
    assert dialog.table.rowCount() == len(rows)


def test_readme_sections_split_at_second_level_headings():
    text = "# Title\nintro\n## One\na\n### sub\nb\n## Two\nc\n"
    assert sections(text) == [("One", "## One\na\n### sub\nb\n"), ("Two", "## Two\nc\n")]


def test_the_help_menu_lists_readme_sections(open_window, tmp_path, qtbot):
    Project.create(tmp_path / "p").close()
    window = open_window(tmp_path / "p")
    help_menu = next(a.menu() for a in window.menuBar().actions() if "Help" in a.text())
    docs = next(a.menu() for a in help_menu.actions() if a.menu() is not None)
    docs.aboutToShow.emit()
    titles = [a.text() for a in docs.actions()]
    assert "Two commands" in titles and "The command line" in titles
