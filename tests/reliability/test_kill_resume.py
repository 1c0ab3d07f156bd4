"""A worker SIGKILLed at a random point of a DPO (offline) or GRPO (online) run on the demo
resumes to exactly the adapter an uninterrupted run makes, with every metric row once.

The point is drawn at random (a step, then a moment within it: mid-step, mid-checkpoint,
or before the first checkpoint, when the run starts over); the seed is printed and can be
fixed with RELIABILITY_SEED to replay a failure."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from tests.workbench.test_train_resume import adapter, resume, start_worker, wait_for
from tests.workbench.train_helpers import labelled_demo
from workbench.jobs import queue as jobs
from workbench.training.config import load_config
from workbench.training.runs import get_run, metric_series

COMMON = ["eval_every=0", "samples_per_eval=0", "checkpoint_every=2"]
ALGORITHMS = {
    "dpo": ["batch_size=4", "lora.dropout=0.1", "max_steps=12"],
    "grpo": [
        "algorithm=grpo",
        "batch_size=2",
        "num_generations=4",
        "max_completion_length=12",
        "eval_prompts=4",
        "max_steps=6",
    ],
}


def _seed() -> int:
    seed = int(os.environ.get("RELIABILITY_SEED", time.time_ns() % 10**6))
    print(f"RELIABILITY_SEED={seed}")
    return seed


def _run_step(project, run_id: int) -> int:
    row = project.db.execute("SELECT step FROM runs WHERE id = ?", [run_id]).fetchone()
    return row[0] if row and row[0] is not None else -1


def _mean_step_seconds(project, run_id: int) -> float:
    seconds = [value for _, value in metric_series(project, run_id, "train/step_seconds")]
    return sum(seconds) / len(seconds)


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_a_kill_at_a_random_point_resumes_to_the_uninterrupted_adapter(tmp_path, algorithm):
    rng = random.Random(_seed())
    project = labelled_demo(tmp_path / "p", prompts=12)
    config = load_config(None, [*COMMON, *ALGORITHMS[algorithm]]).to_dict()
    steps = config["max_steps"]

    # One worker runs the uninterrupted run 1, then run 2, which it is killed in.
    jobs.submit(project, "train", {"config": config})
    jobs.submit(project, "train", {"config": config})
    worker = start_worker(project.path)
    kill_after = rng.randrange(0, steps // 2)  # the step it has reached; then a moment more
    try:
        wait_for(lambda: _run_step(project, 2) >= 0, timeout=240, what="run 1, then run 2")
        # "A moment more" is a share of one step as this machine runs it (a fixed pause
        # outlasted the whole run on a quiet machine), so the kill lands inside the run.
        step_s = _mean_step_seconds(project, 1)
        wait_for(lambda: _run_step(project, 2) >= kill_after, timeout=240, what="the step")
        time.sleep(rng.uniform(0, step_s))
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert get_run(project, 1).status == "done"
    assert get_run(project, 2).step < steps, "the kill must land before the end"

    out = resume(project.path, 2)
    assert out["ok"] and out["step"] == steps
    a, b = adapter(project, 1, steps), adapter(project, 2, steps)
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    losses = metric_series(project, 2, "loss")
    assert [step for step, _ in losses] == list(range(1, steps + 1))  # none lost, none twice
    assert losses == metric_series(project, 1, "loss")
    leftovers = [p.name for p in (project.runs_dir / "2" / "checkpoints").iterdir()]
    assert not [name for name in leftovers if name.startswith(".tmp-")]
