"""Worker › Idle timeout…: how long a worker this window starts waits with nothing to do
before it exits (the project setting `worker_idle_exit_s`), so nothing lingers forever."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QWidget

from ui.session import ProjectSession
from workbench.jobs import lanes


def _store(project, seconds: float) -> None:
    project.set_setting(lanes.IDLE_EXIT_SETTING, seconds)


def ask_idle_timeout(parent: QWidget, session: ProjectSession | None) -> None:
    if session is None:
        return
    current = session.link.idle_exit_s or lanes.DEFAULT_IDLE_EXIT_S
    minutes, ok = QInputDialog.getInt(
        parent,
        "Worker idle timeout",
        "A worker this window starts exits after this many minutes with no job\n"
        "(it starts again when a job needs it; running workers keep their timeout):",
        max(1, round(current / 60)),
        1,
        24 * 60,
    )
    if ok:
        session.runner.call(_store, minutes * 60.0, on_done=lambda _r: None)
        for link in session.links.values():
            link.idle_exit_s = minutes * 60.0
