"""The worker's output (stdout and stderr), live, for when something goes wrong."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from ui.worker_link import WorkerLink


class WorkerLogDialog(QDialog):
    def __init__(self, link: WorkerLink, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Worker log")
        self.resize(860, 480)
        self.link = link
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlaceholderText("The worker has not written anything yet.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        link.logChanged.connect(self.refresh)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        if not self.isVisible():
            return  # filled when shown; a hidden log costs nothing
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.text.setPlainText(self.link.log_text())
        if at_end:
            bar.setValue(bar.maximum())
