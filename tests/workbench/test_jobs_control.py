import time

from workbench.jobs import control, worker_registry
from workbench.jobs import queue as jobs
from workbench.project import Project


def test_jobs_are_claimed_by_priority_then_age_and_only_once(tmp_path):
    project = Project.create(tmp_path / "p")
    first = jobs.submit(project, "generate", {"n": 1})
    urgent = jobs.submit(project, "generate", {"n": 2}, priority=5)
    second = jobs.submit(project, "generate", {"n": 3})
    claimed = [jobs.claim_next(project, worker_id=None).id for _ in range(3)]
    assert claimed == [urgent, first, second]
    assert jobs.claim_next(project, worker_id=None) is None
    assert jobs.get(project, first).status == "running"


def test_progress_finish_and_fail_are_recorded(tmp_path):
    project = Project.create(tmp_path / "p")
    a = jobs.submit(project, "generate", {})
    b = jobs.submit(project, "generate", {})
    jobs.report_progress(project, a, 3, 10, "generating")
    assert (jobs.get(project, a).progress_done, jobs.get(project, a).progress_total) == (3, 10)
    jobs.finish(project, a, {"count": 10})
    jobs.fail(project, b, "model not found", "Traceback ...")
    assert jobs.get(project, a).result == {"count": 10}
    failed = jobs.get(project, b)
    assert (failed.status, failed.error, failed.traceback) == (
        "failed",
        "model not found",
        "Traceback ...",
    )


def test_cancel_queued_job_at_once_and_running_job_through_control(tmp_path):
    project = Project.create(tmp_path / "p")
    queued = jobs.submit(project, "generate", {})
    running = jobs.submit(project, "generate", {})
    project.db.execute("UPDATE jobs SET status = 'running' WHERE id = ?", [running])
    jobs.cancel(project, queued)
    jobs.cancel(project, running)
    assert jobs.get(project, queued).status == "cancelled"
    assert jobs.get(project, running).status == "running"
    assert control.take_pending(project, running) == ["cancel"]
    assert control.take_pending(project, queued) == []


def test_control_commands_are_delivered_once_in_order(tmp_path):
    project = Project.create(tmp_path / "p")
    job = jobs.submit(project, "train", {})
    for command in ("pause", "resume", "checkpoint"):
        control.request(project, job, command)
    assert control.take_pending(project, job) == ["pause", "resume", "checkpoint"]
    assert control.take_pending(project, job) == []


def test_unknown_control_command_is_refused(tmp_path):
    project = Project.create(tmp_path / "p")
    job = jobs.submit(project, "train", {})
    try:
        control.request(project, job, "explode")
    except ValueError as exc:
        assert "unknown control command" in str(exc)
    else:
        raise AssertionError("an unknown command was accepted")


def test_jobs_of_a_dead_worker_are_interrupted_with_an_explanation(tmp_path):
    project = Project.create(tmp_path / "p")
    dead = worker_registry.register(project, status="busy")
    alive = worker_registry.register(project, status="busy")
    stale = time.time() - worker_registry.STALE_AFTER_S - 5
    project.db.execute("UPDATE workers SET heartbeat = ? WHERE id = ?", [stale, dead])
    orphan = jobs.submit_claimed(project, "generate", {}, dead)
    healthy = jobs.submit_claimed(project, "generate", {}, alive)
    assert worker_registry.interrupt_orphaned_jobs(project) == [orphan]
    assert jobs.get(project, orphan).status == "interrupted"
    assert "stopped responding" in jobs.get(project, orphan).error
    assert jobs.get(project, healthy).status == "running"
    assert [w["id"] for w in worker_registry.live_workers(project)] == [alive]
