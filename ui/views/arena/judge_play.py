"""Letting an AI judge play the arena: which judge, how many battles, then an
`arena_judge` job in the worker with progress and Cancel. Its votes are stored apart
from people's (source ai)."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.job_follow import JobFollowing
from ui.poller import JobState
from ui.session import ProjectSession
from ui.style import BAD, MUTED, OK
from ui.widgets import spin

DEFAULT_BATTLES = 20


class JudgePlay(JobFollowing, QWidget):
    RUNNING_TEXT = "The judge is voting…"
    JOB_NOUN = "the judge's battles"
    finished = Signal()

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.job_id: int | None = None
        self.comparison_id: int | None = None
        self._started = 0.0
        self.judge = QComboBox()
        self.judge.setMinimumContentsLength(12)  # a judge's name stays readable at 1280 wide
        self.judge.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.judge.setToolTip("A pairwise judge of the project (the Judge view adds more).")
        self.battles = spin(1, 10_000, DEFAULT_BATTLES)
        self.battles.setToolTip("How many battles the judge votes on, each in both orders.")
        self.play_button = QPushButton("Let the judge play")
        self.play_button.clicked.connect(self.play)
        self.progress = QProgressBar()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        choose = QHBoxLayout()
        choose.addWidget(QLabel("Judge"))
        choose.addWidget(self.judge, 1)
        choose.addWidget(QLabel("battles"))
        choose.addWidget(self.battles)
        choose.addWidget(self.play_button)
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(choose)
        layout.addLayout(running)
        layout.addWidget(self.status)
        session.jobsChanged.connect(self._on_jobs)
        session.workerStatusChanged.connect(self._on_worker)
        self._set_running(False)

    def set_judges(self, names: list[str]) -> None:
        current = self.judge.currentText()
        self.judge.clear()
        self.judge.addItems(names)
        if current in names:
            self.judge.setCurrentText(current)
        self._update_button()

    def set_comparison(self, comparison_id: int | None) -> None:
        self.comparison_id = comparison_id
        self._update_button()

    def _update_button(self) -> None:
        self.play_button.setEnabled(
            self.job_id is None and self.comparison_id is not None and self.judge.count() > 0
        )

    def play(self) -> None:
        if self.comparison_id is None or not self.judge.currentText():
            return
        params = {
            "comparison_id": self.comparison_id,
            "judge": self.judge.currentText(),
            "battles": self.battles.value(),
        }
        self._submit("arena_judge", params)

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        if running:
            self._started = time.monotonic()
            self.progress.setRange(0, 0)
        self._update_button()
        if running:
            self.play_button.setEnabled(False)

    def _finish(self, job: JobState) -> None:
        self.job_id = None
        self._set_running(False)
        result = job.result or {}
        if job.status == "done":
            errors = result.get("errors", 0)
            failed = f"; {errors} judgement(s) failed" if errors else ""
            self._say(f"The judge voted on {result.get('battles', 0)} battle(s){failed}.", OK)
        elif job.status == "cancelled":
            self._say("Cancelled; the votes cast before that are kept.", MUTED)
        else:
            self._say(f"The judge could not play: {job.error or 'no reason was recorded'}", BAD)
        self.finished.emit()
