"""The poller reads jobs and workers on its own thread and reports changes on the main one."""

from __future__ import annotations

import threading
import time

import pytest

from ui.poller import ProjectPoller
from workbench.jobs import queue as jobs
from workbench.jobs.worker_registry import STALE_AFTER_S
from workbench.project import Project


@pytest.fixture
def poller(project_path, qtbot):
    poller = ProjectPoller(project_path)
    poller.start()
    yield poller
    poller.stop()


@pytest.fixture
def project(project_path):
    project = Project.open(project_path)
    yield project
    project.close()


def test_job_progress_and_result_arrive_on_the_main_thread(poller, project, qtbot):
    seen_on = []
    poller.jobsChanged.connect(lambda _jobs: seen_on.append(threading.current_thread()))
    job_id = jobs.submit(project, "generate", {"texts": ["x"]})
    qtbot.waitUntil(lambda: job_id in poller.jobs)
    assert poller.jobs[job_id].status == "queued"
    project.db.execute("UPDATE jobs SET status = 'running' WHERE id = ?", [job_id])
    jobs.report_progress(project, job_id, 3, 8, "Generating")
    qtbot.waitUntil(lambda: poller.jobs[job_id].progress_done == 3)
    assert poller.jobs[job_id].message == "Generating"
    jobs.finish(project, job_id, {"completions": [], "count": 0})
    qtbot.waitUntil(lambda: poller.jobs[job_id].status == "done")
    assert poller.jobs[job_id].result == {"completions": [], "count": 0}
    assert set(seen_on) == {threading.main_thread()}


def test_worker_rows_and_their_liveness(poller, project, qtbot):
    now = time.time()
    workers = project.db["workers"]
    workers.insert(
        {
            "pid": 1,
            "host": "h",
            "status": "idle",
            "device": "cpu",
            "started_at": now,
            "heartbeat": now,
        }
    )
    qtbot.waitUntil(lambda: bool(poller.workers) and poller.workers[0].alive)
    assert poller.workers[0].device == "cpu"
    project.db.execute("UPDATE workers SET heartbeat = ?", [now - STALE_AFTER_S - 1])
    qtbot.waitUntil(lambda: not poller.workers[0].alive)
