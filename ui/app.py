"""Starting the GUI: which project to open, the application object, the event loop.

Nothing here (or in any `ui` module) imports torch: the window appears at once, and the
engine loads in the worker process when a job first needs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ui.main_window import APP_NAME, MainWindow
from ui.recent import APPLICATION, ORGANIZATION, recent_projects
from ui.style import apply_style
from ui.text_overflow import install_text_overflow
from ui.wheel_guard import install_wheel_guard
from workbench.desktop import APP_ID, ICON_PATH


def choose_project(project_path: str | None) -> Path:
    """The given project, else the most recent one that still exists, else the demo."""
    if project_path:
        return Path(project_path).expanduser().resolve()
    recent = recent_projects()
    if recent:
        return Path(recent[0])
    from workbench.demo_project import ensure_demo_project

    return ensure_demo_project()


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APP_NAME)
    # The icon and desktop id that `workbench install-desktop` installs, so the window
    # and the launcher match.
    app.setWindowIcon(QIcon(str(ICON_PATH)))
    app.setDesktopFileName(APP_ID)
    apply_style(app)
    install_wheel_guard(app)
    install_text_overflow(app)  # elided text readable and copyable, tooltips wrapped
    return app


def run_app(project_path: str | None = None, argv: list[str] | None = None) -> int:
    app = make_app(argv)
    path = choose_project(project_path)
    window = MainWindow()
    window.show()
    # However the app ends, the window asks what becomes of running jobs (ui/close_dialog.py).
    app.aboutToQuit.connect(window.close)
    window.open_project(path)  # a folder that is no project gets a message and a way out
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(run_app(sys.argv[1] if len(sys.argv) > 1 else None))
