"""The Project view: what is in the open project, and the way to another one."""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.recent import recent_projects
from ui.session import ProjectSession
from ui.style import set_primary
from ui.widgets import StatCard, view_header
from workbench.project import Project


def project_overview(project: Project) -> dict:
    from workbench.data.prompts import split_counts

    def count(table: str) -> int:
        return project.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    return {
        "name": project.name,
        "splits": split_counts(project),
        **{t: count(t) for t in ("completions", "comparisons", "runs", "models")},
    }


NEXT_STEPS = (
    ("Model", "Check that the model fits in memory and try it in the playground."),
    ("Data", "Browse the prompts, or import your own from JSONL, CSV or Parquet."),
    ("Rules", "Write the rules that check answers, and dry-run them as a reward."),
)


class ProjectView(QWidget):
    newRequested = Signal()
    openRequested = Signal(str)  # a folder, or "" to ask for one
    demoRequested = Signal()
    viewRequested = Signal(str)  # the name of another view

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.overview: dict | None = None
        self._finished_seen: set[int] = set()
        header, self.title, self.subtitle = view_header(session.name, str(session.path))
        self.cards = {
            key: StatCard(name)
            for key, name in (
                ("prompts", "Prompts"),
                ("completions", "Completions"),
                ("comparisons", "Comparisons"),
                ("runs", "Training runs"),
                ("models", "Models"),
            )
        }
        cards = QGridLayout()
        cards.setSpacing(10)
        for i, card in enumerate(self.cards.values()):
            cards.addWidget(card, 0, i)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(14)
        layout.addWidget(header)
        layout.addLayout(cards)
        layout.addLayout(self._buttons())
        lower = QHBoxLayout()
        lower.setSpacing(14)
        lower.addWidget(self._recent_box(), 3)
        lower.addWidget(self._next_steps_box(), 2)
        layout.addLayout(lower, 1)
        session.jobsChanged.connect(self._on_jobs)

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        new = QPushButton("New project…")
        open_ = QPushButton("Open project…")
        demo = QPushButton("Open demo project")
        set_primary(demo)
        new.clicked.connect(self.newRequested)
        open_.clicked.connect(self._open_clicked)
        demo.clicked.connect(self.demoRequested)
        for button in (new, open_, demo):
            row.addWidget(button)
        row.addStretch(1)
        return row

    def _recent_box(self) -> QGroupBox:
        box = QGroupBox("Recent projects")
        layout = QVBoxLayout(box)
        self.recent = QListWidget()
        self.recent.itemActivated.connect(self._open_item)
        self.open_recent = QPushButton("Open selected")
        self.open_recent.setEnabled(False)
        self.recent.currentItemChanged.connect(
            lambda item, _old: self.open_recent.setEnabled(item is not None)
        )
        self.open_recent.clicked.connect(lambda: self._open_item(self.recent.currentItem()))
        layout.addWidget(self.recent)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.open_recent)
        layout.addLayout(row)
        return box

    def _next_steps_box(self) -> QGroupBox:
        box = QGroupBox("Next steps")
        layout = QVBoxLayout(box)
        layout.setSpacing(12)
        for view, text in NEXT_STEPS:
            label = QLabel(text, wordWrap=True)
            button = QPushButton(f"Go to {view}")
            button.clicked.connect(functools.partial(self.viewRequested.emit, view))
            row = QHBoxLayout()
            row.addWidget(label, 1)
            row.addWidget(button)
            layout.addLayout(row)
        layout.addStretch(1)
        return box

    def refresh(self) -> None:
        self.session.runner.call(project_overview, on_done=self._show_overview)
        self._fill_recent()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    @Slot()
    def _open_clicked(self) -> None:
        self.openRequested.emit("")

    def _open_item(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.openRequested.emit(item.data(Qt.ItemDataRole.UserRole))

    def _fill_recent(self) -> None:
        self.recent.clear()
        for path in recent_projects():
            current = Path(path) == self.session.path
            label = f"{Path(path).name}{'   (open)' if current else ''}\n{path}"
            item = QListWidgetItem(label)
            item.setSizeHint(QSize(0, 46))
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            self.recent.addItem(item)
        if not self.recent.count():
            placeholder = QListWidgetItem("No recent projects yet.")
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(placeholder)

    def _show_overview(self, overview: dict) -> None:
        self.overview = overview
        self.title.setText(overview["name"])
        splits = overview["splits"]
        detail = " · ".join(f"{name} {n:,}" for name, n in sorted(splits.items()))
        self.cards["prompts"].set(sum(splits.values()), detail or "none yet")
        for key in ("completions", "comparisons", "runs", "models"):
            self.cards[key].set(overview[key])

    @Slot(object)
    def _on_jobs(self, jobs: dict) -> None:
        # A finished job may have stored completions; recount only when one has just ended.
        finished = {j.id for j in jobs.values() if not j.active}
        if finished - self._finished_seen and self.isVisible():
            self.refresh()
        self._finished_seen |= finished
