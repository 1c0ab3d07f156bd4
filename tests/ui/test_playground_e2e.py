"""The playground end to end: the window starts a real worker through its WorkerLink,
queues a generate job, and shows the completion the worker returns."""

from __future__ import annotations

from PySide6.QtCore import Qt

from workbench.data.models import add_model
from workbench.demo_project import build_demo_project
from workbench.project import Project

PROMPT = "What is 23 + 45?"


def generate_in_playground(window, qtbot) -> dict:
    playground = window.show_view("Model").playground
    qtbot.waitUntil(lambda: playground.model is not None)
    playground.prompt.setPlainText(PROMPT)
    playground.max_tokens.setValue(16)
    qtbot.mouseClick(playground.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.link.is_running())
    qtbot.waitUntil(
        lambda: (
            bool(playground.completions)
            or (playground.job_id is None and "fail" in playground.status.text().lower())
        ),
        timeout=60000,
    )
    assert playground.completions, (
        f"{playground.status.text()}\n{playground.results.toPlainText()}\n"
        f"{window.session.link.log_text()}"
    )
    assert "tokens" in playground.results.toPlainText()
    assert playground.generate_button.isEnabled()
    qtbot.waitUntil(lambda: window.session.worker_status.state == "idle", timeout=10000)
    assert window.session.worker_status.loaded_model
    return playground.completions[0]


def check(completion: dict) -> None:
    assert completion["prompt"] == PROMPT
    assert completion["text"].strip() and completion["num_tokens"] > 0
    assert completion["finish_reason"] in ("stop", "length")


def test_playground_generates_with_a_real_worker_on_the_demo(open_window, tmp_path, qtbot):
    path = tmp_path / "demo"
    build_demo_project(path).close()
    check(generate_in_playground(open_window(path), qtbot))


def test_playground_generates_with_a_real_worker_on_a_tiny_model(open_window, tmp_path, qtbot):
    from tests.engine.conftest import build_model_dir

    model = build_model_dir(tmp_path / "tiny")
    project = Project.create(tmp_path / "proj")
    project.set_setting("default_model_id", add_model(project, "tiny", "local", model))
    project.close()
    check(generate_in_playground(open_window(tmp_path / "proj"), qtbot))
