"""The status bar: the project, the worker in a few words, and the current job's progress
(a training run's phase and ETA, as the Train view's run header says them)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from ui.poller import JobState
from ui.run_phase_text import bar_range, progress_text
from ui.session import ProjectSession
from ui.style import BAD, OK, WARN
from ui.worker_state import WorkerStatus
from workbench.jobs import lanes
from workbench.training.run_phase import phase_fields

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
        self.session: ProjectSession | None = None
        self.addWidget(self.project)
        self.addWidget(self.worker)
        self.addPermanentWidget(self.job)
        self.addPermanentWidget(self.bar)

    def bind(self, session: ProjectSession) -> None:
        self.session = session
        self.project.setText(f"Project: {session.name}")
        session.workerStatusChanged.connect(self.show_worker)
        session.jobsChanged.connect(self.show_jobs)
        self.show_worker(session.worker_status)
        self.show_jobs(session.jobs)

    @Slot(object)
    def show_worker(self, _status: WorkerStatus) -> None:
        status = self.session.overall if self.session is not None else _status
        self.worker.setText(f"Worker: {status.text}")
        color = STATE_COLORS.get(status.state)
        self.worker.setStyleSheet(f"color: {color};" if color else "")

    @Slot(object)
    def show_jobs(self, jobs: dict[int, JobState]) -> None:
        shown = lane_jobs(jobs)
        if not shown:
            self.job.setText("")
            self.bar.hide()
            return
        self.job.setText(" · ".join(job_text(job, jobs) for job in shown))
        job = shown[0]  # the bar follows the training lane when it runs
        if job.status == "queued":
            self.bar.setRange(0, 0)
        else:
            top, value = bar_values(job)
            self.bar.setRange(0, top)
            self.bar.setValue(value)
        self.bar.show()


def lane_jobs(jobs: dict[int, JobState]) -> list[JobState]:
    """The current job of each lane, training first."""
    found = []
    for lane in (lanes.TRAINING, lanes.INTERACTIVE):
        in_lane = {i: j for i, j in jobs.items() if lanes.lane_of(j.kind) == lane}
        job = current_job(in_lane)
        if job is not None:
            found.append(job)
    return found


def job_text(job: JobState, jobs: dict[int, JobState]) -> str:
    lane = lanes.lane_of(job.kind)
    waiting = sum(
        1
        for j in jobs.values()
        if j.status == "queued" and j.id != job.id and lanes.lane_of(j.kind) == lane
    )
    more = f" (+{waiting} queued)" if waiting else ""
    if job.status == "queued":
        reason = job.message or "waiting for the worker"
        return f"{lane.capitalize()} lane: Job {job.id} {job.kind}: {reason}{more}"
    if job.message == "paused":
        done = "paused"
    elif job.run_phase is not None:
        done = progress_text(run_progress(job))
    else:
        done = f"{job.progress_done}/{job.progress_total}" if job.progress_total else "running"
    return f"{lane.capitalize()} lane: Job {job.id} {job.kind}: {done}{more}"


def run_progress(job: JobState) -> dict[str, Any]:
    """A train job's progress as the Train view's run header reads it: the job counts the
    steps, its run's row says the phase, the step time and the ETA."""
    row = job.run_phase or {}
    return {
        "step": job.progress_done,
        "max_steps": job.progress_total,
        "status": row.get("status") or job.status,
        "job_message": job.message,
        **phase_fields(row),
    }


def bar_values(job: JobState) -> tuple[int, int]:
    """(maximum, value) of the status bar's bar: a run's reference pass or evaluation
    fills it with its own count, as in the Train view; other jobs count their items."""
    if job.run_phase is not None and job.message != "paused":
        return bar_range(run_progress(job))
    return max(job.progress_total, 0), job.progress_done
