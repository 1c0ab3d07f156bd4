"""The "Compare configs" panel: the settings in which two runs differ, side by side."""

from __future__ import annotations

import functools
import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.db_runner import DbRunner
from ui.messages import explain
from ui.style import set_muted
from workbench.training.history import config_diff

HINT = "Select two runs in the table (Ctrl+click) to see the settings in which they differ."


def shown(value: Any) -> str:
    if value is None:
        return "(unset)"
    return value if isinstance(value, str) else json.dumps(value)


class ConfigDiffPanel(QWidget):
    def __init__(self, runner: DbRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.pair: tuple[dict, dict] | None = None
        self.diff: list[tuple[str, Any, Any]] | None = None
        self.note = QLabel(HINT, wordWrap=True)
        set_muted(self.note)
        self.table = QTableWidget(0, 3, objectName="configDiff")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setHorizontalHeaderLabels(["Setting", "Run A", "Run B"])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)

    def show_pair(self, runs: list[dict]) -> None:
        """Compare the first two of `runs` (overview rows), or explain what to select."""
        pair = (runs[0], runs[1]) if len(runs) >= 2 else None
        if (
            pair is not None
            and self.pair is not None
            and [r["id"] for r in pair] == [r["id"] for r in self.pair]
        ):
            return
        self.pair, self.diff = pair, None
        self.table.setRowCount(0)
        if pair is None:
            self.note.setText(HINT)
            return
        a, b = pair
        self.table.setHorizontalHeaderLabels(["Setting", _name(a), _name(b)])
        self.note.setText(f"Comparing {_name(a)} with {_name(b)}…")
        self.runner.call(
            config_diff,
            a["id"],
            b["id"],
            on_done=functools.partial(self._show, (a["id"], b["id"]), len(runs)),
            on_error=self._failed,
        )

    def _show(self, ids: tuple[int, int], selected: int, diff) -> None:
        if self.pair is None or (self.pair[0]["id"], self.pair[1]["id"]) != ids:
            return  # the selection changed meanwhile
        self.diff = diff
        self.table.setRowCount(len(diff))
        for row, (key, a, b) in enumerate(diff):
            for column, text in enumerate((key, shown(a), shown(b))):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == 0:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, item)
        a, b = self.pair
        what = (
            f"{len(diff)} setting{'s' if len(diff) != 1 else ''} differ"
            if diff
            else "Same settings"
        )
        extra = f" (the first two of the {selected} selected runs)" if selected > 2 else ""
        self.note.setText(f"{what}: {_name(a)} vs {_name(b)}{extra}.")

    def _failed(self, error) -> None:
        self.note.setText(f"Cannot compare: {explain(error).what}")


def _name(row: dict) -> str:
    return f"#{row['id']} {row.get('name') or row['algorithm']}"
