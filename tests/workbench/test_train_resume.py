"""Runs survive the worker: stop-and-save then resume continues the step count and the
curves; a killed worker's run resumes to exactly the adapter an uninterrupted run makes."""

import json
import os
import signal
import subprocess
import sys
import time

from safetensors.torch import load_file

from tests.workbench.train_helpers import labelled_demo
from workbench.jobs import control
from workbench.jobs import queue as jobs
from workbench.training.config import load_config
from workbench.training.runs import get_run, metric_series

# One thread everywhere: the same arithmetic in the same order, run after run.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
SETTINGS = ["batch_size=4", "eval_every=0", "samples_per_eval=0", "lora.dropout=0.1"]


def start_worker(project_dir):
    return subprocess.Popen(
        [sys.executable, "-m", "workbench.jobs.worker", str(project_dir), "--once"],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(condition, timeout=120.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def resume(project_dir, run_id):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench.cli",
            "train",
            str(project_dir),
            "--resume",
            str(run_id),
            "--json",
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def adapter(project, run_id, step):
    return load_file(
        str(
            project.runs_dir
            / str(run_id)
            / "checkpoints"
            / f"step-{step}"
            / "adapter_model.safetensors"
        )
    )


def test_killed_worker_resumes_to_the_same_final_adapter(tmp_path):
    project = labelled_demo(tmp_path / "p", prompts=24)
    config = load_config(None, [*SETTINGS, "max_steps=60", "checkpoint_every=5"]).to_dict()

    jobs.submit(project, "train", {"config": config})
    assert start_worker(project.path).wait(timeout=300) == 0
    whole = get_run(project, 1)
    assert whole.status == "done" and whole.step == 60

    job_id = jobs.submit(project, "train", {"config": config})
    worker = start_worker(project.path)
    try:
        wait_for(
            lambda: (
                project.db.execute("SELECT COUNT(*) FROM checkpoints WHERE run_id = 2").fetchone()[
                    0
                ]
                >= 1
            ),
            what="a checkpoint",
        )
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    killed_at = get_run(project, 2).step
    assert 0 < killed_at < 60, "the kill must land mid-run"

    out = resume(project.path, 2)
    assert out["ok"] and out["run_id"] == 2 and out["step"] == 60
    assert jobs.get(project, job_id).status == "interrupted"  # the killed job, not the run
    assert get_run(project, 2).status == "done"
    a, b = adapter(project, 1, 60), adapter(project, 2, 60)
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a), (
        "resumed adapter differs from the uninterrupted one"
    )
    losses = metric_series(project, 2, "loss")
    assert [step for step, _ in losses] == list(range(1, 61)), (
        "the curve has a gap or a doubled stretch"
    )
    assert losses == metric_series(project, 1, "loss")


def test_stop_from_the_control_table_saves_and_resume_continues(tmp_path):
    project = labelled_demo(tmp_path / "p", prompts=24)
    config = load_config(None, [*SETTINGS, "max_steps=400", "checkpoint_every=0"]).to_dict()
    job_id = jobs.submit(project, "train", {"config": config})
    worker = start_worker(project.path)
    try:
        wait_for(
            lambda: (
                project.db.execute("SELECT step FROM runs WHERE id = 1").fetchone()
                and project.db.execute("SELECT step FROM runs WHERE id = 1").fetchone()[0] >= 3
            ),
            what="step 3",
        )
        control.request(project, job_id, "stop")
        assert worker.wait(timeout=120) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    run = get_run(project, 1)
    assert run.status == "stopped" and 3 <= run.step < 400
    assert jobs.get(project, job_id).status == "done"
    assert [r[0] for r in project.db.execute("SELECT step FROM checkpoints WHERE run_id = 1")] == [
        run.step
    ]

    project.db.execute(
        "UPDATE runs SET config = json_set(config, '$.max_steps', ?) WHERE id = 1", [run.step + 3]
    )
    out = resume(project.path, 1)
    assert out["status"] == "done" and out["step"] == run.step + 3
    steps = [s for s, _ in metric_series(project, 1, "loss")]
    assert steps == list(range(1, run.step + 4))
