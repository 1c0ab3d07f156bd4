"""Submitting one job from a view and following it: queuing, waiting for the worker,
progress while it runs, Cancel, and the view's own `_finish(job)` when it ends. Shared
by the views that submit jobs (the playground, the rules dry run).

The host widget provides `session`, `job_id`, `status` (a QLabel), `progress` (a
QProgressBar), `cancel_button`, `_set_running(bool)`, `_finish(job)`, and the texts
`RUNNING_TEXT` and `JOB_NOUN`.
"""

from __future__ import annotations

import time

from ui.poller import JobState
from ui.style import BAD, MUTED, say
from ui.worker_state import WorkerStatus, waiting_message


class JobFollowing:
    RUNNING_TEXT = "Working…"
    JOB_NOUN = "the job"

    def _submit(self, kind: str, params: dict) -> None:
        self._set_running(True)
        self.cancel_button.setEnabled(False)  # until the job has an id
        self._say("Queuing…", MUTED)
        self.session.submit_job(kind, params, self._submitted, self._submit_failed)

    def _submitted(self, job_id: int) -> None:
        self.job_id = job_id
        self._started = time.monotonic()
        self.cancel_button.setEnabled(True)
        self._show_waiting()

    def _submit_failed(self, error) -> None:
        from ui.messages import explain

        self._set_running(False)
        self._say(f"Could not queue {self.JOB_NOUN}: {explain(error).what}", BAD)

    def cancel(self) -> None:
        if self.job_id is not None:
            self.session.cancel_job(self.job_id)
            self.cancel_button.setEnabled(False)
            self._say("Cancelling…", MUTED)

    def _say(self, text: str, color: str) -> None:
        say(self.status, text, color)

    def _show_waiting(self) -> None:
        job = self.session.jobs.get(self.job_id) if self.job_id is not None else None
        if job is not None and job.status == "queued" and job.message:
            # Held back by the worker, e.g. "waits for run 3: both would need 19 GiB of 16".
            self._say(f"Waiting: {job.message}", MUTED)
            return
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
