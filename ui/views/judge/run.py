"""Running the judge: which prompts and pairs, optional fresh candidates first, the tie
margin; Run queues a `label_judge` job, then progress, Cancel and the result summary."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
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
from ui.style import BAD, MUTED, OK, set_primary
from ui.views.judge.run_summary import summary_lines
from ui.widgets import double_spin, spin

TIPS = {
    "split": "The prompts whose completions are judged",
    "limit": "How many prompts of the split (the first ones)",
    "pairs": "At most this many pairs of different completions per prompt; pairs this "
    "judge labelled before are always skipped",
    "only": "Leave pairs a person or a rule labelled alone. Off, the judge also labels "
    "those pairs, which is what the agreement figures compare",
    "generate": "Sample this many new candidates per prompt with the project's default "
    "model before judging",
    "tie": "A verdict closer to 50/50 than this is stored as a tie (0: never a tie)",
}


class JudgeRunPanel(JobFollowing, QWidget):
    RUNNING_TEXT = "Judging…"
    JOB_NOUN = "the judge run"
    finished = Signal(object)  # JobState

    def __init__(
        self,
        session: ProjectSession,
        judge_params: Callable[[], dict],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.session = session
        self.judge_params = judge_params  # the judge, template and criteria to run with
        self.job_id: int | None = None
        self.running = False
        self.blocker: str | None = "Loading…"
        self._started = 0.0
        self.run_button = QPushButton("Run judge")
        set_primary(self.run_button)
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m pairs")
        self.status = QLabel("", wordWrap=True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.summary = QLabel("", wordWrap=True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._fields())
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.summary)
        session.jobsChanged.connect(self._on_jobs)
        session.workerStatusChanged.connect(self._on_worker)
        self._set_running(False)

    def _fields(self) -> QGridLayout:
        self.split = QComboBox(minimumContentsLength=10)
        self.limit = spin(1, 100000, 16)
        self.pairs = spin(1, 64, 4)
        self.only_unlabelled = QCheckBox("Only pairs no person or rule labelled")
        self.generate = spin(0, 16, 0, special="no")
        self.tie_margin = double_spin(0.0, 0.5, 0.0, 0.05)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        cells = (
            ("Prompts from", self.split, "split"),
            ("Prompts", self.limit, "limit"),
            ("Pairs per prompt", self.pairs, "pairs"),
            ("Generate first", self.generate, "generate"),
            ("Tie margin", self.tie_margin, "tie"),
        )
        for index, (text, widget, key) in enumerate(cells):
            label = QLabel(text)
            for item in (label, widget):
                item.setToolTip(TIPS[key])
            grid.addWidget(label, index // 2, (index % 2) * 2)
            grid.addWidget(widget, index // 2, (index % 2) * 2 + 1)
        self.only_unlabelled.setToolTip(TIPS["only"])
        grid.addWidget(self.only_unlabelled, 3, 0, 1, 4)
        return grid

    def set_splits(self, splits: dict[str, int]) -> None:
        current = self.split.currentData()
        self.split.clear()
        for name, count in splits.items():
            self.split.addItem(f"{name} ({count:,})", name)
        self.split.setCurrentIndex(max(self.split.findData(current or "train"), 0))

    def set_blocker(self, reason: str | None) -> None:
        """Why Run cannot start now (shown and in its tooltip), or None."""
        if reason is None and self.split.count() == 0:
            reason = "The project has no prompts: import some in the Data view."
        changed, self.blocker = reason != self.blocker, reason
        self.run_button.setEnabled(reason is None and not self.running)
        self.run_button.setToolTip(reason or "Judge the pairs and store the verdicts as labels")
        if changed and not self.running and self.job_id is None:  # a run's outcome stays
            self._say(reason or "", BAD)

    def params(self) -> dict:
        return {
            **self.judge_params(),
            "split": self.split.currentData(),
            "limit": self.limit.value(),
            "max_pairs_per_prompt": self.pairs.value(),
            "only_unlabelled": self.only_unlabelled.isChecked(),
            "generate": self.generate.value(),
            "tie_margin": self.tie_margin.value(),
        }

    @Slot()
    def run(self) -> None:
        if self.running or self.blocker is not None:
            return
        self.summary.clear()
        self._submit("label_judge", self.params())

    def _on_jobs(self, jobs: dict[int, JobState]) -> None:
        if self.job_id is None and not self.running:  # e.g. `workbench label` in a terminal
            other = next((j for j in jobs.values() if j.kind == "label_judge" and j.active), None)
            if other is not None:
                self.job_id, self._started = other.id, time.monotonic()
                self.summary.clear()
                self._set_running(True)
        job = jobs.get(self.job_id) if self.job_id is not None else None
        if job is not None and job.status == "running":  # only judging counts pairs
            self.progress.setFormat("%v / %m pairs" if job.message == "judging" else "")
        super()._on_jobs(jobs)

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the job reports its pairs
        self.run_button.setEnabled(not running and self.blocker is None)

    def _finish(self, job: JobState) -> None:
        self.job_id = None
        self._set_running(False)
        seconds = time.monotonic() - self._started
        if job.status == "done":
            self._say(f"Done in {seconds:.0f} s.", OK)
        elif job.status == "cancelled":
            self._say("Cancelled; the labels stored before that are kept.", MUTED)
        else:
            self._say(
                f"The judge run failed: {job.error or 'no reason was recorded'} "
                "(Worker › Show log has the details).",
                BAD,
            )
        result = job.result or {}
        self.summary.setText("\n".join(summary_lines(result)) if "pairs" in result else "")
        self.finished.emit(job)
