"""A run's phase and ETA as the project keeps them (workbench/training/run_phase.py): the
recorder writes what the engine reports, a reader that looks later sees it, and
`workbench runs --json` and `workbench jobs --json` say it as ``phase``."""

from __future__ import annotations

import json

import pytest

from engine.session import ModelSession
from engine.training.phases import EVALUATING, LOADING, REFERENCE, SAMPLING, TRAINING
from tests.workbench.train_helpers import FAST, labelled_demo
from workbench.cli import main
from workbench.jobs import queue as jobs
from workbench.jobs.worker import run_inline
from workbench.jobs.worker_registry import register
from workbench.project import Project
from workbench.training import runs
from workbench.training.progress import run_progress
from workbench.training.run_phase import PhaseWriter, phase_text


@pytest.fixture
def project(tmp_path):
    project = Project.create(tmp_path / "p")
    yield project
    project.close()


def new_run(project, max_steps=300, job_id=None) -> int:
    return runs.create_run(
        project,
        algorithm="grpo",
        config={},
        dataset={},
        dataset_hash="h",
        model_id=None,
        parent_checkpoint_id=None,
        job_id=job_id,
        name="live",
        max_steps=max_steps,
    )


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_phase_texts():
    assert phase_text(LOADING) == "Loading model…"
    assert phase_text(REFERENCE, 120, 400) == "Reference pass 120/400"
    assert phase_text(TRAINING, 12, 300) == "Training step 12/300"
    assert phase_text(EVALUATING, 40, 200) == "Evaluating 40/200"
    assert phase_text(SAMPLING, 3, 300) == "Sampling · step 3/300"
    assert phase_text(None) == ""


def test_a_reader_sees_the_phase_and_a_smoothed_eta(project):
    run_id = new_run(project, max_steps=100)
    clock = Clock()
    writer = PhaseWriter(project, run_id, 100, clock=clock)
    writer(REFERENCE, 120, 400)
    progress = run_progress(project, run_id)
    assert progress["phase"] == REFERENCE and progress["phase_text"] == "Reference pass 120/400"
    assert progress["eta_s"] is None  # no step measured yet
    for step in range(1, 12):  # 2 s per step, with an evaluation of 30 s after step 5
        writer(TRAINING, step, 100)
        clock.now += 2.0
        if step == 5:
            writer(EVALUATING, 0, 10)
            clock.now += 30.0
    progress = run_progress(project, run_id)
    assert progress["phase"] == TRAINING and progress["phase_done"] == 11
    assert progress["step_seconds"] == pytest.approx(2.0)
    assert progress["rate"] == pytest.approx(0.5)
    assert progress["eta_s"] == pytest.approx(90 * 2.0, abs=2.0)  # steps 11..100, counted down
    runs.end_run(project, run_id, "done")
    ended = run_progress(project, run_id)
    assert ended["phase"] is None and ended["phase_text"] == "" and ended["eta_s"] is None


def test_the_same_phase_is_written_at_most_every_quarter_second_and_a_change_at_once(project):
    run_id = new_run(project)
    clock = Clock()
    writer = PhaseWriter(project, run_id, 300, clock=clock)
    writer(TRAINING, 1, 300)
    clock.now += 0.01
    writer(TRAINING, 2, 300)  # too soon: not written
    assert run_progress(project, run_id)["phase_done"] == 1
    writer(EVALUATING, 0, 4)  # a new phase: written at once
    assert run_progress(project, run_id)["phase"] == EVALUATING
    clock.now += 0.3
    writer(EVALUATING, 2, 4)
    assert run_progress(project, run_id)["phase_done"] == 2


def test_runs_and_jobs_json_say_the_phase(project, capsys):
    job_id = jobs.submit(project, "train", {})
    run_id = new_run(project, job_id=job_id)
    worker_id = register(project, status="busy")  # this process: alive, so not reaped
    project.db.execute(
        "UPDATE jobs SET status = 'running', worker_id = ? WHERE id = ?", [worker_id, job_id]
    )
    PhaseWriter(project, run_id, 300)(SAMPLING, 7, 300)
    assert main(["runs", str(project.path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["runs"][0]
    assert listed["phase"] == SAMPLING and listed["phase_text"] == "Sampling · step 7/300"
    assert main(["jobs", str(project.path), "--json"]) == 0
    job = next(j for j in json.loads(capsys.readouterr().out)["jobs"] if j["id"] == job_id)
    assert job["phase"] == SAMPLING


def test_a_training_job_goes_through_its_phases_and_ends_with_none(tmp_path, monkeypatch):
    project = labelled_demo(tmp_path / "p", prompts=8)
    seen: list[str | None] = []

    def phase_now() -> str | None:
        row = project.db.execute("SELECT phase FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    real_get = ModelSession.get

    def get(self, *args, **kwargs):  # the run says it is loading while the model loads
        seen.append(phase_now())
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(ModelSession, "get", get)
    params = {"config": {"algorithm": "dpo", **dict(s.split("=") for s in FAST)}}
    for key in ("max_steps", "eval_every", "checkpoint_every", "batch_size"):
        params["config"][key] = int(params["config"][key])
    params["config"]["samples_per_eval"] = 0
    params["config"].pop("sample_max_new_tokens")
    job = run_inline(project, "train", params, on_progress=lambda *_: seen.append(phase_now()))
    assert job.status == "done", job.error
    recorded = [phase for phase in seen if phase]  # None: "preparing", before the run exists
    assert recorded[0] == LOADING
    assert {REFERENCE, TRAINING} <= set(seen)
    assert phase_now() is None
    step_seconds = project.db.execute("SELECT step_seconds FROM runs").fetchone()[0]
    assert step_seconds and step_seconds > 0
