"""The review queue as a table: one AI label per row, with the judge's pick, its
confidence, what a person and the rules said about the same pair, and the prompt."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QTableWidget, QTableWidgetItem

from ui.style import BAD
from ui.table_columns import fit_columns
from workbench.judging.review import ReviewRow

COLUMNS = ("Judge's pick", "Confidence", "Human", "Rule", "Prompt")
SOURCE_COLUMNS = {2: "human", 3: "rule"}
SHOWN = {"a": "A", "b": "B", "tie": "tie", None: "–"}


def cells(row: ReviewRow) -> list[str]:
    confidence = "?" if row.confidence is None else f"{row.confidence:.2f}"
    prompt = " ".join(row.prompt.split())
    return [
        SHOWN.get(row.outcome, row.outcome),
        confidence,
        SHOWN.get(row.human, row.human),
        SHOWN.get(row.rule, row.rule),
        prompt,
    ]


class ReviewTable(QTableWidget):
    rowChosen = Signal(object)  # the ReviewRow, or None

    def __init__(self):
        super().__init__(0, len(COLUMNS), objectName="reviewTable")
        self.rows: list[ReviewRow] = []
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(24)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # The panel's keys move the selection; a focused table would take the arrows first.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        head = self.horizontalHeader()
        head.setHighlightSections(False)
        head.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        fit_columns(self)
        self.itemSelectionChanged.connect(self._selection_changed)

    def set_rows(self, rows: list[ReviewRow], index: int = 0) -> None:
        """Show ``rows`` and select the one at ``index`` (clamped), e.g. the next after a
        review removed the reviewed one."""
        self.blockSignals(True)
        self.rows = rows
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for column, text in enumerate(cells(row)):
                item = QTableWidgetItem(text)
                if SOURCE_COLUMNS.get(column) in row.disagrees_with:
                    item.setForeground(QColor(BAD))
                self.setItem(r, column, item)
        self.blockSignals(False)
        if rows:
            self.selectRow(min(max(index, 0), len(rows) - 1))
        else:
            self.clearSelection()
        self._selection_changed()

    def current(self) -> ReviewRow | None:
        index = self.currentRow()
        return self.rows[index] if 0 <= index < len(self.rows) and self.selectedItems() else None

    def move(self, delta: int) -> None:
        if self.rows:
            self.selectRow(min(max(self.currentRow() + delta, 0), len(self.rows) - 1))

    @Slot()
    def _selection_changed(self) -> None:
        self.rowChosen.emit(self.current())
