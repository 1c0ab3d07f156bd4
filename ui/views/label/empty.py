"""What the Label view says when it has nothing to show, with the next thing to do: import
prompts, generate candidates, bring skipped prompts back, or change the filters."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.views.common.label_keys import key_button
from ui.views.label.pair_panel import UNDO_KEYS
from workbench.labels.progress import LabelProgress


class LabelEmptyState(QWidget):
    generateRequested = Signal()
    unskipRequested = Signal()
    dataRequested = Signal()
    undoRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel("", objectName="emptyTitle", alignment=Qt.AlignmentFlag.AlignCenter)
        self.title.setStyleSheet("font-size: 14pt; font-weight: 600;")
        self.text = QLabel("", wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.text.setFixedWidth(600)  # a wrapped label needs a width to know its height
        self.generate_button = QPushButton("Generate candidates…")
        self.unskip_button = QPushButton("Show skipped prompts again")
        self.data_button = QPushButton("Go to the Data view")
        self.undo_button = key_button(
            self, "Undo the last label", (), self.undoRequested.emit, UNDO_KEYS
        )
        for button, signal in (
            (self.generate_button, self.generateRequested),
            (self.unskip_button, self.unskipRequested),
            (self.data_button, self.dataRequested),
        ):
            button.clicked.connect(signal)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (
            self.generate_button,
            self.unskip_button,
            self.data_button,
            self.undo_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        text_row = QHBoxLayout()  # not an alignment flag: that would ignore the wrapped height
        text_row.addStretch(1)
        text_row.addWidget(self.text)
        text_row.addStretch(1)
        layout.addLayout(text_row)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        layout.addStretch(2)

    def show_for(self, progress: LabelProgress, scope: str) -> None:
        """`scope` names the filters in words, e.g. "the train split"."""
        if progress.prompts == 0:
            self._say(
                "No prompts",
                f"There are no prompts in {scope}. Import prompts in the "
                "Data view, or choose another split.",
                self.data_button,
            )
        elif progress.servable == 0:
            alike = (
                f" The {progress.alike:,} prompt(s) with completions have only identical "
                "ones: sample with a higher temperature."
                if progress.alike
                else ""
            )
            self._say(
                "No candidates to compare yet",
                f"None of the {progress.prompts:,} prompts in {scope} has two different "
                f"completions.{alike} Generate candidates with the model or a checkpoint.",
                self.generate_button,
            )
        elif progress.skipped:
            self._say(
                "Only skipped prompts are left",
                f"You skipped {progress.skipped:,} prompt(s) in this sitting; everything "
                "else is labelled.",
                self.unskip_button,
                self.generate_button,
            )
        else:
            self._say(
                "Everything is labelled",
                f"All {progress.labelled:,} prompts with candidates in {scope} are "
                "labelled, every pair compared. Generate more candidates, or change the "
                "filters above.",
                self.generate_button,
            )

        self.undo_button.setVisible(progress.session_labels > 0)

    def _say(self, title: str, text: str, primary: QPushButton, *others: QPushButton) -> None:
        self.title.setText(title)
        self.text.setText(text)
        for button in (self.generate_button, self.unskip_button, self.data_button):
            button.setVisible(button is primary or button in others)
            button.setProperty("primary", button is primary)  # blue: the likely next step
            button.style().unpolish(button)
            button.style().polish(button)
