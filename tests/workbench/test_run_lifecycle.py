"""The run lifecycle without training: worker lanes and who claims what, a training job
waiting for another, a job held back by the GPU fit, exit reasons from evidence only, dead
workers' jobs and runs interrupted with their checkpoint, pause as a run state, checkpoint
while paused, and `workbench run` / `runs` / `jobs` on those states."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.cli import main as cli_main
from workbench.jobs import control, lanes, worker_registry
from workbench.jobs import queue as jobs
from workbench.jobs.context import JobContext
from workbench.jobs.device_share import waiting_reason
from workbench.jobs.exit_reason import UNEXPECTED, explain_exit
from workbench.jobs.run_control import request_for_run
from workbench.project import Project
from workbench.training import runs


@pytest.fixture
def project(tmp_path):
    made = Project.create(tmp_path / "p")
    yield made
    made.close()


def _run(project: Project, job_id: int, status: str = "running") -> int:
    run_id = runs.create_run(
        project,
        algorithm="dpo",
        config={"max_steps": 10},
        dataset={},
        dataset_hash="x",
        model_id=None,
        parent_checkpoint_id=None,
        job_id=job_id,
        name="r",
        max_steps=10,
    )
    project.db.execute("UPDATE runs SET status = ? WHERE id = ?", [status, run_id])
    return run_id


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], stdout=-1)
    return int(done.stdout)


def test_each_lane_claims_its_own_kinds(project):
    train = jobs.submit(project, "train", {})
    generate = jobs.submit(project, "generate", {})
    trainer = worker_registry.register(project, lane=lanes.TRAINING)
    helper = worker_registry.register(project, lane=lanes.INTERACTIVE)
    assert jobs.claim_next(project, helper, lanes.INTERACTIVE).id == generate
    assert jobs.claim_next(project, helper, lanes.INTERACTIVE) is None
    assert jobs.claim_next(project, trainer, lanes.TRAINING).id == train


def test_a_second_training_run_waits_for_the_first_unless_allowed(project):
    first = jobs.submit(project, "train", {})
    second = jobs.submit(project, "train", {})
    a = worker_registry.register(project, lane=lanes.TRAINING)
    b = worker_registry.register(project, lane=lanes.TRAINING)
    assert jobs.claim_next(project, a, lanes.TRAINING).id == first
    run_id = _run(project, first)
    assert jobs.claim_next(project, b, lanes.TRAINING) is None
    waiting = jobs.get(project, second)
    assert waiting.status == "queued"
    assert f"waits for run {run_id}" in waiting.message
    assert lanes.PARALLEL_TRAINING_SETTING in waiting.message
    project.set_setting(lanes.PARALLEL_TRAINING_SETTING, True)
    assert jobs.claim_next(project, b, lanes.TRAINING).id == second


def test_a_job_held_back_by_the_fit_shows_why_and_others_go_on(project):
    held = jobs.submit(project, "generate", {"model_id": 2})
    other = jobs.submit(project, "generate", {"model_id": 1})
    worker = worker_registry.register(project, lane=lanes.INTERACTIVE)

    def admit(_kind, params):
        return "waits for run 3: both would need 19.0 GiB of 16.0 GiB" if params else None

    def admit_model_one(_kind, params):
        return None if params["model_id"] == 1 else admit(_kind, params)

    assert jobs.claim_next(project, worker, lanes.INTERACTIVE, admit_model_one).id == other
    assert jobs.get(project, held).message.startswith("waits for run 3: both would need 19.0")


def test_waiting_reason_names_the_run_and_the_memory():
    gib = 1024**3
    assert waiting_reason(3, 19 * gib, 16 * gib) == (
        "waits for run 3: both would need 19.0 GiB of 16.0 GiB"
    )
    assert waiting_reason(3, 15 * gib, 16 * gib) is None


@pytest.mark.parametrize(
    ("code", "log", "expected"),
    [
        (-9, "step 4\n", "killed by SIGKILL"),
        (None, "", UNEXPECTED),
        (None, "loading\nworker 3 stopped after 2 job(s)\n", UNEXPECTED),
        (
            None,
            'Traceback (most recent call last):\n  File "x", line 1\nValueError: bad row\n',
            "a Python error (its log: ValueError: bad row)",
        ),
        (
            1,
            'Traceback (most recent call last):\n  File "x"\n'
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n",
            "exit code 1; out of memory (its log: torch.OutOfMemoryError: CUDA out of memory.",
        ),
    ],
)
def test_exit_reasons_come_from_evidence_only(code, log, expected):
    reason = explain_exit(code, log)
    assert reason.startswith(expected)
    if "memory" not in log:
        assert "memory" not in reason  # a SIGKILL is never taken for an out-of-memory kill


def test_a_dead_worker_interrupts_its_job_and_run_with_the_reason(project):
    (project.path / "logs").mkdir()
    (project.path / "logs" / "w.log").write_text(
        'Traceback (most recent call last):\n  File "w"\nRuntimeError: driver went away\n'
    )
    worker = worker_registry.register(project, status="busy", log_path="logs/w.log")
    project.db.execute("UPDATE workers SET pid = ? WHERE id = ?", [_dead_pid(), worker])
    job = jobs.submit_claimed(project, "train", {}, worker)
    run_id = _run(project, job, status="paused")
    runs.add_checkpoint(project, run_id, 6, project.path / "runs" / "c", {})
    assert worker_registry.reap_dead_workers(project) == [job]
    assert jobs.get(project, job).status == "interrupted"
    run = runs.get_run(project, run_id)
    assert run.status == "interrupted"
    assert "RuntimeError: driver went away" in run.error
    assert "last checkpoint (step 6)" in run.error
    assert worker_registry.live_workers(project) == []


def test_a_live_local_worker_is_left_alone(project):
    worker = worker_registry.register(project, status="busy")
    job = jobs.submit_claimed(project, "train", {}, worker)
    run_id = _run(project, job)
    assert worker_registry.reap_dead_workers(project) == []
    assert runs.get_run(project, run_id).status == "running"


def test_pause_is_a_run_state_and_a_checkpoint_lands_while_paused(project):
    job = jobs.get(project, jobs.submit_claimed(project, "train", {}, None))
    ctx = JobContext(project, job, session=None)
    changes: list[bool] = []
    ctx.saves_while_paused, ctx.on_pause_change = True, changes.append
    control.request(project, job.id, "pause")
    control.request(project, job.id, "checkpoint")
    assert ctx.poll_control() == ["checkpoint"]  # at once, still paused
    assert ctx.paused and changes == [True]
    control.request(project, job.id, "resume")
    assert ctx.poll_control() == [] and not ctx.paused and changes == [True, False]


def test_run_commands_reach_the_job_of_a_live_run_only(project, capsys):
    worker = worker_registry.register(project, status="busy")
    job = jobs.submit_claimed(project, "train", {}, worker)
    live = _run(project, job)
    ended = _run(project, None, status="interrupted")
    control_id = request_for_run(project, live, "checkpoint")
    assert control.take_pending(project, job) == ["checkpoint"]
    assert (
        project.db.execute("SELECT job_id FROM control WHERE id = ?", [control_id]).fetchone()[0]
        == job
    )
    with pytest.raises(ValueError, match=f"--resume {ended}"):
        request_for_run(project, ended, "resume")
    with pytest.raises(ValueError, match="not running"):
        request_for_run(project, ended, "pause")
    code = cli_main(["run", str(project.path), "pause", str(live), "--wait", "0", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["command"] == "pause" and out["acknowledged"] is False
    assert control.take_pending(project, job) == ["pause"]


def test_runs_and_jobs_commands_show_interrupted_and_paused(project, capsys):
    dead = worker_registry.register(project, status="busy")
    project.db.execute("UPDATE workers SET pid = ? WHERE id = ?", [_dead_pid(), dead])
    killed = jobs.submit_claimed(project, "train", {}, dead)
    _run(project, killed)
    alive = worker_registry.register(project, status="busy")
    paused = jobs.submit_claimed(project, "generate", {}, alive)
    jobs.report_progress(project, paused, 1, 4, "paused")
    assert cli_main(["jobs", str(project.path), "--json"]) == 0
    shown = {j["id"]: j["status"] for j in json.loads(capsys.readouterr().out)["jobs"]}
    assert shown == {killed: "interrupted", paused: "paused"}
    assert cli_main(["runs", str(project.path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["runs"]
    assert [r["status"] for r in listed] == ["interrupted"]
    assert UNEXPECTED in listed[0]["error"]


def test_the_launcher_detaches_the_worker_and_names_its_log(project):
    from workbench.jobs.launcher import start_worker

    launched = start_worker(project.path, lanes.INTERACTIVE, idle_exit_s=0.5)
    assert os.getsid(launched.pid) == launched.pid != os.getsid(0)  # a session of its own
    assert launched.process.wait(timeout=120) == 0  # nothing to do: it exits after 0.5 s
    assert launched.log_path == project.path / "logs" / f"worker-{launched.pid}.log"
    log = launched.log_path.read_text()
    assert "interactive lane" in log and "stopped after 0 job(s)" in log
    row = project.db.execute(
        "SELECT lane, log_path, status, host FROM workers WHERE pid = ?", [launched.pid]
    ).fetchone()
    assert row == (
        "interactive",
        f"logs/worker-{launched.pid}.log",
        "stopped",
        socket.gethostname(),
    )


def test_a_worker_idles_out_after_the_timeout(project):
    from workbench.jobs.worker import Worker

    worker = Worker(project, session=object(), lane=lanes.TRAINING)
    started = time.monotonic()
    try:
        assert worker.run(idle_exit_s=0.3) == 0
    finally:
        worker.close()
    assert 0.3 <= time.monotonic() - started < 10


def test_a_silent_worker_still_running_here_is_not_taken_for_dead(project):
    """A closed laptop lid: every heartbeat is stale on waking, but the worker lives."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "worker"])
    cmdline = Path(f"/proc/{sleeper.pid}/cmdline")
    deadline = time.monotonic() + 30
    while cmdline.exists() and b"sleep" not in cmdline.read_bytes():  # until it has exec'd
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        worker = worker_registry.register(project, status="busy")
        stale = time.time() - worker_registry.STALE_AFTER_S - 3600
        project.db.execute(
            "UPDATE workers SET pid = ?, heartbeat = ? WHERE id = ?", [sleeper.pid, stale, worker]
        )
        job = jobs.submit_claimed(project, "train", {}, worker)
        run_id = _run(project, job)
        assert worker_registry.reap_dead_workers(project) == []
        assert runs.get_run(project, run_id).status == "running"
        sleeper.kill()
        sleeper.wait(timeout=30)
        assert worker_registry.reap_dead_workers(project) == [job]
        assert runs.get_run(project, run_id).status == "interrupted"
    finally:
        if sleeper.poll() is None:
            sleeper.kill()


def test_an_interactive_job_shares_a_gpu_only_when_both_fit(project, monkeypatch):
    import engine.device
    from workbench.jobs import device_share

    gib = 1024**3
    monkeypatch.setattr(engine.device, "device_memory", lambda _device: (16 * gib, 2 * gib))
    monkeypatch.setattr(device_share, "_training_need", lambda _p, _config: 12 * gib)
    monkeypatch.setattr(device_share, "_job_need", lambda _p, _params: 7 * gib)
    assert device_share.share_verdict(project, {}, "cuda:0") is None  # nothing trains
    worker = worker_registry.register(project, status="busy", lane=lanes.TRAINING)
    run_id = _run(project, jobs.submit_claimed(project, "train", {}, worker))
    assert device_share.share_verdict(project, {}, "cuda:0") == (
        f"waits for run {run_id}: both would need 19.0 GiB of 16.0 GiB"
    )
    assert device_share.share_verdict(project, {}, "cpu") is None  # RAM and cores are shared
    monkeypatch.setattr(device_share, "_job_need", lambda _p, _params: 3 * gib)
    assert device_share.share_verdict(project, {}, "cuda:0") is None
