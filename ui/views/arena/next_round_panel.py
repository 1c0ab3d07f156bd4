"""The next round of iterative DPO, from the arena: Plan shows the winning checkpoint
and the labels since its run (the counts the run would train on); Start launches it as
an ordinary training run, which the Train and Runs views then follow."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.style import set_primary
from workbench.arena.next_round import NextRound


def plan_text(plan: NextRound) -> str:
    train, evaluation = plan.counts["train"], plan.counts["eval"]
    since = "every label" if plan.since is None else "the labels made since its run began"
    held = " (held out from them)" if plan.counts.get("held_out") else ""
    return (
        f"Continue from {plan.winner_label} (rating {plan.rating:.0f}) with DPO on {since}: "
        f"{train['pairs']} training pair(s) from {train['prompts']} prompt(s), "
        f"{evaluation['pairs']} pair(s) to evaluate{held}; "
        f"{train['ties']} tie(s) and {train['duplicates']} duplicate(s) left out."
    )


class NextRoundPanel(QWidget):
    planRequested = Signal()
    startRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plan: NextRound | None = None
        self.plan_button = QPushButton("Next round…")
        self.plan_button.setToolTip(
            "Plan a DPO run that continues from the best-rated checkpoint on the labels "
            "gathered since its run (the arena's votes among them)."
        )
        self.start_button = QPushButton("Start the run")
        set_primary(self.start_button)
        self.start_button.setVisible(False)
        self.text = QLabel("", wordWrap=True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.plan_button.clicked.connect(self.planRequested.emit)
        self.start_button.clicked.connect(self.startRequested.emit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.plan_button)
        buttons.addWidget(self.start_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.text)

    def show_plan(self, plan: NextRound) -> None:
        self.plan = plan
        self.text.setText(plan_text(plan))
        self.start_button.setVisible(True)
        self.start_button.setEnabled(plan.counts["train"]["pairs"] > 0)

    def show_message(self, text: str) -> None:
        self.plan = None
        self.start_button.setVisible(False)
        self.text.setText(text)
