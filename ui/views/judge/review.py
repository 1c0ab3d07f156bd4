"""The review queue: AI labels, least confident or contradicted first; the selected one's
prompt and both completions side by side; and the person's answer by key. Confirm keeps
the judge's verdict as a human label, an override replaces it; both supersede the AI
label, so it leaves the queue."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ui.style import set_muted
from ui.views.common.label_keys import add_shortcuts, key_button
from ui.views.judge.review_pane import ReviewPane
from ui.views.judge.review_table import ReviewTable
from workbench.judging.review import ReviewRow

ORDERS = (("Least confident first", "confidence"), ("Disagreements first", "disagreement"))
# Left and right as in the Label view: the left pane holds what the judge was shown first.
ANSWERS = (
    ("Left better", ("1", "Left"), "a"),
    ("Right better", ("2", "Right"), "b"),
    ("Tie", ("T",), "tie"),
    ("Both bad", ("B",), "both_bad"),
)
SAID = {"a": "left", "b": "right", "tie": "a tie"}
COMPACT = "padding: 5px 8px;"  # four key buttons in one row beside the left column
EMPTY = (
    "No AI labels to review. Run the judge on the left; its labels appear here, the "
    "least sure first."
)


def picks(row: ReviewRow, side: str) -> list[str]:
    """Who picked the completion on ``side`` ("a" or "b") of the pair."""
    said = []
    if row.outcome == side:
        sure = "" if row.confidence is None else f", {row.confidence:.0%} sure"
        said.append(f"judge's pick{sure}")
    for who, outcome in (("person", row.human), ("rule", row.rule)):
        if outcome == side:
            said.append(f"the {who}'s pick")
    return said


class ReviewPanel(QWidget):
    orderChanged = Signal(str)
    answered = Signal(int, str, float)  # comparison id, "confirm" or an outcome, seconds

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.busy = False  # an answer is being stored: one key press is one review
        self._shown_at = time.monotonic()
        self.order = QComboBox()
        for text, order in ORDERS:
            self.order.addItem(text, order)
        self.order.setToolTip(
            "Disagreements: labels a person or a rule contradicts come "
            "first, then the least confident"
        )
        self.order.currentIndexChanged.connect(
            lambda _index: self.orderChanged.emit(self.order.currentData())
        )
        self.count = QLabel("")
        set_muted(self.count)
        self.table = ReviewTable()
        self.table.rowChosen.connect(self._show_row)
        self.prompt = QLabel("", wordWrap=True)
        self.prompt.setTextFormat(Qt.TextFormat.PlainText)
        self.prompt.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict = QLabel("", wordWrap=True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.reference = QLabel("", wordWrap=True)
        self.reference.setTextFormat(Qt.TextFormat.PlainText)
        self.reference.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_muted(self.reference)
        self.panes = (
            ReviewPane("Left: the judge saw it first"),
            ReviewPane("Right: the judge saw it second"),
        )
        self._layout()
        add_shortcuts(self, ("Up",), lambda: self.table.move(-1), "Previous verdict")
        add_shortcuts(self, ("Down",), lambda: self.table.move(1), "Next verdict")
        self._show_row(None)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.order)
        top.addWidget(self.count, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.confirm_button = key_button(self, "Confirm", ("C",), self.confirm)
        self.confirm_button.setStyleSheet(COMPACT)
        verdict_row = QHBoxLayout()  # Confirm beside the verdict it confirms
        verdict_row.addWidget(self.verdict, 1)
        verdict_row.addWidget(self.confirm_button, 0, Qt.AlignmentFlag.AlignTop)
        self.answer_buttons = []
        for text, keys, outcome in ANSWERS:
            button = key_button(self, text, keys, lambda outcome=outcome: self.answer(outcome))
            button.setStyleSheet(COMPACT)
            buttons.addWidget(button)
            self.answer_buttons.append(button)
        buttons.addStretch(1)
        sides = QHBoxLayout()
        for pane in self.panes:
            sides.addWidget(pane, 1)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 4, 0, 0)
        detail_layout.addWidget(self.prompt)
        detail_layout.addWidget(self.reference)
        detail_layout.addLayout(sides, 1)
        detail_layout.addLayout(verdict_row)
        detail_layout.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        split.addWidget(self.table)
        split.addWidget(detail)
        split.setSizes([170, 330])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    def current_order(self) -> str:
        return self.order.currentData()

    def set_rows(self, rows: list[ReviewRow], index: int | None = None) -> None:
        """Show the queue, keeping the selection's position (the next label after one that
        was reviewed) unless ``index`` says otherwise."""
        self.busy = False
        keep = self.table.currentRow() if index is None else index
        self.count.setText(
            f"{len(rows):,} AI label{'s' if len(rows) != 1 else ''} to review (↑/↓ to move)"
            if rows
            else EMPTY
        )
        self.table.set_rows(rows, keep)

    @Slot(object)
    def _show_row(self, row: ReviewRow | None) -> None:
        for button in (self.confirm_button, *self.answer_buttons):
            button.setEnabled(row is not None)
        if row is None:
            self.prompt.setText("")
            self.reference.setText("")
            self.verdict.setText("")
            for pane in self.panes:
                pane.show_completion("", [], False)
            return
        self.prompt.setText(f"Prompt: {row.prompt}")
        self.reference.setText(f"Reference answer: {row.reference}" if row.reference else "")
        self.reference.setVisible(bool(row.reference))
        for pane, side, text in zip(self.panes, ("a", "b"), (row.first, row.second), strict=True):
            pane.show_completion(text, picks(row, side), row.outcome == side)
        sure = "unknown" if row.confidence is None else f"{row.confidence:.2f}"
        against = (
            f"; contradicted by the {' and the '.join(row.disagrees_with)} label"
            if row.disagrees_with
            else ""
        )
        self.verdict.setText(
            f"The judge said {SAID.get(row.outcome, row.outcome)} "
            f"(confidence {sure}){against}. Judge: {row.judge or 'unknown'}"
        )
        self._shown_at = time.monotonic()

    @Slot()
    def confirm(self) -> None:
        self._answer("confirm")

    def answer(self, outcome: str) -> None:
        self._answer(outcome)

    def _answer(self, what: str) -> None:
        row = self.table.current()
        if row is None or self.busy or not self.isVisible():
            return
        self.busy = True
        self.answered.emit(row.comparison_id, what, time.monotonic() - self._shown_at)
