"""The playground against a stand-in worker: the test claims the job and writes progress
and results the way the worker does, so every state the user sees is checked quickly."""

from __future__ import annotations

import pytest

from workbench.jobs import queue as jobs
from workbench.jobs import worker_registry
from workbench.project import Project

COMPLETION = {
    "prompt_id": None,
    "prompt": "Hi",
    "text": "Hello there.",
    "num_tokens": 5,
    "finish_reason": "stop",
    "completion_id": None,
}


@pytest.fixture
def setup(open_window, project_path, qtbot):
    project = Project.open(project_path)
    worker_id = worker_registry.register(project)  # a live worker: the window starts none
    window = open_window(project_path)
    view = window.show_view("Model")
    qtbot.waitUntil(lambda: view.playground.model is not None)
    qtbot.waitUntil(lambda: window.session.live_external_worker() is not None)
    yield window, view.playground, project, worker_id
    project.close()


def submit(playground, project, worker_id, qtbot, text="Hi"):
    playground.prompt.setPlainText(text)
    playground.generate()
    qtbot.waitUntil(lambda: playground.job_id is not None)
    job = jobs.claim_next(project, worker_id)
    assert job is not None and job.id == playground.job_id
    return job


def test_progress_then_completions(setup, qtbot):
    window, playground, project, worker_id = setup
    playground.n.setValue(2)
    playground.seed.setValue(7)
    job = submit(playground, project, worker_id, qtbot)
    assert job.kind == "generate" and job.params["texts"] == ["Hi"] and job.params["n"] == 2
    assert job.params["sampling"]["seed"] == 7 and job.params["model_id"] == playground.model.id
    assert not playground.generate_button.isEnabled() and playground.cancel_button.isEnabled()
    jobs.report_progress(project, job.id, 1, 2, "Generating 1/2")
    qtbot.waitUntil(lambda: playground.status.text() == "Generating 1/2")
    assert playground.progress.value() == 1
    qtbot.waitUntil(lambda: "Job" in window.status.job.text())
    jobs.finish(project, job.id, {"completions": [COMPLETION, COMPLETION], "count": 2})
    qtbot.waitUntil(lambda: len(playground.completions) == 2)
    text = playground.results.toPlainText()
    assert "Hello there." in text and "5 tokens" in text and "ended by the model" in text
    assert playground.generate_button.isEnabled()
    assert not window.session.link.is_running()  # the live worker took the job


def test_a_failed_job_shows_its_message(setup, qtbot):
    _, playground, project, worker_id = setup
    job = submit(playground, project, worker_id, qtbot)
    jobs.fail(project, job.id, "The model folder is gone. Add the model again.", "Traceback…")
    qtbot.waitUntil(lambda: playground.job_id is None)
    assert "The model folder is gone" in playground.results.toPlainText()
    assert "failed" in playground.status.text()


def test_cancel_asks_the_worker(setup, qtbot):
    _, playground, project, worker_id = setup
    job = submit(playground, project, worker_id, qtbot)
    playground.cancel()
    qtbot.waitUntil(
        lambda: (
            project.db.execute(
                "SELECT count(*) FROM control WHERE job_id = ? AND command = 'cancel'", [job.id]
            ).fetchone()[0]
            == 1
        )
    )
    jobs.finish(project, job.id, None, status="cancelled")
    qtbot.waitUntil(lambda: playground.status.text() == "Cancelled.")
    assert playground.generate_button.isEnabled()


def test_an_empty_prompt_is_refused(setup, qtbot):
    window, playground, *_ = setup
    playground.prompt.setPlainText("   ")
    playground.generate()
    assert playground.job_id is None and "Type a prompt" in playground.status.text()


def test_two_writers_side_by_side_with_the_same_settings_and_seed(setup, qtbot):
    from workbench.training.runs import add_checkpoint, create_run

    window, playground, project, worker_id = setup
    run_id = create_run(
        project,
        algorithm="dpo",
        config={},
        dataset={},
        dataset_hash="x",
        model_id=playground.model.id,
        parent_checkpoint_id=None,
        job_id=None,
        name="round one",
        max_steps=4,
    )
    checkpoint = add_checkpoint(project, run_id, 4, project.path / "runs" / "r1", {})
    playground.refresh_writers()
    picker = playground.picker
    qtbot.waitUntil(lambda: picker.second.findData(checkpoint) >= 0)
    picker.second.setCurrentIndex(picker.second.findData(checkpoint))
    playground.seed.setValue(11)
    first = submit(playground, project, worker_id, qtbot)
    assert first.params["model_id"] == playground.model.id and "checkpoint_id" not in first.params
    jobs.finish(project, first.id, {"completions": [COMPLETION], "count": 1})
    qtbot.waitUntil(lambda: playground.job_id not in (None, first.id))
    second = jobs.claim_next(project, worker_id)
    assert second.id == playground.job_id and second.params["checkpoint_id"] == checkpoint
    assert second.params["model_id"] == playground.model.id
    assert second.params["sampling"] == first.params["sampling"]  # the same seed too
    answer = {**COMPLETION, "text": "Hello from the checkpoint."}
    jobs.finish(project, second.id, {"completions": [answer], "count": 1})
    qtbot.waitUntil(lambda: len(playground.second_completions) == 1)
    assert "Hello there." in playground.results.toPlainText()
    assert "round one · step 4" in playground.second_results.toPlainText()
    assert "Hello from the checkpoint." in playground.second_results.toPlainText()
    assert "Both answered" in playground.status.text()
