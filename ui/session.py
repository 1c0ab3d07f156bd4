"""Everything the window holds for one open project: the database thread, the poller, the
run feed the Train and Runs views watch runs through, the worker process, and the one
sentence about the worker the status bar shows."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from ui.db_runner import DbRunner, callback_alive
from ui.poller import JobState, ProjectPoller, WorkerRow
from ui.run_feed import RunFeed
from ui.worker_link import WorkerLink
from ui.worker_state import WorkerStatus, describe
from workbench.jobs import queue as jobs
from workbench.jobs import worker_registry


class ProjectSession(QObject):
    jobsChanged = Signal(object)  # dict[int, JobState]
    workerStatusChanged = Signal(object)  # WorkerStatus
    workerDied = Signal(str)

    def __init__(self, project_path: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self.path = Path(project_path).expanduser().resolve()
        self.name = self.path.name
        self.runner = DbRunner(self.path, self)
        self.poller = ProjectPoller(self.path, self)
        self.feed = RunFeed(self.runner, self)  # one reader of the runs the views watch
        self.link = WorkerLink(self.path, self)
        self.worker_status = WorkerStatus("not_started", "not started")
        self.poller.jobsChanged.connect(self.jobsChanged)
        self.poller.workerChanged.connect(self._on_workers)
        self.link.stateChanged.connect(self._on_link_state)
        self.link.died.connect(self._on_worker_died)
        self._closed = False
        self._submitted: set[int] = set()  # jobs queued from this window

    def start(self) -> None:
        self.poller.start()

    @property
    def jobs(self) -> dict[int, JobState]:
        return self.poller.jobs

    def submit_job(
        self,
        kind: str,
        params: dict[str, Any],
        on_submitted: Callable[[int], None] | None = None,
        on_error: Callable[[Any], None] | None = None,
    ) -> None:
        """Queue a job, then make sure a worker will take it."""
        self.runner.call(
            jobs.submit,
            kind,
            params,
            on_done=functools.partial(self._job_submitted, on_submitted),
            on_error=on_error,
        )

    def _job_submitted(self, on_submitted: Callable[[int], None] | None, job_id: int) -> None:
        self._submitted.add(job_id)
        self.ensure_worker()
        if callback_alive(on_submitted):
            on_submitted(job_id)

    def cancel_job(self, job_id: int) -> None:
        self.runner.call(jobs.cancel, job_id)

    def live_external_worker(self) -> WorkerRow | None:
        return next(
            (w for w in self.poller.workers if w.alive and w.pid not in self.link.dead_pids),
            None,
        )

    def ensure_worker(self) -> None:
        """Start a worker unless one is running, ours or another (e.g. `workbench worker`)."""
        if not self.link.is_running() and self.live_external_worker() is None:
            self.link.start()

    def restart_worker(self) -> None:
        if self.link.is_running():
            self.link.stop_and_wait()
        self.link.start()

    @Slot(object)
    def _on_workers(self, _rows: list[WorkerRow]) -> None:
        self._refresh_worker_status()
        # The worker we counted on (e.g. one from a terminal) went silent with our job still
        # queued: start one. Not after a crash of our own, where the user decides (banner).
        waiting = any(j.status == "queued" and j.id in self._submitted for j in self.jobs.values())
        if waiting and self.link.state != "crashed":
            self.ensure_worker()

    @Slot(str)
    def _on_link_state(self, _state: str) -> None:
        self._refresh_worker_status()

    def _refresh_worker_status(self) -> None:
        status = describe(
            self.link.state,
            self.link.pid,
            self.link.exit_note,
            self.poller.workers,
            self.link.dead_pids,
        )
        if status != self.worker_status:
            self.worker_status = status
            self.workerStatusChanged.emit(status)

    @Slot(str)
    def _on_worker_died(self, message: str) -> None:
        if not self._closed:
            self.runner.call(worker_registry.mark_dead, self.link.pid)
        self.workerDied.emit(message)

    def close(self) -> None:
        """Stop the worker this window started, the poller and the run feed, then the
        database thread."""
        if self._closed:
            return
        self._closed = True
        self.link.stop_and_wait()
        self.poller.stop()
        self.feed.close()
        self.runner.close()
