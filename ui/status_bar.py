"""The status bar: the project, the worker in a few words, and the current job's progress."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from ui.poller import JobState
from ui.session import ProjectSession
from ui.style import BAD, OK, WARN
from ui.worker_state import WorkerStatus

STATE_COLORS = {"idle": OK, "busy": OK, "crashed": BAD, "not_responding": WARN}


def current_job(jobs: dict[int, JobState]) -> JobState | None:
    running = [j for j in jobs.values() if j.status == "running"]
    queued = [j for j in jobs.values() if j.status == "queued"]
    return min(running or queued, key=lambda j: j.id, default=None)


class StatusBar(QStatusBar):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.project = QLabel(objectName="statusProject")
        self.worker = QLabel(objectName="statusWorker")
        self.job = QLabel(objectName="statusJob")
        self.bar = QProgressBar()
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(False)
        self.bar.hide()
        self.addWidget(self.project)
        self.addWidget(self.worker)
        self.addPermanentWidget(self.job)
        self.addPermanentWidget(self.bar)

    def bind(self, session: ProjectSession) -> None:
        self.project.setText(f"Project: {session.name}")
        session.workerStatusChanged.connect(self.show_worker)
        session.jobsChanged.connect(self.show_jobs)
        self.show_worker(session.worker_status)
        self.show_jobs(session.jobs)

    @Slot(object)
    def show_worker(self, status: WorkerStatus) -> None:
        self.worker.setText(f"Worker: {status.text}")
        color = STATE_COLORS.get(status.state)
        self.worker.setStyleSheet(f"color: {color};" if color else "")

    @Slot(object)
    def show_jobs(self, jobs: dict[int, JobState]) -> None:
        job = current_job(jobs)
        if job is None:
            self.job.setText("")
            self.bar.hide()
            return
        waiting = sum(1 for j in jobs.values() if j.status == "queued" and j.id != job.id)
        more = f" (+{waiting} queued)" if waiting else ""
        if job.status == "queued":
            self.job.setText(f"Job {job.id} {job.kind}: waiting for the worker{more}")
            self.bar.setRange(0, 0)
        else:
            done = f"{job.progress_done}/{job.progress_total}" if job.progress_total else "running"
            self.job.setText(f"Job {job.id} {job.kind}: {done}{more}")
            self.bar.setRange(0, max(job.progress_total, 0))
            self.bar.setValue(job.progress_done)
        self.bar.show()
