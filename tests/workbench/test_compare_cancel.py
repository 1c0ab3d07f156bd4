"""Cancelling a running compare job: the request arrives through the control table while
the worker generates (as the Compare view's Cancel sends it), the job ends cancelled after
the batch it was in, the finished batches stay stored and a later job completes the rest."""

from __future__ import annotations

from tests.workbench.test_compare import _base_comparison
from workbench.comparing.fill import _Filler
from workbench.data.completions import count_completions
from workbench.jobs import queue as jobs


def test_cancelling_a_running_compare_job_keeps_its_finished_batches(
    demo_project, run_queue, monkeypatch
):
    comparison = _base_comparison(demo_project, 6)
    job_id = jobs.submit(demo_project, "compare", {"comparison_id": comparison.id, "batch_size": 2})
    real = _Filler._generate

    def generate_then_cancel(self, *args):
        real(self, *args)
        if self.result.generated == 2:  # the first batch is stored: Cancel is pressed
            jobs.cancel(demo_project, job_id)

    monkeypatch.setattr(_Filler, "_generate", generate_then_cancel)
    assert run_queue(demo_project) == 1
    job = jobs.get(demo_project, job_id)
    assert job.status == "cancelled"
    assert count_completions(demo_project, job_id=job_id) == 2

    monkeypatch.setattr(_Filler, "_generate", real)
    again = jobs.submit(demo_project, "compare", {"comparison_id": comparison.id})
    assert run_queue(demo_project) == 1
    finished = jobs.get(demo_project, again)
    assert finished.status == "done" and finished.result["generated"] == 4
    assert finished.result["models"][0]["n"] == 6
