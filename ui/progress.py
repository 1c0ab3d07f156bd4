"""A progress dialog with Cancel for a BackgroundTask (import, export)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from ui.background import BackgroundTask


class TaskProgressDialog(QProgressDialog):
    """Shown after a short delay (quick tasks never flash a dialog); Cancel asks the task to
    stop and says so; closes itself when the task ends either way."""

    def __init__(self, parent: QWidget, title: str, label: str, task: BackgroundTask):
        super().__init__(label, "Cancel", 0, 0, parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumDuration(400)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumWidth(420)
        self.task = task
        self.canceled.connect(self._cancel)
        task.progressed.connect(self._progress)
        task.succeeded.connect(self._finish)
        task.failed.connect(self._finish)
        self.setValue(0)

    @Slot(int, int)
    def _progress(self, done: int, total: int) -> None:
        if total > 0:
            self.setMaximum(total)
            self.setValue(min(done, total))

    @Slot()
    def _cancel(self) -> None:
        if self.task.running:
            self.task.cancel()
            self.setLabelText("Cancelling… nothing will be kept.")
            self.show()  # keep showing until the task has really stopped

    @Slot(object)
    def _finish(self, _payload: object) -> None:
        self.canceled.disconnect(self._cancel)  # closing a QProgressDialog emits canceled
        self.close()
        self.deleteLater()
