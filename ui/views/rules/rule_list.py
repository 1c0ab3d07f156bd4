"""The project's rules as a table (name, kind, weight, gate, enabled) with Add,
Duplicate and Delete. Rows are keyed by rule id; a new rule not yet saved has key NEW."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.rules import REGISTRY, RuleSpec
from ui.style import MUTED, WARN
from ui.table_columns import fit_columns

NEW = -1  # the key of a rule that exists only in the form so far
COLUMNS = ("Name", "Kind", "Weight", "Gate", "On")
ENABLED_COLUMN = 4
ROW_HEIGHT, MIN_ROWS, MAX_ROWS = 26, 3, 7
KEY_ROLE = Qt.ItemDataRole.UserRole
DISABLED = "#9aa1ab"


def kind_title(kind: str) -> str:
    cls = REGISTRY.get(kind)
    return cls.title if cls else f"{kind} (unknown kind)"


class RuleList(QWidget):
    currentChanged = Signal(object)  # key (int) or None
    enabledToggled = Signal(int, bool)  # key, enabled
    addRequested = Signal()
    duplicateRequested = Signal()
    deleteRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.keys: list[int] = []
        self.table = QTableWidget(0, len(COLUMNS), objectName="rulesTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.table.setShowGrid(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        head = self.table.horizontalHeader()
        head.setHighlightSections(False)
        head.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        fit_columns(self.table, text=(0, 1))  # name and kind; weight, gate and on fit
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemChanged.connect(self._item_changed)
        QShortcut(
            QKeySequence.StandardKey.Delete,
            self.table,
            self.deleteRequested.emit,
            context=Qt.ShortcutContext.WidgetShortcut,
        ).setWhatsThis("Delete the selected rule")

        self.add_button = QPushButton("Add rule…")
        self.add_button.setToolTip("Ctrl+N")
        self.add_button.clicked.connect(self.addRequested)
        self.duplicate_button = QPushButton("Duplicate")
        self.duplicate_button.clicked.connect(self.duplicateRequested)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete key")
        self.delete_button.clicked.connect(self.deleteRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.duplicate_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._fit_height(0)
        self._update_buttons()

    # Rows ----------------------------------------------------------------------------
    def set_rows(self, rows: list[tuple[int, RuleSpec, bool]], select: int | None) -> None:
        """`rows`: (key, spec, unsaved); selects `select` without emitting currentChanged."""
        self.table.blockSignals(True)
        self.keys = [key for key, _, _ in rows]
        self.table.setRowCount(len(rows))
        for row, (key, spec, unsaved) in enumerate(rows):
            self._fill(row, key, spec, unsaved)
        self.table.blockSignals(False)
        self._fit_height(len(rows))
        self.select(select)

    def _fit_height(self, rows: int) -> None:
        """As tall as the rules (3 to 7 rows): the form below gets the rest."""
        shown = min(max(rows, MIN_ROWS), MAX_ROWS)
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setFixedHeight(header + shown * ROW_HEIGHT + 4)

    def update_row(self, key: int, spec: RuleSpec, unsaved: bool) -> None:
        if key in self.keys:
            self.table.blockSignals(True)
            self._fill(self.keys.index(key), key, spec, unsaved)
            self.table.blockSignals(False)

    def _fill(self, row: int, key: int, spec: RuleSpec, unsaved: bool) -> None:
        name = QTableWidgetItem(spec.name + ("  •" if unsaved else ""))
        name.setData(KEY_ROLE, key)
        name.setToolTip("Unsaved changes" if unsaved else spec.name)
        if unsaved:
            font = name.font()
            font.setItalic(True)
            name.setFont(font)
        weight = QTableWidgetItem(f"{spec.weight:g}")
        weight.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        gate = QTableWidgetItem("gate" if spec.gate else "")
        gate.setForeground(QColor(WARN))
        gate.setToolTip("When this rule fails, the non-gate rules count nothing")
        kind = QTableWidgetItem(kind_title(spec.kind))
        enabled = QTableWidgetItem()
        enabled.setFlags(enabled.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        enabled.setCheckState(Qt.CheckState.Checked if spec.enabled else Qt.CheckState.Unchecked)
        enabled.setToolTip("Scored (enabled)" if spec.enabled else "Not scored (disabled)")
        for column, item in enumerate((name, kind, weight, gate, enabled)):
            if not spec.enabled and column != ENABLED_COLUMN:
                item.setForeground(QColor(DISABLED))
            self.table.setItem(row, column, item)

    def select(self, key: int | None) -> None:
        self.table.blockSignals(True)
        if key in self.keys:
            self.table.selectRow(self.keys.index(key))
        else:
            self.table.clearSelection()
        self.table.blockSignals(False)
        self._update_buttons()

    def current(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self.keys[rows[0].row()] if rows else None

    def names(self) -> list[str]:
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())]

    # Signals -------------------------------------------------------------------------
    @Slot()
    def _selection_changed(self) -> None:
        self._update_buttons()
        self.currentChanged.emit(self.current())

    @Slot(QTableWidgetItem)
    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == ENABLED_COLUMN:
            key = self.keys[item.row()]
            self.enabledToggled.emit(key, item.checkState() == Qt.CheckState.Checked)

    def _update_buttons(self) -> None:
        selected = self.current() is not None
        self.duplicate_button.setEnabled(selected)
        self.delete_button.setEnabled(selected)


GATE_NOTE = (
    f"<span style='color:{MUTED}'>Reward = Σ weight × score of the enabled rules; when a "
    "<b>gate</b> rule fails, only the gate rules count.</span>"
)
