"""The comparison grid: one row per prompt, the prompt then one column per entrant
(baseline first). A table model over the rows `figures` gives (no widget per cell), a
proxy that keeps the rows the filters ask for, and the view with its multi-line headers."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from ui.cell_text import FULL_TEXT_ROLE
from ui.views.compare.cells import (
    ALL,
    cell_text,
    cell_tooltip,
    elide,
    header_text,
    reward_name,
    row_matches,
)

Index = QModelIndex | QPersistentModelIndex
TINTS = {"improved": QColor("#e3f5e8"), "regressed": QColor("#fbe5e3")}
ALL_FAIL_TEXT = QColor("#7a818b")
ROW_HEIGHT = 62
PROMPT_WIDTH = 160
MIN_ENTRANT_WIDTH = 240  # narrower columns scroll sideways rather than squeeze the text


class CompareGridModel(QAbstractTableModel):
    """Column 0 is the prompt; column k (k >= 1) is entrant k - 1, the baseline first."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result: dict[str, Any] | None = None
        self.rows: list[dict[str, Any]] = []
        self.rules: list[str] = []

    def set_result(self, result: dict[str, Any] | None) -> None:
        self.beginResetModel()
        self.result = result
        self.rows = list(result["rows"]) if result else []
        self.rules = list(result["rules"]) if result else []
        self.endResetModel()

    def append_rows(self, rows: list[dict[str, Any]]) -> None:
        """Rows read after the headers (a slice at a time), added below the others."""
        if not rows or self.result is None:
            return
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        if parent.isValid() or self.result is None:
            return 0
        return 1 + len(self.result["models"])

    def cell(self, row: int, column: int) -> dict[str, Any] | None:
        """The entrant's cell at a model position, or None for the prompt column."""
        return None if column == 0 else self.rows[row]["entrants"][column - 1]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        cell = self.cell(index.row(), index.column())
        if cell is None:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"#{row['prompt_id']}  {elide(row['prompt'], 90)}"
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{row['prompt']}\n\nReference: {row['reference']}"
            if role == FULL_TEXT_ROLE:
                return f"#{row['prompt_id']}  {row['prompt']}"
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(cell, self.rules)
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell_tooltip(cell)
        if role == FULL_TEXT_ROLE:  # Copy takes the whole answers, not the elided one
            return "\n\n".join(a["text"] for a in cell["answers"])
        if role == Qt.ItemDataRole.BackgroundRole:
            return TINTS.get(cell["verdict"] or "")
        if role == Qt.ItemDataRole.ForegroundRole and cell["verdict"] == "all-fail":
            return ALL_FAIL_TEXT
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical or self.result is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section == 0:
                return f"Prompt\n{len(self.rows)} in all"
            model = self.result["models"][section - 1]
            return header_text(
                model, self.rules, baseline=section == 1, reward=reward_name(self.result)
            )
        if role == Qt.ItemDataRole.ToolTipRole and section > 0:
            source = self.result.get("reward") or {}
            by = (
                f"the reward model {source['label']} (checkpoint {source['checkpoint_id']})"
                if source.get("source") == "reward_model"
                else "the rules' weighted total"
            )
            return (
                "Pass rate per rule with its 95% Wilson interval, mean length, and mean "
                f"reward: {by}; a cell's (+/-) is its reward minus the baseline's"
            )
        return None


class RowFilter(QSortFilterProxyModel):
    """Keeps the rows whose verdicts, rule failures and text match (cells.row_matches)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.verdict = ALL
        self.rule: str | None = None
        self.search = ""

    def set_filter(self, verdict: str, rule: str | None, search: str) -> None:
        self.beginFilterChange()
        self.verdict, self.rule, self.search = verdict, rule, search
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        source = self.sourceModel()
        assert isinstance(source, CompareGridModel)
        return row_matches(source.rows[source_row], self.verdict, self.rule, self.search)


class CompareGrid(QTableView):
    def __init__(self, model: CompareGridModel, proxy: RowFilter, parent: QWidget | None = None):
        super().__init__(parent)
        proxy.setSourceModel(model)
        self.setModel(proxy)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(ROW_HEIGHT)  # fixed: no measuring of 1000 cells to scroll
        rows.hide()
        columns = self.horizontalHeader()
        columns.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        model.modelReset.connect(self._size_columns)

    def _size_columns(self) -> None:
        """The prompt column, then the entrants sharing the width left (scrolling
        sideways only when they would be narrower than MIN_ENTRANT_WIDTH)."""
        entrants = self.model().columnCount() - 1
        if entrants < 1:
            return
        self.setColumnWidth(0, PROMPT_WIDTH)
        left = self.viewport().width() - PROMPT_WIDTH
        width = max(MIN_ENTRANT_WIDTH, left // entrants)
        for column in range(1, entrants + 1):
            self.setColumnWidth(column, width)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._size_columns()
