"""Polling the jobs and workers tables at ~7 Hz on a thread of its own (docs/architecture.md, "Processes":
the database is the channel between the UI and the worker).

The polling object lives on its own QThread with its own connection; what it finds is
re-emitted by `ProjectPoller`, which lives on the main thread, so receivers may connect
anything (even lambdas) to `jobsChanged` and `workerChanged`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from workbench.jobs.worker_registry import STALE_AFTER_S, reap_dead_workers
from workbench.project import Project
from workbench.training.run_phase import job_phase_rows

POLL_INTERVAL_MS = 150
REAP_S = 1.0
# Finished jobs are reported for this long after they end, then dropped from the poll.
RECENT_S = 30.0


@dataclass(frozen=True)
class JobState:
    id: int
    kind: str
    status: str
    progress_done: int
    progress_total: int
    message: str | None
    worker_id: int | None
    error: str | None = None
    traceback: str | None = None
    result: Any = field(default=None, compare=False)
    # A running train job's run: its phase columns as stored (workbench/training/run_phase.py)
    run_phase: dict[str, Any] | None = None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


@dataclass(frozen=True)
class WorkerRow:
    id: int
    pid: int
    status: str
    device: str | None
    loaded_model: str | None
    current_job_id: int | None
    alive: bool
    lane: str = "any"
    host: str = ""
    log_path: str | None = None


def _poll_jobs(project: Project, known: dict[int, JobState]) -> dict[int, JobState]:
    rows = project.db.execute(
        "SELECT id, kind, status, progress_done, progress_total, message, worker_id FROM jobs "
        "WHERE status IN ('queued', 'running') OR ended_at >= ? ORDER BY id",
        [time.time() - RECENT_S],
    ).fetchall()
    states = {}
    for row in rows:
        state = JobState(*row)
        old = known.get(state.id)
        if state.active:
            states[state.id] = state
        elif old is not None and old.status == state.status:
            states[state.id] = old  # already has its result; read it once only
        else:
            error, tb, result = project.db.execute(
                "SELECT error, traceback, result FROM jobs WHERE id = ?", [state.id]
            ).fetchone()
            states[state.id] = JobState(
                *row, error=error, traceback=tb, result=json.loads(result) if result else None
            )
    return _with_run_phases(project, states)


def _with_run_phases(project: Project, states: dict[int, JobState]) -> dict[int, JobState]:
    """A running train job carries its run's phase, for the status bar to say what the run
    is doing rather than its step count. One read, and only while a train job runs."""
    training = [j.id for j in states.values() if j.kind == "train" and j.status == "running"]
    if not training:
        return states
    rows = job_phase_rows(project, training)
    for job_id, row in rows.items():
        states[job_id] = replace(states[job_id], run_phase=row)
    return states


def _poll_workers(project: Project) -> list[WorkerRow]:
    now = time.time()
    rows = project.db.execute(
        "SELECT id, pid, status, device, loaded_model, current_job_id, heartbeat, lane, host, "
        "log_path FROM workers ORDER BY heartbeat DESC LIMIT 8"
    ).fetchall()
    return [
        WorkerRow(
            *row[:6],
            alive=row[2] != "stopped" and now - row[6] < STALE_AFTER_S,
            lane=row[7],
            host=row[8],
            log_path=row[9],
        )
        for row in rows
    ]


class _PollLoop(QObject):
    """Lives on the polling thread."""

    jobs = Signal(object)
    workers = Signal(object)
    failed = Signal(str)

    def __init__(self, path: Path):
        super().__init__()
        self._path = path
        self._project: Project | None = None
        self._timer: QTimer | None = None
        self._jobs: dict[int, JobState] = {}
        self._workers: list[WorkerRow] | None = None
        self._failing = False
        self._reaped = 0.0

    @Slot()
    def start(self) -> None:
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self.tick)
        self._timer.start()
        self.tick()

    @Slot()
    def tick(self) -> None:
        try:
            if self._project is None:
                self._project = Project.open(self._path)
            if time.monotonic() - self._reaped > REAP_S:
                # A worker killed outside this window: its jobs and runs show interrupted.
                self._reaped = time.monotonic()
                reap_dead_workers(self._project)
            jobs = _poll_jobs(self._project, self._jobs)
            workers = _poll_workers(self._project)
        except Exception as exc:  # reported once, retried next tick
            if not self._failing:
                self._failing = True
                self.failed.emit(f"Cannot read the project's jobs: {exc}")
            return
        self._failing = False
        if jobs != self._jobs:
            self._jobs = jobs
            self.jobs.emit(jobs)
        if workers != self._workers:
            self._workers = workers
            self.workers.emit(workers)

    @Slot()
    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self._project is not None:
            self._project.close()
            self._project = None
        QThread.currentThread().quit()


class ProjectPoller(QObject):
    jobsChanged = Signal(object)  # dict[int, JobState]: active and recently finished jobs
    workerChanged = Signal(object)  # list[WorkerRow], most recent heartbeat first
    pollFailed = Signal(str)
    _start = Signal()
    _stop = Signal()

    def __init__(self, project_path: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self.jobs: dict[int, JobState] = {}
        self.workers: list[WorkerRow] = []
        self._thread = QThread()
        self._thread.setObjectName("workbench-poller")
        self._loop = _PollLoop(Path(project_path))
        self._loop.moveToThread(self._thread)
        self._start.connect(self._loop.start)
        self._stop.connect(self._loop.stop)
        self._loop.jobs.connect(self._on_jobs)
        self._loop.workers.connect(self._on_workers)
        self._loop.failed.connect(self.pollFailed)
        self._thread.finished.connect(self._loop.deleteLater)

    def start(self) -> None:
        self._thread.start()
        self._start.emit()

    def stop(self, wait_ms: int = 7000) -> None:
        if self._thread.isRunning():
            self._stop.emit()
            self._thread.wait(wait_ms)

    @Slot(object)
    def _on_jobs(self, jobs: dict[int, JobState]) -> None:
        self.jobs = jobs
        self.jobsChanged.emit(jobs)

    @Slot(object)
    def _on_workers(self, workers: list[WorkerRow]) -> None:
        self.workers = workers
        self.workerChanged.emit(workers)
