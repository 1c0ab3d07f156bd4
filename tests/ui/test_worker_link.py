"""The worker process as the window sees it: start, crash noticed and explained, polite stop,
kill after a timeout; and the one-line worker state."""

from __future__ import annotations

import time

import pytest

from ui.poller import WorkerRow
from ui.worker_link import WorkerLink
from ui.worker_state import describe
from workbench.jobs import queue as jobs
from workbench.jobs.worker_registry import mark_dead
from workbench.project import Project


@pytest.fixture
def link(project_path, qtbot):
    made = []

    def _make(mode, monkeypatch):
        monkeypatch.setenv("FAKE_WORKER_MODE", mode)
        made.append(WorkerLink(project_path, module="tests.ui.fake_worker"))
        return made[-1]

    yield _make
    for item in made:
        item.stop_and_wait(2000)


def test_a_crash_is_noticed_with_its_output(link, monkeypatch, qtbot):
    worker = link("crash", monkeypatch)
    with qtbot.waitSignal(worker.died, timeout=20000) as died:
        worker.start()
    message = died.args[0]
    assert "exit code 3" in message and "CUDA out of memory" in message
    assert worker.state == "crashed"
    assert "fake worker loading" in worker.log_text()


def test_stop_asks_politely(link, monkeypatch, qtbot):
    worker = link("sleep", monkeypatch)
    worker.start()
    qtbot.waitUntil(lambda: "ready" in worker.log_text(), timeout=20000)
    assert worker.is_running() and worker.pid
    with qtbot.assertNotEmitted(worker.died):
        with qtbot.waitSignal(
            worker.stateChanged, check_params_cb=lambda s: s == "stopped", timeout=10000
        ):
            worker.stop()
    assert worker.pid in worker.dead_pids


def test_a_worker_ignoring_sigterm_is_killed(link, monkeypatch, qtbot):
    worker = link("stubborn", monkeypatch)
    worker.start()
    qtbot.waitUntil(lambda: "ready" in worker.log_text(), timeout=20000)
    worker._kill_timer.setInterval(300)
    with qtbot.waitSignal(
        worker.stateChanged, check_params_cb=lambda s: s == "stopped", timeout=10000
    ):
        worker.stop()
    assert "killing it" in worker.log_text()


def test_jobs_of_a_dead_worker_are_marked_interrupted(project_path):
    project = Project.open(project_path)
    try:
        now = time.time()
        workers = project.db["workers"]
        workers.insert(
            {"pid": 4242, "host": "h", "status": "busy", "started_at": now, "heartbeat": now}
        )
        worker_id = workers.last_pk
        running, queued = jobs.submit(project, "generate", {}), jobs.submit(project, "generate", {})
        project.db.execute(
            "UPDATE jobs SET status='running', worker_id=? WHERE id=?", [worker_id, running]
        )
        assert mark_dead(project, 4242) == [running]  # at once, not after 15 s
        assert jobs.get(project, running).status == "interrupted"
        assert "the worker stopped unexpectedly" in jobs.get(project, running).error
        assert jobs.get(project, queued).status == "queued"  # a new worker may take it
    finally:
        project.close()


def row(pid=10, status="idle", alive=True, job=None):
    return WorkerRow(1, pid, status, "cpu", "demo", job, alive)


@pytest.mark.parametrize(
    ("process", "rows", "expected"),
    [
        ("none", [], "not started"),
        ("none", [row(alive=False)], "not started"),
        ("none", [row()], "idle on cpu"),  # e.g. `workbench worker` in a terminal
        ("starting", [], "starting…"),
        ("running", [row(status="busy", job=7)], "busy with job 7 on cpu"),
        ("running", [row(alive=False)], "not responding (no heartbeat for 15 s)"),
        ("stopping", [row()], "stopping…"),
        ("stopped", [], "stopped"),
        ("crashed", [], "crashed (exit code 1)"),
    ],
)
def test_worker_state_sentence(process, rows, expected):
    status = describe(process, 10, "exit code 1", rows, set())
    assert status.text == expected


def test_a_dead_pid_is_not_taken_for_a_live_worker():
    assert describe("crashed", None, "killed by SIGKILL", [row()], {10}).state == "crashed"
