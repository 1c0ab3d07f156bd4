"""The strip that follows a Generate candidates job: progress, Cancel, and what came of
it. Labelling goes on meanwhile; the view refreshes its queue when the job ends."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ui.job_follow import JobFollowing
from ui.poller import JobState
from ui.session import ProjectSession
from ui.style import BAD, MUTED, OK


class CandidateJob(JobFollowing, QWidget):
    RUNNING_TEXT = "Generating candidates…"
    JOB_NOUN = "the generation"
    finished = Signal(object)  # JobState

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.job_id: int | None = None
        self.running = False
        self._started = 0.0
        self.status = QLabel("")
        self.progress = QProgressBar(textVisible=False)
        self.progress.setFixedWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.progress)
        layout.addWidget(self.status, 1)
        layout.addWidget(self.cancel_button)
        session.jobsChanged.connect(self._on_jobs)
        session.workerStatusChanged.connect(self._on_worker)
        self._set_running(False)
        self.hide()

    def start(self, params: dict) -> None:
        self.show()
        self._submit("generate", params)

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the job reports a total

    def _finish(self, job: JobState) -> None:
        self.job_id = None
        self._set_running(False)
        seconds = time.monotonic() - self._started
        result = job.result or {}
        if job.status == "done":
            self._say(
                f"Generated {result.get('count', 0):,} candidates for "
                f"{result.get('prompts_done', 0):,} prompts with {result.get('model')} "
                f"in {seconds:.0f} s.",
                OK,
            )
        elif job.status == "cancelled":
            self._say("Generation cancelled; nothing was stored.", MUTED)
        else:
            self._say(
                f"Generation failed: {job.error or 'no reason was recorded'} "
                "(Worker › Show log has the details).",
                BAD,
            )
        self.finished.emit(job)
