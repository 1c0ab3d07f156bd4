"""The main window: navigation on the left, one view at a time, menus, the status bar,
and the switch from one project to another."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui import close_dialog
from ui.background import run_in_background
from ui.lazy_views import LazyViews
from ui.log_dialog import WorkerLogDialog
from ui.menus import build_menus
from ui.messages import Problem, show_error, show_info, show_problem
from ui.recent import add_recent_project
from ui.session import ProjectSession
from ui.status_bar import StatusBar
from ui.wheel_guard import install_wheel_guard
from ui.widgets import Banner
from workbench.project import DB_NAME, Project

APP_NAME = "Alignment Workbench"
# Named, not imported: a view's module loads when the view is first shown (ui/lazy_views.py).
VIEWS = (
    ("Project", "ui.views.project.view:ProjectView"),
    ("Model", "ui.views.model.view:ModelView"),
    ("Data", "ui.views.data.view:DataView"),
    ("Label", "ui.views.label.view:LabelView"),
    ("Judge", "ui.views.judge.view:JudgeView"),
    ("Rules", "ui.views.rules.view:RulesView"),
    ("Train", "ui.views.train.view:TrainView"),
    ("Runs", "ui.views.runs.view:RunsView"),
    ("Compare", "ui.views.compare.view:CompareView"),
    ("Arena", "ui.views.arena.view:ArenaView"),
)
# Ctrl+1 ... Ctrl+9, Ctrl+0 in the sidebar's order, so the keys can be read off the sidebar.
VIEW_SHORTCUTS = {name: f"Ctrl+{(i + 1) % 10}" for i, (name, _) in enumerate(VIEWS[:10])}


# The first size, bounded by the screen's free area (a 1366x768 laptop has less height).
PREFERRED_SIZE = QSize(1280, 800)


def first_size(available: QSize) -> QSize:
    return PREFERRED_SIZE.boundedTo(available)


def _project_name(project: Project) -> str:
    return project.name


def _may_leave(view: QWidget | None) -> bool:
    """A view with unsaved edits (e.g. a rule being edited) asks before it is left."""
    may_leave = getattr(view, "may_leave", None)
    return may_leave is None or may_leave()


class MainWindow(QMainWindow):
    projectOpened = Signal(str)

    def __init__(self, project_path: str | Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        install_wheel_guard(QApplication.instance())  # also when a test builds the window
        self.setWindowTitle(APP_NAME)
        self.setMinimumSize(960, 600)
        screen = self.screen()
        self.resize(first_size(screen.availableGeometry().size()) if screen else PREFERRED_SIZE)
        self.session: ProjectSession | None = None
        # Built on first access (ui/lazy_views.py); empty while no project is open.
        self.views: Mapping[str, QWidget] = {}
        self._log_dialog: WorkerLogDialog | None = None
        self._problem_box: QMessageBox | None = None
        # How closing treats running jobs when already decided (ui/close_dialog.py: keep or
        # stop); None asks. Set by a script or a test that must not block on the dialog.
        self.close_choice: str | None = None

        self.nav = QListWidget(objectName="nav")
        for name, _ in VIEWS:
            item = QListWidgetItem(name)
            item.setSizeHint(QSize(0, 36))  # QSS padding on items does not grow their rows
            self.nav.addItem(item)
        self.stack = QStackedWidget()
        self.stack.addWidget(self._no_project_page())
        self.nav.currentRowChanged.connect(self._show_view)
        self.banner = Banner("Restart worker")
        self.banner.actionClicked.connect(self.restart_worker)
        self.banner.logClicked.connect(self.show_worker_log)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(0)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.stack, 1)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._sidebar())
        layout.addWidget(right, 1)
        self.setCentralWidget(central)
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.view_actions, self.recent_menu = build_menus(
            self, [name for name, _ in VIEWS], VIEW_SHORTCUTS
        )
        if project_path is not None:
            self.open_project(project_path)

    def _sidebar(self) -> QWidget:
        sidebar = QWidget(objectName="sidebar")
        sidebar.setFixedWidth(176)
        sidebar.setAttribute(
            Qt.WidgetAttribute.WA_StyledBackground, True
        )  # paint the QSS background
        brand = QLabel(APP_NAME, objectName="brand")
        brand.setWordWrap(True)
        layout = QVBoxLayout(sidebar)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(brand)
        layout.addWidget(self.nav, 1)
        return sidebar

    def _no_project_page(self) -> QWidget:
        page = QWidget()
        self.no_project = QLabel("Opening project…", alignment=Qt.AlignmentFlag.AlignCenter)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for text, slot in (
            ("New project…", self.new_project),
            ("Open project…", self.ask_open_project),
            ("Open demo project", self.open_demo_project),
        ):
            button = QPushButton(text)
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(self.no_project)
        layout.addLayout(buttons)
        layout.addStretch(2)
        return page

    # Views ---------------------------------------------------------------------------
    @Slot(int)
    def _show_view(self, row: int) -> None:
        if not (self.views and 0 <= row < len(self.views)):
            return
        if row != self.stack.currentIndex() and not _may_leave(self.stack.currentWidget()):
            row = self.stack.currentIndex()  # the user chose to stay
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(row)
            self.nav.blockSignals(False)
        self.stack.setCurrentWidget(self.views[VIEWS[row][0]])  # built on its first visit
        self.view_actions[row].setChecked(True)

    def show_view(self, name: str) -> QWidget | None:
        self.nav.setCurrentRow([n for n, _ in VIEWS].index(name))
        return self.views.get(name)  # None while no project is open

    # Projects ------------------------------------------------------------------------
    def open_project(self, path: str | Path) -> None:
        """Open in the background; the current project stays until the new one has opened."""
        path = Path(path).expanduser().resolve()
        if not (path / DB_NAME).is_file():
            if self.session is None:
                self.no_project.setText("No project is open.")
            show_problem(
                self,
                "Cannot open project",
                Problem(
                    f"{path} is not an Alignment Workbench project (it has no {DB_NAME}).",
                    "Choose a project folder, or create a new project with File › New project.",
                ),
            )
            return
        if self.session is not None and path == self.session.path:
            return
        if not self._confirm_leave():
            return
        session = ProjectSession(path)
        self.status.showMessage(f"Opening {path}…")
        session.runner.call(
            _project_name,
            on_done=functools.partial(self._install, session),
            on_error=functools.partial(self._open_failed, session),
        )

    def _open_failed(self, session: ProjectSession, error) -> None:
        session.close()
        session.deleteLater()
        self.status.clearMessage()
        if self.session is None:
            self.no_project.setText("No project is open.")
        show_error(self, "Cannot open project", error, f"Opening {session.path}")

    def _install(self, session: ProjectSession, name: str) -> None:
        row = max(self.nav.currentRow(), 0)
        while self.stack.count():  # the old views, or the "Opening project…" placeholder
            view = self.stack.widget(0)
            self.stack.removeWidget(view)
            view.deleteLater()
        if self.session is not None:
            # Its workers are detached: their jobs go on, and reopening the project attaches.
            self.session.close(keep_workers=True)
            self.session.deleteLater()
        self.banner.hide()
        self._log_dialog = None
        session.name = name
        session.setParent(self)
        self.session = session
        session.runner.failed.connect(self._on_background_error)
        session.poller.pollFailed.connect(self._on_poll_failed)
        session.workerDied.connect(self._on_worker_died)
        add_recent_project(session.path)  # before the Project view lists the recent ones
        # Only the view shown is built now; each other one on its first visit.
        self.views = LazyViews(self.stack, VIEWS, lambda cls: cls(session), self._connect_view)
        self.status.bind(session)
        session.start()
        self.nav.setCurrentRow(-1)
        self.nav.setCurrentRow(row)
        self.setWindowTitle(f"{name} — {APP_NAME}")
        self.status.clearMessage()
        self.projectOpened.emit(str(session.path))

    def _connect_view(self, name: str, view: QWidget) -> None:
        if name == "Project":
            view.newRequested.connect(self.new_project)
            view.openRequested.connect(self._open_requested)
            view.demoRequested.connect(self.open_demo_project)
        if hasattr(view, "viewRequested"):  # views that point to another one
            view.viewRequested.connect(self.show_view)

    def _confirm_leave(self) -> bool:
        session = self.session
        # Running jobs go on in the background (detached workers); only unsaved edits ask.
        return session is None or _may_leave(self.stack.currentWidget())

    @Slot(str)
    def _open_requested(self, path: str) -> None:
        if path:
            self.open_project(path)
        else:
            self.ask_open_project()

    def ask_open_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open project folder")
        if folder:
            self.open_project(folder)

    def new_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Choose an empty folder for the new project (create one in this dialog)"
        )
        if folder:
            self.create_project(folder)

    def create_project(self, folder: str | Path):
        task = run_in_background(lambda _control: Project.create(folder).close() or folder)
        task.succeeded.connect(self._created)
        task.failed.connect(self._create_failed)
        return task

    @Slot(object)
    def _created(self, folder) -> None:
        self.open_project(folder)

    @Slot(object)
    def _create_failed(self, error) -> None:
        show_error(self, "Cannot create project", error, "Creating the project")

    def open_demo_project(self):
        from workbench.demo_project import ensure_demo_project

        self.status.showMessage("Preparing the demo project…")
        task = run_in_background(lambda _control: ensure_demo_project())
        task.succeeded.connect(self._created)
        task.failed.connect(self._create_failed)
        return task

    # Problems and the worker ---------------------------------------------------------
    @Slot(object)
    def _on_background_error(self, error) -> None:
        # One box at a time: a burst of failures (e.g. a locked database) is one problem.
        if self._problem_box is not None and self._problem_box.isVisible():
            return
        self._problem_box = show_error(self, "Something went wrong", error)

    @Slot(str)
    def _on_poll_failed(self, message: str) -> None:
        self.status.showMessage(f"{message} Retrying…", 10000)

    @Slot(str)
    def _on_worker_died(self, message: str) -> None:
        self.banner.show_message(
            f"{message}\nAny job it was running is marked failed. The window is unaffected."
        )

    def restart_worker(self) -> None:
        if self.session is not None:
            self.banner.hide()
            self.session.restart_worker()

    def show_worker_log(self) -> None:
        if self.session is None:
            return
        if self._log_dialog is None:
            self._log_dialog = WorkerLogDialog(self.session.log_link(), self)
        self._log_dialog.show()
        self._log_dialog.raise_()

    def show_about(self) -> None:
        show_info(
            self,
            f"About {APP_NAME}",
            APP_NAME,
            "Align a language model on your own machine: sample, rank, judge, verify, train "
            "LoRA adapters and compare checkpoints. Everything stays in the project folder.",
        )

    def closeEvent(self, event) -> None:
        if self.session is not None and not _may_leave(self.stack.currentWidget()):
            event.ignore()
            return
        if self.session is not None and not self.session.closed:
            active = self.session.active_jobs()
            choice = close_dialog.STOP
            if active:
                choice = self.close_choice or close_dialog.ask_close_choice(self, active)
            if choice == close_dialog.CANCEL:
                event.ignore()
                return
            if active and choice == close_dialog.STOP:
                self.session.stop_and_save_all()
            self.hide()
            self.session.close(keep_workers=choice == close_dialog.KEEP)
        super().closeEvent(event)
