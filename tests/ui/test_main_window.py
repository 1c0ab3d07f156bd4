"""The main window: the working views, menus, switching projects, and no torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QMessageBox

from tests.ui.conftest import make_project
from ui.main_window import first_size
from ui.recent import recent_projects
from ui.views.data.view import DataView
from ui.views.model.view import ModelView
from ui.views.project.view import ProjectView
from ui.views.rules.view import RulesView

REPO = Path(__file__).resolve().parents[2]


def test_window_shows_the_working_views(open_window, project_path, qtbot):
    window = open_window(project_path)
    names = [window.nav.item(i).text() for i in range(window.nav.count())]
    # no placeholders for views not built
    assert names == [
        "Project",
        "Model",
        "Data",
        "Label",
        "Judge",
        "Rules",
        "Train",
        "Runs",
        "Compare",
        "Arena",
    ]
    assert isinstance(window.show_view("Project"), ProjectView)
    assert isinstance(window.show_view("Model"), ModelView)
    data = window.show_view("Data")
    assert isinstance(data, DataView)
    assert window.stack.currentWidget() is data
    assert window.windowTitle().startswith("proj")
    assert "proj" in window.status.project.text()
    assert window.status.worker.text() == "Worker: not started"


def test_the_first_size_fits_the_screens_free_area(open_window, project_path):
    assert first_size(QSize(1920, 1040)) == QSize(1280, 800)
    assert first_size(QSize(1366, 728)) == QSize(1280, 728)  # a laptop's screen less a panel
    assert first_size(QSize(1280, 720)) == QSize(1280, 720)
    window = open_window(project_path)
    free = window.screen().availableGeometry()
    assert window.width() <= max(free.width(), window.minimumWidth())
    assert window.height() <= max(free.height(), window.minimumHeight())


def test_view_shortcuts_and_menus(open_window, project_path, qtbot):
    window = open_window(project_path)
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus[:2] == ["File", "View"] and menus[-1] == "Help"
    window.view_actions[2].trigger()
    assert window.stack.currentWidget() is window.views["Data"]
    shortcuts = [a.shortcut().toString() for a in window.view_actions]
    # In the sidebar's order, so the keys can be read off it.
    assert shortcuts == [f"Ctrl+{(i + 1) % 10}" for i in range(10)]
    assert [window.nav.item(i).text() for i in range(10)] == [a.text() for a in window.view_actions]


def test_ctrl_6_shows_the_rules_view(open_window, project_path, qtbot):
    window = open_window(project_path)
    window.activateWindow()
    window.nav.setFocus()
    qtbot.keyClick(window.nav, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(window.stack.currentWidget(), RulesView)
    assert window.nav.currentItem().text() == "Rules" and window.view_actions[5].isChecked()


def test_ctrl_7_shows_the_train_view(open_window, project_path, qtbot):
    from ui.views.train.view import TrainView

    window = open_window(project_path)
    window.activateWindow()
    window.nav.setFocus()
    qtbot.keyClick(window.nav, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(window.stack.currentWidget(), TrainView)
    assert window.nav.currentItem().text() == "Train"


def test_project_view_counts_and_recent(open_window, project_path, tmp_path, qtbot):
    other = make_project(tmp_path / "second", train=3, eval_=2)
    window = open_window(project_path)
    view = window.show_view("Project")
    qtbot.waitUntil(lambda: view.overview is not None)
    assert view.overview["splits"] == {"eval": 151, "train": 300}
    assert view.cards["prompts"].value.text() == "451"
    with qtbot.waitSignal(window.projectOpened, timeout=15000):
        window.open_project(other)
    assert window.session.path == other.resolve()
    assert recent_projects()[:2] == [str(other.resolve()), str(project_path.resolve())]
    view = window.views["Project"]
    qtbot.waitUntil(lambda: view.overview is not None)
    assert view.overview["splits"] == {"eval": 3, "train": 3}


def test_new_project_is_created_and_opened(open_window, project_path, tmp_path, qtbot):
    window = open_window(project_path)
    with qtbot.waitSignal(window.projectOpened, timeout=15000):
        window.create_project(tmp_path / "fresh")
    assert (tmp_path / "fresh" / "project.db").is_file()
    assert window.session.path == (tmp_path / "fresh").resolve()


def test_opening_a_folder_that_is_no_project_says_so(open_window, project_path, tmp_path, qtbot):
    window = open_window(project_path)
    window.open_project(tmp_path)
    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "problemBox"]
    assert boxes and "not an Alignment Workbench project" in boxes[-1].text()
    assert "New project" in boxes[-1].informativeText()
    assert window.session.path == project_path.resolve()  # the open project stays


def test_showing_the_window_does_not_import_torch(tmp_path):
    # In a fresh interpreter: other tests in this process may have imported torch.
    script = textwrap.dedent(
        f"""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from pathlib import Path
        from PySide6.QtCore import QSettings
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, {str(tmp_path)!r})
        from tests.ui.conftest import make_project
        from ui.app import make_app
        from ui.main_window import MainWindow
        path = make_project(Path({str(tmp_path / "p")!r}), train=5, eval_=5)
        app = make_app([])
        window = MainWindow(path)
        window.show()
        while window.session is None:
            app.processEvents()
        for name in ("Project", "Model", "Data", "Label", "Judge", "Rules", "Compare", "Arena"):
            window.show_view(name)
            app.processEvents()
        print("torch" in sys.modules, "transformers" in sys.modules)
        window.close()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["False", "False"]
