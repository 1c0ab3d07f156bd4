"""The completions a run stored at each evaluation step: pick a step, see each prompt,
its completion and its reward per rule."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.session import ProjectSession
from workbench import train_queries


def reward_text(value: Any) -> str:
    return "–" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


class SampleBrowser(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.run_id: int | None = None
        self.steps: list[int] = []
        self.samples: list[dict[str, Any]] = []
        self.step = QComboBox(minimumContentsLength=8)
        self.step.currentIndexChanged.connect(self._step_chosen)
        self.hint = QLabel("Samples are stored at each evaluation (eval_every).")
        self.hint.setProperty("muted", True)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Prompt", "Completion"])
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        top = QHBoxLayout()
        top.addWidget(QLabel("Step"))
        top.addWidget(self.step)
        top.addWidget(self.hint, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def clear(self, run_id: int | None) -> None:
        self.run_id, self.steps, self.samples = run_id, [], []
        self.step.blockSignals(True)
        self.step.clear()
        self.step.blockSignals(False)
        self.table.setRowCount(0)

    def set_steps(self, steps: list[int]) -> None:
        """New steps join the list; the newest is shown while the user follows the end."""
        if steps == self.steps:
            return
        at_end = self.step.currentIndex() in (-1, self.step.count() - 1)
        self.steps = list(steps)
        self.step.blockSignals(True)
        current = self.step.currentText()
        self.step.clear()
        self.step.addItems([str(s) for s in steps])
        index = len(steps) - 1 if at_end else max(self.step.findText(current), 0)
        self.step.setCurrentIndex(index)
        self.step.blockSignals(False)
        self._step_chosen(index)

    @Slot(int)
    def _step_chosen(self, index: int) -> None:
        if self.run_id is None or not 0 <= index < len(self.steps):
            return
        self.session.runner.call(train_queries.samples_at, self.run_id, self.steps[index],
                                 on_done=self._show)

    def _show(self, samples: list[dict[str, Any]]) -> None:
        self.samples = samples
        rules = list(dict.fromkeys(k for s in samples for k in s["rewards"]))
        self.table.setColumnCount(2 + len(rules))
        self.table.setHorizontalHeaderLabels(["Prompt", "Completion", *rules])
        self.table.setRowCount(len(samples))
        for row, sample in enumerate(samples):
            cells = [sample["prompt"], sample["completion"],
                     *(reward_text(sample["rewards"].get(r)) for r in rules)]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text if col < 2 else "")
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
