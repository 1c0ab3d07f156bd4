"""The completions a run stored: pick a step, see each prompt, its completion and its
reward per rule. An online run stores, every step, the completions sampled for a few
prompts with their advantages: shown grouped by prompt, best advantage first; its greedy
answers at each evaluation (no advantage) are marked as such."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QBrush, QColor
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
from ui.style import BAD, MUTED, OK
from workbench.training.samples import samples_at

GREEDY = "greedy eval"
# One line beside the step (the table keeps the height); the tooltip says the rest.
HINTS = {
    False: ("Samples are stored at each evaluation (eval_every).", ""),
    True: (
        "Each step's samples, best advantage first; greedy answers at evaluations.",
        "Sampled completions of samples_per_step prompts each step, best advantage first "
        "(best-of-N: 1 for the samples it kept and trained on, 0 for the others); greedy "
        "answers to eval prompts at each evaluation.",
    ),
}


MIN_ROWS = 3  # the table keeps room for this many one-line rows however short the window


def table_height(table: QTableWidget, rows: int) -> int:
    """The height that shows the header and `rows` one-line rows."""
    header = table.horizontalHeader().sizeHint().height()
    row = table.verticalHeader().defaultSectionSize()
    return header + rows * row + 2 * table.frameWidth()


def reward_text(value: Any) -> str:
    return "–" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def advantage_text(value: float | None) -> str:
    return GREEDY if value is None else f"{value:+.3g}"


def grouped(samples: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Sampled completions grouped by prompt (first seen first), each group sorted by
    advantage, highest first; then the greedy eval answers (advantage None), a group per
    prompt too."""
    groups: dict[tuple[bool, str], list[dict[str, Any]]] = {}
    for sample in samples:
        key = (sample.get("advantage") is None, sample["prompt"])
        groups.setdefault(key, []).append(sample)
    for (is_eval, _), rows in groups.items():
        if not is_eval:
            rows.sort(key=lambda s: -s["advantage"])
    return [groups[k] for k in sorted(groups, key=lambda k: k[0])]  # stable: rollouts first


class SampleBrowser(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.run_id: int | None = None
        self.online = False  # the run samples from the policy (advantages, greedy evals)
        self.steps: list[int] = []
        self._rows: int | None = None
        self.samples: list[dict[str, Any]] = []
        self.step = QComboBox(minimumContentsLength=8)
        self.step.currentIndexChanged.connect(self._step_chosen)
        self.hint = QLabel(HINTS[False][0], wordWrap=True)
        self.hint.setProperty("muted", True)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Prompt", "Completion"])
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(table_height(self.table, MIN_ROWS))
        top = QHBoxLayout()
        top.addWidget(QLabel("Step"))
        top.addWidget(self.step)
        top.addWidget(self.hint, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def clear(self, run_id: int | None) -> None:
        self.run_id, self.steps, self.samples, self._rows = run_id, [], [], None
        self.step.blockSignals(True)
        self.step.clear()
        self.step.blockSignals(False)
        self.table.setRowCount(0)

    def set_online(self, online: bool) -> None:
        self.online = online
        self.hint.setText(HINTS[online][0])
        self.hint.setToolTip(HINTS[online][1])

    def set_steps(self, steps: list[int], rows: int | None = None) -> None:
        """New steps join the list; the newest is shown while the user follows the end.
        `rows` counts the run's samples: more rows at the same steps (an online run's
        eval answers join its step's sampled completions) reload the step shown."""
        if steps == self.steps:
            if rows != self._rows:
                self._rows = rows
                self._step_chosen(self.step.currentIndex())
            return
        self._rows = rows
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
        self.session.runner.call(samples_at, self.run_id, self.steps[index], on_done=self._show)

    def _show(self, samples: list[dict[str, Any]]) -> None:
        self.samples = samples
        self.table.clearSpans()
        if not self.online:
            self._fill([[s] for s in samples], with_advantage=False)
            return
        self._fill(grouped(samples), with_advantage=True)

    def _fill(self, groups: list[list[dict[str, Any]]], with_advantage: bool) -> None:
        """One row per sample; the prompt spans its group's rows."""
        rules = list(dict.fromkeys(k for g in groups for s in g for k in s["rewards"]))
        rules.sort(key=lambda name: name == "total")  # the weighted sum after its parts
        headers = ["Prompt", "Completion", *(r.capitalize() if r == "total" else r for r in rules)]
        headers += ["Advantage"] if with_advantage else []
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(sum(len(g) for g in groups))
        row = 0
        for group in groups:
            if len(group) > 1:
                self.table.setSpan(row, 0, len(group), 1)
            for i, sample in enumerate(group):
                cells = [
                    sample["prompt"] if i == 0 else "",
                    sample["completion"],
                    *(reward_text(sample["rewards"].get(r)) for r in rules),
                ]
                for col, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setToolTip(text if col < 2 else "")
                    if col == 0:  # a prompt spanning its group reads from the group's top
                        item.setTextAlignment(
                            Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft
                        )
                    self.table.setItem(row, col, item)
                if with_advantage:
                    self.table.setItem(row, len(cells), self._advantage_item(sample["advantage"]))
                row += 1
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()

    @staticmethod
    def _advantage_item(value: float | None) -> QTableWidgetItem:
        item = QTableWidgetItem(advantage_text(value))
        color = MUTED if value is None else OK if value > 0 else BAD if value < 0 else MUTED
        item.setForeground(QBrush(QColor(color)))
        item.setToolTip(
            "A greedy answer to an eval prompt, scored by the reward; it trains nothing."
            if value is None
            else "Better than expected (its group's mean reward, or PPO's value) "
            "above 0: made likelier; below 0: less likely."
        )
        return item
