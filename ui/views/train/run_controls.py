"""Pause, resume, stop and save, checkpoint now: each a control row for the run's job
(workbench.jobs.control), which the worker reads between steps. A request shows as
"… requested" until the run's state says the worker acted on it."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from ui.session import ProjectSession
from ui.style import BAD, MUTED, OK, say
from workbench.jobs import control
from workbench.training.runs import LIVE, RESUMABLE

BUTTONS = (
    ("pause", "Pause", "Hold the run between two steps; the model stays loaded."),
    (
        "resume",
        "Resume",
        "Continue a paused run from where it stopped, or an interrupted, stopped or failed "
        "run from its last intact checkpoint (the same as workbench train --resume).",
    ),
    ("stop", "Stop and save", "End the run after the current step and save a checkpoint."),
    (
        "checkpoint",
        "Checkpoint now",
        "Save a checkpoint after the current step (at once while paused); training goes on.",
    ),
)
REQUESTED = {
    "pause": "Pause requested…",
    "resume": "Resume requested…",
    "stop": "Stop requested: saving a checkpoint…",
    "checkpoint": "Checkpoint requested…",
}


def acknowledged(command: str, progress: dict[str, Any], checkpoints_before: int) -> bool:
    """Whether the run's state shows the worker acted on `command`."""
    running = progress["status"] in LIVE
    paused = progress["status"] == "paused" or progress.get("job_message") == "paused"
    if command == "pause":
        return paused or not running
    if command == "resume":
        return not paused or not running
    if command == "restart":
        return running
    if command == "stop":
        return not running
    return progress["checkpoints"] > checkpoints_before or not running


class RunControls(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.progress: dict[str, Any] | None = None
        self.pending: str | None = None
        self._checkpoints_before = 0
        self.buttons: dict[str, QPushButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for command, text, tip in BUTTONS:
            button = QPushButton(text, toolTip=tip, enabled=False)
            button.clicked.connect(lambda _c=False, command=command: self.request(command))
            self.buttons[command] = button
            layout.addWidget(button)
        self.status = QLabel(objectName="controlStatus")
        layout.addWidget(self.status, 1)

    def request(self, command: str) -> None:
        if command == "resume" and self.progress and self.progress["status"] in RESUMABLE:
            self.resume_run()
            return
        job_id = self.progress and self.progress.get("job_id")
        if not job_id:
            return
        self.pending = command
        self._checkpoints_before = self.progress["checkpoints"]
        self._say(REQUESTED[command], MUTED)
        self.session.runner.call(control.request, job_id, command, on_error=self._failed)
        self._update_buttons()

    def resume_run(self) -> None:
        """An interrupted, stopped or failed run continues from its last intact checkpoint
        in a new train job, exactly as `workbench train --resume` does."""
        run_id = self.progress["run_id"]
        self.pending = "restart"
        self._say(f"Resuming run {run_id} from its last checkpoint…", MUTED)
        self.session.submit_job("train", {"resume_run_id": run_id}, on_error=self._failed)
        self._update_buttons()

    def _failed(self, error) -> None:
        from ui.messages import explain

        self.pending = None
        self._say(f"The request failed: {explain(error).what}", BAD)
        self._update_buttons()

    def show_progress(self, progress: dict[str, Any] | None) -> None:
        self.progress = progress
        if (
            progress is not None
            and self.pending is not None
            and acknowledged(self.pending, progress, self._checkpoints_before)
        ):
            self._say(self._done_text(self.pending, progress), OK)
            self.pending = None
        self._update_buttons()

    def reset(self) -> None:
        self.pending, self.progress = None, None
        self._say("", MUTED)
        self._update_buttons()

    @staticmethod
    def _done_text(command: str, progress: dict[str, Any]) -> str:
        step, status = progress["step"], progress["status"]
        if command == "restart":
            return f"Resumed from step {step}."
        if status not in LIVE and command != "stop":
            return f"The run ended ({status})."
        return {
            "pause": f"Paused at step {step}.",
            "resume": f"Resumed at step {step}.",
            "stop": f"Stopped at step {step}; {progress['checkpoints']} checkpoint(s) saved.",
            "checkpoint": f"Checkpoint saved at step {step}.",
        }[command]

    def _update_buttons(self) -> None:
        progress = self.progress or {}
        live = progress.get("status") in LIVE and progress.get("job_status") == "running"
        paused = progress.get("status") == "paused" or progress.get("job_message") == "paused"
        resumable = progress.get("status") in RESUMABLE
        idle = self.pending is None
        self.buttons["pause"].setEnabled(live and idle and not paused)
        self.buttons["resume"].setEnabled(idle and ((live and paused) or resumable))
        self.buttons["stop"].setEnabled(live and self.pending != "stop")
        self.buttons["checkpoint"].setEnabled(live and idle)

    def _say(self, text: str, color: str) -> None:
        say(self.status, text, color)
