"""Generate candidates in the interactive lane while a run trains in the training lane: the
candidates finish during the run, and the run's curve is the one it has alone. Prints the
figures of issue 15: the candidates job's time and the run's steps/s with and without the
interactive lane busy (pytest -s shows them)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.workbench.test_train_resume import wait_for
from tests.workbench.train_helpers import labelled_demo
from workbench.jobs import lanes
from workbench.jobs import queue as jobs
from workbench.training.config import load_config
from workbench.training.runs import get_run, metric_series

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
SETTINGS = ["batch_size=4", "eval_every=0", "samples_per_eval=0", "checkpoint_every=0"]
STEPS = 100


def start_worker(project_dir, lane, *extra):
    args = [str(project_dir), "--lane", lane, *(extra or ["--once"])]
    return subprocess.Popen(
        [sys.executable, "-m", "workbench.jobs.worker", *args],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def steps_per_s(project, run_id, start=None, end=None) -> float:
    """The run's step rate; between `start` and `end` from the steps that bracket them."""
    rows = project.db.execute(
        "SELECT step, time FROM metrics WHERE run_id = ? AND name = 'loss' ORDER BY step",
        [run_id],
    ).fetchall()
    before = [r for r in rows if start is None or r[1] <= start] or rows[:1]
    after = [r for r in rows if end is None or r[1] >= end] or rows[-1:]
    first, last = before[-1] if start is not None else rows[0], after[0] if end else rows[-1]
    assert last[0] > first[0], "too few steps to measure"
    return (last[0] - first[0]) / (last[1] - first[1])


@pytest.mark.slow
def test_candidates_finish_while_a_run_trains_and_leave_it_unchanged(tmp_path):
    project = labelled_demo(tmp_path / "p", prompts=24)
    config = load_config(None, [*SETTINGS, f"max_steps={STEPS}"]).to_dict()

    jobs.submit(project, "train", {"config": config})
    assert start_worker(project.path, lanes.TRAINING).wait(timeout=600) == 0
    alone = get_run(project, 1)
    assert alone.status == "done" and alone.step == STEPS

    # The window's interactive worker is up, its model loaded (e.g. by the playground), when
    # the user asks for candidates.
    helper = start_worker(project.path, lanes.INTERACTIVE, "--idle-exit", "600")
    warm_up = jobs.submit(project, "generate", {"texts": ["What is 1 + 1?"], "store": False})
    wait_for(lambda: jobs.get(project, warm_up).status == "done", timeout=300)
    jobs.submit(project, "train", {"config": config})
    trainer = start_worker(project.path, lanes.TRAINING)
    try:
        wait_for(lambda: get_run(project, 2).step >= 3 if _has_run(project, 2) else False)
        prompt_ids = [r[0] for r in project.db.execute("SELECT id FROM prompts LIMIT 24")]
        candidates = jobs.submit(
            project, "generate", {"prompt_ids": prompt_ids, "n": 4, "store": True, "sampling": {}}
        )
        wait_for(lambda: jobs.get(project, candidates).status in jobs.FINISHED, timeout=600)
        assert jobs.get(project, candidates).status == "done"
        during_run = get_run(project, 2)
        assert during_run.status == "running" and during_run.step < STEPS, (
            "the candidates must finish while the run trains"
        )
        assert trainer.wait(timeout=600) == 0
        helper.terminate()
        assert helper.wait(timeout=60) == 0
    finally:
        for process in (trainer, helper):
            if process.poll() is None:
                process.kill()
    assert get_run(project, 2).status == "done"
    assert metric_series(project, 2, "loss") == metric_series(project, 1, "loss")

    started, ended, created = project.db.execute(
        "SELECT started_at, ended_at, created_at FROM jobs WHERE id = ?", [candidates]
    ).fetchone()
    stored = project.db.execute(
        f"SELECT COUNT(*) FROM completions WHERE prompt_id IN ({','.join('?' * 24)})",
        prompt_ids,
    ).fetchone()[0]
    assert stored >= 96  # 4 candidates for each of the 24 prompts (plus the labelled pairs)
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    print(
        f"\nissue 15 figures (OMP_NUM_THREADS=1, load average {' '.join(load)}): "
        f"candidates job (24 prompts x 4) {ended - started:.1f} s running, "
        f"{ended - created:.1f} s from submit; "
        f"run alone {steps_per_s(project, 1):.2f} steps/s, "
        f"same run while the candidates ran {steps_per_s(project, 2, started, ended):.2f} steps/s, "
        f"after them {steps_per_s(project, 2, ended):.2f} steps/s"
    )


def _has_run(project, run_id: int) -> bool:
    return project.db.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone() is not None
