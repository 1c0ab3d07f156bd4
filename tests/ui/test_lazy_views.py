"""Views are built on their first visit, once: the window opens with its first view only."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget

from tests.ui.conftest import make_project
from ui.lazy_views import LazyViews
from ui.main_window import VIEWS

REPO = Path(__file__).resolve().parents[2]


def test_only_the_shown_view_is_built_when_the_project_opens(open_window, project_path):
    window = open_window(project_path)
    assert list(window.views.built()) == ["Project"]
    assert window.stack.currentWidget() is window.views.built()["Project"]
    assert "Runs" in window.views and not window.views.is_built("Runs")  # asking builds nothing
    assert list(window.views) == [name for name, _ in VIEWS]
    assert window.stack.count() == len(VIEWS)


def test_a_view_is_built_on_its_first_visit_and_kept(open_window, project_path, qtbot):
    from ui.views.runs.view import RunsView

    window = open_window(project_path)
    runs = window.show_view("Runs")
    assert isinstance(runs, RunsView) and window.views.is_built("Runs")
    assert window.stack.currentWidget() is runs
    assert window.stack.indexOf(runs) == [name for name, _ in VIEWS].index("Runs")
    window.show_view("Project")
    assert window.show_view("Runs") is runs  # the same widget, not a second one
    assert window.stack.count() == len(VIEWS)
    assert sorted(window.views.built()) == ["Project", "Runs"]


def test_ctrl_8_builds_and_shows_the_runs_view(open_window, project_path, qtbot):
    window = open_window(project_path)
    window.activateWindow()
    window.nav.setFocus()
    qtbot.keyClick(window.nav, Qt.Key.Key_8, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.views.built()["Runs"]
    assert window.nav.currentItem().text() == "Runs" and window.view_actions[7].isChecked()


def test_another_project_builds_the_view_shown_afresh(open_window, project_path, tmp_path, qtbot):
    window = open_window(project_path)
    data = window.show_view("Data")
    with qtbot.waitSignal(window.projectOpened, timeout=15000):
        window.open_project(make_project(tmp_path / "second", train=3, eval_=2))
    assert list(window.views.built()) == ["Data"]  # the row shown stays, for the new project
    assert window.views.built()["Data"] is not data
    assert window.stack.currentWidget() is window.views.built()["Data"]
    assert window.stack.count() == len(VIEWS)


def test_lazy_views_build_each_view_once_at_its_row(qtbot):
    stack = QStackedWidget()
    qtbot.addWidget(stack)
    made: list[str] = []
    connected: list[str] = []

    def make(cls: type) -> QLabel:
        made.append(cls.__name__)
        return cls()

    views = LazyViews(
        stack,
        [("A", "PySide6.QtWidgets:QLabel"), ("B", "PySide6.QtWidgets:QLineEdit")],
        make,
        lambda name, _view: connected.append(name),
    )
    assert made == [] and stack.count() == 2
    b = views["B"]
    assert views["B"] is b and views.at(1) is b and views.get("B") is b
    assert made == ["QLineEdit"] and connected == ["B"]
    assert stack.indexOf(b) == 1 and stack.count() == 2
    assert views.get("C") is None and "C" not in views
    assert stack.indexOf(views["A"]) == 0 and made == ["QLineEdit", "QLabel"]


def test_the_first_view_loads_no_charts_or_other_views(tmp_path):
    # In a fresh interpreter: other tests in this process have imported the views.
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
        app.processEvents()
        views = sorted(m for m in sys.modules if m.startswith("ui.views.") and m.endswith(".view"))
        print(views, "pyqtgraph" in sys.modules, "ui.charts" in sys.modules)
        window.show_view("Train")
        print("pyqtgraph" in sys.modules, "ui.views.train.view" in sys.modules)
        window.close()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    first, then = result.stdout.strip().splitlines()[-2:]
    assert first == "['ui.views.project.view'] False False"
    assert then == "True True"
