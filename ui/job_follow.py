"""Following one submitted job from a view: waiting for the worker, progress while it
runs, and the view's own `_finish(job)` when it ends. Shared by the views that submit
jobs (the playground, the rules dry run).

The host widget provides `session`, `job_id`, `progress` (a QProgressBar),
`_say(text, color)`, `_finish(job)` and `RUNNING_TEXT`.
"""

from __future__ import annotations

from ui.poller import JobState
from ui.style import BAD, MUTED
from ui.worker_state import WorkerStatus, waiting_message


class JobFollowing:
    RUNNING_TEXT = "Working…"

    def _show_waiting(self) -> None:
        text, problem = waiting_message(self.session.worker_status)
        self._say(text, BAD if problem else MUTED)

    def _on_worker(self, _status: WorkerStatus) -> None:
        job = self.session.jobs.get(self.job_id) if self.job_id else None
        if self.job_id is not None and (job is None or job.status == "queued"):
            self._show_waiting()

    def _on_jobs(self, jobs: dict[int, JobState]) -> None:
        job = jobs.get(self.job_id) if self.job_id is not None else None
        if job is None:
            return
        if job.status == "queued":
            self._show_waiting()
        elif job.status == "running":
            if job.progress_total:
                self.progress.setRange(0, job.progress_total)
                self.progress.setValue(job.progress_done)
            message = job.message or self.RUNNING_TEXT
            self._say(message[:1].upper() + message[1:], MUTED)
        else:
            self._finish(job)
