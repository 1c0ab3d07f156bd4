"""The strip that follows a labelling job started from the Label view (by rules or by a
judge): progress, Cancel, and what came of it."""

from __future__ import annotations

import time

from ui.poller import JobState
from ui.style import BAD, MUTED, OK
from ui.views.label.candidate_job import CandidateJob
from workbench.labels.auto_label import AutoLabelRequest, summary


class AutoLabelJob(CandidateJob):
    RUNNING_TEXT = "Labelling…"
    JOB_NOUN = "the labelling"

    by = "rules"

    def start_labelling(self, request: AutoLabelRequest) -> None:
        self.by = request.by
        self.show()
        self._submit(request.job_kind, request.params())

    def _finish(self, job: JobState) -> None:
        self.job_id = None
        self._set_running(False)
        seconds = time.monotonic() - self._started
        if job.status == "done":
            self._say(f"{summary(self.by, job.result or {})} ({seconds:.0f} s)", OK)
        elif job.status == "cancelled":
            self._say("Labelling cancelled.", MUTED)
        else:
            self._say(
                f"Labelling failed: {job.error or 'no reason was recorded'} "
                "(Worker › Show log has the details).",
                BAD,
            )
        self.finished.emit(job)
