import os
import signal
import subprocess
import sys
import threading
import time

from workbench.data.completions import count_completions
from workbench.data.models import add_model
from workbench.jobs import control, worker_registry
from workbench.jobs import queue as jobs
from workbench.jobs.context import JobContext
from workbench.project import Project

QUESTION = "What is 2 + 3?"


def test_failed_job_is_recorded_and_the_worker_runs_the_next(demo_project, tmp_path, run_queue):
    missing = tmp_path / "no-such-model"
    bad_model = add_model(demo_project, "missing", "local", missing)
    bad = jobs.submit(demo_project, "generate", {"model_id": bad_model, "texts": [QUESTION]})
    good = jobs.submit(demo_project, "generate", {"texts": [QUESTION]})
    assert run_queue(demo_project) == 2
    failed = jobs.get(demo_project, bad)
    assert failed.status == "failed"
    assert str(missing) in failed.error and "does not exist" in failed.error
    assert "Traceback" in failed.traceback
    done = jobs.get(demo_project, good)
    assert done.status == "done"
    assert done.result["count"] == 1
    assert done.result["completions"][0]["prompt"] == QUESTION
    assert done.result["stored"] is False


def test_unknown_job_kind_fails_clearly(demo_project, run_queue):
    job = jobs.submit(demo_project, "teleport", {})
    run_queue(demo_project)
    assert "Unknown job kind 'teleport'" in jobs.get(demo_project, job).error


def test_generate_stores_completions_for_a_split(demo_project, run_queue):
    job = jobs.submit(demo_project, "generate", {"split": "eval", "limit": 5, "n": 2})
    run_queue(demo_project)
    result = jobs.get(demo_project, job).result
    assert result["count"] == 10 and result["stored"] is True
    assert count_completions(demo_project, job_id=job) == 10
    assert all(row["completion_id"] for row in result["completions"])


def test_cancel_before_the_first_batch_stores_nothing(demo_project, run_queue):
    job = jobs.submit(demo_project, "generate", {"split": "eval", "batch_size": 4})
    control.request(demo_project, job, "cancel")
    run_queue(demo_project)
    assert jobs.get(demo_project, job).status == "cancelled"
    assert count_completions(demo_project, job_id=job) == 0


def test_pause_blocks_between_steps_until_resume(demo_project):
    job = jobs.get(demo_project, jobs.submit(demo_project, "generate", {}))
    ctx = JobContext(Project.open(demo_project.path), job, session=None)
    control.request(demo_project, job.id, "pause")
    control.request(demo_project, job.id, "checkpoint")
    returned = []
    poller = threading.Thread(target=lambda: returned.append(ctx.poll_control()))
    poller.start()
    poller.join(timeout=0.6)
    assert poller.is_alive(), "a paused job went on"
    assert jobs.get(demo_project, job.id).message == "paused"
    control.request(demo_project, job.id, "resume")
    poller.join(timeout=10)
    assert not poller.is_alive()
    assert returned == [["checkpoint"]]
    assert not ctx.stop_requested


def test_worker_process_runs_jobs_and_stops_on_sigterm(demo_project):
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.jobs.worker", str(demo_project.path)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        job = jobs.submit(demo_project, "generate", {"texts": [QUESTION]})
        deadline = time.monotonic() + 120
        while jobs.get(demo_project, job).status in jobs.ACTIVE and time.monotonic() < deadline:
            time.sleep(0.2)
        assert jobs.get(demo_project, job).status == "done"
        assert len(worker_registry.live_workers(demo_project)) == 1
        live = worker_registry.live_workers(demo_project)[0]
        assert live["pid"] == proc.pid and live["loaded_model"] and live["device"] == "cpu"
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert worker_registry.live_workers(demo_project) == []
