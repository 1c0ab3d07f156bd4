"""The stored comparisons, newest first: opening one shows its grid at once, from the
completions and scores already stored (nothing is generated)."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget


def item_text(comparison: dict[str, Any]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(comparison["created_at"]))
    return (
        f"#{comparison['id']}  {comparison['name']}\n"
        f"{comparison['prompts']} prompts, {comparison['decoding']} · {when}"
    )


class StoredComparisons(QWidget):
    opened = Signal(int)  # comparison id

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setMinimumHeight(120)
        self.list.setWordWrap(True)
        # Items wrap to the list's width (a horizontal bar showed under wrapped items).
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Show this comparison's grid (generates nothing)")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_current)
        self.list.itemDoubleClicked.connect(self.open_current)
        self.list.currentRowChanged.connect(lambda row: self.open_button.setEnabled(row >= 0))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignRight)

    def set_comparisons(self, comparisons: list[dict[str, Any]]) -> None:
        current = self.current_id()
        self.list.clear()
        for comparison in comparisons:
            item = QListWidgetItem(item_text(comparison))
            item.setData(Qt.ItemDataRole.UserRole, comparison["id"])
            item.setToolTip("\n".join(comparison["entrants"]))
            self.list.addItem(item)
            if comparison["id"] == current:
                self.list.setCurrentItem(item)
        if not comparisons:
            empty = QListWidgetItem("No comparison yet.")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(empty)

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def ids(self) -> list[int]:
        found = (self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count()))
        return [i for i in found if i is not None]

    @Slot()
    def open_current(self, *_args) -> None:
        comparison_id = self.current_id()
        if comparison_id is not None:
            self.opened.emit(comparison_id)
