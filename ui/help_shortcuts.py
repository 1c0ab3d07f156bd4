"""Help › Keyboard shortcuts: read from the window's own actions and shortcuts when it
opens, so the list cannot drift from what the keys do."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

NATIVE = QKeySequence.SequenceFormat.NativeText


@dataclass(frozen=True)
class ShortcutRow:
    where: str  # a menu, or the view the keys work in
    what: str
    keys: str


def _place(widget: QWidget | None) -> str:
    """The view a widget belongs to (its first ancestor named …View), else "Window"."""
    while widget is not None:
        name = type(widget).__name__
        if name.endswith("View") and name not in ("QTableView", "QListView", "QTreeView"):
            return name.removesuffix("View") or "Window"
        widget = widget.parentWidget()
    return "Window"


def _menu_rows(window: QMainWindow) -> list[ShortcutRow]:
    rows = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        for action in menu.actions():
            keys = ", ".join(k.toString(NATIVE) for k in action.shortcuts() if not k.isEmpty())
            if keys:
                where = menu_action.text().replace("&", "") + " menu"
                rows.append(ShortcutRow(where, action.text().replace("&", ""), keys))
    return rows


def _widget_rows(window: QMainWindow) -> list[ShortcutRow]:
    found: dict[tuple[str, str], list[str]] = {}
    for shortcut in window.findChildren(QShortcut):
        if shortcut.whatsThis() and not shortcut.key().isEmpty():
            owner = shortcut.parent()
            place = _place(owner if isinstance(owner, QWidget) else None)
            found.setdefault((place, shortcut.whatsThis()), []).append(
                shortcut.key().toString(NATIVE)
            )
    for button in window.findChildren(QAbstractButton):
        if not button.shortcut().isEmpty() and button.text():
            found.setdefault((_place(button), button.text().replace("&", "")), []).append(
                button.shortcut().toString(NATIVE)
            )
    rows = [ShortcutRow(w, what, ", ".join(dict.fromkeys(k))) for (w, what), k in found.items()]
    return sorted(rows, key=lambda r: (r.where, r.what))


def collect_shortcuts(window: QMainWindow) -> list[ShortcutRow]:
    """Every shortcut: the menus' first, then each view's keys. A view's keys exist once
    it is built, and views are built on their first visit (ui/lazy_views.py): the ones
    not shown yet are built now."""
    views = getattr(window, "views", {})
    for name in views:
        views[name]
    menus = _menu_rows(window)
    seen = {(row.what, row.keys) for row in menus}
    return menus + [row for row in _widget_rows(window) if (row.what, row.keys) not in seen]


class ShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(620, 560)
        rows = collect_shortcuts(window)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Where", "What", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for i, row in enumerate(rows):
            for j, text in enumerate((row.where, row.what, row.keys)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(i, j, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)


def add_shortcuts_action(menu, window: QMainWindow) -> QAction:
    action = menu.addAction("&Keyboard shortcuts")
    action.setShortcuts([QKeySequence("Ctrl+/"), QKeySequence("F1")])
    action.triggered.connect(lambda _checked=False: ShortcutsDialog(window).exec())
    return action
