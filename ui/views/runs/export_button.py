"""The Runs view's Export button: the selected run's latest checkpoint as a model (the
shared export dialog), its metrics as CSV and its samples as JSONL; and the same dialog
from the context menu of the lineage panel's checkpoints."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QPoint, Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QMenu,
    QMessageBox,
    QTableWidget,
    QToolButton,
    QWidget,
)

from ui.messages import explain
from ui.session import ProjectSession
from workbench.exporting.data_files import export_metrics, export_samples


class RunExportButton(QToolButton):
    """Enabled while exactly one run is selected; a data export's outcome shows in a
    message box that does not block the window (``last_message``)."""

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent, objectName="exportRun")
        self.session = session
        self.row: dict | None = None
        self.last_message: QMessageBox | None = None
        self.setText("Export")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        self.model_action = menu.addAction("Model from the latest checkpoint…", self.export_model)
        menu.addAction("Metrics (CSV)…", self.export_metrics)
        menu.addAction("Samples (JSONL)…", self.export_samples)
        self.setMenu(menu)
        self.setToolTip(
            "The selected run's latest checkpoint as an adapter, a merged model, GGUF or "
            "Ollama; or its metrics and samples as files"
        )
        self.show_runs([])

    def show_runs(self, rows: list[dict]) -> None:
        self.row = rows[0] if len(rows) == 1 else None
        self.setEnabled(self.row is not None)
        self.model_action.setEnabled(bool(self.row and self.row.get("checkpoint_id")))

    @Slot()
    def export_model(self) -> None:
        from ui.views.common.export_dialog import ExportDialog

        if self.row and self.row.get("checkpoint_id"):
            ExportDialog(self.session, int(self.row["checkpoint_id"]), self.window()).open()

    def _save_path(self, what: str, suffix: str) -> Path | None:
        assert self.row is not None
        default = self.session.path / "exports" / f"run-{self.row['id']}-{what}.{suffix}"
        name, _ = QFileDialog.getSaveFileName(
            self, f"Export run {self.row['id']} {what}", str(default), f"*.{suffix} *.csv *.jsonl"
        )
        return Path(name) if name else None

    def _export(self, write, what: str, suffix: str) -> None:
        path = self._save_path(what, suffix)
        if path is None or self.row is None:
            return
        self.session.runner.call(
            write,
            self.row["id"],
            path,
            on_done=lambda count: self._tell(f"Wrote {count} row(s) to {path}.", False),
            on_error=lambda error: self._tell(explain(error, "The export").what, True),
        )

    def _tell(self, text: str, problem: bool) -> None:
        icon = QMessageBox.Icon.Warning if problem else QMessageBox.Icon.Information
        self.last_message = QMessageBox(icon, "Export", text, parent=self.window())
        self.last_message.open()

    @Slot()
    def export_metrics(self) -> None:
        self._export(export_metrics, "metrics", "csv")

    @Slot()
    def export_samples(self) -> None:
        self._export(export_samples, "samples", "jsonl")


class CheckpointExportMenu(QObject):
    """ "Export checkpoint…" in the context menu of a table whose first column is a
    checkpoint id (the lineage panel's checkpoints), opening the shared export dialog."""

    def __init__(self, table: QTableWidget, session: ProjectSession):
        super().__init__(table)
        self.table = table
        self.session = session
        self.dialog: QDialog | None = None
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._menu)

    def checkpoint_at(self, pos: QPoint) -> int | None:
        item = self.table.item(self.table.rowAt(pos.y()), 0)
        text = item.text() if item is not None else ""
        return int(text) if text.isdigit() else None

    @Slot(QPoint)
    def _menu(self, pos: QPoint) -> None:
        checkpoint_id = self.checkpoint_at(pos)
        if checkpoint_id is None:
            return
        menu = QMenu(self.table)
        menu.addAction(f"Export checkpoint {checkpoint_id}…", lambda: self.open(checkpoint_id))
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def open(self, checkpoint_id: int) -> None:
        from ui.views.common.export_dialog import ExportDialog

        self.dialog = ExportDialog(self.session, checkpoint_id, self.table.window())
        self.dialog.open()
