"""`workbench run` steers a training run in a worker: pause shows the run paused and holds
its step, a checkpoint asked for while paused is saved at that step and the run stays
paused, resume and stop-and-save land, each acknowledged before the next step."""

from __future__ import annotations

import json

import pytest

from tests.workbench.test_parallel_lanes import ENV, start_worker
from tests.workbench.test_train_resume import wait_for
from tests.workbench.train_helpers import labelled_demo
from workbench.cli import main as cli_main
from workbench.jobs import lanes
from workbench.jobs import queue as jobs
from workbench.training.config import load_config
from workbench.training.runs import get_run

SETTINGS = ["batch_size=4", "eval_every=0", "samples_per_eval=0", "checkpoint_every=0"]


def run_command(project, action, capsys) -> dict:
    assert cli_main(["run", str(project.path), action, "1", "--wait", "120", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def checkpoint_steps(project) -> list[int]:
    return [r[0] for r in project.db.execute("SELECT step FROM checkpoints ORDER BY step")]


@pytest.mark.slow
def test_pause_checkpoint_while_paused_resume_and_stop_from_the_command_line(tmp_path, capsys):
    assert ENV["OMP_NUM_THREADS"] == "1"
    project = labelled_demo(tmp_path / "p", prompts=24)
    config = load_config(None, [*SETTINGS, "max_steps=5000"]).to_dict()
    job = jobs.submit(project, "train", {"config": config})
    worker = start_worker(project.path, lanes.TRAINING)
    try:
        wait_for(lambda: project.db.execute("SELECT MAX(step) FROM runs").fetchone()[0], 300)
        assert run_command(project, "pause", capsys)["acknowledged"]
        wait_for(lambda: get_run(project, 1).status == "paused", 60, "the paused state")
        held = get_run(project, 1).step
        assert cli_main(["jobs", str(project.path), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["jobs"][0]["status"] == "paused"

        assert run_command(project, "checkpoint", capsys)["acknowledged"]
        wait_for(lambda: checkpoint_steps(project) == [held], 120, "the checkpoint")
        assert get_run(project, 1).status == "paused" and get_run(project, 1).step == held

        assert run_command(project, "resume", capsys)["acknowledged"]
        wait_for(lambda: get_run(project, 1).step > held + 2, 120, "steps after resume")
        assert get_run(project, 1).status == "running"

        assert run_command(project, "stop", capsys)["acknowledged"]
        assert worker.wait(timeout=120) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    run = get_run(project, 1)
    assert run.status == "stopped" and checkpoint_steps(project) == [held, run.step]
    assert jobs.get(project, job).status == "done"
    logs = [r[0] for r in project.db.execute("SELECT message FROM run_logs WHERE run_id = 1")]
    assert "paused" in logs and "resumed" in logs
