"""The same run under torchrun with two processes (gloo on CPU): the replicas stay in
sync and only rank 0 writes to the project."""

import json
import os
import subprocess
import sys

from tests.workbench.train_helpers import labelled_demo
from workbench.project import Project


def test_two_processes_keep_replicas_in_sync_and_only_rank_0_records(tmp_path):
    labelled_demo(tmp_path / "p", prompts=24).close()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--standalone",
            "-m",
            "workbench.cli",
            "train",
            str(tmp_path / "p"),
            "--json",
            "--set",
            "max_steps=4",
            "--set",
            "eval_every=2",
            "--set",
            "checkpoint_every=2",
            "--set",
            "batch_size=4",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)  # rank 0 alone prints: one JSON document
    assert out["ok"] and out["status"] == "done" and out["step"] == 4
    assert out["world_size"] == 2 and out["replicas_in_sync"] is True

    project = Project.open(tmp_path / "p")
    count = lambda sql: project.db.execute(sql).fetchone()[0]  # noqa: E731
    assert count("SELECT COUNT(*) FROM runs") == 1
    assert count("SELECT COUNT(*) FROM jobs") == 1
    assert count("SELECT COUNT(*) FROM workers") == 1
    assert count("SELECT COUNT(*) FROM metrics WHERE name = 'loss'") == 4
    assert count("SELECT COUNT(*) FROM metrics WHERE name = 'eval_loss'") == 2
    assert [r[0] for r in project.db.execute("SELECT step FROM checkpoints ORDER BY step")] == [
        2,
        4,
    ]
    assert sorted(p.name for p in (project.runs_dir / "1" / "checkpoints").iterdir()) == [
        "step-2",
        "step-4",
    ]
    assert sorted(p.name for p in project.runs_dir.iterdir()) == ["1"]


def test_grpo_under_two_processes_samples_on_each_and_stays_in_sync(tmp_path):
    from workbench.demo_project import build_demo_project

    build_demo_project(tmp_path / "p").close()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--standalone",
            "-m",
            "workbench.cli",
            "train",
            str(tmp_path / "p"),
            "--json",
            "--set",
            "algorithm=grpo",
            "--set",
            "max_steps=2",
            "--set",
            "batch_size=2",
            "--set",
            "num_generations=4",
            "--set",
            "max_completion_length=20",
            "--set",
            "eval_every=0",
            "--set",
            "eval_prompts=8",
            "--set",
            "checkpoint_every=0",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["ok"] and out["status"] == "done" and out["step"] == 2
    assert out["world_size"] == 2 and out["replicas_in_sync"] is True
    assert out["eval"]["eval_completions/mean_length"] > 0

    project = Project.open(tmp_path / "p")
    rows = project.db.execute(
        "SELECT step, value FROM metrics WHERE name = 'reward' ORDER BY step"
    ).fetchall()
    assert [step for step, _ in rows] == [1, 2]
    # one row per step: rank 0 alone records, the other rank only trains
    clipped = project.db.execute(
        "SELECT COUNT(*) FROM metrics WHERE name = 'completions/clipped_ratio'"
    )
    assert clipped.fetchone()[0] == 2
