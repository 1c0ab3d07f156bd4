"""The Data view: the project's prompts with their splits and reference answers; filter,
search, import and export."""

from __future__ import annotations

import html
import json

from PySide6.QtCore import QItemSelection, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ui.session import ProjectSession
from ui.style import set_muted, set_primary
from ui.table_columns import fit_columns
from ui.views.common.prompt_table import PromptTableModel
from ui.views.data.import_dialogs import ExportDialog, ImportDialog
from ui.views.data.prompt_transfer import PromptTransfer
from ui.widgets import view_header
from workbench.data.prompts import PromptRecord, split_counts

SEARCH_DEBOUNCE_MS = 250


class DataView(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.splits: dict[str, int] = {}
        self.model = PromptTableModel(session.runner, self)
        self.transfer = PromptTransfer(self, session.path)
        self.transfer.imported.connect(self._after_import)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self._apply_filter)

        header, _, _ = view_header(
            "Data", "Prompts the model is sampled on, with their split and reference answer."
        )
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self._table())
        self.details = QTextBrowser(objectName="promptDetails")
        self.details.setPlaceholderText("Select a prompt to see it in full.")
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([520, 150])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addWidget(header)
        layout.addLayout(self._toolbar())
        layout.addWidget(splitter, 1)
        self.model.loaded.connect(self._on_loaded)
        self.model.set_filter(None, None)

    def _toolbar(self) -> QHBoxLayout:
        self.split_combo = QComboBox(minimumContentsLength=16)
        self.split_combo.addItem("All splits", None)
        self.split_combo.currentIndexChanged.connect(self._apply_filter)
        self.search = QLineEdit(placeholderText="Search prompts and references…")
        self.search.setClearButtonEnabled(True)
        # Each keystroke restarts the timer: the query runs 250 ms after the last one.
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.status = QLabel("Loading…")
        set_muted(self.status)
        self.import_button = QPushButton("Import…")
        set_primary(self.import_button)
        self.import_button.clicked.connect(self._ask_import)
        export = QPushButton("Export…")
        export.clicked.connect(self._ask_export)
        row = QHBoxLayout()
        row.addWidget(QLabel("Split"))
        row.addWidget(self.split_combo)
        row.addWidget(self.search, 1)
        row.addWidget(self.status)
        row.addSpacing(8)
        row.addWidget(self.import_button)
        row.addWidget(export)
        return row

    def _table(self) -> QTableView:
        self.table = QTableView(objectName="promptsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        head = self.table.horizontalHeader()
        head.setHighlightSections(False)
        head.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        fit_columns(self.table, text=(2, 3, 4))  # prompt, reference, tags: text however short
        self.table.selectionModel().selectionChanged.connect(self._show_selected)
        return self.table

    # Filter --------------------------------------------------------------------------
    def set_split(self, split: str | None) -> None:
        index = self.split_combo.findData(split)
        self.split_combo.setCurrentIndex(max(index, 0))

    @Slot()
    def _apply_filter(self) -> None:
        self._search_timer.stop()
        self.details.clear()
        self.model.set_filter(self.split_combo.currentData(), self.search.text().strip())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_counts()  # prompts may have been imported from the command line

    def refresh_counts(self) -> None:
        self.session.runner.call(split_counts, on_done=self._show_counts)

    def _show_counts(self, counts: dict[str, int]) -> None:
        self.splits = counts
        current = self.split_combo.currentData()
        self.split_combo.blockSignals(True)
        self.split_combo.clear()
        self.split_combo.addItem(f"All splits ({sum(counts.values()):,})", None)
        for name, n in counts.items():
            self.split_combo.addItem(f"{name} ({n:,})", name)
        self.split_combo.setCurrentIndex(max(self.split_combo.findData(current), 0))
        self.split_combo.blockSignals(False)

    @Slot(int, int)
    def _on_loaded(self, shown: int, total: int) -> None:
        if total == 0:
            empty = not self.model.search and self.model.split is None
            self.status.setText("No prompts yet: use Import…" if empty else "No prompt matches")
        elif shown < total:
            self.status.setText(f"{total:,} prompts · {shown:,} loaded, scroll for more")
        else:
            self.status.setText(f"{total:,} prompt{'s' if total != 1 else ''}")

    # Details -------------------------------------------------------------------------
    @Slot(QItemSelection, QItemSelection)
    def _show_selected(self, selected: QItemSelection, _old: QItemSelection) -> None:
        rows = selected.indexes()
        if rows:
            self.details.setHtml(prompt_html(self.model.rows[rows[0].row()]))

    # Import / export -----------------------------------------------------------------
    def _ask_import(self) -> None:
        dialog = ImportDialog(self, list(self.splits))
        if dialog.exec():
            self.start_import(dialog.path.text().strip(), dialog.default_split())

    def start_import(self, path: str, default_split: str = "train"):
        return self.transfer.start_import(path, default_split)

    def _ask_export(self) -> None:
        dialog = ExportDialog(self, list(self.splits), self.session.path / "exports")
        if dialog.exec():
            self.start_export(dialog.path.text().strip(), dialog.split_filter())

    def start_export(self, path: str, split: str | None = None):
        return self.transfer.start_export(path, split)

    @Slot(object)
    def _after_import(self, _report) -> None:
        self.refresh_counts()
        self.model.reload()


def prompt_html(record: PromptRecord) -> str:
    def block(title: str, body: str) -> str:
        return (
            f"<p style='margin:0 0 2px 0'><b>{title}</b></p>"
            f"<pre style='white-space:pre-wrap; margin:0 0 8px 0'>{html.escape(body)}</pre>"
        )

    parts = [f"<p style='color:#5f6670'>Prompt {record.id} · {html.escape(record.split)}"]
    if record.tags:
        parts.append(" · tags: " + html.escape(", ".join(record.tags)))
    parts.append("</p>")
    if record.messages:
        for message in record.messages:
            parts.append(block(message.get("role", "?"), str(message.get("content", ""))))
    else:
        parts.append(block("Prompt", record.text or ""))
    if record.reference:
        parts.append(block("Reference answer", record.reference))
    if record.metadata:
        parts.append(block("Metadata", json.dumps(record.metadata, ensure_ascii=False)))
    return "".join(parts)
