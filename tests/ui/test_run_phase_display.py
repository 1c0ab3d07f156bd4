"""The phase display: a run's phase and smoothed ETA in the Train view's run header and
the Runs table, read from the project as a window that attaches mid-run would; and the
smaller items of issue 21 around the run header (paused, Checkpoint now while paused, the
memory fit's LoRA rank)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.training.phases import EVALUATING, LOADING, REFERENCE, TRAINING
from tests.ui.conftest import make_project
from ui.views.runs.table import COLUMNS
from ui.views.train.run_controls import RunControls
from ui.views.train.run_monitor import bar_range, progress_text
from workbench.jobs import queue as jobs
from workbench.jobs.worker_registry import register
from workbench.project import Project
from workbench.training import runs
from workbench.training.run_phase import PhaseWriter


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def live_run(path: Path, max_steps: int = 300) -> tuple[Project, int, int]:
    """A running train job and its run, held by a worker row of this (live) process."""
    project = Project.open(path)
    job_id = jobs.submit(project, "train", {})
    worker_id = register(project, status="busy")
    project.db.execute(
        "UPDATE jobs SET status = 'running', worker_id = ? WHERE id = ?", [worker_id, job_id]
    )
    run_id = runs.create_run(
        project,
        algorithm="dpo",
        config={},
        dataset={},
        dataset_hash="h",
        model_id=None,
        parent_checkpoint_id=None,
        job_id=job_id,
        name="live",
        max_steps=max_steps,
    )
    return project, run_id, job_id


def base_progress(**fields) -> dict:
    progress = {
        "step": 0,
        "max_steps": 300,
        "status": "running",
        "job_message": None,
        "phase": None,
        "phase_text": "",
        "phase_done": 0,
        "phase_total": 0,
        "rate": None,
        "eta_s": None,
        "step_seconds": None,
        "started_at": 0.0,
        "ended_at": None,
    }
    progress.update(fields)
    return progress


def test_the_header_text_says_the_phase_and_a_smoothed_rate():
    loading = base_progress(phase=LOADING, phase_text="Loading model…")
    assert progress_text(loading) == "Loading model…"
    reference = base_progress(
        phase=REFERENCE, phase_text="Reference pass 120/400", phase_done=120, phase_total=400
    )
    assert progress_text(reference) == "Reference pass 120/400"
    assert bar_range(reference) == (400, 120)  # the bar fills with the pass
    training = base_progress(
        step=11,
        phase=TRAINING,
        phase_text="Training step 12/300",
        phase_done=12,
        phase_total=300,
        step_seconds=2.0,
        eta_s=578.0,
    )
    assert progress_text(training) == "Training step 12/300 · 2.0 s/step · about 9 min 38 s left"
    assert bar_range(training) == (300, 11)
    evaluating = base_progress(step=50, phase=EVALUATING, phase_text="Evaluating 40/200")
    assert progress_text(evaluating).startswith("Evaluating 40/200 · after step 50 / 300")
    paused = base_progress(
        step=12, status="paused", phase=TRAINING, phase_text="Training step 12/300"
    )
    assert progress_text(paused) == "Step 12 / 300 · paused"


def test_the_train_view_and_the_runs_table_show_the_phase_of_a_live_run(
    open_window, tmp_path, qtbot
):
    path = make_project(tmp_path / "p", train=4, eval_=2)
    project, run_id, _ = live_run(path)
    clock = Clock()
    writer = PhaseWriter(project, run_id, 300, clock=clock)
    writer(REFERENCE, 120, 400)  # before the window opens: it attaches mid-run
    window = open_window(path)
    monitor = window.show_view("Train").monitor
    qtbot.waitUntil(lambda: "Reference pass 120/400" in monitor.eta.text(), timeout=10000)
    assert monitor.bar.maximum() == 400 and monitor.bar.value() == 120

    for step in range(1, 13):
        writer(TRAINING, step, 300)
        clock.now += 2.0
    qtbot.waitUntil(lambda: "Training step 12/300" in monitor.eta.text(), timeout=10000)
    assert "2.0 s/step" in monitor.eta.text() and "left" in monitor.eta.text()
    assert "live · dpo · running" in monitor.state.text()
    runs.update_run(project, run_id, status="paused")  # what the recorder writes on pause
    qtbot.waitUntil(lambda: monitor.state.text().endswith("· paused"), timeout=10000)
    assert "paused" in monitor.eta.text() and monitor.controls.buttons["checkpoint"].isEnabled()
    runs.update_run(project, run_id, status="running")

    runs_view = window.show_view("Runs")
    phase_column = COLUMNS.index("Phase")

    def phase_cell() -> str | None:
        row = runs_view.model.position(run_id)
        return None if row is None else runs_view.model.index(row, phase_column).data()

    qtbot.waitUntil(lambda: phase_cell() == "Training step 12/300", timeout=10000)
    runs.end_run(project, run_id, "done")
    qtbot.waitUntil(lambda: phase_cell() == "", timeout=10000)
    project.close()


def test_the_status_bar_says_the_runs_phase_and_eta_not_its_count(open_window, tmp_path, qtbot):
    path = make_project(tmp_path / "p", train=4, eval_=2)
    project, run_id, job_id = live_run(path)
    project.db.execute(
        "UPDATE jobs SET progress_done = 11, progress_total = 300 WHERE id = ?", [job_id]
    )
    clock = Clock()
    writer = PhaseWriter(project, run_id, 300, clock=clock)
    window = open_window(path)
    status = window.status
    writer(REFERENCE, 120, 400)
    qtbot.waitUntil(lambda: "Reference pass 120/400" in status.job.text(), timeout=10000)
    assert "11/300" not in status.job.text()
    assert status.bar.maximum() == 400 and status.bar.value() == 120  # the pass fills it

    for step in range(1, 13):
        writer(TRAINING, step, 300)
        clock.now += 2.0
    qtbot.waitUntil(lambda: "Training step 12/300" in status.job.text(), timeout=10000)
    assert "2.0 s/step" in status.job.text() and "left" in status.job.text()
    assert status.bar.maximum() == 300 and status.bar.value() == 11
    writer(EVALUATING, 40, 200)
    qtbot.waitUntil(lambda: "Evaluating 40/200" in status.job.text(), timeout=10000)
    runs.update_run(project, run_id, status="paused")
    project.db.execute("UPDATE jobs SET message = 'paused' WHERE id = ?", [job_id])
    qtbot.waitUntil(lambda: status.job.text().endswith(": paused"), timeout=10000)
    project.close()


def test_paused_shows_paused_and_checkpoint_now_stays_enabled(qtbot, tmp_path):
    from ui.session import ProjectSession

    path = make_project(tmp_path / "p", train=2, eval_=1)
    session = ProjectSession(path)
    controls = RunControls(session)
    qtbot.addWidget(controls)
    paused = base_progress(
        run_id=1, job_id=1, job_status="running", status="paused", checkpoints=0, step=12
    )
    controls.show_progress(paused)
    assert controls.buttons["checkpoint"].isEnabled()
    assert controls.buttons["resume"].isEnabled() and not controls.buttons["pause"].isEnabled()
    assert "paused" in progress_text(paused) and "running" not in progress_text(paused)
    session.close()


@pytest.mark.parametrize("rank", [8, 32])
def test_the_memory_fit_uses_the_forms_lora_rank(open_window, project_path, qtbot, rank):
    view = open_window(project_path).show_view("Train")
    view.form.editors["lora.r"].set_value(rank)
    qtbot.waitUntil(lambda: view.fit.rank.value() == rank, timeout=5000)
