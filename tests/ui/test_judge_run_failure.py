"""A judge run whose every request fails ends as a failed run, and the Judge view's status
says the same reason the command line does (the first error, after giving up)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.reliability.endpoint_servers import BadEndpoint
from tests.ui.test_judge_view import open_judge
from workbench.data.completions import CompletionRecord, add_completions
from workbench.data.prompts import PromptRecord, add_prompts
from workbench.judging.store import JudgeConfig, save_judge
from workbench.project import Project


def test_a_judge_run_where_every_request_failed_says_why(open_window, tmp_path, qtbot):
    path = tmp_path / "p"
    project = Project.create(path)
    ids = add_prompts(project, [PromptRecord(text=f"Q{i}", split="train") for i in range(3)])
    for prompt_id in ids:
        add_completions(project, [CompletionRecord(prompt_id, f"c{k}") for k in range(2)])
    with BadEndpoint("server_error") as server:
        broken = JudgeConfig(
            name="broken", kind="endpoint", base_url=server.url, model="m", max_retries=0
        )
        save_judge(project, broken, make_default=True)
        project.close()
        window, view = open_judge(open_window, qtbot, path)
        panel = view.run_panel
        qtbot.waitUntil(lambda: panel.run_button.isEnabled())
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.running, timeout=10000)
        qtbot.waitUntil(lambda: not panel.running, timeout=120000)
    said = panel.status.text()
    assert said.startswith("The judge run failed: All 3 judgements failed; the first error: ")
    assert "HTTP 500 (overloaded)" in said
