"""A pair to label: the prompt, two completions side by side (the sides drawn at random
by the queue), a note, and the answers with their keys."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ui.style import set_primary
from ui.views.common.label_keys import key_button
from ui.views.label.completion_pane import CompletionPane
from ui.views.label.note import NoteField
from ui.views.label.prompt import PromptPane
from workbench.labels.queue import Task

# outcome: (button text, keys); outcomes are of the order shown (a = left).
ANSWERS = {
    "a": ("Left better", ("1", "Left")),
    "b": ("Right better", ("2", "Right")),
    "tie": ("Tie", ("T", "3")),
    "both_bad": ("Both bad", ("B", "4")),
}
SKIP_KEYS = ("S", "Space")
UNDO_KEYS = ("Ctrl+Z", "U")


class LabelPairPanel(QWidget):
    answered = Signal(str)  # a | b | tie | both_bad
    skipped = Signal()
    undoRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, objectName="labelPairPanel")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.task: Task | None = None
        self.prompt = PromptPane()
        self.left = CompletionPane("Left  ·  1 or ←")
        self.right = CompletionPane("Right  ·  2 or →")
        self.note = NoteField(self)
        self.buttons = {
            outcome: key_button(self, text, keys, lambda o=outcome: self.answered.emit(o))
            for outcome, (text, keys) in ANSWERS.items()
        }
        for outcome in ("a", "b"):
            set_primary(self.buttons[outcome])
        self.skip_button = key_button(self, "Skip", SKIP_KEYS, self.skipped.emit)
        # Undo's keys belong to the whole view: a label can be undone from the empty state too.
        self.undo_button = key_button(self, "Undo", (), self.undoRequested.emit, UNDO_KEYS)
        self._layout()

    def _layout(self) -> None:
        panes = QHBoxLayout()
        panes.setSpacing(12)
        panes.addWidget(self.left)
        panes.addWidget(self.right)
        answers = QHBoxLayout()
        for button in self.buttons.values():
            answers.addWidget(button)
        answers.addStretch(1)
        answers.addWidget(self.skip_button)
        answers.addWidget(self.undo_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.prompt)
        layout.addLayout(panes, 1)
        layout.addWidget(self.note)
        layout.addLayout(answers)

    def show_task(self, task: Task) -> None:
        self.task = task
        self.prompt.show_task(task)
        self.left.show_completion(task.completions[0])
        self.right.show_completion(task.completions[1])
