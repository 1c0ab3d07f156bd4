"""What a running job sees of the outside world: progress reporting and control requests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from workbench.jobs import control
from workbench.jobs import queue as jobs
from workbench.project import Project

# Progress rows are throttled: a generate job over 10,000 prompts must not write 10,000
# rows a second, but the UI polls at 5-10 Hz and should see every visible change.
PROGRESS_INTERVAL_S = 0.2
PAUSE_POLL_S = 0.2


class JobCancelled(Exception):
    """Raised by a handler that was asked to cancel and has nothing worth keeping."""


class JobContext:
    def __init__(
        self,
        project: Project,
        job: jobs.Job,
        session: Any,
        on_progress: Callable[[int, int, str], None] | None = None,
    ):
        self.project = project
        self.job = job
        self.session = session
        self.on_progress = on_progress
        self.stop_requested = False
        self.cancel_requested = False
        self.paused = False
        self.saves_while_paused = False
        self.on_pause_change: Callable[[bool], None] | None = None
        self._last_progress_write = 0.0

    def progress(self, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        if done >= total or now - self._last_progress_write >= PROGRESS_INTERVAL_S:
            jobs.report_progress(self.project, self.job.id, done, total, message)
            self._last_progress_write = now
        if self.on_progress is not None:
            self.on_progress(done, total, message)

    def request_stop(self, reason: str) -> None:
        """Called by the worker itself (e.g. on SIGTERM)."""
        self.stop_requested = True
        jobs.report_progress(
            self.project, self.job.id, self.job.progress_done, self.job.progress_total, reason
        )

    def poll_control(self) -> list[str]:
        """Apply pause / resume / stop / cancel; return the other commands for the handler.

        Called between steps. While paused it blocks here, so a paused job holds its
        model and state and continues exactly where it was. A job that can save while
        paused (`saves_while_paused`, a training run) gets "checkpoint" back at once and
        stays paused at its next call.
        """
        others: list[str] = []
        while True:
            was_paused = self.paused
            for command in control.take_pending(self.project, self.job.id):
                if command == "pause":
                    self.paused = True
                elif command == "resume":
                    self.paused = False
                elif command == "stop":
                    self.stop_requested, self.paused = True, False
                elif command == "cancel":
                    self.cancel_requested, self.stop_requested, self.paused = True, True, False
                else:
                    others.append(command)
            if self.paused != was_paused and self.on_pause_change is not None:
                self.on_pause_change(self.paused)
            if not self.paused or (self.saves_while_paused and "checkpoint" in others):
                return others
            jobs.report_progress(
                self.project, self.job.id, self.job.progress_done, self.job.progress_total, "paused"
            )
            time.sleep(PAUSE_POLL_S)

    def should_stop(self) -> bool:
        self.poll_control()
        return self.stop_requested
