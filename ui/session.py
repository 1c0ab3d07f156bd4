"""Everything the window holds for one open project: the database thread, the poller, the
run feed the Train and Runs views watch runs through, the worker process, and the one
sentence about the worker the status bar shows."""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from ui.db_runner import DbRunner, callback_alive
from ui.poller import JobState, ProjectPoller, WorkerRow
from ui.run_feed import RunFeed
from ui.worker_link import WorkerLink
from ui.worker_state import WorkerStatus, combine, describe, lane_rows
from workbench.jobs import control, lanes, worker_registry
from workbench.jobs import queue as jobs


class ProjectSession(QObject):
    jobsChanged = Signal(object)  # dict[int, JobState]
    workerStatusChanged = Signal(object)  # WorkerStatus: the interactive lane, both in .overall
    workerDied = Signal(str)

    def __init__(self, project_path: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self.path = Path(project_path).expanduser().resolve()
        self.name = self.path.name
        self.runner = DbRunner(self.path, self)
        self.poller = ProjectPoller(self.path, self)
        self.feed = RunFeed(self.runner, self)  # one reader of the runs the views watch
        # One worker per lane: training runs beside interactive jobs (workbench/jobs/lanes.py).
        self.links = {lane: WorkerLink(self.path, self, lane=lane) for lane in WINDOW_LANES}
        self.link = self.links[lanes.INTERACTIVE]  # the worker the views' jobs wait for
        self.training_link = self.links[lanes.TRAINING]
        self.worker_status = WorkerStatus("not_started", "not started")
        self.lane_status = {lane: self.worker_status for lane in WINDOW_LANES}
        self.overall = self.worker_status  # both lanes in one sentence, for the status bar
        self.poller.jobsChanged.connect(self.jobsChanged)
        self.poller.workerChanged.connect(self._on_workers)
        for link in self.links.values():
            link.stateChanged.connect(self._on_link_state)
            link.died.connect(functools.partial(self._on_worker_died, link))
        self._closed = False
        self._submitted: set[int] = set()  # jobs queued from this window

    def start(self) -> None:
        self.poller.start()
        self.runner.call(_idle_exit_setting, on_done=self._set_idle_exit)

    def _set_idle_exit(self, seconds: float) -> None:
        for link in self.links.values():
            link.idle_exit_s = seconds

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
        """Queue a job, then make sure a worker of its lane will take it."""
        self.runner.call(
            jobs.submit,
            kind,
            params,
            on_done=functools.partial(self._job_submitted, kind, on_submitted),
            on_error=on_error,
        )

    def _job_submitted(
        self, kind: str, on_submitted: Callable[[int], None] | None, job_id: int
    ) -> None:
        self._submitted.add(job_id)
        self.ensure_worker(lanes.lane_of(kind))
        if callback_alive(on_submitted):
            on_submitted(job_id)

    def cancel_job(self, job_id: int) -> None:
        self.runner.call(jobs.cancel, job_id)

    def live_external_worker(self, lane: str = lanes.INTERACTIVE) -> WorkerRow | None:
        """A live worker this window did not start that will take `lane`'s next job."""
        dead = set().union(*(link.dead_pids for link in self.links.values()))
        ours = {link.pid for link in self.links.values() if link.is_running()}
        return next(
            (
                w
                for w in lane_rows(self.poller.workers, lane)
                if w.alive
                and w.pid not in dead
                and w.pid not in ours
                and (w.lane == lane or w.status == "idle")
            ),
            None,
        )

    def ensure_worker(self, lane: str = lanes.INTERACTIVE) -> None:
        """Start a worker for `lane` unless one is running, ours or another's."""
        link = self.links[lane]
        if not link.is_running() and self.live_external_worker(lane) is None:
            link.start()

    def restart_worker(self, lane: str | None = None) -> None:
        crashed = [name for name, link in self.links.items() if link.state == "crashed"]
        lane = lane or (crashed[0] if crashed else lanes.INTERACTIVE)
        link = self.links[lane]
        if link.is_running():
            link.stop_and_wait()
        link.start()

    def log_link(self) -> WorkerLink:
        """The worker whose log the log dialog shows: a crashed one, else the trainer."""
        crashed = [link for link in self.links.values() if link.state == "crashed"]
        if crashed:
            return crashed[0]
        return self.training_link if self.training_link.state != "none" else self.link

    @Slot(object)
    def _on_workers(self, rows: list[WorkerRow]) -> None:
        self._attach(rows)
        self._refresh_worker_status()
        # The worker we counted on (e.g. one from a terminal) went silent with our job still
        # queued: start one. Not after a crash of our own, where the user decides (banner).
        for job in self.jobs.values():
            lane = lanes.lane_of(job.kind)
            if job.status == "queued" and job.id in self._submitted:
                if self.links[lane].state != "crashed":
                    self.ensure_worker(lane)

    def _attach(self, rows: list[WorkerRow]) -> None:
        """Follow the live workers of this machine that another window or a terminal
        started, so their state, log and death show here as if this window had started them."""
        host = socket.gethostname()
        for lane, link in self.links.items():
            if link.is_running():
                continue
            row = next(
                (
                    r
                    for r in rows
                    if r.alive and r.lane == lane and r.host == host and r.pid not in link.dead_pids
                ),
                None,
            )
            if row is not None:
                link.attach(row.pid, row.log_path)

    @Slot(str)
    def _on_link_state(self, _state: str) -> None:
        self._refresh_worker_status()

    def _refresh_worker_status(self) -> None:
        for lane, link in self.links.items():
            self.lane_status[lane] = describe(
                link.state,
                link.pid,
                link.exit_note,
                lane_rows(self.poller.workers, lane),
                link.dead_pids,
            )
        overall = combine(self.lane_status[lanes.TRAINING], self.lane_status[lanes.INTERACTIVE])
        status = self.lane_status[lanes.INTERACTIVE]
        if status != self.worker_status or overall != self.overall:
            self.worker_status, self.overall = status, overall
            self.workerStatusChanged.emit(status)

    def _on_worker_died(self, link: WorkerLink, message: str) -> None:
        if not self._closed:
            self.runner.call(worker_registry.mark_dead, link.pid, link.returncode)
        self.workerDied.emit(message)

    @property
    def closed(self) -> bool:
        return self._closed

    def active_jobs(self) -> list[JobState]:
        return [job for job in self.jobs.values() if job.active]

    def close(self, keep_workers: bool = False) -> None:
        """Close the window's side: the poller, the run feed and the database thread. The
        workers keep running when `keep_workers` (their jobs go on in the background and they
        exit after the idle timeout); otherwise the ones this window started are asked to
        stop (SIGTERM: a training run saves a checkpoint and ends `stopped`)."""
        if self._closed:
            return
        self._closed = True
        for link in self.links.values():
            if not keep_workers and not link.external:
                link.stop()
            link.forget()
        self.poller.stop()
        self.feed.close()
        self.runner.close()

    def stop_and_save_all(self) -> None:
        """For closing with "Stop and save": every running job of the project is asked to stop
        (a training run saves a checkpoint and ends `stopped`), every queued one cancelled."""
        for job in self.active_jobs():
            if job.status == "queued":
                self.runner.call(jobs.cancel, job.id)
            else:
                self.runner.call(control.request, job.id, "stop")


WINDOW_LANES = (lanes.TRAINING, lanes.INTERACTIVE)


def _idle_exit_setting(project) -> float:
    return float(project.setting(lanes.IDLE_EXIT_SETTING, lanes.DEFAULT_IDLE_EXIT_S))
