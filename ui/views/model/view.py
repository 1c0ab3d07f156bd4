"""The Model view: the project's models, whether one fits in memory, what the worker has
loaded, and a playground to try it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ui.session import ProjectSession
from ui.views.common.fit_panel import FitPanel
from ui.views.model.models_panel import ModelsPanel
from ui.views.model.playground import Playground
from ui.widgets import view_header
from ui.worker_state import WorkerStatus


class WorkerStrip(QFrame):
    """One line: the worker's state, device and loaded model, with Start and Stop."""

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent, objectName="card")
        self.session = session
        self.label = QLabel(objectName="workerLine", wordWrap=True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.start = QPushButton("Start worker")
        self.start.setToolTip("Load the engine now, so the first generation starts sooner")
        self.stop = QPushButton("Stop worker")
        self.start.clicked.connect(session.ensure_worker)
        self.stop.clicked.connect(session.link.stop)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.start)
        layout.addWidget(self.stop)
        session.workerStatusChanged.connect(self.show_status)
        self.show_status(session.worker_status)

    @Slot(object)
    def show_status(self, status: WorkerStatus) -> None:
        if status.loaded_model:
            loaded = f"loaded {status.loaded_model}"
        else:
            loaded = "loading a model…" if status.state == "busy" else "no model loaded yet"
        if status.state in ("idle", "busy"):
            text = f"<b>Worker</b> {status.text} · {loaded}"
        else:
            text = f"<b>Worker</b> {status.text}"
        if status.external:
            text += " · started outside this window"
        self.label.setText(text)
        running = self.session.link.is_running()
        self.start.setEnabled(status.state in ("not_started", "stopped", "crashed"))
        self.stop.setEnabled(running and status.state != "stopping")


class ModelView(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.models = ModelsPanel(session)
        self.fit = FitPanel(session)
        self.worker = WorkerStrip(session)
        self.playground = Playground(session)
        self.models.modelSelected.connect(self.fit.set_model)
        self.models.modelSelected.connect(self.playground.set_model)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(self.models, 2)
        left_layout.addWidget(self.fit, 3)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 0, 0, 0)
        right_layout.addWidget(self.worker)
        right_layout.addWidget(self.playground, 1)
        # On a short window (1280x720) the left column scrolls rather than squeezing the
        # models list to one row and the memory table to half its parts.
        left_scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        left_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left_scroll.setWidget(left)
        bar = left_scroll.verticalScrollBar().sizeHint().width()
        left_scroll.setMinimumWidth(left.minimumSizeHint().width() + bar)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left_scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 5)
        splitter.setChildrenCollapsible(False)

        header, _, _ = view_header(
            "Model", "Pick the model to align, check that it fits, and try it out."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(header)
        layout.addWidget(splitter, 1)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.models.reload()  # a model may have been added from the command line
