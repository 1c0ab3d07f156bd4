"""The run queue: the running train job and the queued ones in the order the worker
takes them, with Up / Down to reorder and Cancel. Refreshed when the jobs change."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.poller import JobState
from ui.session import ProjectSession
from ui.table_columns import fit_columns
from workbench.training.queue import move_job, train_queue

COLUMNS = ("#", "Run", "Algorithm", "State")


class TrainQueue(QWidget):
    runSelected = Signal(int)  # a run id, when the selected job has a run
    countChanged = Signal(int)  # train jobs queued or running

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.rows: list[dict[str, Any]] = []
        self._seen: tuple = ()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        fit_columns(self.table)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.itemSelectionChanged.connect(self._selected)
        self.up, self.down = QPushButton("Up"), QPushButton("Down")
        self.cancel = QPushButton("Cancel run")
        self.up.clicked.connect(lambda: self._move(True))
        self.down.clicked.connect(lambda: self._move(False))
        self.cancel.clicked.connect(self._cancel)
        buttons = QVBoxLayout()
        buttons.setSpacing(2)
        for button in (self.up, self.down, self.cancel):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        session.jobsChanged.connect(self._jobs_changed)
        self._update_buttons()
        self.reload()

    @Slot(object)
    def _jobs_changed(self, jobs: dict[int, JobState]) -> None:
        seen = tuple(sorted((j.id, j.status) for j in jobs.values() if j.kind == "train"))
        if seen != self._seen:
            self._seen = seen
            self.reload()

    def reload(self) -> None:
        self.session.runner.call(train_queue, on_done=self._show)

    def _show(self, rows: list[dict[str, Any]]) -> None:
        selected = self.selected_job()
        self.rows = rows
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            name = row["name"] or (
                f"run {row['run_id']}" if row["run_id"] else f"job {row['job_id']}"
            )
            state = "running" if row["position"] == 0 else "queued"
            if row["message"] == "paused":
                state = "paused"
            cells = (
                "▶" if row["position"] == 0 else str(row["position"]),
                name,
                row["algorithm"],
                state,
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if row["position"] == 0:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(i, col, item)
            if row["job_id"] == selected:
                self.table.selectRow(i)
        self.table.resizeColumnToContents(0)
        self.table.blockSignals(False)
        self._update_buttons()
        self.countChanged.emit(len(rows))

    def selected_row(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows and rows[0].row() < len(self.rows) else None

    def selected_job(self) -> int | None:
        row = self.selected_row()
        return row["job_id"] if row else None

    @Slot()
    def _selected(self) -> None:
        self._update_buttons()
        row = self.selected_row()
        if row and row["run_id"] is not None:
            self.runSelected.emit(row["run_id"])

    def _update_buttons(self) -> None:
        row = self.selected_row()
        queued = [r for r in self.rows if r["position"] > 0]
        is_queued = row is not None and row["position"] > 0
        self.up.setEnabled(is_queued and row is not queued[0])
        self.down.setEnabled(is_queued and row is not queued[-1])
        self.cancel.setEnabled(row is not None)

    def _move(self, up: bool) -> None:
        job_id = self.selected_job()
        if job_id is not None:
            self.session.runner.call(move_job, job_id, up, on_done=self._moved)

    def _moved(self, _moved: bool) -> None:
        self.reload()

    def _cancel(self) -> None:
        job_id = self.selected_job()
        if job_id is not None:
            self.session.cancel_job(job_id)
            self.cancel.setEnabled(False)
