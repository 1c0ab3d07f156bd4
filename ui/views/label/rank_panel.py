"""Ranking N completions of one prompt: a list, best at the top, reordered by dragging or
with Alt+↑/Alt+↓ on the selected one; Enter stores the full order."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.style import set_muted, set_primary
from ui.views.common.label_keys import key_button
from ui.views.label.completion_pane import finish_text
from ui.views.label.note import NoteField
from ui.views.label.pair_panel import SKIP_KEYS, UNDO_KEYS
from ui.views.label.prompt import PromptPane
from workbench.labels.queue import Task

ID_ROLE = Qt.ItemDataRole.UserRole
LIST_STYLE = """
QListWidget#rankList { font-size: 13pt; }
QListWidget#rankList::item { padding: 8px 6px; border-bottom: 1px solid #eef0f3; }
QListWidget#rankList::item:selected { background: #d6e4fb; color: #1d2127; }
"""
HINT = (
    "Best at the top. Drag to reorder, or pick one with ↑/↓ and move it with "
    "Alt+↑/Alt+↓; Enter stores the whole order."
)


class LabelRankPanel(QWidget):
    ranked = Signal(list)  # completion ids, best first
    allBad = Signal()
    skipped = Signal()
    undoRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, objectName="labelRankPanel")
        self.task: Task | None = None
        self.prompt = PromptPane()
        self.list = QListWidget(objectName="rankList")
        self.list.setStyleSheet(LIST_STYLE)
        self.list.setWordWrap(True)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.model().rowsMoved.connect(self._renumber)
        self.setFocusProxy(self.list)
        self.hint = QLabel(HINT, wordWrap=True)
        set_muted(self.hint)
        self.note = NoteField(self)
        self.up_button = key_button(self, "Move up", ("Alt+Up",), lambda: self.move(-1))
        self.down_button = key_button(self, "Move down", ("Alt+Down",), lambda: self.move(1))
        self.submit_button = key_button(
            self, "Store ranking", ("Return", "Enter"), self.submit, shown_keys=("Return",)
        )
        set_primary(self.submit_button)
        self.all_bad_button = key_button(self, "All bad", ("B",), self._all_bad)
        self.skip_button = key_button(self, "Skip", SKIP_KEYS, self.skipped.emit)
        # Undo's keys belong to the whole view: a label can be undone from the empty state too.
        self.undo_button = key_button(self, "Undo", (), self.undoRequested.emit, UNDO_KEYS)
        self._layout()

    def _layout(self) -> None:
        row = QHBoxLayout()
        for button in (self.submit_button, self.up_button, self.down_button, self.all_bad_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.skip_button)
        row.addWidget(self.undo_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.prompt)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.note)
        layout.addLayout(row)

    def show_task(self, task: Task) -> None:
        self.task = task
        self.prompt.show_task(task)
        self.list.clear()
        for shown in task.completions:
            item = QListWidgetItem()
            item.setData(ID_ROLE, shown.id)
            item.setData(
                ID_ROLE + 1, f"{shown.text.strip() or '(empty completion)'}\n({finish_text(shown)})"
            )
            self.list.addItem(item)
        self._renumber()
        self.list.setCurrentRow(0)

    def ranking(self) -> list[int]:
        return [self.list.item(row).data(ID_ROLE) for row in range(self.list.count())]

    def move(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.setCurrentRow(target)
        self._renumber()

    def submit(self) -> None:
        if self.note.hasFocus():  # Enter in the note ends the note, it does not store
            self.list.setFocus()
            return
        if self.task is not None:
            self.ranked.emit(self.ranking())

    def _all_bad(self) -> None:
        if self.task is not None and not self.note.hasFocus():
            self.allBad.emit()

    def _renumber(self, *_args) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setText(f"{row + 1}.  {item.data(ID_ROLE + 1)}")
