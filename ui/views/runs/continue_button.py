"""The Runs view's "Continue with new settings…" button: the selected stopped or failed
run (after a NaN, say) continues from its last checkpoint as a new run with changed
settings, the same as `workbench train PROJECT --resume RUN --set key=value`."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.messages import explain
from ui.session import ProjectSession
from workbench.training.continuation import check_continuation
from workbench.training.runs import get_run

EXPLAIN = (
    "The run continues from its last checkpoint as a new run (the old one stays as it "
    "was), with these settings changed, one <code>key=value</code> a line. After a NaN: "
    "a lower <code>learning_rate</code>, <code>max_grad_norm</code> to clip the gradient, "
    "a higher <code>beta</code>."
)


class ContinueDialog(QDialog):
    def __init__(self, run_id: int, suggestion: str, parent: QWidget | None = None):
        super().__init__(parent, objectName="continueDialog")
        self.setWindowTitle(f"Continue run {run_id} with new settings")
        text = QLabel(EXPLAIN, wordWrap=True)
        self.edit = QPlainTextEdit(suggestion, objectName="continueSettings")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Continue")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.edit)
        layout.addWidget(buttons)

    def assignments(self) -> list[str]:
        return [line.strip() for line in self.edit.toPlainText().splitlines() if line.strip()]


class ContinueButton(QPushButton):
    """Enabled while one resumable run is selected; the change is checked on the database
    thread before the train job is queued, and a refusal shows in a message box."""

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__("Continue with new settings…", parent, objectName="continueRun")
        self.session = session
        self.run_id: int | None = None
        self.dialog: ContinueDialog | None = None
        self.last_message: QMessageBox | None = None
        self.setToolTip(
            "Continue the selected run from its last checkpoint with changed settings, as a "
            "new run (workbench train --resume RUN --set key=value)"
        )
        self.clicked.connect(self.ask)
        self.show_run(None)

    def show_run(self, run_id: int | None) -> None:
        self.run_id = run_id
        self.setEnabled(run_id is not None)

    @Slot()
    def ask(self) -> None:
        if self.run_id is not None:
            self.session.runner.call(get_run, self.run_id, on_done=self._open, on_error=self._say)

    def _open(self, run) -> None:
        lr = float(run.config.get("learning_rate") or 0)
        self.dialog = ContinueDialog(run.id, f"learning_rate={lr / 4:g}" if lr else "", self)
        self.dialog.accepted.connect(lambda: self._check(run.id))
        self.dialog.open()

    def _check(self, run_id: int) -> None:
        assert self.dialog is not None
        changes = self.dialog.assignments()
        self.session.runner.call(
            check_continuation,
            run_id,
            changes,
            on_done=lambda _: self._submit(run_id, changes),
            on_error=self._say,
        )

    def _submit(self, run_id: int, changes: list[str]) -> None:
        self.setEnabled(False)
        self.session.submit_job("train", {"continue_run_id": run_id, "set": changes})

    def _say(self, error) -> None:
        problem = explain(error)
        self.last_message = QMessageBox(
            QMessageBox.Icon.Warning, "Cannot continue the run", problem.what, parent=self
        )
        self.last_message.setInformativeText(problem.todo)
        self.last_message.open()
